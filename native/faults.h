// SPDX-License-Identifier: MIT
//
// Test-only fault injection: each call the addon makes into libbpf, and each
// system call libbpf makes for it (bpf, epoll, mmap, memfd_create, dup3), can be made to fail
// once, so the tests can walk every failure path and check that each gives a
// typed error and leaves nothing behind (test/check/leaks.kernel.test.ts runs
// test/check/driver.ts, which arms them).
//
// Compiled in only with -DEXEC_TRACER_FAULTS=ON (never in a release or a
// prebuild); otherwise Fault() is a constant 0 and the checks fold away.
#pragma once

#include <cerrno>

namespace exec_tracer {

enum class FaultPoint {
  Open,     // the skeleton's open (exec_tracer_bpf__open)
  Load,     // the skeleton's load (exec_tracer_bpf__load)
  Attach,   // bpf_program__attach, one per program
  Seed,     // bpf_program__attach_iter: the process table's and the filter's seeding
  Ringbuf,  // ring_buffer__new
  Bpf,      // the bpf(2) system call, whatever libbpf or the filter asks of it
  Epoll,    // epoll_create1 and epoll_ctl (the ring buffer's epoll fd)
  Mmap,     // mmap: the skeleton's global data, the ring buffer's pages
  Fd,       // memfd_create and dup3: the placeholder fd libbpf (>= 1.4) opens for
            // each map at open, and moves the created map onto at load
  Count,
};

#ifdef EXEC_TRACER_FAULTS
// The positive errno the current call must fail with, or 0 to go on.
int Fault(FaultPoint point);
#else
constexpr int Fault(FaultPoint) { return 0; }
#endif

// `call()`, unless the point's fault fires: then errno is set and the
// call's own failure value returned instead (libbpf's NULL-and-errno style).
template <typename Result, typename Call>
Result OrFault(FaultPoint point, Result failure, Call call) {
  if (int err = Fault(point)) {
    errno = err;
    return failure;
  }
  return call();
}

}  // namespace exec_tracer

#ifdef EXEC_TRACER_FAULTS
#include <napi.h>
namespace exec_tracer {
// binding.faults: { points, arm(point, nth, errno), disarm(), calls() }.
Napi::Object FaultsBinding(Napi::Env env);
}  // namespace exec_tracer
#endif
