// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "libcthread.h"
#include "objects.h"
#include "patterns.h"
#include "pyobj.h"
#include "pystack.h"
#include "qtaffinity.h"

/* Py_TPFLAGS_HEAPTYPE, Include/object.h, unchanged 3.9-3.14 */
#define PY_TPFLAGS_HEAPTYPE (1UL << 9)
#define MAX_PENDING 16		/* collections whose walk arrived, record not yet */
#define MRO_MAX 64		/* bases looked at for a match */
_Static_assert(MRO_MAX > GCSCOPE_NEW_TYPE_BASES, "an MRO holds at least what BPF sends of it");
/* Bounds of the tables that grow with what the target does (a trace may
 * run for weeks, docs/objects.md): past them the least useful entries are
 * evicted and counted. */
#define OBJ_TYPES_MAX (1u << 16)	/* distinct types named */
#define OBJ_PAIRS_MAX 4096		/* (type, owner thread, collecting thread) */

struct typeinfo {
	uint64_t addr;
	char name[128];
	bool heap;
	uint32_t verdict;		/* --owners: GCSCOPE_VERDICT_*, 0 if never asked */
	uint32_t qt;			/* GCSCOPE_QT_* bits of a QObject subclass */
	bool unseen;			/* watched for creators, first met dying */
	uint64_t objects;		/* destroyed, over the whole trace */
	uint64_t collections;		/* collections that destroyed some */
	uint64_t last_seq;
	uint64_t pin;			/* o->seq when last named: not evicted then */
};

struct objtrack {
	pid_t pid;
	struct pylayout layout;
	int top;
	char *patterns[OWNERS_MAX_PATTERNS];
	int npatterns;
	bool all_heap, all_qt;
	bool heap_owners;		/* owners from the heap, no creators (heapowner.h) */
	char untracked[512];
	struct typeinfo *types;		/* open addressing on addr */
	size_t ntypes, cap;
	struct objcoll pending[MAX_PENDING];
	uint64_t seq;
	/* totals */
	uint64_t walks, seen, capped, faults;
	uint64_t findings, qt_findings, heap_findings, exited_findings;
	uint64_t owners_unknown;	/* watched objects destroyed, owner not known */
	struct obj_pair *pairs;
	size_t npairs, cappairs;
	uint64_t types_evicted, pairs_evicted, pair_findings_evicted;
	objtrack_dealloc_fn dealloc_fn;
	void *dealloc_ctx;
	uint64_t pending_dealloc;	/* tp_dealloc to hook once the verdict is out */
	objtrack_dealloc_fn traverse_fn;
	void *traverse_ctx;
	uint64_t pending_traverse;	/* and tp_traverse */
	struct pystack *strs;		/* reads str objects (module names) */
};

void objtrack_set_traverse_hook(struct objtrack *o, objtrack_dealloc_fn fn, void *ctx)
{
	o->traverse_fn = fn;
	o->traverse_ctx = ctx;
}

void objtrack_set_dealloc_hook(struct objtrack *o, objtrack_dealloc_fn fn, void *ctx)
{
	o->dealloc_fn = fn;
	o->dealloc_ctx = ctx;
}

/* A C string from the target, at most size-1 bytes. */
static int read_cstr(pid_t pid, uint64_t addr, char *out, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		char buf[64];
		size_t want = size - 1 - got < sizeof(buf) ? size - 1 - got : sizeof(buf);
		char *nul;

		/* do not cross into an unmapped page needlessly: read to the
		 * end of this page at most */
		if (((addr + got) & 4095) + want > 4096)
			want = 4096 - ((addr + got) & 4095);
		if (procmem_read(pid, addr + got, buf, want))
			return got ? 0 : -EFAULT;
		nul = memchr(buf, '\0', want);
		memcpy(out + got, buf, nul ? (size_t)(nul - buf) : want);
		got += nul ? (size_t)(nul - buf) : want;
		if (nul)
			break;
	}
	out[got] = '\0';
	return 0;
}

static struct typeinfo *type_find(struct typeinfo *v, size_t cap, uint64_t addr)
{
	size_t i;

	for (i = (addr >> 4) & (cap - 1); v[i].addr; i = (i + 1) & (cap - 1))
		if (v[i].addr == addr)
			break;
	return &v[i];
}

static int cmp_typeinfo_objects(const void *a, const void *b)
{
	const struct typeinfo *x = a, *y = b;

	/* watched types first: BPF reports their instances by address */
	if ((x->verdict == GCSCOPE_VERDICT_WATCH) != (y->verdict == GCSCOPE_VERDICT_WATCH))
		return x->verdict == GCSCOPE_VERDICT_WATCH ? -1 : 1;
	return x->objects < y->objects ? 1 : x->objects > y->objects ? -1 : 0;
}

