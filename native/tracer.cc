// SPDX-License-Identifier: MIT
//
// The Node-API surface described by types/binding.ts. Policy (defaults,
// ranges) lives in lib/; this file only re-checks types so a wrong call
// cannot crash the process.
#include <napi.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include "errors.h"
#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"
#include "faults.h"
#include "filter.h"
#include "loader.h"
#include "pump.h"

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

class NativeTracer : public Napi::ObjectWrap<NativeTracer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeTracer",
                       {
                           InstanceMethod<&NativeTracer::Start>("start"),
                           InstanceMethod<&NativeTracer::Close>("close"),
                           InstanceMethod<&NativeTracer::Dropped>("dropped"),
                           InstanceMethod<&NativeTracer::Pause>("pause"),
                           InstanceMethod<&NativeTracer::Resume>("resume"),
                           InstanceMethod<&NativeTracer::TakeSeed>("takeSeed"),
                           InstanceMethod<&NativeTracer::SetFilter>("setFilter"),
                           InstanceMethod<&NativeTracer::Filtered>("filtered"),
                           InstanceAccessor<&NativeTracer::AttachKind>("attachKind"),
                       });
  }

  explicit NativeTracer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeTracer>(info) {
    if (info.Length() != 3 || !info[0].IsExternal() || !info[1].IsString())
      throw Napi::TypeError::New(info.Env(), "NativeTracer is created by open(), not with new");
    pump_ = info[0].As<Napi::External<Pump>>().Data();
    pump_->SetOwner(&pump_);
    pump_->SetFilteredSink(last_filtered_);
    kind_ = info[1].As<Napi::String>().Utf8Value();
    if (info[2].IsBuffer()) seed_ = Napi::Persistent(info[2].As<Napi::Buffer<char>>());
  }

  ~NativeTracer() override {
    // Collected without close(): nothing may call into JS any more.
    if (pump_ != nullptr) {
      pump_->SetFilteredSink(nullptr);
      pump_->Abandon();
    }
  }

 private:
  void Start(const Napi::CallbackInfo &info) {
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction())
      throw Napi::TypeError::New(info.Env(), "start(onBatch, onError) takes two functions");
    if (pump_ == nullptr) throw Napi::Error::New(info.Env(), "the tracer is closed");
    if (started_) throw Napi::Error::New(info.Env(), "the tracer is already started");
    started_ = true;
    // While watching, the tracer must outlive every JS reference to it.
    Ref();
    pump_->Start(info[0].As<Napi::Function>(), info[1].As<Napi::Function>());
  }

  void Close(const Napi::CallbackInfo &) {
    if (pump_ == nullptr) return;
    Pump *pump = pump_;
    bool was_started = started_;
    started_ = false;
    struct Unref {
      NativeTracer *self;
      bool active;
      ~Unref() {
        if (active) self->Unref();
      }
    } unref{this, was_started};
    pump->Close();  // clears pump_ through the owner slot, even if it throws
  }

  Napi::Value Dropped(const Napi::CallbackInfo &info) {
    uint64_t dropped = pump_ != nullptr ? pump_->Dropped() : last_dropped_;
    last_dropped_ = dropped;
    return Napi::Number::New(info.Env(), static_cast<double>(dropped));
  }

  void Pause(const Napi::CallbackInfo &) {
    if (pump_ != nullptr) pump_->Pause();
  }

  void Resume(const Napi::CallbackInfo &) {
    if (pump_ != nullptr) pump_->Resume();
  }

  // The seed, once: lib/ builds its table from it and lets it go.
  Napi::Value TakeSeed(const Napi::CallbackInfo &info) {
    if (seed_.IsEmpty()) return info.Env().Undefined();
    Napi::Value seed = seed_.Value();
    seed_.Reset();
    return seed;
  }

  void SetFilter(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1) throw Napi::TypeError::New(env, "setFilter(filter) takes a filter");
    Filter filter = ParseFilter(env, info[0]);
    LoadError error;
    if (pump_ == nullptr) {
      error.operation = "filter";
      error.err = EBADF;
      error.message = "the tracer is closed";
    } else if (pump_->SetFilter(filter, &error)) {
      return;
    }
    throw MakeNativeError(env, error.operation, error.err, error.message, error.log);
  }

  // [execs, exits, forks, failed execs] the filter dropped, then processes
  // it could not remember.
  Napi::Value Filtered(const Napi::CallbackInfo &info) {
    if (pump_ != nullptr) pump_->Filtered(last_filtered_);
    Napi::Array out = Napi::Array::New(info.Env(), 5);
    for (uint32_t i = 0; i < 5; i++) out.Set(i, Napi::Number::New(info.Env(), static_cast<double>(last_filtered_[i])));
    return out;
  }

  Napi::Value AttachKind(const Napi::CallbackInfo &info) {
    return Napi::String::New(info.Env(), kind_);
  }

  Pump *pump_ = nullptr;
  Napi::Reference<Napi::Buffer<char>> seed_;
  std::string kind_;
  bool started_ = false;
  uint64_t last_dropped_ = 0;
  uint64_t last_filtered_[5] = {};
};

