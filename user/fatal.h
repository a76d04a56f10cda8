/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The native side of the collection that kills the process (docs/fatal.md):
 * the code addresses BPF found on the dying thread's stack
 * (bpf/fatal.bpf.h), named from the files on disk (the process is gone):
 * ELF symbols, DWARF inlined functions where there is debug info, and the
 * collector's phase they show, as gdb/gcscope_threads.py names it.
 */
#ifndef GCSCOPE_FATAL_H
#define GCSCOPE_FATAL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "gcscope.h"

/* One native frame: a return address (or the interrupted instruction). */
struct fatal_frame {
	uint64_t addr;
	bool ip;			/* the instruction the thread was at */
	const char *path;		/* the file, "?" if unknown */
	const char *file;		/* its base name */
	const char *function;		/* ELF symbol, "?" if none covers it */
	uint64_t offset;		/* addr - function start, if function */
	const char *inlined;		/* innermost inlined function (DWARF), or NULL */
	bool calls_out;			/* its call goes through the PLT (to another file) */
	bool extension;			/* in neither the C library nor the interpreter */
};

struct fatal_native {
	int n;
	struct fatal_frame frames[GCSCOPE_FATAL_HITS];
	/* the phase: a key of gdb's PHASES ("traverse", "clear", ...) and its
	 * text, and the function that shows it; NULL if none does */
	const char *phase, *phase_text, *phase_function;
	/* the innermost frame outside the C library (abort(), raise()...) */
	const struct fatal_frame *in;
	char *strs[4 * GCSCOPE_FATAL_HITS + 2 * GCSCOPE_FATAL_FILES];
	int nstrs;
};

/* Name e's hits from the files on disk into out (strings owned by out);
 * root: the target's root directory as we see it (debug files of a
 * chroot's binaries are under it), "/" or NULL for ours.
 * Word hits that do not follow a call instruction are dropped: code
 * pointers left on the stack, not return addresses. */
void fatal_native_resolve(const struct gcscope_fatal *e, const char *root, struct fatal_native *out);
void fatal_native_free(struct fatal_native *out);

/* The phase a function name (ELF symbol or inlined) shows, or NULL;
 * *text its description. */
const char *fatal_phase_of(const char *function, const char **text);

#endif
