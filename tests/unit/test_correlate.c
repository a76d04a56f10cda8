// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The correlator and the text/JSON sinks, with no kernel: the recorded
 * stream of golden_stream.h in, and out the exact bytes the trace code
 * wrote before the pipeline (tests/unit/golden/, see golden_stream.h).
 * Then what the pipeline changed on purpose, and malformed records.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "correlate.h"
#include "golden_stream.h"
#include "objects.h"
#include "pystack.h"
#include "sink.h"
#include "stats.h"

static struct pytarget target;

struct run {
	char *buf;
	size_t len;
	FILE *f;
	struct sinks sinks;
	struct correlator *c;
	struct objtrack *ot;
	struct pystack *ps;
	int verdicts;
};

static void feed(const void *rec, size_t size, void *ctx)
{
	struct run *r = ctx;

	CHECK_EQ_INT(correlator_feed(r->c, rec, size), 0);
}

static void count_verdict(void *ctx, uint64_t type, uint32_t verdict)
{
	struct run *r = ctx;

	CHECK_EQ_INT(type, T_WIDGET);
	CHECK_EQ_INT(verdict, GCSCOPE_VERDICT_WATCH);
	r->verdicts++;
}

static void run_open(struct run *r, bool json, bool stack, bool objects, double min_ms)
{
	char why[256];
	struct sink_config cfg;

	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->buf, &r->len);
	cfg = (struct sink_config){ .out = r->f, .top = 5 };
	CHECK_EQ_INT(sinks_add(&r->sinks, json ? sink_json_new(&cfg) : sink_text_new(&cfg)), 0);
	/* as the tracer does: a symbolizer for --stack and for --owners */
	if (stack || objects)
		r->ps = pystack_new(&target, why, sizeof(why));
	if (objects)
		r->ot = objtrack_new(&target, "*", 5, why, sizeof(why));
	r->c = correlator_new(&(struct correlator_config){ .min_ns = (uint64_t)(min_ms * 1e6), .min_ms = min_ms,
							  .show_stack = stack, .ps = r->ps, .ot = r->ot,
							  .set_verdict = count_verdict, .ctx = r },
			      &r->sinks);
	sinks_attach(&r->sinks, &(struct gc_attach){
					.pid = GOLDEN_PID, .comm = "python3", .python = "3.12.1",
					.version_source = "Py_Version", .binary = "/usr/bin/python3.12", .root = "/",
					.probe = "usdt",
					.probe_detail = "USDT probes python:gc__start/gc__done in /usr/bin/python3.12",
					.counts = true, .stack_requested = stack, .stacks = r->ps != NULL,
					.mono_to_real = GOLDEN_MONO_TO_REAL });
}

