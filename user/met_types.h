/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's type windows, their series (docs/agent.md): per target, the
 * types the GC destroyed in the collections a window walked (--types,
 * bpf/objects.bpf.h), a bounded top K of them, and the --owners findings
 * by (type, owner thread, collecting thread), bounded too.
 *
 * Bounded and monotonic: a counter that Prometheus has seen must never go
 * down, so a type keeps the slot it got for the life of the target, and
 * types that find no free slot go to type="other" for good.  Slots are
 * handed out when a window ends (met_types_commit), most numerous first
 * among that window's types: with K types in its first windows a
 * program's top K is what its first windows saw most of.
 *
 * Two halves: what the current window found so far (pending: the event
 * loop only, through the metrics sink), and what committed windows found
 * (served: under metrics.mu).  A collection is counted in the collections
 * of windows and in the types in one commit, so a scrape always sees the
 * types of exactly the collections it counts.
 */
#ifndef GCSCOPE_MET_TYPES_H
#define GCSCOPE_MET_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "pystack.h"

struct metrics;
struct met_target;

#define MET_TYPES_TOP_MAX 100		/* --top at most */
#define MET_TYPES_PENDING 256		/* distinct names a window keeps; more: "other" */
#define MET_PAIRS_MAX 32		/* (type, owner, collector) series a target */
#define MET_PAIRS_PENDING 64
#define MET_TGEN 4			/* generations 0-2, and 3: unknown */
#define MET_THREAD_LABEL 64

struct met_type_row {
	char name[GC_TYPE_NAME_LEN];
	uint64_t n[MET_TGEN];
};

struct met_pair_row {
	char type[GC_TYPE_NAME_LEN];
	char owner[MET_THREAD_LABEL];	/* owner thread: Python name, or comm */
	char thread[MET_THREAD_LABEL];	/* collecting thread */
	uint64_t n;
};

/* --window-stacks: the distinct stacks a window keeps (more: counted as
 * other), their innermost frames, and how many go in its record. */
#define MET_STACKS_PENDING 16
#define MET_STACK_FRAMES 8
#define MET_WINDOW_STACKS 5

struct met_stack_row {
	int nframes;
	bool truncated;
	struct {
		char file[128];
		char function[96];
		int line;
	} f[MET_STACK_FRAMES];
	uint64_t collections, pause_ns;
};

struct met_types {
	int top;			/* K */
	bool owners;			/* findings are traced */
	/* served */
	struct met_type_row slot[MET_TYPES_TOP_MAX];
	int nslots;
	struct met_type_row other;
	uint64_t collections[MET_TGEN];	/* collections whose walk a committed window saw */
	uint64_t objects_seen;		/* objects those walks looked at */
	uint64_t capped;		/* walks stopped at --max-objects */
	struct met_pair_row pair[MET_PAIRS_MAX];
	int npairs;
	struct met_pair_row pair_other;
	uint64_t findings;
	uint64_t owners_unknown;	/* watched objects destroyed, owner unknown */
	/* the budget (user/typewin.c) */
	double budget;			/* the fraction of the target's time allowed */
	uint64_t walk_ns, wall_ns;	/* spent by walks; since the attach */
	uint64_t windows_run, windows_cut, windows_skipped;
	bool active;			/* a window is open */
	/* pending: the event loop's */
	struct met_type_row p_type[MET_TYPES_PENDING];
	int np_types;
	struct met_type_row p_other;
	uint64_t p_collections[MET_TGEN];
	uint64_t p_seen, p_capped;
	struct met_pair_row p_pair[MET_PAIRS_PENDING];
	int np_pairs;
	struct met_pair_row p_pair_other;
	uint64_t p_findings, p_owners_unknown;
	/* --window-stacks: NULL without */
	struct met_stack_row *p_stack;	/* [MET_STACKS_PENDING] */
	int np_stacks;
	uint64_t p_stack_other, p_no_stack;
};

/* The windows' series of a target (before met_target_add), with stacks: room
 * for --window-stacks; NULL on out of
 * memory.  Freed with the target. */
struct met_types *met_types_new(int top, bool owners, bool stacks, double budget);
void met_types_free(struct met_types *ty);

/* A collection the window walked (c->walked), from the metrics sink. */
void met_types_collection(struct met_types *ty, const struct gc_collection *c);

/* Where a window's record points (types and pairs with room for "other"). */
struct met_window_buf {
	struct gc_window_type types[MET_TYPES_PENDING + 1];
	struct gc_window_pair pairs[MET_PAIRS_PENDING + 1];
	struct gc_window_stack stacks[MET_WINDOW_STACKS];
	struct pystack_frame frames[MET_WINDOW_STACKS][MET_STACK_FRAMES];
};

/* The current window as a record for the sinks (JSON Lines): its types,
 * pairs and stacks, most first, in buf, which w then points at; the
 * caller sets the window's number, times and how it closed.  Call before
 * met_types_commit(), which empties the window. */
void met_types_window(struct met_types *ty, struct gc_type_window *w, struct met_window_buf *buf);

/* Whether the current window has walked anything. */
bool met_types_pending(const struct met_types *ty);

/* What one pending pair was, for the log line of a commit. */
typedef void (*met_pair_fn)(const struct met_pair_row *row, void *ctx);
/* The window's counts into the served ones (takes m->mu); each pending
 * finding pair to fn first (the agent logs them), if fn. */
void met_types_commit(struct metrics *m, struct met_target *t, met_pair_fn fn, void *ctx);

/* The budget's figures (takes m->mu). */
void met_types_budget(struct metrics *m, struct met_target *t, uint64_t walk_ns, uint64_t wall_ns,
		      uint64_t run, uint64_t cut, uint64_t skipped, bool active);

#endif
