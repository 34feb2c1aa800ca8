// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: detection, per-CPU state, EFER.SVME on each CPU, and
 * the backend's table of operations.
 *
 *  1. svm_probe() reads CPUID Fn8000_000A on the boot CPU, refuses a CPU
 *     without nested paging, and notes the optional features the vCPU
 *     code uses (NRIP save, decode assists, VMCB clean bits, ASIDs).
 *  2. svm_hardware_setup() gives every possible CPU a host save area,
 *     the page VMRUN stores host state in (APM Vol. 2 §15.30.4), and a
 *     second page for the host state VMRUN leaves alone (VMSAVE/VMLOAD),
 *     and builds the MSR and I/O permission maps every VMCB shares.
 *  3. svm_cpu_enable() / svm_cpu_disable() set and clear EFER.SVME and
 *     VM_HSAVE_PA on the calling CPU, with interrupts off, restoring both
 *     to exactly the values they found.
 *  4. svm_pick_asid() hands out the calling CPU's ASIDs, generation by
 *     generation.
 *  5. svm_arch_ops, the table the core calls through.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/pgtable.h>
#include <asm/processor.h>

#include "ringvm.h"
#include "svm/svm.h"

struct svm_caps svm_caps __read_mostly;

/* Host save area of each possible CPU, allocated once at load. */
static DEFINE_PER_CPU(struct page *, svm_hsave_page);
/* Where svm_vcpu_load() VMSAVEs the host's FS, GS, TR, LDTR and MSRs. */
static DEFINE_PER_CPU(struct page *, svm_host_save_page);
/* VM_HSAVE_PA as it was before ringvm took the CPU. */
static DEFINE_PER_CPU(u64, svm_saved_hsave_pa);

DEFINE_PER_CPU(struct svm_asid_state, svm_asid_state);

/*
 * One MSR permission map and one I/O permission map, all ones: every
 * RDMSR, WRMSR, IN and OUT of every guest exits.  Never written again.
 */
static struct page *svm_msrpm, *svm_iopm;
u64 svm_msrpm_pa __read_mostly, svm_iopm_pa __read_mostly;

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

/*
 * The CR4 and EFER bits this CPU implements, from its CPUID (not from
 * what the host kernel chose to use): set_sregs refuses the others, and
 * a guest WRMSR to EFER gets #GP for them.  With the CR3 bits above
 * MAXPHYADDR they are also what svm_vmrun_would_fail() checks.  EFER.SVME is not offered:
 * ringvm does not virtualize SVM itself.
 */
static void svm_probe_guest_bits(void)
{
	u32 ext1_ecx = cpuid_ecx(0x80000001), ext1_edx = cpuid_edx(0x80000001);
	u32 ecx1 = cpuid_ecx(1), eax, ebx7 = 0, ecx7 = 0, edx;
	u64 cr4 = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		  X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		  X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	u64 efer = EFER_SCE | EFER_LME | EFER_LMA;
	u32 maxphyaddr = 40;

	if (cpuid_eax(0) >= 7)
		cpuid_count(7, 0, &eax, &ebx7, &ecx7, &edx);
	if (ecx7 & BIT(2))
		cr4 |= X86_CR4_UMIP;
	if (ecx7 & BIT(16))
		cr4 |= X86_CR4_LA57;
	if (ebx7 & BIT(0))
		cr4 |= X86_CR4_FSGSBASE;
	if (ecx1 & BIT(17))
		cr4 |= X86_CR4_PCIDE;
	if (ecx1 & BIT(26))
		cr4 |= X86_CR4_OSXSAVE;
	if (ebx7 & BIT(7))
		cr4 |= X86_CR4_SMEP;
	if (ebx7 & BIT(20))
		cr4 |= X86_CR4_SMAP;
	if (ecx7 & BIT(3))
		cr4 |= X86_CR4_PKE;
	if (ecx7 & BIT(7))
		cr4 |= X86_CR4_CET;
	if (ecx7 & BIT(31))
		cr4 |= SVM_CR4_PKS;
	svm_caps.cr4_allowed = cr4;

	if (ext1_edx & BIT(20))
		efer |= EFER_NX;
	if (ext1_edx & BIT(25))
		efer |= EFER_FFXSR;
	if (ext1_ecx & BIT(17))
		efer |= SVM_EFER_TCE;
	svm_caps.efer_allowed = efer;

	/* CR3 bits at and above MAXPHYADDR are MBZ (APM Vol. 2 §3.1.2). */
	if (cpuid_eax(0x80000000) >= 0x80000008)
		maxphyaddr = cpuid_eax(0x80000008) & 0xff;
	svm_caps.cr3_mbz = GENMASK_ULL(63, clamp(maxphyaddr, 32U, 63U));
}

