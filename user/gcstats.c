// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The tier without BPF: see gcstats.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gcstats.h"

/* A record larger than this, or a struct gc_stats larger than that, is not
 * CPython's (64 and 1120 bytes in 3.15.2). */
#define REC_SIZE_MAX 256
#define RING_SIZE_MAX 65536
/* Reads of a changing image before giving up: each collection rewrites a
 * record, and at 15k collections/s two reads of 1 KiB still agree almost
 * always. */
#define STABLE_TRIES 16

static int32_t field_at(const struct pylayout *l, enum pyl_field f, uint32_t size)
{
	long off = pyl(l, f);

	return off >= 0 && off % 8 == 0 && (uint64_t)off + 8 <= size ? (int32_t)off : -1;
}

/* 3.15 (GH-146527): the rings of struct gc_stats, pylayout.tsv gc_ring.*:
 * a ring's items[] come first and its int8 index right after them, so the
 * index's offset over the record size is the ring's length (11 and 3; 1 and
 * 1 free-threaded). */
static bool ring_shape(const struct pylayout *l, uint32_t rec, struct gcstats_ring_shape *sh)
{
	long yi = pyl(l, PYL_GC_RING_YOUNG_INDEX), old = pyl(l, PYL_GC_RING_OLD);
	long osz = pyl(l, PYL_GC_RING_OLD_SIZEOF), oi = pyl(l, PYL_GC_RING_OLD_INDEX);
	long total = pyl(l, PYL_GC_RING_SIZEOF), seq = pyl(l, PYL_GC_RING_UPDATE_SEQ);

	if (yi <= 0 || old < yi + 1 || osz <= 0 || oi <= 0 || oi >= osz || total <= 0 || total > RING_SIZE_MAX ||
	    old + 2 * osz > total || yi % rec || oi % rec || yi / rec > 127 || oi / rec > 127)
		return false;
	sh->size = (uint32_t)total;
	sh->base[0] = 0;
	sh->index[0] = (uint32_t)yi;
	sh->len[0] = (uint32_t)(yi / rec);
	for (int g = 1; g < 3; g++) {
		sh->base[g] = (uint32_t)(old + (g - 1) * osz);
		sh->index[g] = sh->base[g] + (uint32_t)oi;
		sh->len[g] = (uint32_t)(oi / rec);
	}
	/* GH-146527 follow-up: a sequence counter, odd while a record is
	 * written (3.15.2 has it at 1112, after the rings). */
	sh->seq = seq >= 0 && seq % 4 == 0 && seq + 4 <= total && seq >= old + 2 * osz ? (int32_t)seq : -1;
	return true;
}

bool gcstats_shape_from_layout(const struct pylayout *l, struct gcstats_rec_shape *rec,
			       struct gcstats_ring_shape *ring, bool *is_ring, char *why, size_t size)
{
	static const enum pyl_field need[] = {
		PYL_RUNTIME_INTERPRETERS_MAIN, PYL_INTERP_GC, PYL_GC_GENERATION_STATS, PYL_GC_STATS_SIZEOF,
		PYL_GC_STATS_COLLECTIONS, PYL_GC_STATS_COLLECTED, PYL_GC_STATS_UNCOLLECTABLE,
	};
	long rs = pyl(l, PYL_GC_STATS_SIZEOF);

