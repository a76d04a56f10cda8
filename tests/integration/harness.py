# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Start real interpreters and gcscope against them."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(os.path.dirname(HERE), "programs")


class Target:
    """A program from tests/programs run by one interpreter of the matrix."""

    def __init__(self, interp, tmp_path, program, *args, env=None, subdir=None):
        d = interp.scratch_dir(tmp_path)
        if subdir:      # the script's path is what --stack reports as its file
            d = os.path.join(d, subdir)
            os.makedirs(d)
        self.script = os.path.join(d, program)
        shutil.copy(os.path.join(PROGRAMS, program), self.script)
        self.proc = subprocess.Popen(interp.argv(interp.inside(self.script), *map(str, args)),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        assert line.startswith("ready"), f"target did not start: {line!r} {self.proc.stderr.read()}"
        # `chroot ROOT python` execs python in place: the same pid.
        self.pid = self.proc.pid
        self.words = line.split()       # "ready PID" and what the program adds
        assert int(self.words[1]) == self.pid, line

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def report(self, timeout=120):
        line = self.proc.stdout.readline()
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0, f"target failed: {self.proc.stderr.read()}"
        return json.loads(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Gcscope:
    """gcscope trace -j, its JSON Lines parsed."""

    def __init__(self, gcscope, *args, stdout=subprocess.PIPE, env=None):
        self.proc = subprocess.Popen([gcscope, *map(str, args)], stdout=stdout,
                                     stderr=subprocess.PIPE, text=True, env=env)
        # stderr read as it comes: a gcscope that writes more than a pipe
        # holds there (a verifier log) must fail the test, not hang it
        # with both sides waiting
        self._err = []
        self._err_reader = threading.Thread(target=lambda: self._err.extend(self.proc.stderr), daemon=True)
        self._err_reader.start()

    def err_text(self, timeout=60):
        """All gcscope wrote to stderr (once it has closed it: it has exited)."""
        self._err_reader.join(timeout)
        return "".join(self._err)

    def wait_attached(self, timeout=60):
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"gcscope did not attach: rc={self.proc.wait()} {self.err_text()[-4000:]}")
        rec = json.loads(line)
        assert rec["type"] == "attach", rec
        return rec

    def finish(self, timeout=120):
        # Not communicate(): it reads the raw pipe and would skip what an
        # earlier readline() left in the text buffer.
        out = self.proc.stdout.read()
        self.proc.wait(timeout=timeout)
        self.stderr = self.err_text()
        self.records = [json.loads(l) for l in out.splitlines() if l.strip()]
        return self.records

    def of_type(self, t):
        return [r for r in self.records if r["type"] == t]


def trace_target(gcscope, interp, tmp_path, program, program_args=(), trace_args=(), env=None,
                 trace_env=None):
    """Run tests/programs/PROGRAM under `gcscope trace -j -p`: start it, wait
    for gcscope's attach record, let it go, and return (attach record, the
    program's own JSON report, gcscope's records) once both have ended."""
    return trace_running(gcscope, Target(interp, tmp_path, program, *program_args, env=env),
                         trace_args, trace_env)


def trace_running(gcscope, target, trace_args=(), trace_env=None):
    """trace_target() for a Target already started (and waiting for "go")."""
    g = Gcscope(gcscope, "trace", "-j", "-p", target.pid, *trace_args, env=trace_env)
    try:
        attach = g.wait_attached()
        target.go()
        report = target.report()
        records = g.finish()
    finally:
        target.kill()
    assert g.proc.returncode == 0, g.stderr
    return attach, report, records


def trace_late(gcscope, target, trace_args=(), trace_env=None):
    """trace_running(), but gcscope is stopped (SIGSTOP) from its attach until
    the target has exited: it reads its ring buffer only then, when nothing
    of the target's memory can be read any more (a short program, one that
    aborts)."""
    g = Gcscope(gcscope, "trace", "-j", "-p", target.pid, *trace_args, env=trace_env)
    try:
        attach = g.wait_attached()
        os.kill(g.proc.pid, signal.SIGSTOP)
        try:
            target.go()
            report = target.report()
        finally:
            os.kill(g.proc.pid, signal.SIGCONT)
        records = g.finish()
    finally:
        target.kill()
    assert g.proc.returncode == 0, g.stderr
    return attach, report, records


def run(gcscope, *args, timeout=60, **kw):
    return subprocess.run([gcscope, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kw)


def collections_of(report):
    return [tuple(r) for r in report["records"]]


def traced_collections(records):
    return [(r["tid"], r["gen"], r["collected"], r["uncollectable"])
            for r in records if r["type"] == "collection"]


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def stop(proc, sig=signal.SIGINT, timeout=30):
    proc.send_signal(sig)
    return proc.wait(timeout=timeout)
