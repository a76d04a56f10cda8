# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Free-threaded builds (ft-3.Nt) in the gdb tests.

On a free-threaded build the gdb commands that need the objects refuse (exit
7): its GC objects are on no generation list but in the mimalloc heaps of its
threads, which they do not walk (docs/versions.md).  Only the modules listed
here run on those builds, and test_gdb_heap.py asserts both py-gc-status's
exact values and that refusal; every other gdb test skips them by name.
"""
import pytest

FREE_THREADED_MODULES = ("test_gdb_heap", "test_gdb_layout")


@pytest.fixture(autouse=True)
def _free_threaded_scope(request):
    callspec = getattr(request.node, "callspec", None)
    interp = callspec.params.get("interp") if callspec else None
    if interp is None or "freethreaded" not in getattr(interp, "tags", ()):
        return
    if request.module.__name__.rsplit(".", 1)[-1] not in FREE_THREADED_MODULES:
        pytest.skip(f"{interp.name}: free-threaded build: the gdb commands this test uses refuse it "
                    "(objects in mimalloc heaps, not on generation lists; py-gc-status and the "
                    "refusal are tested in test_gdb_heap.py)")
