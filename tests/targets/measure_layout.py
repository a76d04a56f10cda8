# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Measure every row of user/pylayout.tsv from a target's DWARF, inside gdb.

usage: gdb -batch -nx -ex 'set debug-file-directory DIR' -ex 'file PYTHON' \
           -x tests/targets/measure_layout.py
Prints "field<TAB>value" for each row whose DWARF spec resolves ("-" if the
type or member does not exist).  Used to fill and check the table's columns
(tests/integration/test_layout.py compares them on every interpreter).
"""
import os

import gdb

TSV = os.environ.get("GCSCOPE_LAYOUT",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "user", "pylayout.tsv"))


def lookup(tname):
    """(gdb type, name usable in a cast) for a typedef or struct name."""
    for name in (tname, "struct " + tname):
        try:
            return gdb.lookup_type(name), name
        except gdb.error:
            pass
    return None, None


def measure(spec):
    tname, paths = spec.split(":", 1)
    t, cast = lookup(tname)
    if t is None:
        return None
    if paths == "sizeof":
        return t.strip_typedefs().sizeof
    first, *alts = paths.split("|")
    for path in [first] + alts:
        try:
            return int(gdb.parse_and_eval(f"(long)&(({cast} *)0)->{path}"))
        except gdb.error:
            continue
    return None


for line in open(TSV):
    if line.startswith("#") or not line.strip():
        continue
    cols = line.rstrip("\n").split("\t")
    if cols[0] == "rule":	# rule lines hold settings, not fields
        continue
    v = measure(cols[1]) if cols[1] != "-" else None
    print(f"{cols[0]}\t{'-' if v is None else v}")
