# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""gcscope trace --timeline FILE against real interpreters (docs/timeline.md).

The file is Chrome trace-event JSON.  Its complete events ("X") must be the
collections the target saw through gc.callbacks: as many, on the tracks of
the threads that ran them (threading.get_native_id()), named after those
threads, at the times the target's own time.monotonic_ns() saw them.  Then
speedscope, in headless Chromium, must load it and show those threads.
"""
import json
import os
import re
import shutil
import signal
import sys
import time

import pytest

import matrix
from harness import PROGRAMS, Gcscope, Target, run, trace_target

sys.path.insert(0, os.path.join(matrix.REPO, "tests", "viewer"))
import speedscope  # noqa: E402


@pytest.fixture(scope="module")
def timeline_option(gcscope):
    if "--timeline" not in run(gcscope, "trace", "-h").stdout:
        pytest.skip("this gcscope trace has no --timeline option yet")


def an_interp():
    for i in matrix.interpreters():
        if not i.missing:
            return i
    pytest.skip("no interpreter of the matrix can be had")


def run_program(gcscope, interp, tmp_path, *trace_args, threads=3, rounds=20, comm=True):
    """gcscope trace --timeline F [trace_args] -- python timeline_program.py:
    (the timeline parsed, its text, the program's report, gcscope's stdout)."""
    d = interp.scratch_dir(tmp_path)
    script = os.path.join(d, "timeline_program.py")
    report = os.path.join(d, "report.json")
    shutil.copy(os.path.join(PROGRAMS, "timeline_program.py"), script)
    timeline = os.path.join(str(tmp_path), "timeline.json")
    r = run(gcscope, "trace", "--timeline", timeline, *trace_args, "--",
            *interp.argv(interp.inside(script), interp.inside(report), threads, rounds, int(comm)),
            timeout=300)
    assert r.returncode == 0, r.stderr
    with open(report) as f:
        rep = json.load(f)
    with open(timeline) as f:
        text = f.read()
    return json.loads(text), text, rep, r.stdout


def events(trace, ph, name=None):
    return [e for e in trace["traceEvents"] if e["ph"] == ph and (name is None or e["name"] == name)]


def thread_names(trace):
    """tid -> the last name its thread_name metadata gave."""
    names = {}
    for e in events(trace, "M", "thread_name"):
        names[e["tid"]] = e["args"]["name"]
    return names


def check_against_target(trace, text, rep, names_from=None):
    assert text.endswith("}\n")
    assert trace["displayTimeUnit"] == "ms"
    assert trace["otherData"]["end"] == "target exited"
    (proc,) = events(trace, "M", "process_name")
    assert proc["pid"] == rep["pid"]

    colls = events(trace, "X")
    assert colls, "no collection on the timeline"
    assert trace["otherData"]["collections"] == len(colls)
    for e in colls:
        assert e["pid"] == rep["pid"] and e["cat"] == "gc"
        assert e["dur"] > 0
    # The target's account covers [t0, t1]; start-up and shutdown collect too.
    t0, t1 = rep["t0"] / 1000, rep["t1"] / 1000
    mine = [e for e in colls if t0 <= e["ts"] <= t1]
    seen = rep["collections"]
    # exactly the target's: a collector entry that collected nothing (3.13,
    # another thread collecting) is not a collection (bpf/gcscope.bpf.c)
    assert len(mine) == len(seen), (len(mine), len(seen))
    assert sorted({e["tid"] for e in mine}) == sorted({c[0] for c in seen})
    assert sorted(int(t) for t in rep["threads"]) == sorted({c[0] for c in seen})

    # Each thread's track: its collections in order, none overlapping, each
    # at the time the target's callbacks saw it (so ts and dur are
    # CLOCK_MONOTONIC microseconds), with its generation and counts.
    names = thread_names(trace)
    for tid, name in rep["threads"].items():
        tid = int(tid)
        if names_from:
            name = names_from[tid]
        assert names[tid] == name, (tid, names.get(tid), name)
        track = [e for e in mine if e["tid"] == tid]
        own = [c for c in seen if c[0] == tid]
        assert len(track) == len(own)
        for prev, e in zip(track, track[1:]):
            assert prev["ts"] + prev["dur"] <= e["ts"]
        for e, (_, gen, start, stop, collected, uncollectable) in zip(track, own):
            assert overlaps(e, start, stop), (e, start, stop)
            assert e["args"]["gen"] == gen
            assert e["name"] == f"gc gen {gen}"
            if e["args"]["collected"] is not None:
                assert e["args"]["collected"] == collected
                assert e["args"]["uncollectable"] == uncollectable
    # Metadata first: every track is named before its first collection.
    named = set()
    for e in trace["traceEvents"]:
        if e["ph"] == "M" and e["name"] == "thread_name":
            named.add(e["tid"])
        elif e["ph"] == "X":
            assert e["tid"] in named


def overlaps(e, start, stop):
    """The event's [ts, ts + dur] meets the target's [start, stop] (ns)."""
    return e["ts"] * 1000 <= stop and (e["ts"] + e["dur"]) * 1000 >= start


def test_timeline_matches_target(gcscope, interp, tmp_path, timeline_option):
    trace, text, rep, out = run_program(gcscope, interp, tmp_path)
    check_against_target(trace, text, rep)
    assert "Tracing GC of pid" in out            # the text output is still there
    labels = events(trace, "M", "process_labels")[0]["args"]["labels"]
    assert labels.startswith("CPython " + ".".join(map(str, interp.version)))


def test_timeline_with_json_and_min_ms(gcscope, interp, tmp_path, timeline_option):
    """-j goes on as before, and --min-ms hides lines, not collections: the
    timeline has every one (docs/timeline.md)."""
    trace, text, rep, out = run_program(gcscope, interp, tmp_path, "-j", "--min-ms", "1000")
    check_against_target(trace, text, rep)
    recs = [json.loads(l) for l in out.splitlines()]
    assert recs[0]["type"] == "attach" and recs[-1]["type"] == "summary"
    assert recs[-1]["hidden"] == trace["otherData"]["hidden"] == len(events(trace, "X"))


def test_timeline_python_thread_names(gcscope, interp, tmp_path, timeline_option):
    """Threads named in Python only (their comm is the process's): a track
    is named after the Python name where gcscope read it (-j's py_thread),
    else after the comm."""
    trace, text, rep, out = run_program(gcscope, interp, tmp_path, "-j", comm=False, rounds=60)
    colls = [r for r in map(json.loads, out.splitlines()) if r["type"] == "collection"]
    want = {}
    for r in colls:
        if r.get("py_thread"):
            want[r["tid"]] = r["py_thread"]
        elif r["tid"] not in want or want[r["tid"]] == r["thread"]:
            want[r["tid"]] = r["thread"]
    check_against_target(trace, text, rep, names_from=want)
    # where gcscope knew the Python name, it is the one the thread gave
    # itself; and it knew some (the main thread's, at least)
    comm = colls[0]["thread"]
    for tid, name in rep["threads"].items():
        assert want[int(tid)] in (name, comm)
    assert any(want[int(tid)] == name for tid, name in rep["threads"].items())


def weight_ms(s):
    """speedscope's total weight ("21.81ms", "812.00µs", "1.20s") in ms."""
    m = re.fullmatch(r"([0-9.]+)(µs|ms|s)", s)
    assert m, s
    return float(m.group(1)) * {"µs": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def test_timeline_in_speedscope(gcscope, tmp_path, timeline_option):
    """speedscope loads the real file and shows one profile per collecting
    thread, named by the thread_name metadata, weighing its collections."""
    trace, text, rep, _ = run_program(gcscope, an_interp(), tmp_path)
    path = os.path.join(str(tmp_path), "timeline.json")
    shown = speedscope.load(path, screenshot=os.path.join(str(tmp_path), "speedscope.png"))
    assert shown["title"] == "trace.json - speedscope"
    names = thread_names(trace)
    colls = events(trace, "X")
    profiles = {}
    for p in shown["profiles"]:
        m = re.fullmatch(r"(.*) \(pid (\d+)\), (.*) \(tid (\d+)\)", p["name"])
        assert m, p
        assert int(m.group(2)) == rep["pid"]
        profiles[int(m.group(4))] = (m.group(1), m.group(3), weight_ms(p["weight"]))
    assert sorted(profiles) == sorted({e["tid"] for e in colls})
    comm = events(trace, "M", "process_name")[0]["args"]["name"]
    for tid, (proc, thread, weight) in profiles.items():
        assert proc == comm
        assert thread == names[tid]
        total = sum(e["dur"] for e in colls if e["tid"] == tid) / 1000
        assert abs(weight - total) <= max(0.01 * total, 0.01), (tid, weight, total)
    for tid, name in rep["threads"].items():
        assert profiles[int(tid)][1] == name
    with open(os.path.join(str(tmp_path), "speedscope.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_speedscope_rejects_a_broken_file(gcscope, tmp_path, timeline_option):
    """The viewer check fails on a file that does not load: the same real
    trace, cut in the middle of an event."""
    _, text, _, _ = run_program(gcscope, an_interp(), tmp_path, threads=1, rounds=3)
    broken = os.path.join(str(tmp_path), "broken.json")
    with open(broken, "w") as f:
        f.write(text[:len(text) // 2])
    with pytest.raises(speedscope.ViewerError, match="could not load"):
        speedscope.load(broken, timeout=20)


@pytest.mark.parametrize("end", ["SIGINT", "SIGTERM", "duration"])
def test_timeline_closed_on_every_ending(gcscope, tmp_path, timeline_option, end):
    """Ctrl-C, SIGTERM and --duration close the JSON as target exit does;
    and it is written as it goes: collections are in the file before the end."""
    interp = an_interp()
    target = Target(interp, tmp_path, "gc_loop.py", 1)
    timeline = os.path.join(str(tmp_path), "timeline.json")
    extra = ["--duration", "2"] if end == "duration" else []
    g = Gcscope(gcscope, "trace", "-j", "--timeline", timeline, *extra, "-p", target.pid)
    try:
        g.wait_attached()
        target.go()
        if end != "duration":
            deadline = time.time() + 30
            while time.time() < deadline:
                if os.path.exists(timeline):
                    with open(timeline) as f:
                        if f.read().count('"ph":"X"') >= 10:
                            break
                time.sleep(0.1)
            else:
                pytest.fail("no collection reached the file while tracing")
            g.proc.send_signal(getattr(signal, end))
        recs = g.finish()
        assert g.proc.returncode == 0, g.stderr
    finally:
        target.kill()
    with open(timeline) as f:
        text = f.read()
    trace = json.loads(text)
    assert text.endswith("}\n")
    want = "duration elapsed" if end == "duration" else "signal"
    assert trace["otherData"]["end"] == recs[-1]["end"] == want
    n = sum(1 for r in recs if r["type"] == "collection")
    assert n > 0 and len(events(trace, "X")) == n
    assert {e["tid"] for e in events(trace, "X")} == {target.pid}


def test_timeline_types_and_findings(gcscope, interp, tmp_path, timeline_option):
    """--owners: each collection's top types and number of findings, and each
    finding as an instant on the collecting thread, equal to what -j says
    of the same run (the worker scenario: every Widget is a finding)."""
    if not interp.dwarf:
        pytest.skip(f"{interp.name}: no debug info, so no walk of the collected set")
    timeline = os.path.join(str(tmp_path), "timeline.json")
    _, report, records = trace_target(gcscope, interp, tmp_path, "owners_program.py", ["worker", 50],
                                      ["--owners", "Widget", "--timeline", timeline])
    with open(timeline) as f:
        trace = json.load(f)
    by_ts = {e["ts"]: e for e in events(trace, "X")}
    colls = [r for r in records if r["type"] == "collection"]
    assert len(by_ts) == len(colls)
    for r in colls:
        e = by_ts[r["ts_ns"] / 1000]
        assert e["tid"] == r["tid"] and e["dur"] == r["pause_ns"] / 1000
        assert e["args"]["findings"] == r["findings"]
        assert e["args"]["objects_seen"] == r["objects_seen"]
        if r["objects_seen"] is not None:
            assert list(e["args"]["types"].items()) == list(r["types"].items())[:5]
    found = [r for r in records if r["type"] == "finding"]
    instants = events(trace, "i", "off-thread Widget")
    assert len(found) == len(instants) == 100
    assert {e["tid"] for e in instants} == {report["collector_tid"]}
    assert {e["args"]["owner_tid"] for e in instants} == {report["main_tid"]}
    assert sorted(e["args"]["object"] for e in instants) == sorted(r["object"] for r in found)
    by_obj = {r["object"]: r for r in found}
    for e in instants:
        r = by_obj[e["args"]["object"]]
        assert e["args"]["owner_thread"] == r["owner_thread"]
        assert e["args"].get("owner_py_thread") == r.get("owner_py_thread")
        # null where no creator is recorded (free-threaded builds read the
        # owner from the heap at death)
        assert e["args"]["created_ts"] == (None if r["created_ns"] is None else r["created_ns"] / 1000)
    assert trace["otherData"]["findings"] == 100
