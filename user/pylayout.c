// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pylayout.h"

/* The rules (cookie, bounds, column coverage) are PYL_RULE_* and
 * column.* rows of pylayout.tsv, shared with gdb/gcscope_layout.py. */

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
	case PYL_SRC_TARGET:
		return "target";
	default:
		return "none";
	}
}

const char *py_version_str(uint32_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
	return buf;
}

int pyl_column_for(uint32_t version)
{
	long micro = (version >> 8) & 0xff;

	for (int c = 0; c < PYL_NCOLS; c++) {
		if ((pyl_columns[c] & 0xffff0000) == (version & 0xffff0000) &&
		    pyl_rows[PYL_COLUMN_FIRST_MICRO].values[c] <= micro &&
		    micro <= pyl_rows[PYL_COLUMN_LAST_MICRO].values[c])
			return c;
	}
	return -1;
}

int pylayout_init(struct pylayout *l, uint32_t version)
{
	memset(l, 0, sizeof(*l));
	l->version = version;
	l->column = -1;
	l->column = pyl_column_for(version);
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

	if (len < 16 || memcmp(buf, PYL_RULE_DEBUG_OFFSETS_COOKIE, 8))
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
		if (v >= (uint64_t)PYL_RULE_MAX_OFFSET)
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
	return ft == (uint64_t)PYL_RULE_FREE_THREADED;
}

static bool ft_keeps(const char *name)
{
	static const char keep[] = PYL_RULE_FREE_THREADED_TABLE_ROWS;
	const char *p = keep;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n && !strncmp(name, p, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

long pylayout_table_value(const struct pylayout *l, int i)
{
	char ftname[128];
	int ft;

	if (l->column < 0 || i < 0 || i >= PYL__COUNT)
		return PYL_UNKNOWN;
	if (!l->free_threaded || !strncmp(pyl_rows[i].name, "ft.", 3))
		return pyl_rows[i].values[l->column];
	snprintf(ftname, sizeof(ftname), "ft.%s", pyl_rows[i].name);
	ft = pyl_find(ftname);
	if (ft >= 0)
		return pyl_rows[ft].values[l->column];
	return ft_keeps(pyl_rows[i].name) ? pyl_rows[i].values[l->column] : PYL_UNKNOWN;
}

int pylayout_forget_table(struct pylayout *l)
{
	int n = 0;

	l->free_threaded = true;
	for (int i = 0; i < PYL__COUNT; i++) {
		long v;

		if (l->src[i] == PYL_SRC_DWARF || l->src[i] == PYL_SRC_DEBUG_OFFSETS)
			continue;
		v = pylayout_table_value(l, i);
		if (v == l->off[i])
			continue;
		l->off[i] = v;
		l->src[i] = v >= 0 ? PYL_SRC_TABLE : PYL_SRC_NONE;
		n++;
	}
	return n;
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

			if (v >= 0 && v < PYL_RULE_MAX_OFFSET) {
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

int pylayout_apply_generation0(struct pylayout *l, uint64_t gcstate, uint64_t generation0)
{
	long g0 = l->off[PYL_GC_GENERATION0], cur = l->off[PYL_GC_GENERATIONS];
	long head = l->off[PYL_GC_GENERATION_HEAD], size = l->off[PYL_GC_GENERATION_SIZEOF];
	long debug = l->off[PYL_GC_DEBUG];
	uint64_t off;

	/* 3.14.0-3.14.4 have young + old[2] and no generation0 */
	if (g0 < 0 || head < 0 || size < 0 || debug < 0 || l->off[PYL_GC_YOUNG] >= 0)
		return 0;
	/* the pointer is the target's: bounded before it becomes an offset */
	if (generation0 < gcstate + (uint64_t)head)
		return 0;
	off = generation0 - gcstate - (uint64_t)head;
	if (off <= (uint64_t)debug || off + 3 * (uint64_t)size > (uint64_t)g0 ||
	    off % PYL_RULE_GENERATIONS_ALIGN || (long)off == cur)
		return 0;
	l->off[PYL_GC_GENERATIONS] = (long)off;
	l->src[PYL_GC_GENERATIONS] = PYL_SRC_TARGET;
	return 1;
}
