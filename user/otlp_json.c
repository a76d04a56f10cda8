// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * OTLP JSON of the agent's metrics (otlp_json.h).
 *
 * Names, units and the attribute are the semantic conventions' CPython
 * metrics (semantic-conventions, model/cpython; the generated
 * opentelemetry-python semconv module _incubating/metrics/cpython_metrics.py):
 * cpython.gc.collections {collection}, cpython.gc.collected_objects
 * {object}, cpython.gc.uncollectable_objects {object}, counters (so
 * monotonic cumulative sums), attribute cpython.gc.generation (an int).
 * The conventions define no CPython pause metric; the histogram follows
 * their runtime GC duration, jvm.gc.duration: a histogram in seconds ("s")
 * named <runtime>.gc.duration, so cpython.gc.duration.
 *
 * Message fields as opentelemetry-proto names them (metrics/v1/metrics.proto,
 * JSON names lowerCamelCase): ResourceMetrics{resource=1, scope_metrics=2},
 * ScopeMetrics{scope=1, metrics=2}, Metric{name=1, description=2, unit=3,
 * sum=7, histogram=9}, Sum{data_points=1, aggregation_temporality=2,
 * is_monotonic=3}, Histogram{data_points=1, aggregation_temporality=2},
 * NumberDataPoint{start_time_unix_nano=2, time_unix_nano=3, as_int=6,
 * attributes=7}, HistogramDataPoint{start_time_unix_nano=2,
 * time_unix_nano=3, count=4, sum=5, bucket_counts=6, explicit_bounds=7,
 * attributes=9}; AGGREGATION_TEMPORALITY_CUMULATIVE = 2.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "otlp_json.h"

#define CUMULATIVE 2

static void u64_str(struct jw *w, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	jw_str(w, key, s);
}

