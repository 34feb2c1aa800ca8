// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: one trip into the guest and back, and the exit
 * dispatch.
 *
 *  1. svm_vcpu_run() - called by the core with the vCPU loaded and
 *     interrupts off: pick an ASID if needed, clear GIF, run the world
 *     switch in vmenter.S, set GIF again, then take stock of the exit:
 *     RAX back into gprs[], the event whose delivery the exit cut short
 *     queued again, vcpu->exit filled.  Physical interrupts and NMIs that
 *     ended the guest's run stay pending through all this and are taken
 *     by the host at STGI (NMI) or when the core enables interrupts.
 *  2. svm_exit_handlers[] - one handler per EXITCODE (AMD APM Vol. 2
 *     Appendix C); NPF and VMEXIT_INVALID lie far above the table and
 *     are dispatched by name.
 *
 * This is the hot path: no allocation, no locks, no printk (except the
 * VMCB dump on a failed VMRUN, behind ringvm_dump_invalid_state).
 */
#include <linux/build_bug.h>
#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/sched/task_stack.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "ringvm.h"
#include "spec.h"
#include "vm.h"
#include "svm/svm.h"

/* vmenter.S addresses gprs[] by these positions. */
static_assert(RINGVM_GPR_RCX == 1 && RINGVM_GPR_RDX == 2 &&
	      RINGVM_GPR_RBX == 3 && RINGVM_GPR_RBP == 5 &&
	      RINGVM_GPR_RSI == 6 && RINGVM_GPR_RDI == 7 &&
	      RINGVM_GPR_R8 == 8 && RINGVM_GPR_R15 == 15);
static_assert(sizeof(((struct ringvm_vcpu *)0)->gprs[0]) == 8);

static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/* Length of an instruction from its RIP and the next one, if sane. */
static u8 svm_rip_delta(u64 next_rip, u64 rip)
{
	u64 len = next_rip - rip;

	return len <= RINGVM_INSN_MAX_LEN ? len : 0;
}

/*
 * The length of the intercepted instruction as the processor gave it:
 * with NRIP save it stores the next RIP for instruction intercepts (APM
 * Vol. 2 §15.7.1); without it 0.
 */
static u8 svm_insn_len(const struct vmcb *vmcb)
{
	if (!svm_caps.nrips)
		return 0;
	return svm_rip_delta(vmcb->control.next_rip, vmcb->save.rip);
}

/*
 * The prefix-free opcodes of the instructions skipped here or by the
 * core (APM Vol. 3 Appendix A).
 */
static const u8 svm_op_cpuid[] = { 0x0f, 0xa2 };
static const u8 svm_op_hlt[] = { 0xf4 };
static const u8 svm_op_invd[] = { 0x0f, 0x08 };
static const u8 svm_op_rdmsr[] = { 0x0f, 0x32 };
static const u8 svm_op_wrmsr[] = { 0x0f, 0x30 };
static const u8 svm_op_vmmcall[] = { 0x0f, 0x01, 0xd9 };
static const u8 svm_op_xsetbv[] = { 0x0f, 0x01, 0xd1 };

/*
 * The length of the intercepted instruction @op, whose exit code says
 * what it is but not how many prefixes it had.
 *
 * Quirk: QEMU's TCG (7.2) has no NRIP save (CPUID Fn8000_000A EDX[3]
 * clear; every AMD processor since family 10h has it), so next_rip
 * stays 0 and the length of a CPUID, HLT, RDMSR, VMMCALL... is not
 * known: skipping the opcode's own length would leave the guest inside
 * 66 0F A2, 2E F4 or 48 0F 32.
 * Detection: svm_caps.nrips clear, or a next_rip that gives no length.
 * Workaround: read the instruction at CS:RIP through the guest's page
 * tables and count its prefixes (ringvm_insn_len_at_rip(), the core's
 * fetch and decoder), which also checks that @op is what is there.
 * With NRIP save this is one subtraction, as before.
 */
static u8 svm_insn_len_of(struct svm_vcpu *svm, const u8 *op,
			  unsigned int op_len)
{
	u8 len = svm_insn_len(svm->vmcb);

	if (likely(len))
		return len;
	return ringvm_insn_len_at_rip(&svm->vcpu, op, op_len);
}

