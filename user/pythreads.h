/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Python thread names: threading.Thread.name of each thread of the target,
 * by native thread id, read from outside (user/pyobj.h) in
 * sys.modules['threading']._active -- {ident: Thread} -- and each Thread's
 * _name and _native_id (Lib/threading.py, 3.8+).  The kernel's name of a
 * thread is the process's on 3.9-3.13 (3.14 sets it, cut to 15 bytes).
 *
 * Names are cached; an unknown thread makes the table be read again, at
 * most every 100 ms, and it is read again every 2 s (names change).
 */
#ifndef GCSCOPE_PYTHREADS_H
#define GCSCOPE_PYTHREADS_H

#include <stdint.h>
#include <stddef.h>

struct pytarget;
struct pythreads;

/* NULL, with why, when the target's layout lacks what the walk needs. */
struct pythreads *pythreads_new(const struct pytarget *t, char *why, size_t size);
void pythreads_free(struct pythreads *pt);

/* The Python name of thread tid, or NULL if unknown (not a threading
 * thread, gone, or not readable).  now_ns: CLOCK_MONOTONIC.  Valid until
 * the next call. */
const char *pythreads_name(struct pythreads *pt, uint32_t tid, uint64_t now_ns);

/* Read the table now; returns the threads found, or -1. */
int pythreads_scan(struct pythreads *pt);

#endif
