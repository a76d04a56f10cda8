/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A tracer: everything gcscope holds for one traced process — its target
 * (user/target.h), its probe plan, its BPF object with rodata, links and
 * counters, its pidfd, and the correlator that turns its records into
 * collections for the sinks.  No file-scope state: many tracers can share
 * one event loop and one libbpf ring_buffer (ring_buffer__add), each
 * tracer's records reaching its own correlator.
 *
 * Lifecycle as in bcc's libbpf-tools: open (target, plan, BPF open, rodata,
 * load, attach), poll, end (summary), close (detach).
 */
#ifndef GCSCOPE_TRACER_H
#define GCSCOPE_TRACER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <bpf/libbpf.h>

#include "probe.h"
#include "sink.h"

struct ring_buffer;
struct tracer;

/* libbpf's messages (libbpf_set_print): none without -v, whose failures
 * gcscope says in one line of its own ("run with -v for details"); a
 * failed load's verifier log alone can be megabytes.  -v: warnings and
 * information, -vv: libbpf's debug lines too. */
int tracer_libbpf_print(enum libbpf_print_level level, const char *format, va_list args);

struct tracer_opts {
	enum probe_kind probe;		/* PROBE_AUTO, or forced */
	bool no_debuginfo;
	long ringbuf_kb;		/* a power of 2 */
	bool stack;			/* --stack */
	bool types;			/* --types */
	const char *owners;		/* --owners PATTERNS, or NULL */
	long top;
	long max_objects;
	double min_ms;
	bool no_summary;		/* the agent: no end-of-trace summary is kept */
	/* the agent: the layout and probe plan resolved with DWARF are kept
	 * by build-id, and a process of a build seen before is opened without
	 * reading its DWARF again (not with stack, types, owners) */
	bool cache_plans;
	/* the agent's type windows (user/typewin.h): with types, the walk's
	 * uprobes are attached only between tracer_walk(t, true) and
	 * tracer_walk(t, false) */
	bool walk_windowed;
	/* and the collecting thread's Python stack of each collection that
	 * starts while the walk is attached (--window-stacks) */
	bool window_stacks;
	/* the agent: one BPF object for the targets of one build and
	 * configuration (user/bpfshare.h), not with stack, types, owners */
	bool share;
};

/* Open process pid and attach to it; launched: gcscope started it and it
 * is still stopped (user/launch.h), tracer_start() lets it go.  The
 * tracer's collections go to sinks.  Returns an EXIT_* code, the error
 * said in one line (p_err); on failure *out is NULL and a launched child
 * is killed. */
int tracer_open(struct tracer **out, pid_t pid, bool launched, const struct tracer_opts *o,
		struct sinks *sinks);

/* Join the event loop: creates *rb with this tracer's ring buffer, or adds
 * it to an existing *rb.  Returns 0 or an EXIT_* code (said). */
int tracer_add_ring(struct tracer *t, struct ring_buffer **rb);

/* Say where it is attached (sinks' attach) and let a launched child run. */
void tracer_start(struct tracer *t);

/* Between polls: events lost since the last call (said on stderr and to
 * the sinks). */
void tracer_check_lost(struct tracer *t);

/* Has the target exited?  Reaps a launched child. */
bool tracer_target_gone(struct tracer *t);

/* The summary to the sinks; reason: why the trace ends. */
void tracer_end(struct tracer *t, const char *reason, uint64_t wall_ns);

/* Detach and free.  failed: the trace is ending on an error, so a launched
 * child that never ran is killed. */
void tracer_close(struct tracer *t, bool failed);

pid_t tracer_pid(const struct tracer *t);

/* BPF objects loaded now: the tracers' own and the shared ones. */
int tracer_bpf_objects(void);

/* opts.walk_windowed: attach (on) or detach the walk's uprobes.  0, or an
 * EXIT_* code (said); off never fails.  A collection whose walk began
 * before the detach still sends all of it.  With stacks (owners,
 * window_stacks) a collection is walked only if it began after the attach,
 * so that each walked one has its stack (bpf/gcscope.bpf.c on_start()). */
int tracer_walk(struct tracer *t, bool on);
/* What the walks cost the target so far, as BPF measured it: ns inside
 * the walk program, and walks run (GCSCOPE_CNT_WALK_NS, _WALKS). */
void tracer_walk_cost(struct tracer *t, uint64_t *ns, uint64_t *walks);

#endif
