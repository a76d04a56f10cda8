# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Helpers for the gdb tests: start a target program, run real gdb on it or on a core."""
import functools
import json
import os
import re
import select
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GCSCOPE_PY = os.path.join(REPO, "gdb", "gcscope.py")
TSV = os.path.join(REPO, "user", "pylayout.tsv")
PROGRAMS = os.path.join(HERE, "programs")
EMPTY_DEBUG_DIR = "/nonexistent/gcscope-no-debug-info"
GCSCOPE = os.environ.get("GCSCOPE", os.path.join(REPO, ".output", "gcscope"))


def clean_env():
    """Environment without PYTHON* variables (as CPython's test_gdb does)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def gcscope_env(gdb=None):
    """Environment for `gcscope gdb`: the scripts of this tree, and
    GCSCOPE_GDB=gdb if given (else gcscope chooses, user/gdbpick.c)."""
    e = dict(clean_env(), GCSCOPE_GDB_DIR=os.path.join(REPO, "gdb"))
    e.pop("GCSCOPE_GDB", None)
    if gdb:
        e["GCSCOPE_GDB"] = gdb
    return e


@functools.lru_cache(maxsize=None)
def which_gdb(gdb=None):
    """`gcscope gdb --which -j` (GCSCOPE_GDB=gdb if given): the gdbs it
    tried, each with whether it can make inferior calls here."""
    r = subprocess.run([GCSCOPE, "gdb", "--which", "-j"], capture_output=True, text=True,
                       timeout=300, env=gcscope_env(gdb), stdin=subprocess.DEVNULL)
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout)


def chosen_gdb(which):
    """The candidate `gcscope gdb` runs, or None."""
    return which["candidates"][which["chosen"]] if which["chosen"] is not None else None


class Target:
    """A running target program: proc, report (its JSON), ready line words."""

    def __init__(self, proc, report, ready, scratch):
        self.proc = proc
        self.report = report
        self.ready = ready
        self.scratch = scratch

    @property
    def pid(self):
        return self.report["pid"]

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(interp, tmp_path, program, *args, timeout=120, env=None, scratch=None):
    """Copy programs/ into a dir the target sees, run PROGRAM REPORT FIFO ARGS..., wait for ready.

    The program runs with the scratch dir as its cwd (where a kernel core goes)."""
    scratch = scratch or interp.scratch_dir(tmp_path)
    dst = os.path.join(scratch, "programs")
    if not os.path.exists(dst):
        shutil.copytree(PROGRAMS, dst)
    report = os.path.join(scratch, "report.json")
    fifo = os.path.join(scratch, "ready.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    argv = interp.argv(interp.inside(os.path.join(dst, program)), interp.inside(report),
                       interp.inside(fifo), *args)
    e = clean_env()
    if env:
        e.update(env)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=e, cwd=scratch)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")
                raise RuntimeError("%s exited with %s before ready: %s" % (program, proc.returncode, err[-2000:]))
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                raise RuntimeError("%s not ready after %ss" % (program, timeout))
            r, _, _ = select.select([rfd], [], [], min(left, 0.5))
            if r:
                buf += os.read(rfd, 4096)
    finally:
        os.close(rfd)
    with open(report) as f:
        rep = json.load(f)
    return Target(proc, rep, buf.decode().split(), scratch)


def wait_core(t, timeout=120):
    """Wait for the target to die; return the path of the core it dumped, or None."""
    t.proc.wait(timeout=timeout)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cores = [os.path.join(t.scratch, f) for f in os.listdir(t.scratch)
                 if f == "core" or f.startswith("core.")]
        if cores:
            core = cores[0]
            # the kernel may still be writing it
            size = -1
            while os.path.getsize(core) != size:
                size = os.path.getsize(core)
                time.sleep(0.2)
            return core
        time.sleep(0.2)
    return None


def gdb_argv(interp, commands, pid=None, core=None, dwarf=True, source=True):
    argv = ["gdb", "--batch", "-nx", "-iex", "set debuginfod enabled off",
            "-iex", "set auto-load no"]
    if not dwarf:
        argv += ["-iex", "set debug-file-directory " + EMPTY_DEBUG_DIR]
    elif interp.root != "/":
        argv += ["-iex", "set debug-file-directory " + os.path.join(interp.root, "usr/lib/debug")]
    if interp.root != "/":
        argv += ["-iex", "set sysroot " + interp.root]
    argv += ["-ex", "file " + interp.host_path]
    if pid is not None:
        argv += ["-ex", "attach %d" % pid]
    if core is not None:
        argv += ["-ex", "core-file " + core]
    if source:
        argv += ["-ex", "source " + GCSCOPE_PY]
    for c in commands:
        argv += ["-ex", c]
    return argv


def run_gdb(interp, commands, timeout=300, **kw):
    """Run gdb; return (stdout, stderr)."""
    r = subprocess.run(gdb_argv(interp, commands, **kw), capture_output=True, text=True,
                       timeout=timeout, env=clean_env(), stdin=subprocess.DEVNULL)
    return r.stdout, r.stderr


def gcore_and_stop(interp, t, dest_dir, dwarf=True):
    """gcore() of target t; t is stopped afterwards, whether or not it worked."""
    try:
        return gcore(interp, t.pid, dest_dir, dwarf=dwarf)
    finally:
        t.stop()


def gcore(interp, pid, dest_dir, dwarf=True):
    """A core of a live target made by gdb's gcore (same gdb setup as the tests)."""
    core = os.path.join(dest_dir, "core.%d" % pid)
    out, err = run_gdb(interp, ["gcore " + core], pid=pid, dwarf=dwarf, source=False)
    if not os.path.exists(core):
        raise RuntimeError("gcore failed: " + err[-2000:])
    return core


# ---------------------------------------------------------------- output parsing

def parse_status(text):
    """{key: value string} of the first interpreter block of py-gc-status."""
    d = {}
    for line in text.splitlines():
        m = re.match(r"^  (\w[\w ()\.]*?): (.*)$", line)
        if m and m.group(1) not in d:
            d[m.group(1)] = m.group(2)
        m = re.match(r"^    (\w[\w ]*?): (.*)$", line)
        if m and ("collecting." + m.group(1)) not in d:
            d["collecting." + m.group(1)] = m.group(2)
    return d


def parse_census(text):
    """{generation title: {type name: count}} and {title: total}."""
    cur = None
    counts, totals = {}, {}
    for line in text.splitlines():
        m = re.match(r"^(generation \d|permanent generation|heaps|unreachable[^:]*|generation being collected[^:]*): (\d+) objects", line)
        if m:
            cur = m.group(1)
            counts[cur] = {}
            totals[cur] = int(m.group(2))
            continue
        m = re.match(r"^  +(\d+)  (.+)$", line)
        if m and cur is not None and not m.group(2).startswith("("):
            counts[cur][m.group(2)] = int(m.group(1))
    return counts, totals
