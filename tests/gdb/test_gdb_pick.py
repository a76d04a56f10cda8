# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Which gdb `gcscope gdb` runs (user/gdbpick.c), and what doctor says of it.

The gdb that cannot make inferior calls here is real: the system gdb with
`set may-call-functions off` (a wrapper named gdb, first on PATH), which
refuses every call as gdb 13 does on an AMX CPU, if with another message.
gcscope must then fall back on a chroot's gdb (the trixie chroot's gdb 16,
made by tests/targets/chroot.sh, or one found before it), say so in one line, and --check-traverse must work
through it; doctor must say what --which says.
"""
import json
import os
import re
import subprocess

import pytest

import gdbutil
import matrix
from test_gdb_types import describe, row, start, trixie_gdb

NO_CALLS = "Cannot call functions in the program: may-call-functions is off."


def gcscope():
    if not os.access(gdbutil.GCSCOPE, os.X_OK):
        pytest.fail(f"{gdbutil.GCSCOPE} is not built: run make")
    return gdbutil.GCSCOPE


def no_calls_path(tmp_path):
    """PATH whose first gdb is the system's, unable to make calls."""
    d = tmp_path / "nocalls"
    d.mkdir()
    w = d / "gdb"
    w.write_text('#!/bin/sh\nexec /usr/bin/gdb -iex "set may-call-functions off" "$@"\n')
    w.chmod(0o755)
    return "%s:%s" % (d, os.environ.get("PATH", "/usr/bin:/bin"))


def need_trixie():
    tgdb, why = trixie_gdb()
    if tgdb is None:
        pytest.skip(f"the trixie chroot's gdb cannot be had: {why}")
    return tgdb


def test_which_chooses_a_gdb_that_calls():
    w = gdbutil.which_gdb()
    c = gdbutil.chosen_gdb(w)
    assert c is not None, w
    # the ones tried before it cannot call; it is the first that can
    for before in w["candidates"][:w["chosen"]]:
        assert before["calls"] is False and before["why"], w
    if not c["calls"]:
        tgdb, why = trixie_gdb()
        if tgdb is None:
            pytest.skip("no gdb here can make inferior calls (%s) and the trixie chroot cannot be "
                        "had: %s" % (describe(w), why))
        pytest.fail("no gdb chosen that can make inferior calls: " + describe(w))
    assert re.match(r"^\d+\.\d+", c["version"]), c
    r = subprocess.run([gcscope(), "gdb", "--which"], capture_output=True, text=True, timeout=300,
                       env=gdbutil.gcscope_env())
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\* gdb %s \(%s\).*: can make inferior calls here$"
                     % (re.escape(c["version"]), re.escape(c["path"])), r.stdout, re.M), r.stdout


