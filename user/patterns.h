/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* --owners PATTERNS: checked whole when the command line is parsed, before
 * any target is opened (docs/objects.md). */
#ifndef GCSCOPE_PATTERNS_H
#define GCSCOPE_PATTERNS_H

#include <stddef.h>

#define OWNERS_MAX_PATTERNS 32		/* as user/objects.c keeps them */
#define OWNERS_MAX_LEN 200		/* characters in one pattern */

/* 0 if list is a valid --owners value: comma-separated fnmatch(3) globs
 * (leading spaces ignored) and the keyword @heap, at least one, at most
 * OWNERS_MAX_PATTERNS globs of at most OWNERS_MAX_LEN characters, every
 * '[' closed and no trailing '\'.  Else -1, and one line in why that says
 * what is wrong and what to write instead. */
int owners_check(const char *list, char *why, size_t size);

/* One glob: 0, or -1 with the reason (no pattern quoted) in why. */
int glob_check(const char *glob, size_t len, char *why, size_t size);

#endif
