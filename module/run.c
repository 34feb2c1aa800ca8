// SPDX-License-Identifier: GPL-2.0
/*
 * The run loop: RINGVM_RUN on a vCPU.
 *
 *  1. finish what the previous exit to user space left (exit.c)
 *  2. outer loop, preemptible: stop for a signal (RINGVM_EXIT_INTR) or
 *     a destroyed VM (RINGVM_EXIT_DESTROYED), let the scheduler run
 *  3. inner loop, preemption off, the vCPU loaded on this CPU and its
 *     extended state in the registers: enter the guest with interrupts
 *     off, take the host interrupt that ended it, handle the exits that
 *     need neither sleep nor user space, and enter again
 *  4. back in the outer loop, handle the rest (exit.c); some resume the
 *     guest, the others return to user space through the run page
 *  5. a vCPU that is not runnable (HLT with the in-kernel APIC, INIT,
 *     wait-for-SIPI) blocks in the outer loop until it is (lapic.c)
 *
 * The inner loop is the hot path: no allocation, no lock, no printk.
 *
 * Kicking: ringvm_vcpu_kick() reads vcpu->mode after setting the reason
 * (vm->destroyed, a signal); the loop sets vcpu->mode before checking the
 * reasons with interrupts off.  With a full barrier on both sides either
 * the loop sees the reason, or the kicker sees RINGVM_IN_GUEST and sends
 * an IPI that makes the guest exit.
 *
 * Context: process context, vcpu->mutex held.
 */
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <asm/debugreg.h>
#include <asm/fpu/api.h>
#include <asm/nospec-branch.h>

#include "fpu.h"
#include "vm.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * VMSCAPE: the guest may have trained the branch predictors that this
 * task's user space, the VMM, uses next.  Where the host asks for it, the
 * kernel issues an IBPB on the way back to user space when this per-CPU
 * flag is set, as it does for KVM (module/MITIGATIONS.md row 18).
 */
static __always_inline void ringvm_mark_ibpb_exit_to_user(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
}

/* DR0-3 hold the guest's breakpoints while DR7 enables any. */
static void ringvm_load_guest_db(struct ringvm_vcpu *vcpu)
{
	set_debugreg(vcpu->db[0], 0);
	set_debugreg(vcpu->db[1], 1);
	set_debugreg(vcpu->db[2], 2);
	set_debugreg(vcpu->db[3], 3);
}

static bool ringvm_must_leave(struct ringvm_vcpu *vcpu)
{
	return need_resched() || signal_pending(current) ||
	       READ_ONCE(vcpu->vm->destroyed);
}

/*
 * Why the loop stops before an entry: to reschedule or to check for a
 * signal (nothing to handle), or an exception merge that ended in a
 * triple fault (event.c), which shuts the guest down as the processor
 * would; the last exit's raw words say what led to it.
 */
static u32 ringvm_leave_code(struct ringvm_vcpu *vcpu)
{
	if (vcpu->triple_fault) {
		vcpu->triple_fault = false;
		return RINGVM_HW_EXIT_SHUTDOWN;
	}
	return RINGVM_HW_EXIT_NONE;
}

/*
 * 3. One stretch of guest execution on one CPU.  True with the slow
 * handler's answer in *@r if the exit that ended it was handled before
 * the vCPU was given up (ringvm_handle_slow_loaded()).
 */
