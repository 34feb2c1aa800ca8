// SPDX-License-Identifier: GPL-2.0
/*
 * migration_test: a vCPU whose thread moves between CPUs keeps running
 * correctly.  The guest counts and checks its own registers and FPU state
 * (a GPR, MXCSR, XMM15) across every exit, while the host moves the
 * thread that runs it to another online CPU between exits: the thread
 * itself (sched_setaffinity) or another thread (pthread_setaffinity_np)
 * while it runs.  VMX must VMCLEAR/VMPTRLD the VMCS on the new CPU, SVM
 * use a fresh ASID or flush; neither may lose state.  VMX's counters
 * (vcpu-stats-get) show that a VMCS moves only with its vCPU: one
 * VMCLEAR where it was parked and one VMPTRLD for each move, none for a
 * RUN on the same CPU; a register read and write on another CPU moves
 * it too, and the guest finds its state intact after; the CPU where it
 * is parked going offline VMCLEARs it.  The guest also makes a SYSCALL
 * after each exit, which must reach its own LSTAR wherever it runs
 * (VMX's lazy SYSCALL MSRs, module/vmx/vcpu.c 1b).
 *
 * Needs two online CPUs; in tests-smp.list for the runner's vmx-smp.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NR_ITERS	100

FIXTURE(migration) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	struct ringvm_nl *nl;
	int cpus[64];
	int nr_cpus;
};

FIXTURE_SETUP(migration)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->nr_cpus = cpus_allowed(self->cpus, ARRAY_SIZE(self->cpus));
	ASSERT_LE(1, self->nr_cpus);
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(migration)
{
	vm_destroy(self->vm);
	ringvm_nl_close(self->nl);
	EXPECT_EQ(0, cpus_online_all());	/* parked_cpu_goes_offline */
}

struct vmcs_counts {
	__u64 loads, clears;
	int n;
};

static int vmcs_counts_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct vmcs_counts *c = arg;

	c->loads = st->vmcs_loads;
	c->clears = st->vmcs_clears;
	c->n++;
	return 0;
}

/* The one vCPU's VMPTRLDs and VMCLEARs so far. */
#define VMCS_COUNTS(out)						\
	do {								\
		int __r;						\
									\
		memset(&(out), 0, sizeof(out));				\
		__r = __ringvm_nl_vcpu_stats_dump(self->nl, self->vm->id, \
						  NULL, vmcs_counts_cb,	\
						  &(out));		\
		ASSERT_EQ(0, __r) TH_LOG("vcpu-stats-get: %s",		\
					 strerror(-__r));		\
		ASSERT_EQ(1, (out).n);					\
	} while (0)

/*
 * From @a to @b, @moves times the VMCS had to go to another CPU: that
 * many VMCLEARs and VMPTRLDs on VMX, neither on SVM.
 */
static void check_vmcs_moves(struct __test_metadata *_metadata,
			     const struct test_vm *vm,
			     const struct vmcs_counts *a,
			     const struct vmcs_counts *b, unsigned int moves)
{
	__u64 want = vm->arch == RINGVM_ARCH_VMX ? moves : 0;

	TH_LOG("%u moves: %llu VMPTRLDs, %llu VMCLEARs", moves,
	       (unsigned long long)(b->loads - a->loads),
	       (unsigned long long)(b->clears - a->clears));
	EXPECT_EQ(want, b->loads - a->loads);
	EXPECT_EQ(want, b->clears - a->clears);
}


/*
 * Each round: set MXCSR's rounding bits and XMM15 from the count, spin
 * @spin times, exit, and check they are what they were.  The ucall in between leaves MXCSR
 * and XMM15 alone; the count itself lives in a callee-saved register
 * across it, and the host checks the count it reports.
 */
