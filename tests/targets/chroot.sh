#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
#
# Make (or reuse) a Debian chroot holding one suite's Python interpreters, for
# the test matrix: trixie has python3.13 3.13.x, sid has python3.14 3.14.x and
# python3.15 3.15.x
# (both with their -dbg builds, python3.Xd).  A process started inside such a
# chroot is also how gcscope's container support is tested: its binary is only
# reachable through /proc/PID/root.
#
# usage: tests/targets/chroot.sh SUITE      prints the chroot's path on stdout
#
# The chroot lives in a cache outside the repo and is reused when present:
#   ${GCSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gcscope}/chroots/SUITE
# A chroot is complete only once its ".complete" stamp exists, so a build that
# was interrupted is started again rather than trusted.  The stamp holds the
# package list: when this script asks for more packages than a cached chroot
# has, they are added with apt inside it instead of starting over.
set -euo pipefail

suite=${1:?usage: chroot.sh SUITE (trixie or sid)}
case "$suite" in
trixie) pkgs="python3.13,python3.13-dbg,python3.13-dev,python3-pyqt5,python3-pyqt6,python3-pyside2.qtcore,python3-pyside6.qtcore,gdb" ;;
sid)    pkgs="python3.14,python3.14-dbg,python3.14-dev,python3-pyqt5,python3-pyqt6,python3-pyside6.qtcore,python3.15,python3.15-dbg,python3.15-dev,python3-opentelemetry-proto" ;;
*) echo "chroot.sh: unknown suite '$suite': use trixie or sid" >&2; exit 2 ;;
esac

cache=${GCSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gcscope}
root="$cache/chroots/$suite"
mirror=${GCSCOPE_MIRROR:-http://deb.debian.org/debian}

if [ "$(cat "$root/.complete" 2>/dev/null)" = "$pkgs" ]; then
	echo "$root"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "chroot.sh: making a chroot needs root" >&2
	exit 77
fi
if ! command -v debootstrap >/dev/null; then
	"$(dirname "$0")/../deps.sh" debootstrap
fi

# One builder at a time per suite: tests may run in parallel.
mkdir -p "$cache/chroots"
exec 9>"$cache/chroots/.$suite.lock"
flock 9
if [ "$(cat "$root/.complete" 2>/dev/null)" = "$pkgs" ]; then
	echo "$root"
	exit 0
fi

if [ -e "$root/.complete" ]; then
	echo "chroot.sh: adding ${pkgs//,/ } to $root" >&2
	# The mirror may serve a sid Release file past its Valid-Until date (an
	# older snapshot than the clock): debootstrap does not check it, apt does.
	apt_opts="-o Acquire::Check-Valid-Until=false"
	chroot "$root" sh -c "apt-get $apt_opts update && DEBIAN_FRONTEND=noninteractive apt-get $apt_opts install -y ${pkgs//,/ }" \
		>"$cache/chroots/$suite.log" 2>&1 || {
		echo "chroot.sh: apt-get in the $suite chroot failed; see $cache/chroots/$suite.log" >&2
		exit 1
	}
else
	rm -rf "$root"
	echo "chroot.sh: debootstrap $suite into $root (a few minutes, once)" >&2
	debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" \
		>"$cache/chroots/$suite.log" 2>&1 || {
		echo "chroot.sh: debootstrap $suite failed; see $cache/chroots/$suite.log" >&2
		exit 1
	}
fi
echo "$pkgs" >"$root/.complete"
echo "$root"
