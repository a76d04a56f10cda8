# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Bad input and faults: one clear line, a documented exit code, nothing lost
or crashed, and the target undisturbed (docs/exit-codes.md)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import matrix
from harness import Gcscope, Target, run

EXIT_USAGE, EXIT_NO_PROCESS, EXIT_NOT_PYTHON, EXIT_NO_PROBE, EXIT_PERMISSION = 2, 3, 4, 5, 6


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gcscope: "), stderr
    return lines[0]


def an_interp(pred=lambda i: True, why="no interpreter of the matrix fits"):
    for i in matrix.interpreters():
        if not i.missing and pred(i):
            return i
    pytest.skip(why)


def free_pid():
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


@pytest.mark.parametrize("cmd", ["trace", "doctor"])
def test_no_such_process(gcscope, cmd):
    pid = free_pid()
    r = run(gcscope, cmd, "-p", pid)
    assert r.returncode == EXIT_NO_PROCESS
    assert f"no process with pid {pid}" in one_line(r.stderr)


@pytest.mark.parametrize("cmd", ["trace", "doctor"])
def test_not_python(gcscope, cmd):
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = run(gcscope, cmd, "-p", p.pid)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_NOT_PYTHON
    assert "is not running CPython" in one_line(r.stderr)


def test_json_error_is_json(gcscope):
    pid = free_pid()
    r = run(gcscope, "trace", "-j", "-p", pid)
    assert r.returncode == EXIT_NO_PROCESS
    rec = json.loads(r.stdout)
    assert rec == {"type": "error", "code": EXIT_NO_PROCESS, "message": f"no process with pid {pid}"}


@pytest.mark.parametrize("args", [
    [], ["-p"], ["-p", "abc"], ["-p", "-5"], ["-p", "1", "--", "python3"],
    ["-p", "1", "--probe", "kprobe"], ["-p", "1", "--min-ms", "x"], ["-p", "1", "--duration", "0"],
    ["-p", "1", "--ringbuf-kb", "5"], ["-p", "1", "--bogus"],
])
def test_usage_errors(gcscope, args):
    r = run(gcscope, "trace", *args)
    assert r.returncode == EXIT_USAGE, r
    assert r.stdout == ""
    assert "gcscope" in r.stderr


def test_unknown_command(gcscope):
    r = run(gcscope, "tarce")
    assert r.returncode == EXIT_USAGE
    assert "unknown command 'tarce'" in one_line(r.stderr)


def test_command_not_found(gcscope):
    r = run(gcscope, "trace", "--", "/nonexistent/python3")
    assert r.returncode == EXIT_NO_PROCESS
    assert "cannot run /nonexistent/python3" in one_line(r.stderr)


def test_command_not_python(gcscope):
    r = run(gcscope, "trace", "--", "true")
    assert r.returncode == EXIT_NOT_PYTHON
    assert "without running CPython" in one_line(r.stderr)


@pytest.fixture
def stripped_python(tmp_path):
    """Debian's python3.11 with its USDT notes, build-id and debuglink
    removed: a stripped interpreter with nothing to attach to."""
    src = "/usr/bin/python3.11"
    if not os.path.exists(src):
        pytest.skip(f"{src} is not installed")
    dst = tmp_path / "python3.11"
    subprocess.run(["objcopy", "--remove-section", ".note.stapsdt", "--remove-section", ".note.gnu.build-id",
                    "--remove-section", ".gnu_debuglink", src, str(dst)], check=True)
    return str(dst)


