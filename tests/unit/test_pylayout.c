// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The layout table, and its overrides by _Py_DebugOffsets and DWARF. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "pylayout.h"

#define V(a, b, c) ((uint32_t)((a) << 24 | (b) << 16 | (c) << 8))

static void test_columns(void)
{
	struct pylayout l;

	CHECK_EQ_INT(pylayout_init(&l, V(3, 11, 2)), 0);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 648);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATION_STATS), 128);
	CHECK_EQ_INT(l.src[PYL_INTERP_GC], PYL_SRC_TABLE);
	CHECK_EQ_INT(pylayout_init(&l, V(3, 9, 18)), 0);
	CHECK_EQ_INT(pyl(&l, PYL_RUNTIME_INTERPRETERS_MAIN), 40);
	CHECK_EQ_INT(pyl(&l, PYL_TSTATE_NATIVE_THREAD_ID), PYL_NONE);
	/* 3.14.0-3.14.4: incremental GC, young + old[2] */
	CHECK_EQ_INT(pylayout_init(&l, V(3, 14, 4)), 0);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), PYL_NONE);
	CHECK_EQ_INT(pyl(&l, PYL_GC_YOUNG), 24);
	CHECK_EQ_INT(pyl(&l, PYL_GC_COLLECTING), 192);
	/* 3.14.5+: generations[3] are back (gh-148726) */
	CHECK_EQ_INT(pylayout_init(&l, V(3, 14, 10)), 0);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), 24);
	CHECK_EQ_INT(pyl(&l, PYL_GC_YOUNG), PYL_NONE);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATION_STATS), 120);
	/* no column for versions the table does not know */
	CHECK_EQ_INT(pylayout_init(&l, V(3, 16, 0)), -ENOTSUP);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), PYL_UNKNOWN);
	CHECK_EQ_INT(pylayout_init(&l, V(3, 8, 10)), -ENOTSUP);
}

/* column.first_micro/last_micro rows, not the header, say which releases a
 * column covers (the same rows gdb/gcscope_layout.py reads). */
static void test_column_rows(void)
{
	CHECK_EQ_INT(pyl_column_for(V(3, 14, 0)), pyl_column_for(V(3, 14, 4)));
	CHECK(pyl_column_for(V(3, 14, 4)) != pyl_column_for(V(3, 14, 5)));
	CHECK_EQ_STR(pyl_column_names[pyl_column_for(V(3, 14, 4))], "3.14.0");
	CHECK_EQ_STR(pyl_column_names[pyl_column_for(V(3, 14, 255))], "3.14.5");
	CHECK_EQ_STR(pyl_column_names[pyl_column_for(V(3, 9, 0))], "3.9");
	CHECK_EQ_INT(pyl_column_for(V(3, 16, 0)), -1);
	CHECK_EQ_STR(pyl_column_names[pyl_column_for(V(3, 15, 2))], "3.15");
	for (int c = 0; c < PYL_NCOLS; c++)
		CHECK_EQ_INT(pyl_rows[PYL_COLUMN_FIRST_MICRO].values[c], (pyl_columns[c] >> 8) & 0xff);
	CHECK_EQ_STR(PYL_RULE_DEBUG_OFFSETS_COOKIE, "xdebugpy");
}

/* gcstate->generation0 settles gc.generations within the rule's bounds. */
static void test_generation0(void)
{
	const uint64_t gc = 0x10000;
	struct pylayout l;

	pylayout_init(&l, V(3, 13, 5));
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), PYL_UNKNOWN);
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 20), 1);	/* trixie's 3.13.5 */
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), 20);
	CHECK_EQ_INT(l.src[PYL_GC_GENERATIONS], PYL_SRC_TARGET);
	pylayout_init(&l, V(3, 12, 1));
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 24), 0);	/* the table's already */
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), 24);
	CHECK_EQ_INT(l.src[PYL_GC_GENERATIONS], PYL_SRC_TABLE);
	/* garbage pointers: below gcstate, on gc.debug, misaligned, no room */
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc - 8), 0);
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 16), 0);
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 22), 0);
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 40), 0);
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, UINT64_MAX), 0);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), 24);
	/* 3.14.0-3.14.4: young + old[2], nothing to settle */
	pylayout_init(&l, V(3, 14, 2));
	CHECK_EQ_INT(pylayout_apply_generation0(&l, gc, gc + 24), 0);
}

static void put64(unsigned char *buf, long pos, uint64_t v)
{
	memcpy(buf + pos, &v, 8);
}

