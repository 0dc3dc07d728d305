#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Puts the C sources of the libraries the addon embeds under DEST/ so CMake
# can compile them with -fPIC into the addon:
#   libbpf   (1.1.2)  the BPF loader
#   elfutils (0.188)  libelf, which libbpf parses BPF objects with
#   zlib     (1.2.13) used by libelf and by libbpf (/proc/config.gz)
# Debian's .a files are not position-independent and cannot go into a shared
# object (every .node is one); linking the .so files would make users install
# libbpf1 and libelf1, which minimal images have only if something pulls them in.
# Compiling the sources ourselves avoids both and is the same for x64 and a
# cross-compiled arm64.
#
# The sources come from Debian's archive through apt: its index is
# signature-checked and apt verifies the tarballs' hashes. Private sources and
# lists directories leave the machine's apt setup untouched. The upstream orig
# tarballs are used: Debian's patches to these three touch packaging, tests and
# other tools, not the library code compiled here.
#
# usage: fetch-debian-sources.sh DEST PACKAGE...
# prints one line per package: PACKAGE=SOURCE_DIRECTORY
set -euo pipefail

dest=${1:?usage: fetch-debian-sources.sh DEST PACKAGE...}
shift
[ $# -gt 0 ] || { echo "usage: fetch-debian-sources.sh DEST PACKAGE..." >&2; exit 2; }
suite=${EXEC_TRACER_DEBIAN_SUITE:-bookworm}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# The file that proves an unpacked tree is whole, per package.
marker() {
  case "$1" in
    libbpf) echo src/libbpf.c ;;
    elfutils) echo libelf/elf_begin.c ;;
    zlib) echo inflate.c ;;
    *) echo "fetch-debian-sources: no known layout for package '$1'" >&2; exit 2 ;;
  esac
}

# Prints the unpacked tree of package $1 under $dest, if there is one.
unpacked() {
  local m dir
  m=$(marker "$1")
  for dir in $(find "$dest" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | sort -r); do
    if [ -f "$dir/$m" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

missing=()
for pkg in "$@"; do
  unpacked "$pkg" >/dev/null || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "fetch-debian-sources: apt-get is not available to fetch ${missing[*]}; set LIBBPF_SRC, ELFUTILS_SRC and ZLIB_SRC to source trees, or configure with -DEXEC_TRACER_SYSTEM_LIBBPF=ON to link the system's libbpf (>= 1.0)" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # shellcheck source=private-apt.sh
  . "$(dirname "${BASH_SOURCE[0]}")/private-apt.sh"
  private_apt "$work" deb-src "$suite"
  mkdir -p "$work/download"
  apt-get "${apt_opts[@]}" update >&2
  (cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only "${missing[@]}" >&2)
  for pkg in "${missing[@]}"; do
    orig=$(ls "$work"/download/"${pkg}"_*.orig.tar.* | grep -v '\.asc$' | head -n 1)
    tar -xf "$orig" -C "$dest"
    unpacked "$pkg" >/dev/null || { echo "fetch-debian-sources: unexpected layout in $orig" >&2; exit 1; }
  done
fi

for pkg in "$@"; do
  echo "$pkg=$(unpacked "$pkg")"
done
