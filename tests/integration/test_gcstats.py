# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The tier without BPF (user/gcstats.c, `gcscope stats`): a target's own GC
counters read from its memory must equal what the target itself reports
(gc.get_stats(), gc.callbacks), on every interpreter of the matrix."""
import json
import os
import shutil
import subprocess

import pytest

import matrix
from harness import Target, run

EXIT_NO_PROCESS, EXIT_NOT_PYTHON, EXIT_UNSUPPORTED = 3, 4, 7


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gcscope: "), stderr
    return lines[0]


class Quiescent:
    """tests/programs/gcstats_target.py, stopped at its quiescent point."""

    def __init__(self, interp, tmp_path):
        self.t = Target(interp, tmp_path, "gcstats_target.py")
        self.t.go()
        line = self.t.proc.stdout.readline()
        assert line, f"target failed: {self.t.proc.stderr.read()}"
        self.report = json.loads(line)
        self.pid = self.t.pid

    def finish(self):
        self.t.go()
        self.t.proc.wait(timeout=60)
        assert self.t.proc.returncode == 0, self.t.proc.stderr.read()


def stats_json(gcscope, pid, *extra):
    r = run(gcscope, "stats", "-j", "-p", pid, *extra)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


@pytest.mark.parametrize("src", ["default", "no-debuginfo"])
def test_counters_equal_get_stats(gcscope, interp, tmp_path, src):
    q = Quiescent(interp, tmp_path)
    if src == "no-debuginfo" and "freethreaded" in interp.tags:
        # its GC state is not the GIL builds' struct: the table cannot say
        # where the counters are, and 3.13's _Py_DebugOffsets does not
        try:
            r = run(gcscope, "stats", "-p", q.pid, "--no-debuginfo")
            doctor = run(gcscope, "doctor", "-j", "-p", q.pid, "--no-debuginfo")
        finally:
            q.finish()
        assert r.returncode == 7, r.stderr
        assert "free-threaded build: where its GC state keeps the counters is known only from its debug info" \
            in r.stderr, r.stderr
        d = json.loads(doctor.stdout.splitlines()[-1])
        assert d["memory_tier"] is False and d["memory_tier_detail"].startswith("free-threaded build"), d
        return
    try:
        extra = ("--no-debuginfo",) if src == "no-debuginfo" else ()
        recs = stats_json(gcscope, q.pid, *extra)
        text = run(gcscope, "stats", "-p", q.pid, *extra)
        doctor = run(gcscope, "doctor", "-j", "-p", q.pid, *extra)
    finally:
        q.finish()
    want = q.report["stats"]
    # the run collected in every generation: the counters are not trivially 0
    assert all(g["collections"] > 0 for g in want), want
    assert recs[0]["type"] == "stats" and recs[0]["pid"] == q.pid
    assert recs[0]["tier"] == "memory"
    got = [{k: g[k] for k in ("collections", "collected", "uncollectable")} for g in recs[0]["generations"]]
    assert got == [{k: g[k] for k in ("collections", "collected", "uncollectable")} for g in want]
    # the text form shows the same numbers
    assert text.returncode == 0, text.stderr
    rows = [l.split() for l in text.stdout.splitlines()[2:5]]
    assert rows == [[str(i), str(g["collections"]), str(g["collected"]), str(g["uncollectable"])]
                    for i, g in enumerate(want)]
    # doctor says the counters can be read without BPF
    d = json.loads(doctor.stdout.splitlines()[-1])
    assert d["memory_tier"] is True, d
    assert d["tier"] in ("bpf", "memory"), d


def test_ring_records_equal_callbacks(gcscope, interp, tmp_path):
    if interp.version < (3, 15):
        q = Quiescent(interp, tmp_path)
        try:
            r = run(gcscope, "stats", "--records", "-p", q.pid)
        finally:
            q.finish()
        # no records before 3.15: said in one line, exit 7
        assert r.returncode == EXIT_UNSUPPORTED, r
        assert "keeps no per-collection records" in one_line(r.stderr)
        return
    q = Quiescent(interp, tmp_path)
    try:
        out = stats_json(gcscope, q.pid, "--records")
    finally:
        q.finish()
    records = [r for r in out if r["type"] == "record"]
    end = [r for r in out if r["type"] == "end"]
    assert len(end) == 1 and end[0]["records"] == len(records)
    base = [g["collections"] for g in q.report["base"]]
    final = [g["collections"] for g in q.report["stats"]]
    # each generation's collections since the callbacks were installed, in order
    by_gen = {g: [c for c in q.report["collections"] if c["generation"] == g] for g in range(3)}
    for g in range(3):
        assert len(by_gen[g]) == final[g] - base[g], (g, by_gen[g], base, final)
    compared = 0
    for r in records:
        g, n = r["generation"], r["collections"]
        assert 1 <= n <= final[g]
        if n <= base[g]:
            continue        # before the callbacks: nothing to compare with
        cb = by_gen[g][n - base[g] - 1]
        if r["collected"] is not None:
            assert (r["collected"], r["uncollectable"]) == (cb["collected"], cb["uncollectable"]), (r, cb)
            compared += 1
        # plausible times: inside the collection as the callbacks saw it,
        # and CPython's own duration says the same
        assert cb["t_start"] <= r["ts_start"] <= r["ts_end"] <= cb["t_stop"], (r, cb)
        assert r["pause_ns"] == r["ts_end"] - r["ts_start"]
        if r["duration_s"] is not None:
            assert abs(r["duration_s"] * 1e9 - r["pause_ns"]) <= max(0.05 * r["pause_ns"], 50_000), r
    # the rings hold 11 young and 3 of each old generation: most had a
    # predecessor to subtract
    held = {g: min(final[g] - base[g], 11 if g == 0 else 3) for g in range(3)}
    assert compared >= sum(held.values()) - 3, (compared, held, records)
    # what the rings no longer hold is counted, not lost silently
    assert end[0]["records"] + end[0]["missed"] == sum(final), end


def test_no_such_process(gcscope):
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    r = run(gcscope, "stats", "-p", pid)
    assert r.returncode == EXIT_NO_PROCESS
    assert f"no process with pid {pid}" in one_line(r.stderr)


def test_exited_process(gcscope):
    p = subprocess.Popen(["python3", "-c", "pass"])
    p.wait()
    r = run(gcscope, "stats", "-p", p.pid)
    assert r.returncode == EXIT_NO_PROCESS
    assert f"no process with pid {p.pid}" in one_line(r.stderr)


def test_not_python(gcscope):
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = run(gcscope, "stats", "-p", p.pid)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_NOT_PYTHON
    assert "is not running CPython" in one_line(r.stderr)


@pytest.fixture
def python_316(tmp_path):
    """Debian's python3.11 whose Py_Version says 3.16.0: a version no column
    of pylayout.tsv covers, without _Py_DebugOffsets (3.11 has none)."""
    src = "/usr/bin/python3.11"
    if not os.path.exists(src):
        pytest.skip(f"{src} is not installed")
    out = subprocess.run(["readelf", "-W", "--dyn-syms", src], capture_output=True, text=True, check=True).stdout
    sym = [l.split() for l in out.splitlines() if l.split()[-1:] == ["Py_Version"]]
    assert sym, "python3.11 exports no Py_Version"
    vaddr = int(sym[0][1], 16)
    secs = subprocess.run(["readelf", "-W", "-S", src], capture_output=True, text=True, check=True).stdout
    off = None
    for l in secs.splitlines():
        f = l.replace("[ ", "[").split()
        if len(f) > 5 and f[0].startswith("[") and f[1] in (".rodata",):
            addr, foff, size = int(f[3], 16), int(f[4], 16), int(f[5], 16)
            if addr <= vaddr < addr + size:
                off = vaddr - addr + foff
    assert off is not None, "Py_Version not in .rodata"
    dst = tmp_path / "python3.11"
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        f.seek(off)
        v = int.from_bytes(f.read(4), "little")
        assert v >> 16 == 0x030b, hex(v)
        f.seek(off)
        f.write((0x031000f0).to_bytes(4, "little"))
    return str(dst)


def test_no_layout(gcscope, python_316):
    p = subprocess.Popen([python_316, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        r = run(gcscope, "stats", "--no-debuginfo", "-p", p.pid)
        d = run(gcscope, "doctor", "-j", "--no-debuginfo", "-p", p.pid)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == EXIT_UNSUPPORTED, r
    line = one_line(r.stderr)
    assert "the layout of CPython 3.16.0 is not known" in line, line
    doc = json.loads(d.stdout.splitlines()[-1])
    assert doc["memory_tier"] is False and doc["memory_tier_detail"], doc


def test_without_bpf_privileges(gcscope):
    """The point of the tier: a user without CAP_BPF (here nobody, watching
    its own process) cannot trace, but reads the exact counters, and
    doctor says so."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    py = "/usr/bin/python3.11"
    if not os.path.exists(py):
        pytest.skip(f"{py} is not installed")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    code = ("import gc, json, sys\n"
            "for i in range(5000):\n    a = []; a.append(a)\n"
            "gc.collect(1); gc.disable()\n"
            "print(json.dumps(gc.get_stats()), flush=True); sys.stdin.read()")
    p = subprocess.Popen([*nobody, py, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        want = json.loads(p.stdout.readline())
        r = subprocess.run([*nobody, gcscope, "stats", "-j", "-p", str(p.pid)], capture_output=True, text=True,
                           timeout=60)
        d = subprocess.run([*nobody, gcscope, "doctor", "-j", "-p", str(p.pid)], capture_output=True, text=True,
                           timeout=60)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["generations"]
    assert [(g["collections"], g["collected"], g["uncollectable"]) for g in got] == \
        [(g["collections"], g["collected"], g["uncollectable"]) for g in want]
    assert d.returncode == 6, d         # trace would fail: not enough privilege
    doc = json.loads(d.stdout.splitlines()[-1])
    assert doc["tier"] == "memory" and doc["memory_tier"] is True, doc
    assert "CAP_BPF" in doc["tier_detail"], doc
