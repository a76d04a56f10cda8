# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Help and the man page (issue 7, item 7).

Every command answers -h, -? and --help (and --usage) on stdout with exit 0,
its output ends with a newline and has no line of 80 columns or more, and
its EXAMPLES are not wrapped.  docs/gcscope.1 names every option that any
--help lists and every exit code of docs/exit-codes.md, renders without a
groff warning, and `make install` puts it where man(1) finds it.
"""
import os
import re
import subprocess

import pytest

import matrix
from harness import run

MAN = os.path.join(matrix.REPO, "docs", "gcscope.1")
COMMANDS = [[], ["trace"], ["doctor"], ["stats"], ["gdb"], ["core"]]
IDS = ["gcscope", "trace", "doctor", "stats", "gdb", "core"]


def rendered_man(width=80):
    r = subprocess.run(["man", "-l", MAN], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "MANWIDTH": str(width), "MAN_KEEP_FORMATTING": "",
                            "MANPAGER": "cat", "PAGER": "cat"})
    assert r.returncode == 0, r.stderr
    # no bold/underline overstrikes
    return re.sub(r".\x08", "", r.stdout)


def help_options(text):
    """Options a help text names: -x, -?, --long-name (not Ctrl-C, py-gc-x)."""
    return set(re.findall(r"(?<![\w\-])(-\?|-[A-Za-z](?![\w])|--[a-z][a-z0-9\-]*)", text))


def check_help_output(cmd, r):
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.endswith("\n") and not r.stdout.endswith("\n\n\n")
    for line in r.stdout.splitlines():
        assert len(line) < 80, line


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
@pytest.mark.parametrize("opt", ["-h", "--help", "-?"])
def test_help(gcscope, cmd, opt):
    r = run(gcscope, *cmd, opt)
    check_help_output(cmd, r)
    # EXAMPLES: one example a line, none wrapped into the next
    lines = r.stdout.splitlines()
    if "EXAMPLES:" in lines:
        i = lines.index("EXAMPLES:") + 1
        while i < len(lines) and lines[i]:
            assert re.match(r"\s+(sudo )?gcscope ", lines[i]), f"wrapped: {lines[i]!r}"
            i += 1
    # the same text whichever way it is asked for
    assert r.stdout == run(gcscope, *cmd, "--help").stdout


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_usage(gcscope, cmd):
    r = run(gcscope, *cmd, "--usage")
    check_help_output(cmd, r)
    assert r.stdout.lower().startswith("usage: gcscope")


@pytest.mark.parametrize("cmd", ["trace", "doctor", "stats", "gdb", "core"])
def test_help_command(gcscope, cmd):
    """gcscope help COMMAND is COMMAND --help."""
    r = run(gcscope, "help", cmd)
    check_help_output([cmd], r)
    assert r.stdout == run(gcscope, cmd, "--help").stdout


def test_version(gcscope):
    for opt in ("-V", "--version"):
        r = run(gcscope, opt)
        assert r.returncode == 0 and re.fullmatch(r"gcscope \d+\.\d+\.\d+\n", r.stdout), r
    for cmd in ("trace", "doctor"):
        r = run(gcscope, cmd, "--version")
        assert r.returncode == 0 and r.stdout == run(gcscope, "--version").stdout


def test_no_command_is_usage_error(gcscope):
    r = run(gcscope)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("usage: gcscope")
    r = run(gcscope, "help", "bogus")
    assert r.returncode == 2 and "unknown command 'bogus'" in r.stderr


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_man_names_every_option(gcscope, cmd):
    r = run(gcscope, *cmd, "--help")
    man = rendered_man(width=200)
    opts = help_options(r.stdout)
    assert "-h" in opts or "--help" in opts
    missing = sorted(o for o in opts
                     if not re.search(r"(?<![\w\-])" + re.escape(o) + r"(?![\w\-])", man))
    assert not missing, f"docs/gcscope.1 does not name {missing} (from {' '.join(cmd)} --help)"


def exit_codes():
    """(code, name) rows of docs/exit-codes.md's table."""
    with open(os.path.join(matrix.REPO, "docs", "exit-codes.md")) as f:
        rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|", f.read(), re.M)
    assert len(rows) >= 8
    return [(int(c), n) for c, n in rows]


def test_man_has_every_exit_code():
    man = rendered_man(width=200)
    section = man[man.index("EXIT STATUS"):man.index("ENVIRONMENT")]
    codes = exit_codes()
    for code, name in codes:
        assert re.search(rf"^\s+{code}\s+{re.escape(name)}\b", section, re.M), (code, name)
    # and no code the doc does not have
    listed = {int(c) for c in re.findall(r"^\s{7}(\d+)\s{2,}", section, re.M)}
    assert listed == {c for c, _ in codes}


def test_man_renders_without_warnings():
    r = subprocess.run(["groff", "-man", "-ww", "-z", MAN], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat"})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = re.sub(r".\x08", "", r.stdout)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OUTPUT", "EXIT STATUS",
                    "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section
    for line in text.splitlines():
        assert len(line) <= 80, line


def test_make_install_puts_the_man_page(tmp_path):
    prefix = tmp_path / "prefix"
    r = subprocess.run(["make", "-s", "-C", matrix.REPO, "install", f"PREFIX={prefix}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    page = prefix / "share" / "man" / "man1" / "gcscope.1"
    with open(page) as a, open(MAN) as b:
        assert a.read() == b.read()
    r = subprocess.run(["man", "-M", str(prefix / "share" / "man"), "gcscope"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"})
    assert r.returncode == 0 and "gcscope - watch CPython" in re.sub(r".\x08", "", r.stdout), r.stderr


def test_every_gdb_command_is_named(gcscope):
    """gdb/*.py's py-gc-* commands, in `gcscope gdb --help` and the man page."""
    names = set()
    gdbdir = os.path.join(matrix.REPO, "gdb")
    for f in os.listdir(gdbdir):
        if f.endswith(".py"):
            with open(os.path.join(gdbdir, f)) as src:
                names |= set(re.findall(r'^\s+NAME = "(py-gc-[a-z-]+)"', src.read(), re.M))
    assert len(names) >= 7, names
    help_text = run(gcscope, "gdb", "--help").stdout
    man = rendered_man(width=200)
    for n in sorted(names):
        assert n in help_text, n
        assert re.search(rf"(?<![\w-]){n}(?![\w-])", man), n


def test_gcscope_help_lists_every_exit_code(gcscope):
    text = " ".join(run(gcscope, "--help").stdout.split())
    for code, name in exit_codes():
        assert f"{code} {name}" in text, (code, name)
