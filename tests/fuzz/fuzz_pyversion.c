// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The version a target states as text (user/elfinfo.c): parse_py_version()
 * of a PY_VERSION string, and scan_py_getversion() over the target's
 * writable memory where 3.9/3.10 keep sys.version (target.c).  The version
 * chooses the layout column, so a wrong one is a wrong layout.
 *
 * Input: the memory; its first bytes up to a NUL are also parsed alone.
 */
#include <string.h>

#include "elfinfo.h"
#include "fuzz.h"

static void check(uint32_t v)
{
	/* 3.X.Y with X, Y < 100, and nothing in the low byte */
	FUZZ_ASSERT(v == 0 || ((v >> 24) == 3 && ((v >> 16) & 0xff) < 100 && ((v >> 8) & 0xff) < 100 &&
			       !(v & 0xff)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t n = strnlen(s, size);
	uint32_t v = parse_py_version(s, n);

	check(v);
	/* digits first ("03.13.0" is 3.13.0: both callers only parse strings
	 * that start with "3.") */
	if (v)
		FUZZ_ASSERT(n >= 5 && s[0] >= '0' && s[0] <= '9');
	check(scan_py_getversion(s, size, parse_py_version));
	v = parse_any_py_version(s, n);
	FUZZ_ASSERT(v == 0 || (v >> 24) == 2 || (v >> 24) == 3);
	v = scan_py_getversion(s, size, parse_any_py_version);
	FUZZ_ASSERT(v == 0 || (v >> 24) == 2 || (v >> 24) == 3);
	return 0;
}
