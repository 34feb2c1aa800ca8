// SPDX-License-Identifier: GPL-2.0
/*
 * Events the guest is owed: the rules both vendors obey, written once.
 *
 *  1. ringvm_queue_exception() - an exception an exit handler raises for
 *     the guest (#GP for a refused MSR, #UD, a reflected #DB...), merged
 *     with an event already queued as the processor would (#DF, triple
 *     fault), with an error code exactly where the processor pushes one
 *  2. ringvm_requeue_event() - an event whose delivery an exit cut short
 *     (IDT-vectoring information, EXITINTINFO), as the backend read it
 *  3. ringvm_fix_event() - the same error-code rule again after user
 *     space changed CR0
 *
 * A vCPU has one event slot, vcpu->event.  The backend writes it into
 * the VM-entry interruption-information field / EVENTINJ before each
 * entry and clears it once an entry succeeded; the processor delivers
 * it through the guest IDT.  A merge that ends in a triple fault sets
 * vcpu->triple_fault instead, and the run loop stops with a shutdown
 * exit before entering again.
 *
 * Context: the vCPU's thread with vcpu->mutex held; from the exit
 * handlers with preemption and interrupts off.  No locks, no sleeping.
 */
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "vm.h"

/*
 * Exceptions that push an error code (Intel SDM Vol. 3A §6.15, AMD APM
 * Vol. 2 §8.2) - in protected mode only: real-mode delivery pushes
 * none, and VM entry refuses an injected one there (SDM Vol. 3C
 * §27.2.1.3).  #CP is left out: guests are not given CET.
 */
#define RINGVM_ERROR_CODE_VECTORS					\
	(BIT(X86_TRAP_DF) | BIT(X86_TRAP_TS) | BIT(X86_TRAP_NP) |	\
	 BIT(X86_TRAP_SS) | BIT(X86_TRAP_GP) | BIT(X86_TRAP_PF) |	\
	 BIT(X86_TRAP_AC))

/* Exception classes for merging (SDM Vol. 3A §6.15, Table 6-4). */
#define RINGVM_CONTRIBUTORY_VECTORS					\
	(BIT(X86_TRAP_DE) | BIT(X86_TRAP_TS) | BIT(X86_TRAP_NP) |	\
	 BIT(X86_TRAP_SS) | BIT(X86_TRAP_GP))

enum ringvm_exception_class {
	RINGVM_EXC_BENIGN,
	RINGVM_EXC_CONTRIBUTORY,
	RINGVM_EXC_PAGE_FAULT,
	RINGVM_EXC_DOUBLE_FAULT,
};

static enum ringvm_exception_class ringvm_exception_class(u8 vector)
{
	if (vector == X86_TRAP_PF)
		return RINGVM_EXC_PAGE_FAULT;
	if (vector == X86_TRAP_DF)
		return RINGVM_EXC_DOUBLE_FAULT;
	if (vector < 32 && (BIT(vector) & RINGVM_CONTRIBUTORY_VECTORS))
		return RINGVM_EXC_CONTRIBUTORY;
	return RINGVM_EXC_BENIGN;
}

static bool ringvm_pushes_error_code(struct ringvm_vcpu *vcpu, u8 vector)
{
	return vector < 32 && (BIT(vector) & RINGVM_ERROR_CODE_VECTORS) &&
	       (ringvm_arch->get_reg(vcpu, RINGVM_REG_CR0) & X86_CR0_PE);
}

/*
 * Raise @vector in the guest at the next entry.  @error_code is pushed
 * if the vector has one and the guest is in protected mode, else
 * dropped.  An exception queued before, whose delivery this exit cut
 * short, is merged by SDM Vol. 3A Table 6-5: contributory after
 * contributory, or anything but benign after a page fault, is a #DF;
 * contributory or a page fault after a #DF is a triple fault (shutdown,
 * §6.15 "Interrupt 8").  In every other case the two are handled
 * serially: the processor would abandon the first delivery and deliver
 * the new exception, and the instruction that raised the first raises
 * it again when it runs again (the rule KVM follows too).
 */
void ringvm_queue_exception(struct ringvm_vcpu *vcpu, u8 vector,
			    u32 error_code)
{
	struct ringvm_event *ev = &vcpu->event;
	enum ringvm_exception_class prev, next = ringvm_exception_class(vector);

	if (ev->valid && ev->type == RINGVM_EVENT_EXCEPTION) {
		prev = ringvm_exception_class(ev->vector);
		if (prev == RINGVM_EXC_DOUBLE_FAULT &&
		    next != RINGVM_EXC_BENIGN) {
			ev->valid = false;
			vcpu->triple_fault = true;
			return;
		}
		if ((prev == RINGVM_EXC_CONTRIBUTORY &&
		     next == RINGVM_EXC_CONTRIBUTORY) ||
		    (prev == RINGVM_EXC_PAGE_FAULT &&
		     next != RINGVM_EXC_BENIGN)) {
			vector = X86_TRAP_DF;
			error_code = 0;
		}
	}

	ev->valid = true;
	ev->type = RINGVM_EVENT_EXCEPTION;
	ev->vector = vector;
	ev->has_error = ringvm_pushes_error_code(vcpu, vector);
	ev->error_code = ev->has_error ? error_code : 0;
	ev->insn_len = 0;
}

/*
 * The backend found that the exit interrupted the delivery of @ev:
 * queue it again, or the guest loses it (SDM Vol. 3C §28.2.4 and
 * §27.6.1.1, APM Vol. 2 §15.7.2).  The processor's own word on the
 * error code is not trusted for a hardware exception: the rule above
 * decides, so that a real-mode guest never gets one (an emulator that
 * reports one would otherwise make every later entry fail).
 */
void ringvm_requeue_event(struct ringvm_vcpu *vcpu,
			  const struct ringvm_event *ev)
{
	vcpu->event = *ev;
	vcpu->event.valid = true;
	ringvm_fix_event(vcpu);
}

/* Apply the error-code rule to the queued event for the current CR0. */
void ringvm_fix_event(struct ringvm_vcpu *vcpu)
{
	struct ringvm_event *ev = &vcpu->event;

	if (!ev->valid || ev->type != RINGVM_EVENT_EXCEPTION)
		return;
	ev->has_error = ringvm_pushes_error_code(vcpu, ev->vector);
	if (!ev->has_error)
		ev->error_code = 0;
}

/*
 * A page fault the core found for the guest (a string I/O operand):
 * CR2 gets the faulting linear address, then the #PF is queued with
 * @error_code (the walker's RINGVM_PFERR_* bits).
 */
void ringvm_queue_page_fault(struct ringvm_vcpu *vcpu, u64 la,
			     u32 error_code)
{
	ringvm_arch->set_reg(vcpu, RINGVM_REG_CR2, la);
	ringvm_queue_exception(vcpu, X86_TRAP_PF, error_code);
}

/*
 * A #DB exit while an event was being delivered: a data breakpoint hit
 * by the delivery's own stack writes, a trap that the processor would
 * deliver once the event is (SDM Vol. 3A §18.3.1.2).  With one event
 * slot, and no way to make VM entry deliver the trap after an injected
 * hardware exception (SDM Vol. 3C §27.7.3), the event wins: the hit is
 * in DR6 but the guest gets no #DB for it.  Replacing the event instead
 * would lose it, or loop when the instruction that raised it runs
 * again and again hits the breakpoint.
 */
void ringvm_queue_debug_trap(struct ringvm_vcpu *vcpu)
{
	if (!vcpu->event.valid)
		ringvm_queue_exception(vcpu, X86_TRAP_DB, 0);
}
