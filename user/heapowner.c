// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Free-threaded CPython allocates every object from the mimalloc heap of
 * the thread that makes it (_PyThreadState_GET()'s heaps, pycore_mimalloc.h,
 * 3.13t), and mimalloc's segments are aligned to their size: an object's
 * segment is its address masked (_mi_ptr_segment()).  The segment's
 * thread_id is the owning thread's struct pthread * (x86-64: the TLS slot
 * 0 mimalloc reads, prim.h), 0 once the thread exited and its segments
 * were abandoned; a segment another thread reclaimed is that thread's.
 * CPython itself gives the segment's thread back to each object's ob_tid
 * after a collection (gc_restore_tid(), Python/gc_free_threading.c): the
 * owner here is the one the interpreter uses for biased reference counts.
 */
#include <stdio.h>
#include <string.h>

#include "heapowner.h"
#include "libcthread.h"

int heapowner_layout(const struct pytarget *t, struct heapowner_cfg *cfg, char *why, size_t size)
{
	struct procmaps pm;
	long shift;

	memset(cfg, 0, sizeof(*cfg));
	if (!t->free_threaded) {
		snprintf(why, size, "not a free-threaded build");
		return -1;
	}
	shift = pyl(&t->layout, PYL_FT_MI_SEGMENT_SHIFT);
	if (!pyl_known(&t->layout, PYL_FT_MI_SEGMENT_SHIFT) || shift < 16 || shift > 40 ||
	    !pyl_known(&t->layout, PYL_MI_SEGMENT_THREAD_ID) || !pyl_known(&t->layout, PYL_RUNTIME_FINALIZING)) {
		snprintf(why, size, "the layout of %s lacks mimalloc's segments", t->py_inside);
		return -1;
	}
	if (procmaps_read(&pm, t->pid)) {
		snprintf(why, size, "cannot read /proc/%d/maps", t->pid);
		return -1;
	}
	cfg->pthread_tid = libc_pthread_tid_offset(&pm);
	procmaps_free(&pm);
	if (!cfg->pthread_tid) {
		snprintf(why, size, "no _thread_db_pthread_tid in the target's libc (not glibc?)");
		return -1;
	}
	cfg->seg_mask = ~((1ULL << shift) - 1);
	cfg->seg_thread = (uint32_t)pyl(&t->layout, PYL_MI_SEGMENT_THREAD_ID);
	cfg->finalizing = t->runtime_addr + (uint64_t)pyl(&t->layout, PYL_RUNTIME_FINALIZING);
	return 0;
}
