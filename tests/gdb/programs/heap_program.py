# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Build a known GC heap, report it as JSON, signal "ready" and block.

usage: heap_program.py REPORT.json READY_FIFO
Blocks reading stdin; the test attaches gdb (or gcores) meanwhile.
What it builds (all numbers reported, so the test compares exactly):
  Frozen instances frozen by gc.freeze(); cyclic garbage saved into gc.garbage
  with DEBUG_SAVEALL (Garb instances, a self-containing list of simple values);
  Old instances in generation 2, Mid in generation 1, Young in generation 0;
  thresholds (100000, 50, 60) so nothing collects by itself; 3 gc.callbacks;
  on a free-threaded build, Orphan instances made by a thread that exited.
"""
import gc
import json
import os
import sys

from heapkit import Garb, census, fill_generations, frozen_heap, orphans, pairs

N_FROZEN, N_OLD, N_MID, N_YOUNG, N_GARB, N_ORPHAN = 300, 400, 500, 600, 6, 250


def cb(phase, info):
    pass


def main():
    report_path, ready_path = sys.argv[1], sys.argv[2]
    keep = frozen_heap(N_FROZEN)

    gc.set_debug(gc.DEBUG_SAVEALL)
    g = pairs(Garb, N_GARB)
    junk = ["hello", 12345, -7, 2.5, b"xyz", (1, 2), None]
    junk.append(junk)
    del g, junk
    gc.collect()
    gc.set_debug(0)
    # simple values too (not GC objects, so only put there by hand), for
    # py-gc-garbage's short reprs
    gc.garbage.extend(["hello", "h\u00e9llo\u20ac", 12345, -7, 2 ** 70, 2.5, b"xyz", None, True,
                       (1, 2, 3), {"a": 1}])

    fill_generations(keep, N_OLD, N_MID, N_YOUNG)
    free_threaded = hasattr(sys, "_is_gil_enabled") and not sys._is_gil_enabled()
    if free_threaded:
        # a thread's objects outlive it: the census must walk the abandoned pool
        keep["orphan"] = orphans(N_ORPHAN)
    gc.callbacks.extend([cb, lambda p, i: None, cb])

    report = {
        "pid": os.getpid(),
        "version": list(sys.version_info[:3]),
        # 3.13+: False on a free-threaded build (--disable-gil)
        "free_threaded": free_threaded,
        "enabled": gc.isenabled(),
        "threshold": list(gc.get_threshold()),
        "freeze_count": gc.get_freeze_count(),
        "garbage": len(gc.garbage),
        "garbage_types": census(gc.garbage),
        "callbacks": len(gc.callbacks),
        "stats": [[s["collections"], s["collected"], s["uncollectable"]] for s in gc.get_stats()],
        "census": [census(gc.get_objects(generation=i)) for i in range(3)],
        "created": {"Frozen": N_FROZEN, "Old": N_OLD, "Mid": N_MID, "Young": N_YOUNG,
                    "Orphan": N_ORPHAN if free_threaded else 0, "Garb": N_GARB},
        "young_addr": id(keep["young"][0]),
        "old_addr": id(keep["old"][0]),
        "frozen_addr": id(keep["frozen"][0]),
        "mid_addr": id(keep["mid"][0]),
        "orphan_addr": id(keep["orphan"][0]) if free_threaded else 0,
    }
    with open(report_path, "w") as f:
        json.dump(report, f)
    del report, f
    fd = os.open(ready_path, os.O_WRONLY)
    # gc.get_count() changes as soon as something is allocated: read it last.
    # The first call's tuple goes back to the tuple free list and the second
    # call takes it again, so the second result is the count while we block.
    gc.get_count()
    c = gc.get_count()
    os.write(fd, b"ready %d %d %d\n" % c)
    os.read(0, 1)


main()
