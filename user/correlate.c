// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "correlate.h"
#include "fatal.h"
#include "gcscope.h"
#include "libcthread.h"
#include "objects.h"
#include "pystack.h"
#include "pythreads.h"
#include "stats.h"

struct correlator {
	struct correlator_config cfg;
	struct sinks *sinks;
	struct trace_stats stats;
	uint64_t hidden, shown, bad;
	uint64_t fatal;			/* collections the target died in */
	/* scratch for one collection's findings, reused */
	struct gc_finding *findings;
	size_t capf;
	char (*owner_names)[GC_THREAD_NAME_LEN];
	size_t capo;
	char (*owner_py_names)[GC_PY_THREAD_NAME_LEN];
	size_t capp;
};

struct correlator *correlator_new(const struct correlator_config *cfg, struct sinks *sinks)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->sinks = sinks;
	stats_init(&c->stats);
	return c;
}

void correlator_free(struct correlator *c)
{
	if (!c)
		return;
	stats_free(&c->stats);
	free(c->findings);
	free(c->owner_names);
	free(c->owner_py_names);
	free(c);
}

uint64_t correlator_bad_records(const struct correlator *c)
{
	return c->bad;
}

/* A thread name from the target, printable in one column. */
static void clean_comm(const char comm[GCSCOPE_COMM_LEN], char out[GC_THREAD_NAME_LEN])
{
	memcpy(out, comm, GCSCOPE_COMM_LEN);
	out[GCSCOPE_COMM_LEN] = '\0';
	tty_clean(out, out, GC_THREAD_NAME_LEN);
}

/* The Python name of thread tid into out ("" if unknown); true if known. */
static bool py_name(struct correlator *c, uint32_t tid, uint64_t now, char out[GC_PY_THREAD_NAME_LEN])
{
	const char *n = pythreads_name(c->cfg.pt, tid, now);

	snprintf(out, GC_PY_THREAD_NAME_LEN, "%s", n ? n : "");
	return n != NULL;
}

/* Room for need elements in a growable array (see grow_array()). */
static int reserve(void *arr, size_t *cap, size_t need, size_t elsize)
{
	while (*cap < need)
		if (grow_array(arr, cap, *cap, elsize, need))
			return -ENOMEM;
	return 0;
}

/* --types/--owners: the walk's counts and findings into the model.  The
 * names point into the type table, so every type is named (added) first:
 * taking them after no longer adds one, which could move the table.
 * Returns the type counts array, for the caller to free. */
static struct gc_type_count *add_objects(struct correlator *c, struct objcoll *oc, struct gc_collection *gc)
{
	struct objtrack *ot = c->cfg.ot;
	struct gc_type_count *types = NULL;
	size_t nf = objtrack_nfindings(oc);

	gc->types_traced = true;
	gc->owners_traced = objtrack_has_owners(ot);
	if (!oc)
		return NULL;
	for (size_t i = 0; i < oc->ntypes; i++)
		objtrack_type_name(ot, oc->types[i].type);
	for (size_t i = 0; i < nf; i++)
		objtrack_type_name(ot, oc->findings[i].owner.pytype);
	if (oc->walked) {
		gc->walked = true;
		gc->objects_seen = oc->seen;
		gc->owners_unknown = oc->owners_unknown;
		gc->walk_capped = oc->flags & GCSCOPE_TYPES_F_CAPPED;
		gc->walk_faulted = !gc->walk_capped && (oc->flags & GCSCOPE_TYPES_F_FAULT);
		gc->ntypes = objtrack_type_counts(ot, oc, &types);
		gc->types = types;
	}
	if (!nf || reserve(&c->findings, &c->capf, nf, sizeof(*c->findings)) ||
	    reserve(&c->owner_names, &c->capo, 2 * nf, sizeof(*c->owner_names)) ||
	    reserve(&c->owner_py_names, &c->capp, 2 * nf, sizeof(*c->owner_py_names)))
		return types;
	for (size_t i = 0; i < nf; i++) {
		const struct gcscope_finding *f = &oc->findings[i];
		struct gc_finding *g = &c->findings[i];
		bool creator = f->flags & GCSCOPE_FIND_F_CREATOR, qt = f->flags & GCSCOPE_FIND_F_QT;
		bool heap = !qt && !creator && (f->flags & GCSCOPE_FIND_F_HEAP);

		/* names: [i] the owner's, [nf + i] the creator's of a QObject */
		clean_comm(f->owner.comm, c->owner_names[i]);
		*g = (struct gc_finding){
			.obj = f->obj,
			.type = objtrack_type_name(ot, f->owner.pytype),
			.owner_tid = f->owner.tid,
			.owner_thread = c->owner_names[i],
			.created_ns = creator ? f->owner.ts : 0,
			.creator_known = creator,
			.created_tid = f->owner.tid,
			.created_thread = c->owner_names[i],
		};
		if (qt || heap) {
			g->qt = qt;
			g->heap = heap;
			g->owner_tid = objfind_owner(f);
			g->owner_thread = NULL;
			if (objfind_named(f)) {
				memcpy(c->owner_names[nf + i], oc->lives_comm[i], GC_THREAD_NAME_LEN);
				g->owner_thread = c->owner_names[nf + i];
			}
			g->owner_exited = heap && (f->flags & GCSCOPE_FIND_F_EXITED);
		}
		if (g->owner_tid && c->cfg.pt && py_name(c, g->owner_tid, gc->ts_end, c->owner_py_names[i]))
			g->owner_py_thread = c->owner_py_names[i];
		if (creator && !qt)
			g->created_py_thread = g->owner_py_thread;
		else if (creator && c->cfg.pt && py_name(c, f->owner.tid, gc->ts_end, c->owner_py_names[nf + i]))
			g->created_py_thread = c->owner_py_names[nf + i];
		if (!creator) {
			g->created_tid = 0;
			g->created_thread = NULL;
		}
	}
	gc->findings = c->findings;
	gc->nfindings = nf;
	return types;
}

