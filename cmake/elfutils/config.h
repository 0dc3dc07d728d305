/* SPDX-License-Identifier: MIT
 *
 * The config.h that elfutils' configure would write, for the part of it the
 * addon embeds: libelf alone, as a static, position-independent library.
 * Every value holds on glibc (x86_64 and aarch64), the only C library the
 * prebuilds target. Symbol versioning and locking stay off, as in a plain
 * `./configure`: the addon never shares one Elf handle between threads.
 */
#ifndef EXEC_TRACER_ELFUTILS_CONFIG_H
#define EXEC_TRACER_ELFUTILS_CONFIG_H

#define PACKAGE_NAME "elfutils"
#define PACKAGE_VERSION "0.188"
#define VERSION PACKAGE_VERSION

#define HAVE_DECL_MEMPCPY 1
#define HAVE_DECL_MEMRCHR 1
#define HAVE_DECL_POWEROF2 1
#define HAVE_DECL_RAWMEMCHR 1
#define HAVE_DECL_REALLOCARRAY 1
#define HAVE_ERROR_H 1
#define HAVE_ERR_H 1
#define HAVE_FALLTHROUGH 1
#define HAVE_GCC_STRUCT 1
#define HAVE_MREMAP 1
#define HAVE_VISIBILITY 1

#include "glibc-compat.h"

/* configure.ac: AH_BOTTOM([#include <eu-config.h>]) */
#include <eu-config.h>

#endif
