# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Sourced by scripts that fetch from Debian's archive without touching the
# machine's apt setup: private_apt WORK TYPE SUITE [ARCH] writes a one-entry
# sources directory under WORK (TYPE: deb or deb-src; the index is checked
# against Debian's archive keyring) and sets the array apt_opts to point
# apt-get at private lists, status and cache there. With ARCH, that is apt's
# only architecture.
private_apt() {
  local work=$1 type=$2 suite=$3 arch=${4:-}
  mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache" "$work/archives/partial"
  : > "$work/empty.list"
  : > "$work/status"
  cat > "$work/sources.list.d/exec-tracer.sources" <<SOURCES
Types: $type
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_opts=(
    -o "Dir::Etc::SourceList=$work/empty.list"
    -o "Dir::Etc::SourceParts=$work/sources.list.d"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::State::status=$work/status"
    -o "Dir::Cache=$work/cache"
    -o "Dir::Cache::archives=$work/archives"
    -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1"
    -q
  )
  if [ -n "$arch" ]; then
    apt_opts+=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch")
  fi
}
