#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unpacks Debian's arm64 Node.js (trixie: 20.19, the first Debian nodejs that
# can require() an ES module, as exec-tracer's CommonJS users do) with the
# libraries it needs into DEST, a root that qemu-user runs it from:
#   qemu-aarch64-static -L DEST DEST/usr/bin/node ...
# Packages come from Debian's archive through apt with private lists, status
# and cache (arm64 as the only architecture), so the machine's own dpkg and
# apt setup are untouched and nothing is installed on the host.
#
# usage: arm64-node-sysroot.sh DEST   (prints DEST when it is ready)
set -euo pipefail

dest=${1:?usage: arm64-node-sysroot.sh DEST}
suite=${EXEC_TRACER_ARM64_NODE_SUITE:-trixie}
if [ -x "$dest/usr/bin/node" ] && [ -e "$dest/lib/ld-linux-aarch64.so.1" ]; then
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../../scripts/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/private-apt.sh"
private_apt "$work" deb "$suite" arm64
apt-get "${apt_opts[@]}" update >&2
# With an empty status every dependency is downloaded, libc6 included.
apt-get "${apt_opts[@]}" install -y --download-only --no-install-recommends nodejs >&2

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
for deb in "$work"/archives/*.deb; do
  dpkg-deb -x "$deb" "$dest.partial"
done
# trixie is merged-/usr: the loader's /lib path is a symlink that base-files
# (not libc6) would create.
for dir in lib bin sbin; do
  [ -e "$dest.partial/$dir" ] || ln -s "usr/$dir" "$dest.partial/$dir"
done
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "$dest"