/*
 * @code for the core, with the length of @op in exit->insn_len; or, if
 * @op cannot be found at CS:RIP, RINGVM_HW_EXIT_NO_INSN_LEN: the core
 * then tells user space rather than skip a guess (exit.c says how).
 */
static u32 svm_insn_exit(struct svm_vcpu *svm, struct ringvm_hw_exit *exit,
			 u32 code, const u8 *op, unsigned int op_len)
{
	exit->insn_len = svm_insn_len_of(svm, op, op_len);
	return exit->insn_len ? code : RINGVM_HW_EXIT_NO_INSN_LEN;
}

/*
 * Exit handlers.
 *
 * Each runs right after #VMEXIT on the vCPU's CPU, with preemption and
 * interrupts off and GIF set, and may read and write the VMCB and
 * vcpu->exit, and read guest RAM (svm_insn_len_of()), but not sleep,
 * lock or print.  vcpu->exit.raw is already filled and insn_len is 0.
 * A handler returns an enum ringvm_hw_exit_code:
 *
 *   RINGVM_HW_EXIT_NONE    handled here - instruction skipped, exception
 *                          reflected or queued, or nothing to do (the
 *                          host takes the interrupt): the core enters
 *                          the guest again;
 *   any other code         for the core, with the matching member of
 *                          vcpu->exit and insn_len filled in.
 *
 * An EXITCODE without a handler is RINGVM_HW_EXIT_UNHANDLED: user space
 * gets the raw exit.  None of these return an error: whatever the guest
 * did ends in one of the codes above.
 */
/* INTR, NMI, SMI: the host's own event; it is taken once GIF is set. */
static u32 svm_exit_host_event(struct svm_vcpu *svm,
			       struct ringvm_hw_exit *exit)
{
	return RINGVM_HW_EXIT_NONE;
}

static u32 svm_exit_inject_ud(struct svm_vcpu *svm,
			      struct ringvm_hw_exit *exit)
{
	ringvm_queue_exception(&svm->vcpu, X86_TRAP_UD, 0);
	return RINGVM_HW_EXIT_NONE;
}

static u32 svm_exit_inject_gp(struct svm_vcpu *svm,
			      struct ringvm_hw_exit *exit)
{
	ringvm_queue_exception(&svm->vcpu, X86_TRAP_GP, 0);
	return RINGVM_HW_EXIT_NONE;
}

/*
 * #DB and #AC, intercepted only so that a guest cannot hang the CPU in
 * an endless delivery loop: hand them straight back.  DR6 in the VMCB
 * already records the cause of a #DB (APM Vol. 2 §15.12.2).
 */
static u32 svm_exit_reflect_db(struct svm_vcpu *svm,
			       struct ringvm_hw_exit *exit)
{
	ringvm_queue_debug_trap(&svm->vcpu);
	return RINGVM_HW_EXIT_NONE;
}

static u32 svm_exit_reflect_ac(struct svm_vcpu *svm,
			       struct ringvm_hw_exit *exit)
{
	ringvm_queue_exception(&svm->vcpu, X86_TRAP_AC,
			       svm->vmcb->control.exitinfo1);
	return RINGVM_HW_EXIT_NONE;
}

/* MOV from/to DR0-7: exit codes 20h-27h and 30h-37h. */
static u32 svm_exit_dr(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	const struct vmcb *vmcb = svm->vmcb;
	u32 code = exit->raw.reason;

	exit->dr.write = code >= SVM_EXIT_WRITE_DR0;
	exit->dr.dr = code & 0x7;
	/* Decode assists name the GPR (APM Vol. 2 §15.33.1). */
	exit->dr.gpr = svm_caps.decode_assists ?
		       (s8)(vmcb->control.exitinfo1 & SVM_DR_GPR_MASK) : -1;
	exit->insn_len = svm_insn_len(vmcb);
	return RINGVM_HW_EXIT_DR;
}

