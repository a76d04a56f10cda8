// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"

bool g_json;
int g_verbose;

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
int utf8_char_len(const unsigned char *s)
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

void tty_clean(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!size)
		return;
	while (*s && o + 1 < size) {
		int n = utf8_char_len(s);

		if (n == 0 || s[0] < 0x20 || s[0] == 0x7f || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
			out[o++] = '?';		/* one '?' for the whole character */
			s += n ? n : 1;
			continue;
		}
		if (o + n >= size)
			break;			/* never half a character */
		memmove(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
}

/* A message for a person: one line, nothing a terminal would act on. */
static void vmsg(char *msg, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(msg, size, fmt, ap);
	tty_clean(msg, msg, size);
}

int p_err(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vmsg(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w);
		jw_str(&w, "type", "error");
		jw_int(&w, "code", code);
		jw_str(&w, "message", msg);
		jw_obj_end(&w);
		jw_line(&w);
		fflush(stdout);
	}
	/* Also on stderr in JSON mode: a person is usually watching. */
	fprintf(stderr, "gcscope: %s\n", msg);
	return code;
}

/* One message line on f: prefix, the cleaned text, a newline. */
static void put_msg(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048];

	vmsg(msg, sizeof(msg), fmt, ap);
	fprintf(f, "%s%s\n", prefix, msg);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(stderr, "gcscope: warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(stderr, "gcscope: ", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	va_start(ap, fmt);
	put_msg(stderr, "gcscope: debug: ", fmt, ap);
	va_end(ap);
}

void p_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_msg(stdout, "", fmt, ap);
	va_end(ap);
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int grow_array(void *arr, size_t *cap, size_t n, size_t elsize, size_t first)
{
	void *old, *np;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (ncap <= n || ncap > SIZE_MAX / elsize)
		return -ENOMEM;
	/* arr is a T ** for any T: copy the pointer rather than alias it */
	memcpy(&old, arr, sizeof(old));
	np = realloc(old, ncap * elsize);
	if (!np)
		return -ENOMEM;
	memcpy(arr, &np, sizeof(np));
	*cap = ncap;
	return 0;
}

int read_text_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}
