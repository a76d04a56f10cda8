// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The 3.15 ring cursor (user/gcstats.c) on images of struct gc_stats built
 * here with the shape of sid's 3.15.2 (pylayout.tsv column 3.15): records
 * given once, in order, their deltas, what the ring overwrote, and garbage. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gcstats.h"

static struct gcstats_rec_shape rs;
static struct gcstats_ring_shape sh;
static uint8_t img[4096];

static void shapes(void)
{
	struct pylayout l;
	char why[256];
	bool ring = false;

	CHECK_EQ_INT(pylayout_init(&l, 0x030f0200), 0);
	CHECK(gcstats_shape_from_layout(&l, &rs, &sh, &ring, why, sizeof(why)));
	CHECK(ring);
	CHECK_EQ_INT(rs.size, 64);
	CHECK_EQ_INT(rs.collections, 16);
	CHECK_EQ_INT(rs.ts_stop, 8);
	CHECK_EQ_INT(rs.duration, 48);
	CHECK_EQ_INT(sh.size, 1120);
	CHECK_EQ_INT(sh.len[0], 11);
	CHECK_EQ_INT(sh.len[1], 3);
	CHECK_EQ_INT(sh.len[2], 3);
	CHECK_EQ_INT(sh.base[1], 712);
	CHECK_EQ_INT(sh.index[2], 712 + 200 + 192);
	CHECK_EQ_INT(sh.seq, 1112);
	CHECK(sizeof(img) >= sh.size);

	/* 3.12: no rings, an array of three {collections, collected, uncollectable} */
	CHECK_EQ_INT(pylayout_init(&l, 0x030c0100), 0);
	CHECK(gcstats_shape_from_layout(&l, &rs, &sh, &ring, why, sizeof(why)));
	CHECK(!ring);
	CHECK_EQ_INT(rs.size, 24);
	CHECK_EQ_INT(rs.ts_start, -1);
	/* a version without a column: nothing known */
	CHECK(pylayout_init(&l, 0x03100000) != 0);
	CHECK(!gcstats_shape_from_layout(&l, &rs, &sh, &ring, why, sizeof(why)));
	CHECK(strstr(why, "unknown") != NULL);
	/* back to 3.15 for the rest */
	pylayout_init(&l, 0x030f0200);
	gcstats_shape_from_layout(&l, &rs, &sh, &ring, why, sizeof(why));
}

static void put64(uint8_t *p, int64_t v)
{
	memcpy(p, &v, 8);
}

static int64_t get_collected(const uint8_t *rec)
{
	int64_t v;

	memcpy(&v, rec + rs.collected, 8);
	return v;
}

/* What CPython does for collection n (1-based) of generation g: copy the
 * previous record forward into the next slot, add, move the index. */
static void collect(int g, int64_t n, int64_t collected, int64_t start)
{
	uint8_t *base = img + sh.base[g];
	int8_t idx;
	uint8_t *prev, *rec;
	double d;

	memcpy(&idx, img + sh.index[g], 1);
	prev = base + (size_t)idx * rs.size;
	idx = (int8_t)((idx + 1) % (int)sh.len[g]);
	rec = base + (size_t)idx * rs.size;
	memmove(rec, prev, rs.size);
	put64(rec + rs.ts_start, start);
	put64(rec + rs.ts_stop, start + 1000 * n);
	put64(rec + rs.collections, n);
	put64(rec + rs.collected, get_collected(rec) + collected);
	memcpy(&d, rec + rs.duration, 8);
	d += 1e-6 * (double)n;
	memcpy(rec + rs.duration, &d, 8);
	memcpy(img + sh.index[g], &idx, 1);
}

static void test_first_records(void)
{
	struct gcstats_cursor_gen cur = { 0 };
	struct gcstats_item out[16];
	uint64_t gap = 99;
	int n;

	memset(img, 0, sizeof(img));
	/* nothing collected yet: slot 0 zeroed, nothing to give */
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), 0);
	CHECK_EQ_INT(gap, 0);
	for (int i = 1; i <= 4; i++)
		collect(0, i, 10 * i, 1000000 * i);
	n = gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(gap, 0);
	for (int i = 0; i < n; i++) {
		CHECK(out[i].c.have_counts);	/* #1's predecessor is the zeroed record */
		CHECK_EQ_INT(out[i].c.collected, 10 * (i + 1));
		CHECK_EQ_INT(out[i].c.gen, 0);
		CHECK_EQ_INT(out[i].c.ts_start, 1000000 * (i + 1));
		CHECK_EQ_INT(out[i].c.pause_ns, 1000 * (i + 1));
		CHECK(out[i].duration_s > 0.99e-6 * (i + 1) && out[i].duration_s < 1.01e-6 * (i + 1));
	}
	/* the cursor after #4: nothing new */
	cur.have_last = true;
	cur.last = out[3].rec;
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), 0);
	/* #5, #6 come next, with their deltas */
	collect(0, 5, 7, 5000000);
	collect(0, 6, 0, 6000000);
	n = gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(out[0].c.collected, 7);
	CHECK_EQ_INT(out[1].c.collected, 0);
	CHECK(out[1].c.have_counts);
	CHECK_EQ_INT(gap, 0);
}

