# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Target discovery and object/type helpers: _PyRuntime, interpreters, GC state.

Everything is read as raw memory through resolved offsets (gcscope_layout),
never through gdb's typed access: on trixie's 3.13.5 gdb's own
`gcstate->generations[0]` would read 4 bytes too early (bad DWARF).
"""
import struct
import time

import gdb

import gcscope_layout as L
from gcscope_mem import (GcScopeError, Memory, MemoryMissing, NoPython, NoTarget, CHUNK,
                         core_extent)

Py_TPFLAGS_HEAPTYPE = 1 << 9
Py_TPFLAGS_HAVE_GC = 1 << 14
Py_TPFLAGS_TYPE_SUBCLASS = 1 << 31
_PyGC_PREV_MASK_FINALIZED = 1
_PyGC_PREV_MASK_COLLECTING = 2
_PyGC_PREV_SHIFT = 2
MAX_LIST_ITEMS = 10000000

# census() reasons for an incomplete walk (a BrokenList's text is the third kind)
INTERRUPTED = "interrupted"


# Free-threaded CPython (3.13t+, Python/gc_free_threading.c) keeps no
# generation lists: its GC objects are found by walking the mimalloc heaps of
# every thread (gc_visit_heaps()), as gcscope_ftheap.py does for the census,
# py-gc-types and py-gc-object; the commands that need a list refuse.
FT_NO_LISTS = ("free-threaded build: its objects are on no generation list but in the mimalloc "
               "heaps of its threads: py-gc-status, py-gc-census, py-gc-types and py-gc-object "
               "walk those heaps; this command needs the lists, and "
               "`gcscope trace --types` sees what each collection destroys")


class Target:
    """One inspected process or core: memory, version, layout, interpreters."""

    def __init__(self):
        inf = gdb.selected_inferior()
        if inf is None or inf.pid == 0 and not _has_core():
            raise NoTarget("no process or core file: attach (gdb -p PID) or load a core "
                           "(gdb PYTHON CORE) first")
        self.mem = Memory(inf, core=core_extent())
        self.runtime = L.symbol_address("_PyRuntime")
        if self.runtime is None and self.mem.core is not None and self.mem.core.cut:
            # the shared library list (r_debug, link_map) is in the process's
            # memory: cut off, gdb loads no libpython and sees no _PyRuntime
            raise MemoryMissing("memory missing from the core: no symbol _PyRuntime, and %s was cut "
                                "short at %d bytes (gdb may not have found the shared libraries)"
                                % (self.mem.core.path, self.mem.core.file_size))
        if self.runtime is None:
            raise NoPython("no Python here: symbol _PyRuntime not found (not a Python "
                           "process, or gdb was not given the python executable for this core)")
        try:
            ver, how, dbgoff = L.detect_version(self.mem, self.runtime)
        except MemoryMissing:
            raise
        except GcScopeError as e:
            raise NoPython(str(e)) from None
        if ver[0] != 3:
            raise NoPython("the version read from Py_Version (%d.%d) makes no sense: this core does "
                           "not match the executable gdb was given (give gdb the python that "
                           "dumped it)" % (ver[0], ver[1]))
        col = L.column_for((ver[0], ver[1], ver[2] or 0))
        if col is None:
            raise GcScopeError("Python %d.%d is not supported (pylayout.tsv covers %s)"
                               % (ver[0], ver[1], ", ".join(L.load_table()["columns"])), exit_code=7)
        self.layout = L.Layout(self.mem, self.runtime, ver, col, dbgoff)
        self.free_threaded = L.free_threaded(self.mem, self.runtime, self.layout, dbgoff)
        if self.free_threaded:
            self.layout.forget_table()
        self.version_how = how
        try:
            self.layout.arbitrate_generations(self.gcstate(self.main_interp()))
        except GcScopeError:
            pass
        if ver[2] is None:
            try:
                micro = L.sys_version_micro(self.mem, self.layout, self.main_interp())
            except GcScopeError:
                micro = None
            ver = (ver[0], ver[1], micro)
        self.version = ver
        self.gchead = (L.rule("free_threaded_gc_head_size") if self.free_threaded
                       else self.layout["gc_head.sizeof"])
        self.ob_type = self.layout["object.ob_type"]
        self._type_names = {}
        self._type_flags = {}

    # ------------------------------------------------------------ general

    def version_str(self):
        return "%d.%d.%s" % (self.version[0], self.version[1],
                             "?" if self.version[2] is None else self.version[2])

    def describe(self):
        return "Python %s (%soffsets: %s, column %s; version from %s)" % (
            self.version_str(), "free-threaded; " if self.free_threaded else "", self.layout.summary(),
            self.layout.column, self.version_how)

    def interpreters(self):
        lay, mem = self.layout, self.mem
        interp = mem.ptr(self.runtime + lay["runtime.interpreters_head"])
        if interp == 0:
            raise NoPython("no interpreter: the runtime is not initialized or already finalized")
        seen = set()
        while interp and interp not in seen and len(seen) < 4096:
            seen.add(interp)
            yield interp
            interp = mem.ptr(interp + lay["interp.next"])

    def main_interp(self):
        return next(self.interpreters())

    def interp_id(self, interp):
        return self.mem.i64(interp + self.layout["interp.id"])

    def threads(self, interp):
        """tstates of an interpreter: (tstate, thread_id (pthread_t), native tid or None)."""
        lay, mem = self.layout, self.mem
        t = mem.ptr(interp + lay["interp.threads_head"])
        seen = set()
        while t and t not in seen and len(seen) < 100000:
            seen.add(t)
            nat = lay.get("tstate.native_thread_id")
            yield (t, mem.u64(t + lay["tstate.thread_id"]),
                   mem.u64(t + nat) if nat is not None else None)
            t = mem.ptr(t + lay["tstate.next"])

    # ------------------------------------------------------------ GC state

    def gcstate(self, interp):
        return interp + self.layout["interp.gc"]

    def generation_heads(self, gc):
        """[(name, head address, threshold address, count address)] for gens 0-2."""
        lay = self.layout
        size = lay["gc_generation.sizeof"]
        h, th, cnt = lay["gc_generation.head"], lay["gc_generation.threshold"], lay["gc_generation.count"]
        gens = []
        if lay.get("gc.young") is None:
            base = gc + lay["gc.generations"]
            for i in range(3):
                g = base + i * size
                gens.append((str(i), g + h, g + th, g + cnt))
        else:
            # 3.14.0-3.14.4 incremental GC: young, old[visited_space], old[other].
            young = gc + lay["gc.young"]
            old = gc + lay["gc.old"]
            vs = self.mem.i32(gc + lay["gc.visited_space"]) & 1
            gens.append(("0", young + h, young + th, young + cnt))
            for i, j in ((1, vs), (2, vs ^ 1)):
                g = old + j * size
                gens.append((str(i), g + h, g + th, g + cnt))
        return gens

    def generation_stats(self, gc):
        """[address of struct gc_generation_stats] for gens 0-2, as gc.get_stats() reads them.

        Up to 3.14 an array inside the GC state.  From 3.15 (GH-146527,
        PR #146532) gc.generation_stats points to a struct gc_stats: a ring
        per generation (young, old[0], old[1]), each followed by the int8
        index of the slot last written, whose record holds the running
        totals.  The pointer and the index are the target's: an index outside
        its ring (whose length is the index's offset over the record size,
        as user/probe.c has it) is refused."""
        lay = self.layout
        size = lay["gc_stats.sizeof"]
        if lay.get("gc_ring.young_index") is None:
            st = gc + lay["gc.generation_stats"]
            return [st + i * size for i in range(3)]
        ring = self.mem.ptr(gc + lay["gc.generation_stats"])
        if not ring:
            raise GcScopeError("gcstate->generation_stats is NULL")
        old, osz = lay["gc_ring.old"], lay["gc_ring.old_sizeof"]
        rings = [(0, lay["gc_ring.young_index"])] + [
            (old + j * osz, old + j * osz + lay["gc_ring.old_index"]) for j in range(2)]
        out = []
        for gen, (base, index) in enumerate(rings):
            n = (index - base) // size
            idx = self.mem.read(ring + index, 1)[0]
            idx = idx - 256 if idx > 127 else idx
            if not 0 <= idx < n:
                raise GcScopeError("generation %d's stats ring index is %d, outside its %d slots"
                                   % (gen, idx, n))
            out.append(ring + base + idx * size)
        return out

    def require_gc_lists(self):
        """Refuse what walks the generation lists on a free-threaded build."""
        if self.free_threaded:
            raise GcScopeError(FT_NO_LISTS, exit_code=7)

    def permanent_head(self, gc):
        self.require_gc_lists()
        return gc + self.layout["gc.permanent_generation"] + self.layout["gc_generation.head"]

    def list_len(self, head, limit=None):
        n = 0
        for _ in self.mem.walk_list(head, limit=limit):
            n += 1
        return n

    def pylist(self, op, cap=None):
        """Items of a PyListObject (addresses).

        Refuses an ob_size outside 0..allocated (a corrupt or half-built
        list) and more than cap items (default MAX_LIST_ITEMS); reads the
        item array in 1 MiB pieces."""
        if not op:
            return []
        cap = MAX_LIST_ITEMS if cap is None else cap
        mem = self.mem
        n = mem.i64(op + self.layout["varobject.ob_size"])
        item_off = self.layout["list.ob_item"]
        allocated = mem.i64(op + item_off + 8)      # PyListObject: ob_item, then allocated
        if n < 0 or n > allocated:
            raise GcScopeError("list at 0x%x has an impossible size %d (allocated %d)"
                               % (op, n, allocated))
        if n > cap:
            raise GcScopeError("list at 0x%x has %d items: more than the %d gcscope reads"
                               % (op, n, cap))
        if n == 0:
            return []
        items = mem.ptr(op + item_off)
        out = []
        step = 1 << 17                              # items per piece (1 MiB)
        for i in range(0, n, step):
            k = min(step, n - i)
            out.extend(struct.unpack("<%dQ" % k, mem.read(items + 8 * i, 8 * k)))
        return out
    def pylist_len(self, op):
        return self.mem.i64(op + self.layout["varobject.ob_size"]) if op else 0

    # ------------------------------------------------------------ objects / types

    def type_of(self, op):
        return self.mem.ptr(op + self.ob_type)

    def type_name(self, tp):
        n = self._type_names.get(tp)
        if n is None:
            try:
                n = self.mem.cstring(self.mem.ptr(tp + self.layout["type.tp_name"]), 200)
            except GcScopeError:
                n = "<unreadable type at 0x%x>" % tp
            self._type_names[tp] = n
        return n

    def type_flags(self, tp):
        f = self._type_flags.get(tp)
        if f is None:
            f = self.mem.u64(tp + self.layout["type.tp_flags"])
            self._type_flags[tp] = f
        return f

    def type_slot(self, tp, slot):
        return self.mem.ptr(tp + self.layout["type." + slot])

    def refcnt(self, op):
        """(refcount, immortal)."""
        if self.free_threaded:
            # 3.13t: ob_ref_local (owner thread) + ob_ref_shared >> 2 (Py_REFCNT())
            lay = self.layout
            local = self.mem.u32(op + lay["object.ob_ref_local"])
            if local == 0xffffffff:
                return local, True
            return local + (self.mem.i64(op + lay["object.ob_ref_shared"])
                            >> lay["ft.object.ref_shared_shift"]), False
        v = self.mem.i64(op + self.layout["object.ob_refcnt"])
        if self.version[:2] >= (3, 14):
            # 3.14: ob_refcnt is a uint32 (+ ob_overflow, ob_flags); immortal
            # objects have it >= 2**31 (_Py_IMMORTAL_INITIAL_REFCNT 3<<30).
            low = v & 0xffffffff
            return low, low >= 1 << 31
        if self.version[:2] >= (3, 12):
            # 3.12/3.13: immortal objects have the low 32 bits all set.
            return v, (v & 0xffffffff) == 0xffffffff
        return v, False

    def gc_header(self, op):
        """(_gc_next, _gc_prev) of a GC object."""
        raw = self.mem.read(op - self.gchead + self.layout["gc_head.next"], 16)
        return struct.unpack("<QQ", raw)

    # ------------------------------------------------------------ census

    def census(self, head, limit=None, progress=None, every=200000, type_objects=None,
               worklist=False):
        """{type address: count} of the objects on one GC list, and the count.

        worklist: head is a free-threaded collector's worklist (its first
        word the first object, ob_tid links: Mem.walk_chain), not a list.

        Returns (counts, n, why): why is None when the whole list was
        walked, else why the counts are partial: "walk stopped at the limit
        of N objects", the broken-list message (GcScopeError text), or
        INTERRUPTED (Ctrl-C: the caller prints what was counted, then must
        stop: raise KeyboardInterrupt).  type_objects: a set to which the
        addresses of the type objects met on the list are added."""
        if worklist:
            nodes = self.mem.walk_chain(head, self.layout["object.ob_tid"], limit=limit)
        else:
            self.require_gc_lists()
            nodes = self.mem.walk_list(head, limit=limit)
        counts = {}
        get = counts.get
        mem = self.mem
        chunks = mem.chunks
        unpack = struct.Struct("<Q").unpack_from
        off = self.gchead + self.ob_type
        metas = set()
        n = 0
        why = None
        last = time.monotonic()
        try:
            for node in nodes:
                a = node + off
                base = a & ~(CHUNK - 1)
                d = chunks.get(base)
                if d is not None and a + 8 <= base + CHUNK:
                    tp = unpack(d, a - base)[0]
                else:
                    tp = mem.u64(a)
                c = get(tp)
                if c is None:
                    c = 0
                    if type_objects is not None:
                        try:
                            meta = bool(self.type_flags(tp) & Py_TPFLAGS_TYPE_SUBCLASS)
                        except GcScopeError:
                            meta = False
                        if meta:
                            metas.add(tp)
                counts[tp] = c + 1
                if type_objects is not None and tp in metas:
                    type_objects.add(node + self.gchead)
                n += 1
                if progress is not None and n % every == 0:
                    now = time.monotonic()
                    if now - last > 1.0:
                        progress(n)
                        last = now
            if limit is not None and n >= limit:
                why = "walk stopped at the limit of %d objects" % limit
        except GcScopeError as e:
            why = str(e)
        except KeyboardInterrupt:
            why = INTERRUPTED
        return counts, n, why

    def ft_census(self, interp, limit=None, progress=None, every=200000, type_objects=None):
        """A free-threaded build's census, from its mimalloc heaps (gcscope_ftheap).

        Returns (heap, [(title, counts, n)], why): the tracked objects not
        frozen ("heaps") and those gc.freeze() flagged ("permanent
        generation"); why as census()'s, or the first of the heap's problems
        (with how many more)."""
        from gcscope_ftheap import FtHeap     # noqa: late import (cycle)
        heap = FtHeap(self)
        frozen_bit = self.layout["ft.gcbits.frozen"]
        live, frozen = {}, {}
        nl = nf = 0
        n = 0
        why = None
        metas = set()
        last = time.monotonic()
        try:
            for op, bits, tp in heap.objects(interp):
                d = frozen if bits & frozen_bit else live
                c = d.get(tp)
                if c is None:
                    c = 0
                    if type_objects is not None:
                        try:
                            if self.type_flags(tp) & Py_TPFLAGS_TYPE_SUBCLASS:
                                metas.add(tp)
                        except GcScopeError:
                            pass
                d[tp] = c + 1
                if type_objects is not None and tp in metas:
                    type_objects.add(op)
                if bits & frozen_bit:
                    nf += 1
                else:
                    nl += 1
                n += 1
                if progress is not None and n % every == 0:
                    now = time.monotonic()
                    if now - last > 1.0:
                        progress(n)
                        last = now
                if limit is not None and n >= limit:
                    why = "walk stopped at the limit of %d objects" % limit
                    break
        except GcScopeError as e:
            why = str(e)
        except KeyboardInterrupt:
            why = INTERRUPTED
        if why is None and heap.problems:
            why = heap.problems[0] + ("" if len(heap.problems) == 1 else
                                      " (and %d more damaged parts)" % (len(heap.problems) - 1))
        return heap, [("heaps", live, nl), ("permanent generation", frozen, nf)], why

    def ft_objects(self, interp, untracked=False):
        """(FtHeap, iterator of (op, ob_gc_bits, ob_type)) of a free-threaded
        build: its tracked objects, or with untracked every object of its
        GC heaps (FtHeap.objects())."""
        from gcscope_ftheap import FtHeap     # noqa: late import (cycle)
        heap = FtHeap(self)
        return heap, heap.objects(interp, untracked)

    def by_name(self, counts):
        """Fold {type address: n} into {type name: n}."""
        out = {}
        for tp, n in counts.items():
            name = self.type_name(tp)
            out[name] = out.get(name, 0) + n
        return out


def ascii_str(mem, layout, op, maxlen):
    """Contents of a compact ASCII str object, or None."""
    if not op:
        return None
    length = mem.i64(op + layout["unicode.length"])
    state = mem.u32(op + layout["unicode.state"])
    # state bitfield (3.9-3.14): interned:2, kind:3, compact:1, ascii:1
    kind, compact, ascii = (state >> 2) & 7, (state >> 5) & 1, (state >> 6) & 1
    if not (compact and ascii and kind == 1) or length < 0:
        return None
    data = mem.read(op + layout["unicode.ascii_sizeof"], min(length, maxlen))
    return data.decode("ascii", "replace")


def is_live():
    """True for a running process (attached or started), False for a core file."""
    inf = gdb.selected_inferior()
    if inf is None or inf.pid == 0:
        return False
    conn = getattr(inf, "connection", None)      # gdb 12+
    if conn is not None:
        return conn.type != "core"
    # older gdb: "info target" names the core file (it may fail on a
    # threaded core: then it is not something we can call functions in)
    try:
        out = gdb.execute("info target", to_string=True).lower()
    except gdb.error:
        return False
    return "core file" not in out


def _has_core():
    try:
        out = gdb.execute("info target", to_string=True)
    except gdb.error:
        return False
    return "core file" in out.lower()


_target_cache = {}


def target():
    """The Target for the selected inferior, fresh memory cache per call."""
    inf = gdb.selected_inferior()
    key = (inf.num, inf.pid, len(gdb.objfiles()))
    t = _target_cache.get(key)
    if t is None:
        _target_cache.clear()
        t = Target()
        _target_cache[key] = t
    else:
        # a live process moves on between commands: drop cached memory
        t.mem = Memory(inf, core=t.mem.core)
        t._type_flags.clear()
        t._type_names.clear()
    t.layout.mem = t.mem
    return t


def _clear(*_):
    _target_cache.clear()


for ev in ("new_objfile", "clear_objfiles", "exited", "inferior_deleted"):
    reg = getattr(gdb.events, ev, None)
    if reg is not None:
        reg.connect(_clear)
