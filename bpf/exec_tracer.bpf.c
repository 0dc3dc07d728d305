// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/*
 * The one compilation unit: the kernel side of exec-tracer, one BPF object
 * with every program, map and knob. Each *.bpf.h file below defines
 * programs or maps and includes what it needs; the records they write are
 * laid out in exec_tracer.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "exec_tracer.h"
#include "exec.bpf.h"
#include "failed.bpf.h"
#include "exit.bpf.h"
#include "fork.bpf.h"
#include "seed.bpf.h"
#include "self.bpf.h"

/* Every offset into a record stays below what clamp_offset() masks with. */
_Static_assert(ET_FILENAME_MAX + ET_ARGV_LIMIT_MAX + ET_CONTEXT_MAX + ET_ENV_LIMIT_MAX < (1 << 22),
	       "record offsets exceed 2^22");

/* Never read or written: it makes clang emit struct et_layout, and with it
 * every record and enum user space reads, into the object's BTF. */
struct et_layout *et_layout_types;

/* The probe_read helpers are GPL-only; dual licensing keeps them available. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";
