/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * trace --types / --owners, BPF side.  Included by gcscope.bpf.c after its
 * maps (it uses starts, events and count()).
 *
 * The walk: at the point where the collector is about to call tp_finalize
 * on what it found unreachable, finalize_garbage(tstate, collectable)
 * (user/gcsite.c finds it, inlined or not, and how to get `collectable`
 * from the registers there), follow collectable's _gc_next links: every
 * object on it is about to be destroyed by this collection, unless a
 * finalizer resurrects it.  For each object: its type, counted in a chunk
 * of (type, count) pairs; with --owners, whether another thread created it.
 *
 * Owners: the allocators user/probe.c picks (PyType_GenericAlloc,
 * _PyType_AllocNoTrack...) return every new instance; for types user space
 * said to watch, remember the creating thread.  The walk forgets what it
 * sees die; an entry of an object freed by refcount stays until its
 * address is reused: a new instance there is recorded afresh by the
 * allocator hook, and an object of another type there is recognised by the
 * type recorded.  Only types first seen at PyObject_GC_Track (instances
 * made by an allocator not hooked) get a uprobe on their tp_dealloc to
 * forget them (GCSCOPE_VERDICT_F_FREED): a uprobe per instance freed was a
 * third of --owners' cost on the churn workload, and on Python classes it
 * fires for every instance of every class (subtype_dealloc is shared).
 *
 * Free-threaded builds (3.13t+) need no allocation hook: each object lives
 * in the mimalloc heap of the thread that made it, and the heap's segment
 * names that thread (heap_owner(), user/heapowner.c).  There the owner is
 * read when the walk meets the object dying, whenever it was made.
 */
#ifndef __GCSCOPE_OBJECTS_BPF_H
#define __GCSCOPE_OBJECTS_BPF_H

const volatile bool targ_types = false;		/* walk the collected list */
const volatile bool targ_owners = false;	/* track creators, report findings */
/* creators recorded (allocators hooked): not with @qt alone, whose owners are
 * read at death */
const volatile bool targ_creators = false;
/* The agent's type windows: the allocation probes are attached only while a
 * window is open (user/tracer.c tracer_walk()), so that a creator is known
 * only if it was recorded in the current window, which began at
 * owners_since (bpf_ktime_get_ns()): an older entry may be of an object
 * that died, unseen, outside the windows, its address now another's. */
const volatile bool targ_owners_windowed = false;
volatile __u64 owners_since = 0;
const volatile __u32 targ_walk_cap = 10000;	/* objects per collection */
const volatile __u64 targ_gc_head_size = 16;	/* gc_head.sizeof: PyGC_Head before the object */
const volatile __u64 targ_off_ob_type = 8;	/* object.ob_type */
const volatile __u64 targ_off_tp_name = 24;	/* type.tp_name */
const volatile __u64 targ_off_tp_flags = 168;	/* type.tp_flags */
/* type.tp_mro, tuple.ob_item, varobject.ob_size: a new type's bases (0: unknown) */
const volatile __u64 targ_off_tp_mro = 0;
const volatile __u64 targ_off_tuple_item = 0;
const volatile __u64 targ_off_ob_size = 0;

/* Py_TPFLAGS_TYPE_SUBCLASS (Include/object.h, 3.9-3.14): instances are types */
#define PY_TPFLAGS_TYPE_SUBCLASS (1ULL << 31)

#include "qt.bpf.h"

/* --owners on free-threaded builds (user/heapowner.c): the object's segment
 * is (addr - 1) & heap_seg_mask (mimalloc's _mi_ptr_segment()), its
 * thread_id at heap_seg_thread a struct pthread *, the tid in it at
 * heap_pthread_tid.  0: owners come from the allocation hooks instead. */
const volatile __u64 targ_heap_seg_mask = 0;
const volatile __u32 targ_heap_seg_thread = 0;
const volatile __u32 targ_heap_pthread_tid = 0;
const volatile __u64 targ_heap_finalizing = 0;	/* &_PyRuntime._finalizing */

#define HEAP_UNKNOWN	0U
#define HEAP_EXITED	0xffffffffU
#define HEAP_CACHE	4

/* The last segments a walk looked up: a collection's garbage sits in few
 * segments, and each lookup is two reads of the target. */
struct heap_cache {
	__u64 seg[HEAP_CACHE];
	__u32 tid[HEAP_CACHE];
	__u32 next;
};

