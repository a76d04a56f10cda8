/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * A tiny streaming JSON writer for JSON Lines output: one object per line,
 * keys in the order written.  Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 (thread names come from the target) become U+FFFD.
 */
#ifndef GCSCOPE_JSON_H
#define GCSCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth;
	bool first[16];		/* no comma needed before the next member */
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w);		/* { (as a value, or top level) */
void jw_obj_end(struct jw *w);
void jw_key_obj(struct jw *w, const char *key);	/* "key": { */
void jw_key_arr(struct jw *w, const char *key);	/* "key": [ */
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v);	/* key NULL in arrays */
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_double(struct jw *w, const char *key, double v);
/* v / 10^decimals, exactly: jw_fixed(w, "ts", ns, 3) writes nanoseconds as
 * microseconds with no rounding (a double has too few digits for them). */
void jw_fixed(struct jw *w, const char *key, int64_t v, unsigned decimals);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* v, or null when it is not known: an unknown count is never 0 */
void jw_int_known(struct jw *w, const char *key, bool known, int64_t v);
void jw_line(struct jw *w);			/* end of a JSON Lines record */

/* s as a JSON string, quotes included: invalid UTF-8 becomes U+FFFD. */
void json_put_str(FILE *f, const char *s);

#endif
