/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Where the collector holds the set of objects it is about to destroy: the
 * list passed to finalize_garbage(tstate, collectable) (Modules/gcmodule.c
 * 3.9-3.12, Python/gc.c 3.13+), just before tp_finalize runs.  In optimised
 * builds finalize_garbage is inlined into the collector, so the probe
 * address and the way to find the list's head at that address come from
 * DWARF; in debug builds it is a function of its own.
 */
#ifndef GCSCOPE_GCSITE_H
#define GCSCOPE_GCSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarfinfo.h"

#define GCSITE_MAX 8

/* How BPF finds the list head (a PyGC_Head *) from the registers at vaddr. */
enum gcsite_kind {
	GCSITE_REG = 1,		/* head = reg */
	GCSITE_REG_OFF,		/* head = reg + offset */
	GCSITE_MEM,		/* head = *(reg + offset) */
};

struct gcsite {
	uint64_t vaddr;			/* probe address (ELF virtual address) */
	enum gcsite_kind kind;
	int dwarf_reg;			/* DWARF register number (x86-64 numbering) */
	int64_t offset;
	bool inlined;
	char how[160];			/* for doctor: which DIE, which expression */
};

/* Find the sites.  ft_unreachable: for a free-threaded build the offset of
 * unreachable in struct collection_state (pylayout.tsv ft_state.unreachable),
 * whose worklist is the list there; -1 for GIL builds.  Returns how many (0
 * with *why set when none). */
int gcsite_find(struct dwarfinfo *d, long ft_unreachable, struct gcsite *sites, int max, char *why, size_t size);

/* Byte offset in struct pt_regs (x86-64) of a DWARF register, or -1. */
int gcsite_pt_regs_offset(int dwarf_reg);

#endif
