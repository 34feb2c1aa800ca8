// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: a vCPU's VMCB and the guest state in it.
 *
 *  1. svm_vcpu_init() builds the VMCB: what every guest exit is for
 *     (the intercepts), the shared permission maps, nested paging (with
 *     a fifth level on top of the VM's tables under a 5-level host), and
 *     the reset state of AMD APM Vol. 2 §14.1.3; svm_vcpu_uninit() frees
 *     them.  Process context, may sleep.
 *  2. svm_vcpu_load() / svm_vcpu_put() bracket a stretch on one CPU with
 *     preemption off.  SVM keeps nothing of a vCPU in a CPU between
 *     VMRUNs that could go stale elsewhere: load only VMSAVEs the host's
 *     VMLOAD state (and issues an IBPB when the CPU changes VMCB), and
 *     the ASID and clean-bit checks in svm_vcpu_run() notice a move to
 *     another CPU.
 *  3. Guest state: the VMCB is ordinary memory, so every accessor works
 *     whether the vCPU is loaded or not (vCPU lock held).  A write
 *     clears the VMCB clean bit of its group (APM Vol. 2 §15.15).
 *  4. svm_skip_instruction(), which the exit handlers (here and in the
 *     core) use to finish an exit.
 *  5. svm_dump_vmcb(), for a VMRUN that failed.
 *
 * The guest-visible EFER is the VMCB's without SVME: EFER.SVME must be
 * set in the VMCB (§15.5.1) and ringvm never offers SVM to the guest,
 * so the bit carries no guest state; LMA, which the processor updates
 * itself, stays exact that way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/debugreg.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/page.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "ringvm.h"
#include "vm.h"
#include "svm/svm.h"

/* APM Vol. 2 §7.8.2: the PAT after reset (WB, WT, UC-, UC, twice). */
#define SVM_PAT_DEFAULT		0x0007040600070406ULL

/* DEBUGCTL: LBR, BTF and PB0-3 (APM Vol. 2 §13.1.1.6); 63:6 reserved */
#define SVM_DEBUGCTL_VALID	GENMASK_ULL(5, 0)

/* The VMCB this CPU last loaded, for svm_vcpu_load()'s IBPB. */
static DEFINE_PER_CPU(struct vmcb *, svm_last_vmcb);

static void svm_vmsave(u64 pa)
{
	asm volatile("vmsave %%rax" : : "a" (pa) : "memory");
}

/*
 * What makes a guest exit (APM Vol. 2 §15.9-§15.13 and Table B-1).
 * Host safety first: INTR, NMI and SMI so the host keeps its CPU; VMRUN,
 * which the processor requires; SHUTDOWN, or a guest triple fault would
 * shut down the host CPU; every MSR and I/O port through all-ones maps;
 * #AC and #DB, whose delivery can loop in microcode forever without an
 * intercept (CVE-2015-5307, CVE-2015-8104) - both are reflected to the
 * guest.  Then what the core emulates: CPUID, HLT, VMMCALL, XSETBV and
 * DR0-7 accesses.  The SVM instructions, INVLPGA, MONITOR/MWAIT and
 * RDTSCP (the guest must not read the host's TSC_AUX) get #UD; RDPMC
 * gets #GP, as the host's counters are not the guest's; INVD is skipped
 * (the host's caches are not the guest's to discard).
 *
 * RDPID, which reads TSC_AUX too, has no intercept on SVM: a guest that
 * uses it reads the number of the host CPU it runs on.
 *
 * Quirk: QEMU's TCG (7.2) checks the RDTSC intercept, not RDTSCP's, when
 * a guest executes RDTSCP, which then reads the host's TSC_AUX.
 * Detection: a guest RDTSCP that neither exits nor faults.  Workaround:
 * none; intercepting RDTSC as well would make every RDTSC of every
 * guest exit on real processors, which honour the RDTSCP intercept.
 */
static void svm_init_control(struct svm_vcpu *svm)
{
	struct vmcb_control *c = &svm->vmcb->control;

	c->intercept_dr = SVM_INTERCEPT_DR0_7_READ | SVM_INTERCEPT_DR0_7_WRITE;
	c->intercept_exceptions = BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC);
	c->intercept_misc1 = SVM_INTERCEPT1_INTR | SVM_INTERCEPT1_NMI |
			     SVM_INTERCEPT1_SMI | SVM_INTERCEPT1_RDPMC |
			     SVM_INTERCEPT1_CPUID | SVM_INTERCEPT1_INVD |
			     SVM_INTERCEPT1_HLT | SVM_INTERCEPT1_INVLPGA |
			     SVM_INTERCEPT1_IOIO_PROT |
			     SVM_INTERCEPT1_MSR_PROT |
			     SVM_INTERCEPT1_SHUTDOWN;
	c->intercept_misc2 = SVM_INTERCEPT2_VMRUN | SVM_INTERCEPT2_VMMCALL |
			     SVM_INTERCEPT2_VMLOAD | SVM_INTERCEPT2_VMSAVE |
			     SVM_INTERCEPT2_STGI | SVM_INTERCEPT2_CLGI |
			     SVM_INTERCEPT2_SKINIT | SVM_INTERCEPT2_RDTSCP |
			     SVM_INTERCEPT2_MONITOR | SVM_INTERCEPT2_MWAIT |
			     SVM_INTERCEPT2_XSETBV;

	c->iopm_base_pa = svm_iopm_pa;
	c->msrpm_base_pa = svm_msrpm_pa;
	/* The VM's one TSC (vm.h); svm_vcpu_load() follows later moves. */
	c->tsc_offset = READ_ONCE(svm->vcpu.vm->tsc_offset);
	/*
	 * V_INTR_MASKING: the guest's IF and CR8 (now V_TPR) govern only
	 * virtual interrupts; physical ones stay the host's (§15.21.1).
	 */
	c->int_ctl = SVM_V_INTR_MASKING;
	/* A new ASID is picked before the first VMRUN (svm_pick_asid()). */
	c->guest_asid = 0;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
}

