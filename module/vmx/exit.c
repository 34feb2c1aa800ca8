// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: one trip into the guest and what its exit means.
 *
 *  1. events: an exit during event delivery hands the event back to the
 *     core (event.c) to queue again, and the core's queued event goes
 *     into the VM-entry fields; NMIs and machine checks go to the host,
 *     #DB and #AC back to the guest
 *  2. the handlers, one per basic exit reason, that translate an exit
 *     into a vendor-neutral one (vcpu->exit) or finish it here
 *  3. the table of handlers and the dispatcher, vmx_handle_exit(), and
 *     the two ways an entry fails
 *  4. vmx_vcpu_run(): one VM entry and the exit's first steps, which the
 *     core calls with the vCPU loaded and interrupts off (as
 *     svm_vcpu_run() in svm/exit.c)
 *
 * Context: the vCPU loaded, its VMCS current, preemption and interrupts
 * off; the handlers run right after the exit.  This is the hot path: no
 * allocation, no lock, no printk (only behind dump_invalid_state on a
 * failed entry), and no VMREAD the exit does not need.
 */
#include <linux/nospec.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/apic.h>
#include <asm/debugreg.h>
#include <asm/irq_vectors.h>
#include <asm/mce.h>
#include <asm/ptrace.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "spec.h"
#include "vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* 1. Events */

/*
 * The exit interrupted the delivery of an event through the guest IDT
 * (SDM Vol. 3C §28.2.4): a guest #PF whose frame hit an EPT violation,
 * say.  Hand it to the core to queue again for the next entry
 * (§27.6.1.1), or the guest loses it.  Returns the IDT-vectoring
 * information.
 */
static u32 vmx_requeue_event(struct vmx_vcpu *vmx)
{
	u32 idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	struct ringvm_event ev = { };

	if (likely(!(idt & INTR_INFO_VALID_MASK)))
		return idt;

	ev.type = (idt & INTR_INFO_INTR_TYPE_MASK) >> INTR_INFO_INTR_TYPE_SHIFT;
	ev.vector = idt & INTR_INFO_VECTOR_MASK;
	if (idt & INTR_INFO_DELIVER_CODE_MASK) {
		ev.has_error = true;
		ev.error_code = vmcs_read32(IDT_VECTORING_ERROR_CODE);
	}
	if (ev.type >= RINGVM_EVENT_SOFT_INTR)
		ev.insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	/* An NMI may only be injected with NMIs unblocked (§27.3.1.5). */
	if (ev.type == RINGVM_EVENT_NMI)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
			     ~GUEST_INTR_STATE_NMI);
	ringvm_requeue_event(&vmx->vcpu, &ev);
	return idt;
}

/*
 * The queued event into the VM-entry interruption-information field
 * (SDM Vol. 3C §25.8.3); the core has made it one that VM entry accepts
 * (§27.2.1.3).  Every VM exit clears the field's valid bit (§25.8.3),
 * so it is written before each entry that delivers an event, and the
 * core's slot is emptied once an entry got that far.
 */
static void vmx_write_event(const struct ringvm_event *ev)
{
	u32 info = ev->vector | (ev->type << INTR_INFO_INTR_TYPE_SHIFT) |
		   INTR_INFO_VALID_MASK;

	if (ev->has_error) {
		info |= INTR_INFO_DELIVER_CODE_MASK;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
	}
	if (ev->type >= RINGVM_EVENT_SOFT_INTR)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, ev->insn_len);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}

/*
 * A machine check that hit while the guest ran is the host's: run the
 * host's handler as KVM does, with the guest taken for user space.
 */
static void vmx_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };

	do_machine_check(&regs);
#endif
}

/*
 * #DB: the exit left DR6 alone and reports its bits in the qualification
 * (SDM Vol. 3C §28.2.1, Table 28-1).  Merge them into the guest's DR6 and
 * deliver the #DB as the hardware would have: DR7.GD cleared (SDM Vol. 3B
 * §18.2.4), INT1 (ICEBP) skipped as the trap it is, and a single-step
 * #DB that the STI/MOV SS shadow deferred kept pending, which VM entry
 * insists on (§27.3.1.5) and the #DB exit does not record.
 */
