// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The collection that kills the process, with no kernel: a recorded
 * GCSCOPE_EV_FATAL record (as bpf/fatal.bpf.h sends it from the dying
 * thread's exit) after its collection's stack, a finding and type names,
 * through the correlator to the text and JSON sinks.
 *
 * Its native hits point into this test binary, at return addresses of
 * functions named as CPython's collector and an extension's tp_traverse
 * (gc_collect_main -> subtract_refs -> Unsendable_traverse), so user/fatal.c
 * names them from the file on disk, as it does for a dead target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "correlate.h"
#include "fatal.h"
#include "golden_stream.h"
#include "objects.h"
#include "pystack.h"
#include "sink.h"

static struct pytarget target;

/* Return addresses, innermost first, captured by the "collector" below. */
static uintptr_t rets[3];

__attribute__((noinline)) void fatal_grab(void)
{
	rets[0] = (uintptr_t)__builtin_return_address(0);	/* in Unsendable_traverse */
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void Unsendable_traverse(void)
{
	rets[1] = (uintptr_t)__builtin_return_address(0);	/* in subtract_refs */
	fatal_grab();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void subtract_refs(void)
{
	rets[2] = (uintptr_t)__builtin_return_address(0);	/* in gc_collect_main */
	Unsendable_traverse();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void gc_collect_main(void)
{
	subtract_refs();
	__asm__ volatile("" ::: "memory");
}

/* The file offset of an address of this process, from /proc/self/maps. */
static uint64_t self_offset(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t off = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, o;

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &o) == 3 && addr >= lo && addr < hi) {
			off = addr - lo + o;
			break;
		}
	}
	if (f)
		fclose(f);
	return off;
}

/* This binary's path as BPF's components (leaf first), inode and device. */
static void self_file(struct gcscope_fatal_file *ff)
{
	char path[512], *parts[GCSCOPE_FATAL_COMPS], *save = NULL;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	int k = 0;

	CHECK(n > 0);
	path[n > 0 ? n : 0] = '\0';
	CHECK_EQ_INT(stat(path, &st), 0);
	ff->ino = st.st_ino;
	ff->dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
	for (char *p = strtok_r(path, "/", &save); p && k < GCSCOPE_FATAL_COMPS; p = strtok_r(NULL, "/", &save))
		parts[k++] = p;
	for (int i = 0; i < k; i++)
		snprintf(ff->comp[i], sizeof(ff->comp[i]), "%s", parts[k - 1 - i]);
	ff->ncomp = (uint16_t)k;
}

struct run {
	char *buf;
	size_t len;
	FILE *f;
	struct sinks sinks;
	struct correlator *c;
	struct objtrack *ot;
	struct pystack *ps;
};

static void feed(const void *rec, size_t size, void *ctx)
{
	struct run *r = ctx;

	CHECK_EQ_INT(correlator_feed(r->c, rec, size), 0);
}

static void no_verdict(void *ctx, uint64_t type, uint32_t verdict)
{
	(void)ctx;
	(void)type;
	(void)verdict;
}

#define T0 (GOLDEN_T0 + 50000000)
#define TID 101

static struct gcscope_fatal *fatal_record(void)
{
	struct gcscope_fatal *e = calloc(1, sizeof(*e));
	struct gcscope_fatal_frame *fr;
	long adaptive = pyl(&target.layout, PYL_CODE_CO_CODE_ADAPTIVE);
	const char *uname = "Thread.run";

	gc_collect_main();
	*e = (struct gcscope_fatal){
		.type = GCSCOPE_EV_FATAL,
		.flags = GCSCOPE_FATAL_F_SIGNAL | GCSCOPE_FATAL_F_SELF | GCSCOPE_FATAL_F_PYTHON |
			 GCSCOPE_FATAL_F_NATIVE,
		.pid = GOLDEN_PID, .tid = TID, .sig = 6, .sender = GOLDEN_PID,
		.ts_start = T0, .ts_signal = T0 + 12345678, .ts_exit = T0 + 12400000,
		.gen_arg = 2, .stack_depth = 3, .nframes = 2, .nhits = 5, .nfiles = 1,
	};
	golden_name(e->comm, sizeof(e->comm), "collector");
	/* frame 0: ASCII names, a 3.12 location table: one entry of 8 code
	 * units (code 13, no columns) whose line is firstlineno + 4 */
	fr = &e->frames[0];
	fr->code = 0x7f0000100000;
	fr->instr = fr->code + adaptive + 4;
	fr->firstlineno = 20;
	memcpy(fr->name, "collect_on_worker", 17);
	fr->name_len = 17;
	fr->name_kind = 1;
	memcpy(fr->file, "/srv/app/jobs.py", 16);
	fr->file_len = 16;
	fr->file_kind = 1;
	fr->tab[0] = 0x80 | (13 << 3) | 7;
	fr->tab[1] = 4 << 1;
	fr->tab_len = fr->tab_size = 2;
	/* frame 1: a UCS-2 name, no line table read: line unknown */
	fr = &e->frames[1];
	fr->code = 0x7f0000200000;
	for (size_t i = 0; i < strlen(uname); i++)
		fr->name[2 * i] = uname[i];
	fr->name_len = (uint16_t)(2 * strlen(uname));
	fr->name_kind = 2;
	memcpy(fr->file, "/usr/lib/python3.12/threading.py", 32);
	fr->file_len = 32;
	fr->file_kind = 1;
	/* native: the interrupted instruction in a file BPF could not name,
	 * then the three return addresses, and a code pointer (not after a
	 * call: dropped) */
	e->hits[0] = (struct gcscope_fatal_hit){ .addr = 0x7f00dead0000, .word = GCSCOPE_FATAL_HIT_IP,
						 .file = GCSCOPE_FATAL_NO_FILE };
	e->hits[1] = (struct gcscope_fatal_hit){ .addr = rets[0], .off = self_offset(rets[0]), .word = 4 };
	e->hits[2] = (struct gcscope_fatal_hit){ .addr = (uintptr_t)gc_collect_main,
						 .off = self_offset((uintptr_t)gc_collect_main), .word = 6 };
	e->hits[3] = (struct gcscope_fatal_hit){ .addr = rets[1], .off = self_offset(rets[1]), .word = 9 };
	e->hits[4] = (struct gcscope_fatal_hit){ .addr = rets[2], .off = self_offset(rets[2]), .word = 12 };
	self_file(&e->files[0]);
	return e;
}

static void run(struct run *r, bool json)
{
	char why[256];
	struct sink_config cfg;
	struct gcscope_fatal *e;
	static uint8_t *codes[1];
	struct gcscope_new_type nt = { .type = GCSCOPE_EV_NEW_TYPE, .pytype = T_WIDGET };

	if (!codes[0])
		codes[0] = golden_code("/srv/app/jobs.py", "collect_on_worker", 20);

	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->buf, &r->len);
	cfg = (struct sink_config){ .out = r->f, .top = 5 };
	CHECK_EQ_INT(sinks_add(&r->sinks, json ? sink_json_new(&cfg) : sink_text_new(&cfg)), 0);
	r->ps = pystack_new(&target, why, sizeof(why));
	CHECK(r->ps != NULL);
	r->ot = objtrack_new(&target, "*", 5, why, sizeof(why));
	r->c = correlator_new(&(struct correlator_config){ .ps = r->ps, .ot = r->ot, .fatal_root = "/",
							  .set_verdict = no_verdict, .ctx = r },
			      &r->sinks);
	sinks_attach(&r->sinks, &(struct gc_attach){ .pid = GOLDEN_PID, .comm = "python3", .python = "3.12.1",
						     .version_source = "Py_Version", .binary = "/usr/bin/python3.12",
						     .root = "/", .probe = "usdt", .probe_detail = "usdt",
						     .counts = true, .mono_to_real = GOLDEN_MONO_TO_REAL });
	/* what came before: the collection's stack at its start, a type name
	 * and a finding of this collection */
	feed(&nt, sizeof(nt), r);
	golden_stack(feed, r, TID, T0, codes, 1);
	golden_type_name(feed, r, T_WIDGET, "Widget");
	golden_finding(feed, r, TID, T0, 0x7f0000003000, T_WIDGET, 100, "python3");
	e = fatal_record();
	feed(e, sizeof(*e), r);
	/* a shorter record is malformed */
	CHECK_EQ_INT(correlator_feed(r->c, e, sizeof(*e) - 1), -EINVAL);
	free(e);
	correlator_end(r->c, &(struct gc_end){ .reason = "target exited", .wall_ns = 1000000000ULL,
					       .exit_kind = GC_EXIT_SIGNAL, .exit_value = 6 });
	correlator_free(r->c);
	sinks_free(&r->sinks);
	objtrack_free(r->ot);
	pystack_free(r->ps);
	fclose(r->f);
}

