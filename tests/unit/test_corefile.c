// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* gcscope core's checks of CORE before gdb runs (issue 11). */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common.h"
#include "corefile.h"

#define PAGE 4096

/* An x86-64 ET_CORE: a PT_NOTE, then two PT_LOADs of a page each; the
 * first page of the first holds an ELF header and a GNU build-id note
 * 0x01 0x02 ... 0x14.  Written to path whole, then cut to size. */
static void write_core(const char *path, size_t size, bool with_elf_page)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
	} h;
	static unsigned char img[3 * PAGE];
	int fd = open(path, O_WRONLY | O_TRUNC);

	memset(&h, 0, sizeof(h));
	memset(img, 0xab, sizeof(img));
	memcpy(h.eh.e_ident, ELFMAG, SELFMAG);
	h.eh.e_ident[EI_CLASS] = ELFCLASS64;
	h.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	h.eh.e_ident[EI_VERSION] = EV_CURRENT;
	h.eh.e_type = ET_CORE;
	h.eh.e_machine = EM_X86_64;
	h.eh.e_version = EV_CURRENT;
	h.eh.e_phoff = sizeof(Elf64_Ehdr);
	h.eh.e_ehsize = sizeof(Elf64_Ehdr);
	h.eh.e_phentsize = sizeof(Elf64_Phdr);
	h.eh.e_phnum = 3;
	h.ph[0].p_type = PT_NOTE;
	h.ph[0].p_offset = sizeof(h);
	h.ph[0].p_filesz = 16;
	for (int i = 1; i < 3; i++) {
		h.ph[i].p_type = PT_LOAD;
		h.ph[i].p_offset = (uint64_t)i * PAGE;
		h.ph[i].p_vaddr = 0x400000 + (uint64_t)i * PAGE;
		h.ph[i].p_filesz = h.ph[i].p_memsz = PAGE;
	}
	memcpy(img, &h, sizeof(h));
	if (with_elf_page) {
		static const unsigned char note[] = { 4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0 };

		memcpy(img + PAGE, ELFMAG, SELFMAG);
		memcpy(img + PAGE + 0x200, note, sizeof(note));
		for (int i = 0; i < 20; i++)
			img[PAGE + 0x200 + sizeof(note) + i] = (unsigned char)(i + 1);
	}
	CHECK(fd >= 0 && write(fd, img, sizeof(img)) == (ssize_t)sizeof(img));
	CHECK(ftruncate(fd, (off_t)size) == 0);
	close(fd);
}

int main(void)
{
	char path[] = "/tmp/gcscope-test-core-XXXXXX", why[512];
	struct core_info ci;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);

	write_core(path, 3 * PAGE, true);
	CHECK_EQ_INT(core_inspect(path, &ci, why, sizeof(why)), 0);
	CHECK_EQ_INT(ci.missing, 0);
	CHECK_EQ_INT(ci.nload, 2);
	CHECK_EQ_INT(ci.needed, 3 * PAGE);
	CHECK_EQ_INT(core_has_build_id(path, "0102030405060708090a0b0c0d0e0f1011121314"), 1);
	CHECK_EQ_INT(core_has_build_id(path, "0102030405060708090a0b0c0d0e0f1011121315"), 0);
	CHECK_EQ_INT(core_has_build_id(path, "01020"), -1);
	CHECK_EQ_INT(core_has_build_id(path, "zz"), -1);

	/* cut in the middle of the second segment */
	write_core(path, 2 * PAGE + 100, true);
	CHECK_EQ_INT(core_inspect(path, &ci, why, sizeof(why)), 0);
	CHECK_EQ_INT(ci.missing, PAGE - 100);
	CHECK_EQ_INT(ci.nload_cut, 1);
	CHECK_EQ_INT(ci.file_size, 2 * PAGE + 100);
	/* cut before both */
	write_core(path, PAGE - 1, true);
	CHECK_EQ_INT(core_inspect(path, &ci, why, sizeof(why)), 0);
	CHECK_EQ_INT(ci.missing, 2 * PAGE);
	CHECK_EQ_INT(ci.nload_cut, 2);
	CHECK_EQ_INT(core_has_build_id(path, "0102030405060708090a0b0c0d0e0f1011121314"), -1);
	/* no ELF image in any segment: cannot tell */
	write_core(path, 3 * PAGE, false);
	CHECK_EQ_INT(core_has_build_id(path, "0102030405060708090a0b0c0d0e0f1011121314"), -1);
	/* cut inside the program headers */
	write_core(path, 100, true);
	CHECK_EQ_INT(core_inspect(path, &ci, why, sizeof(why)), EXIT_NOT_CORE);
	CHECK(strstr(why, "program headers cannot be read") != NULL);
	unlink(path);

	CHECK_EQ_INT(core_inspect("/tmp", &ci, why, sizeof(why)), EXIT_NOT_CORE);
	CHECK_EQ_STR(why, "/tmp is a directory, not a core file: give the core (gcscope core CORE [EXE])");
	CHECK_EQ_INT(core_inspect("/proc/self/status", &ci, why, sizeof(why)), EXIT_NOT_CORE);
	CHECK(strstr(why, "not a core file (not an ELF file)") != NULL);
	CHECK_EQ_INT(core_inspect("/proc/self/exe", &ci, why, sizeof(why)), EXIT_NOT_CORE);
	CHECK(strstr(why, "is not a core file but a shared object or PIE executable (ET_DYN)") != NULL);
	CHECK_EQ_INT(core_inspect("/dev/null", &ci, why, sizeof(why)), EXIT_NOT_CORE);
	CHECK(strstr(why, "not a regular file") != NULL);
	CHECK_EQ_INT(core_inspect("/nonexistent/core", &ci, why, sizeof(why)), EXIT_NO_PROCESS);
	CHECK_EQ_STR(why, "cannot read core /nonexistent/core: No such file or directory");
	CHECK_DONE("test_corefile");
}
