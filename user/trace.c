// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope trace: one line per collection of a live CPython process, and a
 * summary on exit.  Lifecycle as in bcc's libbpf-tools: open, set rodata,
 * load, attach, poll the ring buffer, detach.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcscope.h"
#include "gcscope.skel.h"
#include "common.h"
#include "json.h"
#include "launch.h"
#include "privs.h"
#include "probe.h"
#include "objects.h"
#include "pystack.h"
#include "stats.h"
#include "target.h"
#include "trace.h"

static volatile sig_atomic_t exiting;

struct trace_env {
	pid_t pid;
	char **cmd;			/* after "--" */
	double min_ms;
	double duration;
	enum probe_kind probe;
	bool no_debuginfo;
	long ringbuf_kb;
	uint64_t min_ns;
	int64_t mono_to_real;		/* add to a monotonic ns to get wall-clock ns */
	struct trace_stats stats;
	uint64_t printed, hidden;
	bool types;			/* --types */
	char *owners;			/* --owners PATTERNS */
	long top;			/* --top N */
	long max_objects;		/* --max-objects N */
	struct objtrack *ot;		/* --types/--owners state */
	pid_t pid_traced;
	int verdict_fd;
	bool stack;			/* --stack */
	struct pystack *ps;		/* its symbolizer, NULL if unavailable */
	char stack_why[256];		/* why not */
};

static struct trace_env env = {
	.probe = PROBE_AUTO,
	.ringbuf_kb = 256,
	.top = 5,
	.max_objects = 10000,
};

const char argp_trace_doc[] =
	"Trace every cyclic-GC collection of a live CPython process.\n"
	"\n"
	"USAGE: gcscope trace [OPTIONS] -p PID\n"
	"       gcscope trace [OPTIONS] -- COMMAND [ARGS...]\n"
	"\n"
	"One line per collection: time, thread id and name, generation, pause,\n"
	"objects collected and uncollectable.  On exit (Ctrl-C, SIGTERM, the\n"
	"target exiting or --duration) a summary: pauses per generation as log2\n"
	"histograms, p50/p99/max, GC share of wall time, and the threads that paid.\n"
	"\n"
	"EXAMPLES:\n"
	"    gcscope trace -p 4242              # trace a running process\n"
	"    gcscope trace -p 4242 --min-ms 5   # only show pauses of 5 ms or more\n"
	"    gcscope trace -j -p 4242           # JSON Lines (docs/json-schema.md)\n"
	"    gcscope trace --stack -p 4242      # with the collecting thread's Python stack\n"
	"    gcscope trace --types -p 4242      # which objects each collection destroyed\n"
	"    gcscope trace --owners 'Q*' -p 4242  # objects destroyed off their creating thread\n"
	"    gcscope trace -- python3 app.py    # start a program under tracing\n"
	"\n"
	"Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 no such process,\n"
	"4 not CPython, 5 no usable probe, 6 not enough privilege, 7 unsupported\n"
	"version (docs/exit-codes.md).\n";

enum {
	OPT_MIN_MS = 1000,
	OPT_DURATION,
	OPT_PROBE,
	OPT_NO_DEBUGINFO,
	OPT_RINGBUF_KB,
	OPT_STACK,
	OPT_TYPES,
	OPT_OWNERS,
	OPT_TOP,
	OPT_MAX_OBJECTS,
};

static const struct argp_option trace_opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process", 0 },
	{ "json", 'j', NULL, 0, "Print JSON Lines instead of text", 0 },
	{ "min-ms", OPT_MIN_MS, "MS", 0, "Hide collections shorter than MS milliseconds (still summarised)", 0 },
	{ "duration", OPT_DURATION, "S", 0, "Stop after S seconds", 0 },
	{ "probe", OPT_PROBE, "KIND", 0, "auto (default), usdt or uprobe", 0 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0, "Do not look for DWARF (use the built-in layout table)", 0 },
	{ "ringbuf-kb", OPT_RINGBUF_KB, "KB", 0, "Ring buffer size in KiB, a power of 2 (default 256)", 0 },
	{ "stack", OPT_STACK, NULL, 0, "Show the Python stack of the collecting thread at each collection's start (docs/stacks.md)", 0 },
	{ "types", OPT_TYPES, NULL, 0, "Report the types of the objects each collection destroys (docs/objects.md)", 0 },
	{ "owners", OPT_OWNERS, "PATTERNS", 0, "Report objects of matching types (globs on type names, or @heap) "
	  "destroyed by a collection on another thread than the one that created them", 0 },
	{ "top", OPT_TOP, "N", 0, "Types shown per collection in text output (default 5)", 0 },
	{ "max-objects", OPT_MAX_OBJECTS, "N", 0, "Objects walked per collection at most (default 10000)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output (libbpf too)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0 },
	{},
};