/*
 * The nested page tables have as many levels as the host's own paging
 * at VMRUN (AMD APM Vol. 2 §15.25.3): four, or five when the host runs
 * with CR4.LA57.  The VM's tables (ept/npt.c) have four and cover guest
 * physical addresses below 2^48; under a 5-level host the vCPU puts one
 * more table on top whose first entry points at them.  Guest RAM is
 * always below 2^48, so the other 511 entries stay empty.
 */
static int svm_init_npt(struct svm_vcpu *svm)
{
	struct ringvm_npt *npt = &svm->vcpu.vm->npt;

	if (!svm_caps.npt_5level) {
		svm->vmcb->control.n_cr3 = npt->root_pa;
		return 0;
	}
	svm->npt_pml5 = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->npt_pml5)
		return -ENOMEM;
	svm->npt_pml5[0] = npt->ops->table_entry(npt->root_pa);
	svm->vmcb->control.n_cr3 = __pa(svm->npt_pml5);
	return 0;
}

static void svm_init_seg(struct vmcb_seg *seg, u16 selector, u16 attrib,
			 u64 base)
{
	seg->selector = selector;
	seg->attrib = attrib;
	seg->limit = 0xffff;
	seg->base = base;
}

/*
 * The state after RESET, APM Vol. 2 §14.1.3, Table 14-1: real mode at
 * F000:FFF0 with CS based at FFFF0000, data segments present read/write
 * accessed, 64 KiB limits everywhere, caches disabled, EDX holding the
 * family, model and stepping.  CS is typed execute/read accessed (9Bh),
 * as every x86 CPU leaves it, so both backends report the same.
 */
static void svm_reset_vmrun_state(struct vmcb_save *s)
{
	const u16 data = SVM_SEG_P | SVM_SEG_S | 0x3;

	svm_init_seg(&s->cs, 0xf000, SVM_SEG_P | SVM_SEG_S | 0xb, 0xffff0000);
	svm_init_seg(&s->ds, 0, data, 0);
	svm_init_seg(&s->es, 0, data, 0);
	svm_init_seg(&s->fs, 0, data, 0);
	svm_init_seg(&s->gs, 0, data, 0);
	svm_init_seg(&s->ss, 0, data, 0);
	svm_init_seg(&s->gdtr, 0, 0, 0);
	svm_init_seg(&s->idtr, 0, 0, 0);
	/* Present LDT (type 2) and busy 16-bit TSS (type 3). */
	svm_init_seg(&s->ldtr, 0, SVM_SEG_P | 0x2, 0);
	svm_init_seg(&s->tr, 0, SVM_SEG_P | 0x3, 0);
	s->cpl = 0;

	s->efer = EFER_SVME;
	s->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	s->cr3 = 0;
	s->cr4 = 0;
	s->cr2 = 0;
	s->dr6 = DR6_RESERVED;
	s->dr7 = 0x400;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->rsp = 0;
	s->g_pat = SVM_PAT_DEFAULT;
}

static void svm_reset_state(struct svm_vcpu *svm)
{
	svm_reset_vmrun_state(&svm->vmcb->save);
	svm->vcpu.gprs[RINGVM_GPR_RDX] = svm_caps.fms;
	svm->debugctl = 0;
}

/*
 * After a VMRUN that wrote the host's state into the VMCB and left no
 * copy of the guest's to put back (see svm_vcpu_run()): the guest state
 * is lost, and the RESET state takes the place of the host's, so that no
 * host address ever reaches user space or the guest.  The GPRs (RAX is
 * in gprs[]) and the syscall MSRs never left the guest's hands and are
 * kept.
 */
