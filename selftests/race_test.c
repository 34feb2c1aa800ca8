// SPDX-License-Identifier: GPL-2.0
/*
 * race_test: RINGVM_RUN and the objects' lifetimes against what other
 * threads and processes do meanwhile, and a leak check.
 *
 *  1. vm-del (named and anonymous VMs) while two vCPUs run: one guest
 *     spinning over freshly allocated RAM, one exiting to user space in
 *     a loop; vm-del at a different moment each round
 *  2. closing the vCPU fd, the VM fd and every mapping while RUN is in
 *     progress: the running vCPU keeps its file, its id and its VM
 *     alive until RUN returns; OPEN_VM against the last close
 *  3. munmap, mremap and madvise of the guest RAM mapping while the
 *     guest writes and checks that RAM: it belongs to the VM, not to the
 *     mapping, so the guest never notices and the host sees it again
 *  4. fork() with a VM, and while a vCPU runs: the child shares the
 *     VM's RAM and fds, its ioctls wait for the parent's RUN, and its
 *     exit (or death while waiting) leaves the parent's VM working
 *  5. threads racing for the last VM slots (max_vms), one name, and
 *     vCPU ids (max_vcpus), also against vm-del
 *  6. a leak check over many VM lifecycles (1000 on TCG): the memory
 *     cgroup's kernel memory, /proc/meminfo and the module's reference
 *     count come back, and ringvm unloads
 *
 * Every case is bounded: waits have deadlines, and the harness kills a
 * test that exceeds its timeout.  With one CPU the threads interleave
 * by preemption (the run loop leaves the guest on need_resched()), so
 * the cases hold there too, with fewer interleavings.  Under Bochs
 * (VMX and no hypervisor signature) the rounds are scaled down.
 *
 * Threads other than the test's own never ASSERT: they record what
 * they saw and the test checks it after pthread_join().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "guest.h"

#define PAGE		GUEST_PAGE_SIZE
#define SCRATCH		GUEST_SCRATCH_GPA
#define WAIT_MS		20000	/* deadline of every wait */

FIXTURE(race) {
	struct test_vm *vm;
	struct ringvm_nl *nl;
	int devfd;
	long refcnt;		/* the module's, at the start of the test */
	__u64 start_ms;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* /sys/module/ringvm/refcnt, or -errno. */
static long module_refcnt(void)
{
	char buf[32];
	long v = -ENOENT;
	FILE *f = fopen("/sys/module/" RINGVM_MODULE_NAME "/refcnt", "r");

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

FIXTURE_SETUP(race)
{
	int ret = ringvm_ensure_loaded();

	self->devfd = -1;
	self->start_ms = now_ms();
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret);
	self->devfd = __ringvm_open();
	ASSERT_LE(0, self->devfd);
	self->refcnt = module_refcnt();
	ASSERT_LE(0, self->refcnt);
}

FIXTURE_TEARDOWN(race)
{
	vm_destroy(self->vm);
	if (self->nl)
		ringvm_nl_close(self->nl);
	if (self->devfd >= 0)
		close(self->devfd);
	TH_LOG("%llu ms", (unsigned long long)(now_ms() - self->start_ms));
}

/*
 * Bochs runs VMX tens of times slower than TCG runs SVM: there (VMX,
 * and no hypervisor signature, which QEMU/KVM would show) do fewer
 * rounds.
 */
static bool slow_machine(void)
{
	__u32 r[4];

	if (host_is_tcg() || cpuinfo_arch() != RINGVM_ARCH_VMX)
		return false;
	cpuid(1, 0, r);
	return !(r[2] & (1U << 31));
}

static int rounds(int fast, int slow)
{
	return slow_machine() ? slow : fast;
}

/* Wait up to @ms for *@stage to reach @val. */
static bool wait_stage(volatile int *stage, int val, int ms)
{
	__u64 end = now_ms() + ms;

	while (*stage < val && now_ms() < end)
		usleep(1000);
	return *stage >= val;
}

/* Wait up to @ms for the guest's 64-bit counter at @p to pass @old. */
static bool wait_count(volatile __u64 *p, __u64 old, int ms)
{
	__u64 end = now_ms() + ms;

	while (*p <= old && now_ms() < end)
		usleep(1000);
	return *p > old;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* No SA_RESTART: the handler runs and RUN returns with an INTR exit. */
static int install_sigusr1(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	return sigaction(SIGUSR1, &sa, NULL);
}

/* A VM by id through netlink: 0 (and *nv), -ENOENT once it is gone. */
static int nl_vm_get(struct ringvm_nl *nl, __u32 id, struct ringvm_nl_vm *nv)
{
	struct ringvm_nl_vm tmp;

	return __ringvm_nl_vm_get(nl, id, NULL, nv ? nv : &tmp);
}

/* What a worker thread saw: an empty @err means all went well. */
struct worker {
	pthread_t thread;
	struct test_vcpu *vcpu;
	int fd;				/* the vCPU fd, kept by the thread */
	struct ringvm_run *run;		/* NULL: never read the run page */
	volatile int stage;
	volatile int stop;
	int ret;
	__u32 exits[3];
	volatile __u64 syncs;
	char err[512];
};

#define WORKER_FAIL(w, ...)						\
	do {								\
		snprintf((w)->err, sizeof((w)->err), __VA_ARGS__);	\
		(w)->stage = 99;					\
		return NULL;						\
	} while (0)

/* 1. vm-del against RUN */

static volatile __u64 spin_count;

/*
 * Guest: write every 8th page of the scratch area (the first pass
 * allocates them through nested page faults), counting, forever.
 */
static void guest_touch_and_spin(void)
{
	volatile __u64 *p = (volatile __u64 *)SCRATCH;
	__u64 i;

	for (;;)
		for (i = 0; i < GUEST_SCRATCH_SIZE / 8; i += 8 * PAGE / 8)
			p[i] = ++spin_count;
}

/* Guest: exit to user space forever. */
static void guest_sync_forever(void)
{
	__u64 i;

	for (i = 1;; i++)
		GUEST_SYNC(i);
}

/*
 * Run until RUN reports DESTROYED; SYNC ucalls are fine before that.
 * Then two more RUNs must say DESTROYED too.
 */
static void *run_until_destroyed(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;
	char b[384];
	int i, ret;

	w->stage = 1;
	for (;;) {
		ret = __vcpu_run(w->vcpu);
		if (ret)
			WORKER_FAIL(w, "RUN: %s", strerror(-ret));
		if (w->vcpu->run->exit_reason == RINGVM_EXIT_DESTROYED)
			break;
		if (get_ucall(w->vcpu, &uc) != UCALL_SYNC) {
			struct ringvm_sregs sr = { 0 };
			struct ringvm_regs r = { 0 };

			__ringvm_get_regs(w->vcpu->fd, &r);
			__ringvm_get_sregs(w->vcpu->fd, &sr);
			WORKER_FAIL(w, "before DESTROYED: %s; rsp %#llx cr2 %#llx cr3 %#llx",
				    vcpu_exit_str(w->vcpu, b, sizeof(b)),
				    (unsigned long long)r.rsp,
				    (unsigned long long)sr.cr2,
				    (unsigned long long)sr.cr3);
		}
		w->syncs++;
	}
	for (i = 0; i < 2; i++) {
		ret = __vcpu_run(w->vcpu);
		if (ret)
			WORKER_FAIL(w, "RUN after: %s", strerror(-ret));
		w->exits[i] = w->vcpu->run->exit_reason;
	}
	w->stage = 2;
	return NULL;
}

/*
 * Round @round of vm_del_while_running: a named VM (even rounds) or an
 * anonymous one (odd rounds, deleted by id), two vCPU threads, vm-del
 * after a delay that changes from round to round (at once, before the
 * guests did anything, on every fourth round).
 */
static void vm_del_round(struct __test_metadata *_metadata,
			 FIXTURE_DATA(race) *self, int round)
{
	const char *name = GUEST_TEST_VM_PREFIX "race-del";
	struct vm_opts opts = { .max_vcpus = 2 };
	volatile __u64 *count;
	struct ringvm_vm_info info;
	struct worker w[2];
	__u32 id;
	int i;

	memset(w, 0, sizeof(w));
	if (round % 2)
		self->vm = vm_create(&opts);
	else
		ASSERT_EQ(0, named_guest_vm(self->nl, name, 2, &self->vm));
	id = self->vm->id;
	w[0].vcpu = vm_vcpu_add(self->vm, 0, guest_touch_and_spin);
	w[1].vcpu = vm_vcpu_add(self->vm, 1, guest_sync_forever);
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL,
					    run_until_destroyed, &w[i]));
	}
	if (round % 4) {
		ASSERT_TRUE(wait_count(count, 0, WAIT_MS));
		ASSERT_TRUE(wait_count(&w[1].syncs, 0, WAIT_MS))
			TH_LOG("%s", w[1].err);
		usleep((round * 7919 % 20) * 1000);
	}
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, round % 2 ? id : 0,
					round % 2 ? NULL : name));

	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(wait_stage(&w[i].stage, 2, WAIT_MS))
			TH_LOG("round %d: vCPU %d still in RUN after vm-del",
			       round, i);
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
		ASSERT_STREQ("", w[i].err) TH_LOG("round %d vCPU %d", round, i);
		EXPECT_EQ(RINGVM_EXIT_DESTROYED, w[i].exits[0]);
		EXPECT_EQ(RINGVM_EXIT_DESTROYED, w[i].exits[1]);
	}
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	EXPECT_TRUE(info.flags & RINGVM_VM_INFO_DESTROYED);
	EXPECT_EQ(2, info.nr_vcpus);
	EXPECT_EQ(-ENOENT, nl_vm_get(self->nl, id, NULL));
	EXPECT_EQ(-ENODEV, __ringvm_create_vcpu(self->vm->fd, 0));
	/* the guest is stopped for good; its RAM stays mapped */
	{
		__u64 c = *count;

		usleep(10000);
		EXPECT_EQ(c, *count);
	}
	vm_destroy(self->vm);
	self->vm = NULL;
	/* the last file is gone: so are the VM and what it held */
	EXPECT_EQ(self->refcnt, module_refcnt()) TH_LOG("round %d", round);
}

