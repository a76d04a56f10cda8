# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""QObjects of one binding (PyQt5, PyQt6, PySide2, PySide6) in reference
cycles, made and moved between threads, and who collects them.

Protocol: prints "ready PID", waits for a line on stdin, runs, prints one
JSON line with its own account: the native tid of every thread, how many
objects were made where, moved where, and collected where.

usage: qt_affinity.py BINDING MODE [N]   (BINDING none: premade without Qt)
  worker      N pairs of Gadgets (a QObject subclass) in cycles made on the
              main thread; gc.collect() on a worker destroys them: 2N
              objects die off the thread they live in
  workaround  pyqtgraph's GarbageCollector: automatic collection disabled,
              gc.collect() from a QTimer on the main thread, while a worker
              allocates: none dies off its thread
  to_main     made on a worker, moveToThread(main) there, collected on the
              main thread: they live on main and die there (none)
  to_worker   made on main, moveToThread(worker's QThread), collected on
              main while that thread still runs: they live on the worker
              and die on main (2N)
  premade     N pairs of a plain Python class (Plain) in cycles made before
              "ready" (before gcscope attaches), collected on a worker: no
              creator can be known
"""
import gc
import importlib
import json
import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
BINDING, MODE = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 20
if BINDING == "none":     # premade only: no Qt at all
    QObject = object
else:
    QtCore = importlib.import_module(BINDING + ".QtCore")
    QObject, QThread, QTimer = QtCore.QObject, QtCore.QThread, QtCore.QTimer


class Gadget(QObject):
    """A QObject subclass holding a Python reference: a cycle needs the GC."""

    def __init__(self):
        super().__init__()
        self.peer = None


def make_cycles():
    made = []
    for _ in range(N):
        a, b = Gadget(), Gadget()
        a.peer, b.peer = b, a
        made += [a, b]
    return made


class Plain:
    pass


app = QtCore.QCoreApplication(sys.argv) if BINDING != "none" else None
if MODE == "premade":
    gc.disable()    # they must survive until the worker collects them
    for _ in range(N):
        p, q = Plain(), Plain()
        p.peer, q.peer = q, p
    del p, q
report = {"binding": BINDING, "mode": MODE, "main_tid": threading.get_native_id(),
          "gadgets": 2 * N}
if MODE != "premade":
    gc.collect()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
gc.disable()        # every collection below is one the program chose

if MODE == "worker":
    make_cycles()
    report["made_tid"] = report["main_tid"]

    def work():
        report["collector_tid"] = threading.get_native_id()
        gc.collect()
    t = threading.Thread(target=work)
    t.start()
    t.join()
elif MODE == "premade":
    report["plains"] = 2 * N

    def work():
        report["collector_tid"] = threading.get_native_id()
        gc.collect()
    t = threading.Thread(target=work)
    t.start()
    t.join()
elif MODE == "workaround":
    # pyqtgraph.util.garbage_collector.GarbageCollector, in short
    timer = QTimer()
    timer.timeout.connect(lambda: gc.collect())
    timer.start(20)
    make_cycles()
    report["made_tid"] = report["main_tid"]

    def work():
        report["worker_tid"] = threading.get_native_id()
        junk = [[i] for i in range(50000)]
        del junk
    t = threading.Thread(target=work)
    t.start()
    t.join()
    QTimer.singleShot(200, app.quit)
    app.exec() if hasattr(app, "exec") else app.exec_()
    timer.stop()
    report["collector_tid"] = report["main_tid"]
elif MODE == "to_main":
    main_thread = QThread.currentThread()

    def work():
        report["made_tid"] = threading.get_native_id()
        for g in make_cycles():
            g.moveToThread(main_thread)
        report["moved"] = sum(g.thread() is main_thread for g in gc.get_objects() if isinstance(g, Gadget))
    t = threading.Thread(target=work)
    t.start()
    t.join()
    report["collector_tid"] = report["main_tid"]
    gc.collect()
elif MODE == "to_worker":
    # a QThread with its own event loop; its native tid from inside it
    qt = QThread()
    started = threading.Event()
    tid = {}

    class Probe(QObject):
        def ping(self):
            tid["t"] = threading.get_native_id()
            started.set()
    probe = Probe()
    probe.moveToThread(qt)
    qt.started.connect(probe.ping)
    qt.start()
    started.wait(30)
    report["worker_tid"] = tid["t"]
    made = make_cycles()
    report["made_tid"] = report["main_tid"]
    for g in made:
        g.moveToThread(qt)
    report["moved"] = sum(g.thread() is qt for g in made)
    del made, g     # the loop variable would keep the last pair alive
    report["collector_tid"] = report["main_tid"]
    gc.collect()
    qt.quit()
    qt.wait()
gc.enable()
print(json.dumps(report), flush=True)
