// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Native frames of the collection that kills the process: the addresses
 * bpf/fatal.bpf.h found on the dying thread's stack, each with its file's
 * path and offset, named from the files on disk.  Everything in the record
 * came from the target (its stack words) or names it chose (file names):
 * paths are checked against the inode and device BPF saw, and nothing is
 * trusted to be a return address unless a call instruction precedes it.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common.h"
#include "dwarfinfo.h"
#include "elfinfo.h"
#include "demangle.h"
#include "fatal.h"

/* As gdb/gcscope_threads.py's PHASES: innermost matching frame wins. */
static const struct {
	const char *key, *text;
	const char *names[16];
} phases[] = {
	{ "traverse", "computing reachability (tp_traverse)",
	  { "visit_decref", "visit_reachable", "subtract_refs", "update_refs", "move_unreachable",
	    "deduce_unreachable", "deduce_unreachable_heap", "mark_alive_from_roots",
	    "move_legacy_finalizer_reachable", "visit_move", "validate_list", "gc_visit_heaps",
	    "update_refs_heap", "visit_decref_unreachable" } },
	{ "untrack", "untracking tuples/dicts", { "untrack_tuples", "untrack_dicts" } },
	{ "legacy", "legacy finalizers (tp_del, to gc.garbage)",
	  { "move_legacy_finalizers", "handle_legacy_finalizers" } },
	{ "weakref", "weakref handling",
	  { "handle_weakrefs", "handle_weakref_callbacks", "clear_weakrefs", "call_weakref_callbacks" } },
	{ "finalize", "finalizers (tp_finalize / __del__)", { "finalize_garbage" } },
	{ "resurrect", "checking for resurrected objects", { "handle_resurrected_objects" } },
	{ "clear", "tp_clear", { "delete_garbage" } },
	{ "callbacks", "gc.callbacks", { "invoke_gc_callback" } },
};

/* "subtract_refs.isra.0" -> "subtract_refs" */
static size_t base_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : strlen(name);
}

const char *fatal_phase_of(const char *function, const char **text)
{
	size_t len;

	if (!function)
		return NULL;
	len = base_len(function);
	for (size_t i = 0; i < ARRAY_SIZE(phases); i++)
		for (int j = 0; j < 16 && phases[i].names[j]; j++)
			if (strlen(phases[i].names[j]) == len && !strncmp(phases[i].names[j], function, len)) {
				*text = phases[i].text;
				return phases[i].key;
			}
	return NULL;
}

static const char *keep(struct fatal_native *o, const char *s)
{
	char *c;

	if (!s || o->nstrs >= (int)ARRAY_SIZE(o->strs) || !(c = strdup(s)))
		return NULL;
	o->strs[o->nstrs++] = c;
	return c;
}

void fatal_native_free(struct fatal_native *o)
{
	for (int i = 0; i < o->nstrs; i++)
		free(o->strs[i]);
	o->nstrs = 0;
	o->n = 0;
}

struct rfile {
	bool tried, ok;
	struct elffile ef;
	struct dwarfinfo *dw;
	bool dw_tried;
	bool runtime;			/* it defines _PyRuntime: the interpreter */
	struct elffile dbg;		/* a stripped file's debug file, for its .symtab */
	bool dbg_ok;
	const char *path, *base;
};

/* The path from BPF's components (leaf first), if the file there is the
 * one that was mapped (same inode and device). */
static bool file_path(const struct gcscope_fatal_file *ff, char *out, size_t size)
{
	struct stat st;
	size_t at = 0;
	int n = ff->ncomp <= GCSCOPE_FATAL_COMPS ? ff->ncomp : 0;

	if (!n || ff->truncated)
		return false;
	out[0] = '\0';
	for (int i = n - 1; i >= 0; i--) {
		char comp[GCSCOPE_FATAL_COMP_LEN + 1];
		int len;

		memcpy(comp, ff->comp[i], GCSCOPE_FATAL_COMP_LEN);
		comp[GCSCOPE_FATAL_COMP_LEN] = '\0';
		/* a component is one name: no '/', not empty, not "." or ".." */
		if (!comp[0] || strchr(comp, '/') || !strcmp(comp, ".") || !strcmp(comp, ".."))
			return false;
		len = snprintf(out + at, size - at, "/%s", comp);
		if (len < 0 || (size_t)len >= size - at)
			return false;
		at += len;
	}
	/* the kernel's dev_t of a superblock is MKDEV(major, minor) with a
	 * 20-bit minor (include/linux/kdev_t.h) */
	return !stat(out, &st) && st.st_ino == ff->ino && major(st.st_dev) == (ff->dev >> 20) &&
	       minor(st.st_dev) == (ff->dev & 0xfffff);
}

