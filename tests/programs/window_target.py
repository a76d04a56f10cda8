# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A target for the agent's type windows (tests/integration/test_agent.py):
collections that each destroy a known number of objects of a named class,
counted by the target itself.

Protocol: prints "ready PID"; on "go" runs the scenario for SECONDS seconds,
prints one JSON line with its own account, then waits for a line and ends
with os._exit(0) (no shutdown collection after the account).

usage: window_target.py SCENARIO SECONDS [N]
  nodes   on the main thread, rounds of N WindowNode objects in cycles
          (N/2 pairs) and gc.collect(): every collection destroys exactly
          N WindowNode objects (gc.callbacks' "collected" says N each time)
  worker  N WindowOwned objects in cycles made on the main thread, then
          collected by gc.collect() on a worker thread "collector": every
          collection destroys N objects owned by the main thread

Automatic collection is off (gc.disable()), so every collection the agent
sees is one of the scenario's.
"""
import gc
import json
import os
import sys
import threading
import time

SCENARIO = sys.argv[1]
SECONDS = float(sys.argv[2])
N = int(sys.argv[3]) if len(sys.argv) > 3 else 50


class WindowNode:
    def __init__(self):
        self.peer = None


class WindowOwned:
    def __init__(self):
        self.peer = None


account = {"collections": 0, "collected": [], "tids": set()}


def on_gc(phase, info):
    if phase == "stop":
        account["collections"] += 1
        account["collected"].append(info["collected"])
        account["tids"].add(threading.get_native_id())


def pairs(cls, n):
    for _ in range(n // 2):
        a, b = cls(), cls()
        a.peer, b.peer = b, a


def nodes():
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        pairs(WindowNode, N)
        gc.collect()
        time.sleep(0.002)


def worker():
    made, done = threading.Event(), threading.Event()
    state = {"stop": False}

    def run():
        while True:
            made.wait()
            made.clear()
            if state["stop"]:
                return
            gc.collect()
            done.set()

    th = threading.Thread(target=run, name="collector")
    th.start()
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        pairs(WindowOwned, N)
        made.set()
        done.wait()
        done.clear()
        time.sleep(0.002)
    state["stop"] = True
    made.set()
    th.join()
    return th.native_id


gc.disable()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
gc.collect()            # what the start left, before the account
# one instance of each class now, freed by refcount: gcscope --owners asks
# its verdict on a type at its first instance, and has it before the
# scenario's first collection
WindowNode(), WindowOwned()
time.sleep(0.5)
gc.callbacks.append(on_gc)
collector_tid = worker() if SCENARIO == "worker" else None
if SCENARIO == "nodes":
    nodes()
gc.callbacks.remove(on_gc)
print(json.dumps({"collections": account["collections"],
                  "each": sorted(set(account["collected"])),
                  "tids": sorted(account["tids"]),
                  "main_tid": threading.get_native_id(),
                  "collector_tid": collector_tid}), flush=True)
sys.stdin.readline()
os._exit(0)