static void on_collection(struct correlator *c, const struct gcscope_collection *e)
{
	char name[GC_THREAD_NAME_LEN], pyname[GC_PY_THREAD_NAME_LEN];
	struct objcoll *oc = NULL;
	struct gc_type_count *types = NULL;
	bool counts = e->flags & GCSCOPE_F_STATS;
	struct gc_collection gc = {
		.pid = e->pid,
		.tid = e->tid,
		.thread = name,
		.gen = e->gen >= 0 && e->gen < GCSCOPE_NGEN ? e->gen : -1,
		.ts_start = e->ts_start,
		.ts_end = e->ts_end,
		.pause_ns = e->ts_end > e->ts_start ? e->ts_end - e->ts_start : 0,
		.have_counts = counts,
		.collected = e->collected,
		.uncollectable = e->uncollectable,
		.have_total = e->flags & GCSCOPE_F_TOTAL_ARG,
		.total = e->total_arg,
		.have_candidates = counts && (e->flags & GCSCOPE_F_RING) && e->candidates >= 0,
		.candidates = e->candidates,
		.have_heap_size = counts && (e->flags & GCSCOPE_F_RING) && e->heap_size >= 0,
		.heap_size = e->heap_size,
	};

	clean_comm(e->comm, name);
	if (c->cfg.pt) {
		gc.py_threads_traced = true;
		if (py_name(c, e->tid, e->ts_end, pyname))
			gc.py_thread = pyname;
	}
	if (c->cfg.ps) {
		gc.stack_known = true;
		gc.stack_wanted = c->cfg.show_stack;
		gc.stack = pystack_take(c->cfg.ps, e->tid, e->ts_start);
	}
	if (c->cfg.ot) {
		oc = objtrack_take(c->cfg.ot, e->tid, e->ts_start);
		types = add_objects(c, oc, &gc);
	}
	if (!c->cfg.no_summary)
		stats_add(&c->stats, gc.gen, e->tid, gc.py_thread ? gc.py_thread : name, gc.pause_ns,
			  counts ? e->collected : -1, counts ? e->uncollectable : -1);
	if (!c->stats.first_ns || e->ts_start < c->stats.first_ns)
		c->stats.first_ns = e->ts_start;
	if (e->ts_end > c->stats.last_ns)
		c->stats.last_ns = e->ts_end;
	if (gc.pause_ns < c->cfg.min_ns) {
		gc.flags |= GC_HIDDEN;
		c->hidden++;
	} else {
		c->shown++;
	}
	sinks_collection(c->sinks, &gc);
	free(types);
	if (c->cfg.ot)
		objtrack_done(c->cfg.ot, oc, gc.gen, name);
}

/*
 * A fatal signal in the middle of a collection (bpf/fatal.bpf.h): the
 * collection's record will never come, so what was kept for it (its stack
 * record, its walk's types and findings) is taken now, with the Python
 * stack BPF read at the signal.  Not added to the pause statistics: the
 * collection has no end.
 */
