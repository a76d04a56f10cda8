# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Attaching to a process that is collecting at that very moment.

The end probe used to be attached after the start probe: a collection that
began between the two left the thread's nesting depth off by one, and that
tracer never reported a collection of the thread again (0 collections, 0
lost, 0 unpaired).  A busy collector hit it in about one attach in three;
five attaches to the same process, each checked against the target's own
gc.callbacks, catch a return of it.  --min-ms hides the target's tiny busy
collections (some 100,000 a second), so that only its long counted ones
are printed and parsed.
"""
import json
import signal

import pytest

from harness import Gcscope, Target, traced_collections

ATTACHES = 5


def find_run(got, expected):
    for i in range(len(got) - len(expected) + 1):
        if got[i:i + len(expected)] == expected:
            return i
    return -1


@pytest.mark.parametrize("probe", ["auto", "uprobe"])
def test_attach_while_collecting(gcscope, interp, tmp_path, probe):
    if interp.name != "debian-3.11" and not interp.name.startswith("pyenv-3.12"):
        pytest.skip("a USDT build and a uprobe-only build are enough for this race")
    if probe == "uprobe" and not interp.usdt:
        pytest.skip(f"{interp.name} has no USDT probes: 'auto' is already the uprobe")
    t = Target(interp, tmp_path, "busy_collector.py")
    try:
        for n in range(ATTACHES):
            args = ["trace", "-j", "--min-ms", "0.3", "-p", t.pid] + (["--probe", "uprobe"] if probe == "uprobe" else [])
            g = Gcscope(gcscope, *args)
            g.wait_attached()
            t.go()
            expected = [tuple(r) for r in json.loads(t.proc.stdout.readline())["records"]]
            g.proc.send_signal(signal.SIGINT)
            records = g.finish()
            assert g.proc.returncode == 0, g.stderr
            got = [c for c in traced_collections(records) if c[2] >= 2 * 5000]
            summary = next((r for r in records if r["type"] == "summary"), {})
            assert find_run(got, expected) >= 0, (
                f"attach {n + 1} of {ATTACHES}: the target saw {len(expected)} collections, "
                f"gcscope reported {len(got)} in all: {got[:5]}; "
                f"the target's first {expected[:2]}; lost {summary.get('lost')}, "
                f"unpaired {summary.get('unpaired')}, hidden {summary.get('hidden')}; {g.stderr[-2000:]}")
    finally:
        t.proc.stdin.close()
        t.kill()
