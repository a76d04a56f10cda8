// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * user/pystack.c: line tables, PyUnicode data, the text line, and the
 * symbolizer itself on code objects laid out in our own memory.
 *
 * The line tables are real: the co_lnotab / co_linetable of `sample` below,
 * printed by each interpreter, with the line of every code unit as the
 * interpreter itself reports it (3.9: dis.findlinestarts; 3.10: co_lines();
 * 3.11+: co_positions()):
 *
 *   def sample(a, b):
 *       x = a + b
 *       for i in range(3):
 *           x += i
 *       y = [
 *           x,
 *           a,
 *       ]
 *       <300 empty lines: line deltas past 127>
 *       if x > 2:
 *           return y
 *       return (x
 *               - 1)
 */
#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pystack.h"
#include "target.h"

/* 3.9.18: 26 bytes, firstlineno 1, 29 code units */
static const char tab_39[] = "\x00\x01\x08\x01\x0c\x01\x0a\x02\x02\x01\x02\xfe\x04\x7f\x00\x7f\x00\x32\x08\x01\x04\x01\x02\x01\x02\xff";
static const int lines_39[] = { 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 6, 7, 5, 5, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311 };
/* 3.10.13: 26 bytes, firstlineno 1, 29 code units */
static const char tab_310[] = "\x08\x01\x0c\x01\x0a\x01\x02\x02\x02\x01\x04\xfe\x00\x7f\x00\x7f\x08\x32\x04\x01\x02\x01\x02\x01\x04\xff";
static const int lines_310[] = { 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 6, 7, 5, 5, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311 };
/* 3.11.7: 89 bytes, firstlineno 1, 46 code units */
static const char tab_311[] = "\x80\x00\xd8\x08\x09\x88\x41\x89\x05\x80\x41\xdd\x0d\x12\x90\x31\x89\x58\x8c\x58\xf0\x00\x01\x05\x0f\xf0\x00\x01\x05\x0f\x88\x01\xd8\x08\x09\x88\x51\x89\x06\x88\x01\x88\x01\xe0\x08\x09\xd8\x08\x09\xf0\x05\x03\x09\x06\x80\x41\xf0\x60\x09\x00\x08\x09\x88\x31\x82\x75\x80\x75\xd8\x0f\x10\x88\x08\xd8\x0c\x0d\xd8\x0e\x0f\xf1\x03\x01\x0d\x10\xf0\x00\x01\x05\x11";
static const int lines_311[] = { 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 6, 7, 5, 5, 309, 309, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311, 311 };
/* 3.12.1: 85 bytes, firstlineno 1, 43 code units */
static const char tab_312[] = "\x80\x00\xd8\x08\x09\x88\x41\x89\x05\x80\x41\xdc\x0d\x12\x90\x31\x8b\x58\xf2\x00\x01\x05\x0f\x88\x01\xd8\x08\x09\x88\x51\x89\x06\x89\x01\xf0\x03\x01\x05\x0f\xf0\x06\x00\x09\x0a\xd8\x08\x09\xf0\x05\x03\x09\x06\x80\x41\xf0\x60\x09\x00\x08\x09\x88\x31\x82\x75\xd8\x0f\x10\x88\x08\xd8\x0c\x0d\xd8\x0e\x0f\xf1\x03\x01\x0d\x10\xf0\x00\x01\x05\x11";
static const int lines_312[] = { 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 3, 6, 7, 5, 5, 309, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311, 311 };
/* 3.13.0: 76 bytes, firstlineno 1, 44 code units */
static const char tab_313[] = "\x80\x00\xd8\x08\x09\x89\x05\x80\x41\xdc\x0d\x12\x90\x31\x8e\x58\x88\x01\xd8\x08\x09\x89\x06\x8a\x01\xf1\x03\x00\x0e\x16\xf0\x06\x00\x09\x0a\xd8\x08\x09\xf0\x05\x03\x09\x06\x80\x41\xf0\x60\x09\x00\x08\x09\x88\x31\x83\x75\xd8\x0f\x10\x88\x08\xd8\x0c\x0d\xd8\x0e\x0f\xf1\x03\x01\x0d\x10\xf0\x00\x01\x05\x11";
static const int lines_313[] = { 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 3, 3, 6, 7, 5, 5, 309, 309, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311, 311 };
/* 3.14.10: 76 bytes, firstlineno 1, 57 code units */
static const char tab_314[] = "\x80\x00\xd8\x08\x09\x8d\x05\x80\x41\xdc\x0d\x12\x90\x31\x8e\x58\x88\x01\xd8\x08\x09\x8d\x06\x8a\x01\xf1\x03\x00\x0e\x16\xf0\x06\x00\x09\x0a\xd8\x08\x09\xf0\x05\x03\x09\x06\x80\x41\xf0\x60\x09\x00\x08\x09\x88\x31\x84\x75\xd8\x0f\x10\x88\x08\xd8\x0c\x0d\xd8\x0e\x0f\xf5\x03\x01\x0d\x10\xf0\x00\x01\x05\x11";
static const int lines_314[] = { 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 6, 7, 5, 5, 309, 309, 309, 309, 309, 309, 309, 310, 310, 311, 312, 311, 311, 311, 311, 311, 311, 311 };