/* The table is full (a program making classes at run time): keep the
 * watched types and the half that destroyed the most objects, count the
 * rest.  A type dropped here that comes again is named again; a verdict
 * BPF already has stays in BPF's map. */
static void types_evict(struct objtrack *o)
{
	struct typeinfo *v = malloc(o->ntypes * sizeof(*v));
	size_t m = 0, keep;

	if (!v)
		return;
	for (size_t i = 0; i < o->cap; i++)
		if (o->types[i].addr)
			v[m++] = o->types[i];
	sort_array(v, m, sizeof(*v), cmp_typeinfo_objects);
	keep = m / 2;
	while (keep < m && v[keep].verdict == GCSCOPE_VERDICT_WATCH)
		keep++;
	memset(o->types, 0, o->cap * sizeof(*o->types));
	o->ntypes = 0;
	for (size_t i = 0; i < m; i++) {
		/* names handed out for the collection at hand stay valid */
		if (i >= keep && v[i].pin != o->seq) {
			o->types_evicted++;
			continue;
		}
		*type_find(o->types, o->cap, v[i].addr) = v[i];
		o->ntypes++;
	}
	free(v);
}

/* The entry of the type at addr, or the empty one to fill in for it (the
 * caller sets addr and counts it in ntypes); NULL for address 0, which
 * marks empty entries, or out of memory.  Only a type not yet in the
 * table can make it grow and move (objtrack_type_name()). */
static struct typeinfo *type_slot(struct objtrack *o, uint64_t addr)
{
	struct typeinfo *ti;

	if (!addr)
		return NULL;
	if (o->cap && (ti = type_find(o->types, o->cap, addr))->addr)
		return ti;
	if (o->ntypes >= OBJ_TYPES_MAX)
		types_evict(o);
	if (o->ntypes * 2 >= o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 256;
		struct typeinfo *n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < o->cap; j++)
			if (o->types[j].addr)
				*type_find(n, ncap, o->types[j].addr) = o->types[j];
		free(o->types);
		o->types = n;
		o->cap = ncap;
	}
	return type_find(o->types, o->cap, addr);
}

static uint64_t rd_ptr(struct objtrack *o, uint64_t addr, bool *ok)
{
	uint64_t v = 0;

	if (procmem_read(o->pid, addr, &v, sizeof(v)))
		*ok = false;
	return v;
}

/* The entry of a type BPF named (GCSCOPE_EV_TYPE_NAME) or that was named
 * here, without making one: NULL if none. */
static const struct typeinfo *type_named(const struct objtrack *o, uint64_t addr)
{
	const struct typeinfo *ti;

	if (!addr || !o->cap)
		return NULL;
	ti = type_find(o->types, o->cap, addr);
	return ti->addr == addr && ti->name[0] && strncmp(ti->name, "<type at", 8) ? ti : NULL;
}

static void name_of(struct objtrack *o, uint64_t type, char *out, size_t size, bool *heap)
{
	bool ok = true;
	uint64_t p = rd_ptr(o, type + pyl(&o->layout, PYL_TYPE_TP_NAME), &ok);
	uint64_t flags = rd_ptr(o, type + pyl(&o->layout, PYL_TYPE_TP_FLAGS), &ok);

	if (!ok || !p || read_cstr(o->pid, p, out, size) || !out[0]) {
		/* gone (the target exited before this was read): the name BPF
		 * read while the type existed (ask_verdict() names it first) */
		const struct typeinfo *ti = type_named(o, type);

		if (ti && ti->name != out) {
			snprintf(out, size, "%s", ti->name);
			if (heap)
				*heap = ti->heap;
			return;
		}
		snprintf(out, size, "<type at 0x%llx>", (unsigned long long)type);
		if (heap)
			*heap = false;
		return;
	}
	tty_clean(out, out, size);
	if (heap)
		*heap = flags & PY_TPFLAGS_HEAPTYPE;
}

const char *objtrack_type_name(struct objtrack *o, uint64_t type)
{
	struct typeinfo *ti = type_slot(o, type);

	if (!ti)
		return "?";
	if (!ti->addr) {
		ti->addr = type;
		o->ntypes++;
		name_of(o, type, ti->name, sizeof(ti->name), &ti->heap);
	}
	ti->pin = o->seq;
	return ti->name;
}

bool objtrack_pattern_match(const struct objtrack *o, const char *name)
{
	for (int i = 0; i < o->npatterns; i++)
		if (fnmatch(o->patterns[i], name, 0) == 0)
			return true;
	return false;
}

