#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Extract the few files ringvm takes from Debian's linux-source-6.1 package
# (kselftest harness headers, checkpatch.pl and its data) into build/ksrc.
# They are used at build time and never copied into the repository.
# Prints the directory.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/ksrc
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { echo "ksrc.sh: linux-source-6.1 missing; run scripts/setup.sh" >&2; exit 1; }
if [ ! -f "$out/.stamp" ] || [ "$tarball" -nt "$out/.stamp" ]; then
	rm -rf "$out" && mkdir -p "$out"
	tar -xJf "$tarball" -C "$out" --strip-components=1 \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch "$out/.stamp"
fi
echo "$out"