/* The tid of the thread whose heap holds obj, HEAP_EXITED if that thread
 * has exited, HEAP_UNKNOWN if it cannot be read.  An abandoned segment
 * (thread_id 0) or a struct pthread whose tid the kernel cleared at the
 * thread's exit (CLONE_CHILD_CLEARTID) is an exited owner; but while the
 * runtime finalizes, every thread state's heaps are abandoned, the main
 * thread's too (finalize_interp_clear(), 3.13), and exited means nothing:
 * unknown then. */
static __always_inline __u32 heap_owner(struct heap_cache *hc, __u64 obj)
{
	__u64 seg, ident = 0, fin = 0;
	__u32 tid = 0, slot;

	if (!targ_heap_seg_mask || !obj)
		return HEAP_UNKNOWN;
	seg = (obj - 1) & targ_heap_seg_mask;
	for (__u32 i = 0; hc && i < HEAP_CACHE; i++)
		if (hc->seg[i] == seg)
			return hc->tid[i];
	if (bpf_probe_read_user(&ident, sizeof(ident), (void *)(seg + targ_heap_seg_thread)))
		return HEAP_UNKNOWN;
	if (!ident || bpf_probe_read_user(&tid, sizeof(tid), (void *)(ident + targ_heap_pthread_tid)))
		tid = ident ? HEAP_UNKNOWN : HEAP_EXITED;
	else if (!tid || (__s32)tid < 0)
		tid = HEAP_EXITED;
	if (tid == HEAP_EXITED &&
	    (!targ_heap_finalizing || bpf_probe_read_user(&fin, sizeof(fin), (void *)targ_heap_finalizing) || fin))
		tid = HEAP_UNKNOWN;
	if (hc) {
		slot = hc->next++ % HEAP_CACHE;
		hc->seg[slot & (HEAP_CACHE - 1)] = seg;
		hc->tid[slot & (HEAP_CACHE - 1)] = tid;
	}
	return tid;
}

/* Each site's recipe (struct gcscope_site), indexed by the attach cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct gcscope_site);
} sites SEC(".maps");

/* The chunk being filled (per CPU: a uprobe program does not migrate), and
 * for each entry whether its instances are themselves types. */
