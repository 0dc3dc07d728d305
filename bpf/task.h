/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Reading a task's kernel objects the cheapest way the hook allows, and the
 * identity of its executable file. Helpers only: no programs, no maps.
 */
#ifndef EXEC_TRACER_TASK_H
#define EXEC_TRACER_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"

/* The overlayfs superblock magic (include/uapi/linux/magic.h). */
#define ET_OVERLAYFS_MAGIC 0x794c7630UL

/*
 * A field of a kernel object, the cheapest way the hook allows: a plain load
 * where the pointer is trusted (tp_btf hands over BTF pointers; a fault reads
 * as 0), a probe read otherwise. `direct` is a constant at every use, so the
 * other branch is compiled away: the classic tracepoint's program never holds
 * a plain load through an untrusted pointer.
 */
#define KREAD(direct, ptr, field) ((direct) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* The inode's ctime fields were renamed twice: CO-RE picks the layout. */
struct inode___ts64 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));
struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___v611 {
	time64_t i_ctime_sec;
	__u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

/* The inode's ctime in ns since the epoch. */
static __always_inline __s64 inode_ctime_ns(struct inode *inode, const bool direct)
{
	__s64 sec;
	__u64 nsec;

	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		struct inode___v611 *i = (void *)inode;

		sec = KREAD(direct, i, i_ctime_sec);
		/* Since 6.13 the top bit is a flag (I_CTIME_QUERIED, multigrain
		 * timestamps), not part of the ns. */
		nsec = KREAD(direct, i, i_ctime_nsec) & ~(1U << 31);
	} else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *i = (void *)inode;

		sec = KREAD(direct, i, __i_ctime.tv_sec);
		nsec = KREAD(direct, i, __i_ctime.tv_nsec);
	} else {
		struct inode___ts64 *i = (void *)inode;

		sec = KREAD(direct, i, i_ctime.tv_sec);
		nsec = KREAD(direct, i, i_ctime.tv_nsec);
	}
	return sec * 1000000000LL + (__s64)nsec;
}

/*
 * A memfd's file is a pseudo dentry (its own parent, not a mount's root)
 * named "memfd:<name>" (mm/memfd.c); a tmpfs file that a user named so has a
 * real parent directory. Only a pseudo dentry costs a read of its name.
 */
static __always_inline bool dentry_is_memfd(struct dentry *dentry, struct vfsmount *vfsmnt,
					    const bool direct)
{
	char prefix[6] = {};

	if (KREAD(direct, dentry, d_parent) != dentry || dentry == KREAD(direct, vfsmnt, mnt_root))
		return false;
	bpf_probe_read_kernel(prefix, sizeof(prefix), KREAD(direct, dentry, d_name.name));
	return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
	       prefix[4] == 'd' && prefix[5] == ':';
}

/*
 * Whether an overlayfs file has an upper dentry: it was created or copied up
 * (written, or its metadata changed) in the upper layer. struct ovl_inode
 * lives in the overlay module, whose BTF old kernels do not publish, so the
 * pointer is found where every kernel since 4.13 keeps it: right after the
 * embedded struct inode (Falco reads it the same way). A probe read: it is
 * past the end of the type a trusted pointer may be read within.
 */
static __always_inline bool inode_in_upper_layer(struct inode *inode, const bool direct)
{
	struct super_block *sb = KREAD(direct, inode, i_sb);
	struct dentry *upper = NULL;

	if (KREAD(direct, sb, s_magic) != ET_OVERLAYFS_MAGIC)
		return false;
	bpf_probe_read_kernel(&upper, sizeof(upper), (char *)inode + bpf_core_type_size(struct inode));
	return upper && BPF_CORE_READ(upper, d_inode);
}

/* The executable file's identity as a record carries it without one (the
 * context leaves the file out, or there is no file): zero. */
static __always_inline void clear_exe_identity(struct et_exec_record *r)
{
	r->exe_ino = 0;
	r->exe_ctime_ns = 0;
	r->exe_dev = 0;
	r->exe_mode = 0;
	r->exe_nlink = 0;
}

/* The executable file's identity and flags, into the record. */
static __always_inline void read_exe_identity(struct et_exec_record *r, struct file *file,
					      const bool direct)
{
	struct inode *inode = KREAD(direct, file, f_inode);
	struct super_block *sb;

	if (!inode)
		return;
	sb = KREAD(direct, inode, i_sb);
	r->exe_ino = KREAD(direct, inode, i_ino);
	r->exe_dev = KREAD(direct, sb, s_dev);
	r->exe_mode = KREAD(direct, inode, i_mode);
	r->exe_ctime_ns = inode_ctime_ns(inode, direct);
	r->exe_nlink = KREAD(direct, inode, i_nlink);
	if (r->exe_nlink == 0)
		r->context_flags |= ET_CTX_EXE_DELETED;
	if (dentry_is_memfd(KREAD(direct, file, f_path.dentry), KREAD(direct, file, f_path.mnt), direct))
		r->context_flags |= ET_CTX_EXE_MEMFD;
	if (inode_in_upper_layer(inode, direct))
		r->context_flags |= ET_CTX_EXE_UPPER_LAYER;
}

#endif /* EXEC_TRACER_TASK_H */
