// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: detection and VMX operation on each CPU.
 *
 *  1. vmx_probe() reads the VMX capability MSRs on the boot CPU and
 *     refuses what ringvm cannot drive (no EPT, no unrestricted guest).
 *  2. vmx_hardware_setup() gives every possible CPU a VMXON region.
 *  3. vmx_cpu_enable() / vmx_cpu_disable() enter and leave VMX root
 *     operation on the calling CPU, with interrupts off, and leave CR4
 *     exactly as they found it.
 *
 * Intel SDM Vol. 3C §24.7 "Enabling and Entering VMX Operation" is the
 * recipe this file follows.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "ringvm.h"
#include "vmx/vmx.h"

/* The VMXON region of each possible CPU, allocated once at load. */
static DEFINE_PER_CPU(struct page *, vmx_vmxon_page);
static u32 vmx_revision_id __read_mostly;

/*
 * VMXON: VMfailInvalid (CF) if the region is bad, VMfailValid (ZF) if
 * this CPU is already in VMX operation; #GP or #UD if CR0/CR4/feature
 * control forbid it, which the exception table turns into -EFAULT.
 */
static int __vmx_on(u64 vmxon_pa)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jbe %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m" (vmxon_pa) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static int __vmx_off(void)
{
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	return 0;
fault:
	return -EFAULT;
}

/*
 * IA32_FEATURE_CONTROL must be locked with VMXON outside SMX allowed, or
 * VMXON faults (SDM Vol. 3C §24.7).  Linux locks it at boot when firmware
 * left it open, so an unlocked or closed MSR means firmware said no.
 */
static bool vmx_allowed_by_firmware(u64 *feat_ctl)
{
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, feat_ctl))
		return false;
	return (*feat_ctl & FEAT_CTL_LOCKED) &&
	       (*feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX);
}

/*
 * CR0 and CR4 must have every bit set that FIXED0 has set and no bit set
 * that FIXED1 has clear (SDM Vol. 3C §24.8, Vol. 3D §A.7 and §A.8).
 */
static bool vmx_cr_fixed_ok(unsigned long cr, u32 fixed0_msr, u32 fixed1_msr)
{
	u64 fixed0, fixed1;

	rdmsrl(fixed0_msr, fixed0);
	rdmsrl(fixed1_msr, fixed1);
	return (cr & fixed0) == fixed0 && !(cr & ~fixed1);
}

static u64 vmx_page_sizes(u64 ept_cap)
{
	u64 sizes = BIT_ULL(12);

	if (ept_cap & IA32_VMX_EPT_2MB_PAGE)
		sizes |= BIT_ULL(21);
	if (ept_cap & IA32_VMX_EPT_1GB_PAGE)
		sizes |= BIT_ULL(30);
	return sizes;
}

static u64 vmx_features(u32 pin1, u32 sec1, u64 ept_cap)
{
	u64 f = RINGVM_FEAT_NESTED_PAGING | RINGVM_FEAT_UNRESTRICTED_GUEST;

	if ((sec1 & SECONDARY_EXEC_ENABLE_VPID) &&
	    (ept_cap & IA32_VMX_VPID_INVVPID))
		f |= RINGVM_FEAT_TAGGED_TLB;
	if (ept_cap & IA32_VMX_EPT_AD)
		f |= RINGVM_FEAT_NP_AD_BITS;
	if ((ept_cap & IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT) &&
	    (ept_cap & IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT))
		f |= RINGVM_FEAT_FLUSH_BY_TAG;
	if (sec1 & SECONDARY_EXEC_TSC_SCALING)
		f |= RINGVM_FEAT_TSC_SCALING;
	if (sec1 & SECONDARY_EXEC_PAUSE_LOOP_EXITING)
		f |= RINGVM_FEAT_PAUSE_FILTER;
	if (pin1 & PIN_BASED_VMX_PREEMPTION_TIMER)
		f |= RINGVM_FEAT_PREEMPTION_TIMER;
	if ((sec1 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) &&
	    (sec1 & SECONDARY_EXEC_APIC_REGISTER_VIRT) &&
	    (sec1 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY))
		f |= RINGVM_FEAT_VIRT_APIC;
	return f;
}

/* Read a control MSR's allowed-1 half, preferring the TRUE_ variant. */
static u32 vmx_ctls_allowed1(u64 basic, u32 msr, u32 true_msr)
{
	u64 val;

	rdmsrl((basic & IA32_VMX_BASIC_TRUE_CTLS) ? true_msr : msr, val);
	return VMX_CTLS_ALLOWED1(val);
}

