# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-status names the phase of a collection stopped in finalizers or tp_clear.

programs/phase_program.py runs gc.collect() on a worker thread and blocks it,
GIL held, either in the first __del__ of a batch of cyclic garbage (finalizer
phase) or in gcxt.SlowClear's tp_clear (tp_clear phase); gdb attaches while it
waits.  The collecting thread must be the worker, exactly, and the phase the
one the program is in.  The tp_traverse phase is covered by test_gdb_crash.py.

Without debug info (Debian's stripped release build) libpython's static
functions have no names: the tp_clear phase is still found from the
extension's own symbol (SlowClear_clear is gcxt.SlowClear's tp_clear slot),
but the finalizer is a Python __del__ called through libpython's static
slot_tp_finalize, so there the command can only say which thread holds the
GIL and that the phase is not identified: that is what is asserted.
"""
import json
import re

import pytest

import gdbutil
from test_gdb_crash import build_ext
from test_gdb_heap import MODES, check_debuginfo

PHASE = {"finalize": r"finalizers \(tp_finalize / __del__\)", "clear": r"tp_clear"}


def run_phase(interp, tmp_path, mode, dwarf):
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    t = gdbutil.start(interp, tmp_path, "phase_program.py", interp.inside(scratch), mode,
                      scratch=scratch)
    try:
        out, err = gdbutil.run_gdb(interp, ["py-gc-status"], pid=t.pid, dwarf=dwarf)
    finally:
        t.stop()
    # the collection went on and ended normally once released
    assert t.proc.returncode == 0, t.proc.stderr.read().decode()[-2000:]
    res = json.loads(t.proc.stdout.read().decode().strip().splitlines()[-1])
    assert res["collected"] >= 2 * 40 if mode == "finalize" else res["collected"] >= 40, res
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    status = out.split("\ninterpreter 0:\n")[0]
    assert "  collection running: yes" in status, status
    m = re.search(r"^    thread: \d+ \(LWP (\d+)\) tstate 0x[0-9a-f]+ \[found by (.*)\]$", status, re.M)
    assert m, status
    assert int(m.group(1)) == t.report["worker_native_id"], status
    return status, m.group(2)


@pytest.mark.parametrize("mode", MODES)
def test_finalizer_phase(interp, mode, tmp_path):
    dwarf = check_debuginfo(interp, mode)
    status, how = run_phase(interp, tmp_path, "finalize", dwarf)
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
    status, how = run_phase(interp, tmp_path, "clear", dwarf)
    assert how == ("collector frame" if dwarf else "type slot frame"), status
    assert re.search(r"^    phase: tp_clear \[frame #\d+ SlowClear_clear\]$", status, re.M), status
    assert re.search(r"^    tp_clear of type: gcxt\.SlowClear \[frame #\d+ SlowClear_clear\]$",
                     status, re.M), status
    assert re.search(r"^    object: gcxt\.SlowClear object at 0x[0-9a-f]+, refcount \d+ "
                     r"\[op in frame #\d+ SlowClear_clear\]$", status, re.M), status
    if dwarf:
        # 3.13's gc_collect_main has no `generation` local (test_gdb_crash.py)
        assert "    generation: 2\n" in status or interp.version[:2] == (3, 13), status
