# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Free-threaded builds (ft-3.Nt) in the gdb tests.

A free-threaded build keeps its GC objects on no generation list but in the
mimalloc heaps of its threads: py-gc-census, py-gc-types (with
--check-traverse) and py-gc-object walk those heaps (gdb/gcscope_ftheap.py),
py-gc-status and py-gc-collecting find a collection's state there.  Every
gdb test module runs on those builds except the ones named here, with the
reason: they break what a free-threaded build does not have.
"""
import pytest

NOT_FREE_THREADED = {
    "test_gdb_corrupt": "it breaks the links of the generation lists, which a free-threaded "
                        "build has not (its heaps' own damage is tested in test_gdb_ftheap.py)",
}


@pytest.fixture(autouse=True)
def _free_threaded_scope(request):
    callspec = getattr(request.node, "callspec", None)
    interp = callspec.params.get("interp") if callspec else None
    if interp is None or "freethreaded" not in getattr(interp, "tags", ()):
        return
    why = NOT_FREE_THREADED.get(request.module.__name__.rsplit(".", 1)[-1])
    if why:
        pytest.skip(f"{interp.name}: free-threaded build: {why}")
