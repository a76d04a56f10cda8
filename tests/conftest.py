# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""pytest glue: parametrize tests over the interpreter matrix (tests/matrix.py)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402

GCSCOPE = os.environ.get("GCSCOPE", os.path.join(matrix.REPO, ".output", "gcscope"))


def pytest_generate_tests(metafunc):
    if "interp" in metafunc.fixturenames:
        interps = matrix.interpreters()
        metafunc.parametrize("interp", interps, ids=[i.name for i in interps], indirect=True)


@pytest.fixture
def interp(request):
    i = request.param
    if i.missing:
        pytest.skip(f"{i.name}: {i.missing}")
    return i


@pytest.fixture(scope="session")
def gcscope():
    if not os.access(GCSCOPE, os.X_OK):
        pytest.fail(f"{GCSCOPE} is not built: run make")
    return GCSCOPE
