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
 *  4. interrupts and NMIs from user space (RINGVM_INTERRUPT, RINGVM_NMI)
 *     and from the local APIC (lapic.c): held until the guest can take
 *     them, then put in the slot by ringvm_prepare_events() right before
 *     an entry, which also opens the interrupt / NMI window the guest
 *     must reach first, and reports a window user space asked for
 *     (RINGVM_RUN_*_WINDOW).  RINGVM_INTERRUPT is the ExtINT path (a
 *     PIC in user space; through LINT0 when the vCPU has an APIC) and
 *     goes before the APIC's vectors.
 *  5. RINGVM_GET_EVENTS / RINGVM_SET_EVENTS: all of the above as state
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
#include <linux/string.h>
#include <linux/uaccess.h>
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

/* 4. Interrupts and NMIs from user space */

#define RINGVM_FIRST_IRQ_VECTOR	32	/* 0-31 are exceptions (SDM §6.2) */

/* The uapi types are the VMX interruption types, as the slot's. */
static_assert(RINGVM_EVENT_INTR == RINGVM_EVENT_TYPE_INTR);
static_assert(!(RINGVM_WINDOW_TPR & RINGVM_RUN_FLAGS));
static_assert(RINGVM_EVENT_NMI == RINGVM_EVENT_TYPE_NMI);
static_assert(RINGVM_EVENT_EXCEPTION == RINGVM_EVENT_TYPE_EXCEPTION);
static_assert(RINGVM_EVENT_SOFT_INTR == RINGVM_EVENT_TYPE_SOFT_INTR);
static_assert(RINGVM_EVENT_PRIV_SOFT_EXCEPTION ==
	      RINGVM_EVENT_TYPE_PRIV_SOFT_EXC);
static_assert(RINGVM_EVENT_SOFT_EXCEPTION == RINGVM_EVENT_TYPE_SOFT_EXC);

static bool ringvm_irq_allowed(const struct ringvm_intr_state *st)
{
	return st->if_flag && !st->shadow;
}

/*
 * NMIs wait for the IRET that ends an NMI handler, and for a shadow: VM
 * entry refuses an NMI after MOV SS (SDM Vol. 3C §27.2.1.3), and after
 * STI on some processors, so KVM waits for both; so does ringvm.
 */
static bool ringvm_nmi_allowed(const struct ringvm_intr_state *st)
{
	return !st->nmi_masked && !st->shadow;
}

static void ringvm_set_event(struct ringvm_vcpu *vcpu, u8 type, u8 vector)
{
	vcpu->event = (struct ringvm_event) {
		.valid = true, .type = type, .vector = vector,
	};
}

/*
 * Right before an entry, interrupts off, when ringvm_events_active():
 * move a waiting NMI, else a waiting interrupt, into the empty slot if
 * the guest can take it now; open the windows that what still waits (or
 * user space) needs.  Returns RINGVM_HW_EXIT_IRQ_WINDOW / _NMI_WINDOW to
 * leave for user space instead of entering, when it asked for a window
 * that is open, or RINGVM_HW_EXIT_NONE to enter.
 */
