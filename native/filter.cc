// SPDX-License-Identifier: MIT
#include "filter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"
#include "exec_tracer.skel.h"
#include "faults.h"

namespace exec_tracer {
namespace {

bool Fail(LoadError *error, int err, std::string message) {
  error->operation = "filter";
  error->err = err < 0 ? -err : err;
  error->message = std::move(message);
  return false;
}

constexpr uint32_t Bit(int kind) { return 1u << kind; }

// Deletes every key of `map` whose first byte (its generation; for the LPM
// trie, the byte after prefixlen) is `gen`. Keys are collected first: a
// deletion in the middle of get_next_key would restart the walk.
bool ClearGeneration(int fd, size_t key_size, size_t gen_at, uint8_t gen, LoadError *error, const char *what) {
  std::vector<std::string> doomed;
  std::string key(key_size, '\0'), next(key_size, '\0');
  const void *previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    if (static_cast<uint8_t>(next[gen_at]) == gen) doomed.push_back(next);
    key = next;
    previous = key.data();
  }
  if (errno != ENOENT) return Fail(error, errno, std::string("cannot list the filter's ") + what);
  for (const std::string &k : doomed) {
    if (bpf_map_delete_elem(fd, k.data()) != 0 && errno != ENOENT)
      return Fail(error, errno, std::string("cannot clear the filter's ") + what);
  }
  return true;
}

bool ClearAll(int fd, size_t key_size, LoadError *error) {
  std::string key(key_size, '\0');
  while (bpf_map_get_next_key(fd, nullptr, key.data()) == 0) {
    if (bpf_map_delete_elem(fd, key.data()) != 0 && errno != ENOENT)
      return Fail(error, errno, "cannot clear the filter's roots");
  }
  // ENOENT is the end of the map; anything else would leave old roots in.
  if (errno != ENOENT) return Fail(error, errno, "cannot list the filter's roots");
  return true;
}

bool Insert(int fd, const void *key, const void *value, LoadError *error, const char *what) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) == 0) return true;
  int err = errno;
  return Fail(error, err,
              std::string("cannot store the filter's ") + what +
                  (err == E2BIG || err == ENOMEM ? " (more than the kernel map holds)" : ""));
}

// Runs the seeding iterator once: every live process below a root gets
// marked for the generation being filled.
bool SeedDescent(bpf_program *program, LoadError *error) {
  bpf_link *link = OrFault<bpf_link *>(FaultPoint::Seed, nullptr, [&] { return bpf_program__attach_iter(program, nullptr); });
  if (link == nullptr) return Fail(error, errno, "cannot attach the filter's task iterator (iter/task)");
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = errno;
    bpf_link__destroy(link);
    return Fail(error, err, "cannot create the filter's task iterator");
  }
  char sink[256];  // it writes nothing: reading runs it
  int err = 0;
  for (;;) {
    ssize_t n = read(fd, sink, sizeof(sink));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
  }
  close(fd);
  bpf_link__destroy(link);
  return err == 0 || Fail(error, err, "running the filter's task iterator failed");
}

bool IsLoaded(bpf_program *program) { return program != nullptr && bpf_program__fd(program) >= 0; }

// Loads the fork and exit programs and the seeding iterator into a second
// object whose every map is the first one's (the same ring, counters,
// rules and tracked processes), for a filter that follows processes when
// the tracer was started without one. Its read-only data is the first
// object's frozen map, so the programs see the same knobs.
bool LoadFollowers(Loaded *loaded, LoadError *error) {
  exec_tracer_bpf *followers = OrFault<exec_tracer_bpf *>(FaultPoint::Open, nullptr, exec_tracer_bpf__open);
  if (followers == nullptr) return Fail(error, errno, "cannot open the BPF object again for the filter");
  int err = 0;
  bpf_map *map;
  bpf_object__for_each_map(map, followers->obj) {
    bpf_map *same = bpf_object__find_map_by_name(loaded->skel->obj, bpf_map__name(map));
    err = same == nullptr ? -ENOENT : bpf_map__reuse_fd(map, bpf_map__fd(same));
    if (err) break;
  }
  bpf_program *program;
  bpf_object__for_each_program(program, followers->obj) {
    if (err) break;
    err = bpf_program__set_autoload(program, program == followers->progs.handle_exit_btf ||
                                                 program == followers->progs.handle_fork_btf ||
                                                 program == followers->progs.seed_filter);
  }
  if (!err) err = -Fault(FaultPoint::Load);
  if (!err) err = exec_tracer_bpf__load(followers);
  if (err) {
    exec_tracer_bpf__destroy(followers);
    return Fail(error, err, "the kernel refused the programs that follow processes for the filter");
  }
  loaded->followers = followers;
  return true;
}