	memset(rec, 0, sizeof(*rec));
	memset(ring, 0, sizeof(*ring));
	*is_ring = false;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (!pyl_known(l, need[i])) {
			snprintf(why, size, "layout field %s is unknown for this build", pyl_rows[need[i]].name);
			return false;
		}
	}
	if (rs < 24 || rs > REC_SIZE_MAX || rs % 8) {
		snprintf(why, size, "struct gc_generation_stats has an unknown size (%ld)", rs);
		return false;
	}
	rec->size = (uint32_t)rs;
	rec->collections = field_at(l, PYL_GC_STATS_COLLECTIONS, rec->size);
	rec->collected = field_at(l, PYL_GC_STATS_COLLECTED, rec->size);
	rec->uncollectable = field_at(l, PYL_GC_STATS_UNCOLLECTABLE, rec->size);
	rec->ts_start = field_at(l, PYL_GC_STATS_TS_START, rec->size);
	rec->ts_stop = field_at(l, PYL_GC_STATS_TS_STOP, rec->size);
	rec->candidates = field_at(l, PYL_GC_STATS_CANDIDATES, rec->size);
	rec->duration = field_at(l, PYL_GC_STATS_DURATION, rec->size);
	rec->heap_size = field_at(l, PYL_GC_STATS_HEAP_SIZE, rec->size);
	if (rec->collections < 0 || rec->collected < 0 || rec->uncollectable < 0) {
		snprintf(why, size, "struct gc_generation_stats has an unknown shape");
		return false;
	}
	/* Rings where the layout has them, or may have them: a version newer
	 * than the table whose records do not start with collections (as
	 * user/probe.c decides for BPF). */
	if (pyl_known(l, PYL_GC_RING_YOUNG_INDEX) ||
	    (pyl(l, PYL_GC_RING_YOUNG_INDEX) == PYL_UNKNOWN && rec->collections != 0)) {
		if (!ring_shape(l, rec->size, ring)) {
			snprintf(why, size, "the rings of struct gc_stats have an unknown shape");
			return false;
		}
		*is_ring = true;
	}
	snprintf(why, size, "gcstate->generation_stats%s, layout via %s", *is_ring ? " (rings of records)" : "",
		 l->n_dwarf ? "DWARF" : l->n_debug_offsets ? "_Py_DebugOffsets and table" : "table");
	return true;
}

