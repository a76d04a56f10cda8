# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Shared analysis of a running (or, in a core, interrupted) collection."""
import gdb

import gcscope_objects as O
import gcscope_threads as T
from gcscope_mem import GcScopeError

SLOTS = ("tp_traverse", "tp_clear", "tp_finalize", "tp_del", "tp_dealloc")


class Collection:
    def __init__(self):
        self.collecting = 0
        self.thread = None        # ThreadState
        self.how = None           # how the thread was found
        self.tstate = None
        self.phase = None
        self.phase_where = None
        self.slot = None          # (slot, type address or None, FrameInfo)
        self.obj = None
        self.obj_how = None
        self.generation = None
        self.generation_bad = None  # a `generation` local outside 0..2 (not usable)
        self.notes = []           # INCOMPLETE walks of the type search
        self.unreachable = None   # address of the local list head, if found
        # free-threaded: state->unreachable, the collector's worklist of the
        # objects found unreachable (no list: Target.census(worklist=True))
        self.worklist = None
        # GIL builds 3.9+: what survived the finalizers (handle_resurrected_objects
        # moves unreachable's objects there; delete_garbage clears that list)
        self.final_unreachable = None
        self.threads = []


def all_types(tgt, interp, notes=None):
    """{type address: count} of every object on the interpreter's GC lists
    (of a free-threaded build: in its mimalloc heaps).

    A list that cannot be walked to its end contributes what was counted
    before the break; notes (a list) gets one line per such list.  Ctrl-C
    raises KeyboardInterrupt.

    The type objects met on the lists are keys too (count 0 when no instance
    is on a list): in tp_clear, finalizers or deallocation every instance of
    the type at work may sit on the collector's local `unreachable` list,
    which only DWARF lets us find, while the type itself is still tracked."""
    counts = {}
    typeobjs = set()
    if tgt.free_threaded:
        # no lists: the tracked objects of the mimalloc heaps (gcscope_ftheap)
        _heap, parts, why = tgt.ft_census(interp, limit=20000000, type_objects=typeobjs)
        if why == O.INTERRUPTED:
            raise KeyboardInterrupt
        if why is not None and notes is not None:
            notes.append("heaps: INCOMPLETE after %d objects: %s" % (sum(p[2] for p in parts), why))
        for _title, c, _n in parts:
            for tp, n in c.items():
                counts[tp] = counts.get(tp, 0) + n
        for tp in typeobjs:
            counts.setdefault(tp, 0)
        return counts
    gc = tgt.gcstate(interp)
    heads = [("generation " + n, h) for n, h, _t, _c in tgt.generation_heads(gc)]
    heads.append(("permanent generation", tgt.permanent_head(gc)))
    for title, head in heads:
        c, n, why = tgt.census(head, limit=20000000, type_objects=typeobjs)
        if why == O.INTERRUPTED:
            raise KeyboardInterrupt
        if why is not None and notes is not None:
            notes.append("%s: INCOMPLETE after %d objects: %s" % (title, n, why))
        for tp, n in c.items():
            counts[tp] = counts.get(tp, 0) + n
    for tp in typeobjs:
        counts.setdefault(tp, 0)
    return counts


def slot_functions(tgt, types):
    """{function address: [(slot, type)]} for the slots of the given types."""
    out = {}
    for tp in types:
        for slot in SLOTS:
            try:
                fn = tgt.type_slot(tp, slot)
            except GcScopeError:
                continue
            if fn:
                out.setdefault(fn, []).append((slot, tp))
    return out


def _read_local(fi, name):
    try:
        v = fi.frame.read_var(name)
        if v.is_optimized_out:
            return None
        return v
    except (gdb.error, ValueError, RuntimeError):
        return None


def _ft_worklist(tgt, col, fi):
    """Python/gc_free_threading.c (3.13t+): the collector's functions take
    struct collection_state *state (finalize_garbage, delete_garbage,
    call_weakref_callbacks, ...); gc_collect_main holds the struct itself.
    Its member unreachable is the worklist of what the collection found
    unreachable, until delete_garbage pops it empty."""
    off = tgt.layout.get("ft_state.unreachable")
    v = _read_local(fi, "state")
    if off is None or v is None:
        return
    try:
        if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
            base = int(v)
        else:
            base = int(v.address) if v.address is not None else 0
    except (gdb.error, ValueError):
        return
    if base:
        col.worklist = base + off


