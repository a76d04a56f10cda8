// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* JSON Lines output: escaping of names that come from the target. */
#include <stdlib.h>

#include "check.h"
#include "json.h"

static void test_escape(void)
{
	char out[64];

	json_escape("plain", out, sizeof(out));
	CHECK_EQ_STR(out, "\"plain\"");
	json_escape("a\"b\\c\nd\te", out, sizeof(out));
	CHECK_EQ_STR(out, "\"a\\\"b\\\\c\\nd\\te\"");
	json_escape("\x01\x7f", out, sizeof(out));
	CHECK_EQ_STR(out, "\"\\u0001\\u007f\"");
	json_escape("caf\xc3\xa9", out, sizeof(out));		/* valid UTF-8 kept */
	CHECK_EQ_STR(out, "\"caf\xc3\xa9\"");
	json_escape("bad\xff\xc3", out, sizeof(out));		/* invalid: U+FFFD each */
	CHECK_EQ_STR(out, "\"bad\xef\xbf\xbd\xef\xbf\xbd\"");
	json_escape("\xed\xa0\x80", out, sizeof(out));		/* a surrogate is not UTF-8 */
	CHECK_EQ_STR(out, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* truncation never overruns and stays terminated */
	CHECK_EQ_INT(json_escape("0123456789", out, 5), 12);
	CHECK_EQ_STR(out, "\"012");
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

int main(void)
{
	test_escape();
	test_writer();
	CHECK_DONE("test_json");
}
