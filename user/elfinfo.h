/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* What gcscope needs from an ELF file (libelf): symbols, USDT notes,
 * build-id and debuglink, and reading initialised data by address. */
#ifndef GCSCOPE_ELFINFO_H
#define GCSCOPE_ELFINFO_H

#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct elffile {
	int fd;
	Elf *elf;
	char path[PATH_MAX];
	GElf_Ehdr ehdr;
	bool has_symtab;		/* a .symtab (not only .dynsym) */
	bool has_debug_info;		/* a .debug_info section */
	char build_id[41];		/* hex, "" if none */
	char debuglink[256];		/* .gnu_debuglink file name, "" if none */
};

struct elfsym {
	char name[256];
	uint64_t value;			/* st_value: a virtual address */
	uint64_t size;
	bool from_symtab;		/* .symtab, else .dynsym */
};

struct usdt_note {
	uint64_t pc, base, semaphore;
	char provider[64], name[64], args[192];
};

/* Returns 0 or -errno (-ENOEXEC: not an ELF file). */
int elf_open(struct elffile *ef, const char *path);
/* The same for an ELF image in memory (the fuzz harnesses, tests): image
 * must outlive ef, and libelf may write to it.  name is only reported. */
int elf_open_memory(struct elffile *ef, void *image, size_t size, const char *name);
void elf_close(struct elffile *ef);
/* The file's pages read so far out of our RSS (madvise MADV_DONTNEED of
 * libelf's read-only mapping); a later read faults them in again.  The
 * agent holds one open ELF per target: 250 KiB resident each of Debian's
 * python3.11 once its plan is built, 25 MiB for 100 targets. */
void elf_drop_pages(struct elffile *ef);

/* Exact name, in .symtab then .dynsym.  Returns 0 or -ENOENT. */
int elf_find_symbol(struct elffile *ef, const char *name, struct elfsym *out);

/* Call fn for every defined function or object symbol; stop when it returns
 * nonzero, and return that. */
int elf_for_each_symbol(struct elffile *ef, int (*fn)(const struct elfsym *, void *), void *ctx);

/* USDT (stapsdt) note provider:name, or -ENOENT. */
int elf_find_usdt(struct elffile *ef, const char *provider, const char *name, struct usdt_note *out);
/* Number of stapsdt notes (any provider). */
int elf_count_usdt(struct elffile *ef);

/* File offset of a virtual address (through the PT_LOAD that holds it). */
int elf_vaddr_to_offset(struct elffile *ef, uint64_t vaddr, uint64_t *off);
/* Load bias given the start of the mapping at file offset 0. */
uint64_t elf_load_bias(struct elffile *ef, uint64_t map_start_at_offset0);
/* Read file-backed (initialised) bytes at a virtual address; -EFAULT if they
 * are not all in the file (.bss). */
int elf_read_vaddr(struct elffile *ef, uint64_t vaddr, void *buf, size_t len);

/* DT_NEEDED entry that starts with prefix (e.g. "libpython"), into out. */
int elf_find_needed(struct elffile *ef, const char *prefix, char *out, size_t size);

/* A CPython version string "3.X.Y[abc..N][+]" stored as its own C string in a
 * read-only section (PY_VERSION, used by Py_GetVersion).  Returns
 * PY_VERSION_HEX-like (major<<24 | minor<<16 | micro<<8) or 0. */
uint32_t elf_scan_py_version(struct elffile *ef);

/* Parse "3.11.2", "3.13.0rc3+" into major<<24|minor<<16|micro<<8; 0 if not. */
uint32_t parse_py_version(const char *s, size_t len);
/* The same, for 2.X.Y too: naming the version of an interpreter too old to
 * have _PyRuntime. */
uint32_t parse_any_py_version(const char *s, size_t len);

/* The version in len bytes of a target's memory holding the buffer that
 * Py_GetVersion() fills at start-up ("3.9.18 (main, ..." or 2.X's) at an
 * 8-byte boundary, as parse (parse_py_version or parse_any_py_version)
 * reads it, or 0 (target.c, for 3.9 and 3.10). */
uint32_t scan_py_getversion(const char *buf, size_t len, uint32_t (*parse)(const char *, size_t));

#endif
