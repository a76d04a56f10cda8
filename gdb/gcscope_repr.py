# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Short reprs of simple values read from raw memory (str, int, float, bytes, containers)."""
import struct

from gcscope_mem import GcScopeError

MAXLEN = 40
_BUILTINS = ("str", "int", "float", "bytes", "NoneType", "bool", "tuple", "list", "dict")
Py_TPFLAGS_HEAPTYPE = 1 << 9    # Include/object.h


def _trunc(s, n=MAXLEN):
    return s if len(s) <= n else s[:n] + "..."


def short_repr(tgt, op):
    """repr()-like text for simple values, else "<TYPE object at 0x...>"."""
    lay, mem = tgt.layout, tgt.mem
    try:
        tp = tgt.type_of(op)
    except GcScopeError:
        return "<unreadable object at 0x%x>" % op
    name = tgt.type_name(tp)
    try:
        # a class statement can call itself "str": only the static builtin
        # types are decoded as such
        if name in _BUILTINS and tgt.type_flags(tp) & Py_TPFLAGS_HEAPTYPE:
            return "<%s object at 0x%x>" % (name, op)
        if name == "str":
            length = mem.i64(op + lay["unicode.length"])
            state = mem.u32(op + lay["unicode.state"])
            # state bitfield, 3.9-3.14: interned:2, kind:3, compact:1, ascii:1
            kind, compact, ascii = (state >> 2) & 7, (state >> 5) & 1, (state >> 6) & 1
            if not compact or kind not in (1, 2, 4) or length < 0:
                return "<str of length %d>" % length
            data = op + (lay["unicode.ascii_sizeof"] if ascii else lay["unicode.compact_sizeof"])
            n = min(length, MAXLEN + 1)
            raw = mem.read(data, n * kind)
            enc = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[kind]
            return _trunc(repr(raw.decode(enc, "replace")), MAXLEN + 2) + \
                ("" if length <= MAXLEN else " (length %d)" % length)
        if name == "int":
            return _int(tgt, op)
        if name == "float":
            return repr(struct.unpack("<d", mem.read(op + lay["float.ob_fval"], 8))[0])
        if name == "bytes":
            length = mem.i64(op + lay["varobject.ob_size"])
            raw = mem.read(op + lay["bytes.ob_sval"], min(max(length, 0), MAXLEN + 1))
            return _trunc(repr(raw[:MAXLEN]), MAXLEN + 3) + \
                ("" if length <= MAXLEN else " (length %d)" % length)
        if name == "NoneType":
            return "None"
        if name == "bool":
            return "True" if _int(tgt, op) != "0" else "False"
        if name in ("tuple", "list"):
            return "<%s of length %d at 0x%x>" % (name, mem.i64(op + lay["varobject.ob_size"]), op)
        if name == "dict":
            return "<dict of length %d at 0x%x>" % (mem.i64(op + lay["dict.ma_used"]), op)
    except GcScopeError:
        return "<%s object at 0x%x (unreadable)>" % (name, op)
    return "<%s object at 0x%x>" % (name, op)


def _int(tgt, op):
    lay, mem = tgt.layout, tgt.mem
    if lay.get("long.lv_tag") is not None:
        # 3.12+: lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative)
        tag = mem.u64(op + lay["long.lv_tag"])
        if tag & 3 == 3:
            return "<int with a bad sign tag>"
        ndigits, sign = tag >> 3, 1 - (tag & 3)
    else:
        size = mem.i64(op + lay["varobject.ob_size"])
        ndigits, sign = abs(size), (size > 0) - (size < 0)
    if ndigits > 40:
        return "<int of %d digits>" % ndigits
    digits = struct.unpack("<%dI" % ndigits, mem.read(op + lay["long.ob_digit"], 4 * ndigits)) \
        if ndigits else ()
    v = 0
    for d in reversed(digits):
        v = (v << 30) | (d & ((1 << 30) - 1))
    return str(sign * v)
