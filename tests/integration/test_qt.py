# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""--owners on the real Qt bindings (issue 8, items 1, 2, 6): a QObject's
owner is the thread it lives in when it dies, read from Qt itself through
the sip or shiboken wrapper, so moveToThread() counts.

tests/programs/qt_affinity.py keeps its own account (native tids of every
thread, what it made, moved and collected where); gcscope's findings must
equal it exactly.
"""
import os
import signal
import subprocess

import pytest

from harness import Target, trace_late, trace_target

BINDINGS = ["PyQt5", "PyQt6", "PySide2", "PySide6"]
# Debian package of each binding, for the skip message
PACKAGES = {"PyQt5": "python3-pyqt5", "PyQt6": "python3-pyqt6", "PySide2": "python3-pyside2.qtcore",
            "PySide6": "python3-pyside6.qtcore"}


def chroot_why(interp, package):
    """Why a binding does not import in a chroot: the suite's package is
    built for other python3 versions, or the suite has none (sid dropped
    PySide2), which tests/targets/chroot.sh then does not ask for."""
    try:
        with open(os.path.join(interp.root, "var/lib/dpkg/status")) as f:
            installed = f"Package: {package}\n" in f.read()
    except OSError as e:
        return f"cannot read the chroot's dpkg status: {e}"
    if installed:
        return (f"{package} is installed in its chroot, but built for the suite's other python3 "
                f"versions only")
    return (f"{package} is not in its chroot: tests/targets/chroot.sh installs what the suite "
            f"ships, and it has no {package}")


def needs(interp, binding):
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no way to find the collected set")
    r = subprocess.run(interp.argv("-c", f"import {binding}.QtCore"), capture_output=True, text=True,
                       timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if r.returncode:
        # Debian builds each binding for its suite's python3 versions only
        # (and their -d builds: PySide6's abi3 modules load in 3.13d-3.15d)
        if r.returncode < 0:
            # PySide2 5.15 in trixie's python3.13d: an assertion on a
            # static builtin type it modifies (Objects/typeobject.c)
            why = (f"importing {PACKAGES[binding]}'s module kills the interpreter "
                   f"({signal.Signals(-r.returncode).name})")
        elif "chroot" in interp.tags:
            why = chroot_why(interp, PACKAGES[binding])
        elif "freethreaded" in interp.tags:
            why = (f"Debian builds {PACKAGES[binding]} for its own GIL python3 only; a free-threaded "
                   f"build loads only extensions built for its own ABI (cp3XXt), and Debian ships none")
        elif "pyenv" in interp.tags:
            why = f"Debian's {PACKAGES[binding]} is built for Debian's own python3, not for pyenv builds"
        elif binding == "PySide6":
            why = ("Debian bookworm has no PySide6 (python3-pyside6.qtcore is in trixie and sid: the "
                   "trixie-3.13 and sid-3.14/3.15 entries test it)")
        else:
            why = f"Debian's {PACKAGES[binding]} is not installed (tests/deps.sh installs it)"
        pytest.skip(f"{interp.name}: {binding} is not importable: {why}: "
                    f"{' '.join(r.stderr.strip().splitlines()[-1:])}")


def run(gcscope, interp, tmp_path, binding, mode, owners, n=20):
    return trace_target(gcscope, interp, tmp_path, "qt_affinity.py", (binding, mode, n),
                        ("--owners", owners), env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def findings(records):
    return [r for r in records if r["type"] == "finding"]


def gadgets_died(records):
    """Gadgets each collecting thread's collections destroyed (--types counts)."""
    out = {}
    for r in records:
        if r["type"] == "collection" and r.get("types", {}).get("Gadget"):
            out[r["tid"]] = out.get(r["tid"], 0) + r["types"]["Gadget"]
    return out


# mode -> (findings expected, the thread they live in: a report key)
SCENARIOS = {
    "worker": (True, "main_tid"),         # made on main, collected on a worker
    "workaround": (False, None),          # pyqtgraph's GUI-thread collection
    "to_main": (False, None),             # made on a worker, moved to main, collected on main
    "to_worker": (True, "worker_tid"),    # made on main, moved to a QThread, collected on main
}


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("mode", list(SCENARIOS))
def test_qt_affinity(gcscope, interp, tmp_path, binding, mode):
    """--owners @qt: no allocator hooked; the owner is read at death."""
    needs(interp, binding)
    attach, report, records = run(gcscope, interp, tmp_path, binding, mode, "@qt")
    expect, lives = SCENARIOS[mode]
    f = findings(records)
    # every Gadget died, in collections on the thread the program says
    assert report["gadgets"] == 40
    assert gadgets_died(records) == {report["collector_tid"]: 40}
    if mode.startswith("to_"):
        assert report["moved"] == 40
    if not expect:
        assert f == []
        return
    assert len(f) == 40
    assert len({r["object"] for r in f}) == 40
    assert {r["object_type"] for r in f} == {"Gadget"}
    assert {r["owner"] for r in f} == {"qt_affinity"}
    assert {r["owner_tid"] for r in f} == {report[lives]}
    assert {r["tid"] for r in f} == {report["collector_tid"]}
    assert report[lives] != report["collector_tid"]
    # @qt alone records no creators
    assert {r["created_tid"] for r in f} == {None}
    s = [r for r in records if r["type"] == "summary"][0]
    assert s["findings"]["total"] == 40
    assert [(p["owner_tid"], p["tid"], p["count"]) for p in s["findings"]["by_pair"]] == \
        [(report[lives], report["collector_tid"], 40)]