struct objtrack *objtrack_new(const struct pytarget *t, const char *owners, int top, char *why, size_t size)
{
	struct objtrack *o = calloc(1, sizeof(*o));
	char *list, *save = NULL, *p;

	if (!o) {
		snprintf(why, size, "out of memory");
		return NULL;
	}
	o->pid = t->pid;
	o->layout = t->layout;
	o->top = top;
	if (!pyl_known(&o->layout, PYL_TYPE_TP_NAME) || !pyl_known(&o->layout, PYL_TYPE_TP_FLAGS)) {
		snprintf(why, size, "the layout of PyTypeObject is unknown for this build");
		free(o);
		return NULL;
	}
	if (!owners)
		return o;
	o->strs = pystack_new(t, why, size);	/* NULL: match on tp_name only */
	list = strdup(owners);
	if (!list) {
		snprintf(why, size, "out of memory");
		objtrack_free(o);
		return NULL;
	}
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (!*p)
			continue;
		if (!strcmp(p, "@heap")) {
			o->all_heap = true;
			continue;
		}
		if (!strcmp(p, "@qt")) {
			o->all_qt = true;
			continue;
		}
		if (*p == '@' || o->npatterns == OWNERS_MAX_PATTERNS || strlen(p) > OWNERS_MAX_LEN) {
			snprintf(why, size, "invalid --owners pattern '%s': give globs on type names "
				 "(e.g. 'Q*,myapp.*', at most %d), @heap or @qt", p, OWNERS_MAX_PATTERNS);
			free(list);
			objtrack_free(o);
			return NULL;
		}
		if (!(o->patterns[o->npatterns] = strdup(p))) {
			snprintf(why, size, "out of memory");
			free(list);
			objtrack_free(o);
			return NULL;
		}
		o->npatterns++;
	}
	free(list);
	if (!o->npatterns && !o->all_heap && !o->all_qt) {
		snprintf(why, size, "empty --owners: give globs on type names, e.g. 'Q*,myapp.*', @heap or @qt");
		objtrack_free(o);
		return NULL;
	}
	return o;
}

void objtrack_free(struct objtrack *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->npatterns; i++)
		free(o->patterns[i]);
	for (int i = 0; i < MAX_PENDING; i++) {
		free(o->pending[i].types);
		free(o->pending[i].findings);
		free(o->pending[i].lives_comm);
	}
	free(o->types);
	free(o->pairs);
	pystack_free(o->strs);
	free(o);
}

static struct objcoll *pending_get(struct objtrack *o, uint32_t tid, uint64_t ts, bool create)
{
	struct objcoll *free_slot = NULL;

	for (int i = 0; i < MAX_PENDING; i++) {
		struct objcoll *c = &o->pending[i];

		if (c->used && c->tid == tid && c->ts_start == ts)
			return c;
		if (!c->used && !free_slot)
			free_slot = c;
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		/* records that never came (lost): recycle the oldest */
		free_slot = &o->pending[0];
		for (int i = 1; i < MAX_PENDING; i++)
			if (o->pending[i].ts_start < free_slot->ts_start)
				free_slot = &o->pending[i];
	}
	free_slot->used = true;
	free_slot->walked = false;
	free_slot->tid = tid;
	free_slot->ts_start = ts;
	free_slot->seen = 0;
	free_slot->flags = 0;
	free_slot->ntypes = 0;
	free_slot->nfindings = 0;
	return free_slot;
}

void objtrack_on_types(struct objtrack *o, const struct gcscope_types *e)
{
	struct objcoll *c = pending_get(o, e->tid, e->ts_start, true);
	uint32_t n = e->n < GCSCOPE_TYPES_MAX ? e->n : GCSCOPE_TYPES_MAX;

	if (!c)
		return;
	for (uint32_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < c->ntypes; j++)
			if (c->types[j].type == e->t[i].type)
				break;
		if (j == c->ntypes) {
			if (grow_array(&c->types, &c->cap, c->ntypes, sizeof(*c->types), 16))
				return;
			c->types[c->ntypes].type = e->t[i].type;
			c->types[c->ntypes].no_creator = 0;
			c->types[c->ntypes++].count = 0;
		}
		c->types[j].count += e->t[i].count;
		c->types[j].no_creator += e->t[i].no_creator;
	}
	c->seen = e->seen;
	c->flags |= e->flags;
	if (e->flags & GCSCOPE_TYPES_F_LAST)
		c->walked = true;
}

