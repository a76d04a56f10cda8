# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Which thread is collecting, in which phase, on which object: from native frames.

Two sources, used together:
  - function names of libpython's frames when gdb has symbols for it (debug
    builds, pyenv -g builds, Debian + python3.X-dbg).  With DWARF, gdb also
    shows the inlined helpers of an -O3 build (subtract_refs, delete_garbage...)
    as frames of their own;
  - without symbols (Debian's stripped release build), a frame whose function
    is the tp_traverse / tp_clear / tp_finalize / tp_dealloc slot of a type
    found on the GC lists: extension modules keep their own symbols, and gdb
    unwinds through libpython with its .eh_frame alone.
"""
import re

import gdb

from gcscope_mem import GcScopeError, printable

# static/inlined collector entry points, 3.9-3.15 (cpython-gc-internals.md s1)
COLLECTORS = {"collect", "gc_collect_main", "_PyGC_Collect", "gc_collect_region",
              "gc_collect_young", "gc_collect_increment", "gc_collect_full",
              "gc_collect_internal", "collect_with_callback", "gc_collect_with_callback",
              "collect_generations", "gc_collect_generations"}

# innermost matching frame wins; "traverse" first since visit_* run inside it
PHASES = [
    ("traverse", "computing reachability (tp_traverse)",
     {"visit_decref", "visit_reachable", "subtract_refs", "update_refs",
      "move_unreachable", "deduce_unreachable", "deduce_unreachable_heap",
      "mark_alive_from_roots", "move_legacy_finalizer_reachable", "visit_move",
      "validate_list", "gc_visit_heaps", "update_refs_heap", "visit_decref_unreachable"}),
    ("untrack", "untracking tuples/dicts", {"untrack_tuples", "untrack_dicts"}),
    ("legacy", "legacy finalizers (tp_del, to gc.garbage)",
     {"move_legacy_finalizers", "handle_legacy_finalizers"}),
    ("weakref", "weakref handling",
     {"handle_weakrefs", "handle_weakref_callbacks", "clear_weakrefs", "call_weakref_callbacks"}),
    ("finalize", "finalizers (tp_finalize / __del__)", {"finalize_garbage"}),
    ("resurrect", "checking for resurrected objects", {"handle_resurrected_objects"}),
    ("clear", "tp_clear", {"delete_garbage"}),
    ("callbacks", "gc.callbacks", {"invoke_gc_callback"}),
]
SLOT_PHASE = {"tp_traverse": "traverse", "tp_clear": "clear", "tp_finalize": "finalize",
              "tp_del": "legacy", "tp_dealloc": "dealloc"}
PHASE_TEXT = {k: t for k, t, _ in PHASES}
PHASE_TEXT["dealloc"] = "deallocation (tp_dealloc)"
PHASE_TEXT["collect"] = "collecting (phase not identified)"

_SUFFIX = re.compile(r"(\.(lto_priv|isra|constprop|part|cold|llvm)(\.\w+)?)+$")
MAX_FRAMES = 96


def base_name(name):
    return _SUFFIX.sub("", name) if name else name


class FrameInfo:
    def __init__(self, level, frame, name, pc, func_start):
        self.level = level
        self.frame = frame
        self.name = name
        self.pc = pc
        self.func_start = func_start


def _func_start(frame, pc_for_lookup):
    try:
        f = frame.function()
        if f is not None:
            return int(f.value().address)
    except (gdb.error, RuntimeError, AttributeError):
        pass
    try:
        out = gdb.execute("info symbol 0x%x" % pc_for_lookup, to_string=True)
    except gdb.error:
        return None
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", out)
    if not m:
        return None
    return pc_for_lookup - int(m.group(2) or 0)


def thread_frames(thread, want_start=False):
    """[FrameInfo] of one gdb thread, innermost first (capped)."""
    thread.switch()
    out = []
    try:
        f = gdb.newest_frame()
    except gdb.error:
        return out
    level = 0
    while f is not None and level < MAX_FRAMES:
        try:
            pc = f.pc()
            name = f.name()
        except gdb.error:
            break
        # a caller's pc is a return address, which may lie past the end of a
        # function ending in a noreturn call (abort()): look up pc - 1
        lookup = pc if level == 0 or f.type() != gdb.NORMAL_FRAME else pc - 1
        start = _func_start(f, lookup) if want_start else None
        # a symbol name is the target's too (ELF takes any bytes): shown
        # cleaned; real collector names have no control characters
        out.append(FrameInfo(level, f, printable(base_name(name)) if name else name, pc, start))
        level += 1
        try:
            f = f.older()
        except gdb.error:
            break
    return out


class ThreadState:
    """What one gdb thread is doing with respect to the GC."""

    def __init__(self, thread):
        self.thread = thread
        self.num = thread.num
        self.lwp = thread.ptid[1] or thread.ptid[2]
        self.frames = []
        self.collector = None      # FrameInfo of the collector function
        self.phase = None          # key of PHASE_TEXT
        self.phase_frame = None
        self.slot = None           # (slot, type address, FrameInfo) if a type slot is on the stack
        self.fs_base = None


def analyse(tgt, slot_funcs):
    """[ThreadState] for all threads; slot_funcs: {function address: (slot, type)}."""
    inf = gdb.selected_inferior()
    try:
        orig_thread = gdb.selected_thread()
        orig_frame = gdb.selected_frame() if orig_thread is not None else None
    except gdb.error:
        orig_thread, orig_frame = None, None
    states = []
    try:
        for th in sorted(inf.threads(), key=lambda t: t.num):
            st = ThreadState(th)
            st.frames = thread_frames(th, want_start=bool(slot_funcs))
            try:
                st.fs_base = int(gdb.newest_frame().read_register("fs_base"))
            except (gdb.error, ValueError, RuntimeError):
                st.fs_base = None
            for fi in st.frames:
                if st.collector is None and fi.name in COLLECTORS:
                    st.collector = fi
                if st.phase is None:
                    for key, _text, names in PHASES:
                        if fi.name in names:
                            st.phase, st.phase_frame = key, fi
                            break
                if st.slot is None and fi.func_start in slot_funcs:
                    slot, tp = slot_funcs[fi.func_start]
                    st.slot = (slot, tp, fi)
            # a type slot above (inner to) the named phase refines it: dealloc
            # called from tp_clear is "deallocation"; without symbols it is
            # the only clue.
            if st.slot is not None:
                sp = SLOT_PHASE[st.slot[0]]
                if st.phase_frame is None or st.slot[2].level < st.phase_frame.level:
                    if sp != "dealloc":
                        st.phase, st.phase_frame = sp, st.slot[2]
                    elif st.phase in ("clear", "finalize", "weakref") or \
                            (st.phase is None and st.collector is not None):
                        st.phase, st.phase_frame = sp, st.slot[2]
            states.append(st)
    finally:
        try:
            if orig_thread is not None and orig_thread.is_valid():
                orig_thread.switch()
                if orig_frame is not None and orig_frame.is_valid():
                    orig_frame.select()
        except gdb.error:
            pass
    return states


def match_tstate(tgt, states, interp):
    """{gdb thread num: (tstate, thread_id)} for the interpreter's threads."""
    out = {}
    by_lwp = {s.lwp: s for s in states}
    by_fs = {s.fs_base: s for s in states if s.fs_base}
    for tstate, tid, native in tgt.threads(interp):
        s = by_lwp.get(native) if native else None
        if s is None:
            # 3.9/3.10 have no native_thread_id; thread_id is pthread_self(),
            # which on x86-64 glibc is the %fs base of the thread.
            s = by_fs.get(tid)
        if s is not None:
            out[s.num] = (tstate, tid)
    return out


def gil_holder(tgt, interp):
    """tstate holding the GIL, or None (gil.locked + gil.last_holder)."""
    lay, mem = tgt.layout, tgt.mem
    try:
        if lay.get("interp.ceval_gil") is not None:
            # 3.12+: interp->ceval.gil points to the (shared) GIL
            gil = mem.ptr(interp + lay["interp.ceval_gil"])
            locked = mem.i32(gil + lay["gil.locked"])
            holder = mem.ptr(gil + lay["gil.last_holder"])
        else:
            # 3.9-3.11: _PyRuntime.ceval.gil
            locked = mem.i32(tgt.runtime + lay["runtime.gil_locked"])
            holder = mem.ptr(tgt.runtime + lay["runtime.gil_last_holder"])
    except GcScopeError:
        return None
    return holder if locked == 1 else None


class on_thread:
    """Context: st's thread selected and its FrameInfo.frame objects valid again.

    gdb.Frame objects of a thread that is no longer selected cannot be read
    (switching threads flushes gdb's frame cache): variables of the collecting
    thread's frames must be read with that thread selected, then the user's
    thread and frame are restored."""

    def __init__(self, st):
        self.st = st

    def __enter__(self):
        try:
            self.orig_thread = gdb.selected_thread()
            self.orig_frame = gdb.selected_frame() if self.orig_thread is not None else None
        except gdb.error:
            self.orig_thread, self.orig_frame = None, None
        self.st.thread.switch()
        try:
            f = gdb.newest_frame()
        except gdb.error:
            f = None
        for fi in self.st.frames:
            if f is None:
                break
            fi.frame = f
            try:
                f = f.older()
            except gdb.error:
                f = None
        return self.st

    def __exit__(self, *exc):
        try:
            if self.orig_thread is not None and self.orig_thread.is_valid():
                self.orig_thread.switch()
                if self.orig_frame is not None and self.orig_frame.is_valid():
                    self.orig_frame.select()
        except gdb.error:
            pass
        return False


def frame_object(tgt, st, expect_type=None):
    """(object address, how) of the object being worked on, from frame variables."""
    if st is None:
        return None, None
    with on_thread(st):
        return _frame_object(tgt, st, expect_type)


def _frame_object(tgt, st, expect_type):
    stop = st.collector.level if st.collector is not None else len(st.frames)
    # frames inner to the type slot's work on other objects (the module of a
    # C function a __del__ calls...): start at the slot's own frame.  With no
    # slot frame, start at the collector helper that named the phase: a
    # weakref callback run by handle_weakrefs (3.9-3.12 Modules/gcmodule.c,
    # 3.13-3.14 Python/gc.c; handle_weakref_callbacks in CPython main, 3.15)
    # is Python code whose C frames have objects of their own (trixie's and
    # sid's python3.13d/3.14d showed cfunction_call's `self`, the gcxt module
    # the callback called into), while the helper's `op` is the weakref
    # whose callback runs.
    if st.slot is not None and st.slot[2].level <= stop:
        start = st.slot[2].level
    elif st.phase_frame is not None and st.phase_frame.level <= stop:
        start = st.phase_frame.level
    else:
        start = 0
    names = ("self", "op", "obj", "gc")
    for fi in st.frames[start:stop + 1]:
        for var in names:
            try:
                v = fi.frame.read_var(var)
            except (gdb.error, ValueError, RuntimeError):
                continue
            try:
                if v.is_optimized_out:
                    continue
                addr = int(v.cast(gdb.lookup_type("unsigned long")))
            except (gdb.error, RuntimeError):
                continue
            if not addr:
                continue
            if var == "gc":
                addr += tgt.gchead
            try:
                tp = tgt.type_of(addr)
            except GcScopeError:
                continue
            if expect_type is not None and tp != expect_type:
                continue
            return addr, "%s in frame #%d %s" % (var, fi.level, fi.name or "??")
    return None, None
