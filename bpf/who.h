/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Who ran the exec and where it stands: the credentials after the exec,
 * whether the kernel made it privilege-raising, the audit identity, and the
 * namespaces, read from the task at sched_process_exec (no /proc look-up
 * after the fact, which a short-lived process or container escapes).
 */
#ifndef EXEC_TRACER_WHO_H
#define EXEC_TRACER_WHO_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "task.h"

/*
 * The inode number of a namespace (what /proc/<pid>/ns/<name> links show).
 * No NULL checks here or below: a plain load through a NULL trusted pointer
 * and a failed probe read both read 0, and every branch is verifier work at
 * every start().
 */
#define NS_INUM(direct, nsp) KREAD(direct, nsp, ns.inum)

static __always_inline void read_credentials(struct et_exec_record *r, const struct cred *cred,
					     const bool direct)
{
	struct user_namespace *user_ns;

	r->euid = KREAD(direct, cred, euid.val);
	r->egid = KREAD(direct, cred, egid.val);
	r->suid = KREAD(direct, cred, suid.val);
	r->sgid = KREAD(direct, cred, sgid.val);
	r->fsuid = KREAD(direct, cred, fsuid.val);
	r->fsgid = KREAD(direct, cred, fsgid.val);
	/* kernel_cap_t is two u32 before 6.3 and one u64 since: the same 8
	 * bytes on a little-endian CPU. The three sets sit side by side in
	 * every kernel, as they do in the record: one read. A probe read
	 * either way, as a plain load may not span the two u32. */
	if (bpf_core_field_offset(struct cred, cap_permitted) ==
		    bpf_core_field_offset(struct cred, cap_inheritable) + 8 &&
	    bpf_core_field_offset(struct cred, cap_effective) ==
		    bpf_core_field_offset(struct cred, cap_inheritable) + 16) {
		bpf_core_read(&r->cap_inheritable, 24, &cred->cap_inheritable);
	} else {
		bpf_core_read(&r->cap_inheritable, 8, &cred->cap_inheritable);
		bpf_core_read(&r->cap_permitted, 8, &cred->cap_permitted);
		bpf_core_read(&r->cap_effective, 8, &cred->cap_effective);
	}
	user_ns = KREAD(direct, cred, user_ns);
	r->ns_inum[ET_NS_USER] = NS_INUM(direct, user_ns);
}

static __always_inline void read_namespaces(struct et_exec_record *r, struct task_struct *task,
					    struct pid_namespace *pid_ns, const bool direct)
{
	struct nsproxy *nsproxy = KREAD(direct, task, nsproxy);
	struct uts_namespace *uts;
	struct ipc_namespace *ipc;
	struct mnt_namespace *mnt;
	struct net *net;
	struct cgroup_namespace *cgroup;

	/* The pid namespace comes from the task's struct pid: a probe read. */
	r->ns_inum[ET_NS_PID] = BPF_CORE_READ(pid_ns, ns.inum);
	uts = KREAD(direct, nsproxy, uts_ns);
	ipc = KREAD(direct, nsproxy, ipc_ns);
	mnt = KREAD(direct, nsproxy, mnt_ns);
	net = KREAD(direct, nsproxy, net_ns);
	cgroup = KREAD(direct, nsproxy, cgroup_ns);
	r->ns_inum[ET_NS_UTS] = NS_INUM(direct, uts);
	r->ns_inum[ET_NS_IPC] = NS_INUM(direct, ipc);
	r->ns_inum[ET_NS_MNT] = NS_INUM(direct, mnt);
	r->ns_inum[ET_NS_NET] = NS_INUM(direct, net);
	r->ns_inum[ET_NS_CGROUP] = NS_INUM(direct, cgroup);
	if (bpf_core_field_exists(struct nsproxy, time_ns)) {
		struct time_namespace *time = KREAD(direct, nsproxy, time_ns);

		r->ns_inum[ET_NS_TIME] = NS_INUM(direct, time);
	} else {
		r->who_flags |= ET_WHO_TIME_NS_UNKNOWN;
	}
}

/* The controlling terminal's name, as the kernel names the tty ("pts3"). */
static __always_inline void read_tty(struct et_exec_record *r, struct task_struct *task,
				     const bool direct)
{
	struct signal_struct *signal = KREAD(direct, task, signal);
	struct tty_struct *tty = KREAD(direct, signal, tty);

	__builtin_memset(r->tty, 0, sizeof(r->tty));
	if (tty && bpf_probe_read_kernel_str(r->tty, sizeof(r->tty), &tty->name) > 1)
		r->who_flags |= ET_WHO_TTY;
}

/* A struct pid's number as the host (the initial pid namespace) sees it; 0 for none. */
static __always_inline __u32 host_pid_nr(struct pid *pid)
{
	__u32 nr = 0;

	/* numbers[] is a flexible array: a probe read, whichever the hook. */
	if (pid)
		bpf_core_read(&nr, sizeof(nr), &pid->numbers[0].nr);
	return nr;
}

/* The session and the process group, by their leaders' pids. */
static __always_inline void read_session(struct et_exec_record *r, struct task_struct *task,
					 const bool direct)
{
	struct signal_struct *signal = KREAD(direct, task, signal);

	r->sid = host_pid_nr(KREAD(direct, signal, pids[PIDTYPE_SID]));
	r->pgid = host_pid_nr(KREAD(direct, signal, pids[PIDTYPE_PGID]));
}

/* Everything of "who" into the record; bprm is NULL where the hook has none. */
static __always_inline void read_who(struct et_exec_record *r, struct task_struct *task,
				     struct linux_binprm *bprm, struct pid_namespace *pid_ns,
				     const bool direct)
{
	const struct cred *cred = KREAD(direct, task, cred);
	int i;

	r->who_flags = 0;
	for (i = 0; i < ET_NS_COUNT; i++)
		r->ns_inum[i] = 0;
	r->cap_inheritable = r->cap_permitted = r->cap_effective = 0;
	read_credentials(r, cred, direct);
	read_namespaces(r, task, pid_ns, direct);
	read_tty(r, task, direct);
	read_session(r, task, direct);

	if (bpf_core_field_exists(struct task_struct, loginuid)) {
		r->login_uid = KREAD(direct, task, loginuid.val);
		r->session_id = KREAD(direct, task, sessionid);
	} else {
		r->login_uid = r->session_id = 0xffffffff;
		r->who_flags |= ET_WHO_AUDIT_UNKNOWN;
	}

	if (!bprm)
		r->who_flags |= ET_WHO_SECURE_EXEC_UNKNOWN;
	else if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec))
		r->who_flags |= ET_WHO_SECURE_EXEC;
}

#endif /* EXEC_TRACER_WHO_H */
