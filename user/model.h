/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The data model of a trace: the values the correlator (correlate.h) builds
 * from the decoded ring-buffer records and hands to every sink (sink.h).
 *
 *   probe -> ring buffer -> decode (tracer.c) -> correlate -> sinks
 *
 * A struct gc_collection is one finished collection with everything known
 * of it.  It is only valid during the sink call that receives it: a sink
 * that keeps something copies it.  Every value gcscope could not learn is
 * marked unknown (a flag, -1 or NULL), never 0.
 */
#ifndef GCSCOPE_MODEL_H
#define GCSCOPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "gcscope.h"

struct pystack_result;
struct trace_stats;
struct obj_summary;
struct fatal_native;

#define GC_THREAD_NAME_LEN (GCSCOPE_COMM_LEN + 1)
#define GC_PY_THREAD_NAME_LEN 64
#define GC_TYPE_NAME_LEN 128

/* gc_collection.flags */
#define GC_HIDDEN	(1U << 0)	/* shorter than --min-ms: summarised, not shown */
#define GC_SAMPLED	(1U << 1)	/* inside a sampling window (the agent) */

/* A type's share of what one collection destroyed. */
struct gc_type_count {
	const char *name;		/* cleaned for a terminal; types sharing a name are merged */
	uint64_t count;
};

/* An object of a watched type that a collection destroyed on another thread
 * than its owner's (--owners).  The owner is the creating thread, or for a
 * QObject (qt) the thread it lives in when it dies (Qt's affinity, which
 * moveToThread() changes), or on a free-threaded build (heap) the thread
 * whose mimalloc heap holds it, which may have exited (owner_exited). */
struct gc_finding {
	uint64_t obj;			/* its address */
	const char *type;		/* its type's name */
	uint32_t owner_tid;		/* 0 if owner_exited */
	const char *owner_thread;	/* kernel name of the owner thread, cleaned; NULL if unknown */
	const char *owner_py_thread;	/* its threading.Thread name, NULL if unknown */
	uint64_t created_ns;		/* CLOCK_MONOTONIC, when it was made; 0 if unknown */
	bool qt;			/* owner_* is where the QObject lives */
	bool heap;			/* owner_* is the thread whose heap holds it */
	bool owner_exited;		/* that thread had exited: owner_* unknown */
	bool creator_known;		/* created_* below (and created_ns) are known */
	uint32_t created_tid;		/* the creating thread (= owner_tid unless qt) */
	const char *created_thread;	/* its kernel name when it created the object */
	const char *created_py_thread;	/* its threading.Thread name, NULL if unknown */
};

struct gc_collection {
	uint32_t pid;			/* tgid, in gcscope's pid namespace */
	uint32_t tid;			/* the collecting thread */
	const char *thread;		/* its kernel name (comm), cleaned */
	bool thread_unknown;		/* tid and thread are not known (the agent's memory
					 * tier: the interpreter's records name no thread) */
	const char *py_thread;		/* its threading.Thread name, NULL if unknown */
	bool py_threads_traced;		/* the trace looks Python thread names up */
	int gen;			/* -1 if unknown */
	uint64_t ts_start, ts_end;	/* CLOCK_MONOTONIC ns */
	uint64_t pause_ns;
	uint32_t flags;			/* GC_* */

	/* Counts: from the interpreter's generation_stats, or the probe's
	 * collected + uncollectable total (USDT gc__done), or unknown. */
	bool have_counts;
	int64_t collected, uncollectable;
	bool have_total;
	int64_t total;			/* the probe's unreachable count */
	/* 3.15+, from the interpreter's published records (struct
	 * gc_generation_stats, GH-146527): objects the collection examined,
	 * and GC-tracked objects when it started. */
	bool have_candidates;
	int64_t candidates;
	bool have_heap_size;
	int64_t heap_size;
	/* The memory tier (3.15+): collections of this generation just before
	 * this one whose records the interpreter's ring overwrote before they
	 * were read. */
	bool have_missed;
	uint64_t missed;

