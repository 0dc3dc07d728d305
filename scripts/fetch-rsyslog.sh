#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unpacks Debian 12's rsyslog and rsyslog-gnutls into DEST (default
# deps/rsyslog): the real syslog server the syslog sink's tests and bench
# send to (test/helpers/rsyslog.ts), run from there, never as a service.
# Only what the host lacks is downloaded (on a base Debian 12: libestr0,
# libfastjson4, liblognorm5 besides rsyslog), so rsyslogd runs on the host's
# own libc and gnutls. Nothing is installed. Run as root (apt-get).
#
# usage: fetch-rsyslog.sh [DEST]   (prints DEST when ready)
# Then: LD_LIBRARY_PATH=DEST/usr/lib/MULTIARCH DEST/usr/sbin/rsyslogd -n \
#         -M DEST/usr/lib/MULTIARCH/rsyslog -f CONF -i PIDFILE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBIAN_ROOT_STATUS=/var/lib/dpkg/status exec bash "$here/../test/helpers/debian-root.sh" \
  "${1:-$here/../deps/rsyslog}" bookworm "$(dpkg --print-architecture)" rsyslog rsyslog-gnutls