static void on_fatal(struct correlator *c, const struct gcscope_fatal *e)
{
	char name[GC_THREAD_NAME_LEN], comm[GCSCOPE_COMM_LEN], pyname[GC_PY_THREAD_NAME_LEN];
	struct objcoll *oc = NULL;
	struct gc_type_count *types = NULL;
	struct pystack *ps = c->cfg.fatal_ps ? c->cfg.fatal_ps : c->cfg.ps;
	struct fatal_native *native = NULL;
	struct gc_fatal f = {
		.c = {
			.pid = e->pid,
			.tid = e->tid,
			.thread = name,
			.gen = e->gen_arg >= 0 && e->gen_arg < GCSCOPE_NGEN ? e->gen_arg : -1,
			.ts_start = e->ts_start,
			.pause_ns = e->ts_signal > e->ts_start ? e->ts_signal - e->ts_start : 0,
		},
		.sig = e->sig < 65 ? (int)e->sig : 0,
		.exited = e->flags & GCSCOPE_FATAL_F_EXIT,
		.exit_status = e->exit_status,
		.signal_seen = e->flags & GCSCOPE_FATAL_F_SIGNAL,
		.sender = e->sender,
		.self = e->flags & GCSCOPE_FATAL_F_SELF,
		.ts_signal = e->ts_signal,
	};

	memcpy(comm, e->comm, sizeof(comm));
	clean_comm(comm, name);
	/* The process is gone: the Python name is the one read while it ran
	 * (the collecting thread's earlier collections, its findings...);
	 * pythreads keeps the names of threads it saw, and a rescan of the
	 * dead process fails without forgetting them. */
	if (c->cfg.pt) {
		f.c.py_threads_traced = true;
		if (py_name(c, e->tid, e->ts_signal, pyname))
			f.c.py_thread = pyname;
	}
	/* the stack sent at the collection's start: replaced by the one read
	 * as the thread died (its code objects cannot be read any more) */
	if (c->cfg.ps)
		pystack_take(c->cfg.ps, e->tid, e->ts_start);
	if (!(e->flags & GCSCOPE_FATAL_F_PYTHON) || !ps)
		f.stack_why = "the target's layout gives no Python stacks";
	if (ps && (e->flags & GCSCOPE_FATAL_F_PYTHON)) {
		f.python_read = true;
		f.c.stack_known = true;
		f.c.stack_wanted = true;
		f.c.stack = pystack_fatal(ps, e);
		if (e->stack_depth > e->nframes && e->nframes <= GCSCOPE_FATAL_FRAMES)
			f.stack_more = e->stack_depth - e->nframes;
	}
	if ((e->flags & GCSCOPE_FATAL_F_NATIVE) && (native = malloc(sizeof(*native)))) {
		fatal_native_resolve(e, c->cfg.fatal_root, native);
		f.native = native;
	}
	if (c->cfg.ot && (e->flags & GCSCOPE_FATAL_F_ENTERED)) {
		f.obj = e->obj;
		f.obj_type = objtrack_type_name(c->cfg.ot, e->pytype);
		f.ts_entered = e->ts_entered;
	}
	if (c->cfg.ot) {
		oc = objtrack_take(c->cfg.ot, e->tid, e->ts_start);
		types = add_objects(c, oc, &f.c);
	}
	c->fatal++;
	sinks_fatal(c->sinks, &f);
	free(types);
	if (native) {
		fatal_native_free(native);
		free(native);
	}
	if (c->cfg.ot)
		objtrack_done(c->cfg.ot, oc, f.c.gen, name);
}

/* --owners: a foreign thread's collection entered a watched object's
 * tp_traverse.  Said now: the next thing may be the process's death. */
