// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu_thread_test: vCPUs run by threads.  Several VMs at once; two
 * vCPUs of one VM sharing its memory; a named VM destroyed (vm-del)
 * while a thread runs its vCPU; and signals, which end RINGVM_RUN with
 * an INTR exit, after which RUN resumes the guest where it was.
 *
 * Threads other than the test's own never ASSERT (the harness's
 * longjmp belongs to the test's thread): they record what they saw and
 * the test checks it after pthread_join().
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NR_VMS		4
#define NR_SYNCS	40

FIXTURE(threads) {
	struct test_vm *vm;
	struct ringvm_nl *nl;
};

FIXTURE_SETUP(threads)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(threads)
{
	vm_destroy(self->vm);
	if (self->nl)
		ringvm_nl_close(self->nl);
}

/* What a worker thread saw: an empty @err means all went well. */
struct worker {
	pthread_t thread;
	int index;
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	char err[256];
	volatile int stage;
	__u32 exits[4];
};

#define WORKER_FAIL(w, ...)						\
	do {								\
		snprintf((w)->err, sizeof((w)->err), __VA_ARGS__);	\
		return NULL;						\
	} while (0)

/* Run once; the exit must be a SYNC ucall with @val. */
static bool worker_sync(struct worker *w, __u64 val)
{
	struct ucall uc;
	char b[384];
	int ret = __vcpu_run(w->vcpu);

	if (ret) {
		snprintf(w->err, sizeof(w->err), "RUN: %s", strerror(-ret));
		return false;
	}
	if (get_ucall(w->vcpu, &uc) != UCALL_SYNC || uc.args[0] != val) {
		snprintf(w->err, sizeof(w->err), "expected SYNC(%llu): %s",
			 (unsigned long long)val,
			 vcpu_exit_str(w->vcpu, b, sizeof(b)));
		return false;
	}
	return true;
}

/* 1. Several VMs at once, one thread and one vCPU each */

static void guest_counter(__u64 start)
{
	__u64 i;

	for (i = 0; i < NR_SYNCS; i++)
		GUEST_SYNC(start + i);
	GUEST_DONE();
}

static void *vm_worker(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;
	int i, ret;

	/* made in the thread, as the others make theirs */
	ret = __vm_create_guest(&w->vm, &w->vcpu, guest_counter);
	if (ret)
		WORKER_FAIL(w, "vm_create_guest: %s", strerror(-ret));
	ret = __vcpu_args_set(w->vcpu, 1, (__u64)w->index * 1000);
	if (ret)
		WORKER_FAIL(w, "args: %s", strerror(-ret));
	for (i = 0; i < NR_SYNCS; i++)
		if (!worker_sync(w, (__u64)w->index * 1000 + i))
			return NULL;
	if (__vcpu_run(w->vcpu) || get_ucall(w->vcpu, &uc) != UCALL_DONE)
		WORKER_FAIL(w, "no GUEST_DONE");
	return NULL;
}

TEST_F_TIMEOUT(threads, several_vms, 120)
{
	struct worker w[NR_VMS];
	__u32 ids[NR_VMS];
	int i, j;

	memset(w, 0, sizeof(w));
	for (i = 0; i < NR_VMS; i++) {
		w[i].index = i;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, vm_worker,
					    &w[i]));
	}
	for (i = 0; i < NR_VMS; i++)
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
	for (i = 0; i < NR_VMS; i++) {
		EXPECT_STREQ("", w[i].err) TH_LOG("VM %d", i);
		ASSERT_NE(NULL, w[i].vm);
		ids[i] = w[i].vm->id;
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[j], ids[i]);
		vm_destroy(w[i].vm);
	}
}

/* 2. Two vCPUs of one VM: both count into the same word of guest RAM */

#define NR_INCS		2000
static volatile __u32 shared_counter;