static void test_wrap(void)
{
	struct gcstats_cursor_gen cur = { 0 };
	struct gcstats_item out[16];
	uint64_t gap = 0;
	int n;

	memset(img, 0, sizeof(img));
	/* generation 2's ring holds 3: after 10 collections, #8-#10 are there */
	for (int i = 1; i <= 10; i++)
		collect(2, i, i, 100 * i);
	n = gcstats_ring_new(&rs, &sh, img, 2, &cur, out, 16, &gap);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(out[0].rec.collections, 8);
	CHECK(!out[0].c.have_counts);	/* #7 is gone: nothing to subtract */
	CHECK_EQ_INT(out[0].c.collected, -1);
	CHECK_EQ_INT(out[0].c.pause_ns, 8000);	/* its times are its own */
	CHECK(out[1].c.have_counts);
	CHECK_EQ_INT(out[1].c.collected, 9);
	CHECK_EQ_INT(out[2].c.collected, 10);
	CHECK_EQ_INT(gap, 7);		/* #1-#7 overwritten */
	/* each record says the ones lost just before it (--jsonl's missed) */
	CHECK_EQ_INT(out[0].missed_before, 7);
	CHECK_EQ_INT(out[1].missed_before, 0);
	CHECK_EQ_INT(out[2].missed_before, 0);
	/* a cursor at #8 has #8 to subtract from #9 */
	cur.have_last = true;
	cur.last = out[0].rec;
	for (int i = 11; i <= 14; i++)
		collect(2, i, i, 100 * i);
	n = gcstats_ring_new(&rs, &sh, img, 2, &cur, out, 16, &gap);
	CHECK_EQ_INT(n, 3);		/* #12-#14 */
	CHECK_EQ_INT(gap, 3);		/* #9-#11 lost */
	CHECK_EQ_INT(out[0].missed_before, 3);
	CHECK_EQ_INT(out[1].missed_before + out[2].missed_before, 0);
	CHECK(!out[0].c.have_counts);
	CHECK_EQ_INT(out[2].c.collected, 14);
	/* max: out[] too small is garbage, not an overflow */
	cur.have_last = false;
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 2, &cur, out, 2, &gap), -1);
}

static void test_garbage(void)
{
	struct gcstats_cursor_gen cur = { 0 };
	struct gcstats_item out[16];
	uint64_t gap;
	int8_t bad = 11;

	memset(img, 0, sizeof(img));
	for (int i = 1; i <= 3; i++)
		collect(0, i, 1, i);
	/* an index outside the ring */
	memcpy(img + sh.index[0], &bad, 1);
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), -1);
	bad = -1;
	memcpy(img + sh.index[0], &bad, 1);
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), -1);
	/* negative counters */
	memset(img, 0, sizeof(img));
	collect(0, 1, 1, 1);
	put64(img + sh.base[0] + rs.size + rs.collected, -5);
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), -1);
	/* a ring going backwards */
	memset(img, 0, sizeof(img));
	for (int i = 1; i <= 3; i++)
		collect(1, i, 1, i);
	put64(img + sh.base[1] + 2 * rs.size + rs.collections, 1);	/* #2 says #1 */
	put64(img + sh.base[1] + 0 * rs.size + rs.collections, 3);
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 1, &cur, out, 16, &gap), -1);
	/* counts going down: a delta is unknown, never negative */
	memset(img, 0, sizeof(img));
	collect(0, 1, 10, 1);
	collect(0, 2, 10, 2);
	put64(img + sh.base[0] + 2 * rs.size + rs.collected, 3);
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap), 2);
	CHECK(!out[1].c.have_counts);
	/* a NaN duration is not a time */
	{
		uint64_t nan = 0x7ff8000000000000ULL;

		memcpy(img + sh.base[0] + 2 * rs.size + rs.duration, &nan, 8);
		gcstats_ring_new(&rs, &sh, img, 0, &cur, out, 16, &gap);
		CHECK(out[1].duration_s == -1);
	}
	/* the generation is checked */
	CHECK_EQ_INT(gcstats_ring_new(&rs, &sh, img, 3, &cur, out, 16, &gap), -1);
}

int main(void)
{
	shapes();
	test_first_records();
	test_wrap();
	test_garbage();
	CHECK_DONE("test_gcstats");
}