struct chunk_buf {
	struct gcscope_types c;
	__u8 meta[GCSCOPE_TYPES_MAX];
	__u32 verdict[GCSCOPE_TYPES_MAX];	/* --owners: the type's, when the chunk met it */
	__u32 last;				/* the entry chunk_add() counted the object in */
	struct qt_cache qt;			/* --owners on QObjects, this walk's (qt.bpf.h) */
	struct heap_cache heap;			/* --owners on free-threaded builds, this walk's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chunk_buf);
} types_chunk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gcscope_finding);
} finding_buf SEC(".maps");

/* Objects of watched types still alive, by address.  LRU: a program that
 * keeps millions alive loses its oldest entries, never gcscope's memory. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 18);
	__type(key, __u64);
	__type(value, struct gcscope_owner);
} owners SEC(".maps");

/* Types whose name user space has: PyTypeObject * -> its tp_flags.  A type
 * that dies in a walk is forgotten, so that a new type at its address gets
 * named again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, __u64);
	__type(value, __u64);
} type_named SEC(".maps");

/* PyTypeObject * -> enum gcscope_verdict. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, __u64);
	__type(value, __u32);
} type_verdict SEC(".maps");

struct walk {
	__u64 head;
	__u64 cur;
	__u64 seen;
	__u64 ts_start;
	__u32 tid;
	__u32 flags;
};

/* A creator recorded for this object as it is now (the address may have
 * been another object's: its type tells) and, in windows, in this one. */
static __always_inline bool creator_valid(const struct gcscope_owner *o, __u64 pytype)
{
	return o && o->pytype == pytype && (!targ_owners_windowed || o->ts >= owners_since);
}

static __always_inline void chunk_flush(struct gcscope_types *c, __u32 flags)
{
	c->flags |= flags;
	if (bpf_ringbuf_output(&events, c, sizeof(*c), 0))
		count(GCSCOPE_CNT_LOST);
	c->n = 0;
	c->flags = 0;
}

/* A type met for the first time in this chunk: send its name if user space
 * does not have it.  Returns its tp_flags (0 if unreadable). */
static __always_inline __u64 type_seen(__u64 pytype)
{
	struct gcscope_type_name *tn;
	__u64 *known = bpf_map_lookup_elem(&type_named, &pytype), flags = 0, name = 0;

	if (known)
		return *known;
	if (bpf_probe_read_user(&flags, sizeof(flags), (void *)(pytype + targ_off_tp_flags)) ||
	    bpf_probe_read_user(&name, sizeof(name), (void *)(pytype + targ_off_tp_name)))
		return 0;
	tn = bpf_ringbuf_reserve(&events, sizeof(*tn), 0);
	if (!tn) {
		count(GCSCOPE_CNT_LOST);
		return flags;
	}
	tn->type = GCSCOPE_EV_TYPE_NAME;
	tn->pad = 0;
	tn->pytype = pytype;
	tn->tp_flags = flags;
	if (bpf_probe_read_user_str(tn->name, sizeof(tn->name), (void *)name) < 0)
		tn->name[0] = '\0';
	bpf_ringbuf_submit(tn, 0);
	bpf_map_update_elem(&type_named, &pytype, &flags, BPF_ANY);
	return flags;
}

/* Ask user space whether to watch pytype (first sight of the type, by an
 * allocator or a walk); 0 if someone asked already.  The type and its
 * bases (tp_mro[1..], at most GCSCOPE_NEW_TYPE_BASES) are named first, and
 * the bases listed in the question: user space may read it only after the
 * target has exited.
 *
 * A global function, so that the verifier checks it once, on its own: inlined
 * into the walk's loop (chunk_add()), its nine type_seen() took the walk
 * program past the verifier's million instructions on kernel 6.18.44
 * ("BPF program is too large"), and --owners could not load. */
__noinline int ask_verdict(__u64 pytype, __u32 flags)
{
	__u32 pending = GCSCOPE_VERDICT_PENDING, nbases = 0;
	__u64 bases[GCSCOPE_NEW_TYPE_BASES] = {}, mro = 0, len = 0;
	struct gcscope_new_type *nt;

	if (bpf_map_update_elem(&type_verdict, &pytype, &pending, BPF_NOEXIST))
		return 0;
	type_seen(pytype);
	if (targ_off_tp_mro && targ_off_tuple_item && targ_off_ob_size &&
	    !bpf_probe_read_user(&mro, sizeof(mro), (void *)(pytype + targ_off_tp_mro)) && mro &&
	    bpf_probe_read_user(&len, sizeof(len), (void *)(mro + targ_off_ob_size)))
		len = 0;
	for (__u32 i = 0; i < GCSCOPE_NEW_TYPE_BASES; i++) {
		__u64 base = 0;

		if (i + 1 >= len ||
		    bpf_probe_read_user(&base, sizeof(base), (void *)(mro + targ_off_tuple_item + 8 * (i + 1))) ||
		    !base)
			break;
		type_seen(base);
		bases[i] = base;
		nbases = i + 1;
	}
	nt = bpf_ringbuf_reserve(&events, sizeof(*nt), 0);
	if (nt) {
		nt->type = GCSCOPE_EV_NEW_TYPE;
		nt->flags = flags;
		nt->pytype = pytype;
		nt->nbases = nbases;
		nt->pad = 0;
		for (__u32 i = 0; i < GCSCOPE_NEW_TYPE_BASES; i++)
			nt->bases[i] = bases[i];
		bpf_ringbuf_submit(nt, BPF_RB_FORCE_WAKEUP);
	} else {
		count(GCSCOPE_CNT_LOST);
	}
	return 1;
}

/* The verdict on pytype for the walk (--owners), asking for one the first
 * time a walk meets a type no allocator showed: user space then learns of
 * QObject types (whose owner is read at death, bpf/qt.bpf.h) and of
 * watched types it never saw created. */
static __always_inline __u32 walk_verdict(__u64 pytype)
{
	__u32 *v;

	if (!targ_owners)
		return 0;
	v = bpf_map_lookup_elem(&type_verdict, &pytype);
	if (v)
		return *v;
	ask_verdict(pytype, GCSCOPE_NEW_TYPE_F_WALK);
	return GCSCOPE_VERDICT_PENDING;
}

/* Count pytype in the chunk.  The first time the chunk meets a type, look at
 * the type (name it for user space if needed, and take its verdict: once per
 * type per chunk, not per object).  A dying object that is itself a type is
 * forgotten by name, so that a new type at its address gets named again.
 * Returns the type's verdict (0 without --owners). */
static __always_inline __u32 chunk_add(struct chunk_buf *cb, __u64 obj, __u64 pytype)
{
	struct gcscope_types *c = &cb->c;
	__u32 n = c->n, v;
	__u8 meta;

	for (__u32 i = 0; i < GCSCOPE_TYPES_MAX; i++) {
		if (i >= n)
			break;
		if (c->t[i].type == pytype) {
			c->t[i].count++;
			cb->last = i;
			if (cb->meta[i])
				bpf_map_delete_elem(&type_named, &obj);
			return cb->verdict[i];
		}
	}
	if (n >= GCSCOPE_TYPES_MAX) {
		chunk_flush(c, 0);
		n = 0;
	}
	if (n >= GCSCOPE_TYPES_MAX)
		return 0;
	meta = (type_seen(pytype) & PY_TPFLAGS_TYPE_SUBCLASS) != 0;
	v = walk_verdict(pytype);
	c->t[n].type = pytype;
	c->t[n].count = 1;
	c->t[n].no_creator = 0;
	cb->last = n;
	cb->meta[n] = meta;
	cb->verdict[n] = v;
	c->n = n + 1;
	if (meta)
		bpf_map_delete_elem(&type_named, &obj);
	return v;
}

/* obj, of type pytype with verdict v, dies in w's collection: a finding if
 * it is destroyed off its owner's thread.  The owner of a QObject is the
 * thread it lives in now (bpf/qt.bpf.h); of anything else, or of a QObject
 * whose C++ side cannot be read, the thread that created it.  True if its
 * owner is unknown: a type not ignored (perhaps still pending) and no
 * creator recorded. */
static __always_inline bool owner_check(struct walk *w, struct chunk_buf *cb, __u64 obj, __u64 pytype, __u32 v)
{
	struct gcscope_owner *o = NULL;
	struct gcscope_finding *f;
	__u32 zero = 0, lives_tid = 0, flags = 0, heap = HEAP_UNKNOWN;
	__u64 handle = 0;
	bool creator, off, unknown = false;

	/* PENDING too: user space may not have answered yet, but it has the
	 * question (it precedes this record in the ring buffer) and drops
	 * findings of types it ignores.  An ignored type's object is not
	 * looked up: an entry it has (made while its verdict was pending)
	 * waits for its address's reuse, as a refcount-freed one does. */
	if ((v & GCSCOPE_VERDICT_MASK) == GCSCOPE_VERDICT_IGNORE || !v)
		return false;
	/* no allocator hooked (@qt alone): no entry to look up */
	if (targ_creators)
		o = bpf_map_lookup_elem(&owners, &obj);
	creator = creator_valid(o, pytype);
	if (creator)
		flags |= GCSCOPE_FIND_F_CREATOR;
	/* free-threaded: the thread whose heap holds it, where no creator is
	 * recorded (none is, without allocation hooks) */
	if (!creator && targ_heap_seg_mask) {
		heap = heap_owner(&cb->heap, obj);
		if (heap != HEAP_UNKNOWN)
			flags |= GCSCOPE_FIND_F_HEAP | (heap == HEAP_EXITED ? GCSCOPE_FIND_F_EXITED : 0);
	}
	if (qt_lives(obj, v, &cb->qt, &handle, &lives_tid)) {
		flags |= GCSCOPE_FIND_F_QT;
		/* a thread that has exited (tid 0) runs no event loop: Qt lets
		 * any thread delete its objects */
		off = lives_tid && lives_tid != w->tid;
	} else {
		/* the same object only if it still has the type it was created
		 * with; an owner that exited is not this thread */
		off = creator ? o->tid != w->tid : heap != HEAP_UNKNOWN && heap != w->tid;
		/* counted by type: the verdict may still be pending, and user
		 * space counts those of watched types only */
		if (!creator && heap == HEAP_UNKNOWN)
			unknown = true;
	}
	if (!off)
		goto out;
	f = bpf_map_lookup_elem(&finding_buf, &zero);
	if (!f)
		goto out;
	f->type = GCSCOPE_EV_FINDING;
	f->tid = w->tid;
	f->ts_start = w->ts_start;
	f->obj = obj;
	if (creator) {
		f->owner = *o;
	} else {
		__builtin_memset(&f->owner, 0, sizeof(f->owner));
		f->owner.pytype = pytype;
		if (heap != HEAP_EXITED)
			f->owner.tid = heap;	/* user space names it */
	}
	f->flags = flags;
	f->lives_tid = lives_tid;
	f->lives_handle = handle;
	/* a finding wakes the reader: it reads the collecting thread's code
	 * objects, which may not live long */
	if (bpf_ringbuf_output(&events, f, sizeof(*f), BPF_RB_FORCE_WAKEUP))
		count(GCSCOPE_CNT_LOST);
out:
	if (o)
		bpf_map_delete_elem(&owners, &obj);	/* it dies now */
	return unknown;
}

/* --owners: the tp_traverse of watched extension types (a uprobe user
 * space attaches with the tp_dealloc one).  Per thread, the last object
 * entered in the current collection, for the fatal record; and a finding
 * the first time in a collection a foreign thread's collection enters an
 * object's traverse: the moment a PyO3 unsendable class aborts. */
struct entered {
	__u64 obj;
	__u64 pytype;
	__u64 ts;
	__u64 ts_start;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct entered);
} entered SEC(".maps");

