/* SPDX-License-Identifier: MIT
 * See glibc-compat.h. */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "exec_tracer_fstat assumes struct stat is the kernel's (x86_64, aarch64)"
#endif

int exec_tracer_fstat (int fd, struct stat *st)
{
  return (int) syscall (SYS_fstat, fd, st);
}
