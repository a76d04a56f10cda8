# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-object."""
import re

import gdb

import gcscope_objects as O
from gcscope_command import GcCommand, parse_args, out
from gcscope_mem import GcScopeError, MemoryMissing
from gcscope_objects import target


class PyGcObject(GcCommand):
    """Show one object's GC state.

Usage: py-gc-object ADDR

ADDR is an expression giving the address of a PyObject (e.g. 0x7f12345678 or
a PyObject * variable).  It is evaluated with function calls off and may not
assign: the command never changes the target.  Shows its type and refcount, whether its type is a GC
type, and for GC objects whether it is tracked, which generation list holds it
(found by walking the lists), whether tp_finalize has run (FINALIZED bit), and
during a collection its gc_refs.  On a free-threaded build (3.13t+) the
GC state is the object's ob_gc_bits and where it lives is its mimalloc page
(whose heap is a thread's, or an abandoned segment's); "permanent
generation" there means frozen (gc.freeze())."""
    NAME = "py-gc-object"

    def run(self, arg, from_tty):
        expr = (arg or "").strip()
        if not expr:
            raise GcScopeError("usage: py-gc-object ADDR")
        if expr.startswith("--"):
            parse_args(self.NAME, expr, max_pos=0)      # says which option is unknown
        op = _address(expr)
        tgt = target()
        try:
            tp = tgt.type_of(op)
            name = tgt.type_name(tp)
            tgt.type_flags(tp)
        except MemoryMissing:
            raise
        except GcScopeError:
            raise GcScopeError("0x%x does not look like a PyObject: its ob_type cannot be read "
                               "(or is not a type)" % op) from None
        name = tgt.type_name(tp)
        rc, immortal = tgt.refcnt(op)
        out("object 0x%x" % op)
        out("  type: %s (0x%x)" % (name, tp))
        out("  refcount: %s" % ("immortal (%d)" % rc if immortal else rc))
        flags = tgt.type_flags(tp)
        if not flags & O.Py_TPFLAGS_HAVE_GC:
            out("  gc: not a GC object (type has no Py_TPFLAGS_HAVE_GC)")
            return
        if tgt.free_threaded:
            _free_threaded(tgt, op)
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
                try:
                    for node in tgt.mem.walk_list(head, limit=50000000):
                        if node == gcaddr:
                            where = "%s of interpreter %d" % (title, tgt.interp_id(interp))
                            break
                except GcScopeError as e:
                    out("  note: %s of interpreter %d not searched whole: %s" % (
                        title, tgt.interp_id(interp), e))
                if where:
                    break
            if where:
                break
        out("  generation: %s" % (where or "none of the interpreters' lists "
                                  "(on a collector's local list, or a dangling pointer)"))


def _free_threaded(tgt, op):
    """3.13t: the GC state is ob_gc_bits; where the object lives is the
    mimalloc page its address falls in (gcscope_ftheap), whose heap is a
    thread's or none (an abandoned segment)."""
    from gcscope_ftheap import FtHeap
    lay = tgt.layout
    bits = tgt.mem.read(op + lay["object.ob_gc_bits"], 1)[0]
    out("  tracked: %s" % ("yes" if bits & lay["ft.gcbits.tracked"] else "no"))
    out("  finalized: %s" % ("yes" if bits & lay["ft.gcbits.finalized"] else "no"))
    if bits & lay["ft.gcbits.unreachable"]:
        out("  collecting: yes (unreachable in the collection running)")
    heap = FtHeap(tgt)
    try:
        page, i, used, tag, xheap = heap.where(op)
    except MemoryMissing:
        raise
    except GcScopeError as e:
        out("  generation: none (%s)" % e)
        return
    owner = "an abandoned segment (its thread exited)" if not xheap else "heap 0x%x" % xheap
    for interp in tgt.interpreters():
        for h, _tag, tstate in heap.thread_heaps(interp):
            if h == xheap:
                owner = "the GC heap of thread state 0x%x (interpreter %d)" % (tstate, tgt.interp_id(interp))
    where = "block %d of mimalloc page 0x%x (tag %d), in %s" % (i, page, tag, owner)
    if not used:
        out("  generation: none: a free block (%s): a dangling pointer" % where)
    elif not bits & lay["ft.gcbits.tracked"]:
        out("  generation: none (untracked; %s)" % where)
    elif bits & lay["ft.gcbits.frozen"]:
        out("  generation: permanent generation (frozen; %s)" % where)
    else:
        out("  generation: heaps (free-threaded: no generations; %s)" % where)


# an assignment (=, +=, ...) or ++/--: the expression would write the target
_WRITES = re.compile(r"<<=|>>=|(?<![=!<>])=(?!=)|\+\+|--")


def _address(expr):
    """The value of expr as an address, evaluated with calls to the
    inferior's functions off (may-call-functions) and no assignment."""
    if _WRITES.search(expr):
        raise GcScopeError("ADDR may not assign: %r" % expr)
    old = gdb.parameter("may-call-functions")
    gdb.execute("set may-call-functions off", to_string=True)
    try:
        return int(gdb.parse_and_eval(expr).cast(gdb.lookup_type("unsigned long")))
    except gdb.error as e:
        raise GcScopeError("bad address %r: %s" % (expr, e)) from None
    finally:
        gdb.execute("set may-call-functions %s" % ("on" if old else "off"), to_string=True)


PyGcObject()
