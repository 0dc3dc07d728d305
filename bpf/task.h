/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Reading what a task runs and where it stands: the path of a file or
 * directory as the task sees it, and the identity of its executable file.
 *
 * bpf_d_path() is not allowed from the exec tracepoints, so paths are built
 * here the way the kernel's d_path() does, by walking from the dentry up to
 * the task's root, crossing mounts on the way. Everything is read with probe
 * reads: a mount crossing goes through struct mount, which a tp_btf program
 * cannot reach with a trusted pointer (container_of is a negative offset),
 * and one code path serves both entry points. Like every BPF path walk it
 * takes no lock: a rename racing the exec may show the old or the new name.
 */
#ifndef EXEC_TRACER_TASK_H
#define EXEC_TRACER_TASK_H

#include "exec_tracer.h"
#include "bounds.h"

/* The longest name of one component (NAME_MAX). */
#define ET_NAME_MAX 255
/* The overlayfs superblock magic (include/uapi/linux/magic.h). */
#define ET_OVERLAYFS_MAGIC 0x794c7630UL

/*
 * Builds the path of (dentry, vfsmnt) as seen from (root_dentry, root_mnt),
 * the task's root, backwards into ws[pos, ET_PATH_MAX), and returns pos, with
 * ET_WALK_CUT added when the walk stopped short. `ws` is twice ET_PATH_MAX
 * long so that a component written at any masked offset below ET_PATH_MAX
 * stays inside it, which is what the verifier checks.
 *
 * At most ET_PATH_DEPTH steps (components and mount crossings together) and
 * ET_PATH_MAX - 1 bytes; beyond either the path is cut at a component
 * boundary, and what is kept is the deepest part: a true suffix of the real
 * path, starting with '/'.
 *
 * Ends, like d_path(), at the task's root; at the root of the mount namespace
 * when the file is not under the task's root (the path is then absolute in
 * that namespace); or at a dentry that is its own parent and not a mount's
 * root: a pseudo file (a memfd, "/memfd:name") or a detached tree.
 *
 * A global function, so the verifier checks it once, on its own, with its
 * arguments as unknown scalars: inlined, every exit of the loop would be
 * explored through the rest of the program, and two walks exceed the
 * verifier's 1M-instruction budget. Pointers are passed as integers and only
 * ever read through probe reads.
 */
#define ET_WALK_CUT (1 << 16)

/* The walk's workspace: one slot per possible CPU (set before load), shared
 * safely for the reasons the scratch map's comment gives. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[2 * ET_PATH_MAX]);
} walk_space SEC(".maps");

static __always_inline char *walk_workspace(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&walk_space, &cpu);
}

__noinline int walk_path(__u64 dentry_addr, __u64 vfsmnt_addr, __u64 root_dentry, __u64 root_mnt)
{
	/* struct vfsmount is embedded in struct mount, whose fields say where
	 * the mount sits; offsets from CO-RE, so any kernel's layout works. */
	__u64 mnt_off = bpf_core_field_offset(struct mount, mnt);
	__u64 parent_off = bpf_core_field_offset(struct mount, mnt_parent);
	__u64 point_off = bpf_core_field_offset(struct mount, mnt_mountpoint);
	__u64 root_off = bpf_core_field_offset(struct vfsmount, mnt_root);
	__u64 d_parent_off = bpf_core_field_offset(struct dentry, d_parent);
	__u64 d_name_off = bpf_core_field_offset(struct dentry, d_name);
	__u64 dentry = dentry_addr, vfsmnt = vfsmnt_addr, mnt_root = 0, parent = 0, up = 0, mnt;
	__u64 pos = ET_PATH_MAX, len;
	struct qstr name = {};
	bool done = false;
	char *ws = walk_workspace();
	int i;

	if (!ws)
		return -1;
	bpf_probe_read_kernel(&mnt_root, sizeof(mnt_root), (void *)(vfsmnt + root_off));
	for (i = 0; i < ET_PATH_DEPTH; i++) {
		if (dentry == root_dentry && vfsmnt == root_mnt) {
			done = true;
			break;
		}
		if (dentry == mnt_root) {
			/* The root of a mount: continue from where it is mounted,
			 * unless it is the root of its namespace. */
			mnt = vfsmnt - mnt_off;
			bpf_probe_read_kernel(&up, sizeof(up), (void *)(mnt + parent_off));
			if (up == mnt || !up) {
				done = true;
				break;
			}
			bpf_probe_read_kernel(&dentry, sizeof(dentry), (void *)(mnt + point_off));
			vfsmnt = up + mnt_off;
			bpf_probe_read_kernel(&mnt_root, sizeof(mnt_root), (void *)(vfsmnt + root_off));
			continue;
		}
		if (bpf_probe_read_kernel(&parent, sizeof(parent), (void *)(dentry + d_parent_off)) ||
		    bpf_probe_read_kernel(&name, sizeof(name), (void *)(dentry + d_name_off)))
			break;
		len = clamp_max(name.len, ET_NAME_MAX);
		if (len + 1 > pos)
			break; /* no room for "/name": keep the suffix built so far */
		pos = mask_bits(pos - len - 1, ET_PATH_MAX - 1);
		ws[pos] = '/';
		if (bpf_probe_read_kernel(ws + pos + 1, len, name.name)) {
			pos += len + 1;
			break;
		}
		if (dentry == parent) {
			done = true; /* a pseudo file or a detached tree: its name is its path */
			break;
		}
		dentry = parent;
	}
	if (pos >= ET_PATH_MAX) {
		/* The root itself, or nothing could be read. */
		pos = ET_PATH_MAX - 1;
		ws[ET_PATH_MAX - 1] = '/';
	}
	return pos | (done ? 0 : ET_WALK_CUT);
}
/* The inode's ctime in ns: its fields were renamed twice (CO-RE picks). */
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

