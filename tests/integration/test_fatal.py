# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The collection that kills the process (issue 8, item 4; docs/fatal.md).

tests/programs/fatal_program.py makes cycles of tests/ext/gcxt.c's
Unsendable on the main thread and calls gc.collect() on a worker: the
type's tp_traverse abort()s (as a PyO3 0.17 unsendable class did) in the
middle of a generation-2 collection.  trace, launched (-- CMD) or attached
(-p), in JSON and in text, must report that collection: the worker's tid,
generation 2, SIGABRT raised by the thread itself, and the worker's Python
stack read at the signal (innermost: the function and line calling
gc.collect(), which the program wrote down before).
"""
import json
import os
import re
import shutil
import subprocess

import pytest

import extbuild
from harness import PROGRAMS, Gcscope, Target, run

PROGRAM = "fatal_program.py"


def prepare(interp, tmp_path):
    """The extension built for interp, and the program beside it."""
    d = interp.scratch_dir(tmp_path)
    try:
        extbuild.build(interp, "gcxt", d)
    except extbuild.BuildError as e:
        pytest.skip(f"{interp.name}: cannot build tests/ext/gcxt.c: {e}")
    shutil.copy(os.path.join(PROGRAMS, PROGRAM), d)
    return d


def argv(interp, d, *extra):
    return interp.argv(interp.inside(os.path.join(d, PROGRAM)), interp.inside(os.path.join(d, "report.json")),
                       interp.inside(d), *extra)


def report_of(d):
    with open(os.path.join(d, "report.json")) as f:
        return json.load(f)


# The function that names the phase: subtract_refs inlined in the
# collector (pyenv's builds), or the collector's direct callee where it is
# not inlined there (debug builds, Debian's: deduce_unreachable from 3.10,
# with subtract_refs inside it).
PHASE_FUNCTIONS = ("subtract_refs", "deduce_unreachable")
# Free-threaded builds (Python/gc_free_threading.c, 3.13t+) traverse the
# mimalloc heaps from deduce_unreachable_heap().
FT_PHASE_FUNCTIONS = ("deduce_unreachable_heap",)


def phase_functions(interp):
    return FT_PHASE_FUNCTIONS if "freethreaded" in interp.tags else PHASE_FUNCTIONS


def check_fatal(interp, records, rep, launched=True, owners=False):
    fatal = [r for r in records if r["type"] == "fatal_collection"]
    assert len(fatal) == 1, records[-3:]
    f = fatal[0]
    assert f["pid"] == rep["pid"]
    assert f["tid"] == rep["worker_native_id"] != rep["main_native_id"]
    assert f["gen"] == 2, f
    assert f["signal"] == 6 and f["signal_name"] == "SIGABRT", f
    assert f["signal_self"] is True and f["signal_sender_pid"] == rep["pid"]
    assert 0 < f["elapsed_ns"] < 10 * 10**9 and f["signal_ts_ns"] == f["ts_ns"] + f["elapsed_ns"]
    if interp.version >= (3, 14):
        assert f["thread"] == "collector"        # 3.14 names native threads
    top = f["stack"][0]
    assert top["function"] == rep["function"], f["stack"]
    assert top["file"] == rep["file"], f["stack"]     # both as the target sees it
    assert top["line"] == rep["line"], f["stack"]
    assert [fr["function"] for fr in f["stack"][1:3]] == ["Thread.run" if interp.version >= (3, 11) else "run",
                                                          "Thread._bootstrap_inner" if interp.version >= (3, 11)
                                                          else "_bootstrap_inner"], f["stack"]
    # native frames, from the files on disk: the extension keeps its
    # symbols; the phase needs the collector's (a -dbg package, pyenv -g)
    if f["phase"] is not None or interp.dwarf:
        assert f["phase"] == "traverse" and f["phase_function"] in phase_functions(interp), f
    assert f["native_function"] == "Unsendable_traverse", f["native_stack"]
    assert os.path.basename(f["native_file"]).startswith("gcxt."), f["native_file"]
    if not owners:
        assert f["object"] is None and f["object_type"] is None
    # the collection never ended: no collection record for it
    assert not [r for r in records if r["type"] == "collection" and r["ts_ns"] == f["ts_ns"]]
    summary = records[-1]
    assert summary["type"] == "summary" and summary["fatal_collections"] == 1
    if launched:    # with -p, known only if seen as a zombie (docs/exit-codes.md)
        assert summary["exit_signal"] == 6, summary
    return f


def test_launched(gcscope, interp, tmp_path):
    d = prepare(interp, tmp_path)
    out = tmp_path / "gc.jsonl"
    r = run(gcscope, "trace", "-j", "-o", out, "--stack", "--", *argv(interp, d), timeout=180)
    assert r.returncode == 0, r.stderr
    records = [json.loads(l) for l in out.read_text().splitlines()]
    f = check_fatal(interp, records, report_of(d))
    assert "findings" not in f and "types" not in f


def attached(gcscope, interp, d, *trace_args, env=None, rc=-6):
    """trace -j -p on the program started with "wait"; its records."""
    t = subprocess.Popen(argv(interp, d, "wait"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = t.stdout.readline()
        assert line.startswith("ready"), (line, t.stderr.read())
        g = Gcscope(gcscope, "trace", "-j", "-p", t.pid, *trace_args)
        g.wait_attached()
        t.stdin.write("go\n")
        t.stdin.flush()
        assert t.wait(timeout=120) == rc, t.stderr.read()[-2000:]
        records = g.finish()
    finally:
        if t.poll() is None:
            t.kill()
            t.wait()
    assert g.proc.returncode == 0, g.stderr
    return records


def test_attached(gcscope, interp, tmp_path):
    """-p, and without --stack: the fatal record has its stack anyway."""
    d = prepare(interp, tmp_path)
    check_fatal(interp, attached(gcscope, interp, d), report_of(d), launched=False)


def test_attached_owners(gcscope, interp, tmp_path):
    """Issue 8, item 3: with --owners, the traversal off the owner's thread
    is a record at that moment, before the abort; the fatal record names
    the object whose tp_traverse was entered last."""
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no --owners")
    d = prepare(interp, tmp_path)
    records = attached(gcscope, interp, d, "--owners", "gcxt.*")
    rep = report_of(d)
    f = check_fatal(interp, records, rep, launched=False, owners=True)
    t = [x for x in records if x["type"] == "traversal"]
    assert len(t) == 1, t
    assert records.index(t[0]) < records.index(f)
    assert (t[0]["tid"], t[0]["owner_tid"]) == (rep["worker_native_id"], rep["main_native_id"])
    assert t[0]["object_type"] == f["object_type"] == "gcxt.Unsendable"
    assert t[0]["object"] == f["object"] and t[0]["collection_ts_ns"] == f["ts_ns"]
    assert f["ts_ns"] <= f["object_entered_ns"] <= f["signal_ts_ns"]


def test_owners_so_far(gcscope, interp, tmp_path):
    """--owners: the findings and types so far come with it (none yet: the
    walk of the collected set comes after the traverse that aborts)."""
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no --owners")
    d = prepare(interp, tmp_path)
    out = tmp_path / "gc.jsonl"
    r = run(gcscope, "trace", "-j", "-o", out, "--owners", "gcxt.*", "--", *argv(interp, d), timeout=180)
    assert r.returncode == 0, r.stderr
    records = [json.loads(l) for l in out.read_text().splitlines()]
    rep = report_of(d)
    f = check_fatal(interp, records, rep, owners=True)
    assert f["findings"] == 0 and f["objects_seen"] is None, f
    assert not [x for x in records if x["type"] == "finding" and x["ts_ns"] == f["ts_ns"]]


def test_traversals_counted(gcscope, interp, tmp_path):
    """GCXT_MODE=count: no abort; every Unsendable the worker's collection
    traverses is one traversal record (once per object and collection)."""
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no --owners")
    d = prepare(interp, tmp_path)
    records = attached(gcscope, interp, d, "--owners", "gcxt.*", env=dict(os.environ, GCXT_MODE="count"),
                       rc=0)
    rep = report_of(d)
    t = [x for x in records if x["type"] == "traversal"]
    assert len(t) == 40 == len({x["object"] for x in t}), len(t)
    assert {(x["tid"], x["owner_tid"], x["object_type"]) for x in t} == {
        (rep["worker_native_id"], rep["main_native_id"], "gcxt.Unsendable")}
    assert len({x["collection_ts_ns"] for x in t}) == 1
    assert not [x for x in records if x["type"] == "fatal_collection"]


def test_text(gcscope, interp, tmp_path):
    d = prepare(interp, tmp_path)
    r = run(gcscope, "trace", "--", *argv(interp, d), timeout=180)
    assert r.returncode == 0, r.stderr
    rep = report_of(d)
    m = re.search(r"^!! pid (\d+) died of SIGABRT during a collection \(gen 2\) on thread (\d+) \((.*)\), "
                  r"[0-9.]+ ms in\n   started \d\d:\d\d:\d\d\.\d{3}; the process raised the signal itself "
                  r"\(abort\(\) or a fault\)\n   phase: (.*)\n   in (\S+) \((\S+)\)\n    at (\S+) \((.*):(\d+)\)\n",
                  r.stdout, re.M)
    assert m, r.stdout[-1500:]
    assert (int(m.group(1)), int(m.group(2))) == (rep["pid"], rep["worker_native_id"])
    assert m.group(4) in ["unknown (no native frame names it)"] + [
        "computing reachability (tp_traverse) [%s]" % p for p in phase_functions(interp)], m.group(4)
    if interp.dwarf:
        assert m.group(4) != "unknown (no native frame names it)"
    assert m.group(5) == "Unsendable_traverse" and m.group(6).startswith("gcxt.")
    assert (m.group(7), int(m.group(9))) == (rep["function"], rep["line"])
    assert m.group(8).endswith(PROGRAM)
    assert "\nDetaching (target exited: killed by signal 6, ABRT).\n" in r.stdout
    assert "\nThe target died during a collection" in r.stdout
