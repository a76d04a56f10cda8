# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Broken GC lists and a corrupt gc.garbage (programs/corrupt_program.py), live and on a core.

The permanent generation loops without coming back to its head, generation 1
has a 0x10 link, gc.garbage claims 2**27 items.  Every command must finish
(a timeout is a failure), name the broken list in one line, still give the
exact counts of the lists left intact, and never show a traceback.
"""
import os
import re

import pytest

import gdbutil

TIMEOUT = 120       # the unfixed walk spun forever on the loop


def commands(t):
    return ["py-gc-census all --top 0", "py-gc-types --all", "py-gc-status",
            "py-gc-garbage", "py-gc-collecting", "py-gc-object %d" % t.report["bad_addr"]]


def run(interp, t, **kw):
    try:
        return gdbutil.run_gdb(interp, commands(t), timeout=TIMEOUT, **kw)
    except gdbutil.subprocess.TimeoutExpired:
        pytest.fail("gdb did not finish within %ds (a walk spins on the broken list)" % TIMEOUT)


def check(t, out, err):
    rep = t.report
    assert "Traceback" not in out + err, err
    assert "internal error" not in err, err
    census, totals = gdbutil.parse_census(out)
    # the intact lists: exact
    assert census["generation 2"] == rep["census"][2], out
    assert totals["generation 2"] == sum(rep["census"][2].values())
    assert census["generation 0"]["Young"] == rep["created"]["Young"]
    assert not re.search(r"^generation [02]: .*INCOMPLETE", out, re.M), out
    # generation 1: counted up to the object whose link is 0x10, and said so
    assert re.search(r"^generation 1: %d objects, \d+ types \(INCOMPLETE: broken GC list at "
                     r"0x[0-9a-f]+: bad link 0x10 after %d objects\)$"
                     % (rep["gen1_before_bad"], rep["gen1_before_bad"]), out, re.M), out
    # the permanent generation loops: stopped early, not after 50 million objects
    m = re.search(r"^permanent generation: (\d+) objects, \d+ types \(INCOMPLETE: broken GC "
                  r"list at 0x[0-9a-f]+: loops after (\d+) objects\)$", out, re.M)
    assert m, out
    assert int(m.group(1)) == int(m.group(2)) < 4 * rep["freeze_count"]
    # py-gc-types: both broken lists named, the command still reports
    assert re.search(r"^  generation 1: INCOMPLETE after \d+ objects: broken GC list at 0x[0-9a-f]+: "
                     r"bad link 0x10 after \d+ objects", out, re.M), out
    assert re.search(r"^  permanent generation: INCOMPLETE after \d+ objects: broken GC list at "
                     r"0x[0-9a-f]+: loops after \d+ objects", out, re.M), out
    assert re.search(r"^interpreter 0: \d+ heap types, \d+ not cooperating", out, re.M), out
    # py-gc-status says the frozen list is broken, in its line, and goes on
    assert re.search(r"^  frozen \(permanent generation\): unknown \(broken GC list at "
                     r"0x[0-9a-f]+: loops after \d+ objects\)$", out, re.M), out
    assert not re.search(r"^py-gc-status: ", err, re.M), err
    # gc.garbage's ob_size is refused, without reading 1 GiB
    assert re.search(r"^py-gc-garbage: list at 0x%x has an impossible size %d " % (
        rep["garbage_addr"], 1 << 27), err, re.M), err
    assert re.search(r"^  collection running: no$", out, re.M), out
    # py-gc-object finds nothing past the break, without hanging
    assert "object 0x%x" % rep["bad_addr"] in out


def test_live(interp, tmp_path):
    t = gdbutil.start(interp, tmp_path, "corrupt_program.py")
    try:
        out, err = run(interp, t, pid=t.pid)
    finally:
        t.stop()
    check(t, out, err)


def test_gcore(interp, tmp_path):
    t = gdbutil.start(interp, tmp_path, "corrupt_program.py")
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path))
    try:
        out, err = run(interp, t, core=core)
    finally:
        os.unlink(core)
    check(t, out, err)


def test_options_and_interrupt(interp, tmp_path):
    """--top/--limit values (parse_args), and Ctrl-C in a census stops the command after printing."""
    t = gdbutil.start(interp, tmp_path, "corrupt_program.py")
    script = os.path.join(str(tmp_path), "interrupt.py")
    with open(script, "w") as f:
        f.write(INTERRUPT)
    try:
        out, err = gdbutil.run_gdb(interp, [
            "py-gc-census 2 --top -1",
            "py-gc-census 2 --limit 08 --top 0x2",
            "source " + script,
            "py-gc-census all --top 0",
            "python ALL_TYPES()"], pid=t.pid, timeout=TIMEOUT)
    finally:
        t.stop()
    assert "Traceback" not in out + err, err
    assert re.search(r"^py-gc-census: --top needs a number >= 0, not -1$", err, re.M), err
    # --limit 08 (decimal with a leading zero) walks 8 objects; --top 0x2 shows two types
    m = re.search(r"^generation 2: 8 objects, (\d+) types \(INCOMPLETE: walk stopped at the "
                  r"limit of 8 objects\)\n((?:  +\d+  .*\n)+)", out, re.M)
    assert m, out
    assert len(m.group(2).splitlines()) == (2 if int(m.group(1)) <= 2 else 3)
    # the interrupt: generation 0 printed with what was counted, then the command stops
    assert re.search(r"^generation 0: 50 objects, \d+ types \(INCOMPLETE: interrupted\)$", out, re.M), out
    assert re.search(r"^py-gc-census: interrupted$", err, re.M), err
    assert out.count("generation 1:") == 0, out
    assert "all_types: KeyboardInterrupt" in out, out


# Makes every GC list walk raise KeyboardInterrupt after 50 objects, as Ctrl-C would.
INTERRUPT = '''
import gcscope_mem
import gcscope_objects
import gcscope_collect

_walk = gcscope_mem.Memory.walk_list


def _interrupting(self, head, *a, **kw):
    for i, node in enumerate(_walk(self, head, *a, **kw)):
        if i == 50:
            raise KeyboardInterrupt
        yield node


gcscope_mem.Memory.walk_list = _interrupting


def ALL_TYPES():
    tgt = gcscope_objects.target()
    try:
        gcscope_collect.all_types(tgt, tgt.main_interp())
        print("all_types: returned")
    except KeyboardInterrupt:
        print("all_types: KeyboardInterrupt")
'''
