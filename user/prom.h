/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's metrics (metrics.h) as Prometheus text exposition 0.0.4, or
 * OpenMetrics 1.0.0 when the scraper asks for it (Accept header).  Names
 * and the generation label are prometheus_client's GC collector's
 * (prometheus_client/gc_collector.py), so existing dashboards work.
 */
#ifndef GCSCOPE_PROM_H
#define GCSCOPE_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define PROM_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* What the agent measures of itself at the scrape; a negative value is
 * unknown (omitted). */
struct prom_self {
	double cpu_seconds;
	double rss_bytes;
};

/* Does this Accept header ask for OpenMetrics? */
bool prom_wants_openmetrics(const char *accept);

/* Render everything, m->mu taken inside; then the exited targets served
 * are dropped (met_render_done).  A malloc'd text of *len bytes, or NULL on
 * out of memory. */
char *prom_render(struct metrics *m, bool openmetrics, const struct prom_self *self, uint64_t now_ns,
		  size_t *len);

/* The agent's own CPU time and resident memory. */
void prom_self_read(struct prom_self *s);

#endif
