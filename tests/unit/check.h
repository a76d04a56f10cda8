/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* A minimal test harness: CHECK() records a failure and goes on; main ends
 * with CHECK_DONE(), which prints "N passed, N failed" and sets the exit code. */
#ifndef GCSCOPE_CHECK_H
#define GCSCOPE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (cond) {                                                          \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                    \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                           \
	do {                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                  \
		if (_a == _b) {                                                      \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); \
		}                                                                    \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                           \
	do {                                                                         \
		const char *_a = (a), *_b = (b);                                     \
		if (_a && _b && !strcmp(_a, _b)) {                                   \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
				_a ? _a : "(null)", _b ? _b : "(null)");             \
		}                                                                    \
	} while (0)

#define CHECK_DONE(name)                                                             \
	do {                                                                         \
		printf("%s: %d passed, %d failed\n", name, check_passed, check_failed); \
		return check_failed ? 1 : 0;                                         \
	} while (0)

#endif
