# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-types --check-traverse: calling tp_traverse in a live process.

programs/types_program.py holds tracked instances of gcxt.NoTypeVisit (its
tp_traverse visits a field, never Py_TYPE(self), as pre-3.9 code did),
gcxt.Unsendable (visits its type; aborts on a thread that did not create the
object) and a Python class (subtype_traverse visits the type).  The verdict
per type must be exact; from the main thread (the owner) every call works;
from the idle second thread Unsendable's traverse aborts, gdb unwinds the
call, the verdict says so, and the process lives on and exits normally.
On a gcore core the flag is refused in one line; without it, no call is made.
"""
import json
import os
import re

import pytest

import gdbutil
from test_gdb_crash import build_ext


def start(interp, tmp_path):
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    return gdbutil.start(interp, tmp_path, "types_program.py", interp.inside(scratch),
                         scratch=scratch)


def row(text, name):
    m = re.search(r"^  %s +0x[0-9a-f]+  (.*)  \((\d+) tracked instances\)$" % re.escape(name),
                  text, re.M)
    return (m.group(1), int(m.group(2))) if m else (None, None)


def run_checks(interp, tmp_path, commands):
    """gdb COMMANDS on a live types_program.py; (gdb's stdout, the report)
    once the program has exited, normally: the calls did not hurt it."""
    t = start(interp, tmp_path)
    try:
        out, err = gdbutil.run_gdb(interp, commands, pid=t.pid)
    finally:
        t.stop()
    assert "Traceback" not in out + err, err
    if re.search(r"^py-gc-types: --check-traverse: cannot set up the call", err, re.M):
        pytest.skip(f"{interp.name}: gdb cannot make inferior calls here: {err.strip()[-300:]}")
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    assert t.proc.returncode == 0, t.proc.stderr.read().decode()[-2000:]
    assert json.loads(t.proc.stdout.read().decode().strip().splitlines()[-1])["alive"] == 20
    return out, t.report


def test_check_traverse_live(interp, tmp_path):
    # the process survives both runs, the aborting call included
    out, report = run_checks(interp, tmp_path, ["py-gc-types --check-traverse --all", "thread 2",
                                                "py-gc-types --check-traverse"])

    first, second = out.split("[Switching to thread 2")
    n = report["tracked"]
    assert re.search(r"^  tp_traverse called on one instance of each of \d+ types, on thread 1$",
                     first, re.M), first
    assert row(first, "gcxt.NoTypeVisit") == (
        "tp_traverse does not visit its type (it visited 1 other objects)", n["NoTypeVisit"])
    assert row(first, "gcxt.Unsendable") == ("ok, tp_traverse visits its type", n["Unsendable"])
    assert row(first, "Plain") == ("ok, tp_traverse visits its type", n["Plain"])

    assert "on thread 2\n" in second, second
    assert row(second, "gcxt.NoTypeVisit")[0].startswith("tp_traverse does not visit its type")
    assert row(second, "gcxt.Unsendable") == (
        "tp_traverse not checked: it got SIGABRT on thread 2 (call unwound, the process goes on)",
        n["Unsendable"]), second
    assert row(second, "Plain") == (None, None)      # ok rows only with --all


def test_check_traverse_with_user_breakpoint(interp, tmp_path):
    """A breakpoint of the user's on a traverse the check calls: the calls
    run without stopping, the breakpoint is enabled again afterwards, and
    the process lives on (calls piled up under a breakpoint, then the
    visitproc unmapped under them, once killed it)."""
    out, report = run_checks(interp, tmp_path, ["break subtype_traverse", "break Unsendable_traverse",
                                                "py-gc-types --check-traverse --all",
                                                "info breakpoints"])
    n = report["tracked"]
    assert row(out, "gcxt.Unsendable") == ("ok, tp_traverse visits its type", n["Unsendable"]), out
    assert row(out, "Plain") == ("ok, tp_traverse visits its type", n["Plain"]), out
    # both breakpoints listed as enabled again ("breakpoint keep y")
    bps = re.findall(r"^\d+\s+breakpoint\s+keep\s+(\w)\s", out, re.M)
    assert len(bps) == 2 and set(bps) == {"y"}, out


def test_check_traverse_refused(interp, tmp_path):
    t = start(interp, tmp_path)
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path))
    try:
        out, err = gdbutil.run_gdb(interp, ["py-gc-types --check-traverse", "py-gc-types"],
                                   core=core)
    finally:
        os.unlink(core)
    assert "Traceback" not in out + err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("py-gc-")]
    assert lines == ["py-gc-types: --check-traverse calls tp_traverse in the target: it needs "
                     "a live process, not a core file"], err
    # without the flag nothing is called: NoTypeVisit looks fine, statically
    assert "tp_traverse called" not in out
    assert row(out, "gcxt.NoTypeVisit") == (None, None), out
