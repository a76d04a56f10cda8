// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope stats: a target's own GC counters (and, 3.15+, its per-collection
 * records), read from outside without BPF (user/gcstats.h).
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "gcstats.h"
#include "json.h"
#include "target.h"
#include "trace.h"

static struct {
	pid_t pid;
	bool no_debuginfo;
	bool records;
	long follow_ms;
	double duration;
} senv;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char stats_doc[] =
	"Print a CPython process's own GC counters, read from its memory without BPF.\n"
	"\n"
	"USAGE: gcscope stats [-j] [--records] [--follow MS [--duration S]] -p PID\n"
	"\v"
	"The counters are the ones the target's gc.get_stats() shows, per\n"
	"generation.  Reading them needs only the right to read the target's\n"
	"memory (the same user, or root): no CAP_BPF.  From CPython 3.15 the\n"
	"interpreter also keeps its last collections' records (11 of generation 0,\n"
	"3 of each other): --records prints those it still holds, --follow polls\n"
	"them every MS milliseconds and prints each new one, with the number of\n"
	"collections the rings overwrote before they were read.\n"
	"\n"
	"EXAMPLES:\n"
	"    gcscope stats -p 4242               # per generation: collections, ...\n"
	"    gcscope stats -j -p 4242            # the same as one JSON object\n"
	"    gcscope stats --records -p 4242     # 3.15+: and the records held\n"
	"    gcscope stats -j --follow 100 --duration 10 -p 4242\n";

enum { OPT_NO_DEBUGINFO = 1000, OPT_RECORDS, OPT_FOLLOW, OPT_DURATION };

static const struct argp_option stats_opts[] = {
	{ "pid", 'p', "PID", 0, "The process to read", 0 },
	{ "json", 'j', NULL, 0, "Print JSON Lines", 0 },
	{ "records", OPT_RECORDS, NULL, 0, "3.15+: also the per-collection records the target still holds", 0 },
	{ "follow", OPT_FOLLOW, "MS", 0, "3.15+: poll the records every MS milliseconds, print the new ones", 0 },
	{ "duration", OPT_DURATION, "S", 0, "With --follow: stop after S seconds", 0 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0, "Do not look for DWARF (table and _Py_DebugOffsets only)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", 0 },
	{},
};

