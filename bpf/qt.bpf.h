/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Qt affinity: the thread a QObject lives in, read at the walk while the
 * object still exists (bpf/objects.bpf.h), from Qt's own record:
 *
 *   wrapper --(sip: sipSimpleWrapper.data | shiboken: SbkObject->d->cptr[0])-->
 *   QObject * --d_ptr--> QObjectData (q_ptr must point back) --threadData-->
 *   QThreadData --threadId--> pthread_t --(glibc struct pthread).tid--> tid
 *
 * That is the thread moveToThread() last gave it, which Qt requires it be
 * deleted on.  The offsets come from user space (user/qtaffinity.c) in the
 * "qt_cfg" map; every pointer is the target's and untrusted: a failed read
 * or a q_ptr that does not point back means "not known", never a finding.
 * Cost: three reads per QObject destroyed (sip; five for shiboken), nothing
 * per allocation.
 */
#ifndef __GCSCOPE_QT_BPF_H
#define __GCSCOPE_QT_BPF_H

const volatile bool targ_qt = false;	/* Qt affinity wanted (user space found a layout) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gcscope_qt_cfg);
} qt_cfg SEC(".maps");

static __always_inline __u64 rd_u64(__u64 addr)
{
	__u64 v = 0;

	if (!addr || bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* The C++ object of wrapper obj, 0 if none (already deleted, or a wrapper
 * gcscope cannot read). */
static __always_inline __u64 qt_cpp(const struct gcscope_qt_cfg *cfg, __u64 obj, __u32 wrapper)
{
	__u64 sw[2];

	if (wrapper == GCSCOPE_QT_SIP) {
		/* data and access_func are neighbours in sipSimpleWrapper (sip
		 * 4.19 to 13.x, user/qtaffinity.c): one read for both.  An
		 * access function computes the pointer: not for us to call. */
		if (!obj || bpf_probe_read_user(sw, sizeof(sw), (void *)(obj + cfg->sip_data)))
			return 0;
		return sw[1] ? 0 : sw[0];
	}
	if (wrapper == GCSCOPE_QT_SBK)
		return rd_u64(rd_u64(rd_u64(obj + cfg->sbk_d)));	/* d->cptr[0] */
	return 0;
}

/* The last QThreadData a walk met and the thread it names.  A walk's
 * QObjects mostly live in one or two threads, and a QThreadData keeps its
 * threadId for its thread's life (set as the thread starts, Qt 5.15 to
 * 6.11 qthread_unix.cpp): two reads fewer per QObject.  Kept for one walk
 * only, so that a QThreadData freed and reused since is not trusted. */
struct qt_cache {
	__u64 td;
	__u64 handle;
	__u32 tid;
	__u32 pad;
};

/* QObjectData from q_ptr to threadData in one read where they are close:
 * 8 and 0x38 in Qt 5.15, 8 and 0x58 in Qt 6.4 to 6.11.  Per CPU, not on
 * the stack: the walk's call chain is near the verifier's 512 bytes. */
#define QT_SPAN_WORDS 16

struct qt_span {
	__u64 w[QT_SPAN_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct qt_span);
} qt_span SEC(".maps");

/* The thread QObject cpp lives in: its handle (pthread_t) into *handle and
 * its native tid into *tid (0 if the handle gives none).  False if cpp is
 * not a QObject of this layout. */
static __always_inline bool qt_thread_of(const struct gcscope_qt_cfg *cfg, const struct gcscope_qt_layout *l,
					 __u64 cpp, struct qt_cache *cache, __u64 *handle, __u32 *tid)
{
	__u64 d, qp, td, h;
	__u32 t = 0, words, zero = 0;
	struct qt_span *span;

	/* without glibc's tid offset a handle names no tid: the creator
	 * rule applies instead (a musl target), not "thread exited" */
	if (!cpp || !l->valid || !cfg->pthread_tid)
		return false;
	d = rd_u64(cpp + l->d_ptr);
	if (!d)
		return false;
	/* in words, at most QT_SPAN_WORDS - 1: the mask tells the verifier */
	words = (l->thread_data - l->q_ptr) / 8 + 1;
	span = bpf_map_lookup_elem(&qt_span, &zero);
	if (span && l->thread_data > l->q_ptr && !((l->thread_data - l->q_ptr) & 7) && words < QT_SPAN_WORDS) {
		words &= QT_SPAN_WORDS - 1;
		if (bpf_probe_read_user(span->w, words * 8, (void *)(d + l->q_ptr)))
			return false;
		qp = span->w[0];
		td = span->w[(words - 1) & (QT_SPAN_WORDS - 1)];
	} else {
		qp = rd_u64(d + l->q_ptr);
		td = rd_u64(d + l->thread_data);
	}
	if (qp != cpp || !td)
		return false;	/* not what Qt's QObject looks like */
	if (td == cache->td) {
		*handle = cache->handle;
		*tid = cache->tid;
		return true;
	}
	h = rd_u64(td + l->thread_id);
	if (!h)
		return false;
	/* pthread_t is glibc's struct pthread *; its tid is 0 once the thread
	 * has exited (the kernel clears it: CLONE_CHILD_CLEARTID) */
	if (bpf_probe_read_user(&t, sizeof(t), (void *)(h + cfg->pthread_tid)))
		t = 0;
	cache->td = td;
	cache->handle = h;
	cache->tid = t;
	*handle = h;
	*tid = t;
	return true;
}

/* Where obj, of a type with verdict v, lives.  A type still pending a
 * verdict is tried as each wrapper kind: the q_ptr check rejects what is
 * not one, and user space drops findings of types that turn out not to
 * be QObjects. */
static __always_inline bool qt_lives(__u64 obj, __u32 v, struct qt_cache *cache, __u64 *handle, __u32 *tid)
{
	__u32 zero = 0, wrapper = v & GCSCOPE_QT_WRAPPER_MASK;
	__u32 major = (v & GCSCOPE_QT_MAJOR_MASK) >> GCSCOPE_QT_MAJOR_SHIFT;
	const struct gcscope_qt_cfg *cfg;

	if (!targ_qt)
		return false;
	cfg = bpf_map_lookup_elem(&qt_cfg, &zero);
	if (!cfg)
		return false;
	if (wrapper) {
		if (major > 1)
			return false;
		return qt_thread_of(cfg, &cfg->qt[major & 1], qt_cpp(cfg, obj, wrapper), cache, handle, tid);
	}
	if ((v & GCSCOPE_VERDICT_MASK) != GCSCOPE_VERDICT_PENDING)
		return false;
	/* with the first Qt loaded: a process with both Qt 5 and Qt 6 gets
	 * the right one once the verdict is in */
	for (__u32 m = 0; m < 2; m++) {
		if (!cfg->qt[m].valid)
			continue;
		return qt_thread_of(cfg, &cfg->qt[m], qt_cpp(cfg, obj, GCSCOPE_QT_SIP), cache, handle, tid) ||
		       qt_thread_of(cfg, &cfg->qt[m], qt_cpp(cfg, obj, GCSCOPE_QT_SBK), cache, handle, tid);
	}
	return false;
}

#endif /* __GCSCOPE_QT_BPF_H */
