# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Scenarios for gcscope trace --types / --owners (issue 3), each reporting
its own account of what it created and on which thread it collected.

Protocol: prints "ready PID", waits for a line on stdin, runs the scenario,
prints one JSON line.  Automatic collection is off while a scenario runs, so
every cycle dies in the collection the scenario chose.

usage: owners_program.py SCENARIO [N] [EXTDIR]
  worker  N Widget pairs in cycles made on the main thread, collected by
          gc.collect() on a worker thread: every Widget is a finding
  main    the same, collected on the main thread: no finding
  churn   one thread, rounds of Widget/Leaf cycles and collections: no
          finding, and the type counts equal what was made
  reuse   Widgets made and freed by refcount on the main thread, then Other
          objects (same size) made and collected on a worker, reusing their
          addresses: no finding
  premade the worker scenario with the Widgets made before "ready": made
          before gcscope attached (-p); a free-threaded build still tells
          their owner (its heap's thread), a GIL build cannot
  exited  N Widget pairs made by a thread "maker" that has exited when the
          main thread collects them: the owner is a thread that is gone
  gcxt    gcxt.Unsendable pairs (tests/ext/gcxt.c, count mode) made on the
          main thread, collected on a worker: findings equal the objects the
          extension saw traversed or cleared on a foreign thread
"""
import gc
import json
import os
import sys
import threading
import time

SCENARIO = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 50


class Widget:
    def __init__(self):
        self.peer = None


class Other:
    def __init__(self):
        self.peer = None


class Leaf:
    pass


def pairs(cls, n):
    for _ in range(n):
        a, b = cls(), cls()
        a.peer, b.peer = b, a


def on_worker(fn):
    out = {}

    def run():
        out["tid"] = threading.get_native_id()
        out["collected"] = fn()

    t = threading.Thread(target=run, name="collector")
    t.start()
    t.join()
    return out


report = {"main_tid": threading.get_native_id()}
if SCENARIO == "gcxt":
    sys.path.insert(0, sys.argv[3])
    os.environ["GCXT_MODE"] = "count"
    import gcxt
    gcxt.set_mode("count")

gc.collect()
gc.disable()
if SCENARIO == "premade":
    pairs(Widget, N)
print("ready", os.getpid(), flush=True)
sys.stdin.readline()

if SCENARIO in ("worker", "main"):
    pairs(Widget, N)
    if SCENARIO == "worker":
        w = on_worker(gc.collect)
        report.update(collector_tid=w["tid"], collected=w["collected"])
    else:
        report.update(collector_tid=threading.get_native_id(), collected=gc.collect())
    report["widgets"] = 2 * N
elif SCENARIO == "premade":
    w = on_worker(gc.collect)
    report.update(collector_tid=w["tid"], collected=w["collected"], widgets=2 * N)
elif SCENARIO == "exited":
    maker = threading.Thread(target=pairs, args=(Widget, N), name="maker")
    maker.start()
    report["maker_tid"] = maker.native_id
    maker.join()
    report.update(collector_tid=threading.get_native_id(), collected=gc.collect(), widgets=2 * N)
elif SCENARIO == "churn":
    rounds = 20
    for r in range(rounds):
        pairs(Widget, N)
        for _ in range(N // 2):
            leaf = Leaf()
            leaf.me = leaf
        del leaf
        gc.collect(r % 3)
    gc.collect()
    report.update(widgets=2 * N * rounds, leaves=(N // 2) * rounds)
elif SCENARIO == "reuse":
    ws = [Widget() for _ in range(N)]
    freed = {id(w) for w in ws}
    del ws                         # N refcount deaths at once: tp_dealloc
    made = []

    def make_and_collect():
        for _ in range(N):
            a, b = Other(), Other()
            a.peer, b.peer = b, a
            made.extend((id(a), id(b)))
        del a, b
        return gc.collect()
    w = on_worker(make_and_collect)
    report.update(collector_tid=w["tid"], reused=len(freed & set(made)))
elif SCENARIO == "gcxt":
    for _ in range(N):
        a, b = gcxt.Unsendable(), gcxt.Unsendable()
        a.peer, b.peer = b, a
    del a, b
    w = on_worker(gc.collect)
    report.update(collector_tid=w["tid"], unsendables=2 * N,
                  cross_thread_objects=gcxt.cross_thread_objects())
else:
    sys.exit("unknown scenario " + SCENARIO)

gc.enable()
# Live a little longer than the collections: gcscope names a finding's
# frames from this process's code objects, and a target that exits within
# ~100 ms of a collection shows them as "?" (docs/stacks.md).  Under a
# heavily loaded machine that window was missed (a CI-like run, 2026-12).
time.sleep(0.5)
print(json.dumps(report), flush=True)
