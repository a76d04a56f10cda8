/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* Which gdb `gcscope gdb`, `gcscope core` and `doctor` run, and whether it
 * can make inferior calls on this machine (py-gc-types --check-traverse). */
#ifndef GCSCOPE_GDBPICK_H
#define GCSCOPE_GDBPICK_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>

#define GDBPICK_MAX 8

struct gdbexe {
	char path[PATH_MAX];	/* the gdb binary */
	char root[PATH_MAX];	/* "" (ours), or the root filesystem it belongs to */
	char loader[PATH_MAX];	/* root's dynamic loader, which runs it ("" if ours) */
	char libpath[4 * PATH_MAX + 128]; /* --library-path for the loader */
	char version[32];	/* gdb.VERSION, "" until probed */
	int calls;		/* 1 can make inferior calls here, 0 cannot, -1 not probed */
	char why[512];		/* calls == 0: what gdb said */
};

struct gdbpick {
	struct gdbexe cand[GDBPICK_MAX];	/* in the order tried */
	int n;					/* candidates found */
	int chosen;				/* index into cand, or -1: no gdb at all */
	bool forced;				/* GCSCOPE_GDB named it: not probed */
};

/* Find the gdb to run.  GCSCOPE_GDB=PATH: that one, not probed unless
 * probe_forced.  Else `gdb` on PATH, then the gdbs of the chroots in
 * gcscope's cache (${GCSCOPE_CACHE:-~/.cache/gcscope}/chroots/<suite>,
 * tests/targets/chroot.sh), each probed in turn (a child of ours is attached
 * and made to call getpid()) until one can make the call: the first that can
 * is chosen, else the first found. */
void gdbpick_choose(struct gdbpick *p, bool probe_forced);

/* Fill e for the gdb at path (a name is looked up in PATH); false if there
 * is none.  A gdb in another root (ROOT/usr/bin/gdb, ROOT/bin/gdb) is run by
 * ROOT's dynamic loader with ROOT's libraries: its own python and data
 * directory follow from its path. */
bool gdbexe_init(struct gdbexe *e, const char *path);

/* Probe e (sets version, calls, why). */
void gdbexe_probe(struct gdbexe *e);

/* The words that start e, in order (at most 4), for an argv; returns how many. */
int gdbexe_argv(const struct gdbexe *e, const char *out[4]);

/* One line about the choice, for a note ("" when the first gdb found makes
 * calls: nothing to say). */
void gdbpick_note(const struct gdbpick *p, char *buf, size_t size);

/* "gdb 16.3 (PATH)" or "gdb 16.3 (PATH, the chroot ROOT's)". */
void gdbexe_name(const struct gdbexe *e, char *buf, size_t size);

#endif
