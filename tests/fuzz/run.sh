#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# run.sh BINDIR SECONDS NAME...: fuzz each harness for SECONDS, one at a
# time, starting from the seed corpus.  New inputs go to BINDIR/corpus/NAME
# (not the repository: copy the few worth keeping into tests/fuzz/corpus),
# crashes to BINDIR/crashes/NAME (add each to tests/fuzz/crashes/NAME once
# fixed).  Prints one line per harness: executions, and clean or not.
set -uo pipefail
cd "$(dirname "$0")/../.."
bindir=$1 secs=$2
shift 2
status=0
summary=()
for name in "$@"; do
	work=$bindir/corpus/$name art=$bindir/crashes/$name
	mkdir -p "$work" "$art"
	log=$bindir/fuzz_$name.log
	echo "fuzz: $name for ${secs}s (log: $log)"
	"$bindir/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		summary+=("$name: ${execs:-?} runs in ${secs}s, clean")
	else
		status=1
		summary+=("$name: FAILED after ${execs:-?} runs: $(ls -t "$art" | head -1) (see $log)")
		grep -E 'ERROR|runtime error|oracle failed|SUMMARY' "$log" | head -5
	fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $status