static u32 svm_exit_cpuid(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_CPUID, svm_op_cpuid,
			     sizeof(svm_op_cpuid));
}

static u32 svm_exit_hlt(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_HLT, svm_op_hlt,
			     sizeof(svm_op_hlt));
}

static u32 svm_exit_vmmcall(struct svm_vcpu *svm,
			    struct ringvm_hw_exit *exit)
{
	return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_HYPERCALL,
			     svm_op_vmmcall, sizeof(svm_op_vmmcall));
}

static u32 svm_exit_xsetbv(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_XSETBV, svm_op_xsetbv,
			     sizeof(svm_op_xsetbv));
}

/* INVD would discard the host's dirty cache lines: do nothing instead. */
static u32 svm_exit_invd(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	u8 len = svm_insn_len_of(svm, svm_op_invd, sizeof(svm_op_invd));

	if (!len)
		return RINGVM_HW_EXIT_NO_INSN_LEN;
	svm_skip_instruction(&svm->vcpu, len);
	return RINGVM_HW_EXIT_NONE;
}

/*
 * IN, OUT, INS, OUTS (APM Vol. 2 §15.10.2): EXITINFO1 describes the
 * access and EXITINFO2 always holds the RIP of the next instruction,
 * NRIP save or not.
 */
static u32 svm_exit_io(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	const struct vmcb *vmcb = svm->vmcb;
	u64 info = vmcb->control.exitinfo1;

	exit->io.port = info >> SVM_IOIO_PORT_SHIFT;
	if (info & SVM_IOIO_SZ32)
		exit->io.size = 4;
	else if (info & SVM_IOIO_SZ16)
		exit->io.size = 2;
	else
		exit->io.size = 1;
	exit->io.in = info & SVM_IOIO_TYPE_IN;
	exit->io.string = info & SVM_IOIO_STR;
	exit->io.rep = info & SVM_IOIO_REP;
	exit->insn_len = svm_rip_delta(vmcb->control.exitinfo2, vmcb->save.rip);
	return RINGVM_HW_EXIT_IO;
}

/* RDMSR and WRMSR: EXITINFO1 is 0 for a read, 1 for a write (§15.11). */
static u32 svm_exit_msr(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	if (svm->vmcb->control.exitinfo1)
		return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_WRMSR,
				     svm_op_wrmsr, sizeof(svm_op_wrmsr));
	return svm_insn_exit(svm, exit, RINGVM_HW_EXIT_RDMSR, svm_op_rdmsr,
			     sizeof(svm_op_rdmsr));
}

/*
 * A triple fault or other shutdown condition.  The VMCB's guest state
 * is undefined after it (APM Vol. 2 §15.12.3): the core makes user
 * space set new state before the vCPU runs again.
 */
static u32 svm_exit_shutdown(struct svm_vcpu *svm,
			     struct ringvm_hw_exit *exit)
{
	/* Nor may the event that faulted into it survive into that state. */
	svm->vmcb->control.eventinj = 0;
	return RINGVM_HW_EXIT_SHUTDOWN;
}

/*
 * The window the core opened is open (svm_set_windows()): close it, and
 * let the core look again before the next entry.
 */
static u32 svm_exit_vintr(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	svm_set_windows(&svm->vcpu, 0);
	svm->vcpu.windows_open = RINGVM_WINDOWS_UNKNOWN;
	return RINGVM_HW_EXIT_NONE;
}

/*
 * A guest MOV to CR8, intercepted while the TPR alone holds back a
 * vector (RINGVM_WINDOW_TPR) or, on TCG, while V_IRQ is set (the quirk
 * at svm_set_windows()): done here, and the core looks again before the
 * entry.  Decode assists name the GPR (APM Vol. 2 §15.33.1); without them
 * the core decodes the bytes at CS:RIP.
 */
static u32 svm_exit_cr8_write(struct svm_vcpu *svm,
			      struct ringvm_hw_exit *exit)
{
	const struct vmcb *vmcb = svm->vmcb;
	u64 info = vmcb->control.exitinfo1;
	int gpr = -1;

