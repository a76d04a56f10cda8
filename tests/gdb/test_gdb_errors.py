# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Bad targets give one clear line per command, never a Python traceback."""
import os
import re
import subprocess

import pytest

import gdbutil

ALL = ["py-gc-status", "py-gc-census", "py-gc-collecting", "py-gc-object 0x1000",
       "py-gc-types", "py-gc-garbage"]


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env=gdbutil.clean_env(), stdin=subprocess.DEVNULL)
    return r.stdout, r.stderr


def one_line_each(err, pattern):
    lines = [ln for ln in err.splitlines() if ln.startswith("py-gc-")]
    assert len(lines) == len(ALL), err
    for ln in lines:
        assert re.search(pattern, ln), ln
        assert "internal error" not in ln, ln
    assert "Traceback" not in err


def test_no_target():
    argv = ["gdb", "--batch", "-nx", "-ex", "source " + gdbutil.GCSCOPE_PY]
    for c in ALL:
        argv += ["-ex", c]
    _out, err = run(argv)
    one_line_each(err, r"no process or core file")


def test_not_python():
    p = subprocess.Popen(["sleep", "120"])
    try:
        argv = ["gdb", "--batch", "-nx", "-p", str(p.pid), "-ex", "source " + gdbutil.GCSCOPE_PY]
        for c in ALL:
            argv += ["-ex", c]
        _out, err = run(argv)
    finally:
        p.kill()
        p.wait()
    one_line_each(err, r"no Python here: symbol _PyRuntime not found")


def test_core_of_another_program(tmp_path):
    """A core of `sleep` opened with python3.11 as its executable: python's
    symbols resolve, but nothing is at their addresses; one line says so."""
    p = subprocess.Popen(["sleep", "120"])
    core = str(tmp_path / "sleep.core")
    try:
        _o, err = run(["gdb", "--batch", "-nx", "-p", str(p.pid), "-ex", "gcore " + core])
    finally:
        p.kill()
        p.wait()
    assert os.path.exists(core), err
    argv = ["gdb", "--batch", "-nx", "-iex", "set debuginfod enabled off", "-ex", "file /usr/bin/python3.11",
            "-ex", "core-file " + core, "-ex", "source " + gdbutil.GCSCOPE_PY]
    for c in ALL:
        argv += ["-ex", c]
    _out, err = run(argv)
    one_line_each(err, r"does not match the executable|no Python here")


def test_bad_arguments(interp, tmp_path):
    """Bad option values and ADDR expressions that would change the target
    get one line each; the target is not touched (it exits normally)."""
    if interp.name != "debian-3.11":
        pytest.skip("argument parsing does not depend on the interpreter (run on debian-3.11)")
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    bad = {"py-gc-census --top -1": r"--top needs a number >= 0",
           "py-gc-garbage --max -1": r"--max needs a number >= 0",
           "py-gc-garbage --max 1x": r"--max needs a number, not '1x'",
           "py-gc-object getpid()": r"bad address 'getpid\(\)'",
           "py-gc-object *(long *)$sp = 0": r"ADDR may not assign",
           "py-gc-object $x++": r"ADDR may not assign",
           "py-gc-object 16": r"0x10 does not look like a PyObject",
           "py-gc-object --frob": r"unknown option --frob"}
    try:
        out, err = gdbutil.run_gdb(interp, list(bad) + ["py-gc-census 2 --top 02"], pid=t.pid)
    finally:
        t.stop()
    assert "Traceback" not in out + err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("py-gc-")]
    assert len(lines) == len(bad), err
    for ln, (cmd, pattern) in zip(lines, bad.items()):
        assert re.search(pattern, ln), (cmd, ln)
    # a leading zero is still decimal: two types shown, the third summed
    assert re.search(r"\(1 more types\)", out), out
    assert t.proc.returncode == 0, t.proc.stderr.read().decode()[-2000:]


def test_help_texts():
    argv = ["gdb", "--batch", "-nx", "-ex", "source " + gdbutil.GCSCOPE_PY]
    for c in ALL:
        argv += ["-ex", "help " + c.split()[0]]
    out, err = run(argv)
    assert "Traceback" not in err and "Undefined" not in err, err
    for c in ALL:
        assert "Usage: " + c.split()[0] in out, c


