# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-status."""
import gcscope_collect as C
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import BrokenList
from gcscope_objects import target


class PyGcStatus(GcCommand):
    """Show the cyclic GC's state for each interpreter of the process or core.

Usage: py-gc-status

For each interpreter: whether the GC is enabled, its debug flags, the
threshold and count of each generation (gc.get_threshold(), gc.get_count()),
the size of the permanent generation (gc.get_freeze_count()), len(gc.garbage),
len(gc.callbacks), the statistics of gc.get_stats(), and whether a collection
is running: on which thread, in which phase (from that thread's native
frames), and on which object when debug info allows.
Read-only: no function of the target is called."""
    NAME = "py-gc-status"

    def run(self, arg, from_tty):
        parse_args(self.NAME, arg, max_pos=0)
        tgt = target()
        lay = tgt.layout
        out(tgt.describe())
        for note in lay.notes:
            out("note: " + note)
        for interp in tgt.interpreters():
            gc = tgt.gcstate(interp)
            mem = tgt.mem
            out("interpreter %d at 0x%x (gc state at 0x%x)" % (tgt.interp_id(interp), interp, gc))
            enabled = mem.i32(gc + lay["gc.enabled"])
            debug = mem.i32(gc + lay["gc.debug"])
            out("  enabled: %s" % ("yes" if enabled else "no"))
            out("  debug flags: 0x%x" % debug)
            gens = tgt.generation_heads(gc)
            out("  thresholds: %s" % " ".join(str(mem.i32(t)) for _n, _h, t, _c in gens))
            out("  counts: %s" % " ".join(str(mem.i32(c)) for _n, _h, _t, c in gens))
            # a broken list is reported in its line; the rest of the status
            # does not depend on it
            if tgt.free_threaded:
                # gc.freeze() flags objects (ob_gc_bits) in the mimalloc
                # heaps: counted only by walking them (3.13t _PyGC_GetFreezeCount)
                frozen = "unknown (free-threaded: frozen objects are flagged in the mimalloc heaps, not listed)"
            else:
                try:
                    frozen = "%d" % tgt.list_len(tgt.permanent_head(gc))
                except BrokenList as e:
                    frozen = "unknown (%s)" % e
            out("  frozen (permanent generation): %s" % frozen)
            out("  gc.garbage: %d" % tgt.pylist_len(mem.ptr(gc + lay["gc.garbage"])))
            out("  gc.callbacks: %d" % tgt.pylist_len(mem.ptr(gc + lay["gc.callbacks"])))
            for i, s in enumerate(tgt.generation_stats(gc)):
                out("  stats gen%d: collections=%d collected=%d uncollectable=%d" % (
                    i, mem.i64(s + lay["gc_stats.collections"]),
                    mem.i64(s + lay["gc_stats.collected"]),
                    mem.i64(s + lay["gc_stats.uncollectable"])))
            col = C.find(tgt, interp)
            for line in C.report_lines(tgt, col):
                out(line)


PyGcStatus()
