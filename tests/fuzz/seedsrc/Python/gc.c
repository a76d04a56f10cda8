// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * The shape of CPython's GC structs and of finalize_garbage() inlined into
 * the collector, for the DWARF that fuzz_dwarf starts from: built with -g
 * -O2 as "Python/gc.c", the name user/dwarfinfo.c and user/gcsite.c look
 * for.  Member names follow the rows of user/pylayout.tsv.
 */
typedef struct _object {
	long ob_refcnt;
	struct _typeobject *ob_type;
} PyObject;

typedef struct {
	PyObject ob_base;
	long ob_size;
} PyVarObject;

typedef struct _typeobject {
	PyVarObject ob_base;
	const char *tp_name;
	long tp_basicsize, tp_itemsize;
	void (*tp_dealloc)(PyObject *);
	unsigned long tp_flags;
	PyObject *tp_mro;
} PyTypeObject;

typedef struct {
	unsigned long _gc_next, _gc_prev;
} PyGC_Head;

struct gc_generation {
	PyGC_Head head;
	int threshold, count;
};

struct gc_generation_stats {
	long collections, collected, uncollectable;
};

struct _gc_runtime_state {
	PyObject *trash_delete_later;
	int trash_delete_nesting;
	int enabled;
	int debug;
	struct gc_generation generations[3];
	struct gc_generation *generation0;
	struct gc_generation permanent_generation;
	struct gc_generation_stats generation_stats[3];
	int collecting;
	PyObject *garbage, *callbacks;
};

typedef struct _ts {
	struct _ts *prev, *next;
	struct _is *interp;
	unsigned long thread_id, native_thread_id;
} PyThreadState;

typedef struct _is {
	struct _is *next;
	struct { PyThreadState *head; } threads;
	long id;
	struct _gc_runtime_state gc;
} PyInterpreterState;

typedef struct {
	struct { PyInterpreterState *head, *main; } interpreters;
	int _finalizing;
} _PyRuntimeState;

_PyRuntimeState _PyRuntime;
extern void tp_finalize(PyObject *);
extern void move_unreachable(struct gc_generation *young, PyGC_Head *unreachable);

static inline void finalize_garbage(PyThreadState *tstate, PyGC_Head *collectable)
{
	for (PyGC_Head *gc = (PyGC_Head *)collectable->_gc_next; gc != collectable;
	     gc = (PyGC_Head *)gc->_gc_next)
		if (tstate)
			tp_finalize((PyObject *)(gc + 1));
}

long gc_collect_main(PyThreadState *tstate, int generation)
{
	PyGC_Head unreachable = { (unsigned long)&unreachable, (unsigned long)&unreachable };
	struct _gc_runtime_state *gcstate = &tstate->interp->gc;

	gcstate->collecting = 1;
	/* not foldable: the list comes from outside, as in CPython */
	move_unreachable(&gcstate->generations[generation], &unreachable);
	finalize_garbage(tstate, &unreachable);
	gcstate->generation_stats[generation].collections++;
	gcstate->collecting = 0;
	return gcstate->generation_stats[generation].collected;
}
