// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * gcscope trace: one line per collection of a live CPython process, and a
 * summary on exit.  The command: its options, its sinks (user/sink.h), one
 * tracer (user/tracer.h) and the event loop that polls its ring buffer.
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

#include "common.h"
#include "launch.h"
#include "patterns.h"
#include "privs.h"
#include "sink.h"
#include "trace.h"
#include "tracer.h"

static volatile sig_atomic_t exiting;

/* The command line: the tracer's options, and where its output goes. */
struct trace_cmd {
	pid_t pid;
	char **cmd;			/* after "--" */
	double duration;
	bool json;			/* -j */
	const char *output;		/* -o FILE, NULL: stdout */
	const char *timeline;		/* --timeline FILE */
	struct tracer_opts t;
};

static struct trace_cmd opt = {
	.t = {
		.probe = PROBE_AUTO,
		.ringbuf_kb = 256,
		.top = 5,
		.max_objects = 10000,
	},
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
	"\v"
	"EXAMPLES:\n"
	"  gcscope trace -p 4242               # trace a running process\n"
	"  gcscope trace -p 4242 --min-ms 5    # only pauses of 5 ms or more\n"
	"  gcscope trace -j -p 4242            # JSON Lines (docs/json-schema.md)\n"
	"  gcscope trace -j -o gc.jsonl -p 4242  # JSON Lines into a file\n"
	"  gcscope trace --stack -p 4242       # with the collecting Python stack\n"
	"  gcscope trace --types -p 4242       # what each collection destroyed\n"
	"  gcscope trace --owners 'Q*' -p 4242 # objects destroyed off their thread\n"
	"  gcscope trace --timeline gc.json -p 4242  # for Perfetto (docs/timeline.md)\n"
	"  gcscope trace -- python3 app.py     # start a program under tracing\n"
	"\n"
	"With -- COMMAND, the program's own stdout is gcscope's too: use -o FILE\n"
	"to keep the records apart.\n"
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
	OPT_TIMELINE,
};

static const struct argp_option trace_opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process", 0 },
	{ "json", 'j', NULL, 0, "Print JSON Lines instead of text", 0 },
	{ "output", 'o', "FILE", 0, "Write the output (text or JSON) to FILE instead of stdout", 0 },
	{ "timeline", OPT_TIMELINE, "FILE", 0, "Also write FILE: Chrome trace-event JSON of every collection, "
	  "for Perfetto, chrome://tracing, speedscope (docs/timeline.md)", 0 },
	{ "min-ms", OPT_MIN_MS, "MS", 0, "Hide collections shorter than MS milliseconds (still summarised)", 0 },
	{ "duration", OPT_DURATION, "S", 0, "Stop after S seconds", 0 },
	{ "probe", OPT_PROBE, "KIND", 0, "auto (default), usdt or uprobe", 0 },
	{ "no-debuginfo", OPT_NO_DEBUGINFO, NULL, 0, "Do not look for DWARF (use the built-in layout table)", 0 },
	{ "ringbuf-kb", OPT_RINGBUF_KB, "KB", 0, "Ring buffer size in KiB, a power of 2 (default 256)", 0 },
	{ "stack", OPT_STACK, NULL, 0, "Show the Python stack of the collecting thread at each collection's start (docs/stacks.md)", 0 },
	{ "types", OPT_TYPES, NULL, 0, "Report the types of the objects each collection destroys (docs/objects.md)", 0 },
	{ "owners", OPT_OWNERS, "PATTERNS", 0, "Report objects of matching types (globs on type names, @heap, "
	  "@qt) destroyed by a collection on another thread than the one that created them (for a "
	  "QObject: than the one it lives in)", 0 },
	{ "top", OPT_TOP, "N", 0, "Types shown per collection in text output (default 5)", 0 },
	{ "max-objects", OPT_MAX_OBJECTS, "N", 0, "Objects walked per collection at most (default 10000)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output (libbpf too)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	{},
};