	if (svm_caps.decode_assists && (info & SVM_CR_GPR_VALID))
		gpr = info & SVM_DR_GPR_MASK;
	if (ringvm_mov_to_cr8(&svm->vcpu, gpr, svm_insn_len(vmcb)))
		return RINGVM_HW_EXIT_NO_INSN_LEN;
	return RINGVM_HW_EXIT_NONE;
}

/*
 * The guest's IRET, intercepted while NMIs are blocked: it has not run
 * yet.  Stop intercepting, and unblock NMIs once RIP has left it.
 */
static u32 svm_exit_iret(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	svm->vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT1_IRET;
	vmcb_mark_dirty(svm->vmcb, VMCB_CLEAN_INTERCEPTS);
	svm->awaiting_iret = true;
	svm->iret_rip = svm->vmcb->save.rip;
	svm->vcpu.windows_open = RINGVM_WINDOWS_UNKNOWN;
	return RINGVM_HW_EXIT_NONE;
}

static u32 (*const svm_exit_handlers[])(struct svm_vcpu *svm,
					struct ringvm_hw_exit *exit) = {
	[SVM_EXIT_WRITE_CR8]		= svm_exit_cr8_write,
	[SVM_EXIT_READ_DR0 + 0]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 1]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 2]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 3]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 4]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 5]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 6]		= svm_exit_dr,
	[SVM_EXIT_READ_DR0 + 7]		= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 0]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 1]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 2]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 3]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 4]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 5]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 6]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 + 7]	= svm_exit_dr,
	[SVM_EXIT_EXCP_DB]		= svm_exit_reflect_db,
	[SVM_EXIT_EXCP_AC]		= svm_exit_reflect_ac,
	[SVM_EXIT_INTR]			= svm_exit_host_event,
	[SVM_EXIT_NMI]			= svm_exit_host_event,
	[SVM_EXIT_SMI]			= svm_exit_host_event,
	[SVM_EXIT_VINTR]		= svm_exit_vintr,
	[SVM_EXIT_IRET]			= svm_exit_iret,
	[SVM_EXIT_RDPMC]		= svm_exit_inject_gp,
	[SVM_EXIT_CPUID]		= svm_exit_cpuid,
	[SVM_EXIT_INVD]			= svm_exit_invd,
	[SVM_EXIT_HLT]			= svm_exit_hlt,
	[SVM_EXIT_INVLPGA]		= svm_exit_inject_ud,
	[SVM_EXIT_IOIO]			= svm_exit_io,
	[SVM_EXIT_MSR]			= svm_exit_msr,
	[SVM_EXIT_SHUTDOWN]		= svm_exit_shutdown,
	[SVM_EXIT_VMRUN]		= svm_exit_inject_ud,
	[SVM_EXIT_VMMCALL]		= svm_exit_vmmcall,
	[SVM_EXIT_VMLOAD]		= svm_exit_inject_ud,
	[SVM_EXIT_VMSAVE]		= svm_exit_inject_ud,
	[SVM_EXIT_STGI]			= svm_exit_inject_ud,
	[SVM_EXIT_CLGI]			= svm_exit_inject_ud,
	[SVM_EXIT_SKINIT]		= svm_exit_inject_ud,
	[SVM_EXIT_RDTSCP]		= svm_exit_inject_ud,
	[SVM_EXIT_MONITOR]		= svm_exit_inject_ud,
	[SVM_EXIT_MWAIT]		= svm_exit_inject_ud,
	[SVM_EXIT_MWAIT_COND]		= svm_exit_inject_ud,
	[SVM_EXIT_XSETBV]		= svm_exit_xsetbv,
};

/*
 * Nested page fault (APM Vol. 2 §15.25.6): EXITINFO1 is a #PF error
 * code for the nested walk, with bit 32 set for the final translation
 * and bit 33 for an access to the guest's own page tables; EXITINFO2
 * the guest-physical address.
 */
