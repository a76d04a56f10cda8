#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# Build (or reuse) a free-threaded CPython ("3.Nt", configure --disable-gil)
# from Debian's source package python3.N, for the test matrix.  Debian ships
# no free-threaded interpreter, so this is the only way to have one.
#
# usage: tests/targets/freethreaded.sh 3.13t|3.14t|3.15t
#        prints the interpreter's path (PREFIX/bin/python3.Nt) on stdout
#
# Installed into ${GCSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gcscope}/freethreaded/3.Nt,
# complete only once its ".complete" stamp (holding the source version) exists,
# reused when present, one builder at a time (flock).
#
# Where it is built, and why: on the host (Debian 12, gcc 12), not in the sid
# chroot.  The result then runs on the host like the pyenv builds: gcscope,
# the host's gdb and the tests' C extension (tests/extbuild.py) see it
# directly, and no compiler or build dependencies (hundreds of MB) need adding
# to the sid chroot.  A build inside sid would link against sid's glibc and
# run only inside the chroot.  The sid chroot is used only as the apt client
# that downloads the source package (it holds sid's keyring, which verifies the
# Sources index the files are checked against); dpkg-source unpacks it here.
#
# Kept fast (a fresh 2-core machine runs the whole `make test` in < 60 min):
# -O2 -g (DWARF for gcscope's layout reader), no PGO/LTO, no test modules, and
# the extension modules the tests never import are not built.
set -euo pipefail

ver=${1:?usage: freethreaded.sh 3.13t|3.14t|3.15t}
case "$ver" in
3.13t|3.14t|3.15t) ;;
*) echo "freethreaded.sh: unknown version '$ver': use 3.13t, 3.14t or 3.15t" >&2; exit 2 ;;
esac
minor=${ver%t}
src_pkg=python$minor
here=$(cd "$(dirname "$0")" && pwd)
cache=${GCSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gcscope}
prefix="$cache/freethreaded/$ver"
work="$cache/freethreaded/.build-$ver"
log="$cache/freethreaded/$ver.log"
jobs=${GCSCOPE_JOBS:-2}

if [ -e "$prefix/.complete" ] && [ -x "$prefix/bin/python$ver" ]; then
	echo "$prefix/bin/python$ver"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "freethreaded.sh: building $ver needs root (the sid chroot downloads the source)" >&2
	exit 77
fi

mkdir -p "$cache/freethreaded"
exec 9>"$cache/freethreaded/.$ver.lock"
flock 9
if [ -e "$prefix/.complete" ] && [ -x "$prefix/bin/python$ver" ]; then
	echo "$prefix/bin/python$ver"
	exit 0
fi

# Build dependencies of the modules the tests use (ctypes needs libffi).
"$here/../deps.sh" gcc make libffi-dev zlib1g-dev dpkg-dev xz-utils >&2

sid=$("$here/chroot.sh" sid) || { echo "freethreaded.sh: no sid chroot to download $src_pkg's source with" >&2; exit 1; }

# A private deb-src list inside the chroot, so its own apt setup is untouched.
# Its lists directory is shared by the three versions, whose builds may run at
# once (tests/matrix.py starts them together): apt is held under its own lock
# until the source is downloaded.
exec 8>"$cache/freethreaded/.apt.lock"
flock 8
srcdir=/var/lib/gcscope-src
mkdir -p "$sid$srcdir/lists/partial" "$sid$srcdir/dl-$ver"
echo "deb-src ${GCSCOPE_MIRROR:-http://deb.debian.org/debian} sid main" >"$sid$srcdir/sources.list"
apt_opts="-o Dir::Etc::SourceList=$srcdir/sources.list -o Dir::Etc::SourceParts=/nonexistent"
apt_opts+=" -o Dir::State::Lists=$srcdir/lists -o Acquire::Check-Valid-Until=false"
if ! chroot "$sid" apt-get $apt_opts update >"$log" 2>&1; then
	echo "freethreaded.sh: apt-get update (deb-src sid) failed; see $log" >&2
	exit 1
fi
# Newest first.  The mirror's Sources index may list versions whose files it
# does not serve (seen: python3.14 3.14.9-1/3.14.10-1 and python3.15 3.15.2-1
# listed, their .dsc/.orig.tar.xz answered 404): try each in turn.
versions=$(chroot "$sid" apt-cache $apt_opts showsrc "$src_pkg" 2>/dev/null |
	awk -v p="$src_pkg" '/^Package: /{ok = ($2 == p)} ok && /^Version: /{print $2}' | sort -rV | uniq)
if [ -z "$versions" ]; then
	echo "freethreaded.sh: the sid Sources index has no source package $src_pkg" >&2
	exit 1
fi
got=
for v in $versions; do
	rm -rf "${sid:?}$srcdir/dl-$ver" && mkdir -p "$sid$srcdir/dl-$ver"
	if chroot "$sid" sh -c "cd $srcdir/dl-$ver && apt-get $apt_opts source --download-only $src_pkg=$v" >>"$log" 2>&1; then
		got=$v
		break
	fi
done
if [ -z "$got" ]; then
	echo "freethreaded.sh: the mirror lists $src_pkg $(echo $versions | sed 's/ /, /g') but serves none of their source files (404); see $log" >&2
	exit 1
fi

flock -u 8

rm -rf "$work" "$prefix"
mkdir -p "$work"
echo "freethreaded.sh: building $ver from $src_pkg $got (--disable-gil, -O2 -g, once; about 10 minutes on 2 cores)" >&2
start=$(date +%s)
{
	# Debian's patches are applied (dpkg-source -x): the interpreter is
	# Debian's 3.N source with the GIL disabled.  The files' checksums were
	# verified by apt against the signed Sources index.
	dpkg-source --no-check -x "$sid$srcdir/dl-$ver/${src_pkg}_${got#*:}.dsc" "$work/src"
	cd "$work/src"
	# Modules no test imports (and that are slow to build or need more
	# packages) are turned off through configure's py_cv_module_* cache.
	off=""
	for m in _decimal _sqlite3 _tkinter _ssl _hashlib _curses _curses_panel _dbm _gdbm \
		readline _lzma _bz2 _uuid _ctypes_test xxlimited xxlimited_35 _testbuffer \
		_testcapi _testclinic _testclinic_limited _testimportmultiple _testinternalcapi \
		_testlimitedcapi _testmultiphase _testsinglephase _xxtestfuzz xxsubtype \
		_zoneinfo _multibytecodec _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp \
		_codecs_kr _codecs_tw _remote_debugging; do
		off+=" py_cv_module_$m=n/a"
	done
	# shellcheck disable=SC2086
	env $off ./configure --prefix="$prefix" --disable-gil --without-ensurepip \
		--disable-test-modules CFLAGS="-O2 -g"
	make -j"$jobs"
	# install byte-compiles the stdlib at three optimisation levels: in parallel.
	make -j"$jobs" install COMPILEALL_OPTS="-j$jobs"
} >>"$log" 2>&1 || {
	echo "freethreaded.sh: building $ver failed; see $log" >&2
	exit 1
}
end=$(date +%s)
if [ ! -x "$prefix/bin/python$ver" ] ||
	[ "$("$prefix/bin/python$ver" -c 'import sys; print(int(not sys._is_gil_enabled()))')" != 1 ]; then
	echo "freethreaded.sh: $prefix/bin/python$ver is not a free-threaded interpreter; see $log" >&2
	exit 1
fi
rm -rf "$work"
echo "$src_pkg $got built in $((end - start)) s" >"$prefix/.complete"
echo "freethreaded.sh: $ver built in $((end - start)) s" >&2
echo "$prefix/bin/python$ver"
