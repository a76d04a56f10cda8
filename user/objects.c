// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "objects.h"
#include "pystack.h"

/* Py_TPFLAGS_HEAPTYPE, Include/object.h, unchanged 3.9-3.14 */
#define PY_TPFLAGS_HEAPTYPE (1UL << 9)
#define MAX_PATTERNS 32
#define MAX_PENDING 16		/* collections whose walk arrived, record not yet */
#define MRO_MAX 64		/* bases looked at for a match */

struct typeinfo {
	uint64_t addr;
	char name[128];
	bool heap;
	uint32_t verdict;		/* --owners: GCSCOPE_VERDICT_*, 0 if never asked */
	uint64_t objects;		/* destroyed, over the whole trace */
	uint64_t collections;		/* collections that destroyed some */
	uint64_t last_seq;
};

struct pairstat {
	char type[128];
	uint32_t owner_tid, tid;
	char owner_comm[GCSCOPE_COMM_LEN + 1], comm[GCSCOPE_COMM_LEN + 1];
	uint64_t n;
};

struct objtrack {
	pid_t pid;
	struct pylayout layout;
	int top;
	char *patterns[MAX_PATTERNS];
	int npatterns;
	bool all_heap;
	struct typeinfo *types;		/* open addressing on addr */
	size_t ntypes, cap;
	struct objcoll pending[MAX_PENDING];
	uint64_t seq;
	/* totals */
	uint64_t walks, seen, capped, faults;
	uint64_t findings;
	struct pairstat *pairs;
	size_t npairs, cappairs;
	objtrack_dealloc_fn dealloc_fn;
	void *dealloc_ctx;
	struct pystack *strs;		/* reads str objects (module names) */
};

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

