# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""gcscope trace --types / --owners on real interpreters (issue 3).

Each scenario of tests/programs/owners_program.py keeps its own account;
gcscope's findings and type counts must equal it exactly.
"""
import os

import pytest

import extbuild  # noqa: E402  (tests/extbuild.py)
from harness import Gcscope, Target, trace_late, trace_target


def run_scenario(gcscope, interp, tmp_path, scenario, *trace_args, n=50, extdir=None):
    args = [scenario, n] + ([interp.inside(extdir)] if extdir else [])
    return trace_target(gcscope, interp, tmp_path, "owners_program.py", args, trace_args)


def needs_objects(interp):
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no way to find the collected set "
                    "(gcscope says so: test_no_debuginfo_says_why)")


def findings(records):
    return [r for r in records if r["type"] == "finding"]


def summary(records):
    s = [r for r in records if r["type"] == "summary"]
    assert len(s) == 1
    return s[0]


def type_total(records, name):
    return sum(r.get("types", {}).get(name, 0) for r in records if r["type"] == "collection")


def test_worker_collects_main_threads_cycles(gcscope, interp, tmp_path):
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "worker", "--owners", "Widget")
    f = findings(records)
    assert len(f) == report["widgets"] == 100
    assert {r["object_type"] for r in f} == {"Widget"}
    assert {r["owner_tid"] for r in f} == {report["main_tid"]}
    assert {r["tid"] for r in f} == {report["collector_tid"]}
    assert len({r["object"] for r in f}) == 100
    assert all(r["gen"] == 2 for r in f)
    # the collecting thread's Python stack when the collection started:
    # innermost, the worker's run() at the line calling gc.collect()
    src = open(os.path.join(os.path.dirname(__file__), "..", "programs", "owners_program.py")).read()
    line = src.splitlines().index('        out["collected"] = fn()') + 1
    for r in f:
        top = r["stack"][0]
        assert top["function"] in ("run", "on_worker.<locals>.run"), r["stack"]
        assert top["file"].endswith("owners_program.py") and top["line"] == line, r["stack"]
    # the collection that destroyed them says so too
    coll = [r for r in records if r["type"] == "collection" and r["tid"] == report["collector_tid"]]
    assert sum(r["findings"] for r in coll) == 100
    assert sum(r["types"].get("Widget", 0) for r in coll) == 100
    s = summary(records)
    assert s["findings"]["total"] == 100
    assert s["findings"]["by_pair"] == [{
        "object_type": "Widget", "owner_tid": report["main_tid"], "owner_thread": s["findings"]["by_pair"][0]["owner_thread"],
        "tid": report["collector_tid"], "thread": s["findings"]["by_pair"][0]["thread"], "count": 100}]


def free_threaded(interp):
    return "freethreaded" in interp.tags


def test_made_before_attach(gcscope, interp, tmp_path):
    """Widgets made before gcscope attached (-p), collected on a worker: a
    free-threaded build names their owner from the heap that holds them
    (bpf/objects.bpf.h heap_owner()), every one a finding; a GIL build saw
    none made, and counts them as owners unknown, never as no finding."""
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "premade", "--owners", "Widget")
    f = findings(records)
    s = summary(records)["findings"]
    coll = [r for r in records if r["type"] == "collection" and r["tid"] == report["collector_tid"]]
    assert sum(r["types"].get("Widget", 0) for r in coll) == report["widgets"] == 100
    if free_threaded(interp):
        assert len(f) == 100 and len({r["object"] for r in f}) == 100
        assert {(r["owner"], r["owner_tid"], r["owner_exited"], r["tid"]) for r in f} == {
            ("heap", report["main_tid"], False, report["collector_tid"])}
        assert {r["created_tid"] for r in f} == {None}
        assert s["total"] == s["heap"] == 100 and s["owners_unknown"] == 0
    else:
        assert f == [] and s["total"] == 0
        assert s["owners_unknown"] == sum(r["owners_unknown"] for r in coll) == 100


def test_owner_exited(gcscope, interp, tmp_path):
    """Widgets made by a thread that has exited, collected on the main
    thread: findings either way.  A GIL build recorded the maker; on a
    free-threaded build the maker's heap was abandoned when it exited, so
    its owner is unknown: null, never 0, and owner_exited says why."""
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "exited", "--owners", "Widget")
    f = findings(records)
    assert len(f) == report["widgets"] == 100
    assert {r["tid"] for r in f} == {report["collector_tid"]} == {report["main_tid"]}
    s = summary(records)["findings"]
    if free_threaded(interp):
        assert {(r["owner"], r["owner_tid"], r["owner_thread"], r["owner_exited"]) for r in f} == {
            ("heap", None, None, True)}
        assert s["owner_exited"] == 100
        assert [(p["owner_tid"], p["count"]) for p in s["by_pair"]] == [(None, 100)]
    else:
        assert {(r["owner"], r["owner_tid"], r["owner_exited"]) for r in f} == {
            ("creator", report["maker_tid"], False)}
        assert "owner_exited" not in s


def test_verdict_after_target_exit(gcscope, interp, tmp_path):
    """gcscope reads its ring buffer only once the target has exited (it is
    stopped meanwhile): whether Widget is watched is decided from what BPF
    read of the type while it existed (its name, flags and bases, sent before
    the question), not from the target's memory, which is gone.  Every
    finding is still there."""
    needs_objects(interp)
    target = Target(interp, tmp_path, "owners_program.py", "worker", 50)
    _attach, report, records = trace_late(gcscope, target, ("--owners", "Widget"))
    f = findings(records)
    assert len(f) == report["widgets"] == 100
    assert {r["object_type"] for r in f} == {"Widget"}
    assert {r["owner_tid"] for r in f} == {report["main_tid"]}
    assert {r["tid"] for r in f} == {report["collector_tid"]}


def test_main_collects_its_own_cycles(gcscope, interp, tmp_path):
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "main", "--owners", "Widget")
    assert findings(records) == []
    assert type_total(records, "Widget") == report["widgets"] == 100
    assert summary(records)["findings"]["total"] == 0


def test_churn_types_match(gcscope, interp, tmp_path):
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "churn", "--owners", "@heap", n=40)
    assert findings(records) == []
    assert type_total(records, "Widget") == report["widgets"] == 1600
    assert type_total(records, "Leaf") == report["leaves"] == 400
    colls = [r for r in records if r["type"] == "collection"]
    # every walk complete, and it saw exactly what the collector collected
    assert all(r["walk_complete"] for r in colls if r["objects_seen"] is not None)
    for r in colls:
        if r["objects_seen"] is not None:
            assert r["objects_seen"] == sum(r["types"].values())
    ranked = summary(records)["objects"]["types"]
    names = [t["type"] for t in ranked]
    assert names.index("Widget") < names.index("Leaf")
    w = ranked[names.index("Widget")]
    assert w["objects"] == 1600 and w["collections"] >= 20


def test_address_reuse_is_no_finding(gcscope, interp, tmp_path):
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "reuse", "--owners", "Widget,Other",
                                           n=200)
    if report["reused"] == 0:
        # free-threaded builds allocate with mimalloc, whose pages hand out
        # a freed block only once their free list is used up
        alloc = "mimalloc (free-threaded build)" if "freethreaded" in interp.tags else "the allocator"
        pytest.skip(f"{interp.name}: {alloc} reused no freed Widget address for an Other")
    # Others were made on the collecting thread; Widgets died by refcount.
    assert findings(records) == []


def test_extension_unsendable(gcscope, interp, tmp_path):
    """A PyO3-"unsendable"-like extension type counts the objects a foreign
    thread traversed: gcscope's findings are exactly those."""
    needs_objects(interp)
    extdir = interp.scratch_dir(tmp_path)
    try:
        extbuild.build(interp, "gcxt", extdir)
    except extbuild.BuildError as e:
        pytest.skip(str(e))
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "gcxt", "--owners", "gcxt.*",
                                           extdir=extdir)
    f = findings(records)
    assert report["cross_thread_objects"] == report["unsendables"] == 100
    assert len(f) == report["cross_thread_objects"]
    assert {r["object_type"] for r in f} == {"gcxt.Unsendable"}
    assert {r["owner_tid"] for r in f} == {report["main_tid"]}
    assert {r["tid"] for r in f} == {report["collector_tid"]}