u32 ringvm_prepare_events(struct ringvm_vcpu *vcpu)
{
	struct ringvm_intr_state st;
	int apic_vec = -1;
	bool extint;
	u8 open = 0;

	if (READ_ONCE(vcpu->apic_posted))
		ringvm_lapic_sync(vcpu);
	if (vcpu->apic_irr)
		apic_vec = ringvm_lapic_deliverable(vcpu);
	/*
	 * An ExtINT to inject or an interrupt window user space asked for,
	 * and LINT0 lets it through; with LINT0 closed RINGVM_INTERRUPT's
	 * vector waits and no window opens for it.
	 */
	extint = (vcpu->irq_pending ||
		  (vcpu->windows_wanted & RINGVM_RUN_IRQ_WINDOW)) &&
		 ringvm_extint_open(vcpu);
	ringvm_arch->get_intr_state(vcpu, &st);
	if (!vcpu->event.valid) {
		if (vcpu->nmi_pending && ringvm_nmi_allowed(&st)) {
			vcpu->nmi_pending = false;
			ringvm_set_event(vcpu, RINGVM_EVENT_NMI, X86_TRAP_NMI);
		} else if (extint && vcpu->irq_pending &&
			   ringvm_irq_allowed(&st)) {
			vcpu->irq_pending = false;
			ringvm_set_event(vcpu, RINGVM_EVENT_INTR,
					 vcpu->irq_vector);
			/* LINT0 is open: only a wanted window still counts */
			extint = vcpu->windows_wanted & RINGVM_RUN_IRQ_WINDOW;
		} else if (apic_vec >= 0 && ringvm_irq_allowed(&st)) {
			ringvm_lapic_accept(vcpu, apic_vec);
			ringvm_set_event(vcpu, RINGVM_EVENT_INTR, apic_vec);
			apic_vec = vcpu->apic_irr ?
				   ringvm_lapic_deliverable(vcpu) : -1;
		} else if ((vcpu->windows_wanted & RINGVM_RUN_NMI_WINDOW) &&
			   !vcpu->nmi_pending && ringvm_nmi_allowed(&st)) {
			return RINGVM_HW_EXIT_NMI_WINDOW;
		} else if ((vcpu->windows_wanted & RINGVM_RUN_IRQ_WINDOW) &&
			   !vcpu->irq_pending && extint &&
			   ringvm_irq_allowed(&st)) {
			return RINGVM_HW_EXIT_IRQ_WINDOW;
		}
	}

	if (extint || apic_vec >= 0)
		open |= RINGVM_RUN_IRQ_WINDOW;
	else if (apic_vec == RINGVM_LAPIC_TPR_HELD)
		open |= RINGVM_WINDOW_TPR;
	if (vcpu->nmi_pending || (vcpu->windows_wanted & RINGVM_RUN_NMI_WINDOW))
		open |= RINGVM_RUN_NMI_WINDOW;
	if (open != vcpu->windows_open) {
		ringvm_arch->set_windows(vcpu, open);
		vcpu->windows_open = open;
	}
	return RINGVM_HW_EXIT_NONE;
}

/*
 * HLT with an event waiting: an NMI, or an interrupt the guest accepts
 * (RFLAGS.IF; the STI shadow ends with the HLT), ends the halt at once
 * (SDM Vol. 2A "HLT", APM Vol. 3 "HLT"), so the vCPU runs on and takes
 * it instead of leaving to user space.
 */
bool ringvm_event_wakes_hlt(struct ringvm_vcpu *vcpu)
{
	struct ringvm_intr_state st;

	if (!vcpu->irq_pending && !vcpu->nmi_pending)
		return false;
	ringvm_arch->get_intr_state(vcpu, &st);
	return (vcpu->nmi_pending && !st.nmi_masked) ||
	       (vcpu->irq_pending && st.if_flag && ringvm_extint_open(vcpu));
}

/* Every exit to user space: whether RINGVM_INTERRUPT would go in now. */
void ringvm_report_events(struct ringvm_vcpu *vcpu)
{
	struct ringvm_intr_state st;

	ringvm_arch->get_intr_state(vcpu, &st);
	vcpu->run->if_flag = st.if_flag;
	vcpu->run->ready_for_interrupt = !vcpu->irq_pending &&
					 !vcpu->event.valid &&
					 ringvm_irq_allowed(&st) &&
					 ringvm_extint_open(vcpu);
}

/*
 * RINGVM_INTERRUPT: an external interrupt, as from an interrupt
 * controller in user space.  One waits at a time: another before the
 * guest took the first is EINVAL (a controller keeps its own queue).
 */
long ringvm_vcpu_interrupt(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_interrupt irq;

	if (copy_from_user(&irq, (void __user *)arg, sizeof(irq)))
		return -EFAULT;
	if (irq.flags || irq.vector < RINGVM_FIRST_IRQ_VECTOR ||
	    irq.vector > 255 || vcpu->irq_pending)
		return -EINVAL;
	vcpu->irq_pending = true;
	vcpu->irq_vector = irq.vector;
	return 0;
}

/* RINGVM_NMI: one NMI waits at a time; a second is EINVAL. */
long ringvm_vcpu_nmi(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	if (arg || vcpu->nmi_pending)
		return -EINVAL;
	vcpu->nmi_pending = true;
	return 0;
}

/* 5. Events as state */

