/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * --owners: see each new instance with one uprobe the kernel emulates.
 *
 * The allocators (user/probe.c plan_alloc()) were hooked with a uprobe at
 * the entry and a uretprobe, to read the new object from rax: two traps
 * per instance, about 3 us on the test machine, which made --owners on
 * the all-watched churn 6-7x on 3.12+ (make bench, issue 8 item 7).
 *
 * In _PyType_AllocNoTrack (3.12+) and PyType_GenericAlloc (3.9-3.11, or
 * with the former inlined) the object's type is set by _PyObject_Init()'s
 * Py_SET_TYPE(op, typeobj) (Include/internal/pycore_object.h), a store of
 * the function's first argument to op->ob_type, inlined in every release
 * build.  Right after that store, op is in a register and has its type:
 * a uprobe on the next instruction that the kernel emulates rather than
 * single-steps (arch/x86/kernel/uprobes.c: call/jmp/jcc rel, nop, push
 * reg) costs one trap, and BPF filters by type as before.
 *
 * Decoding is capstone's (Debian's libcapstone-dev).  A point is taken
 * only where it is exact: the type register is followed through register
 * moves from the entry over the whole control-flow graph (a register
 * holds the type only if it does on every path); no branch lands between
 * the store and the point, which does not change the object's register;
 * and no return from the function is reachable without passing a store
 * (PyErr_NoMemory(), which returns NULL, ends a path).  Anything else
 * (an indirect jump, a debug build that keeps the type on the stack, code
 * that cannot be decoded) gives 0 and the caller keeps the uretprobe.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocsite.h"

#define CODE_MAX (64 * 1024)	/* the allocators are a few hundred bytes */

/* capstone's x86 registers to DWARF's numbers (System V psABI fig. 3.36),
 * any width; -1 for the rest. */
static int gpr_of(x86_reg r)
{
	switch (r) {
	case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: case X86_REG_RAX: return 0;
	case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: case X86_REG_RDX: return 1;
	case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: case X86_REG_RCX: return 2;
	case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: case X86_REG_RBX: return 3;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: case X86_REG_RSI: return 4;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: case X86_REG_RDI: return 5;
	case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: case X86_REG_RBP: return 6;
	case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: case X86_REG_RSP: return 7;
	case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D: case X86_REG_R8: return 8;
	case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D: case X86_REG_R9: return 9;
	case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D: case X86_REG_R10: return 10;
	case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D: case X86_REG_R11: return 11;
	case X86_REG_R12B: case X86_REG_R12W: case X86_REG_R12D: case X86_REG_R12: return 12;
	case X86_REG_R13B: case X86_REG_R13W: case X86_REG_R13D: case X86_REG_R13: return 13;
	case X86_REG_R14B: case X86_REG_R14W: case X86_REG_R14D: case X86_REG_R14: return 14;
	case X86_REG_R15B: case X86_REG_R15W: case X86_REG_R15D: case X86_REG_R15: return 15;
	default: return -1;
	}
}

static bool is_r64(x86_reg r)
{
	return r == X86_REG_RAX || r == X86_REG_RBX || r == X86_REG_RCX || r == X86_REG_RDX || r == X86_REG_RSI ||
	       r == X86_REG_RDI || r == X86_REG_RBP || (r >= X86_REG_R8 && r <= X86_REG_R15);
}

/* kept across a call (System V: rbx, rbp, rsp, r12-r15) */
#define CALLEE_SAVED ((1u << 3) | (1u << 6) | (1u << 7) | (0xfu << 12))

enum kind { K_PLAIN, K_CALL, K_NORET, K_JCC, K_JMP, K_EXIT, K_BAD };

struct ins {
	uint64_t addr;
	uint16_t in;		/* registers holding the type on entry to it */
	bool seen, target, store_ok;
	enum kind kind;
	int succ;		/* branch target's index, -1 if none */
	int fall;		/* the next instruction's index, -1 if not decoded */
	uint8_t size;
	uint16_t writes;	/* registers it writes */
	int move_dst, move_src;	/* a 64-bit register-to-register mov */
	int store_base;		/* mov reg64, off_ob_type(base): base, or -1 */
	int store_src;
	bool emulated;		/* the kernel emulates it under a uprobe */
};

struct ctx {
	struct elffile *elf;
	csh h;
	uint64_t noret_sym, noret_got;	/* PyErr_NoMemory, and its GOT slot (PLT calls) */
};