void svm_forget_vmrun_state(struct svm_vcpu *svm)
{
	struct vmcb_control *c = &svm->vmcb->control;

	svm_reset_vmrun_state(&svm->vmcb->save);
	c->int_ctl = SVM_V_INTR_MASKING;
	c->int_state = 0;
	c->eventinj = 0;
	c->clean = 0;
}

int svm_vcpu_init(struct ringvm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct page *page;
	int r;

	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->asid_cpu = -1;

	svm_init_control(svm);
	r = svm_init_npt(svm);
	if (r)
		goto err_free_vmcb;
	svm_reset_state(svm);
	return 0;

err_free_vmcb:
	free_page((unsigned long)svm->vmcb);
	svm->vmcb = NULL;
	return r;
}

/*
 * Nothing to flush first: what a CPU cached of this VMCB is only used by
 * a VMRUN of the same address with clean bits set, and a new VMCB there
 * starts with all of them clear.  Only svm_last_vmcb must forget it, or
 * a new VMCB at the same address would skip its IBPB.
 */
void svm_vcpu_uninit(struct ringvm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&svm_last_vmcb, cpu), svm->vmcb, NULL);

	free_page((unsigned long)svm->npt_pml5);
	svm->npt_pml5 = NULL;
	free_page((unsigned long)svm->vmcb);
	svm->vmcb = NULL;
}

void svm_vcpu_load(struct ringvm_vcpu *vcpu, int cpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	/*
	 * One guest's indirect branches must not steer another's: IBPB
	 * when this CPU moves to another VMCB (Spectre v2, as KVM does),
	 * unless the host already has one on every VM exit.
	 */
	if (__this_cpu_read(svm_last_vmcb) != svm->vmcb) {
		__this_cpu_write(svm_last_vmcb, svm->vmcb);
		if (!cpu_feature_enabled(X86_FEATURE_IBPB_ON_VMEXIT))
			indirect_branch_prediction_barrier();
	}

	/* Another vCPU of the VM wrote IA32_TSC: one TSC per VM. */
	if (unlikely(svm->vmcb->control.tsc_offset !=
		     READ_ONCE(vcpu->vm->tsc_offset))) {
		svm->vmcb->control.tsc_offset = READ_ONCE(vcpu->vm->tsc_offset);
		vmcb_mark_dirty(svm->vmcb, VMCB_CLEAN_INTERCEPTS);
	}

	svm->host_save_pa = svm_host_save_pa(cpu);
	/*
	 * The host's FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR,
	 * SFMASK and SYSENTER MSRs, for the VMLOAD after each #VMEXIT.
	 * None of them changes while this thread stays in the kernel on
	 * this CPU, so once per load is enough.
	 */
	svm_vmsave(svm->host_save_pa);
	vcpu->nr_host_saves++;		/* stats.c */
}

void svm_vcpu_put(struct ringvm_vcpu *vcpu)
{
	vcpu->last_cpu = smp_processor_id();
}

/* Guest state: registers */

void svm_get_regs(struct ringvm_vcpu *vcpu, struct ringvm_regs *regs)
{
	const struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	const unsigned long *g = vcpu->gprs;

	regs->rax = g[RINGVM_GPR_RAX];
	regs->rbx = g[RINGVM_GPR_RBX];
	regs->rcx = g[RINGVM_GPR_RCX];
	regs->rdx = g[RINGVM_GPR_RDX];
	regs->rsi = g[RINGVM_GPR_RSI];
	regs->rdi = g[RINGVM_GPR_RDI];
	regs->rsp = s->rsp;
	regs->rbp = g[RINGVM_GPR_RBP];
	regs->r8 = g[RINGVM_GPR_R8];
	regs->r9 = g[RINGVM_GPR_R9];
	regs->r10 = g[RINGVM_GPR_R10];
	regs->r11 = g[RINGVM_GPR_R11];
	regs->r12 = g[RINGVM_GPR_R12];
	regs->r13 = g[RINGVM_GPR_R13];
	regs->r14 = g[RINGVM_GPR_R14];
	regs->r15 = g[RINGVM_GPR_R15];
	regs->rip = s->rip;
	regs->rflags = s->rflags;
}

void svm_set_regs(struct ringvm_vcpu *vcpu, const struct ringvm_regs *regs)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;
	unsigned long *g = vcpu->gprs;

	g[RINGVM_GPR_RAX] = regs->rax;
	g[RINGVM_GPR_RBX] = regs->rbx;
	g[RINGVM_GPR_RCX] = regs->rcx;
	g[RINGVM_GPR_RDX] = regs->rdx;
	g[RINGVM_GPR_RSI] = regs->rsi;
	g[RINGVM_GPR_RDI] = regs->rdi;
	g[RINGVM_GPR_RBP] = regs->rbp;
	g[RINGVM_GPR_R8] = regs->r8;
	g[RINGVM_GPR_R9] = regs->r9;
	g[RINGVM_GPR_R10] = regs->r10;
	g[RINGVM_GPR_R11] = regs->r11;
	g[RINGVM_GPR_R12] = regs->r12;
	g[RINGVM_GPR_R13] = regs->r13;
	g[RINGVM_GPR_R14] = regs->r14;
	g[RINGVM_GPR_R15] = regs->r15;
	/* RSP, RIP and RFLAGS have no clean bit: VMRUN always loads them. */
	s->rsp = regs->rsp;
	s->rip = regs->rip;
	s->rflags = regs->rflags | X86_EFLAGS_FIXED;
	to_svm(vcpu)->state_unchecked = true;
}

