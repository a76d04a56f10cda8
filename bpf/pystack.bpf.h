/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The Python stack of the current thread, as raw (code object, instruction)
 * pairs, innermost first.  Included by bpf/gcscope.bpf.c; user space
 * (user/pystack.c) sets the targ_ps_* offsets before load and symbolizes
 * the pairs from the target's memory.  See docs/stacks.md.
 *
 *   pystack_emit(rb, tid, ts)  at collection start: capture, and send one
 *                              GCSCOPE_EV_STACK record into the ring buffer
 *
 * Finding the thread's PyThreadState: the USDT probes give none, so walk
 * the main interpreter's thread list (interp->threads.head, tstate->next)
 * for the one whose native_thread_id is our tid (3.11+), or whose thread_id
 * (pthread_self(), 3.9/3.10 have nothing else) is our fs base: on x86-64
 * glibc pthread_self() is the thread's TCB, which is what fs points to.
 * Thread ids are compared as the root pid namespace sees them.
 *
 * The frame chain:
 *   3.9/3.10  tstate->frame, PyFrameObject: f_back, f_code, int f_lasti
 *   3.11/3.12 tstate->cframe->current_frame, _PyInterpreterFrame:
 *             previous, f_code, prev_instr (a _Py_CODEUNIT *)
 *   3.13      tstate->current_frame: previous, f_executable, instr_ptr
 *   3.14      the same, f_executable a _PyStackRef (low tag bits set)
 * Frames whose owner is FRAME_OWNED_BY_CSTACK (3.12+) or
 * FRAME_OWNED_BY_INTERPRETER (3.14) are the interpreter's entry shims, not
 * Python code, and are skipped.
 */
#ifndef __PYSTACK_BPF_H
#define __PYSTACK_BPF_H

#include <bpf/bpf_core_read.h>
#include "gcscope.h"

#define PYSTACK_MAX_THREADS	128	/* threads looked at in the list */
#define PYSTACK_MAX_WALK	64	/* frames looked at, shims included */
#define PYSTACK_BLK		256	/* bytes of a tstate or frame read at once */

/* Set by user space before load (user/pystack.c: pystack_configure()). */
const volatile bool targ_stack = false;
/* The agent's --window-stacks: captured only while a type window is open,
 * which user space says in stack_window (.bss, written through the
 * skeleton's mapping: tracer_walk()). */
const volatile bool targ_stack_windowed = false;
volatile bool stack_window = false;
const volatile __u64 targ_ps_runtime = 0;	/* &_PyRuntime */
const volatile __u64 targ_ps_interp_main = 0;	/* runtime.interpreters_main */
const volatile __u64 targ_ps_threads_head = 0;	/* interp.threads_head */
const volatile __u32 targ_ps_tstate_next = 0;	/* tstate.next */
const volatile __u32 targ_ps_tstate_tid = 0;	/* tstate.native_thread_id or .thread_id */
const volatile bool targ_ps_tid_is_native = true; /* else compare with the fs base */
const volatile __u32 targ_ps_tstate_frame = 0;	/* tstate.frame / .cframe / .current_frame */
const volatile __u32 targ_ps_tstate_blk = 8;	/* bytes of tstate covering the three */
const volatile bool targ_ps_cframe = false;	/* 3.11/3.12: through _PyCFrame */
const volatile __u32 targ_ps_cframe_current = 0; /* cframe.current_frame */
const volatile __u32 targ_ps_frame_back = 0;	/* f_back / previous */
const volatile __u32 targ_ps_frame_code = 0;	/* f_code / f_executable */
const volatile __u32 targ_ps_frame_instr = 0;	/* f_lasti / prev_instr / instr_ptr */
const volatile bool targ_ps_instr_is_int = false; /* int f_lasti (3.9/3.10) */
const volatile bool targ_ps_have_owner = false;	/* 3.12+ */
const volatile __u32 targ_ps_frame_owner = 0;	/* _PyInterpreterFrame.owner (a char) */
const volatile __u32 targ_ps_owner_shim = 255;	/* owners >= this run no Python code */
const volatile __u32 targ_ps_frame_blk = 8;	/* bytes of a frame covering the fields */
const volatile __u64 targ_ps_code_mask = ~0ULL;	/* ~Py_TAG_BITS (3.14) */

/* Minimal kernel types for CO-RE: only the fields we read.  fsbase is
 * x86-64's (struct thread_struct, arch/x86/include/asm/processor.h). */
struct thread_struct {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_struct thread;
} __attribute__((preserve_access_index));

struct pystack_scratch {
	struct gcscope_stack st;
	__u8 blk[PYSTACK_BLK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pystack_scratch);
} pystack_scratch SEC(".maps");

/* User space checks that every offset is 8-aligned and inside the block;
 * the masks only show the verifier the bounds. */
static __always_inline __u64 pystack_u64(const __u8 *blk, __u32 off)
{
	return *(const __u64 *)(blk + (off & (PYSTACK_BLK - 8)));
}

static __always_inline __u32 pystack_blk(__u32 size)
{
	return size > PYSTACK_BLK ? PYSTACK_BLK : size;
}

static __always_inline struct pystack_scratch *pystack_sc(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pystack_scratch, &zero);
}

/* Loops are bpf_loop() callbacks: verified once, not once per iteration
 * with every combination of branches (which exceeds the verifier's 1M
 * instructions for a 64-frame walk). */
struct pystack_walk {
	__u64 ptr;		/* the tstate or frame to look at next */
	__u64 want;		/* thread walk: the value of tstate_tid we look for */
	__u64 found;		/* thread walk: the tstate */
	__u64 frame;		/* thread walk: its frame pointer field */
	__u32 n;		/* frame walk: frames captured */
	__u32 flags;
};

