# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The layout table (user/pylayout.tsv) against each target's own knowledge.

With debug info, every value the table gives must equal what DWARF says.
On 3.13+, every value taken from _Py_DebugOffsets must equal DWARF's too.
"""
import json
import subprocess

import pytest

from harness import Target, run


def layout(gcscope, pid, *extra):
    r = run(gcscope, "doctor", "-j", "--layout", "-p", pid, *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_table_agrees_with_dwarf(gcscope, interp, tmp_path):
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info to compare the table with")
    target = Target(interp, tmp_path, "gc_loop.py")
    try:
        doc = layout(gcscope, target.pid)
        nodbg = layout(gcscope, target.pid, "--no-debuginfo")
    finally:
        target.kill()
    assert doc["debuginfo"], doc
    fields = doc["fields"]
    from_dwarf = {k: v for k, v in fields.items() if v["source"] == "DWARF"}
    # the fields the tracer needs all come from DWARF here
    for f in ("runtime.interpreters_main", "interp.gc", "gc.generation_stats", "gc_stats.sizeof"):
        assert fields[f]["source"] == "DWARF", (f, fields[f])
    disagree = {k: (v["value"], v["table"]) for k, v in from_dwarf.items()
                if v["table"] is not None and v["table"] != v["value"]}
    assert disagree == {}, f"table column {doc['layout_column']} disagrees with DWARF"

    # Without DWARF: the table, and on 3.13+ the target's _Py_DebugOffsets,
    # give the same values.
    for k, v in nodbg["fields"].items():
        if v["value"] is not None and k in from_dwarf:
            assert v["value"] == from_dwarf[k]["value"], (k, v, from_dwarf[k])
    if interp.version >= (3, 13):
        srcs = {v["source"] for v in nodbg["fields"].values()}
        assert "_Py_DebugOffsets" in srcs
        assert nodbg["fields"]["interp.gc"]["source"] == "_Py_DebugOffsets"
        # interpreters.main is interpreters.head + 8 (struct pyinterpreters)
        assert nodbg["fields"]["runtime.interpreters_main"]["source"] == "_Py_DebugOffsets"
    if interp.version >= (3, 15):
        # 3.15 publishes where its stats rings are, and their size (GH-146527)
        for f in ("gc.generation_stats", "gc_ring.sizeof"):
            assert nodbg["fields"][f]["source"] == "_Py_DebugOffsets", (f, nodbg["fields"][f])


def test_free_threaded_flag(gcscope, interp, tmp_path):
    """_Py_DebugOffsets.free_threaded (3.13+) tells a free-threaded build; there
    the GIL columns of the table are not used: offsets come from DWARF (or
    _Py_DebugOffsets), and what needs more says so."""
    if interp.version < (3, 13):
        pytest.skip(f"{interp.name}: no _Py_DebugOffsets before 3.13, and no free-threaded build")
    target = Target(interp, tmp_path, "gc_loop.py")
    try:
        doc = layout(gcscope, target.pid)
        r = run(gcscope, "doctor", "-j", "--layout", "--no-debuginfo", "-p", target.pid)
        ft = subprocess.run(interp.argv("-c", "import sys; print(int(not sys._is_gil_enabled()))"),
                            capture_output=True, text=True, timeout=60).stdout.strip() == "1"
    finally:
        target.kill()
    assert doc["free_threaded"] is ("freethreaded" in interp.tags) is ft
    nodbg = json.loads(r.stdout)
    assert nodbg["free_threaded"] is ft
    if not ft:
        return
    f = doc["fields"]
    # the PyObject header of Py_GIL_DISABLED: ob_tid, ..., ob_type at 24
    assert f["object.ob_type"] == {"value": 24, "source": "DWARF", "table": None}, f["object.ob_type"]
    assert f["object.ob_tid"]["value"] == 0 and f["object.ob_tid"]["source"] == "DWARF"
    assert f["ft_state.unreachable"]["source"] == "DWARF"
    # constants from the ft. rows; flags kept
    assert f["object.managed_dict_before"] == {"value": 8, "source": "table", "table": 8}
    assert f["tpflags.managed_dict"]["value"] == 16
    assert doc["counts"] is True and doc["objects"] is True
    assert "state, ->unreachable" in doc["objects_detail"] or "state.unreachable" in doc["objects_detail"]
    # without DWARF: no GIL-build offset is taken for it
    n = nodbg["fields"]
    assert all(v["source"] in ("_Py_DebugOffsets", "none") or k.startswith(("debug_offsets.", "column.",
                                                                          "tpflags.", "ft."))
               or k in ("object.managed_dict_before", "iframe.owner_shim", "iframe.code_tag_bits",
                        "object.ob_gc_bits", "object.ob_ref_local", "object.ob_ref_shared")
               or k.startswith("mi_")
               for k, v in n.items()), {k: v for k, v in n.items() if v["source"] == "table"}
    assert n["object.ob_type"]["source"] == "_Py_DebugOffsets" and n["object.ob_type"]["value"] == 24
    # the mimalloc heaps (gdb census): from DWARF here, and the ft. rows give
    # the same without it (test_table_agrees_with_dwarf checks every value)
    for k in ("mi_tstate.mimalloc", "mi_page.xblock_size", "mi_heap.pages", "object.ob_gc_bits"):
        assert f[k]["source"] == "DWARF" and f[k]["value"] == f[k]["table"], (k, f[k])
        assert n[k]["source"] == "table" and n[k]["value"] == f[k]["value"], (k, n[k])
    assert nodbg["counts"] is False
    assert nodbg["counts_detail"].startswith("free-threaded build without debug info: layout field "
                                             "gc.generation_stats is not in its _Py_DebugOffsets")
