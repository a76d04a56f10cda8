# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-garbage."""
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import target
from gcscope_repr import short_repr


class PyGcGarbage(GcCommand):
    """Show what gc.garbage holds: counts by type, then each item.

Usage: py-gc-garbage [--max N]

gc.garbage gets objects the collector could not free (legacy tp_del
finalizers) and, with gc.set_debug(gc.DEBUG_SAVEALL), every object it found
unreachable.  Simple values (str, int, float, bytes, None, bool) are shown
with a short repr, containers with their length.  --max N: list at most N
items (default 50; the counts by type always cover them all)."""
    NAME = "py-gc-garbage"

    def run(self, arg, from_tty):
        _pos, _fl, opt = parse_args(self.NAME, arg, options=("--max",), max_pos=0)
        limit = opt.get("--max", 50)
        tgt = target()
        for interp in tgt.interpreters():
            gc = tgt.gcstate(interp)
            lst = tgt.mem.ptr(gc + tgt.layout["gc.garbage"])
            items = tgt.pylist(lst)
            out("interpreter %d: gc.garbage: %d objects (list at 0x%x)" % (
                tgt.interp_id(interp), len(items), lst))
            by = {}
            for op in items:
                # one dangling item must not hide the others
                try:
                    n = tgt.type_name(tgt.type_of(op))
                except GcScopeError:
                    n = "<unreadable object>"
                by[n] = by.get(n, 0) + 1
            for name, c in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])):
                out("  %10d  %s" % (c, name))
            for i, op in enumerate(items[:limit]):
                out("  [%d] %s" % (i, short_repr(tgt, op)))
            if len(items) > limit:
                out("  ... %d more (use --max)" % (len(items) - limit))


PyGcGarbage()