static __always_inline __u64 inode_ctime_ns(struct inode *inode)
{
	struct timespec64 ts = {};
	__u32 nsec = 0;
	time64_t sec = 0;

	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		struct inode___v611 *i = (void *)inode;

		bpf_core_read(&sec, sizeof(sec), &i->i_ctime_sec);
		bpf_core_read(&nsec, sizeof(nsec), &i->i_ctime_nsec);
		/* Since 6.13 the top bit is a flag (I_CTIME_QUERIED, multigrain
		 * timestamps), not part of the ns. */
		return sec * 1000000000ULL + (nsec & ~(1U << 31));
	}
	if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *i = (void *)inode;

		bpf_core_read(&ts, sizeof(ts), &i->__i_ctime);
	} else {
		struct inode___ts64 *i = (void *)inode;

		bpf_core_read(&ts, sizeof(ts), &i->i_ctime);
	}
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A memfd's file is a pseudo dentry (its own parent, not a mount's root)
 * named "memfd:<name>" (mm/memfd.c); a tmpfs file that a user named so has a
 * real parent directory.
 */
static __always_inline bool dentry_is_memfd(struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	char prefix[6] = {};

	if (parent != dentry || dentry == BPF_CORE_READ(vfsmnt, mnt_root))
		return false;
	bpf_probe_read_kernel(prefix, sizeof(prefix), name);
	return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
	       prefix[4] == 'd' && prefix[5] == ':';
}

/*
 * Whether an overlayfs file has an upper dentry: it was created or copied up
 * (written, or its metadata changed) in the upper layer. struct ovl_inode
 * lives in the overlay module, whose BTF old kernels do not publish, so the
 * pointer is found where every kernel since 4.13 keeps it: right after the
 * embedded struct inode (Falco reads it the same way).
 */
static __always_inline bool inode_in_upper_layer(struct inode *inode)
{
	struct dentry *upper = NULL;

	if (BPF_CORE_READ(inode, i_sb, s_magic) != ET_OVERLAYFS_MAGIC)
		return false;
	bpf_probe_read_kernel(&upper, sizeof(upper), (char *)inode + bpf_core_type_size(struct inode));
	return upper && BPF_CORE_READ(upper, d_inode);
}

/* The executable file's identity and flags, into the record. */
static __always_inline void read_exe_identity(struct et_exec_record *r, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct vfsmount *vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);

	if (!inode)
		return;
	r->exe_ino = BPF_CORE_READ(inode, i_ino);
	r->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	r->exe_mode = BPF_CORE_READ(inode, i_mode);
	r->exe_ctime_ns = inode_ctime_ns(inode);
	if (BPF_CORE_READ(inode, i_nlink) == 0)
		r->context_flags |= ET_CTX_EXE_DELETED;
	if (dentry_is_memfd(dentry, vfsmnt))
		r->context_flags |= ET_CTX_EXE_MEMFD;
	if (inode_in_upper_layer(inode))
		r->context_flags |= ET_CTX_EXE_UPPER_LAYER;
}

#endif /* EXEC_TRACER_TASK_H */
