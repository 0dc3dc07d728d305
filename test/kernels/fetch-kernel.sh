#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Fetches the kernel a Debian release installs by default (the package that
# linux-image-ARCH depends on) from Debian's archive, through apt with
# private lists (scripts/private-apt.sh: the machine's apt setup is left
# alone), and unpacks its boot/ into CACHE/<package>_<version>/:
#   vmlinuz   the kernel qemu boots (-kernel)
#   config    its build configuration
#   release   the release string `uname -r` will print
#   modules.cpio  the few modules the tests need that Debian builds as
#             modules (overlay, for the overlayfs upper-layer test),
#             uncompressed, at /exec-tracer-modules/ in a newc archive
#             appended to the guest's initramfs; the guest's /init loads them
#             (a directory of its own: an archive entry for lib/ would
#             replace the root's lib -> usr/lib link, and arm64's loader)
# A version already there is not fetched again; a new point release of the
# suite is fetched on the next run.
#
# usage: fetch-kernel.sh CACHE SUITE ARCH    (prints the directory)
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE SUITE ARCH}
suite=${2:?usage: fetch-kernel.sh CACHE SUITE ARCH}
arch=${3:?usage: fetch-kernel.sh CACHE SUITE ARCH}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# shellcheck source=../../scripts/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/private-apt.sh"
# Lists are kept between runs: apt then fetches only what changed.
private_apt "$cache/apt-$suite-$arch" deb "$suite" "$arch"
apt-get "${apt_opts[@]}" update >&2

package=$(apt-cache "${apt_opts[@]}" depends "linux-image-$arch" |
  awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$package" ] || { echo "fetch-kernel: $suite has no linux-image-$arch" >&2; exit 1; }
version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$package" | awk '$1 == "Version:" { print $2; exit }')
dir="$cache/${package}_$version"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/release" ] && [ -f "$dir/modules.cpio" ] &&
  cpio -t --quiet < "$dir/modules.cpio" | grep -qx 'exec-tracer-modules/overlay.ko'; then
  echo "$dir"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" download "$package" >&2)
mkdir -p "$work/x"
# Modules are under lib/ or, in newer packages, usr/lib/; some compressed.
dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work/x" --wildcards './boot/*' '*/fs/overlayfs/overlay.ko*'
release=${package#linux-image-}
mkdir -p "$dir.partial" "$work/m/exec-tracer-modules"
cp "$work/x/boot/vmlinuz-$release" "$dir.partial/vmlinuz"
cp "$work/x/boot/config-$release" "$dir.partial/config"
echo "$release" > "$dir.partial/release"
for ko in $(find "$work/x" -name 'overlay.ko*'); do
  case "$ko" in
    *.xz) xz -dc "$ko" ;;
    *.zst) zstd -dc "$ko" ;;
    *) cat "$ko" ;;
  esac > "$work/m/exec-tracer-modules/overlay.ko"
done
[ -s "$work/m/exec-tracer-modules/overlay.ko" ] || { echo "fetch-kernel: $package has no overlay module" >&2; exit 1; }
(cd "$work/m" && find exec-tracer-modules | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$dir.partial/modules.cpio"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
