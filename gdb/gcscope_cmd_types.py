# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-types."""
import gcscope_objects as O
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import target


class PyGcTypes(GcCommand):
    """List heap types that do not cooperate with the cyclic GC.

Usage: py-gc-types [--all]

Heap types are found on the GC lists (a heap type is always a tracked
object).  Reported: types without Py_TPFLAGS_HAVE_GC (their instances are
invisible to the collector, so a cycle through them is never collected), and
GC types without tp_traverse.  For GC types the count of tracked instances is
shown; instances of non-GC types are not on any GC list, so they cannot be
counted this way.  --all: list every heap type with its flags and counts.
Not implemented yet: checking, by calling tp_traverse in a live process,
that a type's traverse visits the type itself (3.9+ requirement).
Read-only: no function of the target is called."""
    NAME = "py-gc-types"

    def run(self, arg, from_tty):
        _pos, fl, _opt = parse_args(self.NAME, arg, flags=("--all",), max_pos=0)
        tgt = target()
        for interp in tgt.interpreters():
            gc = tgt.gcstate(interp)
            heads = [h for _n, h, _t, _c in tgt.generation_heads(gc)] + [tgt.permanent_head(gc)]
            counts = {}
            types = set()
            for head in heads:
                for gcaddr in tgt.mem.walk_list(head, limit=50000000):
                    op = gcaddr + tgt.gchead
                    tp = tgt.type_of(op)
                    counts[tp] = counts.get(tp, 0) + 1
                    try:
                        if tgt.type_flags(tp) & O.Py_TPFLAGS_TYPE_SUBCLASS:
                            types.add(op)
                    except GcScopeError:
                        continue
            rows = []
            for t in types:
                try:
                    flags = tgt.type_flags(t)
                except GcScopeError:
                    continue
                if not flags & O.Py_TPFLAGS_HEAPTYPE:
                    continue
                gcflag = bool(flags & O.Py_TPFLAGS_HAVE_GC)
                trav = tgt.type_slot(t, "tp_traverse") if gcflag else 0
                problem = None
                if not gcflag:
                    problem = "no Py_TPFLAGS_HAVE_GC"
                elif not trav:
                    problem = "HAVE_GC but no tp_traverse"
                if problem or fl.get("--all"):
                    rows.append((tgt.type_name(t), t, problem or "ok",
                                 counts.get(t, 0) if gcflag else None))
            rows.sort(key=lambda r: (r[2] == "ok", r[0]))
            bad = sum(1 for r in rows if r[2] != "ok")
            out("interpreter %d: %d heap types, %d not cooperating with the GC" % (
                tgt.interp_id(interp), sum(1 for t in types if tgt.type_flags(t) & O.Py_TPFLAGS_HEAPTYPE), bad))
            for name, t, problem, n in rows:
                inst = "untracked instances" if n is None else "%d tracked instances" % n
                out("  %-40s 0x%x  %s  (%s)" % (name, t, problem, inst))


PyGcTypes()
