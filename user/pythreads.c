// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model.h"
#include "procmaps.h"
#include "pyobj.h"
#include "pystack.h"
#include "pythreads.h"
#include "target.h"

#define PT_MAX 1024			/* threads named at most */
#define PT_RESCAN_UNKNOWN_NS 100000000ULL
#define PT_RESCAN_NS 2000000000ULL
#define PT_TRIED 64			/* threads looked for at first sight, remembered */

struct pt_entry {
	uint32_t tid;
	char name[GC_PY_THREAD_NAME_LEN];
};

struct pythreads {
	struct pylayout layout;
	struct pyobj_reader r;
	uint64_t runtime;
	struct pt_entry *v;
	size_t n;
	uint64_t last_scan;
	bool scanned;
	/* tids a scan looked for as they were first met: a thread is
	 * looked for at once the first time (the 100 ms limit made a thread
	 * that first collected just after another's scan go unnamed), then
	 * at most every PT_RESCAN_UNKNOWN_NS (a thread with no Python name,
	 * made in C, stays unknown) */
	uint32_t tried[PT_TRIED];
	size_t ntried;
};

struct pythreads *pythreads_new(const struct pytarget *t, char *why, size_t size)
{
	static const enum pyl_field need[] = {
		PYL_RUNTIME_INTERPRETERS_MAIN, PYL_INTERP_MODULES, PYL_MODULE_MD_DICT, PYL_OBJECT_OB_TYPE,
		PYL_TYPE_TP_FLAGS, PYL_DICT_MA_KEYS, PYL_DICT_MA_VALUES, PYL_LONG_OB_DIGIT,
	};
	struct pythreads *pt = calloc(1, sizeof(*pt));

	if (!pt) {
		snprintf(why, size, "out of memory");
		return NULL;
	}
	pt->layout = t->layout;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (!pyl_known(&pt->layout, need[i])) {
			snprintf(why, size, "the layout of CPython %u.%u lacks %s", t->version >> 24,
				 (t->version >> 16) & 0xff, pyl_rows[need[i]].name);
			free(pt);
			return NULL;
		}
	}
	pt->r.pid = t->pid;
	pt->r.l = &pt->layout;
	pt->r.strs = pystack_new(t, why, size);
	if (!pt->r.strs) {
		free(pt);
		return NULL;
	}
	pt->runtime = t->runtime_addr;
	pt->v = calloc(PT_MAX, sizeof(*pt->v));
	if (!pt->v) {
		snprintf(why, size, "out of memory");
		pythreads_free(pt);
		return NULL;
	}
	return pt;
}

void pythreads_free(struct pythreads *pt)
{
	if (!pt)
		return;
	pystack_free(pt->r.strs);
	free(pt->v);
	free(pt);
}

static uint64_t rd_ptr(struct pythreads *pt, uint64_t addr, bool *ok)
{
	uint64_t v = 0;

	if (!addr || procmem_read(pt->r.pid, addr, &v, sizeof(v)))
		*ok = false;
	return v;
}

struct scan {
	struct pythreads *pt;
	struct pt_entry *v;
	size_t n;
};

static bool add_thread(void *ctx, uint64_t ident, uint64_t thread)
{
	struct scan *s = ctx;
	const struct pyobj_reader *r = &s->pt->r;
	uint64_t name = pyobj_getattr(r, thread, "_name");
	uint64_t nid = pyobj_getattr(r, thread, "_native_id");
	int64_t tid;
	char *str;

	(void)ident;
	if (!name || !nid || !pyobj_long(r, nid, &tid) || tid <= 0 || tid > UINT32_MAX)
		return true;
	str = pystack_read_str(r->strs, name);
	if (!str)
		return true;
	s->v[s->n].tid = (uint32_t)tid;
	tty_clean(str, s->v[s->n].name, sizeof(s->v[s->n].name));
	free(str);
	return ++s->n < PT_MAX;
}

int pythreads_scan(struct pythreads *pt)
{
	const struct pylayout *l = &pt->layout;
	struct scan s = { .pt = pt };
	bool ok = true;
	uint64_t interp, modules, threading, md, active;

	pt->scanned = true;
	interp = rd_ptr(pt, pt->runtime + pyl(l, PYL_RUNTIME_INTERPRETERS_MAIN), &ok);
	modules = rd_ptr(pt, interp + pyl(l, PYL_INTERP_MODULES), &ok);
	if (!ok || !modules)
		return -1;
	/* not imported: no thread has a Python name yet */
	threading = pyobj_dict_get(&pt->r, modules, "threading");
	md = threading ? rd_ptr(pt, threading + pyl(l, PYL_MODULE_MD_DICT), &ok) : 0;
	active = md && ok ? pyobj_dict_get(&pt->r, md, "_active") : 0;
	s.v = calloc(PT_MAX, sizeof(*s.v));
	if (!s.v)
		return -1;
	if (active && pyobj_dict_items(&pt->r, active, PT_MAX, add_thread, &s) < 0) {
		free(s.v);
		return -1;
	}
	/* a thread gone since keeps the name it had: its collections and
	 * objects outlive it in the output */
	for (size_t i = 0; i < pt->n && s.n < PT_MAX; i++) {
		size_t j;

		for (j = 0; j < s.n && s.v[j].tid != pt->v[i].tid; j++)
			;
		if (j == s.n)
			s.v[s.n++] = pt->v[i];
	}
	free(pt->v);
	pt->v = s.v;
	pt->n = s.n;
	return (int)s.n;
}

const char *pythreads_name(struct pythreads *pt, uint32_t tid, uint64_t now_ns)
{
	size_t i;
	bool first, fresh = false;

	if (!pt)
		return NULL;
	if (!pt->scanned || now_ns - pt->last_scan >= PT_RESCAN_NS) {
		pt->last_scan = now_ns;
		pythreads_scan(pt);
		fresh = true;
	}
	for (i = 0; i < pt->n; i++)
		if (pt->v[i].tid == tid)
			return pt->v[i].name;
	for (i = 0; i < PT_TRIED && i < pt->ntried && pt->tried[i] != tid; i++)
		;
	first = i == PT_TRIED || i == pt->ntried;
	if (first)
		pt->tried[pt->ntried++ % PT_TRIED] = tid;
	if ((first && !fresh) || now_ns - pt->last_scan >= PT_RESCAN_UNKNOWN_NS) {
		pt->last_scan = now_ns;
		pythreads_scan(pt);
		for (i = 0; i < pt->n; i++)
			if (pt->v[i].tid == tid)
				return pt->v[i].name;
	}
	return NULL;
}
