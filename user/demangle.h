/* SPDX-License-Identifier: GPL-2.0-only */
/* Copyright (c) 2026 The gcscope authors */
/*
 * Rust's legacy symbol mangling (rustc's default for crates, e.g. a PyO3
 * extension's code: _ZN5pyo3t1_31_$LT$impl$u20$pyo3t..Holder$GT$21__pymethod_traverse__17h708aac339028fd3bE)
 * made readable (pyo3t::_::<impl pyo3t::Holder>::__pymethod_traverse__),
 * for the native frames of docs/fatal.md.  Symbol names come from the
 * target's files: untrusted, bounded.
 */
#ifndef GCSCOPE_DEMANGLE_H
#define GCSCOPE_DEMANGLE_H

#include <stdbool.h>
#include <stddef.h>

/* If sym is a Rust legacy symbol (_ZN...17h<16 hex digits>E), write its
 * path without the hash into out (size bytes, NUL-terminated, cut if too
 * long) and return true; otherwise (C, C++, Rust v0 _R...) false. */
bool demangle_rust_legacy(const char *sym, char *out, size_t size);

#endif
