// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * trace --stack: configure the BPF capture (bpf/pystack.bpf.h) from the
 * target's layout, and symbolize the raw frames it sends from the target's
 * memory.  Everything read from the target is untrusted: every read is
 * checked, lengths are capped, and objects are checked to be of the type
 * we expect (PyCode_Type, PyUnicode_Type, PyBytes_Type) when the runtime
 * exports those symbols.  See docs/stacks.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>

#include "gcscope.skel.h"
#include "common.h"
#include "procmaps.h"
#include "pystack.h"
#include "target.h"

#define PS_CACHE	1024		/* code objects remembered (power of 2) */
#define PS_PENDING	64		/* stacks waiting for their collection */
#define PS_STR_CHARS	1024		/* code points of a name or file read */
#define PS_STR_BYTES	(PS_STR_CHARS + 1) /* UTF-8 kept (cut at a character) */
#define PS_TABLE_MAX	(256 * 1024)	/* bytes of a line table read */
#define PS_HDR_MAX	512		/* bytes of an object header read */
/* an instruction this far into a code object is not one (16 MiB of code) */
#define PS_MAX_CODE_OFF	(1L << 24)
#define PS_BPF_BLK	256		/* PYSTACK_BLK in bpf/pystack.bpf.h */
#define PS_RECHECK_NS	(10 * 1000000ULL) /* how long a code object is trusted */

enum ps_chain {
	PS_FRAMEOBJ,	/* 3.9/3.10: tstate->frame, PyFrameObject */
	PS_CFRAME,	/* 3.11/3.12: tstate->cframe->current_frame */
	PS_IFRAME,	/* 3.13+: tstate->current_frame */
};

enum ps_lines {
	PS_LNOTAB,	/* 3.9: co_lnotab, f_lasti in bytes */
	PS_LINETABLE,	/* 3.10: co_linetable, f_lasti in code units */
	PS_LOCATIONS,	/* 3.11+: co_linetable, instr - co_code_adaptive */
};

struct ps_layout {
	enum ps_chain chain;
	enum ps_lines lines;
	int minor;
	bool tid_native;
	long interp_main, threads_head, tstate_next, tstate_tid, tstate_frame, cframe_current;
	long back, code, instr, owner, owner_shim, tag_bits;
	long ob_type, co_filename, co_name, co_firstlineno, co_lines, co_code_adaptive;
	long str_length, str_state, str_ascii, str_compact, bytes_size, bytes_sval;
};

struct ps_code {
	bool used;
	uint64_t checked_ns;			/* when the key was last compared */
	uint64_t addr, filename, name, table;	/* the key: see ps_code_get() */
	int firstlineno;
	char *file, *func;
	uint8_t *tab;
	size_t tablen;
};

/* The strings a pystack_result points to, owned apart from the code cache:
 * two frames of one stack can share a cache slot, and the second would free
 * the first one's names (seen as swapped names on trixie 3.13). */
struct ps_strs {
	char *v[2 * GCSCOPE_STACK_MAX];
	int n;
};

struct ps_pending {
	bool used;
	uint64_t seq;
	struct gcscope_stack st;
	/* resolved early (pystack_resolve): the result, owning its strings */
	bool resolved;
	struct pystack_result res;
	struct ps_strs strs;
};

struct pystack {
	pid_t pid;
	struct ps_layout l;
	uint64_t code_type, unicode_type, bytes_type;	/* 0: not checked */
	uint64_t seq;
	struct ps_code cache[PS_CACHE];
	struct ps_pending pending[PS_PENDING];
	struct pystack_result res;
	struct ps_strs held;			/* the strings of res */
	struct pystack_stats stats;
};

