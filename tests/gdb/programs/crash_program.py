# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Crash in tp_traverse during a collection started on another thread.

usage: crash_program.py REPORT.json READY_FIFO EXTDIR [count]
Creates gcxt.Unsendable objects in cycles on the main thread (their
tp_traverse aborts on any other thread, as PyO3 unsendable classes did), a
few gcxt.Opaque objects (a heap type without Py_TPFLAGS_HAVE_GC) and Holder
objects, moves everything to generation 2, reports what it built, then runs
gc.collect() on a worker thread: abort() => SIGABRT => core (RLIMIT_CORE is
raised here; the kernel's core_pattern decides where it goes).
With "count" (GCXT_MODE=count) the program survives and reports the number
of cross-thread traverse calls instead.
"""
import gc
import json
import os
import resource
import sys
import threading

N_UNSENDABLE, N_HOLDER, N_OPAQUE = 200, 150, 7


class Holder:
    pass


def main():
    report_path, ready_path, extdir = sys.argv[1:4]
    # a kernel core_pattern without a path writes into the cwd, and chroot(1)
    # left us in "/": go where the test looks
    os.chdir(os.path.dirname(os.path.abspath(report_path)))
    count_mode = len(sys.argv) > 4 and sys.argv[4] == "count"
    if count_mode:
        os.environ["GCXT_MODE"] = "count"
    sys.path.insert(0, extdir)
    import gcxt
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    gc.set_threshold(100000, 50, 60)

    keep = []
    for _ in range(N_UNSENDABLE // 2):
        a, b = gcxt.Unsendable(), gcxt.Unsendable()
        a.peer, b.peer = b, a
        h = Holder()
        h.u = a
        keep += [a, b, h]
    for _ in range(N_HOLDER - N_UNSENDABLE // 2):
        h = Holder()
        h.me = h
        keep.append(h)
    opaque = [gcxt.Opaque() for _ in range(N_OPAQUE)]
    gc.collect()          # on the main thread: traverses are fine here
    counts = {}
    for g in range(3):
        for o in gc.get_objects(generation=g):
            k = type(o).__name__
            if k in ("Unsendable", "Holder"):
                counts.setdefault(k, [0, 0, 0])[g] += 1
    report = {"pid": os.getpid(), "version": list(sys.version_info[:3]),
              "counts": counts, "opaque": len(opaque), "core_limit": hard}

    def collect():
        report["worker_native_id"] = threading.get_native_id()
        with open(report_path, "w") as f:
            json.dump(report, f)
        fd = os.open(ready_path, os.O_WRONLY)
        os.write(fd, b"ready\n")
        os.close(fd)
        gc.collect()

    worker = threading.Thread(target=collect, name="collector")
    worker.start()
    worker.join()
    if count_mode:
        print(json.dumps({"cross_thread_traverses": gcxt.cross_thread_traverses()}))
        sys.stdout.flush()
    del keep


main()
