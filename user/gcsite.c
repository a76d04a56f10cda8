// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcsite.h"

int gcsite_pt_regs_offset(int r)
{
	/* DWARF x86-64 register numbers (System V psABI, fig. 3.36) to the
	 * layout of struct pt_regs in <asm/ptrace.h>. */
	static const int off[16] = {
		80,	/* 0 rax */
		96,	/* 1 rdx */
		88,	/* 2 rcx */
		40,	/* 3 rbx */
		104,	/* 4 rsi */
		112,	/* 5 rdi */
		32,	/* 6 rbp */
		152,	/* 7 rsp */
		72, 64, 56, 48,	/* 8-11 r8-r11 */
		24, 16, 8, 0,	/* 12-15 r12-r15 */
	};

	return r >= 0 && r < 16 ? off[r] : -1;
}

static const char *origin_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Die origin;

	if (dwarf_attr(die, DW_AT_abstract_origin, &a) && dwarf_formref_die(&a, &origin))
		return dwarf_diename(&origin);
	return dwarf_diename(die);
}

/* The CFA at pc as reg + off. */
static bool cfa_at(Dwarf_CFI *cfi, Dwarf_Addr pc, int *reg, int64_t *off)
{
	Dwarf_Frame *frame = NULL;
	Dwarf_Op *ops;
	size_t nops;

	if (!cfi || dwarf_cfi_addrframe(cfi, pc, &frame) != 0)
		return false;
	if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1) {
		free(frame);
		return false;
	}
	/* libdw states a "reg + offset" CFA rule as DW_OP_bregx reg, offset */
	if (ops[0].atom == DW_OP_bregx) {
		*reg = (int)ops[0].number;
		*off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*off = (int64_t)ops[0].number;
	} else {
		free(frame);
		return false;
	}
	free(frame);
	return true;
}

/* Is the frame base of the subprogram enclosing the DIE DW_OP_call_frame_cfa? */
static bool frame_base_is_cfa(Dwarf_Die *scope)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr_integrate(scope, DW_AT_frame_base, &a))
		return false;
	if (dwarf_getlocation(&a, &ops, &n) != 0)
		return false;
	return n == 1 && ops[0].atom == DW_OP_call_frame_cfa;
}

/*
 * Turn a location expression, valid at pc, into a recipe.  is_address: the
 * DIE is the list itself (a local PyGC_Head), so its location *is* the head
 * address; otherwise it is the pointer parameter, whose value we want.
 */
static bool recipe(Dwarf_Op *ops, size_t n, bool is_address, Dwarf_Die *subprogram, Dwarf_CFI *cfi,
		   Dwarf_Addr pc, struct gcsite *s)
{
	bool stack_value = n == 2 && ops[1].atom == DW_OP_stack_value;
	int reg;
	int64_t off;

	if (n == 0 || n > 2 || (n == 2 && !stack_value))
		return false;
	switch (ops[0].atom) {
	case DW_OP_reg0 ... DW_OP_reg15:
		if (is_address || n != 1)
			return false;	/* a struct does not live in a register */
		s->kind = GCSITE_REG;
		s->dwarf_reg = ops[0].atom - DW_OP_reg0;
		s->offset = 0;
		return true;
	case DW_OP_breg0 ... DW_OP_breg15:
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
		break;
	case DW_OP_bregx:
		reg = (int)ops[0].number;
		off = (int64_t)ops[0].number2;
		break;
	case DW_OP_fbreg:
		if (!frame_base_is_cfa(subprogram) || !cfa_at(cfi, pc, &reg, &off))
			return false;
		off += (int64_t)ops[0].number;
		break;
	default:
		return false;
	}
	s->dwarf_reg = reg;
	s->offset = off;
	/* reg+off is the value itself (stack_value), or where it lives: for
	 * the local list that place is the head; for the pointer, read it. */
	s->kind = stack_value || is_address ? GCSITE_REG_OFF : GCSITE_MEM;
	if (stack_value && is_address)
		return false;
	return true;
}