static void run_close(struct run *r, const char *reason)
{
	struct gc_end e = { .reason = reason, .wall_ns = 1000000000ULL, .lost = 3, .unpaired = 1 };

	correlator_end(r->c, &e);
	correlator_free(r->c);
	sinks_free(&r->sinks);
	objtrack_free(r->ot);
	pystack_free(r->ps);
	fclose(r->f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ch;

	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		fclose(m);
		free(buf);
		return NULL;
	}
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* The first differing line, to say where it went wrong. */
static void say_diff(const char *name, const char *got, const char *want)
{
	int line = 1;

	while (*got && *got == *want) {
		if (*got == '\n')
			line++;
		got++;
		want++;
	}
	fprintf(stderr, "%s: differs at line %d:\n  got:  %.120s\n  want: %.120s\n", name, line, got, want);
}

static void golden(const char *name, bool json, bool stack, bool objects, double min_ms)
{
	char path[256];
	struct run r;
	char *want;

	run_open(&r, json, stack, objects, min_ms);
	golden_records(feed, &r);
	CHECK_EQ_INT(r.verdicts, objects ? 1 : 0);
	run_close(&r, "signal");
	snprintf(path, sizeof(path), "tests/unit/golden/%s", name);
	/* GOLDEN_UPDATE=1 .output/unit/test_correlate: write what is made now
	 * (then read the diff: it is the change of the output) */
	if (getenv("GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");

		CHECK(f && fputs(r.buf, f) >= 0 && !fclose(f));
	}
	want = slurp(path);
	CHECK(want != NULL);
	if (want && strcmp(r.buf, want))
		say_diff(name, r.buf, want);
	CHECK(want && !strcmp(r.buf, want));
	free(want);
	free(r.buf);
}

static void test_golden(void)
{
	golden("text_full.txt", false, true, true, 0.5);
	golden("json_full.jsonl", true, true, true, 0.5);
	golden("text_owners.txt", false, false, true, 0);
	golden("json_owners.jsonl", true, false, true, 0);
	golden("text_plain.txt", false, false, false, 0);
	golden("json_plain.jsonl", true, false, false, 0);
}

/* What the pipeline changed on purpose: a walk that found nothing prints
 * no empty "types:" line; a generation whose counts were never known is
 * "-" (text) and null (JSON) in the summary, never 0. */
static void one_collection(golden_feed_fn f, void *ctx)
{
	golden_types(f, ctx, 100, GOLDEN_T0, GCSCOPE_TYPES_F_LAST, 0, NULL, 0);
	golden_collection(f, ctx, 100, "python3", 2, GOLDEN_T0, 1000, 0, 0, 0, 0);
}

static void test_unknown_and_empty(void)
{
	struct run r;

	run_open(&r, false, false, true, 0);
	one_collection(feed, &r);
	run_close(&r, "target exited");
	CHECK(strstr(r.buf, "types:") == NULL);
	CHECK(strstr(r.buf, "00:00:05.000 100     python3           2      0.001         -      -\n") != NULL);
	CHECK(strstr(r.buf, "collected -, uncollectable - (unknown)") != NULL);
	CHECK(strstr(r.buf, "collected 0") == NULL);
	free(r.buf);

	run_open(&r, true, false, true, 0);
	one_collection(feed, &r);
	run_close(&r, "target exited");
	CHECK(strstr(r.buf, "\"collected\":null,\"uncollectable\":null,\"unreachable\":null,"
			    "\"candidates\":null,\"heap_size\":null,\"objects_seen\":0,"
			    "\"walk_complete\":true,\"types\":{},\"findings\":0,\"owners_unknown\":0}") != NULL);
	CHECK(strstr(r.buf, "{\"gen\":2,\"count\":1,\"total_ns\":1000,\"p50_ns\":1000,\"p99_ns\":1000,\"max_ns\":1000,"
			    "\"collected\":null,\"uncollectable\":null,\"counted\":0,") != NULL);
	free(r.buf);
}

/* 3.15's records carry candidates and the heap size (GCSCOPE_F_RING): JSON
 * shows them; without F_RING, or without counts, they are null. */
static void test_ring_fields(void)
{
	struct gcscope_collection e = {
		.type = GCSCOPE_EV_COLLECTION, .flags = GCSCOPE_F_STATS | GCSCOPE_F_RING, .pid = GOLDEN_PID,
		.tid = 100, .ts_start = GOLDEN_T0, .ts_end = GOLDEN_T0 + 1000, .gen = 1, .collected = 6,
		.candidates = 5498, .heap_size = 5430, .comm = "python3",
	};
	struct run r;

	run_open(&r, true, false, false, 0);
	CHECK_EQ_INT(correlator_feed(r.c, &e, sizeof(e)), 0);
	e.flags = GCSCOPE_F_STATS;
	e.ts_start += 2000;
	e.ts_end += 2000;
	CHECK_EQ_INT(correlator_feed(r.c, &e, sizeof(e)), 0);
	e.flags = GCSCOPE_F_RING;	/* no counts: nothing of the record is trusted */
	e.ts_start += 2000;
	e.ts_end += 2000;
	CHECK_EQ_INT(correlator_feed(r.c, &e, sizeof(e)), 0);
	run_close(&r, "target exited");
	CHECK(strstr(r.buf, "\"collected\":6,\"uncollectable\":0,\"unreachable\":null,"
			    "\"candidates\":5498,\"heap_size\":5430}") != NULL);
	CHECK(strstr(r.buf, "\"collected\":6,\"uncollectable\":0,\"unreachable\":null,"
			    "\"candidates\":null,\"heap_size\":null}") != NULL);
	CHECK(strstr(r.buf, "\"collected\":null,\"uncollectable\":null,\"unreachable\":null,"
			    "\"candidates\":null,\"heap_size\":null}") != NULL);
	free(r.buf);
}

/* Records that are short, of no known type, or inconsistent are dropped
 * and counted, and nothing reaches the sinks. */
static void test_malformed(void)
{
	struct gcscope_collection e = { .type = GCSCOPE_EV_COLLECTION };
	struct gcscope_stack st = { .type = GCSCOPE_EV_STACK, .nframes = GCSCOPE_STACK_MAX + 1 };
	uint32_t junk = 99;
	unsigned char odd[sizeof(e) + 1];
	struct run r;

	run_open(&r, true, true, true, 0);
	CHECK_EQ_INT(correlator_feed(r.c, &e, 3), -EINVAL);
	CHECK_EQ_INT(correlator_feed(r.c, &e, sizeof(e) - 1), -EINVAL);
	CHECK_EQ_INT(correlator_feed(r.c, &junk, sizeof(junk)), -EINVAL);
	CHECK_EQ_INT(correlator_feed(r.c, &st, sizeof(st)), -EINVAL);
	CHECK_EQ_INT(correlator_bad_records(r.c), 4);
	/* an unaligned record is read as well as an aligned one */
	e.tid = 7;
	e.ts_end = 10;
	memcpy(odd + 1, &e, sizeof(e));
	CHECK_EQ_INT(correlator_feed(r.c, odd + 1, sizeof(e)), 0);
	run_close(&r, "signal");
	CHECK(strstr(r.buf, "\"tid\":7,") != NULL);
	free(r.buf);
}

/* A program that makes classes at run time, and findings from ever new
 * threads: the type and pair tables stay bounded and say what they
 * evicted; the busiest type and pair survive. */
static void test_bounded_tables(void)
{
	struct gcscope_new_type nt = { .type = GCSCOPE_EV_NEW_TYPE, .pytype = T_WIDGET };
	uint64_t ntypes = 80000, t = GOLDEN_T0;
	struct run r;

	run_open(&r, true, false, true, 0);
	feed(&nt, sizeof(nt), &r);
	golden_type_name(feed, &r, T_WIDGET, "Widget");
	for (uint64_t base = 0; base < ntypes; base += 32, t += 1000) {
		uint64_t tc[32][2];
		char name[32];

		for (int i = 0; i < 32; i++) {
			tc[i][0] = 0x1000000 + (base + i) * 16;
			tc[i][1] = 1;
			snprintf(name, sizeof(name), "Dyn%llu", (unsigned long long)(base + i));
			golden_type_name(feed, &r, tc[i][0], name);
		}
		tc[0][0] = T_WIDGET;
		tc[0][1] = 1000;
		/* a finding owned by a new thread each time */
		golden_finding(feed, &r, 7, t, 0x7f0000000000 + base, T_WIDGET, (uint32_t)(1000 + base), "task");
		golden_finding(feed, &r, 7, t, 0x7f0000000008 + base, T_WIDGET, (uint32_t)(1001 + base), "task");
		golden_types(feed, &r, 7, t, GCSCOPE_TYPES_F_LAST, 32 * 1001, (const uint64_t(*)[2])tc, 32);
		golden_collection(feed, &r, 7, "worker", 0, t, 500, GCSCOPE_F_STATS, 1031, 0, 0);
	}
	run_close(&r, "signal");
	{
		const char *sum = strstr(r.buf, "{\"type\":\"summary\"");
		const char *ev = sum ? strstr(sum, "\"types_evicted\":") : NULL;
		const char *pe = sum ? strstr(sum, "\"pairs_evicted\":") : NULL;

		CHECK(ev != NULL);
		CHECK(pe != NULL);
		CHECK(ev && strtoull(ev + 16, NULL, 10) > 0);
		/* Widget, in every collection, stays first */
		CHECK(sum && strstr(sum, "\"types\":[{\"type\":\"Widget\",\"objects\":2500000,\"collections\":2500}") != NULL);
		CHECK(sum && strstr(sum, "\"findings\":{\"total\":5000,") != NULL);
	}
	free(r.buf);
}

int main(void)
{
	/* the golden text times are UTC */
	setenv("TZ", "UTC", 1);
	tzset();
	golden_target(&target);
	test_golden();
	test_unknown_and_empty();
	test_malformed();
	test_ring_fields();
	test_bounded_tables();
	CHECK_DONE("test_correlate");
}