TEST_F_TIMEOUT(race, vm_del_while_running, 240)
{
	int i, n = rounds(16, 3);

	for (i = 0; i < n; i++) {
		vm_del_round(_metadata, self, i);
		if (_metadata->passed == 0)	/* an EXPECT failed */
			return;
	}
}

/* 2. Closing the fds while RUN is in progress */

/* Guest: report once, then spin forever. */
static void guest_spin(void)
{
	GUEST_SYNC(1);
	for (;;)
		spin_count++;
}

/* One RUN on w->fd (after a first SYNC); stop when it returns. */
static void *run_once(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;

	w->ret = __vcpu_run(w->vcpu);
	if (w->ret || get_ucall(w->vcpu, &uc) != UCALL_SYNC)
		WORKER_FAIL(w, "no first SYNC");
	w->stage = 1;
	w->ret = __ringvm_run(w->fd);
	if (w->run)
		w->exits[0] = w->run->exit_reason;
	w->stage = 2;
	return NULL;
}

/* Kick @w out of RUN with SIGUSR1 until it is back (or @ms passed). */
static bool kick_until_back(struct worker *w, int ms)
{
	__u64 end = now_ms() + ms;

	while (w->stage < 2 && now_ms() < end) {
		pthread_kill(w->thread, SIGUSR1);
		usleep(5000);
	}
	return w->stage >= 2;
}

/*
 * The vCPU and VM fds are closed while RUN is in progress; the run page
 * and the RAM mapping stay.  The guest runs on, the vCPU keeps its id,
 * and after a signal ends RUN, the vCPU goes with the run page's
 * munmap and the anonymous VM with the RAM mapping's.
 */
TEST_F_TIMEOUT(race, close_fds_while_running, 60)
{
	volatile __u64 *count;
	struct ringvm_nl_vm nv;
	struct test_vcpu *vcpu;
	struct worker w;
	__u32 id;
	int fd;
	__u64 c;

	memset(&w, 0, sizeof(w));
	ASSERT_EQ(0, install_sigusr1());
	self->vm = vm_create_guest(&vcpu, guest_spin);
	id = self->vm->id;
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	w.vcpu = vcpu;
	w.fd = vcpu->fd;
	w.run = vcpu->run;
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, run_once, &w));
	ASSERT_TRUE(wait_stage(&w.stage, 1, WAIT_MS)) TH_LOG("%s", w.err);
	ASSERT_TRUE(wait_count(count, 0, WAIT_MS));

	/* close both fds: RUN goes on, the guest keeps counting */
	ASSERT_EQ(0, close(vcpu->fd));
	ASSERT_EQ(0, close(self->vm->fd));
	vcpu->fd = self->vm->fd = -1;
	c = *count;
	ASSERT_TRUE(wait_count(count, c, WAIT_MS));
	EXPECT_EQ(1, w.stage) TH_LOG("RUN returned after close()");
	ASSERT_EQ(0, nl_vm_get(self->nl, id, &nv));
	EXPECT_EQ(1, nv.nr_vcpus);
	EXPECT_FALSE(nv.flags & RINGVM_VM_FLAGS_DESTROYED);
	/* the running vCPU still holds its id */
	fd = __ringvm_open_vm(self->devfd, id, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EEXIST, __ringvm_create_vcpu(fd, 0));
	close(fd);

	/* a signal still ends RUN, with INTR in the (still mapped) page */
	ASSERT_TRUE(kick_until_back(&w, WAIT_MS));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(RINGVM_EXIT_INTR, w.exits[0]);

	/* the run page was the vCPU's last reference */
	munmap(vcpu->run, PAGE);
	self->vm->vcpus[0] = NULL;
	free(vcpu);
	ASSERT_EQ(0, nl_vm_get(self->nl, id, &nv));
	EXPECT_EQ(0, nv.nr_vcpus);
	/* and the RAM mapping the VM's */
	munmap(self->vm->mem, self->vm->ram_size);
	self->vm->mem = NULL;
	EXPECT_EQ(-ENOENT, nl_vm_get(self->nl, id, NULL));
	vm_destroy(self->vm);
	self->vm = NULL;
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/*
 * Every fd and mapping goes while RUN is in progress, so RUN's own
 * reference on the vCPU file is the last one: the VM lives (and the
 * guest runs) until RUN returns, and is gone when it has.
 */
