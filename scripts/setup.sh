#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package ringvm needs to build the module, vmctl and
# the selftests, to build the Debian packages and run dkms on them (make
# deb, make dkms-check), and to boot the emulated test machines (QEMU for
# SVM, Bochs for VMX).  linux-perf and trace-cmd are not run here: the
# runner packs their binaries and libraries into the test machines for
# perf_test (scripts/perf-payload.sh).  Idempotent: re-running it only
# installs what is missing.
set -euo pipefail

PKGS=(
	build-essential bc flex bison libelf-dev
	linux-headers-amd64 linux-headers-6.12-amd64
	libnl-3-dev libnl-genl-3-dev pkg-config
	qemu-system-x86 bochs bochs-x bochsbios vgabios xvfb xauth
	busybox-static cpio isolinux syslinux-common xorriso kmod
	xz-utils python3 python3-yaml python3-jsonschema
	linux-source-6.1 linux-source-6.12
	acpica-tools
	debhelper dh-dkms dkms fakeroot dpkg-dev groff-base
	linux-perf trace-cmd
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all packages present"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