static void free_strs(struct ps_strs *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* A copy of str owned by s; "?" if there is none or no memory. */
static const char *own(struct ps_strs *s, const char *str)
{
	char *c;

	if (!str || s->n >= (int)ARRAY_SIZE(s->v) || !(c = strdup(str)))
		return "?";
	s->v[s->n++] = c;
	return c;
}

/* ---- layout ----------------------------------------------------------- */

static int need(const struct pytarget *t, enum pyl_field f, long *out, char *why, size_t size)
{
	long v = pyl(&t->layout, f);
	char ver[32];

	if (v < 0 || v >= PYL_RULE_MAX_OFFSET) {	/* the table's one bound */
		snprintf(why, size, "the layout of CPython %s lacks %s%s",
			 py_version_str(t->version, ver, sizeof(ver)), pyl_rows[f].name,
			 t->layout.n_dwarf || t->layout.n_debug_offsets ? "" : " (no debug info found)");
		return -ENOTSUP;
	}
	*out = v;
	return 0;
}

#define NEED(f, dst)                                            \
	do {                                                    \
		if (need(t, f, dst, why, size))                 \
			return -ENOTSUP;                        \
	} while (0)

static long max3(long a, long b, long c)
{
	long m = a > b ? a : b;

	return m > c ? m : c;
}

static int ps_layout_get(const struct pytarget *t, struct ps_layout *l, char *why, size_t size)
{
	char ver[32];

	memset(l, 0, sizeof(*l));
	l->minor = (t->version >> 16) & 0xff;
	py_version_str(t->version, ver, sizeof(ver));
	if (!t->layout_ok) {
		snprintf(why, size, "no memory layout is known for CPython %s", ver);
		return -ENOTSUP;
	}
	if (t->free_threaded && l->minor >= 14) {
		/* 3.14t+ run per-thread copies of the bytecode (thread-local
		 * bytecode, gh-115999, Py_GIL_DISABLED only): instr_ptr points
		 * into the thread's copy, not the code object's
		 * co_code_adaptive, so the line cannot be had from it.  3.13t
		 * has no such copies: its frames read as in GIL builds, with
		 * the offsets from its DWARF. */
		snprintf(why, size, "stacks of free-threaded CPython 3.14+ are not supported: instr_ptr points into "
			 "per-thread bytecode copies (thread-local bytecode) (CPython %s)", ver);
		return -ENOTSUP;
	}
	if ((t->version >> 24) != 3 || l->minor < 9) {
		snprintf(why, size, "stacks need CPython 3.9 or later (this is %s)", ver);
		return -ENOTSUP;
	}
	NEED(PYL_RUNTIME_INTERPRETERS_MAIN, &l->interp_main);
	NEED(PYL_INTERP_THREADS_HEAD, &l->threads_head);
	NEED(PYL_TSTATE_NEXT, &l->tstate_next);
	NEED(PYL_OBJECT_OB_TYPE, &l->ob_type);
	NEED(PYL_CODE_CO_FILENAME, &l->co_filename);
	NEED(PYL_CODE_CO_FIRSTLINENO, &l->co_firstlineno);
	NEED(PYL_STR_LENGTH, &l->str_length);
	NEED(PYL_STR_STATE, &l->str_state);
	NEED(PYL_STR_ASCII_SIZEOF, &l->str_ascii);
	NEED(PYL_STR_COMPACT_SIZEOF, &l->str_compact);
	NEED(PYL_PYBYTES_OB_SIZE, &l->bytes_size);
	NEED(PYL_PYBYTES_OB_SVAL, &l->bytes_sval);

	if (pyl_known(&t->layout, PYL_TSTATE_NATIVE_THREAD_ID)) {
		l->tid_native = true;
		NEED(PYL_TSTATE_NATIVE_THREAD_ID, &l->tstate_tid);
	} else {
#if defined(__x86_64__)
		/* 3.9/3.10: only thread_id = pthread_self(), which is the
		 * fs base on x86-64 glibc (bpf/pystack.bpf.h). */
		NEED(PYL_TSTATE_THREAD_ID, &l->tstate_tid);
#else
		snprintf(why, size, "CPython %s has no native_thread_id, and matching thread_id needs x86-64",
			 ver);
		return -ENOTSUP;
#endif
	}

	if (l->minor <= 10) {
		l->chain = PS_FRAMEOBJ;
		l->lines = l->minor == 9 ? PS_LNOTAB : PS_LINETABLE;
		NEED(PYL_TSTATE_FRAME, &l->tstate_frame);
		NEED(PYL_FRAME_F_BACK, &l->back);
		NEED(PYL_FRAME_F_CODE, &l->code);
		NEED(PYL_FRAME_F_LASTI, &l->instr);
		NEED(PYL_CODE_CO_NAME, &l->co_name);
		NEED(l->minor == 9 ? PYL_CODE_CO_LNOTAB : PYL_CODE_CO_LINETABLE, &l->co_lines);
		l->owner = -1;
	} else {
		if (l->minor <= 12) {
			l->chain = PS_CFRAME;
			NEED(PYL_TSTATE_CFRAME, &l->tstate_frame);
			NEED(PYL_CFRAME_CURRENT_FRAME, &l->cframe_current);
		} else {
			l->chain = PS_IFRAME;
			NEED(PYL_TSTATE_CURRENT_FRAME, &l->tstate_frame);
		}
		l->lines = PS_LOCATIONS;
		NEED(PYL_IFRAME_PREVIOUS, &l->back);
		NEED(PYL_IFRAME_CODE, &l->code);
		NEED(PYL_IFRAME_INSTR, &l->instr);
		NEED(PYL_IFRAME_CODE_TAG_BITS, &l->tag_bits);
		NEED(PYL_CODE_CO_QUALNAME, &l->co_name);
		NEED(PYL_CODE_CO_LINETABLE, &l->co_lines);
		NEED(PYL_CODE_CO_CODE_ADAPTIVE, &l->co_code_adaptive);
		l->owner = -1;
		/* 3.11 has no shim frames: its entry frames run Python code. */
		if (pyl_known(&t->layout, PYL_IFRAME_OWNER_SHIM)) {
			NEED(PYL_IFRAME_OWNER_SHIM, &l->owner_shim);
			NEED(PYL_IFRAME_OWNER, &l->owner);
		}
	}
	/* The BPF side reads 8-byte fields out of one block per tstate and per
	 * frame (bpf/pystack.bpf.h). */
	if ((l->tstate_next | l->tstate_tid | l->tstate_frame | l->back | l->code | l->instr) & 7 ||
	    max3(l->tstate_next, l->tstate_tid, l->tstate_frame) + 8 > PS_BPF_BLK ||
	    max3(l->back, l->code, l->instr) + 8 > PS_BPF_BLK || l->owner >= PS_BPF_BLK) {
		snprintf(why, size, "unexpected thread state or frame layout in CPython %s", ver);
		return -ENOTSUP;
	}
	return 0;
}

int pystack_configure(struct gcscope_bpf *obj, const struct pytarget *t, char *why, size_t size)
{
	struct ps_layout l;
	long fblk;

	if (ps_layout_get(t, &l, why, size))
		return -ENOTSUP;
	obj->rodata->targ_ps_runtime = t->runtime_addr;
	obj->rodata->targ_ps_interp_main = l.interp_main;
	obj->rodata->targ_ps_threads_head = l.threads_head;
	obj->rodata->targ_ps_tstate_next = l.tstate_next;
	obj->rodata->targ_ps_tstate_tid = l.tstate_tid;
	obj->rodata->targ_ps_tid_is_native = l.tid_native;
	obj->rodata->targ_ps_tstate_frame = l.tstate_frame;
	obj->rodata->targ_ps_tstate_blk = max3(l.tstate_next, l.tstate_tid, l.tstate_frame) + 8;
	obj->rodata->targ_ps_cframe = l.chain == PS_CFRAME;
	obj->rodata->targ_ps_cframe_current = l.cframe_current;
	obj->rodata->targ_ps_frame_back = l.back;
	obj->rodata->targ_ps_frame_code = l.code;
	obj->rodata->targ_ps_frame_instr = l.instr;
	obj->rodata->targ_ps_instr_is_int = l.chain == PS_FRAMEOBJ;
	obj->rodata->targ_ps_have_owner = l.owner >= 0;
	obj->rodata->targ_ps_frame_owner = l.owner >= 0 ? l.owner : 0;
	obj->rodata->targ_ps_owner_shim = l.owner >= 0 ? l.owner_shim : 255;
	fblk = max3(l.back, l.code, l.instr) + 8;
	if (l.owner + 1 > fblk)
		fblk = l.owner + 1;
	obj->rodata->targ_ps_frame_blk = fblk;
	obj->rodata->targ_ps_code_mask = ~(uint64_t)l.tag_bits;
	obj->rodata->targ_stack = true;
	return 0;
}

/* ---- reading the target ----------------------------------------------- */

static uint64_t sym_addr(const struct pytarget *t, const char *name)
{
	struct elfsym s;

	if (elf_find_symbol((struct elffile *)&t->elf, name, &s) || !s.value)
		return 0;
	return t->bias + s.value;
}

struct pystack *pystack_new(const struct pytarget *t, char *why, size_t size)
{
	struct pystack *ps = calloc(1, sizeof(*ps));

	if (!ps) {
		snprintf(why, size, "out of memory");
		return NULL;
	}
	if (ps_layout_get(t, &ps->l, why, size)) {
		free(ps);
		return NULL;
	}
	ps->pid = t->pid;
	/* Exported data symbols of every version in the matrix. */
	ps->code_type = sym_addr(t, "PyCode_Type");
	ps->unicode_type = sym_addr(t, "PyUnicode_Type");
	ps->bytes_type = sym_addr(t, "PyBytes_Type");
	return ps;
}

static void ps_code_clear(struct ps_code *c)
{
	free(c->file);
	free(c->func);
	free(c->tab);
	memset(c, 0, sizeof(*c));
}

void pystack_free(struct pystack *ps)
{
	if (!ps)
		return;
	for (int i = 0; i < PS_CACHE; i++)
		ps_code_clear(&ps->cache[i]);
	for (int i = 0; i < PS_PENDING; i++)
		free_strs(&ps->pending[i].strs);
	free_strs(&ps->held);
	free(ps);
}

void pystack_get_stats(const struct pystack *ps, struct pystack_stats *out)
{
	*out = ps->stats;
}

static int rd(struct pystack *ps, uint64_t addr, void *buf, size_t len)
{
	if (!addr || procmem_read(ps->pid, addr, buf, len)) {
		ps->stats.read_faults++;
		return -EFAULT;
	}
	return 0;
}

static uint64_t get_u64(const uint8_t *b, long off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *b, long off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* A str object as UTF-8 into a new string, or NULL. */
static char *read_str(struct pystack *ps, uint64_t addr)
{
	const struct ps_layout *l = &ps->l;
	uint8_t hdr[PS_HDR_MAX];
	size_t hlen = l->str_compact + 8, n;
	uint64_t data;
	int64_t length;
	uint32_t state;
	int kind;
	void *raw;
	char *out;

	if (hlen > sizeof(hdr) || (size_t)(l->str_state + 4) > hlen || (size_t)(l->str_length + 8) > hlen ||
	    (size_t)(l->ob_type + 8) > hlen || rd(ps, addr, hdr, hlen))
		return NULL;
	if (ps->unicode_type && get_u64(hdr, l->ob_type) != ps->unicode_type)
		return NULL;
	length = (int64_t)get_u64(hdr, l->str_length);
	state = get_u32(hdr, l->str_state);
	/* struct state: interned:2, kind:3, compact:1, ascii:1, then ready:1
	 * up to 3.11 (PEP 393; wstr-only strings are not ready) */
	kind = (state >> 2) & 7;
	if (length < 0 || length > (1L << 30) || (kind != 1 && kind != 2 && kind != 4) ||
	    ((state >> 6) & 1 && kind != 1) || (l->minor <= 11 && !((state >> 7) & 1)))
		return NULL;
	if ((state >> 5) & 1)
		data = addr + ((state >> 6) & 1 ? l->str_ascii : l->str_compact);
	else	/* legacy string: PyUnicodeObject.data.any follows the compact header */
		data = get_u64(hdr, l->str_compact);
	n = (size_t)length < PS_STR_CHARS ? (size_t)length : PS_STR_CHARS;
	raw = malloc(n * kind + 1);
	out = malloc(PS_STR_BYTES);
	if (!raw || !out || (n && rd(ps, data, raw, n * kind))) {
		free(raw);
		free(out);
		return NULL;
	}
	pystr_to_utf8(raw, n, kind, out, PS_STR_BYTES);
	free(raw);
	return out;
}

char *pystack_read_str(struct pystack *ps, uint64_t addr)
{
	return read_str(ps, addr);
}

/* A bytes object's contents into a new buffer, or NULL. */
static uint8_t *read_bytes(struct pystack *ps, uint64_t addr, size_t *len)
{
	const struct ps_layout *l = &ps->l;
	uint8_t hdr[PS_HDR_MAX];
	size_t hlen = l->bytes_size + 8;
	int64_t size;
	uint8_t *b;

	if (hlen < (size_t)(l->ob_type + 8))
		hlen = l->ob_type + 8;
	if (hlen > sizeof(hdr) || rd(ps, addr, hdr, hlen))
		return NULL;
	if (ps->bytes_type && get_u64(hdr, l->ob_type) != ps->bytes_type)
		return NULL;
	size = (int64_t)get_u64(hdr, l->bytes_size);
	if (size < 0)
		return NULL;
	if (size > PS_TABLE_MAX)
		size = PS_TABLE_MAX;	/* lines past it come out unknown */
	b = malloc(size + 1);
	if (!b || (size && rd(ps, addr + l->bytes_sval, b, size))) {
		free(b);
		return NULL;
	}
	*len = size;
	return b;
}

/*
 * The cached names and line table of a code object.  A code object can be
 * freed and its address reused by another one, so the entry is keyed on
 * what the code object holds (co_filename, co_name/co_qualname, line table
 * pointers and co_firstlineno), re-read when the entry was last checked
 * more than PS_RECHECK_NS ago: a read per frame of every collection costs
 * a busy target more than the capture itself (docs/stacks.md), and a code
 * object freed in between was already freed when the stack was read.
 * Returns NULL if the address does not hold a code object now.
 */
static struct ps_code *ps_code_get(struct pystack *ps, uint64_t addr)
{
	const struct ps_layout *l = &ps->l;
	uint8_t hdr[PS_HDR_MAX];
	long hlen = max3(l->co_filename, l->co_name, l->co_lines) + 8;
	uint64_t filename, name, table, now;
	struct ps_code *c = &ps->cache[(addr >> 4) & (PS_CACHE - 1)];
	struct timespec ts;
	int firstlineno;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (c->used && c->addr == addr && now - c->checked_ns < PS_RECHECK_NS) {
		ps->stats.cache_hits++;
		return c;
	}

	if (l->co_firstlineno + 4 > hlen)
		hlen = l->co_firstlineno + 4;
	if (l->ob_type + 8 > hlen)
		hlen = l->ob_type + 8;
	if (hlen > (long)sizeof(hdr) || rd(ps, addr, hdr, hlen))
		return NULL;
	if (ps->code_type && get_u64(hdr, l->ob_type) != ps->code_type) {
		ps->stats.bad_code++;
		return NULL;
	}
	filename = get_u64(hdr, l->co_filename);
	name = get_u64(hdr, l->co_name);
	table = get_u64(hdr, l->co_lines);
	firstlineno = (int)get_u32(hdr, l->co_firstlineno);

	if (c->used && c->addr == addr && c->filename == filename && c->name == name && c->table == table &&
	    c->firstlineno == firstlineno) {
		c->checked_ns = now;
		ps->stats.cache_hits++;
		return c;
	}
	ps_code_clear(c);
	c->used = true;
	c->checked_ns = now;
	c->addr = addr;
	c->filename = filename;
	c->name = name;
	c->table = table;
	c->firstlineno = firstlineno;
	c->file = read_str(ps, filename);
	c->func = read_str(ps, name);
	c->tab = read_bytes(ps, table, &c->tablen);
	return c;
}

static int ps_line(const struct ps_layout *l, const struct ps_code *c, uint64_t code, uint64_t instr)
{
	long addrq;

	if (!c->tab)
		return -1;
	switch (l->lines) {
	case PS_LNOTAB:
		return pyline_lnotab(c->tab, c->tablen, c->firstlineno, (long)(int32_t)instr);
	case PS_LINETABLE:
		/* f_lasti counts code units in 3.10 (PyFrame_GetLineNumber) */
		return pyline_linetable(c->tab, c->tablen, c->firstlineno, (long)(int32_t)instr * 2);
	case PS_LOCATIONS:
		/* _PyInterpreterFrame_LASTI: instr - _PyCode_CODE(co), in bytes
		 * here; before co_code_adaptive only for an incomplete frame */
		addrq = (long)(instr - (code + l->co_code_adaptive));
		if (addrq > PS_MAX_CODE_OFF || addrq < -PS_MAX_CODE_OFF / 16)
			return -1;
		return pyline_locations(c->tab, c->tablen, c->firstlineno, addrq);
	}
	return -1;
}

/* Symbolize st into r, with r's strings copied into strs (emptied first). */
static void ps_symbolize(struct pystack *ps, const struct gcscope_stack *st, struct pystack_result *r,
			 struct ps_strs *strs)
{
	uint32_t n = st->nframes < GCSCOPE_STACK_MAX ? st->nframes : GCSCOPE_STACK_MAX;

	free_strs(strs);
	memset(r, 0, sizeof(*r));
	r->flags = st->flags;
	r->truncated = st->flags & GCSCOPE_STACK_F_TRUNCATED;
	for (uint32_t i = 0; i < n; i++) {
		struct pystack_frame *fr = &r->frames[r->n++];
		const struct gcscope_frame *raw = &st->frames[i];
		struct ps_code *c = ps_code_get(ps, raw->code);

		ps->stats.frames++;
		fr->file = own(strs, c ? c->file : NULL);
		fr->function = own(strs, c ? c->func : NULL);
		fr->line = c ? ps_line(&ps->l, c, raw->code, raw->instr) : -1;
	}
}

int pystack_stash(struct pystack *ps, const void *data, size_t size)
{
	const size_t hdr = offsetof(struct gcscope_stack, frames);
	struct gcscope_stack st;
	struct ps_pending *slot = NULL;

	if (size < hdr)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	memcpy(&st, data, hdr);
	if (st.type != GCSCOPE_EV_STACK || st.nframes > GCSCOPE_STACK_MAX ||
	    size < hdr + st.nframes * sizeof(struct gcscope_frame))
		return -EINVAL;
	memcpy(st.frames, (const char *)data + hdr, st.nframes * sizeof(struct gcscope_frame));
	/* One collection at a time per thread: a newer stack replaces an older
	 * one whose collection record was lost. */
	for (int i = 0; i < PS_PENDING && !slot; i++)
		if (ps->pending[i].used && ps->pending[i].st.tid == st.tid)
			slot = &ps->pending[i];
	for (int i = 0; i < PS_PENDING && !slot; i++)
		if (!ps->pending[i].used)
			slot = &ps->pending[i];
	if (!slot) {
		slot = &ps->pending[0];
		for (int i = 1; i < PS_PENDING; i++)
			if (ps->pending[i].seq < slot->seq)
				slot = &ps->pending[i];
	}
	free_strs(&slot->strs);
	slot->resolved = false;
	slot->used = true;
	slot->seq = ++ps->seq;
	slot->st = st;
	return 0;
}

static struct ps_pending *pending_of(struct pystack *ps, uint32_t tid, uint64_t ts_start)
{
	for (int i = 0; i < PS_PENDING; i++) {
		struct ps_pending *p = &ps->pending[i];

		if (p->used && p->st.tid == tid && p->st.ts_start == ts_start)
			return p;
	}
	return NULL;
}

void pystack_resolve(struct pystack *ps, uint32_t tid, uint64_t ts_start)
{
	struct ps_pending *p = pending_of(ps, tid, ts_start);

	if (!p || p->resolved)
		return;
	ps_symbolize(ps, &p->st, &p->res, &p->strs);
	p->resolved = true;
}

const struct pystack_result *pystack_take(struct pystack *ps, uint32_t tid, uint64_t ts_start)
{
	struct ps_pending *p = pending_of(ps, tid, ts_start);

	free_strs(&ps->held);
	if (!p)
		return NULL;
	if (p->resolved) {
		/* the result and its strings now belong to ps until the next take */
		ps->res = p->res;
		ps->held = p->strs;
		p->strs.n = 0;
		p->resolved = false;
	} else {
		ps_symbolize(ps, &p->st, &ps->res, &ps->held);
	}
	p->used = false;
	return &ps->res;
}

/* ---- output ----------------------------------------------------------- */

const char *pystack_error(const struct pystack_result *r)
{
	if (r->flags & GCSCOPE_STACK_F_NO_TSTATE)
		return "no Python thread state for this thread";
	if (r->flags & GCSCOPE_STACK_F_FAULT)
		return "the frame chain could not be read";
	return NULL;
}

/* The tail of s that fits in max bytes, not starting inside a UTF-8
 * character. */
static const char *utf8_tail(const char *s, size_t max)
{
	size_t len = strlen(s);
	const char *p;

	if (len <= max)
		return s;
	p = s + len - max;
	while (*p && ((unsigned char)*p & 0xc0) == 0x80)
		p++;
	return p;
}

/* How many bytes of s fit in max, not ending inside a UTF-8 character. */
static size_t utf8_head(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

void pystack_format_line(const struct pystack_frame *fr, char *out, size_t size, int width)
{
	char func[PS_STR_BYTES], file[PS_STR_BYTES], line[16];
	const char *prefix = "    at ";
	long fixed, room;
	size_t flen;

	tty_clean(fr->function, func, sizeof(func));
	tty_clean(fr->file, file, sizeof(file));
	if (fr->line >= 0)
		snprintf(line, sizeof(line), "%d", fr->line);
	else
		snprintf(line, sizeof(line), "?");
	/* "    at " FUNC " (" FILE ":" LINE ")": bytes count as columns, which
	 * only errs on the short side for non-ASCII names. */
	fixed = (long)strlen(prefix) + 2 + 1 + (long)strlen(line) + 1;
	flen = strlen(func);
	/* A very long name keeps 24 columns for the file. */
	if (fixed + (long)flen + 24 > width && (long)flen > width - fixed - 24 - 3) {
		size_t keep = width - fixed - 24 - 3 > 8 ? (size_t)(width - fixed - 24 - 3) : 8;

		keep = utf8_head(func, keep);
		if (keep < flen)
			snprintf(func + keep, sizeof(func) - keep, "...");
		flen = strlen(func);
	}
	room = width - fixed - (long)flen;
	if ((long)strlen(file) > room) {
		long keep = room - 3 > 1 ? room - 3 : 1;

		snprintf(out, size, "%s%s (...%s:%s)", prefix, func, utf8_tail(file, keep), line);
		return;
	}
	snprintf(out, size, "%s%s (%s:%s)", prefix, func, file, line);
}

/* ---- pure decoders ---------------------------------------------------- */

/* Lines add up in a long: co_firstlineno and the deltas are the target's
 * (code.replace(co_firstlineno=2**31-1) is legal Python), and a table is at
 * most PS_TABLE_MAX bytes of deltas of at most 2^24. */
static int line_or_unknown(long line)
{
	return line >= 0 && line <= INT_MAX ? (int)line : -1;
}

int pyline_lnotab(const uint8_t *tab, size_t len, int firstlineno, long addrq)
{
	/* PyCode_Addr2Line of 3.9: (address increment, signed line increment)
	 * byte pairs; the line of the last pair at or before addrq. */
	long addr = 0, line = firstlineno;

	for (size_t i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > addrq)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line_or_unknown(line);
}

int pyline_linetable(const uint8_t *tab, size_t len, int firstlineno, long addrq)
{
	/* 3.10 (PEP 626, Objects/lnotab_notes.txt): (bytecode delta, signed
	 * line delta) pairs over consecutive ranges; a line delta of -128
	 * means "no line" for the range. */
	long start, end = 0, line = firstlineno, ar_line;

	if (addrq < 0)
		return line_or_unknown(firstlineno);
	for (size_t i = 0; i + 1 < len; i += 2) {
		start = end;
		end += tab[i];
		if ((int8_t)tab[i + 1] == -128) {
			ar_line = -1;
		} else {
			line += (int8_t)tab[i + 1];
			ar_line = line;
		}
		if (start <= addrq && addrq < end)
			return line_or_unknown(ar_line);
	}
	return -1;
}

/* Objects/locations.md: 6-bit chunks, low first, bit 6 = more follow.
 * *ok is cleared if the table ends inside it or it is implausibly long. */
static unsigned int loc_varint(const uint8_t *tab, size_t len, size_t *i, bool *ok)
{
	unsigned int v = 0, shift = 0;
	uint8_t b;

	do {
		if (*i >= len || shift > 24 || (tab[*i] & 0x80)) {
			*ok = false;
			return 0;
		}
		b = tab[(*i)++];
		v |= (unsigned int)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return v;
}

static int loc_svarint(const uint8_t *tab, size_t len, size_t *i, bool *ok)
{
	unsigned int v = loc_varint(tab, len, i, ok);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

int pyline_locations(const uint8_t *tab, size_t len, int firstlineno, long addrq)
{
	/* 3.11+ location table: each entry starts with a byte with bit 7 set,
	 * code = bits 3-6, length = bits 0-2 + 1 code units (2 bytes each).
	 * 15: no location; 14: long form, 13: no columns (both start with a
	 * signed varint line delta); 10-12: one-line form, line delta code-10;
	 * 0-9: short form, same line.  The rest of an entry is columns. */
	long start, end = 0, line = firstlineno, ar_line;
	size_t i = 0;

	if (addrq < 0)
		return line_or_unknown(firstlineno);
	while (i < len) {
		uint8_t b = tab[i++];
		int code = (b >> 3) & 15;

		if (!(b & 0x80))
			return -1;	/* not at an entry: corrupt */
		start = end;
		end += ((b & 7) + 1) * 2;
		if (code == 15) {
			ar_line = -1;
		} else {
			if (code == 14 || code == 13) {
				bool ok = true;

				line += loc_svarint(tab, len, &i, &ok);
				if (!ok)
					return -1;	/* cut or corrupt */
			} else if (code >= 10) {
				line += code - 10;
			}
			ar_line = line;
		}
		while (i < len && !(tab[i] & 0x80))
			i++;
		if (start <= addrq && addrq < end)
			return line_or_unknown(ar_line);
	}
	return -1;
}

static size_t put_utf8(uint32_t cp, char *out, size_t at, size_t size)
{
	char b[4];
	size_t n;

	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	if (at + n + 1 > size)
		return 0;
	memcpy(out + at, b, n);
	return n;
}

size_t pystr_to_utf8(const void *data, size_t nchars, int kind, char *out, size_t size)
{
	const uint8_t *p = data;
	size_t at = 0;

	if (!size)
		return 0;
	out[0] = '\0';
	if (kind != 1 && kind != 2 && kind != 4)
		return (size_t)-1;
	for (size_t i = 0; i < nchars; i++) {
		uint32_t cp;
		size_t n;

		if (kind == 1) {
			cp = p[i];
		} else if (kind == 2) {
			uint16_t u;

			memcpy(&u, p + 2 * i, 2);
			cp = u;
		} else {
			memcpy(&cp, p + 4 * i, 4);
		}
		n = put_utf8(cp, out, at, size);
		if (!n)
			break;
		at += n;
	}
	out[at] = '\0';
	return at;
}

/* ---- the fatal record's frames (bpf/fatal.bpf.h) ---------------------- */

int pystack_configure_fatal(struct gcscope_bpf *obj, const struct pytarget *t)
{
	struct ps_layout l;
	char why[256];

	if (ps_layout_get(t, &l, why, sizeof(why)))
		return -ENOTSUP;
	/* the same offsets the symbolizer reads, each under the layout's
	 * max_offset (need()), so they fit */
	obj->rodata->targ_fs_co_filename = (uint32_t)l.co_filename;
	obj->rodata->targ_fs_co_name = (uint32_t)l.co_name;
	obj->rodata->targ_fs_co_firstlineno = (uint32_t)l.co_firstlineno;
	obj->rodata->targ_fs_co_lines = (uint32_t)l.co_lines;
	obj->rodata->targ_fs_str_length = (uint32_t)l.str_length;
	obj->rodata->targ_fs_str_state = (uint32_t)l.str_state;
	obj->rodata->targ_fs_str_ascii = (uint32_t)l.str_ascii;
	obj->rodata->targ_fs_str_compact = (uint32_t)l.str_compact;
	obj->rodata->targ_fs_bytes_size = (uint32_t)l.bytes_size;
	obj->rodata->targ_fs_bytes_sval = (uint32_t)l.bytes_sval;
	obj->rodata->targ_fatal_names = true;
	return 0;
}

/* A name BPF copied out: kind and bytes, untrusted. */
static const char *fatal_name(struct ps_strs *strs, const char *data, unsigned len, unsigned cap, int kind)
{
	char out[PS_STR_BYTES];

	if ((kind != 1 && kind != 2 && kind != 4) || len > cap)
		return "?";
	if (pystr_to_utf8(data, len / kind, kind, out, sizeof(out)) == (size_t)-1)
		return "?";
	return own(strs, out);
}

const struct pystack_result *pystack_fatal(struct pystack *ps, const struct gcscope_fatal *f)
{
	struct pystack_result *r = &ps->res;
	uint32_t n = f->nframes < GCSCOPE_FATAL_FRAMES ? f->nframes : GCSCOPE_FATAL_FRAMES;

	free_strs(&ps->held);
	memset(r, 0, sizeof(*r));
	r->flags = f->stack_flags;
	/* frames past the named ones are not shown: the caller says so */
	r->truncated = f->stack_flags & GCSCOPE_STACK_F_TRUNCATED;
	for (uint32_t i = 0; i < n; i++) {
		const struct gcscope_fatal_frame *raw = &f->frames[i];
		struct pystack_frame *fr = &r->frames[r->n++];
		struct ps_code c = {
			.firstlineno = raw->firstlineno,
			.tab = (uint8_t *)raw->tab,
			.tablen = raw->tab_len <= GCSCOPE_FATAL_TAB_LEN ? raw->tab_len : 0,
		};

		fr->function = fatal_name(&ps->held, raw->name, raw->name_len, GCSCOPE_FATAL_NAME_LEN,
					  raw->name_kind);
		fr->file = fatal_name(&ps->held, raw->file, raw->file_len, GCSCOPE_FATAL_FILE_LEN, raw->file_kind);
		fr->line = -1;
		if (!raw->tab_len)
			continue;
		/* A cut table still gives the right line for an instruction in
		 * the ranges it covers (3.10+ tables are ranges in order, and a
		 * cut entry is refused); 3.9's lnotab answers "the last pair at
		 * or before", which a cut table can get wrong: only whole ones. */
		if (raw->tab_len < raw->tab_size && ps->l.lines == PS_LNOTAB)
			continue;
		fr->line = ps_line(&ps->l, &c, raw->code, raw->instr);
	}
	return r;
}
