// SPDX-License-Identifier: GPL-2.0
/*
 * migration_test: a vCPU whose thread moves between CPUs keeps running
 * correctly.  The guest counts and checks its own registers and FPU state
 * (a GPR, MXCSR, XMM15) across every exit, while the host moves the
 * thread that runs it to another online CPU between exits: the thread
 * itself (sched_setaffinity) or another thread (pthread_setaffinity_np)
 * while it runs.  VMX must VMCLEAR/VMPTRLD the VMCS on the new CPU, SVM
 * use a fresh ASID or flush; neither may lose state.
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
}

FIXTURE_TEARDOWN(migration)
{
	vm_destroy(self->vm);
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
	}
}

#define SKIP_WITH_ONE_CPU()						\
	do {								\
		if (self->nr_cpus < 2)					\
			SKIP(return, "%d CPU(s): nowhere to migrate",	\
			     self->nr_cpus);				\
	} while (0)

/* The vCPU's thread moves itself before each RUN. */
TEST_F_TIMEOUT(migration, self_affinity, 300)
{
	unsigned int moved = 0;
	struct ucall uc;
	int i, last = -1;

	SKIP_WITH_ONE_CPU();
	self->vm = vm_create_guest(&self->vcpu, guest_count);
	for (i = 0; i < NR_ITERS; i++) {
		int cpu = self->cpus[i % self->nr_cpus];
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		ASSERT_SYNC(self->vcpu, &uc, i);
		cpu = sched_getcpu();
		if (last >= 0 && cpu != last)
			moved++;
		last = cpu;
	}
	TH_LOG("%u moves in %d exits", moved, NR_ITERS);
	EXPECT_LT(NR_ITERS / 2, moved);
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