static long pystack_thread_cb(__u64 i, void *ctx)
{
	struct pystack_walk *w = ctx;
	struct pystack_scratch *sc = pystack_sc();

	if (!sc || !w->ptr ||
	    bpf_probe_read_user(sc->blk, pystack_blk(targ_ps_tstate_blk), (void *)w->ptr))
		return 1;
	if (pystack_u64(sc->blk, targ_ps_tstate_tid) == w->want) {
		w->found = w->ptr;
		w->frame = pystack_u64(sc->blk, targ_ps_tstate_frame);
		return 1;
	}
	w->ptr = pystack_u64(sc->blk, targ_ps_tstate_next);
	return 0;
}

/* The PyThreadState of the current thread in the main interpreter, and its
 * frame pointer field; 0 if not found. */
static __always_inline __u64 pystack_tstate(__u64 *frame)
{
	struct pystack_walk w = {};
	__u64 interp = 0, runtime = targ_ps_runtime;

	if (targ_shared) {
		struct gcscope_target *tg = shared_target(bpf_get_current_pid_tgid() >> 32);

		if (!tg)
			return 0;
		runtime = tg->runtime;
	}
	if (bpf_probe_read_user(&interp, sizeof(interp), (void *)(runtime + targ_ps_interp_main)) ||
	    !interp)
		return 0;
	if (bpf_probe_read_user(&w.ptr, sizeof(w.ptr), (void *)(interp + targ_ps_threads_head)))
		return 0;
	if (targ_ps_tid_is_native) {
		w.want = (__u32)bpf_get_current_pid_tgid();
	} else {
		struct task_struct *task = (void *)bpf_get_current_task();

		w.want = BPF_CORE_READ(task, thread.fsbase);
	}
	bpf_loop(PYSTACK_MAX_THREADS, pystack_thread_cb, &w, 0);
	*frame = w.frame;
	return w.found;
}

static long pystack_frame_cb(__u64 i, void *ctx)
{
	struct pystack_walk *w = ctx;
	struct pystack_scratch *sc = pystack_sc();
	__u64 code, instr;
	__u32 n = w->n;

	if (!sc || !w->ptr)
		return 1;
	if (bpf_probe_read_user(sc->blk, pystack_blk(targ_ps_frame_blk), (void *)w->ptr)) {
		w->flags |= GCSCOPE_STACK_F_FAULT;
		return 1;
	}
	w->ptr = pystack_u64(sc->blk, targ_ps_frame_back);
	if (targ_ps_have_owner && sc->blk[targ_ps_frame_owner & (PYSTACK_BLK - 1)] >= targ_ps_owner_shim)
		return 0;
	if (n >= GCSCOPE_STACK_MAX) {
		w->flags |= GCSCOPE_STACK_F_TRUNCATED;
		return 1;
	}
	code = pystack_u64(sc->blk, targ_ps_frame_code) & targ_ps_code_mask;
	instr = pystack_u64(sc->blk, targ_ps_frame_instr);
	if (targ_ps_instr_is_int)
		instr = (__u64)(__s64)(__s32)instr;	/* int f_lasti, may be -1 */
	sc->st.frames[n & (GCSCOPE_STACK_MAX - 1)].code = code;
	sc->st.frames[n & (GCSCOPE_STACK_MAX - 1)].instr = instr;
	w->n = n + 1;
	return 0;
}

/* Fill sc->st with the current thread's Python stack. */
static __always_inline void pystack_capture(struct pystack_scratch *sc)
{
	struct gcscope_stack *st = &sc->st;
	struct pystack_walk w = {};
	__u64 frame = 0;
	long loops;

	st->flags = 0;
	st->nframes = 0;
	st->tstate = pystack_tstate(&frame);
	if (!st->tstate) {
		st->flags = GCSCOPE_STACK_F_NO_TSTATE;
		return;
	}
	if (targ_ps_cframe && frame &&
	    bpf_probe_read_user(&frame, sizeof(frame), (void *)(frame + targ_ps_cframe_current))) {
		st->flags = GCSCOPE_STACK_F_FAULT;
		return;
	}
	w.ptr = frame;
	loops = bpf_loop(PYSTACK_MAX_WALK, pystack_frame_cb, &w, 0);
	if (loops == PYSTACK_MAX_WALK && w.ptr)
		w.flags |= GCSCOPE_STACK_F_TRUNCATED;
	/* the callbacks wrote the frames through their own lookup of the
	 * same per-CPU scratch */
	st->flags = w.flags;
	st->nframes = w.n;
}

/* Capture the current thread's stack and send it into ringbuf as a
 * GCSCOPE_EV_STACK record, now: it precedes its collection's record, which
 * user space pairs it with by (tid, ts_start).  Only the frames captured
 * are sent, and the reader is not woken for it.  (Keeping it in a map until
 * the collection's end instead cost the target 5 us more per collection,
 * mostly the allocation of a map entry: docs/stacks.md.) */
static __always_inline void pystack_emit(void *ringbuf, __u32 tid, __u64 ts_start)
{
	struct pystack_scratch *sc = pystack_sc();
	__u32 n;

	if (!sc)
		return;
	pystack_capture(sc);
	sc->st.type = GCSCOPE_EV_STACK;
	sc->st.tid = tid;
	sc->st.ts_start = ts_start;
	n = sc->st.nframes;
	if (n > GCSCOPE_STACK_MAX)
		n = GCSCOPE_STACK_MAX;
	/* lost like any record when the buffer is full; the collection's own
	 * record then says so */
	bpf_ringbuf_output(ringbuf, &sc->st,
			   __builtin_offsetof(struct gcscope_stack, frames) + n * sizeof(struct gcscope_frame),
			   BPF_RB_NO_WAKEUP);
}

#endif /* __PYSTACK_BPF_H */
