/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The one contract between the kernel program and everything above it.
 *
 * Every record in the ring buffer starts with et_record_header. `size` is the
 * whole record in bytes (header included); `fixed_size` is where the variable
 * part begins, so a newer kernel object may append fixed fields without
 * breaking an older decoder. A new kind of record gets a new `type`.
 *
 * Nothing else writes these offsets down. The build reads them, and every
 * constant user space needs, from the compiled object's BTF
 * (scripts/btf-layout.cjs writes lib/records/layout.generated.ts), as
 * cilium/ebpf's bpf2go does, and test/unit/layout.test.ts compares what it
 * read with what the host compiler makes of this header. So a value user
 * space reads is an enumerator, not a macro (macros never reach BTF), and a
 * type it reads is named in struct et_layout, at the end.
 */
#ifndef EXEC_TRACER_H
#define EXEC_TRACER_H

#define ET_COMM_LEN 16

/* Sizes and limits user space reads too (so enumerators, see above). */
enum et_limits {
	/*
	 * Bytes kept of the path exec was given, with its NUL. A path passed to
	 * exec has at most PATH_MAX (4096) bytes with its NUL (getname() refuses
	 * longer), but for execveat(dirfd, relative path) bprm->filename is the
	 * kernel's "/dev/fd/<dirfd>/<path>" (fs/exec.c, alloc_bprm()): up to
	 * 8 + 10 + 1 = 19 bytes longer. This holds any such name whole. A failed
	 * exec's path is read as the caller passed it, which may be longer (the
	 * kernel refused it with ENAMETOOLONG): that is cut and flagged.
	 */
	ET_FILENAME_MAX = 4096 + 32,
	/* Upper bound for the argv byte limit knob; the scratch map is sized to
	 * the chosen limit at load time, so this only bounds what may be asked for. */
	ET_ARGV_LIMIT_MAX = 1 << 20,
	/* Upper bound for the environment byte limit knob, as for argv. */
	ET_ENV_LIMIT_MAX = 1 << 20,
	/* The longest path stored for exe, interpreter and cwd, with its NUL (PATH_MAX). */
	ET_PATH_MAX = 4096,
	/* Steps of a path walk (components plus mount crossings): deeper is cut
	 * and flagged. Bounded by what the 5.10 verifier accepts in one program. */
	ET_PATH_DEPTH = 64,
	/* Levels of the cgroup tree a cgroup path keeps: deeper is cut and flagged. */
	ET_CGROUP_DEPTH = 32,
};

/* Bytes a record may hold after argv: four paths (exe, interpreter, cwd,
 * cgroup), each without its NUL. */
#define ET_CONTEXT_MAX (4 * (ET_PATH_MAX - 1))
/* The scratch slot: the largest record, plus the NUL a string read may
 * write past the last path. */
#define ET_SCRATCH_SIZE(argv_limit, env_limit)                                  \
	(sizeof(struct et_exec_record) + (ET_FILENAME_MAX - 1) + (argv_limit) + \
	 ET_CONTEXT_MAX + (env_limit) + 1)

/* Slots of the drop counter (indexed by CPU, wrapping): bounds its .bss size. */
#define ET_DROP_SLOTS 256

enum et_record_type {
	ET_RECORD_EXEC = 1,
	/* Header only: written to wake an idle consumer; never reaches JS. */
	ET_RECORD_WAKEUP = 2,
	/* A process (thread group) ended: struct et_exit_record */
	ET_RECORD_EXIT = 3,
	/* A process was forked (not a thread): struct et_fork_record */
	ET_RECORD_FORK = 4,
	/* A live process at start(), from the task iterator: struct et_task_record */
	ET_RECORD_TASK = 5,
	/* An exec that returned an error: struct et_exec_failed_record */
	ET_RECORD_EXEC_FAILED = 6,
};

enum et_task_flags {
	/* a kernel thread (PF_KTHREAD): no memory, no argv, no exe */
	ET_TASK_KERNEL_THREAD = 1 << 0,
	/* the addon read argv and exe from /proc/<pid> and its start time matched */
	ET_TASK_FROM_PROC = 1 << 1,
};

enum et_failed_flags {
	/* more arguments (or bytes) than the record holds: argv is a prefix */
	ET_FAILED_ARGV_TRUNCATED = 1 << 0,
	/* an argument pointer or string could not be read: argv stops there */
	ET_FAILED_ARGV_FAULT = 1 << 1,
	/* the path could not be read (filename_len is 0) */
	ET_FAILED_FILENAME_FAULT = 1 << 2,
	/* execveat(2) rather than execve(2): the path may be relative to a dirfd */
	ET_FAILED_EXECVEAT = 1 << 3,
	/* the path held more than ET_FILENAME_MAX - 1 bytes: the path stored is its start */
	ET_FAILED_FILENAME_TRUNCATED = 1 << 4,
};

