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
 * Builds against 3.9-3.14 headers, release or Py_DEBUG.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	return m;
fail:
	Py_XDECREF(t);
	Py_DECREF(m);
	return NULL;
}
