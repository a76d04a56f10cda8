# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A worker thread that collects, for `-p TID` (a thread id, not the pid).

Protocol (tests/integration/harness.py): prints "ready PID WORKER_TID" with
the worker already running and waiting; on "go" the worker collects ROUNDS
generation-0 cycles, and the program prints one JSON line: every collection
as gc.callbacks saw it (native thread id, generation, collected,
uncollectable) and the worker's tid.

usage: thread_program.py [ROUNDS]
"""
import gc
import json
import os
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
records = []
go = threading.Event()
tid = []


def on_gc(phase, info):
    if phase == "stop":
        records.append([threading.get_native_id(), info["generation"],
                        info["collected"], info["uncollectable"]])


class Node:
    pass


def worker():
    tid.append(threading.get_native_id())
    go.wait()
    for _ in range(ROUNDS):
        a, b = Node(), Node()
        a.o, b.o = b, a
        del a, b
        gc.collect(0)


t = threading.Thread(target=worker)
t.start()
while not tid:
    pass
gc.disable()        # only the worker's explicit collections
print("ready", os.getpid(), tid[0], flush=True)
sys.stdin.readline()
gc.callbacks.append(on_gc)
go.set()
t.join()
gc.callbacks.remove(on_gc)
print(json.dumps({"records": records, "worker_tid": tid[0]}), flush=True)