void objtrack_on_type_name(struct objtrack *o, const struct gcscope_type_name *e)
{
	struct typeinfo *ti = type_slot(o, e->pytype);
	char name[sizeof(ti->name)];
	size_t len;

	if (!ti)
		return;
	if (!ti->addr) {
		ti->addr = e->pytype;
		o->ntypes++;
	}
	len = strnlen(e->name, sizeof(e->name));
	snprintf(name, sizeof(name), "%.*s", (int)len, e->name);
	if (!name[0])
		snprintf(name, sizeof(name), "<type at 0x%llx>", (unsigned long long)e->pytype);
	tty_clean(name, name, sizeof(name));
	/* BPF reads at most GCSCOPE_TYPE_NAME_LEN - 1 bytes: a longer name
	 * read here first is the same type if it starts with what BPF read */
	if (len + 1 >= sizeof(e->name) && !strncmp(ti->name, name, strlen(name)))
		return;
	/* a new type at the address of a dead one: the counts start again
	 * (compared as stored: cleaned, so a name with control characters
	 * sent again is the same type) */
	if (ti->name[0] && strcmp(ti->name, name) != 0) {
		ti->objects = 0;
		ti->collections = 0;
	}
	memcpy(ti->name, name, sizeof(name));
	ti->heap = e->tp_flags & PY_TPFLAGS_HEAPTYPE;
}

void objtrack_on_finding(struct objtrack *o, const struct gcscope_finding *e)
{
	struct typeinfo *ti = type_slot(o, e->owner.pytype);
	struct gcscope_finding f = *e;
	struct objcoll *c;
	bool named;

	/* BPF also reports objects of types still pending an answer: keep only
	 * those of watched types */
	if (!ti || !ti->addr || ti->verdict != GCSCOPE_VERDICT_WATCH)
		return;
	if ((f.flags & GCSCOPE_FIND_F_QT) && !ti->qt) {
		/* BPF tried a pending type as a QObject and it looked like one:
		 * it is not; only its creator counts */
		f.flags &= ~GCSCOPE_FIND_F_QT;
		if (!(f.flags & (GCSCOPE_FIND_F_CREATOR | GCSCOPE_FIND_F_HEAP)) ||
		    (!(f.flags & GCSCOPE_FIND_F_EXITED) && f.owner.tid == f.tid))
			return;
	}
	/* the heap's owner has no name from BPF: its name now, while it may
	 * still run (in lives_comm, as a QObject's thread) */
	named = objfind_named(&f);
	c = pending_get(o, f.tid, f.ts_start, true);
	if (!c)
		return;
	if (grow_array(&c->findings, &c->capf, c->nfindings, sizeof(*c->findings), 8))
		return;
	if (named && (c->capl < c->capf || !c->lives_comm)) {
		void *n = realloc(c->lives_comm, c->capf * sizeof(*c->lives_comm));

		if (!n)
			return;
		c->lives_comm = n;
		c->capl = c->capf;
	}
	if (named) {
		task_comm(o->pid, objfind_owner(&f), c->lives_comm[c->nfindings], sizeof(c->lives_comm[0]));
		/* the thread ended before we could read its name */
		if (!c->lives_comm[c->nfindings][0])
			snprintf(c->lives_comm[c->nfindings], sizeof(c->lives_comm[0]), "?");
	}
	c->findings[c->nfindings++] = f;
}

/* "module.qualname" of a heap type (a class statement's __module__ and
 * __qualname__), into out; false for static types, whose tp_name already
 * says the module. */
static bool qualified_name(struct objtrack *o, uint64_t type, char *out, size_t size)
{
	const struct pylayout *l = &o->layout;
	bool ok = true;
	uint64_t flags = rd_ptr(o, type + pyl(l, PYL_TYPE_TP_FLAGS), &ok);
	char *mod, *qual = NULL;

	if (!ok) {
		/* gone: a tp_name BPF read that is module-qualified already
		 * (PyType_FromSpec's "gcxt.Unsendable", PyO3's
		 * "builtins.Holder", PySide's "PySide2.QtCore.QObject") is its
		 * qualified name; a Python class's ("Widget") says no module */
		const struct typeinfo *ti = type_named(o, type);

		if (!ti || !ti->heap || !strchr(ti->name, '.'))
			return false;
		snprintf(out, size, "%s", ti->name);
		return true;
	}
	if (!(flags & PY_TPFLAGS_HEAPTYPE) || !o->strs || !pyl_known(l, PYL_TYPE_TP_DICT))
		return false;
	mod = pyobj_dict_get_str(&(struct pyobj_reader){ .pid = o->pid, .l = l, .strs = o->strs },
				 rd_ptr(o, type + pyl(l, PYL_TYPE_TP_DICT), &ok), "__module__");
	if (!mod)
		return false;
	if (pyl_known(l, PYL_HEAPTYPE_HT_QUALNAME))
		qual = pystack_read_str(o->strs, rd_ptr(o, type + pyl(l, PYL_HEAPTYPE_HT_QUALNAME), &ok));
	if (!qual) {
		char name[128];

		name_of(o, type, name, sizeof(name), NULL);
		qual = strdup(name);
	}
	snprintf(out, size, "%s.%s", mod, qual ? qual : "?");
	free(mod);
	free(qual);
	return true;
}

