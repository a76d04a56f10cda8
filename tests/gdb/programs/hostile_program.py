# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Names a hostile (or careless) target gives the gdb commands to print.

usage: hostile_program.py REPORT.json READY_FIFO
Names its main thread with terminal escapes (prctl PR_SET_NAME), keeps N
instances of a class whose name holds escapes, a C1 control and a newline,
and puts one more, a str with escapes and an instance of a class named
"str" in gc.garbage.  Writes its report,
signals ready, blocks until stdin is closed.
"""
import ctypes
import gc
import os
import sys

from heapkit import report_ready

N = 7
COMM = b"\x1b]0;pwn\x07\x9b2J\n"
TYPE_NAME = "Evil\x1b[31m\u009b2J\n"


def main():
    report_path, ready_path = sys.argv[1:3]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(COMM), 0, 0, 0) != 0:     # PR_SET_NAME
        sys.exit(f"prctl: {os.strerror(ctypes.get_errno())}")
    evil = type(TYPE_NAME, (), {})
    keep = [evil() for _ in range(N)]
    # and a class that calls itself "str": not to be decoded as a str
    gc.garbage.extend([evil(), "\x1b[2J\u009b" + "x", type("str", (), {})()])
    gc.collect()
    report = {"pid": os.getpid(), "n": N,
              "tracked": sum(1 for o in gc.get_objects() if type(o) is evil)}
    report_ready(report_path, ready_path, report)
    sys.stdin.read()
    del keep


main()
