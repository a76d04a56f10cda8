// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The JSON Lines sink: one object per line, as docs/json-schema.md says:
 * attach, collection, finding, lost, summary, and the agent's records.
 * Unknown values are null.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "json.h"
#include "objects.h"
#include "pystack.h"
#include "sink.h"
#include "stats.h"

/* key: an array of n frames, innermost first; an unknown line is null */
static void json_frames(struct jw *w, const char *key, const struct pystack_frame *f, int n)
{
	jw_key_arr(w, key);
	for (int i = 0; i < n; i++) {
		jw_obj_begin(w);
		jw_str(w, "file", f[i].file);
		jw_str(w, "function", f[i].function);
		if (f[i].line >= 0)
			jw_int(w, "line", f[i].line);
		else
			jw_null(w, "line");
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_stack(struct jw *w, const struct pystack_result *r)
{
	const char *err = r ? pystack_error(r) : "the stack record was lost";

	json_frames(w, "stack", r ? r->frames : NULL, r ? r->n : 0);
	if (r && r->truncated)
		jw_bool(w, "stack_truncated", true);
	if (err && (!r || !r->n))
		jw_str(w, "stack_error", err);
}

/* The target's pid, from its attach record: in every record, so that the
 * lines of several targets in one stream (gcscope agent --jsonl) can be
 * told apart. */
struct json_priv {
	uint32_t pid;
};

static void json_pid(struct sink *s, struct jw *w)
{
	const struct json_priv *p = s->priv;

	jw_uint(w, "pid", p->pid);
}

/* The opening of a record of type at ts (CLOCK_MONOTONIC): its "type",
 * its "time" (UTC) and "ts_ns". */
static void json_open(struct sink *s, struct jw *w, const char *type, uint64_t ts)
{
	char when[40];

	sink_fmt_time(ts, s->mono_to_real, when, sizeof(when), true);
	jw_init(w, s->cfg.out);
	jw_obj_begin(w);
	jw_str(w, "type", type);
	jw_str(w, "time", when);
	jw_uint(w, "ts_ns", ts);
}

static void json_attach(struct sink *s, const struct gc_attach *a)
{
	struct json_priv *p = s->priv;
	struct jw w;

	p->pid = a->pid;

	jw_init(&w, s->cfg.out);
	jw_obj_begin(&w);
	jw_str(&w, "type", "attach");
	jw_uint(&w, "pid", a->pid);
	jw_str(&w, "comm", a->comm);
	jw_str(&w, "python", a->python);
	jw_str(&w, "version_source", a->version_source);
	jw_str(&w, "binary", a->binary);
	jw_str(&w, "root", a->root);
	jw_str(&w, "probe", a->probe);
	jw_str(&w, "probe_detail", a->probe_detail);
	jw_bool(&w, "counts", a->counts);
	jw_bool(&w, "launched", a->launched);
	if (a->tier)
		jw_str(&w, "tier", a->tier);
	if (a->stack_requested)
		jw_bool(&w, "stacks", a->stacks);
	if (a->stack_requested && !a->stacks)
		jw_str(&w, "stacks_why", a->stacks_why);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

/* Opens a record about collection c: the fields collection and finding
 * records share (docs/json-schema.md). */
static void json_head(struct sink *s, struct jw *w, const char *type, const struct gc_collection *c)
{
	json_open(s, w, type, c->ts_start);
	jw_uint(w, "pid", c->pid);
	if (c->thread_unknown) {
		/* unknown, never 0 */
		jw_null(w, "tid");
		jw_null(w, "thread");
	} else {
		jw_uint(w, "tid", c->tid);
		jw_str(w, "thread", c->thread);
	}
	if (c->py_threads_traced) {
		if (c->py_thread)
			jw_str(w, "py_thread", c->py_thread);
		else
			jw_null(w, "py_thread");
	}
	if (c->gen >= 0)
		jw_int(w, "gen", c->gen);
	else
		jw_null(w, "gen");
}

static const char *owner_kind(const struct gc_finding *f)
{
	return f->qt ? "qt_affinity" : f->heap ? "heap" : "creator";
}

/* owner_tid and owner_thread, null when the owner had exited */
static void json_owner(struct jw *w, const struct gc_finding *f)
{
	jw_int_known(w, "owner_tid", !f->owner_exited, f->owner_tid);
	jw_str(w, "owner_thread", f->owner_thread);
}

static void json_findings(struct sink *s, const struct gc_collection *c)
{
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct gc_finding *f = &c->findings[i];
		struct jw w;
		char addr[24];

		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->obj);
		json_head(s, &w, "finding", c);
		jw_str(&w, "object", addr);
		jw_str(&w, "object_type", f->type);
		json_owner(&w, f);
		if (c->py_threads_traced) {
			if (f->owner_py_thread)
				jw_str(&w, "owner_py_thread", f->owner_py_thread);
			else
				jw_null(&w, "owner_py_thread");
		}
		if (f->creator_known)
			jw_uint(&w, "created_ns", f->created_ns);
		else
			jw_null(&w, "created_ns");
		/* what owner_tid is: the creating thread, where a QObject lives,
		 * or the thread whose heap holds it */
		jw_str(&w, "owner", owner_kind(f));
		jw_bool(&w, "owner_exited", f->owner_exited);
		if (f->creator_known) {
			jw_uint(&w, "created_tid", f->created_tid);
			jw_str(&w, "created_thread", f->created_thread);
		} else {
			jw_null(&w, "created_tid");
			jw_null(&w, "created_thread");
		}
		if (c->py_threads_traced) {
			if (f->created_py_thread)
				jw_str(&w, "created_py_thread", f->created_py_thread);
			else
				jw_null(&w, "created_py_thread");
		}
		if (c->stack_known)
			json_stack(&w, c->stack);
		jw_obj_end(&w);
		jw_line(&w);
	}
}

/* --types/--owners: what the walk found, in a collection or fatal record. */
static void json_objects_fields(struct jw *w, const struct gc_collection *c)
{
	if (!c->types_traced)
		return;
	if (!c->walked) {
		jw_null(w, "objects_seen");
	} else {
		jw_uint(w, "objects_seen", c->objects_seen);
		jw_bool(w, "walk_complete", !c->walk_capped && !c->walk_faulted);
		jw_key_obj(w, "types");
		for (size_t i = 0; i < c->ntypes; i++)
			jw_uint(w, c->types[i].name, c->types[i].count);
		jw_obj_end(w);
	}
	jw_uint(w, "findings", c->nfindings);
	if (c->owners_traced && c->walked)
		jw_uint(w, "owners_unknown", c->owners_unknown);
}

static void json_collection(struct sink *s, const struct gc_collection *c)
{
	struct jw w;

	if (!(c->flags & GC_HIDDEN)) {
		json_head(s, &w, "collection", c);
		jw_uint(&w, "pause_ns", c->pause_ns);
		if (c->have_counts) {
			jw_int(&w, "collected", c->collected);
			jw_int(&w, "uncollectable", c->uncollectable);
		} else {
			jw_null(&w, "collected");
			jw_null(&w, "uncollectable");
		}
		jw_int_known(&w, "unreachable", c->have_total, c->total);
		jw_int_known(&w, "candidates", c->have_candidates, c->candidates);
		jw_int_known(&w, "heap_size", c->have_heap_size, c->heap_size);
		if (c->have_missed)
			jw_uint(&w, "missed", c->missed);
		if (c->stack_wanted)
			json_stack(&w, c->stack);
		json_objects_fields(&w, c);
		jw_obj_end(&w);
		jw_line(&w);
	}
	/* findings are shown even when --min-ms hides the collection */
	json_findings(s, c);
	fflush(s->cfg.out);
}

/* "fatal_collection" (docs/json-schema.md), then its findings. */
static void json_fatal(struct sink *s, const struct gc_fatal *fa)
{
	const struct gc_collection *c = &fa->c;
	const char *abbrev = sigabbrev_np(fa->sig);
	char sig[16], when[40];
	struct jw w;

	snprintf(sig, sizeof(sig), "SIG%s", abbrev ? abbrev : "?");
	sink_fmt_time(fa->ts_signal, s->mono_to_real, when, sizeof(when), true);
	json_head(s, &w, "fatal_collection", c);
	if (fa->exited) {
		jw_null(&w, "signal");
		jw_null(&w, "signal_name");
		jw_int(&w, "exit_status", fa->exit_status);
	} else {
		jw_int(&w, "signal", fa->sig);
		jw_str(&w, "signal_name", sig);
	}
	if (fa->signal_seen) {
		jw_bool(&w, "signal_self", fa->self);
		jw_uint(&w, "signal_sender_pid", fa->sender);
	} else {
		jw_null(&w, "signal_self");
		jw_null(&w, "signal_sender_pid");
	}
	jw_str(&w, "signal_time", when);
	jw_uint(&w, "signal_ts_ns", fa->ts_signal);
	jw_uint(&w, "elapsed_ns", c->pause_ns);
	if (fa->native && fa->native->phase) {
		jw_str(&w, "phase", fa->native->phase);
		jw_str(&w, "phase_function", fa->native->phase_function);
	} else {
		jw_null(&w, "phase");
		jw_null(&w, "phase_function");
	}
	/* --owners: the last watched object whose tp_traverse it entered */
	if (fa->obj_type) {
		char addr[24];

		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)fa->obj);
		jw_str(&w, "object", addr);
		jw_str(&w, "object_type", fa->obj_type);
		jw_uint(&w, "object_entered_ns", fa->ts_entered);
	} else {
		jw_null(&w, "object");
		jw_null(&w, "object_type");
	}
	if (fa->native && fa->native->in) {
		jw_str(&w, "native_function", fa->native->in->function);
		jw_str(&w, "native_file", fa->native->in->path);
	} else {
		jw_null(&w, "native_function");
		jw_null(&w, "native_file");
	}
	if (fa->native) {
		jw_key_arr(&w, "native_stack");
		for (int i = 0; i < fa->native->n; i++) {
			const struct fatal_frame *fr = &fa->native->frames[i];
			char addr[24];

			snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)fr->addr);
			jw_obj_begin(&w);
			jw_str(&w, "address", addr);
			jw_str(&w, "file", fr->path);
			jw_str(&w, "function", fr->function);
			if (fr->inlined)
				jw_str(&w, "inlined", fr->inlined);
			if (fr->ip)
				jw_bool(&w, "interrupted", true);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
	}
	if (c->stack) {
		json_stack(&w, c->stack);
		if (fa->stack_more)
			jw_uint(&w, "stack_unnamed", fa->stack_more);
	} else {
		jw_key_arr(&w, "stack");
		jw_arr_end(&w);
		jw_str(&w, "stack_error", fa->stack_why ? fa->stack_why : "unknown");
	}
	json_objects_fields(&w, c);
	jw_obj_end(&w);
	jw_line(&w);
	json_findings(s, c);
	fflush(s->cfg.out);
}

