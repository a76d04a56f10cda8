# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Names a hostile (or careless) target can give gcscope to print.

Protocol: prints "ready PID", waits for "go"; names its main thread with
terminal escapes (prctl PR_SET_NAME takes any bytes, and so does
threading's name), makes N instances of
a class whose name holds escapes, a C1 control, a newline and 300 quotes,
in cycles, and collects them; prints one JSON line {"tid", "collected",
"instances", "type_name", "script"}; then waits for "exit" (gcscope reads the names from it).

usage: hostile_names.py [N]
"""
import ctypes
import gc
import json
import os
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
COMM = b"\x1b]0;pwn\x07\x9b2J\n"          # OSC title, 8-bit CSI, newline
TYPE_NAME = "Evil\x1b[31m\u009b2J\n" + '"' * 300

gc.disable()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, ctypes.c_char_p(COMM), 0, 0, 0) != 0:   # PR_SET_NAME
    sys.exit(f"prctl: {os.strerror(ctypes.get_errno())}")
# the Python name too: gcscope shows it where it can read it (user/pythreads.c)
threading.current_thread().name = COMM.decode("latin-1")
Evil = type(TYPE_NAME, (), {})
gc.collect()        # what start-up and ctypes left: not ours to count
for _ in range(N):
    a, b = Evil(), Evil()
    a.other, b.other = b, a
del a, b
collected = gc.collect()
# collected: the instances, and on 3.9/3.10 their __dict__s too
print(json.dumps({"tid": threading.get_native_id(), "collected": collected, "instances": 2 * N,
                  "type_name": TYPE_NAME,
                  "script": __file__}), flush=True)
sys.stdin.readline()
