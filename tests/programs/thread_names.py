# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Named threads that each run collections, for Python thread names in
gcscope trace (issue 8): prints "ready PID", waits for "go", then the main
thread, "ingest-α" and "reaper" each run 3 gc.collect(); "maker" makes
Widgets in cycles that "reaper" collects.  Reports {native tid: name} and
the collections each made, and lives a little after (names are read from
this process's memory).
"""
import gc
import json
import os
import sys
import threading
import time


class Widget:
    pass


print("ready", os.getpid(), flush=True)
sys.stdin.readline()
gc.disable()
names = {threading.get_native_id(): threading.current_thread().name}
made = threading.Event()
keep = []


def maker():
    names[threading.get_native_id()] = threading.current_thread().name
    for _ in range(10):
        a, b = Widget(), Widget()
        a.o, b.o = b, a
    del a, b                # garbage now, not when this frame ends
    made.set()
    time.sleep(1.5)         # alive (and named) while its Widgets die


# One gc.collect() at a time: on a free-threaded build (3.13t) a
# gc.collect() while another thread collects returns 0 at once
# (gc_collect_main: gcstate->collecting), which is no collection.
one_at_a_time = threading.Lock()


def worker():
    names[threading.get_native_id()] = threading.current_thread().name
    made.wait()
    for _ in range(3):
        with one_at_a_time:
            gc.collect()
        time.sleep(0.05)


m = threading.Thread(target=maker, name="maker")
m.start()
made.wait()
ts = [threading.Thread(target=worker, name=n) for n in ("ingest-\u03b1", "reaper")]
for t in ts:
    t.start()
for t in ts:
    t.join()
for _ in range(3):
    gc.collect()
m.join()
time.sleep(0.3)
print(json.dumps({"names": {str(k): v for k, v in names.items()}}), flush=True)