static u32 vmx_reflect_db(struct vmx_vcpu *vmx, struct ringvm_hw_exit *exit,
			  u32 info)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	unsigned long dr7 = vmcs_readl(GUEST_DR7);
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	exit->raw.qualification = qual;
	vmx->dr6 = (vmx->dr6 & ~VMX_DR6_B0_3) | VMX_DR6_INIT |
		   (qual & (VMX_DR6_B0_3 | VMX_DR6_BD | VMX_DR6_BS));
	if (qual & VMX_DR6_RTM)
		vmx->dr6 &= ~VMX_DR6_RTM;
	if (dr7 & VMX_DR7_GD)
		vmcs_writel(GUEST_DR7, dr7 & ~VMX_DR7_GD);

	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		vmcs_writel(GUEST_RIP, vmcs_readl(GUEST_RIP) +
			    vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
		intr &= ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr);
	} else if ((intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
		   (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF)) {
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) |
			    VMX_DR6_BS);
	}
	ringvm_queue_debug_trap(&vmx->vcpu);
	return RINGVM_HW_EXIT_NONE;
}

/*
 * 2. Handlers.  Each returns the enum ringvm_hw_exit_code the core acts
 * on, having filled the member of exit's union that goes with it, and
 * exit->insn_len where the hardware gave it (VM_EXIT_INSTRUCTION_LEN is
 * valid for exits caused by an instruction, SDM Vol. 3C §28.2.5):
 *
 *  RINGVM_HW_EXIT_NONE	     handled here (an event queued, an instruction
 *			     skipped): enter the guest again
 *  RINGVM_HW_EXIT_...	     for the core: CPUID, HLT, IO, NPF, RDMSR,
 *			     WRMSR, HYPERCALL, DR, XSETBV, SHUTDOWN
 *  RINGVM_HW_EXIT_UNHANDLED  to user space with the raw exit only
 *
 * exit->raw is arch and reason when a handler starts; it adds what it
 * read anyway (qualification, interruption info, GPA) and nothing more.
 */
#define VMX_HANDLER(name)						\
	static u32 name(struct vmx_vcpu *vmx, struct ringvm_hw_exit *exit)

static u8 vmx_insn_len(void)
{
	return vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
}

/*
 * Anything else: the guest sees nothing, user space gets the raw exit
 * (qualification included) and decides.
 */
VMX_HANDLER(vmx_exit_unhandled)
{
	exit->raw.qualification = vmcs_readl(EXIT_QUALIFICATION);
	return RINGVM_HW_EXIT_UNHANDLED;
}

/*
 * The host's NMIs.  "NMI exiting" makes an NMI in the guest a VM exit
 * (SDM Vol. 3C §26.2) that consumes it and, like its delivery would have,
 * leaves NMIs blocked (§28.5.5) until the next IRET (Vol. 3A §7.7.1).  So
 * the NMI is sent again to this CPU, and vmx_unblock_nmis() IRETs to self
 * at once: the new NMI is taken there, through the host's own NMI entry
 * on its own stack, with the host's state loaded.  Without that IRET the
 * NMI stayed pending; VM entry swaps the blocking for the guest's
 * interruptibility state, so the NMI caused another exit before any guest
 * instruction, and so on, and the host's handler waited for the IRET of
 * the next host interrupt.  If the self-NMI is still on its way at the
 * IRET, it arrives with NMIs unblocked: in the host, or as one more such
 * exit.
 *
 * KVM calls the NMI entry instead, on the current stack: not the IDT's
 * (an IST entry that must run on the NMI stack) but the one the kernel
 * exports for KVM (asm_exc_nmi_noist in 6.1, asm_exc_nmi_kvm_vmx later),
 * or under FRED fred_entry_from_kvm().  Those are KVM's business and
 * change with the kernel; a real NMI takes whichever entry the kernel
 * uses.  FRED (6.9+) is off unless booted with fred=on, and Debian's
 * 6.12 is built without it.  Under FRED the NMI comes through the FRED
 * entry, as it should; should IRET not end the blocking there, the NMI
 * waits for the next host event's return, late as before but not lost.
 *
 * Not send_IPI_self(): in x2APIC mode that writes the SELF IPI register,
 * which only sends fixed interrupts (SDM Vol. 3A §11.12.11).
 *
 * Besides NMIs only #DB, #AC and #MC are intercepted (EXCEPTION_BITMAP).
 */