/* Guest state: segments and control registers */

static void svm_seg_to_user(const struct vmcb_seg *seg,
			    struct ringvm_segment *u)
{
	u16 a = seg->attrib;

	memset(u, 0, sizeof(*u));
	u->base = seg->base;
	u->limit = seg->limit;
	u->selector = seg->selector;
	u->type = a & SVM_SEG_TYPE_MASK;
	u->s = !!(a & SVM_SEG_S);
	u->dpl = (a & SVM_SEG_DPL_MASK) >> SVM_SEG_DPL_SHIFT;
	u->present = !!(a & SVM_SEG_P);
	u->avl = !!(a & SVM_SEG_AVL);
	u->l = !!(a & SVM_SEG_L);
	u->db = !!(a & SVM_SEG_DB);
	u->g = !!(a & SVM_SEG_G);
	/* SVM has no "unusable": a null selector leaves P clear. */
	u->unusable = !u->present;
}

/*
 * Quirk: QEMU's TCG (7.2) stops the whole machine ("qemu: fatal: invalid
 * tss type") when it delivers an event that changes privilege in legacy
 * protected mode while TR's cached type is busy: get_ss_esp_from_tss()
 * (target/i386/tcg/seg_helper.c) wants the available type its own LTR
 * leaves in the cache, and VMRUN loads the VMCB's as it is.  Hardware
 * caches the busy type (SDM Vol. 3A §7.2.4, APM Vol. 2 §12.2.5) and
 * VMRUN takes either.  Detection: the hypervisor leaf says TCG (the
 * same as tcg_lme_quirk).  Workaround: there, the VMCB holds a busy TSS
 * type (3, 11) as available (1, 9), and GET_SREGS reports an available
 * one as busy, as a processor would.  Seen with fuzz_test's guests once
 * the local APIC gave them interrupts at CPL 1.
 */
#define SVM_TSS_BUSY	BIT(1)	/* in a system segment's type */

static bool svm_tss_type(u16 type)
{
	return (type & 5) == 1;	/* 1, 3, 9, 11: a 16- or 32-bit TSS */
}

static void svm_tr_to_vmcb(struct vmcb_seg *tr)
{
	if (svm_caps.tcg_lme_quirk && svm_tss_type(tr->attrib & 0xf))
		tr->attrib &= ~SVM_TSS_BUSY;
}

static void svm_tr_to_user(struct ringvm_segment *tr)
{
	if (svm_caps.tcg_lme_quirk && svm_tss_type(tr->type))
		tr->type |= SVM_TSS_BUSY;
}

static void svm_seg_from_user(struct vmcb_seg *seg,
			      const struct ringvm_segment *u)
{
	u16 a = u->type & SVM_SEG_TYPE_MASK;

	if (u->s)
		a |= SVM_SEG_S;
	a |= (u->dpl << SVM_SEG_DPL_SHIFT) & SVM_SEG_DPL_MASK;
	if (u->present && !u->unusable)
		a |= SVM_SEG_P;
	if (u->avl)
		a |= SVM_SEG_AVL;
	if (u->l)
		a |= SVM_SEG_L;
	if (u->db)
		a |= SVM_SEG_DB;
	if (u->g)
		a |= SVM_SEG_G;
	seg->selector = u->selector;
	seg->attrib = a;
	seg->limit = u->limit;
	seg->base = u->base;
}

void svm_get_sregs(struct ringvm_vcpu *vcpu, struct ringvm_sregs *sregs)
{
	const struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	const struct vmcb_save *s = &vmcb->save;

	memset(sregs, 0, sizeof(*sregs));
	svm_seg_to_user(&s->cs, &sregs->cs);
	svm_seg_to_user(&s->ds, &sregs->ds);
	svm_seg_to_user(&s->es, &sregs->es);
	svm_seg_to_user(&s->fs, &sregs->fs);
	svm_seg_to_user(&s->gs, &sregs->gs);
	svm_seg_to_user(&s->ss, &sregs->ss);
	svm_seg_to_user(&s->tr, &sregs->tr);
	svm_tr_to_user(&sregs->tr);
	svm_seg_to_user(&s->ldtr, &sregs->ldt);
	sregs->gdt.base = s->gdtr.base;
	sregs->gdt.limit = s->gdtr.limit;
	sregs->idt.base = s->idtr.base;
	sregs->idt.limit = s->idtr.limit;
	/*
	 * Bits 63:32 of CR0 and the CR4 bits this CPU lacks exist for no
	 * guest, and set_sregs refuses them; should an emulator let a
	 * guest set them, they read as 0 and the next entry drops them
	 * (svm_refuse_vmrun()).
	 */
	sregs->cr0 = (u32)s->cr0;
	sregs->cr2 = s->cr2;
	sregs->cr3 = s->cr3;
	sregs->cr4 = s->cr4 & svm_caps.cr4_allowed;
	sregs->cr8 = vmcb->control.int_ctl & SVM_V_TPR_MASK;
	sregs->efer = s->efer & ~EFER_SVME;
}