/*
 * In-kernel filters (bpf/filter.bpf.h). Two generations of one filter: user
 * space fills the one not in force, then flips `filter_gen`, so a record is
 * judged by one whole filter, never half of each. A kind of key is a bit of
 * `include` (every listed kind must match: AND; within a kind, any listed
 * value: OR) or of `exclude` (a match of any listed value drops the record).
 */
enum et_filter_kind {
	ET_FILTER_UID = 1,             /* real uid */
	ET_FILTER_GID = 2,             /* real gid */
	ET_FILTER_EUID = 3,            /* effective uid */
	ET_FILTER_PID_NAMESPACE = 4,   /* pid namespace inode number */
	ET_FILTER_COMM = 5,            /* exact task name */
	ET_FILTER_CGROUP = 6,          /* cgroup v2 id: the cgroup or any ancestor */
	ET_FILTER_FILENAME_PREFIX = 7, /* the path passed to exec */
	ET_FILTER_EXE_PREFIX = 8,      /* the path of the binary that runs */
	ET_FILTER_DESCENDANT = 9,      /* a listed process or any descendant */
};

enum et_filter_side {
	ET_FILTER_INCLUDE = 0,
	ET_FILTER_EXCLUDE = 1,
};

enum et_filter_flags {
	/* only processes in a pid namespace other than the initial one */
	ET_FILTER_CONTAINERS_ONLY = 1 << 0,
	/* only processes in the initial pid namespace */
	ET_FILTER_HOST_ONLY = 1 << 1,
};

/* The initial pid namespace's inode number (PROC_PID_INIT_INO). */
#define ET_INIT_PIDNS_INUM 0xEFFFFFFCU
/* Bytes of a path prefix the filter compares: an LPM trie key holds 256
 * bytes of data, three of which say generation, side and kind. */
#define ET_FILTER_PREFIX_MAX 252

/* Values of a list kept in the rule itself; a longer list goes to a map. */
#define ET_FILTER_INLINE 8
/* The kinds whose lists may be inline: uid, gid, euid, pid namespace. */
#define ET_FILTER_INLINE_IDS 4

/*
 * One generation's rule, in .bss (user space writes it through the mmap).
 * Short lists of ids and task names sit in the rule, which every record
 * reads anyway: a scan of a cache line already loaded costs a few ns, a
 * hash map look-up ~200 ns on this project's VM (its bucket and element
 * are cold by the time an exec is judged).
 */
struct et_filter_rule {
	__u32 include; /* 1 << enum et_filter_kind: kinds that must match */
	__u32 exclude; /* 1 << enum et_filter_kind: kinds whose match drops */
	__u32 flags;   /* enum et_filter_flags */
	__u32 seq;     /* which setFilter() this is: tracked entries name it */
	/* 1 << (kind + 16 * side): that side's list of that kind is in a map */
	__u32 mapped;
	__u8 id_count[2][ET_FILTER_INLINE_IDS]; /* [side][kind - 1] */
	__u8 comm_count[2];
	__u8 pad[2];
	__u32 ids[2][ET_FILTER_INLINE_IDS][ET_FILTER_INLINE];
	char comms[2][ET_FILTER_INLINE][ET_COMM_LEN];
};

/* A listed id (uid, gid, euid, pid namespace, cgroup) of one generation and side. */
struct et_filter_id_key {
	__u8 gen;
	__u8 side; /* enum et_filter_side */
	__u8 kind; /* enum et_filter_kind */
	__u8 pad[5];
	__u64 value;
};

/* A listed task name of one generation and side. */
struct et_filter_comm_key {
	__u8 gen;
	__u8 side;
	__u8 pad[6];
	char comm[ET_COMM_LEN];
};

/* A path prefix: an LPM trie key over (gen, side, kind, path). */
struct et_filter_prefix_key {
	__u32 prefixlen; /* in bits, over gen, side, kind and the path */
	__u8 gen;
	__u8 side;
	__u8 kind;
	char path[ET_FILTER_PREFIX_MAX + 1];
};

/* A root of descendantsOf (or of excludeSelf), read by the seeding iterator. */
struct et_filter_root {
	__u64 start_boot_ns; /* 0: whichever process has the pid */
	__u8 sides;          /* 1 << enum et_filter_side */
	__u8 pad[7];
};

