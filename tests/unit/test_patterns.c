// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* --owners PATTERNS, checked when the command line is parsed (issue 11). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "patterns.h"

static int check(const char *list, char *why, size_t size)
{
	why[0] = '\0';
	return owners_check(list, why, size);
}

static void test_valid(void)
{
	static const char *const ok[] = {
		"QObject", "Q*,myapp.*", "@heap", "Q*, @heap", " __main__.Wid*", "[A-Z]*", "[!_]*", "[]]x",
		"[^a]", "a[[:upper:]]b", "x[[.-.]]", "\\[literal", "a\\*b", "[[]", "Node,,Leaf", "a,",
	};
	char why[512];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = check(ok[i], why, sizeof(why));

		if (r)
			fprintf(stderr, "rejected '%s': %s\n", ok[i], why);
		CHECK_EQ_INT(r, 0);
	}
	/* what the checker accepts, fnmatch(3) reads as the checker does */
	CHECK_EQ_INT(fnmatch("[[]", "[", 0), 0);
	CHECK_EQ_INT(fnmatch("[]]x", "]x", 0), 0);
	CHECK_EQ_INT(fnmatch("a[[:upper:]]b", "aQb", 0), 0);
	CHECK_EQ_INT(fnmatch("\\[literal", "[literal", 0), 0);
}

static void test_invalid(void)
{
	char why[512], big[512];
	char *many;
	size_t n;

	CHECK_EQ_INT(check("[", why, sizeof(why)), -1);
	CHECK_EQ_STR(why, "invalid --owners pattern '[': the '[' at 1 opens a character class that is "
			  "never closed (write [[] for a literal '[')");
	CHECK_EQ_INT(check("Q*,my[app", why, sizeof(why)), -1);
	CHECK(strstr(why, "'my[app': the '[' at 3 opens") != NULL);
	CHECK_EQ_INT(check("[]", why, sizeof(why)), -1);	/* ']' first is literal: unclosed */
	CHECK_EQ_INT(check("[!]", why, sizeof(why)), -1);
	CHECK_EQ_INT(check("a[[:upper:]b", why, sizeof(why)), -1);
	CHECK_EQ_INT(check("a[[:nope:]]", why, sizeof(why)), -1);
	CHECK(strstr(why, "[:nope:] is not a character class") != NULL);
	CHECK_EQ_INT(check("a[[:upper", why, sizeof(why)), -1);
	CHECK(strstr(why, "'[:' at 3 is never closed by ':]'") != NULL);
	CHECK_EQ_INT(check("Node\\", why, sizeof(why)), -1);
	CHECK(strstr(why, "ends with '\\'") != NULL);
	CHECK_EQ_INT(check("No\tde", why, sizeof(why)), -1);
	CHECK(strstr(why, "control character at 3") != NULL);
	CHECK_EQ_INT(check("@heaps", why, sizeof(why)), -1);
	CHECK(strstr(why, "the only keywords are @heap") != NULL);
	CHECK_EQ_INT(check("@qt", why, sizeof(why)), 0);
	CHECK_EQ_INT(check("@qt,Gadget", why, sizeof(why)), 0);
	CHECK_EQ_INT(check("@qtx", why, sizeof(why)), -1);
	CHECK_EQ_INT(check("", why, sizeof(why)), -1);
	CHECK(strstr(why, "empty --owners") != NULL);
	CHECK_EQ_INT(check(" , ,", why, sizeof(why)), -1);
	CHECK_EQ_INT(check(NULL, why, sizeof(why)), -1);

	/* the length limit is named, at 200 and 201 characters */
	memset(big, 'x', 200);
	big[200] = '\0';
	CHECK_EQ_INT(check(big, why, sizeof(why)), 0);
	strcat(big, "y");
	CHECK_EQ_INT(check(big, why, sizeof(why)), -1);
	CHECK(strstr(why, ": 201 characters, at most 200") != NULL);
	CHECK(strlen(why) < 120);	/* the pattern is not quoted whole */

	/* 32 globs, then 33 */
	many = malloc(33 * 3 + 1);
	CHECK(many != NULL);
	if (!many)
		return;
	n = 0;
	for (int i = 0; i < 32; i++)
		n += (size_t)sprintf(many + n, "%s%c", i ? "," : "", 'A' + i % 26);
	CHECK_EQ_INT(check(many, why, sizeof(why)), 0);
	strcat(many, ",Z");
	CHECK_EQ_INT(check(many, why, sizeof(why)), -1);
	CHECK(strstr(why, "too many --owners patterns: at most 32") != NULL);
	free(many);

	/* a message that does not fit is cut, not overrun */
	CHECK_EQ_INT(check("[", why, 8), -1);
	CHECK_EQ_INT(strlen(why), 7);
}

int main(void)
{
	test_valid();
	test_invalid();
	CHECK_DONE("test_patterns");
}
