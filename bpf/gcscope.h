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
	GCSCOPE_EV_FATAL = 7,	/* struct gcscope_fatal: a fatal signal during a collection */
	GCSCOPE_EV_TOUCH = 8,	/* struct gcscope_touch: a watched object traversed off its thread */
};

/* What BPF keeps of the target's struct gc_generation_stats, one per
 * generation: its running totals (and, from 3.15's rings, its candidates
 * total and the heap size at the collection's start). */
struct gcscope_gen_stats {
	__s64 collections;
	__s64 collected;
	__s64 uncollectable;
	__s64 candidates;	/* 3.15+ */
	__s64 heap_size;	/* 3.15+ */
};

/* gcscope_collection.flags */
#define GCSCOPE_F_STATS		(1U << 0) /* collected/uncollectable from generation_stats */
#define GCSCOPE_F_GEN_FROM_STATS (1U << 1) /* gen found by which collections count moved */
#define GCSCOPE_F_TOTAL_ARG	(1U << 2) /* total_arg holds the probe's n+m */
#define GCSCOPE_F_RING		(1U << 3) /* with F_STATS: candidates, heap_size from 3.15's rings */

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
	__s64 candidates;	/* if F_RING: objects the collection examined */
	__s64 heap_size;	/* if F_RING: GC-tracked objects when it started */
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
	__u32 count;		/* in a chunk: at most the walk's cap (a __u32) */
	__u32 no_creator;	/* --owners: of those, with no creator known (not QObjects) */
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
/* free-threaded builds: owner.tid is the thread whose heap holds the object
 * (bpf/objects.bpf.h heap_owner()); with F_EXITED that thread has exited,
 * and owner.tid is 0 */
#define GCSCOPE_FIND_F_HEAP	(1U << 2)
#define GCSCOPE_FIND_F_EXITED	(1U << 3)

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

/* --owners: an object of a watched type whose tp_traverse a collection on
 * another thread than its owner's entered (bpf/objects.bpf.h), sent at
 * once, once per object and collection: before any abort it causes. */
struct gcscope_touch {
	__u32 type;		/* GCSCOPE_EV_TOUCH */
	__u32 tid;		/* the collecting thread */
	__u32 pid;
	__u32 flags;		/* GCSCOPE_FIND_F_CREATOR or _HEAP (| _EXITED) */
	__u64 ts_start;		/* the collection's ts_start */
	__u64 obj;
	__u64 ts;		/* when */
	char comm[GCSCOPE_COMM_LEN]; /* the collecting thread's */
	struct gcscope_owner owner;
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
/* The type's tp_dealloc is hooked (it forgets its instances as they die),
 * so an instance PyObject_GC_Track sees again with its type recorded is a
 * live one tracked again, which keeps its creator; without the hook, an
 * entry may be a dead object's and a new instance there is recorded anew. */
#define GCSCOPE_VERDICT_F_FREED	(1U << 16)
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
	__u32 sip_data;		/* sipSimpleWrapper.data; access_func follows (must be NULL) */
	__u32 sbk_d;		/* SbkObject.d (SbkObjectPrivate *, whose cptr is first) */
	struct gcscope_qt_layout qt[2];
};

#define GCSCOPE_NEW_TYPE_F_WALK	(1U << 0) /* asked by a walk: no instance was seen created */
#define GCSCOPE_NEW_TYPE_F_TRACK (1U << 1) /* asked by PyObject_GC_Track: an allocator not hooked */
#define GCSCOPE_NEW_TYPE_F_READY (1U << 2) /* asked as the type was made (PyType_Ready, PyType_From*) */

/* The question may be read after the target has exited (a short program, a
 * process that aborts): so that the answer needs no read of its memory, BPF
 * names the type and its bases (GCSCOPE_EV_TYPE_NAME, before this record)
 * and sends the bases' addresses here. */