static int vmx_probe_controls(struct ringvm_hw_caps *caps, u64 basic)
{
	u32 pin1, proc1, sec1 = 0;
	u64 ept_cap = 0;

	pin1 = vmx_ctls_allowed1(basic, MSR_IA32_VMX_PINBASED_CTLS,
				 MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	proc1 = vmx_ctls_allowed1(basic, MSR_IA32_VMX_PROCBASED_CTLS,
				  MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	if (proc1 & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) {
		u64 val;

		rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, val);
		sec1 = VMX_CTLS_ALLOWED1(val);
	}
	if (sec1 & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_cap);

	if (!(sec1 & SECONDARY_EXEC_ENABLE_EPT)) {
		pr_err("VMX without EPT is not supported\n");
		return -EOPNOTSUPP;
	}
	if (!(ept_cap & IA32_VMX_EPT_PAGE_WALK_4) ||
	    !(ept_cap & IA32_VMX_EPT_MEMTYPE_WB) || !(ept_cap & IA32_VMX_EPT_INVEPT)) {
		pr_err("EPT lacks 4-level walks, WB tables or INVEPT (EPT_VPID_CAP=%#llx)\n",
		       ept_cap);
		return -EOPNOTSUPP;
	}
	if (!(sec1 & SECONDARY_EXEC_UNRESTRICTED_GUEST)) {
		pr_err("VMX without unrestricted guest is not supported\n");
		return -EOPNOTSUPP;
	}

	caps->features = vmx_features(pin1, sec1, ept_cap);
	caps->page_sizes = vmx_page_sizes(ept_cap);
	caps->nr_asids = (caps->features & RINGVM_FEAT_TAGGED_TLB) ?
			 VMX_NR_VPIDS : 0;
	return 0;
}

static int vmx_probe(struct ringvm_hw_caps *caps)
{
	u64 feat_ctl = 0, basic;

	if (!(cpuid_ecx(1) & VMX_CPUID1_ECX_VMX))
		return -ENODEV;

	if (!vmx_allowed_by_firmware(&feat_ctl)) {
		pr_err("VMX is disabled by firmware (IA32_FEATURE_CONTROL=%#llx)\n",
		       feat_ctl);
		return -EPERM;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	/* SDM Vol. 3D §A.1: regions must be write-back, above 4 GiB is fine. */
	if ((basic & IA32_VMX_BASIC_32BIT_PHYS_ADDR_ONLY) ||
	    ((basic & IA32_VMX_BASIC_MEM_TYPE_MASK) >> IA32_VMX_BASIC_MEM_TYPE_SHIFT) !=
	    IA32_VMX_BASIC_MEM_TYPE_WB) {
		pr_err("unsupported VMX region constraints (IA32_VMX_BASIC=%#llx)\n",
		       basic);
		return -EOPNOTSUPP;
	}

	memset(caps, 0, sizeof(*caps));
	caps->arch = RINGVM_ARCH_VMX;
	caps->hw_revision = basic & IA32_VMX_BASIC_REVISION_MASK;
	vmx_revision_id = caps->hw_revision;
	return vmx_probe_controls(caps, basic);
}

static void vmx_hardware_unsetup(void)
{
	ringvm_free_cpu_pages(&vmx_vmxon_page);
}

/* SDM Vol. 3C §25.11.5: a 4 KiB region starting with the revision id. */
static int vmx_hardware_setup(void)
{
	int cpu, r;

	r = ringvm_alloc_cpu_pages(&vmx_vmxon_page);
	if (r)
		return r;
	for_each_possible_cpu(cpu) {
		u32 *region = page_address(per_cpu(vmx_vmxon_page, cpu));

		*region = vmx_revision_id;
	}
	return 0;
}

static int vmx_cpu_enable(void)
{
	u64 feat_ctl;
	int r;

	/* Somebody else (KVM) is in VMX operation on this CPU. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	if (!vmx_allowed_by_firmware(&feat_ctl))
		return -EPERM;

	cr4_set_bits_irqsoff(X86_CR4_VMXE);
	if (!vmx_cr_fixed_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			     MSR_IA32_VMX_CR0_FIXED1) ||
	    !vmx_cr_fixed_ok(__read_cr4(), MSR_IA32_VMX_CR4_FIXED0,
			     MSR_IA32_VMX_CR4_FIXED1)) {
		r = -EIO;
		goto err_clear_vmxe;
	}

	r = __vmx_on(page_to_phys(__this_cpu_read(vmx_vmxon_page)));
	if (r)
		goto err_clear_vmxe;
	return 0;

err_clear_vmxe:
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
	return r;
}

static void vmx_cpu_disable(void)
{
	/* Only fails if we were not in VMX operation: a host invariant. */
	WARN_ON_ONCE(__vmx_off());
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

const struct ringvm_arch_ops vmx_arch_ops = {
	.name = "VMX",
	.probe = vmx_probe,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
};