#define U8(s) ((const uint8_t *)(s))

static void check_table(int (*fn)(const uint8_t *, size_t, int, long), const char *tab, size_t len,
			const int *lines, size_t n, const char *name)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		int got = fn(U8(tab), len, 1, (long)i * 2);

		if (got != lines[i]) {
			fprintf(stderr, "%s: code unit %zu: line %d, want %d\n", name, i, got, lines[i]);
			bad++;
		}
	}
	CHECK_EQ_INT(bad, 0);
	/* before the first instruction (an incomplete frame): firstlineno */
	CHECK_EQ_INT(fn(U8(tab), len, 1, -2), 1);
}

#define TABLE(fn, v) check_table(fn, tab_##v, sizeof(tab_##v) - 1, lines_##v, \
				 sizeof(lines_##v) / sizeof(lines_##v[0]), #v)

static void test_line_tables(void)
{
	TABLE(pyline_lnotab, 39);
	TABLE(pyline_linetable, 310);
	TABLE(pyline_locations, 311);
	TABLE(pyline_locations, 312);
	TABLE(pyline_locations, 313);
	TABLE(pyline_locations, 314);
	/* past the end of the code: no line (3.10+) */
	CHECK_EQ_INT(pyline_linetable(U8(tab_310), sizeof(tab_310) - 1, 1, 58), -1);
	CHECK_EQ_INT(pyline_locations(U8(tab_312), sizeof(tab_312) - 1, 1, 86), -1);
	/* empty tables */
	CHECK_EQ_INT(pyline_lnotab(U8(""), 0, 7, 10), 7);
	CHECK_EQ_INT(pyline_linetable(U8(""), 0, 7, 10), -1);
	CHECK_EQ_INT(pyline_locations(U8(""), 0, 7, 10), -1);
}

static void test_line_tables_untrusted(void)
{
	/* Every prefix of a real table: never reads past it (ASan), and the
	 * lines it does give are those of the whole table. */
	for (size_t cut = 0; cut < sizeof(tab_313) - 1; cut++) {
		uint8_t *t = malloc(cut ? cut : 1);

		memcpy(t, tab_313, cut);
		for (size_t i = 0; i < sizeof(lines_313) / sizeof(lines_313[0]); i++) {
			int got = pyline_locations(t, cut, 1, (long)i * 2);

			CHECK(got == -1 || got == lines_313[i]);
		}
		free(t);
	}
	/* a long-form entry cut inside its varint; a continuation byte where
	 * an entry should start (corrupt) */
	CHECK_EQ_INT(pyline_locations(U8("\xf0\x41"), 2, 1, 0), -1);
	CHECK_EQ_INT(pyline_locations(U8("\x05"), 1, 1, 0), -1);
	/* a huge varint stops at 30 bits instead of shifting out of range */
	CHECK_EQ_INT(pyline_locations(U8("\xf0\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x01"), 10, 1, 0), -1);
	/* 3.10: -128 means no line */
	CHECK_EQ_INT(pyline_linetable(U8("\x02\x80\x02\x01"), 4, 5, 0), -1);
	CHECK_EQ_INT(pyline_linetable(U8("\x02\x80\x02\x01"), 4, 5, 2), 6);
	/* co_firstlineno = 2**31-1 then a +1 (legal Python): unknown, not a
	 * signed overflow (UBSan) */
	CHECK_EQ_INT(pyline_locations(U8("\xd8\x00\x00"), 3, INT_MAX, 0), -1);
	CHECK_EQ_INT(pyline_linetable(U8("\x02\x01"), 2, INT_MAX, 0), -1);
	CHECK_EQ_INT(pyline_lnotab(U8("\x00\x01"), 2, INT_MAX, 0), -1);
	CHECK_EQ_INT(pyline_lnotab(U8("\x00\x01"), 2, INT_MAX - 1, 0), INT_MAX);
}

static void test_unicode(void)
{
	char out[64];

	/* PyUnicode data as CPython stores the names in tests/programs/stack_program.py */
	CHECK_EQ_INT(pystr_to_utf8("fonction_\xe9", 10, 1, out, sizeof(out)), 11);
	CHECK_EQ_STR(out, "fonction_\xc3\xa9");
	pystr_to_utf8("\x44\x04\x43\x04\x3d\x04\x3a\x04\x46\x04\x38\x04\x4f\x04", 7, 2, out, sizeof(out));
	CHECK_EQ_STR(out, "\xd1\x84\xd1\x83\xd0\xbd\xd0\xba\xd1\x86\xd0\xb8\xd1\x8f"); /* функция */
	pystr_to_utf8("\x00\x00\x02\x00", 1, 4, out, sizeof(out));
	CHECK_EQ_STR(out, "\xf0\xa0\x80\x80");	/* U+20000 */
	/* a lone surrogate (possible in a str) and a value past U+10FFFF */
	pystr_to_utf8("a\0\x00\xd8" "b\0", 3, 2, out, sizeof(out));
	CHECK_EQ_STR(out, "a\xef\xbf\xbd" "b");
	pystr_to_utf8("\x00\x00\x11\x00", 1, 4, out, sizeof(out));
	CHECK_EQ_STR(out, "\xef\xbf\xbd");
	/* cut at a character boundary, always terminated */
	CHECK_EQ_INT(pystr_to_utf8("\x44\x04\x43\x04\x3d\x04", 3, 2, out, 6), 4);
	CHECK_EQ_STR(out, "\xd1\x84\xd1\x83");
	CHECK_EQ_INT(pystr_to_utf8("abc", 3, 3, out, sizeof(out)), (size_t)-1);
	CHECK_EQ_STR(out, "");
}

static void test_format_line(void)
{
	struct pystack_frame fr = { "/tmp/stack_program.py", "Scenario.run", 67 };
	char out[256];

	pystack_format_line(&fr, out, sizeof(out), 79);
	CHECK_EQ_STR(out, "    at Scenario.run (/tmp/stack_program.py:67)");
	fr.line = -1;
	pystack_format_line(&fr, out, sizeof(out), 79);
	CHECK_EQ_STR(out, "    at Scenario.run (/tmp/stack_program.py:?)");
	/* a long path is shortened from the left, to 79 columns */
	fr.file = "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py";
	fr.function = "Thread._bootstrap_inner";
	fr.line = 1073;
	pystack_format_line(&fr, out, sizeof(out), 79);
	CHECK_EQ_STR(out, "    at Thread._bootstrap_inner (...ons/3.12.1/lib/python3.12/threading.py:1073)");
	CHECK_EQ_INT(strlen(out), 79);
	/* a very long name is cut too, the file keeps its tail */
	fr.function = "a_function_name_so_long_that_it_would_not_leave_any_room_for_the_file_at_all";
	pystack_format_line(&fr, out, sizeof(out), 79);
	CHECK(strlen(out) <= 79);
	CHECK(strstr(out, "threading.py:1073)") != NULL);
	CHECK(strstr(out, "...") != NULL);
	/* control characters from the target do not reach the terminal */
	fr.function = "a\nb\x1b[2J";
	pystack_format_line(&fr, out, sizeof(out), 79);
	CHECK(!strchr(out, '\n') && !strchr(out, '\x1b'));
}

/* ---- the symbolizer, on objects laid out as CPython 3.12 lays them ---- */

static struct pytarget t;

static uint8_t *fake_str(const char *ascii)
{
	size_t n = strlen(ascii);
	uint8_t *o = calloc(1, 40 + n + 1);	/* PyASCIIObject is 40 bytes in 3.12 */
	int64_t len = n;
	uint32_t state = (1 << 2) | (1 << 5) | (1 << 6);	/* kind 1, compact, ascii */

	memcpy(o + 16, &len, 8);
	memcpy(o + 32, &state, 4);
	memcpy(o + 40, ascii, n);
	return o;
}

static uint8_t *fake_bytes(const char *b, size_t n)
{
	uint8_t *o = calloc(1, 32 + n + 1);
	int64_t len = n;

	memcpy(o + 16, &len, 8);
	memcpy(o + 32, b, n);
	return o;
}

static void put_ptr(uint8_t *o, long off, const void *p)
{
	uint64_t v = (uintptr_t)p;

	memcpy(o + off, &v, 8);
}

/* A 3.12 code object at code: co_firstlineno 68, co_filename 112,
 * co_qualname 128, co_linetable 136, co_code_adaptive 192. */
static void fake_code(uint8_t *code, const void *file, const void *name, const void *tab)
{
	int firstlineno = 1;

	memcpy(code + 68, &firstlineno, 4);
	put_ptr(code, 112, file);
	put_ptr(code, 128, name);
	put_ptr(code, 136, tab);
}

/* A symbolizer reading this very process as a CPython 3.12 target. */
static struct pystack *self_pystack(void)
{
	char why[256];
	struct pystack *ps;

	memset(&t, 0, sizeof(t));
	t.pid = getpid();
	t.elf.fd = -1;
	t.version = 0x030c0100;
	CHECK_EQ_INT(pylayout_init(&t.layout, t.version), 0);
	t.layout_ok = true;
	ps = pystack_new(&t, why, sizeof(why));
	CHECK(ps != NULL);
	return ps;
}

static void test_symbolize(void)
{
	uint8_t *file = fake_str("/tmp/sample.py"), *name = fake_str("Sample.sample");
	uint8_t *other = fake_str("other"), *tab = fake_bytes(tab_312, sizeof(tab_312) - 1);
	uint8_t *code = calloc(1, 192 + 2 * 43);
	struct gcscope_stack st = { .type = GCSCOPE_EV_STACK, .tid = 7, .ts_start = 1000, .nframes = 3 };
	const struct pystack_result *r;
	struct pystack *ps;

	fake_code(code, file, name, tab);
	ps = self_pystack();
	if (!ps)
		return;
	st.frames[0].code = (uintptr_t)code;
	st.frames[0].instr = (uintptr_t)code + 192 + 2 * 33;	/* line 309 */
	st.frames[1].code = (uintptr_t)code;
	st.frames[1].instr = (uintptr_t)code + 192 + 2 * 20;	/* line 4 */
	st.frames[2].code = 16;					/* unreadable */
	st.frames[2].instr = 0;
	CHECK_EQ_INT(pystack_stash(ps, &st, offsetof(struct gcscope_stack, frames) + 3 * 16), 0);
	CHECK(pystack_take(ps, 7, 999) == NULL);	/* another collection */
	r = pystack_take(ps, 7, 1000);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_INT(r->n, 3);
		CHECK_EQ_STR(r->frames[0].file, "/tmp/sample.py");
		CHECK_EQ_STR(r->frames[0].function, "Sample.sample");
		CHECK_EQ_INT(r->frames[0].line, 309);
		CHECK_EQ_INT(r->frames[1].line, 4);
		CHECK_EQ_STR(r->frames[2].function, "?");
		CHECK_EQ_INT(r->frames[2].line, -1);
	}
	CHECK(pystack_take(ps, 7, 1000) == NULL);	/* taken once */

	/* The code object's memory now holds another code object (freed and
	 * reused): once the cache rechecks it (every 10 ms), it must not
	 * answer with the old name. */
	put_ptr(code, 128, other);
	usleep(30 * 1000);
	st.ts_start = 2000;
	st.nframes = 1;
	CHECK_EQ_INT(pystack_stash(ps, &st, offsetof(struct gcscope_stack, frames) + 16), 0);
	r = pystack_take(ps, 7, 2000);
	CHECK(r && r->n == 1 && !strcmp(r->frames[0].function, "other"));

	/* records that do not hold together are refused */
	CHECK_EQ_INT(pystack_stash(ps, &st, 8), -EINVAL);
	CHECK_EQ_INT(pystack_stash(ps, &st, offsetof(struct gcscope_stack, frames) + 8), -EINVAL);
	st.nframes = GCSCOPE_STACK_MAX + 1;
	CHECK_EQ_INT(pystack_stash(ps, &st, sizeof(st)), -EINVAL);
	pystack_free(ps);
	free(file);
	free(name);
	free(other);
	free(tab);
	free(code);
}

