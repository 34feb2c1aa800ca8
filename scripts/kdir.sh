#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the Debian kernel-headers directory for a kernel series (6.1, 6.12).
set -e
series=${1:-6.1}
case "$series" in
6.1)	pat='/usr/src/linux-headers-6.1.0-*-amd64' ;;
6.12)	pat='/usr/src/linux-headers-6.12.*-amd64' ;;
*)	echo "kdir.sh: unknown kernel series '$series' (6.1 or 6.12)" >&2; exit 1 ;;
esac
# shellcheck disable=SC2086
d=$(ls -d $pat 2>/dev/null | sort -V | tail -n 1)
[ -n "$d" ] || { echo "kdir.sh: no headers for $series; run scripts/setup.sh" >&2; exit 1; }
echo "$d"
