# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A deterministic GC workload that keeps its own account of every collection.

Protocol (tests/integration/harness.py): prints "ready PID", waits for a line
on stdin, runs the workload, then prints one JSON line: every collection as
gc.callbacks saw it (native thread id, generation, collected, uncollectable),
and gc.get_stats() before and after.

usage: gc_workload.py [ROUNDS] [THREADS]
GC_WORKLOAD_DLOPEN=LIB[:LIB...]: ctypes.CDLL() each library first (a hostile
library mapped by the target: tests/integration/test_hostile_files.py).
"""
import ctypes
import gc
import json
import os
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2

records = []


def on_gc(phase, info):
    if phase == "stop":
        records.append([threading.get_native_id(), info["generation"],
                        info["collected"], info["uncollectable"]])


class Node:
    def __init__(self):
        self.other = None


def make_cycles(n):
    for _ in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a


def work(tag):
    for r in range(ROUNDS):
        make_cycles(50 + r)
        gc.collect(0)
        make_cycles(20)
        gc.collect(1)
        make_cycles(10)
        gc.collect(2)
        # automatic collections: enough container allocations to pass gen0's
        # threshold several times
        junk = [[i] for i in range(5000)]
        del junk


for lib in filter(None, os.environ.get("GC_WORKLOAD_DLOPEN", "").split(":")):
    ctypes.CDLL(lib)

print("ready", os.getpid(), flush=True)
sys.stdin.readline()

before = gc.get_stats()
gc.callbacks.append(on_gc)
work("main")
workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(THREADS)]
for t in workers:
    t.start()
    t.join()            # one after the other: each is a distinct thread id
make_cycles(100)
gc.collect()
gc.callbacks.remove(on_gc)
after = gc.get_stats()

print(json.dumps({"records": records, "before": before, "after": after,
                  "worker_tids": [t.native_id for t in workers],
                  "main_tid": threading.get_native_id()}), flush=True)
