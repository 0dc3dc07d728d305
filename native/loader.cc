// SPDX-License-Identifier: MIT
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"
#include "exec_tracer.skel.h"
#include "faults.h"
#include "filter.h"

namespace exec_tracer {
namespace {

// libbpf's print hook is process-wide; the log it feeds is per thread, so
// concurrent loads (several tracers, worker threads) keep their logs apart.
thread_local std::string *current_log = nullptr;
// The verifier log of a big program runs to megabytes; the tail is what
// explains a rejection, and an error object should stay small.
constexpr size_t kLogMax = 64 * 1024;

int LibbpfPrint(enum libbpf_print_level level, const char *format, va_list args) {
  if (current_log == nullptr || level == LIBBPF_DEBUG) return 0;
  // libbpf hands the whole verifier log over as one message: formatted into
  // a fixed line buffer it would keep the head and lose the tail that says
  // why the program was rejected. Measure first, then format it whole.
  va_list measure;
  va_copy(measure, args);
  int n = vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  if (n <= 0) return 0;
  std::string message(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(message.data(), message.size(), format, args);
  message.resize(static_cast<size_t>(n));
  current_log->append(message);
  if (current_log->size() > kLogMax) current_log->erase(0, current_log->size() - kLogMax);
  return 0;
}

struct LogScope {
  explicit LogScope(std::string *log) { current_log = log; }
  ~LogScope() { current_log = nullptr; }
};

bool Fail(LoadError *error, const char *operation, int err, std::string message) {
  error->operation = operation;
  error->err = err < 0 ? -err : err;
  error->message = std::move(message);
  return false;
}

bool TracefsEventExists() {
  // The same two places libbpf looks for the tracepoint's id.
  return access("/sys/kernel/tracing/events/sched/sched_process_exec/id", R_OK) == 0 ||
         access("/sys/kernel/debug/tracing/events/sched/sched_process_exec/id", R_OK) == 0;
}

// Reads a small /proc file whole (at most `limit` bytes); false if it cannot.
bool ReadProcFile(const std::string &path, size_t limit, std::string *out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buffer[4096];
  bool ok = true;
  while (out->size() < limit) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (out->size() > limit) out->resize(limit);
  return ok;
}

// The start time /proc/<pid>/stat shows (field 22, in clock ticks): the
// same task field as the iterator's start_boot_ns, so equal ticks mean the
// same process, and not a newer one that got its pid in between.
bool ProcStartTicks(uint32_t pid, unsigned long long *ticks) {
  std::string stat;
  if (!ReadProcFile("/proc/" + std::to_string(pid) + "/stat", 4096, &stat)) return false;
  size_t at = stat.rfind(')');  // comm may hold spaces and parentheses
  if (at == std::string::npos) return false;
  const char *p = stat.c_str() + at + 1;
  // Fields 3 (state) to 21 come before the start time.
  for (int field = 3; field <= 22; field++) {
    while (*p == ' ') p++;
    if (*p == '\0') return false;
    if (field == 22) {
      char *end = nullptr;
      *ticks = strtoull(p, &end, 10);
      return end != p;
    }
    while (*p != ' ' && *p != '\0') p++;
  }
  return false;
}

// Appends one seed record with its argv and exe, from /proc: the iterator
// cannot read another process's memory without sleeping, which 5.10 does not
// allow. Records follow each other unaligned (argv and exe have any length),
// so the header is completed here and copied in whole.
void AppendFromProc(et_task_record task, uint32_t argv_limit, long ticks_per_second, std::string *out) {
  std::string argv;
  char exe[ET_PATH_MAX];
  ssize_t exe_len = 0;
  unsigned long long ticks = 0;
  uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(ticks_per_second);
  if (!(task.flags & ET_TASK_KERNEL_THREAD) && ProcStartTicks(task.pid, &ticks) &&
      ticks == task.start_boot_ns / ns_per_tick) {
    std::string dir = "/proc/" + std::to_string(task.pid);
    if (!ReadProcFile(dir + "/cmdline", argv_limit, &argv)) argv.clear();
    exe_len = readlink((dir + "/exe").c_str(), exe, sizeof(exe) - 1);
    if (exe_len < 0) exe_len = 0;
    task.argv_len = static_cast<uint32_t>(argv.size());
    task.exe_len = static_cast<uint16_t>(exe_len);
    task.flags |= ET_TASK_FROM_PROC;
    task.hdr.size = static_cast<uint32_t>(sizeof(task) + argv.size() + static_cast<size_t>(exe_len));
  }
  out->append(reinterpret_cast<const char *>(&task), sizeof(task));
  out->append(argv);
  out->append(exe, static_cast<size_t>(exe_len));
}

// Whether this process is in the initial pid namespace, where getpid() is
// the host pid records carry. /proc/self names the reader in the /proc
// mount's own namespace: where it does not resolve (a /proc of another
// namespace, none at all), the answer is "no", and the kernel is asked.
// The link is read rather than stat()ed: stat() binds to GLIBC_2.33 when
// built on a newer glibc, above the prebuilds' floor (scripts/glibc-floor.cjs).
bool InInitialPidNamespace() {
  char link[64];
  ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
  if (n <= 0) return false;
  link[n] = '\0';
  return std::string(link) == "pid:[" + std::to_string(ET_INIT_PIDNS_INUM) + "]";
}

// The tracer's host pid from the kernel (bpf/self.bpf.h): the iterator runs
// in this thread's context and writes one et_self at the first task.
bool FindSelf(exec_tracer_bpf *skel, uint32_t *host_pid, LoadError *error) {
  bpf_link *link = OrFault<bpf_link *>(FaultPoint::Seed, nullptr,
                                      [&] { return bpf_program__attach_iter(skel->progs.find_self, nullptr); });
  if (link == nullptr) return Fail(error, "self", errno, "cannot attach the task iterator that finds the tracer's host pid");
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = errno;
    bpf_link__destroy(link);
    return Fail(error, "self", err, "cannot create the task iterator that finds the tracer's host pid");
  }
  et_self self = {};
  ssize_t n;
  // One record: a read of its size stops the iterator there.
  do n = read(fd, &self, sizeof(self));
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  bpf_link__destroy(link);
  if (err) return Fail(error, "self", err, "reading the task iterator that finds the tracer's host pid failed");
  if (n != static_cast<ssize_t>(sizeof(self)) || self.host_pid == 0)
    return Fail(error, "self", EIO, "the task iterator did not report the tracer's host pid");
  *host_pid = self.host_pid;
  return true;
}

// Runs the task iterator once and builds the seed from what it wrote.
bool ReadSeed(exec_tracer_bpf *skel, uint32_t argv_limit, std::string *seed, LoadError *error) {
  bpf_link *link = OrFault<bpf_link *>(FaultPoint::Seed, nullptr,
                                      [&] { return bpf_program__attach_iter(skel->progs.seed_tasks, nullptr); });
  if (link == nullptr) return Fail(error, "seed", errno, "cannot attach the task iterator (iter/task)");
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = errno;
    bpf_link__destroy(link);
    return Fail(error, "seed", err, "cannot create the task iterator");
  }
  std::string raw;
  std::string buffer(1 << 16, '\0');  // on the heap: this runs on a pool thread
  int err = 0;
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    raw.append(buffer.data(), static_cast<size_t>(n));
  }
  close(fd);
  bpf_link__destroy(link);
  if (err) return Fail(error, "seed", err, "reading the task iterator failed");

