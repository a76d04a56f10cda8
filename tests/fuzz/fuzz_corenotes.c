// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The note walk of `gcscope core` (user/gdbcmd.c): which executable a core
 * file names in NT_PRPSINFO.  A core is whatever the user was handed.
 */
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gdbcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char exe[4096], small[8];
	void *image;
	Elf *elf;

	image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data, size);
	elf_version(EV_CURRENT);
	elf = elf_memory(image, size);
	if (gdbcmd_core_exe_elf(elf, exe, sizeof(exe)))
		FUZZ_ASSERT(exe[0] == '/' && strlen(exe) <= 80 && !strchr(exe, ' '));
	/* a name longer than the caller's buffer is refused, not cut */
	if (gdbcmd_core_exe_elf(elf, small, sizeof(small)))
		FUZZ_ASSERT(strlen(small) < sizeof(small));
	if (elf)
		elf_end(elf);
	free(image);
	return 0;
}
