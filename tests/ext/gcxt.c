// SPDX-License-Identifier: GPL-2.0-only
// Copyright (c) 2026 The gcscope authors
/*
 * gcxt: an extension type whose tp_traverse refuses to run on a thread other
 * than the one that created the object, as PyO3 "unsendable" classes did
 * (ThreadCheckerImpl::ensure() panicking inside __traverse__, which aborts
 * the process when a collection started on another thread reaches it).
 *
 * Mode "abort" (default): abort() on a cross-thread traverse (a real crash
 * core for the gdb tests).  Mode "count": count such calls instead, readable
 * with gcxt.cross_thread_traverses() (for the BPF tests).  The mode comes from
 * $GCXT_MODE at import, or gcxt.set_mode("abort"|"count").
 *
 * For the gdb tests it also has:
 *  - gcxt.NoTypeVisit: a GC heap type whose tp_traverse visits its field but
 *    not Py_TYPE(self), as extension code written before 3.9 (bpo-40217)
 *    does, for py-gc-types --check-traverse;
 *  - gcxt.SlowClear and gcxt.hold_gil_wait(): block inside tp_clear, or in a
 *    __del__, *without releasing the GIL*, as extensions waiting on a lock or
 *    doing I/O there do, so that a test can inspect a collection stopped in
 *    its tp_clear or finalizer phase (gcxt.set_clear_fds());
 *  - gcxt.SlowDealloc: a heap type without Py_TPFLAGS_HAVE_GC (never part of
 *    a cycle) whose tp_dealloc blocks the same way (gcxt.set_dealloc_fds()):
 *    one referenced only from cyclic garbage dies when the collector's
 *    tp_clear drops that reference, so a test can stop a collection inside
 *    that tp_dealloc.
 *
 * Builds against 3.9-3.14 headers, release or Py_DEBUG.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	PyObject_HEAD
	PyObject *peer;
	pthread_t owner;
	long serial;
	int foreign;		/* a foreign thread traversed or cleared it */
} UnsendableObject;

static int abort_mode = 1;
static long cross_thread_traverses;
static long cross_thread_objects;	/* distinct objects a foreign thread reached */

/* One object is traversed several times per collection (subtract_refs,
 * move_unreachable): count each object once, like gcscope's findings. */
static void foreign_touch(UnsendableObject *self)
{
	if (!self->foreign) {
		self->foreign = 1;
		cross_thread_objects++;
	}
}
static long created;

static int Unsendable_traverse(PyObject *op, visitproc visit, void *arg)
{
	UnsendableObject *self = (UnsendableObject *)op;

	if (!pthread_equal(self->owner, pthread_self())) {
		if (abort_mode)
			abort();
		cross_thread_traverses++;
		foreign_touch(self);
	}
	/* heap types must visit their type (3.9+, bpo-40217) */
	Py_VISIT(Py_TYPE(op));
	Py_VISIT(self->peer);
	return 0;
}

static int Unsendable_clear(PyObject *op)
{
	if (!pthread_equal(((UnsendableObject *)op)->owner, pthread_self()) && !abort_mode)
		foreign_touch((UnsendableObject *)op);
	Py_CLEAR(((UnsendableObject *)op)->peer);
	return 0;
}

static void Unsendable_dealloc(PyObject *op)
{
	PyTypeObject *tp = Py_TYPE(op);

	PyObject_GC_UnTrack(op);
	Unsendable_clear(op);
	tp->tp_free(op);
	Py_DECREF(tp);
}

static PyObject *Unsendable_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	UnsendableObject *self;

	(void)args;
	(void)kwds;
	self = (UnsendableObject *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	self->owner = pthread_self();
	self->serial = created++;
	self->foreign = 0;
	return (PyObject *)self;
}

static PyObject *Unsendable_get_peer(PyObject *op, void *closure)
{
	PyObject *p = ((UnsendableObject *)op)->peer;

	(void)closure;
	if (!p)
		Py_RETURN_NONE;
	Py_INCREF(p);
	return p;
}

static int Unsendable_set_peer(PyObject *op, PyObject *v, void *closure)
{
	UnsendableObject *self = (UnsendableObject *)op;
	PyObject *old = self->peer;

	(void)closure;
	Py_XINCREF(v);
	self->peer = v;
	Py_XDECREF(old);
	return 0;
}

