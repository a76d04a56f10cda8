# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Build a test C extension (tests/ext/NAME.c) for one interpreter of the matrix.

Host gcc against the interpreter's own headers: sysconfig's include and
platinclude paths, translated to host paths for chroot interpreters (their
-dev / -dbg packages come from tests/targets/chroot.sh).  Debian's
/usr/include/python3.X/pyconfig.h includes <x86_64-linux-gnu/python3.X/...>,
so the chroot's /usr/include is searched *after* the host's own headers.
"""
import os
import subprocess

EXT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ext")


class BuildError(Exception):
    pass


def config(interp):
    code = ("import sysconfig as s; p = s.get_paths(); "
            "print(p['include']); print(p['platinclude']); print(s.get_config_var('EXT_SUFFIX'))")
    r = subprocess.run(interp.argv("-c", code), capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise BuildError("sysconfig of %s failed: %s" % (interp.name, r.stderr.strip()[-300:]))
    inc, platinc, suffix = r.stdout.split("\n")[:3]
    return inc, platinc, suffix


def host(interp, path):
    return path if interp.root == "/" else os.path.join(interp.root, path.lstrip("/"))


def build(interp, name, outdir):
    """Compile tests/ext/NAME.c into OUTDIR/NAME<EXT_SUFFIX>; return that host path."""
    inc, platinc, suffix = config(interp)
    if not os.path.exists(os.path.join(host(interp, inc), "Python.h")):
        raise BuildError("%s: no Python.h in %s (install the -dev package)" % (interp.name, host(interp, inc)))
    out = os.path.join(outdir, name + suffix)
    argv = ["gcc", "-shared", "-fPIC", "-O0", "-g", "-Wall", "-Wextra", "-Werror",
            "-Wno-missing-field-initializers", "-I", host(interp, inc), "-I", host(interp, platinc)]
    if interp.root != "/":
        argv += ["-idirafter", os.path.join(interp.root, "usr/include")]
    argv += [os.path.join(EXT_DIR, name + ".c"), "-o", out, "-pthread"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise BuildError("gcc for %s failed: %s" % (interp.name, r.stderr.strip()[-1500:]))
    return out
