// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "probe.h"

const char *probe_kind_name(enum probe_kind k)
{
	switch (k) {
	case PROBE_USDT:
		return "usdt";
	case PROBE_UPROBE:
		return "uprobe";
	case PROBE_AUTO:
		return "auto";
	default:
		return "none";
	}
}

const char *collector_name(uint32_t version)
{
	if (version < 0x030a0000)
		return "collect";		/* Modules/gcmodule.c, 3.9 */
	if (version >= 0x030e0000 && version < 0x030e0500)
		return "_PyGC_Collect";		/* incremental GC, 3.14.0-3.14.4 */
	return "gc_collect_main";		/* 3.10-3.13, 3.14.5+ (gh-148726) */
}

int collector_match(const char *s, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(s, base, n))
		return 0;
	if (s[n] == '\0')
		return 3;
	if (s[n] != '.' || strstr(s + n, ".cold"))
		return 0;
	/* GCC's LTO renames statics to NAME.lto_priv.N without touching the
	 * ABI; .isra/.constprop/.part clones may drop or reorder arguments and
	 * .part is only the outlined tail of the function. */
	if (!strncmp(s + n, ".lto_priv.", 10) && !strchr(s + n + 10, '.'))
		return 2;
	if (strstr(s + n, ".part."))
		return 0;
	return 1;
}

/*
 * Where new instances of Python classes and of most extension types come
 * from.  PyType_GenericAlloc is their tp_alloc.  From 3.12 it and 3.13's
 * _PyType_NewManagedObject (CALL_ALLOC_AND_ENTER_INIT) both get the memory
 * from _PyType_AllocNoTrack, the leaf.  GCC inlines the leaf into one
 * caller and not another, or the callers into the eval loop (trixie's
 * 3.13.5 inlines _PyType_NewManagedObject, pyenv's 3.12.1 inlines the leaf
 * into PyType_GenericAlloc): so hook every out-of-line copy of the leaf,
 * and a wrapper only where DWARF shows the leaf inlined into it.  Each new
 * instance is then seen exactly once.  Before 3.12 PyType_GenericAlloc is
 * the leaf.  Types whose tp_new allocates with PyObject_GC_New (builtin
 * containers, some C types) are not watched: hooking that would cost every
 * tuple and list.
 */
const char *const allocator_names[] = {
	"_PyType_AllocNoTrack", "PyType_GenericAlloc", "_PyType_NewManagedObject", NULL,
};

struct all_syms {
	const char *base;
	const char *leaf;		/* a wrapper counts only if it inlines this */
	struct pytarget *t;
	struct probe_plan *p;
};

static int all_cb(const struct elfsym *s, void *ctx)
{
	struct all_syms *a = ctx;
	struct probe_plan *p = a->p;
	struct probe_sym *ps;

	if (!s->value || !collector_match(s->name, a->base) || p->nalloc >= (int)ARRAY_SIZE(p->alloc))
		return 0;
	for (int i = 0; i < p->nalloc; i++)
		if (p->alloc[i].vaddr == s->value)
			return 0;	/* .symtab and .dynsym both list it */
	if (a->leaf && (!a->t->dwarf || dwarfinfo_inlines_at(a->t->dwarf, s->value, a->leaf) != 1))
		return 0;	/* it calls the leaf, which is hooked */
	ps = &p->alloc[p->nalloc];
	if (elf_vaddr_to_offset(&a->t->elf, s->value, &ps->offset))
		return 0;
	snprintf(ps->name, sizeof(ps->name), "%s", s->name);
	ps->vaddr = s->value;
	ps->size = s->size;
	p->nalloc++;
	return 0;
}

/* Every out-of-line copy of each allocator: GCC may keep both a function
 * and its .constprop clone (sid's 3.14), and each serves some callers. */
static void plan_alloc(struct pytarget *t, struct probe_plan *p)
{
	/* [0] is the leaf from 3.12 on; before, PyType_GenericAlloc is */
	int first = t->version >= 0x030c0000 ? 0 : 1;

	for (int i = first; allocator_names[i]; i++) {
		struct all_syms a = { allocator_names[i], i > first ? allocator_names[first] : NULL, t, p };

		elf_for_each_symbol(&t->elf, all_cb, &a);
		if (t->have_symelf)
			elf_for_each_symbol(&t->symelf, all_cb, &a);
	}
	if (!p->nalloc)
		snprintf(p->alloc_why, sizeof(p->alloc_why), "no allocator function (PyType_GenericAlloc...) in %s",
			 t->py_inside);
}

struct best_sym {
	const char *base;
	struct elfsym sym;
	int rank;
};

static int best_cb(const struct elfsym *s, void *p)
{
	struct best_sym *b = p;
	int r = collector_match(s->name, b->base);

	if (r > b->rank && s->value) {
		b->rank = r;
		b->sym = *s;
	}
	return 0;
}

/* Bytes of a record BPF reads at once (GCSCOPE_REC_MAX, bpf/gcscope.bpf.c). */
#define REC_MAX 64

