#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: boot ringvm's emulated test machines and run the selftests in them.
#
# The host cannot load ringvm (no VT-x/SVM, no module loading), so every run
# boots a stock Debian kernel of the series the module was built for inside
# an emulator that implements the virtualization extensions:
#
#	svm	QEMU TCG -cpu max, 2 CPUs (AMD SVM + NPT): the whole suite
#	vmx	Bochs corei7_skylake_x (Intel VT-x + EPT): the whole suite, on
#		1 CPU when vmx-smp runs, else on 2; without the tests of
#		tests-long.list when vmx-long runs
#	vmx-smp	the same Bochs with 2 CPUs, only the tests in tests-smp.list
#		(when the suite installs one): a 2-CPU Bochs takes 2-3 times
#		as long as a 1-CPU one for the same tests
#	vmx-long the same Bochs with 1 CPU, only the tests in tests-long.list
#		(the Linux boot): they would make vmx the run's longest lane
#	kvm	QEMU -enable-kvm -cpu host: real silicon, only where the host has
#		VT-x or SVM and a /dev/kvm that opens
#
# --bench (make bench) boots one machine on 1 CPU, svm under QEMU with
# -icount shift=0 so that the TSC counts instructions (Bochs's already
# does), and runs selftests/bench against ringvm and then against KVM in
# the same boot; the table goes to stdout and build/logs/bench-*.txt.
# --bench-guard FILE (make bench-guard) is the same boot with ringvm's
# half only, compared with the baseline FILE by 'bench guard', which
# also checks that ringvm loaded with debug_slow_cpuid fails it.
#
# Steps: 1. find the guest kernel (exactly the version of the headers the
# module was built against) and cache it with the KVM modules; 2. pack one
# initramfs (busybox, init.sh as /init, ringvm.ko, vmctl, the installed
# selftests, the KVM modules); 3. boot each machine in turn under a
# wall-clock limit, keeping its console in build/logs/MACHINE-KVER.log;
# 4. judge each console with parse.awk and print "MACHINE: N passed, N
# failed, N skipped" with the reasons for any failure, and last the sum over
# the machines.  A machine named MACHINE@SERIES (svm@6.12) boots the
# kernel of that series with build/kmod-SERIES/ringvm.ko and an initramfs
# of its own, in the same run and the same sum: make check adds svm@6.12
# to the 6.1 machines.  With --kernel-dir the guest runs a kernel built
# here instead (scripts/debug-kernel.sh: make check KERNEL=debug).  Exits
# non-zero on any failed test, crash, hang or kernel splat, or when no
# machine ran.  README.md in this directory has the details and the
# emulator quirks.
set -euo pipefail

runner_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$runner_dir/../.." && pwd)

all_machines="svm vmx vmx-smp vmx-long kvm"
# Wall-clock limit per machine in seconds (--timeout overrides them all).
declare -A machine_timeout=([svm]=900 [vmx]=3000 [vmx-smp]=1800
	[vmx-long]=1600 [kvm]=600)
# Kernel parameters a machine needs (README.md, "Quirks", says why).
declare -A machine_params=(
	[svm]=""
	[vmx]="clearcpuid=xsavec,xsaves,ht"
	[vmx-smp]="clearcpuid=xsavec,xsaves,ht"
	[vmx-long]="clearcpuid=xsavec,xsaves,ht"
	[kvm]=""
)
# Which list in /ringvm/tests a machine runs (vmx: choose_vmx_setup).
declare -A machine_list=(
	[svm]=tests.list [vmx]=tests.list [vmx-smp]=tests-smp.list
	[vmx-long]=tests-long.list [kvm]=tests.list
)

# Guest modules the suite loads: KVM as a reference, msr for /dev/cpu/N/msr.
guest_modules="kvm kvm_amd kvm_intel msr"

kver=6.1
kmod=
dkms_dir=
# The kernel series the machines boot, and per series the module, the
# guest kernel's version and the directory holding that kernel; the one
# the functions below work on (use_series).
series_list=
cur_series=
declare -A series_kmod=() series_ver=() series_dir=()
kernel_dir_arg=
memory=1024
machines=$all_machines
mode=tests
bench_guard=
tests_dir=
vmctl=$top/userspace/vmctl/vmctl
guest=$top/userspace/guest/hello.bin
only=
timeout=
test_timeout=300
keep=0
jobs=2
vmx_cpus=${RINGVM_VMX_CPUS:-}
vmx_ips=${RINGVM_VMX_IPS:-50000000}
tcg_thread=${RINGVM_TCG_THREAD:-multi}

work=
emu_pid=
lane_pids=

