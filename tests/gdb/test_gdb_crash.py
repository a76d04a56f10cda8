# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A real crash core: tp_traverse aborts in a collection started on another thread.

tests/ext/gcxt.c's Unsendable type aborts when traversed on a thread other
than its creator's (as PyO3 unsendable classes did); programs/crash_program.py
creates them on the main thread and runs gc.collect() on a worker.  On the
kernel's core, py-gc-status and py-gc-collecting must name the worker thread,
the phase (tp_traverse), the type and an object being traversed; the census
must count exactly the objects the program counted before crashing.
"""
import json
import os
import re

import pytest

import extbuild
import gdbutil
from test_gdb_heap import MODES, check_debuginfo


def build_ext(interp, scratch):
    try:
        return extbuild.build(interp, "gcxt", scratch)
    except extbuild.BuildError as e:
        pytest.skip(f"{interp.name}: cannot build tests/ext/gcxt.c: {e}")


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "?"


def made(interp, rep, key):
    """How many the program made: the sum of its per-generation counts; on a
    free-threaded build gc.get_objects(generation=i) lists every object for
    each i (3.13t: one heap, no generations), so one of them."""
    return rep["counts"][key][0] if "freethreaded" in interp.tags else sum(rep["counts"][key])


@pytest.mark.parametrize("mode", MODES)
def test_crash_core(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    t = gdbutil.start(interp, tmp_path, "crash_program.py", interp.inside(scratch), scratch=scratch)
    core = gdbutil.wait_core(t)
    assert t.proc.returncode == -6, t.proc.stderr.read()[-2000:]
    if core is None:
        pat = core_pattern()
        pytest.skip(f"no core file in {scratch}: kernel.core_pattern is {pat!r} "
                    f"(hard RLIMIT_CORE {t.report['core_limit']})")
    ft = "freethreaded" in interp.tags
    # free-threaded: no collector's local lists for py-gc-collecting to
    # count (it refuses); the census walks the mimalloc heaps
    cmds = ["py-gc-status"] + ([] if ft else ["py-gc-collecting --top 0"]) + [
        "py-gc-census all --top 0", "py-gc-types"]
    try:
        out, err = gdbutil.run_gdb(interp, cmds, core=core, dwarf=dwarf)
    finally:
        os.unlink(core)
    rep = t.report
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err

    status = out.split("\ninterpreter 0:\n")[0]
    assert "  collection running: yes" in status
    m = re.search(r"^    thread: \d+ \(LWP (\d+)\) tstate 0x[0-9a-f]+ \[found by (.*)\]$", status, re.M)
    assert m, status
    assert int(m.group(1)) == rep["worker_native_id"]
    assert m.group(2) == ("collector frame" if dwarf else "type slot frame")
    assert re.search(r"^    phase: computing reachability \(tp_traverse\) \[frame #\d+ Unsendable_traverse\]$",
                     status, re.M), status
    assert "    tp_traverse of type: gcxt.Unsendable [frame #" in status
    assert re.search(r"^    object: gcxt\.Unsendable object at 0x[0-9a-f]+, refcount \d+ \[self in frame",
                     status, re.M), status
    if dwarf:
        assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status

    # py-gc-census all
    census, _totals = gdbutil.parse_census(out[out.rindex(
        "\ninterpreter 0:\n" + ("free-threaded: " if ft else "generation 0")):])
    for tname, key in (("gcxt.Unsendable", "Unsendable"), ("Holder", "Holder")):
        got = sum(census[g].get(tname, 0) for g in census)
        assert got == made(interp, rep, key), (tname, census)

    # py-gc-types: gcxt.Opaque has no HAVE_GC; Unsendable cooperates
    types = out[out.rindex("heap types,"):]
    assert re.search(r"^  gcxt\.Opaque +0x[0-9a-f]+  no Py_TPFLAGS_HAVE_GC  \(untracked instances\)$",
                     types, re.M), types
    assert "gcxt.Unsendable" not in types


def test_count_mode(interp, tmp_path):
    """GCXT_MODE=count: no crash, the cross-thread traverses are counted (for issue 3)."""
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    t = gdbutil.start(interp, tmp_path, "crash_program.py", interp.inside(scratch), "count",
                      scratch=scratch)
    out, err = t.proc.communicate(timeout=120)
    assert t.proc.returncode == 0, err.decode()[-2000:]
    n = json.loads(out.decode().strip().splitlines()[-1])["cross_thread_traverses"]
    # every object is traversed at least once by subtract_refs
    assert n >= made(interp, t.report, "Unsendable"), n
