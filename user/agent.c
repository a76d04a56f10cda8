// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope agent: an always-on daemon (docs/agent.md).  One tracer
 * (user/tracer.h) per target, all in one event loop: their ring buffers
 * joined in one libbpf ring_buffer (ring_buffer__add), each record reaching
 * its own tracer's correlator and, through the metrics sink
 * (user/sink_metrics.c), its target's counters (user/metrics.h), which the
 * HTTP thread serves (user/httpd.c, user/prom.c).  Targets come from -p,
 * and from scans of /proc (user/discover.h) for --match and --all.
 *
 * libbpf has no ring_buffer__remove(): when a target goes, its tracer is
 * closed and the shared ring_buffer is made again from the tracers left,
 * before the next poll (a ring of a freed tracer is never read).
 */
#define _GNU_SOURCE
#include <argp.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agentconf.h"
#include "attacher.h"
#include "common.h"
#include "discover.h"
#include "httpd.h"
#include "met_types.h"
#include "memtier.h"
#include "metrics.h"
#include "otlp.h"
#include "privs.h"
#include "procmaps.h"
#include "sink.h"
#include "target.h"
#include "tracer.h"
#include "typewin.h"

/* Between housekeeping passes (lost events, exited targets): a busy ring
 * wakes the loop far more often. */
#define HOUSEKEEPING_NS (100ULL * 1000000ULL)

static volatile sig_atomic_t exiting, reload_wanted;

struct agent_target {
	pid_t pid;
	/* its attach: the tracer, its sinks (the correlator points to them),
	 * its series (owned by the metrics once published), exe and comm
	 * (for --match at a reload) */
	struct attach_job *job;
	uint64_t start_ns;
	struct typewin tw;		/* its type windows (user/typewin.h) */
	uint64_t tw_walk0;		/* the walks' total when the open window opened */
	uint64_t next_poll_ns;		/* memory tier: the next read */
	struct agent_target *next;
};

/* A flag of the command line, replayed over the --config file at each load. */
struct cli_opt {
	const char *key;
	const char *value;
};

#define MAX_CLI 4096

static struct agent {
	struct agentconf conf;
	const char *config;		/* --config FILE */
	struct cli_opt cli[MAX_CLI];
	int ncli;
	struct metrics *m;
	struct httpd *http;
	struct otlp *otlp;		/* --otlp-endpoint: NULL when off */
	struct ring_buffer *rb;
	bool rb_stale;
	struct discover *disc;
	struct attacher *att;
	unsigned scans;			/* of /proc, since the start or the last reload */
	struct agent_target *targets;
	int ntargets;
	/* the --owners values given since the start: a tracer keeps the one
	 * it was opened with, past a reload that frees the configuration's */
	char *owners_kept[64];
	int nowners_kept;
	bool bpf_ok;			/* the agent may use BPF at all */
	/* --jsonl's stream, or NULL: every JSON sink writes to it.  Its fd is
	 * the agent's own (stdout's a dup of fd 1), so that a reopen can put
	 * another file under the same FILE (jsonl_reopen()). */
	FILE *jsonl;
	char *jsonl_path;		/* what it writes to now ("-": stdout) */
} A;

const char argp_agent_doc[] =
	"Watch many CPython processes and serve their GC metrics over HTTP.\n"
	"\n"
	"USAGE: gcscope agent [OPTIONS] (-p PID... | --match GLOB... | --all)\n"
	"       gcscope agent --config FILE\n"
	"\n"
	"Serves Prometheus text (OpenMetrics when asked) at http://ADDR:PORT/metrics:\n"
	"python_gc_collections_total, python_gc_objects_collected_total,\n"
	"python_gc_objects_uncollectable_total by generation (the names of\n"
	"prometheus_client's GC collector), the python_gc_duration_seconds\n"
	"histogram, per-thread pause totals and the agent's own metrics.  With\n"
	"--types-every S, a window of trace --types every S seconds per target,\n"
	"within --budget percent of its time: the top --top types collections\n"
	"destroyed (gcscope_gc_destroyed_objects_total) and, with --owners,\n"
	"objects destroyed off their owner thread.  SIGHUP\n"
	"reloads --config FILE, SIGTERM detaches from every target and exits.\n"
	"With --otlp-endpoint URL, also pushes them over OTLP/HTTP (JSON):\n"
	"cpython.gc.collections, cpython.gc.collected_objects,\n"
	"cpython.gc.uncollectable_objects, the cpython.gc.duration histogram.\n"
	"Where BPF cannot be used (no CAP_BPF, BPF refused) or with --tier memory,\n"
	"a target's own counters are read from its memory instead (label\n"
	"tier=\"memory\"; pauses from 3.15 on).  --jsonl writes its collections\n"
	"and findings as JSON Lines, as gcscope trace -j does; SIGHUP reopens it\n"
	"(log rotation).\n"
	"\v"
	"EXAMPLES:\n"
	"  gcscope agent --all                 # every CPython process of the host\n"
	"  gcscope agent -p 4242 -p 4243       # these two\n"
	"  gcscope agent --match 'gunicorn*'   # by executable or comm\n"
	"  gcscope agent --all --listen 0.0.0.0:9464  # reachable from elsewhere\n"
	"  gcscope agent --config /etc/gcscope/agent.conf\n"
	"  gcscope agent --all --otlp-endpoint http://127.0.0.1:4318/v1/metrics\n"
	"  gcscope agent --all --tier memory   # no BPF: counters from memory\n"
	"  gcscope agent -p 4242 --jsonl -     # and JSON Lines on stdout\n"
	"\n"
	"Every option is also a line of the --config file, under its long name\n"
	"(\"all = true\", \"pid = 4242\", \"listen = 127.0.0.1:9464\"); flags come\n"
	"after the file's lines (docs/agent.md).\n"
	"\n"
	"Exit codes: 0 ok (SIGTERM), 1 runtime failure, 2 usage (a bad option,\n"
	"--config line, --otlp-endpoint URL or an unwritable --jsonl), 6 not\n"
	"enough privilege (--tier bpf), 10 cannot\n"
	"listen (docs/exit-codes.md).\n";

