/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/* --owners: where inside an allocator a new instance can be seen with one
 * uprobe that the kernel emulates, instead of an entry uprobe and a
 * uretprobe (user/allocsite.c). */
#ifndef GCSCOPE_ALLOCSITE_H
#define GCSCOPE_ALLOCSITE_H

#include <stddef.h>
#include <stdint.h>

#include "elfinfo.h"

#define ALLOCSITE_MAX 4

struct allocpoint {
	uint64_t vaddr;		/* the instruction to probe (ELF virtual address) */
	int dwarf_reg;		/* the register holding the new object there */
};

/* Decode the function [vaddr, vaddr + size) of elf (x86-64) and find, for
 * every store of its first argument (the type) to an object's ob_type
 * (off_ob_type), the next instruction the kernel's uprobes emulate with
 * the object still in a register.  Returns how many (1..max), or 0 with a
 * reason in why when no such points cover every way out of the function:
 * then the caller keeps the entry uprobe and uretprobe. */
int allocsite_find(struct elffile *elf, uint64_t vaddr, uint64_t size, long off_ob_type, struct allocpoint *out,
		   int max, char *why, size_t whylen);

#endif /* GCSCOPE_ALLOCSITE_H */
