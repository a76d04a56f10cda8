// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The timeline sink (user/sink_timeline.c): the Chrome trace-event JSON it
 * writes for given model values, byte for byte, called through a sink list
 * (user/sink.c) as the trace calls it. */
#include <linux/types.h>	/* gcscope.h, through model.h, wants __u32 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sink.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
	struct sink *s;
	struct sinks l;
};

static void mem_open(struct mem *m, int top)
{
	struct sink_config cfg = { .top = top };

	memset(m, 0, sizeof(*m));
	m->f = open_memstream(&m->buf, &m->len);
	cfg.out = m->f;
	m->s = sink_timeline_new(&cfg);
	CHECK(m->s != NULL);
	CHECK_EQ_INT(sinks_add(&m->l, m->s), 0);
}

/* free the sink, close the stream: m->buf is then the whole file */
static void mem_close(struct mem *m)
{
	sinks_free(&m->l);
	fclose(m->f);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static const struct gc_attach attach = {
	.pid = 4242,
	.comm = "python3",
	.python = "3.11.2",
	.probe = "usdt",
	.counts = true,
	.mono_to_real = 1700000000000000000LL,
};

static struct gc_collection coll(uint32_t tid, const char *thread, const char *py_thread, int gen,
				 uint64_t ts, uint64_t pause)
{
	struct gc_collection c = {
		.pid = 4242, .tid = tid, .thread = thread, .py_thread = py_thread, .gen = gen,
		.ts_start = ts, .ts_end = ts + pause, .pause_ns = pause,
		.have_counts = true, .collected = 24, .uncollectable = 0,
		.have_total = true, .total = 24,
	};
	return c;
}

/* The small case: two threads, a rename, unknown counts, a hidden collection. */
static void test_basic(void)
{
	struct gc_end end = { .reason = "target exited", .wall_ns = 2000000000, .hidden = 1 };
	struct gc_collection c;
	struct mem m;

	mem_open(&m, 5);
	sinks_attach(&m.l, &attach);
	CHECK_EQ_INT(m.s->mono_to_real, attach.mono_to_real);
	c = coll(4242, "python3", NULL, 0, 123456789012345ULL, 61000);
	sinks_collection(&m.l, &c);
	/* same thread, same name: no second thread_name */
	c = coll(4242, "python3", NULL, 2, 123456790000000ULL, 1161001);
	c.flags = GC_HIDDEN;
	sinks_collection(&m.l, &c);
	/* a Python name wins over the kernel one; unknown counts are null */
	c = coll(4244, "Thread-1", "worker \"A\"", -1, 123456791000000ULL, 7);
	c.have_counts = false;
	c.have_total = false;
	sinks_collection(&m.l, &c);
	/* the thread renamed itself: thread_name again */
	c = coll(4244, "Thread-1", "worker B", 1, 123456792000000ULL, 114000);
	sinks_collection(&m.l, &c);
	/* its Python name unreadable this time: the track keeps it */
	c = coll(4244, "Thread-1", NULL, 0, 123456792500000ULL, 2000);
	sinks_collection(&m.l, &c);
	sinks_tick(&m.l, 123456793000000ULL);
	sinks_detach(&m.l, &end);
	mem_close(&m);
	CHECK_EQ_STR(m.buf,
		"{\"traceEvents\":[\n"
		"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4242,\"args\":{\"name\":\"python3\"}},\n"
		"{\"name\":\"process_labels\",\"ph\":\"M\",\"pid\":4242,\"tid\":4242,"
		"\"args\":{\"labels\":\"CPython 3.11.2, usdt\"}},\n"
		"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4242,\"args\":{\"name\":\"python3\"}},\n"
		"{\"name\":\"gc gen 0\",\"ph\":\"X\",\"pid\":4242,\"tid\":4242,\"cat\":\"gc\","
		"\"ts\":123456789012.345,\"dur\":61.000,"
		"\"args\":{\"gen\":0,\"collected\":24,\"uncollectable\":0,\"unreachable\":24}},\n"
		"{\"name\":\"gc gen 2\",\"ph\":\"X\",\"pid\":4242,\"tid\":4242,\"cat\":\"gc\","
		"\"ts\":123456790000.000,\"dur\":1161.001,"
		"\"args\":{\"gen\":2,\"collected\":24,\"uncollectable\":0,\"unreachable\":24}},\n"
		"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4244,"
		"\"args\":{\"name\":\"worker \\\"A\\\"\"}},\n"
		"{\"name\":\"gc\",\"ph\":\"X\",\"pid\":4242,\"tid\":4244,\"cat\":\"gc\","
		"\"ts\":123456791000.000,\"dur\":0.007,"
		"\"args\":{\"gen\":null,\"collected\":null,\"uncollectable\":null,\"unreachable\":null}},\n"
		"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4244,\"args\":{\"name\":\"worker B\"}},\n"
		"{\"name\":\"gc gen 1\",\"ph\":\"X\",\"pid\":4242,\"tid\":4244,\"cat\":\"gc\","
		"\"ts\":123456792000.000,\"dur\":114.000,"
		"\"args\":{\"gen\":1,\"collected\":24,\"uncollectable\":0,\"unreachable\":24}},\n"
		"{\"name\":\"gc gen 0\",\"ph\":\"X\",\"pid\":4242,\"tid\":4244,\"cat\":\"gc\","
		"\"ts\":123456792500.000,\"dur\":2.000,"
		"\"args\":{\"gen\":0,\"collected\":24,\"uncollectable\":0,\"unreachable\":24}}\n"
		"],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"gcscope\",\"clock\":\"CLOCK_MONOTONIC\","
		"\"pid\":4242,\"comm\":\"python3\",\"python\":\"3.11.2\",\"probe\":\"usdt\","
		"\"collections\":5,\"findings\":0,\"end\":\"target exited\",\"wall_ns\":2000000000,"
		"\"lost\":0,\"unpaired\":0,\"hidden\":1}}\n");
	free(m.buf);
}

/* --types/--owners: the top types (--top of them), the number of findings,
 * and each finding as an instant on the collecting thread; lost events. */
static void test_types_findings(void)
{
	static const struct gc_type_count types[] = {
		{ "QObject", 7 }, { "dict", 5 }, { "list", 1 },
	};
	static const struct gc_finding findings[] = {
		{ .obj = 0x7f3a1c0e4d50, .type = "QObject", .owner_tid = 4242, .owner_thread = "python3",
		  .owner_py_thread = "MainThread", .created_ns = 123000000000500ULL,
		  .creator_known = true },
	};
	struct gc_end end = { .reason = "signal", .wall_ns = 5, .lost = 3 };
	struct gc_collection c = coll(4243, "gc-thread", NULL, 2, 124000000000000ULL, 1000);
	struct mem m;

	c.types_traced = c.walked = c.owners_traced = c.py_threads_traced = true;
	c.objects_seen = 13;
	c.types = types;
	c.ntypes = 3;
	c.findings = findings;
	c.nfindings = 1;
	mem_open(&m, 2);
	sinks_attach(&m.l, &attach);
	sinks_collection(&m.l, &c);
	/* a collection whose walk did not arrive */
	c.walked = false;
	c.nfindings = 0;
	c.ts_start += 5000000;
	sinks_collection(&m.l, &c);
	sinks_tick(&m.l, 124000010000000ULL);
	sinks_lost(&m.l, 3, 3);
	sinks_detach(&m.l, &end);
	mem_close(&m);
	CHECK_EQ_STR(m.buf,
		"{\"traceEvents\":[\n"
		"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4242,\"args\":{\"name\":\"python3\"}},\n"
		"{\"name\":\"process_labels\",\"ph\":\"M\",\"pid\":4242,\"tid\":4242,"
		"\"args\":{\"labels\":\"CPython 3.11.2, usdt\"}},\n"
		"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":4242,\"tid\":4243,\"args\":{\"name\":\"gc-thread\"}},\n"
		"{\"name\":\"gc gen 2\",\"ph\":\"X\",\"pid\":4242,\"tid\":4243,\"cat\":\"gc\","
		"\"ts\":124000000000.000,\"dur\":1.000,"
		"\"args\":{\"gen\":2,\"collected\":24,\"uncollectable\":0,\"unreachable\":24,"
		"\"objects_seen\":13,\"types\":{\"QObject\":7,\"dict\":5},\"findings\":1}},\n"
		"{\"name\":\"off-thread QObject\",\"ph\":\"i\",\"pid\":4242,\"tid\":4243,\"cat\":\"gc.finding\","
		"\"s\":\"t\",\"ts\":124000000000.000,\"args\":{\"object\":\"0x7f3a1c0e4d50\","
		"\"object_type\":\"QObject\",\"owner_tid\":4242,\"owner_thread\":\"python3\","
		"\"owner_py_thread\":\"MainThread\",\"created_ts\":123000000000.500}},\n"
		"{\"name\":\"gc gen 2\",\"ph\":\"X\",\"pid\":4242,\"tid\":4243,\"cat\":\"gc\","
		"\"ts\":124000005000.000,\"dur\":1.000,"
		"\"args\":{\"gen\":2,\"collected\":24,\"uncollectable\":0,\"unreachable\":24,"
		"\"objects_seen\":null,\"types\":null,\"findings\":0}},\n"
		"{\"name\":\"lost events\",\"ph\":\"i\",\"pid\":4242,\"tid\":4242,\"cat\":\"gc\",\"s\":\"p\","
		"\"ts\":124000010000.000,\"args\":{\"count\":3,\"total\":3}}\n"
		"],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"gcscope\",\"clock\":\"CLOCK_MONOTONIC\","
		"\"pid\":4242,\"comm\":\"python3\",\"python\":\"3.11.2\",\"probe\":\"usdt\","
		"\"collections\":2,\"findings\":1,\"end\":\"signal\",\"wall_ns\":5,"
		"\"lost\":3,\"unpaired\":0,\"hidden\":0}}\n");
	free(m.buf);
}

/* Written as it goes: after a tick the file holds every event so far, not
 * yet closed; detach closes it; a trace that ends before its first
 * collection leaves an empty trace. */
static void test_streaming(void)
{
	struct gc_end end = { .reason = "signal" };
	struct gc_collection c = coll(7, "t", NULL, 0, 1000, 1000);
	char path[] = "/tmp/test_sink_timeline.XXXXXX";
	struct sink_config cfg = { .own_out = true };
	struct sinks l = {};
	char buf[4096];
	size_t n;
	FILE *r;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	cfg.out = fdopen(fd, "w");
	CHECK_EQ_INT(sinks_add(&l, sink_timeline_new(&cfg)), 0);
	sinks_attach(&l, &attach);
	sinks_collection(&l, &c);
	sinks_tick(&l, 5000);
	r = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, r);
	buf[n] = '\0';
	fclose(r);
	CHECK(strstr(buf, "\"ph\":\"X\",\"pid\":4242,\"tid\":7") != NULL);
	CHECK(strstr(buf, "]") == NULL);
	sinks_detach(&l, &end);
	sinks_free(&l);			/* closes own_out */
	r = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, r);
	buf[n] = '\0';
	fclose(r);
	unlink(path);
	CHECK(ends_with(buf, "\"end\":\"signal\",\"wall_ns\":0,\"lost\":0,\"unpaired\":0,\"hidden\":0}}\n"));

	struct mem m;

	mem_open(&m, 5);
	sinks_detach(&m.l, &end);
	mem_close(&m);
	CHECK_EQ_STR(m.buf, "{\"traceEvents\":[],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"gcscope\","
			    "\"clock\":\"CLOCK_MONOTONIC\",\"collections\":0,\"findings\":0,"
			    "\"end\":\"signal\",\"wall_ns\":0,\"lost\":0,\"unpaired\":0,\"hidden\":0}}\n");
	free(m.buf);
}