TEST_F_TIMEOUT(race, close_everything_while_running, 60)
{
	struct ringvm_nl_vm nv;
	struct test_vcpu *vcpu;
	struct worker w;
	__u64 before;
	__u32 id;

	memset(&w, 0, sizeof(w));
	ASSERT_EQ(0, install_sigusr1());
	self->vm = vm_create_guest(&vcpu, guest_spin);
	id = self->vm->id;
	w.vcpu = vcpu;
	w.fd = vcpu->fd;
	w.run = NULL;		/* about to be unmapped */
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, run_once, &w));
	ASSERT_TRUE(wait_stage(&w.stage, 1, WAIT_MS)) TH_LOG("%s", w.err);
	ASSERT_TRUE(wait_count(addr_gva2hva(self->vm,
					    (uintptr_t)&spin_count),
			       0, WAIT_MS));

	vm_destroy(self->vm);	/* closes and unmaps everything */
	self->vm = NULL;
	ASSERT_EQ(0, nl_vm_get(self->nl, id, &nv));
	EXPECT_EQ(1, nv.nr_vcpus);
	EXPECT_FALSE(nv.flags & RINGVM_VM_FLAGS_DESTROYED);
	before = nv.mem_allocated;
	usleep(50000);
	EXPECT_EQ(1, w.stage) TH_LOG("RUN returned after the last close");
	ASSERT_EQ(0, nl_vm_get(self->nl, id, &nv));
	EXPECT_EQ(before, nv.mem_allocated);

	ASSERT_TRUE(kick_until_back(&w, WAIT_MS));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	EXPECT_EQ(0, w.ret);
	/* RUN's return dropped the last reference: the VM is gone */
	EXPECT_EQ(-ENOENT, nl_vm_get(self->nl, id, NULL));
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/*
 * OPEN_VM by id against the last close of an anonymous VM: each open
 * either fails with ENOENT or gives an fd to that VM (live, or
 * destroyed if it lost the race); nothing is left afterwards.
 */
struct opener {
	pthread_t thread;
	__u32 id;
	volatile int go;
	int ret;		/* the open that ended the loop */
	int opened;		/* fds to the VM */
	int dead;		/* of them, to a VM destroyed already */
	int wrong;		/* of them, to another VM (must stay 0) */
};

/*
 * Open the VM and close the fd again, until an open fails: the VM left
 * the table.  The opener's close may be the last one, or main's.
 */
static void *open_vm_loop(void *arg)
{
	struct opener *o = arg;
	int devfd = __ringvm_open();

	o->ret = devfd;
	if (devfd < 0)
		return NULL;
	while (!o->go)
		usleep(10);
	for (;;) {
		struct ringvm_vm_info info;
		int fd = __ringvm_open_vm(devfd, o->id, NULL);

		if (fd < 0) {
			o->ret = fd;
			break;
		}
		o->opened++;
		if (__ringvm_get_vm_info(fd, &info) || info.id != o->id)
			o->wrong++;
		else if (info.flags & RINGVM_VM_INFO_DESTROYED)
			o->dead++;
		close(fd);
	}
	close(devfd);
	return NULL;
}