static u32 svm_exit_npf(struct svm_vcpu *svm, struct ringvm_hw_exit *exit)
{
	u64 err = svm->vmcb->control.exitinfo1;

	exit->npf.gpa = svm->vmcb->control.exitinfo2;
	exit->npf.write = err & SVM_NPF_WRITE;
	exit->npf.fetch = err & SVM_NPF_FETCH;
	exit->npf.in_delivery = svm->vmcb->control.exitintinfo &
				SVM_EVTINJ_VALID;
	exit->npf.walk = err & SVM_NPF_GUEST_WALK;
	return RINGVM_HW_EXIT_NPF;
}

/* VMRUN refused the VMCB (APM Vol. 2 §15.5.1): nothing ran. */
static u32 svm_exit_invalid(struct svm_vcpu *svm,
			    struct ringvm_hw_exit *exit)
{
	/* VMEXIT_INVALID as the APM writes it, whatever QEMU stored */
	exit->fail.reason = (u64)-1;
	if (ringvm_dump_invalid_state)
		svm_dump_vmcb(svm);
	return RINGVM_HW_EXIT_FAIL_ENTRY;
}

/*
 * @code is the low half of EXITCODE.  Every exit code fits in 32 bits
 * and VMEXIT_INVALID is -1 (APM Vol. 2 Appendix C), so this is all of it
 * on silicon.
 *
 * Quirk: QEMU's TCG (7.2) stores a failed VMRUN's exit code as 32 bits,
 * leaving EXITCODE = 0000_0000_FFFF_FFFFh.  Detection: none needed.
 * Workaround: dispatch on the low 32 bits, as KVM does.
 */
static u32 svm_handle_exit(struct svm_vcpu *svm, struct ringvm_hw_exit *exit,
			   u32 code)
{
	u32 (*handler)(struct svm_vcpu *svm, struct ringvm_hw_exit *exit);

	if (code < ARRAY_SIZE(svm_exit_handlers)) {
		code = array_index_nospec(code, ARRAY_SIZE(svm_exit_handlers));
		handler = svm_exit_handlers[code];
		if (handler)
			return handler(svm, exit);
		return RINGVM_HW_EXIT_UNHANDLED;
	}
	if (code == SVM_EXIT_NPF)
		return svm_exit_npf(svm, exit);
	if (code == SVM_EXIT_INVALID)
		return svm_exit_invalid(svm, exit);
	return RINGVM_HW_EXIT_UNHANDLED;
}

/*
 * Exceptions of the fault class (APM Vol. 2 §8.2): the return address
 * is the faulting instruction and RFLAGS.RF must be set in the image
 * pushed, or an instruction breakpoint on that instruction fires again.
 * #DB is left out: only its data and single-step forms are traps, and a
 * handler of an instruction breakpoint sets RF itself.
 */
#define SVM_FAULT_VECTORS						\
	(BIT(X86_TRAP_DE) | BIT(X86_TRAP_BR) | BIT(X86_TRAP_UD) |	\
	 BIT(X86_TRAP_NM) | BIT(X86_TRAP_TS) | BIT(X86_TRAP_NP) |	\
	 BIT(X86_TRAP_SS) | BIT(X86_TRAP_GP) | BIT(X86_TRAP_PF) |	\
	 BIT(X86_TRAP_MF) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_XF))

/*
 * An exit that interrupted the delivery of an event (EXITINTINFO valid,
 * APM Vol. 2 §15.7.2) - a guest #PF whose push hit a nested page fault,
 * say - would lose that event: hand it back to the core (event.c) to
 * queue again.  Software interrupts and INT3/INTO are the exception:
 * RIP still points at the instruction, which raises them again when it
 * runs.  The EXITINTINFO types are the core's (and VMX's) numbers.
 */
static void svm_requeue_event(struct svm_vcpu *svm)
{
	u64 info = svm->vmcb->control.exitintinfo;
	u64 type = info & SVM_EVTINJ_TYPE_MASK;
	u64 vector = info & SVM_EVTINJ_VEC_MASK;
	struct ringvm_event ev = { };

	if (likely(!(info & SVM_EVTINJ_VALID)))
		return;
	if (type == SVM_EVTINJ_TYPE_SOFT ||
	    (type == SVM_EVTINJ_TYPE_EXEPT &&
	     (vector == X86_TRAP_BP || vector == X86_TRAP_OF)))
		return;
	ev.type = type >> SVM_EVTINJ_TYPE_SHIFT;
	ev.vector = vector;
	ev.has_error = info & SVM_EVTINJ_VALID_ERR;
	ev.error_code = info >> SVM_EVTINJ_ERR_SHIFT;
	ringvm_requeue_event(&svm->vcpu, &ev);
}