def test_no_usable_probe(gcscope, stripped_python):
    p = subprocess.Popen([stripped_python, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        r = run(gcscope, "trace", "-p", p.pid)
        d = run(gcscope, "doctor", "-p", p.pid)
        dj = run(gcscope, "doctor", "-j", "-p", p.pid)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_NO_PROBE
    line = one_line(r.stderr)
    assert "has no USDT probes and no symbol for gc_collect_main" in line
    assert "python3.X-dbg" in line and "DEBUGINFOD_URLS" in line
    assert d.returncode == EXIT_NO_PROBE
    assert "would fail (exit code 5)" in d.stdout
    doc = json.loads(dj.stdout)
    assert doc["usdt"] is False and doc["symtab"] is False and doc["debuginfo"] is None
    assert doc["can_trace"] is False and doc["exit_code"] == EXIT_NO_PROBE
    # The layout still comes from the table: counts would be available.
    assert doc["python"] == "3.11.2" or doc["python"].startswith("3.11.")


def test_without_privileges(gcscope, tmp_path):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", gcscope, "trace", "-p", str(p.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_PERMISSION
    line = one_line(r.stderr)
    assert "CAP_BPF" in line and "CAP_PERFMON" in line and "sudo" in line


def loop_target(tmp_path, burst=1):
    interp = an_interp()
    return Target(interp, tmp_path, "gc_loop.py", burst)


def finish_loop(target):
    target.proc.stdin.write("stop\n")
    target.proc.stdin.flush()
    line = target.proc.stdout.readline()
    target.proc.wait(timeout=60)
    assert target.proc.returncode == 0, target.proc.stderr.read()
    return json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_detaches_cleanly(gcscope, tmp_path, sig):
    target = loop_target(tmp_path)
    g = Gcscope(gcscope, "trace", "-j", "-p", target.pid)
    try:
        g.wait_attached()
        target.go()
        # let some collections happen under tracing
        seen = []
        while len(seen) < 20:
            rec = json.loads(g.proc.stdout.readline())
            if rec["type"] == "collection":
                seen.append(rec)
        g.proc.send_signal(sig)
        rest = g.finish()
        assert g.proc.returncode == 0, g.stderr
        summary = [r for r in rest if r["type"] == "summary"]
        assert len(summary) == 1 and summary[0]["end"] == "signal"
        total = len(seen) + sum(1 for r in rest if r["type"] == "collection")
        assert sum(x["count"] for x in summary[0]["generations"]) == total
        # The target goes on, unharmed, after we left.
        time.sleep(0.3)
        assert target.proc.poll() is None
        report = finish_loop(target)
        assert report["collections"] > total
    finally:
        target.kill()


def test_target_exits_mid_trace(gcscope, tmp_path):
    target = loop_target(tmp_path)
    g = Gcscope(gcscope, "trace", "-p", target.pid)
    try:
        assert g.proc.stdout.readline().startswith("Tracing GC of pid")
        target.go()
        time.sleep(0.5)
        report = finish_loop(target)
        out, err = g.proc.stdout.read(), g.proc.stderr.read()   # not communicate(): see harness
        g.proc.wait(timeout=60)
    finally:
        target.kill()
    assert g.proc.returncode == 0, err
    # the status is said when gcscope saw the zombie before pytest reaped it
    assert re.search(r"\nDetaching \(target exited( with status 0)?\)\.\n", out), out[-300:]
    assert "collections in" in out and "TID" in out
    lines = [l for l in out.splitlines() if l[:2].isdigit() and ":" in l[:3]]
    assert len(lines) >= report["collections"]


def test_duration(gcscope, tmp_path):
    target = loop_target(tmp_path)
    try:
        g = Gcscope(gcscope, "trace", "-j", "--duration", "1", "-p", target.pid)
        g.wait_attached()
        target.go()
        t0 = time.time()
        recs = g.finish()
        elapsed = time.time() - t0
        assert g.proc.returncode == 0
        assert recs[-1]["type"] == "summary" and recs[-1]["end"] == "duration elapsed"
        assert 0.9 <= recs[-1]["wall_ns"] / 1e9 < 5
        assert elapsed < 10
        assert target.proc.poll() is None
        finish_loop(target)
    finally:
        target.kill()


def test_min_ms_hides_but_counts(gcscope, tmp_path):
    target = loop_target(tmp_path)
    try:
        g = Gcscope(gcscope, "trace", "-j", "--min-ms", "1000", "-p", target.pid)
        g.wait_attached()
        target.go()
        time.sleep(0.5)
        report = finish_loop(target)
        recs = g.finish()
    finally:
        target.kill()
    summary = recs[-1]
    assert [r for r in recs if r["type"] == "collection"] == []
    counted = sum(x["count"] for x in summary["generations"])
    assert counted >= report["collections"] > 0
    assert summary["hidden"] == counted


def test_lost_events_are_counted(gcscope, tmp_path):
    """A 4 KiB ring buffer and a reader that does not read: events are lost,
    and every one of them is accounted for."""
    target = loop_target(tmp_path, burst=200)
    try:
        g = Gcscope(gcscope, "trace", "-j", "--ringbuf-kb", "4", "-p", target.pid)
        g.wait_attached()
        target.go()
        # Do not read gcscope's output while the target collects: its stdout
        # pipe fills, it blocks, the ring buffer overflows.
        time.sleep(2.0)
        report = finish_loop(target)
        recs = g.finish()
    finally:
        target.kill()
    assert g.proc.returncode == 0, g.stderr
    summary = recs[-1]
    lost_records = [r for r in recs if r["type"] == "lost"]
    colls = [r for r in recs if r["type"] == "collection"]
    assert summary["lost"] > 0
    assert sum(r["count"] for r in lost_records) == summary["lost"]
    assert "lost" in g.stderr and "ring buffer full" in g.stderr
    # Every collection of the loop is either reported or counted as lost
    # (plus the interpreter's own at exit, which are reported).
    assert len(colls) + summary["lost"] >= report["collections"]
    assert sum(x["count"] for x in summary["generations"]) == len(colls)


def test_launch_command(gcscope, interp, tmp_path):
    """gcscope trace -- CMD: probes are in place before Python runs (pyenv
    binaries load libpython; chroot(1) execs the interpreter)."""
    d = interp.scratch_dir(tmp_path)
    script = os.path.join(d, "gc_workload.py")
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "programs", "gc_workload.py"), script)
    p = subprocess.Popen([gcscope, "trace", "-j", "--", *interp.argv(interp.inside(script), "1", "1")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while True:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            if line.startswith("ready"):
                break
            lines.append(line)
        p.stdin.write("go\n")
        p.stdin.flush()
        p.stdin.close()
        out, err = p.stdout.read(), p.stderr.read()   # not communicate(): see harness
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    recs = [json.loads(l) for l in lines + out.splitlines() if l.startswith("{")]
    report = [r for r in recs if "records" in r][0]
    recs = [r for r in recs if "type" in r]
    assert recs[0]["type"] == "attach" and recs[0]["launched"] is True
    got = [(r["tid"], r["gen"], r["collected"], r["uncollectable"]) for r in recs if r["type"] == "collection"]
    expected = [tuple(r) for r in report["records"]]
    assert any(got[i:i + len(expected)] == expected for i in range(len(got) - len(expected) + 1))
    assert recs[-1]["type"] == "summary" and recs[-1]["end"] == "target exited"