/*
 * Only what the hardware could never hold is refused: CR4 and EFER bits
 * this CPU does not implement (and EFER.SVME, see the top of the file),
 * and a CR8 above 15.  Inconsistent combinations go to VMRUN, whose
 * consistency checks (APM Vol. 2 §15.5.1) turn them into an entry
 * failure the VMM can read.
 */
int svm_set_sregs(struct ringvm_vcpu *vcpu, const struct ringvm_sregs *sregs)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save *s = &vmcb->save;

	if ((sregs->cr4 & ~svm_caps.cr4_allowed) ||
	    (sregs->efer & ~svm_caps.efer_allowed) ||
	    sregs->cr8 > SVM_V_TPR_MASK)
		return -EINVAL;

	svm_seg_from_user(&s->cs, &sregs->cs);
	svm_seg_from_user(&s->ds, &sregs->ds);
	svm_seg_from_user(&s->es, &sregs->es);
	svm_seg_from_user(&s->fs, &sregs->fs);
	svm_seg_from_user(&s->gs, &sregs->gs);
	svm_seg_from_user(&s->ss, &sregs->ss);
	svm_seg_from_user(&s->tr, &sregs->tr);
	svm_tr_to_vmcb(&s->tr);
	svm_seg_from_user(&s->ldtr, &sregs->ldt);
	s->gdtr.base = sregs->gdt.base;
	s->gdtr.limit = sregs->gdt.limit;
	s->idtr.base = sregs->idt.base;
	s->idtr.limit = sregs->idt.limit;
	s->cr0 = sregs->cr0;
	s->cr2 = sregs->cr2;
	s->cr3 = sregs->cr3;
	s->cr4 = sregs->cr4;
	s->efer = sregs->efer | EFER_SVME;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~SVM_V_TPR_MASK) |
				sregs->cr8;
	/*
	 * The processor takes the CPL from the VMCB, not from CS or SS
	 * (APM Vol. 2 §15.5.1): SS.DPL is the CPL in protected mode.
	 */
	s->cpl = (s->cr0 & X86_CR0_PE) ?
		 (s->ss.attrib & SVM_SEG_DPL_MASK) >> SVM_SEG_DPL_SHIFT : 0;

	vmcb_mark_dirty(vmcb, VMCB_CLEAN_SEG | VMCB_CLEAN_DT |
			VMCB_CLEAN_CRX | VMCB_CLEAN_CR2 | VMCB_CLEAN_TPR);
	to_svm(vcpu)->state_unchecked = true;
	return 0;
}

u64 svm_get_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg)
{
	const struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	switch (reg) {
	case RINGVM_REG_RIP:
		return s->rip;
	case RINGVM_REG_RSP:
		return s->rsp;
	case RINGVM_REG_RFLAGS:
		return s->rflags;
	case RINGVM_REG_CR0:
		return s->cr0;
	case RINGVM_REG_CR3:
		return s->cr3;
	case RINGVM_REG_CR4:
		return s->cr4;
	case RINGVM_REG_EFER:
		return s->efer & ~EFER_SVME;
	case RINGVM_REG_CPL:
		return s->cpl;
	case RINGVM_REG_CR2:
		return s->cr2;
	case RINGVM_REG_CR8:
		return to_svm(vcpu)->vmcb->control.int_ctl & SVM_V_TPR_MASK;
	}
	WARN_ON_ONCE(1);
	return 0;
}

/* CR0 and CR4 read as svm_get_sregs() gives them. */
void svm_get_code_state(struct ringvm_vcpu *vcpu,
			struct ringvm_code_state *st)
{
	const struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	st->rip = s->rip;
	st->cs_base = s->cs.base;
	st->cs_l = s->cs.attrib & SVM_SEG_L;
	st->cs_db = s->cs.attrib & SVM_SEG_DB;
	st->cr0 = (u32)s->cr0;
	st->cr3 = s->cr3;
	st->cr4 = s->cr4 & svm_caps.cr4_allowed;
	st->efer = s->efer & ~EFER_SVME;
	st->cpl = s->cpl;
}

