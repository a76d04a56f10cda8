# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""How the target ended, said in text and JSON (issue 11, defect 4), and
-o FILE keeping gcscope's records apart from a launched program's own
stdout (defect 3).  gcscope's own exit code stays 0: the trace worked
(docs/exit-codes.md)."""
import json
import signal
import subprocess
import sys

import pytest

from harness import run
from test_errors import an_interp

# Collects on purpose, then ends as told: "exit N" or "signal N".
PROGRAM = r"""
import gc, os, resource, sys
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
for _ in range(20):
    a = []; a.append(a); del a
    gc.collect()
how, n = sys.argv[1], int(sys.argv[2])
sys.stdout.flush()
if how == "signal":
    os.kill(os.getpid(), n)
    import time; time.sleep(10)
sys.exit(n)
"""


@pytest.mark.parametrize("how,n", [("exit", 3), ("exit", 0), ("signal", signal.SIGSEGV),
                                   ("signal", signal.SIGKILL)])
def test_launched_target_end(gcscope, how, n):
    interp = an_interp()
    r = run(gcscope, "trace", "-j", "--", *interp.argv("-c", PROGRAM, how, n), timeout=120)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    summary = recs[-1]
    assert summary["type"] == "summary" and summary["end"] == "target exited", summary
    assert len([x for x in recs if x["type"] == "collection"]) >= 20
    if how == "exit":
        assert summary["exit_status"] == n and "exit_signal" not in summary
    else:
        assert summary["exit_signal"] == n and "exit_status" not in summary
        assert summary["exit_signal_name"] == "SIG" + signal.Signals(n).name[3:]

    t = run(gcscope, "trace", "--", *interp.argv("-c", PROGRAM, how, n), timeout=120)
    assert t.returncode == 0, t.stderr
    if how == "exit":
        assert f"\nDetaching (target exited with status {n}).\n" in t.stdout
    else:
        want = f"\nDetaching (target exited: killed by signal {n}, {signal.Signals(n).name[3:]}).\n"
        assert want in t.stdout, t.stdout[-400:]


def test_attached_target_status_while_zombie(gcscope, tmp_path):
    """-p: the status can be known while the exited target is a zombie its
    parent has not reaped yet."""
    interp = an_interp()
    child = interp.argv("-c", "import sys, gc\nprint(1, flush=True)\nsys.stdin.readline()\n"
                              "gc.collect()\nsys.exit(5)\n")
    parent_code = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen({child!r}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)\n"
        "p.stdout.readline(); print(p.pid, flush=True)\n"
        "sys.stdin.readline(); p.stdin.write('go\\n'); p.stdin.flush()\n"
        "time.sleep(8)\n")        # not reaped for 8 s: a zombie meanwhile
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        g = subprocess.Popen([gcscope, "trace", "-j", "-p", str(pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert json.loads(g.stdout.readline())["type"] == "attach"
        parent.stdin.write("go\n")
        parent.stdin.flush()
        out = g.stdout.read()
        g.wait(timeout=60)
    finally:
        parent.kill()
        parent.wait()
    recs = [json.loads(l) for l in out.splitlines()]
    assert recs[-1]["end"] == "target exited" and recs[-1]["exit_status"] == 5, recs[-1]


def test_output_file_keeps_records_apart(gcscope, tmp_path):
    """trace -j -o FILE -- CMD: the file holds only gcscope's records, the
    program's block-buffered stdout only its own lines, none cut."""
    interp = an_interp()
    out = tmp_path / "gc.jsonl"
    prog = ("import gc, sys\n"
            "for i in range(3000):\n"
            "    a = []; a.append(a); del a\n"
            "    if i % 10 == 0: gc.collect()\n"
            "    print('line %05d of the program' % i)\n")
    r = run(gcscope, "trace", "-j", "-o", out, "--", *interp.argv("-c", prog), timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == ["line %05d of the program" % i for i in range(3000)]
    recs = [json.loads(l) for l in out.read_text().splitlines()]
    assert recs[0]["type"] == "attach" and recs[-1]["type"] == "summary"
    assert len([x for x in recs if x["type"] == "collection"]) >= 300
    # text too, and a file that cannot be written is a usage error
    r = run(gcscope, "trace", "-o", tmp_path / "gc.txt", "--", *interp.argv("-c", prog), timeout=120)
    assert r.returncode == 0 and (tmp_path / "gc.txt").read_text().startswith("Tracing GC of pid")
    r = run(gcscope, "trace", "-o", tmp_path / "no" / "such" / "dir", "--", *interp.argv("-c", "pass"))
    assert r.returncode == 2
    assert r.stderr.startswith("gcscope: cannot write --output") and r.stderr.count("\n") == 1
