/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A small JSON validator (RFC 8259) for the harnesses' oracles: what
 * user/json.c writes, and the JSON sink, must be one valid value per line,
 * valid UTF-8, with no raw control character (json.c escapes DEL too).
 */
#ifndef GCSCOPE_JSONCHECK_H
#define GCSCOPE_JSONCHECK_H

#include <stdbool.h>
#include <string.h>

#include "common.h"

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

/* Does p..e (no newline in it) hold exactly one JSON value? */
static inline bool json_line_valid(const char *p, const char *e)
{
	const char *end = value(p, e, 0);

	return end && ws(end, e) == e;
}

#endif
