#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the Linux guest that the tests boot inside a ringvm VM: the
# test machine's own kernel, on vmctl's devices (selftests/linux_boot_test.c,
# and the demo).  busybox sh, PID 1, console on ttyS0.
#
# It prints, each on a line of its own, what the host checks:
#	ringvm-guest: init			/init started
#	ringvm-guest: cpus N			processors in /proc/cpuinfo
#	ringvm-guest: date S			seconds since the epoch, twice,
#						around a "sleep 2"
#	ringvm-guest: uptime A B		/proc/uptime before and after it
#	ringvm-guest: clocksource NAME		the one in use
#	ringvm-guest: shell			(ringvm_shell=1) a shell reads the
#						console from here on
#	ringvm-guest: poweroff
# then, without ringvm_shell, powers off with "poweroff -f".
#	ringvm_shell=1	(kernel command line) run an interactive shell on the
#			console instead; its "poweroff -f" ends the VM

PATH=/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

echo "ringvm-guest: init"
echo "ringvm-guest: cpus $(grep -c '^processor' /proc/cpuinfo)"
echo "ringvm-guest: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "ringvm-guest: date $(date +%s)"
read -r up0 _ </proc/uptime
sleep 2
read -r up1 _ </proc/uptime
echo "ringvm-guest: date $(date +%s)"
echo "ringvm-guest: uptime $up0 $up1"

if [ "$ringvm_shell" = 1 ]; then
	echo "ringvm-guest: shell"
	exec setsid cttyhack sh -i
fi
echo "ringvm-guest: poweroff"
poweroff -f
