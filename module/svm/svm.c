// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: detection and EFER.SVME on each CPU.
 *
 *  1. svm_probe() reads CPUID Fn8000_000A on the boot CPU and refuses a
 *     CPU without nested paging.
 *  2. svm_hardware_setup() gives every possible CPU a host save area,
 *     the page VMRUN stores host state in (APM Vol. 2 §15.30.4).
 *  3. svm_cpu_enable() / svm_cpu_disable() set and clear EFER.SVME and
 *     VM_HSAVE_PA on the calling CPU, with interrupts off, restoring both
 *     to exactly the values they found.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "ringvm.h"
#include "svm/svm.h"

/* Host save area of each possible CPU, allocated once at load. */
static DEFINE_PER_CPU(struct page *, svm_hsave_page);
/* VM_HSAVE_PA as it was before ringvm took the CPU. */
static DEFINE_PER_CPU(u64, svm_saved_hsave_pa);

/*
 * VM_CR.SVMDIS set by firmware makes EFER.SVME reserved (APM Vol. 2
 * §15.4).  An emulator without VM_CR faults the read: nothing forbids.
 */
static bool svm_disabled_by_firmware(u64 *vm_cr)
{
	if (rdmsrl_safe(MSR_VM_CR, vm_cr))
		return false;
	return *vm_cr & SVM_VM_CR_SVMDIS;
}

static u64 svm_features(u32 edx)
{
	/* SVM runs real-mode and unpaged guests natively. */
	u64 f = RINGVM_FEAT_NESTED_PAGING | RINGVM_FEAT_UNRESTRICTED_GUEST |
		RINGVM_FEAT_TAGGED_TLB | RINGVM_FEAT_NP_AD_BITS;

	if (edx & SVM_FEATURE_NRIPS)
		f |= RINGVM_FEAT_NRIP_SAVE;
	if (edx & SVM_FEATURE_DECODE_ASSISTS)
		f |= RINGVM_FEAT_DECODE_ASSISTS;
	if (edx & SVM_FEATURE_VGIF)
		f |= RINGVM_FEAT_VGIF;
	if (edx & SVM_FEATURE_FLUSH_BY_ASID)
		f |= RINGVM_FEAT_FLUSH_BY_TAG;
	if (edx & SVM_FEATURE_VMCB_CLEAN)
		f |= RINGVM_FEAT_VMCB_CLEAN;
	if (edx & SVM_FEATURE_TSC_RATE)
		f |= RINGVM_FEAT_TSC_SCALING;
	if (edx & SVM_FEATURE_PAUSE_FILTER)
		f |= RINGVM_FEAT_PAUSE_FILTER;
	if (edx & SVM_FEATURE_AVIC)
		f |= RINGVM_FEAT_VIRT_APIC;
	return f;
}

static int svm_probe(struct ringvm_hw_caps *caps)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr = 0;

	if (cpuid_eax(0x80000000) < SVM_CPUID_LEAF ||
	    !(cpuid_ecx(0x80000001) & SVM_CPUID_EXT1_ECX_SVM))
		return -ENODEV;

	if (svm_disabled_by_firmware(&vm_cr)) {
		pr_err("SVM is disabled by firmware (VM_CR=%#llx)\n", vm_cr);
		return -EPERM;
	}

	cpuid(SVM_CPUID_LEAF, &eax, &ebx, &ecx, &edx);
	if (!(edx & SVM_FEATURE_NP)) {
		pr_err("SVM without nested paging is not supported (CPUID 0x8000000a EDX=%#x)\n",
		       edx);
		return -EOPNOTSUPP;
	}
	if (ebx < 2) {
		pr_err("SVM reports %u ASIDs, need at least one for guests\n",
		       ebx);
		return -EOPNOTSUPP;
	}

	memset(caps, 0, sizeof(*caps));
	caps->arch = RINGVM_ARCH_SVM;
	caps->hw_revision = eax & SVM_CPUID_REVISION_MASK;
	caps->features = svm_features(edx);
	/* ASID 0 is the host's (APM Vol. 2 §15.16). */
	caps->nr_asids = ebx - 1;
	/* NPT uses the long-mode page table format: 2 MiB leaves always. */
	caps->page_sizes = BIT_ULL(12) | BIT_ULL(21);
	if (cpuid_edx(0x80000001) & SVM_CPUID_EXT1_EDX_PAGE1GB)
		caps->page_sizes |= BIT_ULL(30);
	return 0;
}

static void svm_hardware_unsetup(void)
{
	ringvm_free_cpu_pages(&svm_hsave_page);
}

static int svm_hardware_setup(void)
{
	return ringvm_alloc_cpu_pages(&svm_hsave_page);
}

static int svm_cpu_enable(void)
{
	u64 efer, vm_cr, saved;

	rdmsrl(MSR_EFER, efer);
	/* Somebody else (KVM) has SVM on this CPU. */
	if (efer & EFER_SVME)
		return -EBUSY;
	if (svm_disabled_by_firmware(&vm_cr))
		return -EPERM;

	if (rdmsrl_safe(MSR_VM_HSAVE_PA, &saved))
		saved = 0;
	__this_cpu_write(svm_saved_hsave_pa, saved);
	if (wrmsrl_safe(MSR_EFER, efer | EFER_SVME))
		return -EIO;
	/* APM Vol. 2 §15.30.4: page aligned, set before the first VMRUN. */
	wrmsrl(MSR_VM_HSAVE_PA,
	       page_to_phys(__this_cpu_read(svm_hsave_page)));
	return 0;
}

static void svm_cpu_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, __this_cpu_read(svm_saved_hsave_pa));
	rdmsrl(MSR_EFER, efer);
	/*
	 * Clearing EFER.SVME with GIF clear would leave interrupts blocked
	 * for good (APM Vol. 2 §15.17); GIF is set outside VMRUN, but STGI
	 * is cheap insurance while SVME still makes it legal.
	 */
	asm volatile("stgi" ::: "memory");
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

const struct ringvm_arch_ops svm_arch_ops = {
	.name = "SVM",
	.probe = svm_probe,
	.hardware_setup = svm_hardware_setup,
	.hardware_unsetup = svm_hardware_unsetup,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
};
