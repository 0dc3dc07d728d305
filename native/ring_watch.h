// SPDX-License-Identifier: MIT
//
// What wakes the pump: the ring buffer's epoll fd becoming readable, a
// repeating tick that bounds latency while records flow, and "once more, on
// the next turn" after a capped batch. Two ways to get them, chosen by lib/
// (NativeOpenOptions.pump):
//   LoopWatch   a uv_poll and two uv timers on the environment's loop: no
//               thread, no mutex (Node, Deno);
//   ThreadWatch a thread blocked in poll(2) on the same epoll fd that asks
//               the JS thread to drain through a thread-safe function, at
//               most one request pending (Bun, which implements no uv_poll
//               and no uv_timer: calling either aborts the process).
// Either way the ring is consumed on the JS thread only, by the pump.
#pragma once

#include <napi.h>
#include <uv.h>

#include <pthread.h>

#include <atomic>
#include <cstdint>

namespace exec_tracer {

class Pump;

class RingWatch {
 public:
  virtual ~RingWatch() = default;
  // Everything the watch needs from here on; JS thread, at start().
  virtual void Start() = 0;
  // Wake the pump when the ring's epoll fd is readable (Pump::OnReadable).
  virtual void Watch() = 0;
  // No wakeup of any kind until Watch() again; the process may exit.
  virtual void Unwatch() = 0;
  // Pump::OnTick every drain interval while on.
  virtual void Tick(bool on) = 0;
  // Pump::OnTick once, on a later turn of the loop (never from this call).
  virtual void Soon() = 0;
  // Releases everything; Pump::OnWatchClosed() once nothing can call the
  // pump any more (maybe later, from the loop). Calls no JS.
  virtual void Close() = 0;
};

class LoopWatch final : public RingWatch {
 public:
  LoopWatch(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms);
  void Start() override {}
  void Watch() override;
  void Unwatch() override;
  void Tick(bool on) override;
  void Soon() override;
  void Close() override;

 private:
  static void OnPoll(uv_poll_t *handle, int status, int events);
  static void OnTimer(uv_timer_t *handle);
  static void OnHandleClosed(uv_handle_t *handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void *arg);

  Pump *pump_;
  uint32_t interval_ms_;
  uv_poll_t poll_;
  uv_timer_t tick_;
  uv_timer_t soon_;
  int open_handles_ = 0;
  napi_async_cleanup_hook_handle cleanup_hook_ = nullptr;
};

class ThreadWatch final : public RingWatch {
 public:
  // Returns nullptr with *err set (positive errno) if the eventfd cannot be made.
  static ThreadWatch *Create(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms, int *err);
  ~ThreadWatch() override;
  void Start() override;
  void Watch() override;
  void Unwatch() override;
  void Tick(bool on) override;
  void Soon() override;
  void Close() override;

 private:
  ThreadWatch(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms, int kick_fd);
  enum Reason : uintptr_t { kReadable = 1, kTick = 2, kPollError = 3 };
  static void *Run(void *self);
  void Loop();
  // Asks the JS thread to drain; false once the function is closing.
  bool Post(Reason reason);
  void Kick();
  void StopThread();
  static void CallJs(napi_env env, napi_value, void *context, void *data);
  static void OnFinalize(napi_env env, void *data, void *hint);
  static void OnEnvCleanup(void *arg);

  Pump *pump_;
  napi_env env_;
  int ring_fd_;
  uint32_t interval_ms_;
  int kick_fd_;
  pthread_t thread_{};
  bool thread_running_ = false;
  napi_threadsafe_function tsfn_ = nullptr;
  bool closed_ = false;
  bool hook_ = false;
  // Written by the JS thread, read by the watching thread.
  std::atomic<bool> stop_{false};
  std::atomic<bool> watching_{false};
  std::atomic<bool> ticking_{false};
  std::atomic<bool> soon_{false};
  // A drain request is queued or running: the thread waits for it to end
  // (the epoll fd stays readable until the ring is consumed).
  std::atomic<bool> pending_{false};
};

}  // namespace exec_tracer
