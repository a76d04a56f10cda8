/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * What a trace adds up to: per generation a log2 histogram of pauses (as
 * bcc's tools print them), count, total, p50/p99/max; per thread, who paid
 * for collections.  No kernel in here: unit-tested in tests/unit.
 */
#ifndef GCSCOPE_STATS_H
#define GCSCOPE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"

#define STATS_NGEN 3
#define STATS_HIST_SLOTS 40		/* log2 buckets of microseconds */
/* Exact pauses are kept for percentiles up to this many per generation;
 * beyond it percentiles come from the histogram (and say so). */
#define STATS_MAX_SAMPLES (1u << 22)

struct gen_stats {
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
	int64_t collected, uncollectable;	/* sums, where known */
	uint64_t hist[STATS_HIST_SLOTS];	/* slot i: [2^i, 2^(i+1)) us; slot 0 also 0 */
	uint64_t *samples;
	uint32_t nsamples, cap;
	bool samples_truncated;
};

struct thread_stats {
	uint32_t tid;
	char name[16];
	uint64_t count, total_ns, max_ns;
	uint64_t by_gen[STATS_NGEN];
};

struct trace_stats {
	struct gen_stats gen[STATS_NGEN];
	struct gen_stats unknown_gen;		/* gen < 0 (no layout) */
	struct thread_stats *threads;
	uint32_t nthreads;
	size_t cap_threads;
	uint64_t first_ns, last_ns;		/* monotonic bounds of the trace */
};

void stats_init(struct trace_stats *s);
void stats_free(struct trace_stats *s);
/* Add one collection; collected/uncollectable < 0 when unknown. */
void stats_add(struct trace_stats *s, int gen, uint32_t tid, const char *name, uint64_t pause_ns,
	       int64_t collected, int64_t uncollectable);

/* log2 slot of a pause in microseconds. */
unsigned stats_slot(uint64_t us);
/* Nearest-rank percentile (0 < p <= 100) of a generation's pauses, ns. */
uint64_t stats_percentile(struct gen_stats *g, double p);

/* The exit summary; wall_ns is how long the trace ran. */
void stats_print_text(struct trace_stats *s, FILE *f, uint64_t wall_ns);
void stats_print_json(struct trace_stats *s, struct jw *w, uint64_t wall_ns);

/* bcc's print_log2_hist, for one generation. */
void print_log2_hist(FILE *f, const uint64_t *vals, int n, const char *unit);

#endif
