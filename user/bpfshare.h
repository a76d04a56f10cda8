/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * One BPF object for the agent's targets of one interpreter build
 * (bpf/shared.bpf.h): loading an object per target costs its attach a parse
 * of the kernel's BTF and a run of the verifier, and the agent's memory a
 * libbpf object and a ring buffer each.  A registry of shared objects, each
 * for one build and one configuration (the same build-id and the same
 * rodata, map sizes and programs, but for what is per target); a target
 * joins one (a slot: its entry in the "targets" map, its counters), its
 * tracer attaches the collection probes for its own pid, and it leaves;
 * the last to leave destroys the object.
 *
 * One ring buffer per object: its records are dispatched in user space, by
 * the pid they carry, to the target's own callback (its tracer's
 * correlator).  A target's records that come before its tracer_start() (it
 * is attached in the attach thread, started by the event loop) are kept in
 * order, at most as many bytes as its own ring would have held, and given
 * to it then: what a ring of its own would have done.
 *
 * Thread safety: join in the attach thread, the rest in the event loop (a
 * member that never started may also leave from the attach thread); one
 * mutex guards the registry and the members.
 */
#ifndef GCSCOPE_BPFSHARE_H
#define GCSCOPE_BPFSHARE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gcscope_bpf;
struct ring_buffer;
struct bpfshare_member;

typedef int (*bpfshare_record_fn)(void *ctx, void *data, size_t size);

/* Targets of one object at most; a build with more gets another object. */
#define BPFSHARE_SLOTS 256
/* The shared ring is this many times one target's (--ringbuf-kb). */
#define BPFSHARE_RING_MULT 16

/* Join the object of *obj's configuration: *obj is opened and configured
 * (rodata, map sizes, autoload) for target pid, not loaded, with its
 * per-target rodata (targ_tgid, targ_runtime, targ_ps_runtime) zero and
 * targ_shared set.  build: the build's identity (its build-id).  On success
 * *obj is the shared, loaded object (the one given is destroyed, or became
 * it) and *out the membership: pending, its records kept until
 * bpfshare_start().  Returns 0 or -errno, with why said in why. */
int bpfshare_join(struct gcscope_bpf **obj, const char *build, long ringbuf_kb, pid_t pid, uint64_t runtime,
		  bpfshare_record_fn fn, void *ctx, struct bpfshare_member **out, char *why, size_t size);

/* From now on its records go to its callback; those kept go first. */
void bpfshare_start(struct bpfshare_member *m);

/* Leave (after the member's own links are destroyed); NULL is a no-op. */
void bpfshare_leave(struct bpfshare_member *m);

/* Its key of counter c in the object's "counters" map. */
uint32_t bpfshare_counter_key(const struct bpfshare_member *m, uint32_t c);

/* Its records dropped in user space (kept before its start, over the
 * bound): collections its counters are short by, as for a full ring. */
uint64_t bpfshare_lost(const struct bpfshare_member *m);

/* The object's ring into *rb (made if NULL), once per ring_buffer: a
 * second member of the same object adds nothing.  0 or -errno. */
int bpfshare_add_ring(struct bpfshare_member *m, struct ring_buffer **rb);

/* Every ring_buffer gcscope makes is said here (tracer_add_ring): a
 * ring_buffer made again may have the address of the one freed before it,
 * and an object's ring must then be added to it again. */
void bpfshare_ring_made(struct ring_buffer *rb);

/* Shared objects loaded now. */
int bpfshare_objects(void);

#endif