static error_t parse_trace_arg(int key, char *arg, struct argp_state *state)
{
	long v;

	switch (key) {
	case 'p':
		if (!parse_long(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s': give a process id, e.g. -p 4242", arg);
		env.pid = (pid_t)v;
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
	case OPT_MIN_MS:
		if (!parse_double(arg, 0, 1e9, &env.min_ms))
			argp_error(state, "invalid --min-ms '%s': give milliseconds, e.g. --min-ms 2.5", arg);
		break;
	case OPT_DURATION:
		if (!parse_double(arg, 0.001, 1e9, &env.duration))
			argp_error(state, "invalid --duration '%s': give seconds, e.g. --duration 30", arg);
		break;
	case OPT_PROBE:
		if (!strcmp(arg, "auto"))
			env.probe = PROBE_AUTO;
		else if (!strcmp(arg, "usdt"))
			env.probe = PROBE_USDT;
		else if (!strcmp(arg, "uprobe"))
			env.probe = PROBE_UPROBE;
		else
			argp_error(state, "invalid --probe '%s': use auto, usdt or uprobe", arg);
		break;
	case OPT_NO_DEBUGINFO:
		env.no_debuginfo = true;
		break;
	case OPT_STACK:
		env.stack = true;
		break;
	case OPT_TYPES:
		env.types = true;
		break;
	case OPT_OWNERS:
		env.owners = arg;
		break;
	case OPT_TOP:
		if (!parse_long(arg, 1, 1000, &env.top))
			argp_error(state, "invalid --top '%s': give a number of types from 1 to 1000", arg);
		break;
	case OPT_MAX_OBJECTS:
		if (!parse_long(arg, 1, 1 << 23, &env.max_objects))
			argp_error(state, "invalid --max-objects '%s': give a number from 1 to 8388608", arg);
		break;
	case OPT_RINGBUF_KB:
		if (!parse_long(arg, 4, 1 << 20, &v) || (v & (v - 1)))
			argp_error(state, "invalid --ringbuf-kb '%s': give a power of 2 from 4 to 1048576", arg);
		env.ringbuf_kb = v;
		break;
	case ARGP_KEY_ARG:
		/* The first non-option starts the command (after "--"). */
		env.cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!env.pid && !env.cmd)
			argp_error(state, "no target: give -p PID or -- COMMAND");
		if (env.pid && env.cmd)
			argp_error(state, "give -p PID or -- COMMAND, not both");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && g_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && !g_verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void fmt_time(uint64_t mono_ns, char *buf, size_t size, bool iso)
{
	uint64_t real = mono_ns + env.mono_to_real;
	time_t sec = real / 1000000000ULL;
	struct tm tm;

	gmtime_r(&sec, &tm);
	if (iso) {
		snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(real % 1000000000ULL / 1000));
		return;
	}
	localtime_r(&sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real % 1000000000ULL / 1000000));
}

/* A thread name from the target, printable in one column. */
/* Opens a JSON record about collection e: the fields collection and
 * finding records share (docs/json-schema.md). */
static void json_collection_head(struct jw *w, const char *type, const struct gcscope_collection *e,
				 const char *thread)
{
	char when[40];

	fmt_time(e->ts_start, when, sizeof(when), true);
	jw_init(w, stdout);
	jw_obj_begin(w);
	jw_str(w, "type", type);
	jw_str(w, "time", when);
	jw_uint(w, "ts_ns", e->ts_start);
	jw_uint(w, "pid", e->pid);
	jw_uint(w, "tid", e->tid);
	jw_str(w, "thread", thread);
	if (e->gen >= 0)
		jw_int(w, "gen", e->gen);
	else
		jw_null(w, "gen");
}

/* --owners: objects this collection destroys that another thread created.
 * Printed even when --min-ms hides the collection itself. */
static void print_findings(const struct objcoll *oc, const struct gcscope_collection *e, const char *thread,
			   const struct pystack_result *stack)
{
	char owner[GCSCOPE_COMM_LEN + 1];
	size_t n = objtrack_nfindings(oc);

	for (size_t i = 0; i < n; i++) {
		const struct gcscope_finding *f = &oc->findings[i];
		const char *tname = objtrack_type_name(env.ot, f->owner.pytype);

		memcpy(owner, f->owner.comm, GCSCOPE_COMM_LEN);
		owner[GCSCOPE_COMM_LEN] = '\0';
		tty_clean(owner, owner, sizeof(owner));
		if (g_json) {
			struct jw w;
			char addr[24];

			snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->obj);
			json_collection_head(&w, "finding", e, thread);
			jw_str(&w, "object", addr);
			jw_str(&w, "object_type", tname);
			jw_uint(&w, "owner_tid", f->owner.tid);
			jw_str(&w, "owner_thread", owner);
			jw_uint(&w, "created_ns", f->owner.ts);
			if (env.ps)
				pystack_print_json(stack, &w);
			jw_obj_end(&w);
			jw_line(&w);
		} else if (i < 10) {
			/* the collecting thread is the collection line's, above */
			printf("  !! %.32s 0x%llx created on thread %u (%s)\n", tname, (unsigned long long)f->obj,
			       f->owner.tid, owner);
		} else if (i == 10) {
			printf("  !! ... and %zu more objects destroyed off their creating thread (-j lists all)\n",
			       n - 10);
		}
	}
	if (n && !g_json && env.ps && !env.stack)
		pystack_print_text(stack, stdout);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct gcscope_collection *e = data;
	const struct pystack_result *stack = NULL;
	struct objcoll *oc = NULL;
	char name[GCSCOPE_COMM_LEN + 1], when[40];
	uint64_t pause;

	(void)ctx;
	/* --stack: the stack comes just before its collection (pystack.h). */
	if (size >= sizeof(uint32_t) && *(const uint32_t *)data == GCSCOPE_EV_STACK) {
		if (env.ps)
			pystack_stash(env.ps, data, size);
		return 0;
	}
	/* --types/--owners: their records come before their collection's. */
	if (env.ot && size >= sizeof(struct gcscope_types) && e->type == GCSCOPE_EV_TYPES) {
		objtrack_on_types(env.ot, data);
		return 0;
	}
	if (env.ot && size >= sizeof(struct gcscope_finding) && e->type == GCSCOPE_EV_FINDING) {
		const struct gcscope_finding *f = data;

		objtrack_on_finding(env.ot, f);
		/* The finding was sent mid-collection: the collecting thread's
		 * frames, and so its code objects, are alive now; by the time
		 * the collection's record comes the target may have exited. */
		if (env.ps)
			pystack_resolve(env.ps, f->tid, f->ts_start);
		return 0;
	}
	if (env.ot && size >= sizeof(struct gcscope_type_name) && e->type == GCSCOPE_EV_TYPE_NAME) {
		objtrack_on_type_name(env.ot, data);
		return 0;
	}
	if (env.ot && size >= sizeof(struct gcscope_new_type) && e->type == GCSCOPE_EV_NEW_TYPE) {
		objtrack_on_new_type(env.ot, data, env.verdict_fd);
		return 0;
	}
	if (size < sizeof(*e) || e->type != GCSCOPE_EV_COLLECTION)
		return 0;
	if (env.ps)
		stack = pystack_take(env.ps, e->tid, e->ts_start);
	if (env.ot)
		oc = objtrack_take(env.ot, e->tid, e->ts_start);
	pause = e->ts_end > e->ts_start ? e->ts_end - e->ts_start : 0;
	memcpy(name, e->comm, GCSCOPE_COMM_LEN);
	name[GCSCOPE_COMM_LEN] = '\0';
	tty_clean(name, name, sizeof(name));
	stats_add(&env.stats, e->gen, e->tid, name, pause, (e->flags & GCSCOPE_F_STATS) ? e->collected : -1,
		  (e->flags & GCSCOPE_F_STATS) ? e->uncollectable : -1);
	if (!env.stats.first_ns || e->ts_start < env.stats.first_ns)
		env.stats.first_ns = e->ts_start;
	if (e->ts_end > env.stats.last_ns)
		env.stats.last_ns = e->ts_end;
	if (pause < env.min_ns) {
		env.hidden++;
		print_findings(oc, e, name, stack);
		if (env.ot)
			objtrack_done(env.ot, oc, e->gen, name);
		return 0;
	}
	env.printed++;
	if (g_json) {
		struct jw w;

		json_collection_head(&w, "collection", e, name);
		jw_uint(&w, "pause_ns", pause);
		if (e->flags & GCSCOPE_F_STATS) {
			jw_int(&w, "collected", e->collected);
			jw_int(&w, "uncollectable", e->uncollectable);
		} else {
			jw_null(&w, "collected");
			jw_null(&w, "uncollectable");
		}
		if (e->flags & GCSCOPE_F_TOTAL_ARG)
			jw_int(&w, "unreachable", e->total_arg);
		else
			jw_null(&w, "unreachable");
		if (env.ps && env.stack)
			pystack_print_json(stack, &w);
		if (env.ot) {
			objtrack_json_fields(env.ot, oc, &w);
			jw_uint(&w, "findings", objtrack_nfindings(oc));
		}
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		char gen[8], coll[24], unc[24];

		fmt_time(e->ts_start, when, sizeof(when), false);
		snprintf(gen, sizeof(gen), e->gen >= 0 ? "%d" : "?", e->gen);
		if (e->flags & GCSCOPE_F_STATS) {
			snprintf(coll, sizeof(coll), "%lld", (long long)e->collected);
			snprintf(unc, sizeof(unc), "%lld", (long long)e->uncollectable);
		} else if (e->flags & GCSCOPE_F_TOTAL_ARG) {
			/* USDT gc__done gives collected + uncollectable only. */
			snprintf(coll, sizeof(coll), "%lld*", (long long)e->total_arg);
			snprintf(unc, sizeof(unc), "-");
		} else {
			snprintf(coll, sizeof(coll), "-");
			snprintf(unc, sizeof(unc), "-");
		}
		printf("%-12s %-7u %-15.15s %3s %10.3f %9s %6s\n", when, e->tid, name, gen, pause / 1e6,
		       coll, unc);
		if (env.ps && env.stack)
			pystack_print_text(stack, stdout);
		if (env.ot)
			objtrack_print_text(env.ot, oc, (e->flags & GCSCOPE_F_STATS) ? e->collected : -1, stdout);
	}
	print_findings(oc, e, name, stack);
	if (env.ot)
		objtrack_done(env.ot, oc, e->gen, name);
	fflush(stdout);
	return 0;
}

