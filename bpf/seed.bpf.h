/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The process table's seed: one record per live process, read once at
 * start() through a task iterator. Its identities come from the same task
 * fields the exec, exit and fork programs read, so a seeded process and a
 * later event about it carry the same processId to the nanosecond (a /proc
 * seed only knows start times in clock ticks).
 *
 * User space attaches the exit and fork programs before it runs this: a
 * process that ends after the iterator saw it has its exit in the ring, and
 * one the iterator missed (it ended first) is not in the seed at all.
 */
#ifndef EXEC_TRACER_SEED_BPF_H
#define EXEC_TRACER_SEED_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "exec_tracer.h"

/* task->flags: a kernel thread (include/linux/sched.h). */
#define ET_PF_KTHREAD 0x00200000

/* Set once init was written (see seed_tasks()). */
__u32 seed_init_written;

static __always_inline void seed_one(struct seq_file *seq, struct task_struct *task)
{
	struct task_struct *parent = task->real_parent;
	struct et_task_record r;

	__builtin_memset(&r, 0, sizeof(r));
	r.hdr.type = ET_RECORD_TASK;
	r.hdr.fixed_size = sizeof(r);
	r.hdr.size = sizeof(r);
	r.start_boot_ns = task->start_boottime;
	r.parent_start_boot_ns = parent->group_leader->start_boottime;
	r.exec_seq = task->self_exec_id;
	r.parent_exec_seq = parent->self_exec_id;
	r.pid = task->tgid;
	r.ppid = parent->tgid;
	r.uid = task->real_cred->uid.val;
	r.flags = (task->flags & ET_PF_KTHREAD) ? ET_TASK_KERNEL_THREAD : 0;
	bpf_probe_read_kernel(r.comm, sizeof(r.comm), task->comm);
	bpf_seq_write(seq, &r, sizeof(r));
}

SEC("iter/task")
int seed_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct task_struct *parent;

	/* The iterator visits every thread: one record per process, from its
	 * leader (a leader that exited first still stands for its group). */
	if (!task || task->pid != task->tgid)
		return 0;
	/* A group with no live thread is a zombie: it ended before start(). */
	if (task->signal->live.counter == 0)
		return 0;
	/* On this project's 6.18 machines the iterator starts at pid 2 and
	 * never shows init: write it from the first child that names it (a
	 * second record for it, where the iterator does show it, is harmless:
	 * the same identity). */
	parent = task->real_parent->group_leader;
	if (parent->tgid == 1 && !seed_init_written) {
		seed_init_written = 1;
		seed_one(ctx->meta->seq, parent);
	}
	seed_one(ctx->meta->seq, task);
	return 0;
}

#endif /* EXEC_TRACER_SEED_BPF_H */
