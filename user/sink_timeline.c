// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * `trace --timeline FILE`: Chrome trace-event JSON (docs/timeline.md), the
 * format Perfetto, chrome://tracing and speedscope open.  The JSON Object
 * Format, {"traceEvents":[...],"displayTimeUnit":"ms","otherData":{...}},
 * one event a line:
 *
 *   - process_name / process_labels metadata at attach;
 *   - thread_name metadata the first time a tid collects, and again when its
 *     name changes (the Python name, threading.Thread.name, where known);
 *   - one complete event ("ph":"X") per collection on its thread's track,
 *     ts and dur in CLOCK_MONOTONIC microseconds (bpf_ktime_get_ns()), so
 *     that it lines up with other traces of the machine (perf, systrace);
 *   - one thread-scoped instant event ("ph":"i") per --owners finding;
 *   - a process-scoped instant event where events were lost.
 *
 * Every collection is on the timeline, --min-ms or not: that option thins
 * the lines a person reads, and a timeline is read by zooming instead.
 *
 * The file is flushed on every tick (about 100 ms: one batch of ring-buffer
 * events) and on lost events; detach closes the JSON.
 */
#include <errno.h>
#include <linux/types.h>	/* gcscope.h, through model.h, wants __u32 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "json.h"
#include "sink.h"

#define TIMELINE_TOP_DEFAULT 5

struct tl_thread {
	uint32_t tid;
	char *name;			/* as last written in thread_name */
	bool py;			/* name is its threading.Thread name */
};

struct timeline {
	struct jw w;
	bool started;			/* {"traceEvents":[ written */
	bool closed;			/* ...]} written */
	bool first;			/* no event written yet */
	bool dirty;			/* written since the last flush */
	bool warned;
	uint32_t pid;
	char *comm, *python, *probe;
	struct tl_thread *threads;
	size_t nthreads, cap;
	uint64_t last_ns;		/* latest time seen: where a "lost" goes */
	uint64_t collections, findings;
};

static struct timeline *tl_of(struct sink *s)
{
	return s->priv;
}

/* A write error is said once; the trace goes on without the file. */
static void tl_check(struct sink *s)
{
	struct timeline *tl = tl_of(s);

	if (ferror(s->cfg.out))
		s->failed = true;
	if (s->failed && !tl->warned) {
		tl->warned = true;
		p_warn("timeline: cannot write the trace file: %s", strerror(errno ? errno : EIO));
	}
}

static void tl_flush(struct sink *s)
{
	struct timeline *tl = tl_of(s);

	if (!tl->dirty)
		return;
	tl->dirty = false;
	if (fflush(s->cfg.out))
		s->failed = true;
	tl_check(s);
}

static void tl_start(struct sink *s)
{
	struct timeline *tl = tl_of(s);

	if (tl->started)
		return;
	tl->started = true;
	tl->first = true;
	fputs("{\"traceEvents\":[", s->cfg.out);
	tl->dirty = true;
}

/* Begin one event object on a line of its own. */
static struct jw *ev_begin(struct sink *s, const char *name, const char *ph, uint32_t pid,
			   uint32_t tid)
{
	struct timeline *tl = tl_of(s);

	tl_start(s);
	fputs(tl->first ? "\n" : ",\n", s->cfg.out);
	tl->first = false;
	tl->dirty = true;
	jw_init(&tl->w, s->cfg.out);
	jw_obj_begin(&tl->w);
	jw_str(&tl->w, "name", name);
	jw_str(&tl->w, "ph", ph);
	jw_uint(&tl->w, "pid", pid);
	jw_uint(&tl->w, "tid", tid);
	return &tl->w;
}

static void ev_end(struct sink *s)
{
	jw_obj_end(&tl_of(s)->w);
}

static void meta(struct sink *s, const char *what, uint32_t pid, uint32_t tid, const char *key,
		 const char *value)
{
	struct jw *w = ev_begin(s, what, "M", pid, tid);

	jw_key_obj(w, "args");
	jw_str(w, key, value);
	jw_obj_end(w);
	ev_end(s);
}

static char *dup_or_null(const char *v)
{
	return v ? strdup(v) : NULL;
}

