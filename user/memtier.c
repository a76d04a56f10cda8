// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's tier without BPF (memtier.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gcstats.h"
#include "memtier.h"
#include "metrics.h"
#include "target.h"

struct memtier {
	struct pytarget t;
	struct gcstats_ring *ring;	/* 3.15+, else NULL */
	struct metrics *m;
	struct met_target *mt;
};

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

	if (code)
		return code;
	for (int g = 0; g < s.ngen && g < MET_NGEN; g++)
		met_totals(x->m, x->mt, g, s.gen[g].known, s.gen[g].collections, s.gen[g].collected,
			   s.gen[g].uncollectable);
	return EXIT_OK;
}

static int on_record(const struct gc_collection *c, void *ctx)
{
	struct memtier *x = ctx;

	met_pause(x->m, x->mt, c->gen, c->pause_ns);
	return 0;
}

int memtier_open(struct memtier **out, pid_t pid, bool no_debuginfo, struct metrics *m, struct met_target *t)
{
	char err[PATH_MAX + 512], v[32];
	struct memtier *x = calloc(1, sizeof(*x));
	int code;

	*out = NULL;
	if (!x)
		return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
	x->m = m;
	x->mt = t;
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
