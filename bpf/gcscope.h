/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Types shared by the BPF programs (bpf/gcscope.bpf.c) and user space
 * (user/).  Fixed-width kernel types only, so both sides see one layout.
 */
#ifndef __GCSCOPE_H
#define __GCSCOPE_H

#define GCSCOPE_COMM_LEN 16
#define GCSCOPE_NGEN 3

enum gcscope_event_type {
	GCSCOPE_EV_COLLECTION = 1,
	GCSCOPE_EV_STACK = 2,	/* struct gcscope_stack, just before its collection */
	GCSCOPE_EV_TYPES = 3,	/* struct gcscope_types: types of the objects a collection destroys */
	GCSCOPE_EV_FINDING = 4,	/* struct gcscope_finding: destroyed off its creating thread */
	GCSCOPE_EV_NEW_TYPE = 5, /* struct gcscope_new_type: --owners asks for a verdict */
	GCSCOPE_EV_TYPE_NAME = 6, /* struct gcscope_type_name: first sight of a type in a walk */
};

/* struct gc_generation_stats of the target, one per generation. */
struct gcscope_gen_stats {
	__s64 collections;
	__s64 collected;
	__s64 uncollectable;
};

/* gcscope_collection.flags */
#define GCSCOPE_F_STATS		(1U << 0) /* collected/uncollectable from generation_stats */
#define GCSCOPE_F_GEN_FROM_STATS (1U << 1) /* gen found by which collections count moved */
#define GCSCOPE_F_TOTAL_ARG	(1U << 2) /* total_arg holds the probe's n+m */

/* One finished collection, sent through the ring buffer at its end. */
struct gcscope_collection {
	__u32 type;		/* GCSCOPE_EV_COLLECTION */
	__u32 flags;		/* GCSCOPE_F_* */
	__u32 pid;		/* tgid, as the kernel's root pid namespace sees it */
	__u32 tid;
	__u64 ts_start;		/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) at start */
	__u64 ts_end;
	__s32 gen;		/* collected generation, -1 when unknown */
	__s32 gen_arg;		/* generation the probe was given, -1 when none */
	__s64 total_arg;	/* collected + uncollectable per the probe, if F_TOTAL_ARG */
	__s64 collected;	/* if F_STATS */
	__s64 uncollectable;	/* if F_STATS */
	__u64 gcstate;		/* address of the interpreter's GC state, 0 if unknown */
	char comm[GCSCOPE_COMM_LEN]; /* the collecting thread's name */
};

/* trace --stack: the Python stack of the collecting thread when the
 * collection started, as raw (code object, instruction) pairs, innermost
 * first (bpf/pystack.bpf.h); symbolized in user space (user/pystack.c).
 * Sent with only nframes entries of frames[]. */
#define GCSCOPE_STACK_MAX	32
#define GCSCOPE_STACK_F_TRUNCATED (1U << 0) /* deeper than GCSCOPE_STACK_MAX */
#define GCSCOPE_STACK_F_NO_TSTATE (1U << 1) /* no PyThreadState for this thread */
#define GCSCOPE_STACK_F_FAULT	(1U << 2) /* a read of the frame chain failed */

struct gcscope_frame {
	__u64 code;		/* PyCodeObject * */
	__u64 instr;		/* f_lasti (3.9/3.10), or _Py_CODEUNIT * (3.11+) */
};

struct gcscope_stack {
	__u32 type;		/* GCSCOPE_EV_STACK */
	__u32 flags;		/* GCSCOPE_STACK_F_* */
	__u32 tid;
	__u32 nframes;
	__u64 ts_start;		/* the collection's ts_start */
	__u64 tstate;		/* the thread's PyThreadState, 0 if not found */
	struct gcscope_frame frames[GCSCOPE_STACK_MAX];
};

/*
 * trace --types / --owners: the objects a collection is about to destroy, as
 * the collector's list passed to finalize_garbage() holds them
 * (bpf/objects.bpf.h).  Type counts go out in chunks of up to
 * GCSCOPE_TYPES_MAX distinct types, before the collection's own record.
 */
#define GCSCOPE_TYPES_MAX	32
#define GCSCOPE_TYPES_F_LAST	(1U << 0) /* the walk is over: seen is its total */
#define GCSCOPE_TYPES_F_CAPPED	(1U << 1) /* it stopped at the --max-objects cap */
#define GCSCOPE_TYPES_F_FAULT	(1U << 2) /* a read failed: it stopped early */

struct gcscope_type_count {
	__u64 type;		/* PyTypeObject * */
	__u64 count;
};

struct gcscope_types {
	__u32 type;		/* GCSCOPE_EV_TYPES */
	__u32 flags;		/* GCSCOPE_TYPES_F_* */
	__u32 tid;
	__u32 n;		/* entries used in t[] */
	__u64 ts_start;		/* the collection's ts_start */
	__u64 seen;		/* objects walked so far */
	struct gcscope_type_count t[GCSCOPE_TYPES_MAX];
};

/* How to get the list head at a walk site from the registers there
 * (user/gcsite.h): one per site, chosen by the uprobe's attach cookie. */
#define GCSCOPE_SITE_REG	1	/* head = reg */
#define GCSCOPE_SITE_REG_OFF	2	/* head = reg + offset */
#define GCSCOPE_SITE_MEM	3	/* head = *(reg + offset) */

