/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* gcscope core: is CORE a core file, and does it hold all the memory its
 * program headers describe?  Checked before gdb is run, so that a
 * directory, an executable or a cut-short dump each get their own line. */
#ifndef GCSCOPE_COREFILE_H
#define GCSCOPE_COREFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct core_info {
	uint64_t file_size;
	uint64_t needed;		/* end of the last segment's file contents */
	uint64_t missing;		/* bytes of PT_LOAD contents past the end */
	int nload;			/* PT_LOAD segments */
	int nload_cut;			/* of which not wholly in the file */
};

/* 0 if path is an ELF core file (ET_CORE) that gcscope can read, filling
 * ci (ci->missing > 0: truncated); else EXIT_NO_PROCESS (cannot be read) or
 * EXIT_NOT_CORE (a directory, not ELF, not a core), with one line in why. */
int core_inspect(const char *path, struct core_info *ci, char *why, size_t size);

/* Was the ELF file with build-id hex_id (40 hex digits or fewer) mapped in
 * the process that dumped core?  Looks for its GNU build-id note in the
 * first page of each segment (where an ELF image's headers and notes are):
 * 1 found, 0 not found though the core holds other ELF headers, -1 cannot
 * tell (no ELF header in any segment: coredump_filter left them out). */
int core_has_build_id(const char *path, const char *hex_id);

/* "1.2 MiB" */
const char *core_size_str(uint64_t n, char *buf, size_t size);

#endif
