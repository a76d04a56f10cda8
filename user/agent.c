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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agentconf.h"
#include "common.h"
#include "discover.h"
#include "httpd.h"
#include "metrics.h"
#include "privs.h"
#include "procmaps.h"
#include "sink.h"
#include "target.h"
#include "tracer.h"

/* Between housekeeping passes (lost events, exited targets): a busy ring
 * wakes the loop far more often. */
#define HOUSEKEEPING_NS (100ULL * 1000000ULL)

static volatile sig_atomic_t exiting, reload_wanted;

struct agent_target {
	pid_t pid;
	struct tracer *tr;
	struct sinks sinks;		/* the metrics sink of mt */
	struct met_target *mt;		/* owned by the metrics once published */
	char exe[PATH_MAX];		/* readlink(/proc/PID/exe), for --match at a reload */
	char comm[64];
	uint64_t start_ns;
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
	struct ring_buffer *rb;
	bool rb_stale;
	struct discover *disc;
	struct agent_target *targets;
	int ntargets;
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
	"histogram, per-thread pause totals and the agent's own metrics.  SIGHUP\n"
	"reloads --config FILE, SIGTERM detaches from every target and exits.\n"
	"\v"
	"EXAMPLES:\n"
	"  gcscope agent --all                 # every CPython process of the host\n"
	"  gcscope agent -p 4242 -p 4243       # these two\n"
	"  gcscope agent --match 'gunicorn*'   # by executable or comm\n"
	"  gcscope agent --all --listen 0.0.0.0:9464  # reachable from elsewhere\n"
	"  gcscope agent --config /etc/gcscope/agent.conf\n"
	"\n"
	"Every option is also a line of the --config file, under its long name\n"
	"(\"all = true\", \"pid = 4242\", \"listen = 127.0.0.1:9464\"); flags come\n"
	"after the file's lines (docs/agent.md).\n"
	"\n"
	"Exit codes: 0 ok (SIGTERM), 1 runtime failure, 2 usage or a bad --config,\n"
	"6 not enough privilege, 10 cannot listen (docs/exit-codes.md).\n";

enum {
	OPT_MATCH = 1000,
	OPT_ALL,
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_SCAN_INTERVAL,
	OPT_RINGBUF_KB,
	OPT_PROBE,
	OPT_NO_DEBUGINFO,
};

static const struct argp_option agent_opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process (repeatable)", 0 },
	{ "match", OPT_MATCH, "GLOB", 0, "Trace CPython processes whose executable (path or name) or comm "
	  "matches GLOB (repeatable)", 0 },
	{ "all", OPT_ALL, NULL, 0, "Trace every CPython process, and each new one within 2 s", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Serve /metrics there (default " AGENT_DEFAULT_LISTEN ")", 0 },
	{ "config", OPT_CONFIG, "FILE", 0, "Read options from FILE (again at SIGHUP)", 0 },
	{ "scan-interval", OPT_SCAN_INTERVAL, "S", 0, "Seconds between scans of /proc (default 0.5, at most 1)", 0 },
	{ "ringbuf-kb", OPT_RINGBUF_KB, "KB", 0, "Ring buffer per target in KiB, a power of 2 (default 256)", 0 },
	{ "probe", OPT_PROBE, "KIND", 0, "auto (default), usdt or uprobe", 0 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0, "Do not look for DWARF (use the built-in layout table)", 0 },
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
static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && g_verbose < 2)
		return 0;
	if (!g_verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

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

/* The executable as the target sees it (a chroot's or container's path
 * without our view's prefix). */
static void inside_exe(pid_t pid, const char *exe, char *out, size_t size)
{
	char path[64], root[PATH_MAX];
	ssize_t n;
	size_t rl;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	n = readlink(path, root, sizeof(root) - 1);
	root[n > 0 ? n : 0] = '\0';
	rl = strlen(root);
	if (rl > 1 && !strncmp(exe, root, rl) && exe[rl] == '/')
		exe += rl;
	tty_clean(exe, out, size);
}

/* Attach to pid.  Returns 0, or the EXIT_* code of the failure (said in
 * one line by the tracer, counted by reason). */
static int attach(pid_t pid, const char *exe, const char *comm)
{
	struct tracer_opts o = {
		.probe = A.conf.probe,
		.no_debuginfo = A.conf.no_debuginfo,
		.ringbuf_kb = A.conf.ringbuf_kb,
		.top = 5,
		.max_objects = 10000,
		.no_summary = true,
	};
	struct agent_target *at;
	char path[64], buf[4096], exebuf[PATH_MAX];
	int code;

	if (find_target(pid))
		return 0;
	at = calloc(1, sizeof(*at));
	if (!at || !(at->mt = met_target_new((uint32_t)pid))) {
		free(at);
		met_failure(A.m, MET_R_OTHER);
		return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
	}
	at->pid = pid;
	if (!exe) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		n = readlink(path, exebuf, sizeof(exebuf) - 1);
		exebuf[n > 0 ? n : 0] = '\0';
		exe = exebuf;
	}
	snprintf(at->exe, sizeof(at->exe), "%s", exe);
	if (!comm) {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (read_text_file(path, at->comm, sizeof(at->comm)) < 0)
			at->comm[0] = '\0';
	} else {
		snprintf(at->comm, sizeof(at->comm), "%s", comm);
	}
	inside_exe(pid, exe, at->mt->executable, sizeof(at->mt->executable));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_text_file(path, buf, sizeof(buf)) > 0)
		cgroup_labels(buf, at->mt->container, sizeof(at->mt->container), at->mt->unit, sizeof(at->mt->unit));
	if (sinks_add(&at->sinks, sink_metrics_new(A.m, at->mt))) {
		code = p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		goto fail;
	}
	code = tracer_open(&at->tr, pid, false, &o, &at->sinks);
	if (code)
		goto fail;
	/* -p TID: the tracer works on its process */
	at->pid = at->mt->pid = (uint32_t)tracer_pid(at->tr);
	if (at->pid != pid && find_target(at->pid)) {
		tracer_close(at->tr, false);
		sinks_free(&at->sinks);
		free(at->mt);
		free(at);
		return 0;
	}
	code = tracer_add_ring(at->tr, &A.rb);
	if (code) {
		tracer_close(at->tr, true);
		goto fail;
	}
	tracer_start(at->tr);
	at->start_ns = mono_ns();
	met_target_add(A.m, at->mt);
	at->next = A.targets;
	A.targets = at;
	A.ntargets++;
	p_info("attached to pid %d (%s, CPython %s)", at->pid, at->mt->executable, at->mt->python);
	return 0;
fail:
	/* a process that went while we attached is "exited", whatever step
	 * failed (a uprobe on a gone process: ESRCH) */
	{
		struct proc_status st;

		if (proc_status_read(pid, &st) || st.state == 'Z' || st.state == 'X')
			code = EXIT_NO_PROCESS;
	}
	met_failure(A.m, met_reason_of(code));
	sinks_free(&at->sinks);
	free(at->mt);
	free(at);
	return code;
}

