/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The one contract between the kernel program and everything above it.
 *
 * Every record in the ring buffer starts with et_record_header. `size` is the
 * whole record in bytes (header included); `fixed_size` is where the variable
 * part begins, so a newer kernel object may append fixed fields without
 * breaking an older decoder. A new kind of record gets a new `type`.
 *
 * The TypeScript decoder mirrors these offsets; a test compares them with the
 * offsets the addon exports (native/layout.cc), which come from offsetof() on
 * this very header.
 */
#ifndef EXEC_TRACER_H
#define EXEC_TRACER_H

#define ET_COMM_LEN 16
/* The kernel's PATH_MAX: bprm->filename is never longer (it includes the NUL). */
#define ET_FILENAME_MAX 4096
/* Upper bound for the argv byte limit knob; the scratch map is sized to the
 * chosen limit at load time, so this only bounds what may be asked for. */
#define ET_ARGV_LIMIT_MAX (1u << 20)

/* Slots of the drop counter (indexed by CPU, wrapping): bounds its .bss size. */
#define ET_DROP_SLOTS 256

enum et_record_type {
	ET_RECORD_EXEC = 1,
	/* Header only: written to wake an idle consumer; never reaches JS. */
	ET_RECORD_WAKEUP = 2,
};

enum et_exec_flags {
	/* argv held more bytes than the limit; argv_size has the original length */
	ET_EXEC_ARGV_TRUNCATED = 1 << 0,
	/* the argv range of the new mm could not be read (argv_len is 0) */
	ET_EXEC_ARGV_FAULT = 1 << 1,
	/* bprm->filename could not be read (filename_len is 0) */
	ET_EXEC_FILENAME_FAULT = 1 << 2,
	/* argc was not available (classic tracepoint); argc counts stored args */
	ET_EXEC_ARGC_UNKNOWN = 1 << 3,
};

/* How the program was attached, reported back to user space. */
enum et_attach_kind {
	ET_ATTACH_TP_BTF = 1,
	ET_ATTACH_TRACEPOINT = 2,
};

struct et_record_header {
	__u16 type;       /* enum et_record_type */
	__u16 fixed_size; /* bytes before the variable part */
	__u32 size;       /* whole record, header included */
};

struct et_exec_record {
	struct et_record_header hdr;
	__u64 boot_ns;              /* bpf_ktime_get_boot_ns() at the exec */
	__u64 start_boot_ns;        /* task start time (boot clock) of the process */
	__u64 parent_start_boot_ns; /* the same for its real parent */
	__u64 cgroup_id;            /* cgroup v2 id of the process */
	__u32 pid;                  /* tgid, as the host (initial pid ns) sees it */
	__u32 tid;                  /* the thread that called exec (differs from pid
	                               when a non-leader thread execs) */
	__u32 ppid;                 /* real parent's tgid */
	__u32 uid;                  /* real uid after the exec */
	__u32 gid;                  /* real gid after the exec */
	__u32 ns_pid;               /* pid inside the process's own pid namespace */
	__u32 argc;                 /* number of arguments passed to exec */
	__u32 argv_size;            /* original argv bytes (arg_end - arg_start) */
	__u32 argv_len;             /* argv bytes stored in this record */
	__u16 filename_len;         /* filename bytes stored (no NUL) */
	__u16 flags;                /* enum et_exec_flags */
	char comm[ET_COMM_LEN];     /* task comm after the exec, NUL padded */
	/* then: filename_len bytes of bprm->filename, then argv_len bytes of argv
	 * exactly as in the new process's memory (each argument NUL-terminated;
	 * the last one is cut short when ET_EXEC_ARGV_TRUNCATED is set). */
};

#endif /* EXEC_TRACER_H */
