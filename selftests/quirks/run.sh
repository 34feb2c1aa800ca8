#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the svm machine (QEMU TCG) with only one quirk's reproducer and say
# whether the emulator has the quirk.  Not part of `make check`: the
# machine is lost when it does.
#
#  lme-wedge	quirks/kvm_lme_wedge: does KVM hit the same VMRUN wedge as
#		ringvm would without its workaround?
#  static-keys	quirks/static_key_flips, once with multi-threaded TCG and
#		once with single-threaded TCG (the control): does the test
#		machine's own kernel execute a stale INT3 after a jump-label
#		flip?  (runner/README.md, "Quirks"; 6.12 shows it)
#
# Usage: selftests/quirks/run.sh [lme-wedge|static-keys] [6.1|6.12]
set -euo pipefail
cd "$(dirname "$0")/../.."
quirk=lme-wedge
case ${1:-} in
lme-wedge|static-keys) quirk=$1; shift ;;
esac
kver=${1:-6.1}
log=build/logs/svm-$kver.log
dir=$(mktemp -d build/runner/quirks.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# boot_with NAME [VAR=VALUE...]: the svm machine runs only NAME.
boot_with()
{
	local name=$1

	shift
	cp "selftests/quirks/$name" "$dir/"
	echo "$name" >"$dir/tests.list"
	env "$@" selftests/runner/run.sh --kver "$kver" --machines svm \
		--tests "$dir" --timeout 300 || true
}

lme_wedge()
{
	make -s -C selftests quirks
	boot_with kvm_lme_wedge
	# The console has CRLF line ends.
	if grep -aq '^ok [0-9]* global\.protected_mode_lme_no_pae[[:space:]]*$' "$log"; then
		echo "quirks: KVM came back from LME=1 PG=0 PAE=0: not affected"
	elif grep -aq '^ok [0-9]* global\.protected_mode_lme_pae[[:space:]]*$' "$log" &&
	     grep -aq '^ok [0-9]* global\.real_mode_lme_pae[[:space:]]*$' "$log" &&
	     grep -aq 'KVM_RUN with CR0.PE=1 CR4.PAE=0 EFER.LME=1' "$log" &&
	     ! sed -n '/protected_mode_lme_no_pae/,$p' "$log" |
		grep -aq 'KVM_RUN returned' &&
	     grep -aqE 'rcu_preempt detected stalls|soft lockup' "$log"; then
		echo "quirks: KVM lost the CPU with LME=1 PG=0 PAE=0 (the controls with PAE ran): as ringvm's quirk says"
	else
		echo "quirks: no verdict, see $log"
		exit 1
	fi
}

# The flips one boot got through, and whether its kernel oopsed on an INT3.
flips_seen()
{
	local n

	n=$(grep -ac '^# static-key-flips: [0-9]' "$log" || true)
	if grep -aq 'Oops: int3' "$log"; then
		echo "int3 after $n flips"
	else
		echo "$n flips, no int3"
	fi
}

static_keys()
{
	local multi single

	boot_with static_key_flips RINGVM_TCG_THREAD=multi
	multi=$(flips_seen)
	cp "$log" "build/logs/quirk-static-keys-multi-$kver.log"
	boot_with static_key_flips RINGVM_TCG_THREAD=single
	single=$(flips_seen)
	echo "quirks: multi-threaded TCG: $multi; single-threaded: $single"
	case $multi/$single in
	int3*/*" flips, no int3")
		echo "quirks: a stale INT3 with one thread per vCPU only: as the quirk says" ;;
	*" flips, no int3"/*" flips, no int3")
		echo "quirks: no stale INT3 in either: not affected in those flips" ;;
	*)	echo "quirks: no verdict, see build/logs/quirk-static-keys-multi-$kver.log and $log"
		exit 1 ;;
	esac
}

case $quirk in
lme-wedge)	lme_wedge ;;
static-keys)	static_keys ;;
esac
