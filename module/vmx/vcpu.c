// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: a vCPU's VMCS and the state around it.
 *
 *  1. where a VMCS is active: parked on the CPU that ran it last, moved
 *     by VMCLEAR (an IPI to that CPU) only when another CPU wants it;
 *     VMCS access outside the run loop: vmx_vmcs_get() / vmx_vmcs_put()
 *  1b. SYSCALL's MSRs: the guest's stay in the CPU until its next
 *     return to user space (a user-return notifier puts the host's back)
 *  2. the guest's control registers and EFER, and what follows them
 *     (read shadows, IA-32e mode, PAE PDPTEs)
 *  3. vcpu_init: VMCS region, VPID, controls, host constants and the
 *     architectural reset state; vcpu_uninit
 *  4. vcpu_load / vcpu_put: make the VMCS current on this CPU, the host
 *     state the exit will load, the MSRs no VMCS field switches, the TLB
 *     flush when the vCPU changed CPUs; and all of it undone but the
 *     VMCS, which stays parked, and SYSCALL's MSRs (1b)
 *  5. (vcpu_run, the VM entry, lives in exit.c beside the exit dispatch)
 *  6. guest state for the core: registers, segments, MSRs, DR6/DR7
 *  7. skipping an instruction
 *
 * Context: process context with vcpu->mutex held.  vcpu_load() to
 * vcpu_put() run with preemption off and the VMCS current on this CPU;
 * the helpers exit.c calls also with interrupts off.  The state
 * hooks work either way (section 1).
 */
#include <linux/build_bug.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/user-return-notifier.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* vmenter.S indexes vcpu->gprs[] with these numbers. */
static_assert(RINGVM_GPR_RAX == 0 && RINGVM_GPR_RCX == 1 &&
	      RINGVM_GPR_RDX == 2 && RINGVM_GPR_RBX == 3 &&
	      RINGVM_GPR_RSP == 4 && RINGVM_GPR_RBP == 5 &&
	      RINGVM_GPR_RSI == 6 && RINGVM_GPR_RDI == 7 &&
	      RINGVM_GPR_R8 == 8 && RINGVM_GPR_R15 == 15);

#define VMX_EFER_VALID		(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)
#define VMX_DR7_INIT		0x400ULL
#define VMX_PAT_INIT		0x0007040600070406ULL
#define VMX_CR0_INIT		(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)
#define VMX_DEBUGCTL_VALID	DEBUGCTLMSR_BTF

/* The VMCS this CPU last loaded, for vmx_vcpu_load()'s IBPB. */
static DEFINE_PER_CPU(void *, vmx_last_vmcs);

/* The guest segment registers and where the VMCS keeps each part. */
enum vmx_seg {
	VMX_SEG_ES, VMX_SEG_CS, VMX_SEG_SS, VMX_SEG_DS, VMX_SEG_FS,
	VMX_SEG_GS, VMX_SEG_LDTR, VMX_SEG_TR,
};

struct vmx_seg_fields {
	u32 selector, base, limit, ar;
};

/* Each row's widths are checked here, since the accessors cannot. */
#define VMX_SEG_FIELDS(s) {						\
	.selector = GUEST_##s##_SELECTOR + BUILD_BUG_ON_ZERO(		\
		!VMCS_FIELD_IS(GUEST_##s##_SELECTOR, VMCS_WIDTH_16)),	\
	.base = GUEST_##s##_BASE + BUILD_BUG_ON_ZERO(			\
		!VMCS_FIELD_IS(GUEST_##s##_BASE, VMCS_WIDTH_NATURAL)),	\
	.limit = GUEST_##s##_LIMIT + BUILD_BUG_ON_ZERO(		\
		!VMCS_FIELD_IS(GUEST_##s##_LIMIT, VMCS_WIDTH_32)),	\
	.ar = GUEST_##s##_AR_BYTES + BUILD_BUG_ON_ZERO(		\
		!VMCS_FIELD_IS(GUEST_##s##_AR_BYTES, VMCS_WIDTH_32)),	\
}

static const struct vmx_seg_fields vmx_segs[] = {
	[VMX_SEG_ES] = VMX_SEG_FIELDS(ES),
	[VMX_SEG_CS] = VMX_SEG_FIELDS(CS),
	[VMX_SEG_SS] = VMX_SEG_FIELDS(SS),
	[VMX_SEG_DS] = VMX_SEG_FIELDS(DS),
	[VMX_SEG_FS] = VMX_SEG_FIELDS(FS),
	[VMX_SEG_GS] = VMX_SEG_FIELDS(GS),
	[VMX_SEG_LDTR] = VMX_SEG_FIELDS(LDTR),
	[VMX_SEG_TR] = VMX_SEG_FIELDS(TR),
};

static const u32 vmx_switched_msr_index[VMX_NR_SWITCHED_MSRS] = {
	[VMX_MSR_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
	[VMX_MSR_STAR] = MSR_STAR,
	[VMX_MSR_LSTAR] = MSR_LSTAR,
	[VMX_MSR_CSTAR] = MSR_CSTAR,
	[VMX_MSR_SFMASK] = MSR_SYSCALL_MASK,
};

/*
 * 1. Where a VMCS is active.  vcpu_put() leaves the VMCS active and
 * current on its CPU, parked, so that the next stretch there - the usual
 * case: after an exit to user space, a slow exit, a state ioctl - needs
 * no VMPTRLD and no VMCLEAR.  SDM Vol. 3C §25.11.1: a VMCS must not be
 * active on two CPUs, and must be VMCLEARed on the CPU where it is active
 * before another loads it.  So:
 *  - a CPU has at most one parked VMCS (vmx_parked), its current one;
 *    whoever VMPTRLDs another VMCS there VMCLEARs the parked one first;
 *  - vmx_parked of a CPU and vmx->parked_cpu change together, on that
 *    CPU, with interrupts off; a vCPU whose VMCS is parked on another
 *    CPU asks that CPU with an IPI (vmx_vmcs_unpark());
 *  - vmx_cpu_disable() (CPU offline, suspend, reboot) VMCLEARs the CPU's
 *    parked VMCS before VMXOFF, and vcpu_uninit() unparks before the
 *    page is freed.
 * A thread that stays in user space or sleeps leaves its VMCS parked:
 * only another vCPU on that CPU, or the vCPU on another CPU, takes it
 * out.  The VMCLEAR also writes back what the CPU caches of the VMCS, so
 * a vCPU that moves finds its state in memory (§25.11.1 again).
 */
static DEFINE_PER_CPU(struct vmx_vcpu *, vmx_parked);

/* VMPTRLD and VMCLEAR of the vCPU's VMCS, counted (stats.c). */
static void vmx_vmptrld(struct vmx_vcpu *vmx)
{
	vmcs_load(vmx->vmcs_pa);
	vmx->vcpu.nr_vmcs_loads++;
}

/* Maybe not the owner's thread (stats.c): one store, not a plain ++. */
static void vmx_vmclear(struct vmx_vcpu *vmx)
{
	vmcs_clear(vmx->vmcs_pa);
	WRITE_ONCE(vmx->vcpu.nr_vmcs_clears, vmx->vcpu.nr_vmcs_clears + 1);
}

/*
 * Interrupts off: VMCLEAR this CPU's parked VMCS, if any.  The owner may
 * be reading parked_cpu on another CPU: the release orders the VMCLEAR
 * before the -1 it may then act on (VMPTRLD elsewhere).
 */
static void vmx_evict_this_cpu(void)
{
	struct vmx_vcpu *p = __this_cpu_read(vmx_parked);

	if (!p)
		return;
	__this_cpu_write(vmx_parked, NULL);
	vmx_vmclear(p);
	p->launched = false;
	/* the VMCLEAR before the -1: pairs with vmx_vmcs_unpark() */
	smp_store_release(&p->parked_cpu, -1);
}

/* IPI, or called with interrupts off on the parked CPU. */
static void vmx_evict_ipi(void *info)
{
	if (__this_cpu_read(vmx_parked) == info)
		vmx_evict_this_cpu();
}

/*
 * Preemption off: VMCLEAR this CPU's parked VMCS, if any.  Also
 * vmx_cpu_disable()'s, before VMXOFF: nothing may stay active on a CPU
 * that leaves VMX operation (SDM Vol. 3C §25.11.1).
 */
void vmx_vcpu_evict_cpu(void)
{
	unsigned long flags;

	local_irq_save(flags);
	vmx_evict_this_cpu();
	local_irq_restore(flags);
}

/*
 * Process context, interrupts on, preemption off: make the VMCS active
 * on no CPU.  From this CPU or another, the IPI runs where it is parked
 * (on this CPU smp_call_function_single() calls it with interrupts off).
 * A CPU gone offline meanwhile has evicted it in vmx_cpu_disable():
 * nothing is parked where VMX is off (vmx_vmcs_park()), so a failed IPI
 * would be a ringvm bug.
 */
static void vmx_vmcs_unpark(struct vmx_vcpu *vmx)
{
	/* pairs with vmx_evict_this_cpu(): -1 means VMCLEARed */
	int cpu = smp_load_acquire(&vmx->parked_cpu);

	if (cpu >= 0)
		WARN_ON_ONCE(smp_call_function_single(cpu, vmx_evict_ipi,
						      vmx, 1));
}

/*
 * Preemption off: make the VMCS current on this CPU.  Parked here: it
 * still is, nothing to do.  Else take it from where it is parked, VMCLEAR
 * this CPU's parked one, and VMPTRLD.
 */
static void vmx_vmcs_acquire(struct vmx_vcpu *vmx)
{
	unsigned long flags;

	local_irq_save(flags);
	if (__this_cpu_read(vmx_parked) == vmx) {
		__this_cpu_write(vmx_parked, NULL);
		WRITE_ONCE(vmx->parked_cpu, -1);
		local_irq_restore(flags);
		return;
	}
	local_irq_restore(flags);

	vmx_vmcs_unpark(vmx);
	vmx_vcpu_evict_cpu();
	vmx_vmptrld(vmx);
}

/*
 * Preemption off, the VMCS current on this CPU: leave it so, parked.
 * Not where the reboot notifier has turned VMX off under a running vCPU
 * (vmx_insn_failed()): no VMCS is active there any more, and a parked
 * one would outlive the CPU's VMX operation.
 */
static void vmx_vmcs_park(struct vmx_vcpu *vmx)
{
	unsigned long flags;

	if (unlikely(!(cr4_read_shadow() & X86_CR4_VMXE))) {
		vmx->launched = false;
		return;
	}
	local_irq_save(flags);
	__this_cpu_write(vmx_parked, vmx);
	WRITE_ONCE(vmx->parked_cpu, smp_processor_id());
	local_irq_restore(flags);
}

/* A WRMSR that gives an MSR the VMCS does not switch its other value. */
static void vmx_switch_msr(struct vmx_vcpu *vmx, u32 index, u64 val)
{
	wrmsrl(index, val);
	vmx->vcpu.nr_msr_switches++;
}

/*
 * 1b. SYSCALL's MSRs: STAR, LSTAR, CSTAR and SFMASK are read by SYSCALL
 * alone, which the host executes only in user mode.  So the guest's
 * values stay in the hardware after vcpu_put(), and the host's go back
 * on this CPU's next return to user space, from a user-return notifier,
 * as KVM does (kvm_set_user_return_msr()).  A vCPU that blocks in the
 * kernel (HLT with the in-kernel APIC) and comes back, or another vCPU
 * of the same guest on this CPU, whose values are the same, writes none
 * of them; a round trip to user space writes each that differs twice,
 * as before.  Only while the guest's EFER.SCE is set: without it
 * SYSCALL is #UD and nothing reads them (SDM Vol. 2B, "SYSCALL"; as
 * KVM's vmx_setup_uret_msrs()), which spares a guest that never turns
 * it on, as the selftests' guests.  A guest's WRMSR to EFER that sets
 * SCE mid-stretch loads them then (vmx_write_efer()).
 *
 * Per CPU, what the hardware holds (cur) and the host's values (host,
 * read when the CPU entered VMX operation, when it held the host's).
 * Changed on their CPU only: with preemption off by the run loop, with
 * interrupts off by the notifier, the reboot notifier's IPI and the
 * hotplug and suspend callbacks.  The notifier list is touched only in
 * process context (a notifier unregistered from an IPI could be the
 * next one fire_user_return_notifiers() is about to call): the IPI puts
 * the host's values back and leaves the notifier to find nothing to do.
 */
struct vmx_uret {
	struct user_return_notifier urn;
	bool registered;
	u64 host[VMX_NR_SWITCHED_MSRS];	/* VMX_MSR_STAR and up */
	u64 cur[VMX_NR_SWITCHED_MSRS];
};

static DEFINE_PER_CPU(struct vmx_uret, vmx_uret);

/*
 * On the CPU, interrupts off (or, without the notifier, preemption off
 * at vcpu_put()): the host's values into the hardware.
 */
static void vmx_uret_restore(struct vmx_uret *u)
{
	unsigned int i;

	for (i = VMX_MSR_STAR; i < VMX_NR_SWITCHED_MSRS; i++) {
		if (u->cur[i] != u->host[i]) {
			wrmsrl(vmx_switched_msr_index[i], u->host[i]);
			u->cur[i] = u->host[i];
		}
	}
}

#ifdef CONFIG_USER_RETURN_NOTIFIER
/* Preemption off, on the way to user space (exit_to_user_mode). */
static void vmx_on_user_return(struct user_return_notifier *urn)
{
	struct vmx_uret *u = container_of(urn, struct vmx_uret, urn);
	unsigned long flags;

	local_irq_save(flags);
	u->registered = false;
	user_return_notifier_unregister(urn);
	vmx_uret_restore(u);
	local_irq_restore(flags);
}

static void vmx_uret_arm(struct vmx_uret *u)
{
	if (u->registered)
		return;
	u->urn.on_user_return = vmx_on_user_return;
	user_return_notifier_register(&u->urn);
	u->registered = true;
}

/* Process context, interrupts off: drop the notifier (see above). */
static void vmx_uret_disarm(struct vmx_uret *u)
{
	if (u->registered) {
		user_return_notifier_unregister(&u->urn);
		u->registered = false;
	}
}
#else
/* Without the notifier the host's values go back at vcpu_put(). */
static void vmx_uret_arm(struct vmx_uret *u) { }
static void vmx_uret_disarm(struct vmx_uret *u) { }
#endif

/* cpu_enable, interrupts off: the hardware holds the host's values. */
void vmx_uret_cpu_enable(void)
{
	struct vmx_uret *u = this_cpu_ptr(&vmx_uret);
	unsigned int i;

	for (i = VMX_MSR_STAR; i < VMX_NR_SWITCHED_MSRS; i++) {
		rdmsrl(vmx_switched_msr_index[i], u->host[i]);
		u->cur[i] = u->host[i];
	}
}

/* cpu_disable, interrupts off, any context (the reboot IPI too). */
void vmx_uret_cpu_disable(void)
{
	vmx_uret_restore(this_cpu_ptr(&vmx_uret));
}

/*
 * cpu_offline: process context on the CPU, before it goes offline or the
 * module goes, whether or not cpu_disable ran (the reboot notifier may
 * have turned VMX off before).
 */
void vmx_uret_cpu_offline(void)
{
	struct vmx_uret *u = this_cpu_ptr(&vmx_uret);
	unsigned long flags;

	local_irq_save(flags);
	vmx_uret_restore(u);
	vmx_uret_disarm(u);
	local_irq_restore(flags);
}

/*
 * Preemption off, loaded: the guest's value of SYSCALL MSR @i into the
 * hardware unless it is there already.  Counted twice when it replaces
 * the host's: this WRMSR and, in advance, the one that puts the host's
 * back, which runs outside any vCPU (stats.c, msr-switches).
 */
static void vmx_syscall_msr_to_guest(struct vmx_vcpu *vmx, unsigned int i)
{
	struct vmx_uret *u = this_cpu_ptr(&vmx_uret);
	u64 val = vmx->guest_msrs[i];

	if (u->cur[i] == val)
		return;
	wrmsrl(vmx_switched_msr_index[i], val);
	vmx->vcpu.nr_msr_switches += u->cur[i] == u->host[i] ? 2 : 1;
	u->cur[i] = val;
	vmx_uret_arm(u);
}

static void vmx_syscall_msrs_to_guest(struct vmx_vcpu *vmx)
{
	unsigned int i;

	for (i = VMX_MSR_STAR; i < VMX_NR_SWITCHED_MSRS; i++)
		vmx_syscall_msr_to_guest(vmx, i);
	vmx->syscall_live = true;
}

/*
 * The state hooks run inside the run loop, with the VMCS current on this
 * CPU, or from another ioctl with the vCPU loaded nowhere.  Then the VMCS
 * is made current here for the duration, preemption off, and stays
 * parked here after (above).  vcpu->mutex keeps the two cases apart.
 */
static bool vmx_vmcs_get(struct vmx_vcpu *vmx)
{
	if (vmx->loaded)
		return false;
	preempt_disable();
	vmx_vmcs_acquire(vmx);
	return true;
}

static void vmx_vmcs_put(struct vmx_vcpu *vmx, bool borrowed)
{
	if (!borrowed)
		return;
	vmx_vmcs_park(vmx);
	preempt_enable();
}

/*
 * Guest-linear and combined translations of this vCPU (SDM Vol. 3C
 * §29.4.3.1).  Without a VPID every entry and exit flushes them anyway.
 */
void vmx_flush_guest_tlb(struct vmx_vcpu *vmx)
{
	if (!vmx->vpid)
		return;
	if (vmx_cfg.ept_vpid_cap & IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT)
		__invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, vmx->vpid);
	else
		__invvpid(VMX_VPID_EXTENT_ALL_CONTEXT, 0);
}

/* ... and the guest-physical ones of its EPT as well. */
static void vmx_flush_all(struct vmx_vcpu *vmx)
{
	if (vmx_cfg.ept_vpid_cap & IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT)
		__invept(VMX_EPT_EXTENT_CONTEXT, vmx->eptp);
	else
		__invept(VMX_EPT_EXTENT_GLOBAL, 0);
	vmx_flush_guest_tlb(vmx);
}

/*
 * 2. Control registers.  The masks own the bits of vmx_cfg (vmx.h) and,
 * while EFER.LME is set, CR0.PG; the read shadows always hold the
 * guest's whole value, so the guest's view of a register is the shadow
 * for owned bits and the hardware for the rest.
 */
static unsigned long vmx_cr4_mask(void)
{
	return vmx_cfg.cr4_on | vmx_cfg.cr4_never;
}

unsigned long vmx_guest_cr0(struct vmx_vcpu *vmx)
{
	unsigned long mask = vmx->cr0_mask;

	return (vmcs_readl(GUEST_CR0) & ~mask) |
	       (vmcs_readl(CR0_READ_SHADOW) & mask);
}

static unsigned long vmx_guest_cr4(void)
{
	unsigned long mask = vmx_cr4_mask();

	return (vmcs_readl(GUEST_CR4) & ~mask) |
	       (vmcs_readl(CR4_READ_SHADOW) & mask);
}

static void vmx_write_cr0(unsigned long cr0)
{
	vmcs_writel(CR0_READ_SHADOW, cr0);
	vmcs_writel(GUEST_CR0, (cr0 & ~vmx_cfg.cr0_off) | vmx_cfg.cr0_on);
}

static void vmx_write_cr4(unsigned long cr4)
{
	vmcs_writel(CR4_READ_SHADOW, cr4);
	vmcs_writel(GUEST_CR4, cr4 | vmx_cfg.cr4_on);
}

/*
 * EFER and the controls that follow it.  "IA-32e mode guest" must equal
 * EFER.LMA (SDM Vol. 3C §27.3.1.1), and in VMX non-root operation the CPU
 * sets the guest's LMA when paging goes on with LME set but cannot change
 * the control: so while LME is set, CR0.PG changes exit and the CR0 code
 * below sets LMA and the control together.
 */
static void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer)
{
	u32 entry = vmx_cfg.entry;
	unsigned long mask = vmx_cfg.cr0_on | vmx_cfg.cr0_off |
			     vmx_cfg.cr0_never;

	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	if (efer & EFER_LME)
		mask |= X86_CR0_PG;

	vmcs_write64(GUEST_IA32_EFER, efer);
	/* SYSCALL works from now on: its MSRs must be the guest's */
	if (vmx->loaded && (efer & EFER_SCE) && !vmx->syscall_live)
		vmx_syscall_msrs_to_guest(vmx);
	if (entry != vmx->entry_ctls) {
		vmcs_write32(VM_ENTRY_CONTROLS, entry);
		vmx->entry_ctls = entry;
	}
	if (mask != vmx->cr0_mask) {
		/* PG was the hardware's until now: bring the shadow along. */
		unsigned long cr0 = vmx_guest_cr0(vmx);

		vmcs_writel(CR0_GUEST_HOST_MASK, mask);
		vmx->cr0_mask = mask;
		vmcs_writel(CR0_READ_SHADOW, cr0);
	}
}

/*
 * PAE paging with EPT: VM entry loads the four PDPTEs from the VMCS, not
 * from memory (SDM Vol. 3C §27.3.2.4).  The CPU fills them itself when
 * the guest loads CR3 or enables paging, but not when ringvm does it for
 * the guest, so read them from guest memory (ringvm_read_pdptes()).
 */
static void vmx_write_pdptrs(const u64 pdpte[4])
{
	vmcs_write64(GUEST_PDPTR0, pdpte[0]);
	vmcs_write64(GUEST_PDPTR1, pdpte[1]);
	vmcs_write64(GUEST_PDPTR2, pdpte[2]);
	vmcs_write64(GUEST_PDPTR3, pdpte[3]);
}

static bool vmx_load_pdptrs(struct vmx_vcpu *vmx, unsigned long cr3)
{
	u64 pdpte[4];

	if (!ringvm_read_pdptes(vmx->vcpu.vm, cr3, pdpte))
		return false;
	vmx_write_pdptrs(pdpte);
	return true;
}

/*
 * A guest MOV to CR0 (or CLTS, LMSW) that touched a bit the mask owns.
 * The exit comes before the checks the instruction would make (SDM Vol.
 * 3C §26.1.1), so make them here: false means #GP(0) (SDM Vol. 3A §2.5,
 * Vol. 2B "MOV-Move to/from Control Registers").
 */
bool vmx_set_guest_cr0(struct vmx_vcpu *vmx, unsigned long cr0)
{
	unsigned long old = vmx_guest_cr0(vmx), cr4 = vmx_guest_cr4();
	u64 efer = vmcs_read64(GUEST_IA32_EFER);
	bool pg_changed = (old ^ cr0) & X86_CR0_PG;

	if (cr0 & vmx_cfg.cr0_never)
		return false;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return false;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return false;
	if (pg_changed && (cr0 & X86_CR0_PG) && (efer & EFER_LME) &&
	    !(cr4 & X86_CR4_PAE))
		return false;
	/* Paging off in 64-bit mode */
	if (pg_changed && !(cr0 & X86_CR0_PG) && (efer & EFER_LMA) &&
	    (vmcs_read32(GUEST_CS_AR_BYTES) & VMX_AR_L))
		return false;

	if (pg_changed && (efer & EFER_LME))
		efer = (cr0 & X86_CR0_PG) ? efer | EFER_LMA : efer & ~EFER_LMA;
	if (pg_changed && ringvm_pae_paging(cr0, cr4, efer) &&
	    !vmx_load_pdptrs(vmx, vmcs_readl(GUEST_CR3)))
		return false;

	vmx_write_cr0(cr0);
	vmx_write_efer(vmx, efer);
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		vmx_flush_guest_tlb(vmx);
	return true;
}

/*
 * A guest MOV to CR3, which exits only on CPUs that cannot turn CR3
 * exiting off.  Bits above MAXPHYADDR are a #GP; bit 63 (no flush with
 * PCIDE) is dropped and the flush done anyway.
 */
bool vmx_set_guest_cr3(struct vmx_vcpu *vmx, unsigned long cr3)
{
	u64 efer = vmcs_read64(GUEST_IA32_EFER);

	if (vmx_guest_cr4() & X86_CR4_PCIDE)
		cr3 &= ~BIT_ULL(63);
	if (cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
		return false;
	if (ringvm_pae_paging(vmx_guest_cr0(vmx), vmx_guest_cr4(), efer) &&
	    !vmx_load_pdptrs(vmx, cr3))
		return false;
	vmcs_writel(GUEST_CR3, cr3);
	vmx_flush_guest_tlb(vmx);
	return true;
}

/* A guest WRMSR to EFER: LMA is read-only, LME frozen while paging. */
static int vmx_set_guest_efer(struct vmx_vcpu *vmx, u64 efer)
{
	int r = ringvm_efer_write(vmcs_read64(GUEST_IA32_EFER), &efer,
				  vmx_guest_cr0(vmx), VMX_EFER_VALID);

	if (!r)
		vmx_write_efer(vmx, efer);
	return r;
}

/* 3. A new vCPU */

static void vmx_write_seg(enum vmx_seg seg, u16 selector, u64 base,
			  u32 limit, u32 ar)
{
	const struct vmx_seg_fields *f = &vmx_segs[seg];

	__vmcs_writel(f->selector, selector);
	__vmcs_writel(f->base, base);
	__vmcs_writel(f->limit, limit);
	__vmcs_writel(f->ar, ar);
}

/*
 * Controls and host state that never change: SDM Vol. 3C §25.6-§25.8 for
 * the controls, §27.2.3 for the host selectors (RPL and TI 0, so DS, ES,
 * FS and GS are loaded as 0 and vcpu_put() restores the real ones).
 */
static void vmx_setup_vmcs(struct vmx_vcpu *vmx)
{
	u32 proc2 = vmx_cfg.proc2;

	if (!vmx->vpid)
		proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;

	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, vmx_cfg.pin);
	if (vmx_cfg.pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, vmx_cfg.preempt_timer);
	vmx->proc_ctls = vmx_cfg.proc;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmx->proc_ctls);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write32(VM_EXIT_CONTROLS, vmx_cfg.exit);
	vmx->entry_ctls = vmx_cfg.entry;
	vmcs_write32(VM_ENTRY_CONTROLS, vmx->entry_ctls);

	/*
	 * #DB and #AC are intercepted and reflected so that a guest cannot
	 * hang the CPU in an endless chain of them (CVE-2015-8104,
	 * CVE-2015-5307); #MC goes to the host's handler.
	 */
	vmcs_write32(EXCEPTION_BITMAP,
		     BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC));
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);

	vmcs_write64(EPT_POINTER, vmx->eptp);
	if (vmx->vpid)
		vmcs_write16(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	if (proc2 & SECONDARY_EXEC_ENCLS_EXITING)
		vmcs_write64(ENCLS_EXITING_BITMAP, ~0ULL);
	vmcs_write64(TSC_OFFSET, vmx->tsc_offset);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);

	vmx->cr0_mask = vmx_cfg.cr0_on | vmx_cfg.cr0_off | vmx_cfg.cr0_never;
	vmcs_writel(CR0_GUEST_HOST_MASK, vmx->cr0_mask);
	vmcs_writel(CR4_GUEST_HOST_MASK, vmx_cr4_mask());

	vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write16(HOST_DS_SELECTOR, 0);
	vmcs_write16(HOST_ES_SELECTOR, 0);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_writel(HOST_RIP, (unsigned long)vmx_vmexit);
	/* vcpu_load() and vmenter.S compare with these before writing. */
	vmcs_writel(HOST_RSP, 0);
	vmcs_writel(HOST_CR3, 0);
	vmcs_writel(HOST_CR4, 0);
	vmcs_writel(HOST_FS_BASE, 0);
}

