// SPDX-License-Identifier: GPL-2.0
/*
 * L1 Terminal Fault: flush L1D before VM entry (module/MITIGATIONS.md
 * row 1).
 *
 * On an affected Intel CPU a guest PTE that is not present can still
 * make the CPU forward a speculative load from any line in L1D, and EPT
 * does not stop it: the guest-physical address is used as a host-physical
 * one (Intel, "Deep Dive: Intel Analysis of L1 Terminal Fault", VMM
 * section).  So what the host or another guest left in L1D is readable by
 * the next guest unless L1D is flushed before the entry.
 *
 *  1. vmx_l1tf_setup() picks the policy once at load, from the module
 *     parameter vmentry_l1d_flush (auto, never, cond, always; what KVM's
 *     kvm_intel takes).  auto follows the host's l1tf= policy the way
 *     kvm_intel's auto does: off gives never, flush[,nowarn|,nosmt] cond,
 *     full[,force] always.  A CPU without the bug, or one whose
 *     IA32_ARCH_CAPABILITIES says SKIP_VMENTRY_L1DFLUSH, needs nothing.
 *  2. __vmx_l1d_flush() runs with interrupts off right before the entry,
 *     behind a static key (vmx.h).  cond flushes only when the vCPU was
 *     just loaded (each stretch of guest code, so after every exit the
 *     slow path or user space handled) or this CPU took an interrupt or
 *     softirq since the last entry (the kernel keeps that flag in
 *     irq_stat for KVM; ringvm reads it the same way); always flushes on
 *     every entry.  Not after the exits the run loop handles itself:
 *     CPUID, MSRs, hypercalls, and the first touch of a RAM page, which
 *     reads the VM's xarray, allocates and zeroes the page and writes the
 *     nested tables: host pointers and addresses, no other data.  That
 *     is KVM's line too: it flushes after its emulator and its #PF
 *     handler (shadow paging), not after the EPT violations its fault
 *     path maps (kvm_mmu_page_fault()).  IA32_FLUSH_CMD where the CPU has it,
 *     otherwise a read of 64 KiB, twice the largest L1D, line by line.
 *
 * The host's /sys/devices/system/cpu/vulnerabilities/l1tf does not show
 * this choice (it reports kvm_intel's, which ringvm leaves alone); the
 * parameter reads back the mode in effect.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/jump_label.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <asm/cpufeature.h>
#include <asm/hardirq.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/sync_core.h>

#include "vmx/vmx.h"

enum vmx_l1d_mode {
	VMX_L1D_AUTO,
	VMX_L1D_NEVER,
	VMX_L1D_COND,
	VMX_L1D_ALWAYS,
	VMX_L1D_NOT_AFFECTED,	/* read back only */
};

static const char * const vmx_l1d_mode_names[] = {
	[VMX_L1D_AUTO] = "auto",
	[VMX_L1D_NEVER] = "never",
	[VMX_L1D_COND] = "cond",
	[VMX_L1D_ALWAYS] = "always",
	[VMX_L1D_NOT_AFFECTED] = "not affected",
};

/* What the parameter asked for, then, after setup, what is in effect. */
static enum vmx_l1d_mode vmx_l1d_mode = VMX_L1D_AUTO;

DEFINE_STATIC_KEY_FALSE(vmx_l1d_should_flush);
static DEFINE_STATIC_KEY_FALSE(vmx_l1d_flush_cond);

/* 64 KiB for the software flush, when the CPU has no IA32_FLUSH_CMD. */
#define VMX_L1D_PAGES_ORDER	4
#define VMX_L1D_BYTES		(PAGE_SIZE << VMX_L1D_PAGES_ORDER)
static u8 *vmx_l1d_pages;

static int vmx_l1d_param_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(vmx_l1d_mode_names, val);

	if (mode < 0 || mode == VMX_L1D_NOT_AFFECTED)
		return -EINVAL;
	vmx_l1d_mode = mode;
	return 0;
}

static bool vmx_l1tf_affected(void)
{
	u64 cap = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		return false;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	    !rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &cap) &&
	    (cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH))
		return false;
	return true;
}

