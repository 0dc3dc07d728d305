// SPDX-License-Identifier: MIT
//
// Opening, loading and attaching the embedded BPF object. Plain C++ with no
// Node-API in it, so it can run on a worker thread while the event loop goes
// on (the verifier takes tens of milliseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct exec_tracer_bpf;
struct bpf_link;

namespace exec_tracer {

enum class AttachMode { Auto, TpBtf, Tracepoint };

struct LoadOptions {
  uint32_t argv_limit = 8192;
  uint32_t ring_buffer_size = 1u << 21;
  uint64_t wakeup_bytes = 0;
  uint32_t context = 0;  // enum et_context bits
  bool read_env = false;  // the environment is opt-in
  uint32_t env_limit = 0;
  bool exits = true;      // exit records
  bool forks = false;     // fork records (tp_btf only)
  bool failed_execs = false;  // failed-exec records (tp_btf/sys_exit only)
  bool seed = false;      // read every live process once, after attaching
  AttachMode attach = AttachMode::Auto;
  // The filter in force from the first record on (empty: none); declared
  // in filter.h, held here by pointer so this header stays small.
  const struct Filter *filter = nullptr;
};

// A failure: the step that failed, a positive errno, and what libbpf printed.
struct LoadError {
  std::string operation;
  int err = 0;
  std::string message;
  std::string log;
};

// What a successful load hands over: the skeleton (maps, programs) and the
// attachments (exec, then exit and fork when asked for). Both are released
// by Release(), in the order that detaches first.
struct Loaded {
  static constexpr int kMaxLinks = 4;
  exec_tracer_bpf *skel = nullptr;
  bpf_link *links[kMaxLinks] = {};
  AttachMode kind = AttachMode::TpBtf;
  // With LoadOptions::seed: et_task_record after et_task_record, one per
  // live process, each followed by its argv and exe from /proc.
  std::string seed;
  // The tracer's own pid in the initial pid namespace: the pid records
  // and the filter's maps use. getpid() only where the two agree.
  uint32_t host_pid = 0;
  // The seq of the last filter applied (bpf/filter.bpf.h names rules by it).
  uint32_t filter_seq = 0;
  // The fork and exit programs and the filter's iterator, loaded later into
  // a second object sharing every map with `skel`, when a filter set while
  // running needs them and they were not loaded at start (filter.cc).
  exec_tracer_bpf *followers = nullptr;

  void Detach();
  void Release();
};

// Returns false and fills *error on failure; nothing stays loaded then.
bool Load(const LoadOptions &options, Loaded *out, LoadError *error);

// Routes libbpf's messages into a per-thread log while a load runs, so the
// error of one tracer carries its own verifier log. Called once per process.
void InstallLibbpfLogger();

}  // namespace exec_tracer
