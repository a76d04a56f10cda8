// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The from-memory entry points the fuzz harnesses use (tests/fuzz/) give
 * what the file and /proc readers give: elf_open_memory() against
 * elf_open(), procmaps_parse() against procmaps_read(); and the inputs
 * fuzzing found, read through them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "elfinfo.h"
#include "procmaps.h"

/* A whole file into a new buffer, its size in *len; NULL if unreadable. */
static void *slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

static void test_elf_memory_same(void)
{
	struct elffile f, m;
	struct elfsym sf, sm;
	size_t len;
	void *img = slurp("/proc/self/exe", &len);

	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_EQ_INT(elf_open(&f, "/proc/self/exe"), 0);
	CHECK_EQ_INT(elf_open_memory(&m, img, len, "self"), 0);
	CHECK_EQ_STR(m.build_id, f.build_id);
	CHECK_EQ_STR(m.debuglink, f.debuglink);
	CHECK_EQ_INT(m.has_symtab, f.has_symtab);
	CHECK_EQ_INT(m.has_debug_info, f.has_debug_info);
	CHECK_EQ_INT(elf_find_symbol(&m, "main", &sm), 0);
	CHECK_EQ_INT(elf_find_symbol(&f, "main", &sf), 0);
	CHECK_EQ_INT(sm.value, sf.value);
	elf_close(&m);
	elf_close(&f);
	CHECK_EQ_INT(elf_open_memory(&m, img, 16, "cut"), -ENOEXEC);
	free(img);
}

/* fuzz_elf: a section named .gnu_debuglink of type SHT_NOBITS, whose data
 * libelf gives as NULL with a size; it used to be read from address 0. */
static void test_elf_debuglink_nobits(void)
{
	struct elffile ef;
	size_t len;
	void *img = slurp("tests/fuzz/crashes/elf/debuglink-nobits", &len);

	CHECK(img != NULL);
	if (!img)
		return;
	if (elf_open_memory(&ef, img, len, "nobits") == 0) {
		CHECK_EQ_STR(ef.debuglink, "");
		elf_close(&ef);
	}
	free(img);
}

static void test_procmaps_same(void)
{
	struct procmaps r, p;
	size_t len;
	char *text = slurp("/proc/self/maps", &len);

	CHECK(text != NULL);
	if (!text)
		return;
	/* between the two reads only the heap may change, and it is not a
	 * file mapping */
	CHECK_EQ_INT(procmaps_read(&r, getpid()), 0);
	memset(&p, 0, sizeof(p));
	CHECK_EQ_INT(procmaps_parse(&p, text, len), 0);
	CHECK_EQ_INT(p.n, r.n);
	for (int i = 0; i < p.n && i < r.n; i++) {
		CHECK_EQ_STR(p.m[i].path, r.m[i].path);
		CHECK_EQ_INT(p.m[i].start, r.m[i].start);
		CHECK_EQ_INT(p.m[i].offset, r.m[i].offset);
		CHECK_EQ_INT(p.m[i].ino, r.m[i].ino);
		CHECK_EQ_INT(p.m[i].dev, r.m[i].dev);
	}
	procmaps_free(&r);
	procmaps_free(&p);
	free(text);
}

static void test_procmaps_parse_lines(void)
{
	static const char text[] =
		"7f00-7f10 r--p 00000000 08:01 42 /usr/lib/libpython3.13.so (deleted)\n"
		"7f10-7f20 rw-p 00000000 00:00 0 [heap]\n"
		"garbage\n"
		"7f20-7f30 r-xp 00001000 08:01 43 /usr/bin/python3";	/* no newline at the end */
	struct procmaps p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ_INT(procmaps_parse(&p, text, sizeof(text) - 1), 0);
	CHECK_EQ_INT(p.n, 2);
	if (p.n == 2) {
		CHECK_EQ_STR(p.m[0].path, "/usr/lib/libpython3.13.so (deleted)");
		CHECK_EQ_INT(p.m[0].ino, 42);
		CHECK_EQ_STR(p.m[1].path, "/usr/bin/python3");
		CHECK_EQ_INT(p.m[1].offset, 0x1000);
	}
	procmaps_free(&p);
}

int main(void)
{
	test_elf_memory_same();
	test_elf_debuglink_nobits();
	test_procmaps_same();
	test_procmaps_parse_lines();
	CHECK_DONE("test_memparse");
}