/*
 * The core's queued event into EVENTINJ (APM Vol. 2 §15.20): the
 * processor delivers it through the guest IDT at VMRUN without checking
 * the exception intercepts.  The core only queues hardware exceptions,
 * NMIs and external interrupts on SVM (software ones are never
 * requeued, above).  A fault pushes RFLAGS with RF set, as the
 * processor does for the faults it raises itself.
 */
static void svm_write_event(struct vmcb *vmcb, const struct ringvm_event *ev)
{
	u64 inj = ev->vector | ((u64)ev->type << SVM_EVTINJ_TYPE_SHIFT) |
		  SVM_EVTINJ_VALID;

	if (ev->has_error)
		inj |= SVM_EVTINJ_VALID_ERR |
		       ((u64)ev->error_code << SVM_EVTINJ_ERR_SHIFT);
	vmcb->control.eventinj = inj;
	if (ev->type == RINGVM_EVENT_EXCEPTION && ev->vector < 32 &&
	    (BIT(ev->vector) & SVM_FAULT_VECTORS))
		vmcb->save.rflags |= X86_EFLAGS_RF;
}

/*
 * A VMRUN that fails its consistency checks must leave the guest state
 * as it was: nothing ran.
 *
 * Quirk: QEMU's TCG (7.2, target/i386/tcg/sysemu/svm_helper.c) checks
 * CR0 (bits 63:32, NW without CD), CR3 (bits above MAXPHYADDR, while the
 * host is in long mode) and CR4 (reserved bits) after it has switched
 * to guest mode but before it loads any guest state, and its #VMEXIT
 * then stores the host's RIP, RSP, RAX, CR0/3/4, EFER, GDTR, IDTR,
 * segments, DR6/7 and INT_CTL in the VMCB as the guest's: host kernel
 * and physical addresses that GET_REGS, GET_SREGS and the run page
 * would hand to user space, and the next VMRUN to the guest.  It checks
 * DR6/DR7 bits 63:32 and EFER (SVME, MBZ bits, LME with PG but without
 * PAE or PE, LME+PG+PAE with CS.L and CS.D) after loading the guest
 * state, which then comes back intact.  A guest can reach the first set
 * on its own: QEMU lets MOV to CR0 set NW without CD (silicon raises
 * #GP; bits 63:32 it drops), and a guest in long mode can clear CR4.PAE
 * or load a CS with L and D set.
 * Detection: svm_vmrun_would_fail() before each VMRUN; afterwards, a
 * VMEXIT_INVALID whose VMCB RSP lies on this thread's kernel stack.
 * Workaround: svm_vmrun_would_fail() runs the checks QEMU (and silicon,
 * APM Vol. 2 §15.5.1) makes on every field the guest can change without
 * an exit - a few ALU operations on fields that are hot in the cache
 * anyway - and refuses the entry itself, with the same exit.  The
 * control fields QEMU checks (permission maps, ASID, VMRUN intercept)
 * are ringvm's and always valid.  Two backstops remain: the first VMRUN
 * after user space set state keeps a copy to put back if it fails, and a
 * failed VMRUN that left host state anyway replaces it with the RESET
 * state (svm_forget_vmrun_state()).  QEMU's MOV to CR3/CR4 with reserved
 * bits also ends the guest with VMEXIT_INVALID, but from guest mode,
 * with the guest's state saved: that is reported as it is.
 */
