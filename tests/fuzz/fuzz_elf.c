// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * user/elfinfo.c on an ELF image: the section walk of elf_open() (build-id,
 * .gnu_debuglink, .debug_info), symbols of .symtab and .dynsym, USDT
 * notes, DT_NEEDED, the .rodata version scan, reads by virtual address
 * at every symbol, and the collector's name among them (probe.c).  The input is the whole file: a target's executable or
 * libpython, which its owner wrote.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "elfinfo.h"
#include "fuzz.h"
#include "probe.h"

struct sym_ctx {
	struct elffile *ef;
	int n;
};

static int on_sym(const struct elfsym *s, void *p)
{
	struct sym_ctx *c = p;
	uint8_t buf[64];
	uint64_t off;
	size_t len = s->size < sizeof(buf) ? (size_t)s->size : sizeof(buf);

	FUZZ_ASSERT(s->name[0] && strlen(s->name) < sizeof(s->name));
	for (int i = 0; i < 3; i++) {
		static const char *const base[] = { "collect", "gc_collect_main", "_PyGC_Collect" };
		int r = collector_match(s->name, base[i]);

		FUZZ_ASSERT(r >= 0 && r <= 3 && (r != 3 || !strcmp(s->name, base[i])));
	}
	/* as target.c reads _PyRuntime's head and Py_Version */
	elf_read_vaddr(c->ef, s->value, buf, len ? len : 1);
	elf_vaddr_to_offset(c->ef, s->value, &off);
	return ++c->n >= 256;	/* a symbol table can be huge: enough */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elffile ef;
	struct elfsym sym;
	struct usdt_note note;
	struct sym_ctx c = { &ef, 0 };
	char needed[64];
	uint8_t buf[16];
	void *image;

	/* libelf may write to an image it reads (elf_memory): not to the
	 * fuzzer's input */
	image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data, size);
	if (elf_open_memory(&ef, image, size, "fuzz") == 0) {
		FUZZ_ASSERT(strlen(ef.build_id) <= 40 && strlen(ef.debuglink) < sizeof(ef.debuglink));
		elf_find_symbol(&ef, "_PyRuntime", &sym);
		elf_for_each_symbol(&ef, on_sym, &c);
		if (elf_find_usdt(&ef, "python", "gc__start", &note) == 0)
			FUZZ_ASSERT(strlen(note.args) < sizeof(note.args));
		elf_count_usdt(&ef);
		if (elf_find_needed(&ef, "libpython", needed, sizeof(needed)) == 0)
			FUZZ_ASSERT(!strncmp(needed, "libpython", 9));
		elf_scan_py_version(&ef);
		elf_load_bias(&ef, 0x7f0000000000ULL);
		elf_read_vaddr(&ef, ef.ehdr.e_entry, buf, sizeof(buf));
		elf_read_vaddr(&ef, ef.ehdr.e_entry - 1, buf, sizeof(buf));
		elf_close(&ef);
	}
	free(image);
	return 0;
}
