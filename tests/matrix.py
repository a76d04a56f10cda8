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


def _chroot(suite):
    """Path of the suite's chroot, building it once; or raise with the reason."""
    r = subprocess.run([os.path.join(TARGETS, "chroot.sh"), suite],
                       capture_output=True, text=True, timeout=3000)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip()
                           else f"chroot.sh {suite} failed")
    return r.stdout.strip()


def _freethreaded(ver):
    """ft-3.Nt built by freethreaded.sh (once), or listed with why it is missing."""
    name = f"ft-{ver}"
    if os.environ.get("GCSCOPE_NO_FREETHREADED"):
        return Interp(name, missing="GCSCOPE_NO_FREETHREADED is set")
    try:
        r = subprocess.run([os.path.join(TARGETS, "freethreaded.sh"), ver],
                           capture_output=True, text=True, timeout=3000)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Interp(name, missing=f"freethreaded.sh {ver}: {e}")
    if r.returncode != 0:
        err = r.stderr.strip().splitlines()
        return Interp(name, missing=err[-1] if err else f"freethreaded.sh {ver} failed")
    return Interp(name, path=r.stdout.strip().splitlines()[-1], dwarf=True,
                  tags={"freethreaded"})


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

    for suite, minors in (("trixie", (13,)), ("sid", (14, 15))):
        if os.environ.get("GCSCOPE_NO_CHROOTS"):
            reason = "GCSCOPE_NO_CHROOTS is set"
            root = None
        else:
            try:
                root, reason = _chroot(suite), ""
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                root, reason = None, f"no {suite} chroot: {e}"
        for minor in minors:
            for debug in (False, True):
                name = f"{suite}-3.{minor}" + ("d" if debug else "")
                if root is None:
                    out.append(Interp(name, missing=reason))
                    continue
                i = _debian(name, f"/usr/bin/python3.{minor}" + ("d" if debug else ""), root=root, debug=debug)
                i.tags.add("chroot")
                out.append(i)

    for ver in ("3.13t", "3.14t", "3.15t"):
        out.append(_freethreaded(ver))

    for i in out:
        if not i.missing:
            i.version = _version(i)
            if not i.version:
                i.missing = f"{i.host_path} does not run"
    return out