static void test_text(void)
{
	struct run r;
	const char *want =
		"!! pid 4242 died of SIGABRT during a collection (gen 2) on thread 101 (collector), 12.346 ms in\n"
		"   started 00:00:05.050; the process raised the signal itself (abort() or a fault)\n"
		"   phase: computing reachability (tp_traverse) [subtract_refs]\n"
		"   in Unsendable_traverse (test_fatal)\n"
		"    at collect_on_worker (/srv/app/jobs.py:24)\n"
		"    at Thread.run (/usr/lib/python3.12/threading.py:?)\n"
		"    ... (1 outer frames not named: only the innermost 8 are read at death)\n"
		"  !! Widget 0x7f0000003000 created on thread 100 (python3)\n";

	run(&r, false);
	if (!strstr(r.buf, want))
		fprintf(stderr, "test_fatal: text:\n%s\n", r.buf);
	CHECK(strstr(r.buf, want) != NULL);
	CHECK(strstr(r.buf, "\nDetaching (target exited: killed by signal 6, ABRT).\n") != NULL);
	CHECK(strstr(r.buf, "\nThe target died during a collection") != NULL);
	/* the collection never ended: not in the pause statistics */
	CHECK(strstr(r.buf, "\n0 collections in 1.000 s") != NULL);
	free(r.buf);
}

