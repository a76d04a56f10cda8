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


def _load_check():
    """`gcscope gdb`/`gcscope core` (user/gdbcmd.c) ask, through
    GCSCOPE_STATUS_FD, whether the commands can work on this target: one
    line, "ok" or "error CODE MESSAGE".  On an error gdb quits with CODE: the
    commands would each say the same thing.  GCSCOPE_STDERR_FD is the
    terminal's stderr: gcscope filtered gdb's start-up noise (libthread_db,
    core file mappings of a chroot) and now gives the terminal back."""
    import gdb
    from gcscope_mem import GcScopeError
    import gcscope_objects

    fd = os.environ.pop("GCSCOPE_STATUS_FD", None)
    err_fd = os.environ.pop("GCSCOPE_STDERR_FD", None)
    if fd is None or not fd.isdigit():
        return
    code, msg = 0, ""
    try:
        gcscope_objects.target()
    except GcScopeError as e:
        code, msg = e.exit_code or 1, str(e)
    except (gdb.error, Exception) as e:  # never a traceback in the user's gdb
        code, msg = 1, "%s: %s" % (type(e).__name__, e)
    line = ("ok\n" if not code else "error %d %s\n" % (code, " ".join(msg.split())))
    try:
        os.write(int(fd), line.encode("utf-8", "replace"))
        os.close(int(fd))
    except OSError:
        pass
    gdb.flush()
    if err_fd is not None and err_fd.isdigit():
        try:
            os.dup2(int(err_fd), 2)
            os.close(int(err_fd))
        except OSError:
            pass
    if code:
        gdb.execute("set confirm off")
        gdb.execute("quit %d" % code)


_load_check()
