# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""What heap_program.py and corrupt_program.py both build a heap from: the
classes whose instances the tests count, and the counting itself."""
import ctypes


class Frozen:
    pass


class Old:
    pass


class Mid:
    pass


class Young:
    pass


class Garb:
    pass


def tp_name(t):
    # the C-level tp_name (what gdb reads), not __name__/__qualname__:
    # PyType_FromSpec types keep the dotted spec name there.
    return ctypes.c_char_p.from_address(id(t) + 24).value.decode()


def pairs(cls, n):
    out = []
    for _ in range(n // 2):
        a, b = cls(), cls()
        a.peer, b.peer = b, a
        out += [a, b]
    return out


def census(objs):
    c = {}
    for o in objs:
        k = tp_name(type(o))
        c[k] = c.get(k, 0) + 1
    return c
