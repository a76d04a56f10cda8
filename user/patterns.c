// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "patterns.h"

static const char *const char_classes[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper",
	"xdigit",
};

/* The end of the bracket expression that opens at g[i] ('['), as fnmatch(3)
 * reads it (POSIX.2 2.13.1): '!' or '^' negates, a ']' first is literal,
 * [:class:], [.sym.] and [=equiv=] nest, '\' escapes.  Returns the index
 * of its ']', or 0 with why set. */
static size_t bracket_end(const char *g, size_t len, size_t i, char *why, size_t size)
{
	size_t j = i + 1;

	if (j < len && (g[j] == '!' || g[j] == '^'))
		j++;
	if (j < len && g[j] == ']')
		j++;
	for (; j < len; j++) {
		if (g[j] == ']')
			return j;
		if (g[j] == '\\') {
			j++;
			continue;
		}
		if (g[j] == '[' && j + 1 < len && (g[j + 1] == ':' || g[j + 1] == '.' || g[j + 1] == '=')) {
			char kind = g[j + 1];
			size_t k = j + 2;

			while (k + 1 < len && !(g[k] == kind && g[k + 1] == ']'))
				k++;
			if (k + 1 >= len) {
				snprintf(why, size, "'[%c' at %zu is never closed by '%c]'", kind, j + 1, kind);
				return 0;
			}
			if (kind == ':') {
				bool known = false;

				for (size_t c = 0; c < sizeof(char_classes) / sizeof(char_classes[0]); c++)
					known |= k - (j + 2) == strlen(char_classes[c]) &&
						 !strncmp(g + j + 2, char_classes[c], k - (j + 2));
				if (!known) {
					snprintf(why, size, "[:%.*s:] is not a character class (alpha, digit, "
						 "upper, lower, alnum, space, punct...)", (int)(k - (j + 2) > 20 ? 20 : k - (j + 2)),
						 g + j + 2);
					return 0;
				}
			}
			j = k + 1;
		}
	}
	snprintf(why, size, "the '[' at %zu opens a character class that is never closed "
		 "(write [[] for a literal '[')", i + 1);
	return 0;
}

int glob_check(const char *g, size_t len, char *why, size_t size)
{
	for (size_t i = 0; i < len; i++) {
		if (g[i] == '\\') {
			if (i + 1 == len) {
				snprintf(why, size, "it ends with '\\', which escapes nothing (write \\\\ for a "
					 "literal '\\')");
				return -1;
			}
			i++;
		} else if (g[i] == '[') {
			size_t e = bracket_end(g, len, i, why, size);

			if (!e)
				return -1;
			i = e;
		} else if ((unsigned char)g[i] < 0x20 || g[i] == 0x7f) {
			snprintf(why, size, "it holds a control character at %zu, which no type name has", i + 1);
			return -1;
		}
	}
	return 0;
}

int owners_check(const char *list, char *why, size_t size)
{
	const char *p = list, *end;
	int nglobs = 0;
	bool heap = false;
	char reason[192];

	if (!list) {
		snprintf(why, size, "--owners needs patterns: globs on type names, e.g. 'Q*,myapp.*', or @heap");
		return -1;
	}
	for (; ; p = end + 1) {
		size_t len;

		while (*p == ' ')
			p++;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if ((len == 5 && !strncmp(p, "@heap", 5)) || (len == 3 && !strncmp(p, "@qt", 3))) {
			heap = true;	/* a keyword: @heap, or @qt (every QObject subclass) */
		} else if (len && *p == '@') {
			snprintf(why, size, "invalid --owners pattern '%.*s': the only keywords are @heap (every "
				 "heap type) and @qt (every QObject subclass); type names do not start with '@'",
				 (int)(len > 40 ? 40 : len), p);
			return -1;
		} else if (len > OWNERS_MAX_LEN) {
			snprintf(why, size, "invalid --owners pattern '%.40s...': %zu characters, at most %d",
				 p, len, OWNERS_MAX_LEN);
			return -1;
		} else if (len) {
			if (glob_check(p, len, reason, sizeof(reason))) {
				snprintf(why, size, "invalid --owners pattern '%.*s': %s", (int)len, p, reason);
				return -1;
			}
			if (++nglobs > OWNERS_MAX_PATTERNS) {
				snprintf(why, size, "too many --owners patterns: at most %d (a glob such as "
					 "'Q*' covers many types)", OWNERS_MAX_PATTERNS);
				return -1;
			}
		}
		if (!*end)
			break;
	}
	if (!nglobs && !heap) {
		snprintf(why, size, "empty --owners: give globs on type names, e.g. 'Q*,myapp.*', or @heap");
		return -1;
	}
	return 0;
}