def test_types_without_owners(gcscope, interp, tmp_path):
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "worker", "--types")
    assert findings(records) == []
    assert "findings" not in summary(records)
    assert type_total(records, "Widget") == 100


def test_allocators_probed_past_type_store(gcscope, interp, tmp_path):
    """--owners sees new instances with one emulated uprobe past the store
    of their type (user/allocsite.c) in every release build of the matrix;
    debug builds keep the type on the stack, so there gcscope says it uses
    the entry uprobe and uretprobe, and why.  The owners scenarios above
    check that the findings stay exact with these probes."""
    import json
    from harness import run
    target = Target(interp, tmp_path, "owners_program.py", "main", 1)
    try:
        r = run(gcscope, "doctor", "-j", "-p", target.pid)
    finally:
        target.kill()
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    # free-threaded builds read owners from the heap instead (docs/objects.md)
    assert (info["owners_from"], info["owners_from_detail"]) == (
        ("heap", None) if free_threaded(interp) else ("allocators", "not a free-threaded build")), info
    allocs = info["allocators"]
    assert allocs, r.stdout
    names = {a["name"].split(".")[0] for a in allocs}
    assert names & {"PyType_GenericAlloc", "_PyType_AllocNoTrack"}, allocs
    for a in allocs:
        if interp.debug:
            assert a["probe"] in ("type_store", "uretprobe"), a
            assert (a["probe"] == "uretprobe") == bool(a["detail"]), a
        else:
            assert a["probe"] == "type_store" and 1 <= a["uprobes"] <= 4 and a["detail"] is None, a