/*
 * The architectural reset state (SDM Vol. 3A §10.1.1, Table 10-1) as an
 * unrestricted guest runs it: real mode, accessed code and data segments
 * of 64 KiB, a busy 32-bit TSS (VM entry wants type 11, §27.3.1.2) and a
 * present LDT (type 2) with a null selector, which VM entry accepts.
 */
static void vmx_reset(struct vmx_vcpu *vmx)
{
	enum vmx_seg seg;

	for (seg = VMX_SEG_ES; seg <= VMX_SEG_GS; seg++)
		vmx_write_seg(seg, 0, 0, 0xffff, VMX_AR_P | VMX_AR_S | 0x3);
	vmx_write_seg(VMX_SEG_CS, 0xf000, 0xffff0000, 0xffff,
		      VMX_AR_P | VMX_AR_S | 0xb);
	vmx_write_seg(VMX_SEG_TR, 0, 0, 0xffff, VMX_AR_P | 0xb);
	vmx_write_seg(VMX_SEG_LDTR, 0, 0, 0xffff, VMX_AR_P | 0x2);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);

	vmcs_writel(GUEST_RIP, 0xfff0);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmx_write_cr0(VMX_CR0_INIT);
	vmcs_writel(GUEST_CR3, 0);
	vmx_write_cr4(0);
	vmx_write_efer(vmx, 0);
	vmcs_write64(GUEST_IA32_PAT, VMX_PAT_INIT);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_writel(GUEST_DR7, VMX_DR7_INIT);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write64(GUEST_PDPTR0, 0);
	vmcs_write64(GUEST_PDPTR1, 0);
	vmcs_write64(GUEST_PDPTR2, 0);
	vmcs_write64(GUEST_PDPTR3, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);

	/* EDX: family, model and stepping of the CPU we run on. */
	vmx->vcpu.gprs[RINGVM_GPR_RDX] = cpuid_eax(1);
	vmx->dr6 = VMX_DR6_INIT;
}