void svm_set_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg, u64 val)
{
	struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	switch (reg) {
	case RINGVM_REG_RIP:
		s->rip = val;
		return;
	case RINGVM_REG_RSP:
		s->rsp = val;
		return;
	case RINGVM_REG_RFLAGS:
		s->rflags = val | X86_EFLAGS_FIXED;
		return;
	case RINGVM_REG_CR2:
		s->cr2 = val;
		vmcb_mark_dirty(to_svm(vcpu)->vmcb, VMCB_CLEAN_CR2);
		return;
	case RINGVM_REG_CR8: {
		struct vmcb *vmcb = to_svm(vcpu)->vmcb;

		vmcb->control.int_ctl = (vmcb->control.int_ctl &
					 ~SVM_V_TPR_MASK) |
					(val & SVM_V_TPR_MASK);
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_TPR);
		return;
	}
	default:
		break;
	}
	WARN_ON_ONCE(1);
}

/* Guest state: MSRs */

/* EFER.SVME stays set in the VMCB (see the top of this file). */
static int svm_set_efer(struct vmcb *vmcb, u64 efer)
{
	struct vmcb_save *s = &vmcb->save;
	int r = ringvm_efer_write(s->efer & ~EFER_SVME, &efer, s->cr0,
				  svm_caps.efer_allowed);

	if (r)
		return r;
	s->efer = efer | EFER_SVME;
	vmcb_mark_dirty(vmcb, VMCB_CLEAN_CRX);
	return 0;
}

int svm_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	const struct vmcb *vmcb = svm->vmcb;
	const struct vmcb_save *s = &vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = s->efer & ~EFER_SVME;
		break;
	case MSR_IA32_CR_PAT:
		*data = s->g_pat;
		break;
	/*
	 * Quirk: QEMU's TCG (7.2) stores WRFSBASE/WRGSBASE's operand as
	 * the base without the canonical check (silicon raises #GP), and
	 * SWAPGS moves it to KernelGsBase; VMSAVE keeps it, and SET_MSRS
	 * would refuse the value GET_MSRS returned.  Detection: none
	 * needed.  Workaround: report the base as the next VMLOAD
	 * canonicalizes it (APM Vol. 2 §15.5.2), which is what the guest
	 * runs with; on silicon the value is canonical already.
	 */
	case MSR_FS_BASE:
		*data = ringvm_canonicalize(s->fs.base);
		break;
	case MSR_GS_BASE:
		*data = ringvm_canonicalize(s->gs.base);
		break;
	case MSR_KERNEL_GS_BASE:
		*data = ringvm_canonicalize(s->kernel_gs_base);
		break;
	case MSR_STAR:
		*data = s->star;
		break;
	case MSR_LSTAR:
		*data = s->lstar;
		break;
	case MSR_CSTAR:
		*data = s->cstar;
		break;
	case MSR_SYSCALL_MASK:
		*data = s->sfmask;
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = s->sysenter_cs;
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = s->sysenter_esp;
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = s->sysenter_eip;
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmcb->control.tsc_offset;
		break;
	case MSR_IA32_DEBUGCTLMSR:
		*data = svm->debugctl;
		break;
	default:
		return -ENOENT;
	}
	return 0;
}

/*
 * FS/GS base, KernelGsBase, STAR..SFMASK and SYSENTER_* are VMLOAD
 * state, which no clean bit covers.  DEBUGCTL is kept for the guest to
 * read back but never loaded: without LBR virtualization the host's
 * value stays in force while the guest runs.
 */
int svm_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_save *s = &vmcb->save;

	switch (index) {
	case MSR_EFER:
		return svm_set_efer(vmcb, data);
	case MSR_IA32_CR_PAT:
		if (!ringvm_pat_valid(data))
			return -EINVAL;
		s->g_pat = data;
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_NP);
		break;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!ringvm_canonical(data))
			return -EINVAL;
		if (index == MSR_FS_BASE)
			s->fs.base = data;
		else if (index == MSR_GS_BASE)
			s->gs.base = data;
		else if (index == MSR_KERNEL_GS_BASE)
			s->kernel_gs_base = data;
		else if (index == MSR_LSTAR)
			s->lstar = data;
		else if (index == MSR_CSTAR)
			s->cstar = data;
		else if (index == MSR_IA32_SYSENTER_ESP)
			s->sysenter_esp = data;
		else
			s->sysenter_eip = data;
		break;
	case MSR_STAR:
		s->star = data;
		break;
	case MSR_SYSCALL_MASK:
		s->sfmask = data;
		break;
	case MSR_IA32_SYSENTER_CS:
		s->sysenter_cs = data;
		break;
	case MSR_IA32_TSC:
		vmcb->control.tsc_offset = data - rdtsc();
		WRITE_ONCE(vcpu->vm->tsc_offset, vmcb->control.tsc_offset);
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_INTERCEPTS);
		break;
	case MSR_IA32_DEBUGCTLMSR:
		if (data & ~SVM_DEBUGCTL_VALID)
			return -EINVAL;
		svm->debugctl = data;
		break;
	default:
		return -ENOENT;
	}
	return 0;
}