VMX_HANDLER(vmx_exit_exception_nmi)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);

	exit->raw.info1 = info;
	vmx_requeue_event(vmx);
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
		apic->send_IPI(smp_processor_id(), NMI_VECTOR);
		vmx_unblock_nmis();
		return RINGVM_HW_EXIT_NONE;
	}

	switch (info & INTR_INFO_VECTOR_MASK) {
	case X86_TRAP_DB:
		return vmx_reflect_db(vmx, exit, info);
	case X86_TRAP_AC:
		ringvm_queue_exception(&vmx->vcpu, X86_TRAP_AC,
				       vmcs_read32(VM_EXIT_INTR_ERROR_CODE));
		return RINGVM_HW_EXIT_NONE;
	case X86_TRAP_MC:
		vmx_machine_check();
		return RINGVM_HW_EXIT_UNHANDLED;
	default:
		return RINGVM_HW_EXIT_UNHANDLED;
	}
}

/* Not acknowledged: the core enables interrupts and the host takes it. */
VMX_HANDLER(vmx_exit_external_interrupt)
{
	vmx_requeue_event(vmx);
	return RINGVM_HW_EXIT_NONE;
}

/*
 * The interrupt or NMI window the core opened is open: nothing to do
 * here, ringvm_prepare_events() injects or reports before the next entry.
 */
VMX_HANDLER(vmx_exit_window)
{
	return RINGVM_HW_EXIT_NONE;
}

VMX_HANDLER(vmx_exit_triple_fault)
{
	return RINGVM_HW_EXIT_SHUTDOWN;
}

VMX_HANDLER(vmx_exit_cpuid)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_CPUID;
}

VMX_HANDLER(vmx_exit_hlt)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_HLT;
}

VMX_HANDLER(vmx_exit_vmcall)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_HYPERCALL;
}

VMX_HANDLER(vmx_exit_rdmsr)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_RDMSR;
}

VMX_HANDLER(vmx_exit_wrmsr)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_WRMSR;
}

VMX_HANDLER(vmx_exit_xsetbv)
{
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_XSETBV;
}

/*
 * The bound on one stretch in the guest (vmx.c): nothing to do, the core
 * enables interrupts and enters again.  The timer only expires between
 * instructions, never during event delivery.
 */
VMX_HANDLER(vmx_exit_preemption_timer)
{
	return RINGVM_HW_EXIT_NONE;
}

/* INVD and WBINVD: guest memory is write-back and coherent, so skip. */
VMX_HANDLER(vmx_exit_skip)
{
	vmx_skip(vmx, vmx_insn_len());
	return RINGVM_HW_EXIT_NONE;
}

/*
 * VMX, SMX and SGX instructions, MONITOR/MWAIT and RSM: ringvm gives the
 * guest none of them, so they are #UD as on a CPU without the feature.
 */
VMX_HANDLER(vmx_exit_ud)
{
	ringvm_queue_exception(&vmx->vcpu, X86_TRAP_UD, 0);
	return RINGVM_HW_EXIT_NONE;
}

/* RDPMC at CPL 0 (CPL 3 without CR4.PCE faults first): no counters. */
VMX_HANDLER(vmx_exit_rdpmc)
{
	ringvm_queue_exception(&vmx->vcpu, X86_TRAP_GP, 0);
	return RINGVM_HW_EXIT_NONE;
}

/* The operand size of MOV CR: 64 bits in 64-bit mode, 32 otherwise. */
static bool vmx_mov_to_cr(struct vmx_vcpu *vmx, int cr, unsigned long val)
{
	if (!vmx_in_64bit_mode())
		val = (u32)val;

	switch (cr) {
	case 0:
		return vmx_set_guest_cr0(vmx, val);
	case 3:
		return vmx_set_guest_cr3(vmx, val);
	case 4:
		/* Only bits no guest may set exit (vmx_cfg.cr4_never). */
		return false;
	case 8:
		if (val & ~0xfUL)
			return false;
		vmx->cr8 = val;
		return true;
	default:
		return false;
	}
}