def test_fallback_to_a_gdb_that_calls(tmp_path):
    """The first gdb cannot call: the trixie gdb is chosen, with one line saying
    so, and py-gc-types --check-traverse works through it on a host process."""
    tgdb = need_trixie()
    env = dict(gdbutil.gcscope_env(), PATH=no_calls_path(tmp_path))
    r = subprocess.run([gcscope(), "gdb", "--which", "-j"], capture_output=True, text=True,
                       timeout=300, env=env)
    w = json.loads(r.stdout)
    first, c = w["candidates"][0], gdbutil.chosen_gdb(w)
    assert first["calls"] is False and first["why"] == NO_CALLS, w
    # a chroot of the cache: trixie's, or another one's gdb found before it (sid's, if there)
    chroots = os.path.dirname(os.path.realpath(tgdb).rsplit("/usr/bin/gdb", 1)[0])
    assert c["calls"] is True and os.path.dirname(c["root"]) == chroots, w
    assert c["path"] == os.path.join(c["root"], "usr", "bin", "gdb"), w
    assert c["argv"][0].startswith(c["root"] + "/") and c["argv"][-1] == c["path"], c

    interp = next(i for i in matrix.interpreters() if i.name == "debian-3.11")
    if interp.missing:
        pytest.skip(f"{interp.name}: {interp.missing}")
    t = start(interp, tmp_path)
    try:
        r = subprocess.run([gcscope(), "gdb", "-p", str(t.pid), "--batch", "-nx",
                            "-iex", "set debuginfod enabled off",
                            "-ex", "py-gc-types --check-traverse"],
                           capture_output=True, text=True, timeout=300, env=env,
                           stdin=subprocess.DEVNULL)
    finally:
        t.stop()
    note = [ln for ln in r.stderr.splitlines() if ln.startswith("gcscope: gdb:")]
    assert note == ["gcscope: gdb: using gdb %s (%s), run by its own root's loader: gdb %s (%s) "
                    "cannot make inferior calls here (%s), which py-gc-types --check-traverse needs"
                    % (c["version"], c["path"], first["version"], first["path"], NO_CALLS)], r.stderr
    assert r.returncode == 0, r.stderr
    assert not re.search(r"^py-gc-\S+: ", r.stderr, re.M), r.stderr
    assert row(r.stdout, "gcxt.NoTypeVisit") == (
        "tp_traverse does not visit its type (it visited 1 other objects)",
        t.report["tracked"]["NoTypeVisit"]), r.stdout
    # our libthread_db, not the trixie one: thread debugging of a host process works
    assert "Thread debugging using libthread_db enabled" in r.stdout, r.stdout


def test_no_gdb_calls_is_said(tmp_path):
    """Only a gdb that cannot call: one line says --check-traverse will not work."""
    env = dict(gdbutil.gcscope_env(), PATH=no_calls_path(tmp_path),
               GCSCOPE_CACHE=str(tmp_path / "empty-cache"))
    env.pop("XDG_CACHE_HOME", None)
    with subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(60)"]) as p:
        try:
            r = subprocess.run([gcscope(), "gdb", "-p", str(p.pid), "--batch", "-nx",
                                "-iex", "set debuginfod enabled off", "-ex", "py-gc-status"],
                               capture_output=True, text=True, timeout=300, env=env,
                               stdin=subprocess.DEVNULL)
        finally:
            p.kill()
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("gcscope: gdb:")]
    assert len(lines) == 1 and re.fullmatch(
        r"gcscope: gdb: gdb [0-9.]+ \(%s\) cannot make inferior calls here \(%s\), and no other "
        r"gdb was found that can: py-gc-types --check-traverse will not work; give a gdb 14 or "
        r"later with GCSCOPE_GDB=PATH \(docs/gdb.md\)"
        % (re.escape(str(tmp_path / "nocalls" / "gdb")), re.escape(NO_CALLS)), lines[0]), r.stderr
    # the session itself ran, the commands loaded
    assert r.returncode == 0 and re.search(r"^Python 3\.\d+\.\d+ \(offsets: ", r.stdout, re.M), r


@pytest.mark.parametrize("forced", [False, True])
def test_doctor_says_which_gdb(tmp_path, forced):
    env = gdbutil.gcscope_env(need_trixie() if forced else None)
    w = gdbutil.which_gdb(env.get("GCSCOPE_GDB"))
    c = gdbutil.chosen_gdb(w)
    with subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(60)"]) as p:
        try:
            r = subprocess.run([gcscope(), "doctor", "-j", "-p", str(p.pid)], capture_output=True,
                               text=True, timeout=300, env=env)
            t = subprocess.run([gcscope(), "doctor", "-p", str(p.pid)], capture_output=True,
                               text=True, timeout=300, env=env)
        finally:
            p.kill()
    d = json.loads(r.stdout)
    assert d["gdb_calls"] is c["calls"], (d, w)
    assert d["gdb_detail"].startswith("gdb %s (%s)" % (c["version"], c["path"])), d
    if c["calls"]:
        assert "inferior calls work (py-gc-types --check-traverse)" in d["gdb_detail"], d
    assert re.search(r"^  gdb           %s$" % re.escape(d["gdb_detail"]), t.stdout, re.M), t.stdout