static uint64_t read_counter(struct gcscope_bpf *obj, enum gcscope_counter c)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(obj->maps.counters);
	uint32_t key = c;
	uint64_t sum = 0, *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(fd, &key, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

static void report_lost(uint64_t lost, uint64_t *reported)
{
	if (lost <= *reported)
		return;
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "lost");
		jw_uint(&w, "count", lost - *reported);
		jw_uint(&w, "total", lost);
		jw_obj_end(&w);
		jw_line(&w);
		fflush(stdout);
	}
	fprintf(stderr, "gcscope: lost %llu collection events (ring buffer full; total %llu): "
		"try --ringbuf-kb or --min-ms\n", (unsigned long long)(lost - *reported),
		(unsigned long long)lost);
	*reported = lost;
}

static void print_attach(const struct pytarget *t, const struct probe_plan *plan, bool launched)
{
	char v[32];

	py_version_str(t->version, v, sizeof(v));
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "attach");
		jw_uint(&w, "pid", t->pid);
		jw_str(&w, "comm", t->comm);
		jw_str(&w, "python", v);
		jw_str(&w, "version_source", t->version_source);
		jw_str(&w, "binary", t->py_inside);
		jw_str(&w, "root", t->pm.foreign_root ? t->pm.root : "/");
		jw_str(&w, "probe", probe_kind_name(plan->kind));
		jw_str(&w, "probe_detail", plan->why);
		jw_bool(&w, "counts", plan->stats);
		jw_bool(&w, "launched", launched);
		if (env.stack)
			jw_bool(&w, "stacks", env.ps != NULL);
		if (env.stack && !env.ps)
			jw_str(&w, "stacks_why", env.stack_why);
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		printf("Tracing GC of pid %d (%s, CPython %s) via %s. Hit Ctrl-C to end.\n", t->pid, t->comm, v,
		       probe_kind_name(plan->kind));
		if (!plan->stats)
			printf("(collected/uncollectable split unavailable: %s)\n", plan->stats_why);
		printf("%-12s %-7s %-15s %3s %10s %9s %6s\n", "TIME", "TID", "THREAD", "GEN", "PAUSE(ms)",
		       "COLLECTED", "UNCOLL");
	}
	fflush(stdout);
}

