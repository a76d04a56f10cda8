/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The correlator: decodes the ring-buffer records of one traced process and
 * joins each collection with what came before it (its stack, its walk's type
 * counts and findings), into one struct gc_collection for the sinks.  It
 * feeds the summary, applies --min-ms, and answers --owners' "watch this
 * type?" questions through a callback: no BPF in here, so it is unit tested
 * with recorded records (tests/unit/test_correlate.c).
 *
 * Record order (bpf/gcscope.bpf.c): a collection's stack, type counts,
 * type names and findings all come before the collection's own record.
 */
#ifndef GCSCOPE_CORRELATE_H
#define GCSCOPE_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "sink.h"

struct objtrack;
struct pystack;
struct correlator;

struct correlator_config {
	uint64_t min_ns;		/* --min-ms: shorter collections are hidden */
	double min_ms;
	bool show_stack;		/* --stack */
	struct pystack *ps;		/* symbolizer, NULL without stacks */
	struct objtrack *ot;		/* --types/--owners, or NULL */
	/* decodes the Python frames of a fatal record (ps if there is one,
	 * else a symbolizer of its own), NULL if the layout has none */
	struct pystack *fatal_ps;
	const char *fatal_root;		/* the target's root as we see it ("/", a chroot) */
	struct pythreads *pt;		/* Python thread names, or NULL */
	/* tell BPF a type's --owners verdict (GCSCOPE_VERDICT_*) */
	void (*set_verdict)(void *ctx, uint64_t type, uint32_t verdict);
	void *ctx;
	/* no summary (the agent keeps its own bounded counters): the exact
	 * pauses of a long trace are not kept */
	bool no_summary;
};

/* The correlator keeps cfg's ps and ot (does not free them) and writes to
 * sinks.  NULL on out of memory. */
struct correlator *correlator_new(const struct correlator_config *cfg, struct sinks *sinks);
void correlator_free(struct correlator *c);

/* One raw ring-buffer record.  Returns 0, or -EINVAL for a record that is
 * too short or of no known type (it is counted and dropped). */
int correlator_feed(struct correlator *c, const void *data, size_t size);

/* Records dropped as malformed. */
uint64_t correlator_bad_records(const struct correlator *c);

/* The end: fill e's summary (stats, objects, hidden) and tell the sinks. */
void correlator_end(struct correlator *c, struct gc_end *e);

#endif
