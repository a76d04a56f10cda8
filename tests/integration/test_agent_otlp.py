# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""gcscope agent --otlp-endpoint (issue 10, item 5): the metrics pushed over
OTLP/HTTP must equal each target's own account (gc.callbacks).

The receiver: the issue asks for Prometheus's OTLP receiver, but Debian
builds prometheus (bookworm 2.42, trixie 2.53, sid 3.5) with its OTLP
ingestion patched out ("Disable OTLP Ingestion endpoint. This can be
re-enabled once golang-opentelemetry-collector is in Debian", #1080354, in
its changelog; --web.enable-otlp-receiver is not a flag of sid's 3.5.3),
and no other OTLP metrics receiver is packaged.  So the test's receiver
(otlp_receiver.py, run by the sid chroot's python3) parses each request
with protobuf's JSON parser into the generated classes of the real
opentelemetry-proto (Debian's python3-opentelemetry-proto), which refuses
what an OTLP receiver would refuse, and the values are read from what it
parsed.  Then: a receiver that refuses connections, and one that accepts
them and never answers, cost the agent nothing but counted failures
(its /metrics stays exact), and a bad URL is one line and exit code 2.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

import matrix
from harness import Target, wait_for
from test_agent import EXIT_OK, EXIT_USAGE, Agent, expected, free_port, pick, values

RECEIVER = os.path.join(os.path.dirname(__file__), "otlp_receiver.py")
TARGETS = os.path.join(os.path.dirname(__file__), "..", "targets")
GC_METRICS = (("cpython.gc.collections", 0), ("cpython.gc.collected_objects", 1),
              ("cpython.gc.uncollectable_objects", 2))


class Receiver:
    """otlp_receiver.py under the sid chroot's python3, on loopback."""

    def __init__(self):
        r = subprocess.run([os.path.join(TARGETS, "chroot.sh"), "sid"], capture_output=True, text=True)
        if r.returncode:
            pytest.skip(f"no sid chroot for the OTLP receiver: {r.stderr.strip()}")
        root = r.stdout.strip()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1/metrics"
        with open(RECEIVER) as f:
            self.proc = subprocess.Popen(["chroot", root, "python3", "-", str(self.port)], stdin=f,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", f"the receiver did not start: {line}{self.proc.stderr.read()}"

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
            return json.load(r)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def attrs(kvs):
    """{key: value} of OTLP KeyValues (MessageToDict, proto field names)."""
    out = {}
    for kv in kvs:
        v = kv["value"]
        out[kv["key"]] = int(v["int_value"]) if "int_value" in v else v.get("string_value")
    return out


def of_pid(request, pid):
    """{metric name: metric} of pid's ResourceMetrics in one request, and its
    resource attributes."""
    for rm in request.get("resource_metrics", []):
        a = attrs(rm["resource"]["attributes"])
        if a.get("process.pid") == pid:
            return {m["name"]: m for sm in rm["scope_metrics"] for m in sm["metrics"]}, a
    return None, None


def sums(metric):
    return {attrs(p["attributes"])["cpython.gc.generation"]: int(p.get("as_int", 0))
            for p in metric["sum"]["data_points"]}


def test_otlp_push_equals_targets_account(gcscope, tmp_path):
    """Two interpreters in one agent (Debian's 3.11, a chroot's), pushed to
    an OTLP receiver every 0.5 s: the last request's sums per generation
    equal each target's gc.callbacks account, the histogram counts every
    collection, the resource names the process as it sees itself."""
    interps = [pick(names=("debian-3.11",)), pick(tag="chroot")]
    if interps[1] is None:
        pytest.skip("no chroot interpreter: " + "; ".join(i.missing for i in matrix.interpreters() if i.missing))
    interps = [i for i in interps if i]
    recv = Receiver()
    targets = [Target(i, tmp_path, "agent_target.py", 3, 1) for i in interps]
    agent = None
    try:
        agent = Agent(gcscope, "--otlp-endpoint", recv.url, "--otlp-interval", "0.5",
                      *[a for t in targets for a in ("-p", t.pid)])
        agent.wait_attached([t.pid for t in targets])
        for t in targets:
            t.go()
        reports = [json.loads(t.proc.stdout.readline()) for t in targets]

        def last():
            reqs = recv.get("/requests")
            return reqs[-1] if reqs else {}

        def agrees():
            req = last()
            for t, r in zip(targets, reports):
                ms, _ = of_pid(req, t.pid)
                if not ms or any(name not in ms or sums(ms[name]) != expected(r, i) for name, i in GC_METRICS):
                    return False
            return True
        wait_for(agrees, timeout=30, step=0.5)
        req = last()
        for t, r, interp in zip(targets, reports, interps):
            ms, res = of_pid(req, t.pid)
            assert ms, (interp.name, "no ResourceMetrics for the target", req)
            for name, i in GC_METRICS:
                assert sums(ms[name]) == expected(r, i), (interp.name, name)
                s = ms[name]["sum"]
                assert s["aggregation_temporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE"
                assert s["is_monotonic"] is True
            assert ms["cpython.gc.collections"]["unit"] == "{collection}"
            assert ms["cpython.gc.collected_objects"]["unit"] == "{object}"
            # the pause histogram: in seconds, per generation, counting
            # every collection the target counted
            h = ms["cpython.gc.duration"]
            assert h["unit"] == "s"
            assert h["histogram"]["aggregation_temporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE"
            hist = {attrs(p["attributes"])["cpython.gc.generation"]: p for p in h["histogram"]["data_points"]}
            assert {g: int(p.get("count", 0)) for g, p in hist.items()} == expected(r, 0), interp.name
            for g, p in hist.items():
                assert sum(int(c) for c in p["bucket_counts"]) == int(p.get("count", 0))
                assert len(p["bucket_counts"]) == len(p["explicit_bounds"]) + 1
                assert int(p["start_time_unix_nano"]) <= int(p["time_unix_nano"])
                if int(p.get("count", 0)):
                    assert p["sum"] > 0
            # the process, as it sees itself
            assert res["process.runtime.version"] == ".".join(map(str, interp.version)), res
            assert res["process.executable.path"] == interp.path, res
            assert res["process.runtime.name"] == "cpython"
            assert res["service.instance.id"].endswith(f":{t.pid}")
        assert recv.get("/refused") == []
        # the agent's own count of what the receiver took
        pushes = [v for n, l, v in agent.samples() if n == "gcscope_agent_otlp_pushes_total"]
        assert pushes and pushes[0] >= 1
        fails = sum(v for n, l, v in agent.samples() if n == "gcscope_agent_otlp_push_failures_total")
        assert fails == 0
    finally:
        for t in targets:
            t.kill()
        rc, err = agent.stop() if agent else (EXIT_OK, "")
        recv.stop()
    assert rc == EXIT_OK, err
    assert "OTLP push" not in err, err


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_dead_receiver_costs_nothing(gcscope, tmp_path, kind):
    """Nothing listening (refused), or a socket that takes the connection
    and never answers (silent: every push waits for its timeout): the agent
    goes on attaching and counting, /metrics stays exact, the failures are
    counted by reason and logged once, and SIGTERM still ends it."""
    interp = pick(names=("debian-3.11",)) or pick()
    silent = None
    port = free_port()
    if kind == "silent":
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)	# never accepted, never read: the kernel completes the handshakes
        port = silent.getsockname()[1]
    reason = {"refused": "connect", "silent": "timeout"}[kind]
    t = Target(interp, tmp_path, "agent_target.py", 3, 1)
    agent = None
    try:
        agent = Agent(gcscope, "--otlp-endpoint", f"http://127.0.0.1:{port}/v1/metrics", "--otlp-interval", "0.2",
                      "-p", t.pid)
        agent.wait_attached([t.pid])

        def failures():
            return {l["reason"]: v for n, l, v in agent.samples() if n == "gcscope_agent_otlp_push_failures_total"}
        assert wait_for(lambda: failures().get(reason, 0) >= 2, timeout=30, step=0.2), failures()
        t.go()
        report = json.loads(t.proc.stdout.readline())
        for name, i in (("python_gc_collections_total", 0), ("python_gc_objects_collected_total", 1),
                        ("python_gc_objects_uncollectable_total", 2)):
            assert wait_for(lambda: values(agent.samples(), name, t.pid) == expected(report, i), timeout=10), name
        before = failures()[reason]
        assert wait_for(lambda: failures()[reason] > before, timeout=30, step=0.2)
        pushes = [v for n, l, v in agent.samples() if n == "gcscope_agent_otlp_pushes_total"]
        assert pushes == [0]
        started = time.time()
    finally:
        t.kill()
        rc, err = agent.stop() if agent else (EXIT_OK, "")
        if silent:
            silent.close()
    assert rc == EXIT_OK, err
    # the last push waits at most 2 s, not the 60 s the stop allows
    assert time.time() - started < 30
    lines = [x for x in err.splitlines() if "OTLP push" in x]
    assert len(lines) == 1 and f"failed ({reason})" in lines[0], err


def test_bad_otlp_endpoint(gcscope, tmp_path):
    """A URL that is not http(s), or that libcurl cannot parse, from a flag
    or a --config line: one line, exit code 2, before anything starts."""
    for url, what in (("ftp://127.0.0.1/v1/metrics", "give an http:// or https:// URL"),
                      ("http://[::1/v1/metrics", "invalid otlp-endpoint"), ("http:///v1/metrics", "no host")):
        r = subprocess.run([gcscope, "agent", "-p", str(os.getpid()), "--otlp-endpoint", url],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == EXIT_USAGE, (url, r.stderr)
        assert what in r.stderr, (url, r.stderr)
        assert "serving" not in r.stderr, r.stderr
    conf = tmp_path / "agent.conf"
    conf.write_text(f"pid = {os.getpid()}\notlp-endpoint = http://[::1\n")
    r = subprocess.run([gcscope, "agent", "--config", str(conf)], capture_output=True, text=True, timeout=60)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "invalid otlp-endpoint 'http://[::1'" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = subprocess.run([gcscope, "agent", "-p", "1", "--otlp-interval", "0"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == EXIT_USAGE and "invalid otlp-interval '0'" in r.stderr, r.stderr


def test_reload_changes_the_endpoint(gcscope, tmp_path):
    """SIGHUP: a new otlp-endpoint in the file takes over from a dead one
    (and its values are the target's account); a bad one is refused in one
    line and the one in use kept."""
    interp = pick(names=("debian-3.11",)) or pick()
    recv = Receiver()
    dead = f"http://127.0.0.1:{free_port()}/v1/metrics"
    conf = tmp_path / "agent.conf"
    t = Target(interp, tmp_path, "agent_target.py", 2, 1)
    conf.write_text(f"pid = {t.pid}\notlp-endpoint = {dead}\notlp-interval = 0.3\n")
    agent = None
    try:
        agent = Agent(gcscope, "--config", str(conf))
        agent.wait_attached([t.pid])
        t.go()
        report = json.loads(t.proc.stdout.readline())
        conf.write_text(f"pid = {t.pid}\notlp-endpoint = {recv.url}\notlp-interval = 0.3\n")
        agent.proc.send_signal(signal.SIGHUP)

        def pushed():
            reqs = recv.get("/requests")
            ms = of_pid(reqs[-1], t.pid)[0] if reqs else None
            return bool(ms) and sums(ms["cpython.gc.collections"]) == expected(report, 0)
        assert wait_for(pushed, timeout=30, step=0.3), recv.get("/requests")[-1:]
        ms = of_pid(recv.get("/requests")[-1], t.pid)[0]
        for name, i in GC_METRICS:
            assert sums(ms[name]) == expected(report, i), name
        conf.write_text(f"pid = {t.pid}\notlp-endpoint = ftp://nowhere/\n")
        n = len(recv.get("/requests"))
        agent.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: [v for nm, l, v in agent.samples()
                                 if nm == "gcscope_agent_reload_failures_total"] == [1], timeout=30)
        # still pushing to the receiver
        assert wait_for(lambda: len(recv.get("/requests")) > n + 1, timeout=30, step=0.3)
    finally:
        t.kill()
        rc, err = agent.stop() if agent else (EXIT_OK, "")
        recv.stop()
    assert rc == EXIT_OK, err
    assert "reload refused, the configuration in use is kept: " in err, err
    assert "agent.conf:2: invalid otlp-endpoint 'ftp://nowhere/'" in err, err