static void on_touch(struct correlator *c, const struct gcscope_touch *e)
{
	char name[GC_THREAD_NAME_LEN], owner[GC_THREAD_NAME_LEN], comm[GCSCOPE_COMM_LEN];
	char pyname[GC_PY_THREAD_NAME_LEN], pyowner[GC_PY_THREAD_NAME_LEN];
	struct gc_touch t = {
		.tid = e->tid,
		.thread = name,
		.ts_start = e->ts_start,
		.ts = e->ts,
		.f = {
			.obj = e->obj,
			.owner_tid = e->owner.tid,
			.owner_thread = owner,
			.created_ns = e->owner.ts,
		},
	};

	memcpy(comm, e->comm, sizeof(comm));
	clean_comm(comm, name);
	if (e->flags & GCSCOPE_FIND_F_HEAP) {
		/* free-threaded: the thread whose heap holds it, named now */
		t.f.heap = true;
		t.f.created_ns = 0;
		t.f.owner_exited = e->flags & GCSCOPE_FIND_F_EXITED;
		if (t.f.owner_exited) {
			t.f.owner_thread = NULL;
		} else {
			task_comm((pid_t)e->pid, e->owner.tid, comm, sizeof(comm));
			if (comm[0])
				clean_comm(comm, owner);
			else
				snprintf(owner, sizeof(owner), "?");	/* ended before it was read, as in findings */
		}
	} else {
		t.f.creator_known = true;
		memcpy(comm, e->owner.comm, sizeof(comm));
		clean_comm(comm, owner);
	}
	t.f.type = objtrack_type_name(c->cfg.ot, e->owner.pytype);
	t.pid = e->pid;
	/* said at once, while the process still runs (it may abort next) */
	if (c->cfg.pt) {
		t.py_threads_traced = true;
		if (py_name(c, e->tid, e->ts, pyname))
			t.py_thread = pyname;
		if (e->owner.tid && py_name(c, e->owner.tid, e->ts, pyowner))
			t.f.owner_py_thread = pyowner;
	}
	sinks_touch(c->sinks, &t);
}

/* Records are copied out before use: a ring buffer's are 8-byte aligned,
 * but a replayed or fuzzed one need not be. */
#define COPY_RECORD(var, data, size)                      \
	do {                                              \
		if ((size) < sizeof(var))                 \
			goto bad;                         \
		memcpy(&(var), (data), sizeof(var));      \
	} while (0)

int correlator_feed(struct correlator *c, const void *data, size_t size)
{
	uint32_t type;

	if (size < sizeof(type))
		goto bad;
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case GCSCOPE_EV_COLLECTION: {
		struct gcscope_collection e;

		COPY_RECORD(e, data, size);
		on_collection(c, &e);
		return 0;
	}
	case GCSCOPE_EV_STACK:
		/* variable length: pystack checks it */
		if (c->cfg.ps && pystack_stash(c->cfg.ps, data, size))
			goto bad;
		return 0;
	case GCSCOPE_EV_FATAL: {
		/* 12 KiB: not on the stack of every caller */
		struct gcscope_fatal *e = malloc(sizeof(*e));

		if (!e)
			return -ENOMEM;
		if (size < sizeof(*e)) {
			free(e);
			goto bad;
		}
		memcpy(e, data, sizeof(*e));
		on_fatal(c, e);
		free(e);
		return 0;
	}
	case GCSCOPE_EV_TOUCH: {
		struct gcscope_touch e;

		COPY_RECORD(e, data, size);
		if (c->cfg.ot)
			on_touch(c, &e);
		return 0;
	}
	case GCSCOPE_EV_TYPES: {
		struct gcscope_types e;

		COPY_RECORD(e, data, size);
		if (c->cfg.ot)
			objtrack_on_types(c->cfg.ot, &e);
		return 0;
	}
	case GCSCOPE_EV_FINDING: {
		struct gcscope_finding e;

		COPY_RECORD(e, data, size);
		if (!c->cfg.ot)
			return 0;
		objtrack_on_finding(c->cfg.ot, &e);
		/* The finding was sent mid-collection: the collecting thread's
		 * frames, and so its code objects, are alive now; by the time
		 * the collection's record comes the target may have exited. */
		if (c->cfg.ps)
			pystack_resolve(c->cfg.ps, e.tid, e.ts_start);
		return 0;
	}
	case GCSCOPE_EV_TYPE_NAME: {
		struct gcscope_type_name e;

		COPY_RECORD(e, data, size);
		if (c->cfg.ot)
			objtrack_on_type_name(c->cfg.ot, &e);
		return 0;
	}
	case GCSCOPE_EV_NEW_TYPE: {
		struct gcscope_new_type e;
		uint32_t v;

		COPY_RECORD(e, data, size);
		if (!c->cfg.ot)
			return 0;
		v = objtrack_on_new_type(c->cfg.ot, &e);
		if (c->cfg.set_verdict)
			c->cfg.set_verdict(c->cfg.ctx, e.pytype, v);
		objtrack_hook_pending(c->cfg.ot);
		return 0;
	}
	}
bad:
	c->bad++;
	return -EINVAL;
}

void correlator_end(struct correlator *c, struct gc_end *e)
{
	e->stats = &c->stats;
	e->hidden = c->hidden;
	e->fatal = c->fatal;
	e->min_ms = c->cfg.min_ms;
	e->objects = c->cfg.ot ? objtrack_summary(c->cfg.ot) : NULL;
	sinks_detach(c->sinks, e);
	obj_summary_free(e->objects);
	e->objects = NULL;
}
