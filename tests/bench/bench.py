#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""make bench: what tracing costs the target, as ratios against a baseline.

For each interpreter (Debian python3.11 via USDT, a pyenv build via uprobes)
the same workload runs untraced, under `gcscope trace`, and under an
equivalent bpftrace script (the peer); each configuration REPEAT times, in
interleaved order, median reported.  Ratios > 1 mean slower than untraced.
Nothing here asserts a time: the numbers are for people to read.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "gc_bench.py")


WORKLOADS = [("collect", 20000), ("churn", 200000)]
# --owners where the watched type is a small share (gc_bench.py mixed)
MIXED = ("mixed", 100000)


def start(python, workload):
    # python: a path, or an argv prefix that ends with the workload's path
    # as the target sees it (a chroot's interpreter: see qt_targets())
    argv = [python, WORKLOAD] if isinstance(python, str) else list(python)
    p = subprocess.Popen(argv + [workload[0], str(workload[1])], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().startswith("ready")
    return p


def finish(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    secs = float(p.stdout.readline())
    p.wait()
    return secs


def wait_line(proc, pred, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        line = proc.stdout.readline()
        if not line:
            break
        if pred(line):
            return True
    raise RuntimeError("tracer did not start")


# gcscope configurations measured beyond plain tracing (on the churn workload)
FEATURES = [("--types", ["--types"]), ("--stack", ["--stack"]),
            ("--owners Node", ["--owners", "Node"]), ("--owners @heap", ["--owners", "@heap"])]


def run_one(kind, python, workload, gcscope, probe, extra=()):
    p = start(python, workload)
    tracer = None
    try:
        if kind == "gcscope":
            tracer = subprocess.Popen([gcscope, "trace", "-j", *extra, "-p", str(p.pid)], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
            wait_line(tracer, lambda l: '"attach"' in l)
            # drain its output in the background: a reader that keeps up
            drain = subprocess.Popen(["cat"], stdin=tracer.stdout, stdout=subprocess.DEVNULL)
        elif kind == "bpftrace":
            tracer = subprocess.Popen(["bpftrace", "-p", str(p.pid), "-e", probe], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
            wait_line(tracer, lambda l: l.startswith("Attaching"))
            time.sleep(0.5)
            drain = subprocess.Popen(["cat"], stdin=tracer.stdout, stdout=subprocess.DEVNULL)
        secs = finish(p)
    finally:
        if tracer:
            tracer.send_signal(2)
            tracer.wait(timeout=30)
            drain.wait(timeout=30)
        if p.poll() is None:
            p.kill()
    return secs


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def soak(python, builds, minutes):
    """Every build traces one target doing ~10,000 collections a second for
    `minutes`, side by side; RSS of each gcscope at 1 minute and at the end."""
    p = start(python, ("soak", int(minutes * 60)))
    tracers = {}
    try:
        for label, gcscope in builds:
            t = subprocess.Popen([gcscope, "trace", "-j", "-p", str(p.pid)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            wait_line(t, lambda l: '"attach"' in l)
            tracers[label] = (t, subprocess.Popen(["cat"], stdin=t.stdout, stdout=subprocess.DEVNULL))
        p.stdin.write("go\n")
        p.stdin.flush()
        t0 = time.time()
        rss = {label: [] for label in tracers}
        marks = sorted({60.0, minutes * 60 - 5})
        for m in marks:
            time.sleep(max(0.0, t0 + m - time.time()))
            for label, (t, _) in tracers.items():
                rss[label].append((m, rss_kb(t.pid)))
        secs = float(p.stdout.readline())
        p.wait()
    finally:
        for t, drain in tracers.values():
            if t.poll() is None:
                t.send_signal(2)
            t.wait(timeout=60)
            drain.wait(timeout=60)
        if p.poll() is None:
            p.kill()
    return rss, secs


def maxrss_kb(cmd):
    """Peak RSS of gcscope itself while tracing a short run."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    return int(out.stderr.strip().splitlines()[-1])


# Qt affinity (issue 8, item 7): QObjects destroyed by the GC, traced with
# --types and with each way of watching them: Debian 3.11 (PyQt5, PySide2)
# and trixie 3.13 in its chroot (PySide6), the interpreters Debian builds them for.
QT_FEATURES = [("--types", ["--types"]), ("--owners @qt", ["--owners", "@qt"]),
               ("--owners Gadget", ["--owners", "Gadget"])]


# --owners (issue 8, item 7): on the churn workload every instance is
# watched (Node, or @heap); on mixed, one class instance in 30 is (Widget).
OWNERS_CHURN = [("--types", ["--types"]), ("--owners Node", ["--owners", "Node"]),
                ("--owners @heap", ["--owners", "@heap"])]
OWNERS_MIXED = [("--types", ["--types"]), ("--owners Widget", ["--owners", "Widget"]),
                ("--owners @heap", ["--owners", "@heap"])]


# What one uprobe per new instance costs by itself, whoever places it: bpftrace
# counting the calls of PyType_GenericAlloc (every Node and Widget is made
# there on 3.11 and 3.12), a probe that does nothing.  --owners cannot cost
# less on the churn workload, where every instance is watched: it needs one
# trap per instance to see its creator (docs/objects.md, Cost).
FLOOR = "uprobe floor (bpftrace)"


def floor_probe(python):
    """The bpftrace probe, on the file that defines PyType_GenericAlloc: the
    interpreter, or its libpython (pyenv's are shared builds)."""
    if not isinstance(python, str) or shutil.which("bpftrace") is None:
        return None
    files = [python] + [w for line in subprocess.run(["ldd", python], capture_output=True, text=True).stdout.split("\n")
                        for w in line.split() if "libpython" in w and w.startswith("/")]
    for f in files:
        syms = subprocess.run(["nm", "-D", "--defined-only", f], capture_output=True, text=True).stdout
        if " PyType_GenericAlloc\n" in syms:
            return f"uprobe:{f}:PyType_GenericAlloc {{ @n = count(); }}"
    return None


def feature_rows(args, targets, workload, features, results, title, floor=False):
    """Each target untraced and with each option, in interleaved rounds:
    ratios to the untraced median of the same rounds.  floor: also the
    bare uprobe on the allocator (FLOOR)."""
    print(f"\n{'target':<22} {title:<20} {'ratio':>7}   (median of {args.repeat}; ratios to untraced)")
    for name, python, probe in targets:
        times = {"baseline": [], "gcscope": []}
        for label, _ in features:
            times[label] = []
        fprobe = floor_probe(python) if floor else None
        if fprobe:
            times[FLOOR] = []
        for _ in range(args.repeat):
            times["baseline"].append(run_one("baseline", python, workload, args.gcscope, probe))
            times["gcscope"].append(run_one("gcscope", python, workload, args.gcscope, probe))
            for label, extra in features:
                times[label].append(run_one("gcscope", python, workload, args.gcscope, probe, extra))
            if fprobe:
                times[FLOOR].append(run_one("bpftrace", python, workload, args.gcscope, fprobe))
        base = statistics.median(times["baseline"])
        for label in ["gcscope"] + [f[0] for f in features] + ([FLOOR] if fprobe else []):
            r = statistics.median(times[label]) / base
            results.append({"target": name, "workload": f"{workload[0]} {workload[1]}", "options": label,
                            "ratio": r})
            print(f"{name:<22} {label if label != 'gcscope' else '(none)':<20} {r:7.2f}"
                  f"   ({statistics.median(times[label]):.3f} s)")


def sid_targets():
    """sid's python3.14 and 3.15 in the chroot the tests make, when it is
    there: the allocators GCC builds differently from the host's (cold
    parts, endbr64), measured by the owners section."""
    root = os.path.join(os.environ.get("GCSCOPE_CACHE", os.path.expanduser("~/.cache/gcscope")), "chroots", "sid")
    out = []
    for ver in ("3.14", "3.15"):
        if not os.path.exists(os.path.join(root, f"usr/bin/python{ver}")):
            print(f"sid-{ver}: no chroot at {root} (tests/targets/chroot.sh sid makes it): skipped")
            continue
        inside = "/tmp/gcscope-bench-gc_bench.py"
        shutil.copy(WORKLOAD, os.path.join(root, inside.lstrip("/")))
        out.append((f"sid-{ver} (usdt)", ["chroot", root, f"/usr/bin/python{ver}", inside], None))
    return out


def ft_targets():
    """The free-threaded 3.13t the tests build (tests/targets/freethreaded.sh),
    when it is there: --owners reads owners from its heap, no allocation
    hooked (docs/objects.md), so it should cost what --types costs."""
    p = os.path.join(os.environ.get("GCSCOPE_CACHE", os.path.expanduser("~/.cache/gcscope")), "freethreaded",
                     "3.13t", "bin", "python3.13t")
    if not os.path.exists(p):
        print(f"ft-3.13t: no build at {p} (tests/targets/freethreaded.sh 3.13t makes it): skipped")
        return []
    return [("ft-3.13t (uprobe)", p, None)]


def owners_section(args, targets, churn, results):
    targets = [t for t in targets + sid_targets() + ft_targets() if args.target in t[0]]
    feature_rows(args, targets, churn, OWNERS_CHURN, results, "churn, with", floor=True)
    feature_rows(args, targets, MIXED, OWNERS_MIXED, results, "mixed, with")


def qt_targets():
    """(name, argv prefix to run the workload, bindings): Debian 3.11's
    PyQt5 and PySide2, and PySide6 in the trixie chroot that the tests make
    (tests/targets/chroot.sh), when it is there."""
    out = [("debian-3.11", "/usr/bin/python3.11", ["PyQt5", "PySide2"])]
    root = os.path.join(os.environ.get("GCSCOPE_CACHE", os.path.expanduser("~/.cache/gcscope")), "chroots", "trixie")
    if os.path.exists(os.path.join(root, "usr/bin/python3.13")):
        inside = "/tmp/gcscope-bench-gc_bench.py"
        shutil.copy(WORKLOAD, os.path.join(root, inside.lstrip("/")))
        out.append(("trixie-3.13", ["chroot", root, "/usr/bin/python3.13", inside], ["PySide6"]))
    else:
        print(f"trixie-3.13: no chroot at {root} (tests/targets/chroot.sh trixie makes it): PySide6 skipped")
    return out


def qt_section(args, results):
    print(f"\n{'target':<22} {'Qt churn, with':<20} {'ratio':>7}   (median of {args.repeat}; ratios to untraced)")
    for tname, py, binding in [(n, p, b) for n, p, bs in qt_targets() for b in bs]:
        argv = [py] if isinstance(py, str) else py[:-1]
        if (isinstance(py, str) and not os.path.exists(py)) or \
                subprocess.run(argv + ["-c", f"import {binding}.QtCore"], capture_output=True).returncode:
            print(f"{tname:<22} {binding}: not importable, skipped")
            continue
        workload = (f"qt-{binding}", 500000)
        times = {"baseline": [], "gcscope": []}
        for label, _ in QT_FEATURES:
            times[label] = []
        for _ in range(args.repeat):
            times["baseline"].append(run_one("baseline", py, workload, args.gcscope, None))
            times["gcscope"].append(run_one("gcscope", py, workload, args.gcscope, None))
            for label, extra in QT_FEATURES:
                times[label].append(run_one("gcscope", py, workload, args.gcscope, None, extra))
        base = statistics.median(times["baseline"])
        for label in ["gcscope"] + [f[0] for f in QT_FEATURES]:
            r = statistics.median(times[label]) / base
            results.append({"target": tname, "workload": f"{workload[0]} {workload[1]}",
                            "options": label, "ratio": r})
            print(f"{tname + ' ' + binding:<22} {label if label != 'gcscope' else '(none)':<20} {r:7.2f}"
                  f"   ({statistics.median(times[label]):.3f} s)")


def compare_section(args, targets, churn, results):
    # This build against an earlier one, in the same interleaved rounds:
    # plain tracing and --types on the churn workload.
    if args.base_gcscope:
        print(f"\n{'target':<22} {'churn, options':<16} {args.base_label:>9} {'this':>9}   (ratios to untraced)")
        for name, python, probe in targets:
            for label, extra in [("(none)", []), ("--types", ["--types"])]:
                times = {"baseline": [], "base": [], "this": []}
                for _ in range(args.repeat):
                    times["baseline"].append(run_one("baseline", python, churn, args.gcscope, probe))
                    times["base"].append(run_one("gcscope", python, churn, args.base_gcscope, probe, extra))
                    times["this"].append(run_one("gcscope", python, churn, args.gcscope, probe, extra))
                base = statistics.median(times["baseline"])
                rb, rt = statistics.median(times["base"]) / base, statistics.median(times["this"]) / base
                results.append({"target": name, "workload": f"churn {churn[1]}", "options": label,
                                "base_ratio": rb, "this_ratio": rt})
                print(f"{name:<22} {label:<16} {rb:9.2f} {rt:9.2f}")


SID = os.path.join(os.environ.get("GCSCOPE_CACHE", os.path.expanduser("~/.cache/gcscope")), "chroots", "sid")
POLLS = [0.01, 0.1, 1.0]


class Reader:
    """Counts the lines of a watcher's stdout that pred accepts, in a thread."""

    def __init__(self, proc, pred):
        import threading
        self.n, self.last = 0, None
        self.proc, self.pred = proc, pred
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        for line in self.proc.stdout:
            self.last = line
            if self.pred(line):
                self.n += 1


def gcmonitor_one(args, kind, interval, workload, scratch):
    """One churn run of sid's python3.15 (in its chroot, with /proc mounted in
    a mount namespace of its own so that _remote_debugging can read it) under
    one watcher.  Returns (seconds, true collections, collections seen, the
    target's CPU seconds)."""
    inside = "/" + os.path.relpath(scratch, SID)
    env = {**os.environ, "GC_BENCH_COUNT": "1"}
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          f'mount -t proc proc "{SID}/proc" && exec chroot "{SID}" python3.15 '
                          f'{inside}/gc_bench.py {workload[0]} {workload[1]}'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().startswith("ready")
    w = reader = None
    try:
        if kind == "trace":
            w = subprocess.Popen([args.gcscope, "trace", "-j", "-p", str(p.pid)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            wait_line(w, lambda l: '"attach"' in l)
            reader = Reader(w, lambda l: l.startswith('{"type":"collection"'))
        elif kind == "gcmonitor":
            w = subprocess.Popen(["nsenter", "-t", str(p.pid), "-m", "chroot", SID, "python3.15",
                                  f"{inside}/gcmonitor.py", str(p.pid), str(interval)],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            wait_line(w, lambda l: l.startswith("ready"))
            reader = Reader(w, lambda l: False)
        elif kind == "stats":
            w = subprocess.Popen([args.gcscope, "stats", "-j", "--follow", str(int(interval * 1000)),
                                  "-p", str(p.pid)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            wait_line(w, lambda l: '"stats"' in l)
            reader = Reader(w, lambda l: l.startswith('{"type":"record"'))
        p.stdin.write("go\n")
        p.stdin.flush()
        secs = float(p.stdout.readline())
        true, cpu = p.stdout.readline().split()
        true, cpu = int(true), float(cpu)
        seen = None
        if w:
            time.sleep(max(interval, 0.3) + 0.2)     # its last poll
            w.send_signal(2)
            w.wait(timeout=30)
            reader.t.join(timeout=30)
            seen = int(reader.last) if kind == "gcmonitor" else reader.n
        p.stdin.write("go\n")
        p.stdin.flush()
        p.wait(timeout=60)
    finally:
        for q in (w, p):
            if q and q.poll() is None:
                q.kill()
                q.wait()
    return secs, true, seen, cpu


def gcmonitor_section(args, results):
    """Issue 9 item 6: on 3.15, gcscope trace beside CPython's own GCMonitor
    polling the records, and gcscope stats --follow polling them the same
    way: collections seen out of the target's own count (gc.callbacks), and
    the cost to the target as a ratio to the same workload unwatched, in
    elapsed time and in the target's own CPU time (on a loaded machine the
    elapsed time mostly measures the other processes)."""
    if not os.path.exists(os.path.join(SID, "usr", "bin", "python3.15")):
        print(f"\ngcmonitor: no sid chroot with python3.15 at {SID} (tests/targets/chroot.sh sid): skipped")
        return
    scratch = os.path.join(SID, "tmp", "gcscope-bench-" + os.urandom(4).hex())
    os.makedirs(scratch)
    for f in ("gc_bench.py", "gcmonitor.py"):
        shutil.copy(os.path.join(HERE, f), scratch)
    churn = ("churn", args.gcmonitor_n)
    configs = [("untraced", "baseline", 0), ("gcscope trace", "trace", 0)]
    configs += [(f"GCMonitor {int(i * 1000)} ms", "gcmonitor", i) for i in POLLS]
    configs += [(f"gcscope stats {int(i * 1000)} ms", "stats", i) for i in POLLS]
    runs = {c[0]: [] for c in configs}
    try:
        for _ in range(args.repeat):
            for label, kind, interval in configs:
                runs[label].append(gcmonitor_one(args, kind, interval, churn, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    base = statistics.median(r[0] for r in runs["untraced"])
    cbase = statistics.median(r[3] for r in runs["untraced"])
    true = statistics.median(r[1] for r in runs["untraced"])
    print(f"\nsid python3.15, churn {churn[1]} (about {true / base:,.0f} collections/s, counted by gc.callbacks); "
          f"median of {args.repeat}")
    print(f"{'watcher':<24} {'seen / true':>16} {'seen %':>7} {'ratio':>7} {'CPU ratio':>9}")
    for label, kind, interval in configs:
        secs = statistics.median(r[0] for r in runs[label])
        cpu = statistics.median(r[3] for r in runs[label])
        if kind == "baseline":
            print(f"{label:<24} {'':>16} {'':>7} {secs / base:7.3f} {cpu / cbase:9.3f}   ({base:.3f} s, "
                  f"{cbase:.3f} s CPU)")
            continue
        seen = statistics.median(r[2] / r[1] for r in runs[label])
        s_med = statistics.median(r[2] for r in runs[label])
        t_med = statistics.median(r[1] for r in runs[label])
        results.append({"target": "sid-3.15", "workload": f"churn {churn[1]}", "watcher": label,
                        "seen_fraction": seen, "ratio": secs / base, "cpu_ratio": cpu / cbase,
                        "runs": [{"secs": r[0], "cpu": r[3], "true": r[1], "seen": r[2]} for r in runs[label]]})
        print(f"{label:<24} {f'{s_med:.0f} / {t_med:.0f}':>16} {100 * seen:6.1f}% {secs / base:7.3f} "
              f"{cpu / cbase:9.3f}")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        return r.read().decode()


def agent_states(port):
    import re
    try:
        text = scrape(port)
    except OSError:
        return {}, ""
    return {int(m.group(2)): m.group(1) for m in re.finditer(
        r'^gcscope_agent_target_state\{state="(\w+)",pid="(\d+)"', text, re.M)}, text


AGENT_ARGS = []
WINDOWS = ("--types-every", "1", "--types-window", "0.5")


def start_agent(gcscope, pids, extra=()):
    port = free_port()
    args = [gcscope, "agent", "--listen", f"127.0.0.1:{port}", *AGENT_ARGS, *extra]
    for p in pids:
        args += ["-p", str(p)]
    return subprocess.Popen(args, stderr=subprocess.DEVNULL), port


def wait_agent(agent, port, pids, timeout=600):
    end = time.time() + timeout
    while time.time() < end:
        if agent.poll() is not None:
            raise RuntimeError(f"agent exited {agent.returncode}")
        states, _ = agent_states(port)
        if states and all(states.get(p) == "attached" for p in pids):
            return True
        time.sleep(0.1)
    raise RuntimeError("agent did not attach")


def agent_metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def agent_latency(args, name, python, results):
    """--all with short-lived processes (issue 10, item 2: a new process
    attached within 2 s of its start): one started every 1/RATE s, each
    living LIFE s (collections all along), for FOR s; the delay of each
    attach as the agent's own log states it ("attached to pid N (...,
    X s after its start)"), for the pids started here (--all attaches the
    host's other Python processes too: their first scan's backlog is part
    of what a new process must go ahead of)."""
    import re
    import tempfile
    rate, life, dur = args.agent_spawn_rate, args.agent_spawn_life, args.agent_spawn_for
    if rate <= 0 or dur <= 0:
        return
    code = ("import gc,sys,time\nclass N: pass\nend=time.time()+float(sys.argv[1])\n"
            "while time.time()<end:\n a=N(); b=N(); a.b=b; b.a=a; del a,b\n gc.collect(0); time.sleep(0.01)\n")
    port = free_port()
    log = tempfile.NamedTemporaryFile(mode="w+", prefix="gcscope-agent-", suffix=".log")
    agent = subprocess.Popen([args.gcscope, "agent", "--all", "--listen", f"127.0.0.1:{port}", *AGENT_ARGS],
                             stderr=log)
    procs, pids = [], set()
    try:
        end = time.time() + 60
        while time.time() < end and not agent_states(port)[1]:
            time.sleep(0.1)
        time.sleep(2)               # its first scan's targets queued
        t0 = time.time()
        k = 0
        while time.time() < t0 + dur:
            procs.append(subprocess.Popen([python, "-c", code, str(life)]))
            pids.add(procs[-1].pid)
            k += 1
            time.sleep(max(0.0, t0 + k / rate - time.time()))
        for p in procs:
            p.wait()
        time.sleep(2)
    finally:
        agent.send_signal(15)
        agent.wait(timeout=120)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    log.seek(0)
    delays = sorted(float(m.group(2)) for m in re.finditer(
        r"attached to pid (\d+) \(.*?, ([\d.]+) s after its start\)", log.read()) if int(m.group(1)) in pids)
    log.close()
    if delays:
        q = lambda f: delays[min(len(delays) - 1, int(f * len(delays)))]
        within = sum(d <= 2.0 for d in delays)
        print(f"\nagent --all {' '.join(AGENT_ARGS)}, {name} processes started {rate:g}/s, living {life:g} s, "
              f"for {dur:g} s: {len(delays)} of {len(pids)} attached; after their start: median {q(0.5):.2f} s, "
              f"p90 {q(0.9):.2f} s, max {delays[-1]:.2f} s; {within} within 2 s")
    else:
        print(f"\nagent --all: none of {len(pids)} short-lived {name} processes attached")
    results.append({"agent_spawn_rate": rate, "life_s": life, "for_s": dur, "target": name, "started": len(pids),
                    "attached": len(delays), "attach_delays_s": delays})


def agent_section(args, targets, churn, results):
    """The agent with its defaults (issue 10, item 9): what it costs the churn
    workload, as a ratio of the untraced time in the same rounds; and one
    agent watching AGENT_N Python processes: time to attach all, its RSS
    and its own CPU."""
    # the type windows (issue 10, item 3): a window every second, half a
    # second long, within the default 1% budget, against the same agent
    # without them, in the same rounds; and with --owners in the windows
    # (its findings, and the stacks of the collections they walk)
    configs = [("(defaults)", ()), ("type windows", WINDOWS), ("windows+owners", (*WINDOWS, "--owners", "Node"))]
    # ten times the churn (about 3 s untraced): the windows open while it
    # runs, not only after it (the first opens a second after the attach)
    churn = (churn[0], churn[1] * 10)
    print(f"\n{'target':<22} {'churn, agent':<16} {'ratio':>7} {'vs defaults':>12} {'budget used':>12}")
    for name, python, _ in targets:
        base, times, used = [], {c: [] for c, _ in configs}, {c: [] for c, _ in configs}
        for _ in range(args.repeat):
            base.append(run_one("baseline", python, churn, args.gcscope, None))
            for label, extra in configs:
                p = start(python, churn)
                agent, port = start_agent(args.gcscope, [p.pid], extra)
                try:
                    wait_agent(agent, port, [p.pid])
                    times[label].append(finish(p))
                    if extra:
                        # the exited target's final values, served once
                        _, text = agent_states(port)
                        for line in text.splitlines():
                            if line.startswith("gcscope_agent_types_budget_used_ratio{"):
                                used[label].append(float(line.split()[-1]))
                finally:
                    agent.send_signal(15)
                    agent.wait(timeout=60)
                    if p.poll() is None:
                        p.kill()
        b = statistics.median(base)
        d = statistics.median(times["(defaults)"])
        for label, extra in configs:
            r = statistics.median(times[label]) / b
            vs = statistics.median(times[label]) / d
            u = statistics.median(used[label]) if used[label] else None
            results.append({"target": name, "workload": f"churn {churn[1]}", "options": f"agent {label}",
                            "ratio": r, "vs_defaults": vs, "budget_used": u})
            print(f"{name:<22} {label:<16} {r:7.2f} {vs:12.3f} {'' if u is None else f'{u:.4f}':>12}")

    if not targets or args.agent_n <= 0:
        return
    n = args.agent_n
    name, python, _ = targets[0]
    agent_latency(args, name, python, results)
    # each target: a collection every 10 ms or so, as a service would
    code = ("import gc,os,sys,time\nprint('ready',os.getpid(),flush=True)\n"
            "class N: pass\n"
            "while True:\n a=N(); b=N(); a.b=b; b.a=a; del a,b\n gc.collect(0); time.sleep(0.01)\n")
    procs = [subprocess.Popen([python, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(n)]
    agent = None
    try:
        for p in procs:
            assert p.stdout.readline().startswith("ready")
        pids = [p.pid for p in procs]
        t0 = time.time()
        agent, port = start_agent(args.gcscope, pids)
        wait_agent(agent, port, pids, timeout=1800)
        attach_s = time.time() - t0
        rss0 = rss_kb(agent.pid)
        _, text = agent_states(port)
        cpu0 = agent_metric(text, "gcscope_agent_cpu_seconds_total")
        # RSS through the watch, ten samples (flat or growing)
        rss_seen, step = [], args.agent_watch / 10
        for _ in range(10):
            time.sleep(step)
            rss_seen.append(rss_kb(agent.pid))
        _, text = agent_states(port)
        cpu1 = agent_metric(text, "gcscope_agent_cpu_seconds_total")
        rss1 = rss_kb(agent.pid)
        lost = agent_metric(text, "gcscope_agent_events_lost_total")
        share = (cpu1 - cpu0) / args.agent_watch
        print(f"\nagent {' '.join(AGENT_ARGS)}, {n} {name} processes (a collection each ~10 ms): all attached in {attach_s:.1f} s; "
              f"RSS {rss0} KiB after the attaches, {rss1} KiB {args.agent_watch:g} s later; "
              f"own CPU {100 * share:.1f}% of one core; events lost {lost:g}")
        print(f"agent RSS every {step:g} s: {' '.join(f'{k / 1024:.1f}' for k in rss_seen)} MiB "
              f"(after the attaches {rss0 / 1024:.1f} MiB, growth {(max(rss_seen) - rss0) / 1024:+.1f} MiB)")
        results.append({"agent_processes": n, "target": name, "attach_all_s": attach_s, "rss_kb": [rss0, rss1],
                        "rss_samples_kb": rss_seen, "watch_s": args.agent_watch, "cpu_share": share, "lost": lost})
    finally:
        if agent:
            agent.send_signal(15)
            agent.wait(timeout=120)
        for p in procs:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcscope", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--base-gcscope", help="an earlier build to compare with, in the same runs")
    ap.add_argument("--base-label", default="base")
    ap.add_argument("--soak-minutes", type=float, default=10)
    ap.add_argument("--only", choices=["qt", "compare", "owners", "gcmonitor", "agent"],
                    help="run one section only (owners: --owners on churn, mixed and Qt churn)")
    ap.add_argument("--gcmonitor-n", type=int, default=200000, help="churn size of the gcmonitor section")
    ap.add_argument("--agent-n", type=int, default=100, help="processes one agent watches (0: none)")
    ap.add_argument("--agent-watch", type=float, default=60, help="seconds its CPU and RSS are watched")
    ap.add_argument("--agent-spawn-rate", type=float, default=4,
                    help="short-lived processes started a second for the --all latency (0: skip it)")
    ap.add_argument("--agent-spawn-life", type=float, default=3, help="seconds each of them lives")
    ap.add_argument("--agent-spawn-for", type=float, default=30, help="seconds they are started for")
    ap.add_argument("--agent-args", default="", help="more options of gcscope agent, e.g. --no-debuginfo")
    ap.add_argument("--target", default="", help="only the targets whose name contains this (owners section)")
    args = ap.parse_args()
    AGENT_ARGS.extend(args.agent_args.split())

    targets = []
    if os.path.exists("/usr/bin/python3.11"):
        b = "/usr/bin/python3.11"
        targets.append(("debian-3.11 (usdt)", b,
                        f'usdt:{b}:python:gc__start {{ @s[tid] = nsecs; }} '
                        f'usdt:{b}:python:gc__done /@s[tid]/ {{ printf("%d %d %d\\n", tid, arg0, nsecs - @s[tid]); delete(@s[tid]); }}'))
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    libs = sorted(glob.glob(os.path.join(root, "versions", "3.12.*", "lib", "libpython3.12.so.1.0")))
    if libs:
        lib = libs[-1]
        py = os.path.join(os.path.dirname(os.path.dirname(lib)), "bin", "python3.12")
        targets.append(("pyenv-3.12 (uprobe)", py,
                        f'uprobe:{lib}:gc_collect_main {{ @s[tid] = nsecs; }} '
                        f'uretprobe:{lib}:gc_collect_main /@s[tid]/ {{ printf("%d %d %d\\n", tid, retval, nsecs - @s[tid]); delete(@s[tid]); }}'))
    have_bpftrace = shutil.which("bpftrace") is not None

    results = []
    if args.only == "gcmonitor":
        gcmonitor_section(args, results)
        print("\n" + json.dumps({"bench": results}))
        return
    if args.only == "qt":
        qt_section(args, results)
        return
    if args.only == "owners":
        owners_section(args, targets, [w for w in WORKLOADS if w[0] == "churn"][0], results)
        if not args.target:
            qt_section(args, results)
        print("\n" + json.dumps({"bench": results}))
        return
    if args.only == "agent":
        agent_section(args, targets, [w for w in WORKLOADS if w[0] == "churn"][0], results)
        print("\n" + json.dumps({"bench": results}))
        return
    if args.only == "compare":
        compare_section(args, targets, [w for w in WORKLOADS if w[0] == "churn"][0], results)
        print("\n" + json.dumps({"bench": results}))
        return
    print(f"median of {args.repeat} runs; gcscope and bpftrace as ratios of the untraced time\n")
    print(f"{'target':<22} {'workload':<14} {'baseline s':>10} {'gcscope':>9} {'bpftrace':>9}")
    for name, python, probe in targets:
        for workload in WORKLOADS:
            times = {"baseline": [], "gcscope": [], "bpftrace": []}
            kinds = ["baseline", "gcscope"] + (["bpftrace"] if have_bpftrace else [])
            for _ in range(args.repeat):
                for k in kinds:
                    times[k].append(run_one(k, python, workload, args.gcscope, probe))
            med = {k: statistics.median(v) for k, v in times.items() if v}
            base = med["baseline"]
            row = {"target": name, "workload": f"{workload[0]} {workload[1]}", "baseline_s": base,
                   "gcscope_ratio": med["gcscope"] / base,
                   "bpftrace_ratio": med["bpftrace"] / base if "bpftrace" in med else None}
            results.append(row)
            bt = f"{row['bpftrace_ratio']:9.2f}" if row["bpftrace_ratio"] else f"{'n/a':>9}"
            print(f"{name:<22} {row['workload']:<14} {base:10.3f} {row['gcscope_ratio']:9.2f} {bt}")

    # What each option of trace adds, on the churn workload: ratios to the
    # untraced baseline measured in the same rounds.
    print(f"\n{'target':<22} {'churn, with':<16} {'ratio':>7}")
    churn = [w for w in WORKLOADS if w[0] == "churn"][0]
    for name, python, probe in targets:
        times = {"baseline": [], "gcscope": []}
        for label, _ in FEATURES:
            times[label] = []
        for _ in range(args.repeat):
            times["baseline"].append(run_one("baseline", python, churn, args.gcscope, probe))
            times["gcscope"].append(run_one("gcscope", python, churn, args.gcscope, probe))
            for label, extra in FEATURES:
                times[label].append(run_one("gcscope", python, churn, args.gcscope, probe, extra))
        base = statistics.median(times["baseline"])
        for label in ["gcscope"] + [f[0] for f in FEATURES]:
            r = statistics.median(times[label]) / base
            results.append({"target": name, "workload": f"churn {churn[1]}", "options": label, "ratio": r})
            print(f"{name:<22} {label if label != 'gcscope' else '(none)':<16} {r:7.2f}")
    feature_rows(args, targets, MIXED, OWNERS_MIXED, results, "mixed, with")
    compare_section(args, targets, churn, results)
    agent_section(args, targets, churn, results)
    qt_section(args, results)
    gcmonitor_section(args, results)
    if args.soak_minutes > 0 and targets:
        builds = [("this", args.gcscope)] + ([(args.base_label, args.base_gcscope)] if args.base_gcscope else [])
        rss, secs = soak(targets[0][1], builds, args.soak_minutes)
        print(f"\nsoak: {targets[0][0]}, ~10,000 collections/s for {args.soak_minutes:g} min "
              f"(ran {secs:.0f} s); gcscope trace -j RSS:")
        for label, marks in rss.items():
            print(f"  {label:<10} " + ", ".join(f"{kb} KiB at {m / 60:.0f} min" for m, kb in marks))
            results.append({"soak": label, "rss_kb": marks})
    if shutil.which("/usr/bin/time") or os.path.exists("/usr/bin/time"):
        cmd = [args.gcscope, "trace", "-j", "--", "/usr/bin/python3.11", "-c", "pass"]
        rss = maxrss_kb(cmd)
        rss_nodbg = maxrss_kb(cmd[:2] + ["--no-debuginfo"] + cmd[2:])
        print(f"\ngcscope peak RSS: {rss} KiB with DWARF of Debian's python3.11-dbg "
              f"(file pages of the debug file, released before tracing), {rss_nodbg} KiB without")
    print("\n" + json.dumps({"bench": results}))


if __name__ == "__main__":
    sys.exit(main())
