# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Cores with memory cut off or zeroed (issue 11), made from a real target.

A gcore of heap_program.py is rewritten as the kernel lays a core out
(corekit.kernel_layout: notes first), then cut short at the runtime's page
or in the segment of an object on generation 2's list (moved to the end of
the file first), or has those regions zeroed.  On a free-threaded build the
census of the mimalloc heaps skips and names the pages it cannot read.  Every py-gc-* command must finish with its normal output or one
line saying what is wrong, never a traceback; memory that the core's headers
describe but its file lacks is named as missing (gdb would silently read the
executable's initial .data there: "the runtime is not initialized"); and
`gcscope core` exits with the documented code (docs/exit-codes.md).
"""
import os
import re
import subprocess

import pytest

import corekit
import gdbutil

EXIT_NOT_PYTHON, EXIT_CORE_INCOMPLETE = 4, 9
MISSING = r"memory missing from the core: (0x[0-9a-f]+ is in a segment that .* does not hold|no symbol _PyRuntime)"


def commands(t):
    return ["py-gc-status", "py-gc-census all", "py-gc-collecting", "py-gc-garbage",
            "py-gc-types", "py-gc-object %d" % t.report["old_addr"]]


@pytest.fixture
def heap_core(interp, tmp_path):
    """(target, kernel-layout core, &_PyRuntime) of heap_program.py."""
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path))
    corekit.kernel_layout(core)
    out, err = gdbutil.run_gdb(interp, ["python import gcscope_layout as L; "
                                        "print('RUNTIME %d' % L.symbol_address('_PyRuntime'))"],
                               core=core)
    m = re.search(r"^RUNTIME (\d+)$", out, re.M)
    assert m, out + err
    yield t, core, int(m.group(1))
    os.unlink(core)


def run_all(interp, t, core):
    out, err = gdbutil.run_gdb(interp, commands(t), core=core, timeout=300)
    assert "Traceback" not in out + err, err
    assert "internal error" not in err, err
    lines = {}
    for ln in err.splitlines():
        m = re.match(r"^(py-gc-[a-z]+): (.*)$", ln)
        if m:
            assert m.group(1) not in lines, "two lines from %s:\n%s" % (m.group(1), err)
            lines[m.group(1)] = m.group(2)
    return out, lines


def gcscope_core(core, interp):
    gcscope = os.environ.get("GCSCOPE", os.path.join(gdbutil.REPO, ".output", "gcscope"))
    if not os.access(gcscope, os.X_OK):
        pytest.skip("gcscope is not built")
    env = dict(gdbutil.clean_env(), GCSCOPE_GDB_DIR=os.path.join(gdbutil.REPO, "gdb"))
    if interp.root != "/":
        env["GCSCOPE_SYSROOT"] = interp.root
    return subprocess.run([gcscope, "core", core, interp.host_path], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)


def test_intact(interp, heap_core):
    """The rewritten core reads as the original: the layout change is sound."""
    t, core, _rt = heap_core
    out, lines = run_all(interp, t, core)
    assert lines == {}, lines
    st = gdbutil.parse_status(out)
    assert st["counts"] == " ".join(t.ready[1:4]), out
    census, _totals = gdbutil.parse_census(out)
    if t.report["free_threaded"]:
        # no generations: the mimalloc heaps' census (test_gdb_heap.py)
        for cls in ("Old", "Mid", "Young", "Orphan"):
            assert census["heaps"][cls] == t.report["created"][cls], (cls, census["heaps"])
    else:
        assert census["generation 2"] == t.report["census"][2]
    r = gcscope_core(core, interp)
    assert r.returncode == 0, r.stderr[-2000:]


def test_runtime_cut_off(interp, heap_core):
    """Cut where the runtime's page starts: every command that needs the
    runtime says its memory is missing, and gcscope core exits 9."""
    t, core, rt = heap_core
    corekit.truncate_at(core, rt)
    out, lines = run_all(interp, t, core)
    for cmd in ("py-gc-status", "py-gc-census", "py-gc-collecting", "py-gc-garbage", "py-gc-types"):
        assert re.match(MISSING, lines.get(cmd, "")), (cmd, lines)
    assert "not initialized" not in out + "".join(lines.values())
    assert "py-gc-object" not in lines or re.match(MISSING, lines["py-gc-object"]), lines
    r = gcscope_core(core, interp)
    assert r.returncode == EXIT_CORE_INCOMPLETE, r.stderr[-2000:]
    assert re.search(r"^gcscope: .* is truncated: it holds .* of the .* its headers describe", r.stderr,
                     re.M), r.stderr


def test_heap_cut_off(interp, heap_core):
    """The segment holding an object of generation 2 is cut at that object's
    page (put last in the file, so every other segment is whole): the
    runtime is there, part of the list's objects are not; what reads them
    says so."""
    t, core, rt = heap_core
    old = t.report["old_addr"]
    _off, seg_old = corekit.file_offset(core, old)
    _off, seg_rt = corekit.file_offset(core, rt)
    if seg_old == seg_rt:
        pytest.skip("%s: the object is in the runtime's segment" % interp.name)
    corekit.kernel_layout(core, last=old)
    corekit.truncate_at(core, old)
    out, lines = run_all(interp, t, core)
    if t.report["free_threaded"]:
        # the pages past the end are skipped, named, and the rest counted
        m = re.search(r"^heaps: \d+ objects, \d+ types \(INCOMPLETE: (heap of thread state "
                      r"0x[0-9a-f]+: |abandoned segment 0x[0-9a-f]+: )?" + MISSING, out, re.M)
        assert m, out
        census, _totals = gdbutil.parse_census(out)
        assert census["heaps"].get("Old", 0) < t.report["created"]["Old"], census["heaps"]
    else:
        # each list is counted up to its first object past the end, and says so
        assert re.search(r"^generation 2: \d+ objects, \d+ types \(INCOMPLETE: " + MISSING, out,
                         re.M), out
        assert not re.search(r"^generation 2: .*bad link", out, re.M), out
    assert re.match(MISSING, lines.get("py-gc-object", "")), lines
    for cmd, line in lines.items():
        assert re.match(MISSING, line) or re.search(r"cannot read|broken GC list", line), (cmd, line)
    r = gcscope_core(core, interp)
    assert r.returncode == EXIT_CORE_INCOMPLETE, r.stderr[-2000:]
    assert re.search(r"\(1 of \d+ memory segments cut off\)", r.stderr), r.stderr


def test_runtime_zeroed(interp, heap_core):
    """The runtime's memory is there but zero: one line per command (it
    reads as a runtime that is not initialized), no traceback."""
    t, core, rt = heap_core
    _off, seg = corekit.file_offset(core, rt)
    corekit.zero(core, rt, min(256 << 10, seg[3] + seg[5] - rt))
    out, lines = run_all(interp, t, core)
    for cmd in ("py-gc-status", "py-gc-census", "py-gc-collecting", "py-gc-garbage", "py-gc-types"):
        assert re.search(r"not initialized|cannot read|no Python here|not supported|makes no sense",
                         lines.get(cmd, "")), (cmd, out, lines)
    r = gcscope_core(core, interp)
    assert r.returncode == EXIT_NOT_PYTHON, r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr


def test_heap_zeroed(interp, heap_core):
    """64 KiB of zeros where generation 2's objects are: the list is broken
    there, and the censuses say so in their lines."""
    t, core, rt = heap_core
    old = t.report["old_addr"]
    base = old & ~0xffff
    _off, seg = corekit.file_offset(core, old)
    base = max(base, seg[3])
    if base <= rt < base + (64 << 10):
        pytest.skip("the runtime is in the same 64 KiB")
    corekit.zero(core, base, min(64 << 10, seg[3] + seg[5] - base))
    out, lines = run_all(interp, t, core)
    if t.report["free_threaded"]:
        # zeroed blocks read as untracked ones (ob_gc_bits 0), as the
        # collector would read them: not counted
        census, _totals = gdbutil.parse_census(out)
        assert census["heaps"].get("Old", 0) < t.report["created"]["Old"], census["heaps"]
        assert census["heaps"]["Orphan"] == t.report["created"]["Orphan"], census["heaps"]
    else:
        assert re.search(r"^generation 2: \d+ objects, \d+ types \(INCOMPLETE: broken GC list at "
                         r"0x[0-9a-f]+: bad link 0x0 after \d+ objects\)$", out, re.M), out
    assert "does not look like a PyObject" in lines.get("py-gc-object", ""), lines
    r = gcscope_core(core, interp)
    assert "Traceback" not in r.stdout + r.stderr
