# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The gdb commands print names from the target without terminal escapes.

programs/hostile_program.py names its thread with escapes and keeps
instances of a class whose name holds escapes, a C1 control and a newline,
one of them and a str with escapes in gc.garbage.  Every command's output
must hold no control character a terminal acts on, and the class must be
counted under its cleaned name."""
import re

import gdbutil

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
COMMANDS = ["py-gc-status", "py-gc-census all --top 100000", "py-gc-garbage", "py-gc-types",
            "py-gc-collecting"]


def test_no_escapes(interp, tmp_path):
    t = gdbutil.start(interp, tmp_path, "hostile_program.py")
    try:
        out, err = gdbutil.run_gdb(interp, COMMANDS, pid=t.pid)
    finally:
        t.stop()
    assert "Traceback" not in out + err, err
    assert not re.search(r"^py-gc-\S+: ", err, re.M), err
    m = CONTROL.search(out)
    assert not m, f"output holds {m.group()!r}: {out[max(0, m.start() - 80):m.end() + 40]!r}"
    # the class under its cleaned name: N instances tracked, one more in garbage
    census = [l for l in out.splitlines() if "Evil?[31m?2J?" in l]
    assert census, out
    assert any(re.search(r"\b%d\b" % (t.report["tracked"]), l) for l in census), census
    # gc.garbage: the str shown by repr(), escapes escaped; the class named
    # "str" not decoded as one
    assert re.search(r"^  \[1\] '\\x1b\[2J\\x9bx'$", out, re.M), out
    assert re.search(r"^  \[2\] <str object at 0x[0-9a-f]+>$", out, re.M), out
