# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Stop a collection on a worker thread in its finalizer or tp_clear phase.

usage: phase_program.py REPORT.json READY_FIFO EXTDIR finalize|clear
finalize: cycles of Fin objects whose __del__ calls gcxt.hold_gil_wait();
clear: self-referencing gcxt.SlowClear objects whose tp_clear blocks.
Either way the first call writes "ready" to READY_FIFO from inside the
collection (so the test only looks once the phase is reached), then blocks
reading stdin *with the GIL held* until the test closes it.  The report
(pid, version, the worker's native thread id) is written before collecting.
Collection on a worker thread, not the main one: the collecting thread must
be told apart from the others by its frames, as in production.
"""
import gc
import json
import os
import sys
import threading

N = 40


class Fin:
    blocked = False

    def __del__(self):
        # only the first finalizer blocks; the rest let the collection end
        if not Fin.blocked:
            Fin.blocked = True
            gcxt.hold_gil_wait(Fin.ready_fd, 0)


def main():
    global gcxt
    report_path, ready_path, extdir, mode = sys.argv[1:5]
    sys.path.insert(0, extdir)
    import gcxt
    gc.set_threshold(100000, 50, 60)
    gc.collect()
    for _ in range(N):
        if mode == "finalize":
            a, b = Fin(), Fin()
            a.peer, b.peer = b, a
            del a, b
        else:
            s = gcxt.SlowClear()
            s.ref = s
            del s
    report = {"pid": os.getpid(), "version": list(sys.version_info[:3]), "mode": mode}

    def collect():
        report["worker_native_id"] = threading.get_native_id()
        with open(report_path, "w") as f:
            json.dump(report, f)
        fd = os.open(ready_path, os.O_WRONLY)
        if mode == "finalize":
            Fin.ready_fd = fd
        else:
            gcxt.set_clear_fds(fd, 0)
        report["collected"] = gc.collect()
        os.close(fd)

    worker = threading.Thread(target=collect, name="collector")
    worker.start()
    worker.join()
    print(json.dumps({"collected": report["collected"]}))


main()
