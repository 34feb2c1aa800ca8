#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the svm machine (QEMU TCG) with only quirks/kvm_lme_wedge and say
# whether KVM hits the same VMRUN wedge as ringvm would without its
# workaround.  Not part of `make check`: the machine is lost when it does.
# Usage: selftests/quirks/run.sh [6.1|6.12]
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -C selftests quirks
dir=$(mktemp -d build/runner/quirks.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp selftests/quirks/kvm_lme_wedge "$dir/"
echo kvm_lme_wedge >"$dir/tests.list"
kver=${1:-6.1}
selftests/runner/run.sh --kver "$kver" --machines svm --tests "$dir" \
	--timeout 300 || true
log=build/logs/svm-$kver.log
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
