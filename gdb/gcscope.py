# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""gcscope: gdb commands showing CPython's cyclic GC state, live or post-mortem.

Load with:  (gdb) source /usr/local/share/gcscope/gdb/gcscope.py
Commands:   py-gc-status, py-gc-census, py-gc-collecting, py-gc-object,
            py-gc-types, py-gc-garbage, py-gc-layout (each has `help`).
Offsets come from pylayout.tsv (beside this directory), corrected by
_Py_DebugOffsets (3.13+) and by DWARF when gdb has debug info.
"""
import importlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

_MODULES = ("gcscope_mem", "gcscope_layout", "gcscope_objects", "gcscope_threads",
            "gcscope_collect", "gcscope_command", "gcscope_infcall", "gcscope_cmd_status",
            "gcscope_cmd_census",
            "gcscope_cmd_object", "gcscope_cmd_collecting", "gcscope_cmd_types",
            "gcscope_cmd_garbage", "gcscope_cmd_layout")

for _m in _MODULES:
    if not os.path.exists(os.path.join(_HERE, _m + ".py")):
        continue
    if _m in sys.modules:
        # sourcing again (after an edit) re-registers fresh commands
        importlib.reload(sys.modules[_m])
    else:
        importlib.import_module(_m)
