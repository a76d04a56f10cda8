# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Reading the target's memory in big cached chunks.

Walking a GC list of millions of objects with one gdb.Value per field costs
tens of microseconds per field; reading 64 KiB at a time and unpacking with
struct costs about one microsecond per object, because list order follows
allocation order (pymalloc pools of 16 KiB, arenas of 256 KiB to 1 MiB).
A chunk that cannot be read whole (end of a mapping, a hole in a core) is
retried page by page, then at the exact size.
"""
import re
import struct
from collections import OrderedDict

import gdb

CHUNK = 1 << 16
PAGE = 1 << 12
_Q = struct.Struct("<Q")
_q = struct.Struct("<q")
_I = struct.Struct("<I")
_i = struct.Struct("<i")


# C0 controls, DEL and C1 controls (U+0080-U+009F), which terminals act on;
# the same set as tty_clean() in user/common.c
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(s):
    """s with every character a terminal would act on shown as '?'.

    Names read from the target (tp_name, thread names) go through this:
    prctl(PR_SET_NAME) and type() take any characters."""
    return _CONTROL.sub("?", s)


class GcScopeError(Exception):
    """An error to show the user as one line (never a traceback).

    exit_code: what `gcscope gdb`/`gcscope core` exit with when this stops
    the commands from loading or the report fails this way
    (docs/exit-codes.md); 1 for any other failure."""
    exit_code = 1

    def __init__(self, msg, exit_code=None):
        super().__init__(msg)
        if exit_code is not None:
            self.exit_code = exit_code


class NoTarget(GcScopeError):
    """Neither a live process nor a core that gdb could load."""
    exit_code = 8


class NoPython(GcScopeError):
    """No CPython runtime that can be read here (not Python, the wrong
    executable for a core, or a runtime not initialized)."""
    exit_code = 4


class MemoryMissing(GcScopeError):
    """Memory that the core's headers describe but that its file does not
    hold (a core cut short): gdb would read the executable's initial data
    there instead, silently."""
    exit_code = 9


class BrokenList(GcScopeError):
    """A GC list whose links cannot be followed back to its head."""

    def __init__(self, head, why):
        super().__init__("broken GC list at 0x%x: %s" % (head, why))
        self.head = head
        self.why = why


class CoreExtent:
    """The PT_LOAD segments of a core file, and how much of them the file
    holds.  gdb reads an address whose segment is cut off from the
    executable's sections (initial .data, zeroed .bss) with no error: that
    is how a truncated core showed "the runtime is not initialized"."""

    def __init__(self, path):
        self.path = path
        self.cut = []            # (vaddr start, vaddr end) not in the file
        with open(path, "rb") as f:
            f.seek(0, 2)
            self.file_size = f.tell()
            f.seek(0)
            eh = f.read(64)
            if len(eh) < 64 or eh[:4] != b"\x7fELF" or eh[4] != 2:
                return
            phoff, = struct.unpack_from("<Q", eh, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
            if phentsize < 56 or phnum > 65535:
                return
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
        for i in range(len(ph) // phentsize):
            p_type, _fl, off, vaddr, _pa, filesz, _memsz, _al = struct.unpack_from(
                "<IIQQQQQQ", ph, i * phentsize)
            if p_type != 1 or filesz == 0 or off + filesz <= self.file_size:
                continue
            start = vaddr + max(0, self.file_size - off)
            self.cut.append((start, vaddr + filesz))

    def check(self, addr, n):
        for start, end in self.cut:
            if addr < end and addr + n > start:
                raise MemoryMissing(
                    "memory missing from the core: 0x%x is in a segment that %s does not hold "
                    "(the file ends at %d bytes: it was cut short)" % (max(addr, start), self.path,
                                                                     self.file_size))


def core_extent():
    """CoreExtent of the core gdb has loaded, or None (a live process)."""
    try:
        out = gdb.execute("info target", to_string=True)
    except gdb.error:
        return None
    m = re.search(r"Local core dump file:\s*`(.*)', file type", out)
    if not m:
        return None
    try:
        return CoreExtent(m.group(1))
    except OSError:
        return None


class Memory:
    def __init__(self, inferior=None, max_chunks=512, core=None):
        self.inf = inferior or gdb.selected_inferior()
        self.core = core                 # CoreExtent, or None
        self.chunks = OrderedDict()      # base -> CHUNK bytes (walk_list reads it directly)
        self.pages = OrderedDict()       # base -> PAGE bytes, inside chunks that failed
        self.bad = set()                 # chunk bases that could not be read whole
        self.max_chunks = max_chunks

    def _raw(self, addr, n):
        if self.core is not None:
            self.core.check(addr, n)
        try:
            return bytes(self.inf.read_memory(addr, n))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError) as e:
            raise GcScopeError("cannot read %d bytes at 0x%x: %s" % (n, addr, e)) from None

    def _chunk(self, base, size):
        cache = self.chunks if size == CHUNK else self.pages
        data = cache.get(base)
        if data is not None:
            cache.move_to_end(base)
            return data
        data = self._raw(base, size)
        cache[base] = data
        if len(cache) > self.max_chunks:
            cache.popitem(last=False)
        return data

    def read(self, addr, n):
        if addr <= 0 or addr >= 1 << 64:
            raise GcScopeError("cannot read memory at 0x%x" % (addr & ((1 << 64) - 1)))
        base = addr & ~(CHUNK - 1)
        if addr + n <= base + CHUNK:
            if base not in self.bad:
                try:
                    d = self._chunk(base, CHUNK)
                    return d[addr - base:addr - base + n]
                except GcScopeError:
                    self.bad.add(base)
            pbase = addr & ~(PAGE - 1)
            if addr + n <= pbase + PAGE:
                try:
                    d = self._chunk(pbase, PAGE)
                    return d[addr - pbase:addr - pbase + n]
                except GcScopeError:
                    pass
        return self._raw(addr, n)

    def u64(self, addr):
        return _Q.unpack(self.read(addr, 8))[0]

    ptr = u64

    def i64(self, addr):
        return _q.unpack(self.read(addr, 8))[0]

    def u32(self, addr):
        return _I.unpack(self.read(addr, 4))[0]

    def i32(self, addr):
        return _i.unpack(self.read(addr, 4))[0]

    def cstring(self, addr, maxlen=256):
        out = b""
        while len(out) < maxlen:
            # stop at a page end so a string near an unmapped page still reads
            n = min(maxlen - len(out), PAGE - ((addr + len(out)) & (PAGE - 1)))
            part = self.read(addr + len(out), n)
            z = part.find(b"\0")
            if z >= 0:
                return printable((out + part[:z]).decode("utf-8", "replace"))
            out += part
        return printable(out.decode("utf-8", "replace")) + "..."

    def walk_list(self, head, next_off=0, limit=None, check=None):
        """Yield each node of the circular list at head (_gc_next at next_off).

        The low two bits of _gc_next are flags (NEXT_MASK_UNREACHABLE, and the
        visited-space bit of 3.14.0-3.14.4), never address bits: nodes are
        16-aligned.  Stops after limit nodes.  Raises BrokenList when a link
        is bad (NULL, not 16-aligned, or pointing at memory that cannot be
        read: each node's own link is read before the node is yielded) or
        when the list loops without coming back to head (Brent's cycle
        detection: O(1) memory, and no trust in _gc_prev, which holds gc_refs
        during a collection).
        """
        return self._walk_links(head, head + next_off, next_off, limit, end=head, mask=~3, align=15,
                                 tortoise=head)

    def walk_chain(self, head, next_off, limit=None):
        """Yield each node of the NULL-terminated chain whose first node is
        the word at head, each linking the next at next_off: a free-threaded
        collector's worklist (Python/gc_free_threading.c worklist_push(): the
        head word is the first object, each object's ob_tid the next).

        Same defences as walk_list: a link that is not 8-aligned or cannot be
        read raises BrokenList, and so does a loop (Brent)."""
        return self._walk_links(head, head, next_off, limit, end=0, mask=~0, align=7, tortoise=None)

    def _walk_links(self, head, first, next_off, limit, end, mask, align, tortoise):
        """walk_list's and walk_chain's walk: the first node is the word at
        first, each node's link the word at node + next_off (& mask), until
        end; a node that is 0 or has a bit of align set is a bad link, one
        met again (Brent, from tortoise) a loop.  head names the list in
        BrokenList."""
        chunks = self.chunks
        unpack = _Q.unpack_from
        n = 0
        try:
            node = self.u64(first) & mask
        except MemoryMissing:
            raise
        except GcScopeError:
            raise BrokenList(head, "cannot read its head") from None
        power, lam = 1, 0   # Brent: the tortoise jumps to the hare at each power of two
        while node != end:
            if node == tortoise:
                raise BrokenList(head, "loops after %d objects" % n)
            if node == 0 or node & align:
                raise BrokenList(head, "bad link 0x%x after %d objects" % (node, n))
            a = node + next_off
            base = a & ~(CHUNK - 1)
            d = chunks.get(base)
            if d is not None and a + 8 <= base + CHUNK:
                nxt = unpack(d, a - base)[0] & mask
            else:
                try:
                    nxt = self.u64(a) & mask
                except MemoryMissing:
                    raise
                except GcScopeError:
                    raise BrokenList(head, "bad link 0x%x after %d objects" % (node, n)) from None
            yield node
            n += 1
            if limit is not None and n >= limit:
                return
            lam += 1
            if lam == power:
                tortoise = node
                power <<= 1
                lam = 0
            node = nxt
