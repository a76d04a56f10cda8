/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's type windows (issue 10, "depth within a budget"): now and
 * then, for --types-window seconds, a target's collections are walked as
 * with trace --types (bpf/objects.bpf.h): the walk's uprobes are attached
 * for the window only (tracer_walk()), so between windows the target pays
 * nothing for them.  What the walks cost is measured by the walk program
 * itself (ns from its entry to its last record, GCSCOPE_CNT_WALK_NS), and
 * kept within --budget, a fraction of the target's time since the attach:
 *
 *   - a window opens every --types-every seconds, if the walks' total so
 *     far is within budget x the time since the attach; else it is skipped
 *     (counted) and looked at again a period later;
 *   - an open window closes early ("cut") the moment the total goes over;
 *   - after a window, the next one waits until the total is back within
 *     the budget (walks that cost more make windows rarer).
 *
 * Not measured: the uprobe's own entry into the kernel (about a
 * microsecond a collection on the test machine), outside the program.
 */
#ifndef GCSCOPE_TYPEWIN_H
#define GCSCOPE_TYPEWIN_H

#include <stdbool.h>
#include <stdint.h>

struct typewin_conf {
	double every_s;			/* between window starts; 0: no windows */
	double window_s;		/* a window's length */
	double budget;			/* fraction of the target's time, e.g. 0.01 */
};

struct typewin {
	struct typewin_conf c;
	uint64_t t0;			/* the attach, CLOCK_MONOTONIC ns */
	uint64_t next_ns;		/* the next window's start */
	uint64_t start_ns;		/* the open window's start */
	bool active;
	uint64_t walk_ns, walks;	/* as BPF measured, at the last look */
	uint64_t run, cut, skipped;
	bool failed;			/* attaching the walk failed: no more windows */
};

void typewin_init(struct typewin *w, const struct typewin_conf *c, uint64_t now_ns);

enum typewin_step {
	TW_NONE,
	TW_OPENED,			/* a window opened */
	TW_CLOSED,			/* a window closed: commit its counts */
};

/* Given the walks' total cost at now (the tracer's: tracer_walk_cost()),
 * open or close the window; the caller attaches or detaches the walk
 * (tracer_walk()).  A pure function of its arguments and w. */
enum typewin_step typewin_decide(struct typewin *w, uint64_t now_ns, uint64_t walk_ns);

#endif
