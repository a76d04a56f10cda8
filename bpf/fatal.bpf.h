/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The collection that kills the process (docs/fatal.md).  Included by
 * bpf/gcscope.bpf.c after its maps and bpf/pystack.bpf.h.
 *
 * A PyO3 unsendable class aborts in tp_traverse; an extension's tp_clear
 * dereferences freed memory: the process dies in the middle of a
 * collection, and its collection record never comes.  By the time user
 * space hears of the exit the process's memory is gone, so what is needed
 * is read here, in the dying thread's own context:
 *
 *  - tp_btf/signal_generate (needs no tracefs): a signal that will end the
 *    process (default action Term or Core, SIG_DFL installed) is noted
 *    with its sender and time, by thread and for the process (key 0: a
 *    kill() to the process reaches the collecting thread as a group exit).
 *    Signals are generated with the siglock held and interrupts off, where
 *    bpf_find_vma() works once per program at most: nothing more here.
 *  - tp_btf/sched_process_exit: every thread of a dying process passes
 *    there, in do_exit(), with its mm still mapped (recent kernels fire
 *    it before exit_mm(); checked on 6.18) and interrupts on.  A thread in a collection (its
 *    `starts` entry) sends one GCSCOPE_EV_FATAL record: the signal noted
 *    (or the exit code), the collection, the innermost Python frames with
 *    their names and line tables copied out (user/pystack.c decodes them),
 *    and the words of its native stack that point into executable file
 *    mappings, with each file's path, for user space to name the functions
 *    (user/fatal.c): frame-pointer unwinding (bpf_get_stack) stops in libc
 *    and CPython built without frame pointers.
 */
#ifndef __GCSCOPE_FATAL_BPF_H
#define __GCSCOPE_FATAL_BPF_H

#include <bpf/bpf_core_read.h>
#include "gcscope.h"

const volatile bool targ_fatal = false;		/* attach the signal program at all */
const volatile bool targ_fatal_names = false;	/* copy Python names (stack layout known) */
/* Set by user space (user/pystack.c: pystack_configure_fatal()). */
const volatile __u32 targ_fs_co_filename = 0;
const volatile __u32 targ_fs_co_name = 0;	/* co_qualname (3.11+) or co_name */
const volatile __u32 targ_fs_co_firstlineno = 0;
const volatile __u32 targ_fs_co_lines = 0;	/* co_lnotab / co_linetable */
const volatile __u32 targ_fs_str_length = 0;
const volatile __u32 targ_fs_str_state = 0;
const volatile __u32 targ_fs_str_ascii = 0;	/* sizeof(PyASCIIObject) */
const volatile __u32 targ_fs_str_compact = 0;	/* sizeof(PyCompactUnicodeObject) */
const volatile __u32 targ_fs_bytes_size = 0;	/* ob_size */
const volatile __u32 targ_fs_bytes_sval = 0;

/* Kernel types, only the fields read (CO-RE; the ___fatal suffix keeps
 * them apart from pystack.bpf.h's task_struct). */
struct sigaction___fatal {
	void *sa_handler;
} __attribute__((preserve_access_index));

struct k_sigaction___fatal {
	struct sigaction___fatal sa;
} __attribute__((preserve_access_index));

struct sighand_struct___fatal {
	struct k_sigaction___fatal action[64];
} __attribute__((preserve_access_index));

struct signal_struct___fatal {
	int group_exit_code;
} __attribute__((preserve_access_index));

struct task_struct___fatal {
	int pid;
	int tgid;
	int exit_code;
	char comm[16];
	struct sighand_struct___fatal *sighand;
	struct signal_struct___fatal *signal;
} __attribute__((preserve_access_index));

/* enum trace_signal_result (include/trace/events/signal.h) */
#define FATAL_TRACE_SIGNAL_DELIVERED	0
#define FATAL_TRACE_SIGNAL_LOSE_INFO	4

/* Signals whose default action ends the process (signal(7)): Term and Core.
 * SIGKILL and SIGSTOP cannot be caught; the others kill only with SIG_DFL. */
