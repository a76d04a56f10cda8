# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-status names the phase of a collection stopped in one of its phases.

programs/phase_program.py runs gc.collect() on a worker thread and blocks it,
GIL held, in one of:
  - the first __del__ of a batch of cyclic garbage (finalizer phase);
  - gcxt.SlowClear's tp_clear (tp_clear phase);
  - the first weakref callback the collector runs for a referent found in
    cyclic garbage (weakref handling: handle_weakrefs in 3.9-3.14,
    handle_weakref_callbacks in CPython main (3.15) gc.c);
  - the tp_dealloc of a gcxt.SlowDealloc that no cycle contains but only a
    garbage list refers to, run when delete_garbage's tp_clear of that list
    drops it (deallocation phase);
gdb attaches while it waits.  The collecting thread must be the worker,
exactly, and the phase the one the program is in; for weakref and dealloc
the object must be the one at work, by address (the program prints it).
The tp_traverse phase is covered by test_gdb_crash.py.
With debug info, py-gc-collecting's census of what the collection found
unreachable must hold exactly the program's garbage (UNREACHABLE).

Without debug info (Debian's stripped release build) libpython's static
functions have no names: the tp_clear phase is still found from the
extension's own symbol (SlowClear_clear is gcxt.SlowClear's tp_clear slot),
but the finalizer is a Python __del__ called through libpython's static
slot_tp_finalize, and a weakref callback is called by the static
handle_weakrefs, so there the command can only say which thread holds the
GIL and that the phase is not identified: that is what is asserted.  A
tp_dealloc frame is no evidence of a collection by itself (any thread frees
objects), so it neither names the collecting thread nor, alone, the phase:
without debug info the GIL holder is taken for the collecting thread, the
phase is not identified, and the tp_dealloc slot frame still gives the type
and the object.
"""
import json
import re

import pytest

import gdbutil
from test_gdb_crash import build_ext
from test_gdb_heap import MODES, check_debuginfo

PHASE = {"finalize": r"finalizers \(tp_finalize / __del__\)", "clear": r"tp_clear",
         "weakref": r"weakref handling", "dealloc": r"deallocation \(tp_dealloc\)"}
N = 40      # phase_program.py's batch size


def run_phase(interp, tmp_path, mode, dwarf):
    """(py-gc-status text up to the census, how the thread was found, ready line words)."""
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    t = gdbutil.start(interp, tmp_path, "phase_program.py", interp.inside(scratch), mode,
                      scratch=scratch)
    try:
        out, err = gdbutil.run_gdb(interp, ["py-gc-status", "py-gc-collecting --top 0"],
                                   pid=t.pid, dwarf=dwarf)
    finally:
        t.stop()
    # the collection went on and ended normally once released
    assert t.proc.returncode == 0, t.proc.stderr.read().decode()[-2000:]
    res = json.loads(t.proc.stdout.read().decode().strip().splitlines()[-1])
    # finalize, weakref: N cycles of two objects; clear, dealloc: N self-cycles
    assert res["collected"] >= (2 * N if mode in ("finalize", "weakref") else N), res
    if mode == "weakref":
        # every referent died in that collection, and every callback ran
        assert res["dead_weakrefs"] == N and res["callbacks"] == N, res
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    status = out.split("\ninterpreter 0:\n")[0]
    assert "  collection running: yes" in status, status
    m = re.search(r"^    thread: \d+ \(LWP (\d+)\) tstate 0x[0-9a-f]+ \[found by (.*)\]$", status, re.M)
    assert m, status
    assert int(m.group(1)) == t.report["worker_native_id"], status
    if dwarf:
        check_unreachable(interp, out, mode)
    return status, m.group(2), t.ready


# py-gc-collecting's census of what the collection found unreachable, per
# phase: (title, type, count of the program's garbage objects of that type).
# GIL builds (3.9-3.15 gc.c/gcmodule.c): the local list `unreachable` while
# weakref callbacks and finalizers run, less the object whose finalizer runs
# (finalize_garbage moves each to its `seen` list first); in delete_garbage
# `final_unreachable`, where the object being cleared stays.  Free-threaded
# (3.13's Python/gc_free_threading.c): the worklist state->unreachable, every
# object while callbacks and finalizers run (call_weakref_callbacks and
# finalize_garbage walk it without taking anything off), in delete_garbage
# all but the one being cleared (it pops each object before its tp_clear).
GIL_LIST = r"unreachable \(collector's local list at 0x[0-9a-f]+\)"
GIL_FINAL = r"unreachable after finalizers \(collector's local list final_unreachable at 0x[0-9a-f]+\)"
FT_LIST = r"unreachable \(collector's worklist state->unreachable at 0x[0-9a-f]+\)"
UNREACHABLE = {
    False: {"finalize": (GIL_LIST, "Fin", 2 * N - 1), "weakref": (GIL_LIST, "Node", 2 * N),
            "clear": (GIL_FINAL, "gcxt.SlowClear", N), "dealloc": (GIL_FINAL, "list", N)},
    True: {"finalize": (FT_LIST, "Fin", 2 * N), "weakref": (FT_LIST, "Node", 2 * N),
           "clear": (FT_LIST, "gcxt.SlowClear", N - 1), "dealloc": (FT_LIST, "list", N - 1)},
}


def check_unreachable(interp, out, mode):
    """py-gc-collecting's census of the collector's list or worklist has the
    program's garbage, exactly (libpython's debug info finds it)."""
    coll = out.split("\ninterpreter 0:\n")[-1]
    title, tname, want = UNREACHABLE["freethreaded" in interp.tags][mode]
    m = re.search(r"^%s: (\d+) objects, \d+ types\n((?: +\d+  .*\n)+)" % title, coll, re.M)
    assert m, coll
    assert re.search(r"^ +%d  %s$" % (want, re.escape(tname)), m.group(2), re.M), coll


def at_work(ready):
    """Address the program printed before "ready" (weakref and dealloc modes)."""
    assert len(ready) == 2 and ready[1] == "ready", ready
    return int(ready[0], 16)


@pytest.mark.parametrize("mode", MODES)
def test_finalizer_phase(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    status, how, _ready = run_phase(interp, tmp_path, "finalize", dwarf)
    if not dwarf:
        # stripped: no libpython frame names, slot_tp_finalize has no symbol
        assert how == "GIL holder", status
        assert re.search(r"^    phase: collecting \(phase not identified\)$", status, re.M), status
        return
    assert how == "collector frame", status
    # the innermost clue is the Python class's tp_finalize (slot_tp_finalize),
    # called by finalize_garbage (gdb shows it even where -O3 inlined it)
    assert re.search(r"^    phase: %s \[frame #\d+ (slot_tp_finalize|finalize_garbage)\]$"
                     % PHASE["finalize"], status, re.M), status
    assert re.search(r"^    tp_finalize of type: Fin \[frame #\d+ slot_tp_finalize\]$",
                     status, re.M), status
    # 3.9/3.10 -O3 lose slot_tp_finalize's self; finalize_garbage's op is the same object
    assert re.search(r"^    object: Fin object at 0x[0-9a-f]+, refcount \d+ "
                     r"\[(self in frame #\d+ slot_tp_finalize|op in frame #\d+ finalize_garbage)\]$",
                     status, re.M), status
    # 3.13's gc_collect_main has no `generation` local (test_gdb_crash.py)
    assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status


@pytest.mark.parametrize("mode", MODES)
def test_clear_phase(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    status, how, _ready = run_phase(interp, tmp_path, "clear", dwarf)
    assert how == ("collector frame" if dwarf else "type slot frame"), status
    assert re.search(r"^    phase: tp_clear \[frame #\d+ SlowClear_clear\]$", status, re.M), status
    assert re.search(r"^    tp_clear of type: gcxt\.SlowClear \[frame #\d+ SlowClear_clear\]$",
                     status, re.M), status
    assert re.search(r"^    object: gcxt\.SlowClear object at 0x[0-9a-f]+, refcount \d+ "
                     r"\[op in frame #\d+ SlowClear_clear\]$", status, re.M), status
    if dwarf:
        # 3.13's gc_collect_main has no `generation` local (test_gdb_crash.py)
        assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status


def weakref_helper(interp):
    """The collector's function that calls weakref callbacks: handle_weakrefs in
    3.9-3.12's gcmodule.c and 3.13-3.14's gc.c (pyenv 3.13.0, trixie 3.13.5,
    sid 3.14.10 all show it), handle_weakref_callbacks in CPython main's (3.15) gc.c (which
    moved the clearing of weakrefs without callbacks to clear_weakrefs); free-threaded
    builds run them from call_weakref_callbacks (3.13's Python/gc_free_threading.c)."""
    if "freethreaded" in interp.tags:
        return "call_weakref_callbacks"
    return "handle_weakref_callbacks" if interp.version[:2] >= (3, 15) else "handle_weakrefs"


@pytest.mark.parametrize("mode", MODES)
def test_weakref_phase(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    status, how, ready = run_phase(interp, tmp_path, "weakref", dwarf)
    wr = at_work(ready)
    # no type slot is at work in a weakref callback: no "tp_... of type:" line
    assert " of type: " not in status, status
    if not dwarf:
        # stripped: handle_weakrefs is static, the callback's frames are Python's
        assert how == "GIL holder", status
        assert re.search(r"^    phase: collecting \(phase not identified\)$", status, re.M), status
        # nothing names the object: one from the callback's own frames would be wrong
        assert "    object: " not in status, status
        return
    assert how == "collector frame", status
    fn = weakref_helper(interp)
    assert re.search(r"^    phase: %s \[frame #\d+ %s\]$" % (PHASE["weakref"], fn),
                     status, re.M), status
    # the weakref whose callback runs (the collector's `op`), not an object of
    # the callback's own frames (Py_DEBUG builds show cfunction_call's self)
    assert re.search(r"^    object: weakref(\.ReferenceType)? object at 0x%x, refcount \d+ "
                     r"\[op in frame #\d+ %s\]$" % (wr, fn), status, re.M), status
    # 3.13's gc_collect_main has no `generation` local (test_gdb_crash.py)
    assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status


@pytest.mark.parametrize("mode", MODES)
def test_dealloc_phase(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    status, how, ready = run_phase(interp, tmp_path, "dealloc", dwarf)
    obj = at_work(ready)
    if dwarf:
        assert how == "collector frame", status
        # delete_garbage (tp_clear) -> list's tp_clear -> SlowDealloc_dealloc:
        # the innermost slot frame refines the phase
        assert re.search(r"^    phase: %s \[frame #\d+ SlowDealloc_dealloc\]$" % PHASE["dealloc"],
                         status, re.M), status
        # 3.13's gc_collect_main has no `generation` local (test_gdb_crash.py)
        assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status
    else:
        # stripped: no collector frame, and a tp_dealloc alone does not make a
        # thread the collecting one nor name the phase (see the docstring)
        assert how == "GIL holder", status
        assert re.search(r"^    phase: collecting \(phase not identified\)$", status, re.M), status
    assert re.search(r"^    tp_dealloc of type: gcxt\.SlowDealloc \[frame #\d+ SlowDealloc_dealloc\]$",
                     status, re.M), status
    # refcount 0: it is being deallocated
    assert re.search(r"^    object: gcxt\.SlowDealloc object at 0x%x, refcount 0 "
                     r"\[op in frame #\d+ SlowDealloc_dealloc\]$" % obj, status, re.M), status