/* Two frames of one stack whose code objects share a cache slot (addresses
 * 16 KiB apart): the second lookup evicts the first, and the first frame
 * must keep its own names (it once pointed at freed strings, which malloc
 * handed to the second frame: names swapped on trixie 3.13). */
static void test_symbolize_cache_collision(void)
{
	uint8_t *file_a = fake_str("/tmp/a.py"), *name_a = fake_str("alpha");
	uint8_t *file_b = fake_str("/tmp/b.py"), *name_b = fake_str("beta");
	uint8_t *tab = fake_bytes(tab_312, sizeof(tab_312) - 1);
	uint8_t *mem = aligned_alloc(16, 2 * 16384), *code_a = mem, *code_b = mem + 16384;
	struct gcscope_stack st = { .type = GCSCOPE_EV_STACK, .tid = 9, .ts_start = 1, .nframes = 2 };
	const struct pystack_result *r;
	struct pystack *ps;

	memset(mem, 0, 2 * 16384);
	fake_code(code_a, file_a, name_a, tab);
	fake_code(code_b, file_b, name_b, tab);
	ps = self_pystack();
	if (!ps)
		goto out;
	st.frames[0].code = (uintptr_t)code_a;
	st.frames[0].instr = (uintptr_t)code_a + 192 + 2 * 33;
	st.frames[1].code = (uintptr_t)code_b;
	st.frames[1].instr = (uintptr_t)code_b + 192 + 2 * 20;
	/* taken directly, then resolved early and taken: both paths */
	for (int early = 0; early < 2; early++) {
		st.ts_start = 1 + early;
		CHECK_EQ_INT(pystack_stash(ps, &st, offsetof(struct gcscope_stack, frames) + 2 * 16), 0);
		if (early)
			pystack_resolve(ps, 9, st.ts_start);
		r = pystack_take(ps, 9, st.ts_start);
		CHECK(r && r->n == 2);
		if (!r || r->n != 2)
			continue;
		CHECK_EQ_STR(r->frames[0].file, "/tmp/a.py");
		CHECK_EQ_STR(r->frames[0].function, "alpha");
		CHECK_EQ_INT(r->frames[0].line, 309);
		CHECK_EQ_STR(r->frames[1].file, "/tmp/b.py");
		CHECK_EQ_STR(r->frames[1].function, "beta");
		CHECK_EQ_INT(r->frames[1].line, 4);
	}
	pystack_free(ps);
out:
	free(file_a);
	free(name_a);
	free(file_b);
	free(name_b);
	free(tab);
	free(mem);
}