TEST_F_TIMEOUT(race, open_vm_against_last_close, 60)
{
	struct ringvm_create_vm req;
	int i, n = rounds(200, 20), dead = 0, opened = 0;

	memset(&req, 0, sizeof(req));
	req.nr_regions = 1;
	req.regions[0].size = PAGE;
	for (i = 0; i < n; i++) {
		struct ringvm_vm_info info;
		struct opener o = { 0 };
		int vmfd = __ringvm_create_vm(self->devfd, &req);

		ASSERT_LE(0, vmfd);
		ASSERT_EQ(0, __ringvm_get_vm_info(vmfd, &info));
		o.id = info.id;
		ASSERT_EQ(0, pthread_create(&o.thread, NULL, open_vm_loop, &o));
		o.go = 1;
		usleep(i % 5 * 100);
		close(vmfd);
		ASSERT_EQ(0, pthread_join(o.thread, NULL));
		EXPECT_EQ(-ENOENT, o.ret);
		EXPECT_EQ(0, o.wrong);
		EXPECT_EQ(-ENOENT, nl_vm_get(self->nl, o.id, NULL));
		opened += o.opened;
		dead += o.dead;
	}
	TH_LOG("%d rounds: %d opens, %d of them to a VM being destroyed",
	       n, opened, dead);
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* 3. The RAM mapping changes while the guest writes */

#define WR_PAGES	64
#define WR_WORDS	8	/* words per page the guest writes */
#define WR_STRIDE	(PAGE / 8 / WR_WORDS)

static volatile __u64 host_marker;

static __u64 wr_value(__u64 gen, __u64 page, __u64 word)
{
	return gen << 32 | page << 8 | word;
}

/*
 * Guest: pass after pass, write a pattern over WR_PAGES pages of the
 * scratch area, read it back, and report the pass with the word the
 * host leaves in host_marker.
 */
static void guest_writer(void)
{
	volatile __u64 *p = (volatile __u64 *)SCRATCH;
	__u64 gen, i, j;

	for (gen = 1;; gen++) {
		for (i = 0; i < WR_PAGES; i++)
			for (j = 0; j < WR_WORDS; j++)
				p[i * PAGE / 8 + j * WR_STRIDE] =
					wr_value(gen, i, j);
		for (i = 0; i < WR_PAGES; i++)
			for (j = 0; j < WR_WORDS; j++)
				GUEST_ASSERT_EQ(p[i * PAGE / 8 + j * WR_STRIDE],
						wr_value(gen, i, j));
		GUEST_SYNC_ARGS(gen, host_marker);
	}
}

/* Run the writer until told to stop; record the last pass and marker. */
static void *writer_worker(void *arg)
{
	struct worker *w = arg;
	struct ucall uc;
	char b[384];

	while (!w->stop) {
		int ret = __vcpu_run(w->vcpu);

		if (ret)
			WORKER_FAIL(w, "RUN: %s", strerror(-ret));
		if (get_ucall(w->vcpu, &uc) != UCALL_SYNC)
			WORKER_FAIL(w, "%s", vcpu_exit_str(w->vcpu, b,
							     sizeof(b)));
		w->syncs = uc.args[0];
		w->exits[0] = uc.args[1];
		w->stage = 1;
	}
	w->stage = 2;
	return NULL;
}

/*
 * What the host sees at @m (the writer's pages): each word a pass of
 * the guest wrote, for that page and word.  Returns the lowest pass
 * seen, 0 if a word was not the guest's.
 */
static __u64 check_pattern(const volatile __u64 *m, char *why, size_t len)
{
	__u64 i, j, low = ~0ULL;

	for (i = 0; i < WR_PAGES; i++) {
		for (j = 0; j < WR_WORDS; j++) {
			__u64 v = m[i * PAGE / 8 + j * WR_STRIDE];

			if (!(v >> 32) || (v & 0xffffffff) !=
			    (wr_value(0, i, j) & 0xffffffff)) {
				snprintf(why, len,
					 "page %llu word %llu: %#llx",
					 (unsigned long long)i,
					 (unsigned long long)j,
					 (unsigned long long)v);
				return 0;
			}
			if ((v >> 32) < low)
				low = v >> 32;
		}
	}
	return low;
}

#define ASSERT_PATTERN(m)						\
	do {								\
		char __why[96] = "";					\
		ASSERT_NE(0, check_pattern(m, __why, sizeof(__why)))	\
			TH_LOG("round %d: %s", i, __why);		\
	} while (0)

TEST_F_TIMEOUT(race, ram_mapping_changes_while_guest_writes, 120)
{
	const size_t len = (WR_PAGES + 1) * PAGE;
	__u64 *marker, mem_before, pass_before;
	struct ringvm_vm_info info;
	int i, n = rounds(40, 6);
	struct worker w;
	__u64 *m, *moved;
	void *hole;

	memset(&w, 0, sizeof(w));
	self->vm = vm_create_guest(&w.vcpu, guest_writer);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, writer_worker, &w));
	ASSERT_TRUE(wait_stage(&w.stage, 1, WAIT_MS)) TH_LOG("%s", w.err);
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	mem_before = info.mem_allocated;
	pass_before = w.syncs;

	for (i = 0; i < n && !w.err[0]; i++) {
		m = ringvm_map_guest(self->vm->fd, SCRATCH, len);
		ASSERT_NE(NULL, m);
		ASSERT_PATTERN(m);

		/* MADV_DONTNEED drops the user mapping only, not the RAM */
		ASSERT_EQ(0, madvise(m, len, MADV_DONTNEED));
		ASSERT_PATTERN(m);
		/* also of the library's mapping, through which ucalls and the
		 * guest's code are read: the guest runs on regardless
		 */
		ASSERT_EQ(0, madvise(self->vm->mem, self->vm->ram_size,
				     MADV_DONTNEED));
		/* MADV_REMOVE cannot punch a hole in guest RAM */
		EXPECT_NE(0, madvise(m, PAGE, MADV_REMOVE));
		ASSERT_PATTERN(m);

		/* move it: the same RAM at the new address */
		hole = mmap(NULL, len, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, hole);
		moved = mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			       hole);
		ASSERT_EQ(hole, moved) TH_LOG("mremap: %s", strerror(errno));
		ASSERT_PATTERN(moved);
		/* it cannot grow (VM_DONTEXPAND), but it can shrink */
		EXPECT_EQ(MAP_FAILED, mremap(moved, len, len + PAGE,
					     MREMAP_MAYMOVE));
		EXPECT_EQ(EFAULT, errno);
		ASSERT_EQ(moved, mremap(moved, len, len - PAGE, 0));
		ASSERT_PATTERN(moved);
		/* a hole in the middle, then the rest */
		ASSERT_EQ(0, munmap((char *)moved + PAGE, PAGE));
		ASSERT_EQ(0, munmap(moved, len - PAGE));
	}
	ASSERT_STREQ("", w.err);

	/* the last pages, through a fresh mapping: the host's word */
	m = ringvm_map_guest(self->vm->fd, SCRATCH, len);
	ASSERT_NE(NULL, m);
	marker = addr_gva2hva(self->vm, (uintptr_t)&host_marker);
	*marker = 0x600dcafe;
	w.stop = 1;
	ASSERT_TRUE(wait_stage(&w.stage, 2, WAIT_MS));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	/* one more pass sees it (the worker stopped after any pass) */
	{
		struct ucall uc;

		ASSERT_UCALL(w.vcpu, &uc, UCALL_SYNC);
		EXPECT_EQ(0x600dcafe, uc.args[1]);
		EXPECT_EQ(check_pattern(m, (char[96]){}, 96), uc.args[0]);
	}
	TH_LOG("%d rounds while the guest made %llu passes", n,
	       (unsigned long long)(w.syncs - pass_before));
	EXPECT_LT(pass_before, w.syncs);
	/* nothing the host did freed or added guest RAM */
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	EXPECT_EQ(mem_before, info.mem_allocated);
	munmap(m, len);
}

/* 4. fork() */

static volatile __u64 hold;

/* Guest: SYNC(i), then spin while the host holds it, forever. */
static void guest_sync_hold(void)
{
	__u64 i;

	for (i = 1;; i++) {
		GUEST_SYNC(i);
		while (hold)
			spin_count++;
	}
}

/* Child's verdicts, as exit codes. */
enum {
	CHILD_OK,
	CHILD_INFO,	/* GET_VM_INFO failed or named another VM */
	CHILD_RUN,	/* RUN did not give the next SYNC */
	CHILD_REGS,	/* GET_REGS failed */
	CHILD_WRITE,	/* could not report through the pipe */
};

/* The child's part of fork_with_vm: look, run the vCPU once, write RAM. */
static int fork_child(struct test_vm *vm, struct test_vcpu *vcpu,
		      __u64 expect_sync)
{
	struct ringvm_vm_info info;
	struct ucall uc;
	__u64 *scratch;

	if (__ringvm_get_vm_info(vm->fd, &info) || info.id != vm->id)
		return CHILD_INFO;
	if (__vcpu_run(vcpu) || get_ucall(vcpu, &uc) != UCALL_SYNC ||
	    uc.args[0] != expect_sync)
		return CHILD_RUN;
	scratch = addr_gva2hva(vm, SCRATCH);
	scratch[0] = 0xc41d;	/* shared RAM, not a copy */
	return CHILD_OK;
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       128 + WTERMSIG(status);
}

/*
 * The child inherits the VM fd, the vCPU fd and both mappings.  ringvm
 * does not tie a VM to the mm that made it (its RAM is the VM's own,
 * not user memory), so the child's ioctls work, RUN included: the
 * guest goes on where the parent left it.  The child's writes land in
 * the guest's RAM (the mapping is shared), and its exit, which closes
 * its copies of the fds, leaves the parent's anonymous VM alive.
 */