static error_t parse_stats_arg(int key, char *arg, struct argp_state *state)
{
	long v;

	switch (key) {
	case 'p':
		if (!parse_long(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s': give a process id, e.g. -p 4242", arg);
		senv.pid = (pid_t)v;
		break;
	case 'j':
		g_json = true;
		break;
	case 'v':
		g_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_NO_DEBUGINFO:
		senv.no_debuginfo = true;
		break;
	case OPT_RECORDS:
		senv.records = true;
		break;
	case OPT_FOLLOW:
		if (!parse_long(arg, 1, 3600000, &v))
			argp_error(state, "invalid --follow '%s': give milliseconds, e.g. --follow 100", arg);
		senv.follow_ms = v;
		break;
	case OPT_DURATION:
		if (!parse_double(arg, 0.001, 1e9, &senv.duration))
			argp_error(state, "invalid --duration '%s': give seconds, e.g. --duration 30", arg);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!senv.pid)
			argp_error(state, "no target: give -p PID");
		if (senv.duration > 0 && !senv.follow_ms)
			argp_error(state, "--duration goes with --follow");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct argp stats_argp = {
	.options = stats_opts,
	.parser = parse_stats_arg,
	.doc = stats_doc,
};

static void print_counters(const struct pytarget *t, const struct gcstats *s, const char *how)
{
	char v[32];

	py_version_str(t->version, v, sizeof(v));
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "stats");
		jw_uint(&w, "pid", t->pid);
		jw_str(&w, "comm", t->comm);
		jw_str(&w, "python", v);
		jw_str(&w, "tier", "memory");
		jw_str(&w, "detail", how);
		jw_key_arr(&w, "generations");
		for (int g = 0; g < s->ngen; g++) {
			jw_obj_begin(&w);
			jw_int(&w, "generation", g);
			if (s->gen[g].known) {
				jw_uint(&w, "collections", s->gen[g].collections);
				jw_uint(&w, "collected", s->gen[g].collected);
				jw_uint(&w, "uncollectable", s->gen[g].uncollectable);
			} else {
				jw_null(&w, "collections");
				jw_null(&w, "collected");
				jw_null(&w, "uncollectable");
			}
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_line(&w);
		return;
	}
	p_line("gcscope stats: pid %d (%s), CPython %s: %s", t->pid, t->comm, v, how);
	p_line("%-4s %12s %12s %14s", "GEN", "COLLECTIONS", "COLLECTED", "UNCOLLECTABLE");
	for (int g = 0; g < s->ngen; g++) {
		if (s->gen[g].known)
			p_line("%-4d %12llu %12llu %14llu", g, (unsigned long long)s->gen[g].collections,
			       (unsigned long long)s->gen[g].collected, (unsigned long long)s->gen[g].uncollectable);
		else
			p_line("%-4d %12s %12s %14s", g, "-", "-", "-");
	}
}

struct rec_ctx {
	uint64_t given;
};

static int print_record(const struct gc_collection *c, void *p)
{
	const struct gcstats_item *it = (const struct gcstats_item *)c;	/* c is an item's first member */
	struct rec_ctx *x = p;

	x->given++;
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "record");
		jw_uint(&w, "pid", c->pid);
		jw_int(&w, "generation", c->gen);
		jw_uint(&w, "collections", (uint64_t)it->rec.collections);
		jw_uint(&w, "ts_start", c->ts_start);
		jw_uint(&w, "ts_end", c->ts_end);
		jw_uint(&w, "pause_ns", c->pause_ns);
		if (it->duration_s >= 0)
			jw_double(&w, "duration_s", it->duration_s);
		else
			jw_null(&w, "duration_s");
		if (c->have_counts) {
			jw_int(&w, "collected", c->collected);
			jw_int(&w, "uncollectable", c->uncollectable);
		} else {
			jw_null(&w, "collected");
			jw_null(&w, "uncollectable");
		}
		jw_int_known(&w, "candidates", c->have_candidates, c->candidates);
		jw_int_known(&w, "heap_size", c->have_heap_size, c->heap_size);
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		char col[24] = "-", unc[24] = "-", cand[24] = "-";

		if (c->have_counts) {
			snprintf(col, sizeof(col), "%lld", (long long)c->collected);
			snprintf(unc, sizeof(unc), "%lld", (long long)c->uncollectable);
		}
		if (c->have_candidates)
			snprintf(cand, sizeof(cand), "%lld", (long long)c->candidates);
		p_line("record gen %d  #%lld  start %llu  pause %.3f ms  collected %s  uncollectable %s  candidates %s",
		       c->gen, (long long)it->rec.collections, (unsigned long long)c->ts_start, c->pause_ns / 1e6,
		       col, unc, cand);
	}
	fflush(stdout);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int follow(const struct pytarget *t, struct gcstats_ring *r, struct rec_ctx *x, uint64_t *missed,
		  const char **why, char *err, size_t errsz)
{
	uint64_t end = senv.duration > 0 ? now_ns() + (uint64_t)(senv.duration * 1e9) : 0;
	struct timespec gap = { senv.follow_ms / 1000, (senv.follow_ms % 1000) * 1000000L };

	if (signal(SIGINT, on_signal) == SIG_ERR || signal(SIGTERM, on_signal) == SIG_ERR) {
		snprintf(err, errsz, "cannot set signal handler: %s", strerror(errno));
		return EXIT_FAILURE_INTERNAL;
	}
	*why = "signal";
	while (!stop) {
		int code;

		nanosleep(&gap, NULL);
		code = gcstats_ring_poll(r, print_record, x, missed, err, errsz);
		if (code == EXIT_NO_PROCESS) {
			*why = "target exited";
			return EXIT_OK;
		}
		if (code)
			return code;
		if (end && now_ns() >= end) {
			*why = "duration elapsed";
			break;
		}
	}
	(void)t;
	return EXIT_OK;
}

int cmd_stats(int argc, char **argv)
{
	char err[PATH_MAX + 512], how[256];
	struct gcstats_ring *ring = NULL;
	struct rec_ctx x = { 0 };
	uint64_t missed = 0;
	const char *why = NULL;
	struct gcstats s;
	struct pytarget t;
	int code;

	if (argp_parse(&stats_argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	code = pytarget_open(&t, senv.pid, senv.no_debuginfo, err, sizeof(err));
	if (code)
		return p_err(code, "%s", err);
	if (!gcstats_available(&t, how, sizeof(how)))
		how[0] = '\0';
	code = gcstats_read(&t, &s, err, sizeof(err));
	if (code)
		goto fail;
	print_counters(&t, &s, how);
	fflush(stdout);		/* a reader of a pipe sees the counters before any record */
	if (senv.records || senv.follow_ms) {
		code = gcstats_ring_open(&t, &ring, err, sizeof(err));
		if (code)
			goto fail;
		if (senv.records) {
			gcstats_ring_rewind(ring);
			code = gcstats_ring_poll(ring, print_record, &x, &missed, err, sizeof(err));
			if (code)
				goto fail;
		}
		if (senv.follow_ms) {
			code = follow(&t, ring, &x, &missed, &why, err, sizeof(err));
			if (code)
				goto fail;
		}
		if (g_json) {
			struct jw w;

			jw_init(&w, stdout);
			jw_obj_begin(&w);
			jw_str(&w, "type", "end");
			jw_str(&w, "reason", why ? why : "records read");
			jw_uint(&w, "records", x.given);
			jw_uint(&w, "missed", missed);
			jw_obj_end(&w);
			jw_line(&w);
		} else {
			p_line("%llu records, %llu collections overwritten before they were read",
			       (unsigned long long)x.given, (unsigned long long)missed);
		}
	}
	gcstats_ring_close(ring);
	pytarget_close(&t);
	return EXIT_OK;
fail:
	gcstats_ring_close(ring);
	pytarget_close(&t);
	return p_err(code, "%s", err);
}
