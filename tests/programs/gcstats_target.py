# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Collections whose account the target keeps itself, then a quiescent point.

Prints "ready PID", waits for "go", then makes cycles and collects them in
every generation, recording each collection through gc.callbacks (its
generation, collected, uncollectable and the CLOCK_MONOTONIC times of the
start and stop callbacks).  Then it disables the collector, prints one JSON
line {"stats": gc.get_stats(), "base": gc.get_stats() when the callbacks were
installed, "collections": [...]}, and waits for "go" again before it exits:
in between, its counters do not move.
"""
import gc
import json
import os
import sys
import time

log = []


def cb(phase, info):
    now = time.monotonic_ns()
    if phase == "start":
        log.append({"generation": info["generation"], "t_start": now})
    else:
        log[-1].update(collected=info["collected"], uncollectable=info["uncollectable"], t_stop=now)


def garbage(n):
    for _ in range(n):
        a = []
        a.append(a)


def main():
    print("ready", os.getpid(), flush=True)
    sys.stdin.readline()
    gc.collect()
    base = [dict(s) for s in gc.get_stats()]
    gc.callbacks.append(cb)
    for i in range(30):                  # automatic young collections too
        garbage(2000)
    for g in (0, 0, 1, 0, 2, 0, 1, 0, 0, 2, 0, 1):
        garbage(300 + 50 * g)
        gc.collect(g)
    gc.disable()
    gc.callbacks.remove(cb)
    stats = gc.get_stats()
    print(json.dumps({"stats": stats, "base": base, "collections": log}), flush=True)
    sys.stdin.readline()


main()
