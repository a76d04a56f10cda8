// SPDX-License-Identifier: GPL-2.0-only
// Copyright (c) 2026 The gcscope authors
//! pyo3t: PyO3 0.17 classes that take part in reference cycles, for
//! tests/integration/test_pyo3.py (issue 8).
//!
//! - `Holder`: `#[pyclass(unsendable)]` with `__traverse__`/`__clear__`
//!   holding a PyObject.  PyO3 0.17's `__traverse__` trampoline
//!   (`__pymethod_traverse__`, pyo3-macros-backend 0.17.3 src/pymethod.rs
//!   impl_traverse_slot) calls `PyCell::try_borrow()`, whose
//!   `ThreadCheckerImpl::ensure()` panics on any thread but the creator's;
//!   the trampoline's `PanicTrap` then panics again while unwinding, which
//!   aborts the process: a collection on a worker that reaches a Holder
//!   made on the main thread kills it.
//! - `Counted`: the same shape but Send (no thread checker), so a foreign
//!   collection traverses, clears and drops it.  It counts, per object and
//!   once, being traversed and being dropped on another thread than its
//!   creator's: the exact numbers gcscope's findings must match.
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, ThreadId};

#[pyclass(unsendable)]
struct Holder {
    obj: Option<PyObject>,
}

#[pymethods]
impl Holder {
    #[new]
    fn new() -> Self {
        Holder { obj: None }
    }

    #[getter]
    fn get_obj(&self, py: Python<'_>) -> PyObject {
        match &self.obj {
            Some(o) => o.clone_ref(py),
            None => py.None(),
        }
    }

    #[setter]
    fn set_obj(&mut self, v: PyObject) {
        self.obj = Some(v);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(o) = &self.obj {
            visit.call(o)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.obj = None;
    }
}

static FOREIGN_TRAVERSED: AtomicUsize = AtomicUsize::new(0);
static FOREIGN_DROPPED: AtomicUsize = AtomicUsize::new(0);
static CREATED: AtomicUsize = AtomicUsize::new(0);

#[pyclass]
struct Counted {
    obj: Option<PyObject>,
    owner: ThreadId,
    traversed_off_thread: AtomicBool,
}

#[pymethods]
impl Counted {
    #[new]
    fn new() -> Self {
        CREATED.fetch_add(1, Ordering::SeqCst);
        Counted { obj: None, owner: thread::current().id(), traversed_off_thread: AtomicBool::new(false) }
    }

    #[getter]
    fn get_obj(&self, py: Python<'_>) -> PyObject {
        match &self.obj {
            Some(o) => o.clone_ref(py),
            None => py.None(),
        }
    }

    #[setter]
    fn set_obj(&mut self, v: PyObject) {
        self.obj = Some(v);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // once per object, as gcscope reports it (once per object and collection)
        if thread::current().id() != self.owner && !self.traversed_off_thread.swap(true, Ordering::SeqCst) {
            FOREIGN_TRAVERSED.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(o) = &self.obj {
            visit.call(o)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.obj = None;
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if thread::current().id() != self.owner {
            FOREIGN_DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// (created, traversed off their thread, dropped off their thread)
#[pyfunction]
fn counts() -> (usize, usize, usize) {
    (CREATED.load(Ordering::SeqCst), FOREIGN_TRAVERSED.load(Ordering::SeqCst), FOREIGN_DROPPED.load(Ordering::SeqCst))
}

#[pymodule]
fn pyo3t(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_class::<Holder>()?;
    m.add_class::<Counted>()?;
    m.add_function(wrap_pyfunction!(counts, m)?)?;
    Ok(())
}
