# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A target for the agent's --jsonl rotation test (tests/integration/
test_agent.py): collects without pause, each collection counted, until told
to stop, so that records are being written while the file is rotated.

Protocol: prints "ready PID"; on "go" collects (gc.collect(0) on a cycle, a
short sleep now and then) until a second line arrives on stdin; prints one
JSON line {"records": [[tid, generation, collected, uncollectable], ...]}
(every collection gc.callbacks saw, in order); then waits for a line and
ends with os._exit(0).  Automatic collection is off (gc.disable()): every
collection the agent sees is one of these.
"""
import gc
import json
import os
import sys
import threading
import time

records = []
stop = threading.Event()


def on_gc(phase, info):
    if phase == "stop":
        records.append([threading.get_native_id(), info["generation"], info["collected"], info["uncollectable"]])


class Node:
    pass


def wait_stop():
    sys.stdin.readline()
    stop.set()


gc.disable()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
threading.Thread(target=wait_stop, daemon=True).start()
gc.callbacks.append(on_gc)
n = 0
while not stop.is_set():
    a, b = Node(), Node()
    a.o, b.o = b, a
    del a, b
    gc.collect(0)
    n += 1
    if n % 20 == 0:
        time.sleep(0.001)
gc.callbacks.remove(on_gc)
print(json.dumps({"records": records}), flush=True)
sys.stdin.readline()
os._exit(0)
