# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Base class of the py-gc-* commands: one line on error, never a traceback."""
import os
import traceback

import gdb

from gcscope_mem import GcScopeError, MemoryMissing

# (command, exit code) of each command run: what `gcscope core` exits with
# (quit_report(); docs/exit-codes.md)
OUTCOMES = []


def quit_report():
    """Quit gdb with the status of the commands run so far: 9 if one of them
    lacked memory the core should hold, else the first command's failure
    (8 no core, 4 no CPython runtime), else 0.  `gcscope core` runs this
    after its report."""
    codes = [c for _n, c in OUTCOMES]
    if MemoryMissing.exit_code in codes:
        code = MemoryMissing.exit_code
    elif codes and codes[0] in (4, 8):
        code = codes[0]
    elif codes and all(codes):
        code = 1
    else:
        code = 0
    gdb.flush()
    gdb.execute("quit %d" % code)


class GcCommand(gdb.Command):
    """Subclasses set NAME and implement run(arg, from_tty); the docstring is the help."""
    NAME = None

    def __init__(self):
        super().__init__(self.NAME, gdb.COMMAND_DATA, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        code = 1
        try:
            self.run(arg, from_tty)
            code = 0
        except GcScopeError as e:
            code = e.exit_code
            gdb.write("%s: %s\n" % (self.NAME, e), gdb.STDERR)
        except gdb.MemoryError as e:
            gdb.write("%s: cannot read the target's memory: %s\n" % (self.NAME, e), gdb.STDERR)
        except KeyboardInterrupt:
            gdb.write("%s: interrupted\n" % self.NAME, gdb.STDERR)
        except (gdb.error, Exception) as e:  # the debugger must not crash on odd targets
            gdb.write("%s: internal error: %s: %s\n" % (self.NAME, type(e).__name__, e), gdb.STDERR)
            if os.environ.get("GCSCOPE_DEBUG"):
                traceback.print_exc()
        OUTCOMES.append((self.NAME, code))
        gdb.flush()

    def run(self, arg, from_tty):
        raise NotImplementedError


def parse_args(name, arg, flags=(), options=(), max_pos=1):
    """Split gdb's argument string: (positionals, {flag: True}, {option: value})."""
    words = gdb.string_to_argv(arg or "")
    pos, fl, opt = [], {}, {}
    i = 0
    while i < len(words):
        w = words[i]
        if w in flags:
            fl[w] = True
        elif w in options:
            if i + 1 >= len(words):
                raise GcScopeError("%s needs a value" % w)
            # counts: decimal (leading zeros allowed) or 0x hex, never negative
            v = words[i + 1]
            try:
                opt[w] = int(v, 16) if v.lower().startswith("0x") else int(v, 10)
            except ValueError:
                raise GcScopeError("%s needs a number, not %r" % (w, v)) from None
            if opt[w] < 0:
                raise GcScopeError("%s needs a number >= 0, not %s" % (w, v))
            i += 1
        elif w.startswith("--"):
            raise GcScopeError("unknown option %s (see: help %s)" % (w, name))
        else:
            pos.append(w)
        i += 1
    if len(pos) > max_pos:
        raise GcScopeError("too many arguments (see: help %s)" % name)
    return pos, fl, opt


def out(s=""):
    gdb.write(s + "\n")