static bool ringvm_run_section(struct ringvm_vcpu *vcpu, int *r)
{
	bool handled;

	preempt_disable();
	ringvm_arch->vcpu_load(vcpu, smp_processor_id());
	vcpu->cpu = smp_processor_id();
	kernel_fpu_begin();
	ringvm_fpu_load(vcpu);

	for (;;) {
		local_irq_disable();
		WRITE_ONCE(vcpu->mode, RINGVM_IN_GUEST);
		smp_mb();	/* mode before the reasons: see "Kicking" above */
		if (unlikely(ringvm_must_leave(vcpu) || vcpu->triple_fault)) {
			WRITE_ONCE(vcpu->mode, RINGVM_OUTSIDE_GUEST);
			local_irq_enable();
			vcpu->exit.code = ringvm_leave_code(vcpu);
			break;
		}
		if (unlikely(ringvm_events_active(vcpu))) {
			u32 code = ringvm_prepare_events(vcpu);

			/* a window user space asked for, or an INIT */
			if (code || vcpu->mp_state != RINGVM_MP_RUNNABLE) {
				WRITE_ONCE(vcpu->mode, RINGVM_OUTSIDE_GUEST);
				local_irq_enable();
				memset(&vcpu->exit, 0, sizeof(vcpu->exit));
				vcpu->exit.code = code;
				break;
			}
		}
		trace_ringvm_inj_event(vcpu);
		trace_ringvm_entry(vcpu);
		if (vcpu->dr_active)
			ringvm_load_guest_db(vcpu);
		vcpu->nr_injections += vcpu->event.valid;	/* stats.c */

		ringvm_arch->vcpu_run(vcpu);

		WRITE_ONCE(vcpu->mode, RINGVM_OUTSIDE_GUEST);
		ringvm_mark_ibpb_exit_to_user();
		/* VM exit leaves DR7 = 0x400 on VMX (SDM Vol. 3C §28.5.1) */
		if (vcpu->dr_active || hw_breakpoint_active())
			hw_breakpoint_restore();
		vcpu->nr_exits++;
		if (likely(vcpu->exit.code < RINGVM_HW_EXIT_NR))
			vcpu->nr_exits_by_code[vcpu->exit.code]++;
		local_irq_enable();
		trace_ringvm_exit(vcpu);

		if (!ringvm_handle_fast(vcpu))
			break;
	}

	ringvm_fpu_save(vcpu);
	kernel_fpu_end();
	handled = ringvm_arch->state_needs_load &&
		  ringvm_handle_slow_loaded(vcpu, r);
	ringvm_arch->vcpu_put(vcpu);
	vcpu->cpu = -1;
	preempt_enable();
	return handled;
}

/* An exit to user space that the hardware had no part in. */
static int ringvm_soft_exit(struct ringvm_vcpu *vcpu, u32 reason)
{
	memset(&vcpu->exit, 0, sizeof(vcpu->exit));
	memset(vcpu->run->padding, 0, sizeof(vcpu->run->padding));
	ringvm_user_exit(vcpu, reason);
	return 0;
}

int ringvm_vcpu_run(struct ringvm_vcpu *vcpu)
{
	struct ringvm_run *run = vcpu->run;
	int r;
	u32 flags = READ_ONCE(run->flags);

	if ((flags & ~RINGVM_RUN_FLAGS) || READ_ONCE(run->pad0))
		return -EINVAL;
	vcpu->windows_wanted = flags;
	if (vcpu->shutdown)
		return ringvm_soft_exit(vcpu, RINGVM_EXIT_SHUTDOWN);

	r = ringvm_complete_pending(vcpu);
	if (r)		/* 1: it ended in an exit to user space itself */
		return r < 0 ? r : 0;

	for (;;) {
		if (READ_ONCE(vcpu->vm->destroyed))
			return ringvm_soft_exit(vcpu, RINGVM_EXIT_DESTROYED);
		if (signal_pending(current))
			return ringvm_soft_exit(vcpu, RINGVM_EXIT_INTR);
		cond_resched();

		if (unlikely(vcpu->mp_state != RINGVM_MP_RUNNABLE)) {
			/* halted, INIT or wait-for-SIPI: lapic.c */
			r = ringvm_lapic_block(vcpu);
			if (r)
				return r;
			continue;
		}
		if (!ringvm_run_section(vcpu, &r))
			r = ringvm_handle_slow(vcpu);
		if (r)
			return r < 0 ? r : 0;
	}
}
