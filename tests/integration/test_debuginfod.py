# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Debug info from debuginfod (issue 3): a libpython stripped of its DWARF
and symbols, whose debug file only a local debuginfod server (loopback)
has.  Without DEBUGINFOD_URLS gcscope has nothing to attach to; with it,
it finds the collector's symbol and finalize_garbage's site, and --types
counts what the target made."""
import glob
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

import matrix
from harness import Target, run, trace_running


def newest_pyenv():
    for i in reversed(matrix.interpreters()):
        if "pyenv" in i.tags and not i.missing and i.version >= (3, 11):
            return i
    pytest.skip("no pyenv build of 3.11+ (one with libpython and DWARF in it) is installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """(interp, lib dir with the stripped libpython, DEBUGINFOD_URLS, cache)."""
    if not shutil.which("debuginfod"):
        pytest.skip("debuginfod (Debian package debuginfod) is not installed")
    interp = newest_pyenv()
    libdir, debugdir = tmp_path / "lib", tmp_path / "debug"
    libdir.mkdir()
    debugdir.mkdir()
    minor = interp.version[1]
    lib = glob.glob(os.path.join(os.path.dirname(os.path.dirname(interp.path)), "lib",
                                 f"libpython3.{minor}.so.1.0"))[0]
    name = os.path.basename(lib)
    subprocess.run(["objcopy", "--only-keep-debug", lib, str(debugdir / (name + ".debug"))], check=True)
    subprocess.run(["strip", "--strip-debug", "--strip-unneeded", lib, "-o", str(libdir / name)], check=True)
    build_id = subprocess.run(["readelf", "-n", str(libdir / name)], capture_output=True,
                              text=True).stdout.split("Build ID:")[1].split()[0]
    port = free_port()
    server = subprocess.Popen(["debuginfod", "-p", str(port), "-d", str(tmp_path / "db.sqlite"),
                               "-F", str(debugdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):            # it scans the directory in the background
            try:
                with urllib.request.urlopen(f"{url}/buildid/{build_id}/debuginfo", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("debuginfod never served the debug file")
        yield interp, str(libdir), url, str(tmp_path / "cache")
    finally:
        server.kill()
        server.wait()


def test_debuginfod(gcscope, served, tmp_path):
    interp, libdir, url, cache = served
    env = {**os.environ, "LD_LIBRARY_PATH": libdir}
    env.pop("DEBUGINFOD_URLS", None)
    target = Target(interp, tmp_path, "owners_program.py", "main", 50, env=env)
    try:
        maps = open(f"/proc/{target.pid}/maps").read()
        assert libdir in maps, "the stripped libpython is not the one loaded"
        # without debuginfod: a stripped build with no USDT, nothing to attach to
        bare = run(gcscope, "trace", "--types", "-p", target.pid, env=env)
        assert bare.returncode == 5, bare
        assert "DEBUGINFOD_URLS" in bare.stderr
        # with it
        denv = {**env, "DEBUGINFOD_URLS": url, "DEBUGINFOD_CACHE_PATH": cache}
        doc = run(gcscope, "doctor", "-p", target.pid, env=denv)
        assert doc.returncode == 0, doc
        assert f"debug info    {cache}/" in doc.stdout
        assert "finalize_garbage inlined in gc_collect_main" in doc.stdout
    except BaseException:
        target.kill()
        raise
    attach, report, records = trace_running(gcscope, target, ("--types",), denv)
    assert attach["probe"] == "uprobe"
    widgets = sum(r.get("types", {}).get("Widget", 0) for r in records if r["type"] == "collection")
    assert widgets == report["widgets"] == 100