static void guest_count(__u64 spin)
{
	__u64 i, j;

	guest_syscall_enable();	/* the guest's own LSTAR: the loop's end */
	for (i = 0;; i++) {
		__u32 mxcsr = 0x1f80 | (i & 3) << 13, m;
		__u64 x;

		asm volatile("ldmxcsr %0" : : "m"(mxcsr));
		asm volatile("movq %0, %%xmm15" : : "r"(~i) : "xmm15");
		/* time in the guest for the host to move us meanwhile */
		for (j = 0; j < spin; j++)
			cpu_relax();
		GUEST_SYNC(i);
		asm volatile("stmxcsr %0" : "=m"(m));
		asm volatile("movq %%xmm15, %0" : "=r"(x));
		GUEST_ASSERT_EQ(m, mxcsr);
		GUEST_ASSERT_EQ(x, ~i);
		/*
		 * VMX leaves SYSCALL's MSRs in the CPU it ran on until a
		 * return to user space there; on whichever CPU this runs
		 * now, and after a CPU went offline and came back, they
		 * must be this guest's.
		 */
		asm volatile("syscall" : : : "rcx", "r11", "memory");
		GUEST_ASSERT_EQ(guest_syscall_counts[0], i + 1);
	}
}

#define SKIP_WITH_ONE_CPU()						\
	do {								\
		if (self->nr_cpus < 2)					\
			SKIP(return, "%d CPU(s): nowhere to migrate",	\
			     self->nr_cpus);				\
	} while (0)

/*
 * The vCPU's thread moves itself before each RUN, but for every fourth,
 * which stays.  Pinned, the thread runs where it was put, so the moves
 * are exact.
 */
TEST_F_TIMEOUT(migration, self_affinity, 300)
{
	unsigned int moved = 0;
	struct vmcs_counts a, b;
	struct ucall uc;
	int i, k = 0, last = -1;

	SKIP_WITH_ONE_CPU();
	self->vm = vm_create_guest(&self->vcpu, guest_count);
	for (i = 0; i < NR_ITERS; i++) {
		int cpu;

		if (i % 4 != 3)
			k++;
		ASSERT_EQ(0, cpu_pin(self->cpus[k % self->nr_cpus]));
		ASSERT_SYNC(self->vcpu, &uc, i);
		cpu = sched_getcpu();
		if (!i)
			VMCS_COUNTS(a);
		else if (cpu != last)
			moved++;
		last = cpu;
	}
	VMCS_COUNTS(b);
	TH_LOG("%u moves in %d exits", moved, NR_ITERS);
	EXPECT_LT(NR_ITERS / 2, moved);
	check_vmcs_moves(_metadata, self->vm, &a, &b, moved);
}

/*
 * Between RUNs on one CPU, the vCPU's registers are read and written
 * back from another: the VMCS goes there and back each time, and the
 * guest (which checks its own state) and the registers read on the two
 * CPUs must not notice.
 */
TEST_F_TIMEOUT(migration, state_on_another_cpu, 300)
{
	struct ringvm_regs r1, r2;
	struct vmcs_counts a, b;
	struct ucall uc;
	int i;

	SKIP_WITH_ONE_CPU();
	self->vm = vm_create_guest(&self->vcpu, guest_count);
	ASSERT_EQ(0, cpu_pin(self->cpus[0]));
	ASSERT_SYNC(self->vcpu, &uc, 0);
	VMCS_COUNTS(a);
	for (i = 1; i < NR_ITERS; i++) {
		vcpu_regs_get(self->vcpu, &r1);
		ASSERT_EQ(0, cpu_pin(self->cpus[1]));
		vcpu_regs_get(self->vcpu, &r2);
		ASSERT_EQ(0, memcmp(&r1, &r2, sizeof(r1)))
			TH_LOG("registers differ on CPU %d", self->cpus[1]);
		vcpu_regs_set(self->vcpu, &r2);
		ASSERT_EQ(0, cpu_pin(self->cpus[0]));
		ASSERT_SYNC(self->vcpu, &uc, i);
	}
	VMCS_COUNTS(b);
	check_vmcs_moves(_metadata, self->vm, &a, &b, 2 * (NR_ITERS - 1));
}

