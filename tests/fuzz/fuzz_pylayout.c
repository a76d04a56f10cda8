// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The layout table and its overrides (user/pylayout.c): the target's
 * _Py_DebugOffsets (3.13+, the first bytes of _PyRuntime, read from its
 * memory) and the values a DWARF lookup returns (the target's debug info).
 * Whatever they hold, a value must stay "unknown", "none", or a plausible
 * offset, and the counts must match the sources.
 *
 * Input: the _Py_DebugOffsets bytes (cookie "xdebugpy", version, then
 * offsets); the same bytes also feed the fake DWARF lookup.
 */
#include <string.h>

#include "fuzz.h"
#include "pylayout.h"

struct dw {
	const uint8_t *p;
	size_t n;
};

/* A DWARF answer for (type, path): 4 bytes of the input picked by a hash
 * of the names, so that the fuzzer can steer each row's answer. */
static long fake_dwarf(void *ctx, const char *type, const char *path)
{
	const struct dw *d = ctx;
	uint32_t h = 2166136261u, v;

	for (const char *s = type; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	for (const char *s = path; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	if (d->n < 4)
		return -1;
	memcpy(&v, d->p + h % (d->n - 3), 4);
	return (int32_t)v;
}

static void check(const struct pylayout *l)
{
	int ndo = 0, ndw = 0;

	for (int i = 0; i < PYL__COUNT; i++) {
		long v = l->off[i];

		/* the largest "+N" in a pydebug spec is small */
		FUZZ_ASSERT(v == PYL_NONE || v == PYL_UNKNOWN || (v >= 0 && v < PYL_RULE_MAX_OFFSET + 4096));
		ndo += l->src[i] == PYL_SRC_DEBUG_OFFSETS;
		ndw += l->src[i] == PYL_SRC_DWARF;
	}
	FUZZ_ASSERT(ndo <= l->n_debug_offsets && ndw == l->n_dwarf);
}

static void one(uint32_t version, const uint8_t *data, size_t size, int order)
{
	struct dw d = { data, size };
	struct pylayout l;

	pylayout_init(&l, version);
	check(&l);
	/* target.c: debug offsets, then DWARF; try the other order too */
	if (order)
		pylayout_apply_dwarf(&l, fake_dwarf, &d);
	pylayout_apply_debug_offsets(&l, data, size);
	pylayout_free_threaded(&l, data, size);
	if (!order)
		pylayout_apply_dwarf(&l, fake_dwarf, &d);
	check(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t v = 0;

	/* the version the buffer states, as target.c takes it */
	if (size >= 16)
		memcpy(&v, data + 8, 8);
	one((uint32_t)v & 0xffffff00, data, size, 0);
	/* and a column of the table whatever the buffer says, in either order
	 * (picked by the size, which the fuzzer varies anyway: every column
	 * for each run is 4 times slower) */
	one(pyl_columns[size % PYL_NCOLS], data, size, (int)(size / PYL_NCOLS) & 1);
	return 0;
}
