# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A collection that kills the process: tp_traverse aborts on a worker.

usage: fatal_program.py REPORT.json EXTDIR [wait]
Builds cycles of tests/ext/gcxt.c's Unsendable (its tp_traverse abort()s on
any thread but its creator's, as PyO3 unsendable classes did) held by
Holder objects, moves them to generation 2, then calls gc.collect() on a
worker thread named "collector": SIGABRT inside subtract_refs.  Before
that it writes REPORT.json: the worker's native id, and the file and line
of the gc.collect() call.  With "wait", it prints "ready PID" and waits
for "go" on stdin first (for trace -p).
"""
import gc
import json
import os
import resource
import sys
import threading
import time


class Holder:
    pass


def collect_on_worker(report, report_path):
    report["worker_native_id"] = threading.get_native_id()
    report["line"] = sys._getframe().f_lineno + 4
    with open(report_path, "w") as f:
        json.dump(report, f)
    sys.stdout.flush()
    gc.collect()  # report["line"]: aborts in Unsendable's tp_traverse


def main():
    report_path, extdir = sys.argv[1:3]
    if len(sys.argv) > 3 and sys.argv[3] == "wait":
        print("ready", os.getpid(), flush=True)
        if sys.stdin.readline().strip() != "go":
            return
    # no core file: the test is about the live trace
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    sys.path.insert(0, extdir)
    import gcxt
    gc.set_threshold(100000, 50, 60)
    keep = []
    for _ in range(20):
        a, b = gcxt.Unsendable(), gcxt.Unsendable()
        a.peer, b.peer = b, a
        h = Holder()
        h.u = a
        keep += [a, b, h]
    gc.collect()          # on the main thread: traverses are fine here
    # trace --owners hooks a watched type's tp_traverse when its first
    # instance appears, asynchronously (milliseconds): let it
    time.sleep(0.5)
    report = {"pid": os.getpid(), "main_native_id": threading.get_native_id(),
              "file": os.path.abspath(__file__), "function": "collect_on_worker"}
    worker = threading.Thread(target=collect_on_worker, args=(report, report_path), name="collector")
    worker.start()
    worker.join()
    del keep


main()