#define FATAL_SIGMASK ((1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | (1ULL << 5) | \
		       (1ULL << 6) | (1ULL << 7) | (1ULL << 8) | (1ULL << 9) | (1ULL << 10) | \
		       (1ULL << 11) | (1ULL << 12) | (1ULL << 13) | (1ULL << 14) | (1ULL << 15) | \
		       (1ULL << 24) | (1ULL << 25) | (1ULL << 26) | (1ULL << 27) | (1ULL << 29) | \
		       (1ULL << 30) | (1ULL << 31))

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gcscope_fatal);
} fatal_buf SEC(".maps");

/* Does sig, sent to task, end the process?  Its default action must be to
 * end it, and the handler installed must be SIG_DFL (a handler, such as
 * faulthandler's, runs first and raises it again with SIG_DFL: that second
 * one is the fatal one). */
static __always_inline bool fatal_signal(int sig, struct task_struct___fatal *task)
{
	struct sighand_struct___fatal *sh;
	void *handler = (void *)1;
	__u64 off;

	if (sig <= 0 || sig >= 64 || !((FATAL_SIGMASK >> sig) & 1))
		return false;
	if (sig == 9)
		return true;
	sh = BPF_CORE_READ(task, sighand);
	if (!sh)
		return false;
	/* action[sig - 1].sa.sa_handler, with the kernel's own stride */
	off = bpf_core_field_offset(struct sighand_struct___fatal, action) +
	      (__u64)(sig - 1) * bpf_core_type_size(struct k_sigaction___fatal) +
	      bpf_core_field_offset(struct k_sigaction___fatal, sa) +
	      bpf_core_field_offset(struct sigaction___fatal, sa_handler);
	if (bpf_probe_read_kernel(&handler, sizeof(handler), (void *)sh + off))
		return false;
	return handler == (void *)0;	/* SIG_DFL */
}

/* A str object's data: kind and up to cap bytes of it, untrusted (user
 * space bounds and converts it).  Only compact strings (every name and
 * file name of a code object is one); kind 0 when unreadable. */
static __always_inline void fatal_str(__u64 addr, char *out, __u32 cap, __u8 *kind, __u16 *len)
{
	__u64 length = 0;
	__u32 state = 0, k;
	__u64 data, n;	/* 64 bits: a u32 is bounds-checked on a copy */

	*kind = 0;
	*len = 0;
	if (!addr || bpf_probe_read_user(&length, sizeof(length), (void *)(addr + targ_fs_str_length)) ||
	    bpf_probe_read_user(&state, sizeof(state), (void *)(addr + targ_fs_str_state)))
		return;
	/* PEP 393 state bits: interned:2, kind:3, compact:1, ascii:1 */
	k = (state >> 2) & 7;
	if (!((state >> 5) & 1) || (k != 1 && k != 2 && k != 4) || length > (1U << 30))
		return;
	data = addr + (((state >> 6) & 1) ? targ_fs_str_ascii : targ_fs_str_compact);
	n = length * k;
	if (n > cap)	/* cap is a constant: this bounds n for the verifier */
		n = cap;
	n &= ~(k - 1);	/* whole characters (k is 1, 2 or 4) */
	/* the compiler must not read n from before the clamp: the verifier
	 * checks this register */
	barrier_var(n);
	if (n > cap)
		return;
	if (bpf_probe_read_user(out, n, (void *)data))
		return;
	*kind = (__u8)k;
	*len = (__u16)n;
}

struct fatal_walk {
	struct gcscope_fatal *f;
	struct pystack_scratch *sc;
	__u32 n;
};