int vmx_vcpu_init(struct ringvm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct page *page;

	vmx->parked_cpu = -1;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	vmx->vmcs = page_address(page);
	vmx->vmcs_pa = page_to_phys(page);
	/* SDM Vol. 3C §25.2: the revision id first; bit 31 0, not shadow. */
	*(u32 *)vmx->vmcs = vmx_cfg.basic & IA32_VMX_BASIC_REVISION_MASK;

	vmx->vpid = vmx_alloc_vpid();
	vmx->eptp = vcpu->vm->npt.root_pa | VMX_EPTP_PWL_4 | VMX_EPTP_MT_WB;
	vmx->tsc_offset = READ_ONCE(vcpu->vm->tsc_offset);	/* vm.h */

	preempt_disable();
	vmx_vcpu_evict_cpu();	/* the VMPTRLD below replaces it */
	/*
	 * SDM Vol. 3C §25.11.3: VMCLEAR a new region before its VMPTRLD.
	 * Not counted: a new vCPU's statistics start at 0.
	 */
	vmcs_clear(vmx->vmcs_pa);
	vmcs_load(vmx->vmcs_pa);
	vmx_setup_vmcs(vmx);
	vmx_reset(vmx);
	vmx_vmcs_park(vmx);	/* the first RUN here needs no VMPTRLD */
	preempt_enable();
	return 0;
}

