/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The tier without BPF: a CPython target's own GC statistics, read from
 * outside with process_vm_readv() (pytarget_read()).  No probe, no
 * privilege beyond ptrace-read access to the target (same user, or
 * CAP_SYS_PTRACE), nothing in the target changes.
 *
 * What is read is what bpf/gcscope.bpf.c reads, through the same resolved
 * layout (pylayout.tsv, _Py_DebugOffsets, DWARF):
 *   _PyRuntime + runtime.interpreters_main -> the main interpreter
 *   + interp.gc -> its GC state
 *   + gc.generation_stats:
 *     3.9-3.14: struct gc_generation_stats generation_stats[3]
 *               {collections, collected, uncollectable}, running totals;
 *     3.15+ (GH-146527, PR #146532): a struct gc_stats * to one ring of
 *               records per generation (young items[11], old[2] items[3],
 *               each with the int8 index of the slot last written).  A
 *               record holds the running totals as of one collection and
 *               that collection's ts_start/ts_stop, candidates, duration
 *               and heap_size.
 * gcstats_read() gives the running totals: exactly what the target's
 * gc.get_stats() shows.  On 3.15 the rings also give per-collection
 * records, as _remote_debugging.GCMonitor reads them: gcstats_ring_*().
 *
 * Everything read is the target's and untrusted: pointers, the ring index,
 * counters that must only grow.  A value that cannot be trusted is unknown,
 * never 0.
 */
#ifndef GCSCOPE_GCSTATS_H
#define GCSCOPE_GCSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "target.h"

#define GCSTATS_MAXGEN 4

struct gcstats_gen {
	bool known;
	uint64_t collections, collected, uncollectable;
};

struct gcstats {
	int ngen;				/* 3 in 3.9-3.15 */
	struct gcstats_gen gen[GCSTATS_MAXGEN];
};

/* The running totals per generation, as gc.get_stats() shows them.
 * Returns an EXIT_* code (EXIT_OK) and on failure one line in err:
 * EXIT_UNSUPPORTED when the layout of these fields is not known for the
 * target, EXIT_NO_PROCESS when it has gone, EXIT_PERMISSION when its
 * memory is refused (another user's, no CAP_SYS_PTRACE), EXIT_FAILURE_INTERNAL
 * when it cannot be read otherwise or holds no initialised interpreter. */
int gcstats_read(const struct pytarget *t, struct gcstats *out, char *err, size_t errsz);

/* Can this target's counters be read without BPF, and how (or why not)?
 * One sentence in why.  Reads nothing from the target. */
bool gcstats_available(const struct pytarget *t, char *why, size_t size);
/* Does it publish per-collection records (3.15+)? */
bool gcstats_has_ring(const struct pytarget *t);

/* --- 3.15+: per-collection records --------------------------------------
 * A cursor over the target's rings.  gcstats_ring_open() places it after the
 * newest record of each generation; each gcstats_ring_poll() then calls cb,
 * oldest first (by ts_start, across generations), for every record written
 * since the previous call, and adds to *missed the collections whose
 * records the ring overwrote before it was read (a ring holds 11 young and
 * 3 of each old generation: poll more often than they fill).  The
 * gc_collection given to cb has: pid, gen, ts_start/ts_end (the target's
 * PyTime_PerfCounterRaw(), CLOCK_MONOTONIC on Linux, as bpf_ktime_get_ns()),
 * pause_ns, collected/uncollectable (have_counts), candidates, heap_size;
 * tid 0 and thread NULL: the records say nothing of the thread.  The
 * oldest record the ring holds has no predecessor left to subtract: it comes
 * with its times and heap_size but have_counts false.  A cb returning
 * non-zero stops the poll (the rest is given next time).
 *
 * The pytarget must outlive the cursor. */
struct gcstats_ring;

int gcstats_ring_open(const struct pytarget *t, struct gcstats_ring **out, char *err, size_t errsz);
/* Make the next poll give every record the ring still holds. */
void gcstats_ring_rewind(struct gcstats_ring *r);
/* EXIT_OK, or an EXIT_* code (as gcstats_read()) with one line in err; cb's
 * non-zero value is returned as is.  missed may be NULL.  cb's c is the first
 * member of a struct gcstats_item: (const struct gcstats_item *)c also
 * gives the raw record and the target's own duration_s. */
int gcstats_ring_poll(struct gcstats_ring *r, int (*cb)(const struct gc_collection *c, void *ctx), void *ctx,
		      uint64_t *missed, char *err, size_t errsz);
void gcstats_ring_close(struct gcstats_ring *r);

/* --- pure parts, unit tested (tests/unit/test_gcstats.c) ----------------- */

/* Where a record's fields are; -1 if the field is not in the record. */
struct gcstats_rec_shape {
	uint32_t size;
	int32_t ts_start, ts_stop, collections, collected, uncollectable, candidates, duration, heap_size;
};

/* The 3.15 rings, inside struct gc_stats. */
struct gcstats_ring_shape {
	uint32_t size;				/* of struct gc_stats, all read at once */
	uint32_t base[3], index[3], len[3];	/* items[], int8 index, slots */
	int32_t seq;				/* uint32 update_seq, -1 if absent */
};

/* One record, decoded. */
struct gcstats_rec {
	int64_t ts_start, ts_stop;
	int64_t collections, collected, uncollectable, candidates, heap_size;
	double duration;			/* running total, seconds */
	bool has_candidates, has_heap_size, has_duration;
};

/* The shapes from a layout; false with a reason if unusable. */
bool gcstats_shape_from_layout(const struct pylayout *l, struct gcstats_rec_shape *rec,
			       struct gcstats_ring_shape *ring, bool *is_ring, char *why, size_t size);

/* Record slot of a gc_stats image (size bytes, ring->size of them). */
void gcstats_decode_rec(const struct gcstats_rec_shape *rs, const uint8_t *p, struct gcstats_rec *out);

/* The per-generation state of a cursor. */
struct gcstats_cursor_gen {
	bool have_last;
	struct gcstats_rec last;		/* the newest record given */
};

/* A record new to the cursor, and what it says of its collection. */
struct gcstats_item {
	struct gc_collection c;
	struct gcstats_rec rec;
	double duration_s;		/* the target's own measure of it; -1 if unknown */
	uint64_t missed_before;		/* collections of its generation between the record
					 * given before it and this one that the ring no
					 * longer holds (their sum is *gap) */
};

/* The records of generation g in a gc_stats image (ring->size bytes) that
 * are newer than cur->last, oldest first, at most max of them (a ring has
 * at most 127 slots); *gap: the collections between cur->last and the
 * first of them that the ring no longer holds.  Does not move cur.
 * Returns how many, or -1 if the image is garbage (an index outside its
 * ring). */
int gcstats_ring_new(const struct gcstats_rec_shape *rs, const struct gcstats_ring_shape *sh, const uint8_t *img,
		     int g, const struct gcstats_cursor_gen *cur, struct gcstats_item *out, int max, uint64_t *gap);

#endif
