/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's metrics (docs/agent.md): per target the counters of
 * prometheus_client's GC collector (collections, collected, uncollectable
 * per generation), a pause histogram per generation, pause totals of a
 * bounded set of threads; and the agent's own (targets by state, attach
 * failures by reason, events lost).  Every target's series are bounded:
 * fixed arrays, MET_THREADS_MAX threads, the rest folded into one
 * thread="other" entry.  A target that exits is kept until one scrape has
 * served its final values (met_render_done()), then dropped.
 *
 * Written by the event loop (sink_metrics.c), read by the HTTP thread
 * (prom.c): everything under m->mu.
 */
#ifndef GCSCOPE_METRICS_H
#define GCSCOPE_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct met_types;

#define MET_NGEN 3
/* python_gc_duration_seconds' upper bounds, in seconds; +Inf follows.
 * CPython's young collections take microseconds, full ones of large heaps
 * seconds: 100 us to 10 s. */
#define MET_NBUCKETS 14
extern const double met_bucket_le[MET_NBUCKETS];
/* Threads with their own pause series per target; the rest are summed in
 * thread="other". */
#define MET_THREADS_MAX 16
#define MET_LABEL_MAX 256

enum met_state {
	MET_ATTACHED,
	MET_EXITED,		/* gone: its final values wait for one scrape */
	MET_NSTATES,
};

/* Why a target could not be traced (self-metric label "reason"). */
enum met_reason {
	MET_R_EXITED,		/* gone before or during the attach */
	MET_R_NOT_PYTHON,
	MET_R_NO_PROBE,
	MET_R_PERMISSION,
	MET_R_UNSUPPORTED,	/* a CPython version or build gcscope cannot read */
	MET_R_BPF,		/* loading or attaching BPF failed */
	MET_R_OTHER,
	MET_NREASONS,
};

/* Why an OTLP push failed (self-metric label "reason"). */
enum met_push_reason {
	MET_P_CONNECT,		/* nothing listening, no route, name not resolved */
	MET_P_TIMEOUT,
	MET_P_HTTP,		/* the receiver answered with a status not 2xx */
	MET_P_OTHER,
	MET_NPUSH_REASONS,
};

extern const char *const met_state_name[MET_NSTATES];
extern const char *const met_push_reason_name[MET_NPUSH_REASONS];
extern const char *const met_reason_name[MET_NREASONS];

/* EXIT_* of tracer_open() to a reason. */
enum met_reason met_reason_of(int exit_code);

struct met_thread {
	uint32_t tid;			/* 0: the "other" entry */
	char name[64];			/* Python name, or comm; cleaned */
	uint64_t count, pause_ns;
};

struct met_target {
	uint32_t pid;
	/* identifying labels, cleaned for output ("" when there is none) */
	char executable[MET_LABEL_MAX];
	char python[32];
	char container[80];
	char unit[MET_LABEL_MAX];
	char tier[8];			/* "bpf", or "memory" (user/memtier.h) */
	enum met_state state;
	bool counts;			/* collected/uncollectable can be read */
	/* the pause histogram is served: BPF, or a memory-tier target whose
	 * interpreter publishes its collections' records (3.15+) */
	bool durations;
	bool unknown[MET_NGEN];		/* memory tier: this generation's totals unreadable */
	uint64_t collections[MET_NGEN];
	uint64_t timed[MET_NGEN];	/* collections in the histogram */
	uint64_t records_missed;	/* memory tier: records overwritten before read */
	uint64_t collected[MET_NGEN], uncollectable[MET_NGEN];
	uint64_t uncounted[MET_NGEN];	/* collections whose counts were unknown */
	uint64_t bucket[MET_NGEN][MET_NBUCKETS + 1]; /* not cumulative; last: +Inf */
	uint64_t pause_ns[MET_NGEN];
	uint64_t unknown_gen;		/* collections of no known generation */
	struct met_thread threads[MET_THREADS_MAX];
	int nthreads;
	struct met_thread other;
	uint64_t lost;
	struct met_types *types;	/* type windows (user/met_types.h), NULL if off */
	bool served;			/* exited, and one scrape had it */
	bool pushed;			/* exited, and one OTLP push had it */
	uint64_t start_unix_ns;		/* CLOCK_REALTIME at its attach (OTLP start time) */
	uint64_t exited_ns;		/* CLOCK_MONOTONIC */
	struct met_target *next;
};

struct metrics {
	pthread_mutex_t mu;
	struct met_target *targets;
	uint64_t failures[MET_NREASONS];
	uint64_t lost_total;		/* every target's, dropped ones too */
	uint64_t attached_total;	/* targets attached since start */
	uint64_t scrapes;
	uint64_t reloads, reload_failures;
	/* BPF objects the agent has loaded: one per target with type
	 * windows, one per build (user/bpfshare.h) for the others */
	unsigned bpf_objects;
	bool otlp;			/* an OTLP push runs: exited targets wait for it too */
	uint64_t otlp_pushes;
	uint64_t otlp_failures[MET_NPUSH_REASONS];
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* A new target's series, not yet served: its labels are filled in, then
 * met_target_add() publishes it (and m owns it).  NULL on out of memory. */
struct met_target *met_target_new(uint32_t pid);
void met_target_add(struct metrics *m, struct met_target *t);
/* Free a target's series (not published, or taken off the list). */
void met_target_free(struct met_target *t);
/* What the attach learnt: the version the target states, whether its
 * counts can be read. */
void met_attached(struct metrics *m, struct met_target *t, const char *python, bool counts);
/* One collection, lost events, the end.  The caller holds no lock. */
void met_collection(struct metrics *m, struct met_target *t, int gen, uint64_t pause_ns, bool have_counts,
		    int64_t collected, int64_t uncollectable, uint32_t tid, const char *thread);
void met_lost(struct metrics *m, struct met_target *t, uint64_t count);
/* The memory tier (user/memtier.c): a generation's running totals as the
 * target's gc.get_stats() has them (known false: unreadable, not served),
 * and one collection's pause from its record (the histogram only). */
void met_totals(struct metrics *m, struct met_target *t, int gen, bool known, uint64_t collections,
		uint64_t collected, uint64_t uncollectable);
void met_pause(struct metrics *m, struct met_target *t, int gen, uint64_t pause_ns);
void met_records_missed(struct metrics *m, struct met_target *t, uint64_t count);
void met_exited(struct metrics *m, struct met_target *t, uint64_t now_ns);
/* Drop a target's series now (detached by a reload). */
void met_target_remove(struct metrics *m, struct met_target *t);
void met_failure(struct metrics *m, enum met_reason r);

/* With m->mu held, after a render or a push: drop the exited targets
 * served (by a scrape, and by a push when OTLP is on; by a push alone while
 * nothing has scraped), and those kept for max_age_ns. */
void met_render_done(struct metrics *m, uint64_t now_ns, uint64_t max_age_ns);

/* The labels of a process: the container id and the systemd unit from the
 * text of /proc/PID/cgroup (untrusted: any bytes).  "" when none. */
void cgroup_labels(const char *text, char *container, size_t csize, char *unit, size_t usize);

#endif