struct AddonData {
  Napi::FunctionReference tracer_class;
};

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, const LoadOptions &load, const PumpOptions &pump, Filter filter)
      : Napi::AsyncWorker(env, "ExecTracerOpen"), deferred_(env), load_(load), pump_(pump), filter_(std::move(filter)) {
    load_.filter = &filter_;
  }

  ~OpenWorker() override {
    // Reached without OnOK (the environment went away mid-load).
    loaded_.Release();
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (!Load(load_, &loaded_, &error_)) SetError(error_.message);
  }

  void OnOK() override {
    Napi::Env env = Env();
    int err = 0;
    std::string seed = std::move(loaded_.seed);
    Pump *pump = Pump::Create(env, loaded_, pump_, &err);
    loaded_ = Loaded{};  // owned (or already released) by the pump now
    if (pump == nullptr) {
      deferred_.Reject(
          MakeNativeError(env, "ringbuf", err, "cannot map the ring buffer", "").Value());
      return;
    }
    const char *kind = pump->Kind() == AttachMode::Tracepoint ? "tracepoint" : "tp_btf";
    auto *data = env.GetInstanceData<AddonData>();
    Napi::Value seed_buffer = load_.seed ? Napi::Buffer<char>::Copy(env, seed.data(), seed.size()).As<Napi::Value>()
                                         : env.Undefined();
    Napi::Object tracer = data->tracer_class.New(
        {Napi::External<Pump>::New(env, pump), Napi::String::New(env, kind), seed_buffer});
    deferred_.Resolve(tracer);
  }

  void OnError(const Napi::Error &) override {
    deferred_.Reject(
        MakeNativeError(Env(), error_.operation, error_.err, error_.message, error_.log).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  LoadOptions load_;
  PumpOptions pump_;
  Filter filter_;
  Loaded loaded_;
  LoadError error_;
};

Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "open(options) takes an options object");
  Napi::Object options = info[0].As<Napi::Object>();

  LoadOptions load;
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

  PumpOptions pump;
  pump.drain_interval_ms = RequireUint(options, "drainIntervalMs");
  pump.batch_bytes = RequireUint(options, "batchBytes");
  if (pump.drain_interval_ms == 0 || pump.batch_bytes == 0)
    throw Napi::RangeError::New(env, "options.drainIntervalMs and options.batchBytes must be positive");
  Napi::Value pump_kind = options.Get("pump");
  std::string watch = pump_kind.IsString() ? pump_kind.As<Napi::String>().Utf8Value() : "";
  if (watch != "loop" && watch != "thread")
    throw Napi::TypeError::New(env, "options.pump must be 'loop' or 'thread'");
  pump.thread = watch == "thread";

  Filter filter;
  Napi::Value filter_value = options.Get("filter");
  if (!filter_value.IsUndefined()) filter = ParseFilter(env, filter_value);

  auto *worker = new OpenWorker(env, load, pump, std::move(filter));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value BootTimeNs(const Napi::CallbackInfo &info) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfLogger();
  auto *data = new AddonData();
  data->tracer_class = Napi::Persistent(NativeTracer::Define(env));
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