def _collector_locals(tgt, col, fi):
    if tgt.free_threaded:
        _ft_worklist(tgt, col, fi)
    v = _read_local(fi, "generation")
    if v is not None:
        try:
            g = int(v)
        except (gdb.error, ValueError):
            g = None
        if g is not None:
            if 0 <= g <= 2:
                col.generation = g
            else:
                col.generation_bad = g
    for name in ("unreachable", "final_unreachable"):
        v = _read_local(fi, name)
        if v is not None:
            try:
                setattr(col, name, int(v.address) if v.address is not None else None)
            except (gdb.error, ValueError):
                pass


def find(tgt, interp, with_threads=True):
    """Collection for one interpreter; thread analysis only if a collection is running."""
    col = Collection()
    gc = tgt.gcstate(interp)
    col.collecting = tgt.mem.i32(gc + tgt.layout["gc.collecting"])
    if not col.collecting or not with_threads:
        return col
    types = all_types(tgt, interp, col.notes)
    funcs = slot_functions(tgt, types)
    # analyse() wants {func: (slot, type)}; an address shared by several types
    # (subtype_traverse for every Python class) names the slot, not the type.
    flat = {}
    for fn, lst in funcs.items():
        tps = set(tp for _s, tp in lst)
        flat[fn] = (lst[0][0], lst[0][1] if len(tps) == 1 else None)
    states = T.analyse(tgt, flat)
    col.threads = states
    owners = T.match_tstate(tgt, states, interp)
    cands = [s for s in states if s.collector is not None]
    how = "collector frame"
    if not cands:
        cands = [s for s in states if s.phase is not None and s.num in owners]
        how = "type slot frame"
    holder = T.gil_holder(tgt, interp)
    if len(cands) != 1 and holder:
        h = [s for s in states if owners.get(s.num, (None,))[0] == holder]
        if h:
            cands, how = h, "GIL holder"
    if cands:
        st = cands[0]
        col.thread, col.how = st, how
        col.tstate = owners.get(st.num, (None,))[0]
        col.phase = st.phase or "collect"
        if st.phase_frame is not None:
            col.phase_where = st.phase_frame
        col.slot = st.slot
        expect = st.slot[1] if st.slot is not None and st.slot[0] != "tp_dealloc" else None
        col.obj, col.obj_how = T.frame_object(tgt, st, expect)
        if col.slot is not None and col.slot[1] is None and col.obj is not None:
            col.slot = (col.slot[0], tgt.type_of(col.obj), col.slot[2])
        if st.collector is not None:
            with T.on_thread(st):
                _collector_locals(tgt, col, st.collector)
    return col


def describe_object(tgt, op):
    tp = tgt.type_of(op)
    rc, immortal = tgt.refcnt(op)
    return "%s object at 0x%x, refcount %s" % (tgt.type_name(tp), op,
                                               "immortal" if immortal else rc)


def report_lines(tgt, col, indent="  "):
    """Lines describing a collection for py-gc-status / py-gc-collecting."""
    out = []
    if not col.collecting:
        out.append(indent + "collection running: no")
        return out
    out.append(indent + "collection running: yes")
    for note in col.notes:
        out.append(indent + "  type search: " + note)
    st = col.thread
    if st is None:
        out.append(indent + "  thread: not found (no collector frame, no type slot frame, "
                   "GIL holder unknown)")
        return out
    ts = " tstate 0x%x" % col.tstate if col.tstate else ""
    out.append(indent + "  thread: %d (LWP %d)%s [found by %s]" % (st.num, st.lwp, ts, col.how))
    if col.generation is not None:
        out.append(indent + "  generation: %d" % col.generation)
    elif col.generation_bad is not None:
        out.append(indent + "  generation: the collector's `generation` reads %d, not usable "
                   "(not 0-2)" % col.generation_bad)
    where = ""
    if col.phase_where is not None:
        where = " [frame #%d %s]" % (col.phase_where.level, col.phase_where.name or "??")
    out.append(indent + "  phase: %s%s" % (T.PHASE_TEXT.get(col.phase, col.phase), where))
    if col.slot is not None:
        slot, tp, fi = col.slot
        tname = tgt.type_name(tp) if tp else "(several types share it)"
        out.append(indent + "  %s of type: %s [frame #%d %s]" % (slot, tname, fi.level, fi.name or "??"))
    if col.obj is not None:
        out.append(indent + "  object: %s [%s]" % (describe_object(tgt, col.obj), col.obj_how))
    return out