static void tl_attach(struct sink *s, const struct gc_attach *a)
{
	struct timeline *tl = tl_of(s);
	char label[160];

	s->mono_to_real = a->mono_to_real;
	tl->pid = a->pid;
	free(tl->comm);
	free(tl->python);
	free(tl->probe);
	tl->comm = dup_or_null(a->comm);
	tl->python = dup_or_null(a->python);
	tl->probe = dup_or_null(a->probe);
	meta(s, "process_name", a->pid, a->pid, "name", a->comm ? a->comm : "python");
	snprintf(label, sizeof(label), "CPython %s, %s", a->python ? a->python : "?",
		 a->probe ? a->probe : "?");
	meta(s, "process_labels", a->pid, a->pid, "labels", label);
}

/* thread_name metadata for c's thread, unless its name is the one written.
 * The Python name wins over the kernel one, and once known stays: a
 * collection whose Python name could not be read does not rename the
 * track back to its comm. */
static void thread_seen(struct sink *s, const struct gc_collection *c)
{
	struct timeline *tl = tl_of(s);
	bool py = c->py_thread && c->py_thread[0];
	const char *name = py ? c->py_thread : c->thread;
	struct tl_thread *t = NULL;
	char *copy;

	if (!name)
		name = "?";
	for (size_t i = 0; i < tl->nthreads; i++) {
		if (tl->threads[i].tid == c->tid) {
			t = &tl->threads[i];
			break;
		}
	}
	if (t && t->name && (!strcmp(t->name, name) || (t->py && !py)))
		return;
	copy = strdup(name);
	if (!t && copy && !grow_array(&tl->threads, &tl->cap, tl->nthreads, sizeof(*t), 16)) {
		t = &tl->threads[tl->nthreads++];
		t->tid = c->tid;
		t->name = NULL;
	}
	if (t) {
		free(t->name);
		t->name = copy;
		t->py = py;
	} else {
		free(copy);		/* out of memory: named again next time */
	}
	meta(s, "thread_name", c->pid, c->tid, "name", name);
}

static void collection_args(struct sink *s, struct jw *w, const struct gc_collection *c)
{
	int top = s->cfg.top > 0 ? s->cfg.top : TIMELINE_TOP_DEFAULT;

	jw_key_obj(w, "args");
	if (c->gen >= 0)
		jw_int(w, "gen", c->gen);
	else
		jw_null(w, "gen");
	if (c->have_counts) {
		jw_int(w, "collected", c->collected);
		jw_int(w, "uncollectable", c->uncollectable);
	} else {
		jw_null(w, "collected");
		jw_null(w, "uncollectable");
	}
	if (c->have_total)
		jw_int(w, "unreachable", c->total);
	else
		jw_null(w, "unreachable");
	if (c->types_traced) {
		if (c->walked) {
			jw_uint(w, "objects_seen", c->objects_seen);
			jw_key_obj(w, "types");
			for (size_t i = 0; i < c->ntypes && i < (size_t)top; i++)
				jw_uint(w, c->types[i].name ? c->types[i].name : "?", c->types[i].count);
			jw_obj_end(w);
		} else {
			jw_null(w, "objects_seen");
			jw_null(w, "types");
		}
	}
	if (c->owners_traced)
		jw_uint(w, "findings", c->nfindings);
	jw_obj_end(w);
}

static void finding(struct sink *s, const struct gc_collection *c, const struct gc_finding *f)
{
	char name[GC_TYPE_NAME_LEN + 32], addr[24];
	struct jw *w;

	snprintf(name, sizeof(name), "off-thread %s", f->type ? f->type : "?");
	snprintf(addr, sizeof(addr), "0x%" PRIx64, f->obj);
	w = ev_begin(s, name, "i", c->pid, c->tid);
	jw_str(w, "cat", "gc.finding");
	jw_str(w, "s", "t");
	jw_fixed(w, "ts", (int64_t)c->ts_start, 3);
	jw_key_obj(w, "args");
	jw_str(w, "object", addr);
	jw_str(w, "object_type", f->type);
	jw_int_known(w, "owner_tid", !f->owner_exited, f->owner_tid);
	jw_str(w, "owner_thread", f->owner_thread);
	if (c->py_threads_traced)
		jw_str(w, "owner_py_thread", f->owner_py_thread);	/* null if unknown */
	if (f->creator_known)
		jw_fixed(w, "created_ts", (int64_t)f->created_ns, 3);
	else
		jw_null(w, "created_ts");
	jw_obj_end(w);
	ev_end(s);
}