	/* --stack (and --owners, whose findings carry it): the collecting
	 * thread's Python stack; NULL if its record was lost. */
	bool stack_wanted;		/* a stack is shown with the collection */
	bool stack_known;		/* the trace captures stacks at all */
	const struct pystack_result *stack;

	/* --types/--owners: what the walk of the collected list found. */
	bool types_traced;		/* the trace walks collections */
	bool walked;			/* this one's walk arrived */
	uint64_t objects_seen;
	bool walk_capped, walk_faulted;
	const struct gc_type_count *types; /* most first */
	size_t ntypes;
	bool owners_traced;		/* the trace has --owners */
	const struct gc_finding *findings;
	size_t nfindings;
	/* objects of watched types it destroyed whose owner is not known (no
	 * creator recorded: made before the attach or, in the agent, outside
	 * the window; not QObjects, whose owner is read at death) */
	uint64_t owners_unknown;
};

/* --owners: an object of a watched type whose tp_traverse a collection on
 * another thread than its owner's entered, reported at that moment (before
 * any abort it causes: a PyO3 unsendable class). */
struct gc_touch {
	uint32_t pid, tid;		/* the collecting thread */
	const char *thread;		/* its name, cleaned */
	const char *py_thread;		/* its threading.Thread name, NULL if unknown */
	bool py_threads_traced;		/* (and f.owner_py_thread) looked up */
	uint64_t ts_start;		/* the collection's start */
	uint64_t ts;			/* when it entered tp_traverse */
	struct gc_finding f;		/* the object, its type and owner */
};

/* A collection the target died in: its thread reached do_exit() while
 * it ran (bpf/fatal.bpf.h, docs/fatal.md).  c holds what is known of the
 * collection so far: no end, no counts; pause_ns is how long it had run
 * when the signal came; its stack is the one read as the thread died, and
 * its types and findings are those sent before. */
struct gc_fatal {
	struct gc_collection c;
	int sig;			/* the signal number, 0 if it exited */
	bool exited;			/* no signal: exit_status */
	int exit_status;
	bool signal_seen;		/* the signal was seen generated: sender, ts_signal */
	uint32_t sender;		/* pid of the process that generated it */
	bool self;			/* generated by the process itself: abort(), a fault */
	uint64_t ts_signal;		/* CLOCK_MONOTONIC ns (the exit's, if not seen) */
	const struct fatal_native *native; /* its native frames, phase; NULL if not scanned */
	/* --owners: the object whose tp_traverse (of a watched extension type)
	 * the thread entered last in this collection; obj_type NULL if none */
	uint64_t obj;
	const char *obj_type;
	uint64_t ts_entered;
	bool python_read;		/* c.stack was read at the signal */
	const char *stack_why;		/* why there is no stack, or NULL */
	unsigned stack_more;		/* outer frames captured but not named (past GCSCOPE_FATAL_FRAMES) */
};

/* What a trace is attached to, and how. */
struct gc_attach {
	uint32_t pid;
	const char *comm;
	const char *python;		/* "3.11.2" */
	const char *version_source;
	const char *binary;		/* the ELF with the runtime, as the target sees it */
	const char *root;		/* "/" or the target's root */
	const char *probe;		/* "usdt", "uprobe"; NULL: none (the memory tier) */
	const char *tier;		/* the agent's "bpf" or "memory"; NULL: not the agent */
	const char *probe_detail;
	bool counts;			/* collected/uncollectable are read */
	const char *counts_why;		/* why not */
	bool launched;			/* gcscope started it (-- CMD) */
	bool stack_requested;		/* --stack */
	bool stacks;			/* and they can be had */
	const char *stacks_why;
	int64_t mono_to_real;		/* add to a CLOCK_MONOTONIC ns for wall-clock ns */
};