static void test_debug_offsets(void)
{
	unsigned char buf[1024] = {0};
	struct pylayout l;

	pylayout_init(&l, V(3, 13, 5));
	CHECK_EQ_INT(pylayout_apply_debug_offsets(&l, buf, sizeof(buf)), -EINVAL);	/* no cookie */
	memcpy(buf, "xdebugpy", 8);
	put64(buf, 8, 0x030d05f0);
	/* where 3.13 keeps these inside _Py_DebugOffsets (pylayout.tsv) */
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_INTERPRETER_STATE_GC), 7777);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_RUNTIME_STATE_INTERPRETERS_HEAD), 1000);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_GC_COLLECTING), 1ULL << 40);	/* garbage: ignored */
	CHECK(pylayout_apply_debug_offsets(&l, buf, sizeof(buf)) > 0);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 7777);
	CHECK_EQ_INT(l.src[PYL_INTERP_GC], PYL_SRC_DEBUG_OFFSETS);
	CHECK_EQ_INT(pyl(&l, PYL_RUNTIME_INTERPRETERS_HEAD), 1000);
	CHECK_EQ_INT(pyl(&l, PYL_GC_COLLECTING), 200);		/* kept from the table */
	CHECK_EQ_INT(l.src[PYL_GC_COLLECTING], PYL_SRC_TABLE);
	/* a buffer too short for a position leaves the table's value */
	pylayout_init(&l, V(3, 13, 5));
	CHECK(pylayout_apply_debug_offsets(&l, buf, 64) >= 0);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 7400);

	/* 3.15 publishes its stats rings: generation_stats and its size */
	memset(buf, 0, sizeof(buf));
	pylayout_init(&l, V(3, 15, 2));
	memcpy(buf, "xdebugpy", 8);
	put64(buf, 8, 0x030f02f0);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_RUNTIME_STATE_INTERPRETERS_HEAD), 2000);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_GC_GENERATION_STATS), 96);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_GC_GENERATION_STATS_SIZE), 1112);
	CHECK(pylayout_apply_debug_offsets(&l, buf, sizeof(buf)) > 0);
	CHECK_EQ_INT(pyl(&l, PYL_RUNTIME_INTERPRETERS_MAIN), 2008);	/* head + 8 */
	CHECK_EQ_INT(l.src[PYL_RUNTIME_INTERPRETERS_MAIN], PYL_SRC_DEBUG_OFFSETS);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATION_STATS), 96);
	CHECK_EQ_INT(pyl(&l, PYL_GC_RING_SIZEOF), 1112);
	CHECK_EQ_INT(pyl(&l, PYL_GC_RING_YOUNG_INDEX), 704);		/* the table's */
	/* 3.14's _Py_DebugOffsets has no such member: the table's value stays */
	pylayout_init(&l, V(3, 14, 10));
	put64(buf, 8, 0x030e0af0);
	pylayout_apply_debug_offsets(&l, buf, sizeof(buf));
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATION_STATS), 120);
	CHECK_EQ_INT(pyl(&l, PYL_GC_RING_YOUNG_INDEX), PYL_NONE);
}

/* A fake DWARF: knows a few members. */
static long fake_dwarf(void *ctx, const char *type, const char *path)
{
	int *calls = ctx;

	(*calls)++;
	if (!strcmp(type, "PyInterpreterState") && !strcmp(path, "gc"))
		return 4242;
	if (!strcmp(type, "PyInterpreterState") && !strcmp(path, "tstate_head"))
		return 8;	/* 3.9's name: the second alternative */
	if (!strcmp(type, "_gc_runtime_state") && !strcmp(path, "generations"))
		return 20;	/* trixie's 3.13.5 */
	return PYL_NONE;
}

static void test_dwarf(void)
{
	struct pylayout l;
	int calls = 0;

	pylayout_init(&l, V(3, 13, 5));
	CHECK_EQ_INT(pylayout_apply_dwarf(&l, fake_dwarf, &calls), 3);
	CHECK(calls > PYL__COUNT / 2);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 4242);
	CHECK_EQ_INT(l.src[PYL_INTERP_GC], PYL_SRC_DWARF);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_THREADS_HEAD), 8);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATIONS), 20);
	CHECK_EQ_INT(l.src[PYL_GC_GENERATIONS], PYL_SRC_DWARF);
	/* DWARF wins over _Py_DebugOffsets */
	{
		unsigned char buf[1024] = {0};

		memcpy(buf, "xdebugpy", 8);
		memcpy(buf + pyl(&l, PYL_DEBUG_OFFSETS_INTERPRETER_STATE_GC), &(uint64_t){ 1 }, 8);
		pylayout_apply_debug_offsets(&l, buf, sizeof(buf));
		CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 4242);
	}
}