TEST_F_TIMEOUT(race, fork_with_vm, 60)
{
	struct ringvm_vm_info info;
	struct test_vcpu *vcpu;
	struct ucall uc;
	__u64 *scratch;
	pid_t pid;

	self->vm = vm_create_guest(&vcpu, guest_sync_hold);
	ASSERT_SYNC(vcpu, &uc, 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(fork_child(self->vm, vcpu, 2));
	EXPECT_EQ(CHILD_OK, wait_child(pid));
	scratch = addr_gva2hva(self->vm, SCRATCH);
	EXPECT_EQ(0xc41d, scratch[0]);
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	EXPECT_FALSE(info.flags & RINGVM_VM_INFO_DESTROYED);
	EXPECT_EQ(1, info.nr_vcpus);
	/* the parent runs on from the child's SYNC(2) */
	ASSERT_SYNC(vcpu, &uc, 3);
	vm_destroy(self->vm);
	self->vm = NULL;
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* A child that does a vCPU ioctl and reports through @pfd when done. */
static pid_t fork_ioctl_child(struct test_vcpu *vcpu, int pfd)
{
	pid_t pid = fork();

	if (!pid) {
		struct ringvm_regs regs;
		char c;

		c = __ringvm_get_regs(vcpu->fd, &regs) ? 'E' : 'R';
		_exit(write(pfd, &c, 1) == 1 ? CHILD_OK : CHILD_WRITE);
	}
	return pid;
}

/* Whether a byte arrives on @fd within @ms; it goes to *@c. */
static bool pipe_byte(int fd, int ms, char *c)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && read(fd, c, 1) == 1;
}

/*
 * fork() while another thread of the parent runs the vCPU.  A child's
 * vCPU ioctl waits on the vCPU's lock for the parent's RUN; a child
 * killed while waiting, and one that merely exits, leave the parent's
 * RUN and VM as they were.
 */
TEST_F_TIMEOUT(race, fork_while_running, 60)
{
	volatile __u64 *hold_p, *count;
	struct worker w;
	struct ucall uc;
	int pfd[2], i;
	pid_t pid, killed, quitter;
	char c;

	memset(&w, 0, sizeof(w));
	ASSERT_EQ(0, pipe(pfd));
	self->vm = vm_create_guest(&w.vcpu, guest_sync_hold);
	hold_p = addr_gva2hva(self->vm, (uintptr_t)&hold);
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	*hold_p = 1;
	w.fd = w.vcpu->fd;
	w.run = w.vcpu->run;
	/* run_once's first RUN reaches SYNC(1), its second spins */
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, run_once, &w));
	ASSERT_TRUE(wait_stage(&w.stage, 1, WAIT_MS)) TH_LOG("%s", w.err);
	ASSERT_TRUE(wait_count(count, 0, WAIT_MS));

	quitter = fork();
	ASSERT_LE(0, quitter);
	if (!quitter)
		_exit(CHILD_OK);
	killed = fork_ioctl_child(w.vcpu, pfd[1]);
	ASSERT_LE(0, killed);
	pid = fork_ioctl_child(w.vcpu, pfd[1]);
	ASSERT_LE(0, pid);

	/* both children wait for the lock RUN holds */
	EXPECT_FALSE(pipe_byte(pfd[0], 200, &c))
		TH_LOG("a child's GET_REGS did not wait for RUN");
	EXPECT_EQ(CHILD_OK, wait_child(quitter));
	ASSERT_EQ(0, kill(killed, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, wait_child(killed));
	EXPECT_EQ(1, w.stage) TH_LOG("RUN returned");
	ASSERT_TRUE(wait_count(count, *count, WAIT_MS));

	/* let the guest go: RUN returns, then the child's ioctl */
	*hold_p = 0;
	ASSERT_TRUE(wait_stage(&w.stage, 2, WAIT_MS));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_STREQ("", w.err);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(RINGVM_EXIT_IO, w.exits[0]);
	EXPECT_TRUE(pipe_byte(pfd[0], WAIT_MS, &c));
	EXPECT_EQ('R', c);
	EXPECT_EQ(CHILD_OK, wait_child(pid));

	/* the parent's VM keeps working: SYNC(2) was the exit, then 3.. */
	ASSERT_EQ(UCALL_SYNC, get_ucall(w.vcpu, &uc));
	EXPECT_EQ(2, uc.args[0]);
	for (i = 3; i < 6; i++) {
		ASSERT_SYNC(w.vcpu, &uc, i);
	}
	close(pfd[0]);
	close(pfd[1]);
	vm_destroy(self->vm);
	self->vm = NULL;
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* 5. The limits */

#define NR_RACERS	8

struct racer {
	pthread_t thread;
	pthread_barrier_t *barrier;
	int index;
	int op;			/* what to do, see race_op() */
	const char *name;	/* vm-new: the name to take */
	int vmfd;		/* CREATE_VCPU: on this VM */
	__u32 max_vcpus;
	int fds[16];		/* CREATE_VCPU: per id, fd or -errno */
	int ret;		/* fd (ioctl), 0 (vm-new) or -errno */
	__u32 id;		/* vm-new: the VM's id */
	char err[128];
};

enum { OP_CREATE_VM, OP_VM_NEW, OP_CREATE_VCPUS };

static void *race_op(void *arg)
{
	struct racer *r = arg;
	struct ringvm_create_vm req;
	struct ringvm_mem_region reg = { 0, PAGE };
	struct ringvm_nl_vm nv;
	struct ringvm_nl *nl = NULL;
	int devfd = -1;
	__u32 k;

	memset(&req, 0, sizeof(req));
	req.nr_regions = 1;
	req.regions[0].size = PAGE;
	if (r->op == OP_CREATE_VM)
		devfd = __ringvm_open();
	if (r->op == OP_VM_NEW && __ringvm_nl_open(&nl))
		snprintf(r->err, sizeof(r->err), "netlink");
	pthread_barrier_wait(r->barrier);

	switch (r->op) {
	case OP_CREATE_VM:
		r->ret = __ringvm_create_vm(devfd, &req);
		break;
	case OP_VM_NEW:
		if (!nl)
			break;
		r->ret = __ringvm_nl_vm_new(nl, r->name, &reg, 1, 0, &nv);
		r->id = r->ret ? 0 : nv.id;
		break;
	case OP_CREATE_VCPUS:
		/* every id and one past the last, from a different start */
		for (k = 0; k <= r->max_vcpus; k++) {
			__u32 id = (r->index + k) % (r->max_vcpus + 1);

			r->fds[id] = __ringvm_create_vcpu(r->vmfd, id);
		}
		break;
	}
	if (devfd >= 0)
		close(devfd);
	if (nl)
		ringvm_nl_close(nl);
	return NULL;
}

static int count_vm(const struct ringvm_nl_vm *vm, void *arg)
{
	(void)vm;
	++*(int *)arg;
	return 0;
}

static int nr_vms(struct ringvm_nl *nl)
{
	int n = 0, ret = __ringvm_nl_vm_dump(nl, count_vm, &n);

	return ret ? ret : n;
}

/* Start NR_RACERS racers on @r (op etc. filled in), wait for them. */
static void race_all(struct __test_metadata *_metadata, struct racer *r)
{
	pthread_barrier_t barrier;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, NR_RACERS));
	for (i = 0; i < NR_RACERS; i++) {
		r[i].barrier = &barrier;
		r[i].index = i;
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, race_op,
					    &r[i]));
	}
	for (i = 0; i < NR_RACERS; i++) {
		ASSERT_EQ(0, pthread_join(r[i].thread, NULL));
	}
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < NR_RACERS; i++) {
		ASSERT_STREQ("", r[i].err);
	}
}

