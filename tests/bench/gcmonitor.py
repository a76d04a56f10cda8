# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""CPython 3.15's own outside reader of the GC records, polling: the peer of
`gcscope stats --follow` in make bench (--only gcmonitor).

usage: python3.15 gcmonitor.py PID INTERVAL_S
Polls _remote_debugging.GCMonitor(PID).get_gc_stats() every INTERVAL_S and
counts the distinct records (generation, collections) that appear after the
first poll; on SIGINT prints that count and exits.
"""
import signal
import sys
import time

import _remote_debugging

pid, interval = int(sys.argv[1]), float(sys.argv[2])
mon = _remote_debugging.GCMonitor(pid)
stop = False


def on_int(sig, frame):
    global stop
    stop = True


signal.signal(signal.SIGINT, on_int)


def keys():
    return {(s.gen, s.collections) for s in mon.get_gc_stats() if s.collections > 0}


seen = set()
first = keys()
print("ready", flush=True)
while not stop:
    time.sleep(interval)
    try:
        seen |= keys() - first
    except (RuntimeError, OSError):
        break
print(len(seen), flush=True)