static PyGetSetDef Unsendable_getset[] = {
	{ "peer", Unsendable_get_peer, Unsendable_set_peer, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot Unsendable_slots[] = {
	{ Py_tp_new, (void *)Unsendable_new },
	{ Py_tp_traverse, (void *)Unsendable_traverse },
	{ Py_tp_clear, (void *)Unsendable_clear },
	{ Py_tp_dealloc, (void *)Unsendable_dealloc },
	{ Py_tp_getset, Unsendable_getset },
	{ 0, NULL },
};

static PyType_Spec Unsendable_spec = {
	.name = "gcxt.Unsendable",
	.basicsize = sizeof(UnsendableObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = Unsendable_slots,
};

/* A heap type that does not take part in the GC at all (no HAVE_GC), for
 * py-gc-types: its instances can hold references the collector never sees. */
typedef struct {
	PyObject_HEAD
	PyObject *ref;
} OpaqueObject;

static void Opaque_dealloc(PyObject *op)
{
	PyTypeObject *tp = Py_TYPE(op);

	Py_CLEAR(((OpaqueObject *)op)->ref);
	tp->tp_free(op);
	Py_DECREF(tp);
}

static PyType_Slot Opaque_slots[] = {
	{ Py_tp_dealloc, (void *)Opaque_dealloc },
	{ 0, NULL },
};

static PyType_Spec Opaque_spec = {
	.name = "gcxt.Opaque",
	.basicsize = sizeof(OpaqueObject),
	.flags = Py_TPFLAGS_DEFAULT,
	.slots = Opaque_slots,
};

/* A pre-3.9 style traverse: visits its field, never its (heap) type. */
static int NoTypeVisit_traverse(PyObject *op, visitproc visit, void *arg)
{
	Py_VISIT(((OpaqueObject *)op)->ref);
	return 0;
}

static int NoTypeVisit_clear(PyObject *op)
{
	Py_CLEAR(((OpaqueObject *)op)->ref);
	return 0;
}

static void NoTypeVisit_dealloc(PyObject *op)
{
	PyTypeObject *tp = Py_TYPE(op);

	PyObject_GC_UnTrack(op);
	NoTypeVisit_clear(op);
	tp->tp_free(op);
	Py_DECREF(tp);
}

static PyObject *Ref_get(PyObject *op, void *closure)
{
	PyObject *p = ((OpaqueObject *)op)->ref;

	(void)closure;
	if (!p)
		Py_RETURN_NONE;
	Py_INCREF(p);
	return p;
}

static int Ref_set(PyObject *op, PyObject *v, void *closure)
{
	OpaqueObject *self = (OpaqueObject *)op;
	PyObject *old = self->ref;

	(void)closure;
	Py_XINCREF(v);
	self->ref = v;
	Py_XDECREF(old);
	return 0;
}

static PyGetSetDef Ref_getset[] = {
	{ "ref", Ref_get, Ref_set, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot NoTypeVisit_slots[] = {
	{ Py_tp_traverse, (void *)NoTypeVisit_traverse },
	{ Py_tp_clear, (void *)NoTypeVisit_clear },
	{ Py_tp_dealloc, (void *)NoTypeVisit_dealloc },
	{ Py_tp_getset, Ref_getset },
	{ 0, NULL },
};

static PyType_Spec NoTypeVisit_spec = {
	.name = "gcxt.NoTypeVisit",
	.basicsize = sizeof(OpaqueObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = NoTypeVisit_slots,
};

/* set_clear_fds(ready_fd, wait_fd): the next SlowClear tp_clear (and each
 * hold_gil_wait()) writes "ready\n" to ready_fd, then blocks reading one
 * byte (or EOF) from wait_fd, GIL held.  -1, -1 (the default): no blocking. */
static int clear_ready_fd = -1, clear_wait_fd = -1;

static void wait_holding_gil(int ready_fd, int wait_fd)
{
	char c;

	if (ready_fd >= 0 && write(ready_fd, "ready\n", 6) != 6)
		return;
	if (wait_fd >= 0 && read(wait_fd, &c, 1) < 0)
		return;
}

static int SlowClear_clear(PyObject *op)
{
	int r = clear_ready_fd, w = clear_wait_fd;

	/* block once: the test inspects the process while we wait */
	clear_ready_fd = clear_wait_fd = -1;
	wait_holding_gil(r, w);
	Py_CLEAR(((OpaqueObject *)op)->ref);
	return 0;
}

static int SlowClear_traverse(PyObject *op, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(op));
	Py_VISIT(((OpaqueObject *)op)->ref);
	return 0;
}

static void SlowClear_dealloc(PyObject *op)
{
	PyTypeObject *tp = Py_TYPE(op);

	PyObject_GC_UnTrack(op);
	Py_CLEAR(((OpaqueObject *)op)->ref);
	tp->tp_free(op);
	Py_DECREF(tp);
}

static PyType_Slot SlowClear_slots[] = {
	{ Py_tp_traverse, (void *)SlowClear_traverse },
	{ Py_tp_clear, (void *)SlowClear_clear },
	{ Py_tp_dealloc, (void *)SlowClear_dealloc },
	{ Py_tp_getset, Ref_getset },
	{ 0, NULL },
};

static PyType_Spec SlowClear_spec = {
	.name = "gcxt.SlowClear",
	.basicsize = sizeof(OpaqueObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.slots = SlowClear_slots,
};

/* set_dealloc_fds(ready_fd, wait_fd): the next SlowDealloc tp_dealloc
 * writes its object's address, then signals and blocks, GIL held, as
 * SlowClear's tp_clear does. */
static int dealloc_ready_fd = -1, dealloc_wait_fd = -1;

/* Not a GC type: it holds no reference the collector could follow, so it is
 * never in a cycle; it only dies when whatever owns it lets go. */
static void SlowDealloc_dealloc(PyObject *op)
{
	PyTypeObject *tp = Py_TYPE(op);
	int r = dealloc_ready_fd, w = dealloc_wait_fd;

	/* block once: the test inspects the process while we wait; it is told
	 * which object is being deallocated ("0x... ready\n") */
	dealloc_ready_fd = dealloc_wait_fd = -1;
	if (r >= 0) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "0x%lx ", (unsigned long)(uintptr_t)op);

		if (write(r, buf, n) != n)
			r = w = -1;	/* no "ready": do not block either */
	}
	wait_holding_gil(r, w);
	tp->tp_free(op);
	Py_DECREF(tp);
}

static PyType_Slot SlowDealloc_slots[] = {
	{ Py_tp_dealloc, (void *)SlowDealloc_dealloc },
	{ 0, NULL },
};

static PyType_Spec SlowDealloc_spec = {
	.name = "gcxt.SlowDealloc",
	.basicsize = sizeof(PyObject),
	.flags = Py_TPFLAGS_DEFAULT,
	.slots = SlowDealloc_slots,
};

static PyObject *gcxt_set_dealloc_fds(PyObject *m, PyObject *args)
{
	(void)m;
	if (!PyArg_ParseTuple(args, "ii", &dealloc_ready_fd, &dealloc_wait_fd))
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *gcxt_set_clear_fds(PyObject *m, PyObject *args)
{
	(void)m;
	if (!PyArg_ParseTuple(args, "ii", &clear_ready_fd, &clear_wait_fd))
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *gcxt_hold_gil_wait(PyObject *m, PyObject *args)
{
	int r, w;

	(void)m;
	if (!PyArg_ParseTuple(args, "ii", &r, &w))
		return NULL;
	wait_holding_gil(r, w);
	Py_RETURN_NONE;
}

static PyObject *gcxt_cross_thread_traverses(PyObject *m, PyObject *noargs)
{
	(void)m;
	(void)noargs;
	return PyLong_FromLong(cross_thread_traverses);
}

static PyObject *gcxt_cross_thread_objects(PyObject *m, PyObject *noargs)
{
	(void)m;
	(void)noargs;
	return PyLong_FromLong(cross_thread_objects);
}

static PyObject *gcxt_set_mode(PyObject *m, PyObject *arg)
{
	const char *s = PyUnicode_AsUTF8(arg);

	(void)m;
	if (!s)
		return NULL;
	if (!strcmp(s, "abort"))
		abort_mode = 1;
	else if (!strcmp(s, "count"))
		abort_mode = 0;
	else {
		PyErr_SetString(PyExc_ValueError, "mode must be 'abort' or 'count'");
		return NULL;
	}
	Py_RETURN_NONE;
}

static PyMethodDef gcxt_methods[] = {
	{ "cross_thread_traverses", gcxt_cross_thread_traverses, METH_NOARGS,
	  "Number of tp_traverse calls made on a thread other than the object's creator." },
	{ "cross_thread_objects", gcxt_cross_thread_objects, METH_NOARGS,
	  "Number of distinct objects traversed or cleared on a thread other than their creator." },
	{ "set_mode", gcxt_set_mode, METH_O, "set_mode('abort'|'count')" },
	{ "set_clear_fds", gcxt_set_clear_fds, METH_VARARGS,
	  "set_clear_fds(ready_fd, wait_fd): the next SlowClear tp_clear signals and blocks." },
	{ "set_dealloc_fds", gcxt_set_dealloc_fds, METH_VARARGS,
	  "set_dealloc_fds(ready_fd, wait_fd): the next SlowDealloc tp_dealloc signals and blocks." },
	{ "hold_gil_wait", gcxt_hold_gil_wait, METH_VARARGS,
	  "hold_gil_wait(ready_fd, wait_fd): signal, then block reading wait_fd, GIL held." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef gcxt_module = {
	PyModuleDef_HEAD_INIT, "gcxt", "Unsendable GC type for gcscope tests.", -1, gcxt_methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_gcxt(void)
{
	PyObject *m, *t;
	const char *mode = getenv("GCXT_MODE");

	if (mode && !strcmp(mode, "count"))
		abort_mode = 0;
	m = PyModule_Create(&gcxt_module);
	if (!m)
		return NULL;
	t = PyType_FromSpec(&Unsendable_spec);
	if (!t || PyModule_AddObject(m, "Unsendable", t) < 0)
		goto fail;
	t = PyType_FromSpec(&Opaque_spec);
	if (!t || PyModule_AddObject(m, "Opaque", t) < 0)
		goto fail;
	t = PyType_FromSpec(&NoTypeVisit_spec);
	if (!t || PyModule_AddObject(m, "NoTypeVisit", t) < 0)
		goto fail;
	t = PyType_FromSpec(&SlowClear_spec);
	if (!t || PyModule_AddObject(m, "SlowClear", t) < 0)
		goto fail;
	t = PyType_FromSpec(&SlowDealloc_spec);
	if (!t || PyModule_AddObject(m, "SlowDealloc", t) < 0)
		goto fail;
	return m;
fail:
	Py_XDECREF(t);
	Py_DECREF(m);
	return NULL;
}
