# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""gcscope trace against real interpreters: its numbers equal the target's own.

Every collection the target saw through gc.callbacks (thread, generation,
collected, uncollectable) must be reported by gcscope, in the same order, and
the per-generation totals must equal the target's gc.get_stats() deltas.
"""
import pytest

from harness import collections_of, trace_target, traced_collections


def trace_workload(gcscope, interp, tmp_path, *extra, rounds=3, threads=2):
    return trace_target(gcscope, interp, tmp_path, "gc_workload.py", (rounds, threads), extra)


def find_run(got, expected):
    """Index where expected stands in got as a contiguous run, or -1."""
    for i in range(len(got) - len(expected) + 1):
        if got[i:i + len(expected)] == expected:
            return i
    return -1


def check_against_target(report, records):
    expected = collections_of(report)
    colls = [r for r in records if r["type"] == "collection"]
    got = traced_collections(colls)
    # The target's account starts when it installs its callback and ends when
    # it removes it; interpreter start-up and shutdown collect too.
    start = find_run(got, expected)
    assert start >= 0, f"target saw {expected}\ngcscope saw {got}"
    mine = colls[start:start + len(expected)]

    # Threads: the main thread and each worker collected, with their tids.
    tids = {r[0] for r in expected}
    assert set(report["worker_tids"]) | {report["main_tid"]} == tids

    summary = [r for r in records if r["type"] == "summary"]
    assert len(summary) == 1
    summary = summary[0]
    assert summary["lost"] == 0
    assert summary["end"] == "target exited"
    # Per generation, the target's gc.get_stats() deltas equal gcscope's
    # collections over the same span.
    for gen in range(3):
        before, after = report["before"][gen], report["after"][gen]
        in_gen = [r for r in mine if r["gen"] == gen]
        assert after["collections"] - before["collections"] == len(in_gen), gen
        assert after["collected"] - before["collected"] == sum(r["collected"] for r in in_gen), gen
        assert after["uncollectable"] - before["uncollectable"] == sum(r["uncollectable"] for r in in_gen)
        # 3.15 publishes more of each collection (GH-146527): gc.get_stats()
        # has candidates, and gcscope reads them from the same records.
        if "candidates" in after:
            assert after["candidates"] - before["candidates"] == sum(r["candidates"] for r in in_gen), gen
            assert all(r["heap_size"] >= 0 for r in in_gen), gen
        else:
            assert all(r["candidates"] is None and r["heap_size"] is None for r in mine)
    # The threads table counts at least each thread's collections.
    by_tid = {t["tid"]: t["count"] for t in summary["threads"]}
    for tid in tids:
        assert by_tid[tid] >= sum(1 for r in expected if r[0] == tid)
    # And the summary adds up to the collection lines.
    assert sum(g["count"] for g in summary["generations"]) == len(colls)


def test_counts_match_target(gcscope, interp, tmp_path):
    attach, report, records = trace_workload(gcscope, interp, tmp_path)
    assert attach["probe"] == ("usdt" if interp.usdt else "uprobe")
    assert attach["python"] == ".".join(map(str, interp.version))
    assert attach["counts"] is True
    if interp.root != "/":
        assert attach["root"] == interp.root
    check_against_target(report, records)


def test_counts_without_debuginfo(gcscope, interp, tmp_path):
    """Only the built-in table and _Py_DebugOffsets (3.13+): stripped release
    builds without their -dbg package are traced like this."""
    if not interp.usdt:
        pytest.skip(f"{interp.name}: without debug info a build with no USDT probes has no probe "
                    "(covered by test_errors.py::test_no_usable_probe)")
    attach, report, records = trace_workload(gcscope, interp, tmp_path, "--no-debuginfo")
    assert attach["probe"] == "usdt"
    check_against_target(report, records)


def test_free_threaded_without_debuginfo(gcscope, interp, tmp_path):
    """A free-threaded build without its DWARF: the table's GIL offsets are not
    used, so collections are seen (uprobe through .symtab) but their counts
    are unknown: null, never 0, and the attach record says so."""
    if "freethreaded" not in interp.tags:
        pytest.skip(f"{interp.name}: not a free-threaded build (test_counts_without_debuginfo covers GIL builds)")
    attach, report, records = trace_workload(gcscope, interp, tmp_path, "--no-debuginfo")
    assert attach["probe"] == "uprobe" and attach["counts"] is False
    colls = [r for r in records if r["type"] == "collection"]
    assert len(colls) >= len(collections_of(report))
    assert all(r["collected"] is None and r["uncollectable"] is None for r in colls)
    s = [r for r in records if r["type"] == "summary"][0]
    for g in s["generations"]:
        if g["count"]:
            assert g["collected"] is None and g["uncollectable"] is None, g
    tids = {r[0] for r in collections_of(report)}
    assert tids <= {r["tid"] for r in colls}


def test_uprobe_where_usdt_exists(gcscope, interp, tmp_path):
    """--probe uprobe on a USDT build: the collector symbol found through the
    separate debug file (Debian -dbg packages) or the binary's own .symtab."""
    if not interp.usdt:
        pytest.skip(f"{interp.name}: has no USDT probes, test_counts_match_target already uses uprobes")
    attach, report, records = trace_workload(gcscope, interp, tmp_path, "--probe", "uprobe")
    assert attach["probe"] == "uprobe"
    assert "gc_collect_main" in attach["probe_detail"]
    check_against_target(report, records)
