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
# A version already there is not fetched again; a new point release of the
# suite is fetched on the next run. No modules: the guest needs none.
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
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/release" ]; then
  echo "$dir"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" download "$package" >&2)
mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work/x" --wildcards './boot/*'
release=${package#linux-image-}
mkdir -p "$dir.partial"
cp "$work/x/boot/vmlinuz-$release" "$dir.partial/vmlinuz"
cp "$work/x/boot/config-$release" "$dir.partial/config"
echo "$release" > "$dir.partial/release"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
