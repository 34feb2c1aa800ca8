#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build ringvm.ko with W=1 against every supported kernel series and fail
# on any compiler, assembler ("Warning:"), objtool or modpost warning;
# check the netlink header against its YAML spec.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0
for kver in 6.1 6.12; do
	kdir=$(scripts/kdir.sh "$kver")
	log=build/modcheck-$kver.log
	mkdir -p build
	# Rebuild everything so old objects cannot hide a warning.
	rm -rf "build/modcheck-$kver"
	if ! scripts/build-kmod.sh "$kdir" "build/modcheck-$kver" W=1 >"$log" 2>&1; then
		echo "modcheck: $kver: build failed"; cat "$log"; fail=1; continue
	fi
	if grep -iE 'warning:' "$log"; then
		echo "modcheck: $kver: warnings (see $log)"; fail=1; continue
	fi
	echo "modcheck: $kver: W=1 clean ($kdir)"
done
python3 scripts/check-spec.py uapi/ringvm.yaml uapi/linux/ringvm_netlink.h || fail=1
exit $fail