usage()
{
	cat <<EOF
usage: $0 [options]
  --kver 6.1|6.12     kernel series the module was built for (default 6.1)
  --kmod PATH         ringvm.ko for KVER's machines (default
                      build/kmod-KVER/ringvm.ko)
  --dkms DIR          ship what the packages install (scripts/dkms-check.sh
                      leaves it in DIR): DIR/ringvm-SERIES.ko, the module
                      dkms built from the ringvm-dkms package, as
                      /lib/modules/RELEASE/updates/dkms/ringvm.ko (depmod
                      run; /ringvm/dkms/ringvm.ko links to it), and the
                      unpacked vmctl package DIR/vmctl as
                      /ringvm/dkms/vmctl; install_test uses them
  --kernel-dir DIR    boot DIR/boot/vmlinuz-RELEASE with the modules in
                      DIR/lib/modules/RELEASE (and modules.dep) instead of
                      Debian's kernel for KVER; --kmod must be built for
                      it; logs are named MACHINE-KVER-debug.log
                      (scripts/debug-kernel.sh makes such a DIR)
  --memory MB         memory of the QEMU machines (default $memory)
  --machines "LIST"   machines to boot, of: $all_machines
                      (default: all; a machine that cannot run here says
                      why and is not counted); MACHINE@SERIES (svm@6.12)
                      boots SERIES's kernel instead of KVER's, with
                      build/kmod-SERIES/ringvm.ko; the lines then name
                      each machine's kernel: 'svm (6.12): ...'
  --demo              load ringvm; vmctl info, create, list, run the example
                      guest, destroy; unload ringvm
  --bench             on 1 CPU (svm: QEMU -icount shift=0), run
                      selftests/bench under ringvm, then under KVM
                      (kvm_intel: also with vmentry_l1d_flush=never), and
                      print its table (kept in build/logs/bench-*.txt)
  --bench-guard FILE  the same boot, ringvm only: its figures against the
                      baseline FILE (selftests/bench-baseline-*.txt); a
                      figure more than 5 % above it fails the run
  --only "NAMES"      run only these tests, in the order of the lists
  --tests DIR         take the installed tests (DIR/tests.list, optionally
                      DIR/tests-smp.list, tests-long.list and tests-vmx.list,
                      and the binaries) from DIR instead
                      of 'make -C selftests install'
  --vmctl PATH        vmctl binary (default userspace/vmctl/vmctl)
  --guest PATH        example guest for vmctl run, /ringvm/hello.bin in the
                      machine (default userspace/guest/hello.bin)
  --timeout SECS      wall-clock limit for each machine
  --test-timeout SECS limit for one test binary, in guest time (default
                      $test_timeout; guest time runs slower than wall
                      time under Bochs)
  --keep              keep the work directory (initramfs, ISO)
  --jobs N            machines that run at once (default $jobs): vmx in
                      one lane, the others one after another in the next
environment:
  RINGVM_SMP_BOOT=1   linux_boot_test's SMP boots run where CI skips them
                      (Bochs: time; TCG: a known bug)
  RINGVM_KVM_BOOT=1   linux_boot_test.kvm_backend runs under Bochs too
                      (it skips there: time)
  RINGVM_TCG_PERIODIC=1 lapic_test.timer_periodic_min runs under TCG too
                      (it skips there: a known hang)
  RINGVM_FUZZ_SEED=N, RINGVM_FUZZ_CASES=N
                      replay a guest_fuzz_test run (it prints its seed)
  RINGVM_TCG_THREAD=single runs the svm machine's vCPUs on one QEMU thread,
                      not one each (README.md, "Quirks": experiments)
  RINGVM_VMX_CPUS     CPUs of the vmx machine (default: 1 when vmx-smp
                      runs the tests that need 2 CPUs, else 2)
  RINGVM_VMX_IPS      Bochs instructions per emulated second (default $vmx_ips)
EOF
}

log()
{
	echo "run.sh: $*" >&2
}

die()
{
	log "$*"
	exit 2
}

parse_args()
{
	while [ $# -gt 0 ]; do
		case "$1" in
		--kver)		kver=$2; shift ;;
		--kmod)		kmod=$2; shift ;;
		--dkms)		dkms_dir=$2; shift ;;
		--kernel-dir)	kernel_dir_arg=$2; shift ;;
		--memory)	memory=$2; shift ;;
		--machines)	machines=$2; shift ;;
		--demo)		mode=demo ;;
		--bench)	mode=bench ;;
		--bench-guard)	mode=bench bench_guard=$2; shift ;;
		--only)		only=$2; shift ;;
		--tests)	tests_dir=$2; shift ;;
		--vmctl)	vmctl=$2; shift ;;
		--guest)	guest=$2; shift ;;
		--timeout)	timeout=$2; shift ;;
		--test-timeout)	test_timeout=$2; shift ;;
		--keep)		keep=1 ;;
		--jobs)		jobs=$2; shift ;;
		-h|--help)	usage; exit 0 ;;
		*)		usage >&2; die "unknown argument '$1'" ;;
		esac
		shift
	done
	kmod=${kmod:-$top/build/kmod-$kver/ringvm.ko}
	[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a number, not '$jobs'"
	[[ "$tcg_thread" =~ ^(single|multi)$ ]] ||
		die "RINGVM_TCG_THREAD is single or multi, not '$tcg_thread'"
	[[ "${RINGVM_FUZZ_SEED:-0}${RINGVM_FUZZ_CASES:-0}" =~ ^[0-9]+$ ]] ||
		die "RINGVM_FUZZ_SEED and RINGVM_FUZZ_CASES are numbers"
	parse_machines
}

