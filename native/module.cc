// SPDX-License-Identifier: MIT
//
// The addon's entry point: what require() of the .node gives (types/binding.ts
// NativeBinding): open(), bootTimeNs(), pageSize, and in test builds only the
// fault injector and the sanitizers' names.
#include <napi.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "faults.h"
#include "loader.h"
#include "tracer.h"

namespace exec_tracer {
namespace {

Napi::Value BootTimeNs(const Napi::CallbackInfo &info) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfLogger();
  auto *data = new AddonData();
  data->tracer_class = Napi::Persistent(DefineTracerClass(env));
  env.SetInstanceData(data);
  exports.Set("open", Napi::Function::New<Open>(env, "open"));
  exports.Set("bootTimeNs", Napi::Function::New<BootTimeNs>(env, "bootTimeNs"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  // Test builds only (CMakeLists.txt: EXEC_TRACER_FAULTS, EXEC_TRACER_SANITIZE):
  // the release addon has neither key, so test/check can tell what it runs.
#ifdef EXEC_TRACER_FAULTS
  exports.Set("faults", FaultsBinding(env));
#endif
#ifdef EXEC_TRACER_SANITIZE
  exports.Set("sanitizers", Napi::String::New(env, "address,undefined"));
#endif
  return exports;
}

}  // namespace
}  // namespace exec_tracer

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return exec_tracer::Init(env, exports);
}

NODE_API_MODULE(exec_tracer, InitAddon)
