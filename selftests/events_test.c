// SPDX-License-Identifier: GPL-2.0
/*
 * events_test: interrupts, NMIs and exceptions user space gives a guest
 * (RINGVM_INTERRUPT, RINGVM_NMI, RINGVM_SET_EVENTS), the interrupt and
 * NMI windows (RINGVM_RUN_*_WINDOW), and the run page's word on whether
 * an interrupt can go in now.
 *
 *  1. irq_waits_for_sti: an interrupt injected while the guest has IF
 *     clear waits (ready_for_interrupt 0, GET_EVENTS shows it pending),
 *     is delivered through the guest IDT only after STI and the one
 *     instruction of its shadow, exactly once, with its vector; a second
 *     RINGVM_INTERRUPT while one waits, a vector below 32 and unknown
 *     flags are EINVAL.
 *  2. irq_window: with RINGVM_RUN_IRQ_WINDOW the RUN of a guest with IF
 *     clear ends in an IRQ_WINDOW exit once the guest has set IF and
 *     left the STI shadow, not before; a RUN asking for it while the
 *     guest can take one ends at once, without running the guest.
 *  3. nmi_blocked_until_iret: an NMI goes in with IF clear; a second one
 *     injected while the guest's NMI handler runs (GET_EVENTS: masked)
 *     waits for the handler's IRET, so the two never nest; RINGVM_NMI
 *     while one waits, or with an argument, is EINVAL.
 *  4. nmi_window: with RINGVM_RUN_NMI_WINDOW, a RUN while the guest is in
 *     its NMI handler ends in an NMI_WINDOW exit after the IRET.
 *  5. exception_injected: SET_EVENTS with a #GP and error code, and a #UD
 *     without one, reach the guest's handlers as given.
 *  6. set_events_checks: every malformed field of SET_EVENTS is EINVAL
 *     and changes nothing; GET/SET/GET round-trips.
 *  7. hlt_takes_waiting_irq: "sti; hlt" with an interrupt waiting takes
 *     it without a HLT exit, and the handler returns after the HLT; the
 *     next HLT, with nothing waiting, exits to user space.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "guest.h"

#define IRQ_VECTOR	0x40
#define SYNC_IF_CLEAR	1
#define SYNC_STI_DONE	2
#define SYNC_IN_NMI	3
#define SYNC_NMIS	4
#define SYNC_EXC	5

FIXTURE(events) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
};

FIXTURE_SETUP(events)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
}

FIXTURE_TEARDOWN(events)
{
	vm_destroy(self->vm);
}

/* Guest state the handlers keep; the guest reports it in ucalls. */
static volatile __u64 irq_count, irq_vector, irq_rip;
static volatile __u64 nmi_count, nmi_depth, nmi_max_depth;
static volatile __u64 exc_vector, exc_error;

static void irq_handler(struct ex_regs *regs)
{
	irq_count++;
	irq_vector = regs->vector;
	irq_rip = regs->rip;
}

/* 1. An interrupt waits for IF and the STI shadow */

static void guest_irq_after_sti(void)
{
	__u64 after_nop;

	asm volatile("cli");
	GUEST_SYNC(SYNC_IF_CLEAR);
	GUEST_ASSERT_EQ(0, irq_count);
	/* the interrupt comes after the NOP in STI's shadow, at 1: */
	asm volatile("sti\n\t"
		     "nop\n\t"
		     "1: lea 1b(%%rip), %0\n\t"
		     "cli"
		     : "=r" (after_nop));
	GUEST_SYNC_ARGS(SYNC_STI_DONE, irq_count, irq_vector,
			irq_rip == after_nop, after_nop - irq_rip);
	GUEST_DONE();
}

/*
 * Quirk: QEMU's TCG before 9.1 does not load the interrupt shadow from
 * the VMCB at VMRUN (fixed by "target/i386: fix INHIBIT_IRQ/TF/RF
 * handling for VMRUN", June 2024), though #VMEXIT saves it.  A host
 * interrupt taken between STI and the NOP (V_INTR_MASKING: the guest's
 * shadow does not hold it off) leaves int_state's shadow set, ringvm
 * rightly waits for the window, and QEMU opens it at once at the NOP,
 * one instruction early.  Rare: one CI run in about ten.  Detection:
 * TCG and the interrupt one byte (the NOP) before where it belongs.
 * Workaround: none in ringvm; the test skips that run.
 */
