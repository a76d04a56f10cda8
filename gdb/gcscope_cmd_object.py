# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-object."""
import gdb

import gcscope_objects as O
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError
from gcscope_objects import target


class PyGcObject(GcCommand):
    """Show one object's GC state.

Usage: py-gc-object ADDR

ADDR is an expression giving the address of a PyObject (e.g. 0x7f12345678 or
a PyObject * variable).  Shows its type and refcount, whether its type is a GC
type, and for GC objects whether it is tracked, which generation list holds it
(found by walking the lists), whether tp_finalize has run (FINALIZED bit), and
during a collection its gc_refs."""
    NAME = "py-gc-object"

    def run(self, arg, from_tty):
        pos, _fl, _opt = parse_args(self.NAME, arg, max_pos=1)
        if not pos:
            raise GcScopeError("usage: py-gc-object ADDR")
        try:
            op = int(gdb.parse_and_eval(arg).cast(gdb.lookup_type("unsigned long")))
        except gdb.error as e:
            raise GcScopeError("bad address %r: %s" % (arg, e)) from None
        tgt = target()
        tp = tgt.type_of(op)
        name = tgt.type_name(tp)
        rc, immortal = tgt.refcnt(op)
        out("object 0x%x" % op)
        out("  type: %s (0x%x)" % (name, tp))
        out("  refcount: %s" % ("immortal (%d)" % rc if immortal else rc))
        flags = tgt.type_flags(tp)
        if not flags & O.Py_TPFLAGS_HAVE_GC:
            out("  gc: not a GC object (type has no Py_TPFLAGS_HAVE_GC)")
            return
        nxt, prev = tgt.gc_header(op)
        if nxt == 0:
            out("  tracked: no")
            out("  finalized: %s" % ("yes" if prev & O._PyGC_PREV_MASK_FINALIZED else "no"))
            return
        out("  tracked: yes")
        out("  finalized: %s" % ("yes" if prev & O._PyGC_PREV_MASK_FINALIZED else "no"))
        if prev & O._PyGC_PREV_MASK_COLLECTING:
            out("  collecting: yes (gc_refs %d)" % (prev >> O._PyGC_PREV_SHIFT))
        gcaddr = op - tgt.gchead
        where = None
        for interp in tgt.interpreters():
            gc = tgt.gcstate(interp)
            lists = [("generation " + n, h) for n, h, _t, _c in tgt.generation_heads(gc)]
            lists.append(("permanent generation (frozen)", tgt.permanent_head(gc)))
            for title, head in lists:
                for node in tgt.mem.walk_list(head, limit=50000000):
                    if node == gcaddr:
                        where = "%s of interpreter %d" % (title, tgt.interp_id(interp))
                        break
                if where:
                    break
            if where:
                break
        out("  generation: %s" % (where or "none of the interpreters' lists "
                                  "(on a collector's local list, or a dangling pointer)"))


PyGcObject()