static void name_of(struct objtrack *o, uint64_t type, char *out, size_t size, bool *heap)
{
	bool ok = true;
	uint64_t p = rd_ptr(o, type + pyl(&o->layout, PYL_TYPE_TP_NAME), &ok);
	uint64_t flags = rd_ptr(o, type + pyl(&o->layout, PYL_TYPE_TP_FLAGS), &ok);

	if (!ok || !p || read_cstr(o->pid, p, out, size) || !out[0]) {
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
		if (*p == '@' || o->npatterns == MAX_PATTERNS || strlen(p) > 200) {
			snprintf(why, size, "invalid --owners pattern '%s': give globs on type names "
				 "(e.g. 'Q*,myapp.*', at most %d) or @heap", p, MAX_PATTERNS);
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
	if (!o->npatterns && !o->all_heap) {
		snprintf(why, size, "empty --owners: give globs on type names, e.g. 'Q*,myapp.*', or @heap");
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
			c->types[c->ntypes++].count = 0;
		}
		c->types[j].count += e->t[i].count;
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
	struct objcoll *c;

	/* BPF also reports objects of types still pending an answer: keep only
	 * those of watched types */
	if (!ti || !ti->addr || ti->verdict != GCSCOPE_VERDICT_WATCH)
		return;
	c = pending_get(o, e->tid, e->ts_start, true);
	if (!c)
		return;
	if (grow_array(&c->findings, &c->capf, c->nfindings, sizeof(*c->findings), 8))
		return;
	c->findings[c->nfindings++] = *e;
}

#define DICT_SCAN_MAX 256		/* entries of a type's dict looked at */

/* The str value of key `key` in a dict of the target, or NULL: a linear scan
 * of the entries (a type's dict is small), keys compared as strings.
 * Layout: Objects/dictobject.c, 3.9/3.10 and 3.11+ (see pylayout.tsv). */
static char *dict_get_str(struct objtrack *o, uint64_t dict, const char *key)
{
	const struct pylayout *l = &o->layout;
	uint8_t *ent = NULL;
	uint64_t keys, nent, ibytes, esize, koff = 0, voff;
	bool ok = true;
	char *res = NULL;

	if (!dict || !o->strs || !pyl_known(l, PYL_DICT_MA_KEYS) || !pyl_known(l, PYL_DICTKEYS_DK_NENTRIES) ||
	    !pyl_known(l, PYL_DICTKEYS_DK_INDICES) || !pyl_known(l, PYL_DICTENTRY_SIZEOF) ||
	    !pyl_known(l, PYL_DICTENTRY_ME_KEY) || !pyl_known(l, PYL_DICTENTRY_ME_VALUE) ||
	    !(pyl_known(l, PYL_DICTKEYS_DK_SIZE) ||
	      (pyl_known(l, PYL_DICTKEYS_DK_LOG2_SIZE) && pyl_known(l, PYL_DICTUENTRY_SIZEOF))))
		return NULL;
	/* split tables (ma_values) hold instance dicts, never a type's */
	if (rd_ptr(o, dict + pyl(l, PYL_DICT_MA_VALUES), &ok) || !ok)
		return NULL;
	keys = rd_ptr(o, dict + pyl(l, PYL_DICT_MA_KEYS), &ok);
	nent = rd_ptr(o, keys + pyl(l, PYL_DICTKEYS_DK_NENTRIES), &ok);
	if (!ok || !keys || nent > DICT_SCAN_MAX)
		return NULL;
	esize = pyl(l, PYL_DICTENTRY_SIZEOF);
	koff = pyl(l, PYL_DICTENTRY_ME_KEY);
	voff = pyl(l, PYL_DICTENTRY_ME_VALUE);
	if (pyl_known(l, PYL_DICTKEYS_DK_SIZE)) {
		/* 3.9/3.10: index width follows the table size */
		uint64_t size = rd_ptr(o, keys + pyl(l, PYL_DICTKEYS_DK_SIZE), &ok);

		if (!ok || size > (1 << 20))
			return NULL;
		ibytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
	} else {
		uint8_t b[3];

		if (procmem_read(o->pid, keys + pyl(l, PYL_DICTKEYS_DK_LOG2_SIZE), b, sizeof(b)) || b[1] > 24)
			return NULL;
		ibytes = 1ULL << b[1];
		if (b[2] != 0) {	/* unicode keys: {me_key, me_value} */
			esize = pyl(l, PYL_DICTUENTRY_SIZEOF);
			koff = 0;
			voff = 8;
		}
	}
	/* the sizes come from DWARF, which the target's owner wrote: an entry
	 * is 2 or 3 pointers, and both fields are inside it */
	if (esize < 16 || esize > 64 || koff > esize - 8 || voff > esize - 8)
		return NULL;
	ent = malloc(nent * esize + 1);
	if (!ent || procmem_read(o->pid, keys + pyl(l, PYL_DICTKEYS_DK_INDICES) + ibytes, ent, nent * esize))
		goto out;
	for (uint64_t i = 0; i < nent && !res; i++) {
		uint64_t k, v;
		char *ks;

		memcpy(&k, ent + i * esize + koff, 8);
		memcpy(&v, ent + i * esize + voff, 8);
		if (!k || !v || !(ks = pystack_read_str(o->strs, k)))
			continue;
		if (!strcmp(ks, key))
			res = pystack_read_str(o->strs, v);
		free(ks);
	}
out:
	free(ent);
	return res;
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

	if (!ok || !(flags & PY_TPFLAGS_HEAPTYPE) || !o->strs || !pyl_known(l, PYL_TYPE_TP_DICT))
		return false;
	mod = dict_get_str(o, rd_ptr(o, type + pyl(l, PYL_TYPE_TP_DICT), &ok), "__module__");
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

/* Does the type match by its name or module-qualified name? */
static bool one_matches(struct objtrack *o, uint64_t type, bool *heap)
{
	char name[128], qual[320];

	name_of(o, type, name, sizeof(name), heap);
	if (objtrack_pattern_match(o, name))
		return true;
	return qualified_name(o, type, qual, sizeof(qual)) && objtrack_pattern_match(o, qual);
}

/* Does the type or one of its bases match? */
static bool type_matches(struct objtrack *o, uint64_t type)
{
	bool heap = false, ok = true;
	uint64_t mro, n;

	if (one_matches(o, type, &heap) || (o->all_heap && heap))
		return true;
	if (!o->npatterns || !pyl_known(&o->layout, PYL_TYPE_TP_MRO) ||
	    !pyl_known(&o->layout, PYL_TUPLE_OB_ITEM) || !pyl_known(&o->layout, PYL_VAROBJECT_OB_SIZE))
		return false;
	mro = rd_ptr(o, type + pyl(&o->layout, PYL_TYPE_TP_MRO), &ok);
	n = mro ? rd_ptr(o, mro + pyl(&o->layout, PYL_VAROBJECT_OB_SIZE), &ok) : 0;
	if (!ok || !mro || n > MRO_MAX)
		return false;
	for (uint64_t i = 1; i < n; i++) {	/* [0] is the type itself */
		uint64_t base = rd_ptr(o, mro + pyl(&o->layout, PYL_TUPLE_OB_ITEM) + 8 * i, &ok);

		if (!ok || !base)
			return false;
		if (one_matches(o, base, NULL))
			return true;
	}
	return false;
}

void objtrack_on_new_type(struct objtrack *o, const struct gcscope_new_type *e, int verdict_fd)
{
	__u32 v = type_matches(o, e->pytype) ? GCSCOPE_VERDICT_WATCH : GCSCOPE_VERDICT_IGNORE;
	__u64 key = e->pytype;
	struct typeinfo *ti;

	objtrack_type_name(o, e->pytype);	/* named while it surely exists */
	ti = type_slot(o, e->pytype);
	if (ti && ti->addr)
		ti->verdict = v;
	if (bpf_map_update_elem(verdict_fd, &key, &v, BPF_ANY))
		p_debug("cannot set the verdict of type 0x%llx: %s", (unsigned long long)key, strerror(errno));
	/* Forget its instances when they die: hook its tp_dealloc (shared by
	 * all Python classes: subtype_dealloc).  After the verdict, because
	 * attaching a uprobe takes milliseconds. */
	if (v == GCSCOPE_VERDICT_WATCH && o->dealloc_fn && pyl_known(&o->layout, PYL_TYPE_TP_DEALLOC)) {
		bool ok = true;
		uint64_t fn = rd_ptr(o, e->pytype + pyl(&o->layout, PYL_TYPE_TP_DEALLOC), &ok);

		if (ok && fn && o->dealloc_fn(fn, o->dealloc_ctx))
			p_debug("cannot hook tp_dealloc 0x%llx of %s", (unsigned long long)fn,
				objtrack_type_name(o, e->pytype));
	}
	p_debug("type %s: %s", objtrack_type_name(o, e->pytype), v == GCSCOPE_VERDICT_WATCH ? "watched" : "ignored");
}

struct objcoll *objtrack_take(struct objtrack *o, uint32_t tid, uint64_t ts_start)
{
	return pending_get(o, tid, ts_start, false);
}

struct named_count {
	const char *name;
	uint64_t count;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named_count *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct named_count *)a)->name, ((const struct named_count *)b)->name);
}