/* Undo what a racer made: close its fd or vm-del its VM. */
static void race_undo(struct ringvm_nl *nl, struct racer *r)
{
	if (r->op == OP_CREATE_VM && r->ret >= 0)
		close(r->ret);
	if (r->op == OP_VM_NEW && !r->ret)
		__ringvm_nl_vm_del(nl, r->id, NULL);
}

/*
 * max_vms - SLOTS VMs exist; NR_RACERS threads, half by ioctl and half
 * by netlink, each make one at the same moment: exactly SLOTS win, the
 * others get ENOSPC, and the table never holds more than max_vms.
 */
#define SLOTS	3
TEST_F_TIMEOUT(race, last_vm_slots, 120)
{
	long max = ringvm_module_param("max_vms", 64);
	int start = nr_vms(self->nl), nfill, i, round;
	int n = rounds(10, 3);
	struct ringvm_create_vm req;
	char names[NR_RACERS][RINGVM_NAME_MAX];
	int *fill;

	ASSERT_LE(0, start);
	nfill = max - start - SLOTS;
	ASSERT_LE(0, nfill) TH_LOG("max_vms %ld, %d VMs exist", max, start);
	fill = calloc(nfill + 1, sizeof(*fill));
	ASSERT_NE(NULL, fill);
	memset(&req, 0, sizeof(req));
	req.nr_regions = 1;
	req.regions[0].size = PAGE;
	for (i = 0; i < nfill; i++) {
		fill[i] = __ringvm_create_vm(self->devfd, &req);
		ASSERT_LE(0, fill[i]) TH_LOG("VM %d: %s", i,
					     strerror(-fill[i]));
	}

	for (round = 0; round < n; round++) {
		struct racer r[NR_RACERS];
		int won = 0, full = 0;

		memset(r, 0, sizeof(r));
		for (i = 0; i < NR_RACERS; i++) {
			snprintf(names[i], sizeof(names[i]),
				 GUEST_TEST_VM_PREFIX "slot-%d", i);
			r[i].op = i % 2 ? OP_VM_NEW : OP_CREATE_VM;
			r[i].name = names[i];
		}
		race_all(_metadata, r);
		for (i = 0; i < NR_RACERS; i++) {
			bool ok = r[i].op == OP_VM_NEW ? !r[i].ret :
				  r[i].ret >= 0;

			won += ok;
			if (!ok) {
				EXPECT_EQ(-ENOSPC, r[i].ret)
					TH_LOG("racer %d: %s", i,
					       strerror(-r[i].ret));
				full++;
			}
		}
		EXPECT_EQ(SLOTS, won) TH_LOG("round %d", round);
		EXPECT_EQ(NR_RACERS - SLOTS, full);
		EXPECT_EQ(max, nr_vms(self->nl));
		for (i = 0; i < NR_RACERS; i++)
			race_undo(self->nl, &r[i]);
		EXPECT_EQ(max - SLOTS, nr_vms(self->nl));
	}
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	free(fill);
	EXPECT_EQ(start, nr_vms(self->nl));
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* NR_RACERS threads vm-new the same name at once: one wins. */
TEST_F_TIMEOUT(race, same_name, 60)
{
	int i, round, n = rounds(10, 3);

	for (round = 0; round < n; round++) {
		struct racer r[NR_RACERS];
		int won = -1;

		memset(r, 0, sizeof(r));
		for (i = 0; i < NR_RACERS; i++) {
			r[i].op = OP_VM_NEW;
			r[i].name = GUEST_TEST_VM_PREFIX "same";
		}
		race_all(_metadata, r);
		for (i = 0; i < NR_RACERS; i++) {
			if (!r[i].ret) {
				EXPECT_EQ(-1, won) TH_LOG("racers %d and %d",
							  won, i);
				won = i;
			} else {
				EXPECT_EQ(-EEXIST, r[i].ret);
			}
		}
		ASSERT_LE(0, won);
		EXPECT_EQ(0, __ringvm_nl_vm_del(self->nl, r[won].id, NULL));
	}
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/*
 * NR_RACERS threads create every vCPU id of one VM, and one past the
 * last, each from a different start: each id is made exactly once
 * (EEXIST for the others), the one past the end is EINVAL for all.
 * With @del, the VM is deleted meanwhile: then ENODEV is also allowed,
 * and every creation after vm-del returned is ENODEV.
 */
static void vcpu_ids_race(struct __test_metadata *_metadata,
			  FIXTURE_DATA(race) *self, bool del, int round)
{
	long max = ringvm_module_param("max_vcpus", 8);
	const char *name = GUEST_TEST_VM_PREFIX "vcpus";
	struct ringvm_mem_region reg = { 0, PAGE };
	struct racer r[NR_RACERS];
	struct ringvm_vm_info info;
	struct ringvm_nl_vm nv;
	pthread_barrier_t barrier;
	int made = 0, vmfd, i;
	__u32 id;

	ASSERT_GE(15, max) TH_LOG("max_vcpus %ld: too many for this test",
				  max);
	ASSERT_EQ(0, __ringvm_nl_vm_new(self->nl, name, &reg, 1, max, &nv));
	vmfd = __ringvm_open_vm(self->devfd, 0, name);
	ASSERT_LE(0, vmfd);

	memset(r, 0, sizeof(r));
	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, NR_RACERS + 1));
	for (i = 0; i < NR_RACERS; i++) {
		r[i].barrier = &barrier;
		r[i].index = i;
		r[i].op = OP_CREATE_VCPUS;
		r[i].vmfd = vmfd;
		r[i].max_vcpus = max;
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, race_op,
					    &r[i]));
	}
	pthread_barrier_wait(&barrier);
	if (del) {
		usleep(round % 4 * 200);
		ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, nv.id, NULL));
		EXPECT_EQ(-ENODEV, __ringvm_create_vcpu(vmfd, 0));
	}
	for (i = 0; i < NR_RACERS; i++) {
		ASSERT_EQ(0, pthread_join(r[i].thread, NULL));
	}
	pthread_barrier_destroy(&barrier);

	for (id = 0; id < max; id++) {
		int won = 0;

		for (i = 0; i < NR_RACERS; i++) {
			int fd = r[i].fds[id];

			won += fd >= 0;
			if (fd >= 0 || fd == -EEXIST || (del && fd == -ENODEV))
				continue;
			EXPECT_EQ(-EEXIST, fd) TH_LOG("id %u racer %d", id, i);
		}
		if (del) {
			EXPECT_GE(1, won) TH_LOG("id %u", id);
		} else {
			EXPECT_EQ(1, won) TH_LOG("id %u", id);
		}
		made += won;
	}
	for (i = 0; i < NR_RACERS; i++) {
		EXPECT_EQ(-EINVAL, r[i].fds[max]);
	}
	ASSERT_EQ(0, __ringvm_get_vm_info(vmfd, &info));
	EXPECT_EQ(made, info.nr_vcpus);
	for (i = 0; i < NR_RACERS; i++)
		for (id = 0; id < max; id++)
			if (r[i].fds[id] >= 0)
				close(r[i].fds[id]);
	ASSERT_EQ(0, __ringvm_get_vm_info(vmfd, &info));
	EXPECT_EQ(0, info.nr_vcpus);
	if (!del) {
		EXPECT_EQ(0, __ringvm_nl_vm_del(self->nl, nv.id, NULL));
	}
	close(vmfd);
	EXPECT_EQ(-ENOENT, nl_vm_get(self->nl, nv.id, NULL));
}

