/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's metrics (metrics.h) as an OTLP ExportMetricsServiceRequest
 * in OTLP/HTTP's JSON encoding (the proto3 JSON mapping of
 * opentelemetry-proto's collector/metrics/v1/metrics_service.proto: 64-bit
 * integers as strings, enums as numbers).  One ResourceMetrics per target,
 * its process in the resource; the names are the OpenTelemetry semantic
 * conventions' for CPython (docs/agent.md).
 */
#ifndef GCSCOPE_OTLP_JSON_H
#define GCSCOPE_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* The request for n targets (copies taken under m->mu), at now_unix_ns
 * (CLOCK_REALTIME); host names this machine.  A malloc'd text of *len
 * bytes, or NULL on out of memory. */
char *otlp_render(const struct met_target *ts, int n, const char *host, uint64_t now_unix_ns, size_t *len);

#endif