/* The agent's memory tier before 3.15 (user/memtier.h): what the target's
 * own running totals per generation (gc.get_stats()) grew by between two
 * reads.  A generation not known at both reads, or whose totals went back
 * (untrusted memory), is not known: the read cannot tell what happened. */
#define GC_COUNTS_NGEN 4
struct gc_counts {
	uint32_t pid;
	uint64_t ts, ts_prev;		/* CLOCK_MONOTONIC ns: this read, the one before */
	int ngen;
	struct {
		bool known;
		uint64_t collections, collected, uncollectable;
	} gen[GC_COUNTS_NGEN];
};

/* The agent's type windows (user/typewin.h): one window closed, with what
 * its walks found.  The collections a window walked are also in their own
 * collection records (with types); this is their sum, as the agent serves
 * it.  Counts of a generation not known (a walk without its collection
 * record) are in gen 3. */
#define GC_WINDOW_NGEN 4
struct gc_window_type {
	const char *name;		/* "other": those past the window's room */
	uint64_t count;
};

struct gc_window_pair {
	const char *type;
	const char *owner;		/* owner thread: Python name, or kernel name */
	const char *thread;		/* collecting thread, likewise */
	uint64_t count;
};

/* --window-stacks: a Python stack that ran collections of the window,
 * innermost frame first (as pystack_result), cut to the innermost few. */
struct pystack_frame;

struct gc_window_stack {
	const struct pystack_frame *frames;
	int nframes;
	bool truncated;			/* more frames than these */
	uint64_t collections;
	uint64_t pause_ns;		/* those collections' pauses in all */
};

struct gc_type_window {
	uint32_t pid;
	uint64_t window;		/* the target's windows so far, this one included */
	uint64_t ts_start, ts_end;	/* CLOCK_MONOTONIC ns */
	const char *closed_by;		/* "time", "budget", or the trace's end (gc_end.reason) */
	uint64_t collections[GC_WINDOW_NGEN];
	uint64_t objects_seen;
	uint64_t walks_capped;		/* walks stopped at --max-objects */
	const struct gc_window_type *types; /* most first */
	size_t ntypes;
	bool owners_traced;
	uint64_t findings;		/* in all: the sum of pairs' counts */
	uint64_t owners_unknown;	/* watched objects destroyed, owner unknown (gc_collection) */
	const struct gc_window_pair *pairs; /* most first */
	size_t npairs;
	bool stacks_traced;		/* --window-stacks */
	const struct gc_window_stack *stacks; /* the most frequent first */
	size_t nstacks;
	uint64_t stacks_other;		/* collections of the stacks not listed */
	uint64_t no_stack;		/* walked collections without a stack (lost, no thread state) */
	uint64_t walk_ns;		/* the walks' cost in this window */
	double budget;			/* the fraction of the target's time allowed */
	double budget_used;		/* walks' total since the attach / time since the attach */
};

/* How the target ended, when it did. */
enum gc_exit_kind {
	GC_EXIT_UNKNOWN = 0,		/* not ours to reap (-p) and no signal seen */
	GC_EXIT_STATUS,			/* exited with status */
	GC_EXIT_SIGNAL,			/* killed by signal */
};

/* The end of a trace, with its summary. */
struct gc_end {
	const char *reason;		/* "signal", "target exited", "duration elapsed", ... */
	uint64_t wall_ns;		/* how long the trace ran */
	uint64_t lost;			/* collection events lost (ring buffer full) */
	uint64_t unpaired;		/* collections already running at attach */
	uint64_t hidden;		/* collections hidden by --min-ms */
	uint64_t fatal;			/* collections the target died in (struct gc_fatal) */
	double min_ms;
	enum gc_exit_kind exit_kind;
	int exit_value;			/* status or signal number */
	struct trace_stats *stats;	/* summary; sinks may sort its tables */
	struct obj_summary *objects;	/* NULL without --types/--owners */
};

#endif
