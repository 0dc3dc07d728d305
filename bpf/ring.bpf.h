/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The one ring buffer every record goes through, in the order the kernel
 * wrote them, and the rules for waking the consumer. Included once, by
 * exec.bpf.h and by each program that writes records: it defines the map and
 * the counters user space reads.
 */
#ifndef EXEC_TRACER_RING_BPF_H
#define EXEC_TRACER_RING_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "exec_tracer.h"
#include "bounds.h"

/* Ring fill (bytes) above which a record forces a wakeup; below it the
 * consumer's timer drains. 0: the kernel's default wakeup per record. */
const volatile __u64 wakeup_bytes = 0;
/* Bytes a CPU writes between two looks at the ring's fill (see submit()). */
const volatile __u64 fill_check_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21); /* resized by user space before load */
} events SEC(".maps");

/*
 * Shared with user space through the mmapped .bss, so reading them costs no
 * syscall. drops: records that could not be written to the ring (never
 * dropped silently), one slot per CPU so CPUs do not share a counter.
 * consumer_idle: set by user space when it found the ring empty and stopped
 * its drain timer; the next record must wake it.
 */
__u64 drops[ET_DROP_SLOTS];
__u32 consumer_idle;

/* Bytes each CPU wrote since it last looked at the fill: one cache line
 * (8 counters' room) per slot, so CPUs do not bounce each other's counters. */
#define ET_LINE_U64S 8
__u64 unchecked_bytes[ET_DROP_SLOTS * ET_LINE_U64S];

static __always_inline void count_drop(void)
{
	/* Atomic: slots wrap past ET_DROP_SLOTS CPUs, so a slot may be shared. */
	__sync_fetch_and_add(&drops[mask_bits(bpf_get_smp_processor_id(), ET_DROP_SLOTS - 1)], 1);
}

/*
 * Wakes a consumer that went idle. The ring's commit is an xchg (a full
 * barrier) and user space sets consumer_idle, fences, then drains again: of
 * that record and that flag, at least one side sees the other's write, so a
 * record can never wait for a consumer that is not coming.
 */
static __always_inline void wake_idle_consumer(__u64 flags)
{
	struct et_record_header wake = {
		.type = ET_RECORD_WAKEUP,
		.fixed_size = sizeof(wake),
		.size = sizeof(wake),
	};

	if (!consumer_idle)
		return;
	consumer_idle = 0;
	if (!(flags & BPF_RB_FORCE_WAKEUP) &&
	    bpf_ringbuf_output(&events, &wake, sizeof(wake), BPF_RB_FORCE_WAKEUP))
		count_drop();
}

/*
 * Whether the ring is past wakeup_bytes. Asking the ring (its consumer
 * position, written by user space after every record) cost 1.5 µs per record
 * on this project's VM, a third of the exec program: so each CPU looks only
 * after writing fill_check_bytes since its last look. User space sets that to
 * wakeup_bytes / (2 × CPUs), so all CPUs together write at most half of
 * wakeup_bytes (plus a record each) past the mark before one of them sees it;
 * a ring too small for that has a check as small as a record: every record
 * looks.
 */
static __always_inline bool ring_past_wakeup_mark(__u64 size)
{
	__u64 *mine = &unchecked_bytes[mask_bits(bpf_get_smp_processor_id(), ET_DROP_SLOTS - 1) * ET_LINE_U64S];
	__u64 pending = *mine + size;

	if (pending < fill_check_bytes) {
		*mine = pending;
		return false;
	}
	*mine = 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes;
}

/* Writes one finished record to the ring, waking the consumer as the rules say. */
static __always_inline void submit(void *record, __u64 size)
{
	__u64 flags;

	if (consumer_idle)
		flags = BPF_RB_FORCE_WAKEUP; /* the first record after a quiet spell */
	else if (!wakeup_bytes)
		flags = 0;
	else if (ring_past_wakeup_mark(size))
		flags = BPF_RB_FORCE_WAKEUP;
	else
		flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, record, size, flags))
		count_drop();
	wake_idle_consumer(flags);
}

#endif /* EXEC_TRACER_RING_BPF_H */