static void test_refusal(void)
{
	char why[256] = "";

	/* --stack on a layout without a field it needs says which */
	memset(&t, 0, sizeof(t));
	t.pid = getpid();
	t.elf.fd = -1;
	t.version = 0x030c0100;
	pylayout_init(&t.layout, t.version);
	t.layout_ok = true;
	t.layout.off[PYL_CODE_CO_LINETABLE] = PYL_UNKNOWN;
	CHECK(pystack_new(&t, why, sizeof(why)) == NULL);
	CHECK_EQ_STR(why, "the layout of CPython 3.12.1 lacks code.co_linetable (no debug info found)");
	/* 3.14t+: per-thread bytecode copies, refused by name */
	t.free_threaded = true;
	t.version = 0x030e0a00;
	pylayout_init(&t.layout, t.version);
	CHECK(pystack_new(&t, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "free-threaded CPython 3.14+") != NULL);
	CHECK(strstr(why, "thread-local bytecode") != NULL);
	t.free_threaded = false;
	t.version = 0x030c0100;
	pylayout_init(&t.layout, t.version);
	t.layout_ok = false;
	CHECK(pystack_new(&t, why, sizeof(why)) == NULL);
	CHECK_EQ_STR(why, "no memory layout is known for CPython 3.12.1");
}

int main(void)
{
	test_line_tables();
	test_line_tables_untrusted();
	test_unicode();
	test_format_line();
	test_symbolize();
	test_symbolize_cache_collision();
	test_refusal();
	CHECK_DONE("test_pystack");
}
