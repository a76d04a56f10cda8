# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Python thread names (threading.Thread.name) of collecting and owner
threads, read from the target's memory (user/pythreads.c), beside the
kernel's name, on every interpreter of the matrix (issue 8, item 5)."""
import json

from harness import Target, trace_running, trace_target
from test_objects import needs_objects


def test_collecting_threads_named(gcscope, interp, tmp_path):
    _, report, records = trace_target(gcscope, interp, tmp_path, "thread_names.py")
    names = {int(k): v for k, v in report["names"].items()}
    coll = [r for r in records if r["type"] == "collection"]
    by_name = {}
    for r in coll:
        if r["tid"] in names:
            assert r["py_thread"] == names[r["tid"]], r
            by_name[r["py_thread"]] = by_name.get(r["py_thread"], 0) + 1
        assert "thread" in r      # the kernel's name is still there
    # every collecting thread is named, each with its own collections
    assert by_name.get("ingest-\u03b1", 0) >= 3 and by_name.get("reaper", 0) >= 3
    assert by_name.get("MainThread", 0) >= 3
    assert "ingest-\u03b1" in names.values()


def test_owner_threads_named(gcscope, interp, tmp_path):
    needs_objects(interp)
    _, report, records = trace_target(gcscope, interp, tmp_path, "thread_names.py",
                                      trace_args=("--owners", "Widget"))
    names = {int(k): v for k, v in report["names"].items()}
    f = [r for r in records if r["type"] == "finding"]
    assert len(f) == 20, f[:3]
    assert {r["owner_py_thread"] for r in f} == {"maker"}
    assert {names[r["owner_tid"]] for r in f} == {"maker"}
    assert {r["py_thread"] for r in f} <= {"ingest-\u03b1", "reaper"}, (f[:2], names)


def test_text_shows_python_names(gcscope, interp, tmp_path):
    from harness import Gcscope
    target = Target(interp, tmp_path, "thread_names.py")
    g = Gcscope(gcscope, "trace", "-p", target.pid)
    try:
        assert g.proc.stdout.readline().startswith("Tracing GC of pid")
        g.proc.stdout.readline()
        target.go()
        report = target.report()
        out = g.proc.stdout.read()
        g.proc.wait(timeout=60)
    finally:
        target.kill()
    rows = [l.split() for l in out.splitlines() if l[:2].isdigit() and l[2:3] == ":"]
    names = set(report["names"].values())
    shown = {r[2] for r in rows}
    assert {"reaper", "MainThread"} <= shown, shown
    assert any(n.startswith("ingest-") for n in shown)
    # the summary's thread table too
    assert "reaper" in out.split("Detaching")[1]
    assert names >= {"reaper", "MainThread"}
