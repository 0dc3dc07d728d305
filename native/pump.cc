// SPDX-License-Identifier: MIT
#include "pump.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "errors.h"
#include "faults.h"
#include "ring_watch.h"
#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"
#include "exec_tracer.skel.h"

namespace exec_tracer {
namespace {

// Returned by the sample callback when the batch is full: libbpf stops
// consuming after that record (which it counts as consumed), so nothing is
// lost or repeated; the rest waits for the next batch.
constexpr int kBatchFull = -ENOBUFS;

int SampleTrampoline(void *ctx, void *data, size_t size) {
  return static_cast<Pump *>(ctx)->OnSample(data, size);
}

}  // namespace

Pump *Pump::Create(Napi::Env env, Loaded loaded, const PumpOptions &options, int *err) {
  auto *pump = new Pump(env, loaded, options);
  pump->rb_ = OrFault<ring_buffer *>(FaultPoint::Ringbuf, nullptr, [&] {
    return ring_buffer__new(bpf_map__fd(loaded.skel->maps.events), SampleTrampoline, pump, nullptr);
  });
  int ring_fd = pump->rb_ != nullptr ? ring_buffer__epoll_fd(pump->rb_) : -1;
  if (pump->rb_ != nullptr && options.thread)
    pump->watch_ = ThreadWatch::Create(pump, env, ring_fd, options.drain_interval_ms, err);
  else if (pump->rb_ != nullptr)
    pump->watch_ = new LoopWatch(pump, env, ring_fd, options.drain_interval_ms);
  else
    *err = errno;
  if (pump->watch_ == nullptr) {
    if (pump->rb_ != nullptr) ring_buffer__free(pump->rb_);
    pump->loaded_.Release();
    delete pump;
    return nullptr;
  }
  pump->InitAsyncContext();
  return pump;
}

Pump::Pump(Napi::Env env, Loaded loaded, const PumpOptions &options)
    : env_(env), loaded_(loaded), options_(options) {}

Pump::~Pump() { delete watch_; }

void Pump::InitAsyncContext() {
  batch_.reserve(options_.batch_bytes + 4096);
  napi_value resource = Napi::Object::New(env_);
  napi_async_init(env_, resource, Napi::String::New(env_, "ExecTracer"), &async_context_);
}

void Pump::Start(Napi::Function on_batch, Napi::Function on_error) {
  if (closed_ || started_) return;
  watch_->Start();
  on_batch_ = Napi::Persistent(on_batch);
  on_error_ = Napi::Persistent(on_error);
  started_ = true;
  if (!paused_) Resume();
}

void Pump::Pause() {
  paused_ = true;
  StopWatching();
}

void Pump::Resume() {
  if (closed_) return;
  paused_ = false;
  if (!started_) return;
  watch_->Watch();
  StartTimer();
  watch_->Soon();  // whatever waited meanwhile
}

void Pump::StopWatching() {
  if (closed_) return;
  watch_->Unwatch();
}

int Pump::OnSample(const void *data, size_t size) {
  const auto *hdr = static_cast<const et_record_header *>(data);
  if (size < sizeof(*hdr) || hdr->size != size) {
    malformed_++;
    return 0;
  }
  if (hdr->type == ET_RECORD_WAKEUP) return 0;  // it has done its job by arriving
  records_++;
  const auto *bytes = static_cast<const uint8_t *>(data);
  batch_.insert(batch_.end(), bytes, bytes + size);
  return batch_.size() >= options_.batch_bytes ? kBatchFull : 0;
}

bool Pump::SetFilter(const Filter &filter, LoadError *error) {
  if (loaded_.skel == nullptr) {
    error->operation = "filter";
    error->err = EBADF;
    error->message = "the tracer is closed";
    return false;
  }
  return ApplyFilter(&loaded_, filter, true, error);
}

void Pump::Filtered(uint64_t out[5]) const { ReadFiltered(loaded_, out); }

uint64_t Pump::Dropped() const {
  if (loaded_.skel == nullptr || loaded_.skel->bss == nullptr) return last_dropped_;
  // The counters live in the mmapped .bss: a read costs no syscall.
  uint64_t total = malformed_;
  for (const auto &slot : loaded_.skel->bss->drops) total += __atomic_load_n(&slot, __ATOMIC_RELAXED);
  return total;
}

bool Pump::DrainBatch(Mode mode) {
  batch_.clear();
  records_ = 0;
  int res = ring_buffer__consume(rb_);
  bool more = res == kBatchFull;
  if (res < 0 && !more) {
    ReportError("ringbuf", -res);
    return false;
  }
  Deliver(mode);
  return more;
}

void Pump::Deliver(Mode mode) {
  uint64_t dropped = Dropped();
  if (batch_.empty() && dropped == last_dropped_) return;
  last_dropped_ = dropped;
  if (on_batch_.IsEmpty()) return;

  Napi::HandleScope scope(env_);
  napi_value args[2] = {
      Napi::Buffer<uint8_t>::Copy(env_, batch_.data(), batch_.size()),
      Napi::Number::New(env_, static_cast<double>(dropped)),
  };
  if (mode == Mode::Synchronous) {
    // We are inside a JS call (close()): a throwing listener propagates to it.
    on_batch_.Call(Napi::Env(env_).Undefined(), {args[0], args[1]});
    return;
  }
  CallFromLoop(on_batch_, 2, args);
}

void Pump::CallFromLoop(const Napi::FunctionReference &fn, size_t argc, const napi_value *argv) {
  // MakeCallback runs microtasks and keeps the async context; an exception
  // thrown by a listener becomes an uncaught exception, as with any
  // EventEmitter, instead of being swallowed here.
  napi_value global, result;
  napi_get_global(env_, &global);
  if (napi_make_callback(env_, async_context_, global, fn.Value(), argc, argv, &result) == napi_ok)
    return;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env_, &error);
    napi_fatal_exception(env_, error);
  }
}

