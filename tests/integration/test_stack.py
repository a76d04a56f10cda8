# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""trace --stack against real interpreters: the exact Python stack.

tests/programs/stack_program.py takes its own stack (sys._getframe, on the
line of each gc.collect()) and reports it; gcscope must report the same
frames (file, function, line), innermost first, for a collection on the
main thread, one on a worker thread, and one deeper than the cap.
"""
import json
import queue
import re
import threading

import pytest

from harness import Gcscope, Target

CAP = 32  # GCSCOPE_STACK_MAX


class Lines:
    """gcscope's stdout, read by a thread so that reads can time out."""

    def __init__(self, proc):
        self.q = queue.Queue()
        self.all = []
        threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True).start()

    def _pump(self, f):
        for line in f:
            self.q.put(line)
        self.q.put(None)

    def get(self, timeout=60):
        line = self.q.get(timeout=timeout)
        if line is not None:
            self.all.append(line)
        return line

    def rest(self, timeout=120):
        out = []
        while True:
            line = self.get(timeout)
            if line is None:
                return out
            out.append(line)


def run_stack_program(gcscope, interp, tmp_path, *extra, json_mode=True):
    """Run the program under `trace --stack`; returns (the program's report,
    gcscope's lines up to and including the program's three collections, the
    rest of its lines, gcscope's stderr)."""
    target = Target(interp, tmp_path, "stack_program.py")
    args = ["trace", "--stack", "-p", target.pid, *extra]
    if json_mode:
        args.insert(1, "-j")
    g = Gcscope(gcscope, *args)
    lines = Lines(g.proc)
    try:
        head = []
        # the attach line (JSON) or the banner and the column titles (text)
        for _ in range(1 if json_mode else 2):
            line = lines.get()
            assert line is not None, f"gcscope did not attach: {g.proc.wait()} {g.err_text()}"
            head.append(line)
        target.go()
        report = json.loads(target.proc.stdout.readline())
        # The program keeps its code objects alive until gcscope has shown
        # its collections (gcscope reads them from the target).
        seen = 0
        while seen < len(report["collections"]):
            line = lines.get()
            assert line is not None, f"gcscope ended early: {g.proc.wait()} {g.err_text()}"
            head.append(line)
            if (json_mode and json.loads(line)["type"] == "collection") or \
                    (not json_mode and not line.startswith(" ") and re.match(r"\d\d:", line)):
                seen += 1
        target.go()
        target.proc.wait(timeout=60)
        rest = lines.rest()
        # A collection's stack lines were written with it (one flush).
        while rest and rest[0].startswith("    "):
            head.append(rest.pop(0))
        g.proc.wait(timeout=60)
        stderr = g.err_text()
    finally:
        target.kill()
        if g.proc.poll() is None:
            g.proc.kill()
    assert g.proc.returncode == 0, stderr
    return report, head, rest, stderr


def expected(rec):
    return [(f["file"], f["function"], f["line"]) for f in rec["stack"]]


def check_json(report, head):
    attach = json.loads(head[0])
    assert attach["type"] == "attach"
    assert attach["stacks"] is True, attach
    colls = [json.loads(l) for l in head[1:]]
    colls = [c for c in colls if c["type"] == "collection"]
    assert len(colls) == len(report["collections"]) == 3
    tags = [r["tag"] for r in report["collections"]]
    assert tags == ["main", "worker", "deep"]
    for rec, c in zip(report["collections"], colls):
        assert c["tid"] == rec["tid"], (rec["tag"], c)
        assert c["gen"] == 2
        got = [(f["file"], f["function"], f["line"]) for f in c["stack"]]
        want = expected(rec)
        assert got == want[:CAP], f"{rec['tag']}:\n got {got}\nwant {want}"
        assert c.get("stack_truncated", False) == (len(want) > CAP), rec["tag"]
        assert "stack_error" not in c
    main, worker, deep = report["collections"]
    assert main["tid"] == report["main_tid"] == deep["tid"]
    assert worker["tid"] != report["main_tid"]
    # the worker's stack goes down into threading's own frames
    assert expected(worker)[-1][0].endswith("threading.py")
    assert len(expected(deep)) > CAP


def test_stack_exact(gcscope, interp, tmp_path):
    report, head, rest, _ = run_stack_program(gcscope, interp, tmp_path)
    check_json(report, head)
    # Collections during interpreter shutdown, after the program's code ran,
    # come with whatever stack the thread has then, never with an error.
    summary = [json.loads(l) for l in rest if json.loads(l)["type"] == "summary"]
    assert summary and summary[0]["lost"] == 0


def test_stack_without_debuginfo(gcscope, interp, tmp_path):
    """The table alone (and _Py_DebugOffsets on 3.13+) gives exact stacks:
    stripped release builds without their -dbg package are traced so."""
    if not interp.usdt:
        pytest.skip(f"{interp.name}: without debug info a build with no USDT probes has no probe")
    report, head, _, _ = run_stack_program(gcscope, interp, tmp_path, "--no-debuginfo")
    check_json(report, head)


def test_stack_text(gcscope, interp, tmp_path):
    report, head, _, _ = run_stack_program(gcscope, interp, tmp_path, json_mode=False)
    blocks, cur = [], None
    for line in head[2:]:
        line = line.rstrip("\n")
        if not line.startswith(" "):
            cur = {"line": line, "stack": []}
            blocks.append(cur)
        else:
            assert len(line) < 80, line
            cur["stack"].append(line)
    assert len(blocks) == 3
    for rec, b in zip(report["collections"], blocks):
        assert b["line"].split()[1] == str(rec["tid"])
        want = expected(rec)
        lines = b["stack"]
        if len(want) > CAP:
            assert lines[-1] == f"    ... (deeper than {CAP} frames)"
            lines = lines[:-1]
        assert len(lines) == min(len(want), CAP)
        for text, (file, func, line) in zip(lines, want):
            m = re.fullmatch(r"    at (.*) \((.*):(\d+)\)", text)
            assert m, text
            assert m.group(1) == func
            assert m.group(3) == str(line)
            shown = m.group(2)
            # the path is shortened from the left to stay under 80 columns
            if shown.startswith("...") and shown != file:
                assert file.endswith(shown[3:]), (shown, file)
            else:
                assert shown == file


def test_stack_unavailable_says_why():
    pytest.skip("every interpreter of the matrix has the layout --stack needs, from DWARF, "
                "_Py_DebugOffsets or the table (even with --no-debuginfo, see "
                "test_stack_without_debuginfo); the refusal itself is unit tested in "
                "tests/unit/test_pystack.c (pystack_new on an incomplete layout)")
