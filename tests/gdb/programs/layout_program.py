# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A live process for test_gdb_layout.py: report, then block.

usage: layout_program.py REPORT.json READY_FIFO
Makes some collections (so that every generation's state is set up), tells
its pid and version, and blocks reading stdin; exits 0 when it is closed.
"""
import gc
import os
import sys

from heapkit import report_ready


def main():
    report_path, ready_path = sys.argv[1:3]
    for _ in range(3):
        junk = [[] for _ in range(1000)]
        for a in junk:
            a.append(a)
        del junk
        gc.collect()
    report_ready(report_path, ready_path, {"pid": os.getpid(), "version": list(sys.version_info[:3])})
    sys.stdin.read()


if __name__ == "__main__":
    main()