/*
 * Whether this "CPU" is QEMU's TCG: the hypervisor leaf's signature
 * (svm_vcpu_run()'s LME quirk needs to know).
 */
static bool svm_host_is_qemu_tcg(void)
{
	u32 sig[3];

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return false;
	cpuid(0x40000000, &sig[0], &sig[0], &sig[1], &sig[2]);
	return !memcmp(sig, "TCGTCGTCGTCG", sizeof(sig));
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

	memset(&svm_caps, 0, sizeof(svm_caps));
	svm_caps.nrips = edx & SVM_FEATURE_NRIPS;
	svm_caps.decode_assists = edx & SVM_FEATURE_DECODE_ASSISTS;
	svm_caps.vmcb_clean = edx & SVM_FEATURE_VMCB_CLEAN;
	svm_caps.max_asid = ebx - 1;
	svm_caps.fms = cpuid_eax(1);
	svm_caps.npt_5level = pgtable_l5_enabled();
	svm_caps.tcg_lme_quirk = svm_host_is_qemu_tcg();
	svm_caps.tcg_cr8_quirk = svm_caps.tcg_lme_quirk;
	svm_probe_guest_bits();
	return 0;
}

/* An all-ones permission map of @size bytes; returns its first page. */
static struct page *svm_alloc_permission_map(size_t size, u64 *pa)
{
	unsigned int order = get_order(size);
	struct page *pages = alloc_pages(GFP_KERNEL, order);

	if (!pages)
		return NULL;
	memset(page_address(pages), 0xff, PAGE_SIZE << order);
	*pa = page_to_phys(pages);
	return pages;
}

static void svm_free_permission_maps(void)
{
	if (svm_iopm)
		__free_pages(svm_iopm, get_order(SVM_IOPM_SIZE));
	if (svm_msrpm)
		__free_pages(svm_msrpm, get_order(SVM_MSRPM_SIZE));
	svm_iopm = NULL;
	svm_msrpm = NULL;
}

static void svm_hardware_unsetup(void)
{
	svm_free_permission_maps();
	ringvm_free_cpu_pages(&svm_host_save_page);
	ringvm_free_cpu_pages(&svm_hsave_page);
}

static int svm_hardware_setup(void)
{
	int r;

	r = ringvm_alloc_cpu_pages(&svm_hsave_page);
	if (r)
		return r;
	r = ringvm_alloc_cpu_pages(&svm_host_save_page);
	if (r)
		goto err_free_hsave;

	/* APM Vol. 2 §15.10.1 and §15.11: contiguous, 4 KiB aligned. */
	r = -ENOMEM;
	svm_msrpm = svm_alloc_permission_map(SVM_MSRPM_SIZE, &svm_msrpm_pa);
	if (!svm_msrpm)
		goto err_free_host_save;
	svm_iopm = svm_alloc_permission_map(SVM_IOPM_SIZE, &svm_iopm_pa);
	if (!svm_iopm)
		goto err_free_maps;
	return 0;

err_free_maps:
	svm_free_permission_maps();
err_free_host_save:
	ringvm_free_cpu_pages(&svm_host_save_page);
err_free_hsave:
	ringvm_free_cpu_pages(&svm_hsave_page);
	return r;
}

