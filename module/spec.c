// SPDX-License-Identifier: GPL-2.0
/*
 * Speculation-control MSRs for the guest (spec.h says which, and how the
 * world switch keeps the host's SPEC_CTRL).  What the guest may see
 * follows the host kernel's own view of the CPU (its X86_FEATURE flags,
 * which clearcpuid= and the mitigation code may have narrowed), fixed at
 * module load.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>

#include "spec.h"

/* SPEC_CTRL bits the guest may set; 0: the guest has no SPEC_CTRL. */
static u64 ringvm_spec_ctrl_valid __ro_after_init;
/* IA32_ARCH_CAPABILITIES as the guest reads it. */
static u64 ringvm_arch_caps __ro_after_init;
static bool ringvm_has_ibpb __ro_after_init;
static bool ringvm_has_flush_l1d __ro_after_init;
static bool ringvm_has_arch_caps __ro_after_init;

/*
 * ARCH_CAPABILITIES bits that describe the CPU (SDM Vol. 4 §2.1, Table
 * 2-2, and the kernel's msr-index.h) and so stay true in a guest.  Not
 * passed: the bits that announce MSRs or controls the guest does not get
 * (TSX_CTRL, FB_CLEAR_CTRL, GDS_CTRL, XAPIC_DISABLE, ...) and
 * SKIP_VMENTRY_L1DFLUSH, which speaks of a hypervisor the guest cannot
 * be.
 */
#define RINGVM_ARCH_CAPS_PASSED						\
	(ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA |		\
	 ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO |	\
	 ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO |	\
	 ARCH_CAP_PSDP_NO | ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA |		\
	 ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO |		\
	 ARCH_CAP_RFDS_NO | ARCH_CAP_RFDS_CLEAR | ARCH_CAP_ITS_NO)

void __init ringvm_spec_setup(void)
{
	u64 caps;

	if (boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL)) {
		if (boot_cpu_has(X86_FEATURE_IBRS))
			ringvm_spec_ctrl_valid |= SPEC_CTRL_IBRS;
		if (boot_cpu_has(X86_FEATURE_STIBP))
			ringvm_spec_ctrl_valid |= SPEC_CTRL_STIBP;
		/* SSBD in SPEC_CTRL: Intel's, or AMD's (not VIRT_SPEC_CTRL) */
		if (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ||
		    boot_cpu_has(X86_FEATURE_AMD_SSBD))
			ringvm_spec_ctrl_valid |= SPEC_CTRL_SSBD;
	}
	ringvm_has_ibpb = boot_cpu_has(X86_FEATURE_IBPB);
	ringvm_has_flush_l1d = boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	    !rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps)) {
		ringvm_has_arch_caps = true;
		ringvm_arch_caps = caps & RINGVM_ARCH_CAPS_PASSED;
		if (!(ringvm_spec_ctrl_valid & SPEC_CTRL_IBRS))
			ringvm_arch_caps &= ~ARCH_CAP_IBRS_ALL;
	}
}

/* -ENOENT: not one of these, or one the host lacks (spec.h). */
int ringvm_spec_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data)
{
	switch (index) {
	case MSR_IA32_SPEC_CTRL:
		if (!ringvm_spec_ctrl_valid)
			return -ENOENT;
		*data = vcpu->spec_ctrl;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!ringvm_has_arch_caps)
			return -ENOENT;
		*data = ringvm_arch_caps;
		return 0;
	case MSR_IA32_PRED_CMD:		/* write-only commands */
		return ringvm_has_ibpb ? -EINVAL : -ENOENT;
	case MSR_IA32_FLUSH_CMD:
		return ringvm_has_flush_l1d ? -EINVAL : -ENOENT;
	}
	return -ENOENT;
}

int ringvm_spec_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data)
{
	switch (index) {
	case MSR_IA32_SPEC_CTRL:
		if (!ringvm_spec_ctrl_valid)
			return -ENOENT;
		if (data & ~ringvm_spec_ctrl_valid)
			return -EINVAL;
		vcpu->spec_ctrl = data;	/* loaded at the next entry */
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!ringvm_has_arch_caps)
			return -ENOENT;
		/* read-only; a restore may write back what it read */
		return data == ringvm_arch_caps ? 0 : -EINVAL;
	case MSR_IA32_PRED_CMD:
		if (!ringvm_has_ibpb)
			return -ENOENT;
		if (data & ~PRED_CMD_IBPB)
			return -EINVAL;
		if (data)
			native_wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (!ringvm_has_flush_l1d)
			return -ENOENT;
		if (data & ~L1D_FLUSH)
			return -EINVAL;
		if (data)
			native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return 0;
	}
	return -ENOENT;
}

/*
 * The CPUID bits that announce these MSRs, cleared unless the MSR is
 * there: leaf 7.0 EDX (SDM Vol. 2A, CPUID, Table 3-8) and leaf
 * 0x80000008 EBX (AMD APM Vol. 3, E.4.7).  AMD's VIRT_SSBD (EBX bit 25)
 * names VIRT_SPEC_CTRL, which no guest gets.
 */
#define L7_EDX_IBRS_IBPB	BIT(26)
#define L7_EDX_STIBP		BIT(27)
#define L7_EDX_L1D_FLUSH	BIT(28)
#define L7_EDX_ARCH_CAPS	BIT(29)
#define L7_EDX_SSBD		BIT(31)
#define LX8_EBX_IBPB		BIT(12)
#define LX8_EBX_IBRS		BIT(14)
#define LX8_EBX_STIBP		BIT(15)
#define LX8_EBX_SSBD		BIT(24)
#define LX8_EBX_VIRT_SSBD	BIT(25)

void ringvm_spec_cpuid(u32 fn, u32 index, u32 *r)
{
	u64 valid = ringvm_spec_ctrl_valid;

	if (fn == 7 && index == 0) {
		if (!(valid & SPEC_CTRL_IBRS) || !ringvm_has_ibpb)
			r[3] &= ~L7_EDX_IBRS_IBPB;
		if (!(valid & SPEC_CTRL_STIBP))
			r[3] &= ~L7_EDX_STIBP;
		if (!ringvm_has_flush_l1d)
			r[3] &= ~L7_EDX_L1D_FLUSH;
		if (!ringvm_has_arch_caps)
			r[3] &= ~L7_EDX_ARCH_CAPS;
		if (!(valid & SPEC_CTRL_SSBD))
			r[3] &= ~L7_EDX_SSBD;
	} else if (fn == 0x80000008) {
		if (!ringvm_has_ibpb)
			r[1] &= ~LX8_EBX_IBPB;
		if (!(valid & SPEC_CTRL_IBRS))
			r[1] &= ~LX8_EBX_IBRS;
		if (!(valid & SPEC_CTRL_STIBP))
			r[1] &= ~LX8_EBX_STIBP;
		if (!(valid & SPEC_CTRL_SSBD))
			r[1] &= ~LX8_EBX_SSBD;
		r[1] &= ~LX8_EBX_VIRT_SSBD;
	}
}