# Check the --machines specs; write each as MACHINE (on --kver) or
# MACHINE@SERIES (another series), once; list the series they boot.
parse_machines()
{
	local m name series list='' seen=' '

	for m in $machines; do
		name=${m%%@*} series=$kver
		[[ "$m" != *@* ]] || series=${m#*@}
		[ -n "${machine_timeout[$name]:-}" ] ||
			die "unknown machine '$name' (of: $all_machines)"
		[[ "$series" =~ ^[0-9]+\.[0-9]+$ ]] ||
			die "$m: '$series' is no kernel series (6.1, 6.12)"
		[ -z "$kernel_dir_arg" ] || [ "$series" = "$kver" ] ||
			die "$m: --kernel-dir boots one kernel, not $series"
		[ "$series" = "$kver" ] || name=$name@$series
		[[ "$seen" != *" $name "* ]] || continue
		seen+="$name "
		list+="${list:+ }$name"
		[[ " $series_list " == *" $series "* ]] ||
			series_list+="${series_list:+ }$series"
	done
	machines=$list
	series_list=${series_list:-$kver}
	for series in $series_list; do
		series_kmod[$series]=$top/build/kmod-$series/ringvm.ko
	done
	series_kmod[$kver]=$kmod
}

# The kernel series machine spec $1 boots.
series_of()
{
	if [[ "$1" == *@* ]]; then
		echo "${1#*@}"
	else
		echo "$kver"
	fi
}

# How the lines name machine spec $1: 'svm', or 'svm (6.12)' when the run
# boots another series than --kver's (alone or beside it).
label_of()
{
	if [ "$series_list" != "$kver" ]; then
		echo "${1%%@*} ($(series_of "$1"))"
	else
		echo "${1%%@*}"
	fi
}

# --- 1. The guest kernel ----------------------------------------------------

# The kernel version of the headers for series $1: the guest must run
# exactly the kernel the module was built against.
guest_version()
{
	local kdir

	kdir=$("$top/scripts/kdir.sh" "$1") || die "no headers for $1"
	basename "$kdir" | sed 's/^linux-headers-//'
}

# Print the relative paths, from modules.dep in $1, of $guest_modules and
# every module they need (modules.dep lists dependencies transitively).
guest_module_closure()
{
	awk -v want="$guest_modules" '
	function name(p) {
		sub(/.*\//, "", p)
		sub(/\.ko(\.(xz|gz|zst))?$/, "", p)
		gsub(/-/, "_", p)
		return p
	}
	{
		sub(/:$/, "", $1)
		n = name($1)
		if (index(" " want " ", " " n " "))
			for (i = 1; i <= NF; i++)
				if (!seen[$i]++)
					print $i
	}' "$1"
}

# Copy module $2 (relative to $1) to the same path under $3, uncompressed:
# busybox modprobe complains about compressed modules, and depmod must
# then see the .ko names the guest has.
copy_module()
{
	local from=$1/$2 to=$3/${2%.ko*}.ko

	mkdir -p "$(dirname "$to")"
	case "$2" in
	*.ko)		cp "$from" "$to" ;;
	*.ko.xz)	xz -dc "$from" >"$to" ;;
	*.ko.gz)	gzip -dc "$from" >"$to" ;;
	*.ko.zst)	zstd -qdc "$from" >"$to" ;;
	*)		die "unexpected module file $2" ;;
	esac
}

