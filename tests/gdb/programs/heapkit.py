# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""What the gdb test programs share: the classes whose instances the tests
count, the counting itself, the generations they are put in, and the
report-and-ready handshake of gdbutil.start()."""
import ctypes
import gc
import json
import os


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


class Orphan:
    """Made by a thread that then exits: on a free-threaded build its
    mimalloc pages go to the interpreter's abandoned pool."""
    pass


def orphans(n):
    """n Orphan instances made by a thread that has exited when this returns."""
    import threading
    out = []
    t = threading.Thread(target=lambda: out.extend(pairs(Orphan, n)))
    t.start()
    t.join()
    return out


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


def frozen_heap(n_frozen):
    """Thresholds (100000, 50, 60), so that nothing collects by itself, and
    n_frozen Frozen instances frozen by gc.freeze(): the dict of what to keep."""
    gc.set_threshold(100000, 50, 60)
    keep = {"frozen": pairs(Frozen, n_frozen)}
    gc.freeze()
    return keep


def fill_generations(keep, n_old, n_mid, n_young):
    """Old instances into generation 2 (a full collection moves them there),
    Mid into generation 1 (collect(0)), Young left in generation 0."""
    keep["old"] = pairs(Old, n_old)
    gc.collect()
    keep["mid"] = pairs(Mid, n_mid)
    gc.collect(0)
    keep["young"] = pairs(Young, n_young)


def report_ready(report_path, ready_path, report):
    """Write report as JSON, then "ready" to the FIFO gdbutil.start() waits on."""
    with open(report_path, "w") as f:
        json.dump(report, f)
    fd = os.open(ready_path, os.O_WRONLY)
    os.write(fd, b"ready\n")
    os.close(fd)
