#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Unpacks Debian 12's chromium into DEST (default deps/chromium): the real
# browser the timeline tests render exec-tracer's HTML in
# (test/helpers/chromium.ts), run headless from there. Only what the host
# lacks is downloaded (DEBIAN_ROOT_STATUS: the host's installed packages
# count as present), so it runs on the host's own libc with
# LD_LIBRARY_PATH=DEST/usr/lib/MULTIARCH. Nothing is installed. Run as root
# (apt-get).
#
# usage: fetch-chromium.sh [DEST]   (prints DEST when ready)
# Then: LD_LIBRARY_PATH=DEST/usr/lib/MULTIARCH DEST/usr/lib/chromium/chromium \
#         --headless --no-sandbox --screenshot=OUT.png file:///abs/page.html
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# fonts-dejavu-core: the page's text needs a font, and a bare host may have none.
DEBIAN_ROOT_STATUS=/var/lib/dpkg/status exec bash "$here/../test/helpers/debian-root.sh" \
  "${1:-$here/../deps/chromium}" bookworm "$(dpkg --print-architecture)" chromium fonts-dejavu-core