# Make sure build/cache/linux-image-VERSION holds boot/vmlinuz-VERSION and
# lib/modules/VERSION with the modules the suite loads and their
# modules.dep; print it.
# The kernel comes from the host when its image package is installed (as
# setup.sh does for 6.12), else from 'apt-get download' (6.1).
guest_kernel()
{
	local ver=$1
	local cache=$top/build/cache/linux-image-$ver tmp src mods rel

	if [ "$(cat "$cache/.complete" 2>/dev/null)" = "$guest_modules" ]; then
		echo "$cache"
		return
	fi
	mkdir -p "$top/build/cache"
	tmp=$(mktemp -d "$top/build/cache/.linux-image-$ver.XXXXXX")
	# We run in $(...), a subshell of our own: this trap is ours alone.
	# It names the directory now: $tmp is gone once we have returned.
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	if [ -r "/boot/vmlinuz-$ver" ] && [ -r "/lib/modules/$ver/modules.dep" ]; then
		src=
	else
		log "downloading linux-image-$ver"
		local apt_opts=()
		# As root apt drops to _apt, who may not write here.
		[ "$(id -u)" -ne 0 ] || apt_opts=(-o APT::Sandbox::User=root)
		(cd "$tmp" && apt-get -q "${apt_opts[@]}" download \
			"linux-image-$ver") >&2 ||
			die "cannot download linux-image-$ver"
		dpkg -x "$tmp"/linux-image-"$ver"_*.deb "$tmp/root"
		rm -f "$tmp"/*.deb
		/sbin/depmod -b "$tmp/root" "$ver"
		src=$tmp/root
	fi
	mods=$src/lib/modules/$ver
	mkdir -p "$tmp/out/boot" "$tmp/out/lib/modules/$ver"
	cp "$src/boot/vmlinuz-$ver" "$tmp/out/boot/"
	for rel in $(guest_module_closure "$mods/modules.dep"); do
		copy_module "$mods" "$rel" "$tmp/out/lib/modules/$ver"
	done
	# depmod wants these; they are small.
	for rel in modules.builtin modules.builtin.modinfo modules.order; do
		[ ! -f "$mods/$rel" ] || cp "$mods/$rel" "$tmp/out/lib/modules/$ver/"
	done
	/sbin/depmod -b "$tmp/out" "$ver"
	# The stamp names the modules, so that a cache made for another list
	# is made again.
	echo "$guest_modules" >"$tmp/out/.complete"
	if [ "$(cat "$cache/.complete" 2>/dev/null)" != "$guest_modules" ]; then
		rm -rf "$cache"
		# Another run may fill it meanwhile; either copy is good.
		mv -T "$tmp/out" "$cache" 2>/dev/null || true
	fi
	echo "$cache"
}

# The kernel release in --kernel-dir $1: the one directory in lib/modules,
# with its vmlinuz in boot.
kernel_dir_release()
{
	local rels

	rels=$(ls "$1/lib/modules" 2>/dev/null) ||
		die "--kernel-dir $1: no lib/modules (scripts/debug-kernel.sh makes one)"
	[ "$(wc -w <<<"$rels")" = 1 ] ||
		die "--kernel-dir $1: lib/modules holds '$rels', not one release"
	[ -r "$1/boot/vmlinuz-$rels" ] ||
		die "--kernel-dir $1: no boot/vmlinuz-$rels"
	[ -r "$1/lib/modules/$rels/modules.dep" ] ||
		die "--kernel-dir $1: no lib/modules/$rels/modules.dep"
	echo "$rels"
}

# The module must be built for the kernel the guest boots: insmod would
# refuse it, and every test would fail the same way.
check_vermagic()
{
	local magic

	[ -f "$kmod" ] ||
		die "module missing: $kmod (build it first: make module KVER=$cur_series)"
	magic=$(/sbin/modinfo -F vermagic "$kmod" 2>/dev/null) || magic=
	[ "${magic%% *}" = "$guest_ver" ] ||
		die "$kmod is built for '${magic%% *}', the guest runs $guest_ver"
}

# --- 2. The initramfs -------------------------------------------------------

# What the packages install, if --dkms was given, into the initramfs tree
# $1, as on a machine where both are installed: the module dkms built
# for the current series (it too must be built for the guest's kernel)
# where dkms installs it, lib/modules/RELEASE/updates/dkms/ringvm.ko,
# with modules.dep made again by kmod's depmod, as dkms does, so that
# modprobe finds it; /ringvm/dkms/ringvm.ko links to it.  And the vmctl
# package's files, unpacked by scripts/dkms-check.sh from the .deb, in
# /ringvm/dkms/vmctl.  install_test uses both.
ship_dkms_module()
{
	local ko=$dkms_dir/ringvm-$cur_series.ko magic
	local upd=lib/modules/$guest_ver/updates/dkms

	[ -f "$ko" ] || die "--dkms: no $ko (make dkms-check)"
	magic=$(/sbin/modinfo -F vermagic "$ko" 2>/dev/null) || magic=
	[ "${magic%% *}" = "$guest_ver" ] ||
		die "$ko is built for '${magic%% *}', the guest runs $guest_ver"
	mkdir -p "$1/$upd" "$1/ringvm/dkms"
	cp "$ko" "$1/$upd/ringvm.ko"
	/sbin/depmod -b "$1" "$guest_ver" ||
		die "depmod failed on the initramfs tree"
	ln -s "/$upd/ringvm.ko" "$1/ringvm/dkms/ringvm.ko"
	[ -d "$dkms_dir/vmctl" ] ||
		die "--dkms: no $dkms_dir/vmctl, the vmctl package (make dkms-check)"
	check_binary "$dkms_dir/vmctl/usr/bin/vmctl" "the vmctl package's vmctl"
	cp -a "$dkms_dir/vmctl" "$1/ringvm/dkms/vmctl"
}

# Check an executable the guest will run; $2 says what it is.  The guest
# has no libc, so ELF binaries must be static.
check_binary()
{
	[ -f "$1" ] || die "$2 missing: $1 (build it first: make)"
	[ -x "$1" ] || die "$2 not executable: $1"
	if readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; then
		die "$2 is dynamically linked, the guest has no libc: $1"
	fi
}

# The names test list $1 (or stdin) holds, without blanks and comments.
list_names()
{
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$@"
}

# Keep only the names given with --only in list $1, in its order.
filter_list()
{
	local names

	names=$(list_names "$1" | grep -xF -f <(xargs -n 1 <<<"$only") || true)
	printf '%s\n' "$names" | sed '/^$/d' >"$1"
}

# Put the selftests into $1/ringvm/tests: tests.list and the binaries;
# tests-smp.list if the suite has tests that need two CPUs, tests-long.list
# if it has tests that take most of a Bochs run, and tests-vmx.list, the
# rest, which vmx runs when vmx-long runs those.
install_tests()
{
	local dest=$1/ringvm/tests name list root

	if [ -n "$tests_dir" ]; then
		[ -f "$tests_dir/tests.list" ] || die "no tests.list in $tests_dir"
		mkdir -p "$dest"
		cp -a "$tests_dir/." "$dest/"
	else
		[ -f "$top/selftests/Makefile" ] ||
			die "selftests/Makefile missing: there are no tests to run"
		make -s -C "$top/selftests" install INSTALL_PATH="$dest" >&2 ||
			die "make -C selftests install failed"
		[ -f "$dest/tests.list" ] ||
			die "make -C selftests install left no tests.list"
	fi

	if [ -n "$only" ]; then
		for name in $only; do
			cat "$dest"/tests*.list | list_names | grep -qxF "$name" ||
				die "--only: $name is in no test list"
		done
	fi
	for list in "$dest"/tests.list "$dest"/tests-smp.list \
		    "$dest"/tests-long.list "$dest"/tests-vmx.list; do
		[ -f "$list" ] || continue
		[ -z "$only" ] || filter_list "$list"
		for name in $(list_names "$list"); do
			check_binary "$dest/$name" "test $name"
		done
	done
	[ -n "$(list_names "$dest/tests.list")" ] || [ -n "$only" ] ||
		die "tests.list names no test"

	# A test's NAME.root (a tree for the initramfs root, such as the
	# python3 the ynl test runs) leaves the stage: it is packed apart
	# and added only for the machines that run NAME (machine_initrd).
	rm -rf "$work/roots"
	mkdir -p "$work/roots"
	for root in "$dest"/*.root; do
		[ -d "$root" ] || continue
		name=$(basename "$root" .root)
		# not grep -q: with pipefail, an early exit can fail sed
		if list_names "$dest"/tests*.list |
		   grep -xF "$name" >/dev/null; then
			mv "$root" "$work/roots/$name"
		else
			rm -rf "$root"
		fi
	done
}

# The Linux guest that vmctl boots inside the test machine: the machine's
# own kernel, and an initramfs of busybox and guest-init.sh.
build_guest_linux()
{
	local stage=$work/guest-initramfs applet

	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys}
	cp /bin/busybox "$stage/bin/"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
	done
	ln -s bin "$stage/sbin"
	install -m 755 "$runner_dir/guest-init.sh" "$stage/init"
	(cd "$stage" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$1/linux-initrd.gz"
	cp "$kernel_dir/boot/vmlinuz-$guest_ver" "$1/vmlinuz"
}

# Pack the initramfs for $mode into $work/initrd.gz.
build_initramfs()
{
	local stage=$work/initramfs applet

	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,ringvm,lib/modules}
	check_binary /bin/busybox "busybox (package busybox-static)"
	cp /bin/busybox "$stage/bin/"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
	done
	ln -s bin "$stage/sbin"
	install -m 755 "$runner_dir/init.sh" "$stage/init"

	[ -f "$kmod" ] || die "module missing: $kmod (build it first: make)"
	cp "$kmod" "$stage/ringvm/ringvm.ko"
	check_binary "$vmctl" vmctl
	cp "$vmctl" "$stage/ringvm/vmctl"
	[ -f "$guest" ] ||
		die "example guest missing: $guest (build it first: make)"
	cp "$guest" "$stage/ringvm/hello.bin"
	# Every other test guest userspace/Makefile builds (*.bin flat
	# images, *.mb multiboot kernels) goes to /ringvm/guests.
	mkdir -p "$stage/ringvm/guests"
	find "$top/userspace/guest" -maxdepth 1 \( -name '*.bin' -o -name '*.mb' \) \
		! -name hello.bin -exec cp {} "$stage/ringvm/guests/" \;
	cp -a "$kernel_dir/lib/modules/$guest_ver" "$stage/lib/modules/"
	[ -z "$dkms_dir" ] || ship_dkms_module "$stage"
	build_guest_linux "$stage/ringvm/guests"
	[ "$mode" != tests ] || install_tests "$stage"
	if [ "$mode" = bench ]; then
		check_binary "$top/selftests/bench" "the benchmark (selftests/bench)"
		cp "$top/selftests/bench" "$stage/ringvm/bench"
	fi
	if [ -n "$bench_guard" ]; then
		[ -f "$bench_guard" ] || die "no baseline: $bench_guard"
		cp "$bench_guard" "$stage/ringvm/bench-baseline.txt"
	fi

	(cd "$stage" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initrd.gz"
	# The same without the Linux guest (9 MB), for machines whose list
	# does not boot it: Bochs reads the initramfs slowly (minutes).
	rm "$stage/ringvm/guests/vmlinuz" "$stage/ringvm/guests/linux-initrd.gz"
	(cd "$stage" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initrd-lite.gz"
	# Each test's root tree, a segment of its own: the kernel unpacks
	# concatenated compressed archives one after the other.
	rm -f "$work"/root-*.gz
	for root in "$work"/roots/*; do
		[ -d "$root" ] || continue
		(cd "$root" && find . | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --quiet) |
			gzip -1 >"$work/root-$(basename "$root").gz"
	done
}

# The initramfs for machine $1: the one without the Linux guest when its
# test list does not name linux_boot_test (the demo boots the guest),
# followed by the root segment of each test in its list that has one.
machine_initrd()
{
	local list=$work/initramfs/ringvm/tests/${machine_list[$1]}
	local base=$initrd seg out

	# make bench boots the Linux guest on svm only (bench linux; under
	# Bochs two more boots would take some 20 minutes), never the guard
	if { [ "$mode" = bench ] &&
	     { [ "$1" != svm ] || [ -n "$bench_guard" ]; }; } ||
	   { [ "$mode" = tests ] && [ -f "$list" ] &&
	     ! grep -qx linux_boot_test "$list"; }; then
		base=${initrd%.gz}-lite.gz
	fi
	out=$base
	if [ "$mode" = tests ] && [ -f "$list" ]; then
		for seg in "$work"/root-*.gz; do
			[ -f "$seg" ] || continue
			seg=$(basename "$seg" .gz)
			grep -qx "${seg#root-}" "$list" || continue
			out=${out%.gz}+${seg#root-}.gz
		done
	fi
	if [ "$out" != "$base" ] && [ ! -f "$out" ]; then
		cp "$base" "$out.tmp"
		for seg in "$work"/root-*.gz; do
			[ -f "$seg" ] || continue
			seg=$(basename "$seg" .gz)
			grep -qx "${seg#root-}" "$list" || continue
			cat "$work/$seg.gz" >>"$out.tmp"
		done
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# --- 3. The machines --------------------------------------------------------

# Why machine $1 cannot run here; nothing when it can.
machine_unusable()
{
	local list=$work/initramfs/ringvm/tests/${machine_list[$1]}

	if [ "$1" = kvm ] && ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "host has no VMX/SVM"
	elif [ "$1" = kvm ] && ! { : <>/dev/kvm; } 2>/dev/null; then
		echo "/dev/kvm does not open"
	elif [ "$mode" != tests ]; then
		return 0
	elif [[ "$1" = vmx-smp || "$1" = vmx-long ]] && [ ! -f "$list" ]; then
		echo "the suite installs no ${machine_list[$1]}"
	elif [ -z "$(list_names "$list")" ]; then
		echo "${machine_list[$1]} names no test${only:+ of --only}"
	fi
}

# Whether machine $1 runs in this run (named, on any series, and usable).
machine_runs()
{
	[[ " $machines " == *" $1"[@\ ]* ]] && [ -z "$(machine_unusable "$1")" ]
}

# The CPUs of the vmx machine, unless RINGVM_VMX_CPUS says: the CPU hotplug
# tests need two, but a 2-CPU Bochs is slow, so vmx has one CPU only when
# vmx-smp runs the tests that need two (tests-smp.list).  And its list:
# without the long tests (tests-vmx.list) when vmx-long runs them.
choose_vmx_setup()
{
	if [ "$mode" = tests ] && machine_runs vmx-long; then
		machine_list[vmx]=tests-vmx.list
	fi
	[ -z "$vmx_cpus" ] || return 0
	vmx_cpus=2
	if [ "$mode" != tests ] || machine_runs vmx-smp; then
		vmx_cpus=1
	fi
}

# The kernel command line; init.sh reads the ringvm_* words.
cmdline()
{
	echo "console=ttyS0 quiet panic=-1 ${machine_params[$1]}" \
		"ringvm_mode=$mode ringvm_list=${machine_list[$1]}" \
		"ringvm_test_timeout=$test_timeout" \
		"ringvm_bench=${bench_guard:+guard}" \
		${RINGVM_SMP_BOOT:+"RINGVM_SMP_BOOT=$RINGVM_SMP_BOOT"} \
		${RINGVM_KVM_BOOT:+"RINGVM_KVM_BOOT=$RINGVM_KVM_BOOT"} \
		${RINGVM_TCG_PERIODIC:+"RINGVM_TCG_PERIODIC=$RINGVM_TCG_PERIODIC"} \
		${RINGVM_FUZZ_SEED:+"RINGVM_FUZZ_SEED=$RINGVM_FUZZ_SEED"} \
		${RINGVM_FUZZ_CASES:+"RINGVM_FUZZ_CASES=$RINGVM_FUZZ_CASES"}
}

qemu_start()	# MACHINE CONSOLE EMULOG ACCEL-ARGS...
{
	local machine=$1 console=$2 emulog=$3

	shift 3
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 missing: run scripts/setup.sh"
	setsid qemu-system-x86_64 "$@" -m "$memory" -smp "$(machine_cpus "$machine")" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$console" \
		-kernel "$kernel_dir/boot/vmlinuz-$guest_ver" \
		-initrd "$(machine_initrd "$machine")" \
		-append "$(cmdline "$machine")" \
		</dev/null >"$emulog" 2>&1 &
	emu_pid=$!
}

# Bochs has no direct kernel boot: wrap kernel and initramfs in an isolinux
# ISO.  Its debugger stops before the first instruction, so -rc feeds it "c";
# it has no headless display, so it runs on Xvfb.
bochs_start()	# MACHINE CONSOLE EMULOG CPUS
{
	local machine=$1 console=$2 emulog=$3 cpus=$4
	local dir=$work/$machine-$cur_series tool

	for tool in bochs xvfb-run xorriso; do
		command -v "$tool" >/dev/null ||
			die "$tool missing: run scripts/setup.sh"
	done
	rm -rf "$dir"
	mkdir -p "$dir/iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin \
		/usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/iso/isolinux/"
	cp "$kernel_dir/boot/vmlinuz-$guest_ver" "$dir/iso/vmlinuz"
	cp "$(machine_initrd "$machine")" "$dir/iso/initrd.gz"
	cat >"$dir/iso/isolinux/isolinux.cfg" <<-EOF
	DEFAULT linux
	PROMPT 0
	LABEL linux
	  KERNEL /vmlinuz
	  APPEND initrd=/initrd.gz $(cmdline "$machine")
	EOF
	xorriso -as mkisofs -o "$dir/boot.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$dir/iso" >"$dir/xorriso.log" 2>&1 ||
		die "xorriso failed, see $dir/xorriso.log"

	cat >"$dir/bochsrc" <<-EOF
	megs: 512
	cpu: model=corei7_skylake_x, count=$cpus, ips=$vmx_ips, reset_on_triple_fault=0
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
	ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
	ata0-master: type=cdrom, path=$dir/boot.iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$console
	display_library: x
	speaker: enabled=0
	log: $emulog
	panic: action=fatal
	error: action=report
	info: action=ignore
	clock: sync=none, time0=local
	EOF
	echo c >"$dir/cmds"
	# A display number of our own: two 'xvfb-run -a' started together
	# both take :99, and one of them fails.
	setsid xvfb-run -a -n $((100 + RANDOM % 800)) \
		bochs -q -f "$dir/bochsrc" -rc "$dir/cmds" \
		</dev/null >"$emulog.stdout" 2>&1 &
	emu_pid=$!
}

machine_cpus()
{
	if [ "$mode" = bench ]; then
		echo 1
	elif [ "$1" = vmx ]; then
		echo "$vmx_cpus"
	elif [ "$1" = vmx-long ]; then
		echo 1
	else
		echo 2
	fi
}

start_machine()	# MACHINE CONSOLE EMULOG
{
	case "$1" in
	# The benchmark's method: QEMU advances the TSC one tick per
	# instruction (icount, shift 0: an instruction a nanosecond).
	svm)	if [ "$mode" = bench ]; then
			qemu_start "$@" -accel tcg -cpu max -icount shift=0
		else
			qemu_start "$@" -accel "tcg,thread=$tcg_thread" -cpu max
		fi ;;
	kvm)	qemu_start "$@" -enable-kvm -cpu host ;;
	vmx*)	bochs_start "$@" "$(machine_cpus "$1")" ;;
	esac
}

# Stop the emulator's whole session (xvfb-run, Xvfb and Bochs together).
kill_emulator()
{
	local tries=20

	[ -n "$emu_pid" ] || return 0
	kill -TERM -- "-$emu_pid" 2>/dev/null || true
	while [ $((tries -= 1)) -ge 0 ]; do
		kill -0 -- "-$emu_pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL -- "-$emu_pid" 2>/dev/null || true
	wait "$emu_pid" 2>/dev/null || true
	emu_pid=
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	local pid

	for pid in $lane_pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $lane_pids; do
		wait "$pid" 2>/dev/null || true
	done
	kill_emulator
	if [ -n "$work" ]; then
		if [ "$keep" = 1 ]; then
			log "work directory kept: $work"
		else
			rm -rf "$work"
		fi
	fi
}

# Wait for the emulator to finish, printing each test as it starts; stop it
# after $2 seconds, shortly after a panic, or when it does not power off
# after the end marker.  Sets watch_note to why it was stopped, if it was,
# and boot_secs, end_secs, watch_secs to when things happened.
watch_machine()	# MACHINE TIMEOUT CONSOLE
{
	local machine=$1 limit=$2 console=$3
	local start=$SECONDS seen=0 n end_at='' panic_at='' name

	watch_note='' boot_secs='?' end_secs='?'
	while kill -0 "$emu_pid" 2>/dev/null; do
		sleep 2
		if [ "$boot_secs" = "?" ] &&
		   grep -aq '^# ringvm-runner: start' "$console"; then
			boot_secs=$((SECONDS - start))
		fi
		n=$(grep -ac '^# ringvm-test: ' "$console" || true)
		if [ "$n" -gt "$seen" ]; then
			sed -n 's/^# ringvm-test: \([^[:space:]]*\).*/\1/p' \
				"$console" | tail -n +$((seen + 1)) |
			while read -r name; do
				printf '%s: [%4ds] %s\n' "$machine" \
					$((SECONDS - start)) "$name"
			done
			seen=$n
		fi
		if [ -z "$end_at" ] &&
		   grep -aq '^# ringvm-runner: end' "$console"; then
			end_at=$SECONDS
			end_secs=$((end_at - start))
		fi
		if [ -z "$panic_at" ] &&
		   grep -aq 'Kernel panic - not syncing' "$console"; then
			panic_at=$SECONDS
		fi
		if [ -n "$end_at" ] && [ $((SECONDS - end_at)) -gt 60 ]; then
			watch_note="did not power off after the end marker; stopped"
			break
		fi
		if [ -n "$panic_at" ] && [ $((SECONDS - panic_at)) -gt 10 ]; then
			watch_note="stopped after the kernel panic"
			break
		fi
		if [ $((SECONDS - start)) -ge "$limit" ]; then
			watch_note="timed out after ${limit}s (wall clock); stopped"
			break
		fi
	done
	watch_secs=$((SECONDS - start))
	kill_emulator
}

