/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * The agent's discovery: scans of /proc for processes to trace.  A process
 * is looked at when first seen and again when it execs or renames itself
 * (its /proc/PID/exe or comm changes); one that maps a file named like a CPython runtime (python*,
 * libpython*; the tracer then checks _PyRuntime) is offered to the agent.
 * What is remembered is one entry per live process: bounded by the
 * host's pid count, and entries of gone processes are dropped each scan.
 */
#ifndef GCSCOPE_DISCOVER_H
#define GCSCOPE_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct discover;

/* What the agent says of an offered process. */
enum disc_verdict {
	DISC_DONE,		/* taken, or refused: do not offer it again until it execs */
	DISC_RETRY,		/* not ready yet (a runtime still starting): offer it at the next scan */
};

/* An offered process: its pid, executable (as we see it: readlink of
 * /proc/PID/exe) and comm. */
struct disc_proc {
	pid_t pid;
	const char *exe;
	const char *comm;
	bool python;		/* maps a file named like a CPython runtime */
	bool young;		/* first offered less than 10 s ago: DISC_RETRY is heeded */
};

struct discover *discover_new(void);
void discover_free(struct discover *d);

/* One scan: offer(p, ctx) for each process newly seen (or exec'd, or to
 * retry) that maps a CPython-looking file, or matches (exe, its basename,
 * or comm) one of the globs.  all: every CPython-looking process. */
int discover_scan(struct discover *d, bool all, char *const *globs, int nglobs,
		  enum disc_verdict (*offer)(const struct disc_proc *p, void *ctx), void *ctx);

/* Forget everything: the next scan offers every process again (a reload
 * changed what is selected). */
void discover_reset(struct discover *d);

/* Does a process match one of the globs (fnmatch on its executable, the
 * executable's basename, its comm)? */
bool discover_match(const char *exe, const char *comm, char *const *globs, int nglobs);

/* Does a path's basename look like a CPython runtime: python3.11,
 * python3.13d, libpython3.12.so.1.0? */
bool discover_python_name(const char *path);

#endif
