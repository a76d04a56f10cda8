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

#define STATS_NGEN 3
#define STATS_HIST_SLOTS 40		/* log2 buckets of microseconds */
/* Exact pauses are kept for percentiles up to this many per generation;
 * past it percentiles come from a log-linear sketch (within 1/128 = 0.8%,
 * 60 KiB per generation), so a trace of weeks stays flat. */
#define STATS_MAX_SAMPLES (1u << 16)
#define STATS_SKETCH_SUB_BITS 7
#define STATS_SKETCH_SLOTS ((64 - STATS_SKETCH_SUB_BITS + 1) << STATS_SKETCH_SUB_BITS)
/* Threads kept by name; past it the quarter that paid least is folded into
 * one "evicted" line, counted. */
#define STATS_MAX_THREADS 1024

struct gen_stats {
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t counted;			/* collections whose counts were known */
	int64_t collected, uncollectable;	/* their sums */
	uint64_t hist[STATS_HIST_SLOTS];	/* slot i: [2^i, 2^(i+1)) us; slot 0 also 0 */
	uint64_t *samples;
	uint32_t nsamples, cap;
	bool samples_truncated;			/* percentiles are from the sketch */
	uint64_t *sketch;			/* STATS_SKETCH_SLOTS, once truncated */
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
	uint32_t *tindex;			/* open addressing on tid: index + 1, 0 empty */
	size_t tindex_cap;
	struct thread_stats evicted;		/* what the evicted threads paid, summed */
	uint64_t threads_evicted;
	uint64_t first_ns, last_ns;		/* monotonic bounds of the trace */
};

void stats_init(struct trace_stats *s);
void stats_free(struct trace_stats *s);
/* Add one collection; collected/uncollectable < 0 when unknown. */
void stats_add(struct trace_stats *s, int gen, uint32_t tid, const char *name, uint64_t pause_ns,
	       int64_t collected, int64_t uncollectable);

/* log2 slot of a pause in microseconds. */
unsigned stats_slot(uint64_t us);
/* Nearest-rank percentile (0 < p <= 100) of a generation's pauses, ns:
 * exact up to STATS_MAX_SAMPLES collections, from the sketch past it. */
uint64_t stats_percentile(struct gen_stats *g, double p);
/* Sum of all generations' pauses, and of their collections. */
uint64_t stats_total_ns(const struct trace_stats *s);
uint64_t stats_count(const struct trace_stats *s);
/* The threads, most paid first. */
void stats_sort_threads(struct trace_stats *s);

#endif