static void tl_collection(struct sink *s, const struct gc_collection *c)
{
	struct timeline *tl = tl_of(s);
	char name[32];
	struct jw *w;

	thread_seen(s, c);
	if (c->gen >= 0)
		snprintf(name, sizeof(name), "gc gen %d", c->gen);
	else
		snprintf(name, sizeof(name), "gc");
	w = ev_begin(s, name, "X", c->pid, c->tid);
	jw_str(w, "cat", "gc");
	jw_fixed(w, "ts", (int64_t)c->ts_start, 3);
	jw_fixed(w, "dur", (int64_t)c->pause_ns, 3);
	collection_args(s, w, c);
	ev_end(s);
	for (size_t i = 0; i < c->nfindings; i++)
		finding(s, c, &c->findings[i]);
	tl->collections++;
	tl->findings += c->nfindings;
	if (c->ts_start + c->pause_ns > tl->last_ns)
		tl->last_ns = c->ts_start + c->pause_ns;
	tl_check(s);
}

static void tl_lost(struct sink *s, uint64_t count, uint64_t total)
{
	struct timeline *tl = tl_of(s);
	struct timespec now;
	struct jw *w;

	if (!tl->last_ns && !clock_gettime(CLOCK_MONOTONIC, &now))
		tl->last_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	w = ev_begin(s, "lost events", "i", tl->pid, tl->pid);
	jw_str(w, "cat", "gc");
	jw_str(w, "s", "p");
	jw_fixed(w, "ts", (int64_t)tl->last_ns, 3);
	jw_key_obj(w, "args");
	jw_uint(w, "count", count);
	jw_uint(w, "total", total);
	jw_obj_end(w);
	ev_end(s);
	tl_flush(s);
}

static void tl_tick(struct sink *s, uint64_t now_ns)
{
	struct timeline *tl = tl_of(s);

	if (now_ns > tl->last_ns)
		tl->last_ns = now_ns;
	tl_flush(s);
}

/* Close the array and the object, with the end of the trace. */
static void tl_detach(struct sink *s, const struct gc_end *e)
{
	struct timeline *tl = tl_of(s);
	struct jw *w = &tl->w;

	if (tl->closed)
		return;
	tl_start(s);
	tl->closed = true;
	fputs(tl->first ? "]," : "\n],", s->cfg.out);
	jw_init(w, s->cfg.out);
	jw_str(w, "displayTimeUnit", "ms");
	jw_key_obj(w, "otherData");
	jw_str(w, "tool", "gcscope");
	jw_str(w, "clock", "CLOCK_MONOTONIC");
	if (tl->pid)
		jw_uint(w, "pid", tl->pid);
	if (tl->comm)
		jw_str(w, "comm", tl->comm);
	if (tl->python)
		jw_str(w, "python", tl->python);
	if (tl->probe)
		jw_str(w, "probe", tl->probe);
	jw_uint(w, "collections", tl->collections);
	jw_uint(w, "findings", tl->findings);
	jw_str(w, "end", e->reason);
	jw_uint(w, "wall_ns", e->wall_ns);
	jw_uint(w, "lost", e->lost);
	jw_uint(w, "unpaired", e->unpaired);
	jw_uint(w, "hidden", e->hidden);
	jw_obj_end(w);
	fputs("}\n", s->cfg.out);
	tl->dirty = true;
	tl_flush(s);
}

/* The file is not ours to close: sinks_free() closes an own_out after
 * this.  A trace that failed before attach leaves an empty file. */
static void tl_free(struct sink *s)
{
	struct timeline *tl;

	if (!s)
		return;
	tl = tl_of(s);
	for (size_t i = 0; i < tl->nthreads; i++)
		free(tl->threads[i].name);
	free(tl->threads);
	free(tl->comm);
	free(tl->python);
	free(tl->probe);
	free(tl);
	free(s);
}

static const struct sink_ops timeline_ops = {
	.name = "timeline",
	.attach = tl_attach,
	.collection = tl_collection,
	.lost = tl_lost,
	.tick = tl_tick,
	.detach = tl_detach,
	.free = tl_free,
};

struct sink *sink_timeline_new(const struct sink_config *cfg)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct timeline *tl = calloc(1, sizeof(*tl));

	if (!s || !tl || !cfg->out) {
		free(s);
		free(tl);
		return NULL;
	}
	s->ops = &timeline_ops;
	s->cfg = *cfg;
	s->priv = tl;
	return s;
}
