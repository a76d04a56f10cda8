# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A damaged mimalloc heap of a free-threaded build, live and on a core.

The target (programs/heap_program.py) builds its known heap; gdb then
damages one mimalloc page of the main thread's pre-header GC heap, the one
holding a Young instance, in the live process: its free list made to loop
(the block of that instance pointing at itself), or its queue link made to
point at the page itself (a page queue that never ends).  The offsets come
from py-gc-layout -j (pylayout.tsv and DWARF), not from this file.  Every
command must finish (a timeout is a failure), name what is damaged in one
line, count what is intact exactly, and show no traceback; the same on a
gcore core of the damaged process.
"""
import json
import os
import re

import pytest

import gdbutil

TIMEOUT = 120


def commands(t):
    return ["py-gc-census all --top 0", "py-gc-types --all", "py-gc-object %d" % t.report["young_addr"],
            "py-gc-status"]


def run(interp, cmds, **kw):
    try:
        return gdbutil.run_gdb(interp, cmds, timeout=TIMEOUT, **kw)
    except gdbutil.subprocess.TimeoutExpired:
        pytest.fail("gdb did not finish within %ds (a walk spins on the damaged heap)" % TIMEOUT)


def page_and_layout(interp, t):
    out, err = run(interp, ["py-gc-layout -j", "py-gc-object %d" % t.report["young_addr"]], pid=t.pid)
    lay = json.loads([ln for ln in out.splitlines() if ln.startswith('{"')][0])["fields"]
    m = re.search(r"block (\d+) of mimalloc page (0x[0-9a-f]+) \(tag 3\)", out)
    assert m, out + err
    return int(m.group(2), 16), {k: v["value"] for k, v in lay.items()}


@pytest.mark.parametrize("damage", ["free_loop", "queue_loop"])
def test_damaged_heap(interp, tmp_path, damage):
    if "freethreaded" not in interp.tags:
        pytest.skip(f"{interp.name}: not a free-threaded build (no mimalloc GC heaps)")
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    try:
        page, lay = page_and_layout(interp, t)
        young = t.report["young_addr"]
        if damage == "free_loop":
            # the Young's block (page tag 3, _Py_MIMALLOC_HEAP_GC_PRE: the
            # object after a two-word pre-header) heads the free list and
            # links to itself
            block = young - 16
            writes = ["set {unsigned long}0x%x = 0x%x" % (page + lay["mi_page.free"], block),
                      "set {unsigned long}0x%x = 0x%x" % (block, block)]
        else:
            writes = ["set {unsigned long}0x%x = 0x%x" % (page + lay["mi_page.next"], page)]
        core = os.path.join(str(tmp_path), "core.damaged")
        live_out, live_err = run(interp, writes + commands(t) + ["gcore " + core], pid=t.pid)
    finally:
        t.stop()
    try:
        core_out, core_err = run(interp, commands(t), core=core)
    finally:
        if os.path.exists(core):
            os.unlink(core)
    for out, err in ((live_out, live_err), (core_out, core_err)):
        check(t, page, damage, out, err)


def check(t, page, damage, out, err):
    rep = t.report
    assert "Traceback" not in out + err, err
    assert "internal error" not in err, err
    census, totals = gdbutil.parse_census(out)
    heaps = census["heaps"]
    if damage == "free_loop":
        why = r"page 0x%x: its free list loops \(block \d+ twice\)" % page
        # only that page is skipped: the other Young instances are counted
        assert 0 < heaps.get("Young", 0) < rep["created"]["Young"], heaps
    else:
        why = (r"heap of thread state 0x[0-9a-f]+: heap 0x[0-9a-f]+: its page queues hold more "
               r"than its \d+ pages \(a queue loops\?\)")
        # the whole heap is given up, the other heaps still counted
        assert heaps.get("Young", 0) < rep["created"]["Young"], heaps
    assert re.search(r"^heaps: %d objects, \d+ types \(INCOMPLETE: %s" % (totals["heaps"], why),
                     out, re.M), out[:3000]
    # Orphan's pages are in the abandoned pool: intact, exact
    assert heaps.get("Orphan") == rep["created"]["Orphan"], heaps
    assert re.search(r"^  heaps: INCOMPLETE: %s" % why, out, re.M), out
    assert re.search(r"^interpreter 0: \d+ heap types, \d+ not cooperating", out, re.M), out
    if damage == "free_loop":
        assert re.search(r"^  generation: none \(%s\)$" % why, out, re.M), out
    assert not re.search(r"^py-gc-(census|types|object|status): ", err, re.M), err