/* object -> ts_start of the collection that last reported it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);
	__type(value, __u64);
} touched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gcscope_touch);
} touch_buf SEC(".maps");

static __always_inline int traverse_enter(__u64 obj)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0, heap = HEAP_UNKNOWN;
	struct entered en = {};
	struct gcscope_owner *o;
	struct gcscope_touch *t;
	struct start *s;
	__u64 *last;

	if (!obj || (targ_tgid && (id >> 32) != targ_tgid))
		return 0;
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->depth)
		return 0;	/* gc.get_referents() and the like: not a collection */
	en.obj = obj;
	en.ts = bpf_ktime_get_ns();
	en.ts_start = s->ts;
	if (bpf_probe_read_user(&en.pytype, sizeof(en.pytype), (void *)(obj + targ_off_ob_type)))
		en.pytype = 0;
	bpf_map_update_elem(&entered, &tid, &en, BPF_ANY);
	o = bpf_map_lookup_elem(&owners, &obj);
	if (o && o->pytype != en.pytype)
		o = NULL;	/* another object's entry, at an address reused */
	if (!o) {
		heap = heap_owner(NULL, obj);	/* free-threaded builds */
		if (heap == HEAP_UNKNOWN || heap == tid)
			return 0;
	} else if (o->tid == tid) {
		return 0;
	}
	last = bpf_map_lookup_elem(&touched, &obj);
	if (last && *last == s->ts)
		return 0;	/* once per object and collection */
	bpf_map_update_elem(&touched, &obj, &en.ts_start, BPF_ANY);
	t = bpf_map_lookup_elem(&touch_buf, &zero);
	if (!t)
		return 0;
	t->type = GCSCOPE_EV_TOUCH;
	t->tid = tid;
	t->pid = id >> 32;
	t->ts_start = s->ts;
	t->obj = obj;
	t->ts = en.ts;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
	if (o) {
		t->owner = *o;
		t->flags = GCSCOPE_FIND_F_CREATOR;
	} else {
		/* user space names the owner */
		__builtin_memset(&t->owner, 0, sizeof(t->owner));
		t->owner.pytype = en.pytype;
		t->owner.tid = heap == HEAP_EXITED ? 0 : heap;
		t->flags = GCSCOPE_FIND_F_HEAP | (heap == HEAP_EXITED ? GCSCOPE_FIND_F_EXITED : 0);
	}
	/* it may be the last thing this process does: wake the reader */
	if (bpf_ringbuf_output(&events, t, sizeof(*t), BPF_RB_FORCE_WAKEUP))
		count(GCSCOPE_CNT_LOST);
	return 0;
}

