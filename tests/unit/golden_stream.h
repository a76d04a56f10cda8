/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A recorded stream of ring-buffer records, as bpf/gcscope.bpf.c sends them
 * for five collections of a CPython 3.12 target with --stack --types
 * --owners: stacks, type counts in chunks, type names (one with terminal
 * escapes), a verdict request, findings (more than a text line lists), a
 * hidden collection, one whose stack record was lost, one of unknown
 * generation with only the probe's total.
 *
 * The golden outputs in tests/unit/golden/ were written by the trace code
 * before the pipeline (commit b3dbc0d's handle_event(), print_attach() and
 * print_summary(), fed these same records): the sinks must reproduce them
 * byte for byte.
 *
 * The code objects the stacks point at are laid out in this process's
 * memory as CPython 3.12 lays them (see test_pystack.c), so the target is
 * this process: golden_target() makes it.
 */
#ifndef GCSCOPE_GOLDEN_STREAM_H
#define GCSCOPE_GOLDEN_STREAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcscope.h"
#include "target.h"

#define GOLDEN_MONO_TO_REAL 1764547200000000000LL	/* 2025-12-01T00:00:00Z at mono 0 */
#define GOLDEN_PID 4242u
#define GOLDEN_T0 5000000000ULL				/* first collection, monotonic ns */

/* A fixed-size name field as BPF fills it: NUL-padded, not always NUL-ended. */
static void golden_name(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	memset(dst, 0, size);
	memcpy(dst, src, n < size ? n : size);
}

typedef void (*golden_feed_fn)(const void *rec, size_t size, void *ctx);

static uint8_t *golden_str(const char *ascii)
{
	size_t n = strlen(ascii);
	uint8_t *o = calloc(1, 40 + n + 1);	/* PyASCIIObject is 40 bytes in 3.12 */
	int64_t len = (int64_t)n;
	uint32_t state = (1 << 2) | (1 << 5) | (1 << 6);	/* kind 1, compact, ascii */

	memcpy(o + 16, &len, 8);
	memcpy(o + 32, &state, 4);
	memcpy(o + 40, ascii, n);
	return o;
}

static void golden_ptr(uint8_t *o, long off, const void *p)
{
	uint64_t v = (uintptr_t)p;

	memcpy(o + off, &v, 8);
}

/* A 3.12 code object: co_firstlineno 68, co_filename 112, co_qualname 128,
 * co_linetable 136 (empty bytes: every instruction gets firstlineno),
 * co_code_adaptive 192. */
static uint8_t *golden_code(const char *file, const char *name, int firstlineno)
{
	static uint8_t empty_bytes[40];
	uint8_t *code = calloc(1, 192 + 64);

	memcpy(code + 68, &firstlineno, 4);
	golden_ptr(code, 112, golden_str(file));
	golden_ptr(code, 128, golden_str(name));
	golden_ptr(code, 136, empty_bytes);
	return code;
}

/* This process as a CPython 3.12 target (its memory holds the code objects). */
static void golden_target(struct pytarget *t)
{
	memset(t, 0, sizeof(*t));
	t->pid = getpid();
	t->elf.fd = -1;
	t->version = 0x030c0100;
	pylayout_init(&t->layout, t->version);
	t->layout_ok = true;
}

static void golden_collection(golden_feed_fn feed, void *ctx, uint32_t tid, const char *comm, int gen,
			      uint64_t start, uint64_t pause, uint32_t flags, int64_t collected, int64_t uncoll,
			      int64_t total)
{
	struct gcscope_collection e = {
		.type = GCSCOPE_EV_COLLECTION, .flags = flags, .pid = GOLDEN_PID, .tid = tid,
		.ts_start = start, .ts_end = start + pause, .gen = gen, .gen_arg = gen,
		.total_arg = total, .collected = collected, .uncollectable = uncoll,
	};

	golden_name(e.comm, sizeof(e.comm), comm);
	feed(&e, sizeof(e), ctx);
}

static void golden_stack(golden_feed_fn feed, void *ctx, uint32_t tid, uint64_t start, uint8_t **codes, int n)
{
	struct gcscope_stack st = { .type = GCSCOPE_EV_STACK, .tid = tid, .ts_start = start, .nframes = (uint32_t)n,
				    .tstate = 0x5000 };

	for (int i = 0; i < n; i++) {
		st.frames[i].code = (uintptr_t)codes[i];
		st.frames[i].instr = (uintptr_t)codes[i] + 192;
	}
	/* sent with only the frames used */
	feed(&st, offsetof(struct gcscope_stack, frames) + n * sizeof(struct gcscope_frame), ctx);
}

static void golden_type_name(golden_feed_fn feed, void *ctx, uint64_t type, const char *name)
{
	struct gcscope_type_name e = { .type = GCSCOPE_EV_TYPE_NAME, .pytype = type, .tp_flags = 1UL << 9 };

	golden_name(e.name, sizeof(e.name) - 1, name);
	feed(&e, sizeof(e), ctx);
}

/* tc: (type, count) pairs; unknown: per pair, how many have no creator
 * known (NULL: none) */
static void golden_types_unknown(golden_feed_fn feed, void *ctx, uint32_t tid, uint64_t start, uint32_t flags,
				 uint64_t seen, const uint64_t (*tc)[2], const uint32_t *unknown, int n)
{
	struct gcscope_types e = { .type = GCSCOPE_EV_TYPES, .flags = flags, .tid = tid, .ts_start = start,
				   .n = (uint32_t)n, .seen = seen };

	for (int i = 0; i < n; i++) {
		e.t[i].type = tc[i][0];
		e.t[i].count = (uint32_t)tc[i][1];
		e.t[i].no_creator = unknown ? unknown[i] : 0;
	}
	feed(&e, sizeof(e), ctx);
}

