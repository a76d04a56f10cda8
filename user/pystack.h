/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Python stacks of collecting threads (trace --stack, docs/stacks.md).
 *
 * BPF (bpf/pystack.bpf.h) captures raw (code object, instruction) pairs at
 * the start of a collection and sends them as a GCSCOPE_EV_STACK record just
 * before the collection's record.  This file configures that capture from
 * the target's layout, keeps each stack until its collection arrives, and
 * turns it into (file, function, line) from the target's memory.
 *
 * The decoders at the end (line tables, PyUnicode data) are pure functions,
 * unit tested in tests/unit/test_pystack.c.
 */
#ifndef GCSCOPE_PYSTACK_H
#define GCSCOPE_PYSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "gcscope.h"

struct gcscope_bpf;
struct pytarget;
struct pystack;

/* One symbolized frame; the strings live until the next pystack_take(). */
struct pystack_frame {
	const char *file;		/* co_filename, "?" if unreadable */
	const char *function;		/* co_qualname (3.11+) or co_name, "?" */
	int line;			/* -1 if unknown */
};

struct pystack_result {
	int n;
	bool truncated;			/* deeper than GCSCOPE_STACK_MAX frames */
	uint32_t flags;			/* GCSCOPE_STACK_F_* as captured */
	struct pystack_frame frames[GCSCOPE_STACK_MAX];
};

/* Set the BPF side's targ_ps_* rodata (before load).
 * Returns 0, or -ENOTSUP with a one-line reason in why when the target's
 * layout lacks something the capture needs. */
int pystack_configure(struct gcscope_bpf *obj, const struct pytarget *t, char *why, size_t size);

/* A symbolizer for the target (its pid, layout and type addresses are
 * copied: t may be closed after).  NULL with why set on failure. */
struct pystack *pystack_new(const struct pytarget *t, char *why, size_t size);
void pystack_free(struct pystack *ps);

/* Keep a GCSCOPE_EV_STACK record until its collection arrives.  Returns 0,
 * or -EINVAL for a record that is too short or inconsistent. */
int pystack_stash(struct pystack *ps, const void *data, size_t size);

/* The stack of the collection of thread tid that started at ts_start,
 * symbolized; NULL if no stack came for it.  Valid until the next call. */
const struct pystack_result *pystack_take(struct pystack *ps, uint32_t tid, uint64_t ts_start);

/* Symbolize the stack of that collection now, while the target surely has
 * its code objects (--owners: when a finding arrives, mid-collection); a
 * later pystack_take() returns this result. */
void pystack_resolve(struct pystack *ps, uint32_t tid, uint64_t ts_start);

/* Why a stack has no frames ("no Python thread state for this thread"),
 * or NULL. */
const char *pystack_error(const struct pystack_result *r);

/* A str object of the target as UTF-8, in a new string the caller frees;
 * NULL if it is not a readable str.  (Also used for type names, objects.c.) */
char *pystack_read_str(struct pystack *ps, uint64_t addr);

/* Symbolizer statistics, for -v and tests. */
struct pystack_stats {
	uint64_t frames, cache_hits, bad_code, read_faults;
};
void pystack_get_stats(const struct pystack *ps, struct pystack_stats *out);

/* The fatal record's names (bpf/fatal.bpf.h): set its targ_fs_* rodata
 * and targ_fatal_names (before load).  Returns 0, or -ENOTSUP when the
 * layout lacks something (the record then has no Python frames). */
int pystack_configure_fatal(struct gcscope_bpf *obj, const struct pytarget *t);

/* The Python stack of a GCSCOPE_EV_FATAL record, from the names and line
 * tables BPF copied (the target's memory is gone by now).  Valid until the
 * next pystack_take() or pystack_fatal(). */
const struct pystack_result *pystack_fatal(struct pystack *ps, const struct gcscope_fatal *f);

/* ---- pure decoders ---------------------------------------------------- */

/* Line of byte offset addrq in a code object, or -1 if the table says the
 * instruction has no line.  addrq < 0 gives firstlineno (as
 * PyCode_Addr2Line does).
 *   pyline_lnotab:    3.9 co_lnotab (Objects/lnotab_notes.txt)
 *   pyline_linetable: 3.10 co_linetable (PEP 626)
 *   pyline_locations: 3.11+ co_linetable (Objects/locations.md) */
int pyline_lnotab(const uint8_t *tab, size_t len, int firstlineno, long addrq);
int pyline_linetable(const uint8_t *tab, size_t len, int firstlineno, long addrq);
int pyline_locations(const uint8_t *tab, size_t len, int firstlineno, long addrq);

/* nchars code points of PyUnicode kind 1 (latin-1), 2 (UCS-2) or 4 (UCS-4)
 * at data, as UTF-8 into out (always NUL-terminated, cut at a character
 * boundary).  Surrogates and values past U+10FFFF become U+FFFD.  Returns
 * the bytes written, or (size_t)-1 for a bad kind. */
size_t pystr_to_utf8(const void *data, size_t nchars, int kind, char *out, size_t size);

/* One text-mode stack line into out (no newline), under width columns. */
void pystack_format_line(const struct pystack_frame *fr, char *out, size_t size, int width);

#endif