/* Image verdicts (et_filter_tracked.image): which prefix kinds the last exec matched. */
enum et_filter_image {
	ET_IMAGE_FILENAME_IN = 1 << 0,
	ET_IMAGE_EXE_IN = 1 << 1,
	ET_IMAGE_FILENAME_EX = 1 << 2,
	ET_IMAGE_EXE_EX = 1 << 3,
};

/*
 * What the filter remembers of a live process, by tgid: for each
 * generation, whether it descends from a root (valid when seq[gen] is that
 * generation's rule seq), and what the prefixes said of its last exec
 * (valid when image_seq is the seq in force). Copied to a child at fork.
 */
struct et_filter_tracked {
	__u64 start_boot_ns;
	__u32 seq[2];
	__u32 image_seq;
	__u8 sides[2]; /* per generation: 1 << enum et_filter_side */
	__u8 image;    /* enum et_filter_image */
	__u8 pad;
};

/* Slots of the filtered counters: one per record type the filter judges. */
enum et_filtered_slot {
	ET_FILTERED_EXEC, ET_FILTERED_EXIT, ET_FILTERED_FORK, ET_FILTERED_EXEC_FAILED,
	ET_FILTERED_COUNT,
};

/* The filter's counters, one copy per CPU (user space sums them). */
struct et_filter_counts {
	__u64 filtered[ET_FILTERED_COUNT]; /* records dropped, by enum et_filtered_slot */
	__u64 misses;                      /* processes filter_tracked had no room for */
};

/* Arguments a failed-exec record reads at most (each a pointer chase). */
#define ET_FAILED_ARGS_MAX 128

enum et_exec_flags {
	/* argv held more bytes than the limit; argv_size has the original length */
	ET_EXEC_ARGV_TRUNCATED = 1 << 0,
	/* the argv range of the new mm could not be read (argv_len is 0) */
	ET_EXEC_ARGV_FAULT = 1 << 1,
	/* bprm->filename could not be read (filename_len is 0) */
	ET_EXEC_FILENAME_FAULT = 1 << 2,
	/* argc was not available (classic tracepoint); argc counts stored args */
	ET_EXEC_ARGC_UNKNOWN = 1 << 3,
	/* the environment was collected (the env knob): env_size and env_len hold */
	ET_EXEC_ENV = 1 << 4,
	/* the environment held more bytes than the limit; env_size has its length */
	ET_EXEC_ENV_TRUNCATED = 1 << 5,
	/* the environment range of the new mm could not be read (env_len is 0) */
	ET_EXEC_ENV_FAULT = 1 << 6,
	/* bprm->filename held more than ET_FILENAME_MAX - 1 bytes: the filename
	 * stored is its start (no path the kernel accepts is that long) */
	ET_EXEC_FILENAME_TRUNCATED = 1 << 7,
};

/* Which parts of the context a record carries (the `context` knob). */
enum et_context {
	ET_CONTEXT_EXE = 1 << 0,         /* exe path (a walk) */
	ET_CONTEXT_FILE = 1 << 1,        /* exe_ino, exe_dev, exe_ctime_ns, exe_mode, file flags */
	ET_CONTEXT_INTERPRETER = 1 << 2, /* bprm->interp */
	ET_CONTEXT_CWD = 1 << 3,         /* cwd path (a walk) */
	ET_CONTEXT_CGROUP = 1 << 4,      /* cgroup v2 path (a walk of kernfs names) */
};

enum et_context_flags {
	/* the exe walk stopped short of the root: exe is a true suffix */
	ET_CTX_EXE_TRUNCATED = 1 << 0,
	/* the cwd walk stopped short of the root: cwd is a true suffix */
	ET_CTX_CWD_TRUNCATED = 1 << 1,
	/* the exe file had no links (nlink == 0) */
	ET_CTX_EXE_DELETED = 1 << 2,
	/* the exe file is a memfd */
	ET_CTX_EXE_MEMFD = 1 << 3,
	/* the exe file is on overlayfs and has an upper-layer dentry */
	ET_CTX_EXE_UPPER_LAYER = 1 << 4,
	/* an interpreter ran the file: interp_len bytes are its path */
	ET_CTX_INTERPRETER = 1 << 5,
	/* the hook cannot see the interpreter (classic tracepoint: no bprm) */
	ET_CTX_INTERPRETER_UNKNOWN = 1 << 6,
	/* the cgroup walk stopped short of the root: cgroup is a true suffix */
	ET_CTX_CGROUP_TRUNCATED = 1 << 7,
};