static bool svm_vmrun_would_fail(const struct vmcb_save *s)
{
	u64 cr0 = s->cr0, efer = s->efer;

	if (unlikely((cr0 | s->dr6 | s->dr7) >> 32))
		return true;
	if (unlikely((cr0 & (X86_CR0_NW | X86_CR0_CD)) == X86_CR0_NW))
		return true;
	if (unlikely((s->cr3 & svm_caps.cr3_mbz) ||
		     (s->cr4 & ~svm_caps.cr4_allowed)))
		return true;
	/* SVME must be set, and is the one bit outside efer_allowed. */
	if (unlikely((efer ^ EFER_SVME) & ~svm_caps.efer_allowed))
		return true;
	if ((efer & EFER_LME) && (cr0 & X86_CR0_PG)) {
		if (unlikely(!(cr0 & X86_CR0_PE) || !(s->cr4 & X86_CR4_PAE)))
			return true;
		if (unlikely((s->cs.attrib & (SVM_SEG_L | SVM_SEG_DB)) ==
			     (SVM_SEG_L | SVM_SEG_DB)))
			return true;
	} else if (unlikely((efer & EFER_LME) && !(s->cr4 & X86_CR4_PAE) &&
			    svm_caps.tcg_lme_quirk)) {
		/*
		 * Quirk: QEMU 7.2's TCG loses the host CPU when a #VMEXIT
		 * finds the guest with EFER.LME=1, CR0.PG=0, CR4.PAE=0 (in
		 * real or protected mode): it restores the host's CR0 while
		 * EFER is still the guest's, takes that for a switch to
		 * long mode without PAE, and returns before writing CR0
		 * (cpu_x86_update_cr0(), target/i386/helper.c), so the
		 * host runs on with paging off.  KVM is lost the same way
		 * (selftests/quirks/run.sh).  The state is architectural
		 * and silicon takes it.  Detection: the hypervisor leaf
		 * says TCG.  Workaround: refuse the entry (FAIL_ENTRY) on
		 * TCG only; setting PAE or PG, or clearing LME, runs the
		 * guest again.  Not covered: a guest that clears CR4.PAE
		 * itself with LME set and PG clear (CR writes do not exit).
		 */
		return true;
	} else if (unlikely(efer & EFER_LMA)) {
		/*
		 * Long mode active without LME and PG: a state no processor
		 * holds (LMA = LME && PG, APM Vol. 2 §14.6), which QEMU lets
		 * a guest reach by a MOV to CR0 that clears PG in 64-bit
		 * mode (silicon: #GP), and on which QEMU's VMRUN stops
		 * making progress with the host CPU's interrupts shut out
		 * (selftests/README.md, "Emulator quirks").
		 */
		return true;
	}
	return false;
}

/*
 * The entry svm_vmrun_would_fail() refused: report it as the processor
 * would, with nothing from the previous exit.  CR0 bits 63:32 and CR4
 * bits this CPU does not implement exist for no guest, and set_sregs
 * refuses them, so only an emulator could let a guest set them: they
 * read as 0 (svm_get_sregs()) and are dropped here, so the state user
 * space reads is state it can set again, and the guest runs on once
 * nothing else is wrong.
 */
static void svm_refuse_vmrun(struct svm_vcpu *svm)
{
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct vmcb_save *s = &vmcb->save;

	if ((s->cr0 >> 32) || (s->cr4 & ~svm_caps.cr4_allowed)) {
		s->cr0 = (u32)s->cr0;
		s->cr4 &= svm_caps.cr4_allowed;
		vmcb_mark_dirty(vmcb, VMCB_CLEAN_CRX);
	}
	c->exitcode = SVM_EXIT_INVALID;
	c->exitinfo1 = 0;
	c->exitinfo2 = 0;
	c->exitintinfo = 0;
}

/* The host's RSP in the VMCB: see the quirk above. */
static bool svm_vmcb_holds_host_state(const struct vmcb_save *s)
{
	unsigned long stack = (unsigned long)task_stack_page(current);

	return s->rsp - stack < THREAD_SIZE;
}

static void svm_save_unchecked_state(struct svm_vcpu *svm)
{
	struct vmcb *vmcb = svm->vmcb;

	memcpy(svm->saved_state, &vmcb->save, SVM_GUEST_STATE_SIZE);
	svm->saved_int_ctl = vmcb->control.int_ctl;
	svm->saved_int_state = vmcb->control.int_state;
}

