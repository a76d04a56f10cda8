# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Collect in a loop until told to stop; then report what gc.callbacks saw.

Protocol: prints "ready PID", waits for "go"; collects (gc.collect(0) on
cycles, BURST at a time) until a second line ("stop") arrives on stdin;
prints one JSON line {"collections": N, "stats": gc.get_stats()}.

usage: gc_loop.py [BURST]
"""
import gc
import json
import os
import sys
import threading

BURST = int(sys.argv[1]) if len(sys.argv) > 1 else 1
count = 0
stop = threading.Event()


def on_gc(phase, info):
    global count
    if phase == "stop":
        count += 1


class Node:
    pass


def wait_stop():
    sys.stdin.readline()
    stop.set()


print("ready", os.getpid(), flush=True)
sys.stdin.readline()
threading.Thread(target=wait_stop, daemon=True).start()
gc.callbacks.append(on_gc)
while not stop.is_set():
    for _ in range(BURST):
        a, b = Node(), Node()
        a.o, b.o = b, a
        del a, b
        gc.collect(0)
    stop.wait(0.001)
gc.callbacks.remove(on_gc)
print(json.dumps({"collections": count, "stats": gc.get_stats()}), flush=True)
