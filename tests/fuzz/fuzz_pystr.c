// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The str decoder of trace --stack and --owners (pystr_to_utf8(),
 * user/pystack.c): PyUnicode data of kind 1, 2 or 4 from the target as
 * UTF-8, and the text line the names end up in (pystack_format_line()).
 *
 * Input: 1 byte kind, 2 bytes output size, 1 byte line width, 1 byte split,
 * then the code units (the first split% of them a function name, the rest
 * a file name).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fuzz.h"
#include "pystack.h"

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_char_len(p);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

static char *decode(const uint8_t *data, size_t len, int kind, size_t outsize)
{
	size_t nchars = kind > 0 ? len / (size_t)kind : len;
	char *out = malloc(outsize);
	size_t r;

	if (!out)
		abort();
	r = pystr_to_utf8(data, nchars, kind, out, outsize);
	if (kind != 1 && kind != 2 && kind != 4) {
		FUZZ_ASSERT(r == (size_t)-1 && out[0] == '\0');
		return out;
	}
	/* U+0000 is a str's to hold (code.replace(co_name="a\0b")): the
	 * name then reads as its head, a C string */
	FUZZ_ASSERT(r < outsize && strlen(out) <= r && valid_utf8(out));
	/* a string that fits comes out whole: the 4 bytes of UTF-8 a code
	 * point needs at most, and the NUL */
	if (nchars * 4 + 1 <= outsize)
		FUZZ_ASSERT(r >= nchars);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int kinds[] = { 1, 2, 4, 0, 3 };
	struct fin in = { data, size };
	int kind = kinds[fin_u8(&in) % 5];
	size_t outsize = fin_u16(&in) % 2100 + 1;
	int width = fin_u8(&in);
	size_t split = in.n ? fin_u8(&in) * in.n / 256 : 0;
	struct pystack_frame fr;
	char line[256], *func, *file;

	if (kind != 1 && kind != 2 && kind != 4) {
		free(decode(in.p, in.n, kind, outsize));
		return 0;
	}
	split -= split % kind;
	func = decode(in.p, split, kind, outsize);
	file = decode(in.p + split, in.n - split, kind, outsize);
	fr.function = func;
	fr.file = file;
	fr.line = (int)outsize - 2;	/* -1 (unknown) and up */
	pystack_format_line(&fr, line, sizeof(line), width);
	FUZZ_ASSERT(strlen(line) < sizeof(line) && valid_utf8(line) && !strchr(line, '\n'));
	free(func);
	free(file);
	return 0;
}