static void attr_str(struct jw *w, const char *key, const char *v)
{
	if (!v || !v[0])	/* not known: no attribute, never "" */
		return;
	jw_obj_begin(w);
	jw_str(w, "key", key);
	jw_key_obj(w, "value");
	jw_str(w, "stringValue", v);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void attr_int(struct jw *w, const char *key, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	jw_obj_begin(w);
	jw_str(w, "key", key);
	jw_key_obj(w, "value");
	jw_str(w, "intValue", s);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void resource(struct jw *w, const struct met_target *t, const char *host)
{
	const char *base = strrchr(t->executable, '/');
	char service[MET_LABEL_MAX + 32], instance[320];

	base = base ? base + 1 : t->executable;
	/* what an SDK names a service it was not told of: the semantic
	 * conventions' "unknown_service:" + process.executable.name */
	snprintf(service, sizeof(service), "unknown_service:%s", base[0] ? base : "python");
	/* one per process, so that a receiver keeps the targets apart
	 * (Prometheus: the instance label) */
	snprintf(instance, sizeof(instance), "%s:%u", host && host[0] ? host : "localhost", t->pid);
	jw_key_obj(w, "resource");
	jw_key_arr(w, "attributes");
	attr_str(w, "service.name", service);
	attr_str(w, "service.instance.id", instance);
	attr_str(w, "host.name", host);
	attr_int(w, "process.pid", t->pid);
	attr_str(w, "process.executable.path", t->executable);
	attr_str(w, "process.executable.name", base);
	attr_str(w, "process.runtime.name", "cpython");
	attr_str(w, "process.runtime.version", t->python);
	attr_str(w, "container.id", t->container);
	/* no convention names these: gcscope's own namespace */
	attr_str(w, "gcscope.systemd.unit", t->unit);
	attr_str(w, "gcscope.tier", t->tier);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void point_head(struct jw *w, int gen, uint64_t start, uint64_t now)
{
	jw_obj_begin(w);
	jw_key_arr(w, "attributes");
	attr_int(w, "cpython.gc.generation", gen);
	jw_arr_end(w);
	u64_str(w, "startTimeUnixNano", start);
	u64_str(w, "timeUnixNano", now);
}

/* A monotonic cumulative sum of one value per generation; counted[g]
 * false: that generation's value is not known, no point. */
static void sum_metric(struct jw *w, const char *name, const char *desc, const char *unit, const uint64_t *v,
		       const bool *counted, uint64_t start, uint64_t now)
{
	bool any = false;

	for (int g = 0; g < MET_NGEN; g++)
		any |= counted[g];
	if (!any)
		return;
	jw_obj_begin(w);
	jw_str(w, "name", name);
	jw_str(w, "description", desc);
	jw_str(w, "unit", unit);
	jw_key_obj(w, "sum");
	jw_int(w, "aggregationTemporality", CUMULATIVE);
	jw_bool(w, "isMonotonic", true);
	jw_key_arr(w, "dataPoints");
	for (int g = 0; g < MET_NGEN; g++) {
		if (!counted[g])
			continue;
		point_head(w, g, start, now);
		u64_str(w, "asInt", v[g]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void histogram(struct jw *w, const struct met_target *t, uint64_t start, uint64_t now)
{
	jw_obj_begin(w);
	jw_str(w, "name", "cpython.gc.duration");
	jw_str(w, "description", "Pause of each collection (seen from outside the process by gcscope).");
	jw_str(w, "unit", "s");
	jw_key_obj(w, "histogram");
	jw_int(w, "aggregationTemporality", CUMULATIVE);
	jw_key_arr(w, "dataPoints");
	for (int g = 0; g < MET_NGEN; g++) {
		point_head(w, g, start, now);
		u64_str(w, "count", t->collections[g]);
		/* nanoseconds as seconds, exactly */
		jw_fixed(w, "sum", (int64_t)t->pause_ns[g], 9);
		jw_key_arr(w, "bucketCounts");	/* not cumulative, the last one +Inf's */
		for (int b = 0; b <= MET_NBUCKETS; b++)
			u64_str(w, NULL, t->bucket[g][b]);
		jw_arr_end(w);
		jw_key_arr(w, "explicitBounds");
		for (int b = 0; b < MET_NBUCKETS; b++)
			jw_double(w, NULL, met_bucket_le[b]);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

char *otlp_render(const struct met_target *ts, int n, const char *host, uint64_t now, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct jw w;

	if (!f)
		return NULL;
	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_key_arr(&w, "resourceMetrics");
	for (int i = 0; i < n; i++) {
		const struct met_target *t = &ts[i];
		/* a point's start may not follow its time */
		uint64_t start = t->start_unix_ns && t->start_unix_ns <= now ? t->start_unix_ns : now;
		bool all[MET_NGEN], counted[MET_NGEN];

		for (int g = 0; g < MET_NGEN; g++) {
			all[g] = true;
			/* as prom.c: a generation with a collection whose
			 * counts could not be read has no collected or
			 * uncollectable point */
			counted[g] = t->counts && !t->uncounted[g];
		}
		jw_obj_begin(&w);
		resource(&w, t, host);
		jw_key_arr(&w, "scopeMetrics");
		jw_obj_begin(&w);
		jw_key_obj(&w, "scope");
		jw_str(&w, "name", "gcscope");
		jw_obj_end(&w);
		jw_key_arr(&w, "metrics");
		sum_metric(&w, "cpython.gc.collections",
			   "The number of times a generation was collected since interpreter start.", "{collection}",
			   t->collections, all, start, now);
		sum_metric(&w, "cpython.gc.collected_objects",
			   "The total number of objects collected inside a generation since interpreter start.",
			   "{object}", t->collected, counted, start, now);
		sum_metric(&w, "cpython.gc.uncollectable_objects",
			   "The total number of objects which were found to be uncollectable inside a generation "
			   "since interpreter start.", "{object}", t->uncollectable, counted, start, now);
		histogram(&w, t, start, now);
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
