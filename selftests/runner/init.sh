#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the ringvm test machines' initramfs (busybox sh, runs as PID 1).
#
# Mounts the pseudo file systems, then in "tests" mode runs every test named
# in /ringvm/tests/$ringvm_list, one after the other, and dumps the kernel
# log; in "demo" mode loads ringvm, creates a VM with vmctl, runs the
# example guest /ringvm/hello.bin in it, then boots this machine's own
# kernel in another (/ringvm/guests), destroys them and unloads ringvm;
# in "bench" mode runs /ringvm/bench under ringvm, then under KVM, and
# prints its table, or with ringvm_bench=guard runs it under ringvm only
# and compares it with /ringvm/bench-baseline.txt.
# Everything goes to the console (ttyS0), framed by markers that
# selftests/runner/run.sh parses:
#
#	# ringvm-runner: start MODE
#	# ringvm-test: NAME			before each test
#	# ringvm-test-exit: NAME RC		after it
#	# ringvm-kmemleak-begin / # ringvm-kmemleak-end	kmemleak's report
#						(kernels with kmemleak only)
#	# ringvm-kmemleak-fail: WHY		kmemleak would not scan
#	# ringvm-dmesg-begin / # ringvm-dmesg-end	the whole kernel log
#	# ringvm-runner: end
# and in demo mode, around each step and at the end of them:
#	# ringvm-demo: CMD
#	# ringvm-demo-fail: WHY			output that is not right
#	# ringvm-demo-exit: RC WANT CMD		its exit code, the one wanted
#	# ringvm-demo-done
# and in bench mode, demo steps too, the last one's output (the table)
# between
#	# ringvm-bench-table-begin / # ringvm-bench-table-end
#
# The host passes its choices on the kernel command line; the kernel hands
# unknown NAME=VALUE words to init as environment variables:
#	ringvm_mode=tests|demo|bench what to do (default tests)
#	ringvm_list=FILE	 test list in /ringvm/tests (default tests.list)
#	ringvm_test_timeout=SECS limit for one test binary, in guest time
#				 (default 300; the host's wall-clock limit on
#				 the whole machine is the backstop)
#	ringvm_bench=guard	 bench mode: the regression guard instead

PATH=/ringvm:/bin
export PATH

mode=${ringvm_mode:-tests}
list=${ringvm_list:-tests.list}
test_timeout=${ringvm_test_timeout:-300}

mount_fs()
{
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t tmpfs tmpfs /tmp
}

# Wait until the UART has sent everything written to the console.  busybox
# stty sets the attributes with TCSADRAIN, which returns only once the
# transmitter is empty.
drain_console()
{
	stty -F /dev/console "$(stty -F /dev/console -g)" 2>/dev/null
}

# Run one test binary with the environment the suite expects.  Its start
# marker is drained first: should the test crash the kernel, the panic
# must not overwrite the marker still queued in the tty.
#
# A test may need longer than $test_timeout: NAME.timeout beside it says
# how long (selftests/Makefile, TEST_TIMEOUTS).
run_test()
{
	name=$1
	limit=$test_timeout

	[ -r "/ringvm/tests/$name.timeout" ] &&
		read -r limit <"/ringvm/tests/$name.timeout"
	echo "# ringvm-test: $name"
	drain_console
	(cd /ringvm/tests &&
	 RINGVM_KO=/ringvm/ringvm.ko RINGVM_VMCTL=/ringvm/vmctl \
	 RINGVM_HELLO=/ringvm/hello.bin \
		timeout "$limit" "./$name")
	rc=$?
	echo "# ringvm-test-exit: $name $rc"
}

# Keep ftrace's command-line recorder registered for the whole run
# (README.md, "Quirks": a stale INT3 after a static-key flip).  The first
# trace event enabled registers it on sched_switch and sched_wakeup, the
# last one disabled unregisters it, and each time their jump labels are
# patched: a dozen times a run by trace_test and perf_test's trace-cmd.
# An event enabled in an instance of its own, whose buffer is off, holds
# it from here on (quirks/static_key_flips lets it go).
pin_cmdline_recorder()
{
	pin=/sys/kernel/tracing/instances/ringvm-runner

	{ [ -d /sys/kernel/tracing/instances ] ||
	  mount -t tracefs tracefs /sys/kernel/tracing; } &&
	mkdir $pin && echo 0 >$pin/tracing_on &&
	echo 1 >$pin/events/sched/sched_kthread_stop/enable ||
	echo "# ringvm-runner: cannot pin ftrace's command-line recorder"
}

# The same quirk through perf's perf_sched_events key, which the first
# per-task perf event turns on and the last one off (perf_test's perf
# trace and perf stat oopsed in __schedule that way on 6.12, 2026-12-06):
# a per-task software event on this shell, open until power-off, holds
# it on.  Only where the quirk lives (QEMU TCG, the svm machines, two
# CPUs); the Bochs machines run as before.
pin_perf_sched_events()
{
	grep -qw svm /proc/cpuinfo && [ "$(nproc)" -gt 1 ] || return 0
	if [ -x /usr/bin/perf ]; then
		/usr/bin/perf stat -e cpu-clock -p $$ -o /dev/null \
			>/dev/null 2>&1 </dev/null &
	else
		echo "# ringvm-runner: no perf to pin perf_sched_events"
	fi
}