static void guest_incrementer(__u64 id)
{
	int i;

	GUEST_ASSERT_EQ(guest_hypercall(RINGVM_HC_VCPU_ID, 0, 0, 0, 0), id);
	for (i = 0; i < NR_INCS; i++) {
		asm volatile("lock incl %0" : "+m"(shared_counter));
		if (i % 500 == 0)
			GUEST_SYNC(i);
	}
	GUEST_DONE();
}

static void *vcpu_worker(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;
	char b[384];

	for (;;) {
		int ret = __vcpu_run(w->vcpu);

		if (ret)
			WORKER_FAIL(w, "RUN: %s", strerror(-ret));
		switch (get_ucall(w->vcpu, &uc)) {
		case UCALL_SYNC:
			continue;
		case UCALL_DONE:
			return NULL;
		default:
			WORKER_FAIL(w, "%s",
				    vcpu_exit_str(w->vcpu, b, sizeof(b)));
		}
	}
}

TEST_F_TIMEOUT(threads, vcpus_share_memory, 120)
{
	struct vm_opts opts = { .max_vcpus = 2 };
	struct worker w[2];
	int i;

	memset(w, 0, sizeof(w));
	self->vm = vm_create(&opts);
	for (i = 0; i < 2; i++) {
		w[i].vcpu = vm_vcpu_add(self->vm, i, guest_incrementer);
		vcpu_args_set(w[i].vcpu, 1, i);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, vcpu_worker,
					    &w[i]));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
	for (i = 0; i < 2; i++)
		EXPECT_STREQ("", w[i].err) TH_LOG("vCPU %d", i);
	EXPECT_EQ(2 * NR_INCS, *(volatile __u32 *)addr_gva2hva(self->vm,
				(uintptr_t)&shared_counter));
}

/* 3. vm-del while a thread runs the VM's vCPU */

static volatile __u64 spin_count;

static void guest_spin(void)
{
	GUEST_SYNC(1);
	for (;;)
		spin_count++;
}

static void *destroy_worker(void *arg)
{
	struct worker *w = arg;
	int i, ret;

	if (!worker_sync(w, 1))
		return NULL;
	w->stage = 1;
	/* this RUN spins in the guest until the VM is destroyed; then more */
	for (i = 0; i < 3; i++) {
		ret = __vcpu_run(w->vcpu);
		if (ret)
			WORKER_FAIL(w, "RUN %d: %s", i, strerror(-ret));
		w->exits[i] = w->vcpu->run->exit_reason;
	}
	w->stage = 2;
	return NULL;
}

/* Wait up to @ms for @w->stage to reach @stage. */
static bool wait_stage(struct worker *w, int stage, int ms)
{
	while (w->stage < stage && ms-- > 0)
		usleep(1000);
	return w->stage >= stage;
}

TEST_F_TIMEOUT(threads, destroy_while_running, 120)
{
	const char *name = GUEST_TEST_VM_PREFIX "destroy";
	struct ringvm_mem_region r = { 0, vm_guest_ram_size() };
	volatile __u64 *count;
	struct ringvm_vm_info info;
	struct ringvm_nl_vm nv;
	struct worker w;
	int devfd, vmfd, ret, i;
	__u64 c;

	memset(&w, 0, sizeof(w));
	ret = __ringvm_nl_vm_new(self->nl, name, &r, 1, 1, &nv);
	ASSERT_EQ(0, ret) TH_LOG("vm-new: %s: %s", strerror(-ret),
				 ringvm_nl_extack(self->nl));
	devfd = __ringvm_open();
	ASSERT_LE(0, devfd);
	vmfd = __ringvm_open_vm(devfd, 0, name);
	close(devfd);
	ASSERT_LE(0, vmfd);
	ASSERT_EQ(0, __vm_adopt(&self->vm, vmfd));
	w.vcpu = vm_vcpu_add(self->vm, 0, guest_spin);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, destroy_worker, &w));

	/* the guest spins: the counter moves */
	ASSERT_TRUE(wait_stage(&w, 1, 20000)) TH_LOG("%s", w.err);
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	for (i = 0; i < 10000 && !*count; i++)
		usleep(1000);
	c = *count;
	ASSERT_NE(0, c);
	EXPECT_EQ(0, w.stage > 1) TH_LOG("RUN returned before vm-del");

	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, 0, name));
	ASSERT_TRUE(wait_stage(&w, 2, 20000)) TH_LOG("RUN did not return");
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(RINGVM_EXIT_DESTROYED, w.exits[i])
			TH_LOG("RUN %d: %s", i,
			       ringvm_exit_reason_name(w.exits[i]));
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	EXPECT_TRUE(info.flags & RINGVM_VM_INFO_DESTROYED);
	/* the guest is stopped for good; its memory stays mapped */
	c = *count;
	usleep(20000);
	EXPECT_EQ(c, *count);
}

