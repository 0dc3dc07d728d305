/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * What happens on exit: one record when a process (thread group) ends, not
 * one per thread. sched_process_exit fires for every thread, after that
 * thread took itself off the group's count of live threads
 * (signal->live). The thread that sees the count at 0 is one of the last:
 * when several threads end at once (exit_group kills them all), more than
 * one can see 0, so the first of them to claim the process in `exited`
 * writes the record and the others write nothing.
 */
#ifndef EXEC_TRACER_EXIT_BPF_H
#define EXEC_TRACER_EXIT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "ring.bpf.h"
#include "task.h"
#include "filter.bpf.h"

/* signal->flags: the group is exiting as one (exit_group, a fatal signal). */
#define ET_SIGNAL_GROUP_EXIT 0x00000004

/* Whether exit records are written (set before load). The program also
 * runs, writing nothing, when only the filter needs it (bpf/filter.bpf.h). */
const volatile __u32 emit_exits = 1;

struct exit_key {
	__u32 pid;
	__u32 pad;
	__u64 start_boot_ns;
};

/*
 * Processes whose exit was written. An LRU map: entries are never removed,
 * the oldest make room. A duplicate can only come within the microseconds
 * in which the group's last threads end, long before 16,384 other processes
 * could have ended and pushed its entry out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct exit_key);
	__type(value, __u8);
} exited SEC(".maps");

static __always_inline int emit_exit(struct task_struct *task, const bool direct)
{
	struct signal_struct *signal = KREAD(direct, task, signal);
	struct task_struct *leader, *parent;
	struct et_exit_record r;
	bool dropped;
	struct exit_key key = {};
	__u8 claimed = 1;

	/* First, and alone: every thread but a group's last stops here. */
	if (KREAD(direct, signal, live.counter) != 0)
		return 0; /* other threads of the group still run */
	leader = KREAD(direct, task, group_leader);
	parent = KREAD(direct, task, real_parent);
	__builtin_memset(&r, 0, sizeof(r));
	key.pid = KREAD(direct, task, tgid);
	key.start_boot_ns = KREAD(direct, leader, start_boottime);
	if (!emit_exits) {
		/* Attached for the filter alone. */
		filter_forget(key.pid);
		return 0;
	}
	if (bpf_map_update_elem(&exited, &key, &claimed, BPF_NOEXIST))
		return 0; /* another of its last threads wrote it */
	dropped = filter_drops_record(task, ET_FILTERED_EXIT, NULL, false, direct, true, false);
	/* After the judgement, which may read what the filter remembers of it. */
	filter_forget(key.pid);
	if (dropped)
		return 0;

	r.hdr.type = ET_RECORD_EXIT;
	r.hdr.fixed_size = sizeof(r);
	r.hdr.size = sizeof(r);
	r.boot_ns = bpf_ktime_get_boot_ns();
	r.start_boot_ns = key.start_boot_ns;
	r.exec_seq = KREAD(direct, task, self_exec_id);
	r.pid = key.pid;
	r.tid = KREAD(direct, task, pid);
	r.ppid = KREAD(direct, parent, tgid);
	/* What wait(2) will report (kernel/exit.c, wait_task_zombie): the
	 * group's code when it exited as one, else the leader's own. */
	if (KREAD(direct, signal, flags) & ET_SIGNAL_GROUP_EXIT)
		r.status = KREAD(direct, signal, group_exit_code);
	else
		r.status = KREAD(direct, leader, exit_code);
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	submit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_btf, struct task_struct *p)
{
	return emit_exit(p, true);
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit_tp(void *ctx)
{
	return emit_exit((struct task_struct *)bpf_get_current_task(), false);
}

#endif /* EXEC_TRACER_EXIT_BPF_H */
