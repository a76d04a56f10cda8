# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A target for gcscope agent (tests/integration/test_agent.py) that keeps
its own account of every collection, per generation, and then stays alive.

Protocol: prints "ready PID STATS" (STATS: gc.get_stats() as compact JSON); on "go" it runs a deterministic workload on
its main thread and THREADS threads, with gc.callbacks counting; prints one
JSON line: per generation the collections, collected and uncollectable
gc.callbacks saw, the thread ids, each collection as [tid, generation,
collected, uncollectable] ("records"), and gc.get_stats() ("stats": its
running totals since the start, what the agent's memory tier reads); then
waits for a line and ends with
os._exit(0), so that no shutdown collection comes after the account.

The collector is disabled outside the account (gc.disable()), so that every
collection the agent can see from its attach to the end is in it.

usage: agent_target.py [ROUNDS] [THREADS] [COMM]
COMM: prctl(PR_SET_NAME) to it before "ready" (a process that renames
itself after its start, for --match).
"""
import ctypes
import gc
import json
import os
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
COMM = sys.argv[3] if len(sys.argv) > 3 else ""

account = {g: [0, 0, 0] for g in range(3)}
tids = set()
records = []


def on_gc(phase, info):
    if phase == "stop":
        a = account[info["generation"]]
        a[0] += 1
        a[1] += info["collected"]
        a[2] += info["uncollectable"]
        tids.add(threading.get_native_id())
        records.append([threading.get_native_id(), info["generation"], info["collected"], info["uncollectable"]])


class Node:
    def __init__(self):
        self.other = None


def make_cycles(n):
    for _ in range(n):
        a, b = Node(), Node()
        a.other, b.other = b, a


def work():
    for r in range(ROUNDS):
        make_cycles(50 + r)
        gc.collect(0)
        make_cycles(20)
        gc.collect(1)
        make_cycles(10)
        gc.collect(2)
        junk = [[i] for i in range(5000)]     # automatic collections too
        del junk


gc.disable()
if COMM:
    ctypes.CDLL(None).prctl(15, COMM.encode(), 0, 0, 0)    # PR_SET_NAME
def stats():
    return [[g["collections"], g["collected"], g["uncollectable"]] for g in gc.get_stats()]


print("ready", os.getpid(), json.dumps(stats(), separators=(",", ":")), flush=True)
sys.stdin.readline()
gc.callbacks.append(on_gc)
gc.enable()
work()
for t in [threading.Thread(target=work) for _ in range(THREADS)]:
    t.start()
    t.join()
gc.disable()
gc.callbacks.remove(on_gc)
print(json.dumps({"account": account, "tids": sorted(tids), "records": records, "stats": stats()}), flush=True)
sys.stdin.readline()
os._exit(0)