/* Does the type match by its name or module-qualified name?  A class of
 * module "builtins" also goes by its bare name, as Python classes do:
 * PyO3 (0.17.3 src/pyclass.rs py_class_qualified_name()) names a
 * #[pyclass] without `module = ...` "builtins.Holder" in tp_name, and
 * PyType_FromSpec makes __module__ "builtins" for a tp_name without a dot;
 * "--owners Holder" must select it. */
static bool one_matches(struct objtrack *o, uint64_t type, bool *heap)
{
	static const char builtins[] = "builtins.";
	char name[128], qual[320];

	name_of(o, type, name, sizeof(name), heap);
	if (!o->npatterns)
		return false;
	if (objtrack_pattern_match(o, name))
		return true;
	if (!qualified_name(o, type, qual, sizeof(qual)))
		return false;
	if (objtrack_pattern_match(o, qual))
		return true;
	return !strncmp(qual, builtins, sizeof(builtins) - 1) && qual[sizeof(builtins) - 1] &&
	       objtrack_pattern_match(o, qual + sizeof(builtins) - 1);
}

/* One entry of the type's MRO (i 0: the type itself): does it make the
 * type match, is it a binding's QObject?  next: the entry after it (0 for
 * the last): PyQt's QObject is known by its tp_name and sip's wrapper type
 * after it (qtaff_binding_by_names()) where its __module__ cannot be read.
 * True when nothing more can change. */
static bool mro_entry(struct objtrack *o, uint64_t i, uint64_t base, uint64_t next, bool *match, uint32_t *qt)
{
	const struct typeinfo *b, *n;
	char qual[320];

	/* every watched QObject subclass is owned by where it lives */
	if (!*qt && qualified_name(o, base, qual, sizeof(qual)))
		*qt = qtaff_binding(qual);
	if (!*qt && next && (b = type_named(o, base)) && (n = type_named(o, next)))
		*qt = qtaff_binding_by_names(b->name, n->name);
	/* PySide's tp_name is "PySide2.QtCore.QObject": let "QObject" select
	 * every binding's, as it does PyQt's */
	if (*qt && !*match && objtrack_pattern_match(o, "QObject"))
		*match = true;
	if (i && !*match && o->npatterns && one_matches(o, base, NULL))
		*match = true;
	return *match && *qt;
}

/* The type's MRO into chain[MRO_MAX] ([0] the type itself); its length.
 * First the bases BPF read with the question, while the type surely
 * existed: the answer may come after the target began to exit, when
 * finalization has cleared its types (tp_mro NULL, __dict__ emptied) or
 * freed them (seen: sid 3.14, PyQt5, a worker's gc.collect() right before
 * exit; every QObject finding was dropped).  The target is read only for
 * what the question could not hold: an MRO longer than it, or none read
 * (a page BPF could not fault in). */
static uint32_t type_mro(struct objtrack *o, const struct gcscope_new_type *e, uint64_t *chain)
{
	const struct pylayout *l = &o->layout;
	uint32_t len = 1;
	uint64_t mro, n;
	bool ok = true;

	chain[0] = e->pytype;
	for (uint32_t i = 0; i < e->nbases && i < GCSCOPE_NEW_TYPE_BASES && e->bases[i]; i++)
		chain[len++] = e->bases[i];
	if ((len > 1 && len < 1 + GCSCOPE_NEW_TYPE_BASES) || !pyl_known(l, PYL_TYPE_TP_MRO) ||
	    !pyl_known(l, PYL_TUPLE_OB_ITEM) || !pyl_known(l, PYL_VAROBJECT_OB_SIZE))
		return len;
	mro = rd_ptr(o, e->pytype + pyl(l, PYL_TYPE_TP_MRO), &ok);
	n = ok && mro ? rd_ptr(o, mro + pyl(l, PYL_VAROBJECT_OB_SIZE), &ok) : 0;
	if (!ok || n > MRO_MAX)
		return len;
	for (uint64_t i = len; i < n; i++) {
		uint64_t base = rd_ptr(o, mro + pyl(l, PYL_TUPLE_OB_ITEM) + 8 * i, &ok);

		if (!ok || !base)
			break;
		chain[len++] = base;
	}
	return len;
}

/* Does the type or one of its bases match?  *qt gets the GCSCOPE_QT_*
 * bits if a base is the QObject of a Qt binding (by module-qualified name,
 * so that no class that merely shares the name counts). */