TEST_F_TIMEOUT(race, vcpu_ids, 60)
{
	int round, n = rounds(10, 3);

	for (round = 0; round < n; round++)
		vcpu_ids_race(_metadata, self, false, round);
	EXPECT_EQ(self->refcnt, module_refcnt());
}

TEST_F_TIMEOUT(race, vcpu_ids_against_vm_del, 60)
{
	int round, n = rounds(10, 3);

	for (round = 0; round < n; round++)
		vcpu_ids_race(_metadata, self, true, round);
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* 6. Leak check */

/* Real mode at 0x1000: two stores to other pages, OUT, HLT. */
static const __u8 lc_code[] = {
	0xb8, 0x34, 0x12,	/* mov $0x1234, %ax */
	0xa3, 0x00, 0x20,	/* mov %ax, 0x2000 */
	0xa3, 0x00, 0x80,	/* mov %ax, 0x8000 */
	0xe6, 0x80,		/* out %al, $0x80 */
	0xf4,			/* hlt */
};
#define LC_RAM		0x10000

/*
 * One lifecycle: a VM (named by netlink every 8th time, else anonymous),
 * its RAM mapped and loaded, a vCPU with state set, RUN to the first
 * exit, and everything destroyed, in an order that changes.  0 or a
 * static string saying what failed.
 */
static const char *lifecycle(int devfd, struct ringvm_nl *nl, int i)
{
	struct ringvm_mem_region reg = { 0, LC_RAM };
	const char *name = GUEST_TEST_VM_PREFIX "leak";
	const char *why = NULL;
	struct ringvm_create_vm req;
	struct ringvm_sregs sregs;
	struct ringvm_regs regs;
	struct ringvm_run *run = NULL;
	bool named = i % 8 == 7;
	int vmfd, vcpufd = -1;
	__u8 *mem;

	if (named) {
		if (__ringvm_nl_vm_new(nl, name, &reg, 1, 1, NULL))
			return "vm-new";
		vmfd = __ringvm_open_vm(devfd, 0, name);
	} else {
		memset(&req, 0, sizeof(req));
		req.nr_regions = 1;
		req.regions[0] = reg;
		vmfd = __ringvm_create_vm(devfd, &req);
	}
	if (vmfd < 0) {
		why = "create/open VM";
		goto out_del;
	}
	mem = ringvm_map_guest(vmfd, 0, LC_RAM);
	if (!mem) {
		why = "mmap RAM";
		goto out_close_vm;
	}
	memcpy(mem + 0x1000, lc_code, sizeof(lc_code));
	vcpufd = __ringvm_create_vcpu(vmfd, 0);
	run = vcpufd < 0 ? NULL : ringvm_map_run(vcpufd);
	if (!run) {
		why = "create vCPU / map run page";
		goto out_unmap;
	}
	if (__ringvm_get_sregs(vcpufd, &sregs)) {
		why = "GET_SREGS";
		goto out_unmap;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (__ringvm_set_sregs(vcpufd, &sregs) ||
	    __ringvm_get_regs(vcpufd, &regs)) {
		why = "SET_SREGS / GET_REGS";
		goto out_unmap;
	}
	regs.rip = 0x1000;
	if (__ringvm_set_regs(vcpufd, &regs) || __ringvm_run(vcpufd)) {
		why = "SET_REGS / RUN";
		goto out_unmap;
	}
	if (run->exit_reason != RINGVM_EXIT_IO || run->io.port != 0x80 ||
	    *(__u8 *)ringvm_run_io_data(run) != 0x34 ||
	    mem[0x2000] != 0x34 || mem[0x8001] != 0x12)
		why = "first exit: not OUT 0x34 to port 0x80 after the stores";

out_unmap:
	/* odd rounds: the VM fd goes before the vCPU */
	if (i % 2) {
		close(vmfd);
		vmfd = -1;
	}
	if (run)
		munmap(run, RINGVM_RUN_PAGE_SIZE);
	if (vcpufd >= 0)
		close(vcpufd);
	munmap(mem, LC_RAM);
out_close_vm:
	if (vmfd >= 0)
		close(vmfd);
out_del:
	if (named && __ringvm_nl_vm_del(nl, 0, name) && !why)
		why = "vm-del";
	return why;
}

/* The memory counters the leak check compares, in KiB. */
struct mem_sample {
	long cg_kernel;		/* memory.stat "kernel" of our cgroup, or -1 */
	long cg_current;	/* memory.current, or -1 */
	long mem_free;		/* /proc/meminfo MemFree */
	long sunreclaim;	/* SUnreclaim */
	long refcnt;		/* /sys/module/ringvm/refcnt */
};

static long meminfo_kb(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/* A number from a cgroup file: the one after @key, or the first. */
static long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], line[256];
	size_t len = key ? strlen(key) : 0;
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtol(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, len) && line[len] == ' ') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v < 0 ? v : v / 1024;
}

#define LEAK_CG_ROOT	"/tmp/race-cgroup"
#define LEAK_CG		LEAK_CG_ROOT "/race-leak"

