// SPDX-License-Identifier: MIT
//
// The arguments JavaScript hands the addon, turned into the C++ structs the
// loader, the pump and the filter take. Type checks only (a wrong call must
// not crash the process): lib/ has already validated and defaulted every
// option, so the policy (defaults, ranges) lives there, not here.
#pragma once

#include <napi.h>

#include "filter.h"
#include "loader.h"
#include "pump.h"

namespace exec_tracer {

// What open(options) asks for (types/binding.ts NativeOpenOptions).
struct OpenArgs {
  LoadOptions load;
  PumpOptions pump;
  Filter filter;
};

// Throws a TypeError or RangeError naming the option that is not of its type.
OpenArgs ParseOpenOptions(Napi::Env env, Napi::Value options);

// A filter as lib/filter.ts compiles it (types/binding.ts NativeFilter).
Filter ParseFilter(Napi::Env env, Napi::Value value);

}  // namespace exec_tracer
