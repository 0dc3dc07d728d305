// SPDX-License-Identifier: MIT
#include "errors.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

namespace exec_tracer {
namespace {

// strerrorname_np() would do this but needs glibc 2.32; prebuilt binaries
// should run on older glibc, and these are the errnos a load can produce.
const char *ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case ENODATA: return "ENODATA";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOBUFS: return "ENOBUFS";
    case 524: return "ENOTSUPP";  // kernel-internal, leaks out of the bpf syscall
    default: break;
  }
  if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END) return "ELIBBPF";
  return "EUNKNOWN";
}

}  // namespace

Napi::Error MakeNativeError(Napi::Env env, const std::string &operation, int err,
                            const std::string &message, const std::string &log) {
  char reason[256];
  if (libbpf_strerror(err, reason, sizeof(reason)) != 0)
    snprintf(reason, sizeof(reason), "error %d", err);
  Napi::Error error = Napi::Error::New(env, operation + ": " + message + ": " + reason);
  Napi::Object object = error.Value();
  object.Set("code", ErrnoName(err));
  object.Set("errno", Napi::Number::New(env, err));
  object.Set("operation", operation);
  object.Set("log", log);
  return error;
}

}  // namespace exec_tracer
