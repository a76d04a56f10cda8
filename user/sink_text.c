// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The text sink: the attach banner, one line per collection (with its stack,
 * types and findings under it), and the exit summary with bcc-style log2
 * histograms.  Columns fit 80; every name was cleaned for a terminal by the
 * correlator.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fatal.h"
#include "objects.h"
#include "pystack.h"
#include "sink.h"
#include "stats.h"

static void text_attach(struct sink *s, const struct gc_attach *a)
{
	FILE *f = s->cfg.out;

	fprintf(f, "Tracing GC of pid %u (%s, CPython %s) via %s. Hit Ctrl-C to end.\n", a->pid, a->comm,
		a->python, a->probe);
	if (!a->counts)
		fprintf(f, "(collected/uncollectable split unavailable: %s)\n", a->counts_why);
	fprintf(f, "%-12s %-7s %-15s %3s %10s %9s %6s\n", "TIME", "TID", "THREAD", "GEN", "PAUSE(ms)",
		"COLLECTED", "UNCOLL");
	fflush(f);
}

static void print_stack(FILE *f, const struct pystack_result *r)
{
	char buf[256];
	const char *err;

	if (!r) {
		fprintf(f, "    (no stack: the stack record was lost)\n");
		return;
	}
	err = pystack_error(r);
	for (int i = 0; i < r->n; i++) {
		pystack_format_line(&r->frames[i], buf, sizeof(buf), 79);
		fprintf(f, "%s\n", buf);
	}
	if (r->truncated)
		fprintf(f, "    ... (deeper than %d frames)\n", GCSCOPE_STACK_MAX);
	if (!r->n && err)
		fprintf(f, "    (no stack: %s)\n", err);
	else if (!r->n)
		fprintf(f, "    (no Python frames)\n");
}

/* "    types: Widget 40, Leaf 10 (+3 more types)", wrapped under 80. */
static void print_types(FILE *f, const struct gc_collection *c, int top)
{
	int col;

	if (!c->walked || (!c->ntypes && !c->walk_capped && !c->walk_faulted))
		return;
	col = fprintf(f, "    types:");
	for (size_t i = 0; i < c->ntypes && (int)i < top; i++) {
		char item[192];
		int len = snprintf(item, sizeof(item), " %s %llu%s", c->types[i].name,
				   (unsigned long long)c->types[i].count,
				   i + 1 < c->ntypes && (int)i + 1 < top ? "," : "");

		if (col + len > 78 && col > 10) {
			fprintf(f, "\n          ");
			col = 10;
		}
		col += fprintf(f, "%s", item);
	}
	if (c->ntypes > (size_t)top)
		fprintf(f, " (+%zu more types)", c->ntypes - (size_t)top);
	if (c->walk_capped) {
		if (c->have_counts)
			fprintf(f, "\n    (walk stopped at %llu objects of %lld collected: --max-objects)",
				(unsigned long long)c->objects_seen, (long long)c->collected);
		else
			fprintf(f, "\n    (walk stopped at %llu objects: --max-objects)",
				(unsigned long long)c->objects_seen);
	} else if (c->walk_faulted) {
		fprintf(f, "\n    (walk stopped after %llu objects: unreadable list)",
			(unsigned long long)c->objects_seen);
	}
	fputc('\n', f);
}

static const char *g_owner_name(const struct gc_finding *g)
{
	return g->owner_py_thread ? g->owner_py_thread : g->owner_thread ? g->owner_thread : "?";
}

