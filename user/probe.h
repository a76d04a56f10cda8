/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Where to attach in a CPython target, and why: shared by `trace` (which
 * attaches) and `doctor` (which explains).
 */
#ifndef GCSCOPE_PROBE_H
#define GCSCOPE_PROBE_H

#include "gcsite.h"
#include "target.h"

enum probe_kind {
	PROBE_NONE = 0,
	PROBE_USDT,
	PROBE_UPROBE,
	PROBE_AUTO,	/* only as a request */
};

struct probe_plan {
	enum probe_kind kind;
	/* USDT */
	bool usdt_present;
	struct usdt_note usdt_start, usdt_done;
	/* uprobe on the collector */
	bool func_found;
	char func[256];			/* symbol, e.g. "gc_collect_main.lto_priv.0" */
	uint64_t func_vaddr;
	uint64_t func_offset;		/* file offset, for the uprobe */
	char func_from[PATH_MAX + 32];	/* which symbol table */
	bool gen_in_parm2;		/* the function has its source ABI */
	bool ret_is_total;
	/* free-threaded: a return value that is not what the counters moved
	 * by is another thread's collection (bpf/gcscope.bpf.c on_done) */
	bool total_tells_own;
	/* generation_stats can be read (collected/uncollectable per collection) */
	bool stats;
	char stats_why[256];
	/* How BPF reads them (bpf/gcscope.bpf.c): a record's fields, and from
	 * 3.15 the rings that gc.generation_stats points to. */
	struct stats_shape {
		uint32_t collections, collected, uncollectable;
		bool ring;			/* 3.15+: then candidates, heap_size too */
		uint32_t candidates, heap_size;
		uint64_t base[3], index[3];	/* each ring's items[] and index in struct gc_stats */
		uint32_t len[3];		/* its slots */
	} shape;
	/* --owners: functions that return every new instance (probed past the
	 * store of its type, user/allocsite.c, else with a uretprobe) */
	struct probe_sym {
		char name[128];
		uint64_t vaddr, offset, size;
	} alloc[12];
	int nalloc;
	char alloc_why[256];
	/* where the collected set can be read (--types, --owners) */
	struct gcsite sites[GCSITE_MAX];
	int nsites;
	char sites_why[512];		/* when nsites == 0 */
	char why[512];			/* the choice, in a sentence */
	char missing[512];		/* when kind == PROBE_NONE */
};

const char *probe_kind_name(enum probe_kind k);

/* Also plan --types/--owners: the finalize_garbage sites and the allocators.
 * Walks DWARF (most of a second on an LTO build): only when asked for. */
void probe_plan_objects(struct pytarget *t, struct probe_plan *plan);

/* Choose a probe.  want: PROBE_AUTO, or force PROBE_USDT / PROBE_UPROBE.
 * Returns 0, or EXIT_NO_PROBE with plan->missing saying what is missing and
 * what the user can do. */
int probe_plan(struct pytarget *t, enum probe_kind want, struct probe_plan *plan);

/* The collector function for this version: "collect" (3.9), "_PyGC_Collect"
 * (3.14.0-3.14.4, incremental GC), else "gc_collect_main". */
const char *collector_name(uint32_t version);

/* Does symbol name s stand for function base ("base", "base.lto_priv.0",
 * "base.isra.0", ... but never a ".cold" part)?  Returns a rank: 3 exact,
 * 2 same-ABI rename (.lto_priv), 1 other clone, 0 no. */
int collector_match(const char *s, const char *base);

/* The functions --owners watches for new instances, NULL-terminated. */
extern const char *const allocator_names[];

#endif
