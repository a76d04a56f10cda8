// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's type windows' series (met_types.h). */
#include <stdlib.h>
#include <string.h>

#include "met_types.h"
#include "metrics.h"

struct met_types *met_types_new(int top, bool owners, bool stacks, double budget)
{
	struct met_types *ty = calloc(1, sizeof(*ty));

	if (!ty)
		return NULL;
	if (stacks && !(ty->p_stack = calloc(MET_STACKS_PENDING, sizeof(*ty->p_stack)))) {
		free(ty);
		return NULL;
	}
	ty->top = top < 1 ? 1 : top > MET_TYPES_TOP_MAX ? MET_TYPES_TOP_MAX : top;
	ty->owners = owners;
	ty->budget = budget;
	strcpy(ty->other.name, "other");
	strcpy(ty->pair_other.type, "other");
	strcpy(ty->pair_other.owner, "other");
	strcpy(ty->pair_other.thread, "other");
	return ty;
}

void met_types_free(struct met_types *ty)
{
	if (ty)
		free(ty->p_stack);
	free(ty);
}

static void copy_name(char *out, size_t size, const char *in)
{
	size_t n = in ? strlen(in) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, in, n);
	out[n] = '\0';
}

static int gen_index(int gen)
{
	return gen >= 0 && gen < MET_TGEN - 1 ? gen : MET_TGEN - 1;
}

/* The pending row of name, made if there is room, else NULL. */
static struct met_type_row *pending_type(struct met_types *ty, const char *name)
{
	for (int i = 0; i < ty->np_types; i++)
		if (!strcmp(ty->p_type[i].name, name))
			return &ty->p_type[i];
	if (ty->np_types == MET_TYPES_PENDING)
		return NULL;
	struct met_type_row *r = &ty->p_type[ty->np_types++];

	memset(r, 0, sizeof(*r));
	copy_name(r->name, sizeof(r->name), name);
	return r;
}

static struct met_pair_row *find_pair(struct met_pair_row *rows, int n, const char *type, const char *owner,
				      const char *thread)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].type, type) && !strcmp(rows[i].owner, owner) && !strcmp(rows[i].thread, thread))
			return &rows[i];
	return NULL;
}

/* The innermost frames of r as a row (for comparing, and for keeping). */
static void stack_row(struct met_stack_row *row, const struct pystack_result *r)
{
	memset(row, 0, sizeof(*row));
	row->nframes = r->n < MET_STACK_FRAMES ? r->n : MET_STACK_FRAMES;
	row->truncated = r->truncated || r->n > MET_STACK_FRAMES;
	for (int i = 0; i < row->nframes; i++) {
		copy_name(row->f[i].file, sizeof(row->f[i].file), r->frames[i].file);
		copy_name(row->f[i].function, sizeof(row->f[i].function), r->frames[i].function);
		row->f[i].line = r->frames[i].line;
	}
}

static bool same_stack(const struct met_stack_row *a, const struct met_stack_row *b)
{
	if (a->nframes != b->nframes || a->truncated != b->truncated)
		return false;
	for (int i = 0; i < a->nframes; i++)
		if (a->f[i].line != b->f[i].line || strcmp(a->f[i].file, b->f[i].file) ||
		    strcmp(a->f[i].function, b->f[i].function))
			return false;
	return true;
}

/* --window-stacks: the collection's stack counted in the window. */
static void count_stack(struct met_types *ty, const struct gc_collection *c)
{
	struct met_stack_row row;
	int i;

	if (!c->stack || c->stack->n <= 0) {
		ty->p_no_stack++;
		return;
	}
	stack_row(&row, c->stack);
	for (i = 0; i < ty->np_stacks; i++)
		if (same_stack(&ty->p_stack[i], &row))
			break;
	if (i == ty->np_stacks) {
		if (ty->np_stacks == MET_STACKS_PENDING) {
			ty->p_stack_other++;
			return;
		}
		ty->p_stack[ty->np_stacks++] = row;
	}
	ty->p_stack[i].collections++;
	ty->p_stack[i].pause_ns += c->pause_ns;
}