/*
 * The CPU where the VMCS is parked goes offline between two RUNs: the
 * offline VMCLEARs it (before VMXOFF), the vCPU goes on on another CPU
 * with its state, and again on the first once it is back.
 */
TEST_F_TIMEOUT(migration, parked_cpu_goes_offline, 300)
{
	int away = self->cpus[self->nr_cpus - 1], stay = self->cpus[0];
	bool vmx;
	struct vmcs_counts a, b;
	struct ucall uc;
	int i = 0;

	SKIP_WITH_ONE_CPU();
	if (!cpu_hotpluggable(away))
		SKIP(return, "cpu%d cannot go offline", away);
	self->vm = vm_create_guest(&self->vcpu, guest_count);
	vmx = self->vm->arch == RINGVM_ARCH_VMX;
	ASSERT_EQ(0, cpu_pin(away));
	ASSERT_SYNC(self->vcpu, &uc, i++);
	ASSERT_EQ(0, cpu_pin(stay));
	VMCS_COUNTS(a);
	ASSERT_EQ(0, cpu_set_online(away, false));
	VMCS_COUNTS(b);
	TH_LOG("cpu%d offline: %llu VMCLEARs", away,
	       (unsigned long long)(b.clears - a.clears));
	EXPECT_EQ(vmx, b.clears - a.clears);
	EXPECT_EQ(0, b.loads - a.loads);

	ASSERT_SYNC(self->vcpu, &uc, i++);
	ASSERT_SYNC(self->vcpu, &uc, i++);
	VMCS_COUNTS(a);
	EXPECT_EQ(vmx, a.loads - b.loads) TH_LOG("on cpu%d", stay);
	EXPECT_EQ(0, a.clears - b.clears);

	ASSERT_EQ(0, cpu_set_online(away, true));
	ASSERT_EQ(0, cpu_pin(away));
	ASSERT_SYNC(self->vcpu, &uc, i++);
	VMCS_COUNTS(b);
	check_vmcs_moves(_metadata, self->vm, &a, &b, 1);
}

struct runner {
	struct test_vcpu *vcpu;
	volatile int done;
	volatile int iters;
	int moves;		/* exits seen on another CPU than the last */
	char err[384];
};

static void *run_loop(void *arg)
{
	struct runner *r = arg;
	int i, last = -1;
	struct ucall uc;

	for (i = 0; i < NR_ITERS; i++) {
		int ret = __vcpu_run(r->vcpu), cpu = sched_getcpu();

		if (last >= 0 && cpu != last)
			r->moves++;
		last = cpu;

		if (ret) {
			snprintf(r->err, sizeof(r->err), "RUN: %s",
				 strerror(-ret));
			break;
		}
		if (get_ucall(r->vcpu, &uc) != UCALL_SYNC ||
		    uc.args[0] != (__u64)i) {
			vcpu_exit_str(r->vcpu, r->err, sizeof(r->err));
			break;
		}
		r->iters = i + 1;
	}
	r->done = 1;
	return NULL;
}

/* Another thread moves the vCPU's thread while it runs. */
TEST_F_TIMEOUT(migration, moved_by_another_thread, 300)
{
	struct runner r = { 0 };
	pthread_t t;
	int i = 0;

	SKIP_WITH_ONE_CPU();
	self->vm = vm_create_guest(&self->vcpu, guest_count);
	vcpu_args_set(self->vcpu, 1, 20000);
	r.vcpu = self->vcpu;
	ASSERT_EQ(0, pthread_create(&t, NULL, run_loop, &r));
	while (!r.done) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(self->cpus[i++ % self->nr_cpus], &set);
		pthread_setaffinity_np(t, sizeof(set), &set);
		usleep(500);
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_STREQ("", r.err);
	ASSERT_EQ(NR_ITERS, r.iters);
	TH_LOG("%d affinity changes, %d exits on another CPU than the one before, in %d exits",
	       i, r.moves, NR_ITERS);
	EXPECT_LT(0, r.moves);
}

RINGVM_GUEST_TEST_MAIN
