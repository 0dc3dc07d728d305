/* SPDX-License-Identifier: MIT
 *
 * Keeps libelf's glibc requirement at the prebuild's floor (2.28).
 * Since glibc 2.33 the headers turn every call to fstat() into a reference to
 * fstat@GLIBC_2.33, so a libelf compiled on Debian 12 would refuse to load on
 * RHEL 8, Debian 10 or Ubuntu 20.04. Its three fstat() calls go to a direct
 * system call instead, which on x86_64 and aarch64 fills the same struct stat
 * glibc's own wrapper does.
 */
#ifndef EXEC_TRACER_GLIBC_COMPAT_H
#define EXEC_TRACER_GLIBC_COMPAT_H

#include <sys/stat.h>

int exec_tracer_fstat (int fd, struct stat *st);
#define fstat(fd, st) exec_tracer_fstat (fd, st)

#endif
