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

int p_err(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
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

void p_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("gcscope: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	fputs("gcscope: debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
