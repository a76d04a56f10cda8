# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-census."""
import gdb

from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import INTERRUPTED, target

DEFAULT_LIMIT = 50000000


def print_census(tgt, title, counts, n, why, top):
    """Print one census; why: None (complete) or why it is partial.

    An interrupted census is printed, then KeyboardInterrupt stops the command."""
    out("%s: %d objects, %d types%s" % (title, n, len(counts),
                                         "" if why is None else " (INCOMPLETE: %s)" % why))
    names = tgt.by_name(counts)
    rows = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = rows if top <= 0 else rows[:top]
    for name, c in shown:
        out("  %10d  %s" % (c, name))
    if len(shown) < len(rows):
        out("  %10d  (%d more types)" % (sum(c for _n, c in rows[len(shown):]), len(rows) - len(shown)))
    if why == INTERRUPTED:
        raise KeyboardInterrupt


class PyGcCensus(GcCommand):
    """Count the objects of each type in each GC generation, walking the GC lists.

Usage: py-gc-census [GEN|all|permanent] [--top N] [--limit N]

On a free-threaded build (3.13t+) there are no generation lists: the census
walks the mimalloc GC heaps of every thread and the interpreter's abandoned
segments, as its collector does, and prints "heaps" (the tracked objects)
and "permanent generation" (those gc.freeze() flagged); GEN must be all or
permanent there.  A damaged page is skipped and named (INCOMPLETE).

  GEN        0, 1 or 2: only that generation; "permanent": the objects frozen by
             gc.freeze(); "all" (default): the three generations and permanent.
  --top N    show the N most common types per generation (default 20; 0 = all).
  --limit N  stop each walk after N objects (default 50000000) and say so.
  N is decimal or 0x hex.

A list whose links are broken (a bad pointer, or a loop that never comes back
to the list head) is reported as INCOMPLETE with the reason, with what was
counted before the break; the other lists are still walked.

Memory is read in 64 KiB chunks; progress is printed on big heaps and Ctrl-C
stops the walk, printing what was counted so far.
During a collection, the generation being collected holds the objects not yet
moved to the collector's local lists (see py-gc-collecting)."""
    NAME = "py-gc-census"

    def run(self, arg, from_tty):
        pos, _fl, opt = parse_args(self.NAME, arg, options=("--top", "--limit"))
        which = pos[0] if pos else "all"
        if which not in ("0", "1", "2", "all", "permanent"):
            raise GcScopeError("GEN must be 0, 1, 2, all or permanent, not %r" % which)
        top = opt.get("--top", 20)
        limit = opt.get("--limit", DEFAULT_LIMIT)
        if limit <= 0:
            raise GcScopeError("--limit must be positive")
        tgt = target()

        def progress(n):
            gdb.write("  ... %d objects\n" % n, gdb.STDERR)
            gdb.flush()

        if tgt.free_threaded and which not in ("all", "permanent"):
            raise GcScopeError("free-threaded build: it has no generations (each collection "
                               "looks at the whole heap): GEN must be all or permanent", exit_code=7)
        for interp in tgt.interpreters():
            out("interpreter %d:" % tgt.interp_id(interp))
            if tgt.free_threaded:
                self.free_threaded(tgt, interp, which, top, limit, progress)
                continue
            gc = tgt.gcstate(interp)
            lists = [("generation " + n, h) for n, h, _t, _c in tgt.generation_heads(gc)]
            lists.append(("permanent generation", tgt.permanent_head(gc)))
            for title, head in lists:
                if which != "all" and title.split()[-1] != which and \
                        not (which == "permanent" and title.startswith("permanent")):
                    continue
                counts, n, why = tgt.census(head, limit=limit, progress=progress)
                print_census(tgt, title, counts, n, why, top)

    def free_threaded(self, tgt, interp, which, top, limit, progress):
        """Python/gc_free_threading.c: no lists; the tracked objects of the
        mimalloc heaps (gcscope_ftheap), split by _PyGC_BITS_FROZEN."""
        heap, parts, why = tgt.ft_census(interp, limit=limit, progress=progress)
        out("free-threaded: the mimalloc GC heaps of %d threads and %d abandoned segments "
            "(no generation lists)" % (heap.threads, heap.segments))
        if which == "permanent":
            parts = parts[1:]
        for i, (title, counts, n) in enumerate(parts):
            # Ctrl-C: both parts are printed as counted, then the command stops
            w = why if why != INTERRUPTED or i == len(parts) - 1 else "interrupted"
            print_census(tgt, title, counts, n, w, top)


PyGcCensus()
