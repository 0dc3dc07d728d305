// SPDX-License-Identifier: MIT
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "errors.h"
#include "pump.h"
#include "ring_watch.h"

// The prebuilds must load on glibc 2.28. Built against glibc >= 2.34, where
// libpthread moved into libc, pthread_create and pthread_join would be bound
// to their GLIBC_2.34 versions; the original versions are still exported, by
// libpthread.so.0 up to 2.33 and by libc.so.6 since (std::thread is no way out:
// it needs GLIBCXX_3.4.22, above the prebuilds' floor).
#if defined(__x86_64__)
__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join, pthread_join@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver pthread_create, pthread_create@GLIBC_2.17");
__asm__(".symver pthread_join, pthread_join@GLIBC_2.17");
#endif

namespace exec_tracer {
namespace {

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

ThreadWatch *ThreadWatch::Create(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms, int *err) {
  int kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (kick_fd < 0) {
    *err = errno;
    return nullptr;
  }
  return new ThreadWatch(pump, env, ring_fd, interval_ms, kick_fd);
}

ThreadWatch::ThreadWatch(Pump *pump, napi_env env, int ring_fd, uint32_t interval_ms, int kick_fd)
    : pump_(pump), env_(env), ring_fd_(ring_fd), interval_ms_(interval_ms), kick_fd_(kick_fd) {
  // A synchronous hook: stopping the thread needs no loop turn. Registered
  // before the thread-safe function exists, so at teardown Node runs the
  // function's own hook first; it frees the function only on a later loop
  // turn, after this hook has joined the thread.
  hook_ = napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok;
}

ThreadWatch::~ThreadWatch() { close(kick_fd_); }

void ThreadWatch::Start() {
  napi_value name;
  napi_create_string_utf8(env_, "ExecTracerPump", NAPI_AUTO_LENGTH, &name);
  // Queue of one: the thread never has more than one request pending.
  napi_status status = napi_create_threadsafe_function(env_, nullptr, nullptr, name, 1, 1, this, OnFinalize, this,
                                                       CallJs, &tsfn_);
  if (status != napi_ok) {
    tsfn_ = nullptr;
    throw MakeNativeError(env_, "poll", EINVAL, "cannot create the thread-safe function the pump needs", "");
  }
  // Referenced only while watching, as a started uv_poll would be.
  napi_unref_threadsafe_function(env_, tsfn_);
  int err = pthread_create(&thread_, nullptr, Run, this);
  if (err != 0) throw MakeNativeError(env_, "poll", err, "cannot start the thread that watches the ring buffer", "");
  thread_running_ = true;
}

void ThreadWatch::Watch() {
  if (tsfn_ == nullptr || watching_.exchange(true)) return;
  napi_ref_threadsafe_function(env_, tsfn_);
  Kick();
}

void ThreadWatch::Unwatch() {
  ticking_ = false;
  soon_ = false;
  if (!watching_.exchange(false) || tsfn_ == nullptr) return;
  napi_unref_threadsafe_function(env_, tsfn_);
  Kick();
}

void ThreadWatch::Tick(bool on) {
  if (ticking_.exchange(on) != on) Kick();
}

void ThreadWatch::Soon() {
  soon_ = true;
  Kick();
}

void ThreadWatch::Kick() {
  uint64_t one = 1;
  // Fails only when the counter is about to overflow: it is readable then.
  (void)!write(kick_fd_, &one, sizeof one);
}

void *ThreadWatch::Run(void *self) {
  static_cast<ThreadWatch *>(self)->Loop();
  return nullptr;
}

void ThreadWatch::Loop() {
  bool was_ticking = false;
  int64_t next_tick = 0;
  while (!stop_) {
    // While a request is pending the ring is not watched: its epoll fd stays
    // readable until the JS thread has consumed it, and would spin us.
    bool waiting = pending_ || !watching_;
    if (!waiting && soon_.exchange(false)) {
      if (!Post(kTick)) return;
      continue;
    }
    bool ticking = !waiting && ticking_;
    if (ticking && !was_ticking) next_tick = NowMs() + interval_ms_;
    was_ticking = ticking;
    int timeout = ticking ? static_cast<int>(std::max<int64_t>(0, next_tick - NowMs())) : -1;
    struct pollfd fds[2] = {{kick_fd_, POLLIN, 0}, {ring_fd_, POLLIN, 0}};
    int n = poll(fds, waiting ? 1 : 2, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      Post(kPollError);
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!read(kick_fd_, &count, sizeof count);
    }
    if (stop_ || waiting) continue;
    if (fds[1].revents & (POLLERR | POLLNVAL)) {
      Post(kPollError);
      return;
    }
    bool readable = fds[1].revents & POLLIN;
    bool tick = ticking && NowMs() >= next_tick;
    if (tick) next_tick = NowMs() + interval_ms_;
    if ((readable || tick) && !Post(readable ? kReadable : kTick)) return;
  }
}

bool ThreadWatch::Post(Reason reason) {
  pending_ = true;
  napi_status status =
      napi_call_threadsafe_function(tsfn_, reinterpret_cast<void *>(reason), napi_tsfn_nonblocking);
  if (status == napi_ok) return true;
  // napi_closing: the environment is going away and will stop us.
  pending_ = false;
  return false;
}

void ThreadWatch::CallJs(napi_env env, napi_value, void *context, void *data) {
  auto *self = static_cast<ThreadWatch *>(context);
  if (env == nullptr || self->closed_) return;  // torn down with this request queued
  switch (static_cast<Reason>(reinterpret_cast<uintptr_t>(data))) {
    case kReadable:
      self->pump_->OnReadable();
      break;
    case kTick:
      self->pump_->OnTick();
      break;
    case kPollError:
      self->pump_->OnWatchError("poll", EIO);
      break;
  }
  // The pump may have been closed by a listener: then Close() has run and
  // this object lives on only until the function's finalizer.
  if (self->closed_) return;
  self->pending_ = false;
  self->Kick();
}

void ThreadWatch::StopThread() {
  if (!thread_running_) return;
  stop_ = true;
  Kick();
  pthread_join(thread_, nullptr);
  thread_running_ = false;
}

void ThreadWatch::Close() {
  if (closed_) return;
  closed_ = true;
  StopThread();
  if (hook_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
  hook_ = false;
  if (tsfn_ == nullptr) {
    pump_->OnWatchClosed();  // deletes the pump, and this with it
    return;
  }
  // Nothing calls the function any more; its finalizer frees the pump.
  napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
}

void ThreadWatch::OnFinalize(napi_env, void *data, void *) {
  auto *self = static_cast<ThreadWatch *>(data);
  self->StopThread();  // before the function it calls is gone
  self->tsfn_ = nullptr;
  // Finalized before Close(): the environment is being torn down and its
  // cleanup hook (ours) comes next and frees everything.
  if (self->closed_) self->pump_->OnWatchClosed();
}

void ThreadWatch::OnEnvCleanup(void *arg) {
  auto *self = static_cast<ThreadWatch *>(arg);
  self->hook_ = false;  // it is being run: nothing to remove
  self->pump_->OnEnvCleanup();
}

}  // namespace exec_tracer
