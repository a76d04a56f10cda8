# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""One layout source for both sides (issue 7, item 6).

On one live process (programs/layout_program.py), `gcscope doctor --layout
-j` (user/, C) and `py-gc-layout -j` (gdb/) each resolve CPython's layout
from user/pylayout.tsv, the target's _Py_DebugOffsets and, with debug info,
its DWARF.  Every value, its source and the table's value must be the same
on both sides, and so must the version, the table column and the
free-threaded verdict: the rules (column choice, bounds, free-threaded
detection, gc.generations from gcstate->generation0) are rows of the table,
not code of either side.  With and without debug info, as test_gdb_heap.py.
"""
import json
import re
import subprocess

import pytest

import gdbutil
from test_gdb_heap import MODES, check_debuginfo


def doctor_layout(gcscope, pid, dwarf):
    argv = [gcscope, "doctor", "-j", "--layout", "-p", str(pid)]
    if not dwarf:
        argv.append("--no-debuginfo")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                       env=gdbutil.clean_env(), stdin=subprocess.DEVNULL)
    # doctor exits with trace's code (e.g. no probe without symbols), but
    # prints its object whatever it is
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout)


def gdb_layout(interp, pid, dwarf):
    out, err = gdbutil.run_gdb(interp, ["py-gc-layout -j"], pid=pid, dwarf=dwarf)
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    lines = [ln for ln in out.splitlines() if ln.startswith('{"')]
    assert len(lines) == 1, out[-2000:] + err[-2000:]
    return json.loads(lines[0])


def differences(doc, g):
    """What the two sides disagree on: {what: (doctor's, gdb's)}."""
    diff = {}
    for k in ("python", "free_threaded", "layout_column"):
        if doc.get(k) != g.get(k):
            diff[k] = (doc.get(k), g.get(k))
    if bool(doc.get("debuginfo")) != g.get("debuginfo"):
        diff["debuginfo"] = (doc.get("debuginfo"), g.get("debuginfo"))
    cf, gf = doc["fields"], g["fields"]
    for name in sorted(set(cf) | set(gf)):
        if name not in cf or name not in gf:
            diff[name] = (cf.get(name), gf.get(name))
            continue
        for k in ("value", "source", "table"):
            if cf[name].get(k) != gf[name].get(k):
                diff["%s.%s" % (name, k)] = (cf[name].get(k), gf[name].get(k))
    return diff


@pytest.mark.parametrize("mode", MODES)
def test_same_layout_both_sides(gcscope, interp, tmp_path, mode):
    dwarf = check_debuginfo(interp, mode)
    t = gdbutil.start(interp, tmp_path, "layout_program.py")
    try:
        doc = doctor_layout(gcscope, t.pid, dwarf)
        g = gdb_layout(interp, t.pid, dwarf)
    finally:
        t.stop()
    assert doc["python"] == "%d.%d.%d" % tuple(t.report["version"]), doc["python"]
    assert bool(doc["debuginfo"]) == dwarf, doc["debuginfo_detail"]
    assert len(doc["fields"]) > 100
    assert differences(doc, g) == {}
    srcs = {f["source"] for f in doc["fields"].values()}
    assert ("DWARF" in srcs) == dwarf, srcs
    if interp.version >= (3, 13):
        assert "_Py_DebugOffsets" in srcs or dwarf, srcs
