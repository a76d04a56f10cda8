# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Heap types for py-gc-types --check-traverse, then block.

usage: types_program.py REPORT.json READY_FIFO EXTDIR
On the main thread: gcxt.NoTypeVisit instances (HAVE_GC, tp_traverse never
visits the type), gcxt.Unsendable pairs (visits its type; aborts when
traversed on another thread) and a Python class (subtype_traverse visits the
type).  An idle second thread exists so that the test can also make the
calls from a thread that does not own the Unsendable objects.  Blocks reading
stdin; exits 0 when it is closed (so the test sees the process survived).
"""
import gc
import json
import os
import sys
import threading

from heapkit import report_ready

N = 5


class Plain:
    pass


def main():
    report_path, ready_path, extdir = sys.argv[1:4]
    sys.path.insert(0, extdir)
    import gcxt
    # No automatic collection: one started by the idle thread (its start
    # allocates, and can be the 700th allocation since the last) would
    # traverse the young Unsendable objects off their thread and abort the
    # program before it is ready (seen on pyenv-3.11.7 under load, with the
    # tests three at a time).  The collections this test is about are the
    # ones gdb's calls make, and the one at the end on the owner thread.
    gc.disable()
    keep = []
    for _ in range(N):
        n = gcxt.NoTypeVisit()
        n.ref = [n]          # something to visit besides the type
        a, b = gcxt.Unsendable(), gcxt.Unsendable()
        a.peer, b.peer = b, a
        p = Plain()
        p.me = p
        keep += [n, a, b, p]
    idle = threading.Event()
    t = threading.Thread(target=idle.wait, name="idle")
    t.start()
    report = {"pid": os.getpid(), "version": list(sys.version_info[:3]),
              "tracked": {k: sum(1 for o in gc.get_objects() if type(o).__name__ == k)
                          for k in ("NoTypeVisit", "Unsendable", "Plain")}}
    report_ready(report_path, ready_path, report)
    sys.stdin.read()
    idle.set()
    t.join()
    gc.collect()         # on the owner thread: fine
    print(json.dumps({"alive": len(keep)}))


main()
