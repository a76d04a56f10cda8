// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's sink: one target's collections into its counters
 * (user/metrics.h), which the HTTP thread renders (user/prom.c).  Nothing
 * is written anywhere: a scrape reads the counters.
 */
#include <stdlib.h>
#include <time.h>

#include "met_types.h"
#include "metrics.h"
#include "sink.h"

struct metrics_priv {
	struct metrics *m;
	struct met_target *t;
};

static void m_attach(struct sink *s, const struct gc_attach *a)
{
	struct metrics_priv *p = s->priv;

	met_attached(p->m, p->t, a->python, a->counts);
}

static void m_collection(struct sink *s, const struct gc_collection *c)
{
	struct metrics_priv *p = s->priv;

	/* GC_HIDDEN (--min-ms) does not apply: every collection counts */
	met_collection(p->m, p->t, c->gen, c->pause_ns, c->have_counts, c->collected, c->uncollectable, c->tid,
		       c->py_thread ? c->py_thread : c->thread);
	/* a collection a type window walked (user/typewin.h) */
	if (p->t->types && c->walked)
		met_types_collection(p->t->types, c);
}

static void m_lost(struct sink *s, uint64_t count, uint64_t total)
{
	struct metrics_priv *p = s->priv;

	(void)total;
	met_lost(p->m, p->t, count);
}

static void m_detach(struct sink *s, const struct gc_end *e)
{
	struct metrics_priv *p = s->priv;
	struct timespec ts;

	(void)e;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* from here the series belong to the metrics alone: they are served
	 * once more, then dropped */
	met_exited(p->m, p->t, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static void m_free(struct sink *s)
{
	free(s->priv);
	free(s);
}

static const struct sink_ops metrics_ops = {
	.name = "metrics",
	.attach = m_attach,
	.collection = m_collection,
	.lost = m_lost,
	.detach = m_detach,
	.free = m_free,
};

struct sink *sink_metrics_new(struct metrics *m, struct met_target *t)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct metrics_priv *p = calloc(1, sizeof(*p));

	if (!s || !p) {
		free(s);
		free(p);
		return NULL;
	}
	p->m = m;
	p->t = t;
	s->ops = &metrics_ops;
	s->priv = p;
	return s;
}