static bool tcg_shadow_lost(__u64 before_by)
{
	return before_by == 1 && host_is_tcg();
}

TEST_F(events, irq_waits_for_sti)
{
	struct ringvm_interrupt bad = { .vector = IRQ_VECTOR, .flags = 1 };
	struct ringvm_events ev;
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_irq_after_sti);
	vm_install_exception_handler(self->vm, IRQ_VECTOR, irq_handler);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_IF_CLEAR);
	EXPECT_EQ(0, self->vcpu->run->if_flag);
	EXPECT_EQ(0, self->vcpu->run->ready_for_interrupt);

	EXPECT_EQ(-EINVAL, __ringvm_interrupt(self->vcpu->fd, 31));
	EXPECT_EQ(-EINVAL, __ringvm_ioctl(self->vcpu->fd, RINGVM_INTERRUPT,
					  (unsigned long)&bad));
	ASSERT_EQ(0, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR));
	EXPECT_EQ(-EINVAL, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR + 1));
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &ev));
	EXPECT_EQ(1, ev.irq_pending);
	EXPECT_EQ(IRQ_VECTOR, ev.irq_vector);

	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_STI_DONE, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]) TH_LOG("interrupts delivered");
	EXPECT_EQ(IRQ_VECTOR, uc.args[2]);
	if (!uc.args[3] && tcg_shadow_lost(uc.args[4]))
		SKIP(return, "delivered in STI's shadow: QEMU TCG before 9.1 "
		     "drops the shadow at VMRUN (selftests/runner/README.md)");
	EXPECT_EQ(1, uc.args[3])
		TH_LOG("not right after STI's shadow: %lld bytes before",
		       (long long)uc.args[4]);
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &ev));
	EXPECT_EQ(0, ev.irq_pending);
	EXPECT_EQ(0, ev.injected.valid);
	ASSERT_DONE(self->vcpu, &uc);
}

/* 2. The interrupt window */

static void guest_irq_window(void)
{
	volatile unsigned int i;

	asm volatile("cli");
	GUEST_SYNC(SYNC_IF_CLEAR);
	for (i = 0; i < 1000; i++)
		;
	asm volatile("sti; nop; nop; nop");
	GUEST_SYNC_ARGS(SYNC_STI_DONE, irq_count);
	GUEST_DONE();
}

TEST_F(events, irq_window)
{
	struct ringvm_regs regs;
	struct ucall uc;
	__u64 rip;

	self->vm = vm_create_guest(&self->vcpu, guest_irq_window);
	vm_install_exception_handler(self->vm, IRQ_VECTOR, irq_handler);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_IF_CLEAR);

	self->vcpu->run->flags = RINGVM_RUN_IRQ_WINDOW;
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IRQ_WINDOW);
	EXPECT_EQ(1, self->vcpu->run->if_flag);
	EXPECT_EQ(1, self->vcpu->run->ready_for_interrupt);
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_NE(0, regs.rflags & X86_RFLAGS_IF);
	rip = regs.rip;

	/* Open already: the RUN ends before the guest runs. */
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IRQ_WINDOW);
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_EQ(rip, regs.rip);

	self->vcpu->run->flags = 0;
	ASSERT_EQ(0, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR));
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_STI_DONE, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]);
	ASSERT_DONE(self->vcpu, &uc);
}

/* 3-4. NMIs */

static void nmi_handler(struct ex_regs *regs __attribute__((unused)))
{
	nmi_count++;
	nmi_depth++;
	if (nmi_depth > nmi_max_depth)
		nmi_max_depth = nmi_depth;
	if (nmi_count == 1)
		GUEST_SYNC(SYNC_IN_NMI);
	nmi_depth--;
}

static void guest_nmis(void)
{
	__u32 r[4];
	int i;

	asm volatile("cli");
	GUEST_SYNC(SYNC_IF_CLEAR);
	/* Exits (CPUID) let a waiting NMI in once the IRET has run. */
	for (i = 0; i < 1000 && nmi_count < 2; i++)
		guest_cpuid(0, 0, r);
	GUEST_SYNC_ARGS(SYNC_NMIS, nmi_count, nmi_max_depth);
	GUEST_DONE();
}

static void nmi_start(struct __test_metadata *_metadata,
		      struct test_vcpu *vcpu)
{
	struct ringvm_events ev;
	struct ucall uc;

