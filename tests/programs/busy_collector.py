# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A process that collects all the time, as a busy service does, so that a
collection is under way at any moment gcscope attaches.

Prints "ready PID".  Between commands it runs tiny collections back to back
(one cycle each, some 100,000 a second: short enough that `trace --min-ms`
hides them, so gcscope prints almost nothing for them).  Each "go" line on
stdin: N long collections (CYCLES cycles each, a millisecond or more) are
made and counted through gc.callbacks, and reported as one JSON line.
Automatic collection is off, so the callback sees only these.
"""
import gc
import json
import os
import sys
import threading

N = 50
CYCLES = 5000
wanted = threading.Semaphore(0)
done = threading.Event()


def reader():
    for line in sys.stdin:
        if line.strip() == "go":
            wanted.release()
    done.set()


class Node:
    pass


def cycles(n):
    for _ in range(n):
        a, b = Node(), Node()
        a.b, b.a = b, a


def main():
    gc.disable()
    threading.Thread(target=reader, daemon=True).start()
    tid = threading.get_native_id()
    print("ready", os.getpid(), flush=True)
    while not done.is_set():
        if not wanted.acquire(blocking=False):
            cycles(1)
            gc.collect(0)
            continue
        seen = []

        def cb(phase, info):
            if phase == "stop" and threading.get_native_id() == tid:
                seen.append((tid, info["generation"], info["collected"], info["uncollectable"]))
        gc.callbacks.append(cb)
        for _ in range(N):
            cycles(CYCLES)
            gc.collect(0)
        gc.callbacks.remove(cb)
        print(json.dumps({"records": seen}), flush=True)


main()