/* A collection's counts by type name, most first.  Distinct types can share
 * a name (a class defined twice, in two modules or two runs of a class
 * statement): they are counted together, as a reader of the output sees
 * them.  Returns the number of names; *out is malloc'd. */
static size_t by_name(struct objtrack *o, const struct objcoll *c, struct named_count **out)
{
	struct named_count *v = malloc((c->ntypes ? c->ntypes : 1) * sizeof(*v));
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

static struct pairstat *pair_get(struct objtrack *o, const char *type, const struct gcscope_finding *f,
				 const char *thread)
{
	struct pairstat *p;

	for (size_t i = 0; i < o->npairs; i++) {
		p = &o->pairs[i];
		if (p->owner_tid == f->owner.tid && p->tid == f->tid && !strcmp(p->type, type))
			return p;
	}
	if (grow_array(&o->pairs, &o->cappairs, o->npairs, sizeof(*o->pairs), 8))
		return NULL;
	p = &o->pairs[o->npairs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->type, sizeof(p->type), "%s", type);
	p->owner_tid = f->owner.tid;
	p->tid = f->tid;
	memcpy(p->owner_comm, f->owner.comm, GCSCOPE_COMM_LEN);
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
		struct pairstat *p = pair_get(o, objtrack_type_name(o, c->findings[i].owner.pytype), &c->findings[i],
					      thread);

		if (p)
			p->n++;
		o->findings++;
	}
	c->used = false;
}

size_t objtrack_nfindings(const struct objcoll *c)
{
	return c ? c->nfindings : 0;
}

void objtrack_print_text(struct objtrack *o, const struct objcoll *c, int64_t collected, FILE *f)
{
	struct named_count *v;
	size_t n;
	int col;

	if (!c || !c->walked)
		return;
	n = by_name(o, c, &v);
	if (!v)
		return;
	col = fprintf(f, "    types:");
	for (size_t i = 0; i < n && (int)i < o->top; i++) {
		char item[192];
		int len = snprintf(item, sizeof(item), " %s %llu%s", v[i].name, (unsigned long long)v[i].count,
				   i + 1 < n && (int)i + 1 < o->top ? "," : "");

		if (col + len > 78 && col > 10) {
			fprintf(f, "\n          ");
			col = 10;
		}
		col += fprintf(f, "%s", item);
	}
	if (n > (size_t)o->top)
		fprintf(f, " (+%zu more types)", n - (size_t)o->top);
	if (c->flags & GCSCOPE_TYPES_F_CAPPED)
		fprintf(f, "\n    (walk stopped at %llu objects of %lld collected: --max-objects)",
			(unsigned long long)c->seen, (long long)collected);
	else if (c->flags & GCSCOPE_TYPES_F_FAULT)
		fprintf(f, "\n    (walk stopped after %llu objects: unreadable list)", (unsigned long long)c->seen);
	fputc('\n', f);
	free(v);
}

void objtrack_json_fields(struct objtrack *o, const struct objcoll *c, struct jw *w)
{
	struct named_count *v;
	size_t n;

	if (!c || !c->walked) {
		jw_null(w, "objects_seen");
		return;
	}
	jw_uint(w, "objects_seen", c->seen);
	jw_bool(w, "walk_complete", !(c->flags & (GCSCOPE_TYPES_F_CAPPED | GCSCOPE_TYPES_F_FAULT)));
	n = by_name(o, c, &v);
	if (!v)
		return;
	jw_key_obj(w, "types");
	for (size_t i = 0; i < n; i++)
		jw_uint(w, v[i].name, v[i].count);
	jw_obj_end(w);
	free(v);
}

