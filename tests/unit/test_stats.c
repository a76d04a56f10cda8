// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The summary's arithmetic: log2 slots, percentiles, per-thread tables. */
#include <stdlib.h>

#include <stdint.h>

#include "check.h"
#include "sink.h"
#include "stats.h"

static void test_slots(void)
{
	CHECK_EQ_INT(stats_slot(0), 0);
	CHECK_EQ_INT(stats_slot(1), 0);
	CHECK_EQ_INT(stats_slot(2), 1);
	CHECK_EQ_INT(stats_slot(3), 1);
	CHECK_EQ_INT(stats_slot(4), 2);
	CHECK_EQ_INT(stats_slot(1023), 9);
	CHECK_EQ_INT(stats_slot(1024), 10);
	CHECK_EQ_INT(stats_slot(UINT64_MAX), STATS_HIST_SLOTS - 1);
}

static void test_percentiles(void)
{
	struct trace_stats s;

	stats_init(&s);
	CHECK_EQ_INT(stats_percentile(&s.gen[0], 50), 0);	/* empty */
	/* 1..100 ms, added in reverse */
	for (int i = 100; i >= 1; i--)
		stats_add(&s, 0, 1, "main", (uint64_t)i * 1000000, 2, 0);
	CHECK_EQ_INT(s.gen[0].count, 100);
	CHECK_EQ_INT(stats_percentile(&s.gen[0], 50), 50 * 1000000ULL);
	CHECK_EQ_INT(stats_percentile(&s.gen[0], 99), 99 * 1000000ULL);
	CHECK_EQ_INT(stats_percentile(&s.gen[0], 100), 100 * 1000000ULL);
	CHECK_EQ_INT(s.gen[0].max_ns, 100 * 1000000ULL);
	CHECK_EQ_INT(s.gen[0].total_ns, 5050 * 1000000ULL);
	CHECK_EQ_INT(s.gen[0].collected, 200);
	/* 1 ms = 1000 us lands in [512, 1023]; 100 ms = 100000 us in [65536, 131071] */
	CHECK_EQ_INT(s.gen[0].hist[9], 1);
	CHECK_EQ_INT(s.gen[0].hist[16], 35);	/* 66..100 ms */
	stats_free(&s);
}

static void test_single_sample(void)
{
	struct trace_stats s;

	stats_init(&s);
	stats_add(&s, 2, 7, "w", 1234, 0, 0);
	CHECK_EQ_INT(stats_percentile(&s.gen[2], 50), 1234);
	CHECK_EQ_INT(stats_percentile(&s.gen[2], 99), 1234);
	CHECK_EQ_INT(s.gen[2].hist[0], 1);	/* 1 us */
	stats_free(&s);
}

/* The counts are deltas of the target's counters: a target that writes
 * huge ones saturates the sums instead of overflowing them (UBSan). */
static void test_hostile_counts(void)
{
	struct trace_stats s;

	stats_init(&s);
	stats_add(&s, 0, 1, "m", 10, INT64_MAX, INT64_MAX - 1);
	stats_add(&s, 0, 1, "m", 10, INT64_MAX, 5);
	stats_add(&s, 0, 1, "m", 10, -3, -1);	/* a counter that went back: not added */
	CHECK(s.gen[0].collected == INT64_MAX);
	CHECK(s.gen[0].uncollectable == INT64_MAX);
	CHECK_EQ_INT(s.gen[0].count, 3);
	stats_free(&s);
}

static void test_threads(void)
{
	struct trace_stats s;

	stats_init(&s);
	stats_add(&s, 0, 10, "main", 100, 1, 0);
	stats_add(&s, 1, 11, "worker", 300, 1, 0);
	stats_add(&s, 2, 10, "main", 200, 1, 0);
	stats_add(&s, -1, 12, "other", 50, -1, -1);	/* generation unknown */
	stats_add(&s, 0, 11, "renamed", 10, 0, 0);	/* 3.14 names threads late */
	CHECK_EQ_INT(s.nthreads, 3);
	CHECK_EQ_INT(s.threads[0].tid, 10);
	CHECK_EQ_INT(s.threads[0].count, 2);
	CHECK_EQ_INT(s.threads[0].total_ns, 300);
	CHECK_EQ_INT(s.threads[0].by_gen[0], 1);
	CHECK_EQ_INT(s.threads[0].by_gen[2], 1);
	CHECK_EQ_STR(s.threads[1].name, "renamed");
	CHECK_EQ_INT(s.threads[1].max_ns, 300);
	CHECK_EQ_INT(s.unknown_gen.count, 1);
	CHECK_EQ_INT(s.unknown_gen.collected, 0);	/* unknown counts are not summed */
	stats_free(&s);
}