/* PyGC_Head and the object header are contiguous: one read gets _gc_next
 * and ob_type (targ_hdr_len bytes, checked <= sizeof(hdr) in user space). */
const volatile __u32 targ_hdr_len = 32;
/* where the link to the next node sits in what is read: _gc_next (0) in GIL
 * builds, ob_tid of the object in free-threaded ones (its worklist) */
const volatile __u32 targ_off_next = 0;

static long walk_one(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct chunk_buf *cb;
	__u64 obj, pytype, next, hdr[8];
	__u32 zero = 0, len = targ_hdr_len, v;

	(void)i;
	if (w->cur == w->head || !w->cur)
		return 1;
	obj = w->cur + targ_gc_head_size;
	if (len > sizeof(hdr) || len < 16 || bpf_probe_read_user(hdr, len, (void *)w->cur)) {
		w->flags |= GCSCOPE_TYPES_F_FAULT;
		return 1;
	}
	next = hdr[(targ_off_next / 8) & 7];
	pytype = hdr[((targ_gc_head_size + targ_off_ob_type) / 8) & 7];
	cb = bpf_map_lookup_elem(&types_chunk, &zero);
	if (!cb)
		return 1;
	v = chunk_add(cb, obj, pytype);
	if (targ_owners && owner_check(w, cb, obj, pytype, v) && cb->last < GCSCOPE_TYPES_MAX)
		cb->c.t[cb->last].no_creator++;
	w->seen++;
	cb->c.seen = w->seen;
	/* _gc_next's low bits are flags (NEXT_MASK_UNREACHABLE); PyGC_Head is
	 * 16-byte aligned. */
	w->cur = next & ~3ULL;
	return 0;
}