void met_types_collection(struct met_types *ty, const struct gc_collection *c)
{
	int g = gen_index(c->gen);
	const char *collector = c->py_thread ? c->py_thread : c->thread ? c->thread : "";

	if (!c->walked)
		return;
	ty->p_collections[g]++;
	if (ty->p_stack)
		count_stack(ty, c);
	ty->p_seen += c->objects_seen;
	ty->p_capped += c->walk_capped;
	ty->p_owners_unknown += c->owners_unknown;
	for (size_t i = 0; i < c->ntypes; i++) {
		struct met_type_row *r = pending_type(ty, c->types[i].name ? c->types[i].name : "");

		(r ? r : &ty->p_other)->n[g] += c->types[i].count;
	}
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct gc_finding *f = &c->findings[i];
		char type[GC_TYPE_NAME_LEN], owner[MET_THREAD_LABEL], thread[MET_THREAD_LABEL];
		struct met_pair_row *r;

		copy_name(type, sizeof(type), f->type);
		copy_name(owner, sizeof(owner), f->owner_exited ? "(exited)" :
						f->owner_py_thread ? f->owner_py_thread : f->owner_thread);
		copy_name(thread, sizeof(thread), collector);
		ty->p_findings++;
		r = find_pair(ty->p_pair, ty->np_pairs, type, owner, thread);
		if (!r && ty->np_pairs < MET_PAIRS_PENDING) {
			r = &ty->p_pair[ty->np_pairs++];
			memset(r, 0, sizeof(*r));
			strcpy(r->type, type);
			strcpy(r->owner, owner);
			strcpy(r->thread, thread);
		}
		(r ? r : &ty->p_pair_other)->n++;
	}
}

static uint64_t row_total(const struct met_type_row *r)
{
	uint64_t s = 0;

	for (int g = 0; g < MET_TGEN; g++)
		s += r->n[g];
	return s;
}

static int by_total_desc(const void *a, const void *b)
{
	uint64_t x = row_total(a), y = row_total(b);

	return x < y ? 1 : x > y ? -1 : strcmp(((const struct met_type_row *)a)->name,
					       ((const struct met_type_row *)b)->name);
}

