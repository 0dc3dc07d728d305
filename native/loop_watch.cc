// SPDX-License-Identifier: MIT
#include "pump.h"
#include "ring_watch.h"

namespace exec_tracer {

LoopWatch::LoopWatch(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms)
    : pump_(pump), interval_ms_(interval_ms) {
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  // The handles are inactive until Watch(), so a tracer that is loaded but
  // not started does not keep the process alive.
  uv_poll_init(loop, &poll_, ring_fd);
  uv_timer_init(loop, &tick_);
  uv_timer_init(loop, &soon_);
  poll_.data = tick_.data = soon_.data = this;
  open_handles_ = 3;
  napi_add_async_cleanup_hook(env, OnEnvCleanup, this, &cleanup_hook_);
}

void LoopWatch::Watch() { uv_poll_start(&poll_, UV_READABLE, OnPoll); }

void LoopWatch::Unwatch() {
  uv_poll_stop(&poll_);
  uv_timer_stop(&tick_);
  uv_timer_stop(&soon_);
}

void LoopWatch::Tick(bool on) {
  if (on)
    uv_timer_start(&tick_, OnTimer, interval_ms_, interval_ms_);
  else
    uv_timer_stop(&tick_);
}

void LoopWatch::Soon() { uv_timer_start(&soon_, OnTimer, 0, 0); }

void LoopWatch::Close() {
  Unwatch();
  uv_close(reinterpret_cast<uv_handle_t *>(&poll_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t *>(&tick_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t *>(&soon_), OnHandleClosed);
}

void LoopWatch::OnPoll(uv_poll_t *handle, int status, int) {
  auto *self = static_cast<LoopWatch *>(handle->data);
  if (status < 0)
    self->pump_->OnWatchError("poll", -status);
  else
    self->pump_->OnReadable();
}

void LoopWatch::OnTimer(uv_timer_t *handle) { static_cast<LoopWatch *>(handle->data)->pump_->OnTick(); }

void LoopWatch::OnHandleClosed(uv_handle_t *handle) {
  auto *self = static_cast<LoopWatch *>(handle->data);
  if (--self->open_handles_ > 0) return;
  // Removing the hook also tells Node an in-progress async cleanup is done.
  if (self->cleanup_hook_ != nullptr) napi_remove_async_cleanup_hook(self->cleanup_hook_);
  self->pump_->OnWatchClosed();  // deletes the pump, and this with it
}

void LoopWatch::OnEnvCleanup(napi_async_cleanup_hook_handle, void *arg) {
  static_cast<LoopWatch *>(arg)->pump_->OnEnvCleanup();
}

}  // namespace exec_tracer