static bool location_at(Dwarf_Die *die, Dwarf_Addr pc, Dwarf_Op **ops, size_t *n)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(die, DW_AT_location, &a))
		return false;
	return dwarf_getlocation_addr(&a, pc, ops, n, 1) == 1;
}

static bool entry_pc(Dwarf_Die *die, Dwarf_Addr *pc)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;

	if (dwarf_entrypc(die, pc) == 0)
		return true;
	off = dwarf_ranges(die, off, &base, &start, &end);
	if (off > 0) {
		*pc = start;
		return true;
	}
	return false;
}

/* A child DIE (formal parameter or variable) named name, searched in die
 * and its lexical blocks (not in nested inlined calls). */
static bool find_var(Dwarf_Die *die, int tag, const char *name, Dwarf_Die *out, int depth)
{
	Dwarf_Die c;

	if (depth > 6 || dwarf_child(die, &c) != 0)
		return false;
	do {
		const char *n;

		if (dwarf_tag(&c) == DW_TAG_lexical_block && find_var(&c, tag, name, out, depth + 1))
			return true;
		if (dwarf_tag(&c) != tag)
			continue;
		n = origin_name(&c);
		if (n && !strcmp(n, name)) {
			*out = c;
			return true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

/* libdwfl: module address = DWARF address + bias = CFI address + cfi_bias. */
struct search {
	Dwarf_CFI *cfi;
	uint64_t cfi_bias, bias;
	struct gcsite *sites;
	long ft_unreachable;		/* free-threaded: offsetof(collection_state, unreachable), or -1 */
	int n, max;
	char *why;
	size_t whysize;
};

static void try_site(struct search *S, Dwarf_Die *fin, Dwarf_Die *subprogram, bool inlined)
{
	struct gcsite s = { .inlined = inlined };
	Dwarf_Die var;
	Dwarf_Addr pc;
	Dwarf_Op *ops;
	size_t n;
	const char *caller = dwarf_diename(subprogram) ? dwarf_diename(subprogram) : origin_name(subprogram);

	if (!caller)
		caller = "?";	/* no name, no abstract origin: odd DWARF */
	if (S->n >= S->max || !entry_pc(fin, &pc))
		return;
	/* 1. the parameter, where the compiler kept it at the entry */
	if (find_var(fin, DW_TAG_formal_parameter, "collectable", &var, 0) && location_at(&var, pc, &ops, &n) &&
	    recipe(ops, n, false, inlined ? subprogram : fin, S->cfi, pc + S->bias - S->cfi_bias, &s)) {
		snprintf(s.how, sizeof(s.how), "finalize_garbage%s%s: parameter collectable",
			 inlined ? " inlined in " : "", inlined ? caller : "");
		goto found;
	}
	/* 2. the caller's own list, a local PyGC_Head named unreachable
	 * (gc_collect_main/collect: finalize_garbage(tstate, &unreachable)) */
	if (inlined && find_var(subprogram, DW_TAG_variable, "unreachable", &var, 0) &&
	    location_at(&var, pc, &ops, &n) &&
	    recipe(ops, n, true, subprogram, S->cfi, pc + S->bias - S->cfi_bias, &s)) {
		snprintf(s.how, sizeof(s.how), "finalize_garbage inlined in %s: its local unreachable", caller);
		goto found;
	}
	/* 3. free-threaded (Python/gc_free_threading.c, 3.13t+):
	 * finalize_garbage(struct collection_state *state) walks the
	 * worklist state->unreachable, whose first word is the first object
	 * (each links the next through ob_tid): that worklist is the head. */
	if (S->ft_unreachable >= 0 && find_var(fin, DW_TAG_formal_parameter, "state", &var, 0) &&
	    location_at(&var, pc, &ops, &n) &&
	    recipe(ops, n, false, inlined ? subprogram : fin, S->cfi, pc + S->bias - S->cfi_bias, &s) &&
	    s.kind != GCSITE_MEM) {
		s.offset += S->ft_unreachable;
		s.kind = GCSITE_REG_OFF;
		snprintf(s.how, sizeof(s.how), "finalize_garbage%s%s: parameter state, ->unreachable",
			 inlined ? " inlined in " : "", inlined ? caller : "");
		goto found;
	}
	/* 4. free-threaded, all inlined: the collector's local struct
	 * collection_state state (gc_collect_main) */
	if (S->ft_unreachable >= 0 && inlined && find_var(subprogram, DW_TAG_variable, "state", &var, 0) &&
	    location_at(&var, pc, &ops, &n) &&
	    recipe(ops, n, true, subprogram, S->cfi, pc + S->bias - S->cfi_bias, &s)) {
		s.offset += S->ft_unreachable;
		snprintf(s.how, sizeof(s.how), "finalize_garbage inlined in %s: its local state.unreachable", caller);
		goto found;
	}
	snprintf(S->why, S->whysize, "finalize_garbage found at 0x%llx but the location of its list is not "
		 "a register or stack slot there", (unsigned long long)pc);
	return;
found:
	if (gcsite_pt_regs_offset(s.dwarf_reg) < 0)
		return;
	s.vaddr = pc;	/* DWARF addresses are the ELF's own virtual addresses */
	for (int i = 0; i < S->n; i++)
		if (S->sites[i].vaddr == s.vaddr)
			return;
	S->sites[S->n++] = s;
}

/* Walk the DIE tree under a subprogram for inlined finalize_garbage. */
static void walk(struct search *S, Dwarf_Die *die, Dwarf_Die *subprogram, int depth)
{
	Dwarf_Die c;

	if (depth > 16 || dwarf_child(die, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_inlined_subroutine) {
			const char *n = origin_name(&c);

			if (n && !strcmp(n, "finalize_garbage"))
				try_site(S, &c, subprogram, true);
			else
				walk(S, &c, subprogram, depth + 1);
		} else if (tag == DW_TAG_lexical_block) {
			walk(S, &c, subprogram, depth + 1);
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static void scan_cu(struct search *S, Dwarf_Die *cu)
{
	Dwarf_Die c;

	if (dwarf_child(cu, &c) != 0)
		return;
	do {
		const char *n;

		if (dwarf_tag(&c) != DW_TAG_subprogram ||
		    (!dwarf_hasattr(&c, DW_AT_low_pc) && !dwarf_hasattr(&c, DW_AT_ranges)))
			continue;
		n = origin_name(&c);
		/* out of line (debug builds) */
		if (n && !strcmp(n, "finalize_garbage"))
			try_site(S, &c, &c, false);
		else
			walk(S, &c, &c, 0);
	} while (dwarf_siblingof(&c, &c) == 0);
}

int gcsite_find(struct dwarfinfo *d, long ft_unreachable, struct gcsite *sites, int max, char *why, size_t size)
{
	struct search S = { .sites = sites, .max = max, .why = why, .whysize = size,
			    .ft_unreachable = ft_unreachable };
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw = dwarfinfo_dwarf(d, &S.bias);

	S.cfi = dwarfinfo_cfi(d, &S.cfi_bias);
	snprintf(why, size, "no finalize_garbage in the DWARF of %s", dwarfinfo_file(d));
	/* Only the GC's compilation unit defines and inlines finalize_garbage;
	 * with LTO (Debian's builds) its code lands in "<artificial>" units. */
	for (int pass = 0; pass < 2 && S.n == 0; pass++) {
		off = 0;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			Dwarf_Die cu;
			const char *name;
			bool gc_cu;

			if (!dwarf_offdie(dw, off + hsize, &cu) || !(name = dwarf_diename(&cu))) {
				off = next;
				continue;
			}
			gc_cu = strstr(name, "gcmodule.c") || strstr(name, "Python/gc.c") ||
				strstr(name, "Python/gc_free_threading.c");
			if (pass == 0 ? gc_cu : !strcmp(name, "<artificial>"))
				scan_cu(&S, &cu);
			off = next;
		}
	}
	return S.n;
}