# Boot one machine (a spec: svm, svm@6.12) and judge its console; leave
# its counts in $work/SPEC.result.
run_machine()
{
	local spec=$1 machine=${1%%@*} suffix='' console emulog lockfd limit
	local label result p f s bad table

	use_series "$(series_of "$spec")"
	label=$(label_of "$spec")
	[ -z "$kernel_dir_arg" ] || suffix=-debug
	[ "$mode" = tests ] || suffix=$suffix-$mode
	[ -z "$bench_guard" ] || suffix=$suffix-guard
	mkdir -p "$top/build/logs"
	console=$top/build/logs/$machine-$cur_series$suffix.log
	emulog=$top/build/logs/$machine-$cur_series$suffix.emulator.log
	limit=${timeout:-${machine_timeout[$machine]}}

	# Two runs in one tree must not write one log at once.
	exec {lockfd}>"$top/build/runner/$machine-$cur_series$suffix.lock"
	if ! flock -n "$lockfd"; then
		log "$label: waiting for another run of $machine-$cur_series$suffix"
		flock "$lockfd"
	fi
	rm -f "$console" "$emulog" "$emulog.stdout"
	: >"$console"

	echo "$label: booting $guest_ver on $(machine_cpus "$machine") CPU(s)" \
		"(limit ${limit}s, log ${console#"$top"/})"
	start_machine "$machine" "$console" "$emulog"
	watch_machine "$label" "$limit" "$console"
	exec {lockfd}>&-

	result=$(awk -v machine="$label" -v mode="$mode" \
		-f "$runner_dir/parse.awk" "$console")
	read -r _ p f s bad <<<"$(tail -n 1 <<<"$result")"
	sed '$d' <<<"$result"
	if [ -n "$watch_note" ]; then
		echo "$label: $watch_note"
		case "$watch_note" in
		"did not power off"*) ;;
		*) bad=1 ;;
		esac
	fi
	if [ "$bad" = 1 ] && ! grep -aq '^# ringvm-runner: start' "$console"; then
		echo "$label: the last lines the emulator wrote:"
		tail -n 10 "$emulog" "$emulog.stdout" 2>/dev/null | sed 's/^/    /'
	fi
	echo "$label: reached /init after ${boot_secs}s, end marker after" \
		"${end_secs}s, stopped after ${watch_secs}s"

	if [ "$mode" = bench ]; then
		table=$top/build/logs/bench${bench_guard:+-guard}
		table=$table-$machine-$cur_series.txt
		bench_table "$console" "$table"
		[ -s "$table" ] || bad=1
	fi
	if [ "$mode" != tests ]; then
		[ "$bad" = 1 ] && echo "$label: $mode failed" ||
			echo "$label: $mode passed"
	else
		echo "$label: $p passed, $f failed, $s skipped"
	fi
	echo "$p $f $s $bad" >"$work/$spec.result"
}