u64 svm_host_save_pa(int cpu)
{
	return page_to_phys(per_cpu(svm_host_save_page, cpu));
}

/*
 * ASIDs tag the TLB entries of each guest (APM Vol. 2 §15.16).  Every
 * CPU hands out its own, 1..max_asid, in generations: a vCPU keeps its
 * ASID while it runs on the same CPU in the same generation; when the
 * CPU runs out it starts a new generation, and the first VMRUN of the
 * new one flushes every ASID's entries, so no number is ever reused
 * with stale translations.  The same goes for the first generation
 * after svm_cpu_enable(): someone else (another hypervisor, an earlier
 * ringvm) may have left entries under any ASID.
 *
 * Called by svm_vcpu_run() with interrupts off when the vCPU's ASID is
 * not from this CPU's current generation, so the flush is certain to
 * reach the VMRUN that follows.
 */
void svm_pick_asid(struct svm_vcpu *svm, int cpu)
{
	struct svm_asid_state *as = this_cpu_ptr(&svm_asid_state);
	struct vmcb_control *c = &svm->vmcb->control;

	if (as->next_asid > svm_caps.max_asid) {
		as->generation++;
		as->next_asid = SVM_MIN_ASID;
		c->tlb_control = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	svm->asid_cpu = cpu;
	svm->asid_generation = as->generation;
	c->guest_asid = as->next_asid++;
	/* New ASID or other CPU: nothing this CPU cached may be used. */
	c->clean = 0;
}

/*
 * SRSO on Zen 5 and later (6.12): when the CPU has BP_SPEC_REDUCE, the
 * host kernel relies on the hypervisor to set it in BP_CFG for as long as
 * guests may run, instead of untraining the return predictor on every
 * VM exit (module/MITIGATIONS.md row 8).  KVM sets it while a VM exists;
 * ringvm keeps it set while it owns SVM on the CPU, which is simpler and
 * costs only host branch-prediction speed while the module is loaded.
 */
static void svm_srso_bp_spec_reduce(bool on)
{
#ifdef X86_FEATURE_SRSO_BP_SPEC_REDUCE
	u64 cfg;

	if (!cpu_feature_enabled(X86_FEATURE_SRSO_BP_SPEC_REDUCE) ||
	    rdmsrl_safe(MSR_ZEN4_BP_CFG, &cfg))
		return;
	if (on)
		cfg |= BIT_ULL(MSR_ZEN4_BP_CFG_BP_SPEC_REDUCE_BIT);
	else
		cfg &= ~BIT_ULL(MSR_ZEN4_BP_CFG_BP_SPEC_REDUCE_BIT);
	wrmsrl_safe(MSR_ZEN4_BP_CFG, cfg);
#endif
}

static int svm_cpu_enable(void)
{
	struct svm_asid_state *as = this_cpu_ptr(&svm_asid_state);
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

	/* End the generation: the next VMRUN here starts one, flushing. */
	as->generation++;
	as->next_asid = svm_caps.max_asid + 1;
	svm_srso_bp_spec_reduce(true);
	return 0;
}

static void svm_cpu_disable(void)
{
	u64 efer;

	svm_srso_bp_spec_reduce(false);
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

	.npt_ops = &ringvm_npt_amd_ops,
	.vcpu_size = sizeof(struct svm_vcpu),
	.vcpu_init = svm_vcpu_init,
	.vcpu_uninit = svm_vcpu_uninit,
	.vcpu_load = svm_vcpu_load,
	.vcpu_put = svm_vcpu_put,
	.vcpu_run = svm_vcpu_run,

	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_reg = svm_get_reg,
	.get_code_state = svm_get_code_state,
	.set_reg = svm_set_reg,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.get_dr = svm_get_dr,
	.set_dr = svm_set_dr,
	.skip_instruction = svm_skip_instruction,
	.get_intr_state = svm_get_intr_state,
	.set_intr_state = svm_set_intr_state,
	.set_windows = svm_set_windows,
};