run_tests()
{
	if [ ! -r "/ringvm/tests/$list" ]; then
		echo "# ringvm-runner: no /ringvm/tests/$list"
		return
	fi
	# Read the list on fd 3 so a test cannot consume it from stdin.
	while read -r name <&3; do
		case "$name" in
		''|'#'*) continue ;;
		esac
		run_test "$name" </dev/null
	done 3<"/ringvm/tests/$list"
}

# demo_step WANT CHECK CMD...: run CMD (under a time limit), show what it
# printed, and report its exit code and the one wanted; CHECK is "-" or a
# function given CMD's stdout that prints "# ringvm-demo-fail: WHY" when
# the output is not what it should be.  The host requires every step to
# exit with its WANT and no step to fail a check.
demo_step()
{
	want=$1
	check=$2
	shift 2
	echo "# ringvm-demo: $*"
	timeout "${demo_limit:-120}" "$@" </dev/null >/tmp/demo.out 2>/tmp/demo.err
	rc=$?
	cat /tmp/demo.out /tmp/demo.err
	[ "$check" = - ] || "$check" /tmp/demo.out
	echo "# ringvm-demo-exit: $rc $want $*"
}

# vmctl create prints the new VM's id and nothing else.
demo_check_id()
{
	grep -qx '[1-9][0-9]*' "$1" ||
		echo "# ringvm-demo-fail: vmctl create printed no VM id"
}

demo_check_list()
{
	grep -q '^[0-9][0-9]* *demo  *16M  *0/1 ' "$1" ||
		echo "# ringvm-demo-fail: vmctl list shows no VM demo with 16M and 0/1 vCPUs"
}

# Exactly the four lines of userspace/guest/hello.S, in order.
demo_check_hello()
{
	printf '%s\n' "ringvm: hello from real mode" \
		"ringvm: hello from protected mode" \
		"ringvm: hello from long mode" "hypervisor: ringvm" \
		>/tmp/demo.want
	cmp -s /tmp/demo.want "$1" ||
		echo "# ringvm-demo-fail: vmctl run did not print the four lines of hello.bin"
}

# The Linux guest (guest-init.sh) booted to /init and powered off.
demo_check_linux()
{
	grep -q '^ringvm-guest: poweroff' "$1" &&
		grep -q 'reboot: Power down' "$1" ||
		echo "# ringvm-demo-fail: the Linux guest did not boot to /init and power off"
}

# The exit code hello.bin asks for: it writes 0 to port 0xf4, and vmctl
# exits with (0 << 1) | 1 = 1, like QEMU's isa-debug-exit.
run_demo()
{
	demo_step 0 - insmod /ringvm/ringvm.ko
	demo_step 0 - vmctl info
	demo_step 0 demo_check_id vmctl create demo --memory 16M
	demo_step 0 demo_check_list vmctl list
	demo_step 1 demo_check_hello vmctl run demo --image /ringvm/hello.bin
	demo_step 0 - vmctl destroy demo
	# This machine's own kernel as a guest, with a busybox initramfs
	# whose /init prints a few facts and powers off.
	demo_step 0 demo_check_id vmctl create linux --memory 256M
	demo_limit=900 demo_step 0 demo_check_linux vmctl run linux \
		--kernel /ringvm/guests/vmlinuz \
		--initrd /ringvm/guests/linux-initrd.gz \
		--cmdline console=ttyS0 --stats
	demo_step 0 - vmctl destroy linux
	demo_step 0 - rmmod ringvm
	echo "# ringvm-demo-done"
}

# Keep what a benchmark step printed (a demo_step check) in
# /tmp/bench.$bench_side, for the table.
bench_keep()
{
	cp "$1" "/tmp/bench.$bench_side"
}

# The same, added to what the side has (bench apic after bench run).
bench_add()
{
	cat "$1" >>"/tmp/bench.$bench_side"
}