/* The end of a target: its last records read, the summary to its sinks
 * (the metrics keep its final values for one scrape), the tracer closed. */
static void end_target(struct agent_target *at, const char *reason, bool drop_series)
{
	struct agent_target **p;

	tracer_check_lost(at->tr);
	tracer_end(at->tr, reason, mono_ns() - at->start_ns);
	tracer_close(at->tr, false);
	sinks_free(&at->sinks);
	if (drop_series)
		met_target_remove(A.m, at->mt);
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
		if (tracer_add_ring(at->tr, &A.rb))
			end_target(at, "error", false);
	}
	A.rb_stale = false;
}

static enum disc_verdict offer(const struct disc_proc *p, void *ctx)
{
	bool version_known = false;
	int r;

	(void)ctx;
	if (find_target(p->pid))
		return DISC_DONE;
	/* Just started: its runtime not mapped yet, or a 3.9/3.10 that has
	 * not written its version: look again at the next scan. */
	r = pytarget_runtime_ready(p->pid, &version_known);
	if ((r || !version_known) && p->young)
		return DISC_RETRY;
	attach(p->pid, p->exe, p->comm);
	return DISC_DONE;
}

static bool pid_listed(const struct agentconf *c, pid_t pid)
{
	for (int i = 0; i < c->npids; i++)
		if (c->pids[i] == pid)
			return true;
	return false;
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
	g_verbose = nc.verbose;
	/* detach what is no longer selected */
	for (struct agent_target *at = A.targets, *next; at; at = next) {
		next = at->next;
		if (pid_listed(&nc, at->pid) || (nc.all && discover_python_name(at->exe)) ||
		    discover_match(at->exe, at->comm, nc.match, nc.nmatch))
			continue;
		p_info("pid %d is no longer selected: detaching", at->pid);
		end_target(at, "configuration reloaded", true);
	}
	for (int i = 0; i < nc.npids; i++)
		if (!pid_listed(&A.conf, nc.pids[i]))
			attach(nc.pids[i], NULL, NULL);
	agentconf_free(&A.conf);
	A.conf = nc;
	discover_reset(A.disc);
	p_info("reloaded %s: %d target%s", A.config ? A.config : "the options", A.ntargets, A.ntargets == 1 ? "" : "s");
}