static void test_rows(void)
{
	CHECK_EQ_INT(pyl_find("interp.gc"), PYL_INTERP_GC);
	CHECK_EQ_INT(pyl_find("no.such"), -1);
	/* every pydebug reference names a row of the table */
	for (int i = 0; i < PYL__COUNT; i++) {
		char name[128];
		const char *s = pyl_rows[i].pydebug, *plus = strchr(s, '+');

		if (!strcmp(s, "-"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(plus ? plus - s : (long)strlen(s)), s);
		CHECK(pyl_find(name) >= 0);
	}
}

/* A free-threaded build: _Py_DebugOffsets.free_threaded is 1; the GIL
 * columns' offsets are dropped, the ft. rows and kept constants stay. */
static void test_free_threaded(void)
{
	unsigned char buf[1024] = {0};
	struct pylayout l;

	pylayout_init(&l, V(3, 13, 15));
	memcpy(buf, "xdebugpy", 8);
	put64(buf, 8, 0x030d0ff0);
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_INTERPRETER_STATE_GC), 7777);
	CHECK(pylayout_apply_debug_offsets(&l, buf, sizeof(buf)) > 0);
	CHECK(!pylayout_free_threaded(&l, buf, sizeof(buf)));
	put64(buf, pyl(&l, PYL_DEBUG_OFFSETS_FREE_THREADED), PYL_RULE_FREE_THREADED);
	CHECK(pylayout_free_threaded(&l, buf, sizeof(buf)));
	CHECK(!pylayout_free_threaded(&l, buf, 16));		/* the flag is past the buffer */
	CHECK(pylayout_forget_table(&l) > 0);
	CHECK(l.free_threaded);
	CHECK_EQ_INT(pyl(&l, PYL_INTERP_GC), 7777);			/* from _Py_DebugOffsets */
	CHECK_EQ_INT(l.src[PYL_INTERP_GC], PYL_SRC_DEBUG_OFFSETS);
	CHECK_EQ_INT(pyl(&l, PYL_GC_GENERATION_STATS), PYL_UNKNOWN);	/* a GIL offset */
	CHECK_EQ_INT(l.src[PYL_GC_GENERATION_STATS], PYL_SRC_NONE);
	CHECK_EQ_INT(pyl(&l, PYL_OBJECT_MANAGED_DICT_BEFORE), 8);	/* ft.object.managed_dict_before */
	CHECK_EQ_INT(pyl(&l, PYL_IFRAME_CODE_TAG_BITS), 0);
	CHECK_EQ_INT(pyl(&l, PYL_TPFLAGS_MANAGED_DICT), 16);		/* kept: a flag */
	CHECK_EQ_INT(pyl(&l, PYL_DEBUG_OFFSETS_FREE_THREADED), 16);	/* kept: inside _Py_DebugOffsets */
	CHECK_EQ_INT(pylayout_table_value(&l, PYL_GC_GENERATION_STATS), PYL_UNKNOWN);
	CHECK_EQ_INT(pylayout_table_value(&l, PYL_OBJECT_MANAGED_DICT_BEFORE), 8);
	/* 3.14t: the ft. rows are not measured there */
	pylayout_init(&l, V(3, 14, 10));
	pylayout_forget_table(&l);
	CHECK_EQ_INT(pyl(&l, PYL_OBJECT_MANAGED_DICT_BEFORE), PYL_UNKNOWN);
	CHECK_EQ_INT(pyl(&l, PYL_OBJECT_OB_TYPE), PYL_UNKNOWN);
	/* a GIL build keeps the table */
	pylayout_init(&l, V(3, 13, 15));
	CHECK_EQ_INT(pyl(&l, PYL_OBJECT_MANAGED_DICT_BEFORE), 24);
	CHECK_EQ_INT(pylayout_table_value(&l, PYL_OBJECT_OB_TYPE), 8);
}

int main(void)
{
	test_columns();
	test_column_rows();
	test_generation0();
	test_debug_offsets();
	test_dwarf();
	test_rows();
	test_free_threaded();
	CHECK_DONE("test_pylayout");
}
