// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "stats.h"

void stats_init(struct trace_stats *s)
{
	memset(s, 0, sizeof(*s));
}

static void gen_free(struct gen_stats *g)
{
	free(g->samples);
	free(g->sketch);
	g->samples = NULL;
	g->sketch = NULL;
}

void stats_free(struct trace_stats *s)
{
	for (int i = 0; i < STATS_NGEN; i++)
		gen_free(&s->gen[i]);
	gen_free(&s->unknown_gen);
	free(s->threads);
	free(s->tindex);
	memset(s, 0, sizeof(*s));
}

unsigned stats_slot(uint64_t us)
{
	unsigned slot = 0;

	while (us > 1 && slot < STATS_HIST_SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	return slot;
}

/* Log-linear slot of ns: exact below 2^SUB_BITS, then 2^SUB_BITS slots per
 * power of two (HdrHistogram's layout). */
static unsigned sketch_slot(uint64_t ns)
{
	unsigned msb, shift;

	if (ns < (1u << STATS_SKETCH_SUB_BITS))
		return (unsigned)ns;
	msb = 63 - (unsigned)__builtin_clzll(ns);
	shift = msb - STATS_SKETCH_SUB_BITS;
	return ((shift + 1) << STATS_SKETCH_SUB_BITS) + (unsigned)((ns >> shift) - (1u << STATS_SKETCH_SUB_BITS));
}

/* The middle of a sketch slot's range. */
static uint64_t sketch_value(unsigned slot)
{
	unsigned shift;
	uint64_t lo;

	if (slot < (2u << STATS_SKETCH_SUB_BITS))
		return slot;	/* below 2^(SUB_BITS+1) every value has its own slot */
	shift = (slot >> STATS_SKETCH_SUB_BITS) - 1;
	lo = (uint64_t)((slot & ((1u << STATS_SKETCH_SUB_BITS) - 1)) + (1u << STATS_SKETCH_SUB_BITS)) << shift;
	return lo + ((1ULL << shift) >> 1);
}

static void gen_add(struct gen_stats *g, uint64_t ns, int64_t collected, int64_t uncollectable)
{
	g->count++;
	g->total_ns += ns;
	if (ns > g->max_ns)
		g->max_ns = ns;
	if (collected >= 0 && uncollectable >= 0)
		g->counted++;
	/* deltas of the target's own counters: saturate rather than wrap */
	if (collected > 0 && __builtin_add_overflow(g->collected, collected, &g->collected))
		g->collected = INT64_MAX;
	if (uncollectable > 0 && __builtin_add_overflow(g->uncollectable, uncollectable, &g->uncollectable))
		g->uncollectable = INT64_MAX;
	g->hist[stats_slot(ns / 1000)]++;
	if (g->sketch) {
		g->sketch[sketch_slot(ns)]++;
		return;
	}
	if (g->nsamples == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 1024;
		uint64_t *n;

		if (cap > STATS_MAX_SAMPLES) {
			/* from now on the sketch, with every sample so far */
			g->sketch = calloc(STATS_SKETCH_SLOTS, sizeof(*g->sketch));
			if (g->sketch) {
				for (uint32_t i = 0; i < g->nsamples; i++)
					g->sketch[sketch_slot(g->samples[i])]++;
				g->sketch[sketch_slot(ns)]++;
			}
			free(g->samples);
			g->samples = NULL;
			g->nsamples = g->cap = 0;
			g->samples_truncated = true;
			return;
		}
		if (!(n = realloc(g->samples, cap * sizeof(*n)))) {
			g->samples_truncated = true;
			return;
		}
		g->samples = n;
		g->cap = cap;
	}
	g->samples[g->nsamples++] = ns;
}

static int cmp_thread_total(const void *a, const void *b)
{
	const struct thread_stats *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static void tindex_rebuild(struct trace_stats *s)
{
	memset(s->tindex, 0, s->tindex_cap * sizeof(*s->tindex));
	for (uint32_t i = 0; i < s->nthreads; i++) {
		size_t h = (s->threads[i].tid * 2654435761u) & (s->tindex_cap - 1);

		while (s->tindex[h])
			h = (h + 1) & (s->tindex_cap - 1);
		s->tindex[h] = i + 1;
	}
}

/* The table is full (a program that starts a thread per task): fold the
 * quarter that paid least into s->evicted. */
static void threads_evict(struct trace_stats *s)
{
	uint32_t keep = STATS_MAX_THREADS / 4 * 3;

	sort_array(s->threads, s->nthreads, sizeof(*s->threads), cmp_thread_total);
	for (uint32_t i = keep; i < s->nthreads; i++) {
		struct thread_stats *t = &s->threads[i];

		s->evicted.count += t->count;
		s->evicted.total_ns += t->total_ns;
		if (t->max_ns > s->evicted.max_ns)
			s->evicted.max_ns = t->max_ns;
		for (int g = 0; g < STATS_NGEN; g++)
			s->evicted.by_gen[g] += t->by_gen[g];
	}
	s->threads_evicted += s->nthreads - keep;
	s->nthreads = keep;
	tindex_rebuild(s);
}

static struct thread_stats *thread_get(struct trace_stats *s, uint32_t tid, const char *name)
{
	struct thread_stats *t;
	size_t h;

	if (!s->tindex) {
		s->tindex_cap = 2 * STATS_MAX_THREADS;
		if (!(s->tindex = calloc(s->tindex_cap, sizeof(*s->tindex))))
			return NULL;
	}
	for (h = (tid * 2654435761u) & (s->tindex_cap - 1); s->tindex[h]; h = (h + 1) & (s->tindex_cap - 1))
		if (s->threads[s->tindex[h] - 1].tid == tid)
			return &s->threads[s->tindex[h] - 1];
	if (s->nthreads >= STATS_MAX_THREADS) {
		threads_evict(s);
		for (h = (tid * 2654435761u) & (s->tindex_cap - 1); s->tindex[h]; h = (h + 1) & (s->tindex_cap - 1))
			;
	}
	if (grow_array(&s->threads, &s->cap_threads, s->nthreads, sizeof(*s->threads), 16))
		return NULL;
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(t->name, sizeof(t->name), "%s", name);
	s->tindex[h] = s->nthreads;
	return t;
}

void stats_add(struct trace_stats *s, int gen, uint32_t tid, const char *name, uint64_t pause_ns,
	       int64_t collected, int64_t uncollectable)
{
	struct thread_stats *t;

	gen_add(gen >= 0 && gen < STATS_NGEN ? &s->gen[gen] : &s->unknown_gen, pause_ns, collected,
		uncollectable);
	t = thread_get(s, tid, name);
	if (!t)
		return;
	t->count++;
	t->total_ns += pause_ns;
	if (pause_ns > t->max_ns)
		t->max_ns = pause_ns;
	if (gen >= 0 && gen < STATS_NGEN)
		t->by_gen[gen]++;
	/* Python 3.14 names threads late: keep the latest name. */
	if (name && *name)
		snprintf(t->name, sizeof(t->name), "%s", name);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t stats_percentile(struct gen_stats *g, double p)
{
	uint64_t rank, n = g->sketch ? g->count : g->nsamples, seen = 0;

	if (!n)
		return 0;
	/* nearest rank: the smallest value with at least p% at or below it */
	rank = (uint64_t)((p / 100.0) * n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	if (!g->sketch) {
		sort_array(g->samples, g->nsamples, sizeof(*g->samples), cmp_u64);
		return g->samples[rank - 1];
	}
	for (unsigned i = 0; i < STATS_SKETCH_SLOTS; i++) {
		seen += g->sketch[i];
		if (seen >= rank) {
			uint64_t v = sketch_value(i);

			return v > g->max_ns ? g->max_ns : v;
		}
	}
	return g->max_ns;
}

uint64_t stats_total_ns(const struct trace_stats *s)
{
	uint64_t total = s->unknown_gen.total_ns;

	for (int g = 0; g < STATS_NGEN; g++)
		total += s->gen[g].total_ns;
	return total;
}

uint64_t stats_count(const struct trace_stats *s)
{
	uint64_t count = s->unknown_gen.count;

	for (int g = 0; g < STATS_NGEN; g++)
		count += s->gen[g].count;
	return count;
}

void stats_sort_threads(struct trace_stats *s)
{
	sort_array(s->threads, s->nthreads, sizeof(*s->threads), cmp_thread_total);
	if (s->tindex)
		tindex_rebuild(s);
}