/* The GOT slot .rela.plt gives PyErr_NoMemory, 0 if none. */
static uint64_t plt_slot(struct elffile *ef, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!ef->elf || elf_getshdrstrndx(ef->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh, dsh;
		Elf_Scn *dyn;
		Elf_Data *d, *dd;
		const char *sn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sn = elf_strptr(ef->elf, shstrndx, sh.sh_name)) ||
		    strcmp(sn, ".rela.plt") || !(dyn = elf_getscn(ef->elf, sh.sh_link)) || !gelf_getshdr(dyn, &dsh) ||
		    !(d = elf_getdata(scn, NULL)) || !(dd = elf_getdata(dyn, NULL)) || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym s;
			const char *n;

			if (!gelf_getrela(d, (int)i, &r) || !gelf_getsym(dd, (int)GELF_R_SYM(r.r_info), &s))
				continue;
			n = elf_strptr(ef->elf, dsh.sh_link, s.st_name);
			if (n && !strcmp(n, name))
				return r.r_offset;
		}
	}
	return 0;
}

/* Is a call to target a call to PyErr_NoMemory, directly or by its PLT
 * stub (endbr64, then jmp *slot(%rip), with or without bnd)? */
static bool calls_noret(struct ctx *c, uint64_t target)
{
	uint8_t code[16];
	cs_insn *in = NULL;
	size_t n;
	bool r = false;

	if (c->noret_sym && target == c->noret_sym)
		return true;
	if (!c->noret_got || elf_read_vaddr(c->elf, target, code, sizeof(code)))
		return false;
	n = cs_disasm(c->h, code, sizeof(code), target, 2, &in);
	for (size_t i = 0; i < n; i++) {
		cs_x86 *x = &in[i].detail->x86;

		if (in[i].id == X86_INS_ENDBR64)
			continue;
		r = in[i].id == X86_INS_JMP && x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RIP && x->operands[0].mem.index == X86_REG_INVALID &&
		    in[i].address + in[i].size + (uint64_t)x->operands[0].mem.disp == c->noret_got;
		break;
	}
	if (in)
		cs_free(in, n);
	return r;
}

/* What the kernel's x86 uprobes emulate (branch_setup_xol_ops(),
 * push_setup_xol_ops()): no prefix but REX.B on push. */
static bool emulated(const uint8_t *b, size_t len)
{
	if (len == 2 && (b[0] >= 0x70 && b[0] <= 0x7f))
		return true;			/* jcc rel8 */
	if (len == 2 && b[0] == 0xeb)
		return true;			/* jmp rel8 */
	if (len == 5 && (b[0] == 0xe9 || b[0] == 0xe8))
		return true;			/* jmp/call rel32 */
	if (len == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f)
		return true;			/* jcc rel32 */
	if (len == 1 && (b[0] == 0x90 || (b[0] >= 0x50 && b[0] <= 0x57)))
		return true;			/* nop, push reg */
	return len == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57;	/* push r8-r15 */
}

static int classify(struct ctx *c, const cs_insn *ci, struct ins *in, long off_ob_type, uint64_t *target)
{
	cs_x86 *x = &ci->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	bool imm = x->op_count == 1 && x->operands[0].type == X86_OP_IMM;

	in->addr = ci->address;
	in->succ = -1;
	in->move_dst = in->move_src = in->store_base = in->store_src = -1;
	in->emulated = emulated(ci->bytes, ci->size);
	*target = imm ? (uint64_t)x->operands[0].imm : 0;
	if (cs_regs_access(c->h, ci, rd, &nrd, wr, &nwr))
		return -1;
	for (int i = 0; i < nwr; i++) {
		int g = gpr_of(wr[i]);

		if (g >= 0 && g != 7)
			in->writes |= (uint16_t)(1u << g);
	}
	if (cs_insn_group(c->h, ci, X86_GRP_RET) || ci->id == X86_INS_IRET || ci->id == X86_INS_IRETQ) {
		in->kind = K_EXIT;
	} else if (ci->id == X86_INS_UD2 || ci->id == X86_INS_HLT || ci->id == X86_INS_INT3) {
		in->kind = K_NORET;
	} else if (cs_insn_group(c->h, ci, X86_GRP_CALL)) {
		in->kind = imm && calls_noret(c, *target) ? K_NORET : K_CALL;
		*target = 0;
	} else if (ci->id == X86_INS_JMP) {
		if (!imm)
			return -1;	/* a jump table or a computed tail call */
		/* outside the function: a tail call, or its .cold part
		 * (allocsite_find() tells which) */
		in->kind = K_JMP;
	} else if (cs_insn_group(c->h, ci, X86_GRP_JUMP)) {
		if (!imm)
			return -1;
		in->kind = K_JCC;	/* outside the function: its .cold part */
	} else {
		in->kind = K_PLAIN;
		*target = 0;
	}
	if (ci->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	    x->operands[1].type == X86_OP_REG && is_r64(x->operands[0].reg) && is_r64(x->operands[1].reg)) {
		in->move_dst = gpr_of(x->operands[0].reg);
		in->move_src = gpr_of(x->operands[1].reg);
	}
	if (ci->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_MEM &&
	    x->operands[1].type == X86_OP_REG && is_r64(x->operands[1].reg) && x->operands[0].size == 8 &&
	    x->operands[0].mem.segment == X86_REG_INVALID && x->operands[0].mem.index == X86_REG_INVALID &&
	    x->operands[0].mem.disp == off_ob_type && gpr_of(x->operands[0].mem.base) >= 0 &&
	    gpr_of(x->operands[0].mem.base) != 7) {
		in->store_base = gpr_of(x->operands[0].mem.base);
		in->store_src = gpr_of(x->operands[1].reg);
	}
	return 0;
}