static void test_text_summary(void)
{
	struct trace_stats s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	stats_init(&s);
	stats_add(&s, 0, 10, "main", 2000000, 5, 1);
	stats_add(&s, 0, 10, "main", 4000000, 5, 0);
	{
		struct sink *t = sink_text_new(&(struct sink_config){ .out = f, .top = 5 });
		struct gc_end e = { .reason = "signal", .wall_ns = 1000000000ULL, .stats = &s };

		t->ops->detach(t, &e);
		t->ops->free(t);
	}
	fclose(f);
	CHECK(strstr(buf, "2 collections in 1.000 s; GC paused threads for 6.000 ms (0.600% of wall time)") != NULL);
	CHECK(strstr(buf, "gen 0: 2 collections, total 6.000 ms, p50 2.000 ms, p99 4.000 ms, max 4.000 ms") != NULL);
	CHECK(strstr(buf, "collected 10, uncollectable 1") != NULL);
	CHECK(strstr(buf, "      1024 -> 2047       : 1        |****************************************|") != NULL);
	CHECK(strstr(buf, "gen 1:") == NULL);
	free(buf);
	stats_free(&s);
}

/* Past STATS_MAX_SAMPLES the percentiles come from the sketch: within
 * 1/128 of the exact ones, in flat memory. */
static void test_sketch(void)
{
	struct trace_stats s;
	uint64_t n = 3ULL * STATS_MAX_SAMPLES;

	stats_init(&s);
	/* pauses 1 us .. n us, in a scrambled order */
	for (uint64_t i = 0; i < n; i++)
		stats_add(&s, 0, 1, "m", ((i * 7919) % n + 1) * 1000, 1, 0);
	CHECK(s.gen[0].samples_truncated);
	CHECK(s.gen[0].samples == NULL);
	CHECK(s.gen[0].sketch != NULL);
	CHECK_EQ_INT(s.gen[0].count, n);
	CHECK_EQ_INT(s.gen[0].counted, n);
	for (int p = 1; p <= 100; p += 11) {
		double want = (double)((uint64_t)((p / 100.0) * n + 0.999999999)) * 1000;
		double got = (double)stats_percentile(&s.gen[0], p);

		CHECK(got >= want * (1 - 1.0 / 128) && got <= want * (1 + 1.0 / 128));
	}
	CHECK_EQ_INT(stats_percentile(&s.gen[0], 100), n * 1000);
	/* small values are exact in the sketch too */
	stats_free(&s);
	stats_init(&s);
	for (uint64_t i = 0; i < 2ULL * STATS_MAX_SAMPLES; i++)
		stats_add(&s, 1, 1, "m", i % 200, 0, 0);
	CHECK_EQ_INT(stats_percentile(&s.gen[1], 50), 99);
	CHECK_EQ_INT(stats_percentile(&s.gen[1], 100), 199);
	stats_free(&s);
}

/* A program that starts a thread per task: the table stays at
 * STATS_MAX_THREADS, the quarter that paid least folded into one entry,
 * and nothing is lost from the sums. */
static void test_thread_eviction(void)
{
	struct trace_stats s;
	uint64_t total = 0, count = 0, in_table = 0;
	uint32_t n = 10 * STATS_MAX_THREADS;

	stats_init(&s);
	for (uint32_t tid = 1; tid <= n; tid++) {
		stats_add(&s, (int)(tid % 3), tid, "task", tid, 0, 0);
		total += tid;
		count++;
	}
	stats_add(&s, 0, n, "task", 5, 0, 0);	/* the newest is still found */
	total += 5;
	count++;
	CHECK(s.nthreads <= STATS_MAX_THREADS);
	CHECK(s.threads_evicted > 0);
	CHECK_EQ_INT(s.threads_evicted + s.nthreads, n);
	for (uint32_t i = 0; i < s.nthreads; i++)
		in_table += s.threads[i].total_ns;
	CHECK_EQ_INT(in_table + s.evicted.total_ns, total);
	stats_sort_threads(&s);
	CHECK_EQ_INT(s.threads[0].tid, n);	/* the one that paid most */
	CHECK_EQ_INT(s.threads[0].count, 2);
	CHECK_EQ_INT(stats_count(&s), count);
	stats_free(&s);
}

int main(void)
{
	test_slots();
	test_percentiles();
	test_single_sample();
	test_threads();
	test_hostile_counts();
	test_text_summary();
	test_sketch();
	test_thread_eviction();
	CHECK_DONE("test_stats");
}
