/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * trace --types / --owners, user side: names the types the BPF walk counted
 * (bpf/objects.bpf.h), keeps each collection's counts and findings until its
 * collection record arrives, answers the BPF side's "watch this type?"
 * questions, and adds up the exit summary.
 */
#ifndef GCSCOPE_OBJECTS_H
#define GCSCOPE_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "gcscope.h"
#include "model.h"
#include "target.h"

struct objtrack;

struct objcoll_type {
	uint64_t type;
	uint64_t count;
	uint64_t no_creator;		/* --owners: of those, with no owner known */
};

/* What the walk found for one collection. */
struct objcoll {
	bool used, walked;
	uint32_t tid;
	uint64_t ts_start;
	uint64_t seen;			/* objects walked */
	uint32_t flags;			/* GCSCOPE_TYPES_F_* */
	/* --owners: objects of watched types it destroyed whose owner is
	 * not known (no creator recorded, not a QObject whose thread was
	 * read); counted once the walk is in (objtrack_take()) */
	uint64_t owners_unknown;
	struct objcoll_type *types;
	size_t ntypes, cap;
	struct gcscope_finding *findings;
	size_t nfindings, capf;
	/* the kernel name of the thread each Qt finding's object lives in,
	 * read when the finding arrives (the thread may end soon after) */
	char (*lives_comm)[GCSCOPE_COMM_LEN + 1];
	size_t capl;
};

/* Is the finding's owner named in lives_comm (its entry in the collection's
 * findings)?  A QObject's thread, or the thread whose heap holds the
 * object (free-threaded builds), unless that one has exited. */
static inline bool objfind_named(const struct gcscope_finding *f)
{
	return (f->flags & GCSCOPE_FIND_F_QT) ||
	       (f->flags & (GCSCOPE_FIND_F_HEAP | GCSCOPE_FIND_F_EXITED)) == GCSCOPE_FIND_F_HEAP;
}

/* The finding's owner thread (0 if it has exited). */
static inline uint32_t objfind_owner(const struct gcscope_finding *f)
{
	return (f->flags & GCSCOPE_FIND_F_QT) ? f->lives_tid : f->owner.tid;
}

/* owners: NULL (no --owners), or comma-separated globs on type names
 * ("Q*,myapp.*"); "@heap" stands for every heap type (Python classes and
 * PyType_FromSpec types), "@qt" for every QObject subclass of PyQt5/6 and
 * PySide2/6, whose owner is the thread it lives in (bpf/qt.bpf.h).  A type matches if its name or the name of any
 * class in its MRO does.  Returns NULL with why set on bad patterns. */
struct objtrack *objtrack_new(const struct pytarget *t, const char *owners, int top, char *why, size_t size);
void objtrack_free(struct objtrack *o);

/* Does name match the --owners patterns?  (For tests and for the verdict.) */
bool objtrack_pattern_match(const struct objtrack *o, const char *name);

/* Ring-buffer records. */
void objtrack_on_types(struct objtrack *o, const struct gcscope_types *e);
void objtrack_on_finding(struct objtrack *o, const struct gcscope_finding *e);
void objtrack_on_type_name(struct objtrack *o, const struct gcscope_type_name *e);
/* Called with the tp_dealloc address of each type that gets watched. */
typedef int (*objtrack_dealloc_fn)(uint64_t addr, void *ctx);
void objtrack_set_dealloc_hook(struct objtrack *o, objtrack_dealloc_fn fn, void *ctx);
/* And with the tp_traverse address of each (the hook decides which to
 * hook: docs/fatal.md). */
void objtrack_set_traverse_hook(struct objtrack *o, objtrack_dealloc_fn fn, void *ctx);

/* Decide whether to watch the type: GCSCOPE_VERDICT_WATCH or _IGNORE, for
 * the caller to tell BPF; then objtrack_hook_pending() hooks the watched
 * type's tp_dealloc (through the dealloc hook), which takes milliseconds. */
uint32_t objtrack_on_new_type(struct objtrack *o, const struct gcscope_new_type *e);
void objtrack_hook_pending(struct objtrack *o);

/* The collection record of (tid, ts_start) arrived: its walk results, or
 * NULL.  Call objtrack_done() when printed. */
struct objcoll *objtrack_take(struct objtrack *o, uint32_t tid, uint64_t ts_start);
void objtrack_done(struct objtrack *o, struct objcoll *c, int gen, const char *thread);

/* The name of the type at address type, read from the target the first time.
 * The string lives in the type table: it stays valid only until the next
 * call that may add a type (this one, for a type not seen before). */
const char *objtrack_type_name(struct objtrack *o, uint64_t type);

/* A collection's counts by type name, most first, into *out (malloc'd, NULL
 * on no memory).  Distinct types sharing a name are counted together, as a
 * reader sees them.  The names live in the type table: valid until the next
 * call that may add a type.  Returns the number of names. */
size_t objtrack_type_counts(struct objtrack *o, const struct objcoll *c, struct gc_type_count **out);
size_t objtrack_nfindings(const struct objcoll *c);
bool objtrack_has_owners(const struct objtrack *o);
/* Do the patterns need creators (allocation hooks)?  Not for @qt alone. */
bool objtrack_needs_creators(const struct objtrack *o);
/* Owners are read from the heap at death (free-threaded builds,
 * user/heapowner.c): no creator is recorded, none is needed. */
void objtrack_set_heap_owners(struct objtrack *o);
bool objtrack_heap_owners(const struct objtrack *o);
/* Was @qt given, or can a pattern match a QObject subclass? */
bool objtrack_wants_qt(const struct objtrack *o);
/* One line naming the watched types whose instances died without gcscope
 * seeing them created, or NULL if none (valid until the next call). */
const char *objtrack_untracked_line(struct objtrack *o);

/* The exit summary of --types/--owners. */
struct obj_type_total {
	char name[GC_TYPE_NAME_LEN];
	uint64_t objects;		/* destroyed over the whole trace */
	uint64_t collections;		/* collections that destroyed some */
};

struct obj_pair {
	char type[GC_TYPE_NAME_LEN];
	uint32_t owner_tid, tid;	/* owner_tid 0: the owner had exited */
	char owner_comm[GCSCOPE_COMM_LEN + 1], comm[GCSCOPE_COMM_LEN + 1];
	uint64_t n;
};

struct obj_summary {
	uint64_t walks, seen, capped, faults;
	struct obj_type_total *types;	/* most objects first */
	size_t ntypes;
	uint64_t types_evicted;		/* dropped from the bounded type table */
	bool owners;			/* --owners was given */
	bool heap_owners;		/* read from the heap (objtrack_heap_owners()) */
	uint64_t findings;
	uint64_t qt_findings;		/* of those, QObjects owned by the thread they live in */
	uint64_t heap_findings;		/* of those, owned by the thread whose heap holds them */
	uint64_t exited_findings;	/* of those, whose owner had exited */
	uint64_t owners_unknown;	/* watched objects destroyed, owner not known (gc_collection) */
	const struct obj_pair *pairs;	/* most findings first; owned by the objtrack */
	size_t npairs;
	uint64_t pairs_evicted, pair_findings_evicted;
};

struct obj_summary *objtrack_summary(struct objtrack *o);
void obj_summary_free(struct obj_summary *s);

#endif
