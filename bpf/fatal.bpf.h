/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The collection that kills the process (docs/fatal.md).  Included by
 * bpf/gcscope.bpf.c after its maps and bpf/pystack.bpf.h.
 *
 * A PyO3 unsendable class aborts in tp_traverse; an extension's tp_clear
 * dereferences freed memory: the process dies of a signal in the middle of
 * a collection, and its collection record never comes.  By the time user
 * space hears of the exit, the process's memory is gone, so what is needed
 * is read here, when the fatal signal is generated (tp_btf/signal_generate,
 * which needs no tracefs): in the dying thread's own context for abort()
 * (tgkill on itself) and for a fault (force_sig_fault), so its user memory
 * is readable.
 *
 * One GCSCOPE_EV_FATAL record: the signal, the thread, its collection from
 * the `starts` map (ts_start, the generation if the probe gave it), the
 * user-space return addresses (bpf_get_stack, frame-pointer unwinding, may
 * be short), and, when stacks are configured (--stack, --owners), the
 * innermost Python frames with their names and line tables copied out, as
 * user space cannot read them afterwards (user/pystack.c decodes them).
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

struct task_struct___fatal {
	int pid;
	int tgid;
	char comm[16];
	struct sighand_struct___fatal *sighand;
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

static __always_inline int fatal_on_signal(void *ctx, int sig, struct task_struct___fatal *task, int result)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gcscope_fatal *f;
	struct start *s;
	__u32 tid, zero = 0;
	long n;

	if (result != FATAL_TRACE_SIGNAL_DELIVERED && result != FATAL_TRACE_SIGNAL_LOSE_INFO)
		return 0;
	if ((__u32)BPF_CORE_READ(task, tgid) != targ_tgid)
		return 0;
	if (!fatal_signal(sig, task))
		return 0;
	tid = (__u32)BPF_CORE_READ(task, pid);
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->depth)
		return 0;	/* not in a collection: the summary says how it ended */
	f = bpf_map_lookup_elem(&fatal_buf, &zero);
	if (!f)
		return 0;
	f->type = GCSCOPE_EV_FATAL;
	f->flags = 0;
	f->pid = targ_tgid;
	f->tid = tid;
	f->sig = (__u32)sig;
	f->sender = id >> 32;
	f->ts_start = s->ts;
	f->ts_signal = bpf_ktime_get_ns();
	f->gen_arg = s->gen_arg;
	f->nnative = 0;
	f->nframes = 0;
	f->stack_depth = 0;
	f->stack_flags = 0;
	bpf_core_read_str(f->comm, sizeof(f->comm), &task->comm);
	/* The thread's memory can only be read from its own context: abort()
	 * and faults are; a kill() from another process is not. */
	if ((__u32)id == tid) {
		f->flags |= GCSCOPE_FATAL_F_SELF;
		n = bpf_get_stack(ctx, f->native, sizeof(f->native), BPF_F_USER_STACK);
		if (n > 0)
			f->nnative = (__u32)(n / sizeof(__u64));
		if (targ_fatal_names) {
			f->flags |= GCSCOPE_FATAL_F_PYTHON;
			fatal_python(f);
		}
	}
	/* the process is about to die: wake the reader now */
	if (bpf_ringbuf_output(&events, f, sizeof(*f), BPF_RB_FORCE_WAKEUP))
		count(GCSCOPE_CNT_LOST);
	return 0;
}

#endif /* __GCSCOPE_FATAL_BPF_H */
