// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * /proc/PID/maps (user/procmaps.c): the line parser, the path a target in
 * another root sees, and the lookup of a file's base mapping.  The target
 * chooses its mapped file names (any bytes but NUL and '/' in a name, and
 * the kernel's " (deleted)"), so every line is hostile.
 *
 * Input: the maps text, optionally after a first line "root=DIR" that
 * makes the target live in a chroot at DIR (/proc/PID/root).
 */
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct procmaps pm;	/* PATH_MAX inside: off the stack */
	const char *text = (const char *)data;
	size_t len = size;

	memset(&pm, 0, sizeof(pm));
	pm.pid = 1;
	snprintf(pm.root, sizeof(pm.root), "/");
	if (size >= 5 && !memcmp(data, "root=", 5)) {
		const char *nl = memchr(data, '\n', size);
		size_t rl = nl ? (size_t)(nl - text) - 5 : size - 5;

		if (rl >= sizeof(pm.root))
			rl = sizeof(pm.root) - 1;
		memcpy(pm.root, text + 5, rl);
		pm.root[rl] = '\0';
		pm.foreign_root = true;
		text = nl ? nl + 1 : text + size;
		len = size - (size_t)(text - (const char *)data);
	}
	if (procmaps_parse(&pm, text, len))
		return 0;
	for (int i = 0; i < pm.n; i++) {
		const struct mapping *m = &pm.m[i], *base;
		char inside[PATH_MAX];
		size_t pl = strlen(m->path), il;

		FUZZ_ASSERT(m->path[0] == '/' && !strchr(m->path, '\n'));
		procmaps_inside_path(&pm, m->path, inside, sizeof(inside));
		il = strlen(inside);
		/* the inside path is the mapped path, or a tail of it */
		FUZZ_ASSERT(il <= pl && !strcmp(inside, m->path + (pl - il)));
		base = procmaps_find_base(&pm, m->path);
		FUZZ_ASSERT(!base || (base->offset == 0 && !strcmp(base->path, m->path)));
		if (m->offset == 0)
			FUZZ_ASSERT(base != NULL);
	}
	procmaps_free(&pm);
	return 0;
}
