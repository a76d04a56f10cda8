# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-collecting."""
import gcscope_collect as C
from gcscope_cmd_census import print_census
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import target

# phases in which the collector's `unreachable` head may not be initialized
# yet: gc_list_init(unreachable) runs in deduce_unreachable after
# update_refs/subtract_refs (3.9-3.14), so until the traverse phase is over a
# head pointing at itself may be stack garbage left by an earlier collection.
_BEFORE_UNREACHABLE = (None, "collect", "traverse")


# phases after handle_resurrected_objects (3.9+, bpo-38379) has moved what
# the finalizers left unreachable from `unreachable` to `final_unreachable`,
# the list delete_garbage clears (each object stays on it while cleared)
_AFTER_FINALIZERS = ("clear", "dealloc")


class PyGcCollecting(GcCommand):
    """Show the collection in progress, if any: thread, phase, object, and the objects involved.

Usage: py-gc-collecting [--top N]

When gcstate->collecting is set (in a live process stopped by gdb, or in a
core of a crash inside the GC), finds the collecting thread from its native
frames (collector functions when libpython has symbols; else a frame running
the tp_traverse/tp_clear/tp_finalize/tp_dealloc of a type on the GC lists;
else the GIL holder), the phase, and the object being worked on when a frame
variable (self, op, gc) is readable.  Then a census of the collector's local
"unreachable" list when debug info gives its address and it is set up (in
tp_clear and deallocation: its "final_unreachable" list, what survived the
finalizers), and
of the generation being collected (all generations when it is not known).
A free-threaded build has neither: its census is of the collector's worklist
of unreachable objects (state->unreachable, debug info needed).
--top N: types per census (default 20, 0 = all).  Read-only."""
    NAME = "py-gc-collecting"

    def run(self, arg, from_tty):
        _pos, _fl, opt = parse_args(self.NAME, arg, options=("--top",), max_pos=0)
        top = opt.get("--top", 20)
        tgt = target()
        for interp in tgt.interpreters():
            out("interpreter %d:" % tgt.interp_id(interp))
            col = C.find(tgt, interp)
            for line in C.report_lines(tgt, col):
                out(line)
            if not col.collecting:
                continue
            if tgt.free_threaded:
                self.ft_worklist(tgt, col, top)
                continue
            if col.final_unreachable and col.phase in _AFTER_FINALIZERS:
                self.final_unreachable(tgt, col, top)
            elif col.unreachable:
                self.unreachable(tgt, col, top)
            gc = tgt.gcstate(interp)
            for name, head, _t, _c in tgt.generation_heads(gc):
                if col.generation is not None and name != str(col.generation):
                    continue
                counts, n, why = tgt.census(head, limit=50000000)
                title = "generation %s" % name
                if col.generation is not None:
                    title = "generation being collected (%s)" % name
                print_census(tgt, title, counts, n, why, top)

    def ft_worklist(self, tgt, col, top):
        """Free-threaded (gc_free_threading.c): no generations (a collection
        looks at the whole heap, py-gc-census all counts it) and no list: the
        collector's worklist state->unreachable, when a frame's state is
        readable."""
        if col.worklist is None:
            out("unreachable: the collector's worklist is not readable here (no collector "
                "frame with a readable `state`: needs libpython's debug info); "
                "py-gc-census all counts the whole heap")
            return
        counts, n, why = tgt.census(col.worklist, limit=10000000, worklist=True)
        if n == 0 and why is None:
            out("unreachable: the collector's worklist at 0x%x is empty (not built yet, "
                "or delete_garbage has emptied it)" % col.worklist)
            return
        print_census(tgt, "unreachable (collector's worklist state->unreachable at 0x%x)"
                     % col.worklist, counts, n, why, top)

    def final_unreachable(self, tgt, col, top):
        counts, n, why = tgt.census(col.final_unreachable, limit=10000000)
        print_census(tgt, "unreachable after finalizers (collector's local list "
                     "final_unreachable at 0x%x)" % col.final_unreachable, counts, n, why, top)

    def unreachable(self, tgt, col, top):
        head = col.unreachable
        early = col.phase in _BEFORE_UNREACHABLE
        if col.phase == "traverse":
            not_yet = ("unreachable: the collector's list at 0x%x is not set up yet "
                       "(reachability still being computed)" % head)
        else:
            not_yet = ("unreachable: the collector's list at 0x%x is empty or not set up yet "
                       "(phase not identified)" % head)
        try:
            self_pointing = tgt.mem.u64(head) & ~3 == head
        except GcScopeError:
            self_pointing = False
        if early and self_pointing:
            out(not_yet)
            return
        counts, n, why = tgt.census(head, limit=10000000)
        if why is not None and why.startswith("broken GC list") and early:
            out(not_yet)
            return
        print_census(tgt, "unreachable (collector's local list at 0x%x)" % head,
                     counts, n, why, top)


PyGcCollecting()
