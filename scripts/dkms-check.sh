#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build ringvm.ko with Debian's dkms from the ringvm-dkms package, for the
# 6.1 and the 6.12 headers, the way the package's postinst does on a
# user's machine, but in scratch trees under build/dkms so that the host's
# /var/lib/dkms and /lib/modules are left alone:
#   scripts/dkms-check.sh        (after scripts/deb.sh)
# unpacks build/deb/ringvm-dkms_*.deb into build/dkms/root and runs, per
# kernel,
#   dkms build -m ringvm -v VERSION -k KERNELRELEASE
#       --sourcetree build/dkms/root/usr/src --dkmstree build/dkms/tree
#       --installtree build/dkms/modules --kernelsourcedir HEADERS
# then checks that each module is for that kernel (vermagic), has the
# package's version, is of the same sources as the tree's own build
# (srcversion against build/kmod-SERIES/ringvm.ko, when that exists) and
# carries the signature dkms appends with its MOK key, and leaves it,
# uncompressed, in build/dkms/ringvm-SERIES.ko: the runner ships it to
# the test machines as /ringvm/dkms/ringvm.ko, which install_test loads.
#
# Signing is dkms's own: with no key configured in
# /etc/dkms/framework.conf it makes /var/lib/dkms/mok.key and mok.pub
# once (a self-signed "DKMS module signing key") and signs every module it
# builds with them, as it would on any Debian 12 machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/dkms
cd "$top"

ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
up=${ver%%-*}
deb=build/deb/ringvm-dkms_${ver}_all.deb
[ -f "$deb" ] || { echo "dkms-check: no $deb (scripts/deb.sh first)" >&2; exit 1; }
command -v dkms >/dev/null ||
	{ echo "dkms-check: no dkms (scripts/setup.sh installs it)" >&2; exit 1; }

# ringvm in the host's own dkms and module trees (a package installed by
# hand, say): the scratch builds must leave it as it is.
host_ringvm()
{
	ls -ld --time-style=full-iso /var/lib/dkms/ringvm \
		/lib/modules/*/updates/dkms/ringvm.ko* 2>/dev/null || true
}
host_before=$(host_ringvm)

rm -rf "$out"
mkdir -p "$out/tree" "$out/modules"
dpkg-deb -x "$deb" "$out/root"
# The vmctl package's files as it installs them (vmctl, the udev rule):
# the runner ships them with the modules (run.sh --dkms build/dkms) and
# install_test runs that vmctl, not the tree's.
vdeb=build/deb/vmctl_${ver}_amd64.deb
[ -f "$vdeb" ] || { echo "dkms-check: no $vdeb (scripts/deb.sh first)" >&2; exit 1; }
dpkg-deb -x "$vdeb" "$out/vmctl"

fail=0
for series in 6.1 6.12; do
	kdir=$(scripts/kdir.sh "$series")
	krel=${kdir#/usr/src/linux-headers-}
	mkdir -p "$out/modules/$krel"
	echo "dkms-check: dkms build ringvm/$up for $krel"
	if ! dkms build -m ringvm -v "$up" -k "$krel" \
		--sourcetree "$out/root/usr/src" --dkmstree "$out/tree" \
		--installtree "$out/modules" --kernelsourcedir "$kdir" \
		>"$out/dkms-$series.log" 2>&1; then
		cat "$out/dkms-$series.log"
		find "$out/tree" -name make.log -exec tail -n 30 {} \;
		echo "dkms-check: dkms build failed for $krel" >&2
		fail=1
		continue
	fi
	built=
	for f in "$out/tree/ringvm/$up/$krel/x86_64/module/"ringvm.ko*; do
		[ -f "$f" ] && built=$f
	done
	[ -n "$built" ] || { echo "dkms-check: $krel: no ringvm.ko" >&2; fail=1; continue; }
	ko=$out/ringvm-$series.ko
	case $built in
	*.ko.xz)	xz -dc "$built" >"$ko" ;;
	*.ko.gz)	gzip -dc "$built" >"$ko" ;;
	*.ko.zst)	zstd -qdc "$built" >"$ko" ;;
	*)		cp "$built" "$ko" ;;
	esac

	magic=$(/sbin/modinfo -F vermagic "$ko")
	[ "${magic%% *}" = "$krel" ] ||
		{ echo "dkms-check: $krel: vermagic says ${magic%% *}" >&2; fail=1; }
	mver=$(/sbin/modinfo -F version "$ko")
	[ "$mver" = "$up" ] ||
		{ echo "dkms-check: $krel: module version $mver, package $up" >&2; fail=1; }
	signer=$(/sbin/modinfo -F signer "$ko")
	tail -c 28 "$ko" | grep -q '~Module signature appended~' ||
		{ echo "dkms-check: $krel: dkms did not sign the module" >&2; fail=1; }
	tree=build/kmod-$series/ringvm.ko
	if [ -f "$tree" ]; then
		a=$(/sbin/modinfo -F srcversion "$ko")
		b=$(/sbin/modinfo -F srcversion "$tree")
		[ "$a" = "$b" ] || {
			echo "dkms-check: $krel: srcversion $a, $tree has $b" >&2
			fail=1
		}
	fi
	echo "dkms-check: $krel: build/dkms/ringvm-$series.ko, version $mver," \
		"srcversion $(/sbin/modinfo -F srcversion "$ko"), signed by '$signer'"
done
# dkms worked in build/dkms only: nothing registered or installed.
[ "$(host_ringvm)" = "$host_before" ] || {
	echo "dkms-check: ringvm changed in /var/lib/dkms or /lib/modules" >&2
	fail=1
}
[ $fail -eq 0 ] || exit 1
echo "dkms-check: dkms built ringvm $up for 6.1 and 6.12 from the package"