/* A record field BPF can read: 8-aligned, all of it inside the record. */
static bool field_ok(long off, long size)
{
	return off >= 0 && off % 8 == 0 && off + 8 <= size && size <= REC_MAX;
}

/* 3.15+ (GH-146527): gc.generation_stats points to a struct gc_stats of
 * three rings (pylayout.tsv, gc_ring.*).  A ring's length is the offset of
 * its index over the record size: its items[] come first, the int8 index
 * right after them. */
static bool plan_ring(const struct pylayout *l, struct stats_shape *sh)
{
	long rec = pyl(l, PYL_GC_STATS_SIZEOF), yi = pyl(l, PYL_GC_RING_YOUNG_INDEX);
	long old = pyl(l, PYL_GC_RING_OLD), osz = pyl(l, PYL_GC_RING_OLD_SIZEOF);
	long oi = pyl(l, PYL_GC_RING_OLD_INDEX), total = pyl(l, PYL_GC_RING_SIZEOF);

	if (rec <= 0 || yi <= 0 || old < yi || osz <= 0 || oi <= 0 || oi >= osz || total <= 0 ||
	    old + 2 * osz > total || yi % rec || oi % rec || yi / rec > 127 || oi / rec > 127 ||
	    !field_ok(pyl(l, PYL_GC_STATS_CANDIDATES), rec) || !field_ok(pyl(l, PYL_GC_STATS_HEAP_SIZE), rec))
		return false;
	sh->ring = true;
	sh->candidates = (uint32_t)pyl(l, PYL_GC_STATS_CANDIDATES);
	sh->heap_size = (uint32_t)pyl(l, PYL_GC_STATS_HEAP_SIZE);
	sh->base[0] = 0;
	sh->index[0] = (uint64_t)yi;
	sh->len[0] = (uint32_t)(yi / rec);
	for (int g = 1; g < 3; g++) {
		sh->base[g] = (uint64_t)(old + (g - 1) * osz);
		sh->index[g] = sh->base[g] + (uint64_t)oi;
		sh->len[g] = (uint32_t)(oi / rec);
	}
	/* BPF reads REC_MAX bytes of a slot: even the last slot's stay inside
	 * struct gc_stats */
	for (int g = 0; g < 3; g++)
		if (!sh->len[g] || sh->base[g] + (sh->len[g] - 1) * (uint64_t)rec + REC_MAX > (uint64_t)total)
			return false;
	return true;
}

static void plan_stats(struct pytarget *t, struct probe_plan *p)
{
	const struct pylayout *l = &t->layout;
	static const enum pyl_field need[] = {
		PYL_RUNTIME_INTERPRETERS_MAIN, PYL_INTERP_GC, PYL_GC_GENERATION_STATS,
		PYL_GC_STATS_SIZEOF, PYL_GC_STATS_COLLECTIONS, PYL_GC_STATS_COLLECTED,
		PYL_GC_STATS_UNCOLLECTABLE,
	};
	struct stats_shape *sh = &p->shape;
	long rec = pyl(l, PYL_GC_STATS_SIZEOF);
	/* rings where the layout has them, or may have them (a version newer
	 * than the table whose records do not start with collections) */
	bool ring_layout = pyl_known(l, PYL_GC_RING_YOUNG_INDEX) ||
			   (pyl(l, PYL_GC_RING_YOUNG_INDEX) == PYL_UNKNOWN && pyl(l, PYL_GC_STATS_COLLECTIONS) != 0);

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (!pyl_known(l, need[i])) {
			/* pylayout_forget_table(): the table is for GIL builds */
			if (t->free_threaded && !l->n_dwarf)
				snprintf(p->stats_why, sizeof(p->stats_why),
					 "free-threaded build without debug info: layout field %s is not in its "
					 "_Py_DebugOffsets and pylayout.tsv describes GIL builds only; install its "
					 "debug info (without the stats, a call of the collector that returned at "
					 "once is seen as a collection too)", pyl_rows[need[i]].name);
			else
				snprintf(p->stats_why, sizeof(p->stats_why), "layout field %s unknown for this build",
					 pyl_rows[need[i]].name);
			return;
		}
	}
	memset(sh, 0, sizeof(*sh));
	sh->collections = (uint32_t)pyl(l, PYL_GC_STATS_COLLECTIONS);
	sh->collected = (uint32_t)pyl(l, PYL_GC_STATS_COLLECTED);
	sh->uncollectable = (uint32_t)pyl(l, PYL_GC_STATS_UNCOLLECTABLE);
	if (ring_layout) {
		if (!field_ok(pyl(l, PYL_GC_STATS_COLLECTIONS), rec) || !field_ok(pyl(l, PYL_GC_STATS_COLLECTED), rec) ||
		    !field_ok(pyl(l, PYL_GC_STATS_UNCOLLECTABLE), rec) || !plan_ring(l, sh)) {
			snprintf(p->stats_why, sizeof(p->stats_why),
				 "the rings of struct gc_stats have an unknown shape");
			return;
		}
	} else if (sh->collections != 0 || sh->collected != 8 || sh->uncollectable != 16 || rec < 24) {
		/* 3.9-3.14: BPF reads an entry as three int64s */
		snprintf(p->stats_why, sizeof(p->stats_why), "struct gc_generation_stats has an unknown shape");
		return;
	}
	p->stats = true;
	snprintf(p->stats_why, sizeof(p->stats_why), "gcstate->generation_stats%s via %s",
		 sh->ring ? " (the newest record of each ring)" : "",
		 l->n_dwarf ? "DWARF" : l->n_debug_offsets ? "_Py_DebugOffsets and table" : "table");
}

