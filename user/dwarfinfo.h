/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * DWARF of a target binary (libdw): where it was found and struct member
 * offsets for user/pylayout.c.  Debug info is looked for in the binary
 * itself, then by build-id and .gnu_debuglink under the target's
 * /usr/lib/debug (through /proc/PID/root for containers) and ours, and
 * through debuginfod when DEBUGINFOD_URLS is set (elfutils does that).
 */
#ifndef GCSCOPE_DWARFINFO_H
#define GCSCOPE_DWARFINFO_H

#include <elfutils/libdw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct dwarfinfo;

/* Open the debug info of the ELF at path; root is the target's root as a
 * path we can use ("/proc/PID/root", or "/" for our own).  Returns NULL if
 * there is none; *where then says what was tried. */
struct dwarfinfo *dwarfinfo_open(const char *path, const char *root, char *where, size_t size);
void dwarfinfo_close(struct dwarfinfo *d);
/* The file the DWARF came from. */
const char *dwarfinfo_file(const struct dwarfinfo *d);

/* The DWARF itself, and its CFI (call frame information), for code that
 * walks DIEs (user/gcsite.c).  As libdwfl has it: an address in the module
 * is a DWARF address + *bias, and a CFI address + the CFI's *bias; DWARF
 * addresses are the ELF's own virtual addresses. */
Dwarf *dwarfinfo_dwarf(const struct dwarfinfo *d, uint64_t *bias);
Dwarf_CFI *dwarfinfo_cfi(const struct dwarfinfo *d, uint64_t *bias);

/* Does the function whose code is at vaddr have inner inlined into it
 * (anywhere in its DIE tree)?  -1 if DWARF does not describe vaddr. */
int dwarfinfo_inlines_at(struct dwarfinfo *d, uint64_t vaddr, const char *inner);

/* pyl_dwarf_fn (pylayout.h): offset of member path ("a.b.c") in type, or
 * its size for "sizeof"; -1 if not found. */
long dwarfinfo_member_offset(void *d, const char *type, const char *path);

#endif
