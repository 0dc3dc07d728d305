// SPDX-License-Identifier: MIT
//
// The pump: moves records from the BPF ring buffer to JavaScript in batches,
// on the JS thread of the environment that created it. It is woken (see
// ring_watch.h) through the ring buffer's epoll fd, which the program makes
// readable only past the fill threshold or for the first record after the
// pump went idle, and by a repeating tick that bounds latency while records
// flow and stops when a tick finds the ring empty (an idle tracer makes no
// wakeups). It owns the loaded BPF objects and frees them on close(), on the
// environment's teardown, or when its JS object is collected, whichever
// comes first.
#pragma once

#include <napi.h>
#include <cstdint>
#include <vector>

#include "filter.h"
#include "loader.h"

struct ring_buffer;

namespace exec_tracer {

struct PumpOptions {
  uint32_t drain_interval_ms = 10;
  uint32_t batch_bytes = 256 * 1024;
  // Watch the ring from a thread instead of the loop (ring_watch.h).
  bool thread = false;
};

class RingWatch;

class Pump {
 public:
  // Takes ownership of `loaded` (released on failure too). Returns nullptr
  // with *err set (positive errno) if the ring buffer cannot be mapped.
  static Pump *Create(Napi::Env env, Loaded loaded, const PumpOptions &options, int *err);

  // `*owner` is cleared when the pump shuts down, whoever triggers it.
  void SetOwner(Pump **owner) { owner_ = owner; }
  // Starts polling; `on_batch(buffer, droppedTotal)` is called per batch,
  // `on_error(error)` if the ring cannot be read. Throws a NativeError if
  // the watch cannot start.
  void Start(Napi::Function on_batch, Napi::Function on_error);
  void Pause();
  void Resume();
  // Detach, hand the rest of the ring to JS synchronously, free everything.
  void Close();
  uint64_t Dropped() const;
  AttachMode Kind() const { return loaded_.kind; }
  // The tracer's pid in the initial pid namespace (Loaded::host_pid).
  uint32_t HostPid() const { return loaded_.host_pid; }
  // Puts a new filter in force (filter.h); false with *error set if not.
  bool SetFilter(const Filter &filter, LoadError *error);
  // See ReadFiltered() in filter.h.
  void Filtered(uint64_t out[5]) const;
  // Where the filter's final counts go when the kernel objects are freed
  // (the owner reads them after close()); cleared with the owner slot.
  void SetFilteredSink(uint64_t *sink) { filtered_sink_ = sink; }
  // The JS object is gone: free without calling back.
  void Abandon();

  // Called from the ring buffer's sample callback.
  int OnSample(const void *data, size_t size);

  // From the watch, on the JS thread: the ring's epoll fd is readable; a
  // tick (or the turn after a full batch) came; watching failed.
  void OnReadable();
  void OnTick();
  void OnWatchError(const char *operation, int err);
  // The watch has let go of everything: the pump can be freed.
  void OnWatchClosed() { delete this; }
  // The environment (main thread at exit, or a worker) is going away and JS
  // never called close(): detach and free without calling back into JS.
  void OnEnvCleanup() { Shutdown(); }

 private:
  Pump(Napi::Env env, Loaded loaded, const PumpOptions &options);
  ~Pump();
  void InitAsyncContext();

  enum class Mode { FromLoop, Synchronous };
  // Drains one capped batch and hands it over. Returns true if more records
  // were left in the ring because the batch filled up.
  bool DrainBatch(Mode mode);
  void Deliver(Mode mode);
  void StopWatching();
  // The ring was found empty: stop the timer until the program wakes us.
  void GoIdle();
  void StartTimer();
  // Frees the kernel objects and closes the watch; `this` is deleted once
  // the watch has let go (maybe at once). Calls no JS.
  void Shutdown();
  void ReportError(const char *operation, int err);
  void CallFromLoop(const Napi::FunctionReference &fn, size_t argc, const napi_value *argv);


  napi_env env_;
  Loaded loaded_;
  ring_buffer *rb_ = nullptr;
  Pump **owner_ = nullptr;
  uint64_t *filtered_sink_ = nullptr;
  PumpOptions options_;
  RingWatch *watch_ = nullptr;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_error_;
  napi_async_context async_context_ = nullptr;
  std::vector<uint8_t> batch_;
  uint64_t last_dropped_ = 0;
  // Exec records (not wakeups) taken by the last DrainBatch().
  uint64_t records_ = 0;
  bool idle_ = false;
  bool started_ = false;
  bool paused_ = false;
  bool closed_ = false;
  // Malformed samples (never expected from our own program): counted as drops
  // so they surface, instead of being passed to a decoder that would choke.
  uint64_t malformed_ = 0;
};

}  // namespace exec_tracer
