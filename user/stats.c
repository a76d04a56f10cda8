// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
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
	g->samples = NULL;
}

void stats_free(struct trace_stats *s)
{
	for (int i = 0; i < STATS_NGEN; i++)
		gen_free(&s->gen[i]);
	gen_free(&s->unknown_gen);
	free(s->threads);
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

static void gen_add(struct gen_stats *g, uint64_t ns, int64_t collected, int64_t uncollectable)
{
	g->count++;
	g->total_ns += ns;
	if (ns > g->max_ns)
		g->max_ns = ns;
	/* deltas of the target's own counters: saturate rather than wrap */
	if (collected > 0 && __builtin_add_overflow(g->collected, collected, &g->collected))
		g->collected = INT64_MAX;
	if (uncollectable > 0 && __builtin_add_overflow(g->uncollectable, uncollectable, &g->uncollectable))
		g->uncollectable = INT64_MAX;
	g->hist[stats_slot(ns / 1000)]++;
	if (g->nsamples == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 1024;
		uint64_t *n;

		if (cap > STATS_MAX_SAMPLES || !(n = realloc(g->samples, cap * sizeof(*n)))) {
			g->samples_truncated = true;
			return;
		}
		g->samples = n;
		g->cap = cap;
	}
	g->samples[g->nsamples++] = ns;
}

static struct thread_stats *thread_get(struct trace_stats *s, uint32_t tid, const char *name)
{
	struct thread_stats *t;

	for (uint32_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	if (grow_array(&s->threads, &s->cap_threads, s->nthreads, sizeof(*s->threads), 16))
		return NULL;
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(t->name, sizeof(t->name), "%s", name);
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
	uint64_t rank;

	if (!g->nsamples)
		return 0;
	sort_array(g->samples, g->nsamples, sizeof(*g->samples), cmp_u64);
	/* nearest rank: the smallest value with at least p% at or below it */
	rank = (uint64_t)((p / 100.0) * g->nsamples + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > g->nsamples)
		rank = g->nsamples;
	return g->samples[rank - 1];
}

static void stars(FILE *f, uint64_t val, uint64_t max, int width)
{
	int n = max ? (int)(val * width / max) : 0;
	bool more = val > max;

	if (n > width)
		n = width;
	for (int i = 0; i < n; i++)
		fputc('*', f);
	for (int i = n; i < width; i++)
		fputc(' ', f);
	if (more)
		fputc('+', f);
}

void print_log2_hist(FILE *f, const uint64_t *vals, int n, const char *unit)
{
	int idx_max = -1;
	uint64_t max = 0;

	for (int i = 0; i < n; i++) {
		if (vals[i] > 0)
			idx_max = i;
		if (vals[i] > max)
			max = vals[i];
	}
	if (idx_max < 0)
		return;
	fprintf(f, "%*s%-*s : count    distribution\n", idx_max <= 32 ? 5 : 15, "",
		idx_max <= 32 ? 19 : 29, unit);
	for (int i = 0; i <= idx_max; i++) {
		uint64_t low = i == 0 ? 0 : (1ULL << i), high = (1ULL << (i + 1)) - 1;

		if (i == 0)
			high = 1;
		fprintf(f, "%*llu -> %-*llu : %-8llu |", idx_max <= 32 ? 10 : 20, (unsigned long long)low,
			idx_max <= 32 ? 10 : 20, (unsigned long long)high, (unsigned long long)vals[i]);
		stars(f, vals[i], max, 40);
		fputs("|\n", f);
	}
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static int cmp_thread_total(const void *a, const void *b)
{
	const struct thread_stats *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

void stats_print_text(struct trace_stats *s, FILE *f, uint64_t wall_ns)
{
	uint64_t total = 0, count = 0;

	for (int g = 0; g < STATS_NGEN; g++) {
		total += s->gen[g].total_ns;
		count += s->gen[g].count;
	}
	total += s->unknown_gen.total_ns;
	count += s->unknown_gen.count;

	fprintf(f, "\n%llu collections in %.3f s; GC paused threads for %.3f ms (%.3f%% of wall time)\n",
		(unsigned long long)count, wall_ns / 1e9, ms(total), wall_ns ? 100.0 * total / wall_ns : 0.0);
	for (int g = -1; g < STATS_NGEN; g++) {
		struct gen_stats *gs = g < 0 ? &s->unknown_gen : &s->gen[g];

		if (!gs->count)
			continue;
		if (g < 0)
			fprintf(f, "\ngeneration unknown: %llu collections", (unsigned long long)gs->count);
		else
			fprintf(f, "\ngen %d: %llu collections", g, (unsigned long long)gs->count);
		fprintf(f, ", total %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms%s\n", ms(gs->total_ns),
			ms(stats_percentile(gs, 50)), ms(stats_percentile(gs, 99)), ms(gs->max_ns),
			gs->samples_truncated ? " (percentiles of the first samples)" : "");
		if (g >= 0)
			fprintf(f, "       collected %lld, uncollectable %lld\n", (long long)gs->collected,
				(long long)gs->uncollectable);
		print_log2_hist(f, gs->hist, STATS_HIST_SLOTS, "usecs");
	}
	if (!s->nthreads)
		return;
	sort_array(s->threads, s->nthreads, sizeof(*s->threads), cmp_thread_total);
	fprintf(f, "\n%-8s %-16s %8s %11s %9s %s\n", "TID", "THREAD", "COUNT", "TOTAL(ms)", "MAX(ms)",
		"GEN0/1/2");
	for (uint32_t i = 0; i < s->nthreads; i++) {
		struct thread_stats *t = &s->threads[i];

		fprintf(f, "%-8u %-16.16s %8llu %11.3f %9.3f %llu/%llu/%llu\n", t->tid, t->name,
			(unsigned long long)t->count, ms(t->total_ns), ms(t->max_ns),
			(unsigned long long)t->by_gen[0], (unsigned long long)t->by_gen[1],
			(unsigned long long)t->by_gen[2]);
	}
}

static void gen_json(struct jw *w, struct gen_stats *gs, int g)
{
	int top = -1;

	jw_obj_begin(w);
	if (g >= 0)
		jw_int(w, "gen", g);
	else
		jw_null(w, "gen");
	jw_uint(w, "count", gs->count);
	jw_uint(w, "total_ns", gs->total_ns);
	jw_uint(w, "p50_ns", stats_percentile(gs, 50));
	jw_uint(w, "p99_ns", stats_percentile(gs, 99));
	jw_uint(w, "max_ns", gs->max_ns);
	jw_int(w, "collected", gs->collected);
	jw_int(w, "uncollectable", gs->uncollectable);
	jw_bool(w, "percentiles_exact", !gs->samples_truncated);
	for (int i = 0; i < STATS_HIST_SLOTS; i++)
		if (gs->hist[i])
			top = i;
	jw_key_arr(w, "hist_us");
	for (int i = 0; i <= top; i++) {
		jw_obj_begin(w);
		jw_uint(w, "lo", i == 0 ? 0 : 1ULL << i);
		jw_uint(w, "hi", i == 0 ? 1 : (1ULL << (i + 1)) - 1);
		jw_uint(w, "count", gs->hist[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

void stats_print_json(struct trace_stats *s, struct jw *w, uint64_t wall_ns)
{
	uint64_t total = s->unknown_gen.total_ns;

	for (int g = 0; g < STATS_NGEN; g++)
		total += s->gen[g].total_ns;
	jw_uint(w, "wall_ns", wall_ns);
	jw_uint(w, "gc_ns", total);
	jw_double(w, "gc_share", wall_ns ? (double)total / wall_ns : 0.0);
	jw_key_arr(w, "generations");
	for (int g = 0; g < STATS_NGEN; g++)
		gen_json(w, &s->gen[g], g);
	if (s->unknown_gen.count)
		gen_json(w, &s->unknown_gen, -1);
	jw_arr_end(w);
	sort_array(s->threads, s->nthreads, sizeof(*s->threads), cmp_thread_total);
	jw_key_arr(w, "threads");
	for (uint32_t i = 0; i < s->nthreads; i++) {
		struct thread_stats *t = &s->threads[i];

		jw_obj_begin(w);
		jw_uint(w, "tid", t->tid);
		jw_str(w, "thread", t->name);
		jw_uint(w, "count", t->count);
		jw_uint(w, "total_ns", t->total_ns);
		jw_uint(w, "max_ns", t->max_ns);
		jw_key_arr(w, "by_gen");
		for (int g = 0; g < STATS_NGEN; g++)
			jw_uint(w, NULL, t->by_gen[g]);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}