# The benchmark (selftests/bench.c, make bench): the method check, the
# round trips, the local APIC paths (bench apic) and, where the guest is
# there, a Linux boot (bench linux) under ringvm, then
# under KVM in the same boot: with its default parameters and, on Intel,
# both of them with vmentry_l1d_flush=never as well, so that the table
# has a like-for-like column without the L1D flush.  One table at the
# end.
run_bench()
{
	kvm_mod=kvm_amd
	grep -qw vmx /proc/cpuinfo && kvm_mod=kvm_intel
	sides=/tmp/bench.ringvm
	demo_limit=600

	demo_step 0 - /ringvm/bench check
	demo_step 0 - insmod /ringvm/ringvm.ko
	bench_side=ringvm
	demo_step 0 bench_keep /ringvm/bench run ringvm ringvm
	demo_step 0 bench_add /ringvm/bench apic ringvm ringvm
	# a Linux boot too where the runner shipped the guest (svm: run.sh)
	linux_bench=
	[ ! -f /ringvm/guests/vmlinuz ] || linux_bench=1
	[ -z "$linux_bench" ] ||
		demo_step 0 bench_add /ringvm/bench linux ringvm ringvm
	demo_step 0 - rmmod ringvm
	# ringvm with KVM-l1d-never's setting too: a like-for-like column
	never_side=
	if [ "$kvm_mod" = kvm_intel ]; then
		demo_step 0 - insmod /ringvm/ringvm.ko vmentry_l1d_flush=never
		bench_side=ringvm-never
		demo_step 0 bench_keep /ringvm/bench run ringvm ringvm-l1d-never
		demo_step 0 bench_add /ringvm/bench apic ringvm ringvm-l1d-never
		never_side=/tmp/bench.ringvm-never
		demo_step 0 - rmmod ringvm
	fi
	demo_step 0 - modprobe "$kvm_mod"
	bench_side=kvm
	demo_step 0 bench_keep /ringvm/bench run kvm KVM
	demo_step 0 bench_add /ringvm/bench apic kvm KVM
	[ -z "$linux_bench" ] ||
		demo_step 0 bench_add /ringvm/bench linux kvm KVM
	sides="$sides /tmp/bench.kvm"
	demo_step 0 - rmmod "$kvm_mod" kvm
	if [ "$kvm_mod" = kvm_intel ]; then
		demo_step 0 - modprobe kvm_intel vmentry_l1d_flush=never
		bench_side=kvm-never
		demo_step 0 bench_keep /ringvm/bench run kvm KVM-l1d-never
		demo_step 0 bench_add /ringvm/bench apic kvm KVM-l1d-never
		sides="$sides /tmp/bench.kvm-never"
		demo_step 0 - rmmod kvm_intel kvm
	fi
	echo "# ringvm-bench-table-begin"
	# shellcheck disable=SC2086 # a list of files
	demo_step 0 - /ringvm/bench table $sides $never_side
	echo "# ringvm-bench-table-end"
	echo "# ringvm-demo-done"
}

# The regression guard (make bench-guard): ringvm's round trips against
# the baseline, and the CPUID round trip once more with ringvm slowed on
# purpose (debug_slow_cpuid=1000, some 3000 instructions more), which
# 'bench guard' must flag; the guard's verdict is the last step's exit
# code.
run_bench_guard()
{
	demo_limit=600

	demo_step 0 - insmod /ringvm/ringvm.ko
	bench_side=ringvm
	demo_step 0 bench_keep /ringvm/bench run ringvm ringvm
	demo_step 0 - rmmod ringvm
	demo_step 0 - insmod /ringvm/ringvm.ko debug_slow_cpuid=1000
	bench_side=slowed
	demo_step 0 bench_keep /ringvm/bench run ringvm ringvm-slowed cpuid
	demo_step 0 - rmmod ringvm
	echo "# ringvm-bench-table-begin"
	demo_step 0 - /ringvm/bench guard /ringvm/bench-baseline.txt \
		/tmp/bench.ringvm /tmp/bench.slowed
	echo "# ringvm-bench-table-end"
	echo "# ringvm-demo-done"
}

# On a kernel with kmemleak (make check KERNEL=debug): scan for leaks now
# that every test has run and unloaded ringvm, and dump the report.
# kmemleak lists no object younger than 5 s; the second scan drops what
# the first took for a leak only because a pointer to it was in flight.
kmemleak_report()
{
	km=/sys/kernel/debug/kmemleak

	[ -e "$km" ] || return 0
	sleep 6
	if ! { echo scan >"$km" && echo scan >"$km"; } 2>/dev/null; then
		echo "# ringvm-kmemleak-fail: writing scan to $km failed"
		return 0
	fi
	echo "# ringvm-kmemleak-begin"
	cat "$km" ||
		echo "# ringvm-kmemleak-fail: reading $km failed"
	echo "# ringvm-kmemleak-end"
}

# Which speculation mitigations the emulated CPU made the kernel pick, for
# the reader of the log (module/MITIGATIONS.md, "Emulators").
print_vulnerabilities()
{
	local f

	for f in /sys/devices/system/cpu/vulnerabilities/*; do
		[ -r "$f" ] && echo "# ringvm-vuln: ${f##*/}: $(cat "$f")"
	done
	return 0
}

mount_fs
echo "# ringvm-runner: start $mode cpus=$(nproc) kernel=$(uname -r)"
print_vulnerabilities
case "$mode" in
demo)	run_demo ;;
bench)	if [ "${ringvm_bench:-}" = guard ]; then
		run_bench_guard
	else
		run_bench
	fi ;;
*)	pin_cmdline_recorder; pin_perf_sched_events; run_tests
	kmemleak_report ;;
esac
echo "# ringvm-dmesg-begin"
dmesg
echo "# ringvm-dmesg-end"
echo "# ringvm-runner: end"
# poweroff -f does not wait for the UART to send what the tty still holds
# (up to 4 KiB: the end of the dmesg dump and the end marker).  Should the
# drain fail, wait 3 s, which is enough under Bochs with one CPU.
if ! drain_console; then
	echo "# ringvm-runner: cannot drain the console, waiting 3 s"
	sleep 3
fi
sync
poweroff -f