	ASSERT_SYNC(vcpu, &uc, SYNC_IF_CLEAR);
	EXPECT_EQ(-EINVAL, __ringvm_ioctl(vcpu->fd, RINGVM_NMI, 1));
	ASSERT_EQ(0, __ringvm_nmi(vcpu->fd));
	EXPECT_EQ(-EINVAL, __ringvm_nmi(vcpu->fd));
	ASSERT_EQ(0, __ringvm_get_events(vcpu->fd, &ev));
	EXPECT_EQ(1, ev.nmi_pending);
	EXPECT_EQ(0, ev.nmi_masked);

	/* With IF clear the NMI goes in; its handler reports. */
	ASSERT_SYNC(vcpu, &uc, SYNC_IN_NMI);
	ASSERT_EQ(0, __ringvm_get_events(vcpu->fd, &ev));
	EXPECT_EQ(0, ev.nmi_pending);
	EXPECT_EQ(1, ev.nmi_masked);
}

TEST_F(events, nmi_blocked_until_iret)
{
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_nmis);
	vm_install_exception_handler(self->vm, NMI_VECTOR, nmi_handler);
	nmi_start(_metadata, self->vcpu);

	ASSERT_EQ(0, __ringvm_nmi(self->vcpu->fd));
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_NMIS, uc.args[0]);
	EXPECT_EQ(2, uc.args[1]) TH_LOG("NMIs delivered");
	EXPECT_EQ(1, uc.args[2]) TH_LOG("NMI handlers nested");
	ASSERT_DONE(self->vcpu, &uc);
}

TEST_F(events, nmi_window)
{
	struct ringvm_events ev;
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_nmis);
	vm_install_exception_handler(self->vm, NMI_VECTOR, nmi_handler);
	nmi_start(_metadata, self->vcpu);

	self->vcpu->run->flags = RINGVM_RUN_NMI_WINDOW;
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_NMI_WINDOW);
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &ev));
	EXPECT_EQ(0, ev.nmi_masked);
	self->vcpu->run->flags = 0;

	ASSERT_EQ(0, __ringvm_nmi(self->vcpu->fd));
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_NMIS, uc.args[0]);
	EXPECT_EQ(2, uc.args[1]);
	EXPECT_EQ(1, uc.args[2]);
	ASSERT_DONE(self->vcpu, &uc);
}

/* 5. Exceptions from user space */

static void exc_handler(struct ex_regs *regs)
{
	exc_vector = regs->vector;
	exc_error = regs->error_code;
}

static void guest_exceptions(void)
{
	for (;;) {
		exc_vector = ~0ULL;
		exc_error = ~0ULL;
		GUEST_SYNC(SYNC_IF_CLEAR);
		GUEST_SYNC_ARGS(SYNC_EXC, exc_vector, exc_error);
	}
}

static void inject_exception(struct __test_metadata *_metadata,
			     struct test_vcpu *vcpu, __u8 vector,
			     bool has_error, __u32 error)
{
	struct ringvm_events ev;
	struct ucall uc;

	ASSERT_SYNC(vcpu, &uc, SYNC_IF_CLEAR);
	ASSERT_EQ(0, __ringvm_get_events(vcpu->fd, &ev));
	ev.injected.valid = 1;
	ev.injected.type = RINGVM_EVENT_TYPE_EXCEPTION;
	ev.injected.vector = vector;
	ev.injected.has_error_code = has_error;
	ev.injected.error_code = error;
	ASSERT_EQ(0, __ringvm_set_events(vcpu->fd, &ev));
	ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_EXC, uc.args[0]);
	EXPECT_EQ(vector, uc.args[1]);
	if (has_error)
		EXPECT_EQ(error, uc.args[2]);
}

TEST_F(events, exception_injected)
{
	self->vm = vm_create_guest(&self->vcpu, guest_exceptions);
	vm_install_exception_handler(self->vm, GP_VECTOR, exc_handler);
	vm_install_exception_handler(self->vm, UD_VECTOR, exc_handler);
	inject_exception(_metadata, self->vcpu, GP_VECTOR, true, 0x1234);
	inject_exception(_metadata, self->vcpu, UD_VECTOR, false, 0);
}

/* 6. What SET_EVENTS refuses */