enum {
	OPT_MATCH = 1000,
	OPT_ALL,
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_SCAN_INTERVAL,
	OPT_RINGBUF_KB,
	OPT_PROBE,
	OPT_NO_DEBUGINFO,
	OPT_TYPES_EVERY,
	OPT_TYPES_WINDOW,
	OPT_BUDGET,
	OPT_TOP,
	OPT_MAX_OBJECTS,
	OPT_OWNERS,
	OPT_WINDOW_STACKS,
	OPT_OTLP_ENDPOINT,
	OPT_OTLP_INTERVAL,
	OPT_TIER,
	OPT_STATS_INTERVAL,
	OPT_JSONL,
};

static const struct argp_option agent_opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process (repeatable)", 0 },
	{ "match", OPT_MATCH, "GLOB", 0, "Trace CPython processes whose executable (path or name) or comm "
	  "matches GLOB (repeatable)", 0 },
	{ "all", OPT_ALL, NULL, 0, "Trace every CPython process, and each new one within 2 s", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Serve /metrics there (default " AGENT_DEFAULT_LISTEN ")", 0 },
	{ "otlp-endpoint", OPT_OTLP_ENDPOINT, "URL", 0, "Also push the metrics there over OTLP/HTTP (JSON)", 0 },
	{ "otlp-interval", OPT_OTLP_INTERVAL, "S", 0, "Seconds between OTLP pushes (default 10)", 0 },
	{ "config", OPT_CONFIG, "FILE", 0, "Read options from FILE (again at SIGHUP)", 0 },
	{ "scan-interval", OPT_SCAN_INTERVAL, "S", 0, "Seconds between scans of /proc (default 0.5, at most 1)", 0 },
	{ "ringbuf-kb", OPT_RINGBUF_KB, "KB", 0, "Ring buffer per target in KiB, a power of 2 (default 64; "
	  "a build's shared BPF object has one of 16 times this)", 0 },
	{ "probe", OPT_PROBE, "KIND", 0, "auto (default), usdt or uprobe", 0 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0, "Do not look for DWARF (use the built-in layout table)", 0 },
	{ "types-every", OPT_TYPES_EVERY, "S", 0, "A window of --types every S seconds per target (default 0: "
	  "none)", 0 },
	{ "types-window", OPT_TYPES_WINDOW, "S", 0, "Seconds a window lasts (default 1)", 0 },
	{ "budget", OPT_BUDGET, "PCT", 0, "At most PCT percent of a target's time in the windows' walks, as "
	  "they measure it (default 1)", 0 },
	{ "top", OPT_TOP, "K", 0, "Types with their own series per target, the rest type=\"other\" (default 10)",
	  0 },
	{ "max-objects", OPT_MAX_OBJECTS, "N", 0, "Objects a walk looks at, at most (default 10000)", 0 },
	{ "owners", OPT_OWNERS, "PATTERNS", 0, "In windows, objects of these types destroyed off the thread that "
	  "made them (as trace --owners)", 0 },
	{ "window-stacks", OPT_WINDOW_STACKS, NULL, 0, "In windows, the Python stacks that ran the collections: "
	  "the most frequent in each window's JSON Lines record", 0 },
	{ "tier", OPT_TIER, "TIER", 0, "auto (default: BPF, else memory), bpf, or memory (no BPF: the "
	  "target's own counters; also called stats)", 0 },
	{ "stats-interval", OPT_STATS_INTERVAL, "S", 0, "Seconds between reads of a memory-tier target "
	  "(default 0.1)", 0 },
	{ "jsonl", OPT_JSONL, "FILE", 0, "Also write collections and findings as JSON Lines to FILE "
	  "(appended; - for stdout)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output (libbpf too)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	{},
};

static const char *opt_key(int key)
{
	switch (key) {
	case 'p': return "pid";
	case OPT_MATCH: return "match";
	case OPT_ALL: return "all";
	case OPT_LISTEN: return "listen";
	case OPT_SCAN_INTERVAL: return "scan-interval";
	case OPT_RINGBUF_KB: return "ringbuf-kb";
	case OPT_PROBE: return "probe";
	case OPT_NO_DEBUGINFO: return "no-debuginfo";
	case OPT_TYPES_EVERY: return "types-every";
	case OPT_TYPES_WINDOW: return "types-window";
	case OPT_BUDGET: return "budget";
	case OPT_TOP: return "top";
	case OPT_MAX_OBJECTS: return "max-objects";
	case OPT_OWNERS: return "owners";
	case OPT_WINDOW_STACKS: return "window-stacks";
	case OPT_OTLP_ENDPOINT: return "otlp-endpoint";
	case OPT_OTLP_INTERVAL: return "otlp-interval";
	case OPT_TIER: return "tier";
	case OPT_STATS_INTERVAL: return "stats-interval";
	case OPT_JSONL: return "jsonl";
	case 'v': return "verbose";
	default: return NULL;
	}
}

static error_t parse_agent_arg(int key, char *arg, struct argp_state *state)
{
	static struct agentconf scratch;
	static bool scratch_init;
	const char *k = opt_key(key);
	char why[512];

	if (!scratch_init) {
		agentconf_init(&scratch);
		scratch_init = true;
	}
	if (k) {
		/* checked now, applied after the --config file's lines */
		if (agentconf_set(&scratch, k, arg, why, sizeof(why)))
			argp_error(state, "%s", why);
		if (A.ncli == MAX_CLI)
			argp_error(state, "too many options");
		A.cli[A.ncli++] = (struct cli_opt){ k, arg };
		if (key == 'v')
			g_verbose++;
		return 0;
	}
	switch (key) {
	case OPT_CONFIG:
		A.config = arg;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		agentconf_free(&scratch);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct argp agent_argp = {
	.options = agent_opts,
	.parser = parse_agent_arg,
	.doc = argp_agent_doc,
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_wanted = 1;
	else
		exiting = 1;
}

/* libbpf's own lines only with -v: a target that exits in the middle of
 * its attach would give three lines (two of libbpf's) instead of one. */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The configuration: the file's lines, then the flags. */
static int build_conf(struct agentconf *c, char *why, size_t size)
{
	int code;

	agentconf_init(c);
	if (A.config && (code = agentconf_load(c, A.config, why, size)))
		return code;
	for (int i = 0; i < A.ncli; i++)
		if (agentconf_set(c, A.cli[i].key, A.cli[i].value, why, size))
			return EXIT_USAGE;
	if (c->owners && !(c->types_every > 0)) {
		snprintf(why, size, "owners works in type windows: give types-every S too (e.g. --types-every 60)");
		return EXIT_USAGE;
	}
	if (c->window_stacks && !(c->types_every > 0)) {
		snprintf(why, size, "window-stacks works in type windows: give types-every S too (e.g. "
			 "--types-every 60)");
		return EXIT_USAGE;
	}
	if (c->otlp_endpoint[0] && otlp_check_url(c->otlp_endpoint, why, size))
		return EXIT_USAGE;
	if (!c->npids && !c->nmatch && !c->all) {
		snprintf(why, size, "no target: give -p PID, --match GLOB or --all%s", A.config ? " (or pid, match "
			 "or all in the --config file)" : "");
		return EXIT_USAGE;
	}
	return 0;
}

static struct agent_target *find_target(pid_t pid)
{
	for (struct agent_target *t = A.targets; t; t = t->next)
		if (t->pid == pid)
			return t;
	return NULL;
}

static bool pid_listed(const struct agentconf *c, pid_t pid)
{
	for (int i = 0; i < c->npids; i++)
		if (c->pids[i] == pid)
			return true;
	return false;
}

/* Does configuration c select this attach's process?  (--all took it for
 * its executable's name or for a libpython it maps: an embedder.) */
static bool selected(const struct agentconf *c, const struct attach_job *j)
{
	return pid_listed(c, j->pid) || (c->all && (j->wait_ready || discover_python_name(j->exe))) ||
	       discover_match(j->exe, j->comm, c->match, c->nmatch);
}

/* The --owners value s, kept until the agent exits (NULL for none). */
static const char *kept_owners(const char *s)
{
	if (!s)
		return NULL;
	for (int i = 0; i < A.nowners_kept; i++)
		if (!strcmp(A.owners_kept[i], s))
			return A.owners_kept[i];
	if (A.nowners_kept == (int)ARRAY_SIZE(A.owners_kept)) {
		p_warn("too many --owners values over reloads: new targets are traced without owners");
		return NULL;
	}
	A.owners_kept[A.nowners_kept] = strdup(s);
	return A.owners_kept[A.nowners_kept] ? A.owners_kept[A.nowners_kept++] : NULL;
}

/* Queue an attach to pid (the attach thread opens it: user/attacher.h).
 * wait_ready: a discovered process, maybe not started yet. */
static void attach(pid_t pid, const char *exe, const char *comm, bool wait_ready)
{
	struct attach_job *j;
	char path[64];

	if (find_target(pid) || attacher_busy(A.att, pid))
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		met_failure(A.m, MET_R_OTHER);
		p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		return;
	}
	j->pid = pid;
	j->wait_ready = wait_ready;
	j->opts = (struct tracer_opts){
		.probe = A.conf.probe,
		.no_debuginfo = A.conf.no_debuginfo,
		.ringbuf_kb = A.conf.ringbuf_kb,
		.top = 5,
		.max_objects = A.conf.max_objects,
		/* the summary record of --jsonl needs the statistics */
		.no_summary = !A.jsonl,
		.cache_plans = true,
		/* one BPF object per build (user/bpfshare.h): type windows
		 * attach and detach the walk per target, in an object of its own */
		.share = !(A.conf.types_every > 0),
	};
	if (A.conf.types_every > 0) {
		/* the walk attached in windows only (user/typewin.h) */
		j->opts.types = true;
		j->opts.walk_windowed = true;
		j->opts.owners = kept_owners(A.conf.owners);
		j->opts.window_stacks = A.conf.window_stacks;
	}
	/* without the privilege, auto is the memory tier (bpf: the attach
	 * fails, counted as permission) */
	j->tier = !A.bpf_ok && A.conf.tier == AGENT_TIER_AUTO ? AGENT_TIER_MEMORY : A.conf.tier;
	j->jsonl = A.jsonl;
	if (exe) {
		snprintf(j->exe, sizeof(j->exe), "%s", exe);
	} else {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		n = readlink(path, j->exe, sizeof(j->exe) - 1);
		j->exe[n > 0 ? n : 0] = '\0';
	}
	if (comm) {
		snprintf(j->comm, sizeof(j->comm), "%s", comm);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (read_text_file(path, j->comm, sizeof(j->comm)) < 0)
			j->comm[0] = '\0';
	}
	/* a process started since the first scan goes ahead of that scan's
	 * backlog: it is the one --all promises to attach within 2 s */
	attacher_submit(A.att, j, wait_ready && A.scans > 1);
}

static void free_job(struct attach_job *j)
{
	/* its object may be a shared one that goes with it */
	if (j->tr)
		A.rb_stale = true;
	tracer_close(j->tr, false);
	memtier_free(j->mem);
	sinks_free(&j->sinks);
	sinks_free(&j->records);
	met_target_free(j->mt);
	free(j);
}

static void rebuild_ring(void);

/* Look at the clock and the cost: open or close the window of tracer t. */
static enum typewin_step typewin_tick(struct typewin *w, struct tracer *t, uint64_t now_ns)
{
	enum typewin_step s;

	if (!w->c.every_s || w->failed || (!w->active && now_ns < w->next_ns))
		return TW_NONE;
	tracer_walk_cost(t, &w->walk_ns, &w->walks);
	s = typewin_decide(w, now_ns, w->walk_ns);
	if (s == TW_OPENED && tracer_walk(t, true)) {
		/* said; the always-on counters go on */
		w->active = false;
		w->run--;
		w->failed = true;
		return TW_NONE;
	}
	if (s == TW_CLOSED)
		tracer_walk(t, false);
	return s;
}

static void log_pair(const struct met_pair_row *r, void *ctx)
{
	const struct agent_target *at = ctx;

	/* one line a window for each (type, owner, collector): bounded */
	p_info("pid %d: %llu %s object%s made by thread %s destroyed by a collection on thread %s (type "
	       "window %llu)", at->pid, (unsigned long long)r->n, r->type, r->n == 1 ? "" : "s", r->owner, r->thread,
	       (unsigned long long)at->tw.run);
}

static void window_budget(struct agent_target *at, uint64_t now)
{
	const struct typewin *w = &at->tw;

	met_types_budget(A.m, at->job->mt, w->walk_ns, now - at->start_ns, w->run, w->cut, w->skipped, w->active);
}

/* A closed window's record to the target's sinks (--jsonl): what it walked,
 * as the served counters will have it. */
static void window_record(struct agent_target *at, uint64_t now, const char *closed_by)
{
	static struct met_window_buf buf;	/* the event loop's */
	const struct typewin *w = &at->tw;
	struct gc_type_window r = {
		.pid = (uint32_t)at->pid,
		.window = w->run,
		.ts_start = w->start_ns,
		.ts_end = now,
		.closed_by = closed_by,
		.walk_ns = w->walk_ns - at->tw_walk0,
		.budget_used = now > w->t0 ? (double)w->walk_ns / (double)(now - w->t0) : 0,
	};

	met_types_window(at->job->mt->types, &r, &buf);
	sinks_type_window(&at->job->sinks, &r);
}

/* The window's counts into the served ones: the records of the walks that
 * ran read first.  closed_by: how it closed, for its record; NULL: no
 * window closed (nothing to record unless one was open). */
static void window_commit(struct agent_target *at, const char *closed_by)
{
	uint64_t now = mono_ns();

	if (!at->job->mt->types)
		return;
	if (A.rb && !A.rb_stale)
		ring_buffer__consume(A.rb);
	if (closed_by)
		window_record(at, now, closed_by);
	met_types_commit(A.m, at->job->mt, log_pair, at);
	window_budget(at, now);
}

/* Each target's type window: opened, closed, its cost looked at.  Returns
 * whether a window is open (the loop then looks again sooner). */
static bool windows_tick(void)
{
	bool open = false;
	uint64_t now = mono_ns();

	for (struct agent_target *at = A.targets; at; at = at->next) {
		enum typewin_step s;
		uint64_t cut = at->tw.cut;

		if (!at->job->mt->types)
			continue;
		s = typewin_tick(&at->tw, at->job->tr, now);
		if (s == TW_CLOSED) {
			window_commit(at, at->tw.cut > cut ? "budget" : "time");
		} else if (s == TW_OPENED) {
			at->tw_walk0 = at->tw.walk_ns;
			window_budget(at, now);
		}
		open |= at->tw.active;
	}
	return open;
}

/* An attach the thread finished: into the event loop, or counted. */
static void finish_job(struct attach_job *j)
{
	struct agent_target *at;
	pid_t pid;

	if (j->code) {
		met_failure(A.m, met_reason_of(j->code));
		free_job(j);
		return;
	}
	/* -p TID: the tracer works on its process */
	pid = j->mem ? memtier_pid(j->mem) : tracer_pid(j->tr);
	if (find_target(pid) || !selected(&A.conf, j) || exiting) {
		free_job(j);
		return;
	}
	at = calloc(1, sizeof(*at));
	if (at && j->mem) {
		/* the memory tier: no ring, read by the loop */
		at->pid = pid;
		at->job = j;
		j->mt->pid = (uint32_t)pid;
		at->start_ns = mono_ns();
		met_target_add(A.m, j->mt);
		memtier_start(j->mem);
		at->next = A.targets;
		A.targets = at;
		A.ntargets++;
		p_info("reading pid %d (%s, CPython %s) from its memory every %g s%s", pid, j->mt->executable,
		       j->mt->python, A.conf.stats_interval, j->mt->durations ? ", its collections' records too" : "");
		return;
	}
	if (A.rb_stale)
		rebuild_ring();
	if (!at || tracer_add_ring(j->tr, &A.rb)) {
		if (!at)
			p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		met_failure(A.m, MET_R_BPF);
		free(at);
		free_job(j);
		return;
	}
	at->pid = pid;
	at->job = j;
	j->mt->pid = (uint32_t)pid;
	if (j->opts.walk_windowed) {
		/* NULL (out of memory): no windows for this one, said */
		j->mt->types = met_types_new((int)A.conf.top, j->opts.owners != NULL, j->opts.window_stacks,
					     A.conf.budget / 100);
		if (!j->mt->types)
			p_warn("pid %d: out of memory: no type windows", pid);
	}
	tracer_start(j->tr);
	at->start_ns = mono_ns();
	typewin_init(&at->tw,
		     &(struct typewin_conf){ .every_s = j->mt->types ? A.conf.types_every : 0,
					     .window_s = A.conf.types_window, .budget = A.conf.budget / 100 },
		     at->start_ns);
	met_target_add(A.m, j->mt);
	at->next = A.targets;
	A.targets = at;
	A.ntargets++;
	{
		double age = attacher_proc_age_s(pid);
		char since[64] = "";

		/* how long after its start (make bench reads it: the --all
		 * latency with short-lived processes) */
		if (age >= 0)
			snprintf(since, sizeof(since), ", %.2f s after its start", age);
		p_info("attached to pid %d (%s, CPython %s%s)", pid, j->mt->executable, j->mt->python, since);
	}
}

/* The end of a target: its last records read, the summary to its sinks
 * (the metrics keep its final values for one scrape), the tracer closed. */
static void end_target(struct agent_target *at, const char *reason, bool drop_series)
{
	struct agent_target **p;

	struct attach_job *j = at->job;

	if (j->mem) {
		char err[PATH_MAX + 512];

		/* its final values (a gone target's last read failed: those
		 * of the read before) */
		memtier_poll(j->mem, err, sizeof(err));
		met_exited(A.m, j->mt, mono_ns());
		memtier_free(j->mem);
	} else {
		tracer_check_lost(j->tr);
		/* what a window in progress found so far is served with the
		 * rest, and recorded as closed by the end's reason */
		if (at->job->mt->types)
			tracer_walk_cost(j->tr, &at->tw.walk_ns, &at->tw.walks);
		window_commit(at, at->job->mt->types && (at->tw.active || met_types_pending(at->job->mt->types))
					  ? reason : NULL);
		tracer_end(j->tr, reason, mono_ns() - at->start_ns);
		tracer_close(j->tr, false);
	}
	sinks_free(&j->sinks);
	sinks_free(&j->records);
	if (drop_series)
		met_target_remove(A.m, j->mt);
	free(j);
	for (p = &A.targets; *p; p = &(*p)->next)
		if (*p == at) {
			*p = at->next;
			break;
		}
	A.ntargets--;
	free(at);
	A.rb_stale = true;
}

/* The shared ring_buffer again, from the tracers left. */
static void rebuild_ring(void)
{
	struct agent_target *at, *next;

	ring_buffer__free(A.rb);
	A.rb = NULL;
	A.rb_stale = false;
	for (at = A.targets; at; at = next) {
		next = at->next;
		if (at->job->mem)
			continue;
		if (tracer_add_ring(at->job->tr, &A.rb))
			end_target(at, "error", false);
	}
	A.rb_stale = false;
}

static enum disc_verdict offer(const struct disc_proc *p, void *ctx)
{
	(void)ctx;
	/* a process not ready yet is waited for by the attach thread */
	attach(p->pid, p->exe, p->comm, true);
	return DISC_DONE;
}

/* --jsonl's file as a new fd of the agent's own: "-" is stdout (a dup of
 * it); a file is appended to (a log shipper follows it), made if need be.
 * -1 with one line in why. */
static int jsonl_fd(const char *path, char *why, size_t size)
{
	int fd = !strcmp(path, "-") ? fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
				    : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		snprintf(why, size, "cannot write --jsonl '%s': %s; give a writable file, or - for stdout", path,
			 strerror(errno));
	return fd;
}

static int open_jsonl(const char *path, char *why, size_t size)
{
	int fd;

	if (!path)
		return 0;
	A.jsonl_path = strdup(path);
	if (!A.jsonl_path) {
		snprintf(why, size, "out of memory");
		return EXIT_FAILURE_INTERNAL;
	}
	fd = jsonl_fd(path, why, size);
	if (fd < 0)
		return EXIT_USAGE;
	/* "w" does not truncate; a file is O_APPEND from its open, and stdout
	 * (whose open file description is shared with whoever gave it) is
	 * left as it was given ("a" would set O_APPEND on it) */
	A.jsonl = fdopen(fd, "w");
	if (!A.jsonl) {
		close(fd);
		snprintf(why, size, "out of memory");
		return EXIT_FAILURE_INTERNAL;
	}
	return 0;
}

/* SIGHUP: --jsonl's path (path, or the one in use if NULL) opened again
 * and put under the sinks' stream: after `mv out.jsonl out.jsonl.1`, the
 * records go to a new out.jsonl, as logrotate expects.  Every record is
 * written whole by this thread between two sink calls, and the stream is
 * flushed before its fd changes: each record is in the old file or the new
 * one, once.  A path that cannot be opened keeps the file in use (said). */
static void jsonl_reopen(const char *path)
{
	char why[PATH_MAX + 256];
	char *dup;
	int fd;

	if (!A.jsonl)
		return;
	if (!path)
		path = A.jsonl_path;
	/* stdout stays what it is */
	if (!strcmp(path, "-") && !strcmp(A.jsonl_path, "-"))
		return;
	fd = jsonl_fd(path, why, sizeof(why));
	dup = fd >= 0 ? strdup(path) : NULL;
	if (fd >= 0 && !dup)
		snprintf(why, sizeof(why), "out of memory");
	if (!dup) {
		if (fd >= 0)
			close(fd);
		p_warn("%s; still writing to %s", why, A.jsonl_path);
		return;
	}
	if (fflush(A.jsonl))
		p_warn("writing --jsonl '%s': %s", A.jsonl_path, strerror(errno));
	if (dup3(fd, fileno(A.jsonl), O_CLOEXEC) < 0) {
		p_warn("cannot reopen --jsonl '%s': %s; still writing to %s", path, strerror(errno), A.jsonl_path);
		free(dup);
	} else {
		/* a write error of the old file is not the new one's */
		clearerr(A.jsonl);
		if (strcmp(dup, A.jsonl_path))
			p_info("jsonl: now writing to %s", dup);
		free(A.jsonl_path);
		A.jsonl_path = dup;
	}
	close(fd);
}

static void reload(void)
{
	struct agentconf nc;
	char why[1024];
	int code;

	pthread_mutex_lock(&A.m->mu);
	A.m->reloads++;
	pthread_mutex_unlock(&A.m->mu);
	code = build_conf(&nc, why, sizeof(why));
	if (code) {
		p_warn("reload refused, the configuration in use is kept: %s", why);
		agentconf_free(&nc);
		/* logrotate's SIGHUP: the file is reopened all the same */
		jsonl_reopen(NULL);
		pthread_mutex_lock(&A.m->mu);
		A.m->reload_failures++;
		pthread_mutex_unlock(&A.m->mu);
		return;
	}
	if (strcmp(nc.listen, A.conf.listen)) {
		int fd = httpd_listen(nc.listen, why, sizeof(why));
		struct httpd *h = fd >= 0 ? httpd_start(fd, A.m, why, sizeof(why)) : NULL;

		if (!h) {
			p_warn("%s; still serving on %s", why, A.conf.listen);
			strcpy(nc.listen, A.conf.listen);
		} else {
			httpd_stop(A.http);
			A.http = h;
			p_info("serving http://%s/metrics", nc.listen);
		}
	}
	if (strcmp(nc.otlp_endpoint, A.conf.otlp_endpoint) || nc.otlp_interval != A.conf.otlp_interval) {
		struct otlp *o = NULL;

		if (nc.otlp_endpoint[0] && !(o = otlp_start(nc.otlp_endpoint, nc.otlp_interval, A.m, why, sizeof(why)))) {
			p_warn("%s; %s", why, A.otlp ? "still pushing to the endpoint in use" : "no OTLP push");
			strcpy(nc.otlp_endpoint, A.conf.otlp_endpoint);
			nc.otlp_interval = A.conf.otlp_interval;
		} else {
			otlp_stop(A.otlp, false);
			A.otlp = o;
			if (o)
				p_info("pushing OTLP to %s every %g s", nc.otlp_endpoint, nc.otlp_interval);
		}
	}
	g_verbose = nc.verbose;
	/* the JSON sinks are made at the attach (and the statistics of the
	 * summary kept) only with --jsonl at the start: it cannot be turned
	 * on or off by a reload; its path can change */
	if (!nc.jsonl != !A.jsonl)
		p_warn("jsonl is turned on or off at the start only (restart the agent): %s%s",
		       A.jsonl ? "still writing to " : "writing no JSON Lines", A.jsonl ? A.jsonl_path : "");
	jsonl_reopen(A.jsonl && nc.jsonl ? nc.jsonl : NULL);
	free(nc.jsonl);
	nc.jsonl = A.jsonl_path ? strdup(A.jsonl_path) : NULL;
	/* detach what is no longer selected */
	for (struct agent_target *at = A.targets, *next; at; at = next) {
		next = at->next;
		if (selected(&nc, at->job) || pid_listed(&nc, at->pid))
			continue;
		p_info("pid %d is no longer selected: detaching", at->pid);
		end_target(at, "configuration reloaded", true);
	}
	agentconf_free(&A.conf);
	A.conf = nc;
	for (int i = 0; i < A.conf.npids; i++)
		attach(A.conf.pids[i], NULL, NULL, false);
	discover_reset(A.disc);
	A.scans = 0;
	p_info("reloaded %s: %d target%s", A.config ? A.config : "the options", A.ntargets, A.ntargets == 1 ? "" : "s");
}

/* The gauge of BPF objects, as the tracers and the registry count them. */
static void count_objects(void)
{
	int n = tracer_bpf_objects();

	pthread_mutex_lock(&A.m->mu);
	A.m->bpf_objects = n > 0 ? (unsigned)n : 0;
	pthread_mutex_unlock(&A.m->mu);
}

static void housekeeping(void)
{
	bool any_gone = false;

	for (struct agent_target *at = A.targets; at; at = at->next) {
		if (at->job->mem)
			continue;
		tracer_check_lost(at->job->tr);
		if (tracer_target_gone(at->job->tr))
			any_gone = true;
	}
	if (!any_gone)
		return;
	/* what the exited targets wrote before they went */
	if (A.rb)
		ring_buffer__consume(A.rb);
	for (struct agent_target *at = A.targets, *next; at; at = next) {
		next = at->next;
		if (!at->job->mem && tracer_target_gone(at->job->tr)) {
			p_info("pid %d exited: its final values are served once more", at->pid);
			end_target(at, "target exited", false);
		}
	}
}

/* The memory tier's reads, each target every stats-interval. */
static void poll_memory(uint64_t now)
{
	for (struct agent_target *at = A.targets, *next; at; at = next) {
		char err[PATH_MAX + 512];
		int code;

		next = at->next;
		if (!at->job->mem || now < at->next_poll_ns)
			continue;
		at->next_poll_ns = now + (uint64_t)(A.conf.stats_interval * 1e9);
		code = memtier_poll(at->job->mem, err, sizeof(err));
		if (code == EXIT_NO_PROCESS) {
			p_info("pid %d exited: its final values are served once more", at->pid);
			end_target(at, "target exited", false);
		} else if (code) {
			p_warn("pid %d: %s: no longer read", at->pid, err);
			end_target(at, "error", false);
		}
	}
}

int cmd_agent(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t next_scan = 0, next_house = 0;
	bool windows_open = false;
	char why[1024];
	int code, fd;

	if (argp_parse(&agent_argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	libbpf_set_print(tracer_libbpf_print);
	code = build_conf(&A.conf, why, sizeof(why));
	if (code) {
		agentconf_free(&A.conf);
		return p_err(code, "%s", why);
	}
	g_verbose = A.conf.verbose ? (g_verbose ? g_verbose : 1) : g_verbose;
	/* (a reload may change tier: the privilege is known once) */
	A.bpf_ok = privs_can_trace(why, sizeof(why));
	if (!A.bpf_ok && A.conf.tier == AGENT_TIER_BPF) {
		agentconf_free(&A.conf);
		return p_err(EXIT_PERMISSION, "%s (or give --tier memory or auto: no BPF)", why);
	}
	if (!A.bpf_ok && A.conf.tier == AGENT_TIER_AUTO)
		p_info("BPF cannot be used (%s): every target is read from its memory (tier memory)", why);
	code = open_jsonl(A.conf.jsonl, why, sizeof(why));
	if (code) {
		agentconf_free(&A.conf);
		free(A.jsonl_path);
		return p_err(code, "%s", why);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	A.m = metrics_new();
	A.disc = discover_new();
	A.att = A.m ? attacher_new(A.m) : NULL;
	if (!A.m || !A.disc || !A.att) {
		code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		goto out;
	}
	fd = httpd_listen(A.conf.listen, why, sizeof(why));
	if (fd < 0) {
		code = p_err(EXIT_LISTEN, "%s", why);
		goto out;
	}
	A.http = httpd_start(fd, A.m, why, sizeof(why));
	if (!A.http) {
		code = p_err(EXIT_LISTEN, "%s", why);
		goto out;
	}
	p_info("serving http://%s/metrics", A.conf.listen);
	if (A.conf.otlp_endpoint[0]) {
		A.otlp = otlp_start(A.conf.otlp_endpoint, A.conf.otlp_interval, A.m, why, sizeof(why));
		if (!A.otlp) {
			code = p_err(EXIT_USAGE, "%s", why);
			goto out;
		}
		p_info("pushing OTLP to %s every %g s", A.conf.otlp_endpoint, A.conf.otlp_interval);
	}
	for (int i = 0; i < A.conf.npids; i++)
		attach(A.conf.pids[i], NULL, NULL, false);

	while (!exiting) {
		/* the memory tier's reads may be more often than 10 a second */
		int wait_ms = A.conf.stats_interval < 0.1 ? (int)(A.conf.stats_interval * 1000) : 100;
		uint64_t now;

		if (reload_wanted) {
			reload_wanted = 0;
			reload();
		}
		if (A.rb_stale)
			rebuild_ring();
		if (A.rb) {
			/* an open window's budget is looked at every 10 ms */
			int r = ring_buffer__poll(A.rb, windows_open && wait_ms > 10 ? 10 : wait_ms);

			if (r < 0 && r != -EINTR) {
				code = p_err(EXIT_FAILURE_INTERNAL, "error polling ring buffers: %s", strerror(-r));
				break;
			}
			/* most records are submitted without a wakeup */
			if (r == 0)
				ring_buffer__consume(A.rb);
		} else {
			struct timespec ts = { 0, wait_ms * 1000000L };

			nanosleep(&ts, NULL);
		}
		for (struct attach_job *j; (j = attacher_take(A.att));)
			finish_job(j);
		if (A.rb_stale)
			rebuild_ring();
		windows_open = windows_tick();
		now = mono_ns();
		poll_memory(now);
		if (now >= next_house) {
			next_house = now + HOUSEKEEPING_NS;
			/* poll() reads the rings that woke it: while one target
			 * keeps waking the loop, a quiet target's records (below
			 * its wakeup threshold) would wait; read every ring */
			if (A.rb && !A.rb_stale)
				ring_buffer__consume(A.rb);
			housekeeping();
			count_objects();
			for (struct agent_target *at = A.targets; at; at = at->next)
				if (at->job->mt->types)
					window_budget(at, now);
		}
		if ((A.conf.all || A.conf.nmatch) && now >= next_scan) {
			next_scan = now + (uint64_t)(A.conf.scan_interval * 1e9);
			if (A.rb_stale)
				rebuild_ring();
			A.scans++;
			discover_scan(A.disc, A.conf.all, A.conf.match, A.conf.nmatch, offer, NULL);
		}
	}
	if (exiting)
		p_info("signal: detaching from %d target%s", A.ntargets, A.ntargets == 1 ? "" : "s");
	/* after the attach in progress; what is queued is dropped */
	attacher_free(A.att);
	A.att = NULL;
	if (A.rb && !A.rb_stale)
		ring_buffer__consume(A.rb);
	while (A.targets)
		end_target(A.targets, "signal", false);
out:
	/* after the targets' ends: the last push has their final values */
	otlp_stop(A.otlp, true);
	attacher_free(A.att);
	ring_buffer__free(A.rb);
	httpd_stop(A.http);
	discover_free(A.disc);
	metrics_free(A.m);
	agentconf_free(&A.conf);
	for (int i = 0; i < A.nowners_kept; i++)
		free(A.owners_kept[i]);
	if (A.jsonl)
		fclose(A.jsonl);
	free(A.jsonl_path);
	return code;
}
