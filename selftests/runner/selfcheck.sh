#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selfcheck.sh: check that run.sh judges runs right, with stand-in payloads
# in place of ringvm: a do-nothing module named ringvm, a shell-script vmctl
# and shell-script tests that print kselftest-style TAP.  Each scenario boots
# the machines given (default: svm, a few seconds each) and checks run.sh's
# exit status and the lines it must print:
#
#	pass	TAP passes and skips, KVM modules load, CPU hotplug, exit 4
#	warn	a WARNING: CPU: splat only in dmesg (hidden from the quiet
#		console), and the harmless RETBleed line that must not count
#	fail	"not ok", a non-zero exit without "not ok", a test killed by
#		the per-test timeout
#	hang	a test that never ends: the machine's wall-clock limit stops it
#	panic	a kernel crash mid-test
#	demo	--demo with the stand-in module and vmctl: passes; and a
#		vmctl run with the wrong exit code or output: fails
#	missing	a missing vmctl is refused before anything boots
#	leak	on the debug kernel (make debug-kernel; not run by default):
#		a stand-in ringvm that leaks a kmalloc and is unloaded;
#		kmemleak must trace the leak to it and fail the run
#
#	selftests/runner/selfcheck.sh [--machines "svm vmx"] [SCENARIO...]
#
# Under Bochs each scenario takes a few minutes (RINGVM_VMX_CPUS=1 makes
# vmx quicker).
set -euo pipefail

runner_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$runner_dir/../.." && pwd)
machines=svm
failures=0

if [ "${1:-}" = --machines ]; then
	machines=$2
	shift 2
fi
scenarios=${*:-pass warn fail hang panic demo missing}

stage=$(mktemp -d "${TMPDIR:-/tmp}/ringvm-selfcheck.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# A module that loads and unloads, under the name the tests use.
make_module()
{
	mkdir -p "$stage/mod"
	cat >"$stage/mod/ringvm.c" <<-'EOF'
	#include <linux/module.h>
	static int __init standin_init(void) { return 0; }
	static void __exit standin_exit(void) { }
	module_init(standin_init);
	module_exit(standin_exit);
	MODULE_LICENSE("GPL");
	EOF
	echo 'obj-m := ringvm.o' >"$stage/mod/Kbuild"
	make -s -C "$("$top/scripts/kdir.sh" 6.1)" M="$stage/mod" modules \
		>/dev/null 2>&1
}

# A stand-in ringvm for the debug kernel in $1 that leaks 200 bytes when
# it loads.
make_leaky_module()
{
	mkdir -p "$stage/leakmod"
	cat >"$stage/leakmod/ringvm.c" <<-'EOF'
	#include <linux/module.h>
	#include <linux/slab.h>
	static int __init standin_init(void)
	{
		void *p = kmalloc(200, GFP_KERNEL);
		pr_info("stand-in: leaking %p\n", p);
		return 0;
	}
	static void __exit standin_exit(void) { }
	module_init(standin_init);
	module_exit(standin_exit);
	MODULE_LICENSE("GPL");
	EOF
	echo 'obj-m := ringvm.o' >"$stage/leakmod/Kbuild"
	make -s -C "$1" M="$stage/leakmod" modules >/dev/null 2>&1
}

# A vmctl that answers what the tests and the demo ask, and a stand-in
# for the example guest whose first line says how vmctl run behaves:
# "good", or "bad" (wrong output and exit code).
make_vmctl()
{
	cat >"$stage/vmctl" <<-'EOF'
	#!/bin/sh
	case "$*" in
	info)		grep -m1 'vendor_id' /proc/cpuinfo ;;
	"info --json")	echo '{"standin": true}' ;;
	"create demo --memory 16M") echo 1 ;;
	list)		echo "ID    NAME   MEMORY   VCPUS   FLAGS"
			echo "1     demo   16M      0/1     -" ;;
	"run demo --image /ringvm/hello.bin")
		if [ "$(head -n 1 /ringvm/hello.bin)" = good ]; then
			echo "ringvm: hello from real mode"
			echo "ringvm: hello from protected mode"
			echo "ringvm: hello from long mode"
			echo "hypervisor: ringvm"
			exit 1
		fi
		echo "ringvm: hello from real mode"
		echo "vmctl: guest shutdown: stand-in" >&2
		exit 4 ;;
	"destroy demo")	;;
	*)		exit 1 ;;
	esac
	EOF
	chmod +x "$stage/vmctl"
	echo good >"$stage/hello-good.bin"
	echo bad >"$stage/hello-bad.bin"
}