long ringvm_vcpu_get_events(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	const struct ringvm_event *ev = &vcpu->event;
	struct ringvm_intr_state st;
	struct ringvm_events e;

	memset(&e, 0, sizeof(e));
	if (ev->valid) {
		e.injected.valid = 1;
		e.injected.type = ev->type;
		e.injected.vector = ev->vector;
		e.injected.has_error_code = ev->has_error;
		e.injected.error_code = ev->error_code;
		e.injected.insn_len = ev->insn_len;
	}
	e.irq_pending = vcpu->irq_pending;
	e.irq_vector = vcpu->irq_pending ? vcpu->irq_vector : 0;
	e.nmi_pending = vcpu->nmi_pending;
	ringvm_arch->get_intr_state(vcpu, &st);
	e.nmi_masked = st.nmi_masked;
	e.shadow = st.shadow;
	return copy_to_user((void __user *)arg, &e, sizeof(e)) ? -EFAULT : 0;
}

/*
 * An event VM entry would take (SDM Vol. 3C §27.2.1.3, APM Vol. 2
 * §15.20): vectors by type; an error code only for the exceptions that
 * have one (in real mode ringvm_fix_event() drops it); an instruction
 * length, 1-15, for the software types only, which only VMX can inject
 * (SVM's EVENTINJ has no length, and ringvm never leaves one there).
 */
static bool ringvm_injected_ok(const struct ringvm_events *e)
{
	u8 type = e->injected.type, vector = e->injected.vector;
	bool soft = type >= RINGVM_EVENT_TYPE_SOFT_INTR;

	if (!e->injected.valid)
		return !e->injected.type && !vector &&
		       !e->injected.has_error_code &&
		       !e->injected.error_code && !e->injected.insn_len;
	if (e->injected.valid > 1 || e->injected.has_error_code > 1 ||
	    memchr_inv(e->injected.pad, 0, sizeof(e->injected.pad)))
		return false;
	if (e->injected.has_error_code &&
	    (type != RINGVM_EVENT_TYPE_EXCEPTION ||
	     !(BIT(vector) & RINGVM_ERROR_CODE_VECTORS)))
		return false;
	if (!e->injected.has_error_code && e->injected.error_code)
		return false;
	if (soft != !!e->injected.insn_len ||
	    e->injected.insn_len > RINGVM_INSN_MAX_LEN)
		return false;
	if (soft && ringvm_hw.arch != RINGVM_ARCH_VMX)
		return false;

	switch (type) {
	case RINGVM_EVENT_TYPE_INTR:
	case RINGVM_EVENT_TYPE_SOFT_INTR:
		return vector >= RINGVM_FIRST_IRQ_VECTOR ||
		       type == RINGVM_EVENT_TYPE_SOFT_INTR;
	case RINGVM_EVENT_TYPE_NMI:
		return vector == X86_TRAP_NMI;
	case RINGVM_EVENT_TYPE_EXCEPTION:
		return vector < RINGVM_FIRST_IRQ_VECTOR &&
		       vector != X86_TRAP_NMI;
	case RINGVM_EVENT_TYPE_PRIV_SOFT_EXC:
		return vector == X86_TRAP_DB;
	case RINGVM_EVENT_TYPE_SOFT_EXC:
		return vector == X86_TRAP_BP || vector == X86_TRAP_OF;
	default:
		return false;
	}
}

/* RINGVM_SET_EVENTS: the whole state at once, as GET_EVENTS gives it. */
long ringvm_vcpu_set_events(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_intr_state st = { };
	struct ringvm_events e;

	if (copy_from_user(&e, (void __user *)arg, sizeof(e)))
		return -EFAULT;
	if (e.flags || e.pad || memchr_inv(e.reserved, 0, sizeof(e.reserved)) ||
	    !ringvm_injected_ok(&e) || e.irq_pending > 1 ||
	    e.nmi_pending > 1 || e.nmi_masked > 1 ||
	    (e.irq_pending ? e.irq_vector < RINGVM_FIRST_IRQ_VECTOR :
			     e.irq_vector) ||
	    (e.shadow & ~(RINGVM_SHADOW_STI | RINGVM_SHADOW_MOV_SS)))
		return -EINVAL;

	vcpu->event = (struct ringvm_event) {
		.valid = e.injected.valid,
		.type = e.injected.type,
		.vector = e.injected.vector,
		.has_error = e.injected.has_error_code,
		.error_code = e.injected.error_code,
		.insn_len = e.injected.insn_len,
	};
	ringvm_fix_event(vcpu);
	vcpu->irq_pending = e.irq_pending;
	vcpu->irq_vector = e.irq_vector;
	vcpu->nmi_pending = e.nmi_pending;
	st.nmi_masked = e.nmi_masked;
	st.shadow = e.shadow;
	ringvm_arch->set_intr_state(vcpu, &st);
	return 0;
}