static int index_of(const struct ins *v, int n, uint64_t addr)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (v[mid].addr == addr)
			return mid;
		if (v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Registers holding the type, over the control-flow graph (a must
 * analysis: the intersection where paths meet). */
static void flow(struct ins *v, int n, int entry)
{
	/* an instruction is pushed when first seen and each time its set
	 * loses a register: at most 17 times */
	int cap = 17 * n + 1, *work = malloc(sizeof(*work) * (size_t)cap), nw = 0;

	if (!work)
		return;
	v[entry].in = 1u << 5;	/* rdi: the type */
	v[entry].seen = true;
	work[nw++] = entry;
	while (nw) {
		int i = work[--nw], next[2], nn = 0;
		uint16_t out = v[i].in;
		bool src = v[i].move_src >= 0 && (out >> v[i].move_src) & 1;

		if (v[i].kind == K_CALL)
			out &= CALLEE_SAVED;
		out &= (uint16_t)~v[i].writes;
		if (v[i].move_dst >= 0 && src)
			out |= (uint16_t)(1u << v[i].move_dst);
		if ((v[i].kind == K_PLAIN || v[i].kind == K_CALL || v[i].kind == K_JCC) && v[i].fall >= 0)
			next[nn++] = v[i].fall;
		if ((v[i].kind == K_JMP || v[i].kind == K_JCC) && v[i].succ >= 0)
			next[nn++] = v[i].succ;
		for (int k = 0; k < nn; k++) {
			struct ins *s = &v[next[k]];
			uint16_t m = s->seen ? (uint16_t)(s->in & out) : out;

			if (s->seen && m == s->in)
				continue;
			s->in = m;
			s->seen = true;
			if (nw < cap)
				work[nw++] = next[k];
		}
	}
	free(work);
}

/* Can a return be reached from the entry without passing a store? */
static bool ret_unguarded(const struct ins *v, int n, int entry, const bool *guard)
{
	bool *vis = calloc((size_t)n, 1), r = false;
	int *stack = malloc(sizeof(*stack) * (size_t)n), ns = 0;

	if (!vis || !stack) {
		free(vis);
		free(stack);
		return true;
	}
	stack[ns++] = entry;
	vis[entry] = true;
	while (ns && !r) {
		int i = stack[--ns], next[2], nn = 0;

		if (guard[i])
			continue;
		if (v[i].kind == K_EXIT) {
			r = true;
			break;
		}
		if (v[i].kind == K_PLAIN || v[i].kind == K_CALL || v[i].kind == K_JCC) {
			if (v[i].fall < 0) {
				r = true;	/* runs into code not decoded */
				break;
			}
			next[nn++] = v[i].fall;
		}
		if (v[i].kind == K_JMP || v[i].kind == K_JCC) {
			if (v[i].succ < 0) {
				r = true;
				break;
			}
			next[nn++] = v[i].succ;
		}
		for (int k = 0; k < nn; k++)
			if (!vis[next[k]]) {
				vis[next[k]] = true;
				stack[ns++] = next[k];
			}
	}
	free(vis);
	free(stack);
	return r;
}

struct at_sym {
	uint64_t addr;
	bool found;
};

static int sym_at_cb(const struct elfsym *s, void *ctx)
{
	struct at_sym *a = ctx;

	if (s->value == a->addr)
		a->found = true;
	return a->found;
}

/* A jump out of the function to PyErr_NoMemory or to a function's start
 * (its symbol, or an endbr64): a tail call, which ends the path (another allocator it
 * calls so is hooked itself).  Anything else is taken for its .cold part. */
static bool tail_call(struct ctx *c, uint64_t target)
{
	struct at_sym a = { target, false };
	uint8_t b[4];

	if (calls_noret(c, target))
		return true;
	/* endbr64: a function's entry under -fcf-protection (sid's 3.15
	 * tail-calls the static _PyErr_NoMemory(tstate)); never a cold part */
	if (!elf_read_vaddr(c->elf, target, b, sizeof(b)) && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e &&
	    b[3] == 0xfa)
		return true;
	elf_for_each_symbol(c->elf, sym_at_cb, &a);
	return a.found;
}

static int by_addr(const void *a, const void *b)
{
	const struct ins *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

#define FRAG_MAX 16		/* .cold fragments followed */
#define FRAG_BYTES 1024		/* decoded of each */

struct code {
	struct ins *v;
	uint64_t *tg;		/* each one's branch target, 0 if none */
	size_t n, cap;
};

static int code_add(struct code *k, struct ctx *c, const cs_insn *ci, long off_ob_type, char *why, size_t whylen)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 256;
		struct ins *v = realloc(k->v, cap * sizeof(*v));
		uint64_t *tg;

		if (!v)
			goto nomem;
		k->v = v;
		tg = realloc(k->tg, cap * sizeof(*tg));
		if (!tg)
			goto nomem;
		k->tg = tg;
		k->cap = cap;
	}
	memset(&k->v[k->n], 0, sizeof(k->v[k->n]));
	if (classify(c, ci, &k->v[k->n], off_ob_type, &k->tg[k->n])) {
		snprintf(why, whylen, "an indirect jump at 0x%llx (%s %s)", (unsigned long long)ci->address,
			 ci->mnemonic, ci->op_str);
		return -1;
	}
	k->v[k->n].size = ci->size;
	k->n++;
	return 0;
nomem:
	snprintf(why, whylen, "%s", strerror(ENOMEM));
	return -1;
}