static void golden_types(golden_feed_fn feed, void *ctx, uint32_t tid, uint64_t start, uint32_t flags,
			 uint64_t seen, const uint64_t (*tc)[2], int n)
{
	golden_types_unknown(feed, ctx, tid, start, flags, seen, tc, NULL, n);
}

static void golden_finding(golden_feed_fn feed, void *ctx, uint32_t tid, uint64_t start, uint64_t obj,
			   uint64_t type, uint32_t owner, const char *owner_comm)
{
	struct gcscope_finding f = { .type = GCSCOPE_EV_FINDING, .tid = tid, .ts_start = start, .obj = obj,
				     .flags = GCSCOPE_FIND_F_CREATOR,
				     .owner = { .tid = owner, .pytype = type, .ts = start - 1000000 } };

	golden_name(f.owner.comm, sizeof(f.owner.comm), owner_comm);
	feed(&f, sizeof(f), ctx);
}

#define T_WIDGET 0x10000ULL
#define T_LEAF 0x20000ULL
#define T_EVIL 0x30000ULL

/* The stream.  Collection times are GOLDEN_T0 + n * 10 ms. */
static void golden_records(golden_feed_fn feed, void *ctx)
{
	static uint8_t *codes[3];
	struct gcscope_new_type nt = { .type = GCSCOPE_EV_NEW_TYPE, .pytype = T_WIDGET };
	uint64_t t;

	if (!codes[0]) {
		codes[0] = golden_code("/srv/app/models.py", "Session.close", 120);
		codes[1] = golden_code("/srv/app/main.py", "<module>", 7);
		codes[2] = golden_code("/usr/lib/python3.12/threading.py", "Thread.run", 1010);
	}
	/* --owners asks about Widget when its first instance is made */
	feed(&nt, sizeof(nt), ctx);

	/* 1: main thread, gen 0, 1.5 ms, counts from generation_stats */
	t = GOLDEN_T0;
	golden_stack(feed, ctx, 100, t, codes, 2);
	golden_type_name(feed, ctx, T_WIDGET, "Widget");
	golden_type_name(feed, ctx, T_LEAF, "Leaf");
	/* --owners: one Widget (watched) and both Leafs (not) of no known
	 * creator: owners_unknown 1 */
	golden_types_unknown(feed, ctx, 100, t, 0, 5, (const uint64_t[][2]){ { T_WIDGET, 3 }, { T_LEAF, 2 } },
			     (const uint32_t[]){ 1, 2 }, 2);
	golden_types(feed, ctx, 100, t, GCSCOPE_TYPES_F_LAST, 6, (const uint64_t[][2]){ { T_WIDGET, 1 } }, 1);
	golden_collection(feed, ctx, 100, "python3", 0, t, 1500000, GCSCOPE_F_STATS | GCSCOPE_F_TOTAL_ARG, 6, 0, 6);

	/* 2: a worker's short gen-0 collection (hidden by --min-ms 0.5) that
	 * destroys two of main's Widgets */
	t = GOLDEN_T0 + 10000000;
	golden_stack(feed, ctx, 101, t, codes + 2, 1);
	golden_finding(feed, ctx, 101, t, 0x7f0000001000, T_WIDGET, 100, "python3");
	golden_finding(feed, ctx, 101, t, 0x7f0000001040, T_WIDGET, 100, "python3");
	golden_types(feed, ctx, 101, t, GCSCOPE_TYPES_F_LAST, 2, (const uint64_t[][2]){ { T_WIDGET, 2 } }, 1);
	golden_collection(feed, ctx, 101, "worker", 0, t, 200000, GCSCOPE_F_STATS, 2, 0, 0);

	/* 3: the worker again, gen 2, 12 findings, a capped walk, a type
	 * whose name carries terminal escapes */
	t = GOLDEN_T0 + 20000000;
	golden_stack(feed, ctx, 101, t, codes + 2, 1);
	golden_type_name(feed, ctx, T_EVIL, "Evil\x1b[31mRed");
	for (int i = 0; i < 12; i++)
		golden_finding(feed, ctx, 101, t, 0x7f0000002000 + 0x40 * (uint64_t)i, T_WIDGET, 100, "python3");
	golden_types(feed, ctx, 101, t, GCSCOPE_TYPES_F_LAST | GCSCOPE_TYPES_F_CAPPED, 20,
		     (const uint64_t[][2]){ { T_WIDGET, 12 }, { T_EVIL, 8 } }, 2);
	golden_collection(feed, ctx, 101, "worker", 2, t, 12345678, GCSCOPE_F_STATS | GCSCOPE_F_TOTAL_ARG, 40, 3,
			  43);

	/* 4: generation unknown, only the probe's total, the stack record
	 * lost (none sent), no walk */
	t = GOLDEN_T0 + 30000000;
	golden_collection(feed, ctx, 102, "t\abell", -1, t, 700000, GCSCOPE_F_TOTAL_ARG, 0, 0, 9);

	/* 5: main, gen 1, a stack with no frames (no thread state) */
	t = GOLDEN_T0 + 40000000;
	{
		struct gcscope_stack st = { .type = GCSCOPE_EV_STACK, .flags = GCSCOPE_STACK_F_NO_TSTATE, .tid = 100,
					    .ts_start = t };

		feed(&st, offsetof(struct gcscope_stack, frames), ctx);
	}
	golden_types(feed, ctx, 100, t, GCSCOPE_TYPES_F_LAST, 1, (const uint64_t[][2]){ { T_LEAF, 1 } }, 1);
	golden_collection(feed, ctx, 100, "python3", 1, t, 3000000, GCSCOPE_F_STATS, 1, 0, 0);
}

#endif
