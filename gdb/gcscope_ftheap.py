# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The GC objects of a free-threaded build, found in its mimalloc heaps.

A free-threaded CPython (3.13t+) keeps no generation lists.  Its collector
finds the GC objects by walking mimalloc's heaps (Python/gc_free_threading.c,
gc_visit_heaps_lock_held() of 3.13): for each thread state, the heaps
_Py_MIMALLOC_HEAP_GC and _Py_MIMALLOC_HEAP_GC_PRE of
_PyThreadStateImpl.mimalloc, then the pages of those two tags in the
segments of the interpreter's mimalloc.abandoned_pool (the pages of threads
that exited); in each page every used block (mi_heap_visit_blocks()), and a
block is an object of the census when its ob_gc_bits has _PyGC_BITS_TRACKED
(op_from_block()).  This walks the same way, from outside and without
changing anything: mimalloc first moves a page's local_free and xthread_free
lists into its free list (_mi_page_free_collect()); here a block is used
unless it is on any of the three lists, or on its heap's
thread_delayed_free.

Offsets, sizes and constants are rows of pylayout.tsv (mi_*, ft.mi.*,
ft.gcbits.*).  Everything read is the target's and is checked: page counts
against the heap's page_count, list lengths against the page's capacity,
block sizes and capacities against the page's slices, segments and pages
against their alignment.  A page that fails is skipped and named (the walk
is then INCOMPLETE with that reason); a page queue or segment list that
loops stops there.
"""
import struct

from gcscope_mem import GcScopeError

_Q = struct.Struct("<Q")

# Bounds on what the target says (each far above a real heap's).
MAX_PAGES_PER_HEAP = 1 << 22          # 4 Mi pages: 256 GiB of 64 KiB pages
MAX_ABANDONED_SEGMENTS = 1 << 16      # 2 TiB of 32 MiB segments
MAX_DELAYED = 1 << 22
READ_WHOLE_PAGE = 1 << 20             # a page's blocks read in one piece up to this


class HeapDamaged(GcScopeError):
    """A part of the mimalloc heap that cannot be walked."""


class FtHeap:
    """The mimalloc GC heaps of one free-threaded target."""

    def __init__(self, tgt):
        self.tgt = tgt
        self.mem = tgt.mem
        lay = tgt.layout
        try:
            g = lay.__getitem__
            self.o = {k: g(k) for k in (
                "mi_tstate.mimalloc", "mi_tstate.heaps", "mi_tstate.initialized",
                "mi_interp.mimalloc", "mi_pool.abandoned", "mi_pool.abandoned_visited",
                "mi_heap.sizeof", "mi_heap.pages", "mi_heap.thread_delayed_free",
                "mi_heap.page_count", "mi_queue.sizeof", "mi_queue.first",
                "mi_page.sizeof", "mi_page.slice_count", "mi_page.slice_offset",
                "mi_page.debug_offset", "mi_page.capacity", "mi_page.reserved", "mi_page.free",
                "mi_page.used", "mi_page.xblock_size", "mi_page.local_free",
                "mi_page.xthread_free", "mi_page.xheap", "mi_page.next",
                "mi_segment.abandoned_next", "mi_segment.slice_entries", "mi_segment.slices",
                "object.ob_gc_bits", "object.ob_type",
                "ft.mi.page_tag_byte", "ft.mi.page_tag_shift", "ft.mi.page_tag_mask",
                "ft.mi.segment_shift", "ft.mi.slice_shift", "ft.mi.bins", "ft.mi.heap_gc",
                "ft.mi.heap_gc_pre", "ft.mi.start_3x_max", "ft.mi.start_1x_max",
                "ft.gcbits.tracked", "ft.gcbits.frozen")}
        except GcScopeError as e:
            raise GcScopeError("free-threaded build: cannot walk its mimalloc heaps: %s "
                               "(pylayout.tsv has the mimalloc rows for 3.13t; other versions "
                               "need the build's debug info)" % e, exit_code=7) from None
        o = self.o
        self.seg_size = 1 << o["ft.mi.segment_shift"]
        self.slice_size = 1 << o["ft.mi.slice_shift"]
        self.max_slices = self.seg_size // self.slice_size + 1
        self.tags = (o["ft.mi.heap_gc"], o["ft.mi.heap_gc_pre"])
        self.problems = []        # why the walk is incomplete (one line each)
        self.threads = 0          # thread heaps walked
        self.segments = 0         # abandoned segments walked

    # ------------------------------------------------------------ pages

    def _problem(self, what):
        if len(self.problems) < 1000:
            self.problems.append(what)

    def page_info(self, page, want_tag=None):
        """(segment, pstart, bsize, capacity, tag, block offset) of a page, checked."""
        o, mem = self.o, self.mem
        raw = mem.read(page, o["mi_page.sizeof"])

        def u(off, n):
            return int.from_bytes(raw[off:off + n], "little")
        seg = page & ~(self.seg_size - 1)
        rel = page - seg - o["mi_segment.slices"]
        if page & 7 or rel < 0 or rel % o["mi_page.sizeof"]:
            raise HeapDamaged("page 0x%x is not a slice of its segment 0x%x" % (page, seg))
        idx = rel // o["mi_page.sizeof"]
        entries = mem.u64(seg + o["mi_segment.slice_entries"])
        if not 0 < entries <= self.max_slices or idx >= entries:
            raise HeapDamaged("page 0x%x: slice %d of a segment of %d slices" % (page, idx, entries))
        slices = u(o["mi_page.slice_count"], 4)
        if u(o["mi_page.slice_offset"], 4) != 0 or not 0 < slices <= entries - idx:
            raise HeapDamaged("page 0x%x: %d slices from slice %d of %d" % (page, slices, idx, entries))
        tag = (raw[o["ft.mi.page_tag_byte"]] >> o["ft.mi.page_tag_shift"]) & o["ft.mi.page_tag_mask"]
        if want_tag is not None and tag != want_tag:
            raise HeapDamaged("page 0x%x on the queue of heap %d has tag %d" % (page, want_tag, tag))
        cap, res = u(o["mi_page.capacity"], 2), u(o["mi_page.reserved"], 2)
        bsize = u(o["mi_page.xblock_size"], 4)
        psize = slices * self.slice_size
        start = 0
        if 8 <= bsize <= o["ft.mi.start_3x_max"]:
            start = 3 * bsize
        elif 8 <= bsize <= o["ft.mi.start_1x_max"]:
            start = bsize
        if cap > res or bsize == 0 or (cap > 1 and (bsize < 16 or start + cap * bsize > psize)):
            raise HeapDamaged("page 0x%x: capacity %d (reserved %d) of %d-byte blocks in %d bytes"
                              % (page, cap, res, bsize, psize))
        off = raw[o["mi_page.debug_offset"]] - o["object.ob_type"]
        if off < 0 or off % 8 or (cap > 1 and off + o["object.ob_type"] + 8 > bsize):
            raise HeapDamaged("page 0x%x: debug_offset %d, not where a PyObject can start"
                              % (page, raw[o["mi_page.debug_offset"]]))
        pstart = seg + idx * self.slice_size + start
        return raw, seg, pstart, bsize, cap, tag, off

    def _free_blocks(self, page, raw, pstart, bsize, cap, delayed):
        """Indexes of the page's free blocks: on free, local_free, xthread_free."""
        o, mem = self.o, self.mem
        free = set()
        heads = (("free", int.from_bytes(raw[o["mi_page.free"]:o["mi_page.free"] + 8], "little")),
                 ("local_free", int.from_bytes(raw[o["mi_page.local_free"]:o["mi_page.local_free"] + 8],
                                               "little")),
                 ("xthread_free", int.from_bytes(raw[o["mi_page.xthread_free"]:
                                                     o["mi_page.xthread_free"] + 8], "little") & ~3))
        end = pstart + (cap if cap > 1 else 1) * bsize
        for name, b in heads:
            while b:
                if cap == 1:
                    free.add(0)
                    break
                if not pstart <= b < end or (b - pstart) % bsize:
                    raise HeapDamaged("page 0x%x: its %s list has 0x%x, not a block of the page"
                                      % (page, name, b))
                i = (b - pstart) // bsize
                if i in free:
                    raise HeapDamaged("page 0x%x: its %s list loops (block %d twice)" % (page, name, i))
                free.add(i)
                b = mem.u64(b)
        if delayed:
            for b in delayed:
                if pstart <= b < end and (b - pstart) % bsize == 0:
                    free.add((b - pstart) // bsize)
        return free

    def page_objects(self, page, want_tag=None, delayed=None):
        """Yield (op, ob_gc_bits, ob_type) of each block in use of a page,
        tracked or not; raises HeapDamaged (or MemoryMissing)."""
        o, mem = self.o, self.mem
        raw, _seg, pstart, bsize, cap, tag, off = self.page_info(page, want_tag)
        if tag not in self.tags or cap == 0:
            return
        free = self._free_blocks(page, raw, pstart, bsize, cap, delayed)
        bits_off = off + o["object.ob_gc_bits"]
        type_off = off + o["object.ob_type"]
        step = bsize if cap > 1 else 0
        if cap > 1 and cap * bsize <= READ_WHOLE_PAGE:
            # one read per page; the block's bytes unpacked in place
            whole = mem.read(pstart, cap * bsize)
            unpack = _Q.unpack_from
            for i in range(cap):
                if i not in free:
                    b = i * bsize
                    yield pstart + b + off, whole[b + bits_off], unpack(whole, b + type_off)[0]
            return
        for i in range(cap):
            if i in free:
                continue
            blk = pstart + i * step
            hdr = mem.read(blk + off, type_off - off + 8)
            yield blk + off, hdr[bits_off - off], _Q.unpack_from(hdr, type_off - off)[0]

    # ------------------------------------------------------------ heaps

    def heap_pages(self, heap):
        """Pages of one mi_heap_t, bounded by its page_count."""
        o, mem = self.o, self.mem
        count = mem.u64(heap + o["mi_heap.page_count"])
        if count > MAX_PAGES_PER_HEAP:
            raise HeapDamaged("heap 0x%x claims %d pages" % (heap, count))
        seen = 0
        for b in range(o["ft.mi.bins"]):
            page = mem.ptr(heap + o["mi_heap.pages"] + b * o["mi_queue.sizeof"] + o["mi_queue.first"])
            while page:
                seen += 1
                if seen > count:
                    raise HeapDamaged("heap 0x%x: its page queues hold more than its %d pages "
                                      "(a queue loops?)" % (heap, count))
                yield page
                page = mem.ptr(page + o["mi_page.next"])

    def delayed(self, heap):
        o, mem = self.o, self.mem
        out = set()
        b = mem.ptr(heap + o["mi_heap.thread_delayed_free"]) & ~3
        while b:
            if b in out or len(out) >= MAX_DELAYED:
                raise HeapDamaged("heap 0x%x: its thread_delayed_free list loops" % heap)
            out.add(b)
            b = mem.u64(b) & ~3
        return out

    def thread_heaps(self, interp):
        """[(heap address, tag, tstate)] of the GC heaps of each bound thread."""
        o, mem = self.o, self.mem
        out = []
        for tstate, _tid, _nat in self.tgt.threads(interp):
            mts = tstate + o["mi_tstate.mimalloc"]
            if mem.i32(mts + o["mi_tstate.initialized"]) == 0:
                continue        # not bound yet (tstate_mimalloc_bind())
            for tag in self.tags:
                out.append((mts + o["mi_tstate.heaps"] + tag * o["mi_heap.sizeof"], tag, tstate))
        return out

    def abandoned_segments(self, interp):
        o, mem = self.o, self.mem
        pool = interp + o["mi_interp.mimalloc"]
        seen = set()
        # abandoned is a tagged pointer (mi_tagged_segment_t: a count in the
        # bits below the segment alignment), abandoned_visited a plain one
        for head in (mem.u64(pool + o["mi_pool.abandoned"]) & ~(self.seg_size - 1),
                     mem.ptr(pool + o["mi_pool.abandoned_visited"])):
            seg = head
            while seg:
                if seg & (self.seg_size - 1):
                    raise HeapDamaged("abandoned segment list: 0x%x is not a segment" % seg)
                if seg in seen or len(seen) >= MAX_ABANDONED_SEGMENTS:
                    raise HeapDamaged("the abandoned segment list loops at 0x%x" % seg)
                seen.add(seg)
                yield seg
                seg = mem.ptr(seg + o["mi_segment.abandoned_next"])

    def segment_pages(self, seg):
        """Pages in use of a segment, of the GC tags (mi_segment_visit_pages())."""
        o, mem = self.o, self.mem
        entries = mem.u64(seg + o["mi_segment.slice_entries"])
        if not 0 < entries <= self.max_slices:
            raise HeapDamaged("segment 0x%x has %d slices" % (seg, entries))
        psz = o["mi_page.sizeof"]
        base = seg + o["mi_segment.slices"]
        # slice 0 starts the segment's own info (mi_slices_start_iterate())
        i = mem.u32(base + o["mi_page.slice_count"])
        n = 0
        while i < entries:
            sl = base + i * psz
            cnt = mem.u32(sl + o["mi_page.slice_count"])
            if cnt == 0 or n > entries:
                raise HeapDamaged("segment 0x%x: slice %d spans %d slices" % (seg, i, cnt))
            if mem.u32(sl + o["mi_page.xblock_size"]) > 0:
                tag = (mem.read(sl + o["ft.mi.page_tag_byte"], 1)[0] >> o["ft.mi.page_tag_shift"]) \
                    & o["ft.mi.page_tag_mask"]
                if tag in self.tags:
                    yield sl
            i += cnt
            n += 1

    def objects(self, interp, untracked=False):
        """Yield (op, ob_gc_bits, ob_type) of every tracked GC object of an
        interpreter (untracked: of every object in a GC heap block in use);
        what could not be walked goes to self.problems.

        untracked is for type objects: 3.13t makes the classes of Python
        code immortal and untracks them once a second thread starts
        (gh-117783, _PyGC_ImmortalizeDeferredObjects(); seen on 3.13.15t:
        gc.is_tracked(cls) turns False), so a walk of the tracked objects
        alone misses most heap types.

        A page or heap that cannot be read (damaged, or memory a core cut
        short lacks: MemoryMissing) is skipped and named there, as a GIL
        census marks a list INCOMPLETE and goes on with the others."""
        tracked = 0 if untracked else self.o["ft.gcbits.tracked"]
        self.problems = []
        self.threads = 0
        self.segments = 0
        for heap, tag, tstate in self.thread_heaps(interp):
            self.threads += tag == self.tags[0]
            try:
                delayed = self.delayed(heap)
                pages = list(self.heap_pages(heap))
            except GcScopeError as e:
                self._problem("heap of thread state 0x%x: %s" % (tstate, e))
                continue
            for page in pages:
                try:
                    for op, bits, tp in self.page_objects(page, tag, delayed):
                        if not tracked or bits & tracked:
                            yield op, bits, tp
                except GcScopeError as e:
                    self._problem(str(e))
        try:
            for seg in self.abandoned_segments(interp):
                self.segments += 1
                try:
                    pages = list(self.segment_pages(seg))
                except GcScopeError as e:
                    self._problem("abandoned segment 0x%x: %s" % (seg, e))
                    continue
                for page in pages:
                    try:
                        for op, bits, tp in self.page_objects(page):
                            if not tracked or bits & tracked:
                                yield op, bits, tp
                    except GcScopeError as e:
                        self._problem(str(e))
        except GcScopeError as e:
            self._problem("abandoned pool: %s" % e)

    def where(self, op):
        """(page, block index, used, heap description) of the block holding op."""
        o, mem = self.o, self.mem
        seg = op & ~(self.seg_size - 1)
        idx = (op - seg) // self.slice_size
        sl = seg + o["mi_segment.slices"] + idx * o["mi_page.sizeof"]
        page = sl - mem.u32(sl + o["mi_page.slice_offset"])
        raw, _s, pstart, bsize, cap, tag, off = self.page_info(page)
        if cap == 0 or op < pstart + off:
            raise HeapDamaged("0x%x is not in a block of mimalloc page 0x%x" % (op, page))
        i = (op - off - pstart) // bsize if cap > 1 else 0
        if i >= cap or pstart + i * bsize + off != op:
            raise HeapDamaged("0x%x is not where an object of mimalloc page 0x%x starts" % (op, page))
        free = self._free_blocks(page, raw, pstart, bsize, cap, None)
        xheap = int.from_bytes(raw[o["mi_page.xheap"]:o["mi_page.xheap"] + 8], "little")
        return page, i, i not in free, tag, xheap