@pytest.mark.parametrize("binding", BINDINGS)
def test_qt_verdict_after_target_exit(gcscope, interp, tmp_path, binding):
    """gcscope reads its ring buffer only once the program has exited: that
    Gadget is a QObject subclass is decided from what BPF read of the type
    and its bases while they existed (their tp_name: the binding's QObject
    by its module-qualified name), and every finding is still there."""
    needs(interp, binding)
    target = Target(interp, tmp_path, "qt_affinity.py", binding, "worker", 20,
                    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    _attach, report, records = trace_late(gcscope, target, ("--owners", "@qt"))
    f = findings(records)
    assert report["gadgets"] == 40
    assert len(f) == 40, gadgets_died(records)
    assert {r["object_type"] for r in f} == {"Gadget"}
    assert {r["owner_tid"] for r in f} == {report["main_tid"]}
    assert {r["tid"] for r in f} == {report["collector_tid"]}


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("mode", ["worker", "to_main", "to_worker"])
def test_qt_pattern_has_creator(gcscope, interp, tmp_path, binding, mode):
    """--owners Gadget: the class is watched by name, its creators recorded
    (PySide's instances come from PyObject_GC_New: PyObject_GC_Track is
    where gcscope sees them), and its owner is still where it lives."""
    needs(interp, binding)
    attach, report, records = run(gcscope, interp, tmp_path, binding, mode, "Gadget")
    expect, lives = SCENARIOS[mode]
    f = findings(records)
    assert gadgets_died(records) == {report["collector_tid"]: 40}
    if not expect:
        # the creator rule alone would report all 40 of to_main
        assert f == []
        return
    assert len(f) == 40
    assert {r["owner_tid"] for r in f} == {report[lives]}
    assert {r["created_tid"] for r in f} == {report["made_tid"]}
    assert all(r["created_ns"] for r in f)


def test_untracked_types_say_so(gcscope, interp, tmp_path):
    """Watched objects made before gcscope attached die on a worker: no
    finding can be made, and gcscope says so in one line, not a silent 0.
    A free-threaded build reads their owner from their heap instead: every
    one is a finding (test_objects.py test_made_before_attach)."""
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no way to find the collected set")
    from harness import Gcscope, Target
    target = Target(interp, tmp_path, "qt_affinity.py", "none", "premade", 20,
                    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    g = Gcscope(gcscope, "trace", "-j", "-p", target.pid, "--owners", "Plain")
    try:
        g.wait_attached()
        target.go()
        report = target.report()
        records = g.finish()
    finally:
        target.kill()
    assert g.proc.returncode == 0, g.stderr
    died = sum(r.get("types", {}).get("Plain", 0) for r in records if r["type"] == "collection")
    assert died == report["plains"] == 40
    if "freethreaded" in interp.tags:
        f = findings(records)
        assert {(r["owner"], r["owner_tid"], r["tid"]) for r in f} == {
            ("heap", report["main_tid"], report["collector_tid"])} and len(f) == 40
        assert [r["findings"]["owners_unknown"] for r in records if r["type"] == "summary"] == [0]
        assert "without seeing any made" not in g.stderr
        return
    assert findings(records) == []
    # each of them counted as an object of unknown owner, in its collection
    assert sum(r.get("owners_unknown", 0) for r in records if r["type"] == "collection") == 40
    assert [r["findings"]["owners_unknown"] for r in records if r["type"] == "summary"] == [40]
    lines = [l for l in g.stderr.splitlines() if "without seeing any made" in l]
    assert len(lines) == 1, g.stderr
    assert "40 objects of 1 watched type" in lines[0] and ": Plain (" in lines[0], lines[0]


@pytest.mark.parametrize("binding", BINDINGS)
def test_qt_plain_qobject_pattern(gcscope, interp, tmp_path, binding):
    """--owners QObject selects every binding's QObject subclasses, PySide's
    too (whose tp_name is "PySide2.QtCore.QObject")."""
    needs(interp, binding)
    attach, report, records = run(gcscope, interp, tmp_path, binding, "worker", "QObject")
    f = findings(records)
    assert len(f) == 40
    assert {r["owner_tid"] for r in f} == {report["main_tid"]}
    assert {r["created_tid"] for r in f} == {report["made_tid"]}