/* The namespaces a record names, in the order of et_exec_record.ns_inum. */
enum et_namespace {
	ET_NS_PID, ET_NS_MNT, ET_NS_NET, ET_NS_UTS, ET_NS_IPC, ET_NS_USER, ET_NS_CGROUP, ET_NS_TIME,
	ET_NS_COUNT,
};

enum et_who_flags {
	/* bprm->secureexec: the kernel made this exec privilege-raising (AT_SECURE) */
	ET_WHO_SECURE_EXEC = 1 << 0,
	/* the hook cannot see bprm (classic tracepoint): secure exec unknown */
	ET_WHO_SECURE_EXEC_UNKNOWN = 1 << 1,
	/* the kernel has no audit identity (no CONFIG_AUDIT) */
	ET_WHO_AUDIT_UNKNOWN = 1 << 2,
	/* the kernel has no time namespaces (before 5.6): ns_inum[ET_NS_TIME] is 0 */
	ET_WHO_TIME_NS_UNKNOWN = 1 << 3,
	/* the process has a controlling terminal: tty holds its name */
	ET_WHO_TTY = 1 << 4,
};

/* Bytes of the controlling terminal's name kept (tty->name, NUL padded). */
#define ET_TTY_LEN 32

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
	/* What really ran and where (zero for a part the context knob leaves out). */
	__u64 exe_ino;              /* inode number of mm->exe_file */
	__s64 exe_ctime_ns;         /* its ctime, ns since the epoch */
	__u32 exe_dev;              /* its superblock's dev_t (kernel encoding) */
	__u16 exe_mode;             /* its i_mode: type and permission bits */
	__u16 exe_len;              /* exe path bytes stored (no NUL) */
	__u16 interp_len;           /* interpreter path bytes stored (no NUL) */
	__u16 cwd_len;              /* cwd path bytes stored (no NUL) */
	__u16 context;              /* enum et_context: the parts collected */
	__u16 context_flags;        /* enum et_context_flags */
	/* Who: the credentials after the exec, the audit identity, namespaces. */
	__u32 euid, egid, suid, sgid, fsuid, fsgid;
	__u64 cap_inheritable, cap_permitted, cap_effective;
	__u32 login_uid;            /* audit login uid; 4294967295 when unset */
	__u32 session_id;           /* audit session id; 4294967295 when unset */
	__u32 ns_inum[ET_NS_COUNT]; /* namespace inode numbers, enum et_namespace */
	__u16 who_flags;            /* enum et_who_flags */
	__u16 cgroup_len;           /* cgroup path bytes stored (no NUL) */
	__u32 exe_nlink;            /* the exe file's link count (i_nlink), with its identity */
	char tty[ET_TTY_LEN];       /* controlling terminal's tty->name ("pts3", "tty1") */
	/* The environment, when the env knob asks for it (ET_EXEC_ENV). */
	__u32 env_size;             /* original environment bytes (env_end - env_start) */
	__u32 env_len;              /* environment bytes stored in this record */
	/* Which image: the kernel's exec counter (task->self_exec_id), raised
	 * by every successful exec and inherited by fork, so (pid, start,
	 * exec_seq) names one image of one process. */
	__u64 exec_seq;             /* this image's, after the exec */
	__u64 parent_exec_seq;      /* the image the real parent runs at this moment */
	/* The session and the process group, each by its leader's pid as the
	 * host sees it (what ps shows as SID and PGID). */
	__u32 sid;
	__u32 pgid;
	/* then: filename_len bytes of bprm->filename; argv_len bytes of argv
	 * exactly as in the new process's memory (each argument NUL-terminated;
	 * the last one is cut short when ET_EXEC_ARGV_TRUNCATED is set); then
	 * exe_len, interp_len, cwd_len and cgroup_len bytes of those paths; then
	 * env_len bytes of the environment, laid out like argv. Older decoders
	 * stop after argv or after the paths: what is newer comes last. */
};

/*
 * The end of a process: written once per thread group, by the thread that
 * ends it (the last one to exit), whichever thread that is.
 */
struct et_exit_record {
	struct et_record_header hdr;
	__u64 boot_ns;              /* bpf_ktime_get_boot_ns() at the exit */
	__u64 start_boot_ns;        /* the process's start (its leader's), as exec records carry it */
	__u64 exec_seq;             /* the image it last ran (see et_exec_record) */
	__u32 pid;                  /* tgid */
	__u32 tid;                  /* the thread that ended the group */
	__u32 ppid;                 /* real parent's tgid at the exit */
	__u32 status;               /* as wait(2) reports it: code << 8, 0x80 core dumped, low 7 bits the signal */
	char comm[ET_COMM_LEN];     /* task comm at the exit */
};

