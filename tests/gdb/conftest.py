# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Free-threaded builds (ft-3.Nt) in the gdb tests.

A free-threaded build keeps its GC objects on no generation list but in the
mimalloc heaps of its threads: py-gc-census, py-gc-types and py-gc-object
walk those heaps (gdb/gcscope_ftheap.py), py-gc-collecting refuses (exit 7;
docs/versions.md).  Only the modules listed here run on those builds:
test_gdb_heap.py asserts the census's exact counts live and on a core, and
py-gc-collecting's answer; test_gdb_ftheap.py damaged heaps,
test_gdb_damaged_core.py cores cut short or zeroed; every other
gdb test skips them by name (they need the generation lists or the
collector's local lists).
"""
import pytest

FREE_THREADED_MODULES = ("test_gdb_heap", "test_gdb_layout", "test_gdb_ftheap", "test_gdb_damaged_core",
                         "test_gdb_crash")


@pytest.fixture(autouse=True)
def _free_threaded_scope(request):
    callspec = getattr(request.node, "callspec", None)
    interp = callspec.params.get("interp") if callspec else None
    if interp is None or "freethreaded" not in getattr(interp, "tags", ()):
        return
    if request.module.__name__.rsplit(".", 1)[-1] not in FREE_THREADED_MODULES:
        pytest.skip(f"{interp.name}: free-threaded build: this test needs generation lists or "
                    "py-gc-collecting, which it has not (objects in mimalloc heaps; the census, "
                    "py-gc-types and py-gc-object of those heaps are tested in test_gdb_heap.py "
                    "and test_gdb_ftheap.py)")
