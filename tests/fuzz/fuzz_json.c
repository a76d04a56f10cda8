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

#define MAX_DEPTH 12

/* ---- a validator: true if p..end holds exactly one JSON value ---- */

static const char *ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static const char *str(const char *p, const char *e)
{
	if (p >= e || *p++ != '"')
		return NULL;
	while (p < e && *p != '"') {
		const unsigned char *u = (const unsigned char *)p;

		if (*u < 0x20 || *u == 0x7f)
			return NULL;	/* a raw control: json.c escapes DEL too */
		if (*p == '\\') {
			if (++p >= e)
				return NULL;
			if (*p == 'u') {
				if (e - p < 5)
					return NULL;
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (*u >= 0x80) {
			int n = utf8_char_len(u);

			if (!n || e - p < n)
				return NULL;
			p += n;
			continue;
		}
		p++;
	}
	return p < e ? p + 1 : NULL;
}

static const char *value(const char *p, const char *e, int depth);

static const char *number(const char *p, const char *e)
{
	const char *s = p;

	if (p < e && *p == '-')
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return NULL;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return NULL;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static const char *seq(const char *p, const char *e, int depth, char close, bool keys)
{
	p = ws(p + 1, e);
	if (p < e && *p == close)
		return p + 1;
	for (;;) {
		if (keys) {
			p = str(ws(p, e), e);
			if (!p || (p = ws(p, e)) >= e || *p++ != ':')
				return NULL;
		}
		p = value(p, e, depth + 1);
		if (!p || (p = ws(p, e)) >= e)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *value(const char *p, const char *e, int depth)
{
	p = ws(p, e);
	if (p >= e || depth > 64)
		return NULL;
	switch (*p) {
	case '{':
		return seq(p, e, depth, '}', true);
	case '[':
		return seq(p, e, depth, ']', false);
	case '"':
		return str(p, e);
	case 't':
		return e - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f':
		return e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	case 'n':
		return e - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
	default:
		return number(p, e);
	}
}

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