/* "traversal" (docs/json-schema.md) */
static void json_touch(struct sink *s, const struct gc_touch *t)
{
	char addr[24];
	struct jw w;

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t->f.obj);
	json_open(s, &w, "traversal", t->ts);
	jw_uint(&w, "collection_ts_ns", t->ts_start);
	jw_uint(&w, "pid", t->pid);
	jw_uint(&w, "tid", t->tid);
	jw_str(&w, "thread", t->thread);
	if (t->py_threads_traced) {
		if (t->py_thread)
			jw_str(&w, "py_thread", t->py_thread);
		else
			jw_null(&w, "py_thread");
	}
	jw_str(&w, "object", addr);
	jw_str(&w, "object_type", t->f.type);
	json_owner(&w, &t->f);
	if (t->py_threads_traced) {
		if (t->f.owner_py_thread)
			jw_str(&w, "owner_py_thread", t->f.owner_py_thread);
		else
			jw_null(&w, "owner_py_thread");
	}
	jw_int_known(&w, "created_ns", t->f.creator_known, (int64_t)t->f.created_ns);
	jw_str(&w, "owner", owner_kind(&t->f));
	jw_bool(&w, "owner_exited", t->f.owner_exited);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

static void json_lost(struct sink *s, uint64_t count, uint64_t total)
{
	struct jw w;

	jw_init(&w, s->cfg.out);
	jw_obj_begin(&w);
	jw_str(&w, "type", "lost");
	json_pid(s, &w);
	jw_uint(&w, "count", count);
	jw_uint(&w, "total", total);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

/* "stats_delta" (docs/json-schema.md): the agent's memory tier before 3.15 */
static void json_counts(struct sink *s, const struct gc_counts *d)
{
	struct jw w;

	json_open(s, &w, "stats_delta", d->ts);
	jw_uint(&w, "since_ts_ns", d->ts_prev);
	jw_uint(&w, "pid", d->pid);
	jw_key_arr(&w, "generations");
	for (int g = 0; g < d->ngen && g < GC_COUNTS_NGEN; g++) {
		jw_obj_begin(&w);
		jw_int(&w, "gen", g);
		jw_int_known(&w, "collections", d->gen[g].known, (int64_t)d->gen[g].collections);
		jw_int_known(&w, "collected", d->gen[g].known, (int64_t)d->gen[g].collected);
		jw_int_known(&w, "uncollectable", d->gen[g].known, (int64_t)d->gen[g].uncollectable);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

/* "type_window" (docs/json-schema.md): the agent's type window closed */
static void json_type_window(struct sink *s, const struct gc_type_window *tw)
{
	uint64_t all = 0;
	struct jw w;

	json_open(s, &w, "type_window", tw->ts_end);
	jw_uint(&w, "start_ts_ns", tw->ts_start);
	jw_uint(&w, "pid", tw->pid);
	jw_uint(&w, "window", tw->window);
	jw_str(&w, "closed_by", tw->closed_by);
	for (int g = 0; g < GC_WINDOW_NGEN; g++)
		all += tw->collections[g];
	jw_uint(&w, "collections", all);
	jw_key_arr(&w, "generations");
	for (int g = 0; g < GC_WINDOW_NGEN; g++) {
		if (g == GC_WINDOW_NGEN - 1 && !tw->collections[g])
			continue;
		jw_obj_begin(&w);
		if (g < GC_WINDOW_NGEN - 1)
			jw_int(&w, "gen", g);
		else
			jw_null(&w, "gen");
		jw_uint(&w, "collections", tw->collections[g]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_uint(&w, "objects_seen", tw->objects_seen);
	jw_uint(&w, "walks_capped", tw->walks_capped);
	jw_key_arr(&w, "types");
	for (size_t i = 0; i < tw->ntypes; i++) {
		jw_obj_begin(&w);
		jw_str(&w, "name", tw->types[i].name);
		jw_uint(&w, "count", tw->types[i].count);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	if (tw->owners_traced) {
		jw_uint(&w, "findings", tw->findings);
		jw_uint(&w, "owners_unknown", tw->owners_unknown);
		jw_key_arr(&w, "finding_pairs");
		for (size_t i = 0; i < tw->npairs; i++) {
			jw_obj_begin(&w);
			jw_str(&w, "object_type", tw->pairs[i].type);
			jw_str(&w, "owner_thread", tw->pairs[i].owner);
			jw_str(&w, "thread", tw->pairs[i].thread);
			jw_uint(&w, "count", tw->pairs[i].count);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
	}
	if (tw->stacks_traced) {
		jw_key_arr(&w, "stacks");
		for (size_t i = 0; i < tw->nstacks; i++) {
			const struct gc_window_stack *st = &tw->stacks[i];

			jw_obj_begin(&w);
			jw_uint(&w, "collections", st->collections);
			jw_fixed(&w, "pause_ms", (int64_t)(st->pause_ns / 1000), 3);
			json_frames(&w, "frames", st->frames, st->nframes);
			jw_bool(&w, "truncated", st->truncated);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_uint(&w, "stacks_other", tw->stacks_other);
		jw_uint(&w, "no_stack", tw->no_stack);
	}
	jw_fixed(&w, "walk_ms", (int64_t)(tw->walk_ns / 1000), 3);
	jw_double(&w, "budget", tw->budget);
	jw_double(&w, "budget_used", tw->budget_used);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

static void json_gen(struct jw *w, struct gen_stats *gs, int g)
{
	int top = -1;

	jw_obj_begin(w);
	if (g >= 0)
		jw_int(w, "gen", g);
	else
		jw_null(w, "gen");
	jw_uint(w, "count", gs->count);
	jw_uint(w, "total_ns", gs->total_ns);
	jw_uint(w, "p50_ns", stats_percentile(gs, 50));
	jw_uint(w, "p99_ns", stats_percentile(gs, 99));
	jw_uint(w, "max_ns", gs->max_ns);
	/* unknown is null, never 0: no collection of it had counts */
	if (gs->counted || !gs->count) {
		jw_int(w, "collected", gs->collected);
		jw_int(w, "uncollectable", gs->uncollectable);
	} else {
		jw_null(w, "collected");
		jw_null(w, "uncollectable");
	}
	if (gs->counted != gs->count)
		jw_uint(w, "counted", gs->counted);
	jw_bool(w, "percentiles_exact", !gs->samples_truncated);
	for (int i = 0; i < STATS_HIST_SLOTS; i++)
		if (gs->hist[i])
			top = i;
	jw_key_arr(w, "hist_us");
	for (int i = 0; i <= top; i++) {
		jw_obj_begin(w);
		jw_uint(w, "lo", i == 0 ? 0 : 1ULL << i);
		jw_uint(w, "hi", i == 0 ? 1 : (1ULL << (i + 1)) - 1);
		jw_uint(w, "count", gs->hist[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void json_thread(struct jw *w, const struct thread_stats *t, bool evicted)
{
	jw_obj_begin(w);
	if (evicted)
		jw_null(w, "tid");
	else
		jw_uint(w, "tid", t->tid);
	jw_str(w, "thread", t->name);
	jw_uint(w, "count", t->count);
	jw_uint(w, "total_ns", t->total_ns);
	jw_uint(w, "max_ns", t->max_ns);
	jw_key_arr(w, "by_gen");
	for (int g = 0; g < STATS_NGEN; g++)
		jw_uint(w, NULL, t->by_gen[g]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void json_stats(struct jw *w, struct trace_stats *s, uint64_t wall_ns)
{
	uint64_t total = stats_total_ns(s);

	jw_uint(w, "wall_ns", wall_ns);
	jw_uint(w, "gc_ns", total);
	jw_double(w, "gc_share", wall_ns ? (double)total / wall_ns : 0.0);
	jw_key_arr(w, "generations");
	for (int g = 0; g < STATS_NGEN; g++)
		json_gen(w, &s->gen[g], g);
	if (s->unknown_gen.count)
		json_gen(w, &s->unknown_gen, -1);
	jw_arr_end(w);
	stats_sort_threads(s);
	jw_key_arr(w, "threads");
	for (uint32_t i = 0; i < s->nthreads; i++)
		json_thread(w, &s->threads[i], false);
	jw_arr_end(w);
	if (s->threads_evicted) {
		jw_uint(w, "threads_evicted", s->threads_evicted);
		jw_key_obj(w, "evicted_threads");
		jw_uint(w, "count", s->evicted.count);
		jw_uint(w, "total_ns", s->evicted.total_ns);
		jw_uint(w, "max_ns", s->evicted.max_ns);
		jw_obj_end(w);
	}
}

static void json_objects(struct jw *w, const struct obj_summary *o)
{
	jw_key_obj(w, "objects");
	jw_uint(w, "walks", o->walks);
	jw_uint(w, "seen", o->seen);
	jw_uint(w, "walks_capped", o->capped);
	jw_uint(w, "walks_faulted", o->faults);
	if (o->types_evicted)
		jw_uint(w, "types_evicted", o->types_evicted);
	jw_key_arr(w, "types");
	for (size_t i = 0; i < o->ntypes; i++) {
		jw_obj_begin(w);
		jw_str(w, "type", o->types[i].name);
		jw_uint(w, "objects", o->types[i].objects);
		jw_uint(w, "collections", o->types[i].collections);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	if (!o->owners)
		return;
	jw_key_obj(w, "findings");
	jw_uint(w, "total", o->findings);
	if (o->qt_findings)
		jw_uint(w, "qt_affinity", o->qt_findings);
	if (o->heap_findings)
		jw_uint(w, "heap", o->heap_findings);
	if (o->exited_findings)
		jw_uint(w, "owner_exited", o->exited_findings);
	jw_uint(w, "owners_unknown", o->owners_unknown);
	jw_key_arr(w, "by_pair");
	for (size_t i = 0; i < o->npairs; i++) {
		const struct obj_pair *p = &o->pairs[i];

		jw_obj_begin(w);
		jw_str(w, "object_type", p->type);
		/* 0: the owner had exited */
		jw_int_known(w, "owner_tid", p->owner_tid != 0, p->owner_tid);
		jw_str(w, "owner_thread", p->owner_tid ? p->owner_comm : NULL);
		jw_uint(w, "tid", p->tid);
		jw_str(w, "thread", p->comm);
		jw_uint(w, "count", p->n);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (o->pairs_evicted) {
		jw_uint(w, "pairs_evicted", o->pairs_evicted);
		jw_uint(w, "pair_findings_evicted", o->pair_findings_evicted);
	}
	jw_obj_end(w);
}

static void json_detach(struct sink *s, const struct gc_end *e)
{
	struct jw w;

	jw_init(&w, s->cfg.out);
	jw_obj_begin(&w);
	jw_str(&w, "type", "summary");
	json_pid(s, &w);
	jw_str(&w, "end", e->reason);
	if (e->exit_kind == GC_EXIT_STATUS) {
		jw_int(&w, "exit_status", e->exit_value);
	} else if (e->exit_kind == GC_EXIT_SIGNAL) {
		char sig[16];

		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(e->exit_value) ? sigabbrev_np(e->exit_value) : "?");
		jw_int(&w, "exit_signal", e->exit_value);
		jw_str(&w, "exit_signal_name", sig);
	}
	jw_uint(&w, "lost", e->lost);
	jw_uint(&w, "unpaired", e->unpaired);
	jw_uint(&w, "hidden", e->hidden);
	if (e->fatal)
		jw_uint(&w, "fatal_collections", e->fatal);
	json_stats(&w, e->stats, e->wall_ns);
	if (e->objects)
		json_objects(&w, e->objects);
	jw_obj_end(&w);
	jw_line(&w);
	fflush(s->cfg.out);
}

static void json_free(struct sink *s)
{
	free(s->priv);
	free(s);
}

static const struct sink_ops json_ops = {
	.name = "json",
	.attach = json_attach,
	.collection = json_collection,
	.lost = json_lost,
	.fatal = json_fatal,
	.touch = json_touch,
	.counts = json_counts,
	.type_window = json_type_window,
	.detach = json_detach,
	.free = json_free,
};

struct sink *sink_json_new(const struct sink_config *cfg)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->priv = calloc(1, sizeof(struct json_priv));
	if (!s->priv) {
		free(s);
		return NULL;
	}
	s->ops = &json_ops;
	s->cfg = *cfg;
	return s;
}
