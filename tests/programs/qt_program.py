# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""PyQt5 (offscreen): QObjects in reference cycles, and who collects them.

Protocol: prints "ready PID", waits for a line on stdin, runs, prints one
JSON line with its own account.

usage: qt_program.py MODE [N]
  worker      N pairs of QObject subclass instances in cycles made on the
              GUI (main) thread; a worker thread that allocates triggers a
              collection there, as in the crashes this tool is about: every
              one of them is destroyed off its thread
  workaround  pyqtgraph's GarbageCollector: automatic collection disabled,
              gc.collect() called from a QTimer on the GUI thread; the
              worker still allocates, but nothing dies off its thread
"""
import gc
import json
import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PyQt5.QtCore import QCoreApplication, QObject, QTimer  # noqa: E402

MODE = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20


class Node(QObject):
    """A QObject subclass holding a Python reference: a cycle needs the GC."""

    def __init__(self):
        super().__init__()
        self.peer = None


app = QCoreApplication(sys.argv)
report = {"main_tid": threading.get_native_id(), "nodes": 2 * N}
gc.collect()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()


def make_cycles():
    for _ in range(N):
        a, b = Node(), Node()
        a.peer, b.peer = b, a


def worker():
    report["worker_tid"] = threading.get_native_id()
    # what a worker does: allocate; with automatic collection on, one of
    # its allocations starts the collection that destroys the QObjects
    if MODE == "worker":
        gc.collect()
    else:
        junk = [[i] for i in range(50000)]
        del junk


if MODE == "worker":
    make_cycles()
    t = threading.Thread(target=worker)
    t.start()
    t.join()
else:
    # pyqtgraph.util.garbage_collector.GarbageCollector, in short
    gc.disable()
    timer = QTimer()
    timer.timeout.connect(lambda: gc.collect())
    timer.start(20)
    make_cycles()
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    QTimer.singleShot(200, app.quit)
    app.exec_()
    timer.stop()
    gc.enable()
print(json.dumps(report), flush=True)
