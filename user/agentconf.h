/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's configuration: every option is a flag (`gcscope agent
 * --all`) and a line of the --config file (`all = true`), parsed by the one
 * function agentconf_set() under the option's long name.  The file's lines
 * come first, the flags after them: a flag overrides a setting and adds to
 * a list (pid, match).  SIGHUP reads the file again (docs/agent.md).
 */
#ifndef GCSCOPE_AGENTCONF_H
#define GCSCOPE_AGENTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "probe.h"

#define AGENT_MAX_PIDS 1024
#define AGENT_MAX_MATCH 64
#define AGENT_DEFAULT_LISTEN "127.0.0.1:9464"
#define AGENT_DEFAULT_STATS_INTERVAL 0.1

/* How a target's values are read (docs/agent.md, "Tiers"). */
enum agent_tier {
	AGENT_TIER_AUTO,		/* BPF, else the target's memory */
	AGENT_TIER_BPF,			/* BPF only */
	AGENT_TIER_MEMORY,		/* the target's own counters only (user/gcstats.h) */
};

struct agentconf {
	pid_t pids[AGENT_MAX_PIDS];
	int npids;
	char *match[AGENT_MAX_MATCH];	/* globs on the executable or comm */
	int nmatch;
	bool all;			/* every CPython process */
	char listen[300];		/* ADDR:PORT or [ADDR6]:PORT */
	double scan_interval;		/* seconds between scans of /proc */
	long ringbuf_kb;
	bool no_debuginfo;
	enum probe_kind probe;
	int verbose;
	/* type windows (user/typewin.h) */
	double types_every;		/* seconds between windows; 0: none */
	double types_window;		/* a window's seconds */
	double budget;			/* percent of a target's time */
	long top;			/* types with their own series */
	long max_objects;		/* a walk's cap */
	char *owners;			/* --owners PATTERNS, or NULL */
	bool window_stacks;		/* and the collecting thread's stack of each */
	char otlp_endpoint[1024];	/* "" when off: push OTLP/HTTP there */
	double otlp_interval;		/* seconds between pushes */
	enum agent_tier tier;
	double stats_interval;		/* seconds between reads of a memory-tier target */
	char *jsonl;			/* JSON Lines to this file ("-": stdout), or NULL */
};

void agentconf_init(struct agentconf *c);
void agentconf_free(struct agentconf *c);

/* One option by its long name; value NULL for a flag without one.
 * Returns 0, or -1 with why (one line: what is wrong and what to give). */
int agentconf_set(struct agentconf *c, const char *key, const char *value, char *why, size_t size);

/* The lines of FILE: "KEY = VALUE" or "KEY VALUE" or "KEY", '#'
 * comments.  Returns 0, or an EXIT_* code with "FILE:LINE: ..." in why. */
int agentconf_load(struct agentconf *c, const char *path, char *why, size_t size);
/* The same from a text in memory (name is what why calls it). */
int agentconf_parse(struct agentconf *c, const char *text, const char *name, char *why, size_t size);

/* Is s an http:// or https:// URL with a host?  0, or -1 with why. */
int agentconf_check_url(const char *s, char *why, size_t size);

/* Split "ADDR:PORT" into a numeric host and port (brackets of IPv6 taken
 * off).  0, or -1 with why. */
int agentconf_split_listen(const char *s, char *host, size_t hsize, char *port, size_t psize, char *why,
			   size_t size);

#endif