static int cmp_types_total(const void *a, const void *b)
{
	const struct typeinfo *x = a, *y = b;

	return x->objects < y->objects ? 1 : x->objects > y->objects ? -1 : strcmp(x->name, y->name);
}

static int cmp_types_name(const void *a, const void *b)
{
	return strcmp(((const struct typeinfo *)a)->name, ((const struct typeinfo *)b)->name);
}

/* Types by objects destroyed, those sharing a name counted together (see
 * by_name()); collections then counts the most any one of them had. */
static struct typeinfo *ranked(struct objtrack *o, size_t *n)
{
	struct typeinfo *r = malloc((o->ntypes ? o->ntypes : 1) * sizeof(*r));
	size_t m = 0;

	*n = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < o->cap; i++)
		if (o->types[i].addr && o->types[i].objects)
			r[m++] = o->types[i];
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

static int cmp_pairs(const void *a, const void *b)
{
	const struct pairstat *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

void objtrack_summary_text(struct objtrack *o, FILE *f)
{
	size_t n;
	struct typeinfo *r = ranked(o, &n);

	if (o->walks) {
		fprintf(f, "\nTypes the cyclic GC destroyed (the code creating them makes cycles):\n");
		fprintf(f, "%-40s %10s %12s\n", "TYPE", "OBJECTS", "COLLECTIONS");
		for (size_t i = 0; i < n && i < (size_t)(o->top > 20 ? o->top : 20); i++)
			fprintf(f, "%-40.40s %10llu %12llu\n", r[i].name, (unsigned long long)r[i].objects,
				(unsigned long long)r[i].collections);
		if (n > 20 && o->top <= 20)
			fprintf(f, "(%zu more types: -j gives them all)\n", n - 20);
		fprintf(f, "%llu objects walked in %llu collections", (unsigned long long)o->seen,
			(unsigned long long)o->walks);
		if (o->capped)
			fprintf(f, "; %llu walks stopped at --max-objects", (unsigned long long)o->capped);
		if (o->faults)
			fprintf(f, "; %llu stopped at an unreadable list", (unsigned long long)o->faults);
		fputc('\n', f);
	}
	free(r);
	if (!o->npatterns && !o->all_heap)
		return;
	fprintf(f, "\nFindings: %llu objects destroyed by a collection on a thread other than "
		   "their creator's\n", (unsigned long long)o->findings);
	if (!o->npairs)
		return;
	sort_array(o->pairs, o->npairs, sizeof(*o->pairs), cmp_pairs);
	fprintf(f, "%8s  %-28s %-20s %-20s\n", "COUNT", "TYPE", "CREATED BY", "DESTROYED BY");
	for (size_t i = 0; i < o->npairs; i++) {
		struct pairstat *p = &o->pairs[i];
		char a[40], b[40];

		snprintf(a, sizeof(a), "%u (%s)", p->owner_tid, p->owner_comm);
		snprintf(b, sizeof(b), "%u (%s)", p->tid, p->comm);
		fprintf(f, "%8llu  %-28.28s %-20.20s %-20.20s\n", (unsigned long long)p->n, p->type, a, b);
	}
}

void objtrack_summary_json(struct objtrack *o, struct jw *w)
{
	size_t n;
	struct typeinfo *r = ranked(o, &n);

	jw_key_obj(w, "objects");
	jw_uint(w, "walks", o->walks);
	jw_uint(w, "seen", o->seen);
	jw_uint(w, "walks_capped", o->capped);
	jw_uint(w, "walks_faulted", o->faults);
	jw_key_arr(w, "types");
	for (size_t i = 0; r && i < n; i++) {
		jw_obj_begin(w);
		jw_str(w, "type", r[i].name);
		jw_uint(w, "objects", r[i].objects);
		jw_uint(w, "collections", r[i].collections);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	free(r);
	if (!o->npatterns && !o->all_heap)
		return;
	sort_array(o->pairs, o->npairs, sizeof(*o->pairs), cmp_pairs);
	jw_key_obj(w, "findings");
	jw_uint(w, "total", o->findings);
	jw_key_arr(w, "by_pair");
	for (size_t i = 0; i < o->npairs; i++) {
		struct pairstat *p = &o->pairs[i];

		jw_obj_begin(w);
		jw_str(w, "object_type", p->type);
		jw_uint(w, "owner_tid", p->owner_tid);
		jw_str(w, "owner_thread", p->owner_comm);
		jw_uint(w, "tid", p->tid);
		jw_str(w, "thread", p->comm);
		jw_uint(w, "count", p->n);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}