static bool type_matches(struct objtrack *o, const struct gcscope_new_type *e, uint32_t *qt)
{
	uint64_t chain[MRO_MAX];
	bool heap = false, match;
	uint32_t len;

	*qt = 0;
	match = one_matches(o, e->pytype, &heap) || (o->all_heap && heap);
	len = type_mro(o, e, chain);
	for (uint32_t i = 0; i < len; i++)
		if (mro_entry(o, i, chain[i], i + 1 < len ? chain[i + 1] : 0, &match, qt))
			break;
	return match || (o->all_qt && *qt);
}

uint32_t objtrack_on_new_type(struct objtrack *o, const struct gcscope_new_type *e)
{
	uint32_t qt, freed = 0, v = type_matches(o, e, &qt) ? GCSCOPE_VERDICT_WATCH : GCSCOPE_VERDICT_IGNORE;
	struct typeinfo *ti;

	objtrack_type_name(o, e->pytype);	/* named while it surely exists */
	ti = type_slot(o, e->pytype);
	if (v == GCSCOPE_VERDICT_IGNORE)
		qt = 0;
	if (ti && ti->addr) {
		ti->verdict = v;
		ti->qt = qt;
		/* a walk asked: none of its instances was seen created since
		 * we attached; that matters where the creator is the owner */
		ti->unseen = v == GCSCOPE_VERDICT_WATCH && !qt && (e->flags & GCSCOPE_NEW_TYPE_F_WALK) &&
			     !o->heap_owners;
	}
	/* Forget its instances when they die, if they come from an allocator
	 * that is not hooked (first seen at PyObject_GC_Track): hook its
	 * tp_dealloc, so that PyObject_GC_Track seeing an address again with
	 * this type is a live object tracked again, which keeps its creator
	 * (GCSCOPE_VERDICT_F_FREED).  Instances of other types are recorded
	 * anew at each allocation, whatever entry a dead one left at the
	 * address (bpf/objects.bpf.h), so they need no uprobe per death.  The
	 * caller tells BPF the verdict first, because attaching a uprobe takes
	 * milliseconds.  Not needed when no creator is recorded (@qt alone). */
	if (v == GCSCOPE_VERDICT_WATCH && o->dealloc_fn && objtrack_needs_creators(o) &&
	    (e->flags & GCSCOPE_NEW_TYPE_F_TRACK) && pyl_known(&o->layout, PYL_TYPE_TP_DEALLOC)) {
		bool ok = true;
		uint64_t fn = rd_ptr(o, e->pytype + pyl(&o->layout, PYL_TYPE_TP_DEALLOC), &ok);

		if (ok && fn) {
			o->pending_dealloc = fn;
			freed = GCSCOPE_VERDICT_F_FREED;
		}
	}
	/* and see it traversed by a foreign thread's collection (fatal.md) */
	if (v == GCSCOPE_VERDICT_WATCH && o->traverse_fn && pyl_known(&o->layout, PYL_TYPE_TP_TRAVERSE)) {
		bool ok = true;
		uint64_t fn = rd_ptr(o, e->pytype + pyl(&o->layout, PYL_TYPE_TP_TRAVERSE), &ok);

		if (ok && fn)
			o->pending_traverse = fn;
	}
	p_debug("type %s: %s%s%s%s", objtrack_type_name(o, e->pytype), v == GCSCOPE_VERDICT_WATCH ? "watched" : "ignored",
		qt ? " (QObject: owner is the thread it lives in)" : "",
		(e->flags & GCSCOPE_NEW_TYPE_F_WALK) ? ", first met dying" : "",
		freed ? ", made by an allocator not hooked: its tp_dealloc is" : "");
	return v | qt | freed;
}

void objtrack_hook_pending(struct objtrack *o)
{
	uint64_t fn = o->pending_dealloc;

	o->pending_dealloc = 0;
	if (fn && o->dealloc_fn && o->dealloc_fn(fn, o->dealloc_ctx))
		p_debug("cannot hook tp_dealloc 0x%llx", (unsigned long long)fn);
	fn = o->pending_traverse;
	o->pending_traverse = 0;
	if (fn && o->traverse_fn && o->traverse_fn(fn, o->traverse_ctx))
		p_debug("not hooking tp_traverse 0x%llx", (unsigned long long)fn);
}

/* The walk's objects of watched types whose owner is not known. */
static uint64_t owners_unknown(const struct objtrack *o, const struct objcoll *c)
{
	uint64_t n = 0;

	/* BPF counted them for types still pending an answer too */
	for (size_t i = 0; c && o->cap && i < c->ntypes; i++) {
		const struct typeinfo *ti = type_find(o->types, o->cap, c->types[i].type);

		if (ti->addr == c->types[i].type && ti->verdict == GCSCOPE_VERDICT_WATCH)
			n += c->types[i].no_creator;
	}
	return n;
}

