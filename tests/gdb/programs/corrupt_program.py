# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Build a known GC heap, break some of its GC lists with ctypes, report, block.

usage: corrupt_program.py REPORT.json READY_FIFO
Like heap_program.py (Frozen/Old/Mid/Young pairs, thresholds (100000, 50, 60)
so nothing collects by itself), then, after the report is written:
  * the permanent generation loops: of two consecutive frozen objects A -> B,
    B's _gc_next is pointed back at A, so a walk never comes back to the head;
  * generation 1 has a bad link: the _gc_next of one Mid object is 0x10;
  * gc.garbage's ob_size is set to 2**27 (its allocated size is far smaller).
Generations 0 and 2 are left intact: the test compares them exactly.  The
program never touches the GC afterwards and leaves with os._exit().
"""
import ctypes
import gc
import json
import os
import sys

from heapkit import Garb, Mid, census, fill_generations, frozen_heap, pairs

N_FROZEN, N_OLD, N_MID, N_YOUNG = 300, 400, 500, 600


def gc_next(addr):
    """The _gc_next word of the PyGC_Head at addr (16 bytes before the object)."""
    return ctypes.c_uint64.from_address(addr)


def main():
    report_path, ready_path = sys.argv[1], sys.argv[2]
    keep = frozen_heap(N_FROZEN)
    gc.set_debug(gc.DEBUG_SAVEALL)
    g = pairs(Garb, 6)
    del g
    gc.collect()
    gc.set_debug(0)
    fill_generations(keep, N_OLD, N_MID, N_YOUNG)

    gen1 = gc.get_objects(generation=1)
    mids = [i for i, o in enumerate(gen1) if type(o) is Mid]
    bad_index = mids[len(mids) // 2]
    bad_obj = gen1[bad_index]
    # A frozen object whose successor on the permanent list is a frozen object too
    a = keep["frozen"][N_FROZEN // 2]
    b_head = gc_next(id(a) - 16).value & ~3
    frozen_heads = set(id(o) - 16 for o in keep["frozen"])
    i = N_FROZEN // 2
    while b_head not in frozen_heads:
        i += 1
        a = keep["frozen"][i]
        b_head = gc_next(id(a) - 16).value & ~3

    report = {
        "pid": os.getpid(),
        "version": list(sys.version_info[:3]),
        "census": [census(gc.get_objects(generation=i)) for i in range(3)],
        "created": {"Frozen": N_FROZEN, "Old": N_OLD, "Mid": N_MID, "Young": N_YOUNG},
        "freeze_count": gc.get_freeze_count(),
        "garbage": len(gc.garbage),
        "garbage_addr": id(gc.garbage),
        # the walk of generation 1 yields the objects up to bad_obj, then meets 0x10
        "gen1_before_bad": bad_index + 1,
        "bad_addr": id(bad_obj),
        "loop_a": id(a) - 16,
        "loop_b": b_head,
    }
    del gen1, mids, bad_obj
    with open(report_path, "w") as f:
        json.dump(report, f)
    del f
    # break the lists last: nothing below walks or collects them
    gc_next(report["bad_addr"] - 16).value = 0x10
    gc_next(report["loop_b"]).value = report["loop_a"]
    ctypes.c_ssize_t.from_address(report["garbage_addr"] + 16).value = 1 << 27
    fd = os.open(ready_path, os.O_WRONLY)
    os.write(fd, b"ready\n")
    os.read(0, 1)
    os._exit(0)


main()
