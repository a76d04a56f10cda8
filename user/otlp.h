/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope agent --otlp-endpoint URL: the metrics (metrics.h) pushed over
 * OTLP/HTTP (JSON, otlp_json.h) every --otlp-interval seconds by libcurl,
 * from a thread of its own, so that a slow or dead receiver never holds up
 * the event loop.  A failed push is counted (m->otlp_failures by reason)
 * and logged when the reason changes; the next push carries the cumulative
 * values again, so nothing is lost but resolution.
 */
#ifndef GCSCOPE_OTLP_H
#define GCSCOPE_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

struct otlp;

/* Does libcurl's URL parser take url?  0, or -1 with why (one line). */
int otlp_check_url(const char *url, char *why, size_t size);

/* Start pushing to url (checked by libcurl's URL parser); NULL with why
 * (one line) when the URL is refused or the thread cannot start. */
struct otlp *otlp_start(const char *url, double interval_s, struct metrics *m, char *why, size_t size);
/* A push in flight given up at once; with last_push, one more (at most
 * 2 s: the final values, at the exit), then the thread ends. */
void otlp_stop(struct otlp *o, bool last_push);

#endif
