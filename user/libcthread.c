// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "libcthread.h"

int mapped_elf_open(const struct procmaps *pm, const char *prefix, struct elffile *ef)
{
	char path[PATH_MAX];

	for (int i = 0; i < pm->n; i++) {
		const struct mapping *m = &pm->m[i];
		const char *base = strrchr(m->path, '/');

		if (m->offset || !base || strncmp(base + 1, prefix, strlen(prefix)))
			continue;
		if (procmaps_open_path(pm, m, path, sizeof(path)) || elf_open(ef, path))
			continue;
		return 0;
	}
	return -ENOENT;
}

uint32_t libc_pthread_tid_offset(const struct procmaps *pm)
{
	struct elffile ef;
	struct elfsym s;
	uint32_t d[3] = { 0 };	/* bits, count, offset */

	/* libc-2.31.so where libc.so.6 is a link to it (glibc < 2.34) */
	if (mapped_elf_open(pm, "libc.so", &ef) && mapped_elf_open(pm, "libc-", &ef))
		return 0;
	if (elf_find_symbol(&ef, "_thread_db_pthread_tid", &s) || elf_read_vaddr(&ef, s.value, d, sizeof(d)))
		d[2] = 0;
	elf_close(&ef);
	/* a 32-bit field inside one page of the struct: anything else is not
	 * the glibc this was written for */
	return d[0] == 32 && d[2] && d[2] < 4096 && d[2] % 4 == 0 ? d[2] : 0;
}

void task_comm(pid_t pid, uint32_t tid, char *out, size_t size)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task/%u/comm", pid, tid);
	n = read_text_file(path, out, size);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[strcspn(out, "\n")] = '\0';
	tty_clean(out, out, size);
}