void Pump::ReportError(const char *operation, int err) {
  if (on_error_.IsEmpty()) return;
  Napi::HandleScope scope(env_);
  napi_value args[1] = {
      MakeNativeError(env_, operation, err, "cannot read the ring buffer", "").Value()};
  CallFromLoop(on_error_, 1, args);
}

void Pump::OnWatchError(const char *operation, int err) {
  if (closed_) return;
  StopWatching();
  ReportError(operation, err);
}

void Pump::OnReadable() {
  if (closed_) return;
  // Woken by the program: records are flowing again, so the timer bounds
  // their latency until a tick finds the ring empty.
  if (idle_ && !paused_) StartTimer();
  OnTick();
}

void Pump::OnTick() {
  if (closed_ || paused_) return;
  // One scope for the whole callback, the catch below included: when a
  // worker is torn down, Node runs its loop once before the cleanup hooks,
  // JS can no longer run, and creating the batch Buffer throws; turning that
  // error into a value needs a scope too (without one V8 aborts the process).
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  bool more = false;
  try {
    more = DrainBatch(Mode::FromLoop);
  } catch (const Napi::Error &error) {
    // Listeners' exceptions are handled in CallFromLoop; this is allocation
    // failure or teardown, and a C++ exception must not unwind into libuv.
    napi_fatal_exception(env_, error.Value());
  }
  napi_close_handle_scope(env_, scope);
  // A listener may have paused or closed the tracer; a full batch means more
  // is waiting, taken on the next loop turn so I/O is not starved.
  if (closed_ || paused_) return;
  if (more)
    watch_->Soon();
  else if (records_ == 0)
    GoIdle();
}

void Pump::GoIdle() {
  if (idle_ || loaded_.skel == nullptr || loaded_.skel->bss == nullptr) return;
  // Tell the program the next record must wake us, then look once more: a
  // record written before the flag became visible would not have woken us.
  // (The program's side of this handshake is in wake_idle_consumer().)
  __atomic_store_n(&loaded_.skel->bss->consumer_idle, 1, __ATOMIC_SEQ_CST);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  bool more = false;
  try {
    more = DrainBatch(Mode::FromLoop);
  } catch (const Napi::Error &error) {
    napi_fatal_exception(env_, error.Value());  // see OnMore
  }
  napi_close_handle_scope(env_, scope);
  if (closed_ || paused_) return;
  if (more || records_ > 0) {
    __atomic_store_n(&loaded_.skel->bss->consumer_idle, 0, __ATOMIC_RELAXED);
    if (more) watch_->Soon();
    return;
  }
  // Idle: no timer until the program wakes us through the epoll fd.
  watch_->Tick(false);
  idle_ = true;
}

void Pump::StartTimer() {
  idle_ = false;
  watch_->Tick(true);
}

void Pump::Close() {
  if (closed_) return;
  StopWatching();
  // Detach first: after this nothing new enters the ring, so draining it
  // completely loses nothing and cannot run forever.
  loaded_.Detach();
  // A rethrow in place rather than a std::exception_ptr: the latter ties the
  // binary to GCC 11's libstdc++ (CXXABI_1.3.13), which Debian 11, Ubuntu
  // 20.04 and RHEL 8 lack.
  if (!on_batch_.IsEmpty()) {
    try {
      while (DrainBatch(Mode::Synchronous)) {
      }
    } catch (...) {
      Shutdown();
      throw;
    }
  }
  Shutdown();
}

void Pump::Abandon() {
  if (closed_) return;
  Shutdown();
}

void Pump::Shutdown() {
  if (closed_) return;
  StopWatching();
  closed_ = true;
  if (owner_ != nullptr) *owner_ = nullptr;
  owner_ = nullptr;
  if (rb_ != nullptr) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (filtered_sink_ != nullptr) ReadFiltered(loaded_, filtered_sink_);
  filtered_sink_ = nullptr;
  loaded_.Release();
  on_batch_.Reset();
  on_error_.Reset();
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;
  watch_->Close();  // last: it may free this
}

}  // namespace exec_tracer
