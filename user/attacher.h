/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's attaches, in a thread of their own: opening a target (its
 * maps, ELF, debug info: seconds for a -dbg build) and loading and
 * attaching its BPF object happen there, so that the event loop keeps
 * reading the other targets' ring buffers meanwhile.  The loop hands in
 * requests and takes back opened tracers; only it touches the shared
 * ring_buffer and the sinks' calls (tracer_add_ring, tracer_start).
 *
 * Only this thread opens targets (user/target.c keeps static buffers for
 * that), one after another.
 */
#ifndef GCSCOPE_ATTACHER_H
#define GCSCOPE_ATTACHER_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agentconf.h"
#include "sink.h"
#include "tracer.h"

struct metrics;
struct met_target;
struct attacher;

/* One process to attach, and then what became of it. */
struct attach_job {
	pid_t pid;
	char exe[PATH_MAX];		/* readlink(/proc/PID/exe) */
	char comm[64];
	bool wait_ready;		/* discovered: wait up to 10 s for its runtime and version */
	struct tracer_opts opts;
	enum agent_tier tier;		/* AGENT_TIER_MEMORY: no BPF is tried */
	FILE *jsonl;			/* --jsonl: a JSON Lines sink to it, or NULL */
	/* the result */
	int code;			/* 0, or the EXIT_* of the failure (said) */
	struct tracer *tr;		/* opened, not yet in the loop */
	struct memtier *mem;		/* or, on the memory tier, this (user/memtier.h) */
	struct sinks sinks;		/* its metrics sink (and --jsonl's, for the tracer) */
	struct sinks records;		/* on the memory tier: --jsonl's sink, or none */
	struct met_target *mt;		/* its series, not yet published */
	/* the queue's */
	uint64_t not_before_ns, deadline_ns;
	struct attach_job *next;
};

struct attacher *attacher_new(struct metrics *m);
/* Stop the thread (after the attach it is in) and free what is queued. */
void attacher_free(struct attacher *a);

/* Queue a job (taken); first: ahead of the others (a process that has
 * just started, not the backlog of a first scan).  Returns 0. */
int attacher_submit(struct attacher *a, struct attach_job *j, bool first);
/* A finished job, or NULL: the caller owns it. */
struct attach_job *attacher_take(struct attacher *a);
/* Seconds since process pid started (/proc/PID/stat starttime against
 * CLOCK_BOOTTIME; at the clock tick's resolution), or -1: what the log says
 * of an attach, the delay --all promises to keep under 2 s. */
double attacher_proc_age_s(pid_t pid);
/* Is pid queued or being attached? */
bool attacher_busy(struct attacher *a, pid_t pid);

#endif
