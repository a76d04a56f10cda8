# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Benchmark workloads, timed by themselves.

  collect N: N explicit gc.collect(0), each on a fresh cycle: the worst case,
             a collection every few hundred nanoseconds;
  churn N:   N object graphs with cycles; the GC runs when allocations cross
             its threshold, as in ordinary programs;
  soak N:    N seconds of about 10,000 gc.collect(0) a second, each on a
             fresh cycle, from two threads: for gcscope's memory over time;
  mixed N:   N "requests" of an ordinary program: each makes about 50
             objects (dicts, lists, tuples, strings and instances of four
             plain classes), most freed by refcount, one small cycle; one
             Widget in about 30 class instances: a watched type that is a
             small share of what the program makes;
  qt-BINDING N: N pairs of QObject subclass instances (PyQt5, PySide2...)
             in cycles, churned like churn: the GC destroys QObjects.

Prints "ready PID", waits for a line on stdin, runs, prints the elapsed
seconds of the timed part only (attach time is not counted).  With
GC_BENCH_COUNT=1 it also counts its collections through gc.callbacks (the
true number, for watchers that may miss some) and prints that count and
the CPU seconds of the timed part on a second line.
usage: gc_bench.py MODE N
"""
import gc
import os
import sys
import time

MODE = sys.argv[1]
N = int(sys.argv[2])


class Node:
    pass


# mixed: the classes of an ordinary program, and the one watched (Widget)
class Request:
    def __init__(self, i):
        self.path, self.headers = f"/item/{i}", {"id": str(i), "n": i}


class Token:
    __slots__ = ("kind", "text")

    def __init__(self, kind, text):
        self.kind, self.text = kind, text


class Session:
    def __init__(self, req):
        self.req, self.log = req, []


class Reply:
    def __init__(self, body):
        self.body = body


class Widget:
    pass


if MODE.startswith("qt-"):
    import importlib
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    QtCore = importlib.import_module(MODE[3:] + ".QtCore")

    class Gadget(QtCore.QObject):
        pass
    app = QtCore.QCoreApplication(sys.argv)
COUNT = [0]
if os.environ.get("GC_BENCH_COUNT") == "1":
    def _count(phase, info):
        if phase == "stop":
            COUNT[0] += 1
    gc.callbacks.append(_count)
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
COUNT[0] = 0
t0, c0 = time.perf_counter(), time.process_time()
if MODE == "collect":
    for i in range(N):
        a, b = Node(), Node()
        a.o, b.o = b, a
        gc.collect(0)
elif MODE == "soak":
    import threading

    def soak(rate):
        end, step = time.monotonic() + N, 1.0 / rate
        nxt = time.monotonic()
        while nxt < end:
            a, b = Node(), Node()
            a.o, b.o = b, a
            gc.collect(0)
            nxt += step
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    t = threading.Thread(target=soak, args=(5000,), name="soak-worker")
    t.start()
    soak(5000)
    t.join()
elif MODE.startswith("qt-"):
    for i in range(N):
        a, b = Gadget(), Gadget()
        a.peer, b.peer = b, a
elif MODE == "mixed":
    keep = []
    for i in range(N):
        req = Request(i)
        toks = [Token("w", w) for w in req.path.split("/")] + [Token("n", str(i))]
        s = Session(req)
        s.log.append(s)                 # a small cycle: the GC frees it
        body = {"tokens": [(t.kind, t.text) for t in toks], "len": len(toks)}
        r = Reply(body)
        if i % 4 == 0:                  # ~7 class instances a request: 1 in 30
            w = Widget()
            w.owner = w
        keep.append(r)
        if len(keep) > 100:
            del keep[:50]
else:
    for i in range(N):
        parent = Node()
        parent.children = [Node() for _ in range(10)]
        for c in parent.children:
            c.parent = parent
print(f"{time.perf_counter() - t0:.6f}", flush=True)
if os.environ.get("GC_BENCH_COUNT") == "1":
    cpu = time.process_time() - c0
    gc.callbacks.clear()
    print(COUNT[0], f"{cpu:.6f}", flush=True)
    sys.stdin.readline()        # the watchers stop first: no exit collections
