# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Damaged cores made from real ones (gcore): laid out as the kernel writes
them, then cut short or with regions zeroed (issue 11).

gcore writes its notes after the memory and section headers at the very end;
the kernel writes the notes first and no section headers, so that a core cut
short (ulimit -c, a full disk, a copy that stopped) still opens in gdb with
part of its memory missing.  kernel_layout() rewrites a gcore core that way.
"""
import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE = 1, 4


def phdrs(data):
    eh = EHDR.unpack_from(data, 0)
    phoff, phentsize, phnum = eh[5], eh[9], eh[10]
    return [list(PHDR.unpack_from(data, phoff + i * phentsize)) for i in range(phnum)]


def kernel_layout(path, last=None):
    """Rewrite the core at path: ELF header, program headers, notes, then
    the memory in address order; no section headers.  last: an address
    whose segment is put at the end of the file instead (then cut it with
    truncate_at(), leaving every other segment whole)."""
    with open(path, "rb") as f:
        data = f.read()
    eh = list(EHDR.unpack_from(data, 0))
    ph = phdrs(data)
    def holds(p):
        return last is not None and p[0] == PT_LOAD and p[3] <= last < p[3] + p[5]
    order = ([p for p in ph if p[0] == PT_NOTE] + [p for p in ph if p[0] != PT_NOTE and not holds(p)]
             + [p for p in ph if holds(p)])
    off = EHDR.size + PHDR.size * len(order)
    body = []
    for p in order:
        chunk = data[p[2]:p[2] + p[5]]         # p_offset, p_filesz
        p[2] = off
        body.append(chunk)
        off += len(chunk)
    eh[5] = EHDR.size                          # e_phoff
    eh[6] = 0                                  # e_shoff
    eh[9] = PHDR.size
    eh[10] = len(order)
    eh[11] = eh[12] = eh[13] = 0               # e_shentsize, e_shnum, e_shstrndx
    with open(path, "wb") as f:
        f.write(EHDR.pack(*eh))
        for p in order:
            f.write(PHDR.pack(*p))
        for chunk in body:
            f.write(chunk)


def file_offset(path, vaddr):
    """(offset in the file of the byte at vaddr, the PT_LOAD holding it)."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    for p in phdrs(data):
        if p[0] == PT_LOAD and p[3] <= vaddr < p[3] + p[5]:
            return p[2] + vaddr - p[3], p
    raise AssertionError("0x%x is in no PT_LOAD of %s that has file contents" % (vaddr, path))


def truncate_at(path, vaddr):
    """Cut the core where the page holding vaddr starts: that memory and all
    that the file held after it are missing.  Returns the new size."""
    off, p = file_offset(path, vaddr & ~0xfff)
    with open(path, "r+b") as f:
        f.truncate(off)
    return off


def zero(path, vaddr, size):
    """Zero size bytes of memory from vaddr (within one PT_LOAD)."""
    off, p = file_offset(path, vaddr)
    assert vaddr + size <= p[3] + p[5], "the range leaves its segment"
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(bytes(size))
