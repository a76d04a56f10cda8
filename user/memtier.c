// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's tier without BPF (memtier.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "gcstats.h"
#include "memtier.h"
#include "metrics.h"
#include "sink.h"
#include "target.h"

struct memtier {
	struct pytarget t;
	struct gcstats_ring *ring;	/* 3.15+, else NULL */
	struct metrics *m;
	struct met_target *mt;
	struct sinks *records;		/* --jsonl's sinks (none: an empty list) */
	bool started;			/* memtier_start(): records may be written */
	struct gcstats last;		/* the totals of the last read (before 3.15) */
	uint64_t last_ns;		/* and when */
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Before 3.15: what the totals grew by since the last read, to the record
 * sinks when something moved.  A generation known at only one of the two
 * reads, or whose totals went back, is unknown for this interval. */
static void counts_record(struct memtier *x, const struct gcstats *s, uint64_t now)
{
	struct gc_counts d = { .pid = (uint32_t)x->t.pid, .ts = now, .ts_prev = x->last_ns, .ngen = s->ngen };
	bool moved = false;

	if (d.ngen > GC_COUNTS_NGEN)
		d.ngen = GC_COUNTS_NGEN;
	for (int g = 0; g < d.ngen; g++) {
		const struct gcstats_gen *a = &x->last.gen[g], *b = &s->gen[g];

		d.gen[g].known = a->known && b->known && b->collections >= a->collections &&
				 b->collected >= a->collected && b->uncollectable >= a->uncollectable;
		if (d.gen[g].known) {
			d.gen[g].collections = b->collections - a->collections;
			d.gen[g].collected = b->collected - a->collected;
			d.gen[g].uncollectable = b->uncollectable - a->uncollectable;
			moved |= d.gen[g].collections || d.gen[g].collected || d.gen[g].uncollectable;
		} else {
			/* what cannot be told is said, once per change */
			moved |= a->known != b->known || a->collections != b->collections;
		}
	}
	if (moved)
		sinks_counts(x->records, &d);
}

bool memtier_fallback(int code)
{
	/* no privilege, BPF refused or failing, no probe to attach: the
	 * counters may still be readable */
	return code == EXIT_PERMISSION || code == EXIT_FAILURE_INTERNAL || code == EXIT_NO_PROBE;
}

static int totals(struct memtier *x, char *err, size_t errsz)
{
	struct gcstats s;
	int code = gcstats_read(&x->t, &s, err, errsz);

	uint64_t now = now_ns(CLOCK_MONOTONIC);

	if (code)
		return code;
	for (int g = 0; g < s.ngen && g < MET_NGEN; g++)
		met_totals(x->m, x->mt, g, s.gen[g].known, s.gen[g].collections, s.gen[g].collected,
			   s.gen[g].uncollectable);
	/* 3.15+: the collection records say it, one by one */
	if (x->started && !x->ring && x->records->n)
		counts_record(x, &s, now);
	x->last = s;
	x->last_ns = now;
	return EXIT_OK;
}

static int on_record(const struct gc_collection *c, void *ctx)
{
	struct memtier *x = ctx;
	const struct gcstats_item *it = (const struct gcstats_item *)c;
	struct gc_collection r = *c;

	met_pause(x->m, x->mt, c->gen, c->pause_ns);
	/* the records name no thread: unknown, not thread 0 */
	r.thread_unknown = true;
	r.have_missed = true;
	r.missed = it->missed_before;
	if (x->started)
		sinks_collection(x->records, &r);
	return 0;
}

int memtier_open(struct memtier **out, pid_t pid, bool no_debuginfo, struct metrics *m, struct met_target *t,
		 struct sinks *records)
{
	char err[PATH_MAX + 512], v[32];
	struct memtier *x = calloc(1, sizeof(*x));
	int code;

	*out = NULL;
	if (!x)
		return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
	x->m = m;
	x->mt = t;
	x->records = records;
	code = pytarget_open(&x->t, pid, no_debuginfo, err, sizeof(err));
	if (code) {
		free(x);
		return p_err(code, "%s", err);
	}
	if (!gcstats_available(&x->t, err, sizeof(err))) {
		code = p_err(EXIT_UNSUPPORTED, "cannot read the GC counters of process %d: %s", pid, err);
		goto fail;
	}
	code = totals(x, err, sizeof(err));
	if (code) {
		p_err(code, "%s", err);
		goto fail;
	}
	/* 3.15+: from the newest record on (those before the attach are in
	 * the totals, not in the histogram) */
	if (gcstats_has_ring(&x->t)) {
		code = gcstats_ring_open(&x->t, &x->ring, err, sizeof(err));
		if (code) {
			p_err(code, "%s", err);
			goto fail;
		}
	}
	py_version_str(x->t.version, v, sizeof(v));
	met_attached(m, t, v, true);
	pthread_mutex_lock(&m->mu);
	strcpy(t->tier, "memory");
	t->durations = x->ring != NULL;
	pthread_mutex_unlock(&m->mu);
	*out = x;
	return EXIT_OK;
fail:
	pytarget_close(&x->t);
	free(x);
	return code;
}

int memtier_poll(struct memtier *x, char *err, size_t errsz)
{
	uint64_t missed = 0;
	int code;

	/* the records first: a collection between the two reads is in the
	 * totals at once and in the histogram at the next poll */
	if (x->ring) {
		code = gcstats_ring_poll(x->ring, on_record, x, &missed, err, errsz);
		if (missed)
			met_records_missed(x->m, x->mt, missed);
		if (code)
			return code;
	}
	return totals(x, err, errsz);
}

void memtier_start(struct memtier *x)
{
	char v[32];
	struct gc_attach a = {
		.pid = (uint32_t)x->t.pid,
		.comm = x->t.comm,
		.python = v,
		.version_source = x->t.version_source,
		.binary = x->t.py_inside,
		.root = x->t.pm.foreign_root ? x->t.pm.root : "/",
		.probe = NULL,
		.probe_detail = "no probe: the interpreter's own GC statistics, read from its memory",
		.counts = true,
		.tier = "memory",
		.mono_to_real = (int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC)),
	};

	py_version_str(x->t.version, v, sizeof(v));
	sinks_attach(x->records, &a);
	x->started = true;
}

void memtier_free(struct memtier *x)
{
	if (!x)
		return;
	gcstats_ring_close(x->ring);
	pytarget_close(&x->t);
	free(x);
}

pid_t memtier_pid(const struct memtier *x)
{
	return x->t.pid;
}
