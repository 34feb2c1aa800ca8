#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.1) over the
# module and uapi sources.  Prints everything --strict finds; fails on
# ERROR and WARNING.  Known false positives at CHECK level: "spaces
# preferred around that '%'" on asm goto labels (%l[fault]); the
# TRACE_EVENT() layout of module/trace.h (OPEN_ENDED_LINE,
# PARENTHESIS_ALIGNMENT), which every in-tree trace header shares.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=$("$top/scripts/ksrc.sh")
cd "$top"
# Not module/*_asm.h: assembler macros for the .S files, which
# checkpatch reads as C (it takes every "label:" for a bad ternary).
files=$(git ls-files 'module/*.[ch]' 'uapi/*.h' | grep -v '_asm\.h$')
# --no-tree: no kernel tree around us; the data files sit next to the script.
out=$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse \
	--show-types --ignore FILE_PATH_CHANGES -f $files) || true
echo "$out" | grep -v 'total: 0 errors, 0 warnings, 0 checks' || true
if echo "$out" | grep -qE ': (ERROR|WARNING):'; then
	echo "checkpatch: errors or warnings above"
	exit 1
fi
echo "checkpatch: no errors or warnings"
