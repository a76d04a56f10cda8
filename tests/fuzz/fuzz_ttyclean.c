// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The terminal cleaner (tty_clean(), user/common.c), the one way a name
 * from the target (thread name, tp_name, path, file name) reaches a
 * terminal: the result must be valid UTF-8 with no C0/C1 control or DEL,
 * fit the buffer, and be the same in place as copied.
 *
 * Input: 2 bytes output size, then the text (cut at its first NUL, as a C
 * string is).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fuzz.h"

static void check_clean(const char *s, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;

	FUZZ_ASSERT(strlen(s) < size);
	while (*p) {
		int n = utf8_char_len(p);

		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(p[0] >= 0x20 && p[0] != 0x7f);
		FUZZ_ASSERT(!(n == 2 && p[0] == 0xc2 && p[1] < 0xa0));
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	size_t outsize = fin_u16(&in) % 4096 + 1;
	char *text = malloc(in.n + 1), *out = malloc(outsize), *inplace;
	size_t tl;

	if (!text || !out)
		abort();
	memcpy(text, in.p, in.n);
	text[in.n] = '\0';
	tl = strlen(text);
	tty_clean(text, out, outsize);
	check_clean(out, outsize);
	/* never longer than what came in: one '?' per bad byte or character */
	FUZZ_ASSERT(strlen(out) <= tl);
	/* in place (common.c cleans messages in their own buffer) */
	inplace = malloc(outsize > tl + 1 ? outsize : tl + 1);
	if (!inplace)
		abort();
	memcpy(inplace, text, tl + 1);
	tty_clean(inplace, inplace, outsize);
	FUZZ_ASSERT(!strcmp(inplace, out));
	/* clean text stays as it is */
	tty_clean(out, inplace, outsize);
	FUZZ_ASSERT(!strcmp(inplace, out));
	free(inplace);
	free(out);
	free(text);
	return 0;
}
