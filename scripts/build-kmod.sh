#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build ringvm.ko against one kernel's headers in its own directory, so
# builds for 6.1 and 6.12 never share objects:
#   scripts/build-kmod.sh KDIR OUTDIR [make args...]
# leaves OUTDIR/ringvm.ko.
set -e
kdir=$1 out=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
# Mirror the sources; cp -u keeps unchanged objects valid across builds.
(cd "$top" && find Kbuild module uapi -type f \( -name '*.[chS]' -o -name Kbuild \) |
	while read -r f; do
		mkdir -p "$out/$(dirname "$f")"
		cmp -s "$f" "$out/$f" || cp "$f" "$out/$f"
	done)
exec make -C "$kdir" M="$(cd "$out" && pwd)" "$@" modules
