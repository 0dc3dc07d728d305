#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unpacks Debian packages, with everything they depend on, into DEST: a root
# that programs can be run against without installing anything on the host.
# The tests use it three times:
#   - trixie arm64 nodejs: Debian's arm64 Node 20.19 (the first Debian nodejs
#     that can require() an ES module), run by qemu-user:
#       qemu-aarch64-static -L DEST DEST/usr/bin/node ...
#   - bullseye amd64 libc6 libstdc++6: Debian 11's C and C++ runtimes (glibc
#     2.31, GCC 10's libstdc++), run through that root's own dynamic loader.
#   - trixie amd64/arm64 with coreutils, util-linux, bpftool...: the root file
#     system of the kernel-matrix guests (test/kernels/run.ts).
# Packages come from Debian's archive through apt with private lists, status
# and cache (ARCH as the only architecture), so the host's dpkg and apt setup
# are untouched. With DEBIAN_ROOT_STATUS=/var/lib/dpkg/status, what the host
# has installed counts as present: only the rest is downloaded (a server
# meant to run on the host's own libc: scripts/fetch-rsyslog.sh). With
# DEBIAN_ROOT_NO_DEPENDS=1, only the named packages are unpacked, none of
# what they depend on (a Go program whose package also pulls the JavaScript
# of web pages the tests never open: scripts/fetch-prometheus.sh).
#
# usage: debian-root.sh DEST SUITE ARCH PACKAGE...   (prints DEST when ready)
set -euo pipefail

dest=${1:?usage: debian-root.sh DEST SUITE ARCH PACKAGE...}
suite=${2:?usage: debian-root.sh DEST SUITE ARCH PACKAGE...}
arch=${3:?usage: debian-root.sh DEST SUITE ARCH PACKAGE...}
shift 3
[ $# -gt 0 ] || { echo "usage: debian-root.sh DEST SUITE ARCH PACKAGE..." >&2; exit 2; }

no_depends=${DEBIAN_ROOT_NO_DEPENDS:-}
case "$no_depends" in
  "" | 0) no_depends= ;;
  1) ;;
  *) echo "debian-root.sh: DEBIAN_ROOT_NO_DEPENDS must be 1 or unset, got '$no_depends'" >&2; exit 2 ;;
esac
stamp="$suite $arch $*${DEBIAN_ROOT_STATUS:+ over $DEBIAN_ROOT_STATUS}${no_depends:+ without dependencies}"
if [ -f "$dest/.exec-tracer-root" ] && [ "$(cat "$dest/.exec-tracer-root")" = "$stamp" ]; then
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../../scripts/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/private-apt.sh"
private_apt "$work" deb "$suite" "$arch"
[ -z "${DEBIAN_ROOT_STATUS:-}" ] || apt_opts+=(-o "Dir::State::status=$DEBIAN_ROOT_STATUS")
apt-get "${apt_opts[@]}" update >&2
if [ -n "$no_depends" ]; then
  # apt-get download writes into the current directory.
  (cd "$work/archives" && apt-get "${apt_opts[@]}" download "$@" >&2)
else
  # With an empty status every dependency is downloaded, libc6 included.
  apt-get "${apt_opts[@]}" install -y --download-only --no-install-recommends "$@" >&2
fi

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
for deb in "$work"/archives/*.deb; do
  dpkg-deb -x "$deb" "$dest.partial"
done
# A merged-/usr suite (trixie) ships /lib etc. as symlinks that base-files,
# not libc6, would create. /lib64 holds x86-64's program interpreter
# (/lib64/ld-linux-x86-64.so.2), which a kernel that execs the program needs.
for dir in lib bin sbin lib64; do
  [ -e "$dest.partial/$dir" ] || [ ! -d "$dest.partial/usr/$dir" ] || ln -s "usr/$dir" "$dest.partial/$dir"
done
echo "$stamp" > "$dest.partial/.exec-tracer-root"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "$dest"