static int64_t get64(const uint8_t *p, int32_t off)
{
	int64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

void gcstats_decode_rec(const struct gcstats_rec_shape *rs, const uint8_t *p, struct gcstats_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->collections = get64(p, rs->collections);
	out->collected = get64(p, rs->collected);
	out->uncollectable = get64(p, rs->uncollectable);
	if (rs->ts_start >= 0)
		out->ts_start = get64(p, rs->ts_start);
	if (rs->ts_stop >= 0)
		out->ts_stop = get64(p, rs->ts_stop);
	if (rs->candidates >= 0) {
		out->candidates = get64(p, rs->candidates);
		out->has_candidates = out->candidates >= 0;
	}
	if (rs->heap_size >= 0) {
		out->heap_size = get64(p, rs->heap_size);
		out->has_heap_size = out->heap_size >= 0;
	}
	if (rs->duration >= 0) {
		memcpy(&out->duration, p + rs->duration, sizeof(out->duration));
		/* a double from the target: NaN, negative or absurd is not a time */
		out->has_duration = out->duration >= 0 && out->duration < 1e12;
	}
}

/* The slot index of ring g, or -1 if outside the ring. */
static int ring_index(const struct gcstats_ring_shape *sh, const uint8_t *img, int g)
{
	int8_t idx;

	memcpy(&idx, img + sh->index[g], 1);
	return idx >= 0 && (uint32_t)idx < sh->len[g] ? idx : -1;
}

static void fill_collection(int g, const struct gcstats_rec *r, const struct gcstats_rec *pred,
			    struct gcstats_item *it)
{
	struct gc_collection *c = &it->c;

	memset(it, 0, sizeof(*it));
	it->rec = *r;
	c->gen = g;
	c->ts_start = r->ts_start > 0 ? (uint64_t)r->ts_start : 0;
	c->ts_end = r->ts_stop > 0 ? (uint64_t)r->ts_stop : 0;
	c->pause_ns = c->ts_end > c->ts_start && c->ts_start ? c->ts_end - c->ts_start : 0;
	c->have_heap_size = r->has_heap_size;
	c->heap_size = r->has_heap_size ? r->heap_size : -1;
	c->collected = c->uncollectable = c->candidates = -1;
	if (!pred)
		return;
	/* both records' counters are >= 0: the differences cannot overflow */
	if (pred->collected >= 0 && pred->uncollectable >= 0 && r->collected >= pred->collected &&
	    r->uncollectable >= pred->uncollectable) {
		c->have_counts = true;
		c->collected = r->collected - pred->collected;
		c->uncollectable = r->uncollectable - pred->uncollectable;
	}
	if (r->has_candidates && pred->has_candidates && pred->candidates >= 0 && r->candidates >= pred->candidates) {
		c->have_candidates = true;
		c->candidates = r->candidates - pred->candidates;
	}
}

int gcstats_ring_new(const struct gcstats_rec_shape *rs, const struct gcstats_ring_shape *sh, const uint8_t *img,
		     int g, const struct gcstats_cursor_gen *cur, struct gcstats_item *out, int max, uint64_t *gap)
{
	static const struct gcstats_rec zero = { .has_candidates = true, .has_duration = true };
	struct gcstats_rec prev = { .collections = -1 };
	int64_t last_c = cur->have_last && cur->last.collections > 0 ? cur->last.collections : 0;
	uint32_t len;
	int idx, n = 0;

	*gap = 0;
	if (g < 0 || g > 2)
		return -1;
	idx = ring_index(sh, img, g);
	len = sh->len[g];
	if (idx < 0)
		return -1;
	/* oldest first: the slot after the last written one */
	for (uint32_t k = 1; k <= len; k++) {
		uint32_t slot = ((uint32_t)idx + k) % len;
		const struct gcstats_rec *pred = NULL;
		struct gcstats_rec r;

		gcstats_decode_rec(rs, img + sh->base[g] + (uint64_t)slot * rs->size, &r);
		if (r.collections < 0 || r.collected < 0 || r.uncollectable < 0)
			return -1;
		if (r.collections <= last_c || r.collections == 0) {
			prev = r;
			continue;
		}
		/* A record's totals run on from its predecessor's: the one
		 * before it in the ring, the one this cursor gave last, or,
		 * for the first collection, the zeroed record. */
		if (prev.collections >= 0 && prev.collections == r.collections - 1)
			pred = &prev;
		else if (cur->have_last && cur->last.collections == r.collections - 1)
			pred = &cur->last;
		else if (r.collections == 1)
			pred = &zero;
		if (n && r.collections <= out[n - 1].rec.collections)
			return -1;	/* the ring does not go forward: not CPython's */
		if (n >= max)
			return -1;
		fill_collection(g, &r, pred, &out[n]);
		/* r.collections is past both: the unsigned difference is exact */
		out[n].missed_before = (uint64_t)r.collections - (uint64_t)(n ? out[n - 1].rec.collections : last_c) - 1;
		*gap += out[n].missed_before;
		out[n].c.flags = 0;
		if (pred && r.has_duration && pred->has_duration && r.duration >= pred->duration)
			out[n].duration_s = r.duration - pred->duration;
		else
			out[n].duration_s = -1;
		n++;
		prev = r;
	}
	return n;
}

static bool gone(pid_t pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

static int read_fail(const struct pytarget *t, const char *what, int r, char *err, size_t errsz)
{
	/* process_vm_readv() says ESRCH for a zombie too: its memory is gone */
	if (r == -ESRCH || gone(t->pid)) {
		snprintf(err, errsz, "process %d has exited", t->pid);
		return EXIT_NO_PROCESS;
	}
	snprintf(err, errsz, "cannot read %s of process %d: %s", what, t->pid, strerror(-r));
	return r == -EPERM || r == -EACCES ? EXIT_PERMISSION : EXIT_FAILURE_INTERNAL;
}

/* len bytes at addr read twice alike (and an even sequence counter at
 * seq, if >= 0): a collection rewriting them between the two reads, or
 * during one, is seen and read again. */
static int read_stable(const struct pytarget *t, uint64_t addr, uint8_t *buf, uint8_t *tmp, size_t len, int32_t seq)
{
	int r = pytarget_read(t, addr, buf, len);

	for (int i = 0; !r && i < STABLE_TRIES; i++) {
		uint32_t s = 0;

		r = pytarget_read(t, addr, tmp, len);
		if (r)
			break;
		if (seq >= 0)
			memcpy(&s, tmp + seq, sizeof(s));
		if (!memcmp(buf, tmp, len) && !(s & 1))
			return 0;
		memcpy(buf, tmp, len);
	}
	return r ? r : -EAGAIN;
}

bool gcstats_has_ring(const struct pytarget *t)
{
	struct gcstats_rec_shape rs;
	struct gcstats_ring_shape sh;
	char why[16];
	bool ring;

	return gcstats_shape_from_layout(&t->layout, &rs, &sh, &ring, why, sizeof(why)) && ring;
}

bool gcstats_available(const struct pytarget *t, char *why, size_t size)
{
	struct gcstats_rec_shape rs;
	struct gcstats_ring_shape sh;
	bool ring;

	/* The table describes GIL builds; a free-threaded one's GC state is
	 * another struct, known only from the target itself (its GIL offsets
	 * are dropped: pylayout_forget_table()). */
	if (t->free_threaded && (t->layout.src[PYL_GC_GENERATION_STATS] == PYL_SRC_TABLE ||
				 !pyl_known(&t->layout, PYL_GC_GENERATION_STATS))) {
		snprintf(why, size, "free-threaded build: where its GC state keeps the counters is known only "
			 "from its debug info");
		return false;
	}
	if (!gcstats_shape_from_layout(&t->layout, &rs, &sh, &ring, why, size))
		return false;
	return true;
}

static int shape_or_err(const struct pytarget *t, struct gcstats_rec_shape *rs, struct gcstats_ring_shape *sh,
			bool *ring, char *err, size_t errsz)
{
	char why[256], v[32];

	if (!t->layout_ok) {
		snprintf(err, errsz, "cannot read the GC counters of process %d: the layout of CPython %s is not "
			 "known (not in the table, no _Py_DebugOffsets, no debug info)", t->pid,
			 py_version_str(t->version, v, sizeof(v)));
		return EXIT_UNSUPPORTED;
	}
	if (!gcstats_available(t, why, sizeof(why)) || !gcstats_shape_from_layout(&t->layout, rs, sh, ring, why,
											sizeof(why))) {
		snprintf(err, errsz, "cannot read the GC counters of process %d (CPython %s): %s", t->pid,
			 py_version_str(t->version, v, sizeof(v)), why);
		return EXIT_UNSUPPORTED;
	}
	return EXIT_OK;
}

/* &gcstate->generation_stats of the main interpreter. */
static int stats_addr(const struct pytarget *t, uint64_t *addr, char *err, size_t errsz)
{
	const struct pylayout *l = &t->layout;
	uint64_t interp = 0;
	int r;

	r = pytarget_read(t, t->runtime_addr + (uint64_t)pyl(l, PYL_RUNTIME_INTERPRETERS_MAIN), &interp,
			  sizeof(interp));
	if (r)
		return read_fail(t, "_PyRuntime", r, err, errsz);
	if (!interp) {
		snprintf(err, errsz, "process %d has no main interpreter (not initialised yet, or finalised)", t->pid);
		return EXIT_FAILURE_INTERNAL;
	}
	*addr = interp + (uint64_t)pyl(l, PYL_INTERP_GC) + (uint64_t)pyl(l, PYL_GC_GENERATION_STATS);
	return EXIT_OK;
}

/* 3.15+: the struct gc_stats the GC state points to. */
static int ring_addr(const struct pytarget *t, uint64_t *ring, char *err, size_t errsz)
{
	uint64_t at;
	int code = stats_addr(t, &at, err, errsz), r;

	if (code)
		return code;
	r = pytarget_read(t, at, ring, sizeof(*ring));
	if (r)
		return read_fail(t, "the GC state", r, err, errsz);
	if (!*ring) {
		snprintf(err, errsz, "process %d has no GC statistics yet (gcstate->generation_stats is NULL)", t->pid);
		return EXIT_FAILURE_INTERNAL;
	}
	return EXIT_OK;
}

static int read_image(const struct pytarget *t, uint64_t ring, const struct gcstats_ring_shape *sh, uint8_t *img,
		      uint8_t *tmp, char *err, size_t errsz)
{
	int r = read_stable(t, ring, img, tmp, sh->size, sh->seq);

	if (r == -EAGAIN) {
		snprintf(err, errsz, "the GC records of process %d changed on every read (%d tries)", t->pid,
			 STABLE_TRIES);
		return EXIT_FAILURE_INTERNAL;
	}
	return r ? read_fail(t, "the GC records", r, err, errsz) : EXIT_OK;
}

int gcstats_read(const struct pytarget *t, struct gcstats *out, char *err, size_t errsz)
{
	struct gcstats_rec_shape rs;
	struct gcstats_ring_shape sh;
	uint64_t at;
	bool ring;
	int code;

	memset(out, 0, sizeof(*out));
	code = shape_or_err(t, &rs, &sh, &ring, err, errsz);
	if (code)
		return code;
	out->ngen = 3;
	if (ring) {
		uint8_t *img = malloc(2 * (size_t)sh.size);

		if (!img) {
			snprintf(err, errsz, "out of memory");
			return EXIT_FAILURE_INTERNAL;
		}
		code = ring_addr(t, &at, err, errsz);
		if (!code)
			code = read_image(t, at, &sh, img, img + sh.size, err, errsz);
		for (int g = 0; !code && g < 3; g++) {
			int idx = ring_index(&sh, img, g);
			struct gcstats_rec r;

			if (idx < 0)
				continue;	/* unknown, not 0 */
			gcstats_decode_rec(&rs, img + sh.base[g] + (uint64_t)idx * rs.size, &r);
			if (r.collections < 0 || r.collected < 0 || r.uncollectable < 0)
				continue;
			out->gen[g] = (struct gcstats_gen){ true, (uint64_t)r.collections, (uint64_t)r.collected,
							     (uint64_t)r.uncollectable };
		}
		free(img);
		return code;
	}
	/* 3.9-3.14: generation_stats[3], inline in the GC state */
	{
		uint8_t buf[3 * REC_SIZE_MAX], tmp[3 * REC_SIZE_MAX];
		size_t len = 3 * (size_t)rs.size;
		int r;

		code = stats_addr(t, &at, err, errsz);
		if (code)
			return code;
		r = read_stable(t, at, buf, tmp, len, -1);
		if (r == -EAGAIN) {
			snprintf(err, errsz, "the GC counters of process %d changed on every read", t->pid);
			return EXIT_FAILURE_INTERNAL;
		}
		if (r)
			return read_fail(t, "the GC counters", r, err, errsz);
		for (int g = 0; g < 3; g++) {
			struct gcstats_rec rec;

			gcstats_decode_rec(&rs, buf + (size_t)g * rs.size, &rec);
			if (rec.collections < 0 || rec.collected < 0 || rec.uncollectable < 0)
				continue;
			out->gen[g] = (struct gcstats_gen){ true, (uint64_t)rec.collections, (uint64_t)rec.collected,
							     (uint64_t)rec.uncollectable };
		}
	}
	return EXIT_OK;
}

/* --- the cursor ------------------------------------------------------------ */

struct gcstats_ring {
	const struct pytarget *t;
	struct gcstats_rec_shape rs;
	struct gcstats_ring_shape sh;
	struct gcstats_cursor_gen cur[3];
	uint8_t *img, *tmp;
	struct gcstats_item *items;	/* 3 rings' worth */
	int maxitems;
};

static int item_cmp(const void *a, const void *b)
{
	const struct gcstats_item *x = a, *y = b;

	if (x->c.ts_start != y->c.ts_start)
		return x->c.ts_start < y->c.ts_start ? -1 : 1;
	return x->c.gen - y->c.gen;
}

int gcstats_ring_open(const struct pytarget *t, struct gcstats_ring **out, char *err, size_t errsz)
{
	struct gcstats_ring *r;
	bool ring;
	int code;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errsz, "out of memory");
		return EXIT_FAILURE_INTERNAL;
	}
	r->t = t;
	code = shape_or_err(t, &r->rs, &r->sh, &ring, err, errsz);
	if (!code && !ring) {
		char v[32];

		snprintf(err, errsz, "CPython %s (process %d) keeps no per-collection records: 3.15 and later do",
			 py_version_str(t->version, v, sizeof(v)), t->pid);
		code = EXIT_UNSUPPORTED;
	}
	if (code) {
		free(r);
		return code;
	}
	r->maxitems = (int)(r->sh.len[0] + r->sh.len[1] + r->sh.len[2]);
	r->img = malloc(2 * (size_t)r->sh.size);
	r->tmp = r->img ? r->img + r->sh.size : NULL;
	r->items = calloc((size_t)r->maxitems, sizeof(*r->items));
	if (!r->img || !r->items) {
		gcstats_ring_close(r);
		snprintf(err, errsz, "out of memory");
		return EXIT_FAILURE_INTERNAL;
	}
	/* Start after what is there: a poll with nowhere to give the records. */
	code = gcstats_ring_poll(r, NULL, NULL, NULL, err, errsz);
	if (code) {
		gcstats_ring_close(r);
		return code;
	}
	*out = r;
	return EXIT_OK;
}

