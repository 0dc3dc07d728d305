#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs what building exec-tracer from source needs on Debian 12 (and
# Ubuntu), and unless --build-only, what its prebuilds and tests need too.
# Run as root. Node.js >= 20.19 must already be there (Debian 12's own nodejs
# is 18, too old for require(esm)). libbpf, libelf and zlib are not installed:
# the build compiles their sources into the addon (scripts/fetch-debian-sources.sh).
set -euo pipefail

packages=(
  clang-16 llvm-16      # the BPF object (clang -target bpf) and llvm-strip
  bpftool               # skeleton generation; the tests count kernel objects with it
  cmake make g++ pkg-config
)
case "${1:-}" in
  --build-only) ;;
  "")
    packages+=(
      g++-aarch64-linux-gnu # the linux-arm64 prebuild, cross-compiled
      qemu-user-static      # runs Debian's arm64 Node to load that prebuild in a test
      util-linux            # unshare, setpriv: the tracefs and privileges tests
      qemu-system-x86       # the kernel matrix (npm run test:kernels) boots
      qemu-system-arm       #   Debian's x86-64 and arm64 kernels
      cpio                  #   from an initramfs built of cpio layers,
      xz-utils zstd         #   with the overlay module unpacked from the kernel package
      mount                 # mount: bind, overlay and tmpfs mounts of the context tests
      libcap2-bin           # setcap: file capabilities in the who tests
      tmux                  # a terminal for the exec-tracer --top test
      openssl               # the syslog tests' certificate authorities
      systemd               # systemd-analyze verify: the shipped unit's lint (PID 1 need not be systemd)
    )
    ;;
  *) echo "usage: setup-debian.sh [--build-only]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "setup-debian: run as root (apt-get install)" >&2
  exit 1
fi

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "setup-debian: exec-tracer needs Node.js >= 20.19 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node-API headers leave out libuv's; official Node builds ship uv.h beside
# node.h, otherwise Debian's libuv1-dev (same v1 ABI) stands in.
node_include=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
if [ ! -f "$node_include/uv.h" ] && [ ! -f /usr/include/node/uv.h ]; then
  missing+=(libuv1-dev)
fi

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ -z "${1:-}" ]; then
  # The syslog sink's tests send to a real rsyslog, unpacked into deps/ (not installed).
  bash "$(dirname "$0")/fetch-rsyslog.sh" >/dev/null
  # The metrics tests are scraped by a real Prometheus, unpacked the same way.
  bash "$(dirname "$0")/fetch-prometheus.sh" >/dev/null
  # The timeline's tests render its page in a real Chromium, unpacked into deps/ (not installed).
  bash "$(dirname "$0")/fetch-chromium.sh" >/dev/null
  echo "setup-debian: build and test dependencies present"
else
  echo "setup-debian: build dependencies present"
fi