/* Guest state: DR6 and DR7 (the core keeps DR0-3) */

u64 svm_get_dr(struct ringvm_vcpu *vcpu, int dr)
{
	const struct vmcb_save *s = &to_svm(vcpu)->vmcb->save;

	if (dr == 6)
		return s->dr6;
	if (dr == 7)
		return s->dr7;
	WARN_ON_ONCE(1);
	return 0;
}

void svm_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (dr == 6)
		vmcb->save.dr6 = val;
	else if (!WARN_ON_ONCE(dr != 7))
		vmcb->save.dr7 = val;
	vmcb_mark_dirty(vmcb, VMCB_CLEAN_DRX);
}

/* Finishing an exit */

static bool svm_in_64bit_mode(const struct vmcb_save *s)
{
	return (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SEG_L);
}

/*
 * Step over the instruction that exited.  Outside 64-bit mode RIP wraps
 * at 4 GiB.  The STI / MOV SS shadow ends with the instruction, and a
 * guest single-stepping with RFLAGS.TF gets the #DB trap the instruction
 * would have raised had it run (DR6.BS, APM Vol. 2 §13.1.1.3).
 */
void svm_skip_instruction(struct ringvm_vcpu *vcpu, unsigned int len)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_save *s = &vmcb->save;
	u64 rip = s->rip + len;

	s->rip = svm_in_64bit_mode(s) ? rip : (u32)rip;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW;

	if (unlikely(s->rflags & X86_EFLAGS_TF)) {
		s->dr6 |= DR_STEP;
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_DRX);
		ringvm_queue_exception(vcpu, X86_TRAP_DB, 0);
	}
}

/* A failed VMRUN: what the processor was given, for the kernel log. */
void svm_dump_vmcb(struct svm_vcpu *svm)
{
	const struct vmcb_control *c = &svm->vmcb->control;
	const struct vmcb_save *s = &svm->vmcb->save;

	pr_err("VMRUN failed: vCPU %u of VM %u, exitcode %#llx\n",
	       svm->vcpu.id, svm->vcpu.vm->id, c->exitcode);
	pr_err("intercepts cr %08x dr %08x exc %08x misc %08x %08x %08x\n",
	       c->intercept_cr, c->intercept_dr, c->intercept_exceptions,
	       c->intercept_misc1, c->intercept_misc2, c->intercept_misc3);
	pr_err("iopm %#llx msrpm %#llx tsc_offset %#llx asid %u tlb %u\n",
	       c->iopm_base_pa, c->msrpm_base_pa, c->tsc_offset,
	       c->guest_asid, c->tlb_control);
	pr_err("int_ctl %08x int_state %#llx eventinj %#llx nested_ctl %#llx n_cr3 %#llx clean %08x\n",
	       c->int_ctl, c->int_state, c->eventinj, c->nested_ctl,
	       c->n_cr3, c->clean);
	pr_err("cs %04x %04x %08x %016llx  ss %04x %04x %08x %016llx\n",
	       s->cs.selector, s->cs.attrib, s->cs.limit, s->cs.base,
	       s->ss.selector, s->ss.attrib, s->ss.limit, s->ss.base);
	pr_err("ds %04x %04x %08x %016llx  es %04x %04x %08x %016llx\n",
	       s->ds.selector, s->ds.attrib, s->ds.limit, s->ds.base,
	       s->es.selector, s->es.attrib, s->es.limit, s->es.base);
	pr_err("fs %04x %04x %08x %016llx  gs %04x %04x %08x %016llx\n",
	       s->fs.selector, s->fs.attrib, s->fs.limit, s->fs.base,
	       s->gs.selector, s->gs.attrib, s->gs.limit, s->gs.base);
	pr_err("tr %04x %04x %08x %016llx  ldtr %04x %04x %08x %016llx\n",
	       s->tr.selector, s->tr.attrib, s->tr.limit, s->tr.base,
	       s->ldtr.selector, s->ldtr.attrib, s->ldtr.limit, s->ldtr.base);
	pr_err("gdtr %08x %016llx  idtr %08x %016llx  cpl %u\n",
	       s->gdtr.limit, s->gdtr.base, s->idtr.limit, s->idtr.base,
	       s->cpl);
	pr_err("efer %#llx cr0 %#llx cr3 %#llx cr4 %#llx cr2 %#llx\n",
	       s->efer, s->cr0, s->cr3, s->cr4, s->cr2);
	pr_err("dr6 %#llx dr7 %#llx rflags %#llx rip %#llx rsp %#llx rax %#llx\n",
	       s->dr6, s->dr7, s->rflags, s->rip, s->rsp, s->rax);
	pr_err("g_pat %#llx dbgctl %#llx\n", s->g_pat, s->dbgctl);
}