static void test_json(void)
{
	struct run r;
	char *rec, *end;

	run(&r, true);
	rec = strstr(r.buf, "{\"type\":\"fatal_collection\"");
	CHECK(rec != NULL);
	if (!rec) {
		free(r.buf);
		return;
	}
	end = strchr(rec, '\n');
	if (end)
		*end = '\0';
	CHECK(strstr(rec, "{\"type\":\"fatal_collection\",\"time\":\"2025-12-01T00:00:05.050000Z\","
			  "\"ts_ns\":5050000000,\"pid\":4242,\"tid\":101,\"thread\":\"collector\",\"gen\":2,"
			  "\"signal\":6,\"signal_name\":\"SIGABRT\",\"signal_self\":true,\"signal_sender_pid\":4242,"
			  "\"signal_time\":\"2025-12-01T00:00:05.062345Z\",\"signal_ts_ns\":5062345678,"
			  "\"elapsed_ns\":12345678,\"phase\":\"traverse\",\"phase_function\":\"subtract_refs\","
			  "\"object\":null,\"object_type\":null,\"native_function\":\"Unsendable_traverse\","
			  "\"native_file\":\"") == rec);
	CHECK(strstr(rec, "\"native_stack\":[{\"address\":\"0x7f00dead0000\",\"file\":\"?\",\"function\":\"?\","
			  "\"interrupted\":true},{\"address\":\"0x") != NULL);
	/* the code pointer (gc_collect_main's own address) is not a frame */
	CHECK(strstr(rec, "\"function\":\"Unsendable_traverse\"},{\"address\":\"0x") != NULL);
	CHECK(strstr(rec, "\"function\":\"subtract_refs\"},{\"address\":\"0x") != NULL);
	CHECK(strstr(rec, "\"function\":\"gc_collect_main\"}],") != NULL);
	{
		const char *p = strstr(rec, "\"gc_collect_main\"");

		CHECK(p && !strstr(p + 1, "\"gc_collect_main\""));	/* once */
	}
	CHECK(strstr(rec, "\"stack\":[{\"file\":\"/srv/app/jobs.py\",\"function\":\"collect_on_worker\","
			  "\"line\":24},{\"file\":\"/usr/lib/python3.12/threading.py\",\"function\":\"Thread.run\","
			  "\"line\":null}],\"stack_unnamed\":1,") != NULL);
	CHECK(strstr(rec, "\"objects_seen\":null,\"findings\":1}") != NULL);
	/* then its finding, and the summary counts it */
	CHECK(end && strstr(end + 1, "{\"type\":\"finding\",\"time\":\"2025-12-01T00:00:05.050000Z\","
				     "\"ts_ns\":5050000000,\"pid\":4242,\"tid\":101,\"thread\":\"collector\","
				     "\"gen\":2,\"object\":\"0x7f0000003000\",\"object_type\":\"Widget\",") != NULL);
	CHECK(end && strstr(end + 1, "\"fatal_collections\":1,") != NULL);
	free(r.buf);
}

int main(void)
{
	(void)golden_records;	/* golden_stream.h's stream is test_correlate's */
	setenv("TZ", "UTC", 1);
	tzset();
	golden_target(&target);
	test_text();
	test_json();
	CHECK_DONE("test_fatal");
}