# Keep the benchmark's table from console $1 in $2 (nothing when there is
# none) and say where it is.
bench_table()
{
	sed -n '/^# ringvm-bench-table-begin/,/^# ringvm-bench-table-end/p' "$1" |
		grep -av '^# ringvm-' | tr -d '\r' >"$2" || true
	if [ -s "$2" ]; then
		echo "$label: the table is in ${2#"$top"/}"
	else
		rm -f "$2"
		echo "$label: the benchmark printed no table"
	fi
}

# Run machines $@ one after another, in a subshell of their own: it stops
# its own emulator if it is killed.
run_lane()	# MACHINE...
{
	local machine

	trap kill_emulator EXIT
	trap 'exit 130' INT TERM
	for machine in "$@"; do
		run_machine "$machine"
	done
}

# Split the usable machines into $jobs lanes and run the lanes side by side.
# Bochs is single-threaded and the vmx machine runs longest, so it has a
# lane of its own (vmx on any series); the others share the rest, in the
# order given (make check: svm, vmx-smp, vmx-long, kvm, svm@6.12).  Under Bochs
# (clock sync=none) the guest's time follows its instruction count, so a
# busy host slows the vmx machines down but cannot make a guest timeout
# fire early.
run_lanes()	# MACHINE...
{
	local -a lane=() pids=()
	local machine i n=0

	for machine in "$@"; do
		if [ "$jobs" -gt 1 ] && [ "${machine%%@*}" = vmx ]; then
			i=0
		else
			i=$(( jobs > 1 ? 1 + n++ % (jobs - 1) : 0 ))
		fi
		lane[i]="${lane[i]:-} $machine"
	done
	for i in "${!lane[@]}"; do
		# shellcheck disable=SC2086 # a list of machine names
		run_lane ${lane[i]} &
		pids+=("$!")
	done
	lane_pids="${pids[*]}"
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	lane_pids=
}

