/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * `gcscope trace -- CMD ARGS`: start CMD stopped, follow its exec()s (pyenv
 * shims and wrapper scripts exec the real interpreter) until the file that
 * defines _PyRuntime is mapped, so that probes are in place before the first
 * line of Python runs; then let it go.
 */
#ifndef GCSCOPE_LAUNCH_H
#define GCSCOPE_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

/* Start argv stopped at the point where its CPython runtime is mapped.
 * Returns EXIT_OK with *pid set (the child is still ptrace-stopped: call
 * launch_release() after attaching), or an EXIT_* code with err set. */
int launch_until_python(char *const argv[], pid_t *pid, char *err, size_t errsz);

/* Detach from the child and let it run. */
void launch_release(pid_t pid);

#endif
