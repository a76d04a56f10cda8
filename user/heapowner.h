/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * --owners on free-threaded builds (3.13t+): an object's owner is read from
 * the heap it lives in, when a collection destroys it (bpf/objects.bpf.h
 * heap_owner()), so that no allocation is hooked.  What BPF needs to go
 * from an object's address to a kernel tid: the mimalloc segment mask,
 * where the segment keeps its thread, where glibc keeps the tid, and where
 * the runtime says it is finalizing.
 */
#ifndef GCSCOPE_HEAPOWNER_H
#define GCSCOPE_HEAPOWNER_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

struct heapowner_cfg {
	uint64_t seg_mask;		/* ~(MI_SEGMENT_SIZE - 1) */
	uint32_t seg_thread;		/* mi_segment_t.thread_id */
	uint32_t pthread_tid;		/* glibc's struct pthread: tid */
	uint64_t finalizing;		/* &_PyRuntime._finalizing */
};

/* 0 with cfg filled when t's heap can name owners; else -1 and why says
 * what is missing (a GIL build, no libc tid offset, no layout row). */
int heapowner_layout(const struct pytarget *t, struct heapowner_cfg *cfg, char *why, size_t size);

#endif /* GCSCOPE_HEAPOWNER_H */
