# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""A target with known Python stacks at each gc.collect() (trace --stack).

Protocol (tests/integration/harness.py): prints "ready PID", waits for a line
on stdin, then runs gc.collect() (generation 2) from known places, with the
automatic GC disabled so that these are the only collections:

  1. "main":   on the main thread, under a method (a qualname in 3.11+) and
               functions with latin-1, UCS-2 and UCS-4 names;
  2. "worker": on a worker thread, under threading's own frames;
  3. "deep":   on the main thread, 40 calls deep (past gcscope's 32 frames).

Before each gc.collect() the program takes its own stack with
sys._getframe() *on the same line*, so each frame's f_lineno is the line
gcscope must report (the call in progress).  It prints one JSON line:
{"collections": [{"tag", "tid", "stack": [{"file", "function", "line"}...]}],
 "main_tid"}, stacks innermost first; then waits for another line to exit.
"""
import gc
import json
import os
import sys
import threading

DEPTH = 40
collections = []


def snapshot():
    """The caller's stack, innermost first, as gcscope should report it."""
    out = []
    f = sys._getframe(1)
    while f is not None:
        code = f.f_code
        # co_qualname from 3.11; gcscope reports co_name before
        out.append({"file": code.co_filename,
                    "function": getattr(code, "co_qualname", code.co_name),
                    "line": f.f_lineno})
        f = f.f_back
    return out


def record(tag, stack):
    collections.append({"tag": tag, "tid": threading.get_native_id(), "stack": stack})


def leaf(tag):
    stack = snapshot(); gc.collect()  # noqa: E702 (same line on purpose)
    record(tag, stack)


def fonction_é(tag):          # latin-1 name (PyUnicode kind 1, not ASCII)
    leaf(tag)


def функция(tag):             # UCS-2 name (kind 2)
    fonction_é(tag)


def 𠀀(tag):                  # UCS-4 name (kind 4), U+20000
    функция(tag)


class Scenario:
    def run(self, tag):
        𠀀(tag)


def worker_main():
    Scenario().run("worker")


def deep(n):
    if n == 0:
        stack = snapshot(); gc.collect()  # noqa: E702
        record("deep", stack)
        return
    deep(n - 1)


def main():
    Scenario().run("main")
    t = threading.Thread(target=worker_main, name="stack-worker")
    t.start()
    t.join()
    deep(DEPTH)


gc.disable()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
main()
print(json.dumps({"collections": collections, "main_tid": threading.get_native_id()}), flush=True)
# gcscope reads the code objects when it prints the collections: stay
# alive (with every code object above) until told to go.
sys.stdin.readline()
