# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Calling a type's tp_traverse in a live process (py-gc-types --check-traverse).

The one place gcscope makes inferior function calls, and only on request.
tp_traverse(obj, visit, arg) needs a visitproc, and none in the target is
both safe and observable: CPython's own (visit_decref, visit_reachable,
referentsvisit...) are static, absent from stripped builds, and either change
GC state or allocate and need the GIL.  So we bring our own: 20 bytes of
x86-64 code in a private anonymous page (mapped writable, then switched to
read+exec: never writable and executable at once) that only writes into a
second page of ours:

    visit(PyObject *o, struct {PyObject *want; long found; long n;} *arg):
        arg->n++;                       48 ff 46 10
        if (o == arg->want)             48 3b 3e / 75 08
            arg->found = 1;             48 c7 46 08 01 00 00 00
        return 0;                       31 c0 / c3

It returns 0, so the traverse visits everything, and touches nothing of the
target.  The calls run on the selected thread with scheduler-locking on (the
other threads stay stopped, so no one mutates an object under the traverse)
and unwindonsignal on (a traverse that crashes, like a PyO3 unsendable class
on a foreign thread, is unwound by gdb and reported instead of killing the
process).  Both settings are restored afterwards, and the pages unmapped.
The user's breakpoints, watchpoints and catchpoints are disabled for the
calls (and restored): a call stopped by one would stay on the target's stack
under the next, and unmapping the visitproc under them killed the target.
A call that fails other than by a signal ends the checks, and the pages are
then left mapped (two pages, never executed again) rather than unmapped
under a frame that may still return into them.
"""
import re

import gdb

from gcscope_mem import GcScopeError

VISIT_CODE = bytes.fromhex("48ff4610" "483b3e" "7508" "48c7460801000000" "31c0" "c3")
PAGE = 4096
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_PRIVATE_ANON = 0x02 | 0x20


def _call(expr):
    return int(gdb.parse_and_eval(expr))


class TraverseChecker:
    """Context manager: set up the visitproc, check(type, obj) per type, tear down."""

    def __init__(self):
        inf = gdb.selected_inferior()
        self.inf = inf
        arch = inf.architecture().name() if hasattr(inf, "architecture") else "?"
        if arch != "i386:x86-64":
            raise GcScopeError("--check-traverse supports x86-64 targets only (this is %s)" % arch)
        th = gdb.selected_thread()
        if th is None:
            raise GcScopeError("--check-traverse: no thread selected")
        self.thread = th
        self.base = None
        self.saved = {}
        self.disabled = []      # the user's breakpoints we turned off
        self.stuck = None       # why calls stopped: a call may be left on the stack

    def __enter__(self):
        for bp in gdb.breakpoints():
            if bp.enabled:
                bp.enabled = False
                self.disabled.append(bp)
        for name, val in (("scheduler-locking", "on"), ("unwindonsignal", "on")):
            old = gdb.parameter(name)
            self.saved[name] = ("on" if old else "off") if isinstance(old, bool) else old
            gdb.execute("set %s %s" % (name, val), to_string=True)
        try:
            base = _call("((void *(*)(void *, unsigned long, int, int, int, long))mmap)"
                         "(0, %d, %d, %d, -1, 0)" % (2 * PAGE, PROT_READ | PROT_WRITE,
                                                      MAP_PRIVATE_ANON))
            if base in (0, (1 << 64) - 1, -1):
                raise GcScopeError("--check-traverse: mmap in the target failed")
            self.base = base & ((1 << 64) - 1)
            self.inf.write_memory(self.base, VISIT_CODE)
            if _call("((int (*)(void *, unsigned long, int))mprotect)((void *)0x%x, %d, %d)"
                     % (self.base, PAGE, PROT_READ | PROT_EXEC)) != 0:
                raise GcScopeError("--check-traverse: mprotect in the target failed")
        except gdb.error as e:
            self.__exit__(None, None, None)
            hint = ""
            if "extended state" in str(e):
                # gdb 13 on a CPU with AMX: its XSAVE buffer is shorter than
                # the kernel's, which refuses it (fixed in gdb 14)
                hint = ("; gdb %s cannot make inferior calls on this CPU: use a gdb 14 or later "
                        "(`gcscope gdb` picks one that can, docs/gdb.md)" % gdb.VERSION)
            raise GcScopeError("--check-traverse: cannot set up the call (%s)%s"
                               % (" ".join(str(e).split()), hint)) from None
        except GcScopeError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.base is not None and self.stuck is None:
                _call("((int (*)(void *, unsigned long))munmap)((void *)0x%x, %d)"
                      % (self.base, 2 * PAGE))
                self.base = None
        except gdb.error:
            pass
        finally:
            for name, val in self.saved.items():
                try:
                    gdb.execute("set %s %s" % (name, val), to_string=True)
                except gdb.error:
                    pass
            for bp in self.disabled:
                try:
                    bp.enabled = True
                except (gdb.error, RuntimeError):
                    pass        # deleted meanwhile
            self.disabled = []
        return False

    def check(self, traverse, tp, obj):
        """(visits_type or None, text): call traverse(obj, visit, &data)."""
        if self.stuck is not None:
            return None, "tp_traverse not checked: %s" % self.stuck
        data = self.base + PAGE
        self.inf.write_memory(data, tp.to_bytes(8, "little") + bytes(16))
        sig = []

        def on_stop(ev):
            if isinstance(ev, gdb.SignalEvent):
                sig.append(ev.stop_signal)
        gdb.events.stop.connect(on_stop)
        try:
            rc = _call("((int (*)(void *, void *, void *))0x%x)((void *)0x%x, (void *)0x%x, "
                       "(void *)0x%x)" % (traverse, obj, self.base, data))
        except gdb.error as e:
            # gdb 13 reports the signal as a stop event; gdb 16 does not, and
            # names it in the error ("The program being debugged received
            # signal SIGABRT, Aborted / while in a function called from GDB. /
            # GDB has restored the context to what it was before the call.")
            text = str(e)
            m = re.search(r"received signal (SIG[A-Z0-9]+)", text)
            if not sig and m and "GDB has restored the context" in text:
                sig.append(m.group(1))
            if sig:
                return None, ("tp_traverse not checked: it got %s on thread %d (call unwound, "
                              "the process goes on)" % (sig[0], self.thread.num))
            msg = text.splitlines()[0] if text else type(e).__name__
            self.stuck = "an earlier call did not return (%s)" % msg
            return None, "tp_traverse not checked: the call failed on thread %d: %s" % (
                self.thread.num, msg)
        finally:
            gdb.events.stop.disconnect(on_stop)
        raw = bytes(self.inf.read_memory(data, 24))
        found = int.from_bytes(raw[8:16], "little")
        n = int.from_bytes(raw[16:24], "little")
        if rc & 0xffffffff:
            return None, "tp_traverse not checked: it returned %d" % rc
        if found:
            return True, "tp_traverse visits its type"
        return False, "tp_traverse does not visit its type (it visited %d other objects)" % n