/* Frame i: names and line table of its code object, read now. */
static long fatal_frame_cb(__u64 i, void *ctx)
{
	struct fatal_walk *w = ctx;
	struct gcscope_fatal_frame *fr;
	__u64 code, name = 0, file = 0, tab = 0, size = 0;
	__s32 first = 0;
	__u32 idx = (__u32)i;
	__u64 n;

	if (idx >= w->n || idx >= GCSCOPE_FATAL_FRAMES)
		return 1;
	fr = &w->f->frames[idx & (GCSCOPE_FATAL_FRAMES - 1)];
	code = w->sc->st.frames[idx & (GCSCOPE_STACK_MAX - 1)].code;
	fr->code = code;
	fr->instr = w->sc->st.frames[idx & (GCSCOPE_STACK_MAX - 1)].instr;
	fr->name_kind = fr->file_kind = 0;
	fr->name_len = fr->file_len = 0;
	fr->tab_len = 0;
	fr->tab_size = 0;
	fr->firstlineno = 0;
	if (!code || bpf_probe_read_user(&name, sizeof(name), (void *)(code + targ_fs_co_name)) ||
	    bpf_probe_read_user(&file, sizeof(file), (void *)(code + targ_fs_co_filename)) ||
	    bpf_probe_read_user(&first, sizeof(first), (void *)(code + targ_fs_co_firstlineno)) ||
	    bpf_probe_read_user(&tab, sizeof(tab), (void *)(code + targ_fs_co_lines)))
		return 0;
	fr->firstlineno = first;
	fatal_str(name, fr->name, GCSCOPE_FATAL_NAME_LEN, &fr->name_kind, &fr->name_len);
	fatal_str(file, fr->file, GCSCOPE_FATAL_FILE_LEN, &fr->file_kind, &fr->file_len);
	if (!tab || bpf_probe_read_user(&size, sizeof(size), (void *)(tab + targ_fs_bytes_size)))
		return 0;
	if ((__s64)size < 0 || size > (1U << 30))
		return 0;
	fr->tab_size = (__u32)size;
	n = size > GCSCOPE_FATAL_TAB_LEN ? GCSCOPE_FATAL_TAB_LEN : size;
	barrier_var(n);
	if (n > GCSCOPE_FATAL_TAB_LEN)
		return 0;
	if (!bpf_probe_read_user(fr->tab, n, (void *)(tab + targ_fs_bytes_sval)))
		fr->tab_len = (__u16)n;
	return 0;
}

static __always_inline void fatal_python(struct gcscope_fatal *f)
{
	struct pystack_scratch *sc = pystack_sc();
	struct fatal_walk w = { .f = f };

	if (!sc)
		return;
	pystack_capture(sc);
	f->stack_flags = sc->st.flags;
	f->stack_depth = sc->st.nframes;
	w.sc = sc;
	w.n = sc->st.nframes < GCSCOPE_FATAL_FRAMES ? sc->st.nframes : GCSCOPE_FATAL_FRAMES;
	f->nframes = w.n;
	bpf_loop(GCSCOPE_FATAL_FRAMES, fatal_frame_cb, &w, 0);
}

struct fatal_sig {
	__u32 sig;
	__u32 sender;
	__u64 ts;
};

/* Fatal signals seen generated: by tid, and the last one of the process
 * under its process key (fatal_proc_key()). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct fatal_sig);
} fatal_sigs SEC(".maps");

/* Is tgid a target?  These programs see every process of the host. */
static __always_inline bool fatal_traced(__u32 tgid)
{
	return targ_shared ? shared_target(tgid) != NULL : tgid == targ_tgid;
}

/* The key of a process's last fatal signal in fatal_sigs: 0 for the one
 * target of an object; shared, one per target, apart from the tids (which
 * are below 2^22). */
static __always_inline __u32 fatal_proc_key(__u32 tgid)
{
	return targ_shared ? tgid | 0x80000000U : 0;
}

static __always_inline int fatal_on_signal(int sig, struct task_struct___fatal *task, int result)
{
	struct fatal_sig fs = {};
	__u32 tid, tgid, pkey;

	if (result != FATAL_TRACE_SIGNAL_DELIVERED && result != FATAL_TRACE_SIGNAL_LOSE_INFO)
		return 0;
	tgid = (__u32)BPF_CORE_READ(task, tgid);
	if (!fatal_traced(tgid) || !fatal_signal(sig, task))
		return 0;
	pkey = fatal_proc_key(tgid);
	tid = (__u32)BPF_CORE_READ(task, pid);
	fs.sig = (__u32)sig;
	fs.sender = bpf_get_current_pid_tgid() >> 32;
	fs.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&fatal_sigs, &tid, &fs, BPF_ANY);
	bpf_map_update_elem(&fatal_sigs, &pkey, &fs, BPF_ANY);
	return 0;
}

/* ---- the native stack ---- */

struct pt_regs___fatal {
	unsigned long ip;
	unsigned long sp;
} __attribute__((preserve_access_index));

