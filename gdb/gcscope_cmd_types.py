# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-types."""
import gcscope_objects as O
import gcscope_infcall as I
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import target

WALK_LIMIT = 50000000


class PyGcTypes(GcCommand):
    """List heap types that do not cooperate with the cyclic GC.

Usage: py-gc-types [--all] [--check-traverse]

Heap types are found on the GC lists (a heap type is always a tracked
object); on a free-threaded build (3.13t+), in its mimalloc GC heaps.  Reported: types without Py_TPFLAGS_HAVE_GC (their instances are
invisible to the collector, so a cycle through them is never collected), and
GC types without tp_traverse.  For GC types the count of tracked instances is
shown; instances of non-GC types are not on any GC list, so they cannot be
counted this way.  --all: list every heap type with its flags and counts.

--check-traverse (live processes only): also check that each heap GC type's
tp_traverse visits the type itself, as 3.9+ requires of heap types
(bpo-40217; a traverse that does not leaks the type).  This MAKES INFERIOR
FUNCTION CALLS: mmap/mprotect/munmap of two private pages holding a tiny
visitproc of ours, and one call of tp_traverse per type with tracked
instances, on one such instance.  The calls run on the selected thread (pick
it with `thread N`: a traverse that checks its thread, like PyO3 unsendable
classes, must run on the owner's); the process is stopped meanwhile
(scheduler-locking on), and a traverse that crashes is unwound by gdb
(unwindonsignal on) and reported as not checked.
Without --check-traverse: read-only, no function of the target is called.
A GC list that cannot be walked to its end (broken link, loop, more than
50000000 objects) is named with an INCOMPLETE line; the others still count."""
    NAME = "py-gc-types"

    def run(self, arg, from_tty):
        _pos, fl, _opt = parse_args(self.NAME, arg, flags=("--all", "--check-traverse"),
                                    max_pos=0)
        tgt = target()
        check = fl.get("--check-traverse")
        if check and not O.is_live():
            raise GcScopeError("--check-traverse calls tp_traverse in the target: it needs a "
                               "live process, not a core file")
        checker = I.TraverseChecker() if check else None
        if checker is not None:
            with checker:
                self.report(tgt, fl, checker)
        else:
            self.report(tgt, fl, None)

    def report(self, tgt, fl, checker):
        for interp in tgt.interpreters():
            counts = {}
            first = {}      # type -> one tracked instance, for --check-traverse
            types = set()
            notes = []      # lists not walked to their end

            def count(op, tracked=True):
                tp = tgt.type_of(op)
                if tracked:
                    counts[tp] = counts.get(tp, 0) + 1
                    first.setdefault(tp, op)
                try:
                    if tgt.type_flags(tp) & O.Py_TPFLAGS_TYPE_SUBCLASS:
                        types.add(op)
                except GcScopeError:
                    pass
            if tgt.free_threaded:
                # no lists: the objects of the mimalloc heaps; the types
                # among the untracked ones too (FtHeap.objects())
                n = 0
                heap, objs = tgt.ft_objects(interp, untracked=True)
                tracked = heap.o["ft.gcbits.tracked"]
                try:
                    for op, bits, _tp in objs:
                        n += 1
                        count(op, bool(bits & tracked))
                        if n >= WALK_LIMIT:
                            notes.append("heaps: INCOMPLETE: walk stopped at the limit of %d objects"
                                         % WALK_LIMIT)
                            break
                except GcScopeError as e:
                    notes.append("heaps: INCOMPLETE after %d objects: %s" % (n, e))
                notes.extend("heaps: INCOMPLETE: %s" % p for p in heap.problems[:20])
                lists = []
            else:
                gc = tgt.gcstate(interp)
                lists = [("generation " + n, h) for n, h, _t, _c in tgt.generation_heads(gc)]
                lists.append(("permanent generation", tgt.permanent_head(gc)))
            for title, head in lists:
                n = 0
                try:
                    for gcaddr in tgt.mem.walk_list(head, limit=WALK_LIMIT):
                        n += 1
                        count(gcaddr + tgt.gchead)
                    if n >= WALK_LIMIT:
                        notes.append("%s: INCOMPLETE: walk stopped at the limit of %d objects"
                                     % (title, WALK_LIMIT))
                except GcScopeError as e:
                    notes.append("%s: INCOMPLETE after %d objects: %s" % (title, n, e))
            rows = []
            checked = 0
            heap = 0
            unreadable = 0
            for t in types:
                try:
                    flags = tgt.type_flags(t)
                except GcScopeError:
                    unreadable += 1
                    continue
                if not flags & O.Py_TPFLAGS_HEAPTYPE:
                    continue
                gcflag = bool(flags & O.Py_TPFLAGS_HAVE_GC)
                try:
                    trav = tgt.type_slot(t, "tp_traverse") if gcflag else 0
                except GcScopeError:
                    unreadable += 1
                    continue
                heap += 1
                problem = None
                if not gcflag:
                    problem = "no Py_TPFLAGS_HAVE_GC"
                elif not trav:
                    problem = "HAVE_GC but no tp_traverse"
                verdict = None
                if checker is not None and problem is None:
                    if t in first:
                        checked += 1
                        ok, verdict = checker.check(trav, t, first[t])
                        if ok is not True:
                            problem = verdict
                    else:
                        verdict = "tp_traverse not checked (no tracked instance)"
                if problem or fl.get("--all"):
                    rows.append((tgt.type_name(t), t, problem or ("ok, " + verdict if verdict else "ok"),
                                 counts.get(t, 0) if gcflag else None))
            rows.sort(key=lambda r: (r[2].startswith("ok"), r[0]))
            bad = sum(1 for r in rows if not r[2].startswith("ok"))
            out("interpreter %d: %d heap types, %d not cooperating with the GC" % (
                tgt.interp_id(interp), heap, bad))
            for note in notes:
                out("  " + note + " (types and counts below are partial)")
            if unreadable:
                out("  %d type objects could not be read (skipped)" % unreadable)
            if checker is not None:
                out("  tp_traverse called on one instance of each of %d types, on thread %d"
                    % (checked, checker.thread.num))
            for name, t, problem, n in rows:
                inst = "untracked instances" if n is None else "%d tracked instances" % n
                out("  %-40s 0x%x  %s  (%s)" % (name, t, problem, inst))


PyGcTypes()
