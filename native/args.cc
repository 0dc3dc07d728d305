// SPDX-License-Identifier: MIT
//
// Argument parsing: JavaScript option objects to the C++ structs of
// loader.h, pump.h and filter.h (args.h says why only types are checked).
#include "args.h"

#include <string>

#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"

namespace exec_tracer {
namespace {

uint32_t RequireUint(const Napi::Object &options, const char *name) {
  Napi::Value value = options.Get(name);
  if (!value.IsNumber())
    throw Napi::TypeError::New(options.Env(), std::string("options.") + name + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number <= 4294967295.0) || number != static_cast<uint32_t>(number))
    throw Napi::RangeError::New(options.Env(),
                                std::string("options.") + name + " must be a 32-bit unsigned integer");
  return static_cast<uint32_t>(number);
}

bool RequireBool(const Napi::Object &options, const char *name) {
  Napi::Value value = options.Get(name);
  if (!value.IsBoolean())
    throw Napi::TypeError::New(options.Env(), std::string("options.") + name + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

}  // namespace

// The filter as lib/filter.ts compiles it: { flags, entries: [kind, side,
// value, startBootNs?][] }, value a number, a bigint or a Buffer.
Filter ParseFilter(Napi::Env env, Napi::Value value) {
  Filter filter;
  if (!value.IsObject()) throw Napi::TypeError::New(env, "filter must be an object");
  Napi::Object o = value.As<Napi::Object>();
  filter.flags = RequireUint(o, "flags");
  Napi::Value entries = o.Get("entries");
  if (!entries.IsArray()) throw Napi::TypeError::New(env, "filter.entries must be an array");
  Napi::Array list = entries.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsArray()) throw Napi::TypeError::New(env, "a filter entry must be an array");
    Napi::Array entry = item.As<Napi::Array>();
    Napi::Value kind = entry.Get(0u), side = entry.Get(1u), v = entry.Get(2u), start = entry.Get(3u);
    if (!kind.IsNumber() || !side.IsNumber())
      throw Napi::TypeError::New(env, "a filter entry starts with its kind and side");
    FilterEntry e;
    e.kind = static_cast<uint8_t>(kind.As<Napi::Number>().Uint32Value());
    e.side = static_cast<uint8_t>(side.As<Napi::Number>().Uint32Value());
    bool lossless = true;
    if (v.IsNumber()) {
      double number = v.As<Napi::Number>().DoubleValue();
      if (!(number >= 0 && number <= 9007199254740991.0))
        throw Napi::RangeError::New(env, "a filter value is out of range");
      e.value = static_cast<uint64_t>(number);
    } else if (v.IsBigInt()) {
      e.value = v.As<Napi::BigInt>().Uint64Value(&lossless);
    } else if (v.IsBuffer()) {
      auto bytes = v.As<Napi::Buffer<char>>();
      e.bytes.assign(bytes.Data(), bytes.Length());
    } else {
      throw Napi::TypeError::New(env, "a filter value must be a number, a bigint or a Buffer");
    }
    if (start.IsBigInt()) e.start_boot_ns = start.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, "a filter value is not a 64-bit unsigned integer");
    filter.entries.push_back(std::move(e));
  }
  return filter;
}

OpenArgs ParseOpenOptions(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "open(options) takes an options object");
  Napi::Object options = value.As<Napi::Object>();

  OpenArgs args;
  LoadOptions &load = args.load;
  load.argv_limit = RequireUint(options, "argvLimit");
  load.ring_buffer_size = RequireUint(options, "ringBufferSize");
  load.wakeup_bytes = RequireUint(options, "wakeupBytes");
  load.context = RequireUint(options, "context");
  load.env_limit = RequireUint(options, "envLimit");
  load.read_env = RequireBool(options, "env");
  load.exits = RequireBool(options, "exits");
  load.forks = RequireBool(options, "forks");
  load.failed_execs = RequireBool(options, "failedExecs");
  load.seed = RequireBool(options, "seed");
  if (load.argv_limit > ET_ARGV_LIMIT_MAX)
    throw Napi::RangeError::New(env, "options.argvLimit is above the compiled maximum");
  if (load.env_limit > ET_ENV_LIMIT_MAX)
    throw Napi::RangeError::New(env, "options.envLimit is above the compiled maximum");
  Napi::Value attach = options.Get("attach");
  std::string mode = attach.IsString() ? attach.As<Napi::String>().Utf8Value() : "";
  if (mode == "auto")
    load.attach = AttachMode::Auto;
  else if (mode == "tp_btf")
    load.attach = AttachMode::TpBtf;
  else if (mode == "tracepoint")
    load.attach = AttachMode::Tracepoint;
  else
    throw Napi::TypeError::New(env, "options.attach must be 'auto', 'tp_btf' or 'tracepoint'");

  PumpOptions &pump = args.pump;
  pump.drain_interval_ms = RequireUint(options, "drainIntervalMs");
  pump.batch_bytes = RequireUint(options, "batchBytes");
  if (pump.drain_interval_ms == 0 || pump.batch_bytes == 0)
    throw Napi::RangeError::New(env, "options.drainIntervalMs and options.batchBytes must be positive");
  Napi::Value pump_kind = options.Get("pump");
  std::string watch = pump_kind.IsString() ? pump_kind.As<Napi::String>().Utf8Value() : "";
  if (watch != "loop" && watch != "thread")
    throw Napi::TypeError::New(env, "options.pump must be 'loop' or 'thread'");
  pump.thread = watch == "thread";

  Napi::Value filter = options.Get("filter");
  if (!filter.IsUndefined()) args.filter = ParseFilter(env, filter);
  return args;
}

}  // namespace exec_tracer