static bool decoded(const struct code *k, uint64_t addr)
{
	for (size_t i = 0; i < k->n; i++)
		if (addr >= k->v[i].addr && addr < k->v[i].addr + k->v[i].size)
			return true;
	return false;
}

/* GCC's -freorder-blocks-and-partition moves unlikely blocks of a function
 * to NAME.cold, out of its symbol's range (sid's 3.14/3.15): decode each
 * from a conditional jump's target, linearly, up to where it leaves (an
 * unconditional jump, a return). */
static int decode_fragment(struct code *k, struct ctx *c, uint64_t at, long off_ob_type, char *why, size_t whylen)
{
	uint64_t end = at + FRAG_BYTES;

	while (at < end && !decoded(k, at)) {
		uint8_t b[16];
		cs_insn *ci = NULL;
		enum kind kd;

		if (elf_read_vaddr(c->elf, at, b, sizeof(b)) || cs_disasm(c->h, b, sizeof(b), at, 1, &ci) != 1) {
			snprintf(why, whylen, "cannot decode its cold part at 0x%llx", (unsigned long long)at);
			return -1;
		}
		if (code_add(k, c, ci, off_ob_type, why, whylen)) {
			cs_free(ci, 1);
			return -1;
		}
		at += ci->size;
		cs_free(ci, 1);
		kd = k->v[k->n - 1].kind;
		if (kd == K_JMP || kd == K_EXIT || kd == K_NORET)
			break;
	}
	return 0;
}

