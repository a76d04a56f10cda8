/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* Exit codes, error reporting and small helpers used by every command. */
#ifndef GCSCOPE_COMMON_H
#define GCSCOPE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Exit codes: documented in docs/exit-codes.md and `gcscope --help`. */
enum gcscope_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_INTERNAL = 1,	/* BPF load/attach or other runtime failure */
	EXIT_USAGE = 2,			/* bad command line */
	EXIT_NO_PROCESS = 3,		/* no such pid / file, or the command could not start */
	EXIT_NOT_PYTHON = 4,		/* the process has no CPython runtime */
	EXIT_NO_PROBE = 5,		/* CPython found, but nothing to attach to */
	EXIT_PERMISSION = 6,		/* not root, or no CAP_BPF + CAP_PERFMON */
	EXIT_UNSUPPORTED = 7,		/* a CPython version gcscope does not know */
	EXIT_NOT_CORE = 8,		/* gcscope core: CORE is not a core file gdb can open */
	EXIT_CORE_INCOMPLETE = 9,	/* gcscope core: memory the report needs is not in CORE */
	EXIT_LISTEN = 10,		/* gcscope agent: cannot listen on --listen ADDR:PORT */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Set by -j/--json: errors then go to stdout as {"type":"error",...} so the
 * stream stays valid JSON Lines; otherwise one line on stderr. */
extern bool g_json;
extern int g_verbose;

/* Print "gcscope: <message>" (one line) or its JSON form, return code.
 * Messages, like p_line()'s, go through tty_clean(): they carry names
 * from the target (comm, paths, symbols). */
int p_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gcscope: <message>" on stderr: something the user should know that is
 * neither an error nor a warning (which process -p TID resolved to). */
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line of text output on stdout (the newline is added). */
void p_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
int utf8_char_len(const unsigned char *s);

/* in, at most size-1 bytes of it, as text safe for a terminal: control
 * characters (C0, DEL, C1 U+0080-U+009F, which terminals act on) and
 * invalid UTF-8 become '?', and no character is cut.  out may be in. */
void tty_clean(const char *in, char *out, size_t size);

/* Parse a whole decimal number in [min, max]; false if anything is off. */
bool parse_long(const char *s, long min, long max, long *out);
/* Parse seconds or milliseconds with an optional fraction ("1.5"). */
bool parse_double(const char *s, double min, double max, double *out);

/* Make room for element n of a growable array *arr of *cap elements of
 * elsize bytes: the capacity doubles, starting at first.  Returns 0, or
 * -ENOMEM (the array is then unchanged). */
int grow_array(void *arr, size_t *cap, size_t n, size_t elsize, size_t first);

/* qsort() for an array that may be empty and never allocated: qsort(NULL, 0)
 * is undefined behaviour (C11 7.22.5), and UBSan says so. */
static inline void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

/* Read a small text file (a /proc entry) into buf, NUL-terminated and with a
 * trailing newline removed.  Returns length or -errno. */
int read_text_file(const char *path, char *buf, size_t size);

#endif