  long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) ticks_per_second = 100;
  seed->clear();
  seed->reserve(raw.size() * 2);
  for (size_t at = 0; at + sizeof(et_task_record) <= raw.size(); at += sizeof(et_task_record)) {
    et_task_record task;
    std::memcpy(&task, raw.data() + at, sizeof(task));
    AppendFromProc(task, argv_limit, ticks_per_second, seed);
  }
  return true;
}

// One attempt with one program kind. On failure the skeleton is destroyed.
bool TryLoad(const LoadOptions &options, AttachMode kind, Loaded *out, LoadError *error) {
  exec_tracer_bpf *skel = OrFault<exec_tracer_bpf *>(FaultPoint::Open, nullptr, exec_tracer_bpf__open);
  if (skel == nullptr) return Fail(error, "open", errno, "cannot open the embedded BPF object");

  skel->rodata->argv_limit = options.argv_limit;
  skel->rodata->wakeup_bytes = options.wakeup_bytes;
  skel->rodata->context = options.context;
  skel->rodata->read_env = options.read_env ? 1 : 0;
  skel->rodata->env_limit = options.read_env ? options.env_limit : 0;

  int ncpus = libbpf_num_possible_cpus();
  int err = ncpus < 0 ? ncpus : 0;
  // Each CPU looks at the ring's fill after writing this much (bpf/ring.bpf.h).
  if (!err) skel->rodata->fill_check_bytes = options.wakeup_bytes / (2 * static_cast<uint64_t>(ncpus));
  if (!err) err = bpf_map__set_max_entries(skel->maps.events, options.ring_buffer_size);
  if (!err) err = bpf_map__set_max_entries(skel->maps.scratch, ncpus);
  if (!err) err = bpf_map__set_max_entries(skel->maps.walk_space, ncpus);
  if (!err)
    err = bpf_map__set_value_size(skel->maps.scratch, ET_SCRATCH_SIZE(options.argv_limit, skel->rodata->env_limit));
  bool btf = kind == AttachMode::TpBtf;
  if (options.forks && !btf) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "attach", EOPNOTSUPP,
                "fork events need the BTF tracepoint (tp_btf/sched_process_fork): the classic "
                "tracepoint gives the child's pid alone, which is no identity");
  }
  if (options.failed_execs && !btf) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "attach", EOPNOTSUPP,
                "failed execs need the BTF tracepoint tp_btf/sys_exit (no tracepoint fires for an "
                "exec that fails, and fexit, LSM and kprobe programs may be refused)");
  }
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_exec_btf, btf);
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_exec_tp, !btf);
  // The fork and exit programs also run for a filter that follows
  // processes, writing no records unless asked for (emit_*). Loaded only
  // when something needs them: each costs start() its verification (the
  // filter's functions are verified again in every program that calls
  // them); a filter that needs them later loads them then (filter.cc).
  skel->rodata->emit_exits = options.exits ? 1 : 0;
  skel->rodata->emit_forks = options.forks ? 1 : 0;
  bool follow = options.filter != nullptr && options.filter->Follows();
  if (follow && !btf) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "filter", EOPNOTSUPP,
                "descendantsOf, excludeSelf and path prefixes follow processes through forks, "
                "which needs the BTF tracepoint tp_btf/sched_process_fork");
  }
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_exit_btf, btf && (options.exits || follow));
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_exit_tp, !btf && options.exits);
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_fork_btf, btf && (options.forks || follow));
  if (!err) err = bpf_program__set_autoload(skel->progs.seed_filter, btf && follow);
  if (!err) err = bpf_program__set_autoload(skel->progs.handle_failed_btf, options.failed_execs);
  if (!err) err = bpf_program__set_autoload(skel->progs.seed_tasks, options.seed);
  // In the initial pid namespace getpid() is the host pid: no program.
  bool initial_pidns = InInitialPidNamespace();
  if (!err) err = bpf_program__set_autoload(skel->progs.find_self, !initial_pidns);
  if (err) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "open", err, "cannot configure the BPF object");
  }

  if (!btf && !TracefsEventExists()) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "tracefs", ENOENT,
                "the classic tracepoint needs tracefs, which is not mounted "
                "(no /sys/kernel/tracing/events/sched/sched_process_exec/id)");
  }

  int fault = Fault(FaultPoint::Load);
  err = fault ? -fault : exec_tracer_bpf__load(skel);
  if (err) {
    exec_tracer_bpf__destroy(skel);
    return Fail(error, "load", err, "the kernel refused to load the BPF program");
  }

  // Before the filter: excludeSelf names the tracer by its host pid.
  out->host_pid = static_cast<uint32_t>(getpid());
  if (!initial_pidns && !FindSelf(skel, &out->host_pid, error)) {
    exec_tracer_bpf__destroy(skel);
    return false;
  }

  // The filter before any program runs: the first record is judged by it.
  out->skel = skel;
  out->kind = kind;
  if (options.filter != nullptr && !options.filter->Empty() &&
      !ApplyFilter(out, *options.filter, false, error)) {
    out->Detach();
    out->skel = nullptr;
    exec_tracer_bpf__destroy(skel);
    return false;
  }

  // The exit and fork programs first, the exec program last: once execs are
  // reported, so is the end of every process they start.
  bpf_program *programs[Loaded::kMaxLinks] = {
      !(options.exits || follow) ? nullptr : btf ? skel->progs.handle_exit_btf : skel->progs.handle_exit_tp,
      options.forks || follow ? skel->progs.handle_fork_btf : nullptr,
      options.failed_execs ? skel->progs.handle_failed_btf : nullptr,
      btf ? skel->progs.handle_exec_btf : skel->progs.handle_exec_tp,
  };
  for (int i = 0; i < Loaded::kMaxLinks; i++) {
    if (programs[i] == nullptr || out->links[i] != nullptr) continue;
    out->links[i] = OrFault<bpf_link *>(FaultPoint::Attach, nullptr, [&] { return bpf_program__attach(programs[i]); });
    if (out->links[i] == nullptr) {
      err = errno;
      // The program's name lives in the skeleton: read it before freeing.
      std::string message = std::string("cannot attach to ") + bpf_program__section_name(programs[i]);
      out->Detach();
      out->skel = nullptr;
      exec_tracer_bpf__destroy(skel);
      return Fail(error, "attach", err, std::move(message));
    }
  }

  // After every program is attached: what the seed misses, the ring has.
  if (options.seed && !ReadSeed(skel, options.argv_limit, &out->seed, error)) {
    out->Detach();
    out->skel = nullptr;
    exec_tracer_bpf__destroy(skel);
    return false;
  }
  return true;
}

}  // namespace