static void print_summary(uint64_t wall_ns, uint64_t lost, uint64_t no_start, const char *end_reason)
{
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "summary");
		jw_str(&w, "end", end_reason);
		jw_uint(&w, "lost", lost);
		jw_uint(&w, "unpaired", no_start);
		jw_uint(&w, "hidden", env.hidden);
		stats_print_json(&env.stats, &w, wall_ns);
		if (env.ot)
			objtrack_summary_json(env.ot, &w);
		jw_obj_end(&w);
		jw_line(&w);
	} else {
		printf("\nDetaching (%s).\n", end_reason);
		stats_print_text(&env.stats, stdout, wall_ns);
		if (env.ot)
			objtrack_summary_text(env.ot, stdout);
		if (env.hidden)
			printf("\n%llu collections shorter than %.3f ms were not printed (but are counted above)\n",
			       (unsigned long long)env.hidden, env.min_ms);
		if (lost)
			printf("\nLOST %llu collection events: the ring buffer was full\n", (unsigned long long)lost);
		if (no_start)
			printf("\n%llu collections were already running when tracing started (not counted)\n",
			       (unsigned long long)no_start);
	}
	fflush(stdout);
}

static struct bpf_link *site_links[GCSITE_MAX];
static struct bpf_link *alloc_links[ARRAY_SIZE(((struct probe_plan *)0)->alloc)];

