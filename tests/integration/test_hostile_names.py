# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Names from the target never reach a terminal raw, and JSON stays valid.

tests/programs/hostile_names.py names its thread with terminal escapes and
makes a class whose name holds escapes, a C1 control, a newline and 300
quotes.  gcscope's text output (trace --types, doctor) must hold no control
character a terminal would act on, and its JSON Lines must parse, with the
file names of --stack frames whole however long they escape to."""
import json
import re
import subprocess

from harness import Gcscope, Target, run
from test_objects import needs_objects

# C0 but tab and newline, DEL, C1 raw and as UTF-8
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]|\xc2[\x80-\x9f]")


# a script path of some 900 characters (gcscope reads 1024 of a name),
# 600 of them quotes and backslashes: 1500 bytes escaped in JSON, more than
# gcscope's buffers once held
DEEP = "/".join(['q"' * 50 + "\\" * 100] * 4)


def trace(gcscope, interp, tmp_path, *args):
    target = Target(interp, tmp_path, "hostile_names.py", subdir=DEEP)
    g = subprocess.Popen([gcscope, "trace", "-p", str(target.pid), "--types", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = g.stdout.readline()
        assert first, g.stderr.read()
        if "-j" not in args:
            first += g.stdout.readline()      # the column titles
        target.go()
        report = json.loads(target.proc.stdout.readline())
        # gcscope reads the names from the target when it shows the
        # collection: the target stays until then
        while b"Evil" not in first.splitlines()[-1]:
            line = g.stdout.readline()
            assert line, g.stderr.read()
            first += line
        # doctor while the thread has its new name
        d = run(gcscope, "doctor", "-p", target.pid)
        target.proc.stdin.write("exit\n")
        target.proc.stdin.flush()
        target.proc.wait(timeout=60)
        out, err = g.communicate(timeout=120)
    finally:
        target.kill()
        if g.poll() is None:
            g.kill()
    assert g.returncode == 0, err
    return report, first + out, err, d


def test_text_has_no_escapes(gcscope, interp, tmp_path):
    needs_objects(interp)
    report, out, err, d = trace(gcscope, interp, tmp_path)
    assert report["collected"] in (report["instances"], 2 * report["instances"])
    for name, data in (("trace stdout", out), ("trace stderr", err),
                       ("doctor stdout", d.stdout.encode()), ("doctor stderr", d.stderr.encode())):
        m = CONTROL.search(data)
        assert not m, f"{name} holds {m.group()!r}: {data[max(0, m.start() - 60):m.end() + 20]!r}"
    assert d.returncode == 0, d.stderr
    text = out.decode()
    # the collection line names the thread, cleaned; the type is listed
    line = [l for l in text.splitlines() if re.match(rf"\d\d:\S+ +{report['tid']} ", l) and " 2 " in l]
    assert line and "?]0;pwn?" in line[-1], text
    assert "Evil?[31m?2J?" in text, text


def test_json_keeps_names_whole(gcscope, interp, tmp_path):
    needs_objects(interp)
    report, out, err, _ = trace(gcscope, interp, tmp_path, "-j", "--stack")
    records = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    colls = [r for r in records if r["type"] == "collection" and r["tid"] == report["tid"]
             and r["gen"] == 2]
    assert colls, records
    names = {n for r in colls for n in r["types"]}
    # BPF reads GCSCOPE_TYPE_NAME_LEN - 1 bytes of a name, gcscope 127:
    # either way a prefix of the real name, control characters made '?'
    want = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", report["type_name"])
    evil = [n for n in names if n.startswith("Evil")]
    assert len(evil) == 1 and want.startswith(evil[0]) and len(evil[0]) >= 90, names
    assert sum(r["types"].get(evil[0], 0) for r in colls) == report["instances"]
    assert sum(sum(r["types"].values()) for r in colls if r["types"].get(evil[0])) == report["collected"]
    # the stack's file: the script's whole path, as the target has it
    files = {f["file"] for r in colls for f in r["stack"]}
    assert files == {report["script"]}, files
    assert 800 < len(report["script"]) <= 1024
