# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""make install PREFIX=...: the binary, and the gdb scripts finding the
installed layout table (not the source tree's)."""
import os
import subprocess

import matrix


def test_make_install(tmp_path):
    prefix = tmp_path / "prefix"
    r = subprocess.run(["make", "-s", "-C", matrix.REPO, "install", f"PREFIX={prefix}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    gcscope = prefix / "bin" / "gcscope"
    share = prefix / "share" / "gcscope"
    assert os.access(gcscope, os.X_OK)
    assert (share / "pylayout.tsv").read_text() == open(os.path.join(matrix.REPO, "user", "pylayout.tsv")).read()
    assert (share / "gdb" / "gcscope.py").exists()
    v = subprocess.run([str(gcscope), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("gcscope ")
    # the installed gdb side loads, from a directory that has no source tree
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    g = subprocess.run(["gdb", "--batch", "-nx", "-ex", f"source {share}/gdb/gcscope.py",
                        "-ex", "help py-gc-status",
                        "-ex", "python import os, gcscope_layout as L; print('TABLE', os.path.realpath(L.table_path()))"],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert g.returncode == 0, g.stderr
    assert "collection" in g.stdout.lower(), g.stdout
    assert f"TABLE {os.path.realpath(share / 'pylayout.tsv')}" in g.stdout, g.stdout