static __always_inline __u64 site_reg(struct pt_regs *ctx, __u32 regoff)
{
	__u64 v = 0;

	if (regoff > sizeof(struct pt_regs) - sizeof(v))
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + regoff);
	return v;
}

static __always_inline int walk_collected(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0, idx;
	struct gcscope_types *c;
	struct gcscope_site *site;
	struct start *s;
	struct walk w = {};
	__u64 base, t0;

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	t0 = bpf_ktime_get_ns();
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->depth)
		return 0;	/* a collection that began before we attached */
	if (targ_stack_windowed && !s->in_window)
		return 0;	/* began outside the window (gcscope.bpf.c on_start) */
	idx = (__u32)bpf_get_attach_cookie(ctx);
	site = bpf_map_lookup_elem(&sites, &idx);
	c = bpf_map_lookup_elem(&types_chunk, &zero);
	if (!site || !c)
		return 0;
	base = site_reg(ctx, site->regoff);
	if (site->kind == GCSCOPE_SITE_REG)
		w.head = base;
	else if (site->kind == GCSCOPE_SITE_REG_OFF)
		w.head = base + site->offset;
	else if (bpf_probe_read_user(&w.head, sizeof(w.head), (void *)(base + site->offset)))
		w.head = 0;
	if (!w.head || bpf_probe_read_user(&w.cur, sizeof(w.cur), (void *)w.head)) {
		count(GCSCOPE_CNT_WALK_FAULT);
		return 0;
	}
	w.cur &= ~3ULL;
	w.tid = tid;
	w.ts_start = s->ts;
	c->type = GCSCOPE_EV_TYPES;
	c->tid = tid;
	c->ts_start = s->ts;
	c->n = 0;
	c->flags = 0;
	c->seen = 0;
	/* c is the chunk_buf's first member: its Qt cache is this walk's */
	__builtin_memset(&container_of(c, struct chunk_buf, c)->qt, 0, sizeof(struct qt_cache));
	__builtin_memset(&container_of(c, struct chunk_buf, c)->heap, 0, sizeof(struct heap_cache));
	bpf_loop(targ_walk_cap, walk_one, &w, 0);
	if (!(w.flags & GCSCOPE_TYPES_F_FAULT) && w.cur != w.head && w.cur) {
		w.flags |= GCSCOPE_TYPES_F_CAPPED;
		count(GCSCOPE_CNT_WALK_CAPPED);
	}
	if (w.flags & GCSCOPE_TYPES_F_FAULT)
		count(GCSCOPE_CNT_WALK_FAULT);
	c = bpf_map_lookup_elem(&types_chunk, &zero);
	if (c) {
		c->seen = w.seen;
		chunk_flush(c, GCSCOPE_TYPES_F_LAST | w.flags);
	}
	/* per CPU, like every counter: no atomics on the target's path */
	count_add(GCSCOPE_CNT_WALK_NS, bpf_ktime_get_ns() - t0);
	count(GCSCOPE_CNT_WALKS);
	return 0;
}