/*
 * Interruptibility (APM Vol. 2 §15.21): RFLAGS.IF, the one interrupt
 * shadow bit of INT_STATE (STI and MOV SS alike, so it reads back as
 * STI), and blocking by NMI, which ringvm keeps itself (svm.h).
 */
static bool svm_nmi_masked(struct svm_vcpu *svm)
{
	if (svm->awaiting_iret && svm->vmcb->save.rip != svm->iret_rip) {
		svm->awaiting_iret = false;
		svm->nmi_masked = false;
	}
	return svm->nmi_masked;
}

/* Blocking by NMI starts, or is set or cleared by user space. */
void svm_mask_nmi(struct svm_vcpu *svm, bool masked)
{
	struct vmcb_control *c = &svm->vmcb->control;
	u32 misc1 = c->intercept_misc1 & ~SVM_INTERCEPT1_IRET;

	svm->nmi_masked = masked;
	svm->awaiting_iret = false;
	if (masked)
		misc1 |= SVM_INTERCEPT1_IRET;
	if (misc1 != c->intercept_misc1) {
		c->intercept_misc1 = misc1;
		vmcb_mark_dirty(svm->vmcb, VMCB_CLEAN_INTERCEPTS);
	}
}

void svm_get_intr_state(struct ringvm_vcpu *vcpu, struct ringvm_intr_state *st)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	st->if_flag = vmcb->save.rflags & X86_EFLAGS_IF;
	st->nmi_masked = svm_nmi_masked(svm);
	st->shadow = vmcb->control.int_state & SVM_INTERRUPT_SHADOW ?
		     RINGVM_SHADOW_STI : 0;
}

void svm_set_intr_state(struct ringvm_vcpu *vcpu,
			const struct ringvm_intr_state *st)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control *c = &svm->vmcb->control;

	c->int_state &= ~SVM_INTERRUPT_SHADOW;
	if (st->shadow)
		c->int_state |= SVM_INTERRUPT_SHADOW;
	svm_mask_nmi(svm, st->nmi_masked);
}

/*
 * The interrupt window is a virtual interrupt that is never delivered:
 * V_IRQ at the highest priority, TPR ignored, and the VINTR intercept,
 * which exits as soon as the guest could take it (§15.21.4, as KVM).
 * The NMI window: blocking by NMI ends with an IRET, which is
 * intercepted (svm_mask_nmi()); once it exited, the same VINTR exit
 * comes right after the IRET if that sets IF.  If IF is set before the
 * IRET, the VINTR would exit before it again and again, so the NMI then
 * waits for the next exit of any kind instead (KVM single-steps the
 * IRET; ringvm does not).  RINGVM_WINDOW_TPR: a guest MOV to CR8 would
 * otherwise change V_TPR without an exit, so CR8 writes are intercepted
 * and done by svm_exit_cr8_write().
 */
void svm_set_windows(struct ringvm_vcpu *vcpu, u8 windows)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control *c = &vmcb->control;
	bool vintr = windows & RINGVM_RUN_IRQ_WINDOW;
	u32 misc1;

	u32 cr = c->intercept_cr & ~SVM_INTERCEPT_CR8_WRITE;

	if ((windows & RINGVM_RUN_NMI_WINDOW) && svm->awaiting_iret &&
	    !(vmcb->save.rflags & X86_EFLAGS_IF))
		vintr = true;
	/*
	 * Quirk: QEMU's TCG (7.2) raises its virtual-interrupt request from a
	 * guest MOV to CR8 without the lock its interrupt code asserts
	 * (helper_write_crN(), target/i386/tcg/sysemu/misc_helper.c) when
	 * V_IRQ is set: QEMU aborts, the test machine is gone.  KVM does not
	 * meet it: it intercepts CR8 writes with a user-space interrupt
	 * controller.  Detection: the hypervisor leaf says TCG.  Workaround:
	 * while V_IRQ is set on TCG, CR8 writes exit and are done by
	 * svm_exit_cr8_write(), never by QEMU's helper.
	 */
	if ((vintr && svm_caps.tcg_cr8_quirk) || (windows & RINGVM_WINDOW_TPR))
		cr |= SVM_INTERCEPT_CR8_WRITE;

	misc1 = c->intercept_misc1 & ~SVM_INTERCEPT1_VINTR;
	c->int_ctl &= ~(SVM_V_IRQ | SVM_V_INTR_PRIO_MASK | SVM_V_IGN_TPR);
	if (vintr) {
		misc1 |= SVM_INTERCEPT1_VINTR;
		c->int_ctl |= SVM_V_IRQ | SVM_V_INTR_PRIO_MASK | SVM_V_IGN_TPR;
	}
	vmcb_mark_dirty(vmcb, VMCB_CLEAN_TPR);
	if (misc1 != c->intercept_misc1 || cr != c->intercept_cr) {
		c->intercept_misc1 = misc1;
		c->intercept_cr = cr;
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_INTERCEPTS);
	}
}