/* On an AMD host vmx_l1tf_setup() never runs: "not affected" there too. */
static int vmx_l1d_param_get(char *buf, const struct kernel_param *kp)
{
	enum vmx_l1d_mode mode = vmx_l1d_mode;

	if (!vmx_l1tf_affected())
		mode = VMX_L1D_NOT_AFFECTED;
	return sysfs_emit(buf, "%s\n", vmx_l1d_mode_names[mode]);
}

static const struct kernel_param_ops vmx_l1d_param_ops = {
	.set = vmx_l1d_param_set,
	.get = vmx_l1d_param_get,
};
module_param_cb(vmentry_l1d_flush, &vmx_l1d_param_ops, NULL, 0444);
MODULE_PARM_DESC(vmentry_l1d_flush,
		 "L1D flush before VMX entry: auto (the host's l1tf= policy), never, cond, always; reads back the mode in effect");

int vmx_l1tf_setup(void)
{
	if (!vmx_l1tf_affected()) {
		vmx_l1d_mode = VMX_L1D_NOT_AFFECTED;
		return 0;
	}
	if (vmx_l1d_mode == VMX_L1D_AUTO) {
		switch (l1tf_mitigation) {
		case L1TF_MITIGATION_OFF:
			vmx_l1d_mode = VMX_L1D_NEVER;
			break;
		case L1TF_MITIGATION_FULL:
		case L1TF_MITIGATION_FULL_FORCE:
			vmx_l1d_mode = VMX_L1D_ALWAYS;
			break;
		default:
			vmx_l1d_mode = VMX_L1D_COND;
			break;
		}
	}
	if (vmx_l1d_mode == VMX_L1D_NEVER) {
		pr_warn("L1TF: this CPU is affected and vmentry_l1d_flush is never: guests can read host data in L1D\n");
		return 0;
	}

	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		struct page *page = alloc_pages(GFP_KERNEL, VMX_L1D_PAGES_ORDER);

		if (!page)
			return -ENOMEM;
		vmx_l1d_pages = page_address(page);
		/*
		 * Not zero: under another hypervisor, zero pages may be
		 * shared and the reads would hit one page, not 64 KiB.
		 */
		memset(vmx_l1d_pages, 0x5a, VMX_L1D_BYTES);
	}
	if (vmx_l1d_mode == VMX_L1D_COND)
		static_branch_enable(&vmx_l1d_flush_cond);
	static_branch_enable(&vmx_l1d_should_flush);
	return 0;
}

void vmx_l1tf_unsetup(void)
{
	static_branch_disable(&vmx_l1d_should_flush);
	static_branch_disable(&vmx_l1d_flush_cond);
	if (vmx_l1d_pages)
		free_pages((unsigned long)vmx_l1d_pages, VMX_L1D_PAGES_ORDER);
	vmx_l1d_pages = NULL;
}

/* Interrupts off, right before the entry. */
void __vmx_l1d_flush(struct vmx_vcpu *vmx)
{
	unsigned int i;

	if (static_branch_likely(&vmx_l1d_flush_cond)) {
		bool flush = vmx->l1d_flush || kvm_get_cpu_l1tf_flush_l1d();

		vmx->l1d_flush = false;
		kvm_clear_cpu_l1tf_flush_l1d();
		if (!flush)
			return;
	}
	vmx->vcpu.nr_l1d_flushes++;		/* stats.c */

	if (!vmx_l1d_pages) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/*
	 * Touch each page first and serialize, so that no page walk of the
	 * second pass brings a page-table line back into L1D after it; then
	 * read every line, which evicts whatever L1D held.
	 */
	for (i = 0; i < VMX_L1D_BYTES; i += PAGE_SIZE)
		(void)READ_ONCE(vmx_l1d_pages[i]);
	sync_core();
	for (i = 0; i < VMX_L1D_BYTES; i += L1_CACHE_BYTES)
		(void)READ_ONCE(vmx_l1d_pages[i]);
}
