// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pylayout.h"

/* _Py_DebugOffsets starts with char cookie[8] = "xdebugpy" and uint64
 * version (PY_VERSION_HEX) in every version that has it (3.13+,
 * Include/internal/pycore_debug_offsets.h). */
#define DEBUG_OFFSETS_COOKIE "xdebugpy"

/* Offsets inside CPython structs are small; anything larger read from a
 * target is garbage, not a layout. */
#define PYL_MAX_OFFSET (1L << 22)

int pyl_find(const char *name)
{
	for (int i = 0; i < PYL__COUNT; i++)
		if (!strcmp(pyl_rows[i].name, name))
			return i;
	return -1;
}

const char *pyl_source_name(enum pyl_source s)
{
	switch (s) {
	case PYL_SRC_TABLE:
		return "table";
	case PYL_SRC_DEBUG_OFFSETS:
		return "_Py_DebugOffsets";
	case PYL_SRC_DWARF:
		return "DWARF";
	default:
		return "none";
	}
}

const char *py_version_str(uint32_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
	return buf;
}

int pylayout_init(struct pylayout *l, uint32_t version)
{
	memset(l, 0, sizeof(*l));
	l->version = version;
	l->column = -1;
	/* A column holds from its version up to the next one of the same minor
	 * version: 3.14.0 covers 3.14.0-3.14.4; nothing covers 3.15. */
	for (int c = 0; c < PYL_NCOLS; c++) {
		if ((pyl_columns[c] & 0xffff0000) == (version & 0xffff0000) && pyl_columns[c] <= version)
			l->column = c;
	}
	for (int i = 0; i < PYL__COUNT; i++) {
		if (l->column < 0) {
			l->off[i] = PYL_UNKNOWN;
			continue;
		}
		l->off[i] = pyl_rows[i].values[l->column];
		l->src[i] = l->off[i] >= 0 ? PYL_SRC_TABLE : PYL_SRC_NONE;
	}
	return l->column < 0 ? -ENOTSUP : 0;
}

int pylayout_apply_debug_offsets(struct pylayout *l, const void *buf, size_t len)
{
	int n = 0;

	if (len < 16 || memcmp(buf, DEBUG_OFFSETS_COOKIE, 8))
		return -EINVAL;
	for (int i = 0; i < PYL__COUNT; i++) {
		const char *spec = pyl_rows[i].pydebug;
		char name[128];
		const char *plus;
		long add = 0, pos;
		uint64_t v;
		int row;

		if (!strcmp(spec, "-") || l->src[i] == PYL_SRC_DWARF)
			continue;
		plus = strchr(spec, '+');
		snprintf(name, sizeof(name), "%.*s", (int)(plus ? plus - spec : (long)strlen(spec)), spec);
		if (plus)
			add = strtol(plus + 1, NULL, 10);
		row = pyl_find(name);
		if (row < 0)
			continue;
		pos = l->off[row];	/* where in _Py_DebugOffsets the value sits */
		if (pos < 0 || (size_t)pos + sizeof(v) > len)
			continue;
		memcpy(&v, (const char *)buf + pos, sizeof(v));
		if (v >= (uint64_t)PYL_MAX_OFFSET)
			continue;
		l->off[i] = (long)v + add;
		l->src[i] = PYL_SRC_DEBUG_OFFSETS;
		n++;
	}
	l->n_debug_offsets = n;
	return n;
}

bool pylayout_free_threaded(const struct pylayout *l, const void *buf, size_t len)
{
	uint64_t ft;

	if (!pyl_known(l, PYL_DEBUG_OFFSETS_FREE_THREADED) ||
	    (size_t)pyl(l, PYL_DEBUG_OFFSETS_FREE_THREADED) + 8 > len)
		return false;
	memcpy(&ft, (const char *)buf + pyl(l, PYL_DEBUG_OFFSETS_FREE_THREADED), 8);
	return ft == 1;
}

int pylayout_apply_dwarf(struct pylayout *l, pyl_dwarf_fn fn, void *ctx)
{
	int n = 0;

	for (int i = 0; i < PYL__COUNT; i++) {
		const char *spec = pyl_rows[i].dwarf, *colon = strchr(spec, ':');
		char type[128], paths[256], *save = NULL, *p;

		if (!colon || (size_t)(colon - spec) >= sizeof(type))
			continue;
		snprintf(type, sizeof(type), "%.*s", (int)(colon - spec), spec);
		snprintf(paths, sizeof(paths), "%s", colon + 1);
		/* "a|b": alternative member names across versions. */
		for (p = strtok_r(paths, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
			long v = fn(ctx, type, p);

			if (v >= 0 && v < PYL_MAX_OFFSET) {
				l->off[i] = v;
				l->src[i] = PYL_SRC_DWARF;
				n++;
				break;
			}
		}
	}
	l->n_dwarf = n;
	return n;
}
