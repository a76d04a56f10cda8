// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <math.h>
#include <string.h>

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

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t json_escape(const char *str, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;
	char tmp[8];

#define PUT(c) do { if (o + 1 < size) out[o] = (c); o++; } while (0)
	PUT('"');
	while (*s) {
		int n = utf8_len(s);
		const char *e = NULL;

		if (n == 0) {			/* invalid byte: U+FFFD */
			e = "\xef\xbf\xbd";
			n = 1;
		} else if (*s == '"') {
			e = "\\\"";
		} else if (*s == '\\') {
			e = "\\\\";
		} else if (*s == '\n') {
			e = "\\n";
		} else if (*s == '\t') {
			e = "\\t";
		} else if (*s == '\r') {
			e = "\\r";
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", *s);
			e = tmp;
		}
		if (e) {
			for (; *e; e++)
				PUT(*e);
		} else {
			for (int i = 0; i < n; i++)
				PUT(s[i]);
		}
		s += n;
	}
	PUT('"');
#undef PUT
	if (size)
		out[o < size ? o : size - 1] = '\0';
	return o;
}

static void key(struct jw *w, const char *k)
{
	char buf[256];

	sep(w);
	if (k) {
		json_escape(k, buf, sizeof(buf));
		fprintf(w->f, "%s:", buf);
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
	char buf[1024];

	key(w, k);
	if (!v) {
		fputs("null", w->f);
		return;
	}
	json_escape(v, buf, sizeof(buf));
	fputs(buf, w->f);
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