/* 4. Signals */

static void on_signal(int sig)
{
	(void)sig;
}

static void install(struct __test_metadata *_metadata, int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: the handler runs, RUN returns to user space */
	ASSERT_EQ(0, sigaction(sig, &sa, NULL));
}

/* SIGALRM in the vCPU's own thread while the guest spins. */
TEST_F_TIMEOUT(threads, signal_intr_and_resume, 60)
{
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct test_vcpu *vcpu;
	volatile __u64 *count;
	struct ringvm_regs regs;
	struct ucall uc;
	__u64 c1, c2;
	int i;

	install(_metadata, SIGALRM);
	self->vm = vm_create_guest(&vcpu, guest_spin);
	ASSERT_SYNC(vcpu, &uc, 1);
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);

	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	vcpu_run(vcpu);
	ASSERT_EXIT(vcpu, RINGVM_EXIT_INTR);
	c1 = *count;
	EXPECT_NE(0, c1);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(regs.rip, vcpu->run->rip);

	/* RUN again: the guest goes on counting from where it was */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		vcpu_run(vcpu);
		ASSERT_EXIT(vcpu, RINGVM_EXIT_INTR);
		c2 = *count;
		EXPECT_LT(c1, c2);
		c1 = c2;
	}
}

/* pthread_kill() from another thread. */
static void *intr_worker(void *arg)
{
	struct worker *w = arg;
	int i, ret;

	if (!worker_sync(w, 1))
		return NULL;
	for (i = 0; i < 3; i++) {
		w->stage = 1 + 2 * i;		/* 1, 3, 5: running */
		ret = __vcpu_run(w->vcpu);
		if (ret)
			WORKER_FAIL(w, "RUN %d: %s", i, strerror(-ret));
		w->exits[i] = w->vcpu->run->exit_reason;
		w->stage = 2 + 2 * i;		/* 2, 4, 6: back */
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, pthread_kill_intr, 60)
{
	volatile __u64 *count;
	struct worker w;
	__u64 last = 0;
	int i;

	memset(&w, 0, sizeof(w));
	install(_metadata, SIGUSR1);
	self->vm = vm_create_guest(&w.vcpu, guest_spin);
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, intr_worker, &w));
	for (i = 0; i < 3; i++) {
		int t;

		ASSERT_TRUE(wait_stage(&w, 1 + 2 * i, 20000)) TH_LOG("%s",
								     w.err);
		/* let it get into the guest, then kick it out */
		for (t = 0; t < 10000 && *count == last; t++)
			usleep(1000);
		/* a signal before RUN enters the guest is INTR as well */
		while (w.stage < 2 + 2 * i) {
			pthread_kill(w.thread, SIGUSR1);
			usleep(10000);
		}
		EXPECT_LT(last, *count);
		last = *count;
	}
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(RINGVM_EXIT_INTR, w.exits[i])
			TH_LOG("RUN %d: %s", i,
			       ringvm_exit_reason_name(w.exits[i]));
}

RINGVM_GUEST_TEST_MAIN