/* File offset -> the ELF's virtual address, through its PT_LOADs. */
static bool off_to_vaddr(struct elffile *ef, uint64_t off, uint64_t *vaddr)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
			*vaddr = off - ph.p_offset + ph.p_vaddr;
			return true;
		}
	}
	return false;
}

struct symq {
	uint64_t vaddr;
	struct elfsym best;
	bool found;
};

static int sym_cb(const struct elfsym *s, void *ctx)
{
	struct symq *q = ctx;

	if (s->size && s->value <= q->vaddr && q->vaddr < s->value + s->size &&
	    (!q->found || s->size < q->best.size)) {
		q->best = *s;
		q->found = true;
	}
	return 0;
}

/* Is vaddr right after a call instruction (x86-64: e8 rel32, or ff /2
 * with a register or memory operand of 0, 1, 2, 4 or 5 more bytes)? */
static bool after_call(struct elffile *ef, uint64_t vaddr)
{
	uint8_t b[7];

	if (vaddr < sizeof(b) || elf_read_vaddr(ef, vaddr - sizeof(b), b, sizeof(b)))
		return false;
	if (b[2] == 0xe8)
		return true;
	for (int len = 2; len <= 7; len++) {
		uint8_t op = b[7 - len], modrm = b[8 - len];

		if (len == 5 || len == 1)
			continue;
		if (op == 0xff && ((modrm >> 3) & 7) == 2)
			return true;
	}
	return false;
}

/* Does the call before return address vaddr go to a PLT stub, that is
 * out of this file (e8 rel32 into .plt, .plt.sec or .plt.got)? */
static bool calls_out(struct elffile *ef, uint64_t vaddr)
{
	uint8_t b[5];
	int32_t rel;
	uint64_t target;
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (vaddr < 5 || elf_read_vaddr(ef, vaddr - 5, b, 5) || b[0] != 0xe8 || elf_getshdrstrndx(ef->elf, &shstrndx))
		return false;
	memcpy(&rel, b + 1, 4);
	target = vaddr + (int64_t)rel;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || target < sh.sh_addr || target >= sh.sh_addr + sh.sh_size)
			continue;
		name = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		return name && !strncmp(name, ".plt", 4);
	}
	return false;
}

/* The innermost inlined subroutine at vaddr, from DWARF. */
static void open_dwarf(struct rfile *rf, const char *root)
{
	char where[512];
	size_t rl = strlen(root);

	if (rf->dw_tried)
		return;
	rf->dw_tried = true;
	/* a file of the target's root (a chroot) has its debug files there */
	if (strcmp(root, "/") && !strncmp(rf->path, root, rl) && rf->path[rl] == '/')
		rf->dw = dwarfinfo_open(rf->path, root, where, sizeof(where));
	else
		rf->dw = dwarfinfo_open(rf->path, "/", where, sizeof(where));
	/* symbols of a stripped file: from its debug file's .symtab */
	if (rf->dw && !rf->ef.has_symtab && dwarfinfo_file(rf->dw) && strcmp(dwarfinfo_file(rf->dw), rf->path) &&
	    !elf_open(&rf->dbg, dwarfinfo_file(rf->dw)))
		rf->dbg_ok = true;
}

/* The inlined subroutines whose code holds pc, outermost first, under die
 * (a CU, a partial unit dwz imports, a function, a block): at most one
 * child holds pc at each level.  Not dwarf_getscopes(): it leaks in
 * elfutils 0.188 when no scope matches. */
#define FATAL_INLINE_DEPTH 16
struct inl {
	const char *name[FATAL_INLINE_DEPTH];
	int n;
};

