#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Extract the kernel's ynl netlink client (tools/net/ynl: cli.py and its
# lib/) and the netlink spec schemas (Documentation/netlink/*.yaml) from
# Debian's linux-source-6.12 into build/cache/ynl-VERSION, once per
# package version (decompressing the tarball takes about 30 s).
# linux-source-6.1 has neither: no tools/net/ynl, and no schema beside
# Documentation/netlink/specs.  Prints the directory.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] ||
	{ echo "ynl.sh: linux-source-6.12 missing; run scripts/setup.sh" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ -n "$ver" ] || ver=$(stat -c %Y "$tarball")
out=$top/build/cache/ynl-$ver
if [ ! -f "$out/.stamp" ]; then
	rm -rf "$out.tmp" && mkdir -p "$out.tmp"
	tar -xJf "$tarball" -C "$out.tmp" --strip-components=1 --wildcards \
		'linux-source-6.12/tools/net/ynl/cli.py' \
		'linux-source-6.12/tools/net/ynl/lib/*.py' \
		'linux-source-6.12/Documentation/netlink/*.yaml'
	touch "$out.tmp/.stamp"
	rm -rf "$out" && mv "$out.tmp" "$out"
fi
echo "$out"