struct gcscope_site {
	__u32 kind;		/* GCSCOPE_SITE_* */
	__u32 regoff;		/* byte offset of the register in struct pt_regs */
	__s64 offset;
};

/* What --owners remembers of an object of a watched type at its creation. */
struct gcscope_owner {
	__u32 tid;
	__u32 pad;
	__u64 pytype;		/* its type then: a reused address has another */
	__u64 ts;
	char comm[GCSCOPE_COMM_LEN];
};

/* gcscope_finding.flags */
#define GCSCOPE_FIND_F_CREATOR	(1U << 0) /* owner holds the creating thread */
#define GCSCOPE_FIND_F_QT	(1U << 1) /* a QObject: lives_* is the thread it lives in */

struct gcscope_finding {
	__u32 type;		/* GCSCOPE_EV_FINDING */
	__u32 tid;		/* the collecting thread */
	__u64 ts_start;		/* the collection's ts_start */
	__u64 obj;
	struct gcscope_owner owner;	/* owner.pytype always; the rest if F_CREATOR */
	__u32 flags;		/* GCSCOPE_FIND_F_* */
	__u32 lives_tid;	/* F_QT: native tid of the thread it lives in (0: unknown) */
	__u64 lives_handle;	/* F_QT: Qt's QThreadData::threadId (the pthread_t) */
};

/* Verdicts of the "type_verdict" map, written by user space: the low byte
 * (GCSCOPE_VERDICT_MASK) is one of these, and a QObject subclass's verdict
 * also says how to reach the C++ object (GCSCOPE_QT_*). */
enum gcscope_verdict {
	GCSCOPE_VERDICT_PENDING = 1,	/* asked (GCSCOPE_EV_NEW_TYPE), no answer yet */
	GCSCOPE_VERDICT_WATCH = 2,	/* matches --owners: remember creators */
	GCSCOPE_VERDICT_IGNORE = 3,
};
#define GCSCOPE_VERDICT_MASK	0xffU
/* Qt affinity (bpf/qt.bpf.h): the wrapper kind in bits 8-11 ... */
#define GCSCOPE_QT_SIP		(1U << 8)	/* PyQt5/PyQt6: sipSimpleWrapper.data */
#define GCSCOPE_QT_SBK		(2U << 8)	/* PySide2/PySide6: SbkObject->d->cptr[0] */
#define GCSCOPE_QT_WRAPPER_MASK	(0xfU << 8)
/* ... and the Qt major version in bits 12-15: index into gcscope_qt_cfg.qt */
#define GCSCOPE_QT_MAJOR_SHIFT	12
#define GCSCOPE_QT_MAJOR_MASK	(0xfU << 12)

/* Qt's layout in the target (user/qtaffinity.c finds it), one entry of the
 * "qt_cfg" array map.  qt[0] is Qt 5, qt[1] Qt 6. */
struct gcscope_qt_layout {
	__u32 valid;
	__u32 d_ptr;		/* QObject::d_ptr (QObjectData *) */
	__u32 q_ptr;		/* QObjectData::q_ptr: must point back at the QObject */
	__u32 thread_data;	/* QObjectPrivate::threadData (QThreadData *) */
	__u32 thread_id;	/* QThreadData::threadId (Qt::HANDLE: the pthread_t) */
	__u32 pad;
};

struct gcscope_qt_cfg {
	__u32 pthread_tid;	/* glibc's struct pthread: offset of tid (0: unknown) */
	__u32 sip_data;		/* sipSimpleWrapper.data */
	__u32 sip_access;	/* sipSimpleWrapper.access_func: must be NULL */
	__u32 sbk_d;		/* SbkObject.d (SbkObjectPrivate *, whose cptr is first) */
	struct gcscope_qt_layout qt[2];
};

#define GCSCOPE_NEW_TYPE_F_WALK	(1U << 0) /* asked by a walk: no instance was seen created */

struct gcscope_new_type {
	__u32 type;		/* GCSCOPE_EV_NEW_TYPE */
	__u32 flags;		/* GCSCOPE_NEW_TYPE_F_* */
	__u64 pytype;
};

/* A type's tp_name, read in BPF the first time a walk meets the type: by the
 * time user space reads the record, a type destroyed by that very
 * collection is gone. */
#define GCSCOPE_TYPE_NAME_LEN	96
struct gcscope_type_name {
	__u32 type;		/* GCSCOPE_EV_TYPE_NAME */
	__u32 pad;
	__u64 pytype;
	__u64 tp_flags;
	char name[GCSCOPE_TYPE_NAME_LEN];
};

/* Indexes of the "counters" array map: things that went wrong in BPF. */
enum gcscope_counter {
	GCSCOPE_CNT_LOST = 0,		/* ring buffer full: event dropped */
	GCSCOPE_CNT_NO_START,		/* a collection ended that we did not see start */
	GCSCOPE_CNT_STATS_FAULT,	/* generation_stats could not be read */
	GCSCOPE_CNT_START_FULL,		/* too many threads in a collection at once */
	GCSCOPE_CNT_WALK_FAULT,		/* the collected list could not be read to its end */
	GCSCOPE_CNT_WALK_CAPPED,	/* walks stopped at --max-objects */
	GCSCOPE_CNT__MAX,
};

#endif /* __GCSCOPE_H */
