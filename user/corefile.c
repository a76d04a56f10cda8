// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "corefile.h"

const char *core_size_str(uint64_t n, char *buf, size_t size)
{
	if (n >= 1ULL << 30)
		snprintf(buf, size, "%.1f GiB", (double)n / (1ULL << 30));
	else if (n >= 1ULL << 20)
		snprintf(buf, size, "%.1f MiB", (double)n / (1ULL << 20));
	else if (n >= 1ULL << 10)
		snprintf(buf, size, "%.1f KiB", (double)n / (1ULL << 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)n);
	return buf;
}

static const char *e_type_name(unsigned t)
{
	switch (t) {
	case ET_EXEC:
		return "an executable (ET_EXEC)";
	case ET_DYN:
		return "a shared object or PIE executable (ET_DYN)";
	case ET_REL:
		return "an object file (ET_REL)";
	default:
		return "an ELF file of no known type";
	}
}

int core_inspect(const char *path, struct core_info *ci, char *why, size_t size)
{
	Elf *elf = NULL;
	GElf_Ehdr eh;
	struct stat st;
	size_t nph;
	int fd, code = EXIT_NOT_CORE;

	memset(ci, 0, sizeof(*ci));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, size, "cannot read core %s: %s", path, strerror(errno));
		return EXIT_NO_PROCESS;
	}
	if (fstat(fd, &st)) {
		snprintf(why, size, "cannot read core %s: %s", path, strerror(errno));
		close(fd);
		return EXIT_NO_PROCESS;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, size, "%s is a directory, not a core file: give the core (gcscope core CORE [EXE])",
			 path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "%s is not a regular file, so not a core file: give the core "
			 "(gcscope core CORE [EXE])", path);
		goto out;
	}
	ci->file_size = (uint64_t)st.st_size;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(why, size, "%s is not a core file (not an ELF file): give the core "
			 "(gcscope core CORE [EXE])", path);
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		snprintf(why, size, "%s is not a core file but %s: give the core first "
			 "(gcscope core CORE [EXE])", path, e_type_name(eh.e_type));
		goto out;
	}
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(why, size, "%s is a core of another architecture (gcscope reads x86-64 cores)", path);
		goto out;
	}
	/* headers past the end: libelf then says there are none */
	if (elf_getphdrnum(elf, &nph) || eh.e_phoff > ci->file_size ||
	    (uint64_t)(nph > eh.e_phnum ? nph : eh.e_phnum) * eh.e_phentsize > ci->file_size - eh.e_phoff) {
		snprintf(why, size, "%s is a core file whose program headers cannot be read (%s): it is "
			 "damaged, or cut short before its first segment", path, elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint64_t end;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			snprintf(why, size, "%s is a core file whose program headers cannot be read (%s): it "
				 "is damaged, or cut short before its first segment", path, elf_errmsg(-1));
			goto out;
		}
		if ((ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) || !ph.p_filesz)
			continue;
		/* the file's values: no sum may wrap */
		end = ph.p_offset > UINT64_MAX - ph.p_filesz ? UINT64_MAX : ph.p_offset + ph.p_filesz;
		if (end > ci->needed)
			ci->needed = end;
		if (ph.p_type != PT_LOAD)
			continue;
		ci->nload++;
		if (end > ci->file_size) {
			ci->nload_cut++;
			ci->missing += ph.p_offset >= ci->file_size ? ph.p_filesz : end - ci->file_size;
		}
	}
	code = EXIT_OK;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return code;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int core_has_build_id(const char *path, const char *hex_id)
{
	unsigned char note[16 + 64], page[4096];
	size_t idlen = strlen(hex_id) / 2, nlen;
	bool saw_elf = false;
	Elf *elf = NULL;
	size_t nph;
	int fd, found = -1;

	if (!idlen || idlen > 64 || strlen(hex_id) % 2)
		return -1;
	/* Elf64_Nhdr { namesz 4, descsz, type NT_GNU_BUILD_ID }, "GNU\0", id */
	memset(note, 0, sizeof(note));
	note[0] = 4;
	note[4] = (unsigned char)idlen;
	note[8] = NT_GNU_BUILD_ID;
	memcpy(note + 12, "GNU", 4);
	for (size_t i = 0; i < idlen; i++) {
		int hi = hexval(hex_id[2 * i]), lo = hexval(hex_id[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		note[16 + i] = (unsigned char)(hi << 4 | lo);
	}
	nlen = 16 + idlen;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getphdrnum(elf, &nph))
		goto out;
	for (size_t i = 0; i < nph && found != 1; i++) {
		GElf_Phdr ph;
		ssize_t n;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || ph.p_filesz < 64)
			continue;
		n = pread(fd, page, ph.p_filesz < sizeof(page) ? ph.p_filesz : sizeof(page), (off_t)ph.p_offset);
		if (n < 64 || memcmp(page, ELFMAG, SELFMAG))
			continue;
		saw_elf = true;
		found = 0;
		for (size_t j = 0; j + nlen <= (size_t)n; j += 4)	/* notes are 4-aligned */
			if (!memcmp(page + j, note, nlen)) {
				found = 1;
				break;
			}
	}
	if (!saw_elf)
		found = -1;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}