void InstallLibbpfLogger() {
  // A function-local static is initialised once even with workers loading
  // the addon concurrently; unlike std::call_once it needs no pthread_once,
  // which would raise the prebuild's glibc requirement to 2.34.
  static const bool installed = (libbpf_set_print(LibbpfPrint), true);
  (void)installed;
}

void Loaded::Detach() {
  // The exec program first (the last entry), so no exec is reported whose
  // exit could not be.
  for (int i = kMaxLinks - 1; i >= 0; i--) {
    if (links[i] != nullptr) bpf_link__destroy(links[i]);
    links[i] = nullptr;
  }
}

void Loaded::Release() {
  Detach();
  if (followers != nullptr) exec_tracer_bpf__destroy(followers);
  followers = nullptr;
  if (skel != nullptr) exec_tracer_bpf__destroy(skel);
  skel = nullptr;
}

bool Load(const LoadOptions &options, Loaded *out, LoadError *error) {
  LogScope scope(&error->log);

  // CO-RE needs the kernel's own BTF. Look for the usual file first (cheap),
  // and only then let libbpf search its other locations (parses megabytes).
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    struct btf *vmlinux = btf__load_vmlinux_btf();
    int err = libbpf_get_error(vmlinux);
    if (err)
      return Fail(error, "btf", err,
                  "no kernel BTF: /sys/kernel/btf/vmlinux is missing (needs CONFIG_DEBUG_INFO_BTF=y)");
    btf__free(vmlinux);
  }

  if (options.attach != AttachMode::Auto) return TryLoad(options, options.attach, out, error);

  if (TryLoad(options, AttachMode::TpBtf, out, error)) return true;
  // BTF-enabled tracepoints exist since 5.5 and the ring buffer since 5.8, so
  // this fallback matters only on kernels that backported one without the
  // other. Permission errors would fail the same way again: report the first.
  if (error->err == EPERM || error->err == EACCES || error->operation == "btf") return false;
  LoadError second;
  {
    LogScope inner(&second.log);
    if (TryLoad(options, AttachMode::Tracepoint, out, &second)) return true;
  }
  error->message += "; the classic tracepoint fallback failed too (" + second.operation + ": " +
                    std::strerror(second.err) + ")";
  if (!second.log.empty()) error->log += "\n--- classic tracepoint attempt ---\n" + second.log;
  return false;
}

}  // namespace exec_tracer
