// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The JSON Lines writer (user/json.c) with strings from the target in it:
 * whatever the bytes and however the calls nest, a record must be one
 * line of valid JSON (RFC 8259) and valid UTF-8, checked here by a small
 * validator.
 *
 * Input: a program.  Each op byte picks a call (low 3 bits) and a string
 * length (high bits) taken from what follows; the harness keeps the
 * nesting well formed, as the callers in user/ do, and closes what is
 * open at the end.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fuzz.h"
#include "json.h"
#include "jsoncheck.h"

#define MAX_DEPTH 12

/* ---- the program ---- */

static char *take_str(struct fin *in, size_t len)
{
	char *s;

	if (len > in->n)
		len = in->n;
	s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, in->p, len);
	s[len] = '\0';		/* cut at the first NUL, as a C string is */
	in->p += len;
	in->n -= len;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	bool is_obj[MAX_DEPTH + 1];	/* what is open at each depth */
	int depth = 0, steps = 0;
	char *buf = NULL, *nl;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct jw w;

	if (!f)
		abort();
	jw_init(&w, f);
	jw_obj_begin(&w);
	is_obj[0] = true;
	while (in.n && steps++ < 200) {
		uint8_t op = fin_u8(&in);
		char *k = is_obj[depth] ? take_str(&in, op >> 3) : NULL;
		char *v;
		double d;

		switch (op & 7) {
		case 0:
			v = take_str(&in, fin_u8(&in));
			jw_str(&w, k, (op >> 3) == 31 ? NULL : v);
			free(v);
			break;
		case 1:
			jw_int(&w, k, (int64_t)fin_u64(&in));
			break;
		case 2:
			jw_uint(&w, k, fin_u64(&in));
			break;
		case 3:
			fin_take(&in, &d, sizeof(d));
			jw_double(&w, k, d);
			break;
		case 4:
			if (fin_u8(&in) & 1)
				jw_bool(&w, k, op & 8);
			else
				jw_null(&w, k);
			break;
		case 5:		/* open an object or array */
			if (depth == MAX_DEPTH)
				break;
			if (!is_obj[depth]) {
				jw_obj_begin(&w);
				is_obj[++depth] = true;
			} else if (op & 8) {
				jw_key_obj(&w, k);
				is_obj[++depth] = true;
			} else {
				jw_key_arr(&w, k);
				is_obj[++depth] = false;
			}
			break;
		case 6:		/* close */
			if (depth == 0)
				break;
			if (is_obj[depth])
				jw_obj_end(&w);
			else
				jw_arr_end(&w);
			depth--;
			break;
		case 7: {	/* a bare string, as json_put_str() writes names */
			char *sb = NULL;
			size_t sl = 0;
			FILE *g = open_memstream(&sb, &sl);

			if (!g)
				abort();
			v = take_str(&in, fin_u8(&in));
			json_put_str(g, v);
			fclose(g);
			FUZZ_ASSERT(str(sb, sb + sl) == sb + sl);
			free(sb);
			free(v);
			break;
		}
		}
		free(k);
	}
	for (; depth > 0; depth--) {
		if (is_obj[depth])
			jw_obj_end(&w);
		else
			jw_arr_end(&w);
	}
	jw_obj_end(&w);
	jw_line(&w);
	fclose(f);
	/* one line, one value, nothing after it */
	nl = memchr(buf, '\n', blen);
	FUZZ_ASSERT(nl && nl == buf + blen - 1);
	FUZZ_ASSERT(value(buf, nl, 0) == nl);
	free(buf);
	return 0;
}
