// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The list of sinks a trace writes to, and what the sinks share. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "sink.h"

int sinks_add(struct sinks *l, struct sink *s)
{
	if (!s)
		return -ENOMEM;
	if (l->n == SINKS_MAX) {
		s->ops->free(s);
		return -ENOSPC;
	}
	l->s[l->n++] = s;
	return 0;
}

void sinks_attach(struct sinks *l, const struct gc_attach *a)
{
	for (int i = 0; i < l->n; i++) {
		l->s[i]->mono_to_real = a->mono_to_real;
		if (l->s[i]->ops->attach)
			l->s[i]->ops->attach(l->s[i], a);
	}
}

void sinks_collection(struct sinks *l, const struct gc_collection *c)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->collection)
			l->s[i]->ops->collection(l->s[i], c);
}

void sinks_lost(struct sinks *l, uint64_t count, uint64_t total)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->lost)
			l->s[i]->ops->lost(l->s[i], count, total);
}

void sinks_tick(struct sinks *l, uint64_t now_ns)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->tick)
			l->s[i]->ops->tick(l->s[i], now_ns);
}

void sinks_fatal(struct sinks *l, const struct gc_fatal *f)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->fatal)
			l->s[i]->ops->fatal(l->s[i], f);
}

void sinks_touch(struct sinks *l, const struct gc_touch *t)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->touch)
			l->s[i]->ops->touch(l->s[i], t);
}

void sinks_counts(struct sinks *l, const struct gc_counts *d)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->counts)
			l->s[i]->ops->counts(l->s[i], d);
}

void sinks_type_window(struct sinks *l, const struct gc_type_window *w)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->type_window)
			l->s[i]->ops->type_window(l->s[i], w);
}

void sinks_detach(struct sinks *l, const struct gc_end *e)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i]->ops->detach)
			l->s[i]->ops->detach(l->s[i], e);
}

void sinks_free(struct sinks *l)
{
	for (int i = 0; i < l->n; i++) {
		struct sink *s = l->s[i];

		if (s->cfg.own_out && s->cfg.out)
			fclose(s->cfg.out);
		s->ops->free(s);
	}
	l->n = 0;
}

void sink_fmt_time(uint64_t mono_ns, int64_t mono_to_real, char *buf, size_t size, bool iso)
{
	uint64_t real = mono_ns + (uint64_t)mono_to_real;
	time_t sec = real / 1000000000ULL;
	struct tm tm;

	gmtime_r(&sec, &tm);
	if (iso) {
		snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(real % 1000000000ULL / 1000));
		return;
	}
	localtime_r(&sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real % 1000000000ULL / 1000000));
}