// The fork and exit programs, attached (writing nothing unless asked for
// records) so the kernel follows processes.
bool AttachFollowers(Loaded *loaded, LoadError *error) {
  if (loaded->kind != AttachMode::TpBtf)
    return Fail(error, EOPNOTSUPP,
                "descendantsOf, excludeSelf and path prefixes follow processes through forks, "
                "which needs the BTF tracepoint tp_btf/sched_process_fork");
  exec_tracer_bpf *skel = loaded->skel;
  bool needed = (loaded->links[0] == nullptr && !IsLoaded(skel->progs.handle_exit_btf)) ||
                (loaded->links[1] == nullptr && !IsLoaded(skel->progs.handle_fork_btf)) ||
                !IsLoaded(skel->progs.seed_filter);
  if (needed && loaded->followers == nullptr && !LoadFollowers(loaded, error)) return false;
  bpf_program *exit = IsLoaded(skel->progs.handle_exit_btf) ? skel->progs.handle_exit_btf
                                                           : loaded->followers->progs.handle_exit_btf;
  bpf_program *fork = IsLoaded(skel->progs.handle_fork_btf) ? skel->progs.handle_fork_btf
                                                           : loaded->followers->progs.handle_fork_btf;
  bpf_program *programs[2] = {exit, fork};
  for (int i = 0; i < 2; i++) {
    if (loaded->links[i] != nullptr) continue;
    loaded->links[i] = OrFault<bpf_link *>(FaultPoint::Attach, nullptr, [&] { return bpf_program__attach(programs[i]); });
    if (loaded->links[i] == nullptr)
      return Fail(error, errno, std::string("cannot attach to ") + bpf_program__section_name(programs[i]));
  }
  return true;
}

}  // namespace

bool Filter::Follows() const {
  for (const FilterEntry &e : entries) {
    if (e.kind == ET_FILTER_DESCENDANT || e.kind == ET_FILTER_FILENAME_PREFIX || e.kind == ET_FILTER_EXE_PREFIX)
      return true;
  }
  return false;
}

