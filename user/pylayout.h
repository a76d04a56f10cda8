/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * CPython's memory layout for one target: the table of user/pylayout.tsv
 * (one column per version), overridden by the target's own _Py_DebugOffsets
 * (3.13+) and by its DWARF when present.  Each value remembers where it came
 * from, for `gcscope doctor`.
 */
#ifndef GCSCOPE_PYLAYOUT_H
#define GCSCOPE_PYLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PYL_NONE	(-1L)	/* the field does not exist in this version */
#define PYL_UNKNOWN	(-2L)	/* not measured for this version */

struct pyl_row {
	const char *name;	/* "interp.gc" */
	const char *dwarf;	/* "PyInterpreterState:gc" or "-" */
	const char *pydebug;	/* "debug_offsets.interpreter_state.gc[+N]" or "-" */
	long values[12];	/* one per column of pylayout.tsv */
};

#include "pylayout_gen.h"	/* generated: pyl_columns, enum pyl_field, pyl_rows */

enum pyl_source {
	PYL_SRC_NONE = 0,
	PYL_SRC_TABLE,
	PYL_SRC_DEBUG_OFFSETS,
	PYL_SRC_DWARF,
	PYL_SRC_TARGET,		/* gc.generations from gcstate->generation0 */
};

struct pylayout {
	uint32_t version;		/* major<<24 | minor<<16 | micro<<8 */
	int column;			/* table column used, -1 if none */
	long off[PYL__COUNT];
	enum pyl_source src[PYL__COUNT];
	int n_debug_offsets;		/* values taken from _Py_DebugOffsets */
	int n_dwarf;			/* values taken from DWARF */
	bool free_threaded;		/* pylayout_forget_table() was applied */
};

/* Start from the table.  Returns 0, or -ENOTSUP if no column fits the
 * version (then every value is PYL_UNKNOWN until overridden). */
int pylayout_init(struct pylayout *l, uint32_t version);

/* Override with the target's _Py_DebugOffsets (the first bytes of
 * _PyRuntime, 3.13+).  Returns how many values it set, or -EINVAL if the
 * buffer does not start with the "xdebugpy" cookie. */
int pylayout_apply_debug_offsets(struct pylayout *l, const void *buf, size_t len);
/* Does that _Py_DebugOffsets (len bytes of it) say the build is free-threaded
 * (3.13t+)?  After pylayout_apply_debug_offsets(). */
bool pylayout_free_threaded(const struct pylayout *l, const void *buf, size_t len);

/* A free-threaded build: the table's columns describe GIL builds.  Every
 * value not from DWARF or _Py_DebugOffsets takes its "ft." row's value, or
 * keeps the table's (rows of rule free_threaded_table_rows), or becomes
 * PYL_UNKNOWN.  Returns how many values changed. */
int pylayout_forget_table(struct pylayout *l);
/* What the table says of row i for this build: its column's value, or for a
 * free-threaded build the "ft." row's, the kept value or PYL_UNKNOWN. */
long pylayout_table_value(const struct pylayout *l, int i);

/* DWARF lookup: offset of member path in type (or its size for "sizeof"),
 * or PYL_NONE if not found. */
typedef long (*pyl_dwarf_fn)(void *ctx, const char *type, const char *path);
int pylayout_apply_dwarf(struct pylayout *l, pyl_dwarf_fn fn, void *ctx);

/* gc.generations moved between patch releases (24 in 3.13.0, 20 in
 * trixie's 3.13.5): where the target's gcstate->generation0 (read at
 * gcstate + gc.generation0) points settles it, within the bounds of rule
 * generations_align in pylayout.tsv.  Returns 1 if it changed the value. */
int pylayout_apply_generation0(struct pylayout *l, uint64_t gcstate, uint64_t generation0);

/* The column of pylayout.tsv covering version (its column.first_micro and
 * column.last_micro rows), or -1. */
int pyl_column_for(uint32_t version);

/* The value, or PYL_NONE / PYL_UNKNOWN. */
static inline long pyl(const struct pylayout *l, enum pyl_field f)
{
	return l->off[f];
}

static inline int pyl_known(const struct pylayout *l, enum pyl_field f)
{
	return l->off[f] >= 0;
}

const char *pyl_source_name(enum pyl_source s);
/* The row index for a field name, or -1. */
int pyl_find(const char *name);

/* "3.11.2" into buf. */
const char *py_version_str(uint32_t v, char *buf, size_t size);

#endif
