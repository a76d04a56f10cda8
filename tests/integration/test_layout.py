# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The layout table (user/pylayout.tsv) against each target's own knowledge.

With debug info, every value the table gives must equal what DWARF says.
On 3.13+, every value taken from _Py_DebugOffsets must equal DWARF's too.
"""
import json

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