/* Its last chunk is in, and the verdicts on its types (their questions
 * precede the chunks in the ring buffer). */
struct objcoll *objtrack_take(struct objtrack *o, uint32_t tid, uint64_t ts_start)
{
	struct objcoll *c = pending_get(o, tid, ts_start, false);

	if (c)
		c->owners_unknown = owners_unknown(o, c);
	return c;
}

static int cmp_named(const void *a, const void *b)
{
	const struct gc_type_count *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct gc_type_count *)a)->name, ((const struct gc_type_count *)b)->name);
}

/* A collection's counts by type name, most first.  Distinct types can share
 * a name (a class defined twice, in two modules or two runs of a class
 * statement): they are counted together, as a reader of the output sees
 * them.  Returns the number of names; *out is malloc'd. */
size_t objtrack_type_counts(struct objtrack *o, const struct objcoll *c, struct gc_type_count **out)
{
	struct gc_type_count *v = malloc((c->ntypes ? c->ntypes : 1) * sizeof(*v));
	size_t n = 0;

	*out = v;
	if (!v)
		return 0;
	/* name every type first: adding one can move the table, and with it
	 * the names already pointed at */
	for (size_t i = 0; i < c->ntypes; i++)
		objtrack_type_name(o, c->types[i].type);
	for (size_t i = 0; i < c->ntypes; i++) {
		v[i].name = objtrack_type_name(o, c->types[i].type);
		v[i].count = c->types[i].count;
	}
	sort_array(v, c->ntypes, sizeof(*v), cmp_name);
	for (size_t i = 0; i < c->ntypes; i++) {
		if (n && !strcmp(v[n - 1].name, v[i].name))
			v[n - 1].count += v[i].count;
		else
			v[n++] = v[i];
	}
	sort_array(v, n, sizeof(*v), cmp_named);
	return n;
}

static int cmp_pairs(const void *a, const void *b)
{
	const struct obj_pair *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

static struct obj_pair *pair_get(struct objtrack *o, const char *type, const struct gcscope_finding *f,
				 const char *thread, const char *lives_comm)
{
	struct obj_pair *p;
	uint32_t owner = objfind_owner(f);

	for (size_t i = 0; i < o->npairs; i++) {
		p = &o->pairs[i];
		if (p->owner_tid == owner && p->tid == f->tid && !strcmp(p->type, type))
			return p;
	}
	if (o->npairs >= OBJ_PAIRS_MAX) {
		/* keep the three quarters with the most findings */
		size_t keep = OBJ_PAIRS_MAX / 4 * 3;

		sort_array(o->pairs, o->npairs, sizeof(*o->pairs), cmp_pairs);
		for (size_t i = keep; i < o->npairs; i++)
			o->pair_findings_evicted += o->pairs[i].n;
		o->pairs_evicted += o->npairs - keep;
		o->npairs = keep;
	}
	if (grow_array(&o->pairs, &o->cappairs, o->npairs, sizeof(*o->pairs), 8))
		return NULL;
	p = &o->pairs[o->npairs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->type, sizeof(p->type), "%s", type);
	p->owner_tid = owner;
	p->tid = f->tid;
	memcpy(p->owner_comm, lives_comm ? lives_comm : f->owner.comm, GCSCOPE_COMM_LEN);
	tty_clean(p->owner_comm, p->owner_comm, sizeof(p->owner_comm));
	snprintf(p->comm, sizeof(p->comm), "%s", thread);
	return p;
}

void objtrack_done(struct objtrack *o, struct objcoll *c, int gen, const char *thread)
{
	(void)gen;
	if (!c)
		return;
	o->seq++;
	if (c->walked) {
		o->walks++;
		o->seen += c->seen;
		o->owners_unknown += c->owners_unknown;
		if (c->flags & GCSCOPE_TYPES_F_CAPPED)
			o->capped++;
		if (c->flags & GCSCOPE_TYPES_F_FAULT)
			o->faults++;
	}
	for (size_t i = 0; i < c->ntypes; i++) {
		struct typeinfo *ti;

		objtrack_type_name(o, c->types[i].type);
		ti = type_slot(o, c->types[i].type);
		if (!ti || !ti->addr)
			continue;
		ti->objects += c->types[i].count;
		if (ti->last_seq != o->seq) {
			ti->collections++;
			ti->last_seq = o->seq;
		}
	}
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct gcscope_finding *f = &c->findings[i];
		struct obj_pair *p = pair_get(o, objtrack_type_name(o, f->owner.pytype), f, thread,
					      objfind_named(f) ? c->lives_comm[i] : NULL);

		if (p)
			p->n++;
		o->findings++;
		if (f->flags & GCSCOPE_FIND_F_QT)
			o->qt_findings++;
		else if (f->flags & GCSCOPE_FIND_F_HEAP)
			o->heap_findings++;
		if (!(f->flags & GCSCOPE_FIND_F_QT) && (f->flags & GCSCOPE_FIND_F_EXITED))
			o->exited_findings++;
	}
	c->used = false;
}

