#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the ringvm test machines' initramfs (busybox sh, runs as PID 1).
#
# Mounts the pseudo file systems, then in "tests" mode runs every test named
# in /ringvm/tests/$ringvm_list, one after the other, and dumps the kernel
# log; in "demo" mode loads ringvm, runs `vmctl info` twice and unloads it.
# Everything goes to the console (ttyS0), framed by markers that
# selftests/runner/run.sh parses:
#
#	# ringvm-runner: start MODE
#	# ringvm-test: NAME			before each test
#	# ringvm-test-exit: NAME RC		after it
#	# ringvm-dmesg-begin / # ringvm-dmesg-end	the whole kernel log
#	# ringvm-runner: end
#
# The host passes its choices on the kernel command line; the kernel hands
# unknown NAME=VALUE words to init as environment variables:
#	ringvm_mode=tests|demo	 what to do (default tests)
#	ringvm_list=FILE	 test list in /ringvm/tests (default tests.list)
#	ringvm_test_timeout=SECS limit for one test binary, in guest time
#				 (default 300; the host's wall-clock limit on
#				 the whole machine is the backstop)

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
run_test()
{
	name=$1

	echo "# ringvm-test: $name"
	drain_console
	(cd /ringvm/tests &&
	 RINGVM_KO=/ringvm/ringvm.ko RINGVM_VMCTL=/ringvm/vmctl \
		timeout "$test_timeout" "./$name")
	rc=$?
	echo "# ringvm-test-exit: $name $rc"
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

# Each demo step reports its exit code; the host requires all of them to be 0.
demo_step()
{
	echo "# ringvm-demo: $*"
	"$@"
	echo "# ringvm-demo-exit: $? $*"
}

run_demo()
{
	demo_step insmod /ringvm/ringvm.ko
	demo_step vmctl info
	demo_step vmctl info --json
	demo_step rmmod ringvm
}

mount_fs
echo "# ringvm-runner: start $mode cpus=$(nproc) kernel=$(uname -r)"
case "$mode" in
demo)	run_demo ;;
*)	run_tests ;;
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