static bool find_inlined(Dwarf_Die *die, uint64_t pc, int depth, struct inl *out)
{
	Dwarf_Die child;

	if (depth > 24 || dwarf_child(die, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);
		Dwarf_Attribute a;
		Dwarf_Die unit, origin;

		if (tag == DW_TAG_imported_unit) {
			if (dwarf_attr(&child, DW_AT_import, &a) && dwarf_formref_die(&a, &unit) &&
			    find_inlined(&unit, pc, depth + 1, out))
				return true;
			continue;
		}
		if (tag == DW_TAG_namespace) {
			if (find_inlined(&child, pc, depth + 1, out))
				return true;
			continue;
		}
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block)
			continue;
		if (dwarf_haspc(&child, pc) <= 0)
			continue;
		if (tag == DW_TAG_inlined_subroutine && out->n < FATAL_INLINE_DEPTH) {
			const char *nm = NULL;

			if (dwarf_attr_integrate(&child, DW_AT_abstract_origin, &a) && dwarf_formref_die(&a, &origin))
				nm = dwarf_diename(&origin);
			out->name[out->n++] = nm ? nm : dwarf_diename(&child);
		}
		find_inlined(&child, pc, depth + 1, out);
		return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* The innermost inlined function at vaddr (a phase's name anywhere in the
 * chain wins: an inline helper such as _PyObject_IS_GC may sit inside it),
 * from DWARF; NULL if none. */
static const char *inlined_at(struct rfile *rf, uint64_t vaddr)
{
	Dwarf_Die cu;
	uint64_t bias;
	Dwarf *dw;
	struct inl in = { .n = 0 };
	const char *text;

	if (!rf->dw || !(dw = dwarfinfo_dwarf(rf->dw, &bias)))
		return NULL;
	if (!dwarf_addrdie(dw, vaddr, &cu) || !find_inlined(&cu, vaddr, 0, &in)) {
		/* no .debug_aranges entry (LTO builds): look at every CU */
		Dwarf_Off off = 0, next;
		size_t hsize;
		bool found = false;

		in.n = 0;
		while (!found && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_haspc(&cu, vaddr) > 0)
				found = find_inlined(&cu, vaddr, 0, &in);
			off = next;
		}
	}
	for (int i = in.n - 1; i >= 0; i--)
		if (fatal_phase_of(in.name[i], &text))
			return in.name[i];
	return in.n ? in.name[in.n - 1] : NULL;
}

static bool is_libc(const char *base)
{
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) || !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "libpthread", 10);
}

static bool is_collector(const char *function)
{
	static const char *const names[] = {
		"collect", "gc_collect_main", "_PyGC_Collect", "gc_collect_region", "gc_collect_young",
		"gc_collect_increment", "gc_collect_full", "gc_collect_internal", "collect_with_callback",
		"gc_collect_with_callback", "collect_generations", "gc_collect_generations",
	};
	size_t len = base_len(function);

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !strncmp(names[i], function, len))
			return true;
	return false;
}

static bool set_phase(struct fatal_native *o, const char *name)
{
	const char *text;

	if (!(o->phase = fatal_phase_of(name, &text)))
		return false;
	o->phase_function = name;
	o->phase_text = text;
	return true;
}

/*
 * The stack scan also finds stale words: return addresses left in slots
 * of live frames by earlier calls.  So:
 *  - the phase comes from the innermost frame of the collector itself
 *    (gc_collect_main...), by the phase function inlined at its call; if
 *    nothing is inlined there (debug builds), from the phase function
 *    nearest inside it: the collector's direct callee, which earlier
 *    stale words are not;
 *  - the function the thread was in is the interrupted instruction's when
 *    it is outside the C library (a fault); otherwise (abort(), raise())
 *    the innermost frame of an extension (neither the C library nor the
 *    interpreter), inside the collector's frame if there is one: that is
 *    what a collection calls, through tp_traverse, tp_clear, tp_finalize;
 *    failing that, the innermost frame outside the C library whose call
 *    goes out through the PLT.  Of the extension's frames, the outermost
 *    one inside the collector (or, with no collector frame named, the
 *    outermost of the innermost run of extension frames): the slot the
 *    collector called.  A PyO3 class aborts many frames down, in Rust's
 *    panic machinery (std::process::abort <- rust_panic <- ... <-
 *    ThreadCheckerImpl::ensure <- PyCell::try_borrow), all in the
 *    extension; the frame that names the class is its __traverse__
 *    trampoline (pyo3t::_::<impl pyo3t::Holder>::__pymethod_traverse__),
 *    the one subtract_refs called.
 */
