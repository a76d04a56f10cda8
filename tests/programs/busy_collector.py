# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A process that collects all the time, as a busy service does, so that a
collection is under way at any moment gcscope attaches.

Prints "ready PID".  Each "go" line on stdin: the next 200 collections are
counted through gc.callbacks and reported as one JSON line (their generation
and collected counts); the loop goes on until stdin closes.
"""
import gc
import json
import os
import sys
import threading

N = 200
wanted = threading.Semaphore(0)
done = threading.Event()


def reader():
    for line in sys.stdin:
        if line.strip() == "go":
            wanted.release()
    done.set()


class Node:
    pass


def cycle():
    # 300 cycles a round: each collection takes about as long as making
    # them, so that one is under way about half the time (the race needs a
    # collection running while the probes attach), at a few thousand
    # collections a second (not 100,000: gcscope reports every one).
    for _ in range(300):
        a, b = Node(), Node()
        a.b, b.a = b, a


def main():
    threading.Thread(target=reader, daemon=True).start()
    tid = threading.get_native_id()
    print("ready", os.getpid(), flush=True)
    while not done.is_set():
        if not wanted.acquire(blocking=False):
            cycle()
            gc.collect(0)
            continue
        seen = []

        def cb(phase, info):
            if phase == "stop" and threading.get_native_id() == tid:
                seen.append((tid, info["generation"], info["collected"], info["uncollectable"]))
        gc.callbacks.append(cb)
        while len(seen) < N:
            cycle()
            gc.collect(0)
        gc.callbacks.remove(cb)
        print(json.dumps({"records": seen[:N]}), flush=True)


main()
