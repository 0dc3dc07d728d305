#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Puts libbpf's C sources under DEST/libbpf-<version>/ so CMake can compile
# them with -fPIC into the addon. Debian's libbpf.a is not position-independent
# and cannot go into a shared object (every .node is one), and linking
# libbpf.so would make users install libbpf; compiling the sources ourselves
# avoids both. The sources come from Debian's archive through apt (its index
# is signature-checked and apt verifies the tarball's hashes), using private
# sources and lists directories so the machine's apt setup is left untouched.
# No Debian patches apply to 1.1.2, so the upstream orig tarball is the source.
#
# usage: fetch-libbpf-source.sh DEST   (prints the source directory)
set -euo pipefail

dest=${1:?usage: fetch-libbpf-source.sh DEST}
suite=${EXEC_TRACER_DEBIAN_SUITE:-bookworm}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

existing=$(find "$dest" -maxdepth 2 -path '*/libbpf-*/src' -type d 2>/dev/null | sort | tail -n 1)
if [ -n "$existing" ] && [ -f "$existing/libbpf.c" ]; then
  dirname "$existing"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "fetch-libbpf-source: apt-get is not available; set LIBBPF_SRC to a libbpf (>= 1.0) source tree, or install libbpf-dev (>= 1.0) and pkg-config for a dynamically linked build" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/download"
: > "$work/empty.list"
cat > "$work/sources.list.d/libbpf-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

apt_opts=(
  -o "Dir::Etc::SourceList=$work/empty.list"
  -o "Dir::Etc::SourceParts=$work/sources.list.d"
  -o "Dir::State::Lists=$work/lists"
  -o "APT::Sandbox::User=root"
  -q
)
apt-get "${apt_opts[@]}" update >&2
(cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only libbpf >&2)

orig=$(ls "$work"/download/libbpf_*.orig.tar.* | head -n 1)
tar -xf "$orig" -C "$dest"
src=$(find "$dest" -maxdepth 2 -path '*/libbpf-*/src' -type d | sort | tail -n 1)
[ -f "$src/libbpf.c" ] || { echo "fetch-libbpf-source: unexpected layout in $orig" >&2; exit 1; }
dirname "$src"
