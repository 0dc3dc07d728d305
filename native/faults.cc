// SPDX-License-Identifier: MIT
//
// The fault injector of faults.h. Empty unless built with EXEC_TRACER_FAULTS.
#ifdef EXEC_TRACER_FAULTS
#include "faults.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace exec_tracer {
namespace {

const char *const kNames[] = {"open", "load", "attach", "seed", "ringbuf", "bpf", "epoll", "mmap", "fd"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(FaultPoint::Count),
              "a name for every fault point");

// Process-wide: loads run on libuv's pool threads, so everything is under
// the mutex. One fault armed at a time; it fires once, on the nth call to
// its point counted from arm(), and every later call goes through.
struct State {
  std::mutex mutex;
  int armed = -1;
  uint64_t nth = 0;
  int err = 0;
  bool fired = false;
  uint64_t calls[static_cast<size_t>(FaultPoint::Count)] = {};
};

State &state() {
  static State s;
  return s;
}

int PointByName(const std::string &name) {
  for (size_t i = 0; i < static_cast<size_t>(FaultPoint::Count); i++)
    if (name == kNames[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace

int Fault(FaultPoint point) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  size_t index = static_cast<size_t>(point);
  uint64_t call = ++s.calls[index];
  if (s.armed != static_cast<int>(index) || s.fired || call != s.nth) return 0;
  s.fired = true;
  return s.err;
}

Napi::Object FaultsBinding(Napi::Env env) {
  Napi::Object faults = Napi::Object::New(env);
  Napi::Array points = Napi::Array::New(env, static_cast<size_t>(FaultPoint::Count));
  for (uint32_t i = 0; i < static_cast<uint32_t>(FaultPoint::Count); i++) points.Set(i, kNames[i]);
  faults.Set("points", points);

  // arm(point, nth, errno): the nth call to `point` from now fails with errno.
  faults.Set("arm", Napi::Function::New(env, [](const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() != 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "arm(point, nth, errno)");
    int point = PointByName(info[0].As<Napi::String>().Utf8Value());
    if (point < 0) throw Napi::RangeError::New(env, "no such fault point: " + info[0].As<Napi::String>().Utf8Value());
    int64_t nth = info[1].As<Napi::Number>().Int64Value();
    int err = info[2].As<Napi::Number>().Int32Value();
    if (nth < 1 || err < 1) throw Napi::RangeError::New(env, "nth and errno must be positive");
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.armed = point;
    s.nth = static_cast<uint64_t>(nth);
    s.err = err;
    s.fired = false;
    for (auto &c : s.calls) c = 0;
  }));

  // disarm(): whether the armed fault fired; counting starts again.
  faults.Set("disarm", Napi::Function::New(env, [](const Napi::CallbackInfo &info) {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    bool fired = s.fired;
    s.armed = -1;
    s.fired = false;
    for (auto &c : s.calls) c = 0;
    return Napi::Boolean::New(info.Env(), fired);
  }));

  // calls(): how often each point was reached since arm() or disarm().
  faults.Set("calls", Napi::Function::New(env, [](const Napi::CallbackInfo &info) {
    Napi::Object out = Napi::Object::New(info.Env());
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (size_t i = 0; i < static_cast<size_t>(FaultPoint::Count); i++)
      out.Set(kNames[i], Napi::Number::New(info.Env(), static_cast<double>(s.calls[i])));
    return out;
  }));
  return faults;
}

}  // namespace exec_tracer

// The system calls libbpf makes, wrapped at link time (-Wl,--wrap=..., set
// by CMakeLists.txt for this build only): the embedded libbpf's references
// to them resolve here. Node's own calls (libuv's epoll) are not affected.
extern "C" {
long __real_syscall(long number, ...);
int __real_epoll_create1(int flags);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
void *__real_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
void *__real_mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset);

long __wrap_syscall(long number, ...) {
  // A variadic call carries no count, and reading past the arguments passed
  // is undefined (ASan catches it), so take exactly what each system call
  // libbpf and the addon make through syscall() has: bpf, membarrier and
  // dup3 3, memfd_create 2, perf_event_open 5.
  int count = number == __NR_perf_event_open                                      ? 5
              : number == __NR_bpf || number == __NR_membarrier || number == __NR_dup3 ? 3
              : number == __NR_memfd_create                                       ? 2
                                                                                  : -1;
  if (count < 0) {
    fprintf(stderr, "exec-tracer faults: syscall(%ld) is not known to the wrapper (native/faults.cc)\n", number);
    abort();
  }
  va_list args;
  va_start(args, number);
  long a[5] = {};
  for (int i = 0; i < count; i++) a[i] = va_arg(args, long);
  va_end(args);
  if (number == __NR_bpf || number == __NR_memfd_create || number == __NR_dup3) {
    auto point = number == __NR_bpf ? exec_tracer::FaultPoint::Bpf : exec_tracer::FaultPoint::Fd;
    if (int err = exec_tracer::Fault(point)) {
      errno = err;
      return -1;
    }
  }
  return __real_syscall(number, a[0], a[1], a[2], a[3], a[4]);
}

int __wrap_epoll_create1(int flags) {
  if (int err = exec_tracer::Fault(exec_tracer::FaultPoint::Epoll)) {
    errno = err;
    return -1;
  }
  return __real_epoll_create1(flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) {
  if (int err = exec_tracer::Fault(exec_tracer::FaultPoint::Epoll)) {
    errno = err;
    return -1;
  }
  return __real_epoll_ctl(epfd, op, fd, event);
}

void *__wrap_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (int err = exec_tracer::Fault(exec_tracer::FaultPoint::Mmap)) {
    errno = err;
    return MAP_FAILED;
  }
  return __real_mmap(addr, length, prot, flags, fd, offset);
}

// libbpf is built with _FILE_OFFSET_BITS=64, so glibc's headers name its
// calls mmap64.
void *__wrap_mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset) {
  if (int err = exec_tracer::Fault(exec_tracer::FaultPoint::Mmap)) {
    errno = err;
    return MAP_FAILED;
  }
  return __real_mmap64(addr, length, prot, flags, fd, offset);
}
}  // extern "C"

#endif  // EXEC_TRACER_FAULTS