static void print_findings(FILE *f, const struct gc_collection *c)
{
	for (size_t i = 0; i < c->nfindings && i <= 10; i++) {
		const struct gc_finding *g = &c->findings[i];

		if (i == 10) {
			fprintf(f, "  !! ... and %zu more objects destroyed off their %s thread (-j lists all)\n",
				c->nfindings - 10, g->qt || g->heap ? "owner's" : "creating");
			break;
		}
		/* the collecting thread is the collection line's, above */
		if (g->owner_exited) {
			fprintf(f, "  !! %.32s 0x%llx owned by a thread that has exited (its heap's)\n", g->type,
				(unsigned long long)g->obj);
			continue;
		}
		if (g->heap) {
			fprintf(f, "  !! %.32s 0x%llx owned by thread %u (%s), whose heap holds it\n", g->type,
				(unsigned long long)g->obj, g->owner_tid, g_owner_name(g));
			continue;
		}
		if (!g->qt) {
			fprintf(f, "  !! %.32s 0x%llx created on thread %u (%s)\n", g->type, (unsigned long long)g->obj,
				g->owner_tid, g->owner_py_thread ? g->owner_py_thread : g->owner_thread);
			continue;
		}
		/* a QObject: the thread it lives in, which Qt says must delete it */
		fprintf(f, "  !! %.32s 0x%llx lives in thread %u (%s)", g->type, (unsigned long long)g->obj, g->owner_tid,
			g->owner_py_thread ? g->owner_py_thread : g->owner_thread);
		if (g->creator_known)
			fprintf(f, ", created on thread %u (%s)\n", g->created_tid,
				g->created_py_thread ? g->created_py_thread : g->created_thread);
		else
			fputc('\n', f);
	}
	if (c->nfindings && c->stack_known && !c->stack_wanted)
		print_stack(f, c->stack);
}

static void text_collection(struct sink *s, const struct gc_collection *c)
{
	FILE *f = s->cfg.out;
	char when[40], gen[8], coll[24], unc[24];

	if (c->flags & GC_HIDDEN) {
		/* findings are shown even when --min-ms hides the collection */
		print_findings(f, c);
		fflush(f);
		return;
	}
	sink_fmt_time(c->ts_start, s->mono_to_real, when, sizeof(when), false);
	snprintf(gen, sizeof(gen), c->gen >= 0 ? "%d" : "?", c->gen);
	if (c->have_counts) {
		snprintf(coll, sizeof(coll), "%lld", (long long)c->collected);
		snprintf(unc, sizeof(unc), "%lld", (long long)c->uncollectable);
	} else if (c->have_total) {
		/* USDT gc__done gives collected + uncollectable only. */
		snprintf(coll, sizeof(coll), "%lld*", (long long)c->total);
		snprintf(unc, sizeof(unc), "-");
	} else {
		snprintf(coll, sizeof(coll), "-");
		snprintf(unc, sizeof(unc), "-");
	}
	/* the Python name where known: the kernel's is the process's on 3.9-3.13 */
	fprintf(f, "%-12s %-7u %-15.15s %3s %10.3f %9s %6s\n", when, c->tid, c->py_thread ? c->py_thread : c->thread,
		gen, c->pause_ns / 1e6, coll, unc);
	if (c->stack_wanted)
		print_stack(f, c->stack);
	if (c->types_traced)
		print_types(f, c, s->cfg.top);
	print_findings(f, c);
	fflush(f);
}

/* The collection the target died in: one block, then its stack, types and
 * findings so far. */
