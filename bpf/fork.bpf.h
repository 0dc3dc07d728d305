/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * What happens on fork (opt-in: forks are frequent): one record per new
 * process, none for a new thread. Only the BTF tracepoint hands over the
 * child; the classic one gives its pid alone, and a pid is not an identity.
 */
#ifndef EXEC_TRACER_FORK_BPF_H
#define EXEC_TRACER_FORK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "exec_tracer.h"
#include "ring.bpf.h"
#include "filter.bpf.h"

/* Whether fork records are written (set before load). The program also
 * runs, writing nothing, when only the filter needs it (bpf/filter.bpf.h). */
const volatile __u32 emit_forks = 1;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *real_parent = child->real_parent;
	struct et_fork_record r = {};

	if (child->pid != child->tgid)
		return 0; /* a thread */
	/* First: the child is judged as what its parent was to the filter. */
	filter_follow_fork(real_parent->tgid, real_parent->group_leader->start_boottime, child->tgid,
			   child->start_boottime);
	if (!emit_forks)
		return 0; /* attached for the filter alone */
	if (filter_drops_record(child, ET_FILTERED_FORK, NULL, false, true, false, false))
		return 0;
	r.hdr.type = ET_RECORD_FORK;
	r.hdr.fixed_size = sizeof(r);
	r.hdr.size = sizeof(r);
	r.boot_ns = bpf_ktime_get_boot_ns();
	r.start_boot_ns = child->start_boottime;
	r.parent_start_boot_ns = real_parent->group_leader->start_boottime;
	r.exec_seq = child->self_exec_id;
	r.pid = child->tgid;
	r.ppid = real_parent->tgid;
	bpf_probe_read_kernel(r.comm, sizeof(r.comm), child->comm);
	submit(&r, sizeof(r));
	return 0;
}

#endif /* EXEC_TRACER_FORK_BPF_H */
