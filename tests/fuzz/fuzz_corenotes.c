// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * What `gcscope core` reads of a core file: which executable it names in
 * NT_PRPSINFO (user/gdbcmd.c), and its segments and build-ids
 * (core_inspect(), core_has_build_id(), user/corefile.c, which open a
 * path: the input is written to a memfd for them).  A core is whatever the
 * user was handed.
 */
#define _GNU_SOURCE
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corefile.h"
#include "fuzz.h"
#include "gdbcmd.h"

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char exe[4096], small[8], why[256];
	struct core_info ci;
	void *image;
	Elf *elf;

	if (memfd < 0) {
		memfd = memfd_create("fuzz_corenotes", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (core_inspect(memfd_path, &ci, why, sizeof(why)) == 0)
		FUZZ_ASSERT(ci.nload_cut <= ci.nload && ci.file_size == size);
	core_has_build_id(memfd_path, "0123456789abcdef0123456789abcdef01234567");

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