static void text_fatal(struct sink *s, const struct gc_fatal *fa)
{
	const struct gc_collection *c = &fa->c;
	const struct fatal_native *nat = fa->native;
	FILE *f = s->cfg.out;
	char when[40], gen[24], how[64], fn[160];
	const char *abbrev = sigabbrev_np(fa->sig);

	sink_fmt_time(c->ts_start, s->mono_to_real, when, sizeof(when), false);
	if (c->gen >= 0)
		snprintf(gen, sizeof(gen), "gen %d", c->gen);
	else
		snprintf(gen, sizeof(gen), "generation unknown");
	if (fa->exited)
		snprintf(how, sizeof(how), "exited with status %d", fa->exit_status);
	else
		snprintf(how, sizeof(how), "died of SIG%s", abbrev ? abbrev : "?");
	fprintf(f, "!! pid %u %s during a collection (%s) on thread %u (%s), %.3f ms in\n", c->pid, how, gen,
		c->tid, c->py_thread ? c->py_thread : c->thread, c->pause_ns / 1e6);
	if (fa->exited)
		fprintf(f, "   started %s\n", when);
	else if (!fa->signal_seen)
		fprintf(f, "   started %s; the signal was not seen sent\n", when);
	else if (fa->self)
		fprintf(f, "   started %s; the process raised the signal itself (abort() or a fault)\n", when);
	else
		fprintf(f, "   started %s; the signal was sent by pid %u\n", when, fa->sender);
	if (nat && nat->phase)
		fprintf(f, "   phase: %s [%.40s]\n", nat->phase_text, nat->phase_function);
	else
		fprintf(f, "   phase: unknown (no native frame names it)\n");
	if (nat && nat->in) {
		tty_clean(nat->in->function, fn, sizeof(fn));
		fprintf(f, "   in %.60s (%.60s)\n", fn, nat->in->file);
	}
	if (fa->obj_type)
		fprintf(f, "   last entered: tp_traverse of %.40s 0x%llx, %.3f ms before\n", fa->obj_type,
			(unsigned long long)fa->obj,
			fa->ts_signal > fa->ts_entered ? (fa->ts_signal - fa->ts_entered) / 1e6 : 0.0);
	if (c->stack)
		print_stack(f, c->stack);
	else
		fprintf(f, "    (no stack: %s)\n", fa->stack_why ? fa->stack_why : "unknown");
	if (fa->stack_more)
		fprintf(f, "    ... (%u outer frames not named: only the innermost %d are read at death)\n",
			fa->stack_more, GCSCOPE_FATAL_FRAMES);
	if (c->types_traced)
		print_types(f, c, s->cfg.top);
	print_findings(f, c);
	fflush(f);
}

/* A watched object traversed off its owner's thread: said at once. */
static void text_touch(struct sink *s, const struct gc_touch *t)
{
	FILE *f = s->cfg.out;

	char owner[64];

	if (t->f.owner_exited)
		snprintf(owner, sizeof(owner), "a thread that has exited");
	else
		snprintf(owner, sizeof(owner), "thread %u (%s)", t->f.owner_tid, g_owner_name(&t->f));
	fprintf(f, "  !! %.32s 0x%llx traversed by a collection on thread %u (%s), owned by %s\n", t->f.type,
		(unsigned long long)t->f.obj, t->tid, t->py_thread ? t->py_thread : t->thread, owner);
	fflush(f);
}

/* bcc's print_log2_hist, for one generation. */
static void stars(FILE *f, uint64_t val, uint64_t max, int width)
{
	int n = max ? (int)(val * width / max) : 0;
	bool more = val > max;

	if (n > width)
		n = width;
	for (int i = 0; i < n; i++)
		fputc('*', f);
	for (int i = n; i < width; i++)
		fputc(' ', f);
	if (more)
		fputc('+', f);
}

