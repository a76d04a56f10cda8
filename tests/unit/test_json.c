// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* JSON Lines output: escaping of names that come from the target. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

/* s through json_put_str(), in a malloc'd string */
static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_put_str(f, s);
	fclose(f);
	return buf;
}

#define CHECK_ESCAPED(in, want) do { char *_e = escaped(in); CHECK_EQ_STR(_e, want); free(_e); } while (0)

static void test_escape(void)
{
	char *big, *e;

	CHECK_ESCAPED("plain", "\"plain\"");
	CHECK_ESCAPED("a\"b\\c\nd\te", "\"a\\\"b\\\\c\\nd\\te\"");
	CHECK_ESCAPED("\x01\x7f", "\"\\u0001\\u007f\"");
	CHECK_ESCAPED("caf\xc3\xa9", "\"caf\xc3\xa9\"");			/* valid UTF-8 kept */
	CHECK_ESCAPED("bad\xff\xc3", "\"bad\xef\xbf\xbd\xef\xbf\xbd\"");	/* invalid: U+FFFD each */
	CHECK_ESCAPED("\xc2\x9b" "2J", "\"\\u009b2J\"");		/* C1 CSI escaped */
	CHECK_ESCAPED("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");	/* surrogate */
	/* a long name that escapes to more than any buffer would hold is
	 * written whole: 3000 quotes become 6000 bytes, closed */
	big = malloc(3001);
	memset(big, '"', 3000);
	big[3000] = '\0';
	e = escaped(big);
	CHECK_EQ_INT(strlen(e), 6002);
	CHECK(e[0] == '"' && e[6001] == '"' && e[6000] == '"' && e[5999] == '\\');
	free(e);
	free(big);
}

static void test_writer(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_str(&w, "type", "summary");
	jw_int(&w, "n", -3);
	jw_uint(&w, "u", 18446744073709551615ULL);
	jw_double(&w, "d", 0.5);
	jw_bool(&w, "b", true);
	jw_null(&w, "z");
	jw_key_arr(&w, "a");
	jw_uint(&w, NULL, 1);
	jw_obj_begin(&w);
	jw_str(&w, "k", NULL);
	jw_obj_end(&w);
	jw_uint(&w, NULL, 2);
	jw_arr_end(&w);
	jw_key_obj(&w, "o");
	jw_int(&w, "x", 1);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_line(&w);
	jw_obj_begin(&w);
	jw_str(&w, "second", "line");
	jw_obj_end(&w);
	jw_line(&w);
	fclose(f);
	CHECK_EQ_STR(buf, "{\"type\":\"summary\",\"n\":-3,\"u\":18446744073709551615,\"d\":0.5,\"b\":true,"
			  "\"z\":null,\"a\":[1,{\"k\":null},2],\"o\":{\"x\":1}}\n{\"second\":\"line\"}\n");
	free(buf);
}

/* exact decimals of an integer: monotonic nanoseconds as microseconds */
static void test_fixed(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_fixed(&w, "ts", 987654321012345678LL, 3);	/* 18 digits: a double keeps 15-17 */
	jw_fixed(&w, "a", 61000, 3);
	jw_fixed(&w, "b", 7, 3);
	jw_fixed(&w, "c", -1500, 3);
	jw_fixed(&w, "d", 42, 0);
	jw_fixed(&w, "e", INT64_MIN, 3);
	jw_obj_end(&w);
	fclose(f);
	CHECK_EQ_STR(buf, "{\"ts\":987654321012345.678,\"a\":61.000,\"b\":0.007,\"c\":-1.500,"
			  "\"d\":42,\"e\":-9223372036854775.808}");
	free(buf);
}

int main(void)
{
	test_escape();
	test_writer();
	test_fixed();
	CHECK_DONE("test_json");
}