struct qstr___fatal {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry___fatal {
	struct dentry___fatal *d_parent;
	struct qstr___fatal d_name;
} __attribute__((preserve_access_index));

struct vfsmount___fatal {
	struct dentry___fatal *mnt_root;
} __attribute__((preserve_access_index));

struct mount___fatal {
	struct mount___fatal *mnt_parent;
	struct dentry___fatal *mnt_mountpoint;
	struct vfsmount___fatal mnt;
} __attribute__((preserve_access_index));

struct path___fatal {
	struct vfsmount___fatal *mnt;
	struct dentry___fatal *dentry;
} __attribute__((preserve_access_index));

struct super_block___fatal {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___fatal {
	unsigned long i_ino;
	struct super_block___fatal *i_sb;
} __attribute__((preserve_access_index));

struct file___fatal {
	struct path___fatal f_path;
	struct inode___fatal *f_inode;
} __attribute__((preserve_access_index));

struct vm_area_struct___fatal {
	unsigned long vm_start;
	unsigned long vm_pgoff;
	unsigned long vm_flags;
	struct file___fatal *vm_file;
} __attribute__((preserve_access_index));

struct vm_area_struct;

#define FATAL_VM_EXEC	0x4	/* VM_EXEC, include/linux/mm.h */
#define FATAL_PAGE_SHIFT 12
#define FATAL_WORDS	(GCSCOPE_FATAL_STACK / 8)
#define FATAL_CHUNK	512	/* bytes read at once: the stack's top ends a read */
/* past the user address space of x86-64 (47 bits): not code */
#define FATAL_USER_MAX	0x7ffffffff000ULL

struct fatal_stack_buf {
	__u64 w[FATAL_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fatal_stack_buf);
} fatal_stack SEC(".maps");

struct fatal_scan {
	struct gcscope_fatal *f;
	struct fatal_stack_buf *buf;
	__u64 sp;
	__u64 inode[GCSCOPE_FATAL_FILES];
	struct file___fatal *file[GCSCOPE_FATAL_FILES];
	__u32 nwords;
	__u16 word;		/* the word being looked up */
	/* the path walk */
	struct dentry___fatal *dentry;
	struct mount___fatal *mount;
	__u32 fi;
};

static long fatal_read_cb(__u64 i, void *ctx)
{
	struct fatal_scan *sc = ctx;
	__u32 at = (__u32)i * (FATAL_CHUNK / 8);

	if (at >= FATAL_WORDS - FATAL_CHUNK / 8 + 1)
		return 1;
	if (bpf_probe_read_user(&sc->buf->w[at], FATAL_CHUNK, (void *)(sc->sp + (__u64)i * FATAL_CHUNK)))
		return 1;
	sc->nwords = at + FATAL_CHUNK / 8;
	return 0;
}

/* bpf_find_vma() callback: is the word in an executable file mapping? */
static long fatal_vma_cb(struct task_struct *task, struct vm_area_struct *vma_, void *ctx)
{
	struct vm_area_struct___fatal *vma = (void *)vma_;
	struct fatal_scan *sc = ctx;
	struct gcscope_fatal *f = sc->f;
	struct file___fatal *file;
	struct gcscope_fatal_hit *h;
	__u64 addr, ino, start, pgoff;
	__u32 n = f->nhits, fi = GCSCOPE_FATAL_NO_FILE;

	if (!(BPF_CORE_READ(vma, vm_flags) & FATAL_VM_EXEC))
		return 0;
	file = BPF_CORE_READ(vma, vm_file);
	if (!file || n >= GCSCOPE_FATAL_HITS)
		return 0;
	ino = (__u64)BPF_CORE_READ(file, f_inode);
	for (__u32 i = 0; i < GCSCOPE_FATAL_FILES; i++) {
		if (sc->inode[i] == ino) {
			fi = i;
			break;
		}
		if (!sc->inode[i]) {
			sc->inode[i] = ino;
			sc->file[i] = file;
			f->nfiles = i + 1;
			fi = i;
			break;
		}
	}
	addr = sc->word == GCSCOPE_FATAL_HIT_IP ? f->ip : sc->buf->w[sc->word & (FATAL_WORDS - 1)];
	start = BPF_CORE_READ(vma, vm_start);
	pgoff = BPF_CORE_READ(vma, vm_pgoff);
	h = &f->hits[n & (GCSCOPE_FATAL_HITS - 1)];
	h->addr = addr;
	h->off = addr - start + (pgoff << FATAL_PAGE_SHIFT);
	h->word = sc->word;
	h->file = (__u8)fi;
	f->nhits = n + 1;
	return 0;
}

static long fatal_word_cb(__u64 i, void *ctx)
{
	struct fatal_scan *sc = ctx;
	__u32 idx = (__u32)i;
	__u64 w;

	if (idx >= sc->nwords || idx >= FATAL_WORDS || sc->f->nhits >= GCSCOPE_FATAL_HITS)
		return 1;
	w = sc->buf->w[idx & (FATAL_WORDS - 1)];
	/* not code: small numbers, kernel addresses.  (Not "the stack's own
	 * range" either: glibc maps a thread's stack right below a library,
	 * whose code then lies within 16 KiB of sp.) */
	if (w < 0x10000 || w >= FATAL_USER_MAX)
		return 0;
	sc->word = (__u16)idx;
	sc->f->nlookups++;
	if (bpf_find_vma(bpf_get_current_task_btf(), w, fatal_vma_cb, sc, 0) == -16 /* EBUSY */)
		sc->f->nlookup_errs++;
	return 0;
}

/* One step of a file's path, leaf first, across mounts up to the root of
 * the mount namespace (what d_path() does, bounded). */
static long fatal_path_cb(__u64 i, void *ctx)
{
	struct fatal_scan *sc = ctx;
	struct gcscope_fatal_file *ff = &sc->f->files[sc->fi & (GCSCOPE_FATAL_FILES - 1)];
	struct dentry___fatal *d = sc->dentry, *parent;
	struct mount___fatal *m = sc->mount, *mp;
	const unsigned char *name;
	__u32 n = ff->ncomp;

	if (!d || !m)
		return 1;
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		mp = BPF_CORE_READ(m, mnt_parent);
		if (!mp || mp == m)
			return 1;	/* the root */
		sc->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		sc->mount = mp;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d)
		return 1;
	if (n >= GCSCOPE_FATAL_COMPS) {
		ff->truncated = 1;
		return 1;
	}
	name = BPF_CORE_READ(d, d_name.name);
	if (bpf_probe_read_kernel_str(ff->comp[n & (GCSCOPE_FATAL_COMPS - 1)], GCSCOPE_FATAL_COMP_LEN, name) < 0)
		ff->comp[n & (GCSCOPE_FATAL_COMPS - 1)][0] = '\0';
	ff->ncomp = n + 1;
	sc->dentry = parent;
	return 0;
}

static long fatal_file_cb(__u64 i, void *ctx)
{
	struct fatal_scan *sc = ctx;
	struct gcscope_fatal_file *ff;
	struct file___fatal *file;
	struct vfsmount___fatal *vm;
	__u32 fi = (__u32)i;

	if (fi >= sc->f->nfiles || fi >= GCSCOPE_FATAL_FILES)
		return 1;
	ff = &sc->f->files[fi & (GCSCOPE_FATAL_FILES - 1)];
	file = sc->file[fi & (GCSCOPE_FATAL_FILES - 1)];
	ff->ncomp = 0;
	ff->truncated = 0;
	ff->ino = BPF_CORE_READ(file, f_inode, i_ino);
	ff->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	vm = BPF_CORE_READ(file, f_path.mnt);
	sc->dentry = BPF_CORE_READ(file, f_path.dentry);
	/* struct mount embeds the vfsmount: container_of */
	sc->mount = vm ? (void *)vm - bpf_core_field_offset(struct mount___fatal, mnt) : NULL;
	sc->fi = fi;
	bpf_loop(3 * GCSCOPE_FATAL_COMPS, fatal_path_cb, sc, 0);
	return 0;
}

static __always_inline void fatal_native(struct gcscope_fatal *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs___fatal *regs = (void *)bpf_task_pt_regs(task);
	struct fatal_scan sc = { .f = f };
	__u32 zero = 0;

	sc.buf = bpf_map_lookup_elem(&fatal_stack, &zero);
	if (!sc.buf || !regs)
		return;
	f->ip = BPF_CORE_READ(regs, ip);
	f->sp = sc.sp = BPF_CORE_READ(regs, sp);
	f->flags |= GCSCOPE_FATAL_F_NATIVE;
	/* the interrupted instruction first: for a fault, the faulting one */
	sc.word = GCSCOPE_FATAL_HIT_IP;
	bpf_find_vma(task, f->ip, fatal_vma_cb, &sc, 0);
	bpf_loop(GCSCOPE_FATAL_STACK / FATAL_CHUNK, fatal_read_cb, &sc, 0);
	f->nwords = sc.nwords;
	bpf_loop(FATAL_WORDS, fatal_word_cb, &sc, 0);
	bpf_loop(GCSCOPE_FATAL_FILES, fatal_file_cb, &sc, 0);
}

/* sched_process_exit: a thread of the target ends; if it is in a collection,
 * the process is dying of it (a thread cannot leave a collection by
 * exiting: only the process's death ends it there). */
static __always_inline int fatal_on_exit(struct task_struct___fatal *task)
{
	long code;
	__u64 id = bpf_get_current_pid_tgid();
	struct gcscope_fatal *f;
	struct fatal_sig *fs;
	struct start *s;
	__u32 tid = (__u32)id, tgid = id >> 32, zero = 0, pkey = fatal_proc_key(tgid);

	if (!fatal_traced(tgid) || (__u32)BPF_CORE_READ(task, pid) != tid)
		return 0;	/* only the exiting thread's own memory is readable */
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->depth)
		return 0;
	/* do_exit(code) stored it: the signal, or the exit status << 8;
	 * do_group_exit() puts the same in signal->group_exit_code */
	code = BPF_CORE_READ(task, exit_code);
	if (!code)
		code = BPF_CORE_READ(task, signal, group_exit_code);
	f = bpf_map_lookup_elem(&fatal_buf, &zero);
	if (!f)
		return 0;
	f->type = GCSCOPE_EV_FATAL;
	f->flags = 0;
	f->pid = tgid;
	f->tid = tid;
	f->ts_start = s->ts;
	f->ts_exit = bpf_ktime_get_ns();
	f->gen_arg = s->gen_arg;
	f->exit_status = 0;
	f->sender = 0;
	f->nhits = f->nfiles = f->nwords = 0;
	f->nlookups = f->nlookup_errs = 0;
	f->nframes = f->stack_depth = f->stack_flags = 0;
	f->ip = f->sp = 0;
	bpf_get_current_comm(f->comm, sizeof(f->comm));
	fs = bpf_map_lookup_elem(&fatal_sigs, &tid);
	if (!fs)
		fs = bpf_map_lookup_elem(&fatal_sigs, &pkey);
	if (fs) {
		f->flags |= GCSCOPE_FATAL_F_SIGNAL;
		f->sig = fs->sig;
		f->sender = fs->sender;
		f->ts_signal = fs->ts;
		if (fs->sender == tgid)
			f->flags |= GCSCOPE_FATAL_F_SELF;
	} else {
		/* do_exit(code): the signal, or the exit status << 8 */
		f->sig = code & 0x7f;
		f->ts_signal = f->ts_exit;
		if (!f->sig) {
			f->flags |= GCSCOPE_FATAL_F_EXIT;
			f->exit_status = (code >> 8) & 0xff;
		}
	}
	if (targ_fatal_names) {
		f->flags |= GCSCOPE_FATAL_F_PYTHON;
		fatal_python(f);
	}
	fatal_native(f);
	f->obj = f->pytype = f->ts_entered = 0;
	if (targ_owners) {
		struct entered *en = bpf_map_lookup_elem(&entered, &tid);

		if (en && en->ts_start == s->ts) {
			f->flags |= GCSCOPE_FATAL_F_ENTERED;
			f->obj = en->obj;
			f->pytype = en->pytype;
			f->ts_entered = en->ts;
		}
	}
	if (bpf_ringbuf_output(&events, f, sizeof(*f), BPF_RB_FORCE_WAKEUP))
		count(GCSCOPE_CNT_LOST);
	return 0;
}

#endif /* __GCSCOPE_FATAL_BPF_H */
