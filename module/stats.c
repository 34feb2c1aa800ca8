// SPDX-License-Identifier: GPL-2.0
/*
 * Per-vCPU statistics, read by the vcpu-stats-get netlink dump.
 *
 *  1. what is counted, and where
 *  2. the two clocks: run time and halt time
 *  3. a snapshot for the dump
 *
 * 1. Each counter lives in struct ringvm_vcpu and is written only by the
 * thread that holds vcpu->mutex in RINGVM_RUN, with a plain increment:
 * no lock, no atomic, nothing allocated, as the exit path is hot (one
 * exception: nr_vmcs_clears, below).  The
 * dump reads each one with READ_ONCE(); an aligned u64 is read in one
 * access on x86-64, so a value is never torn, though two counters read
 * one after the other may straddle an exit.  Where they are counted:
 *
 *   nr_exits, nr_exits_by_code[]  run.c, right after each hardware exit,
 *                                 by the backend's vendor-neutral code
 *   nr_injections                 run.c, each entry with an event in the
 *                                 slot (a re-injected event counts again)
 *   nr_npf_ram                    exit.c, a nested page fault on RAM
 *   nr_user_exits                 exit.c, ringvm_user_exit(): every RUN
 *                                 that returns an exit to user space
 *   run_clock, halt_clock         vcpu.c, around RINGVM_RUN (below)
 *   nr_vmcs_loads, nr_vmcs_clears vmx/vcpu.c, each VMPTRLD and VMCLEAR
 *                                 of the vCPU's VMCS.  A clear runs on
 *                                 the CPU where the VMCS is parked, from
 *                                 whatever evicts it there: this vCPU's
 *                                 own IPI, another vCPU's load, CPU
 *                                 offline, suspend or reboot, maybe while
 *                                 the owner sleeps; the evictions of one
 *                                 VMCS are serialized (it is parked on
 *                                 one CPU at a time), and the clear is
 *                                 stored with WRITE_ONCE
 *   nr_host_saves                 svm/vcpu.c, the VMSAVE of the host's
 *                                 state in each vcpu_load
 *   nr_msr_switches               vmx/vcpu.c, each WRMSR that puts the
 *                                 guest's or the host's value of an MSR
 *                                 the VMCS does not switch (load, put, a
 *                                 write while loaded); SYSCALL's MSRs
 *                                 go back to the host's on the way to
 *                                 user space, outside any vCPU: the
 *                                 vCPU whose value replaced the host's
 *                                 is charged that WRMSR in advance (one
 *                                 too many where a later guest's value
 *                                 equals the host's).  SVM has none,
 *                                 its VMLOAD/VMSAVE switch those MSRs
 *
 *   nr_l1d_flushes                vmx/l1tf.c, each L1D flush before an
 *                                 entry (vmentry_l1d_flush cond/always)
 *
 * None of those four before it is on the exit path: they count what each
 * stretch of guest execution (run.c, ringvm_run_section()) costs around
 * its entries, so a benchmark can say how many a round trip makes.
 *
 * Context: the writers run in process context with vcpu->mutex held
 * (some with preemption off; nr_vmcs_clears also with interrupts off on
 * the parked CPU, see above); the reader holds vm->lock, which keeps the
 * vCPU from being freed (ringvm_vcpu_free() takes it first).
 */
#include <linux/bits.h>
#include <linux/ktime.h>

#include "vm.h"

/*
 * 2. Run time is the time a thread spends in RINGVM_RUN on the vCPU: the
 * guest's own time plus the exits handled in the kernel and the waits
 * for the scheduler, from the ioctl's start to its return.  Halt time is
 * the time from a RUN that returned a HLT exit to the next RUN: the
 * vCPU is halted while user space waits for something to wake it; with
 * the in-kernel APIC, a halt in the module counts in both.
 * Both are CLOCK_MONOTONIC nanoseconds, and both count while they run,
 * so a dump during a long RUN, or of a halted vCPU, sees them grow.
 *
 * A clock is one u64, so that the one writer updates it with a single
 * store and a reader needs no lock: stopped, it holds the total; running
 * (RINGVM_STAT_CLOCK_RUNNING set), it holds the moment it would have
 * been started to reach its total by now, so the total is now minus
 * that.  A reading may run ahead of a concurrent stop by the few
 * nanoseconds between the reader's load and its clock read.
 */
