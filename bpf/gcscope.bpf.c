// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Collection events of CPython's cyclic GC.
 *
 * Two ways in, chosen by user space (user/probe.c):
 *  - USDT python:gc__start(int generation) / python:gc__done(long n+m), in
 *    --with-dtrace builds (Debian's).  Both fire inside the collector, on the
 *    collecting thread (Include/pydtrace.d; Modules/gcmodule.c <= 3.12,
 *    Python/gc.c 3.13+).
 *  - a uprobe and a uretprobe on the collector function itself
 *    (collect / gc_collect_main / _PyGC_Collect), found in the symbol table.
 *
 * Either way the generation and the counts are also taken from the
 * interpreter's own gcstate->generation_stats, read at start and at end: the
 * generation whose "collections" moved is the one collected, and the
 * collected/uncollectable deltas are exactly what gc.get_stats() will show.
 * That needs no knowledge of the probed function's ABI, which GCC changes in
 * .isra/.constprop clones.
 *
 * From 3.15 (GH-146527, PR #146532) gcstate->generation_stats points to a
 * struct gc_stats: one ring of records per generation, each with the index
 * of the slot last written.  A record holds the same running totals (and
 * candidates, heap_size), so the newest record of each ring plays the part
 * of the 3.9-3.14 array entry.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "gcscope.h"
#include "shared.bpf.h"
#include "pystack.bpf.h"

/* Set by user space before load (user/trace.c). */
const volatile __u32 targ_tgid = 0;
const volatile bool targ_have_stats = false;
const volatile __u64 targ_runtime = 0;		/* &_PyRuntime in the target */
const volatile __u64 targ_off_interp_main = 0;	/* runtime.interpreters_main */
const volatile __u64 targ_off_interp_gc = 0;	/* interp.gc */
const volatile __u64 targ_off_gen_stats = 0;	/* gc.generation_stats */
const volatile __u64 targ_stats_stride = 24;	/* gc_stats.sizeof */
/* 3.15+: gc.generation_stats is a pointer to rings (pylayout.tsv gc_ring.*) */
const volatile bool targ_stats_ring = false;
const volatile __u64 targ_ring_base[GCSCOPE_NGEN] = {};	/* a ring's items[] in struct gc_stats */
const volatile __u64 targ_ring_index[GCSCOPE_NGEN] = {};	/* its int8_t index */
const volatile __u32 targ_ring_len[GCSCOPE_NGEN] = {};	/* its slots */
/* Offsets in a record (8-aligned, inside GCSCOPE_REC_MAX: user/probe.c checks) */
const volatile __u32 targ_st_collections = 0;
const volatile __u32 targ_st_collected = 8;
const volatile __u32 targ_st_uncollectable = 16;
const volatile __u32 targ_st_candidates = 0;
const volatile __u32 targ_st_heap_size = 0;
const volatile bool targ_gen_in_parm2 = false;	/* uprobe: 2nd argument is the generation */
const volatile bool targ_ret_is_total = false;	/* uretprobe: return value is n+m */
/* Free-threaded builds (3.13t, Python/gc_free_threading.c gc_collect_main):
 * a call that finds gcstate->collecting set returns 0 at once, with the
 * world running, so another thread's collection can end inside it and move
 * generation_stats; only the thread that collected returns what they moved
 * by (n + m).  Under the GIL the collecting thread cannot finish inside
 * such a call: the call does not release the GIL. */
const volatile bool targ_total_tells_own = false;
const volatile __u64 targ_wakeup_bytes = 0;	/* wake user space past this much data */

struct start {
	__u64 ts;
	__u64 gcstate;
	__s32 gen_arg;
	__u32 depth;		/* nested entries of the probed function (3.13: re-entry returns 0) */
	__u32 stats_ok;
	__u32 in_window;	/* windowed stacks (--window-stacks, the agent's type windows): began while a window was open */
	__u64 sp;		/* the user stack pointer at the outermost entry */
	struct gcscope_gen_stats before[GCSCOPE_NGEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GCSCOPE_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Shared (bpf/shared.bpf.h): each target's counters are its slot's, so
 * that they stay its own; a process with no slot counts nowhere. */
static __always_inline __u32 counter_key(__u32 what)
{
	struct gcscope_target *tg;

	if (!targ_shared)
		return what;
	tg = shared_target(bpf_get_current_pid_tgid() >> 32);
	return tg ? tg->slot * GCSCOPE_CNT__MAX + what : (__u32)-1;
}

static __always_inline void count(__u32 what)
{
	__u32 key = counter_key(what);
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		(*v)++;
}

static __always_inline void count_add(__u32 what, __u64 n)
{
	__u32 key = counter_key(what);
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += n;
}

#include "objects.bpf.h"
#include "fatal.bpf.h"

/* The main interpreter's GC state, read through _PyRuntime each time: in a
 * process started under gcscope the runtime is not initialised yet when the
 * probes are attached. */
static __always_inline __u64 gcstate_addr(__u64 runtime)
{
	__u64 interp = 0;

	if (bpf_probe_read_user(&interp, sizeof(interp),
				(void *)(runtime + targ_off_interp_main)) || !interp)
		return 0;
	return interp + targ_off_interp_gc;
}

#define GCSCOPE_REC_MAX 64	/* bytes of a 3.15 record read at once */

static __always_inline __s64 rec_field(const __u8 *rec, __u32 off)
{
	return *(const __s64 *)(rec + (off & (GCSCOPE_REC_MAX - 8)));
}

/* 3.15+: the newest record of each ring.  The pointer, the index and the
 * record are the target's: a failed read or an index outside the ring is a
 * fault, not a value. */
static __always_inline int read_ring(__u64 gcstate, struct gcscope_gen_stats *out)
{
	__u8 rec[GCSCOPE_REC_MAX];
	__u64 ring = 0;

	if (bpf_probe_read_user(&ring, sizeof(ring), (void *)(gcstate + targ_off_gen_stats)) || !ring)
		return -1;
	for (int i = 0; i < GCSCOPE_NGEN; i++) {
		__s8 idx = -1;

		if (bpf_probe_read_user(&idx, sizeof(idx), (void *)(ring + targ_ring_index[i])))
			return -1;
		if (idx < 0 || (__u32)idx >= targ_ring_len[i])
			return -1;
		if (bpf_probe_read_user(rec, sizeof(rec),
					(void *)(ring + targ_ring_base[i] + (__u64)idx * targ_stats_stride)))
			return -1;
		out[i].collections = rec_field(rec, targ_st_collections);
		out[i].collected = rec_field(rec, targ_st_collected);
		out[i].uncollectable = rec_field(rec, targ_st_uncollectable);
		out[i].candidates = rec_field(rec, targ_st_candidates);
		out[i].heap_size = rec_field(rec, targ_st_heap_size);
	}
	return 0;
}

static __always_inline int read_stats(__u64 gcstate, struct gcscope_gen_stats *out)
{
	if (targ_stats_ring)
		return read_ring(gcstate, out);
	for (int i = 0; i < GCSCOPE_NGEN; i++) {
		/* {collections, collected, uncollectable}: three int64s */
		if (bpf_probe_read_user(&out[i], 3 * sizeof(__s64),
					(void *)(gcstate + targ_off_gen_stats + i * targ_stats_stride)))
			return -1;
		out[i].candidates = 0;
		out[i].heap_size = 0;
	}
	return 0;
}

static __always_inline int on_start(__s32 gen_arg, __u64 sp)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct start *cur, s = {};
	__u64 runtime = targ_runtime;

	if (targ_shared) {
		struct gcscope_target *tg = shared_target(id >> 32);

		if (!tg)
			return 0;
		runtime = tg->runtime;
	} else if (targ_tgid && (id >> 32) != targ_tgid) {
		return 0;
	}
	cur = bpf_map_lookup_elem(&starts, &tid);
	if (cur && cur->depth) {
		/* A real re-entry runs deeper in the same stack (the stack grows
		 * down).  An entry at the same depth or above is a new
		 * collection: the end of the one recorded was never seen (it
		 * began before the end probe was attached, or its uretprobe
		 * was lost), and nesting it would leave the depth off by one,
		 * so that no collection of this thread would ever be reported
		 * again. */
		if (sp < cur->sp) {
			cur->depth++;
			return 0;
		}
		count(GCSCOPE_CNT_NO_DONE);
	}
	s.ts = bpf_ktime_get_ns();
	s.sp = sp;
	s.gen_arg = gen_arg;
	s.depth = 1;
	/* a collection belongs to the window it began in: its stack is read
	 * here and its walk needs it (objects.bpf.h), so that one that began
	 * just before a window opened or after it closed, while the walk's
	 * probes were still being attached or removed, is not a walked
	 * collection without a stack */
	s.in_window = targ_stack_windowed && stack_window;
	if (targ_stack || s.in_window)
		pystack_emit(&events, tid, s.ts);
	if (targ_have_stats) {
		s.gcstate = gcstate_addr(runtime);
		if (s.gcstate && !read_stats(s.gcstate, s.before))
			s.stats_ok = 1;
		else
			count(GCSCOPE_CNT_STATS_FAULT);
	}
	if (bpf_map_update_elem(&starts, &tid, &s, BPF_ANY))
		count(GCSCOPE_CNT_START_FULL);
	return 0;
}

static __always_inline int on_done(__s64 total, bool have_total)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct gcscope_gen_stats after[GCSCOPE_NGEN];
	struct gcscope_collection *e;
	struct start *s;

	if (targ_shared ? !shared_target(id >> 32) : targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->depth) {
		count(GCSCOPE_CNT_NO_START);
		return 0;
	}
	if (--s->depth)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GCSCOPE_CNT_LOST);
		bpf_map_delete_elem(&starts, &tid);
		return 0;
	}
	e->type = GCSCOPE_EV_COLLECTION;
	e->flags = have_total ? GCSCOPE_F_TOTAL_ARG : 0;
	e->pid = id >> 32;
	e->tid = tid;
	e->ts_start = s->ts;
	e->ts_end = bpf_ktime_get_ns();
	e->gen_arg = s->gen_arg;
	e->gen = s->gen_arg;
	e->total_arg = total;
	e->collected = -1;
	e->uncollectable = -1;
	e->candidates = -1;
	e->heap_size = -1;
	e->gcstate = s->gcstate;
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	if (s->stats_ok && !read_stats(s->gcstate, after)) {
		/* Only the collected generation's counter moves (gc_collect_main
		 * updates generation_stats[generation], 3.9-3.14, or writes the
		 * next record of that generation's ring, 3.15). */
		for (int g = GCSCOPE_NGEN - 1; g >= 0; g--) {
			if (after[g].collections == s->before[g].collections)
				continue;
			if (targ_total_tells_own && have_total &&
			    total != (after[g].collected - s->before[g].collected) +
					     (after[g].uncollectable - s->before[g].uncollectable))
				break;	/* another thread's collection: below */
			e->gen = g;
			e->collected = after[g].collected - s->before[g].collected;
			e->uncollectable = after[g].uncollectable - s->before[g].uncollectable;
			e->flags |= GCSCOPE_F_STATS | GCSCOPE_F_GEN_FROM_STATS;
			if (targ_stats_ring) {
				e->candidates = after[g].candidates - s->before[g].candidates;
				e->heap_size = after[g].heap_size;
				e->flags |= GCSCOPE_F_RING;
			}
			break;
		}
		/* No counter moved: the collector was entered but collected
		 * nothing, e.g. 3.13's gc_collect_main() returning 0 at once
		 * while another thread collects (gcstate->collecting); or they
		 * moved by another thread's collection (targ_total_tells_own).
		 * Not a collection: counted, not reported. */
		if (!(e->flags & GCSCOPE_F_STATS)) {
			bpf_ringbuf_discard(e, 0);
			bpf_map_delete_elem(&starts, &tid);
			count(GCSCOPE_CNT_NOT_COLLECTED);
			return 0;
		}
	} else if (s->stats_ok) {
		count(GCSCOPE_CNT_STATS_FAULT);
	}
	bpf_map_delete_elem(&starts, &tid);
	/* Waking the reader for every collection costs the target more than
	 * the probe itself when collections are frequent (make bench): wake it
	 * only once a batch has piled up; it polls every 100 ms anyway. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes ?
				      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_gc_start, int generation)
{
	return on_start(generation, PT_REGS_SP(ctx));
}

SEC("usdt")
int BPF_USDT(usdt_gc_done, long n)
{
	return on_done(n, true);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_collect_entry)
{
	return on_start(targ_gen_in_parm2 ? (__s32)PT_REGS_PARM2(ctx) : -1, PT_REGS_SP(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_collect_return, long ret)
{
	return on_done(ret, targ_ret_is_total);
}

/* --types / --owners (bpf/objects.bpf.h) */
SEC("uprobe")
int BPF_KPROBE(uprobe_collected)
{
	return walk_collected(ctx);
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_alloc_return, void *obj)
{
	return owner_alloc((__u64)obj, false);
}

/* Inside an allocator, just past the store of the new object's type
 * (user/allocsite.c): the cookie is the pt_regs offset of the register
 * that holds the object there.  One emulated uprobe instead of two traps. */
SEC("uprobe")
int uprobe_alloc_at(struct pt_regs *ctx)
{
	return owner_alloc(site_reg(ctx, (__u32)bpf_get_attach_cookie(ctx)), false);
}

/* PyObject_GC_Track(op): where instances that no hooked allocator made
 * (shiboken's, some extensions' PyObject_GC_New + track) first show up */
SEC("uprobe")
int BPF_KPROBE(uprobe_gc_track, void *obj)
{
	return owner_alloc((__u64)obj, true);
}

/* --owners from the heap (free-threaded builds, no allocation hook): a new
 * extension type is asked about as it is made, so that its tp_traverse is
 * hooked before a collection enters it.  A static type at the return of
 * its PyType_Ready(type); a heap type at the return of PyType_From*Spec*()
 * or PyType_FromMetaclass(), once its __module__ and MRO are set. */
SEC("uprobe")
int BPF_KPROBE(uprobe_type_ready, void *type)
{
	return type_ready_enter((__u64)type);
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_type_ready_ret, long ret)
{
	return type_ready_exit(ret);
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_type_made, void *type)
{
	return type_made((__u64)type);
}

/* attached by user space to the tp_dealloc of each watched type */
SEC("uprobe")
int BPF_KPROBE(uprobe_dealloc, void *obj)
{
	return owner_free((__u64)obj);
}

/* attached by user space to the tp_traverse of watched extension types */
SEC("uprobe")
int BPF_KPROBE(uprobe_traverse, void *obj)
{
	return traverse_enter((__u64)obj);
}

/* The collection that kills the process (bpf/fatal.bpf.h) */
SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, void *info, struct task_struct___fatal *task, int group, int result)
{
	return fatal_on_signal(sig, task, result);
}

/* Recent kernels (2025; checked on 6.18) fire this tracepoint before
 * exit_mm() in do_exit(), so that BPF can read the exiting thread's memory; fentry and kprobes are refused
 * on the machines tested (EPERM, and no kprobe PMU without tracefs). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct___fatal *task)
{
	return fatal_on_exit(task);
}

char LICENSE[] SEC("license") = "GPL";