static void svm_restore_unchecked_state(struct svm_vcpu *svm)
{
	struct vmcb *vmcb = svm->vmcb;

	memcpy(&vmcb->save, svm->saved_state, SVM_GUEST_STATE_SIZE);
	vmcb->control.int_ctl = svm->saved_int_ctl;
	vmcb->control.int_state = svm->saved_int_state;
}

int svm_vcpu_run(struct ringvm_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct ringvm_hw_exit *exit = &vcpu->exit;
	int cpu = smp_processor_id();
	u64 spec_ctrl;
	u32 code;

	/* Another CPU or an ended generation: a fresh ASID, nothing clean. */
	if (unlikely(svm->asid_cpu != cpu ||
		     svm->asid_generation !=
		     __this_cpu_read(svm_asid_state.generation)))
		svm_pick_asid(svm, cpu);

	if (unlikely(svm_vmrun_would_fail(&vmcb->save))) {
		svm_refuse_vmrun(svm);
		code = SVM_EXIT_INVALID;
		goto report;
	}
	vmcb->save.rax = vcpu->gprs[RINGVM_GPR_RAX];
	if (unlikely(vcpu->event.valid)) {
		svm_write_event(vmcb, &vcpu->event);
		if (vcpu->event.type == RINGVM_EVENT_NMI)
			svm_mask_nmi(svm, true);
	}
	if (unlikely(svm->state_unchecked))
		svm_save_unchecked_state(svm);

	svm_clgi();
	/*
	 * SPEC_CTRL (module/spec.h).  With V_SPEC_CTRL the processor keeps
	 * a guest value, loaded by VMRUN from the VMCB, beside the host's,
	 * and the guest runs with the OR of the two (APM Vol. 2, "SPEC_CTRL
	 * Virtualization"): the policy of spec.h with no WRMSR, and
	 * vmenter.S, given the host's own value, writes none either.
	 */
	if (cpu_feature_enabled(X86_FEATURE_V_SPEC_CTRL)) {
		vmcb->save.spec_ctrl = vcpu->spec_ctrl;
		spec_ctrl = this_cpu_read(x86_spec_ctrl_current);
	} else {
		spec_ctrl = ringvm_spec_ctrl_enter(vcpu);
	}
	/* Zen1: leave no host quotient in the divider for the guest. */
	amd_clear_divider();
	__svm_vcpu_run(svm->vmcb_pa, vcpu->gprs, svm->host_save_pa, spec_ctrl);
	svm_stgi();

	code = c->exitcode;
	if (likely(code != SVM_EXIT_INVALID)) {
		vcpu->gprs[RINGVM_GPR_RAX] = vmcb->save.rax;
		svm->state_unchecked = false;
		/* The flush, if any, is done: the guest ran. */
		c->tlb_control = TLB_CONTROL_DO_NOTHING;
		/* From now on a VMCB write clears its group's bit. */
		if (svm_caps.vmcb_clean)
			c->clean = VMCB_CLEAN_ALL;
		/* Delivered, or given back by svm_requeue_event() now */
		c->eventinj = 0;
		vcpu->event.valid = false;
		svm_requeue_event(svm);
	} else {
		/*
		 * A refused VMRUN did nothing: keep the flush and the
		 * event for the next attempt, trust no cached state, put
		 * back the guest state or forget the host's (see above)
		 * and keep gprs[] RAX.
		 */
		c->clean = 0;
		if (unlikely(svm_vmcb_holds_host_state(&vmcb->save))) {
			if (svm->state_unchecked)
				svm_restore_unchecked_state(svm);
			else
				svm_forget_vmrun_state(svm);
		}
	}

report:
	exit->insn_len = 0;
	exit->raw.arch = RINGVM_ARCH_SVM;
	exit->raw.reason = code;
	exit->raw.qualification = c->exitinfo1;
	exit->raw.info1 = c->exitinfo2;
	exit->raw.info2 = c->exitintinfo;
	exit->raw.gpa = code == SVM_EXIT_NPF ? c->exitinfo2 : 0;
	exit->code = svm_handle_exit(svm, exit, code);
	return 0;
}
