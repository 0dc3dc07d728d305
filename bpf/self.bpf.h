/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Who the tracer is, as the kernel names it. Inside a pid namespace (a
 * container without hostPID) getpid() answers in that namespace, while
 * every record and the filter's maps use host pids: excludeSelf needs the
 * tracer's host pid, and only the kernel knows it. User space reads this
 * iterator (native/loader.cc) only when it is not in the initial pid
 * namespace; the iterator runs in the reading thread's context, so the
 * current task is the tracer.
 */
#ifndef EXEC_TRACER_SELF_BPF_H
#define EXEC_TRACER_SELF_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"

SEC("iter/task")
int find_self(struct bpf_iter__task *ctx)
{
	struct et_self self = {};

	/* One answer, written at the first task: the reader takes its size
	 * and closes the iterator. */
	if (!ctx->task)
		return 0;
	self.host_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_seq_write(ctx->meta->seq, &self, sizeof(self));
	return 0;
}

#endif /* EXEC_TRACER_SELF_BPF_H */
