#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perf-payload.sh DEST: Debian's perf and trace-cmd for the test machines'
# busybox initramfs, as a tree to merge at its root (perf_test runs them):
#
#   /usr/bin/perf        the ELF binary of linux-perf (perf_6.1 where the
#                        package has one and /usr/bin/perf is its wrapper
#                        script; since 6.1.1xx /usr/bin/perf itself)
#   /usr/bin/trace-cmd   trace-cmd 3.1
#   /lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/*.so.*
#                        every library the two link (ldd's closure:
#                        perf's embedded Perl and Python among them)
#
# About 33 MB, 12.5 MB compressed: the runner adds it only to the
# initramfs of the machines whose list names perf_test.  No bpftrace: it
# links LLVM and Clang (about 250 MB installed).
set -euo pipefail
dest=${1:?usage: perf-payload.sh DEST}

# The real perf: not the wrapper script that picks perf_VERSION.
perf=
for f in /usr/bin/perf_6.1 /usr/bin/perf; do
	if [ -x "$f" ] && head -c 4 "$f" | grep -q ELF; then
		perf=$f
		break
	fi
done
[ -n "$perf" ] ||
	{ echo "perf-payload.sh: no perf binary (linux-perf: scripts/setup.sh)" >&2; exit 1; }
tc=/usr/bin/trace-cmd
[ -x "$tc" ] ||
	{ echo "perf-payload.sh: no $tc (trace-cmd: scripts/setup.sh)" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"/usr/bin "$dest"/lib/x86_64-linux-gnu "$dest"/lib64
cp "$perf" "$dest/usr/bin/perf"
cp "$tc" "$dest/usr/bin/trace-cmd"

# ldd lists the closure; a library it cannot find fails here, not in the
# machine.
libs=$( { ldd "$perf"; ldd "$tc"; } | awk '
	/not found/ { print "MISSING:" $1; next }
	$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
if grep -q '^MISSING:' <<<"$libs"; then
	echo "perf-payload.sh: libraries not found: $(grep '^MISSING:' <<<"$libs")" >&2
	exit 1
fi
for l in $libs; do
	cp -L "$l" "$dest/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$dest/lib64/"
