#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh: build (once) the debug kernel 'make check KERNEL=debug'
# boots in the svm machine: Debian's linux-source-6.1 configured from
# x86_64_defconfig plus scripts/debug-kernel.config (KASAN, lockdep,
# kmemleak, UBSAN, sleep-in-atomic checks, and what the suite needs).
#
#   scripts/debug-kernel.sh          build it if it is not cached; print
#                                    the cache directory
#   scripts/debug-kernel.sh --dir    only print the cache directory
#
# The cache, build/cache/debug-kernel-SRCVERSION-HASH, is keyed on the
# version of the linux-source-6.1 package and the hash of the config
# fragment, and holds:
#	src/				the configured and built tree: the KDIR
#					to build ringvm.ko against
#	root/boot/vmlinuz-RELEASE	the kernel
#	root/lib/modules/RELEASE	its modules (stripped) and modules.dep,
#					as selftests/runner/run.sh --kernel-dir
#					wants them
#	.complete			written last
# The build runs niced on 2 jobs (DEBUG_KERNEL_JOBS overrides); it takes
# about 45 minutes on 2 cores.  An interrupted build resumes where it stopped.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$top/scripts/debug-kernel.config
jobs=${DEBUG_KERNEL_JOBS:-2}

log()
{
	echo "debug-kernel.sh: $*" >&2
}

die()
{
	log "$*"
	exit 1
}

cache_dir()
{
	local ver hash

	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed: run scripts/setup.sh"
	[ -r "$tarball" ] || die "$tarball missing: run scripts/setup.sh"
	hash=$(sha256sum "$fragment" | cut -c1-12)
	echo "$top/build/cache/debug-kernel-$ver-$hash"
}

# Called from the top-level make, we must not hand its variables (W=1,
# KERNEL=debug, its jobserver) to the kernel's.
kmake()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		nice -n 10 make -C "$src" -j"$jobs" "$@" >&2
}

build()
{
	local krel start=$SECONDS

	if [ ! -f "$dir/.extracted" ]; then
		log "extracting $tarball into $src"
		rm -rf "$src"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
		: >"$dir/.extracted"
	fi
	if ! cmp -s "$fragment" "$dir/.fragment"; then
		log "configuring: x86_64_defconfig + ${fragment#"$top"/}"
		kmake x86_64_defconfig
		(cd "$src" && scripts/kconfig/merge_config.sh -m .config \
			"$fragment") >&2
		kmake olddefconfig
		check_config
		cp "$fragment" "$dir/.fragment"
	fi
	log "building bzImage and modules (make -j$jobs, niced)"
	kmake bzImage modules
	krel=$(make -s -C "$src" kernelrelease)
	rm -rf "$dir/root"
	mkdir -p "$dir/root/boot"
	cp "$src/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$krel"
	kmake INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 \
		DEPMOD=/sbin/depmod modules_install
	# They point into src/; the guest has no use for them.
	rm -f "$dir/root/lib/modules/$krel/build" \
		"$dir/root/lib/modules/$krel/source"
	/sbin/depmod -b "$dir/root" "$krel"
	echo "$krel" >"$dir/.complete"
	log "built $krel in $(((SECONDS - start) / 60)) min"
}

# Every option the fragment sets must have survived olddefconfig: a
# dependency missing from it would silently drop a check.
check_config()
{
	local line opt want got bad=0

	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			opt=${line%%=*} want=${line#*=} ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# } opt=${opt%% *} want=n ;;
		*)	continue ;;
		esac
		got=$(grep -E "^$opt=" "$src/.config" | cut -d= -f2- || true)
		[ -n "$got" ] || got=n
		if [ "$got" != "$want" ]; then
			log "$opt is $got in the merged config, not $want"
			bad=1
		fi
	done <"$fragment"
	[ "$bad" = 0 ] || die "${fragment#"$top"/} does not hold"
}

main()
{
	dir=$(cache_dir)
	src=$dir/src
	if [ "${1:-}" = --dir ]; then
		echo "$dir"
		return 0
	fi
	[ $# -eq 0 ] || die "usage: $0 [--dir]"

	mkdir -p "$dir"
	exec {lockfd}>"$dir.lock"
	if ! flock -n "$lockfd"; then
		log "waiting for another build of $dir"
		flock "$lockfd"
	fi
	[ -f "$dir/.complete" ] || build
	echo "$dir"
}

# One line, so that bash has read it all before main runs: an edit to
# this file during the long build cannot feed it half a line afterwards.
main "$@"; exit $?