# add_test SCENARIO NAME: the script on stdin becomes test NAME.
add_test()
{
	local dir=$stage/$1

	mkdir -p "$dir"
	{ echo '#!/bin/sh'; cat; } >"$dir/$2"
	chmod +x "$dir/$2"
	echo "$2" >>"$dir/tests.list"
}

make_tests()
{
	add_test pass standin_basic <<-'EOF'
	echo "TAP version 13"; echo "1..4"
	insmod "$RINGVM_KO" && echo "ok 1 global.load" || echo "not ok 1 global.load"
	[ "$RINGVM_VMCTL" = /ringvm/vmctl ] && echo "ok 2 global.env" || echo "not ok 2 global.env"
	vmctl info >/dev/null && echo "ok 3 global.path" || echo "not ok 3 global.path"
	rmmod ringvm
	echo "ok 4 # SKIP stand-in skip"
	echo "# Totals: pass:3 fail:0 xfail:0 xpass:0 skip:1 error:0"
	EOF
	add_test pass standin_kvm <<-'EOF'
	echo "TAP version 13"; echo "1..1"
	m=kvm_amd; grep -q GenuineIntel /proc/cpuinfo && m=kvm_intel
	modprobe $m && modprobe -r $m && echo "ok 1 modprobe $m" || echo "not ok 1 modprobe $m"
	EOF
	add_test pass standin_hotplug <<-'EOF'
	echo "TAP version 13"; echo "1..1"
	[ "$(nproc)" -ge 2 ] || { echo "ok 1 # SKIP needs 2 CPUs"; exit 0; }
	c=/sys/devices/system/cpu/cpu1/online
	echo 0 >$c && echo 1 >$c && echo "ok 1 cpu1 off/on" || echo "not ok 1 cpu1 off/on"
	EOF
	add_test pass standin_skipall <<-'EOF'
	echo "TAP version 13"; echo "1..0 # SKIP stand-in skips everything"
	exit 4
	EOF
	echo standin_hotplug >"$stage/pass/tests-smp.list"

	add_test warn standin_warn <<-'EOF'
	echo "TAP version 13"; echo "1..1"
	echo "<4>RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable (stand-in)" >/dev/kmsg
	echo "<4>------------[ cut here ]------------" >/dev/kmsg
	echo "<4>WARNING: CPU: 0 PID: 1 at selfcheck.c:1 standin+0x0/0x0" >/dev/kmsg
	echo "ok 1 looks fine to the test"
	EOF

	add_test fail standin_notok <<-'EOF'
	echo "TAP version 13"; echo "1..2"; echo "ok 1 good"; echo "not ok 2 bad"
	EOF
	add_test fail standin_exit1 <<-'EOF'
	echo "TAP version 13"; echo "1..1"; echo "# died before any result"; exit 1
	EOF
	add_test fail standin_slow <<-'EOF'
	sleep 600
	EOF

	add_test hang standin_hang <<-'EOF'
	echo "TAP version 13"; echo "1..1"; sleep 100000
	EOF

	add_test panic standin_panic <<-'EOF'
	echo "TAP version 13"; echo "1..1"; echo c >/proc/sysrq-trigger
	EOF

	add_test leak standin_leak <<-'EOF'
	echo "TAP version 13"; echo "1..1"
	insmod "$RINGVM_KO" && rmmod ringvm && echo "ok 1 load, unload" ||
		echo "not ok 1 load, unload"
	EOF
}

# check NAME WANT-RC [PATTERN...] -- RUN.SH-ARGS...: run run.sh, then
# check its status and that each extended-regexp PATTERN matches a line.
check()
{
	local name=$1 want=$2 out rc=0 pat ok=1 line
	local -a pats=()

	shift 2
	while [ "$1" != -- ]; do
		pats+=("$1")
		shift
	done
	shift
	echo "=== $name: run.sh $*"
	out=$("$runner_dir/run.sh" --kmod "$stage/mod/ringvm.ko" \
		--vmctl "$stage/vmctl" --guest "$stage/hello-good.bin" \
		"$@" 2>&1) || rc=$?
	while IFS= read -r line; do
		echo "    $line"
	done <<<"$out"
	if [ "$rc" != "$want" ]; then
		echo "!!! $name: run.sh exited $rc, expected $want"
		ok=0
	fi
	for pat in "${pats[@]}"; do
		if ! grep -qE -- "$pat" <<<"$out"; then
			echo "!!! $name: no line matches: $pat"
			ok=0
		fi
	done
	if [ "$ok" = 1 ]; then
		echo "=== $name: as expected"
	else
		failures=$((failures + 1))
	fi
}

