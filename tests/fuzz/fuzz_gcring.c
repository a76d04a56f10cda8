// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The 3.15 GC record rings as `gcscope stats` and the memory tier read them
 * from a target (user/gcstats.c): whatever the image of struct gc_stats
 * holds, the cursor stays inside it and gives only records newer than
 * itself, in order, with deltas that are never negative.
 *
 * Input: 1 byte of flags (bit 0: the cursor has a last record), 64 bytes of
 * that record, then the struct gc_stats image (the shape of pylayout.tsv's
 * 3.15 column, 1120 bytes, zero-filled when short).
 */
#include <string.h>

#include "fuzz.h"
#include "gcstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gcstats_rec_shape rs;
	static struct gcstats_ring_shape sh;
	static bool ready;
	struct fin in = { data, size };
	uint8_t flags, last[64], img[1120];
	struct gcstats_cursor_gen cur = { 0 };
	struct gcstats_item out[16];

	if (!ready) {
		struct pylayout l;
		char why[256];
		bool ring;

		pylayout_init(&l, 0x030f0200);
		FUZZ_ASSERT(gcstats_shape_from_layout(&l, &rs, &sh, &ring, why, sizeof(why)) && ring);
		FUZZ_ASSERT(sh.size == sizeof(img) && rs.size == sizeof(last));
		ready = true;
	}
	fin_take(&in, &flags, 1);
	fin_take(&in, last, sizeof(last));
	fin_take(&in, img, sizeof(img));
	if (flags & 1) {
		cur.have_last = true;
		gcstats_decode_rec(&rs, last, &cur.last);
	}
	for (int g = -1; g <= 3; g++) {
		uint64_t gap = 0;
		int n = gcstats_ring_new(&rs, &sh, img, g, &cur, out, 16, &gap);

		if (g < 0 || g > 2) {
			FUZZ_ASSERT(n == -1);
			continue;
		}
		FUZZ_ASSERT(n >= -1 && n <= (int)sh.len[g]);
		for (int i = 0; i < n; i++) {
			const struct gc_collection *c = &out[i].c;

			FUZZ_ASSERT(c->gen == g);
			FUZZ_ASSERT(out[i].rec.collections > 0);
			FUZZ_ASSERT(!cur.have_last || out[i].rec.collections > cur.last.collections);
			FUZZ_ASSERT(!i || out[i].rec.collections > out[i - 1].rec.collections);
			FUZZ_ASSERT(!c->have_counts || (c->collected >= 0 && c->uncollectable >= 0));
			FUZZ_ASSERT(c->have_counts || c->collected == -1);
			FUZZ_ASSERT(!c->have_candidates || c->candidates >= 0);
			FUZZ_ASSERT(c->pause_ns == 0 || c->ts_end > c->ts_start);
			FUZZ_ASSERT(out[i].duration_s == -1 || out[i].duration_s >= 0);
		}
	}
	return 0;
}
