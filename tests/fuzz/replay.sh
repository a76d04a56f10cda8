#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# replay.sh BINDIR NAME...: every file of tests/fuzz/corpus/NAME and
# tests/fuzz/crashes/NAME once through BINDIR/fuzz_NAME (a libFuzzer binary
# given files runs each once and exits non-zero on the first that fails).
# A harness that fails is run again file by file, to name the culprits.
set -uo pipefail
cd "$(dirname "$0")/../.."
bindir=$1
shift
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for name in "$@"; do
	bin=$bindir/fuzz_$name
	files=()
	for d in tests/fuzz/corpus/$name tests/fuzz/crashes/$name; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f ! -name '.*' -print0 | sort -z)
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "fuzz-replay: $name: no inputs" >&2
		failed=$((failed + 1))
		continue
	fi
	if "$bin" -runs=1 "${files[@]}" >"$log" 2>&1; then
		passed=$((passed + ${#files[@]}))
		continue
	fi
	for f in "${files[@]}"; do
		if "$bin" -runs=1 "$f" >"$log" 2>&1; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "fuzz-replay: $name: FAILED on $f" >&2
			grep -E 'ERROR|runtime error|oracle failed|SUMMARY' "$log" | head -5 >&2
		fi
	done
done
echo "fuzz-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