/*
 * MOV to/from CR, CLTS, LMSW (qualification: SDM Vol. 3C §28.2.1, Table
 * 28-3).  They exit for the CR0 and CR4 bits the masks own, for CR8 (the
 * TPR is emulated: nothing reads it but the guest), and for CR3 on CPUs
 * that cannot do without.  A false check is the #GP(0) the instruction
 * would have raised.
 */
VMX_HANDLER(vmx_exit_cr_access)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	int cr = VMX_CR_NUM(qual), gpr = VMX_CR_GPR(qual);
	unsigned long cr0;
	bool ok;

	exit->raw.qualification = qual;
	switch (VMX_CR_ACCESS_TYPE(qual)) {
	case VMX_CR_ACCESS_MOV_TO_CR:
		ok = vmx_mov_to_cr(vmx, cr, vmx_read_gpr(vmx, gpr));
		break;
	case VMX_CR_ACCESS_MOV_FROM_CR:
		if (cr == 3)
			vmx_write_gpr(vmx, gpr, vmcs_readl(GUEST_CR3));
		else if (cr == 8)
			vmx_write_gpr(vmx, gpr, vmx->cr8);
		else
			return RINGVM_HW_EXIT_UNHANDLED;
		ok = true;
		break;
	case VMX_CR_ACCESS_CLTS:
		ok = vmx_set_guest_cr0(vmx, vmx_guest_cr0(vmx) & ~X86_CR0_TS);
		break;
	default:
		/* LMSW loads CR0[3:0] but cannot clear PE. */
		cr0 = vmx_guest_cr0(vmx);
		ok = vmx_set_guest_cr0(vmx, (cr0 & ~0xeUL) |
				       (VMX_CR_LMSW_DATA(qual) & 0xf));
		break;
	}

	if (ok)
		vmx_skip(vmx, vmx_insn_len());
	else
		ringvm_queue_exception(&vmx->vcpu, X86_TRAP_GP, 0);
	return RINGVM_HW_EXIT_NONE;
}

/* MOV DR (qualification: SDM Vol. 3C §28.2.1, Table 28-4) */
VMX_HANDLER(vmx_exit_dr_access)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);

	exit->raw.qualification = qual;
	exit->dr.dr = VMX_DR_NUM(qual);
	exit->dr.gpr = VMX_DR_GPR(qual);
	exit->dr.write = !(qual & VMX_DR_FROM_DR);
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_DR;
}

/* IN, OUT, INS, OUTS (qualification: SDM Vol. 3C §28.2.1, Table 28-5) */
VMX_HANDLER(vmx_exit_io)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);

	exit->raw.qualification = qual;
	exit->io.port = VMX_IO_PORT(qual);
	exit->io.size = VMX_IO_SIZE(qual);
	exit->io.in = qual & VMX_IO_IN;
	exit->io.string = qual & VMX_IO_STRING;
	exit->io.rep = qual & VMX_IO_REP;
	exit->insn_len = vmx_insn_len();
	return RINGVM_HW_EXIT_IO;
}

/*
 * EPT violation (qualification: SDM Vol. 3C §28.2.1, Table 28-7).  If it
 * hit an IRET that was unblocking NMIs, the blocking must be put back
 * before the IRET runs again (§28.2.3).  The core decodes the
 * instruction at RIP as the access only when the fault was neither
 * during event delivery nor on the guest's own paging structures.
 */
VMX_HANDLER(vmx_exit_ept_violation)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	u64 gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	u32 idt = vmx_requeue_event(vmx);

	exit->raw.qualification = qual;
	exit->raw.gpa = gpa;
	exit->npf.gpa = gpa;
	exit->npf.write = qual & EPT_VIOLATION_ACC_WRITE;
	exit->npf.fetch = qual & EPT_VIOLATION_ACC_INSTR;
	exit->npf.in_delivery = idt & INTR_INFO_VALID_MASK;
	/* Bits 7 and 8 both set: the access itself, not a guest walk */
	exit->npf.walk = (qual & EPT_VIOLATION_GVA_MASK) !=
			 EPT_VIOLATION_GVA_MASK;
	/*
	 * No L1D flush for this exit as such (vmx/l1tf.c): a first touch
	 * mapped in the run loop loads only host pointers; MMIO and the
	 * rest leave the loop, and the next stretch flushes.
	 */

	if ((qual & EPT_VIOLATION_NMI_UNBLOCKING) &&
	    !(idt & INTR_INFO_VALID_MASK) &&
	    (vmx_cfg.pin & PIN_BASED_VIRTUAL_NMIS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) |
			     GUEST_INTR_STATE_NMI);
	return RINGVM_HW_EXIT_NPF;
}

