# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The bundled demo (`make demo`): threads that create reference cycles.

The main thread and two named workers build object graphs with cycles; the
cyclic GC runs on whichever thread crosses the allocation threshold, and a
worker sometimes calls gc.collect() itself.  Runs for about four seconds.
"""
import gc
import threading
import time


class Session:
    """Parent and children pointing at each other: a cycle per session."""

    def __init__(self, n):
        self.children = [Request(self) for _ in range(n)]


class Request:
    def __init__(self, session):
        self.session = session
        self.payload = [object() for _ in range(4)]


def churn(seconds, collect_every=0):
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        Session(20)
        i += 1
        if collect_every and i % collect_every == 0:
            gc.collect(1)
        if i % 5 == 0:
            time.sleep(0.05)    # a readable number of lines


workers = [threading.Thread(target=churn, args=(3.5,), name="ingest"),
           threading.Thread(target=churn, args=(3.5, 40), name="reaper")]
for w in workers:
    w.start()
churn(3.5)
for w in workers:
    w.join()
gc.collect()