int allocsite_find(struct elffile *elf, uint64_t vaddr, uint64_t size, long off_ob_type, struct allocpoint *out,
		   int max, char *why, size_t whylen)
{
	struct ctx c = { .elf = elf };
	struct code k = { 0 };
	struct elfsym s;
	uint8_t *code = NULL;
	cs_insn *ci = NULL;
	struct ins *v;
	bool *guard = NULL;
	size_t n = 0, used = 0, nci = 0;
	int np = 0, nstores = 0, nfrag = 0, entry;

	if (!size || size > CODE_MAX) {
		snprintf(why, whylen, "no size in the symbol table, or too large (%llu bytes)",
			 (unsigned long long)size);
		return 0;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c.h) != CS_ERR_OK) {
		snprintf(why, whylen, "capstone cannot decode x86-64");
		return 0;
	}
	cs_option(c.h, CS_OPT_DETAIL, CS_OPT_ON);
	if (!elf_find_symbol(elf, "PyErr_NoMemory", &s))
		c.noret_sym = s.value;
	c.noret_got = plt_slot(elf, "PyErr_NoMemory");
	code = malloc(size);
	if (!code || elf_read_vaddr(elf, vaddr, code, size)) {
		snprintf(why, whylen, "cannot read its code");
		goto out;
	}
	nci = cs_disasm(c.h, code, size, vaddr, 0, &ci);
	for (size_t i = 0; i < nci; i++)
		used += ci[i].size;
	/* GCC pads a function's end with at most 15 bytes of nops */
	if (!nci || used + 16 < size) {
		snprintf(why, whylen, "capstone decoded %zu of its %llu bytes", used, (unsigned long long)size);
		goto out;
	}
	for (size_t i = 0; i < nci; i++)
		if (code_add(&k, &c, &ci[i], off_ob_type, why, whylen))
			goto out;
	/* the cold parts that conditional jumps lead to (and theirs) */
	for (size_t i = 0; i < k.n; i++) {
		uint64_t t = k.tg[i];

		if (!t || (t >= vaddr && t < vaddr + size) || decoded(&k, t))
			continue;
		if (k.v[i].kind == K_JMP && tail_call(&c, t)) {
			k.v[i].kind = K_NORET;
			k.tg[i] = 0;
			continue;
		}
		if (++nfrag > FRAG_MAX) {
			snprintf(why, whylen, "more than %d cold parts", FRAG_MAX);
			goto out;
		}
		if (decode_fragment(&k, &c, t, off_ob_type, why, whylen))
			goto out;
	}
	n = k.n;
	/* sort by address (targets kept alongside), then link */
	{
		struct { struct ins in; uint64_t tg; } *tmp = malloc(n * sizeof(*tmp));

		if (!tmp) {
			snprintf(why, whylen, "%s", strerror(ENOMEM));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			tmp[i].in = k.v[i];
			tmp[i].tg = k.tg[i];
		}
		qsort(tmp, n, sizeof(*tmp), by_addr);	/* in is first: compares addresses */
		for (size_t i = 0; i < n; i++) {
			k.v[i] = tmp[i].in;
			k.tg[i] = tmp[i].tg;
		}
		free(tmp);
	}
	v = k.v;
	entry = index_of(v, (int)n, vaddr);	/* cold parts may lie before it */
	for (size_t i = 0; i < n; i++) {
		v[i].fall = index_of(v, (int)n, v[i].addr + v[i].size);
		if (!k.tg[i])
			continue;
		v[i].succ = index_of(v, (int)n, k.tg[i]);
		if (v[i].succ < 0) {
			snprintf(why, whylen, "a jump into an instruction at 0x%llx", (unsigned long long)k.tg[i]);
			goto out;
		}
		v[v[i].succ].target = true;
	}
	guard = calloc(n, sizeof(*guard));
	if (!guard) {
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		goto out;
	}
	flow(v, (int)n, entry);
	for (size_t i = 0; i < n; i++) {
		int j;

		if (!v[i].seen || v[i].store_base < 0 || !((v[i].in >> v[i].store_src) & 1))
			continue;
		nstores++;
		/* the object's register, unchanged, up to an emulated
		 * instruction that only this path reaches */
		for (j = v[i].fall; j >= 0; j = v[j].fall) {
			if (v[j].target || v[j].kind == K_EXIT || v[j].kind == K_NORET) {
				j = -1;
				break;
			}
			if (v[j].emulated)
				break;
			if ((v[j].writes >> v[i].store_base) & 1 || v[j].kind != K_PLAIN) {
				j = -1;
				break;
			}
		}
		if (j < 0) {
			snprintf(why, whylen, "no emulated instruction after the store at 0x%llx",
				 (unsigned long long)v[i].addr);
			np = 0;
			goto out;
		}
		if (np == max) {
			snprintf(why, whylen, "more than %d stores of the type", max);
			np = 0;
			goto out;
		}
		out[np].vaddr = v[j].addr;
		out[np++].dwarf_reg = v[i].store_base;
		guard[i] = true;
	}
	if (!nstores) {
		snprintf(why, whylen, "no store of the type (its first argument) to ob_type in a register");
		goto out;
	}
	if (ret_unguarded(v, (int)n, entry, guard)) {
		snprintf(why, whylen, "a return that no store of the type precedes");
		np = 0;
	}
out:
	if (ci)
		cs_free(ci, nci);
	cs_close(&c.h);
	free(code);
	free(k.v);
	free(k.tg);
	free(guard);
	return np;
}
