#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Puts the C sources of the libraries the addon embeds under DEST/ so CMake
# can compile them with -fPIC into the addon:
#   libbpf   (1.5.0, trixie)    the BPF loader
#   elfutils (0.188, bookworm)  libelf, which libbpf parses BPF objects with
#   zlib     (1.2.13, bookworm) used by libelf and by libbpf (/proc/config.gz)
# libbpf is the newest Debian serves (trixie's): newer libbpf keeps up with
# the kernel's BPF features and explains more of what goes wrong. libelf and
# zlib only have to be what libbpf needs; 1.5.0 builds against bookworm's.
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
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# Per package: the Debian suite it comes from, the oldest upstream version
# that will do, and the file that proves an unpacked tree is whole. A tree
# older than that (an earlier build's, in a reused deps/) is not used: the
# package is fetched again.
source_of() {
  case "$1" in
    libbpf) echo "trixie 1.5.0 src/libbpf.c" ;;
    elfutils) echo "bookworm 0.188 libelf/elf_begin.c" ;;
    zlib) echo "bookworm 1.2.13 inflate.c" ;;
    *) echo "fetch-debian-sources: no known layout for package '$1'" >&2; exit 2 ;;
  esac
}

# Prints the newest whole, recent enough unpacked tree of package $1 under $dest.
unpacked() {
  local suite minimum marker dir version
  read -r suite minimum marker < <(source_of "$1")
  for dir in $(find "$dest" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | sort -rV); do
    version=${dir##*/"$1"-}
    [ -f "$dir/$marker" ] || continue
    [ "$(printf '%s\n%s\n' "$minimum" "$version" | sort -V | head -n 1)" = "$minimum" ] || continue
    echo "$dir"
    return 0
  done
  return 1
}

for pkg in "$@"; do source_of "$pkg" >/dev/null; done
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
  mkdir -p "$work/download"
  # One private apt setup per suite, each fetching its own packages.
  for suite in $(for pkg in "${missing[@]}"; do source_of "$pkg" | cut -d' ' -f1; done | sort -u); do
    wanted=()
    for pkg in "${missing[@]}"; do
      if [ "$(source_of "$pkg" | cut -d' ' -f1)" = "$suite" ]; then wanted+=("$pkg"); fi
    done
    private_apt "$work/$suite" deb-src "$suite"
    apt-get "${apt_opts[@]}" update >&2
    (cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only "${wanted[@]}" >&2)
  done
  for pkg in "${missing[@]}"; do
    orig=$(ls "$work"/download/"${pkg}"_*.orig.tar.* | grep -v '\.asc$' | head -n 1)
    tar -xf "$orig" -C "$dest"
    unpacked "$pkg" >/dev/null || { echo "fetch-debian-sources: $orig is not a whole $pkg >= $(source_of "$pkg" | cut -d' ' -f2)" >&2; exit 1; }
  done
fi

for pkg in "$@"; do
  echo "$pkg=$(unpacked "$pkg")"
done
