# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""py-gc-layout: the layout as the gdb side resolved it."""
import json

from gcscope_command import GcCommand, parse_args, out
from gcscope_objects import target


class PyGcLayout(GcCommand):
    """Show every CPython layout value the gdb commands use, and where it came from.

Usage: py-gc-layout [-j]

One row per row of pylayout.tsv: the value in this process or core, its
source (DWARF, _Py_DebugOffsets, table, target: gc.generations from
gcstate->generation0; none when unknown) and the table's value for the
target's version.  The names, sources and JSON (-j: one object) are those of
`gcscope doctor --layout [-j]`, which resolves the layout from the same table
with the same rules; tests/gdb/test_gdb_layout.py requires both to agree.
Read-only: no function of the target is called."""
    NAME = "py-gc-layout"

    def run(self, arg, from_tty):
        _pos, fl, _opt = parse_args(self.NAME, arg, flags=("-j", "--json"), max_pos=0)
        tgt = target()
        lay = tgt.layout
        fields = lay.fields()
        if fl.get("-j") or fl.get("--json"):
            out(json.dumps({"type": "layout", "python": tgt.version_str(),
                            "version_source": tgt.version_how,
                            "free_threaded": tgt.free_threaded,
                            "layout_column": lay.column,
                            "debuginfo": lay.has_dwarf,
                            "fields": fields}, sort_keys=True))
            return
        out(tgt.describe())
        for note in lay.notes:
            out("note: " + note)
        out("")
        out("  %-46s %8s  %-16s %s" % ("FIELD", "VALUE", "SOURCE", "TABLE"))
        for name, f in fields.items():
            v, tv = f["value"], f["table"]
            out("  %-46s %8s  %-16s %s%s" % (
                name, lay.missing_mark(name) if v is None else v, f["source"],
                lay.missing_mark(name) if tv is None else tv,
                "  (differs)" if v is not None and tv is not None and v != tv else ""))


PyGcLayout()
