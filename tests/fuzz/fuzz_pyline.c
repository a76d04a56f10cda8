// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The line-table decoders of trace --stack (user/pystack.c): 3.9 co_lnotab,
 * 3.10 co_linetable, 3.11+ location tables.  The table is bytes of the
 * target's code object, co_firstlineno and the instruction offset its ints.
 *
 * Input: 1 byte format (0 lnotab, 1 linetable, 2 locations), 4 bytes
 * firstlineno, 8 bytes addrq, then the table.  Every address of the table
 * is also looked up.
 */
#include <limits.h>

#include "fuzz.h"
#include "pystack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const fn[3])(const uint8_t *, size_t, int, long) = {
		pyline_lnotab, pyline_linetable, pyline_locations,
	};
	struct fin in = { data, size };
	int (*f)(const uint8_t *, size_t, int, long) = fn[fin_u8(&in) % 3];
	int first = (int)fin_u32(&in);
	long addrq = (long)fin_u64(&in);
	int line;

	line = f(in.p, in.n, first, addrq);
	FUZZ_ASSERT(line >= -1);
	/* the first code units, and one past what a table this size can
	 * describe (each lookup is linear: a few hundred keep it fast) */
	for (long a = -2; a < (long)in.n * 16 + 2 && a < 512; a += 2) {
		line = f(in.p, in.n, first, a);
		FUZZ_ASSERT(line >= -1);
		if (a < 0 && first >= 0)
			FUZZ_ASSERT(line == first);	/* as PyCode_Addr2Line */
	}
	return 0;
}