static void print_log2_hist(FILE *f, const uint64_t *vals, int n, const char *unit)
{
	int idx_max = -1;
	uint64_t max = 0;

	for (int i = 0; i < n; i++) {
		if (vals[i] > 0)
			idx_max = i;
		if (vals[i] > max)
			max = vals[i];
	}
	if (idx_max < 0)
		return;
	fprintf(f, "%*s%-*s : count    distribution\n", idx_max <= 32 ? 5 : 15, "",
		idx_max <= 32 ? 19 : 29, unit);
	for (int i = 0; i <= idx_max; i++) {
		uint64_t low = i == 0 ? 0 : (1ULL << i), high = (1ULL << (i + 1)) - 1;

		if (i == 0)
			high = 1;
		fprintf(f, "%*llu -> %-*llu : %-8llu |", idx_max <= 32 ? 10 : 20, (unsigned long long)low,
			idx_max <= 32 ? 10 : 20, (unsigned long long)high, (unsigned long long)vals[i]);
		stars(f, vals[i], max, 40);
		fputs("|\n", f);
	}
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static void print_thread(FILE *f, const struct thread_stats *t, const char *tid)
{
	fprintf(f, "%-8s %-16.16s %8llu %11.3f %9.3f %llu/%llu/%llu\n", tid, t->name, (unsigned long long)t->count,
		ms(t->total_ns), ms(t->max_ns), (unsigned long long)t->by_gen[0], (unsigned long long)t->by_gen[1],
		(unsigned long long)t->by_gen[2]);
}

static void print_stats(FILE *f, struct trace_stats *s, uint64_t wall_ns)
{
	uint64_t total = stats_total_ns(s), count = stats_count(s);

	fprintf(f, "\n%llu collections in %.3f s; GC paused threads for %.3f ms (%.3f%% of wall time)\n",
		(unsigned long long)count, wall_ns / 1e9, ms(total), wall_ns ? 100.0 * total / wall_ns : 0.0);
	for (int g = -1; g < STATS_NGEN; g++) {
		struct gen_stats *gs = g < 0 ? &s->unknown_gen : &s->gen[g];

		if (!gs->count)
			continue;
		if (g < 0)
			fprintf(f, "\ngeneration unknown: %llu collections", (unsigned long long)gs->count);
		else
			fprintf(f, "\ngen %d: %llu collections", g, (unsigned long long)gs->count);
		fprintf(f, ", total %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms%s\n", ms(gs->total_ns),
			ms(stats_percentile(gs, 50)), ms(stats_percentile(gs, 99)), ms(gs->max_ns),
			gs->samples_truncated ? " (percentiles within 1%)" : "");
		if (g >= 0 && gs->counted == gs->count)
			fprintf(f, "       collected %lld, uncollectable %lld\n", (long long)gs->collected,
				(long long)gs->uncollectable);
		else if (g >= 0 && gs->counted)
			fprintf(f, "       collected %lld, uncollectable %lld (in the %llu collections with counts)\n",
				(long long)gs->collected, (long long)gs->uncollectable,
				(unsigned long long)gs->counted);
		else if (g >= 0)
			fprintf(f, "       collected -, uncollectable - (unknown)\n");
		print_log2_hist(f, gs->hist, STATS_HIST_SLOTS, "usecs");
	}
	if (!s->nthreads)
		return;
	stats_sort_threads(s);
	fprintf(f, "\n%-8s %-16s %8s %11s %9s %s\n", "TID", "THREAD", "COUNT", "TOTAL(ms)", "MAX(ms)",
		"GEN0/1/2");
	for (uint32_t i = 0; i < s->nthreads; i++) {
		char tid[16];

		snprintf(tid, sizeof(tid), "%u", s->threads[i].tid);
		print_thread(f, &s->threads[i], tid);
	}
	if (s->threads_evicted) {
		char tid[24];

		snprintf(tid, sizeof(tid), "+%llu", (unsigned long long)s->threads_evicted);
		print_thread(f, &s->evicted, tid);
		fprintf(f, "(+%llu: the threads that paid least, evicted from the table past %u)\n",
			(unsigned long long)s->threads_evicted, STATS_MAX_THREADS);
	}
}

static void print_objects(FILE *f, const struct obj_summary *o, int top)
{
	if (o->walks) {
		fprintf(f, "\nTypes the cyclic GC destroyed (the code creating them makes cycles):\n");
		fprintf(f, "%-40s %10s %12s\n", "TYPE", "OBJECTS", "COLLECTIONS");
		for (size_t i = 0; i < o->ntypes && i < (size_t)(top > 20 ? top : 20); i++)
			fprintf(f, "%-40.40s %10llu %12llu\n", o->types[i].name, (unsigned long long)o->types[i].objects,
				(unsigned long long)o->types[i].collections);
		if (o->ntypes > 20 && top <= 20)
			fprintf(f, "(%zu more types: -j gives them all)\n", o->ntypes - 20);
		if (o->types_evicted)
			fprintf(f, "(%llu types that destroyed least were evicted from the table)\n",
				(unsigned long long)o->types_evicted);
		fprintf(f, "%llu objects walked in %llu collections", (unsigned long long)o->seen,
			(unsigned long long)o->walks);
		if (o->capped)
			fprintf(f, "; %llu walks stopped at --max-objects", (unsigned long long)o->capped);
		if (o->faults)
			fprintf(f, "; %llu stopped at an unreadable list", (unsigned long long)o->faults);
		fputc('\n', f);
	}
	if (!o->owners)
		return;
	/* a QObject's owner is the thread it lives in, not its creator */
	fprintf(f, "\nFindings: %llu objects destroyed by a collection on a thread other than "
		   "their %s\n", (unsigned long long)o->findings,
		o->heap_findings ? "owner's (the thread whose heap holds them)" :
		o->qt_findings ? "owner's (the creating thread; a QObject's: the thread it lives in)" : "creator's");
	if (o->owners_unknown)
		fprintf(f, "(not checked: %llu destroyed objects of watched types whose owner is not known, %s)\n",
			(unsigned long long)o->owners_unknown,
			o->heap_owners ? "destroyed while the interpreter finalized, or whose heap could not be read" :
					 "made before gcscope attached or by an allocator it does not hook");
	if (!o->npairs)
		return;
	fprintf(f, "%8s  %-28s %-20s %-20s\n", "COUNT", "TYPE",
		o->qt_findings || o->heap_findings ? "OWNER" : "CREATED BY",
		"DESTROYED BY");
	for (size_t i = 0; i < o->npairs; i++) {
		const struct obj_pair *p = &o->pairs[i];
		char a[40], b[40];

		if (p->owner_tid)
			snprintf(a, sizeof(a), "%u (%s)", p->owner_tid, p->owner_comm);
		else
			snprintf(a, sizeof(a), "(exited)");
		snprintf(b, sizeof(b), "%u (%s)", p->tid, p->comm);
		fprintf(f, "%8llu  %-28.28s %-20.20s %-20.20s\n", (unsigned long long)p->n, p->type, a, b);
	}
	if (o->pairs_evicted)
		fprintf(f, "(%llu more pairs with %llu findings evicted from the table)\n",
			(unsigned long long)o->pairs_evicted, (unsigned long long)o->pair_findings_evicted);
}

static void text_detach(struct sink *s, const struct gc_end *e)
{
	FILE *f = s->cfg.out;

	if (e->exit_kind == GC_EXIT_STATUS)
		fprintf(f, "\nDetaching (%s with status %d).\n", e->reason, e->exit_value);
	else if (e->exit_kind == GC_EXIT_SIGNAL)
		fprintf(f, "\nDetaching (%s: killed by signal %d, %s).\n", e->reason, e->exit_value,
			sigabbrev_np(e->exit_value) ? sigabbrev_np(e->exit_value) : "?");
	else
		fprintf(f, "\nDetaching (%s).\n", e->reason);
	print_stats(f, e->stats, e->wall_ns);
	if (e->objects)
		print_objects(f, e->objects, s->cfg.top);
	if (e->hidden)
		fprintf(f, "\n%llu collections shorter than %.3f ms were not printed (but are counted above)\n",
			(unsigned long long)e->hidden, e->min_ms);
	if (e->lost)
		fprintf(f, "\nLOST %llu collection events: the ring buffer was full\n", (unsigned long long)e->lost);
	if (e->fatal)
		fprintf(f, "\nThe target died during a collection (the block starting with \"!! pid\" above).\n");
	if (e->unpaired)
		fprintf(f, "\n%llu collections were already running when tracing started (not counted)\n",
			(unsigned long long)e->unpaired);
	fflush(f);
}

static void text_free(struct sink *s)
{
	free(s);
}

static const struct sink_ops text_ops = {
	.name = "text",
	.attach = text_attach,
	.collection = text_collection,
	.fatal = text_fatal,
	.touch = text_touch,
	.detach = text_detach,
	.free = text_free,
};

struct sink *sink_text_new(const struct sink_config *cfg)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = &text_ops;
	s->cfg = *cfg;
	return s;
}
