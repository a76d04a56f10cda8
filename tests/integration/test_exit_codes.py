# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""docs/exit-codes.md, user/common.h and `gcscope --help` list the same
codes, and each documented code has a test that makes a real gcscope exit
with it (issue 11)."""
import ast
import os
import re

import pytest

from harness import run

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)

# code: the test that asserts it, on a real process, core or file
TESTED_BY = {
    0: ("integration/test_trace.py", "test_counts_match_target"),
    1: ("gdb/test_gdb_errors.py", "test_gcscope_exit_codes"),
    2: ("integration/test_errors.py", "test_usage_errors"),
    3: ("integration/test_errors.py", "test_zombie"),
    4: ("integration/test_errors.py", "test_not_python"),
    5: ("integration/test_errors.py", "test_no_usable_probe"),
    6: ("integration/test_errors.py", "test_maps_denied_to_namespaced_root"),
    7: ("integration/test_errors.py", "test_old_cpython_attach"),
    8: ("gdb/test_gdb_errors.py", "test_gcscope_core_not_a_core"),
    9: ("gdb/test_gdb_errors.py", "test_gcscope_core_codes_on_a_real_core"),
    10: ("integration/test_agent.py", "test_listen_in_use"),
}


def documented():
    with open(os.path.join(REPO, "docs", "exit-codes.md")) as f:
        return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| ([^|]+?) \|", f.read(), re.M)}


def enum():
    with open(os.path.join(REPO, "user", "common.h")) as f:
        text = f.read()
    body = text[text.index("enum gcscope_exit"):]
    body = body[:body.index("};")]
    return {int(v): n for n, v in re.findall(r"(EXIT_\w+) = (\d+)", body)}


def test_doc_enum_help_agree(gcscope):
    doc, codes = documented(), enum()
    assert sorted(doc) == sorted(codes) == list(range(len(doc))), (doc, codes)
    r = run(gcscope, "--help")
    assert r.returncode == 0
    helptext = " ".join(r.stdout.split())
    for code, name in doc.items():
        assert "%d %s" % (code, name) in helptext, (code, name, helptext)


@pytest.mark.parametrize("code", sorted(TESTED_BY))
def test_each_code_has_a_test(code):
    assert code in documented()
    path, func = TESTED_BY[code]
    with open(os.path.join(TESTS, path)) as f:
        src = f.read()
    tree = ast.parse(src)
    fn = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func]
    assert fn, "%s has no %s" % (path, func)
    body = ast.get_source_segment(src, fn[0])
    consts = {}
    for n, v in re.findall(r"^((?:EXIT_\w+, )*EXIT_\w+) = ([\d, ]+)$", src, re.M):
        consts.update(zip([x.strip() for x in n.split(",")], [int(x) for x in v.split(",")]))
    said = [c for c, val in consts.items() if val == code and c in body]
    if code == 0:       # harness.trace_running() asserts gcscope's returncode == 0
        said += ["trace_running"] if "trace_workload" in body else []
    assert said or re.search(r"(returncode|rc\(.*\)) == %d\b" % code, body), \
        "%s::%s does not assert exit code %d" % (path, func, code)