/*
 * Not loaded anywhere, but maybe parked: VMCLEAR it where it is before
 * the page goes.  vmx_last_vmcs must forget it, or a new VMCS at the
 * same address would skip its IBPB.
 */
void vmx_vcpu_uninit(struct ringvm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu;

	preempt_disable();
	vmx_vmcs_unpark(vmx);
	preempt_enable();
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&vmx_last_vmcs, cpu), vmx->vmcs, NULL);
	vmx_free_vpid(vmx->vpid);
	free_page((unsigned long)vmx->vmcs);
}

/*
 * 4. Host state.  What differs per CPU (SDM Vol. 3C §27.2.3, §28.5): the
 * TSS and GDT in the CPU entry area, the per-CPU GS base, the SYSENTER
 * stack.  Written when the vCPU arrives on a CPU; the VMCS keeps them
 * while it stays.
 */
static void vmx_load_cpu_host_state(int cpu)
{
	struct desc_ptr idt;
	u64 val;

	vmcs_writel(HOST_CR0, read_cr0());
	vmcs_writel(HOST_TR_BASE,
		    (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_writel(HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	store_idt(&idt);
	vmcs_writel(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_GS_BASE, val);
	vmcs_writel(HOST_GS_BASE, val);
	rdmsrl(MSR_IA32_SYSENTER_CS, val);
	vmcs_write32(HOST_IA32_SYSENTER_CS, val);
	rdmsrl(MSR_IA32_SYSENTER_ESP, val);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, val);
	rdmsrl(MSR_IA32_SYSENTER_EIP, val);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, val);
	rdmsrl(MSR_EFER, val);
	vmcs_write64(HOST_IA32_EFER, val);
	rdmsrl(MSR_IA32_CR_PAT, val);
	vmcs_write64(HOST_IA32_PAT, val);
}

static u16 vmx_read_ldt(void)
{
	u16 sel;

	asm volatile("sldt %0" : "=g" (sel));
	return sel;
}

static void vmx_load_ldt(u16 sel)
{
	asm volatile("lldt %0" : : "rm" (sel));
}

/*
 * What belongs to the task: its page tables (HOST_CR3, checked again
 * before each entry), FS base and selectors.  The VM exit loads null DS,
 * ES, FS, GS and LDTR; vcpu_put() puts back whichever were not null.
 */
static void vmx_load_task_host_state(struct vmx_vcpu *vmx)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();
	u64 fs_base;

	if (cr3 != vmx->host_cr3) {
		vmcs_writel(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (cr4 != vmx->host_cr4) {
		vmcs_writel(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
	rdmsrl(MSR_FS_BASE, fs_base);
	if (fs_base != vmx->host_fs_base) {
		vmcs_writel(HOST_FS_BASE, fs_base);
		vmx->host_fs_base = fs_base;
	}
	savesegment(ds, vmx->host_ds_sel);
	savesegment(es, vmx->host_es_sel);
	savesegment(fs, vmx->host_fs_sel);
	savesegment(gs, vmx->host_gs_sel);
	vmx->host_ldt_sel = vmx_read_ldt();
}

static void vmx_restore_host_segments(struct vmx_vcpu *vmx)
{
	if (vmx->host_ldt_sel)
		vmx_load_ldt(vmx->host_ldt_sel);
	if (vmx->host_gs_sel) {
		/* This loads the user GS base, KERNEL_GS_BASE: see below. */
		load_gs_index(vmx->host_gs_sel);
		vmx->kgs_switched = true;
	}
	if (vmx->host_fs_sel) {
		loadsegment(fs, vmx->host_fs_sel);
		vmx_switch_msr(vmx, MSR_FS_BASE, vmx->host_fs_base);
	}
	if (vmx->host_ds_sel | vmx->host_es_sel) {
		loadsegment(ds, vmx->host_ds_sel);
		loadsegment(es, vmx->host_es_sel);
	}
}

/*
 * KERNEL_GS_BASE is nobody's VMCS field either, but the host kernel reads
 * it (the user GS base of the task, at a context switch): the guest's
 * value for the loaded stretch, where it differs, and the host's again
 * at vcpu_put().  SYSCALL's MSRs: section 1b.
 */
static void vmx_msrs_to_guest(struct vmx_vcpu *vmx)
{
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->host_kgs);
	vmx->kgs_switched = false;
	if (vmx->guest_msrs[VMX_MSR_KERNEL_GS_BASE] != vmx->host_kgs) {
		vmx_switch_msr(vmx, MSR_KERNEL_GS_BASE,
			       vmx->guest_msrs[VMX_MSR_KERNEL_GS_BASE]);
		vmx->kgs_switched = true;
	}
	vmx->syscall_live = false;
	if (vmcs_read64(GUEST_IA32_EFER) & EFER_SCE)
		vmx_syscall_msrs_to_guest(vmx);
}

static void vmx_msrs_to_host(struct vmx_vcpu *vmx)
{
	if (vmx->kgs_switched)
		vmx_switch_msr(vmx, MSR_KERNEL_GS_BASE, vmx->host_kgs);
	vmx->kgs_switched = false;
	if (!IS_ENABLED(CONFIG_USER_RETURN_NOTIFIER))
		vmx_uret_restore(this_cpu_ptr(&vmx_uret));
}

void vmx_vcpu_load(struct ringvm_vcpu *vcpu, int cpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_vmcs_acquire(vmx);
	vmx->loaded = true;

	/*
	 * One guest's indirect branches must not steer another's: IBPB
	 * when this CPU moves to another vCPU's VMCS (Spectre v2, as KVM
	 * does; module/MITIGATIONS.md row 6).  Keyed on the last VMCS run
	 * here, not the parked one: a state ioctl may park a VMCS on a CPU
	 * without running it.
	 */
	if (__this_cpu_read(vmx_last_vmcs) != vmx->vmcs) {
		__this_cpu_write(vmx_last_vmcs, vmx->vmcs);
		indirect_branch_prediction_barrier();
	}
	/* Whatever ran here since the last entry may have left data in L1D. */
	vmx->l1d_flush = true;

	/*
	 * SDM Vol. 3C §29.4.3.3: translations this vCPU left on this CPU
	 * may be stale (the guest invalidated them elsewhere; another vCPU
	 * had this VPID or EPTP), so flush when the vCPU arrives.
	 */
	if (vcpu->last_cpu != cpu) {
		vmx_load_cpu_host_state(cpu);
		vmx_flush_all(vmx);
	} else if (vmx->need_flush) {
		vmx_flush_guest_tlb(vmx);
	}
	vmx->need_flush = false;

	/* Another vCPU of the VM wrote IA32_TSC: one TSC per VM. */
	if (unlikely(vmx->tsc_offset != READ_ONCE(vcpu->vm->tsc_offset))) {
		vmx->tsc_offset = READ_ONCE(vcpu->vm->tsc_offset);
		vmcs_write64(TSC_OFFSET, vmx->tsc_offset);
	}

	vmx_load_task_host_state(vmx);
	vmx_msrs_to_guest(vmx);
	vmx->host_debugctl = get_debugctlmsr();
}

/*
 * Undo vcpu_load.  The exits left behind what vcpu_run() did not fix at
 * once (SDM Vol. 3C §28.5): null selectors, GDTR and IDTR limits 0xffff,
 * TR limit 0x67.  Linux wants its GDT limit back (load_fixmap_gdt) and,
 * for a task with an I/O bitmap, the TSS limit (invalidate_tss_limit);
 * the IDT limit covers its 256 vectors either way, so it stays, as in KVM.
 */
void vmx_vcpu_put(struct ringvm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = smp_processor_id();
	u64 *kgs = &vmx->guest_msrs[VMX_MSR_KERNEL_GS_BASE];

	/* SWAPGS in the guest changes KERNEL_GS_BASE without an exit. */
	rdmsrl(MSR_KERNEL_GS_BASE, *kgs);
	if (*kgs != vmx->host_kgs)
		vmx->kgs_switched = true;

	vmx_restore_host_segments(vmx);
	vmx_msrs_to_host(vmx);
	invalidate_tss_limit();
	load_fixmap_gdt(cpu);

	/* Current here until another vCPU or CPU wants it (section 1). */
	vmx_vmcs_park(vmx);
	vmx->loaded = false;
	vcpu->last_cpu = cpu;
}

/* 6. Guest state */

unsigned long vmx_read_gpr(struct vmx_vcpu *vmx, int gpr)
{
	if (gpr == RINGVM_GPR_RSP)
		return vmcs_readl(GUEST_RSP);
	return vmx->vcpu.gprs[gpr];
}

void vmx_write_gpr(struct vmx_vcpu *vmx, int gpr, unsigned long val)
{
	if (gpr == RINGVM_GPR_RSP)
		vmcs_writel(GUEST_RSP, val);
	else
		vmx->vcpu.gprs[gpr] = val;
}

void vmx_get_regs(struct ringvm_vcpu *vcpu, struct ringvm_regs *regs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long *gprs = vcpu->gprs;
	bool borrowed = vmx_vmcs_get(vmx);

	regs->rax = gprs[RINGVM_GPR_RAX];
	regs->rbx = gprs[RINGVM_GPR_RBX];
	regs->rcx = gprs[RINGVM_GPR_RCX];
	regs->rdx = gprs[RINGVM_GPR_RDX];
	regs->rsi = gprs[RINGVM_GPR_RSI];
	regs->rdi = gprs[RINGVM_GPR_RDI];
	regs->rsp = vmcs_readl(GUEST_RSP);
	regs->rbp = gprs[RINGVM_GPR_RBP];
	regs->r8 = gprs[RINGVM_GPR_R8];
	regs->r9 = gprs[RINGVM_GPR_R9];
	regs->r10 = gprs[RINGVM_GPR_R10];
	regs->r11 = gprs[RINGVM_GPR_R11];
	regs->r12 = gprs[RINGVM_GPR_R12];
	regs->r13 = gprs[RINGVM_GPR_R13];
	regs->r14 = gprs[RINGVM_GPR_R14];
	regs->r15 = gprs[RINGVM_GPR_R15];
	regs->rip = vmcs_readl(GUEST_RIP);
	regs->rflags = vmcs_readl(GUEST_RFLAGS);
	vmx_vmcs_put(vmx, borrowed);
}

/* RFLAGS as given: reserved bits make the next entry fail (§27.3.1.4). */
void vmx_set_regs(struct ringvm_vcpu *vcpu, const struct ringvm_regs *regs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long *gprs = vcpu->gprs;
	bool borrowed = vmx_vmcs_get(vmx);

	gprs[RINGVM_GPR_RAX] = regs->rax;
	gprs[RINGVM_GPR_RBX] = regs->rbx;
	gprs[RINGVM_GPR_RCX] = regs->rcx;
	gprs[RINGVM_GPR_RDX] = regs->rdx;
	gprs[RINGVM_GPR_RSI] = regs->rsi;
	gprs[RINGVM_GPR_RDI] = regs->rdi;
	gprs[RINGVM_GPR_RBP] = regs->rbp;
	gprs[RINGVM_GPR_R8] = regs->r8;
	gprs[RINGVM_GPR_R9] = regs->r9;
	gprs[RINGVM_GPR_R10] = regs->r10;
	gprs[RINGVM_GPR_R11] = regs->r11;
	gprs[RINGVM_GPR_R12] = regs->r12;
	gprs[RINGVM_GPR_R13] = regs->r13;
	gprs[RINGVM_GPR_R14] = regs->r14;
	gprs[RINGVM_GPR_R15] = regs->r15;
	vmcs_writel(GUEST_RSP, regs->rsp);
	vmcs_writel(GUEST_RIP, regs->rip);
	vmcs_writel(GUEST_RFLAGS, regs->rflags);
	vmx_vmcs_put(vmx, borrowed);
}

/*
 * Access rights <-> struct ringvm_segment (SDM Vol. 3C §25.4.1, Table
 * 25-2).  After an exit the rights of an unusable segment are undefined
 * apart from the unusable bit, so report it not present.
 */
static void vmx_get_seg(enum vmx_seg seg, struct ringvm_segment *s)
{
	const struct vmx_seg_fields *f = &vmx_segs[seg];
	u32 ar = __vmcs_readl(f->ar);

	memset(s, 0, sizeof(*s));
	s->base = __vmcs_readl(f->base);
	s->limit = __vmcs_readl(f->limit);
	s->selector = __vmcs_readl(f->selector);
	s->type = ar & VMX_AR_TYPE_MASK;
	s->s = !!(ar & VMX_AR_S);
	s->dpl = (ar & VMX_AR_DPL_MASK) >> VMX_AR_DPL_SHIFT;
	s->unusable = !!(ar & VMX_AR_UNUSABLE);
	s->present = !s->unusable && (ar & VMX_AR_P);
	s->avl = !!(ar & VMX_AR_AVL);
	s->l = !!(ar & VMX_AR_L);
	s->db = !!(ar & VMX_AR_DB);
	s->g = !!(ar & VMX_AR_G);
}

static void vmx_set_seg(enum vmx_seg seg, const struct ringvm_segment *s)
{
	u32 ar = (s->type & VMX_AR_TYPE_MASK) |
		 (s->s ? VMX_AR_S : 0) |
		 ((s->dpl & 3) << VMX_AR_DPL_SHIFT) |
		 (s->present ? VMX_AR_P : 0) |
		 (s->avl ? VMX_AR_AVL : 0) |
		 (s->l ? VMX_AR_L : 0) |
		 (s->db ? VMX_AR_DB : 0) |
		 (s->g ? VMX_AR_G : 0) |
		 (s->unusable ? VMX_AR_UNUSABLE : 0);

	vmx_write_seg(seg, s->selector, s->base, s->limit, ar);
}

void vmx_get_sregs(struct ringvm_vcpu *vcpu, struct ringvm_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed = vmx_vmcs_get(vmx);

	memset(sregs, 0, sizeof(*sregs));
	vmx_get_seg(VMX_SEG_CS, &sregs->cs);
	vmx_get_seg(VMX_SEG_DS, &sregs->ds);
	vmx_get_seg(VMX_SEG_ES, &sregs->es);
	vmx_get_seg(VMX_SEG_FS, &sregs->fs);
	vmx_get_seg(VMX_SEG_GS, &sregs->gs);
	vmx_get_seg(VMX_SEG_SS, &sregs->ss);
	vmx_get_seg(VMX_SEG_TR, &sregs->tr);
	vmx_get_seg(VMX_SEG_LDTR, &sregs->ldt);
	sregs->gdt.base = vmcs_readl(GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read32(GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_readl(GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read32(GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_guest_cr0(vmx);
	sregs->cr2 = vmx->cr2;
	sregs->cr3 = vmcs_readl(GUEST_CR3);
	sregs->cr4 = vmx_guest_cr4();
	sregs->cr8 = vmx->cr8;
	sregs->efer = vmcs_read64(GUEST_IA32_EFER);
	vmx_vmcs_put(vmx, borrowed);
}

/*
 * -EINVAL only for what no guest could ever hold here: CR4 or EFER bits
 * outside what ringvm gives guests, a TPR above 15.  Everything else is
 * written as given, and VM entry judges it (RINGVM_EXIT_FAIL_ENTRY).
 */
int vmx_set_sregs(struct ringvm_vcpu *vcpu, const struct ringvm_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool pae = ringvm_pae_paging(sregs->cr0, sregs->cr4, sregs->efer);
	bool borrowed;
	u64 pdpte[4];

	if ((sregs->cr4 & vmx_cr4_mask()) || (sregs->efer & ~VMX_EFER_VALID) ||
	    sregs->cr8 > 15)
		return -EINVAL;
	/* The core checked them already (ringvm_sregs_ok()) */
	if (pae && !ringvm_read_pdptes(vcpu->vm, sregs->cr3, pdpte))
		return -EINVAL;

	borrowed = vmx_vmcs_get(vmx);
	vmx_set_seg(VMX_SEG_CS, &sregs->cs);
	vmx_set_seg(VMX_SEG_DS, &sregs->ds);
	vmx_set_seg(VMX_SEG_ES, &sregs->es);
	vmx_set_seg(VMX_SEG_FS, &sregs->fs);
	vmx_set_seg(VMX_SEG_GS, &sregs->gs);
	vmx_set_seg(VMX_SEG_SS, &sregs->ss);
	vmx_set_seg(VMX_SEG_TR, &sregs->tr);
	vmx_set_seg(VMX_SEG_LDTR, &sregs->ldt);
	vmcs_writel(GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write32(GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_writel(GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write32(GUEST_IDTR_LIMIT, sregs->idt.limit);

	/* EFER first: it decides whether the CR0 mask owns PG. */
	vmx_write_efer(vmx, sregs->efer);
	vmx_write_cr0(sregs->cr0);
	vmcs_writel(GUEST_CR3, sregs->cr3);
	vmx_write_cr4(sregs->cr4);
	if (pae)
		vmx_write_pdptrs(pdpte);
	vmx->cr2 = sregs->cr2;
	vmx->cr8 = sregs->cr8;
	vmx_vmcs_put(vmx, borrowed);

	/* New paging state: nothing cached for this VPID still applies. */
	if (vmx->loaded)
		vmx_flush_guest_tlb(vmx);
	else
		vmx->need_flush = true;
	return 0;
}

/* SS.DPL is the CPL; VM entry insists (SDM §27.3.1.2).  VMCS loaded. */
static u8 vmx_guest_cpl(void)
{
	return (vmcs_read32(GUEST_SS_AR_BYTES) & VMX_AR_DPL_MASK) >>
	       VMX_AR_DPL_SHIFT;
}

u64 vmx_get_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed;
	u64 val;

	if (reg == RINGVM_REG_CR8)
		return vmx->cr8;	/* CR8 accesses exit: never in the VMCS */
	borrowed = vmx_vmcs_get(vmx);
	switch (reg) {
	case RINGVM_REG_RIP:
		val = vmcs_readl(GUEST_RIP);
		break;
	case RINGVM_REG_RSP:
		val = vmcs_readl(GUEST_RSP);
		break;
	case RINGVM_REG_RFLAGS:
		val = vmcs_readl(GUEST_RFLAGS);
		break;
	case RINGVM_REG_CR0:
		val = vmx_guest_cr0(vmx);
		break;
	case RINGVM_REG_CR3:
		val = vmcs_readl(GUEST_CR3);
		break;
	case RINGVM_REG_CR4:
		val = vmx_guest_cr4();
		break;
	case RINGVM_REG_EFER:
		val = vmcs_read64(GUEST_IA32_EFER);
		break;
	case RINGVM_REG_CPL:
		val = vmx_guest_cpl();
		break;
	case RINGVM_REG_CR2:
		val = vmx->cr2;
		break;
	default:
		WARN_ON_ONCE(1);
		val = 0;
		break;
	}
	vmx_vmcs_put(vmx, borrowed);
	return val;
}

void vmx_get_code_state(struct ringvm_vcpu *vcpu,
			struct ringvm_code_state *st)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed = vmx_vmcs_get(vmx);
	u32 cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);

	st->rip = vmcs_readl(GUEST_RIP);
	st->cs_base = vmcs_readl(GUEST_CS_BASE);
	st->cs_l = cs_ar & VMX_AR_L;
	st->cs_db = cs_ar & VMX_AR_DB;
	st->cr0 = vmx_guest_cr0(vmx);
	st->cr3 = vmcs_readl(GUEST_CR3);
	st->cr4 = vmx_guest_cr4();
	st->efer = vmcs_read64(GUEST_IA32_EFER);
	st->cpl = vmx_guest_cpl();
	vmx_vmcs_put(vmx, borrowed);
}

void vmx_set_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg, u64 val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed;

	if (reg == RINGVM_REG_CR8) {
		vmx->cr8 = val & 0xf;
		return;
	}
	borrowed = vmx_vmcs_get(vmx);

	switch (reg) {
	case RINGVM_REG_RIP:
		vmcs_writel(GUEST_RIP, val);
		break;
	case RINGVM_REG_RSP:
		vmcs_writel(GUEST_RSP, val);
		break;
	case RINGVM_REG_RFLAGS:
		vmcs_writel(GUEST_RFLAGS, val);
		break;
	case RINGVM_REG_CR2:
		vmx->cr2 = val;		/* in the CPU only while the guest runs */
		break;
	default:
		WARN_ON_ONCE(1);
		break;
	}
	vmx_vmcs_put(vmx, borrowed);
}

static int vmx_switched_msr(u32 index)
{
	unsigned int i;

	for (i = 0; i < VMX_NR_SWITCHED_MSRS; i++)
		if (vmx_switched_msr_index[i] == index)
			return i;
	return -1;
}

int vmx_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int slot = vmx_switched_msr(index);
	bool borrowed;
	int r = 0;

	if (slot >= 0) {
		/* While loaded the hardware has it: SWAPGS changes it. */
		if (vmx->loaded && slot == VMX_MSR_KERNEL_GS_BASE)
			rdmsrl(index, *data);
		else
			*data = vmx->guest_msrs[slot];
		return 0;
	}

	borrowed = vmx_vmcs_get(vmx);
	switch (index) {
	case MSR_EFER:
		*data = vmcs_read64(GUEST_IA32_EFER);
		break;
	case MSR_IA32_CR_PAT:
		*data = vmcs_read64(GUEST_IA32_PAT);
		break;
	case MSR_IA32_DEBUGCTLMSR:
		*data = vmcs_read64(GUEST_IA32_DEBUGCTL);
		break;
	case MSR_FS_BASE:
		*data = vmcs_readl(GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*data = vmcs_readl(GUEST_GS_BASE);
		break;
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read32(GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmcs_readl(GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmcs_readl(GUEST_SYSENTER_EIP);
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmx->tsc_offset;
		break;
	default:
		r = -ENOENT;
		break;
	}
	vmx_vmcs_put(vmx, borrowed);
	return r;
}

/* Each byte of PAT one of UC, WC, WT, WP, WB, UC- (SDM Vol. 3A §11.12.2) */
/*
 * A value the hardware would refuse to hold is -EINVAL (#GP for the
 * guest): those that go into the host's own MSRs above all, since a
 * WRMSR fault there would be the host's.
 */
static bool vmx_switched_msr_valid(int slot, u64 data)
{
	switch (slot) {
	case VMX_MSR_KERNEL_GS_BASE:
	case VMX_MSR_LSTAR:
	case VMX_MSR_CSTAR:
		return ringvm_canonical(data);
	case VMX_MSR_SFMASK:
		return !(data >> 32);
	default:
		return true;
	}
}

int vmx_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int slot = vmx_switched_msr(index);
	bool borrowed;
	int r = 0;

	if (slot >= 0) {
		if (!vmx_switched_msr_valid(slot, data))
			return -EINVAL;
		vmx->guest_msrs[slot] = data;
		/* in the hardware now if in use (vmx_msrs_to_guest()) */
		if (vmx->loaded && slot == VMX_MSR_KERNEL_GS_BASE) {
			vmx_switch_msr(vmx, index, data);
			vmx->kgs_switched = true;
		} else if (vmx->loaded && vmx->syscall_live) {
			vmx_syscall_msr_to_guest(vmx, slot);
		}
		return 0;
	}

	borrowed = vmx_vmcs_get(vmx);
	switch (index) {
	case MSR_EFER:
		r = vmx_set_guest_efer(vmx, data);
		break;
	case MSR_IA32_CR_PAT:
		if (ringvm_pat_valid(data))
			vmcs_write64(GUEST_IA32_PAT, data);
		else
			r = -EINVAL;
		break;
	case MSR_IA32_DEBUGCTLMSR:
		/* Not LBR, BTS, ...: they would write the host's records. */
		if (data & ~VMX_DEBUGCTL_VALID)
			r = -EINVAL;
		else
			vmcs_write64(GUEST_IA32_DEBUGCTL, data);
		break;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!ringvm_canonical(data)) {
			r = -EINVAL;
			break;
		}
		if (index == MSR_FS_BASE)
			vmcs_writel(GUEST_FS_BASE, data);
		else if (index == MSR_GS_BASE)
			vmcs_writel(GUEST_GS_BASE, data);
		else if (index == MSR_IA32_SYSENTER_ESP)
			vmcs_writel(GUEST_SYSENTER_ESP, data);
		else
			vmcs_writel(GUEST_SYSENTER_EIP, data);
		break;
	case MSR_IA32_SYSENTER_CS:
		vmcs_write32(GUEST_SYSENTER_CS, data);
		break;
	case MSR_IA32_TSC:
		vmx->tsc_offset = data - rdtsc();
		WRITE_ONCE(vcpu->vm->tsc_offset, vmx->tsc_offset);
		vmcs_write64(TSC_OFFSET, vmx->tsc_offset);
		break;
	default:
		r = -ENOENT;
		break;
	}
	vmx_vmcs_put(vmx, borrowed);
	return r;
}

/*
 * DR6 never reaches the hardware: every #DB exits (and is reflected with
 * the DR6 bits the exit qualification reports) and MOV DR exits.  DR7 is
 * the VMCS's, loaded and saved with the debug controls.
 */
u64 vmx_get_dr(struct ringvm_vcpu *vcpu, int dr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed;
	u64 val;

	if (dr == 6)
		return vmx->dr6;
	borrowed = vmx_vmcs_get(vmx);
	val = vmcs_readl(GUEST_DR7);
	vmx_vmcs_put(vmx, borrowed);
	return val;
}

void vmx_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed;

	if (dr == 6) {
		vmx->dr6 = val;
		return;
	}
	borrowed = vmx_vmcs_get(vmx);
	vmcs_writel(GUEST_DR7, val);
	vmx_vmcs_put(vmx, borrowed);
}

/* 7. Skipping an instruction */

/* 64-bit mode: IA-32e mode and a 64-bit code segment. */
bool vmx_in_64bit_mode(void)
{
	return (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read32(GUEST_CS_AR_BYTES) & VMX_AR_L);
}

/*
 * Past an instruction the guest did not execute itself: RIP, the STI /
 * MOV SS shadow it ends, and the single-step trap it would have raised
 * (SDM Vol. 3B §18.3.1.4), as a #DB with DR6.BS.
 */
void vmx_skip(struct vmx_vcpu *vmx, unsigned int len)
{
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	unsigned long rip = vmcs_readl(GUEST_RIP);

	/* Outside 64-bit mode RIP wraps at 4 GiB: VM entry checks it */
	if (unlikely(ringvm_rip_carries(rip, len)) && !vmx_in_64bit_mode())
		vmcs_writel(GUEST_RIP, (u32)(rip + len));
	else
		vmcs_writel(GUEST_RIP, rip + len);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(GUEST_INTR_STATE_STI |
				      GUEST_INTR_STATE_MOV_SS));
	if (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF) {
		vmx->dr6 = (vmx->dr6 & ~VMX_DR6_B0_3) | VMX_DR6_INIT |
			   VMX_DR6_BS;
		ringvm_queue_exception(&vmx->vcpu, X86_TRAP_DB, 0);
	}
}

void vmx_skip_instruction(struct ringvm_vcpu *vcpu, unsigned int len)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed = vmx_vmcs_get(vmx);

	vmx_skip(vmx, len);
	vmx_vmcs_put(vmx, borrowed);
}

/*
 * 8. Interruptibility (SDM Vol. 3C §25.4.2, Table 25-3): the STI and
 * MOV SS shadows and, with virtual NMIs, blocking by NMI, all in the
 * guest interruptibility-state field; RFLAGS.IF beside it.
 */
void vmx_get_intr_state(struct ringvm_vcpu *vcpu, struct ringvm_intr_state *st)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed = vmx_vmcs_get(vmx);
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	st->if_flag = vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF;
	st->nmi_masked = intr & GUEST_INTR_STATE_NMI;
	st->shadow = (intr & GUEST_INTR_STATE_STI ? RINGVM_SHADOW_STI : 0) |
		     (intr & GUEST_INTR_STATE_MOV_SS ? RINGVM_SHADOW_MOV_SS : 0);
	vmx_vmcs_put(vmx, borrowed);
}

/*
 * VM entry refuses blocking by STI with RFLAGS.IF clear (§27.3.1.5), and
 * both shadows at once: keep what VM entry accepts, MOV SS first (it
 * also blocks what STI blocks).  Blocking by NMI needs virtual NMIs.
 */
void vmx_set_intr_state(struct ringvm_vcpu *vcpu,
			const struct ringvm_intr_state *st)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool borrowed = vmx_vmcs_get(vmx);
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
		   ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS |
		     GUEST_INTR_STATE_NMI);

	if (st->shadow & RINGVM_SHADOW_MOV_SS)
		intr |= GUEST_INTR_STATE_MOV_SS;
	else if ((st->shadow & RINGVM_SHADOW_STI) &&
		 (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF))
		intr |= GUEST_INTR_STATE_STI;
	if (st->nmi_masked && (vmx_cfg.pin & PIN_BASED_VIRTUAL_NMIS))
		intr |= GUEST_INTR_STATE_NMI;
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr);
	vmx_vmcs_put(vmx, borrowed);
}

/*
 * Interrupt-window exiting: an exit before any instruction with IF set
 * and no shadow; NMI-window exiting: before any instruction without
 * virtual-NMI blocking (§26.7.5, §26.7.6).  NMI-window exiting exists
 * only with virtual NMIs (Appendix A.3.2); without them an NMI waits
 * for the next exit.  The exits themselves need no handling: the core
 * looks again before the next entry.
 */
void vmx_set_windows(struct ringvm_vcpu *vcpu, u8 windows)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 proc = vmx->proc_ctls &
		   ~(CPU_BASED_INTR_WINDOW_EXITING |
		     CPU_BASED_NMI_WINDOW_EXITING);

	if (windows & RINGVM_RUN_IRQ_WINDOW)
		proc |= CPU_BASED_INTR_WINDOW_EXITING;
	if ((windows & RINGVM_RUN_NMI_WINDOW) &&
	    (vmx_cfg.pin & PIN_BASED_VIRTUAL_NMIS))
		proc |= CPU_BASED_NMI_WINDOW_EXITING;
	if (proc != vmx->proc_ctls) {
		/* loaded: another VMCS may be current here otherwise */
		WARN_ON_ONCE(!vmx->loaded);
		vmx->proc_ctls = proc;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
	}
}
