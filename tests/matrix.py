# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""The interpreter matrix every integration test runs on.

One entry per interpreter build we test against (DEVELOPERS.md, issue 2):
  - Debian python3.11 (stripped release build with USDT probes) and python3.11d;
  - pyenv builds 3.9 to 3.13 under $(pyenv root)/versions when present
    (-O3 -g: DWARF and .symtab, no USDT);
  - Debian trixie python3.13/python3.13d and sid python3.14/python3.14d and
    python3.15/python3.15d, each
    run inside a chroot made by tests/targets/chroot.sh (debootstrap, cached
    outside the repo).  Their processes are only reachable through
    /proc/PID/root, as in a container;
  - free-threaded builds ft-3.13t, ft-3.14t and ft-3.15t (--disable-gil, -O2
    -g: DWARF and .symtab, no USDT), built on the host from Debian's source
    packages python3.13/3.14/3.15 by tests/targets/freethreaded.sh (cached
    outside the repo); tag "freethreaded".

An interpreter that cannot be had is still listed, with the reason it is
missing, so that every test skips it by name and says why.
"""
import functools
import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(REPO, "tests", "targets")


@dataclass
class Interp:
    name: str                 # stable test id, e.g. "pyenv-3.12.1"
    path: str = ""            # interpreter path as seen *inside* root
    root: str = "/"           # "/" or the chroot directory
    debug: bool = False       # Py_DEBUG build (python3.Xd)
    usdt: bool = False        # has python:gc__start/gc__done notes
    dwarf: bool = False       # debug info is available for it
    missing: str = ""         # why it cannot be had (then the rest is empty)
    version: tuple = ()       # (major, minor, micro), read from the interpreter
    tags: set = field(default_factory=set)

    @property
    def host_path(self):
        """The interpreter's path in our own mount namespace."""
        if self.root == "/":
            return self.path
        return os.path.join(self.root, self.path.lstrip("/"))

    def argv(self, *args):
        """argv that runs this interpreter (inside its chroot if it has one)."""
        if self.root == "/":
            return [self.path, *args]
        return ["chroot", self.root, self.path, *args]

    def inside(self, host_path):
        """Translate a host path under root to the path the target sees."""
        if self.root == "/":
            return host_path
        rel = os.path.relpath(host_path, self.root)
        assert not rel.startswith(".."), f"{host_path} is not inside {self.root}"
        return "/" + rel

    def scratch_dir(self, tmp_path):
        """A fresh directory visible to the target (inside its chroot)."""
        if self.root == "/":
            return str(tmp_path)
        d = os.path.join(self.root, "tmp", "gcscope-test-" + os.urandom(4).hex())
        os.makedirs(d)
        return d


def _has_usdt(path):
    try:
        out = subprocess.run(["readelf", "-n", path], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "gc__start" in out and "gc__done" in out


def _version(interp):
    out = subprocess.run(interp.argv("-c", "import sys; print(*sys.version_info[:3])"),
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return ()
    return tuple(int(x) for x in out.stdout.split())


def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        root = r.stdout.strip()
    return root or os.path.expanduser("~/.pyenv")


class _Builder:
    """A target script (chroot.sh, freethreaded.sh) started now and waited for
    later: on a fresh machine the trixie and sid debootstraps and the
    free-threaded build (which waits for sid's chroot under its lock, then
    compiles while trixie is still installing) overlap instead of running one
    after the other (minutes of `make test`)."""

    def __init__(self, *argv):
        self.what = " ".join(os.path.basename(a) for a in argv[:2])
        try:
            self.proc = subprocess.Popen([os.path.join(TARGETS, argv[0]), *argv[1:]],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.error = ""
        except OSError as e:
            self.proc, self.error = None, f"{self.what}: {e}"

    def result(self):
        """(stdout's last line, "") or ("", why it failed)."""
        if self.proc is None:
            return "", self.error
        try:
            out, err = self.proc.communicate(timeout=3000)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            return "", f"{self.what}: no result after 3000 s"
        if self.proc.returncode != 0:
            err = err.strip().splitlines()
            return "", err[-1] if err else f"{self.what} failed"
        lines = out.strip().splitlines()
        return (lines[-1], "") if lines else ("", f"{self.what} printed no path")


def chroot(suite):
    """(path of the suite's chroot, "") building it once, or ("", why not)."""
    return _Builder("chroot.sh", suite).result()


def _freethreaded(ver, builder):
    """ft-3.Nt built by freethreaded.sh (once), or listed with why it is missing."""
    name = f"ft-{ver}"
    if builder is None:
        return Interp(name, missing="GCSCOPE_NO_FREETHREADED is set")
    path, why = builder.result()
    if why:
        return Interp(name, missing=why)
    return Interp(name, path=path, dwarf=True, tags={"freethreaded"})


def _debian(name, path, root="/", debug=False):
    host = path if root == "/" else os.path.join(root, path.lstrip("/"))
    if not os.path.exists(host):
        return Interp(name, missing=f"{host} is not installed")
    i = Interp(name, path=path, root=root, debug=debug)
    i.usdt = _has_usdt(host)
    # Debian's -dbg package carries the debug info of both the release and the
    # debug interpreter, found by build-id under /usr/lib/debug/.build-id.
    i.dwarf = debug or bool(glob.glob(os.path.join(root, "usr/lib/debug/.build-id/*/*.debug")))
    i.tags = {"debian"}
    return i


@functools.lru_cache(maxsize=None)
def interpreters():
    """All interpreters of the matrix, in a stable order."""
    out = [_debian("debian-3.11", "/usr/bin/python3.11"),
           _debian("debian-3.11d", "/usr/bin/python3.11d", debug=True)]

    proot = pyenv_root()
    for minor in range(9, 14):
        found = sorted(glob.glob(os.path.join(proot, "versions", f"3.{minor}.*", "bin", f"python3.{minor}")))
        found = [p for p in found if re.search(rf"/3\.{minor}\.\d+/bin/", p)]
        if not found:
            out.append(Interp(f"pyenv-3.{minor}", missing=f"no pyenv build of 3.{minor} under {proot}/versions"))
            continue
        p = found[-1]
        ver = p.split("/versions/")[1].split("/")[0]
        out.append(Interp(f"pyenv-{ver}", path=p, dwarf=True, tags={"pyenv"}))

    suites = (("trixie", (13,)), ("sid", (14, 15)))
    ft_versions = ("3.13t", "3.14t", "3.15t")
    chroots = {} if os.environ.get("GCSCOPE_NO_CHROOTS") else \
        {suite: _Builder("chroot.sh", suite) for suite, _ in suites}
    ft = {} if os.environ.get("GCSCOPE_NO_FREETHREADED") else \
        {ver: _Builder("freethreaded.sh", ver) for ver in ft_versions}
    for suite, minors in suites:
        if suite not in chroots:
            root, reason = None, "GCSCOPE_NO_CHROOTS is set"
        else:
            root, reason = chroots[suite].result()
            root, reason = (root or None), (f"no {suite} chroot: {reason}" if reason else "")
        for minor in minors:
            for debug in (False, True):
                name = f"{suite}-3.{minor}" + ("d" if debug else "")
                if root is None:
                    out.append(Interp(name, missing=reason))
                    continue
                i = _debian(name, f"/usr/bin/python3.{minor}" + ("d" if debug else ""), root=root, debug=debug)
                i.tags.add("chroot")
                out.append(i)

    for ver in ft_versions:
        out.append(_freethreaded(ver, ft.get(ver)))

    for i in out:
        if not i.missing:
            i.version = _version(i)
            if not i.version:
                i.missing = f"{i.host_path} does not run"
    return out