static int pair_desc(const void *a, const void *b)
{
	const struct met_pair_row *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

static void add_row(struct met_type_row *to, const struct met_type_row *from)
{
	for (int g = 0; g < MET_TGEN; g++)
		to->n[g] += from->n[g];
}

static int stack_desc(const void *a, const void *b)
{
	const struct met_stack_row *x = a, *y = b;

	if (x->collections != y->collections)
		return x->collections < y->collections ? 1 : -1;
	return x->pause_ns < y->pause_ns ? 1 : x->pause_ns > y->pause_ns ? -1 : 0;
}

/* most first: the free slots go to the window's most numerous */
static void sort_pending(struct met_types *ty)
{
	qsort(ty->p_type, (size_t)ty->np_types, sizeof(ty->p_type[0]), by_total_desc);
	qsort(ty->p_pair, (size_t)ty->np_pairs, sizeof(ty->p_pair[0]), pair_desc);
	if (ty->p_stack)
		qsort(ty->p_stack, (size_t)ty->np_stacks, sizeof(ty->p_stack[0]), stack_desc);
}

bool met_types_pending(const struct met_types *ty)
{
	for (int g = 0; g < MET_TGEN; g++)
		if (ty->p_collections[g])
			return true;
	return false;
}

void met_types_window(struct met_types *ty, struct gc_type_window *w, struct met_window_buf *buf)
{
	struct gc_window_type *types = buf->types;
	struct gc_window_pair *pairs = buf->pairs;
	size_t n = 0;

	_Static_assert(GC_WINDOW_NGEN == MET_TGEN, "one generation index for both");
	sort_pending(ty);
	for (int g = 0; g < MET_TGEN; g++)
		w->collections[g] = ty->p_collections[g];
	w->objects_seen = ty->p_seen;
	w->walks_capped = ty->p_capped;
	for (int i = 0; i < ty->np_types; i++)
		types[n++] = (struct gc_window_type){ ty->p_type[i].name, row_total(&ty->p_type[i]) };
	if (row_total(&ty->p_other))
		types[n++] = (struct gc_window_type){ "other", row_total(&ty->p_other) };
	w->types = types;
	w->ntypes = n;
	w->owners_traced = ty->owners;
	w->findings = ty->p_findings;
	w->owners_unknown = ty->p_owners_unknown;
	n = 0;
	for (int i = 0; i < ty->np_pairs; i++)
		pairs[n++] = (struct gc_window_pair){ ty->p_pair[i].type, ty->p_pair[i].owner, ty->p_pair[i].thread,
						      ty->p_pair[i].n };
	if (ty->p_pair_other.n)
		pairs[n++] = (struct gc_window_pair){ "other", "other", "other", ty->p_pair_other.n };
	w->pairs = pairs;
	w->npairs = n;
	w->budget = ty->budget;
	w->stacks_traced = ty->p_stack != NULL;
	w->stacks = buf->stacks;
	w->nstacks = 0;
	w->stacks_other = ty->p_stack_other;
	w->no_stack = ty->p_no_stack;
	for (int i = 0; ty->p_stack && i < ty->np_stacks; i++) {
		const struct met_stack_row *r = &ty->p_stack[i];
		struct pystack_frame *f = buf->frames[w->nstacks];

		if (w->nstacks == MET_WINDOW_STACKS) {
			w->stacks_other += r->collections;
			continue;
		}
		for (int k = 0; k < r->nframes; k++)
			f[k] = (struct pystack_frame){ r->f[k].file, r->f[k].function, r->f[k].line };
		buf->stacks[w->nstacks++] = (struct gc_window_stack){ f, r->nframes, r->truncated, r->collections,
								      r->pause_ns };
	}
}

void met_types_commit(struct metrics *m, struct met_target *t, met_pair_fn fn, void *ctx)
{
	struct met_types *ty = t->types;

	if (!ty)
		return;
	sort_pending(ty);
	if (fn) {
		for (int i = 0; i < ty->np_pairs; i++)
			fn(&ty->p_pair[i], ctx);
		if (ty->p_pair_other.n)
			fn(&ty->p_pair_other, ctx);
	}
	pthread_mutex_lock(&m->mu);
	for (int i = 0; i < ty->np_types; i++) {
		const struct met_type_row *p = &ty->p_type[i];
		struct met_type_row *r = NULL;

		for (int j = 0; j < ty->nslots && !r; j++)
			if (!strcmp(ty->slot[j].name, p->name))
				r = &ty->slot[j];
		if (!r && ty->nslots < ty->top) {
			r = &ty->slot[ty->nslots++];
			memset(r, 0, sizeof(*r));
			strcpy(r->name, p->name);
		}
		add_row(r ? r : &ty->other, p);
	}
	add_row(&ty->other, &ty->p_other);
	for (int g = 0; g < MET_TGEN; g++)
		ty->collections[g] += ty->p_collections[g];
	ty->objects_seen += ty->p_seen;
	ty->capped += ty->p_capped;
	for (int i = 0; i < ty->np_pairs; i++) {
		const struct met_pair_row *p = &ty->p_pair[i];
		struct met_pair_row *r = find_pair(ty->pair, ty->npairs, p->type, p->owner, p->thread);

		if (!r && ty->npairs < MET_PAIRS_MAX) {
			r = &ty->pair[ty->npairs++];
			*r = *p;
			r->n = 0;
		}
		(r ? r : &ty->pair_other)->n += p->n;
	}
	ty->pair_other.n += ty->p_pair_other.n;
	ty->findings += ty->p_findings;
	ty->owners_unknown += ty->p_owners_unknown;
	pthread_mutex_unlock(&m->mu);

	ty->np_types = 0;
	memset(&ty->p_other.n, 0, sizeof(ty->p_other.n));
	memset(ty->p_collections, 0, sizeof(ty->p_collections));
	ty->p_seen = ty->p_capped = 0;
	ty->np_pairs = 0;
	ty->p_pair_other.n = 0;
	ty->p_findings = ty->p_owners_unknown = 0;
	ty->np_stacks = 0;
	ty->p_stack_other = ty->p_no_stack = 0;
}

void met_types_budget(struct metrics *m, struct met_target *t, uint64_t walk_ns, uint64_t wall_ns, uint64_t run,
		      uint64_t cut, uint64_t skipped, bool active)
{
	struct met_types *ty = t->types;

	if (!ty)
		return;
	pthread_mutex_lock(&m->mu);
	ty->walk_ns = walk_ns;
	ty->wall_ns = wall_ns;
	ty->windows_run = run;
	ty->windows_cut = cut;
	ty->windows_skipped = skipped;
	ty->active = active;
	pthread_mutex_unlock(&m->mu);
}