/* A full disk: the sink marks itself failed, says so once on stderr, and
 * the trace goes on. */
static void test_write_error(void)
{
	struct sink_config cfg = { .own_out = true };
	struct gc_collection c = coll(7, "t", NULL, 0, 1000, 1000);
	struct gc_end end = { .reason = "signal" };
	struct sinks l = {};
	FILE *err = tmpfile();
	int saved = dup(2);
	char said[512];
	size_t n;
	struct sink *s;

	cfg.out = fopen("/dev/full", "w");
	CHECK(cfg.out != NULL && err != NULL && saved >= 0);
	if (!cfg.out || !err || saved < 0)
		return;
	fflush(stderr);
	dup2(fileno(err), 2);
	s = sink_timeline_new(&cfg);
	CHECK_EQ_INT(sinks_add(&l, s), 0);
	sinks_attach(&l, &attach);
	CHECK(!s->failed);
	sinks_collection(&l, &c);
	sinks_tick(&l, 5000);
	CHECK(s->failed);
	sinks_collection(&l, &c);
	sinks_tick(&l, 6000);
	sinks_detach(&l, &end);
	sinks_free(&l);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(err);
	n = fread(said, 1, sizeof(said) - 1, err);
	said[n] = '\0';
	fclose(err);
	CHECK_EQ_STR(said, "gcscope: warning: timeline: cannot write the trace file: No space left on device\n");
}

int main(void)
{
	test_basic();
	test_types_findings();
	test_streaming();
	test_write_error();
	CHECK_DONE("test_sink_timeline");
}