/* A new process (fork, vfork, clone without CLONE_THREAD). */
struct et_fork_record {
	struct et_record_header hdr;
	__u64 boot_ns;              /* bpf_ktime_get_boot_ns() at the fork */
	__u64 start_boot_ns;        /* the child's start */
	__u64 parent_start_boot_ns; /* its real parent's start */
	__u64 exec_seq;             /* the image it runs: its parent's, until it execs */
	__u32 pid;                  /* the child's tgid (= its pid) */
	__u32 ppid;                 /* its real parent's tgid */
	char comm[ET_COMM_LEN];     /* the child's comm (its parent's, until it execs) */
};

/*
 * A process that was alive when the tracer started, written by the task
 * iterator into the seed the addon reads once at start(). The kernel fills
 * the fixed part; the addon appends what only /proc has cheaply (argv, exe)
 * and sets argv_len and exe_len. Never in the ring.
 */
struct et_task_record {
	struct et_record_header hdr;
	__u64 start_boot_ns;        /* as exec, exit and fork records carry it */
	__u64 parent_start_boot_ns; /* its real parent's */
	__u64 exec_seq;             /* the image it runs (see et_exec_record) */
	__u64 parent_exec_seq;      /* the image its real parent runs */
	__u32 pid;                  /* tgid */
	__u32 ppid;                 /* real parent's tgid */
	__u32 uid;                  /* real uid */
	__u16 flags;                /* enum et_task_flags */
	__u16 exe_len;              /* exe path bytes after argv (no NUL) */
	__u32 argv_len;             /* argv bytes (NUL-terminated each) */
	__u32 reserved32;
	char comm[ET_COMM_LEN];
	/* then: argv_len bytes of argv, exe_len bytes of the exe path */
};

/*
 * The tracer itself, as the kernel names it: written once by the find_self
 * iterator (bpf/self.bpf.h) to the addon that reads it. Never in the ring.
 */
struct et_self {
	__u32 host_pid;             /* the tracer's tgid in the initial pid namespace */
	__u32 reserved32;
};

/*
 * An exec(2) that returned an error to its caller: the process goes on
 * with its old image. Written at the syscall's exit, from what the caller
 * passed (its memory is still the old one).
 */
struct et_exec_failed_record {
	struct et_record_header hdr;
	__u64 boot_ns;              /* bpf_ktime_get_boot_ns() at the syscall's return */
	__u64 start_boot_ns;        /* the process's start */
	__u64 parent_start_boot_ns; /* its real parent's */
	__u64 exec_seq;             /* the image that tried (and still runs) */
	__u32 pid;                  /* tgid */
	__u32 tid;                  /* the calling thread */
	__u32 ppid;                 /* real parent's tgid */
	__u32 uid;                  /* real uid */
	__s32 error;                /* the positive errno exec returned */
	__u32 argc;                 /* arguments stored */
	__u32 argv_len;             /* argv bytes stored (NUL-terminated each) */
	__u16 filename_len;         /* path bytes stored (no NUL) */
	__u16 flags;                /* enum et_failed_flags */
	char comm[ET_COMM_LEN];     /* task comm (the old image's) */
	/* then: filename_len bytes of the path as passed, argv_len bytes of argv */
};

/*
 * Never instantiated: the types user space reads, named once so that clang
 * emits them into the object's BTF (it emits only the types the code uses,
 * and exec_tracer.bpf.c declares one pointer of this type for that), where
 * scripts/btf-layout.cjs finds them. A record type or an enum whose values
 * lib/ needs is added here.
 */
struct et_layout {
	struct et_record_header header;
	struct et_exec_record exec;
	struct et_exit_record exit;
	struct et_fork_record fork;
	struct et_task_record task;
	struct et_exec_failed_record exec_failed;
	struct et_filter_comm_key filter_comm_key;
	struct et_filter_prefix_key filter_prefix_key;
	enum et_limits limits;
	enum et_record_type record_type;
	enum et_exec_flags exec_flags;
	enum et_task_flags task_flags;
	enum et_failed_flags failed_flags;
	enum et_context context;
	enum et_context_flags context_flags;
	enum et_who_flags who_flags;
	enum et_namespace namespace_index;
	enum et_filter_kind filter_kind;
	enum et_filter_side filter_side;
	enum et_filter_flags filter_flags;
};

#endif /* EXEC_TRACER_H */