bool objtrack_has_owners(const struct objtrack *o)
{
	return o->npatterns || o->all_heap || o->all_qt;
}

bool objtrack_needs_creators(const struct objtrack *o)
{
	return (o->npatterns || o->all_heap) && !o->heap_owners;
}

void objtrack_set_heap_owners(struct objtrack *o)
{
	o->heap_owners = true;
}

bool objtrack_heap_owners(const struct objtrack *o)
{
	return o->heap_owners;
}

bool objtrack_wants_qt(const struct objtrack *o)
{
	/* a pattern or @heap can select a QObject subclass: its owner is
	 * then where it lives too */
	return objtrack_has_owners(o);
}

const char *objtrack_untracked_line(struct objtrack *o)
{
	char names[400] = "";
	size_t n = 0, len = 0;
	uint64_t objs = 0;

	for (size_t i = 0; i < o->cap; i++) {
		const struct typeinfo *ti = &o->types[i];

		if (!ti->addr || !ti->unseen)
			continue;
		objs += ti->objects;
		if (n++ < 8 && len + 1 < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", ti->name);
	}
	if (!n)
		return NULL;
	snprintf(o->untracked, sizeof(o->untracked),
		 "--owners saw %llu objects of %zu watched type%s die without seeing any made: %s%s (made before "
		 "gcscope attached, or by an allocator it does not hook): findings about them may be missing",
		 (unsigned long long)objs, n, n == 1 ? "" : "s", names, n > 8 ? ", ..." : "");
	return o->untracked;
}

static int cmp_types_total(const void *a, const void *b)
{
	const struct obj_type_total *x = a, *y = b;

	return x->objects < y->objects ? 1 : x->objects > y->objects ? -1 : strcmp(x->name, y->name);
}

static int cmp_types_name(const void *a, const void *b)
{
	return strcmp(((const struct obj_type_total *)a)->name, ((const struct obj_type_total *)b)->name);
}

/* Types by objects destroyed, those sharing a name counted together (see
 * objtrack_type_counts()); collections then counts the most any one of them
 * had. */
static struct obj_type_total *ranked(struct objtrack *o, size_t *n)
{
	struct obj_type_total *r = malloc((o->ntypes ? o->ntypes : 1) * sizeof(*r));
	size_t m = 0;

	*n = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < o->cap; i++) {
		if (!o->types[i].addr || !o->types[i].objects)
			continue;
		memcpy(r[m].name, o->types[i].name, sizeof(r[m].name));
		r[m].objects = o->types[i].objects;
		r[m++].collections = o->types[i].collections;
	}
	sort_array(r, m, sizeof(*r), cmp_types_name);
	for (size_t i = 0; i < m; i++) {
		if (*n && !strcmp(r[*n - 1].name, r[i].name)) {
			r[*n - 1].objects += r[i].objects;
			if (r[i].collections > r[*n - 1].collections)
				r[*n - 1].collections = r[i].collections;
		} else {
			r[(*n)++] = r[i];
		}
	}
	sort_array(r, *n, sizeof(*r), cmp_types_total);
	return r;
}

struct obj_summary *objtrack_summary(struct objtrack *o)
{
	struct obj_summary *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->walks = o->walks;
	s->seen = o->seen;
	s->capped = o->capped;
	s->faults = o->faults;
	s->types = ranked(o, &s->ntypes);
	s->types_evicted = o->types_evicted;
	s->owners = objtrack_has_owners(o);
	s->findings = o->findings;
	s->qt_findings = o->qt_findings;
	s->heap_findings = o->heap_findings;
	s->heap_owners = o->heap_owners;
	s->exited_findings = o->exited_findings;
	s->owners_unknown = o->owners_unknown;
	sort_array(o->pairs, o->npairs, sizeof(*o->pairs), cmp_pairs);
	s->pairs = o->pairs;
	s->npairs = o->npairs;
	s->pairs_evicted = o->pairs_evicted;
	s->pair_findings_evicted = o->pair_findings_evicted;
	return s;
}

void obj_summary_free(struct obj_summary *s)
{
	if (!s)
		return;
	free(s->types);
	free(s);
}

size_t objtrack_nfindings(const struct objcoll *c)
{
	return c ? c->nfindings : 0;
}