/* --owners: uprobes on the tp_dealloc of watched types, by address. */
#define MAX_DEALLOC_HOOKS 64
static struct {
	uint64_t addr;
	struct bpf_link *link;
} dealloc_hooks[MAX_DEALLOC_HOOKS];
static int ndealloc_hooks;

static int hook_dealloc(uint64_t addr, void *ctx)
{
	struct gcscope_bpf *obj = ctx;
	struct procmaps pm;
	char path[PATH_MAX];
	int r = -ENOENT;

	for (int i = 0; i < ndealloc_hooks; i++)
		if (dealloc_hooks[i].addr == addr)
			return 0;
	if (ndealloc_hooks == MAX_DEALLOC_HOOKS)
		return -ENOSPC;
	if (procmaps_read(&pm, env.pid_traced))
		return -ESRCH;
	/* the file mapping with the code: libpython, the executable, or an
	 * extension module's .so */
	for (int i = 0; i < pm.n; i++) {
		const struct mapping *m = &pm.m[i];

		if (addr < m->start || addr >= m->end || m->perms[2] != 'x')
			continue;
		if (procmaps_open_path(&pm, m, path, sizeof(path)))
			break;
		dealloc_hooks[ndealloc_hooks].link = bpf_program__attach_uprobe(
			obj->progs.uprobe_dealloc, false, env.pid_traced, path, addr - m->start + m->offset);
		if (!dealloc_hooks[ndealloc_hooks].link) {
			r = -errno;
			break;
		}
		dealloc_hooks[ndealloc_hooks++].addr = addr;
		r = 0;
		break;
	}
	procmaps_free(&pm);
	return r;
}

/* --types/--owners before load: where to walk, what to watch. */
static int setup_objects(struct gcscope_bpf *obj, const struct pytarget *t, const struct probe_plan *plan)
{
	char why[512];

	if (!plan->nsites)
		return p_err(EXIT_NO_PROBE, "cannot see which objects collections destroy in pid %d: %s", t->pid,
			     plan->sites_why);
	if (env.owners && !plan->nalloc)
		return p_err(EXIT_NO_PROBE, "--owners cannot see objects being created: %s", plan->alloc_why);

	env.ot = objtrack_new(t, env.owners, (int)env.top, why, sizeof(why));
	if (!env.ot)
		return p_err(EXIT_USAGE, "%s", why);
	obj->rodata->targ_types = true;
	obj->rodata->targ_owners = env.owners != NULL;
	obj->rodata->targ_walk_cap = (uint32_t)env.max_objects;
	obj->rodata->targ_gc_head_size = pyl(&t->layout, PYL_GC_HEAD_SIZEOF);
	obj->rodata->targ_off_ob_type = pyl(&t->layout, PYL_OBJECT_OB_TYPE);
	/* the walk reads PyGC_Head and the object header up to ob_type at once */
	obj->rodata->targ_hdr_len = (uint32_t)(pyl(&t->layout, PYL_GC_HEAD_SIZEOF) +
					       pyl(&t->layout, PYL_OBJECT_OB_TYPE) + 8);
	if (obj->rodata->targ_hdr_len > 64 || pyl(&t->layout, PYL_OBJECT_OB_TYPE) % 8)
		return p_err(EXIT_UNSUPPORTED, "unexpected object header layout in %s", t->py_inside);
	obj->rodata->targ_off_tp_name = pyl(&t->layout, PYL_TYPE_TP_NAME);
	obj->rodata->targ_off_tp_flags = pyl(&t->layout, PYL_TYPE_TP_FLAGS);
	return 0;
}