# Lines the stand-ins make run.sh print, per scenario and machine.
run_scenario()
{
	local m=$1 s=$2

	case "$s" in
	pass)
		local hot="1 passed, 0 failed, 0 skipped"
		local want="5 passed, 0 failed, 2 skipped"
		# vmx alone has 2 CPUs unless RINGVM_VMX_CPUS says otherwise.
		case "$m" in
		vmx)	[ "${RINGVM_VMX_CPUS:-2}" != 1 ] ||
				want="4 passed, 0 failed, 3 skipped" ;;
		vmx-smp) want=$hot ;;
		esac
		check "pass/$m" 0 "^$m: $want\$" "^$want\$" -- \
			--machines "$m" --tests "$stage/pass" ;;
	warn)
		check "warn/$m" 1 "^$m: the kernel log \(dmesg\) shows a kernel warning splat" \
			"WARNING: CPU: 0 PID: 1 at selfcheck" "^$m: 1 passed, 0 failed, 0 skipped" -- \
			--machines "$m" --tests "$stage/warn"
		;;
	fail)
		check "fail/$m" 1 "^$m: 1 passed, 3 failed, 0 skipped" \
			"standin_notok: not ok 2 bad" \
			"standin_exit1 exited with 1 without" \
			"standin_slow exited with [0-9]+ without" -- \
			--machines "$m" --tests "$stage/fail" --test-timeout 5 ;;
	hang)
		# Long enough to reach the test: Bochs boots in 1-2 minutes.
		local limit=30
		[[ "$m" != vmx* ]] || limit=240
		check "hang/$m" 1 "^$m: timed out after ${limit}s" \
			"^$m: no end marker: the guest crashed or hung in test standin_hang" -- \
			--machines "$m" --tests "$stage/hang" --timeout "$limit" ;;
	panic)
		check "panic/$m" 1 "^$m: no end marker: .* in test standin_panic" \
			"shows a kernel panic" -- \
			--machines "$m" --tests "$stage/panic" ;;
	demo)
		check "demo/$m" 0 '^\$ vmctl run demo --image /ringvm/hello.bin' \
			'^hypervisor: ringvm$' '^\(exit 1\)$' \
			"^$m: demo passed" "^demo passed\$" -- --machines "$m" --demo
		check "demo-bad/$m" 1 '^\(exit 4\)$' \
			"^$m: demo step failed: vmctl run did not print the four lines" \
			"^$m: demo step failed: vmctl run demo --image /ringvm/hello.bin \(exit 4, wanted 1\)" \
			"^$m: demo failed" "^demo failed\$" -- \
			--machines "$m" --demo --guest "$stage/hello-bad.bin" ;;
	leak)
		local dk
		dk=$("$top/scripts/debug-kernel.sh" --dir)
		if [ ! -f "$dk/.complete" ]; then
			echo "=== leak/$m: skipped (no debug kernel: make debug-kernel)"
			return
		fi
		make_leaky_module "$dk/src"
		check "leak/$m" 1 \
			"^$m: kmemleak: 1 unreferenced object\(s\) allocated by ringvm" \
			"comm \"insmod\"" "^$m: 1 passed, 0 failed, 0 skipped" -- \
			--machines "$m" --tests "$stage/leak" \
			--kmod "$stage/leakmod/ringvm.ko" --kernel-dir "$dk/root" \
			--memory 2048 --timeout 600 ;;
	missing)
		check "missing" 2 "vmctl missing: /nonexistent" -- \
			--machines "$m" --vmctl /nonexistent --tests "$stage/pass" ;;
	*)
		echo "unknown scenario $s" >&2
		exit 2 ;;
	esac
}

make_module
make_vmctl
make_tests
for m in $machines; do
	for s in $scenarios; do
		run_scenario "$m" "$s"
	done
done
if [ "$failures" -gt 0 ]; then
	echo "selfcheck: $failures scenario(s) not as expected"
	exit 1
fi
echo "selfcheck: all scenarios as expected"