def test_no_debuginfo_says_why(gcscope, interp, tmp_path):
    if not interp.usdt:
        pytest.skip(f"{interp.name}: without debug info and USDT there is nothing to trace at all")
    target = Target(interp, tmp_path, "owners_program.py", "main", 1)
    try:
        g = Gcscope(gcscope, "trace", "--no-debuginfo", "--types", "-p", target.pid)
        out = g.proc.stdout.read()
        g.proc.wait()
        err = g.err_text()
    finally:
        target.kill()
    assert g.proc.returncode == 5, (out, err)
    assert "cannot see which objects collections destroy" in err
    assert "python3.X-dbg" in err and "DEBUGINFOD_URLS" in err


def importable(interp, module):
    import subprocess
    r = subprocess.run(interp.argv("-c", f"import {module}"), capture_output=True, text=True, timeout=60)
    return r.returncode == 0


@pytest.mark.parametrize("mode", ["worker", "workaround"])
def test_pyqt_qobjects(gcscope, interp, tmp_path, mode):
    """QObjects in cycles: collected on a worker thread they are findings;
    with pyqtgraph's workaround (collect only from a GUI-thread QTimer) none."""
    needs_objects(interp)
    if not importable(interp, "PyQt5.QtCore"):
        pytest.skip(f"{interp.name}: PyQt5 is not importable (Debian's python3-pyqt5 is built for "
                    "the default python3 only)")
    attach, report, records = trace_target(gcscope, interp, tmp_path, "qt_program.py", (mode, 20),
                                           ("--owners", "QObject"),
                                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    f = findings(records)
    if mode == "worker":
        assert len(f) == report["nodes"] == 40
        assert {r["object_type"] for r in f} == {"Node"}
        assert {r["owner_tid"] for r in f} == {report["main_tid"]}
        assert {r["tid"] for r in f} == {report["worker_tid"]}
    else:
        assert f == []
        # the Nodes did die, in collections on the GUI thread
        colls = [r for r in records if r["type"] == "collection" and r.get("types", {}).get("Node")]
        assert sum(r["types"]["Node"] for r in colls) == report["nodes"]
        assert {r["tid"] for r in colls} == {report["main_tid"]}


@pytest.mark.parametrize("pattern,expected", [("__main__.Wid*", 100), ("__main__.*", 100), ("otherapp.*", 0)])
def test_module_qualified_patterns(gcscope, interp, tmp_path, pattern, expected):
    """Python classes match on "module.qualname" too (__module__ from the
    class's dict, ht_qualname), not only on tp_name."""
    needs_objects(interp)
    attach, report, records = run_scenario(gcscope, interp, tmp_path, "worker", "--owners", pattern)
    f = findings(records)
    assert len(f) == expected
    assert {r["object_type"] for r in f} <= {"Widget"}