/* The EPT entries are the core's: a misconfiguration is a bug there. */
VMX_HANDLER(vmx_exit_ept_misconfig)
{
	exit->raw.gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	vmx_requeue_event(vmx);
	return RINGVM_HW_EXIT_UNHANDLED;
}

/*
 * 3. The table, indexed by the basic exit reason (SDM Vol. 3D Appendix
 * C).  A reason without an entry, or beyond the table, is
 * vmx_exit_unhandled(): INIT and SIPI, task switches, and whatever the
 * controls should have made impossible.
 */
static u32 (*const vmx_exit_handlers[])(struct vmx_vcpu *vmx,
					struct ringvm_hw_exit *exit) = {
	[EXIT_REASON_EXCEPTION_NMI] = vmx_exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = vmx_exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = vmx_exit_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW] = vmx_exit_window,
	[EXIT_REASON_NMI_WINDOW] = vmx_exit_window,
	[EXIT_REASON_CPUID] = vmx_exit_cpuid,
	[EXIT_REASON_GETSEC] = vmx_exit_ud,
	[EXIT_REASON_HLT] = vmx_exit_hlt,
	[EXIT_REASON_INVD] = vmx_exit_skip,
	[EXIT_REASON_RDPMC] = vmx_exit_rdpmc,
	[EXIT_REASON_RSM] = vmx_exit_ud,
	[EXIT_REASON_VMCALL] = vmx_exit_vmcall,
	[EXIT_REASON_VMCLEAR] = vmx_exit_ud,
	[EXIT_REASON_VMLAUNCH] = vmx_exit_ud,
	[EXIT_REASON_VMPTRLD] = vmx_exit_ud,
	[EXIT_REASON_VMPTRST] = vmx_exit_ud,
	[EXIT_REASON_VMREAD] = vmx_exit_ud,
	[EXIT_REASON_VMRESUME] = vmx_exit_ud,
	[EXIT_REASON_VMWRITE] = vmx_exit_ud,
	[EXIT_REASON_VMOFF] = vmx_exit_ud,
	[EXIT_REASON_VMON] = vmx_exit_ud,
	[EXIT_REASON_CR_ACCESS] = vmx_exit_cr_access,
	[EXIT_REASON_DR_ACCESS] = vmx_exit_dr_access,
	[EXIT_REASON_IO_INSTRUCTION] = vmx_exit_io,
	[EXIT_REASON_MSR_READ] = vmx_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = vmx_exit_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION] = vmx_exit_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION] = vmx_exit_ud,
	[EXIT_REASON_EPT_VIOLATION] = vmx_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = vmx_exit_ept_misconfig,
	[EXIT_REASON_INVEPT] = vmx_exit_ud,
	[EXIT_REASON_INVVPID] = vmx_exit_ud,
	[EXIT_REASON_WBINVD] = vmx_exit_skip,
	[EXIT_REASON_XSETBV] = vmx_exit_xsetbv,
	[EXIT_REASON_VMFUNC] = vmx_exit_ud,
	[EXIT_REASON_ENCLS] = vmx_exit_ud,
	[EXIT_REASON_PREEMPTION_TIMER] = vmx_exit_preemption_timer,
};

/*
 * An exit whose reason has bit 31 set: the entry failed while loading
 * the guest state (33), the MSR-load area (34, unused here) or on a
 * machine check (41), SDM Vol. 3C §27.8.  Nothing ran.
 */
