// SPDX-License-Identifier: MIT
//
// The tracer object JavaScript holds and its async open (tracer.h): a thin
// wrapper over the pump (pump.h), which owns every kernel object once open()
// resolves. Arguments come through args.h, type-checked only.
#include "tracer.h"

#include <cerrno>
#include <string>
#include <utility>

#include "args.h"
#include "errors.h"
#include "filter.h"
#include "loader.h"
#include "pump.h"

namespace exec_tracer {
namespace {

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
                           InstanceAccessor<&NativeTracer::HostPid>("hostPid"),
                       });
  }

  explicit NativeTracer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeTracer>(info) {
    if (info.Length() != 3 || !info[0].IsExternal() || !info[1].IsString())
      throw Napi::TypeError::New(info.Env(), "NativeTracer is created by open(), not with new");
    pump_ = info[0].As<Napi::External<Pump>>().Data();
    pump_->SetOwner(&pump_);
    pump_->SetFilteredSink(last_filtered_);
    kind_ = info[1].As<Napi::String>().Utf8Value();
    host_pid_ = pump_->HostPid();
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

  // Kept past close(): the pump (which holds it) is gone by then.
  Napi::Value HostPid(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), host_pid_);
  }

  Pump *pump_ = nullptr;
  Napi::Reference<Napi::Buffer<char>> seed_;
  std::string kind_;
  uint32_t host_pid_ = 0;
  bool started_ = false;
  uint64_t last_dropped_ = 0;
  uint64_t last_filtered_[5] = {};
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

}  // namespace

Napi::Function DefineTracerClass(Napi::Env env) {
  return NativeTracer::Define(env);
}

Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  OpenArgs args = ParseOpenOptions(env, info.Length() < 1 ? env.Undefined() : info[0]);
  auto *worker = new OpenWorker(env, args.load, args.pump, std::move(args.filter));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace exec_tracer
