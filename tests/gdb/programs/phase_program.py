# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Stop a collection on a worker thread in one of its phases.

usage: phase_program.py REPORT.json READY_FIFO EXTDIR finalize|clear|weakref|dealloc
finalize: cycles of Fin objects whose __del__ calls gcxt.hold_gil_wait();
clear: self-referencing gcxt.SlowClear objects whose tp_clear blocks;
weakref: cycles of Node objects, each cycle with one live weakref (kept in a
  list) to one of its nodes, whose callback calls gcxt.hold_gil_wait(): the
  collector runs it when it finds the referent in cyclic garbage;
dealloc: self-referencing lists, made by the collecting thread, each holding a
  gcxt.SlowDealloc (no GC, not in any cycle, referenced only from the garbage
  list) whose tp_dealloc blocks:
  it runs when the collector's tp_clear of the list drops the last reference.
Each time the first call writes "ready" to READY_FIFO from inside the
collection (so the test only looks once the phase is reached), then blocks
reading stdin *with the GIL held* until the test closes it.  In weakref and
dealloc modes the ready line starts with the address of the object at work
(the weakref whose callback runs, the SlowDealloc being deallocated).  The report
(pid, version, the worker's native thread id) is written before collecting.
Collection on a worker thread, not the main one: the collecting thread must
be told apart from the others by its frames, as in production.
"""
import gc
import json
import os
import sys
import threading
import weakref

N = 40


class Fin:
    blocked = False

    def __del__(self):
        # only the first finalizer blocks; the rest let the collection end
        if not Fin.blocked:
            Fin.blocked = True
            gcxt.hold_gil_wait(Fin.ready_fd, 0)


class Node:
    pass


class Callback:
    blocked = False
    ready_fd = -1
    calls = 0


def weakref_callback(wr):
    Callback.calls += 1
    # only the first callback blocks; the rest let the collection end
    if not Callback.blocked:
        Callback.blocked = True
        # tell the test which weakref's callback is running: "0x... ready"
        os.write(Callback.ready_fd, b"0x%x " % id(wr))
        gcxt.hold_gil_wait(Callback.ready_fd, 0)


def main():
    global gcxt
    report_path, ready_path, extdir, mode = sys.argv[1:5]
    sys.path.insert(0, extdir)
    import gcxt
    gc.set_threshold(100000, 50, 60)
    gc.collect()
    weakrefs = []
    for _ in range(N):
        if mode == "finalize":
            a, b = Fin(), Fin()
            a.peer, b.peer = b, a
            del a, b
        elif mode == "clear":
            s = gcxt.SlowClear()
            s.ref = s
            del s
        elif mode == "weakref":
            a, b = Node(), Node()
            a.peer, b.peer = b, a
            # the weakref outlives the cycle: its callback must be called
            weakrefs.append(weakref.ref(a, weakref_callback))
            del a, b
        elif mode == "dealloc":
            pass        # made by the collecting thread itself (make_dealloc_garbage)
        else:
            raise SystemExit("unknown mode %r" % mode)
    report = {"pid": os.getpid(), "version": list(sys.version_info[:3]), "mode": mode}

    def make_dealloc_garbage():
        # On a free-threaded build a reference dropped by a thread that does not
        # own the object goes to its shared count, and the object is deallocated
        # by its owner (biased reference counting, PEP 703): SlowDealloc objects
        # the main thread made would die on the main thread after join(), not
        # in the collection.  Made here, the collector owns them.
        for _ in range(N):
            lst = [gcxt.SlowDealloc()]
            lst.append(lst)
            del lst

    def collect():
        report["worker_native_id"] = threading.get_native_id()
        if mode == "dealloc":
            make_dealloc_garbage()
        with open(report_path, "w") as f:
            json.dump(report, f)
        fd = os.open(ready_path, os.O_WRONLY)
        if mode == "finalize":
            Fin.ready_fd = fd
        elif mode == "clear":
            gcxt.set_clear_fds(fd, 0)
        elif mode == "weakref":
            Callback.ready_fd = fd
        else:
            gcxt.set_dealloc_fds(fd, 0)
        report["collected"] = gc.collect()
        os.close(fd)

    worker = threading.Thread(target=collect, name="collector")
    worker.start()
    worker.join()
    # weakref mode: every referent died and every callback ran
    print(json.dumps({"collected": report["collected"], "callbacks": Callback.calls,
                      "dead_weakrefs": sum(1 for w in weakrefs if w() is None)}))


main()
