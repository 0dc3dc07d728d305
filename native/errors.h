// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include <string>

namespace exec_tracer {

// The NativeError of types/binding.ts: an Error with code (errno name),
// errno (positive), operation and the captured libbpf log.
Napi::Error MakeNativeError(Napi::Env env, const std::string &operation, int err,
                            const std::string &message, const std::string &log);

}  // namespace exec_tracer
