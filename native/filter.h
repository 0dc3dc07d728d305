// SPDX-License-Identifier: MIT
//
// The in-kernel filter (bpf/filter.bpf.h), as lib/filter.ts compiles it: the
// entries of one filter, written into the generation not in force and then
// put in force with one store. Plain C++ with no Node-API in it: the first
// filter is applied on the loading thread, later ones on the event loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loader.h"

namespace exec_tracer {

struct FilterEntry {
  uint8_t kind = 0;  // enum et_filter_kind
  uint8_t side = 0;  // enum et_filter_side
  uint64_t value = 0;  // an id, a cgroup id, or a root's pid (0: the tracer's host pid)
  std::string bytes;   // a task name or a path prefix
  uint64_t start_boot_ns = 0;  // a root's start (0: whichever process has the pid)
};

struct Filter {
  uint32_t flags = 0;  // enum et_filter_flags
  std::vector<FilterEntry> entries;

  bool Empty() const { return flags == 0 && entries.empty(); }
  // Whether the kernel must follow processes (descent, or prefixes judged
  // at fork and exit by the last exec): the fork and exit programs run.
  bool Follows() const;
};

// Puts `filter` in force on a loaded object. `attached`: programs may be
// running (then the generation being rewritten is first waited out).
// Attaches the fork and exit programs when the filter follows processes
// and they are not attached yet. On failure the filter in force is left.
bool ApplyFilter(Loaded *loaded, const Filter &filter, bool attached, LoadError *error);

// The records the filter dropped, by enum et_filtered_slot, then the
// processes it could not remember (its map was full).
void ReadFiltered(const Loaded &loaded, uint64_t out[5]);

}  // namespace exec_tracer
