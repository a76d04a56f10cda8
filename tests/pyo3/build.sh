#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# usage: tests/pyo3/build.sh PYTHON [ROOT]
#
# Build tests/pyo3 (the pyo3t extension: PyO3 0.17 classes, src/lib.rs) for
# the interpreter PYTHON (a path inside ROOT, default /; a chroot made by
# tests/targets/chroot.sh otherwise) and print the directory holding
# pyo3t<EXT_SUFFIX>, to put on sys.path.  Used by
# tests/integration/test_pyo3.py.
#
# PyO3 comes from Debian: librust-pyo3-dev (0.17.3 on bookworm), installed
# here through tests/deps.sh, and cargo builds OFFLINE against
# /usr/share/cargo/registry (directory source replacement, in a CARGO_HOME
# this script writes): nothing is fetched.  cargo is the machine's (PATH,
# then rustup's ~/.cargo/bin) when it has one, else Debian's cargo package.
#
# Cached: ${GCSCOPE_CACHE:-~/.cache/gcscope}/pyo3/<version>/ (the
# interpreter's version and ABI flags, e.g. 3.11.2d, plus the root for a
# chroot interpreter), rebuilt only when this script or the crate's source
# changes.  One cargo target directory is shared by all versions, so the
# dependencies that do not depend on the interpreter (syn, libc...) are
# compiled once.  Builds are serialised by a lock.
#
# Exit 0 and the directory on stdout; otherwise exit 1 and one line on
# stderr saying why (the cargo log's tail before it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${1:?usage: build.sh PYTHON [ROOT]}
root=${2:-/}
registry=/usr/share/cargo/registry

die() { echo "build.sh: $*" >&2; exit 1; }

"$here/../deps.sh" librust-pyo3-dev || die "cannot install librust-pyo3-dev"
[ -d "$registry/pyo3-0.17.3" ] || die "no pyo3 0.17.3 in $registry (librust-pyo3-dev $(dpkg-query -W -f='${Version}' librust-pyo3-dev 2>/dev/null))"

# Run the interpreter, inside its root if it has one.
run_py() {
	if [ "$root" = / ]; then "$python" "$@"; else chroot "$root" "$python" "$@"; fi
}
tag=$(run_py -c 'import sys, sysconfig
print("%d.%d.%d%s" % (sys.version_info[:3] + (sys.abiflags,)))') || die "$python does not run"
ext_suffix=$(run_py -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
[ "$root" = / ] || tag="$tag-$(basename "$root")"

cache=${GCSCOPE_CACHE:-$HOME/.cache/gcscope}/pyo3
out=$cache/$tag
stamp=$(cat "$0" "$here/Cargo.toml" "$here/src/lib.rs" | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/pyo3t$ext_suffix" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$cache"

exec 9>"$cache/lock"
flock 9
# another build may have made it while we waited
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/pyo3t$ext_suffix" ]; then
	echo "$out"
	exit 0
fi

cargo=$(command -v cargo || true)
for c in "$HOME/.cargo/bin/cargo" /root/.cargo/bin/cargo; do
	[ -n "$cargo" ] || { [ -x "$c" ] && cargo=$c; } || true
done
if [ -z "$cargo" ]; then
	"$here/../deps.sh" cargo || die "no cargo, and cannot install Debian's cargo"
	cargo=/usr/bin/cargo
fi

# Offline, against Debian's registry only.
home=$cache/cargo-home
mkdir -p "$home"
# config.toml: read by every cargo since 1.39 (rustup's 1.95, Debian's
# 0.66 is cargo 1.65)
rm -f "$home/config"
cat >"$home/config.toml" <<EOF
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "$registry"
[net]
offline = true
EOF

# The crate is copied out: cargo writes Cargo.lock beside its manifest.
rm -rf "$out"
mkdir -p "$out/src"
cp "$here/Cargo.toml" "$out/"
cp "$here/src/lib.rs" "$out/src/"

# pyo3-build-config asks PYO3_PYTHON for its sysconfig (version, Py_DEBUG,
# ...): a chroot interpreter is reached through a wrapper.  An extension
# module links no libpython, so nothing else of the root is needed.
pyo3_python=$python
if [ "$root" != / ]; then
	pyo3_python=$out/python
	printf '#!/bin/sh\nexec chroot %q %q "$@"\n' "$root" "$python" >"$pyo3_python"
	chmod +x "$pyo3_python"
fi

log=$out/cargo.log
# RUSTFLAGS would rebuild everything per version if it changed: keep none
if ! env -u RUSTFLAGS CARGO_HOME="$home" CARGO_TARGET_DIR="$cache/target" PYO3_PYTHON="$pyo3_python" \
	"$cargo" build --offline --manifest-path "$out/Cargo.toml" >"$log" 2>&1; then
	tail -n 25 "$log" >&2
	die "cargo ($("$cargo" --version 2>/dev/null)) failed for $python${root#/}: see $log"
fi
cp "$cache/target/debug/libpyo3t.so" "$out/pyo3t$ext_suffix"
# it must import (a chroot's interpreter sees only its root: check a copy there)
check=$out
[ "$root" = / ] || { check=$(mktemp -d "$root/tmp/pyo3t-check.XXXXXX"); cp "$out/pyo3t$ext_suffix" "$check/"; }
ok=1
run_py -c 'import sys; sys.path.insert(0, sys.argv[1]); import pyo3t; pyo3t.Holder(); pyo3t.Counted()' \
	"${check#"${root%/}"}" 2>"$out/import.log" || ok=0
[ "$root" = / ] || rm -rf "$check"
[ $ok = 1 ] || { tail -n 5 "$out/import.log" >&2; die "pyo3t built but does not import in $python${root#/}"; }
echo "$stamp" >"$out/stamp"
echo "$out"
