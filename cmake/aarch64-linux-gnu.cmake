# SPDX-License-Identifier: MIT
#
# Cross-compiles the addon for 64-bit Arm Linux (glibc) with Debian's cross
# toolchain (apt-get install g++-aarch64-linux-gnu). The BPF object is built
# by the host's clang either way: BPF bytecode is the same on every CPU.
# Used by `node scripts/prebuild.cjs --arch arm64`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
