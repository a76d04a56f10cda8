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

The live checks run through `gcscope gdb`, with two gdbs: "default", the one
gcscope chooses (user/gdbpick.c: the first that can make inferior calls
here), and "trixie", the gdb 16 of the trixie chroot (tests/targets/chroot.sh
installs it), which gcscope falls back on where Debian 12's gdb 13.1 cannot
make calls (Intel AMX).  A gdb that cannot make the call FAILS the test; a
test skips only when no gdb that can make calls can be had at all (the
trixie chroot cannot be made and the system gdb cannot call).
"""
import functools
import json
import os
import re
import subprocess

import pytest

import gdbutil
import matrix
from test_gdb_crash import build_ext

GDBS = ["default", "trixie"]


@functools.lru_cache(maxsize=None)
def trixie_gdb():
    """(path of the trixie chroot's gdb, "") or (None, why it cannot be had)."""
    if os.environ.get("GCSCOPE_NO_CHROOTS"):
        return None, "GCSCOPE_NO_CHROOTS is set"
    root, why = matrix.chroot("trixie")
    if why:
        return None, f"no trixie chroot: {why}"
    return os.path.join(root, "usr", "bin", "gdb"), ""


def describe(which):
    return "; ".join("gdb %s (%s): %s" % (c["version"] or "?", c["path"],
                                          "calls work" if c["calls"] else c["why"])
                     for c in which["candidates"]) or "no gdb found"


def gdb_for(kind):
    """(GCSCOPE_GDB for the variant, None for gcscope's own choice; its
    version), once it is known to make inferior calls here; fails when it
    cannot."""
    if not os.access(gdbutil.GCSCOPE, os.X_OK):
        pytest.fail(f"{gdbutil.GCSCOPE} is not built: run make")
    tgdb, why_not = trixie_gdb()
    if tgdb is not None and not os.access(tgdb, os.X_OK):
        pytest.fail(f"{tgdb} is missing: tests/targets/chroot.sh trixie installs gdb in the chroot")
    default = gdbutil.which_gdb()
    chosen = gdbutil.chosen_gdb(default)
    if kind == "default":
        if chosen and chosen["calls"]:
            return None, chosen["version"]
        if tgdb is None:
            pytest.skip("no gdb here can make inferior calls (%s), and the trixie chroot's gdb 16 "
                        "cannot be had: %s" % (describe(default), why_not))
        pytest.fail("gcscope chose no gdb that can make inferior calls, though the trixie "
                    "chroot's gdb is there: " + describe(default))
    if tgdb is None:
        pytest.skip(f"the trixie chroot's gdb cannot be had: {why_not}")
    if chosen and os.path.realpath(chosen["path"]) == os.path.realpath(tgdb):
        pytest.skip("gcscope's own choice is the trixie gdb: tested as [default]")
    forced = gdbutil.which_gdb(tgdb)
    c = forced["candidates"][0] if forced["candidates"] else None
    assert c and c["calls"], "the trixie gdb cannot make inferior calls here: " + describe(forced)
    assert c["version"].split(".")[0].isdigit() and int(c["version"].split(".")[0]) >= 14, c
    return tgdb, c["version"]


def start(interp, tmp_path):
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    return gdbutil.start(interp, tmp_path, "types_program.py", interp.inside(scratch),
                         scratch=scratch)


def row(text, name):
    m = re.search(r"^  %s +0x[0-9a-f]+  (.*)  \((\d+) tracked instances\)$" % re.escape(name),
                  text, re.M)
    return (m.group(1), int(m.group(2))) if m else (None, None)


def run_checks(interp, tmp_path, commands, kind):
    """`gcscope gdb` with COMMANDS on a live types_program.py; (gdb's stdout,
    the report) once the program has exited, normally: the calls did not
    hurt it.  A call that cannot be made (py-gc-types: --check-traverse:
    cannot set up the call ...) fails here."""
    gdb, version = gdb_for(kind)
    t = start(interp, tmp_path)
    argv = [gdbutil.GCSCOPE, "gdb", "-p", str(t.pid), "--batch", "-nx",
            "-iex", "set debuginfod enabled off"]
    for c in ["python print('gcscope-test-gdb ' + gdb.VERSION)"] + commands:
        argv += ["-ex", c]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                           env=gdbutil.gcscope_env(gdb), stdin=subprocess.DEVNULL)
    finally:
        t.stop()
    out, err = r.stdout, r.stderr
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    assert r.returncode == 0, err
    assert t.proc.returncode == 0, t.proc.stderr.read().decode()[-2000:]
    assert json.loads(t.proc.stdout.read().decode().strip().splitlines()[-1])["alive"] == 20
    # the gdb of the variant is the one that ran
    assert re.search(r"^gcscope-test-gdb %s$" % re.escape(version), out, re.M), out
    if gdb:
        assert "gcscope: gdb:" not in err, err
    return out, t.report


@pytest.mark.parametrize("gdbkind", GDBS)
def test_check_traverse_live(interp, tmp_path, gdbkind):
    # the process survives both runs, the aborting call included
    out, report = run_checks(interp, tmp_path, ["py-gc-types --check-traverse --all", "thread 2",
                                                "py-gc-types --check-traverse"], gdbkind)

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


@pytest.mark.parametrize("gdbkind", GDBS)
def test_check_traverse_with_user_breakpoint(interp, tmp_path, gdbkind):
    """A breakpoint of the user's on a traverse the check calls: the calls
    run without stopping, the breakpoint is enabled again afterwards, and
    the process lives on (calls piled up under a breakpoint, then the
    visitproc unmapped under them, once killed it)."""
    out, report = run_checks(interp, tmp_path, ["break subtype_traverse", "break Unsendable_traverse",
                                                "py-gc-types --check-traverse --all",
                                                "info breakpoints"], gdbkind)
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
