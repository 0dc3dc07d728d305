// SPDX-License-Identifier: MIT
//
// The tracer object JavaScript holds (types/binding.ts NativeTracer) and
// open(), which loads and attaches off the main thread and resolves with one.
#pragma once

#include <napi.h>

namespace exec_tracer {

// Per environment (a worker thread has its own): the NativeTracer class.
struct AddonData {
  Napi::FunctionReference tracer_class;
};

// The NativeTracer class, defined once per environment.
Napi::Function DefineTracerClass(Napi::Env env);

// open(options) -> Promise<NativeTracer>: the object is opened, loaded and
// attached on a libuv thread-pool thread (an AsyncWorker).
Napi::Value Open(const Napi::CallbackInfo &info);

}  // namespace exec_tracer
