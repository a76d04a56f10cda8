# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Hostile files mapped by a target (issue 11): any process can map a file
whose ELF headers lie (LD_PRELOAD, dlopen, an extension module), and gcscope
opens every file a process maps.  Each must be read without a crash, and the
target traced as if the file were not there."""
import json
import os
import shutil
import struct
import subprocess
import time

import pytest

from harness import Target, run, trace_running
from test_trace import check_against_target

EXIT_NOT_PYTHON = 4
SHT_NOBITS = 8


def set_section_type(path, section, sh_type):
    """Patch the sh_type of SECTION in the ELF64 file at path."""
    with open(path, "r+b") as f:
        b = f.read()
        shoff, = struct.unpack_from("<Q", b, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)

        def hdr(i):
            return struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize)
        names = hdr(shstrndx)[4]
        for i in range(shnum):
            n = names + hdr(i)[0]
            if b[n:b.index(b"\0", n)] == section.encode():
                f.seek(shoff + i * shentsize + 4)
                f.write(struct.pack("<I", sh_type))
                return
    raise AssertionError(f"{path} has no {section}")


def nobits_debuglink(src, dst):
    """dst: src with a .gnu_debuglink whose section header says SHT_NOBITS
    (libelf then gives d_buf == NULL and d_size == sh_size)."""
    subprocess.run(["objcopy", "--remove-section", ".gnu_debuglink", src, dst], check=True)
    subprocess.run(["objcopy", "--add-gnu-debuglink=" + src, dst], check=True)
    set_section_type(dst, ".gnu_debuglink", SHT_NOBITS)
    out = subprocess.run(["readelf", "-S", "-W", dst], capture_output=True, text=True, check=True).stdout
    assert any(".gnu_debuglink" in l and "NOBITS" in l for l in out.splitlines()), out


@pytest.fixture
def hostile_lib(tmp_path):
    """A shared library with a NOBITS .gnu_debuglink, in a directory of its
    own; its name contains "python", as an extension module's does
    (x.cpython-311-x86_64-linux-gnu.so), so it is among the first files
    gcscope opens looking for the runtime."""
    if not shutil.which("objcopy") or not shutil.which("cc"):
        pytest.skip("needs cc and objcopy (binutils)")
    d = tmp_path / "lib"
    d.mkdir()
    src = d / "hostile.c"
    src.write_text("int hostile_answer(void) { return 42; }\n")
    plain = d / "plain.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(plain), str(src)], check=True)
    lib = d / "hostile.cpython-3-x86_64-linux-gnu.so"
    nobits_debuglink(str(plain), str(lib))
    return str(lib)


def _wait_mapped(pid, path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with open(f"/proc/{pid}/maps") as f:
            if path in f.read():
                return True
        time.sleep(0.05)
    return False


def test_nobits_debuglink_in_a_non_python_process(gcscope, hostile_lib):
    """sleep with the library preloaded: gcscope opens every mapped file
    looking for _PyRuntime, and must say this is not CPython."""
    p = subprocess.Popen(["sleep", "60"], env=dict(os.environ, LD_PRELOAD=hostile_lib))
    try:
        assert _wait_mapped(p.pid, hostile_lib)
        r = run(gcscope, "doctor", "-p", p.pid)
        t = run(gcscope, "trace", "-p", p.pid)
    finally:
        p.kill()
        p.wait()
    for res in (r, t):
        assert res.returncode == EXIT_NOT_PYTHON, res
        assert f"process {p.pid} (sleep) is not running CPython" in res.stderr, res.stderr


def test_nobits_debuglink_dlopened(gcscope, interp, tmp_path, hostile_lib):
    """A real interpreter that dlopens the library (ctypes.CDLL): doctor says
    tracing works, and trace reports exactly the collections the target saw."""
    inside = os.path.join(interp.scratch_dir(tmp_path), os.path.basename(hostile_lib))
    shutil.copy(hostile_lib, inside)
    env = dict(os.environ, GC_WORKLOAD_DLOPEN=interp.inside(inside))
    target = Target(interp, tmp_path, "gc_workload.py", 2, 1, env=env)
    try:
        assert _wait_mapped(target.pid, os.path.basename(hostile_lib))
        d = run(gcscope, "doctor", "-j", "-p", target.pid)
        assert d.returncode == 0, d.stderr
        doc = json.loads(d.stdout)
        assert doc["can_trace"] is True and doc["python"] == ".".join(map(str, interp.version))
        assert doc["pid"] == target.pid
    except BaseException:
        target.kill()
        raise
    attach, report, records = trace_running(gcscope, target)
    assert attach["python"] == ".".join(map(str, interp.version))
    check_against_target(report, records)


def test_nobits_debuglink_executable(gcscope, tmp_path):
    """trace -- ./python: the executable itself carries the NOBITS section."""
    src = "/usr/bin/python3.11"
    if not os.path.exists(src) or not shutil.which("objcopy"):
        pytest.skip(f"needs {src} and objcopy")
    exe = str(tmp_path / "python3.11")
    nobits_debuglink(src, exe)
    code = "import gc, json; gc.collect(); gc.collect(); print(json.dumps(gc.get_stats()))"
    r = run(gcscope, "trace", "-j", "--", exe, "-c", code, timeout=120)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines() if l[:1] in "[{"]
    stats = [x for x in recs if isinstance(x, list)][0]
    recs = [x for x in recs if isinstance(x, dict)]
    assert recs[0]["type"] == "attach" and recs[0]["python"].startswith("3.11.")
    gen2 = [x for x in recs if x.get("type") == "collection" and x["gen"] == 2]
    # the two gc.collect() calls, seen up to the moment the target printed its stats
    assert len(gen2) >= stats[2]["collections"] >= 2
