/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's tier without BPF (docs/agent.md, "Tiers"): a target whose
 * collections cannot be probed (no CAP_BPF/CAP_PERFMON, BPF refused, no
 * probe, or `tier = memory`) is read from outside instead, as `gcscope
 * stats` reads it (user/gcstats.h): every stats-interval, its running
 * totals per generation (exactly what its gc.get_stats() shows, since its
 * start: prometheus_client's GC collector's values) and, on 3.15+, the
 * records its interpreter published since the last read, whose pauses go
 * into the histogram.  No thread is known: no per-thread series.
 *
 * Its records (--jsonl) go to its own sinks, beside the metrics it sets
 * itself (its counters are the target's totals, not a sum of records): an
 * attach record, then on 3.15+ a collection record per published record
 * (thread unknown, with the collections its ring overwrote before it as
 * missed), and before 3.15 a counts record (stats_delta) for each read in
 * which the totals moved.
 *
 * Opened by the attach thread (user/attacher.c), polled by the event loop.
 */
#ifndef GCSCOPE_MEMTIER_H
#define GCSCOPE_MEMTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct memtier;
struct metrics;
struct met_target;
struct sinks;

/* Open pid, check its counters can be read, read them once; t's labels
 * (python version, tier "memory", whether it has durations) are set.
 * Returns an EXIT_* code, said in one line (p_err). */
int memtier_open(struct memtier **out, pid_t pid, bool no_debuginfo, struct metrics *m, struct met_target *t,
		 struct sinks *records);
/* Into the event loop: the attach record to the record sinks (from the
 * thread that writes all records, like tracer_start()). */
void memtier_start(struct memtier *mt);
/* Read the totals and new records into t.  EXIT_OK; EXIT_NO_PROCESS when
 * the target has gone; another EXIT_* on an error, with one line in err. */
int memtier_poll(struct memtier *mt, char *err, size_t errsz);
void memtier_free(struct memtier *mt);
/* The process (a -p TID opens its process). */
pid_t memtier_pid(const struct memtier *mt);

/* Does a BPF attach's failure leave the memory tier worth trying (tier
 * auto)?  Not for a process that is gone or is not CPython. */
bool memtier_fallback(int tracer_code);

#endif
