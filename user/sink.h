/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Sinks: where the model's values go (text, JSON Lines, a Chrome trace-event
 * timeline, later the agent's metrics).  Each sink is a file of its own
 * (user/sink_*.c) and is the only code that knows its format: nothing
 * outside the sinks asks which output was chosen.
 *
 * The calls come in this order: attach once, then collection / lost / tick
 * (and the others) in any order, then detach once, then free.  A sink must
 * not fail the trace: an output error is remembered (sink.failed) and said
 * once.
 */
#ifndef GCSCOPE_SINK_H
#define GCSCOPE_SINK_H

#include <stdio.h>

#include "model.h"

struct sink;

struct sink_ops {
	const char *name;
	void (*attach)(struct sink *s, const struct gc_attach *a);
	void (*collection)(struct sink *s, const struct gc_collection *c);
	/* count events lost since the last call, total so far */
	void (*lost)(struct sink *s, uint64_t count, uint64_t total);
	/* about every 100 ms while tracing: CLOCK_MONOTONIC now */
	void (*tick)(struct sink *s, uint64_t now_ns);
	/* the target is dying of a signal in the middle of collection f->c */
	void (*fatal)(struct sink *s, const struct gc_fatal *f);
	/* --owners: a watched object traversed by a foreign thread's collection */
	void (*touch)(struct sink *s, const struct gc_touch *t);
	/* the agent's memory tier before 3.15: the totals' growth since the
	 * last read (only when something moved) */
	void (*counts)(struct sink *s, const struct gc_counts *d);
	/* the agent: a type window closed */
	void (*type_window)(struct sink *s, const struct gc_type_window *w);
	void (*detach)(struct sink *s, const struct gc_end *e);
	void (*free)(struct sink *s);
};

/* What every sink is told when made. */
struct sink_config {
	FILE *out;
	bool own_out;			/* sinks_free() closes out (after the sink's free) */
	int top;			/* types shown per collection (text) */
};

struct sink {
	const struct sink_ops *ops;
	struct sink_config cfg;
	int64_t mono_to_real;		/* from attach */
	bool failed;			/* a write failed */
	void *priv;
};

/* The sinks there are.  NULL on out of memory. */
struct sink *sink_text_new(const struct sink_config *cfg);
struct sink *sink_json_new(const struct sink_config *cfg);
struct sink *sink_timeline_new(const struct sink_config *cfg);
/* The agent's: one target's counters in m (user/metrics.h); cfg unused. */
struct metrics;
struct met_target;
struct sink *sink_metrics_new(struct metrics *m, struct met_target *t);

/* A list of sinks, called in order. */
#define SINKS_MAX 8
struct sinks {
	struct sink *s[SINKS_MAX];
	int n;
};

int sinks_add(struct sinks *l, struct sink *s);	/* 0 or -ENOSPC (s is freed) */
void sinks_attach(struct sinks *l, const struct gc_attach *a);
void sinks_collection(struct sinks *l, const struct gc_collection *c);
void sinks_lost(struct sinks *l, uint64_t count, uint64_t total);
void sinks_tick(struct sinks *l, uint64_t now_ns);
void sinks_fatal(struct sinks *l, const struct gc_fatal *f);
void sinks_touch(struct sinks *l, const struct gc_touch *t);
void sinks_counts(struct sinks *l, const struct gc_counts *d);
void sinks_type_window(struct sinks *l, const struct gc_type_window *w);
void sinks_detach(struct sinks *l, const struct gc_end *e);
void sinks_free(struct sinks *l);

/* Shared by the sinks: a monotonic time as local "HH:MM:SS.mmm" or, with
 * iso, UTC "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
void sink_fmt_time(uint64_t mono_ns, int64_t mono_to_real, char *buf, size_t size, bool iso);

#endif
