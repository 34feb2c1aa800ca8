#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Debian packages from the working tree and check what they hold:
#   scripts/deb.sh
# copies the tracked and untracked (not ignored) files into build/deb/src,
# runs dpkg-buildpackage -us -uc -b there (the .debs land in build/deb),
# and checks with dpkg-deb that
#   ringvm-dkms holds dkms.conf with the release as PACKAGE_VERSION and
#               exactly the module's sources (Kbuild, module/, uapi/linux/:
#               the files scripts/build-kmod.sh builds from), and
#   vmctl       holds vmctl, its manual and bash completion, the uapi
#               headers, the udev rule as it is in the tree, and a postinst
#               that creates the ringvm group.
# Any difference fails.  The build log is build/deb/build.log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
cd "$top"

ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
up=${ver%%-*}

rm -rf "$out"
mkdir -p "$out/src"
git ls-files -z -co --exclude-standard |
	while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	done | xargs -0 cp --parents -t "$out/src"

echo "deb: dpkg-buildpackage -us -uc -b (ringvm $ver; log in build/deb/build.log)"
(cd "$out/src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log"
	echo "deb: dpkg-buildpackage failed" >&2
	exit 1
}

fail=0
bad() {
	echo "deb: $*" >&2
	fail=1
}

# Regular files of a package, without the leading "./".
files() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' |
		sort
}

dkms_deb=$out/ringvm-dkms_${ver}_all.deb
vmctl_deb=$out/vmctl_${ver}_amd64.deb
for d in "$dkms_deb" "$vmctl_deb"; do
	[ -f "$d" ] || { bad "missing ${d#"$top"/}"; exit 1; }
done

src=usr/src/ringvm-$up
want=$( (echo "$src/dkms.conf"
	find Kbuild module uapi -type f \( -name '*.[chS]' -o -name Kbuild \) |
		sed "s|^|$src/|") | sort)
got=$(files "$dkms_deb" | grep "^usr/src/" || true)
[ "$want" = "$got" ] ||
	bad "ringvm-dkms: sources differ from the tree's:" \
		"$(diff <(echo "$want") <(echo "$got") | grep '^[<>]')"
# (Whole outputs into variables: grep -q would cut a pipe with pipefail.)
conf=$(dpkg-deb --fsys-tarfile "$dkms_deb" | tar -xO "./$src/dkms.conf")
grep -qx "PACKAGE_VERSION=\"$up\"" <<<"$conf" ||
	bad "ringvm-dkms: dkms.conf does not say PACKAGE_VERSION=\"$up\""

got=$(files "$vmctl_deb")
for f in usr/bin/vmctl usr/share/man/man8/vmctl.8.gz \
	usr/share/bash-completion/completions/vmctl \
	usr/include/linux/ringvm.h usr/include/linux/ringvm_netlink.h \
	lib/udev/rules.d/60-ringvm.rules; do
	grep -qx "$f" <<<"$got" || bad "vmctl: $f missing"
done
list=$(dpkg-deb -c "$vmctl_deb")
grep -q '^-rwxr-xr-x root/root .* \./usr/bin/vmctl$' <<<"$list" ||
	bad "vmctl: usr/bin/vmctl is not root:root 0755"
dpkg-deb --fsys-tarfile "$vmctl_deb" |
	tar -xO ./lib/udev/rules.d/60-ringvm.rules |
	cmp -s - userspace/udev/60-ringvm.rules ||
	bad "vmctl: the udev rule differs from userspace/udev/60-ringvm.rules"
postinst=$(dpkg-deb --ctrl-tarfile "$vmctl_deb" | tar -xO ./postinst)
grep -q 'addgroup --system .*ringvm' <<<"$postinst" ||
	bad "vmctl: postinst does not add the ringvm system group"
! grep -q 'dkms' <<<"$postinst" ||
	bad "vmctl: postinst runs dkms (only ringvm-dkms may)"

[ $fail -eq 0 ] || exit 1
echo "deb: ${dkms_deb#"$top"/} ($(files "$dkms_deb" | grep -c "^$src/") files under /$src)"
echo "deb: ${vmctl_deb#"$top"/} (vmctl, vmctl(8), completion, 2 headers, udev rule, group)"