static error_t parse_trace_arg(int key, char *arg, struct argp_state *state)
{
	char why[512];
	long v;

	switch (key) {
	case 'p':
		if (!parse_long(arg, 1, INT32_MAX, &v))
			argp_error(state, "invalid pid '%s': give a process id, e.g. -p 4242", arg);
		opt.pid = (pid_t)v;
		break;
	case 'j':
		opt.json = true;
		break;
	case 'o':
		opt.output = arg;
		break;
	case OPT_TIMELINE:
		opt.timeline = arg;
		break;
	case 'v':
		g_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_MIN_MS:
		if (!parse_double(arg, 0, 1e9, &opt.t.min_ms))
			argp_error(state, "invalid --min-ms '%s': give milliseconds, e.g. --min-ms 2.5", arg);
		break;
	case OPT_DURATION:
		if (!parse_double(arg, 0.001, 1e9, &opt.duration))
			argp_error(state, "invalid --duration '%s': give seconds, e.g. --duration 30", arg);
		break;
	case OPT_PROBE:
		if (!strcmp(arg, "auto"))
			opt.t.probe = PROBE_AUTO;
		else if (!strcmp(arg, "usdt"))
			opt.t.probe = PROBE_USDT;
		else if (!strcmp(arg, "uprobe"))
			opt.t.probe = PROBE_UPROBE;
		else
			argp_error(state, "invalid --probe '%s': use auto, usdt or uprobe", arg);
		break;
	case OPT_NO_DEBUGINFO:
		opt.t.no_debuginfo = true;
		break;
	case OPT_STACK:
		opt.t.stack = true;
		break;
	case OPT_TYPES:
		opt.t.types = true;
		break;
	case OPT_OWNERS:
		if (owners_check(arg, why, sizeof(why)))
			argp_error(state, "%s", why);
		opt.t.owners = arg;
		break;
	case OPT_TOP:
		if (!parse_long(arg, 1, 1000, &opt.t.top))
			argp_error(state, "invalid --top '%s': give a number of types from 1 to 1000", arg);
		break;
	case OPT_MAX_OBJECTS:
		if (!parse_long(arg, 1, 1 << 23, &opt.t.max_objects))
			argp_error(state, "invalid --max-objects '%s': give a number from 1 to 8388608", arg);
		break;
	case OPT_RINGBUF_KB:
		if (!parse_long(arg, 4, 1 << 20, &v) || (v & (v - 1)))
			argp_error(state, "invalid --ringbuf-kb '%s': give a power of 2 from 4 to 1048576", arg);
		opt.t.ringbuf_kb = v;
		break;
	case ARGP_KEY_ARG:
		/* The first non-option starts the command (after "--"). */
		opt.cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!opt.pid && !opt.cmd)
			argp_error(state, "no target: give -p PID or -- COMMAND");
		if (opt.pid && opt.cmd)
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


static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct argp trace_argp = {
	.options = trace_opts,
	.parser = parse_trace_arg,
	.doc = argp_trace_doc,
};

/* The sinks the options ask for. */
static int make_sinks(struct sinks *l)
{
	struct sink_config cfg = { .out = stdout, .top = (int)opt.t.top };

	if (opt.output) {
		cfg.out = fopen(opt.output, "we");
		if (!cfg.out)
			return p_err(EXIT_USAGE, "cannot write --output '%s': %s", opt.output, strerror(errno));
		cfg.own_out = true;
	}
	if (sinks_add(l, opt.json ? sink_json_new(&cfg) : sink_text_new(&cfg))) {
		if (cfg.own_out)
			fclose(cfg.out);
		return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
	}
	if (opt.timeline) {
		/* every collection, whatever -j, -o and --min-ms say */
		struct sink_config tl = { .own_out = true, .top = (int)opt.t.top };
		int code;

		tl.out = fopen(opt.timeline, "we");
		if (!tl.out) {
			code = p_err(EXIT_USAGE, "cannot write --timeline '%s': %s", opt.timeline, strerror(errno));
			sinks_free(l);
			return code;
		}
		if (sinks_add(l, sink_timeline_new(&tl))) {
			fclose(tl.out);
			sinks_free(l);
			return p_err(EXIT_FAILURE_INTERNAL, "out of memory");
		}
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct tracer *tr = NULL;
	struct sinks sinks = {};
	char err[PATH_MAX + 512], why[256];
	uint64_t start_ns, end_ns = 0;
	const char *end_reason = "interrupted";
	bool launched = false;
	int code;
	pid_t pid;

	if (argp_parse(&trace_argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	/* errors as JSON records where the JSON records go: stdout */
	g_json = opt.json && !opt.output;
	libbpf_set_print(tracer_libbpf_print);

	if (!privs_can_trace(why, sizeof(why)))
		return p_err(EXIT_PERMISSION, "%s", why);
	if (signal(SIGINT, sig_handler) == SIG_ERR || signal(SIGTERM, sig_handler) == SIG_ERR)
		return p_err(EXIT_FAILURE_INTERNAL, "cannot set signal handler: %s", strerror(errno));
	code = make_sinks(&sinks);
	if (code)
		return code;

	if (opt.cmd) {
		code = launch_until_python(opt.cmd, &pid, err, sizeof(err));
		if (code) {
			sinks_free(&sinks);
			return p_err(code, "%s", err);
		}
		launched = true;
	} else {
		pid = opt.pid;
	}

	code = tracer_open(&tr, pid, launched, &opt.t, &sinks);
	if (code)
		goto out;
	code = tracer_add_ring(tr, &rb);
	if (code)
		goto out;

	tracer_start(tr);
	start_ns = mono_ns();
	if (opt.duration > 0)
		end_ns = start_ns + (uint64_t)(opt.duration * 1e9);

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
		tracer_check_lost(tr);
		sinks_tick(&sinks, mono_ns());
		if (end_ns && mono_ns() >= end_ns) {
			end_reason = "duration elapsed";
			break;
		}
		if (tracer_target_gone(tr)) {
			end_reason = "target exited";
			break;
		}
	}
	if (exiting)
		end_reason = "signal";
	/* What the target wrote before it exited, or before the signal. */
	ring_buffer__consume(rb);
	tracer_check_lost(tr);
	tracer_end(tr, end_reason, mono_ns() - start_ns);
	if (launched && !exiting && end_ns && !tracer_target_gone(tr))
		p_warn("pid %d still runs: --duration ended the trace, not the program", pid);

out:
	ring_buffer__free(rb);
	tracer_close(tr, code != 0);
	sinks_free(&sinks);
	return code;
}