def test_truncated_core(interp, tmp_path):
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path))
    size = os.path.getsize(core)
    with open(core, "r+b") as f:
        f.truncate(size // 3)
    try:
        out, err = gdbutil.run_gdb(interp, ALL, core=core)
    finally:
        os.unlink(core)
    assert "Traceback" not in out + err, err
    assert "internal error" not in err, err
    # each command either works (what it needs was in the first third) or says
    # in one line what it could not read
    for ln in err.splitlines():
        if ln.startswith("py-gc-"):
            assert re.search(r"cannot read|no Python here|not set up|broken GC list|is unknown|no process or core file", ln), ln


@pytest.fixture(scope="module")
def gcscope_bin(tmp_path_factory):
    """The gcscope binary if it has the gdb/core commands, else a test driver of user/gdbcmd.c."""
    real = os.environ.get("GCSCOPE", os.path.join(gdbutil.REPO, ".output", "gcscope"))
    if os.access(real, os.X_OK):
        r = subprocess.run([real, "core", "--help"], capture_output=True, text=True)
        if r.returncode == 0 and "gcscope core CORE" in r.stdout:
            return real
    d = tmp_path_factory.mktemp("gdbcmd")
    drv = d / "drv.c"
    drv.write_text('#include <string.h>\n#include "gdbcmd.h"\n'
                   'int main(int argc, char **argv) {\n'
                   '\tif (argc > 1 && !strcmp(argv[1], "gdb")) return cmd_gdb(argc - 1, argv + 1);\n'
                   '\tif (argc > 1 && !strcmp(argv[1], "core")) return cmd_core(argc - 1, argv + 1);\n'
                   '\treturn 2;\n}\n')
    user = os.path.join(gdbutil.REPO, "user")
    out = d / "gcscope"
    r = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-std=gnu11", "-I", user, str(drv),
                        os.path.join(user, "gdbcmd.c"), os.path.join(user, "common.c"),
                        os.path.join(user, "json.c"), os.path.join(user, "corefile.c"),
                        os.path.join(user, "elfinfo.c"), os.path.join(user, "gdbpick.c"), "-lelf", "-o", str(out)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot build a driver for user/gdbcmd.c: " + r.stderr[-500:])
    return str(out)


def test_gcscope_exit_codes(gcscope_bin):
    env = dict(gdbutil.clean_env(), GCSCOPE_GDB_DIR=os.path.join(gdbutil.REPO, "gdb"))

    def rc(*a):
        return subprocess.run([gcscope_bin, *a], capture_output=True, text=True, env=env).returncode
    assert rc("gdb") == 2
    assert rc("gdb", "-p", "notapid") == 2
    assert rc("gdb", "-p", "999999999") == 2 or rc("gdb", "-p", "999999999") == 3
    assert rc("gdb", "-p", "4194304") == 3
    # the scripts are not where GCSCOPE_GDB_DIR says
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        r = subprocess.run([gcscope_bin, "gdb", "-p", str(sleeper.pid)], capture_output=True, text=True,
                           env=dict(env, GCSCOPE_GDB_DIR="/nonexistent"), stdin=subprocess.DEVNULL)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert r.returncode == 1 and "gcscope.py not found" in r.stderr, r
    assert rc("core") == 2
    assert rc("core", "/nonexistent/core") == 3
    # CORE is checked first, then EXE
    assert rc("core", "/etc/hostname", "/nonexistent/python") == 8


EXIT_NOT_PYTHON, EXIT_NOT_CORE, EXIT_CORE_INCOMPLETE = 4, 8, 9


def core_run(gcscope_bin, *args, env=None):
    e = dict(gdbutil.clean_env(), GCSCOPE_GDB_DIR=os.path.join(gdbutil.REPO, "gdb"))
    e.update(env or {})
    return subprocess.run([gcscope_bin, "core", *args], capture_output=True, text=True, env=e,
                          timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("what,args,says", [
    ("a directory", ["/tmp", "/usr/bin/python3"], r"^gcscope: /tmp is a directory, not a core file"),
    ("not ELF", ["/etc/hostname"], r"^gcscope: /etc/hostname is not a core file \(not an ELF file\)"),
    ("not ELF, with EXE", ["/etc/hostname", "/usr/bin/python3"],
     r"^gcscope: /etc/hostname is not a core file \(not an ELF file\)"),
    ("an executable", ["/bin/true"], r"^gcscope: /bin/true is not a core file but (an executable|a shared "
                                     r"object or PIE executable)"),
])
def test_gcscope_core_not_a_core(gcscope_bin, what, args, says):
    """Nothing to analyse is not success: exit 8 and one line naming the problem
    (docs/exit-codes.md); gdb is not run."""
    r = core_run(gcscope_bin, *args)
    assert r.returncode == EXIT_NOT_CORE, (what, r)
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and re.match(says, lines[0]), r.stderr


@pytest.fixture
def py311_core(tmp_path):
    """A kernel-layout core of a real python3.11 (heap_program.py), and its interpreter."""
    import corekit
    import matrix
    interp = [i for i in matrix.interpreters() if i.name == "debian-3.11"]
    if not interp or interp[0].missing:
        pytest.skip("debian-3.11 is not available")
    interp = interp[0]
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    core = gdbutil.gcore_and_stop(interp, t, str(tmp_path))
    corekit.kernel_layout(core)
    return interp, core


def test_gcscope_core_codes_on_a_real_core(gcscope_bin, py311_core, tmp_path):
    """The same core: whole (0), cut short (9), with another executable (4)."""
    import corekit
    interp, core = py311_core
    r = core_run(gcscope_bin, core, interp.host_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"^  counts: \d+ \d+ \d+$", r.stdout, re.M), r.stdout
    # another python: refused before gdb runs, by build-id
    other = "/usr/bin/python3.11d" if os.path.exists("/usr/bin/python3.11d") else "/bin/sleep"
    r = core_run(gcscope_bin, core, other)
    assert r.returncode == EXIT_NOT_PYTHON, r
    assert re.match(r"^gcscope: %s was not dumped by %s: no mapping in the core has its build-id [0-9a-f]+; "
                    r"give the executable that dumped it" % (re.escape(core), re.escape(other)),
                    r.stderr.splitlines()[-1]), r.stderr
    # cut at a third: gdb still opens it, the runtime's memory is gone
    size = os.path.getsize(core)
    with open(core, "r+b") as f:
        f.truncate(size // 3)
    r = core_run(gcscope_bin, core, interp.host_path)
    assert r.returncode == EXIT_CORE_INCOMPLETE, r
    assert "Traceback" not in r.stdout + r.stderr
    assert "not initialized" not in r.stdout + r.stderr
    assert re.search(r"^py-gc-status: memory missing from the core: ", r.stderr, re.M), r.stderr
    assert re.match(r"^gcscope: %s is truncated: it holds .* of the .* its headers describe \(\d+ of \d+ "
                    r"memory segments cut off\)" % re.escape(core), r.stderr.splitlines()[-1]), r.stderr


def test_gcscope_finds_scripts_beside_its_build(tmp_path):
    """Without GCSCOPE_GDB_DIR, .output/gcscope and .output/san/gcscope both
    find the source tree's gdb/ (gdbcmd_script_dir())."""
    found = 0
    for b in (os.path.join(gdbutil.REPO, ".output", "gcscope"),
              os.path.join(gdbutil.REPO, ".output", "san", "gcscope")):
        if not os.access(b, os.X_OK):
            continue
        found += 1
        env = {k: v for k, v in gdbutil.clean_env().items() if k != "GCSCOPE_GDB_DIR"}
        r = subprocess.run([b, "core", "/etc/hostname", "/bin/true"], capture_output=True, text=True,
                           env=env)
        assert r.returncode == 8, (b, r)     # a usage path that does not need gdb
        p = subprocess.Popen(["sleep", "30"])
        try:
            r = subprocess.run([b, "gdb", "-p", str(p.pid), "--batch", "-nx", "-ex", "py-gc-status"],
                               capture_output=True, text=True, env=env, timeout=120,
                               stdin=subprocess.DEVNULL)
        finally:
            p.kill()
            p.wait()
        assert "gcscope.py not found" not in r.stderr, (b, r.stderr)
        # sourced: gcscope.py's load check ran and says what it sees
        # (gcscope gdb turns its verdict into one line, test_gcscope_gdb_not_python)
        assert re.search(r"^gcscope: the py-gc-\* commands cannot work on pid %d: no Python here" % p.pid,
                         r.stderr, re.M), (b, r.stderr)
        assert r.returncode == 4, (b, r)
    if not found:
        pytest.skip("no gcscope build in .output")


GDBS = ["default", "trixie"]


def gdb_env(kind, **more):
    """gcscope gdb's environment with the gdb it chooses ("default") or the
    trixie chroot's gdb 16 forced ("trixie")."""
    gdb = None
    if kind == "trixie":
        from test_gdb_types import trixie_gdb
        gdb, why = trixie_gdb()
        if gdb is None:
            pytest.skip(f"the trixie chroot's gdb cannot be had: {why}")
    return dict(gdbutil.gcscope_env(gdb), **more)


def without_gdb_note(err):
    """stderr without gcscope's line on the gdb it chose (user/gdbpick.c:
    only where the first gdb found cannot make inferior calls)."""
    return "".join(ln for ln in err.splitlines(True) if not ln.startswith("gcscope: gdb: "))


@pytest.mark.parametrize("gdbkind", GDBS)
def test_gcscope_gdb_in_chroot(interp, tmp_path, gcscope_bin, gdbkind):
    """gcscope gdb -p PID sets sysroot/debug-file-directory for a process in a chroot."""
    if interp.root == "/":
        pytest.skip(f"{interp.name}: not in a chroot (the chroot case is what this tests)")
    env = gdb_env(gdbkind)
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    try:
        r = subprocess.run([gcscope_bin, "gdb", "-p", str(t.pid), "--batch", "-nx", "-ex", "py-gc-status"],
                           capture_output=True, text=True, env=env, timeout=120,
                           stdin=subprocess.DEVNULL)
    finally:
        t.stop()
    st = gdbutil.parse_status(r.stdout)
    assert st.get("counts") == " ".join(t.ready[1:4]), r.stdout + r.stderr
    assert r.returncode == 0, r.stderr
    # DWARF from the chroot's /usr/lib/debug (found by build-id)
    assert re.search(r"offsets: dwarf", r.stdout) or not interp.dwarf, r.stdout
    # gdb's noise about the chroot's libthread_db (which it must not load)
    # is not shown: nothing on stderr, no auto-load advice on stdout
    assert without_gdb_note(r.stderr) == "", r.stderr
    assert "auto-load" not in r.stdout and "Unable to find libthread_db" not in r.stdout, r.stdout
    # a libthread_db gdb loads is its own root's (the trixie gdb's is the
    # trixie chroot's), never one through the target's /proc/PID/root.  The
    # default pick may be a chroot's gdb too (gdbpick.c: the host's gdb 13
    # cannot make inferior calls on AMX): its note on stderr names it.
    picked = env.get("GCSCOPE_GDB")
    if picked is None:
        m = re.search(r"^gcscope: gdb: using gdb \S+ \(([^)]+)\)", r.stderr, re.M)
        picked = m.group(1) if m else None
    own = os.path.realpath(picked).rsplit("/usr/bin/gdb", 1)[0] if picked else ""
    for lib in re.findall(r'^Using host libthread_db library "([^"]+)"', r.stdout, re.M):
        assert re.match(r"^%s/(usr/)?lib/" % re.escape(own), lib), r.stdout


@pytest.mark.parametrize("gdbkind", GDBS)
def test_gcscope_gdb_prompt_is_quiet(interp, tmp_path, gcscope_bin, gdbkind):
    """Interactive `gcscope gdb -p` on a chrooted process, on a terminal: up
    to its first prompt, no warning, no symbol-loading chatter about
    /proc/PID/root files, no auto-load advice (issue 9: it once printed
    about 15 such lines)."""
    import pty
    import select
    import time
    if interp.root == "/":
        pytest.skip(f"{interp.name}: not in a chroot (the chroot case is what this tests)")
    env = gdb_env(gdbkind, TERM="dumb")
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([gcscope_bin, "gdb", "-p", str(t.pid)], stdin=slave, stdout=slave,
                             stderr=slave, env=env, close_fds=True)
        os.close(slave)
        buf = b""
        deadline = time.monotonic() + 120
        while b"(gdb) " not in buf and time.monotonic() < deadline and p.poll() is None:
            r, _, _ = select.select([master], [], [], 1)
            if r:
                try:
                    buf += os.read(master, 65536)
                except OSError:
                    break
        os.write(master, b"quit\ny\n")
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    finally:
        os.close(master)
        t.stop()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.decode(errors="replace")).replace("\r", "")
    assert "(gdb) " in text, text
    before = [ln for ln in text.split("(gdb) ")[0].splitlines() if ln.strip()]
    before = [ln for ln in before if not ln.startswith("gcscope: gdb: ")]
    for ln in before:
        assert not re.search(r"warning|Reading symbols|No debugging symbols|auto-load|"
                             r"No such file", ln), text
    # what is left: the attach, gdb's libthread_db lines, the frame stopped in
    assert len(before) <= 5, text
    assert before[0].startswith("Attaching to program: "), text


def table_without(interp, tmp_path):
    """A copy of pylayout.tsv without the column that covers interp's version."""
    rows = [ln.rstrip("\n").split("\t") for ln in open(gdbutil.TSV)]
    head = next(r for r in rows if r[0] == "# field")
    first = next(r for r in rows if r[0] == "column.first_micro")
    last = next(r for r in rows if r[0] == "column.last_micro")
    major, minor, micro = interp.version
    drop = [i for i in range(3, len(head))
            if head[i].split(".")[:2] == [str(major), str(minor)] and int(first[i]) <= micro <= int(last[i])]
    assert len(drop) == 1, head
    path = tmp_path / "pylayout.tsv"
    with open(path, "w") as f:
        for r in rows:
            if r[0].startswith("#") and r[0] != "# field" or r[0] == "rule" or len(r) < len(head):
                f.write("\t".join(r) + "\n")
            else:
                f.write("\t".join(c for i, c in enumerate(r) if i != drop[0]) + "\n")
    return str(path)


@pytest.mark.parametrize("gdbkind", GDBS)
def test_gcscope_gdb_cannot_load(interp, tmp_path, gcscope_bin, gdbkind):
    """When the py-gc-* commands cannot work on the target, gcscope gdb says
    why in one line and exits non-zero: 7 for a version its table lacks, 4
    for a process that is not Python."""
    env = gdb_env(gdbkind, GCSCOPE_LAYOUT=table_without(interp, tmp_path))
    t = gdbutil.start(interp, tmp_path, "heap_program.py")
    try:
        r = subprocess.run([gcscope_bin, "gdb", "-p", str(t.pid), "--batch", "-nx", "-ex", "py-gc-status"],
                           capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        t.stop()
    assert r.returncode == 7, r.stdout + r.stderr
    v = "%d.%d" % interp.version[:2]
    r.stderr = without_gdb_note(r.stderr)
    assert r.stderr == ("gcscope: the py-gc-* commands cannot work on pid %d: Python %s is not supported "
                        "(pylayout.tsv covers " % (t.pid, v)) + r.stderr.split("covers ", 1)[1], r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "Python %s" % v not in r.stdout     # py-gc-status did not run


def test_gcscope_gdb_not_python(gcscope_bin):
    env = dict(gdbutil.clean_env(), GCSCOPE_GDB_DIR=os.path.join(gdbutil.REPO, "gdb"))
    p = subprocess.Popen(["sleep", "120"])
    try:
        r = subprocess.run([gcscope_bin, "gdb", "-p", str(p.pid), "--batch", "-nx", "-ex", "py-gc-status"],
                           capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == 4, r.stdout + r.stderr
    assert r.stderr.splitlines()[-1].startswith(
        "gcscope: the py-gc-* commands cannot work on pid %d: no Python here" % p.pid), r.stderr
    assert "py-gc-status:" not in r.stderr


def test_gcscope_core(interp, tmp_path, gcscope_bin):
    """gcscope core CORE [EXE] runs the whole report on a crash core."""
    from test_gdb_crash import build_ext
    scratch = interp.scratch_dir(tmp_path)
    build_ext(interp, scratch)
    t = gdbutil.start(interp, tmp_path, "crash_program.py", interp.inside(scratch), scratch=scratch)
    core = gdbutil.wait_core(t)
    if core is None:
        pytest.skip("no core dumped (kernel.core_pattern)")
    env = dict(gdbutil.clean_env(), GCSCOPE_GDB_DIR=os.path.join(gdbutil.REPO, "gdb"))
    if interp.root != "/":
        env["GCSCOPE_SYSROOT"] = interp.root
    try:
        # EXE from the core itself (NT_PRPSINFO)
        r = subprocess.run([gcscope_bin, "core", core], capture_output=True, text=True, env=env,
                           timeout=300, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(core)
    assert r.returncode == 0, r.stderr[-2000:]
    # nothing of gdb's that a user cannot act on: a chroot's core names
    # files gdb cannot map, and a libthread_db it must not load
    noises = ["file-backed mapping", "auto-load", "[New LWP"]
    if interp.root != "/":
        noises.append("libthread_db")	# the host's says it is used, which is fine
    for noise in noises:
        assert noise not in r.stdout + r.stderr, r.stdout + r.stderr
    for section in ("py-gc-status", "py-gc-census all", "py-gc-collecting", "py-gc-garbage", "py-gc-types"):
        assert "== %s ==" % section in r.stdout
    assert "phase: computing reachability (tp_traverse)" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