void gcstats_ring_rewind(struct gcstats_ring *r)
{
	memset(r->cur, 0, sizeof(r->cur));
}

int gcstats_ring_poll(struct gcstats_ring *r, int (*cb)(const struct gc_collection *c, void *ctx), void *ctx,
		      uint64_t *missed, char *err, size_t errsz)
{
	uint64_t at, gap[3] = { 0 };
	int n = 0, code;

	code = ring_addr(r->t, &at, err, errsz);
	if (!code)
		code = read_image(r->t, at, &r->sh, r->img, r->tmp, err, errsz);
	if (code)
		return code;
	for (int g = 0; g < 3; g++) {
		int k = gcstats_ring_new(&r->rs, &r->sh, r->img, g, &r->cur[g], r->items + n, r->maxitems - n,
					 &gap[g]);

		if (k < 0) {
			/* counters that went back: a new interpreter in the
			 * same process, or not CPython's memory; start over */
			snprintf(err, errsz, "the GC records of process %d are inconsistent (generation %d)",
				 r->t->pid, g);
			memset(r->cur, 0, sizeof(r->cur));
			return EXIT_FAILURE_INTERNAL;
		}
		n += k;
	}
	for (int i = 0; i < n; i++)
		r->items[i].c.pid = (uint32_t)r->t->pid;
	sort_array(r->items, (size_t)n, sizeof(*r->items), item_cmp);
	for (int i = 0; i < n; i++) {
		struct gcstats_item *it = &r->items[i];
		int g = it->c.gen, rc = 0;

		if (cb)
			rc = cb(&it->c, ctx);
		if (rc)
			return rc;
		/* given: what the ring lost before it is missed for good */
		if (missed)
			*missed += gap[g];
		gap[g] = 0;
		r->cur[g].have_last = true;
		r->cur[g].last = it->rec;
	}
	return EXIT_OK;
}

void gcstats_ring_close(struct gcstats_ring *r)
{
	if (!r)
		return;
	free(r->img);
	free(r->items);
	free(r);
}