TEST_F(events, set_events_checks)
{
	struct ringvm_events good, ev, back;
	struct ucall uc;
	unsigned int i;

	self->vm = vm_create_guest(&self->vcpu, guest_exceptions);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_IF_CLEAR);
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &good));

	for (i = 0; i < 16; i++) {
		ev = good;
		switch (i) {
		case 0: ev.flags = 1; break;
		case 1: ev.pad = 1; break;
		case 2: ev.reserved[3] = 1; break;
		case 3: ev.shadow = 1U << 2; break;
		case 4: ev.irq_pending = 1; ev.irq_vector = 31; break;
		case 5: ev.irq_vector = 0x40; break;	/* not pending */
		case 6: ev.nmi_pending = 2; break;
		case 7: ev.nmi_masked = 2; break;
		case 8: ev.injected.valid = 2; break;
		case 9:	/* an external interrupt below 32 */
			ev.injected.valid = 1;
			ev.injected.vector = 8;
			break;
		case 10:	/* vector 2 as an exception */
			ev.injected.valid = 1;
			ev.injected.type = RINGVM_EVENT_TYPE_EXCEPTION;
			ev.injected.vector = 2;
			break;
		case 11:	/* #UD has no error code */
			ev.injected.valid = 1;
			ev.injected.type = RINGVM_EVENT_TYPE_EXCEPTION;
			ev.injected.vector = UD_VECTOR;
			ev.injected.has_error_code = 1;
			break;
		case 12:	/* a length on a hardware exception */
			ev.injected.valid = 1;
			ev.injected.type = RINGVM_EVENT_TYPE_EXCEPTION;
			ev.injected.vector = GP_VECTOR;
			ev.injected.insn_len = 2;
			break;
		case 13:	/* an unknown type */
			ev.injected.valid = 1;
			ev.injected.type = 7;
			ev.injected.vector = 0x40;
			break;
		case 14:	/* fields of an event that is not there */
			ev.injected.vector = 0x40;
			break;
		case 15:	/* INT n with a 16-byte length */
			ev.injected.valid = 1;
			ev.injected.type = RINGVM_EVENT_TYPE_SOFT_INTR;
			ev.injected.vector = 0x80;
			ev.injected.insn_len = 16;
			break;
		}
		EXPECT_EQ(-EINVAL, __ringvm_set_events(self->vcpu->fd, &ev))
			TH_LOG("case %u", i);
	}
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &back));
	EXPECT_EQ(0, memcmp(&good, &back, sizeof(good)));

	/* A full state round-trips. */
	ev = good;
	ev.irq_pending = 1;
	ev.irq_vector = 0x41;
	ev.nmi_pending = 1;
	ev.nmi_masked = 1;
	ev.injected.valid = 1;
	ev.injected.type = RINGVM_EVENT_TYPE_EXCEPTION;
	ev.injected.vector = GP_VECTOR;
	ev.injected.has_error_code = 1;
	ev.injected.error_code = 0x10;
	ASSERT_EQ(0, __ringvm_set_events(self->vcpu->fd, &ev));
	ASSERT_EQ(0, __ringvm_get_events(self->vcpu->fd, &back));
	EXPECT_EQ(0, memcmp(&ev, &back, sizeof(ev)));
	ASSERT_EQ(0, __ringvm_set_events(self->vcpu->fd, &good));
}


/* 7. HLT with an interrupt waiting does not leave the kernel */

static void guest_hlt_with_irq(void)
{
	__u64 after_hlt;

	asm volatile("cli");
	GUEST_SYNC(SYNC_IF_CLEAR);
	asm volatile("sti\n\t"
		     "hlt\n\t"
		     "1: lea 1b(%%rip), %0\n\t"
		     "cli"
		     : "=r" (after_hlt));
	GUEST_SYNC_ARGS(SYNC_STI_DONE, irq_count, irq_vector,
			irq_rip == after_hlt);
	asm volatile("hlt");		/* nothing waits: to user space */
	GUEST_DONE();
}

TEST_F(events, hlt_takes_waiting_irq)
{
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_hlt_with_irq);
	vm_install_exception_handler(self->vm, IRQ_VECTOR, irq_handler);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_IF_CLEAR);
	ASSERT_EQ(0, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR));

	/* A HLT exit here would fail the ucall assertion. */
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_STI_DONE, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]) TH_LOG("interrupts delivered");
	EXPECT_EQ(IRQ_VECTOR, uc.args[2]);
	EXPECT_EQ(1, uc.args[3]) TH_LOG("handler did not return after HLT");

	vcpu_run(self->vcpu);
	EXPECT_EQ(RINGVM_EXIT_HLT, self->vcpu->run->exit_reason);
	ASSERT_DONE(self->vcpu, &uc);
}

RINGVM_GUEST_TEST_MAIN