# Make series $1 the one the functions above work on: cur_series, kmod,
# guest_ver, kernel_dir and initrd (set by prepare_series).
use_series()
{
	cur_series=$1
	kmod=${series_kmod[$1]}
	guest_ver=${series_ver[$1]:-}
	kernel_dir=${series_dir[$1]:-}
	initrd=$work/initrd-$1.gz
}

# Find the guest kernel of series $1, check that its module is built for
# it, and pack its initramfs.
prepare_series()
{
	use_series "$1"
	if [ -n "$kernel_dir_arg" ]; then
		kernel_dir=$(cd "$kernel_dir_arg" && pwd)
		guest_ver=$(kernel_dir_release "$kernel_dir")
	else
		guest_ver=$(guest_version "$1")
		kernel_dir=$(guest_kernel "$guest_ver")
	fi
	check_vermagic
	build_initramfs
	mv "$work/initrd.gz" "$initrd"
	mv "$work/initrd-lite.gz" "${initrd%.gz}-lite.gz"
	series_ver[$1]=$guest_ver
	series_dir[$1]=$kernel_dir
}

main()
{
	local machine series label why p f s bad

	parse_args "$@"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$top/build/runner"
	work=$(mktemp -d "$top/build/runner/run.XXXXXX")

	for series in $series_list; do
		prepare_series "$series"
	done
	choose_vmx_setup

	total_p=0 total_f=0 total_s=0 any_bad=0 ran=0
	local -a usable=()
	for machine in $machines; do
		why=$(machine_unusable "${machine%%@*}")
		if [ -n "$why" ]; then
			echo "$(label_of "$machine"): skipped ($why)"
			continue
		fi
		usable+=("$machine")
	done
	run_lanes "${usable[@]}"

	for machine in "${usable[@]}"; do
		label=$(label_of "$machine")
		if [ ! -f "$work/$machine.result" ]; then
			echo "$label: no result (its run stopped early)"
			any_bad=1
			continue
		fi
		read -r p f s bad <"$work/$machine.result"
		[ "$mode" != tests ] ||
			echo "$label: $p passed, $f failed, $s skipped"
		total_p=$((total_p + p))
		total_f=$((total_f + f))
		total_s=$((total_s + s))
		[ "$bad" = 0 ] || any_bad=1
		ran=$((ran + 1))
	done

	[ "$ran" -gt 0 ] || { echo "no machine ran"; any_bad=1; }
	if [ "$mode" != tests ]; then
		[ "$any_bad" = 0 ] && echo "$mode passed" || echo "$mode failed"
	else
		echo "$total_p passed, $total_f failed, $total_s skipped"
	fi
	return "$any_bad"
}

# One line, so that bash has read it all before main runs: an edit to
# this file during a run cannot feed it half a line afterwards.
main "$@"; exit $?
