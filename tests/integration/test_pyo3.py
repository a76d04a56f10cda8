# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The real PyO3 crate (issue 8, items 3, 4, 6 and 8; docs/fatal.md).

tests/pyo3 is a PyO3 0.17.3 extension (Debian's librust-pyo3-dev, built by
tests/pyo3/build.sh with cargo offline against /usr/share/cargo/registry,
once per interpreter, cached).  tests/programs/pyo3_program.py makes 20
cycles of two pyo3t.Holder (#[pyclass(unsendable)] with
__traverse__/__clear__) on the main thread and calls gc.collect() on a
worker named "collector": PyO3's thread checker panics in Holder's
__traverse__ trampoline and the process aborts inside subtract_refs, in a
generation-2 collection.

- live, `trace --owners Holder --stack`, launched (-- CMD) and attached
  (-p), in JSON and in text: one traversal finding (the worker entered a
  Holder's tp_traverse, owned by the main thread) before the fatal
  collection record, which names the worker (tid, Python name), gen 2,
  SIGABRT raised by the process, phase traverse, the object and its type
  builtins.Holder, the trampoline as the native function, and the worker's
  Python stack at the gc.collect() line; gcscope exits 0
  (docs/exit-codes.md: the trace worked);
- the same program with pyo3t.Counted (Send: PyO3 lets the worker in):
  gcscope's traversal and destroy findings are exactly the objects the
  extension itself counted traversed and dropped off their thread (40);
- post-mortem: `gcscope core` on the kernel's core names the worker's LWP,
  the phase, the type and the object.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

import matrix
from harness import PROGRAMS, Gcscope, run

BUILD = os.path.join(matrix.REPO, "tests", "pyo3", "build.sh")
PROGRAM = "pyo3_program.py"
TRAMPOLINE = "pyo3t::_::<impl pyo3t::Holder>::__pymethod_traverse__"
PHASE_FUNCTIONS = ("subtract_refs", "deduce_unreachable")
PAIRS = 20


def build(interp):
    """The directory (host path) of pyo3t built for interp.

    Debian's PyO3 is 0.17.3, which predates free-threaded CPython (PyO3 0.23
    was the first to support it): compiled for a 3.13t it lays objects out with
    the GIL build's header and crashes on import, so those builds skip, saying
    so.  Any other build failure is a failure: every GIL interpreter of the
    matrix (3.9-3.15) builds."""
    if "freethreaded" in interp.tags:
        pytest.skip(f"{interp.name}: Debian's PyO3 0.17.3 predates free-threaded CPython "
                    f"(PyO3 0.23 first supports it): its extension crashes on import")
    argv = [BUILD, interp.path] + ([] if interp.root == "/" else [interp.root])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        pytest.fail(f"{interp.name}: cannot build tests/pyo3 with PyO3 0.17: "
                    f"{r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    return r.stdout.strip().splitlines()[-1]


def prepare(interp, tmp_path):
    """A scratch dir the target sees, with pyo3t and the program in it."""
    built = build(interp)
    d = interp.scratch_dir(tmp_path)
    for f in os.listdir(built):
        if f.startswith("pyo3t.") and f.endswith(".so"):
            shutil.copy(os.path.join(built, f), d)
    shutil.copy(os.path.join(PROGRAMS, PROGRAM), d)
    return d


def argv(interp, d, mode, *flags):
    return interp.argv(interp.inside(os.path.join(d, PROGRAM)), interp.inside(os.path.join(d, "report.json")),
                       interp.inside(d), mode, *flags)


def clean_env():
    """Environment without PYTHON* variables (as tests/gdb/gdbutil.py's)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def env():
    # no Rust backtrace: it only prints (slowly) before the abort
    return dict(clean_env(), RUST_BACKTRACE="0")


def report_of(d):
    with open(os.path.join(d, "report.json")) as f:
        return json.load(f)


def needs_owners(interp):
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no --owners")


def launched(gcscope, interp, d, mode, *trace_args, json_out=True, tmp_path=None):
    """trace [-j -o FILE] -- the program; (gcscope's result, records or text)."""
    if json_out:
        out = os.path.join(d, "gc.jsonl")
        r = run(gcscope, "trace", "-j", "-o", out, *trace_args, "--", *argv(interp, d, mode),
                timeout=300, env=env())
        with open(out) as f:
            return r, [json.loads(l) for l in f if l.strip()]
    r = run(gcscope, "trace", *trace_args, "--", *argv(interp, d, mode), timeout=300, env=env())
    return r, r.stdout


def attached(gcscope, interp, d, mode, *trace_args, json_out=True, rc=-6):
    """trace [-j] -p on the program started with "wait"; (rc, records or text)."""
    t = subprocess.Popen(argv(interp, d, mode, "wait"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env())
    try:
        line = t.stdout.readline()
        assert line.startswith("ready"), (line, t.stderr.read())
        args = ("trace",) + (("-j",) if json_out else ()) + ("-p", t.pid) + trace_args
        g = Gcscope(gcscope, *args)
        if json_out:
            g.wait_attached()
        else:
            head = g.proc.stdout.readline()
            assert head.startswith("Tracing GC of pid %d" % t.pid), (head, g.proc.wait(timeout=60), g.err_text())
        t.stdin.write("go\n")
        t.stdin.flush()
        assert t.wait(timeout=120) == rc, t.stderr.read()[-2000:]
        if json_out:
            out = g.finish()
        else:
            out = head + g.proc.stdout.read()
            g.proc.wait(timeout=120)
            g.stderr = g.err_text()
    finally:
        if t.poll() is None:
            t.kill()
            t.wait()
    assert g.proc.returncode == 0, g.stderr
    return out


def check_fatal(interp, records, rep, launched_):
    fatal = [r for r in records if r["type"] == "fatal_collection"]
    assert len(fatal) == 1, records[-3:]
    f = fatal[0]
    assert f["pid"] == rep["pid"]
    assert f["tid"] == rep["worker_native_id"] != rep["main_native_id"]
    assert rep["worker_name"] == "collector" and f["py_thread"] == "collector", f
    assert f["gen"] == 2, f
    assert f["signal"] == 6 and f["signal_name"] == "SIGABRT", f
    assert f["signal_self"] is True and f["signal_sender_pid"] == rep["pid"]
    assert 0 < f["elapsed_ns"] < 10 * 10**9 and f["signal_ts_ns"] == f["ts_ns"] + f["elapsed_ns"]
    # the phase needs the collector's symbols (a -dbg package, pyenv -g)
    if f["phase"] is not None or interp.dwarf:
        assert f["phase"] == "traverse" and f["phase_function"] in PHASE_FUNCTIONS, f
    # the slot subtract_refs called, not Rust's panic machinery under it
    assert f["native_function"] == TRAMPOLINE, f["native_stack"]
    assert os.path.basename(f["native_file"]).startswith("pyo3t."), f["native_file"]
    names = [fr["function"] for fr in f["native_stack"]]
    assert "pyo3::pycell::PyCell<T>::try_borrow" in names, names
    assert names.index("pyo3::pycell::PyCell<T>::try_borrow") < names.index(TRAMPOLINE)
    # the object: PyO3 names a class without `module=` "builtins.Holder"
    assert f["object_type"] == rep["type"] == "builtins.Holder", f
    assert re.fullmatch(r"0x[0-9a-f]+", f["object"]) and f["ts_ns"] <= f["object_entered_ns"] <= f["signal_ts_ns"]
    top = f["stack"][0]
    assert (top["function"], top["file"], top["line"]) == (rep["function"], rep["file"], rep["line"]), f["stack"]
    # the walk of the collected set comes after the traverse: nothing yet
    assert f["findings"] == 0, f
    assert not [r for r in records if r["type"] == "collection" and r["ts_ns"] == f["ts_ns"]]
    # one traversal finding, at that moment: before the record of the death
    t = [x for x in records if x["type"] == "traversal"]
    assert len(t) == 1, t
    t = t[0]
    assert records.index(t) < records.index(f)
    assert (t["tid"], t["owner_tid"]) == (rep["worker_native_id"], rep["main_native_id"])
    assert (t["py_thread"], t["owner_py_thread"]) == ("collector", "MainThread"), t
    assert (t["object"], t["object_type"], t["collection_ts_ns"]) == (f["object"], "builtins.Holder", f["ts_ns"])
    summary = records[-1]
    assert summary["type"] == "summary" and summary["fatal_collections"] == 1
    if launched_:    # with -p, known only if seen as a zombie (docs/exit-codes.md)
        assert summary["exit_signal"] == 6, summary
    return f


@pytest.mark.parametrize("how", ["launched", "attached"])
def test_abort_json(gcscope, interp, tmp_path, how):
    needs_owners(interp)
    d = prepare(interp, tmp_path)
    trace_args = ("--owners", "Holder", "--stack")
    if how == "launched":
        r, records = launched(gcscope, interp, d, "abort", *trace_args)
        assert r.returncode == 0, r.stderr
    else:
        records = attached(gcscope, interp, d, "abort", *trace_args)
    check_fatal(interp, records, report_of(d), how == "launched")


# The text sink formats the same records as JSON: -p is covered by
# test_abort_json, and running both here cost minutes of `make test`.
@pytest.mark.parametrize("how", ["launched"])
def test_abort_text(gcscope, interp, tmp_path, how):
    needs_owners(interp)
    d = prepare(interp, tmp_path)
    trace_args = ("--owners", "Holder", "--stack")
    if how == "launched":
        r, out = launched(gcscope, interp, d, "abort", *trace_args, json_out=False)
        assert r.returncode == 0, r.stderr
    else:
        out = attached(gcscope, interp, d, "abort", *trace_args, json_out=False)
    rep = report_of(d)
    m = re.search(r"^  !! builtins\.Holder (0x[0-9a-f]+) traversed by a collection on thread (\d+) \(collector\), "
                  r"owned by thread (\d+) \(MainThread\)\n", out, re.M)
    assert m, out[-3000:]
    obj = m.group(1)
    assert (int(m.group(2)), int(m.group(3))) == (rep["worker_native_id"], rep["main_native_id"])
    m2 = re.search(r"^!! pid (\d+) died of SIGABRT during a collection \(gen 2\) on thread (\d+) \(collector\), "
                   r"[0-9.]+ ms in\n   started \d\d:\d\d:\d\d\.\d{3}; the process raised the signal itself "
                   r"\(abort\(\) or a fault\)\n   phase: (.*)\n   in (.*) \((\S+)\)\n"
                   r"   last entered: tp_traverse of builtins\.Holder (0x[0-9a-f]+), [0-9.]+ ms before\n"
                   r"    at (\S+) \((.*):(\d+)\)\n", out, re.M)
    assert m2, out[-3000:]
    assert m.start() < m2.start()
    assert (int(m2.group(1)), int(m2.group(2))) == (rep["pid"], rep["worker_native_id"])
    if interp.dwarf:
        assert m2.group(3) in ["computing reachability (tp_traverse) [%s]" % p for p in PHASE_FUNCTIONS], m2.group(3)
    assert m2.group(4) == TRAMPOLINE and m2.group(5).startswith("pyo3t."), m2.group(0)
    assert m2.group(6) == obj
    assert (m2.group(7), int(m2.group(9))) == (rep["function"], rep["line"])
    assert m2.group(8).endswith(PROGRAM)
    assert "\nThe target died during a collection" in out
    if how == "launched":
        assert "\nDetaching (target exited: killed by signal 6, ABRT).\n" in out


def test_traversal_findings_counted(gcscope, interp, tmp_path):
    """pyo3t.Counted (Send): the worker's collection traverses and destroys
    all 40; gcscope's findings are exactly those the extension counted."""
    needs_owners(interp)
    d = prepare(interp, tmp_path)
    records = attached(gcscope, interp, d, "count", "--owners", "Counted", rc=0)
    rep = report_of(d)
    assert rep["created"] == rep["objects"] == 2 * PAIRS
    assert rep["traversed_off_thread"] == rep["dropped_off_thread"] == 2 * PAIRS, rep
    t = [x for x in records if x["type"] == "traversal"]
    assert len(t) == rep["traversed_off_thread"] == len({x["object"] for x in t}), len(t)
    assert {(x["tid"], x["owner_tid"], x["object_type"], x["py_thread"], x["owner_py_thread"]) for x in t} == {
        (rep["worker_native_id"], rep["main_native_id"], "builtins.Counted", "collector", "MainThread")}
    assert len({x["collection_ts_ns"] for x in t}) == 1
    f = [x for x in records if x["type"] == "finding"]
    assert len(f) == rep["dropped_off_thread"] == len({x["object"] for x in f}), len(f)
    assert {x["object"] for x in f} == {x["object"] for x in t}
    assert {(x["tid"], x["gen"], x["owner_tid"], x["object_type"], x["py_thread"], x["owner_py_thread"])
            for x in f} == {(rep["worker_native_id"], 2, rep["main_native_id"], "builtins.Counted", "collector",
                             "MainThread")}
    assert not [x for x in records if x["type"] == "fatal_collection"]
    assert records[-1]["type"] == "summary" and "fatal_collections" not in records[-1]


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "?"


def test_core(gcscope, interp, tmp_path):
    """gcscope core on the kernel's core of the aborted process (no inferior
    calls: Debian 12's gdb 13.1 cannot make them here)."""
    d = prepare(interp, tmp_path)
    for f in os.listdir(d):
        if f == "core" or f.startswith("core."):
            os.unlink(os.path.join(d, f))
    p = subprocess.run(argv(interp, d, "abort", "core"), capture_output=True, text=True, env=env(), cwd=d,
                       timeout=120)
    assert p.returncode == -6, p.stderr[-2000:]
    cores = [os.path.join(d, f) for f in os.listdir(d) if f == "core" or f.startswith("core.")]
    if not cores:
        pytest.skip(f"no core file in {d}: kernel.core_pattern is {core_pattern()!r}")
    rep = report_of(d)
    e = dict(clean_env(), GCSCOPE_GDB_DIR=os.path.join(matrix.REPO, "gdb"))
    if interp.root != "/":
        e["GCSCOPE_SYSROOT"] = interp.root
    try:
        r = subprocess.run([gcscope, "core", cores[0], interp.host_path], capture_output=True, text=True,
                           env=e, timeout=600, stdin=subprocess.DEVNULL)
    finally:
        for c in cores:
            os.unlink(c)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    out = r.stdout
    assert "Traceback" not in out + r.stderr, r.stderr[-2000:]
    status = out.split("\n== py-gc-census")[0]
    assert "  collection running: yes" in status, status
    m = re.search(r"^    thread: \d+ \(LWP (\d+)\) tstate 0x[0-9a-f]+ \[found by (.*)\]$", status, re.M)
    assert m and int(m.group(1)) == rep["worker_native_id"], status
    frame = r"\[frame #\d+ pyo3t::Holder::__pymethod_traverse__\]"
    if interp.dwarf:
        assert re.search(r"^    phase: computing reachability \(tp_traverse\) " + frame + "$", status, re.M), status
        assert re.search(r"^    generation: 2$", status, re.M) or interp.version[:2] == (3, 13), status
    assert re.search(r"^    tp_traverse of type: builtins\.Holder " + frame + "$", status, re.M), status
    assert re.search(r"^    object: builtins\.Holder object at 0x[0-9a-f]+, refcount \d+ ", status, re.M), status
    # the census counts the 40 Holders the program made, where they are
    # among the types it lists (its top 20: not on every version)
    census = out[out.index("== py-gc-census"):]
    m = re.search(r"^ +(\d+)  builtins\.Holder$", census, re.M)
    assert not m or int(m.group(1)) == rep["objects"] == 2 * PAIRS, census[:3000]
