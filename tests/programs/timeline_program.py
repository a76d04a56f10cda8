# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Named threads that collect, with their own account of every collection.

Each thread names itself twice the same way: threading.Thread.name and, with
prctl(PR_SET_NAME), the kernel's comm, so that a timeline shows that name
whichever of the two gcscope knows.  Every collection is timed by the
target itself: gc.callbacks' "start" and "stop", in time.monotonic_ns()
(CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns()).

Runs without a protocol (for `gcscope trace -- python3 timeline_program.py
REPORT`) and writes REPORT, one JSON object:
  pid: os.getpid()
  t0, t1: when the callback was installed and removed (monotonic ns)
  collections: [native tid, generation, start ns, stop ns, collected, uncollectable]
  threads: {native tid: name}

usage: timeline_program.py REPORT [THREADS] [ROUNDS] [COMM]
  COMM 0: name the threads in Python only (their comm stays the process's)
"""
import ctypes
import gc
import json
import os
import sys
import threading
import time

REPORT = sys.argv[1]
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
COMM = sys.argv[4] != "0" if len(sys.argv) > 4 else True
PR_SET_NAME = 15

collections = []
starts = {}
names = {}
libc = ctypes.CDLL(None, use_errno=True)


def on_gc(phase, info):
    tid = threading.get_native_id()
    now = time.monotonic_ns()
    if phase == "start":
        starts[tid] = now
    else:
        collections.append([tid, info["generation"], starts.pop(tid, None), now,
                            info["collected"], info["uncollectable"]])


def name_me(name):
    threading.current_thread().name = name
    if COMM:
        libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    names[threading.get_native_id()] = name


class Node:
    def __init__(self):
        self.other = None


def work(name):
    name_me(name)
    for r in range(ROUNDS):
        for _ in range(30 + r):
            a, b = Node(), Node()
            a.other, b.other = b, a
        gc.collect(r % 3)
        junk = [[i] for i in range(3000)]   # past gen0's threshold: automatic ones
        del junk
        time.sleep(0.002)


name_me("tl-main")
t0 = time.monotonic_ns()
gc.callbacks.append(on_gc)
work("tl-main")
workers = [threading.Thread(target=work, args=(f"tl-worker-{i}",)) for i in range(THREADS)]
for t in workers:
    t.start()
for t in workers:
    t.join()
gc.callbacks.remove(on_gc)
t1 = time.monotonic_ns()

with open(REPORT, "w") as f:
    json.dump({"pid": os.getpid(), "t0": t0, "t1": t1, "collections": collections,
               "threads": {str(k): v for k, v in names.items()}}, f)