#define RINGVM_STAT_CLOCK_RUNNING	BIT_ULL(63)

static void ringvm_stat_clock_start(u64 *clock, u64 now)
{
	if (!(*clock & RINGVM_STAT_CLOCK_RUNNING))
		WRITE_ONCE(*clock, RINGVM_STAT_CLOCK_RUNNING | (now - *clock));
}

static void ringvm_stat_clock_stop(u64 *clock, u64 now)
{
	if (*clock & RINGVM_STAT_CLOCK_RUNNING)
		WRITE_ONCE(*clock,
			   now - (*clock & ~RINGVM_STAT_CLOCK_RUNNING));
}

static u64 ringvm_stat_clock_read(const u64 *clock)
{
	u64 c = READ_ONCE(*clock), start, now;

	if (!(c & RINGVM_STAT_CLOCK_RUNNING))
		return c;
	start = c & ~RINGVM_STAT_CLOCK_RUNNING;
	now = ktime_get_ns();
	return now > start ? now - start : 0;
}

/* vcpu->mutex held: RINGVM_RUN starts (and a halt, if any, ends). */
void ringvm_stats_run_begin(struct ringvm_vcpu *vcpu)
{
	u64 now = ktime_get_ns();

	ringvm_stat_clock_stop(&vcpu->halt_clock, now);
	ringvm_stat_clock_start(&vcpu->run_clock, now);
}

/* vcpu->mutex held: RINGVM_RUN returns; @halted: with a HLT exit. */
void ringvm_stats_run_end(struct ringvm_vcpu *vcpu, bool halted)
{
	u64 now = ktime_get_ns();

	ringvm_stat_clock_stop(&vcpu->run_clock, now);
	if (halted)
		ringvm_stat_clock_start(&vcpu->halt_clock, now);
}

/* vcpu->mutex held: the vCPU halts in the module (lapic.c), or wakes. */
void ringvm_stats_halt(struct ringvm_vcpu *vcpu, bool begin)
{
	u64 now = ktime_get_ns();

	if (begin)
		ringvm_stat_clock_start(&vcpu->halt_clock, now);
	else
		ringvm_stat_clock_stop(&vcpu->halt_clock, now);
}

/* 3. vm->lock held, so @vcpu stays; any context that may sleep. */
void ringvm_vcpu_stats_read(const struct ringvm_vcpu *vcpu,
			    struct ringvm_vcpu_stats *st)
{
	unsigned int i;

	st->exits = READ_ONCE(vcpu->nr_exits);
	for (i = 0; i < RINGVM_HW_EXIT_NR; i++)
		st->exits_by_code[i] = READ_ONCE(vcpu->nr_exits_by_code[i]);
	st->user_exits = READ_ONCE(vcpu->nr_user_exits);
	st->npf_ram = READ_ONCE(vcpu->nr_npf_ram);
	st->injections = READ_ONCE(vcpu->nr_injections);
	st->run_ns = ringvm_stat_clock_read(&vcpu->run_clock);
	st->halt_ns = ringvm_stat_clock_read(&vcpu->halt_clock);
	st->vmcs_loads = READ_ONCE(vcpu->nr_vmcs_loads);
	st->vmcs_clears = READ_ONCE(vcpu->nr_vmcs_clears);
	st->host_saves = READ_ONCE(vcpu->nr_host_saves);
	st->msr_switches = READ_ONCE(vcpu->nr_msr_switches);
	st->l1d_flushes = READ_ONCE(vcpu->nr_l1d_flushes);
}