/* After load: the walk's sites (each with its recipe, by cookie) and, for
 * --owners, the allocation and free hooks. */
static int attach_objects(struct gcscope_bpf *obj, const struct pytarget *t, const struct probe_plan *plan)
{
	int fd = bpf_map__fd(obj->maps.sites);

	env.verdict_fd = bpf_map__fd(obj->maps.type_verdict);
	for (int i = 0; i < plan->nsites; i++) {
		const struct gcsite *s = &plan->sites[i];
		struct gcscope_site v = {
			.kind = s->kind == GCSITE_REG ? GCSCOPE_SITE_REG :
				s->kind == GCSITE_REG_OFF ? GCSCOPE_SITE_REG_OFF : GCSCOPE_SITE_MEM,
			.regoff = (uint32_t)gcsite_pt_regs_offset(s->dwarf_reg),
			.offset = s->offset,
		};
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = (uint64_t)i);
		uint32_t key = (uint32_t)i;
		uint64_t off;

		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) ||
		    elf_vaddr_to_offset((struct elffile *)&t->elf, s->vaddr, &off))
			return p_err(EXIT_FAILURE_INTERNAL, "cannot prepare the probe at %s", s->how);
		site_links[i] = bpf_program__attach_uprobe_opts(obj->progs.uprobe_collected, t->pid, t->py_open,
							       off, &opts);
		if (!site_links[i])
			return p_err(EXIT_FAILURE_INTERNAL, "failed to attach a uprobe at %s (0x%llx): %s", s->how,
				     (unsigned long long)s->vaddr, strerror(errno));
	}
	if (!env.owners)
		return 0;
	for (int i = 0; i < plan->nalloc; i++) {
		alloc_links[i] = bpf_program__attach_uprobe(obj->progs.uprobe_alloc_return, true, t->pid, t->py_open,
							    plan->alloc[i].offset);
		if (!alloc_links[i])
			return p_err(EXIT_FAILURE_INTERNAL, "failed to attach a uretprobe to %s: %s",
				     plan->alloc[i].name, strerror(errno));
	}
	env.pid_traced = t->pid;
	objtrack_set_dealloc_hook(env.ot, hook_dealloc, obj);
	return 0;
}

static int attach(struct gcscope_bpf *obj, const struct pytarget *t, const struct probe_plan *p)
{
	struct bpf_link *l;

	if (p->kind == PROBE_USDT) {
		l = bpf_program__attach_usdt(obj->progs.usdt_gc_start, t->pid, t->py_open, "python", "gc__start", NULL);
		if (!l)
			return -errno;
		obj->links.usdt_gc_start = l;
		l = bpf_program__attach_usdt(obj->progs.usdt_gc_done, t->pid, t->py_open, "python", "gc__done", NULL);
		if (!l)
			return -errno;
		obj->links.usdt_gc_done = l;
		return 0;
	}
	l = bpf_program__attach_uprobe(obj->progs.uprobe_collect_entry, false, t->pid, t->py_open, p->func_offset);
	if (!l)
		return -errno;
	obj->links.uprobe_collect_entry = l;
	l = bpf_program__attach_uprobe(obj->progs.uprobe_collect_return, true, t->pid, t->py_open, p->func_offset);
	if (!l)
		return -errno;
	obj->links.uprobe_collect_return = l;
	return 0;
}

static bool process_gone(int pidfd, pid_t pid, bool child, bool *reaped)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	if (child) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			*reaped = true;
			return true;
		}
		return false;
	}
	if (pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(pid, 0) && errno == ESRCH;
}