bool ApplyFilter(Loaded *loaded, const Filter &filter, bool attached, LoadError *error) {
  exec_tracer_bpf *skel = loaded->skel;
  auto *bss = skel->bss;
  uint8_t gen = (__atomic_load_n(&bss->filter_gen, __ATOMIC_RELAXED) & 1) ^ 1;

  // A program that read filter_gen before the last flip may still judge by
  // this generation. Tracepoint programs run inside an RCU read-side
  // section, so one grace period (membarrier's global command waits one)
  // sees them all finished.
  if (attached && syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
    return Fail(error, errno, "cannot wait for running programs to finish (membarrier)");

  if (filter.Follows() && !AttachFollowers(loaded, error)) return false;

  int ids = bpf_map__fd(skel->maps.filter_ids);
  int comms = bpf_map__fd(skel->maps.filter_comms);
  int prefixes = bpf_map__fd(skel->maps.filter_prefixes);
  int roots = bpf_map__fd(skel->maps.filter_roots);
  if (!ClearGeneration(ids, sizeof(et_filter_id_key), 0, gen, error, "ids") ||
      !ClearGeneration(comms, sizeof(et_filter_comm_key), 0, gen, error, "task names") ||
      !ClearGeneration(prefixes, sizeof(et_filter_prefix_key), offsetof(et_filter_prefix_key, gen), gen, error,
                       "path prefixes") ||
      !ClearAll(roots, sizeof(__u32), error))
    return false;

  et_filter_rule rule = {};
  rule.flags = filter.flags;
  rule.seq = ++loaded->filter_seq;
  // Lists short enough go inline in the rule (bpf/exec_tracer.h says why).
  unsigned listed[2][ET_FILTER_DESCENDANT + 1] = {};
  for (const FilterEntry &e : filter.entries) {
    if (e.side > ET_FILTER_EXCLUDE || e.kind < ET_FILTER_UID || e.kind > ET_FILTER_DESCENDANT)
      return Fail(error, EINVAL, "a filter entry has an unknown kind or side");
    listed[e.side][e.kind]++;
  }
  for (int side = 0; side < 2; side++) {
    for (int kind = ET_FILTER_UID; kind <= ET_FILTER_DESCENDANT; kind++) {
      bool inlinable = kind <= ET_FILTER_INLINE_IDS || kind == ET_FILTER_COMM;
      if (!inlinable || listed[side][kind] > ET_FILTER_INLINE) rule.mapped |= 1u << (kind + 16 * side);
    }
  }
  bool descent = false;
  const uint8_t one = 1;
  for (const FilterEntry &e : filter.entries) {
    (e.side == ET_FILTER_INCLUDE ? rule.include : rule.exclude) |= Bit(e.kind);
    bool in_map = rule.mapped & (1u << (e.kind + 16 * e.side));
    switch (e.kind) {
      case ET_FILTER_COMM: {
        et_filter_comm_key key = {};
        key.gen = gen;
        key.side = e.side;
        if (e.bytes.size() >= sizeof(key.comm)) return Fail(error, EINVAL, "a task name is too long");
        std::memcpy(key.comm, e.bytes.data(), e.bytes.size());
        if (!in_map) {
          uint8_t &n = rule.comm_count[e.side];
          std::memcpy(rule.comms[e.side][n++], key.comm, sizeof(key.comm));
        } else if (!Insert(comms, &key, &one, error, "task names")) {
          return false;
        }
        break;
      }
      case ET_FILTER_FILENAME_PREFIX:
      case ET_FILTER_EXE_PREFIX: {
        et_filter_prefix_key key = {};
        if (e.bytes.size() > ET_FILTER_PREFIX_MAX) return Fail(error, EINVAL, "a path prefix is too long");
        key.prefixlen = static_cast<__u32>((3 + e.bytes.size()) * 8);
        key.gen = gen;
        key.side = e.side;
        key.kind = e.kind;
        std::memcpy(key.path, e.bytes.data(), e.bytes.size());
        if (!Insert(prefixes, &key, &one, error, "path prefixes")) return false;
        break;
      }
      case ET_FILTER_DESCENDANT: {
        // Pid 0 is the tracer itself (excludeSelf): by its host pid, which
        // only the kernel knows inside a pid namespace.
        __u32 pid = e.value == 0 ? loaded->host_pid : static_cast<__u32>(e.value);
        et_filter_root root = {};
        // A pid listed on both sides (descendantsOf and excludeSelf) adds up.
        if (bpf_map_lookup_elem(roots, &pid, &root) != 0 && errno != ENOENT)
          return Fail(error, errno, "cannot read the filter's roots");
        root.start_boot_ns = e.start_boot_ns;
        root.sides |= static_cast<__u8>(1u << e.side);
        if (!Insert(roots, &pid, &root, error, "roots")) return false;
        descent = true;
        break;
      }
      default: {
        if (!in_map) {
          uint8_t &n = rule.id_count[e.side][e.kind - 1];
          rule.ids[e.side][e.kind - 1][n++] = static_cast<__u32>(e.value);
          break;
        }
        et_filter_id_key key = {};
        key.gen = gen;
        key.side = e.side;
        key.kind = e.kind;
        key.value = e.value;
        if (!Insert(ids, &key, &one, error, "ids")) return false;
      }
    }
  }

  // The rule first: the iterator reads its seq, and forks from now on copy
  // what it marks.
  bss->filter_rules[gen] = rule;
  if (filter.Follows()) __atomic_store_n(&bss->filter_tracking, 1, __ATOMIC_SEQ_CST);
  if (descent) {
    __atomic_store_n(&bss->filter_seed_gen, gen, __ATOMIC_SEQ_CST);
    bpf_program *seeder = IsLoaded(skel->progs.seed_filter) ? skel->progs.seed_filter
                                                           : loaded->followers->progs.seed_filter;
    if (!SeedDescent(seeder, error)) return false;
  }
  // In force: every record from here on is judged by this generation.
  __atomic_store_n(&bss->filter_gen, gen, __ATOMIC_SEQ_CST);
  return true;
}

void ReadFiltered(const Loaded &loaded, uint64_t out[5]) {
  for (int i = 0; i < 5; i++) out[i] = 0;
  if (loaded.skel == nullptr) return;
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return;
  // A per-CPU map: one lookup returns every CPU's copy.
  std::vector<et_filter_counts> counts(static_cast<size_t>(ncpus));
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(loaded.skel->maps.filter_counts), &zero, counts.data()) != 0) return;
  for (const et_filter_counts &c : counts) {
    for (int slot = 0; slot < ET_FILTERED_COUNT; slot++) out[slot] += c.filtered[slot];
    out[4] += c.misses;
  }
}

}  // namespace exec_tracer
