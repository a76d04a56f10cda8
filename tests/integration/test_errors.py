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
import sys
import time

import pytest

import matrix
from harness import Gcscope, Target, run

EXIT_USAGE, EXIT_NO_PROCESS, EXIT_NOT_PYTHON, EXIT_NO_PROBE, EXIT_PERMISSION, EXIT_UNSUPPORTED = 2, 3, 4, 5, 6, 7


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
        out = g.proc.stdout.read()   # not communicate(): see harness
        g.proc.wait(timeout=60)
        err = g.err_text()
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
    # -o: with -- CMD the target's stdout is gcscope's too, and two writers
    # on one pipe can interleave inside a line (seen once on sid-3.14d: the
    # target's report and a collection record on one line).
    records = os.path.join(str(tmp_path), "gc.jsonl")
    p = subprocess.Popen([gcscope, "trace", "-j", "-o", records, "--",
                          *interp.argv(interp.inside(script), "1", "1")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            if line.startswith("ready"):
                break
        p.stdin.write("go\n")
        p.stdin.flush()
        p.stdin.close()
        out, err = p.stdout.read(), p.stderr.read()   # not communicate(): see harness
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    report = [json.loads(l) for l in out.splitlines() if l.startswith("{")][0]
    with open(records) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    assert recs[0]["type"] == "attach" and recs[0]["launched"] is True
    got = [(r["tid"], r["gen"], r["collected"], r["uncollectable"]) for r in recs if r["type"] == "collection"]
    expected = [tuple(r) for r in report["records"]]
    assert any(got[i:i + len(expected)] == expected for i in range(len(got) - len(expected) + 1))
    assert recs[-1]["type"] == "summary" and recs[-1]["end"] == "target exited"


# ------------------------------------------------------------ odd targets (issue 11)

def test_thread_id_doctor(gcscope, interp, tmp_path):
    """doctor -p TID examines the thread's process, and says so in one line."""
    target = Target(interp, tmp_path, "thread_program.py")
    try:
        tid = int(target.words[2])
        assert tid != target.pid
        r = run(gcscope, "doctor", "-j", "-p", tid)
    finally:
        target.kill()
    assert r.returncode == 0, r.stderr
    assert one_line(r.stderr) == (f"gcscope: pid {tid} is a thread of process {target.pid}: "
                                  f"using process {target.pid}")
    doc = json.loads(r.stdout)
    assert doc["pid"] == target.pid and doc["can_trace"] is True
    assert doc["python"] == ".".join(map(str, interp.version))


def test_thread_id_trace(gcscope, interp, tmp_path):
    """trace -p TID traces the thread's process: every collection of the
    worker thread, with its tid."""
    target = Target(interp, tmp_path, "thread_program.py")
    tid = int(target.words[2])
    g = Gcscope(gcscope, "trace", "-j", "-p", tid)
    try:
        attach = g.wait_attached()
        target.go()
        report = target.report()
        g.proc.send_signal(signal.SIGINT)
        recs = g.finish()
    finally:
        target.kill()
        if g.proc.poll() is None:
            g.proc.kill()
    assert g.proc.returncode == 0, g.stderr
    assert f"pid {tid} is a thread of process {target.pid}: using process {target.pid}" in g.stderr
    assert attach["pid"] == target.pid
    got = [(r["tid"], r["gen"], r["collected"], r["uncollectable"]) for r in recs if r["type"] == "collection"]
    expected = [tuple(r) for r in report["records"]]
    assert len(expected) == 20 and {r[0] for r in expected} == {report["worker_tid"]}
    # gc is disabled in the target: the worker's collections come first,
    # then the interpreter's own at exit, on the main thread
    assert got[:len(expected)] == expected
    assert all(r[0] == target.pid for r in got[len(expected):]), got


def zombie():
    """A process that has exited and that its parent does not reap: (pid, parent)."""
    parent = subprocess.Popen([sys.executable, "-c", "import os, sys, time\n"
                               "p = os.fork()\n"
                               "if p == 0: os._exit(0)\n"
                               "print(p, flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())

    def state():
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    end = time.time() + 10
    while state() != "Z" and time.time() < end:
        time.sleep(0.02)
    assert state() == "Z"
    return pid, parent


@pytest.mark.parametrize("cmd", ["trace", "doctor"])
def test_zombie(gcscope, cmd):
    pid, parent = zombie()
    try:
        r = run(gcscope, cmd, "-p", pid)
    finally:
        parent.kill()
        parent.wait()
    assert r.returncode == EXIT_NO_PROCESS, r
    assert one_line(r.stderr) == (f"gcscope: process {pid} (python3) is a zombie: it has exited and "
                                  f"waits for its parent (pid {parent.pid}) to reap it; there is nothing "
                                  f"left to trace")


@pytest.mark.parametrize("cmd", ["trace", "doctor"])
def test_maps_denied_to_namespaced_root(gcscope, cmd):
    """Root of a user namespace (unshare -U -r) is root by its uid but has no
    rights over a process of the host: the line says that, not "run as root"."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    if subprocess.run(["unshare", "-U", "-r", "true"]).returncode != 0:
        pytest.skip("cannot create a user namespace here")
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = subprocess.run(["unshare", "-U", "-r", gcscope, cmd, "-p", str(p.pid)],
                           capture_output=True, text=True, timeout=60)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_PERMISSION, r
    line = one_line(r.stderr)
    assert line.startswith(f"gcscope: cannot read /proc/{p.pid}/maps: Permission denied: gcscope is "
                           f"root of a user namespace, not of the host (uid_map: 0 0 1)"), line
    assert "run it as root of the host" in line


OLD_PYENV = ["2.7.18", "3.6.15", "3.7.16", "3.8.18"]


def old_python(version):
    path = os.path.join(matrix.pyenv_root(), "versions", version, "bin", "python")
    if not os.access(path, os.X_OK):
        pytest.skip(f"pyenv {version} is not installed")
    return path


@pytest.mark.parametrize("version", OLD_PYENV)
def test_old_cpython_attach(gcscope, version):
    """2.7 and 3.6 have no _PyRuntime, 3.7 and 3.8 have one: each is told it
    runs an unsupported CPython, with its version read from its memory."""
    py = old_python(version)
    p = subprocess.Popen([py, "-c", "import sys; print('ready'); sys.stdout.flush(); sys.stdin.read()"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        rs = [run(gcscope, cmd, "-p", p.pid) for cmd in ("trace", "doctor")]
    finally:
        p.kill()
        p.wait()
    for r in rs:
        assert r.returncode == EXIT_UNSUPPORTED, r
        line = one_line(r.stderr)
        assert f"CPython {version}" in line and "gcscope needs 3.9 or later" in line, line


@pytest.mark.parametrize("version", ["2.7.18", "3.6.15"])
def test_old_cpython_launch(gcscope, version):
    """trace -- python2.7: refused as soon as the interpreter is mapped, not
    run to its end and called "not CPython"."""
    py = old_python(version)
    r = run(gcscope, "trace", "--", py, "-c", "import time; time.sleep(30)", timeout=25)
    assert r.returncode == EXIT_UNSUPPORTED, r
    line = one_line(r.stderr)
    assert f"gcscope: {py} runs CPython older than 3.7 (" in line, line
    assert line.endswith("which is not supported: gcscope needs 3.9 or later"), line


@pytest.mark.parametrize("owners,says", [
    ("[", "the '[' at 1 opens a character class that is never closed"),
    ("x" * 201, "201 characters, at most 200"),
    ("@heaps", "the only keywords are @heap"),
    (",", "empty --owners"),
])
def test_owners_checked_when_parsed(gcscope, owners, says):
    """A bad --owners is a usage error before any target is looked at: the
    pid here names no process, and that is not what the line says."""
    r = run(gcscope, "trace", "--owners", owners, "-p", free_pid())
    assert r.returncode == EXIT_USAGE, r
    assert says in r.stderr.splitlines()[0], r.stderr