static u32 vmx_exit_failed_entry(struct vmx_vcpu *vmx,
				 struct ringvm_hw_exit *exit, u16 basic)
{
	exit->raw.qualification = vmcs_readl(EXIT_QUALIFICATION);
	exit->fail.reason = basic;
	if (basic == EXIT_REASON_MCE_DURING_VMENTRY)
		vmx_machine_check();
	if (ringvm_dump_invalid_state)
		vmx_dump_vmcs(vmx);
	return RINGVM_HW_EXIT_FAIL_ENTRY;
}

static void vmx_handle_exit(struct vmx_vcpu *vmx, u32 reason)
{
	struct ringvm_hw_exit *exit = &vmx->vcpu.exit;
	u16 basic = reason & VMX_EXIT_REASON_BASIC_MASK;
	u32 (*handler)(struct vmx_vcpu *vmx, struct ringvm_hw_exit *exit);

	exit->insn_len = 0;
	memset(&exit->raw, 0, sizeof(exit->raw));
	exit->raw.arch = RINGVM_ARCH_VMX;
	exit->raw.reason = basic;

	if (unlikely(reason & VMX_EXIT_REASON_FAILED_VMENTRY)) {
		exit->code = vmx_exit_failed_entry(vmx, exit, basic);
		return;
	}

	handler = vmx_exit_unhandled;
	if (basic < ARRAY_SIZE(vmx_exit_handlers)) {
		basic = array_index_nospec(basic,
					   ARRAY_SIZE(vmx_exit_handlers));
		if (vmx_exit_handlers[basic])
			handler = vmx_exit_handlers[basic];
	}
	exit->code = handler(vmx, exit);
}

/*
 * VMLAUNCH/VMRESUME failed outright (VMfailValid, SDM Vol. 3C §31.2):
 * bad controls or host state; or it faulted because VMX is off.  The
 * VM-instruction error says which (§31.4).
 */
static void vmx_entry_failed(struct vmx_vcpu *vmx)
{
	struct ringvm_hw_exit *exit = &vmx->vcpu.exit;
	u32 err = vmcs_read32(VM_INSTRUCTION_ERROR);

	memset(&exit->raw, 0, sizeof(exit->raw));
	exit->raw.arch = RINGVM_ARCH_VMX;
	exit->raw.reason = VMX_EXIT_REASON_VMFAIL;
	exit->raw.info2 = err;
	exit->insn_len = 0;
	exit->fail.reason = err;
	exit->code = RINGVM_HW_EXIT_FAIL_ENTRY;
	if (ringvm_dump_invalid_state)
		vmx_dump_vmcs(vmx);
}

/*
 * 4. One entry.  HOST_CR3 and HOST_CR4 may have changed since
 * vcpu_load() (a TLB flush rewrites CR3, perf toggles CR4.PCE); the
 * guest's CR2 is not in the VMCS, so it lives in the hardware register
 * only while the guest runs.  VM exit clears DEBUGCTL (SDM Vol. 3C
 * §28.5.1): give the host its own back.
 */
int vmx_vcpu_run(struct ringvm_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();
	u32 reason;

	if (unlikely(cr3 != vmx->host_cr3)) {
		vmcs_writel(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (unlikely(cr4 != vmx->host_cr4)) {
		vmcs_writel(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
	if (unlikely(vcpu->event.valid))
		vmx_write_event(&vcpu->event);
	vmx_l1d_flush(vmx);

	if (unlikely(__vmx_vcpu_run(vcpu->gprs, &vmx->host_rsp, vmx->launched,
				    ringvm_spec_ctrl_enter(vcpu)))) {
		vmx->cr2 = native_read_cr2();
		if (vmx->host_debugctl)
			update_debugctlmsr(vmx->host_debugctl);
		vmx_entry_failed(vmx);
		return 0;
	}
	vmx->cr2 = native_read_cr2();
	if (vmx->host_debugctl)
		update_debugctlmsr(vmx->host_debugctl);

	reason = vmcs_read32(VM_EXIT_REASON);
	/* An entry that failed while loading guest state launched nothing. */
	if (likely(!(reason & VMX_EXIT_REASON_FAILED_VMENTRY))) {
		vmx->launched = true;
		vcpu->event.valid = false;	/* delivered, or requeued now */
	}
	vmx_handle_exit(vmx, reason);
	return 0;
}
