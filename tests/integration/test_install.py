# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""make install PREFIX=...: the binary, and the gdb scripts finding the
installed layout table (not the source tree's).

The rest of the integration tests run the sanitized build (make test); here
the installed release build (-O2, no sanitizers) traces real targets too."""
import os
import subprocess

import pytest

import matrix
from harness import trace_target
from test_objects import findings, needs_objects
from test_trace import check_against_target


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("install") / "prefix"
    r = subprocess.run(["make", "-s", "-C", matrix.REPO, "install", f"PREFIX={prefix}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return prefix


def test_installed_build_traces(prefix, interp, tmp_path):
    """Counts equal the target's own, and cycles made on the main thread and
    collected on a worker are findings with the collecting thread's stack."""
    gcscope = str(prefix / "bin" / "gcscope")
    attach, report, records = trace_target(gcscope, interp, tmp_path, "gc_workload.py", (3, 2))
    check_against_target(report, records)
    needs_objects(interp)
    attach, report, records = trace_target(gcscope, interp, tmp_path, "owners_program.py", ("worker", 50),
                                           ("--owners", "Widget", "--stack"))
    f = findings(records)
    assert len(f) == report["widgets"] == 100
    assert {(r["owner_tid"], r["tid"]) for r in f} == {(report["main_tid"], report["collector_tid"])}
    assert all(r["stack"][0]["file"].endswith("owners_program.py") for r in f)


def test_make_install(prefix, tmp_path):
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