static void plan_uprobe(struct pytarget *t, struct probe_plan *p)
{
	struct best_sym b = { .base = collector_name(t->version) };
	struct elffile *from = NULL;

	if (t->elf.has_symtab) {
		elf_for_each_symbol(&t->elf, best_cb, &b);
		if (b.rank)
			from = &t->elf;
	}
	if (!b.rank && t->have_symelf) {
		elf_for_each_symbol(&t->symelf, best_cb, &b);
		if (b.rank)
			from = &t->symelf;
	}
	if (!b.rank)
		return;
	/* Offsets are computed with the program headers of the loaded file:
	 * a separate debug file's symbols use the same virtual addresses. */
	if (elf_vaddr_to_offset(&t->elf, b.sym.value, &p->func_offset))
		return;
	p->func_found = true;
	snprintf(p->func, sizeof(p->func), "%s", b.sym.name);
	p->func_vaddr = b.sym.value;
	snprintf(p->func_from, sizeof(p->func_from), "%s of %s", from == &t->elf ? ".symtab" : "debug file",
		 from->path);
	p->gen_in_parm2 = b.rank >= 2;
	p->ret_is_total = b.rank >= 2;
	p->total_tells_own = p->ret_is_total && t->free_threaded;
}

static void plan_sites(struct pytarget *t, struct probe_plan *p)
{
	if (!t->dwarf) {
		snprintf(p->sites_why, sizeof(p->sites_why),
			 "no debug info (%s): install the interpreter's debug symbols (e.g. python3.X-dbg) "
			 "or set DEBUGINFOD_URLS to see which objects each collection destroys", t->dwarf_where);
		return;
	}
	if (t->free_threaded && (!pyl_known(&t->layout, PYL_FT_STATE_UNREACHABLE) ||
				 !pyl_known(&t->layout, PYL_OBJECT_OB_TID))) {
		snprintf(p->sites_why, sizeof(p->sites_why),
			 "free-threaded build whose DWARF lacks collection_state.unreachable or PyObject.ob_tid "
			 "(the worklist of the objects a collection destroys)");
		return;
	}
	p->nsites = gcsite_find(t->dwarf, t->free_threaded ? pyl(&t->layout, PYL_FT_STATE_UNREACHABLE) : -1,
				p->sites, GCSITE_MAX, p->sites_why, sizeof(p->sites_why));
}

void probe_plan_objects(struct pytarget *t, struct probe_plan *p)
{
	plan_sites(t, p);
	plan_alloc(t, p);
}

int probe_plan(struct pytarget *t, enum probe_kind want, struct probe_plan *p)
{
	bool has_start, has_done;

	memset(p, 0, sizeof(*p));
	has_start = !elf_find_usdt(&t->elf, "python", "gc__start", &p->usdt_start);
	has_done = !elf_find_usdt(&t->elf, "python", "gc__done", &p->usdt_done);
	p->usdt_present = has_start && has_done;
	plan_uprobe(t, p);
	plan_stats(t, p);

	if (p->usdt_present && want != PROBE_UPROBE) {
		p->kind = PROBE_USDT;
		snprintf(p->why, sizeof(p->why), "USDT python:gc__start/gc__done in %s", t->py_inside);
		return 0;
	}
	if (p->func_found && want != PROBE_USDT) {
		p->kind = PROBE_UPROBE;
		snprintf(p->why, sizeof(p->why), "uprobe on %s (%s)%s", p->func, p->func_from,
			 want == PROBE_UPROBE ? ", as asked" : ", no USDT probes in this build");
		return 0;
	}
	if (want == PROBE_USDT)
		snprintf(p->missing, sizeof(p->missing),
			 "%s has no python:gc__start/gc__done USDT probes (it was not built --with-dtrace)%s",
			 t->py_inside, p->func_found ? "; drop --probe usdt to use a uprobe instead" : "");
	else if (want == PROBE_UPROBE)
		snprintf(p->missing, sizeof(p->missing),
			 "no symbol for the collector function %s in %s or its debug info (%s)%s",
			 collector_name(t->version), t->py_inside, t->dwarf_where,
			 p->usdt_present ? "; drop --probe uprobe to use its USDT probes" : "");
	else
		snprintf(p->missing, sizeof(p->missing),
			 "%s has no USDT probes and no symbol for %s (stripped, no debug info found: %s); "
			 "install its debug symbols (e.g. the python3.X-dbg package), set DEBUGINFOD_URLS, "
			 "or use a build configured --with-dtrace",
			 t->py_inside, collector_name(t->version), t->dwarf_where);
	return EXIT_NO_PROBE;
}