static struct argp trace_argp = {
	.options = trace_opts,
	.parser = parse_trace_arg,
	.doc = argp_trace_doc,
};

int cmd_trace(int argc, char **argv)
{
	struct gcscope_bpf *obj = NULL;
	struct ring_buffer *rb = NULL;
	struct probe_plan plan;
	struct pytarget t;
	char err[PATH_MAX + 512], why[256];
	uint64_t start_ns, end_ns = 0, lost_reported = 0;
	const char *end_reason = "interrupted";
	bool launched = false, have_target = false, reaped = false;
	int code, pidfd = -1;
	pid_t pid;

	if (argp_parse(&trace_argp, argc, argv, ARGP_NO_HELP, NULL, NULL))
		return EXIT_USAGE;
	env.min_ns = (uint64_t)(env.min_ms * 1e6);
	libbpf_set_print(libbpf_print_fn);
	stats_init(&env.stats);

	if (!privs_can_trace(why, sizeof(why)))
		return p_err(EXIT_PERMISSION, "%s", why);

	if (env.cmd) {
		code = launch_until_python(env.cmd, &pid, err, sizeof(err));
		if (code)
			return p_err(code, "%s", err);
		launched = true;
	} else {
		pid = env.pid;
	}

	code = pytarget_open(&t, pid, env.no_debuginfo, err, sizeof(err));
	if (code) {
		p_err(code, "%s", err);
		goto cleanup_early;
	}
	have_target = true;
	code = probe_plan(&t, env.probe, &plan);
	if (!code && (env.types || env.owners))
		probe_plan_objects(&t, &plan);
	if (code) {
		p_err(code, "cannot trace pid %d: %s", pid, plan.missing);
		goto cleanup_early;
	}
	p_debug("probe: %s; counts: %s", plan.why, plan.stats_why);
	/* The layout and the probe are resolved: the parsed DWARF (tens of MiB
	 * for a -dbg build) is not needed while tracing. */
	dwarfinfo_close(t.dwarf);
	t.dwarf = NULL;

	if (signal(SIGINT, sig_handler) == SIG_ERR || signal(SIGTERM, sig_handler) == SIG_ERR) {
		code = p_err(EXIT_FAILURE_INTERNAL, "cannot set signal handler: %s", strerror(errno));
		goto cleanup_early;
	}

	obj = gcscope_bpf__open();
	if (!obj) {
		code = p_err(EXIT_FAILURE_INTERNAL, "failed to open BPF object: %s", strerror(errno));
		goto cleanup;
	}
	obj->rodata->targ_tgid = pid;
	obj->rodata->targ_have_stats = plan.stats;
	obj->rodata->targ_runtime = t.runtime_addr;
	if (plan.stats) {
		obj->rodata->targ_off_interp_main = pyl(&t.layout, PYL_RUNTIME_INTERPRETERS_MAIN);
		obj->rodata->targ_off_interp_gc = pyl(&t.layout, PYL_INTERP_GC);
		obj->rodata->targ_off_gen_stats = pyl(&t.layout, PYL_GC_GENERATION_STATS);
		obj->rodata->targ_stats_stride = pyl(&t.layout, PYL_GC_STATS_SIZEOF);
	}
	/* --owners reports the collecting thread's stack with each finding. */
	if (env.stack || env.owners) {
		/* Without a usable layout: say why once, trace without stacks. */
		if (!pystack_configure(obj, &t, env.stack_why, sizeof(env.stack_why)))
			env.ps = pystack_new(&t, env.stack_why, sizeof(env.stack_why));
		if (!env.ps) {
			obj->rodata->targ_stack = false;
			p_warn("no Python stacks: %s", env.stack_why);
		}
	}
	if (env.types || env.owners) {
		code = setup_objects(obj, &t, &plan);
		if (code)
			goto cleanup;
	}
	obj->rodata->targ_gen_in_parm2 = plan.gen_in_parm2;
	obj->rodata->targ_ret_is_total = plan.ret_is_total;
	bpf_map__set_max_entries(obj->maps.events, (uint32_t)env.ringbuf_kb * 1024);
	/* a quarter of the buffer: early enough never to lose events to a
	 * sleeping reader, late enough to batch (see bpf/gcscope.bpf.c) */
	obj->rodata->targ_wakeup_bytes = (uint64_t)env.ringbuf_kb * 1024 / 4;
	bpf_program__set_autoload(obj->progs.usdt_gc_start, plan.kind == PROBE_USDT);
	bpf_program__set_autoload(obj->progs.usdt_gc_done, plan.kind == PROBE_USDT);
	bpf_program__set_autoload(obj->progs.uprobe_collect_entry, plan.kind == PROBE_UPROBE);
	bpf_program__set_autoload(obj->progs.uprobe_collect_return, plan.kind == PROBE_UPROBE);
	bpf_program__set_autoload(obj->progs.uprobe_collected, env.ot != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_alloc_return, env.owners != NULL);
	bpf_program__set_autoload(obj->progs.uprobe_dealloc, env.owners != NULL);

	if (gcscope_bpf__load(obj)) {
		code = p_err(EXIT_FAILURE_INTERNAL, "failed to load BPF programs: %s (run with -v for details)",
			     strerror(errno));
		goto cleanup;
	}
	code = attach(obj, &t, &plan);
	if (code) {
		code = p_err(EXIT_FAILURE_INTERNAL, "failed to attach %s probes to %s: %s",
			     probe_kind_name(plan.kind), t.py_open, strerror(-code));
		goto cleanup;
	}
	if (env.ot) {
		code = attach_objects(obj, &t, &plan);
		if (code)
			goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(obj->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		code = p_err(EXIT_FAILURE_INTERNAL, "failed to create ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	if (!launched)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	env.mono_to_real = (int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC));
	print_attach(&t, &plan, launched);
	start_ns = now_ns(CLOCK_MONOTONIC);
	if (env.duration > 0)
		end_ns = start_ns + (uint64_t)(env.duration * 1e9);
	if (launched)
		launch_release(pid);

	while (!exiting) {
		int r = ring_buffer__poll(rb, 100);

		if (r < 0 && r != -EINTR) {
			code = p_err(EXIT_FAILURE_INTERNAL, "error polling ring buffer: %s", strerror(-r));
			break;
		}
		/* ring_buffer__poll() only reads a ring epoll reported, and BPF
		 * submits most records without a wakeup: read what is there. */
		if (r == 0)
			ring_buffer__consume(rb);
		report_lost(read_counter(obj, GCSCOPE_CNT_LOST), &lost_reported);
		if (end_ns && now_ns(CLOCK_MONOTONIC) >= end_ns) {
			end_reason = "duration elapsed";
			break;
		}
		if (process_gone(pidfd, pid, launched, &reaped)) {
			end_reason = "target exited";
			break;
		}
	}
	if (exiting)
		end_reason = "signal";
	/* What the target wrote before it exited, or before the signal. */
	ring_buffer__consume(rb);
	report_lost(read_counter(obj, GCSCOPE_CNT_LOST), &lost_reported);
	print_summary(now_ns(CLOCK_MONOTONIC) - start_ns, read_counter(obj, GCSCOPE_CNT_LOST),
		      read_counter(obj, GCSCOPE_CNT_NO_START), end_reason);
	if (read_counter(obj, GCSCOPE_CNT_STATS_FAULT))
		p_warn("generation_stats could not be read %llu times: counts may be missing",
		       (unsigned long long)read_counter(obj, GCSCOPE_CNT_STATS_FAULT));

cleanup:
	ring_buffer__free(rb);
	for (int i = 0; i < GCSITE_MAX; i++)
		bpf_link__destroy(site_links[i]);
	for (size_t i = 0; i < ARRAY_SIZE(alloc_links); i++)
		bpf_link__destroy(alloc_links[i]);
	for (int i = 0; i < ndealloc_hooks; i++)
		bpf_link__destroy(dealloc_hooks[i].link);
	gcscope_bpf__destroy(obj);
	objtrack_free(env.ot);
	env.ot = NULL;
	pystack_free(env.ps);
	env.ps = NULL;
cleanup_early:
	if (pidfd >= 0)
		close(pidfd);
	if (launched) {
		/* Still stopped if we failed before letting it go: it is ours, end it. */
		if (code) {
			kill(pid, SIGKILL);
			launch_release(pid);
		}
		/* Reap it if it is done; one that ignores our SIGINT is left
		 * running, as it would be without us. */
		if (!reaped)
			waitpid(pid, NULL, code ? 0 : WNOHANG);
	}
	if (have_target)
		pytarget_close(&t);
	stats_free(&env.stats);
	return code;
}
