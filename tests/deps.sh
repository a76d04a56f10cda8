#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# Install the Debian packages given as arguments, if any are missing.
# Used by `make deps` (build), `make demo` and `make test` (build + tests).
#
# Tests run in parallel and several may need packages at once; apt-get fails
# at once on a lock another apt-get holds ("Could not get lock"), which made
# a test fail on a fresh machine.  So installers here take turns (flock), and
# wait up to 10 minutes for any other apt or dpkg (DPkg::Lock::Timeout).
set -euo pipefail

missing() {
	missing=()
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
}
missing "$@"
[ ${#missing[@]} -eq 0 ] && exit 0
exec 8>"${TMPDIR:-/tmp}/gcscope-deps.lock"
flock 8
missing "$@"	# another may have installed them while we waited
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "deps.sh: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
wait_lock=(-o DPkg::Lock::Timeout=600)
"${sudo[@]}" apt-get "${wait_lock[@]}" update -qq >&2
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${wait_lock[@]}" install -y -qq "${missing[@]}" >&2
