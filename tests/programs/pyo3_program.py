# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The real PyO3 0.17 abort: an unsendable class collected on a worker.

usage: pyo3_program.py REPORT.json EXTDIR MODE [wait]
EXTDIR holds tests/pyo3's pyo3t extension (built by tests/pyo3/build.sh).

MODE "abort": 20 cycles of two pyo3t.Holder (#[pyclass(unsendable)] with
__traverse__/__clear__) made on the main thread, moved to generation 2;
then gc.collect() on a worker thread named "collector": PyO3's thread
checker panics inside Holder's __traverse__ trampoline, the panic trap
aborts the process (SIGABRT) inside subtract_refs.  Before that it writes
REPORT.json: pid, the threads' native ids and names, and the file,
function and line of the gc.collect() call.

MODE "count": the same with pyo3t.Counted (Send, so PyO3 lets a foreign
thread in): the worker's collection traverses and destroys all 40; the
extension counts the objects it saw traversed and dropped off their thread
and the program adds those counts to REPORT.json at the end.

With "wait", it prints "ready PID" and waits for "go" on stdin first (for
trace -p).  With "core", it raises its RLIMIT_CORE to the hard limit and
goes to REPORT.json's directory, so that the kernel writes a core there
(with kernel.core_pattern "core"); otherwise it sets the limit to 0.
"""
import gc
import json
import os
import resource
import sys
import threading
import time

PAIRS = 20


def collect_on_worker(report, report_path):
    # a collector thread that has collected before (the young generation
    # only: the Holders are in generation 2), as a long-lived one has: its
    # Python name is read while it runs.  The dead process cannot be read.
    gc.collect(0)
    time.sleep(0.3)
    report["worker_native_id"] = threading.get_native_id()
    report["worker_name"] = threading.current_thread().name
    report["line"] = sys._getframe().f_lineno + 4
    with open(report_path, "w") as f:
        json.dump(report, f)
    sys.stdout.flush()
    gc.collect()  # report["line"]: aborts in Holder's __traverse__ (mode abort)


def main():
    report_path, extdir, mode = sys.argv[1:4]
    flags = sys.argv[4:]
    if "wait" in flags:
        print("ready", os.getpid(), flush=True)
        if sys.stdin.readline().strip() != "go":
            return
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    if "core" in flags:
        # a core: a kernel core_pattern without a path writes into the cwd,
        # and chroot(1) left us in "/": go where the test looks
        os.chdir(os.path.dirname(os.path.abspath(report_path)))
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    else:
        # no core file: the test is about the live trace
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    sys.path.insert(0, extdir)
    import pyo3t
    cls = {"abort": pyo3t.Holder, "count": pyo3t.Counted}[mode]
    gc.set_threshold(100000, 50, 60)
    keep = []
    for _ in range(PAIRS):
        a, b = cls(), cls()
        a.obj, b.obj = b, a
        keep += [a, b]
    gc.collect()          # on the main thread: traverses are fine here
    # trace --owners hooks a watched type's tp_traverse when its first
    # instance appears, asynchronously (milliseconds): let it
    time.sleep(0.5)
    report = {"pid": os.getpid(), "main_native_id": threading.get_native_id(),
              "main_name": threading.current_thread().name, "objects": len(keep),
              "type": cls.__module__ + "." + cls.__qualname__,
              "file": os.path.abspath(__file__), "function": "collect_on_worker"}
    del a, b, keep        # garbage now, reachable only through the cycles
    worker = threading.Thread(target=collect_on_worker, args=(report, report_path), name="collector")
    worker.start()
    worker.join()
    report["created"], report["traversed_off_thread"], report["dropped_off_thread"] = pyo3t.counts()
    with open(report_path, "w") as f:
        json.dump(report, f)


main()
