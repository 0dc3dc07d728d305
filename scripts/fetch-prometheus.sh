#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unpacks Debian 12's prometheus (2.42) into DEST (default deps/prometheus):
# the real Prometheus the metrics tests scrape exec-tracer with
# (test/helpers/prometheus.ts), run from there, never as a service. Only the
# prometheus package itself: it is a Go program needing nothing but libc,
# and what it depends on (libjs-*, fonts) serves its web consoles, which the
# tests never open. Nothing is installed. Run as root (apt-get).
#
# usage: fetch-prometheus.sh [DEST]   (prints DEST when ready)
# Then: DEST/usr/bin/prometheus --config.file CONF --storage.tsdb.path DIR \
#         --web.listen-address 127.0.0.1:PORT
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBIAN_ROOT_NO_DEPENDS=1 exec bash "$here/../test/helpers/debian-root.sh" \
  "${1:-$here/../deps/prometheus}" bookworm "$(dpkg --print-architecture)" prometheus
