// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <math.h>
#include <string.h>

#include "common.h"
#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

static void sep(struct jw *w)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

static void push(struct jw *w)
{
	if (w->depth < (int)(sizeof(w->first) - 1))
		w->depth++;
	w->first[w->depth] = true;
}

void json_put_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	/* Streamed, not through a buffer: a name from the target can be long
	 * (a file name of 1024 code points, a container path), and a cut
	 * string would be a broken record. */
	fputc('"', f);
	while (*s) {
		int n = utf8_char_len(s);

		if (n == 0) {			/* invalid byte: U+FFFD */
			fputs("\xef\xbf\xbd", f);
			n = 1;
		} else if (*s == '"') {
			fputs("\\\"", f);
		} else if (*s == '\\') {
			fputs("\\\\", f);
		} else if (*s == '\n') {
			fputs("\\n", f);
		} else if (*s == '\t') {
			fputs("\\t", f);
		} else if (*s == '\r') {
			fputs("\\r", f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s);
		} else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 controls (U+0080-U+009F) are valid JSON raw, but
			 * not what a terminal showing the stream should get */
			fprintf(f, "\\u%04x", s[1]);
		} else {
			fwrite(s, 1, n, f);
		}
		s += n;
	}
	fputc('"', f);
}

static void key(struct jw *w, const char *k)
{
	sep(w);
	if (k) {
		json_put_str(w->f, k);
		fputc(':', w->f);
	}
}

void jw_obj_begin(struct jw *w)
{
	if (w->depth > 0)
		sep(w);
	fputc('{', w->f);
	push(w);
}

void jw_obj_end(struct jw *w)
{
	fputc('}', w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_key_obj(struct jw *w, const char *k)
{
	key(w, k);
	fputc('{', w->f);
	push(w);
}

void jw_key_arr(struct jw *w, const char *k)
{
	key(w, k);
	fputc('[', w->f);
	push(w);
}

void jw_arr_end(struct jw *w)
{
	fputc(']', w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_str(struct jw *w, const char *k, const char *v)
{
	key(w, k);
	if (!v)
		fputs("null", w->f);
	else
		json_put_str(w->f, v);
}

void jw_int(struct jw *w, const char *k, int64_t v)
{
	key(w, k);
	fprintf(w->f, "%lld", (long long)v);
}

void jw_uint(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_double(struct jw *w, const char *k, double v)
{
	key(w, k);
	if (isfinite(v))
		fprintf(w->f, "%.9g", v);
	else
		fputs("null", w->f);
}

void jw_fixed(struct jw *w, const char *k, int64_t v, unsigned decimals)
{
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v, scale = 1;

	if (decimals > 18)
		decimals = 18;
	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	key(w, k);
	fprintf(w->f, "%s%llu", v < 0 ? "-" : "", (unsigned long long)(mag / scale));
	if (decimals)
		fprintf(w->f, ".%0*llu", (int)decimals, (unsigned long long)(mag % scale));
}

void jw_bool(struct jw *w, const char *k, bool v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *k)
{
	key(w, k);
	fputs("null", w->f);
}

void jw_line(struct jw *w)
{
	fputc('\n', w->f);
	w->depth = 0;
	w->first[0] = true;
}

void jw_int_known(struct jw *w, const char *key, bool known, int64_t v)
{
	if (known)
		jw_int(w, key, v);
	else
		jw_null(w, key);
}