/* A new instance, as PyType_GenericAlloc() returns it, or as an extension
 * hands it to PyObject_GC_Track() (keep: a live object tracked again, as
 * some types do after untracking, keeps its creator). */
static __always_inline int owner_alloc(__u64 obj, bool keep)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gcscope_owner o = {}, *old;
	__u32 *v;
	__u64 pytype;

	if (!obj || (targ_tgid && (id >> 32) != targ_tgid))
		return 0;
	if (bpf_probe_read_user(&pytype, sizeof(pytype), (void *)(obj + targ_off_ob_type)))
		return 0;
	v = bpf_map_lookup_elem(&type_verdict, &pytype);
	if (!v) {
		/* First instance of this type: ask user space, and remember the
		 * creator meanwhile (if the answer is no, the entry just waits
		 * for the object's death or the address's reuse). */
		ask_verdict(pytype, keep ? GCSCOPE_NEW_TYPE_F_TRACK : 0);
	} else if ((*v & GCSCOPE_VERDICT_MASK) == GCSCOPE_VERDICT_IGNORE) {
		return 0;
	}
	/* only a type whose deaths are seen can tell "tracked again" from "a
	 * new object where a dead one was" (GCSCOPE_VERDICT_F_FREED) */
	if (keep && v && (*v & GCSCOPE_VERDICT_F_FREED) && (old = bpf_map_lookup_elem(&owners, &obj)) &&
	    creator_valid(old, pytype))
		return 0;
	o.tid = (__u32)id;
	o.pytype = pytype;
	o.ts = bpf_ktime_get_ns();
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&owners, &obj, &o, BPF_ANY);
	return 0;
}

/* A type being made (bpf/gcscope.bpf.c uprobe_type_ready/_made), complete:
 * ask about it now. */
static __always_inline int type_made(__u64 pytype)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!pytype || (targ_tgid && (id >> 32) != targ_tgid) ||
	    bpf_map_lookup_elem(&type_verdict, &pytype))
		return 0;
	ask_verdict(pytype, GCSCOPE_NEW_TYPE_F_READY);
	return 0;
}

/* PyType_Ready() calls in progress, per thread: it readies a type's bases
 * first, nested, and a static type is complete (its MRO, the slots it
 * inherits) only at the return, which has no arguments.  0 stands for a
 * heap type, asked about at the return of PyType_From*() instead, once its
 * __module__ is set too (they call PyType_Ready() half-way). */
#define PY_TPFLAGS_HEAPTYPE (1ULL << 9)
#define TYPE_READY_DEPTH 8
struct type_ready_calls {
	__u64 type[TYPE_READY_DEPTH];
	__u32 n;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct type_ready_calls);
} type_ready SEC(".maps");

static __always_inline int type_ready_enter(__u64 pytype)
{
	static const struct type_ready_calls empty = {};
	__u64 id = bpf_get_current_pid_tgid(), flags = 0;
	__u32 tid = (__u32)id;
	struct type_ready_calls *c;

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	c = bpf_map_lookup_elem(&type_ready, &tid);
	if (!c) {
		bpf_map_update_elem(&type_ready, &tid, &empty, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&type_ready, &tid);
		if (!c)
			return 0;
	}
	if (pytype && (bpf_probe_read_user(&flags, sizeof(flags), (void *)(pytype + targ_off_tp_flags)) ||
		       (flags & PY_TPFLAGS_HEAPTYPE)))
		pytype = 0;
	if (c->n < TYPE_READY_DEPTH)
		c->type[c->n & (TYPE_READY_DEPTH - 1)] = pytype;
	c->n++;
	return 0;
}

static __always_inline int type_ready_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), n;
	struct type_ready_calls *c = bpf_map_lookup_elem(&type_ready, &tid);
	__u64 pytype = 0;

	/* a return whose entry came before gcscope attached: nothing */
	if (!c || !c->n)
		return 0;
	n = --c->n;
	if (n < TYPE_READY_DEPTH)
		pytype = c->type[n & (TYPE_READY_DEPTH - 1)];
	if (!n)
		bpf_map_delete_elem(&type_ready, &tid);
	return ret == 0 && pytype ? type_made(pytype) : 0;
}

static __always_inline int owner_free(__u64 obj)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	bpf_map_delete_elem(&owners, &obj);
	return 0;
}

#endif /* __GCSCOPE_OBJECTS_BPF_H */
