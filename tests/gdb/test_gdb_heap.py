# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-status / census / garbage / object on a known heap, live and on a gcore core.

The target (programs/heap_program.py) builds the heap, reports what the
interpreter itself says about it (gc.get_count(), gc.get_threshold(),
gc.get_freeze_count(), gc.garbage, gc.callbacks, gc.get_stats(), per-type
counts of gc.get_objects(generation=i)) and blocks; gdb's numbers must equal
those exactly.
"""
import os
import re

import pytest

import gdbutil

MODES = ["dwarf", "nodwarf"]


def check_debuginfo(interp, mode):
    if mode == "dwarf" and not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info installed for it")
    if mode == "nodwarf" and not ("debian" in interp.tags and not interp.debug):
        pytest.skip(f"{interp.name}: only Debian release builds can be run without debug info "
                    "(pyenv and python3.Xd builds carry DWARF in the binary itself)")
    return mode == "dwarf"


def commands(t):
    rep = t.report
    if rep.get("free_threaded"):
        # no generation lists: the census, py-gc-types and py-gc-object walk
        # the mimalloc heaps (tests/gdb/conftest.py)
        return ["py-gc-status", "py-gc-census all --top 0", "py-gc-types --all",
                "py-gc-object %d" % rep["young_addr"], "py-gc-object %d" % rep["frozen_addr"],
                "py-gc-object %d" % rep["orphan_addr"], "py-gc-collecting"]
    return ["py-gc-status", "py-gc-census all --top 0", "py-gc-garbage --max 100",
            "py-gc-object %d" % rep["young_addr"], "py-gc-object %d" % rep["mid_addr"],
            "py-gc-object %d" % rep["old_addr"], "py-gc-object %d" % rep["frozen_addr"]]


def check_output(interp, t, out, err):
    rep = t.report
    assert "Traceback" not in out + err, err
    if not rep.get("free_threaded"):
        assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    st = gdbutil.parse_status(out)
    v = rep["version"]
    assert re.search(r"^Python %d\.%d\.%d " % tuple(v), out, re.M), out[:400]
    assert st["enabled"] == ("yes" if rep["enabled"] else "no")
    assert st["thresholds"] == " ".join(map(str, rep["threshold"]))
    assert st["counts"] == " ".join(t.ready[1:4])
    if rep.get("free_threaded"):
        # gc.freeze() flags objects in the mimalloc heaps: no list to count
        assert st["frozen (permanent generation)"].startswith("unknown (free-threaded"), st
        assert rep["freeze_count"] > 0
    else:
        assert int(st["frozen (permanent generation)"]) == rep["freeze_count"]
    assert int(st["gc.garbage"]) == rep["garbage"]
    assert int(st["gc.callbacks"]) == rep["callbacks"]
    for i, (coll, collected, unc) in enumerate(rep["stats"]):
        assert st["stats gen%d" % i] == "collections=%d collected=%d uncollectable=%d" % (
            coll, collected, unc)
    assert st["collection running"] == "no"
    if rep.get("free_threaded"):
        check_free_threaded(t, out, err)
        return

    census, totals = gdbutil.parse_census(out)
    assert census["generation 1"] == rep["census"][1]
    assert census["generation 2"] == rep["census"][2]
    assert totals["generation 1"] == sum(rep["census"][1].values())
    assert totals["generation 2"] == sum(rep["census"][2].values())
    # generation 0 also holds what the program allocated while reporting:
    # only the objects it built there are exact.
    assert census["generation 0"]["Young"] == rep["created"]["Young"]
    assert census["permanent generation"]["Frozen"] == rep["created"]["Frozen"]
    assert totals["permanent generation"] == rep["freeze_count"]

    m = re.search(r"gc\.garbage: (\d+) objects.*?\n((?:  +\d+  .*\n)+)", out)
    assert m, out
    assert int(m.group(1)) == rep["garbage"]
    by = {ln.split(None, 1)[1]: int(ln.split()[0]) for ln in m.group(2).splitlines()}
    assert by == rep["garbage_types"]
    for r in ("'hello'", "'h\u00e9llo\u20ac'", " 12345\n", " -7\n", " %d\n" % 2 ** 70, " 2.5\n",
              " b'xyz'\n", " None\n", " True\n", "<tuple of length 3 at", "<dict of length 1 at",
              "<Garb object at"):
        assert r in out, r

    objs = out.split("object 0x")[1:]
    assert len(objs) == 4
    for text, tname, gen in zip(objs, ("Young", "Mid", "Old", "Frozen"),
                                ("generation 0", "generation 1", "generation 2",
                                 "permanent generation")):
        assert "type: %s " % tname in text
        assert "tracked: yes" in text
        assert "finalized: no" in text
        assert ("generation: %s" % gen) in text


def check_free_threaded(t, out, err):
    """ft-3.13t: the census of the mimalloc heaps (gcscope_ftheap.py) equals
    what the program made, the orphans of the exited thread included (the
    abandoned pool), and the frozen ones are exactly gc.get_freeze_count()."""
    rep = t.report
    v = rep["version"]
    assert re.search(r"^Python %d\.%d\.%d \(free-threaded; offsets: " % tuple(v), out, re.M), out[:400]
    assert not re.search(r"^py-gc-(census|types|object|status): ", err, re.M), err
    m = re.search(r"^free-threaded: the mimalloc GC heaps of (\d+) threads and (\d+) abandoned "
                  r"segments \(no generation lists\)$", out, re.M)
    assert m and int(m.group(1)) >= 1, out[:2000]
    census, totals = gdbutil.parse_census(out)
    assert not re.search(r"^(heaps|permanent generation): .*INCOMPLETE", out, re.M), out
    heaps = census["heaps"]
    for cls in ("Young", "Mid", "Old", "Orphan", "Garb"):
        assert heaps.get(cls) == rep["created"][cls], (cls, heaps.get(cls), rep["created"][cls])
    assert "Frozen" not in heaps
    assert census["permanent generation"]["Frozen"] == rep["created"]["Frozen"]
    assert totals["permanent generation"] == rep["freeze_count"]
    # what gc.get_objects() listed of each class is on the heaps too (it may
    # have made more of the builtin types since)
    assert totals["heaps"] >= sum(rep["census"][0].values()) - 100, (totals, len(rep["census"][0]))
    # py-gc-types found the program's classes on the heaps, with their counts
    for cls in ("Young", "Orphan"):
        assert re.search(r"^  %s +0x[0-9a-f]+  ok  \(%d tracked instances\)$" % (
            cls, rep["created"][cls]), out, re.M), out
    objs = out.split("object 0x")[1:]
    assert len(objs) == 3, out
    for text, tname, where in zip(objs, ("Young", "Frozen", "Orphan"), (
            r"heaps \(free-threaded: no generations; block \d+ of mimalloc page 0x[0-9a-f]+ \(tag 3\), "
            r"in the GC heap of thread state 0x[0-9a-f]+ \(interpreter 0\)\)",
            r"permanent generation \(frozen; block \d+ of mimalloc page 0x[0-9a-f]+ \(tag 3\), in ",
            r"heaps \(free-threaded: no generations; block \d+ of mimalloc page 0x[0-9a-f]+ \(tag 3\), "
            r"in (an abandoned segment|the GC heap of thread state)")):
        assert "type: %s " % tname in text
        assert "tracked: yes" in text and "finalized: no" in text
        assert re.search(r"refcount: [1-9]\d*\n", text), text
        assert re.search(r"  generation: " + where, text), text
    # no collection runs: py-gc-collecting says so (during one it refuses:
    # the collector's worklists are no generation lists)
    assert re.search(r"^interpreter 0:\n  collection running: no$", out, re.M), out[-500:]

@pytest.mark.parametrize("mode", MODES)
def test_live(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    try:
        out, err = gdbutil.run_gdb(interp, commands(t), pid=t.pid, dwarf=dwarf)
    finally:
        t.stop()
    check_output(interp, t, out, err)
    src = re.search(r"offsets: ([\w+]+)", out).group(1)
    assert ("dwarf" in src) == dwarf, src


@pytest.mark.parametrize("mode", MODES)
def test_gcore(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path), dwarf=dwarf)
    try:
        out, err = gdbutil.run_gdb(interp, commands(t), core=core, dwarf=dwarf)
    finally:
        os.unlink(core)
    check_output(interp, t, out, err)