static void housekeeping(void)
{
	bool any_gone = false;

	for (struct agent_target *at = A.targets; at; at = at->next) {
		tracer_check_lost(at->tr);
		if (tracer_target_gone(at->tr))
			any_gone = true;
	}
	if (!any_gone)
		return;
	/* what the exited targets wrote before they went */
	if (A.rb)
		ring_buffer__consume(A.rb);
	for (struct agent_target *at = A.targets, *next; at; at = next) {
		next = at->next;
		if (tracer_target_gone(at->tr)) {
			p_info("pid %d exited: its final values are served once more", at->pid);
			end_target(at, "target exited", false);
		}
	}
}

int cmd_agent(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t next_scan = 0, next_house = 0;
	char why[1024];
	int code, fd;

	if (argp_parse(&agent_argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	libbpf_set_print(libbpf_print_fn);
	code = build_conf(&A.conf, why, sizeof(why));
	if (code) {
		agentconf_free(&A.conf);
		return p_err(code, "%s", why);
	}
	g_verbose = A.conf.verbose ? (g_verbose ? g_verbose : 1) : g_verbose;
	if (!privs_can_trace(why, sizeof(why))) {
		agentconf_free(&A.conf);
		return p_err(EXIT_PERMISSION, "%s", why);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	A.m = metrics_new();
	A.disc = discover_new();
	if (!A.m || !A.disc) {
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
	for (int i = 0; i < A.conf.npids && !exiting; i++)
		attach(A.conf.pids[i], NULL, NULL);

	while (!exiting) {
		uint64_t now;

		if (reload_wanted) {
			reload_wanted = 0;
			reload();
		}
		if (A.rb_stale)
			rebuild_ring();
		if (A.rb) {
			int r = ring_buffer__poll(A.rb, 100);

			if (r < 0 && r != -EINTR) {
				code = p_err(EXIT_FAILURE_INTERNAL, "error polling ring buffers: %s", strerror(-r));
				break;
			}
			/* most records are submitted without a wakeup */
			if (r == 0)
				ring_buffer__consume(A.rb);
		} else {
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
		now = mono_ns();
		if (now >= next_house) {
			next_house = now + HOUSEKEEPING_NS;
			housekeeping();
		}
		if ((A.conf.all || A.conf.nmatch) && now >= next_scan) {
			next_scan = now + (uint64_t)(A.conf.scan_interval * 1e9);
			if (A.rb_stale)
				rebuild_ring();
			discover_scan(A.disc, A.conf.all, A.conf.match, A.conf.nmatch, offer, NULL);
		}
	}
	if (exiting)
		p_info("signal: detaching from %d target%s", A.ntargets, A.ntargets == 1 ? "" : "s");
	if (A.rb && !A.rb_stale)
		ring_buffer__consume(A.rb);
	while (A.targets)
		end_target(A.targets, "signal", false);
out:
	ring_buffer__free(A.rb);
	httpd_stop(A.http);
	discover_free(A.disc);
	metrics_free(A.m);
	agentconf_free(&A.conf);
	return code;
}