static void pick(struct fatal_native *o)
{
	int coll = -1;

	for (int i = 0; i < o->n && coll < 0; i++)
		if (strcmp(o->frames[i].function, "?") && is_collector(o->frames[i].function))
			coll = i;
	if (coll >= 0 && !set_phase(o, o->frames[coll].inlined)) {
		for (int i = coll - 1; i >= 0; i--)
			if (set_phase(o, o->frames[i].inlined) || set_phase(o, o->frames[i].function))
				break;
	}
	if (coll < 0) {
		for (int i = 0; i < o->n; i++)
			if (set_phase(o, o->frames[i].inlined) || set_phase(o, o->frames[i].function))
				break;
	}
	if (o->n && o->frames[0].ip && strcmp(o->frames[0].file, "?") && !is_libc(o->frames[0].file)) {
		o->in = &o->frames[0];
		return;
	}
	for (int i = 0; i < (coll >= 0 ? coll : o->n); i++)
		if (!o->frames[i].ip && o->frames[i].extension) {
			o->in = &o->frames[i];
			/* outward to the last extension frame: up to the
			 * collector's, or while the run lasts */
			for (int j = i + 1; j < (coll >= 0 ? coll : o->n); j++) {
				/* the collector's own file is the interpreter,
				 * whatever its symbols say (a static build) */
				if (!o->frames[j].extension ||
				    (coll >= 0 && !strcmp(o->frames[j].path, o->frames[coll].path))) {
					if (coll < 0)
						break;
					continue;
				}
				if (!o->frames[j].ip)
					o->in = &o->frames[j];
			}
			return;
		}
	for (int i = 0; i < o->n; i++)
		if (!o->frames[i].ip && strcmp(o->frames[i].file, "?") && !is_libc(o->frames[i].file) &&
		    o->frames[i].calls_out) {
			o->in = &o->frames[i];
			return;
		}
}

void fatal_native_resolve(const struct gcscope_fatal *e, const char *root, struct fatal_native *o)
{
	struct rfile rf[GCSCOPE_FATAL_FILES] = {};
	uint32_t nh = e->nhits < GCSCOPE_FATAL_HITS ? e->nhits : GCSCOPE_FATAL_HITS;
	uint32_t nf = e->nfiles < GCSCOPE_FATAL_FILES ? e->nfiles : GCSCOPE_FATAL_FILES;

	memset(o, 0, sizeof(*o));
	for (uint32_t i = 0; i < nh; i++) {
		const struct gcscope_fatal_hit *h = &e->hits[i];
		struct fatal_frame *fr = &o->frames[o->n];
		struct rfile *f = h->file < nf ? &rf[h->file] : NULL;
		uint64_t vaddr = 0;
		struct symq q = { 0 };

		memset(fr, 0, sizeof(*fr));
		fr->addr = h->addr;
		fr->ip = h->word == GCSCOPE_FATAL_HIT_IP;
		fr->path = fr->file = fr->function = "?";
		if (f && !f->tried) {
			char path[GCSCOPE_FATAL_COMPS * (GCSCOPE_FATAL_COMP_LEN + 1) + 1];

			f->tried = true;
			if (file_path(&e->files[h->file], path, sizeof(path)) && !elf_open(&f->ef, path)) {
				struct elfsym rs;

				f->ok = true;
				f->runtime = !elf_find_symbol(&f->ef, "_PyRuntime", &rs);
				f->path = keep(o, path);
				f->base = f->path ? strrchr(f->path, '/') + 1 : NULL;
			}
		}
		if (!f || !f->ok || !f->path || !off_to_vaddr(&f->ef, h->off, &vaddr)) {
			if (fr->ip)
				o->n++;		/* keep the instruction, unnamed */
			continue;
		}
		if (!fr->ip && !after_call(&f->ef, vaddr))
			continue;		/* a code pointer, not a return address */
		fr->path = f->path;
		fr->file = f->base;
		/* a return address belongs to its call: look up the byte before */
		q.vaddr = fr->ip ? vaddr : vaddr - 1;
		open_dwarf(f, root ? root : "/");
		elf_for_each_symbol(f->dbg_ok ? &f->dbg : &f->ef, sym_cb, &q);
		if (!q.found && f->dbg_ok)
			elf_for_each_symbol(&f->ef, sym_cb, &q);
		if (q.found) {
			char rust[256];

			/* a Rust extension's (PyO3's) symbols, readable */
			fr->function = keep(o, demangle_rust_legacy(q.best.name, rust, sizeof(rust)) ? rust
											      : q.best.name);
			if (!fr->function)
				fr->function = "?";
			fr->offset = vaddr - q.best.value;
		}
		fr->inlined = keep(o, inlined_at(f, q.vaddr));
		fr->calls_out = !fr->ip && calls_out(&f->ef, vaddr);
		fr->extension = !f->runtime && !is_libc(f->base);
		o->n++;
	}
	pick(o);
	for (uint32_t i = 0; i < nf; i++) {
		if (rf[i].ok)
			elf_close(&rf[i].ef);
		if (rf[i].dbg_ok)
			elf_close(&rf[i].dbg);
		dwarfinfo_close(rf[i].dw);
	}
}
