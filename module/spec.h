/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The speculation-control MSRs a guest gets where the host has them:
 * IA32_SPEC_CTRL (IBRS, STIBP, SSBD), IA32_PRED_CMD (IBPB),
 * IA32_FLUSH_CMD (L1D flush) and IA32_ARCH_CAPABILITIES (read-only), and
 * the CPUID bits that announce them, which the module clears for any MSR
 * it does not offer whatever the VM's CPUID table says.
 *
 * Every guest RDMSR/WRMSR of them exits (no MSR bitmap on VMX, a
 * permission map of all ones on SVM), so vcpu->spec_ctrl is always the
 * value the guest last wrote, and what RDMSR returns.  The backends load
 * it, with the host's bits, just before entry when that differs from the
 * host's value (ringvm_spec_ctrl_enter()), and their vmenter.S writes the
 * host's value back after the exit, before the first RET, when the two
 * differ (or always, with legacy IBRS), as KVM does (module/MITIGATIONS.md
 * row 4).
 */
#ifndef RINGVM_SPEC_H
#define RINGVM_SPEC_H

#include <linux/types.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>

#include "vm.h"

void ringvm_spec_setup(void);
int ringvm_spec_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
int ringvm_spec_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data);
void ringvm_spec_cpuid(u32 fn, u32 index, u32 *r);

/*
 * Right before VMLAUNCH/VMRESUME/VMRUN, with interrupts off: the value
 * the guest runs with, which vmenter.S compares with the host's after the
 * exit.  That is the guest's bits and the host's together: IBRS, STIBP
 * and SSBD only narrow speculation and change no architectural result
 * (SDM Vol. 4 §2.1, IA32_SPEC_CTRL), so the guest gets everything it
 * asked for and cannot switch off what the host runs with; and a guest
 * that asks for nothing the host lacks, the common case, costs no WRMSR
 * at all.  Between here and the entry the host runs no RET and no
 * indirect branch (a direct call into vmenter.S and its prologue).
 */
static __always_inline u64 ringvm_spec_ctrl_enter(struct ringvm_vcpu *vcpu)
{
	u64 host, guest;

	if (!cpu_feature_enabled(X86_FEATURE_MSR_SPEC_CTRL))
		return 0;
	host = this_cpu_read(x86_spec_ctrl_current);
	guest = host | vcpu->spec_ctrl;
	if (unlikely(guest != host))
		native_wrmsrl(MSR_IA32_SPEC_CTRL, guest);
	return guest;
}

#endif /* RINGVM_SPEC_H */