#define GCSCOPE_NEW_TYPE_BASES	8
struct gcscope_new_type {
	__u32 type;		/* GCSCOPE_EV_NEW_TYPE */
	__u32 flags;		/* GCSCOPE_NEW_TYPE_F_* */
	__u64 pytype;
	__u32 nbases;		/* bases[] read: tp_mro[1..nbases] (0: none read) */
	__u32 pad;
	__u64 bases[GCSCOPE_NEW_TYPE_BASES];	/* nearest first */
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

/*
 * A thread that dies in the middle of a collection (bpf/fatal.bpf.h,
 * docs/fatal.md): sent from its do_exit(), before its memory goes, with
 * what user space can no longer read afterwards.
 */
#define GCSCOPE_FATAL_FRAMES	8	/* innermost Python frames with names (a power of 2) */
#define GCSCOPE_FATAL_NAME_LEN	128	/* bytes of a function name's str data */
#define GCSCOPE_FATAL_FILE_LEN	256	/* bytes of a file name's str data */
#define GCSCOPE_FATAL_TAB_LEN	1024	/* bytes of a line table */
#define GCSCOPE_FATAL_STACK	16384	/* bytes of the native stack scanned, from sp */
#define GCSCOPE_FATAL_HITS	64	/* code addresses found on it */
#define GCSCOPE_FATAL_FILES	4	/* distinct files they are in */
#define GCSCOPE_FATAL_COMPS	16	/* path components of a file, leaf first */
#define GCSCOPE_FATAL_COMP_LEN	64
#define GCSCOPE_FATAL_F_SELF	(1U << 0) /* signal generated by the thread itself (abort, a fault) */
#define GCSCOPE_FATAL_F_PYTHON	(1U << 1) /* frames[] were read */
#define GCSCOPE_FATAL_F_SIGNAL	(1U << 2) /* the signal was seen generated (sig, sender, ts_signal) */
#define GCSCOPE_FATAL_F_EXIT	(1U << 3) /* no signal: the process exited (exit_status) */
#define GCSCOPE_FATAL_F_NATIVE	(1U << 4) /* the native stack was scanned */
#define GCSCOPE_FATAL_F_ENTERED	(1U << 5) /* obj, pytype: the last watched tp_traverse entered */
#define GCSCOPE_FATAL_HIT_IP	0xffff	/* hits[].word of the interrupted instruction */
#define GCSCOPE_FATAL_NO_FILE	0xff

struct gcscope_fatal_frame {
	__u64 code;		/* PyCodeObject * */
	__u64 instr;		/* as in struct gcscope_frame */
	__s32 firstlineno;
	__u32 tab_size;		/* the line table's full size */
	__u16 tab_len;		/* bytes of it in tab[] */
	__u16 name_len, file_len; /* bytes in name[], file[] */
	__u8 name_kind, file_kind; /* PyUnicode kind of the data: 1, 2, 4; 0 unreadable */
	__u8 pad[6];
	char name[GCSCOPE_FATAL_NAME_LEN];
	char file[GCSCOPE_FATAL_FILE_LEN];
	__u8 tab[GCSCOPE_FATAL_TAB_LEN];
};

/* A word of the native stack that points into an executable file mapping:
 * a return address, or a code pointer left there. */
struct gcscope_fatal_hit {
	__u64 addr;
	__u64 off;		/* its offset in the file */
	__u16 word;		/* index of the word from sp, or GCSCOPE_FATAL_HIT_IP */
	__u8 file;		/* index in files[], or GCSCOPE_FATAL_NO_FILE */
	__u8 pad[5];
};

struct gcscope_fatal_file {
	__u64 ino;
	__u32 dev;		/* the kernel's dev_t of its superblock */
	__u16 ncomp;		/* entries of comp[] */
	__u16 truncated;	/* the path had more components */
	char comp[GCSCOPE_FATAL_COMPS][GCSCOPE_FATAL_COMP_LEN];
};

struct gcscope_fatal {
	__u32 type;		/* GCSCOPE_EV_FATAL */
	__u32 flags;		/* GCSCOPE_FATAL_F_* */
	__u32 pid;
	__u32 tid;		/* the thread that was in a collection */
	__u32 sig;		/* the signal that ends the process, 0 if it exited */
	__u32 sender;		/* tgid of the process that generated it, if F_SIGNAL */
	__u64 ts_start;		/* the collection's ts_start */
	__u64 ts_signal;	/* when the signal was generated, else when the thread exited */
	__u64 ts_exit;		/* when the thread reached do_exit() */
	__s32 gen_arg;		/* generation the probe gave at start, -1 if none */
	__s32 exit_status;	/* if F_EXIT */
	__u32 stack_flags;	/* GCSCOPE_STACK_F_* of the Python stack */
	__u32 stack_depth;	/* Python frames captured (up to GCSCOPE_STACK_MAX) */
	__u32 nframes;		/* of them, with names in frames[] */
	__u32 nhits, nfiles;
	__u32 nwords;		/* native stack words scanned */
	__u32 nlookups, nlookup_errs; /* bpf_find_vma() calls, and those that failed */
	__u32 pad2;
	char comm[GCSCOPE_COMM_LEN];
	__u64 ip, sp;		/* user registers when the thread entered the kernel */
	__u64 obj, pytype;	/* if F_ENTERED: the object whose tp_traverse it entered last */
	__u64 ts_entered;	/* when */
	struct gcscope_fatal_hit hits[GCSCOPE_FATAL_HITS];
	struct gcscope_fatal_file files[GCSCOPE_FATAL_FILES];
	struct gcscope_fatal_frame frames[GCSCOPE_FATAL_FRAMES];
};

/* A target of a shared object (bpf/shared.bpf.h, user/bpfshare.c): the
 * value of the "targets" map, keyed by its tgid. */
struct gcscope_target {
	__u64 runtime;		/* &_PyRuntime in it (targ_runtime, targ_ps_runtime) */
	__u32 slot;		/* its counters: "counters"[slot * GCSCOPE_CNT__MAX + c] */
	__u32 pad;
};

/* Indexes of the "counters" array map: things that went wrong in BPF. */
enum gcscope_counter {
	GCSCOPE_CNT_LOST = 0,		/* ring buffer full: event dropped */
	GCSCOPE_CNT_NO_START,		/* a collection ended that we did not see start */
	GCSCOPE_CNT_STATS_FAULT,	/* generation_stats could not be read */
	GCSCOPE_CNT_START_FULL,		/* too many threads in a collection at once */
	GCSCOPE_CNT_WALK_FAULT,		/* the collected list could not be read to its end */
	GCSCOPE_CNT_WALK_CAPPED,	/* walks stopped at --max-objects */
	GCSCOPE_CNT_NOT_COLLECTED,	/* the collector returned with no counter moved */
	GCSCOPE_CNT_NO_DONE,		/* a collection started whose end we did not see */
	/* not faults: what the walks cost, as the walk program itself measures
	 * it (bpf_ktime_get_ns() from its entry to its last chunk sent), for
	 * the agent's budget (user/typewin.h) */
	GCSCOPE_CNT_WALK_NS,		/* ns spent in walks */
	GCSCOPE_CNT_WALKS,		/* walks run */
	GCSCOPE_CNT__MAX,
};

#endif /* __GCSCOPE_H */
