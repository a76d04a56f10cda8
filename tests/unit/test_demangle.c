// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/*
 * Rust legacy demangling (user/demangle.c) on symbols of the real PyO3 0.17
 * extension tests/pyo3 builds (rustc 1.95), and on what must be left alone:
 * C, C++, Rust v0, damaged names, a buffer too small.
 */
#include <string.h>

#include "check.h"
#include "demangle.h"

static void ok(const char *sym, const char *want)
{
	char buf[256];

	CHECK(demangle_rust_legacy(sym, buf, sizeof(buf)));
	CHECK_EQ_STR(buf, want);
}

static void no(const char *sym)
{
	char buf[64] = "untouched";

	CHECK(!demangle_rust_legacy(sym, buf, sizeof(buf)));
	CHECK_EQ_STR(buf, "untouched");
}

int main(void)
{
	char small[8];

	/* from pyo3t.cpython-311-x86_64-linux-gnu.so's .symtab */
	ok("_ZN5pyo3t1_31_$LT$impl$u20$pyo3t..Holder$GT$21__pymethod_traverse__17h708aac339028fd3bE",
	   "pyo3t::_::<impl pyo3t::Holder>::__pymethod_traverse__");
	ok("_ZN4pyo36pycell15PyCell$LT$T$GT$10try_borrow17h57451e796f2a19a1E", "pyo3::pycell::PyCell<T>::try_borrow");
	ok("_ZN120_$LT$pyo3..impl_..pyclass..ThreadCheckerImpl$LT$T$GT$$u20$as$u20$pyo3..impl_..pyclass.."
	   "PyClassThreadChecker$LT$T$GT$$GT$6ensure17h1111111111111111E",
	   "<pyo3::impl_::pyclass::ThreadCheckerImpl<T> as pyo3::impl_::pyclass::PyClassThreadChecker<T>>::ensure");
	ok("_ZN4core9panicking13assert_failed17he86804ca24430182E", "core::panicking::assert_failed");
	/* escapes: & * , ( ) @ and "_$" */
	ok("_ZN3foo32_$LT$$RF$$BP$$C$$LP$$RP$$SP$$GT$17h0123456789abcdefE", "foo::<&*,()@>");
	ok("_ZN3foo3_$u17h0123456789abcdefE", "foo::$u");
	/* a suffix after E (LLVM's) */
	ok("_ZN3foo3bar17h0123456789abcdefE.llvm.123", "foo::bar");

	no("Unsendable_traverse");
	no("_ZN7QObject10childEventEP11QChildEvent");	/* C++ */
	no("_ZN3foo3barE");				/* no hash: C++ */
	no("_RNvNtCsgEmfK2I1SDS_4core3fmt5write");	/* Rust v0 */
	no("_ZN3foo17h0123456789abcdef");		/* no E */
	no("_ZN99foo17h0123456789abcdefE");		/* length past the end */
	no("_ZN3foo17h0123456789abcdeXE");		/* not a hash */
	no("_ZN03foo17h0123456789abcdefE");
	no("_ZN");
	no("");
	CHECK(!demangle_rust_legacy(NULL, small, sizeof(small)));

	/* cut, still terminated */
	CHECK(demangle_rust_legacy("_ZN4core9panicking13assert_failed17he86804ca24430182E", small, sizeof(small)));
	CHECK_EQ_STR(small, "core::p");
	CHECK_DONE("test_demangle");
}