/*
 * Move this process into a memory cgroup of its own, so that what
 * ringvm charges (everything it allocates for a VM is __GFP_ACCOUNT)
 * can be told apart from the rest of the machine.  false if cgroup v2
 * or its memory controller is not there.
 */
static bool leak_cgroup_enter(void)
{
	char pid[32];

	mkdir(LEAK_CG_ROOT, 0755);
	if (mount("none", LEAK_CG_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		return false;
	if (sysfs_write(LEAK_CG_ROOT "/cgroup.subtree_control", "+memory"))
		return false;
	if (mkdir(LEAK_CG, 0755) && errno != EEXIST)
		return false;
	snprintf(pid, sizeof(pid), "%d", getpid());
	return !sysfs_write(LEAK_CG "/cgroup.procs", pid);
}

static void leak_cgroup_leave(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	sysfs_write(LEAK_CG_ROOT "/cgroup.procs", pid);
	rmdir(LEAK_CG);
	umount(LEAK_CG_ROOT);
	rmdir(LEAK_CG_ROOT);
}

static void mem_sample(struct mem_sample *s, bool cg)
{
	/* memcg statistics are flushed every 2 s at the latest */
	sleep(cg ? 3 : 1);
	s->cg_kernel = cg ? cg_read(LEAK_CG, "memory.stat", "kernel") : -1;
	s->cg_current = cg ? cg_read(LEAK_CG, "memory.current", NULL) : -1;
	s->mem_free = meminfo_kb("MemFree");
	s->sunreclaim = meminfo_kb("SUnreclaim");
	s->refcnt = module_refcnt();
}

/*
 * The counters must see what ringvm allocates, or the leak check
 * proves nothing: a VM with PROBE_MB of RAM touched must charge at
 * least three quarters of it to our cgroup.  Returns whether MemFree
 * moved as much too: it need not (pages freed to the per-CPU lists do
 * not count as free, and the next allocations come from there).
 */
#define PROBE_MB	4
static bool leak_probe(struct __test_metadata *_metadata, int devfd,
		       const struct mem_sample *a, bool cg)
{
	const long want = PROBE_MB * 1024 * 3 / 4;
	struct ringvm_create_vm req;
	struct mem_sample p;
	int vmfd;
	void *m;

	memset(&req, 0, sizeof(req));
	req.nr_regions = 1;
	req.regions[0].size = PROBE_MB << 20;
	vmfd = __ringvm_create_vm(devfd, &req);
	EXPECT_LE(0, vmfd);
	if (vmfd < 0)
		return false;
	m = ringvm_map_guest(vmfd, 0, PROBE_MB << 20);
	EXPECT_NE(NULL, m);
	if (!m) {
		close(vmfd);
		return false;
	}
	memset(m, 0x5a, PROBE_MB << 20);
	munmap(m, PROBE_MB << 20);
	mem_sample(&p, cg);
	close(vmfd);
	TH_LOG("KiB with a %d MiB VM: cgroup kernel %ld current %ld, MemFree %ld",
	       PROBE_MB, p.cg_kernel, p.cg_current, p.mem_free);
	if (cg) {
		EXPECT_LE(want, p.cg_kernel - a->cg_kernel);
		EXPECT_LE(want, p.cg_current - a->cg_current);
	}
	return a->mem_free - p.mem_free >= want;
}

/*
 * Many VM lifecycles; after a warm-up (slab caches, per-CPU lists, the
 * cgroup's first charges), the counters before and after the rest must
 * agree within a tolerance that a leak of one page per lifecycle
 * exceeds: a quarter of a page per lifecycle for the kernel memory
 * charged to our cgroup, half a page for its total (which includes the
 * per-CPU charge stock), MemFree and SUnreclaim, which the rest of the
 * machine moves too.  The module's reference count must be back, and
 * the module must unload.
 */
TEST_F_TIMEOUT(race, leak_check, 280)
{
	int warm = rounds(50, 10), n = rounds(1000, 200), i;
	struct mem_sample a, b;
	const char *why;
	long page_kb = PAGE / 1024;
	__u64 t0, t1;
	bool cg, memfree;

	cg = leak_cgroup_enter();
	if (!cg)
		TH_LOG("no cgroup v2 memory controller: MemFree only");
	for (i = 0; i < warm; i++) {
		why = lifecycle(self->devfd, self->nl, i);
		ASSERT_EQ(NULL, why) TH_LOG("warm-up %d: %s", i, why);
	}
	mem_sample(&a, cg);
	memfree = leak_probe(_metadata, self->devfd, &a, cg);
	if (!memfree)
		TH_LOG("MemFree did not see the %d MiB VM: not checked",
		       PROBE_MB);
	if (!cg && !memfree)
		SKIP(return, "no cgroup v2 memory controller, and MemFree does not see what ringvm allocates");
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		why = lifecycle(self->devfd, self->nl, i);
		ASSERT_EQ(NULL, why) TH_LOG("lifecycle %d: %s", i, why);
	}
	t1 = now_ms();
	mem_sample(&b, cg);
	TH_LOG("%d lifecycles in %llu ms (%llu us each)", n,
	       (unsigned long long)(t1 - t0),
	       (unsigned long long)((t1 - t0) * 1000 / n));
	TH_LOG("KiB before/after: cgroup kernel %ld/%ld current %ld/%ld, MemFree %ld/%ld, SUnreclaim %ld/%ld; refcnt %ld/%ld (test start %ld)",
	       a.cg_kernel, b.cg_kernel, a.cg_current, b.cg_current,
	       a.mem_free, b.mem_free, a.sunreclaim, b.sunreclaim,
	       a.refcnt, b.refcnt, self->refcnt);
	if (cg) {
		EXPECT_GT(n * page_kb / 4, b.cg_kernel - a.cg_kernel);
		EXPECT_GT(n * page_kb / 2, b.cg_current - a.cg_current);
	}
	/*
	 * MemFree only where the cgroup cannot see ringvm: it moves with
	 * the page cache and the per-CPU page lists too (Bochs: 2 MiB down
	 * over 200 lifecycles with the cgroup and SUnreclaim flat).
	 */
	if (memfree && !cg)
		EXPECT_GT(n * page_kb / 2, a.mem_free - b.mem_free);
	EXPECT_GT(n * page_kb / 2, b.sunreclaim - a.sunreclaim);
	EXPECT_EQ(self->refcnt, b.refcnt);
	if (cg)
		leak_cgroup_leave();

	/* nothing holds the module: it unloads (and loads again) */
	close(self->devfd);
	self->devfd = -1;
	ringvm_nl_close(self->nl);
	self->nl = NULL;
	EXPECT_EQ(0, module_refcnt());
	ASSERT_EQ(0, __ringvm_unload());
	ASSERT_FALSE(ringvm_module_loaded(RINGVM_MODULE_NAME));
	ASSERT_EQ(0, ringvm_ensure_loaded());
}

RINGVM_GUEST_TEST_MAIN
