/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Bench only (never built by default, never shipped): writes synthetic exec
 * records into a running tracer's own ring buffer, one per getppid(2) of
 * the load generator, so the tracer's real pump, batching, decoding and
 * emitting are measured at rates no exec storm on a small machine reaches.
 * The loader (synth-load.c) hands this program the tracer's ring and .bss
 * maps, so records are woken for exactly as the tracer's own program wakes
 * them (bpf/ring.bpf.h: an idle consumer is woken by the first record; otherwise
 * only past the ring's wakeup mark) and a full ring counts in its drops.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "exec_tracer.h"

/* Replaced by the tracer's maps (bpf_map__reuse_fd) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, 8); /* the tracer's .bss size, set by the loader */
} tracer_bss SEC(".maps");

const volatile __u32 target_tgid;
const volatile __u32 idle_offset;  /* offsetof(.bss, consumer_idle) */
const volatile __u32 drops_offset; /* offsetof(.bss, drops[0]) */
const volatile __u32 bss_size;
const volatile __u64 wakeup_bytes; /* the tracer's */
const volatile long getppid_nr;

__u64 written;
__u64 dropped;

/* filename "/synthetic", argv { "synthetic", "record" } */
#define FILENAME_LEN 10
#define ARGV_LEN 17
struct synth_record {
	struct et_exec_record rec;
	char payload[32];
};

SEC("tp_btf/sys_enter")
int BPF_PROG(synth, struct pt_regs *regs, long id)
{
	static const char payload[] = "/syntheticsynthetic\0record";
	struct synth_record *r;
	__u32 zero = 0;
	__u64 pid_tgid, flags;
	__u32 *idle;
	char *bss;

	if (id != getppid_nr)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) != target_tgid)
		return 0;
	bss = bpf_map_lookup_elem(&tracer_bss, &zero);
	if (!bss || idle_offset > bss_size - 4 || drops_offset > bss_size - 8)
		return 0;
	idle = (__u32 *)(bss + idle_offset);

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add((__u64 *)(bss + drops_offset), 1);
		dropped++;
		return 0;
	}
	__builtin_memset(&r->rec, 0, sizeof(r->rec));
	r->rec.hdr.type = ET_RECORD_EXEC;
	r->rec.hdr.fixed_size = sizeof(r->rec);
	r->rec.hdr.size = sizeof(*r);
	r->rec.boot_ns = bpf_ktime_get_boot_ns();
	r->rec.pid = pid_tgid >> 32;
	r->rec.tid = (__u32)pid_tgid;
	r->rec.ns_pid = pid_tgid >> 32;
	r->rec.argc = 2;
	r->rec.argv_size = ARGV_LEN;
	r->rec.argv_len = ARGV_LEN;
	r->rec.filename_len = FILENAME_LEN;
	r->rec.login_uid = 0xffffffff;
	r->rec.session_id = 0xffffffff;
	r->rec.exec_seq = 1;
	__builtin_memcpy(r->rec.comm, "synth", 6);
	__builtin_memcpy(r->payload, payload, sizeof(payload));

	if (*idle)
		flags = BPF_RB_FORCE_WAKEUP;
	else if (!wakeup_bytes)
		flags = 0;
	else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + sizeof(*r) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	else
		flags = BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(r, flags);
	if (*idle)
		*idle = 0;
	written++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
