// SPDX-License-Identifier: GPL-2.0
/*
 * stats_test: the per-vCPU statistics and the vcpu-stats-get dump of the
 * "ringvm" netlink family (uapi/ringvm.yaml).
 *
 *  1. exact_counts: a named VM whose guest makes a known number of
 *     exits of each kind, twice (the first pass maps every page the
 *     guest and its ucalls use); the second pass's deltas, phase by
 *     phase, are exact for every counter the guest alone decides:
 *     cpuid, io, npf, hlt, hypercall, rdmsr, user-exits and
 *     nested-page-faults.  "other" (host interrupts and NMIs, on which
 *     the test has no say) is only bounded, and so is injected-events:
 *     at least the one interrupt given, at most one more for each
 *     "other" exit in the same phase (an exit that cuts a delivery
 *     short makes the next entry inject it again).  In every snapshot
 *     exits is the sum of the reasons.
 *  2. halt_time: while the guest is halted its halt time grows by at
 *     least the host's sleep; once it runs again, and while no RUN is
 *     in progress, neither halt nor run time moves.
 *  3. run_time_while_running: a RUN in progress on another thread:
 *     run time grows by at least the interval between two dumps and at
 *     most the time around them.
 *  4. dump_all: a dump without a VM lists each vCPU of each VM once, in
 *     VM and vCPU id order; a closed vCPU is gone from it.
 *  5. hostile requests: the exact errno and extack of each refusal.
 *  6. unprivileged: another user's VM is ENOENT and missing from the
 *     dump of all; its own VM's vCPUs are there.
 *  7. dump_against_teardown: dumps on a thread while vCPUs close and
 *     VMs are deleted.
 *  8. world_switches: 1,000 CPUIDs handled in the kernel within one
 *     RUN, or 20 first touches, load the VMCS (VMX) or save the host's
 *     state (SVM) once, not per exit; RUNs to user space do it at least
 *     once each; the VMCS is never left loaded when RUN returns; only
 *     VMX switches MSRs by WRMSR, a bounded number per stretch; with
 *     vmentry_l1d_flush=cond, L1D flushes only as a stretch starts or
 *     after a host interrupt.
 *  9. syscall_msrs_lazy: a guest with EFER.SCE and SYSCALL MSRs of its
 *     own that halts in the module 20 times within one RUN: VMX writes
 *     those MSRs when the RUN begins (and the host's on the way back to
 *     user space), not at each halt; SVM never.
 *
 * Named VMs made here are called GUEST_TEST_VM_PREFIX-something.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <asm/prctl.h>
#include <sys/syscall.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "kselftest_harness.h"
#include "guest.h"

#define VM_NAME		GUEST_TEST_VM_PREFIX "stats"
#define VM_NAME2	GUEST_TEST_VM_PREFIX "stats2"
#define NOBODY		65534

/* What the guest does in each pass (small: Bochs runs this too). */
#define NR_CPUID	10
#define NR_OUT		5
#define NR_PAGES	7
#define NR_HCALL	3
#define NR_RDMSR	4
#define OUT_PORT	0x80
#define IRQ_VECTOR	0x40
#define MSR_MISC_ENABLE	0x1a0	/* the core answers it: no exit to user */

enum {
	SYNC_START, SYNC_CPUID, SYNC_OUT, SYNC_PAGES, SYNC_HCALL, SYNC_RDMSR,
	SYNC_HLT_IRQ,
};

#define NS_PER_MS	1000000ULL

FIXTURE(stats) {
	struct ringvm_nl *nl;
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	mode_t devmode;		/* to restore, when nonzero */
};

FIXTURE_SETUP(stats)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(stats)
{
	struct ringvm_nl_vm v;

	vm_destroy(self->vm);
	if (self->nl) {
		/* named VMs live until vm-del */
		if (!__ringvm_nl_vm_get(self->nl, 0, VM_NAME, &v))
			__ringvm_nl_vm_del(self->nl, v.id, NULL);
		ringvm_nl_close(self->nl);
	}
	if (self->devmode)
		chmod(RINGVM_DEV_PATH, self->devmode);
}

/* Up to 8 vCPUs' messages from one dump. */
struct dump {
	unsigned int n;
	int bad;			/* a malformed message */
	struct ringvm_nl_vcpu_stats st[8];
};

static int dump_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct dump *d = arg;
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i <= RINGVM_A_EXIT_REASONS_MAX; i++)
		sum += st->exit_reasons[i];
	if (st->attrs != RINGVM_NL_VCPU_STATS_ATTRS_ALL || sum != st->exits)
		d->bad++;
	if (d->n < ARRAY_SIZE(d->st))
		d->st[d->n] = *st;
	d->n++;
	return 0;
}

/* The dump of the VM @id: 0 or -errno; every message well formed. */
static int dump_vm(struct ringvm_nl *nl, __u32 id, const char *name,
		   struct dump *d)
{
	memset(d, 0, sizeof(*d));
	return __ringvm_nl_vcpu_stats_dump(nl, id, name, dump_cb, d);
}

/* vCPU 0's counters, from a dump of @vm by id that must work. */
#define STATS(vm, out)							\
	do {								\
		struct dump __d;					\
		int __r = dump_vm(self->nl, (vm)->id, NULL, &__d);	\
		ASSERT_EQ(0, __r) TH_LOG("dump: %s: %s", strerror(-__r), \
					 ringvm_nl_extack(self->nl));	\
		ASSERT_EQ(1, __d.n);					\
		ASSERT_EQ(0, __d.bad) TH_LOG("malformed, or exits is "	\
					     "not the sum of reasons");	\
		(out) = __d.st[0];					\
	} while (0)

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* 1. Exact counts */

static volatile __u64 irq_count;

static void irq_handler(struct ex_regs *regs)
{
	(void)regs;
	irq_count++;
}

static void guest_exits(void)
{
	volatile char *scratch = (volatile char *)GUEST_SCRATCH_GPA;
	unsigned int pass, i;
	__u32 r[4];
	__u64 v;

	for (pass = 0; pass < 2; pass++) {
		GUEST_SYNC(SYNC_START);
		for (i = 0; i < NR_CPUID; i++)
			guest_cpuid(0, 0, r);
		GUEST_SYNC(SYNC_CPUID);
		for (i = 0; i < NR_OUT; i++)
			outb(OUT_PORT, i);
		GUEST_SYNC(SYNC_OUT);
		/* pages no one touched: a nested page fault each */
		for (i = 0; i < NR_PAGES; i++)
			scratch[(pass * NR_PAGES + i) * GUEST_PAGE_SIZE] = 1;
		GUEST_SYNC(SYNC_PAGES);
		for (i = 0; i < NR_HCALL; i++)
			GUEST_ASSERT_EQ(0, guest_hypercall(RINGVM_HC_NOP, 0, 0,
							   0, 0));
		GUEST_SYNC(SYNC_HCALL);
		for (i = 0; i < NR_RDMSR; i++)
			v = rdmsr(MSR_MISC_ENABLE);
		(void)v;
		GUEST_SYNC(SYNC_RDMSR);
		/* halted until the host's interrupt */
		asm volatile("sti; hlt; cli" : : : "memory");
		GUEST_SYNC_ARGS(SYNC_HLT_IRQ, irq_count);
	}
	GUEST_DONE();
}

/* @b - @a for one reason. */
#define REASON(b, a, r)	((b).exit_reasons[RINGVM_A_EXIT_REASONS_##r] - \
			 (a).exit_reasons[RINGVM_A_EXIT_REASONS_##r])
#define DELTA(b, a, f)	((b).f - (a).f)

/*
 * What one phase adds besides its own exits: the ucall that ends it, an
 * IO exit to user space.  @cpuid .. @npf the phase's own.
 */
static void check_phase(struct __test_metadata *_metadata, bool exact,
			const char *phase,
			const struct ringvm_nl_vcpu_stats *a,
			const struct ringvm_nl_vcpu_stats *b,
			__u64 cpuid, __u64 io, __u64 npf, __u64 hlt,
			__u64 hcall, __u64 rdmsr, __u64 user)
{
	__u64 other = REASON(*b, *a, OTHER);

	TH_LOG("%s: exits %llu (other %llu), pass %s", phase,
	       (unsigned long long)DELTA(*b, *a, exits),
	       (unsigned long long)other, exact ? "2" : "1");
	if (!exact) {
		/* the first pass also maps code, data and stack pages */
		EXPECT_LE(cpuid, REASON(*b, *a, CPUID));
		EXPECT_LE(io, REASON(*b, *a, IO));
		EXPECT_LE(user, DELTA(*b, *a, user_exits));
		return;
	}
	EXPECT_EQ(cpuid, REASON(*b, *a, CPUID)) TH_LOG("%s", phase);
	EXPECT_EQ(io, REASON(*b, *a, IO)) TH_LOG("%s", phase);
	EXPECT_EQ(npf, REASON(*b, *a, NPF)) TH_LOG("%s", phase);
	EXPECT_EQ(npf, DELTA(*b, *a, nested_page_faults)) TH_LOG("%s", phase);
	EXPECT_EQ(hlt, REASON(*b, *a, HLT)) TH_LOG("%s", phase);
	EXPECT_EQ(hcall, REASON(*b, *a, HYPERCALL)) TH_LOG("%s", phase);
	EXPECT_EQ(rdmsr, REASON(*b, *a, RDMSR)) TH_LOG("%s", phase);
	EXPECT_EQ(0, REASON(*b, *a, WRMSR)) TH_LOG("%s", phase);
	EXPECT_EQ(0, REASON(*b, *a, SHUTDOWN)) TH_LOG("%s", phase);
	EXPECT_EQ(0, REASON(*b, *a, FAIL_ENTRY)) TH_LOG("%s", phase);
	EXPECT_EQ(0, REASON(*b, *a, UNHANDLED)) TH_LOG("%s", phase);
	EXPECT_EQ(user, DELTA(*b, *a, user_exits)) TH_LOG("%s", phase);
	EXPECT_EQ(cpuid + io + npf + hlt + hcall + rdmsr + other,
		  DELTA(*b, *a, exits)) TH_LOG("%s", phase);
	/* only the HLT phase has an event; re-injections need an exit */
	if (!hlt) {
		EXPECT_EQ(0, DELTA(*b, *a, injected_events)) TH_LOG("%s",
								   phase);
	}
}

TEST_F(stats, exact_counts)
{
	struct ringvm_nl_vcpu_stats a, b, h1, h2;
	unsigned int pass, i;
	struct ucall uc;
	bool exact;
	int ret;

	ret = named_guest_vm(self->nl, VM_NAME, 1, &self->vm);
	ASSERT_EQ(0, ret) TH_LOG("named VM: %s", strerror(-ret));
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_exits);
	vm_install_exception_handler(self->vm, IRQ_VECTOR, irq_handler);

	/* a new vCPU: all zero, by id and by name alike */
	STATS(self->vm, a);
	EXPECT_EQ(0, a.exits);
	EXPECT_EQ(0, a.user_exits);
	EXPECT_EQ(0, a.run_ns);
	EXPECT_EQ(0, a.halt_ns);
	EXPECT_EQ(self->vm->id, a.vm_id);
	EXPECT_STREQ(VM_NAME, a.vm_name);
	EXPECT_EQ(0, a.vcpu_id);
	{
		struct dump d;

		ASSERT_EQ(0, dump_vm(self->nl, 0, VM_NAME, &d));
		ASSERT_EQ(1, d.n);
		EXPECT_EQ(self->vm->id, d.st[0].vm_id);
	}

	for (pass = 0; pass < 2; pass++) {
		exact = pass == 1;
		ASSERT_SYNC(self->vcpu, &uc, SYNC_START);
		STATS(self->vm, a);

		ASSERT_SYNC(self->vcpu, &uc, SYNC_CPUID);
		STATS(self->vm, b);
		check_phase(_metadata, exact, "cpuid", &a, &b, NR_CPUID, 1, 0,
			    0, 0, 0, 1);
		a = b;

		for (i = 0; i < NR_OUT; i++) {
			vcpu_run(self->vcpu);
			ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IO);
			ASSERT_EQ(OUT_PORT, self->vcpu->run->io.port);
		}
		ASSERT_SYNC(self->vcpu, &uc, SYNC_OUT);
		STATS(self->vm, b);
		check_phase(_metadata, exact, "out", &a, &b, 0, NR_OUT + 1, 0,
			    0, 0, 0, NR_OUT + 1);
		a = b;

		ASSERT_SYNC(self->vcpu, &uc, SYNC_PAGES);
		STATS(self->vm, b);
		check_phase(_metadata, exact, "pages", &a, &b, 0, 1, NR_PAGES,
			    0, 0, 0, 1);
		a = b;

		ASSERT_SYNC(self->vcpu, &uc, SYNC_HCALL);
		STATS(self->vm, b);
		check_phase(_metadata, exact, "hypercall", &a, &b, 0, 1, 0, 0,
			    NR_HCALL, 0, 1);
		a = b;

		ASSERT_SYNC(self->vcpu, &uc, SYNC_RDMSR);
		STATS(self->vm, b);
		check_phase(_metadata, exact, "rdmsr", &a, &b, 0, 1, 0, 0, 0,
			    NR_RDMSR, 1);
		a = b;

		/* HLT with IF set and nothing waiting: to user space */
		vcpu_run(self->vcpu);
		ASSERT_EXIT(self->vcpu, RINGVM_EXIT_HLT);
		STATS(self->vm, h1);
		usleep(20000);
		STATS(self->vm, h2);
		EXPECT_LE(h1.halt_ns + 20 * NS_PER_MS, h2.halt_ns)
			TH_LOG("halt time did not grow while halted");
		EXPECT_EQ(h1.run_ns, h2.run_ns);
		EXPECT_EQ(h1.exits, h2.exits);
		ASSERT_EQ(0, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR));
		ASSERT_SYNC(self->vcpu, &uc, SYNC_HLT_IRQ);
		EXPECT_EQ(pass + 1, uc.args[1]) TH_LOG("interrupts taken");
		STATS(self->vm, b);
		check_phase(_metadata, exact, "hlt", &a, &b, 0, 1, 0, 1, 0, 0,
			    2);
		/* an exit during delivery (NPF, host interrupt) re-injects */
		EXPECT_LE(1, DELTA(b, a, injected_events));
		EXPECT_GE(1 + REASON(b, a, OTHER) + REASON(b, a, NPF),
			  DELTA(b, a, injected_events));
		EXPECT_LE(h2.halt_ns, b.halt_ns);
		EXPECT_LT(a.run_ns, b.run_ns) TH_LOG("run time did not grow");
	}
	ASSERT_DONE(self->vcpu, &uc);
}

/* 2. Halt time counts only while halted; run time only in RUN */

static void guest_hlt(void)
{
	GUEST_SYNC(SYNC_START);
	asm volatile("cli; hlt");
	GUEST_SYNC(SYNC_HLT_IRQ);
	GUEST_DONE();
}

TEST_F(stats, halt_time)
{
	struct ringvm_nl_vcpu_stats a, b, c, d;
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_hlt);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_START);
	STATS(self->vm, a);
	EXPECT_EQ(0, a.halt_ns);
	EXPECT_LT(0, a.run_ns);

	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_HLT);
	STATS(self->vm, b);
	usleep(50000);
	STATS(self->vm, c);
	EXPECT_LE(b.halt_ns + 50 * NS_PER_MS, c.halt_ns);
	EXPECT_EQ(b.run_ns, c.run_ns) TH_LOG("run time moved outside RUN");

	/* RUN ends the halt; it stays as it was from then on */
	ASSERT_SYNC(self->vcpu, &uc, SYNC_HLT_IRQ);
	STATS(self->vm, c);
	usleep(30000);
	STATS(self->vm, d);
	EXPECT_EQ(c.halt_ns, d.halt_ns) TH_LOG("halt time moved while not "
					       "halted");
	EXPECT_EQ(c.run_ns, d.run_ns);
	EXPECT_EQ(3, d.user_exits);	/* SYNC, HLT, SYNC */
	EXPECT_EQ(1, d.exit_reasons[RINGVM_A_EXIT_REASONS_HLT]);
	ASSERT_DONE(self->vcpu, &uc);
}

/* 3. Run time while a RUN is in progress */

static volatile __u64 spin_stop, spin_count;

static void guest_spin(void)
{
	GUEST_SYNC(SYNC_START);
	while (!spin_stop)
		spin_count++;
	GUEST_DONE();
}

struct runner {
	struct test_vcpu *vcpu;
	int ret;
	__u32 exit_reason;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->ret = __vcpu_run(r->vcpu);
	r->exit_reason = r->vcpu->run->exit_reason;
	return NULL;
}

TEST_F(stats, run_time_while_running)
{
	struct ringvm_nl_vcpu_stats a, b, c;
	struct runner r = { };
	volatile __u64 *count;
	pthread_t thread;
	__u64 t0, t1;
	struct ucall uc;
	int i;

	self->vm = vm_create_guest(&self->vcpu, guest_spin);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_START);
	r.vcpu = self->vcpu;
	count = addr_gva2hva(self->vm, (uintptr_t)&spin_count);
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_thread, &r));
	for (i = 0; i < 20000 && !*count; i++)
		usleep(1000);
	ASSERT_NE(0, *count) TH_LOG("the guest does not run");

	t0 = now_ns();
	STATS(self->vm, a);
	usleep(30000);
	STATS(self->vm, b);
	t1 = now_ns();
	write_guest_global(self->vm, spin_stop, 1);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, r.ret);
	EXPECT_EQ(1, get_ucall(self->vcpu, &uc) == UCALL_DONE);

	EXPECT_LE(a.run_ns + 30 * NS_PER_MS, b.run_ns)
		TH_LOG("run time did not grow during RUN");
	EXPECT_GE(a.run_ns + (t1 - t0), b.run_ns)
		TH_LOG("run time grew more than the time that passed");
	EXPECT_EQ(0, b.halt_ns);
	/* the RUN ended: its whole length is in */
	STATS(self->vm, c);
	EXPECT_LE(b.run_ns, c.run_ns);
}

/* 4. A dump of every VM */

static void guest_sync_once(void)
{
	GUEST_SYNC(SYNC_START);
	GUEST_DONE();
}

struct listing {
	unsigned int n, bad, mine;
	__u32 vm[64], vcpu[64];
	__u32 want;			/* count messages of this VM */
};

static int list_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct listing *l = arg;

	if (st->attrs != RINGVM_NL_VCPU_STATS_ATTRS_ALL)
		l->bad++;
	if (l->n < ARRAY_SIZE(l->vm)) {
		l->vm[l->n] = st->vm_id;
		l->vcpu[l->n] = st->vcpu_id;
	}
	l->n++;
	l->mine += st->vm_id == l->want;
	return 0;
}

TEST_F(stats, dump_all)
{
	struct test_vm *vm2 = NULL;
	struct test_vcpu *v1, *v2;
	struct listing l = { };
	struct ucall uc;
	unsigned int i;
	int ret;

	ret = named_guest_vm(self->nl, VM_NAME, 3, &self->vm);
	ASSERT_EQ(0, ret) TH_LOG("named VM: %s", strerror(-ret));
	/* vCPUs 0 and 2, and a second (anonymous) VM with one */
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_sync_once);
	v2 = vm_vcpu_add(self->vm, 2, guest_sync_once);
	ASSERT_EQ(0, __vm_create_guest(&vm2, &v1, guest_sync_once));
	ASSERT_SYNC(v2, &uc, SYNC_START);

	l.want = self->vm->id;
	ret = __ringvm_nl_vcpu_stats_dump(self->nl, 0, NULL, list_cb, &l);
	EXPECT_EQ(0, ret) TH_LOG("%s", ringvm_nl_extack(self->nl));
	EXPECT_EQ(0, l.bad);
	EXPECT_EQ(2, l.mine);
	EXPECT_LE(3, l.n);
	/* VM id order, then vCPU id order, each once */
	for (i = 1; i < l.n && i < ARRAY_SIZE(l.vm); i++)
		EXPECT_TRUE(l.vm[i - 1] < l.vm[i] ||
			    (l.vm[i - 1] == l.vm[i] &&
			     l.vcpu[i - 1] < l.vcpu[i]))
			TH_LOG("message %u: VM %u vCPU %u after VM %u vCPU %u",
			       i, l.vm[i], l.vcpu[i], l.vm[i - 1],
			       l.vcpu[i - 1]);
	for (i = 0; i < l.n && i < ARRAY_SIZE(l.vm); i++) {
		if (l.vm[i] == self->vm->id) {
			EXPECT_TRUE(l.vcpu[i] == 0 || l.vcpu[i] == 2);
		}
	}
	memset(&l, 0, sizeof(l));
	l.want = vm2->id;
	ASSERT_EQ(0, __ringvm_nl_vcpu_stats_dump(self->nl, 0, NULL, list_cb,
						 &l));
	EXPECT_EQ(1, l.mine) TH_LOG("the anonymous VM's vCPU");

	/* a closed vCPU goes with its counters */
	vm_vcpu_remove(v2);
	memset(&l, 0, sizeof(l));
	l.want = self->vm->id;
	ASSERT_EQ(0, __ringvm_nl_vcpu_stats_dump(self->nl, self->vm->id,
						 NULL, list_cb, &l));
	EXPECT_EQ(1, l.n);
	EXPECT_EQ(0, l.vcpu[0]);
	vm_destroy(vm2);
}

/* 5. Hostile requests */

/* @ret must be @err with the extack message @text ("" for any). */
#define EXPECT_NL_ERR_MSG(err, text, ret)				\
	do {								\
		int __r = (ret);					\
		EXPECT_EQ(err, __r) TH_LOG("%s (extack: \"%s\")",	\
			strerror(-__r), ringvm_nl_extack(self->nl));	\
		if ((text)[0]) {					\
			EXPECT_STREQ(text, ringvm_nl_extack(self->nl));	\
		} else {						\
			EXPECT_NE(0, ringvm_nl_extack(self->nl)[0]);	\
		}							\
	} while (0)

static int count_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(*(unsigned int *)arg)++;
	return 0;
}

/* A request with one raw attribute: @len bytes of @data as @type. */
static int raw_request(struct ringvm_nl *nl, bool dump, int type,
		       const void *data, int len, unsigned int *replies)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VCPU_STATS_GET);

	if (!msg)
		return -ENOMEM;
	if (type && nla_put(msg, type, len, data) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	if (dump)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	*replies = 0;
	return __ringvm_nl_transact(nl, msg, count_cb, replies);
}

TEST_F(stats, hostile_requests)
{
	char long_name[RINGVM_NAME_MAX + 8], unterminated[4] = "abcd";
	__u32 id = 0xfffffff0, zero = 0;
	struct ringvm_nl_vm v;
	unsigned int replies;
	__u8 byte = 1;
	__u64 wide = 1;
	struct dump d;

	EXPECT_NL_ERR_MSG(-ENOENT, "no such VM",
			  dump_vm(self->nl, id, NULL, &d));
	EXPECT_EQ(0, d.n);
	EXPECT_NL_ERR_MSG(-ENOENT, "no such VM",
			  dump_vm(self->nl, 0, GUEST_TEST_VM_PREFIX "none",
				  &d));
	EXPECT_NL_ERR_MSG(-EINVAL, "VM ids start at 1",
			  raw_request(self->nl, true,
				      RINGVM_A_VCPU_STATS_VM_ID, &zero, 4,
				      &replies));

	/* both keys, even of the same VM */
	ASSERT_EQ(0, __ringvm_nl_vm_new(self->nl, VM_NAME2,
		  &(struct ringvm_mem_region){ 0, 0x10000 }, 1, 1, &v));
	EXPECT_NL_ERR_MSG(-EINVAL, "give at most one of vm-id and vm-name",
			  dump_vm(self->nl, v.id, VM_NAME2, &d));
	/* each key alone works: a VM without vCPUs has no message */
	EXPECT_EQ(0, dump_vm(self->nl, v.id, NULL, &d));
	EXPECT_EQ(0, d.n);
	EXPECT_EQ(0, dump_vm(self->nl, 0, VM_NAME2, &d));
	EXPECT_EQ(0, d.n);

	/* wrong types and sizes */
	EXPECT_NL_ERR_MSG(-EINVAL, "", raw_request(self->nl, true,
			  RINGVM_A_VCPU_STATS_VM_ID, &byte, 1, &replies));
	EXPECT_NL_ERR_MSG(-EINVAL, "", raw_request(self->nl, true,
			  RINGVM_A_VCPU_STATS_VM_ID, &wide, 8, &replies));
	EXPECT_NL_ERR_MSG(-EINVAL, "", raw_request(self->nl, true,
			  RINGVM_A_VCPU_STATS_VM_NAME, unterminated,
			  sizeof(unterminated), &replies));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	EXPECT_NL_ERR_MSG(-EINVAL, "", raw_request(self->nl, true,
			  RINGVM_A_VCPU_STATS_VM_NAME, long_name,
			  sizeof(long_name), &replies));
	/* reply-only attributes, pad, and types beyond the set */
	EXPECT_NL_ERR_MSG(-EINVAL,
			  "attribute not accepted: give a vm-id or a vm-name",
			  raw_request(self->nl, true,
				      RINGVM_A_VCPU_STATS_VCPU_ID, &zero, 4,
				      &replies));
	EXPECT_NL_ERR_MSG(-EINVAL,
			  "attribute not accepted: give a vm-id or a vm-name",
			  raw_request(self->nl, true,
				      RINGVM_A_VCPU_STATS_EXITS, &wide, 8,
				      &replies));
	EXPECT_NL_ERR_MSG(-EINVAL,
			  "attribute not accepted: give a vm-id or a vm-name",
			  raw_request(self->nl, true,
				      RINGVM_A_VCPU_STATS_PAD, NULL, 0,
				      &replies));
	EXPECT_NL_ERR_MSG(-EINVAL, "", raw_request(self->nl, true,
			  RINGVM_A_VCPU_STATS_MAX + 1, &zero, 4, &replies));
	/* only a dump: a do is not supported */
	EXPECT_EQ(-EOPNOTSUPP, raw_request(self->nl, false, 0, NULL, 0,
					   &replies));
	EXPECT_EQ(0, replies);

	/* the VM goes: its name is unknown again */
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
	EXPECT_NL_ERR_MSG(-ENOENT, "no such VM",
			  dump_vm(self->nl, v.id, NULL, &d));
}

/* 6. Another user */

enum {
	CHILD_OK, CHILD_SETUP, CHILD_SEES_ROOT_VM, CHILD_LISTS_ROOT_VM,
	CHILD_CREATE, CHILD_OWN_VM, CHILD_OWN_LIST,
};

static int unprivileged_child(__u32 root_vm)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct ringvm_vm_info info;
	struct listing l = { };
	char none[256];
	struct ringvm_nl *nl;
	struct dump d;
	int devfd, fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY) || geteuid() != NOBODY)
		return CHILD_SETUP;
	if (__ringvm_nl_open(&nl))
		return CHILD_SETUP;

	/* root's VM is not there, down to the extack */
	if (dump_vm(nl, 0xfffffff0, NULL, &d) != -ENOENT)
		return CHILD_SEES_ROOT_VM;
	snprintf(none, sizeof(none), "%s", ringvm_nl_extack(nl));
	if (dump_vm(nl, root_vm, NULL, &d) != -ENOENT || d.n ||
	    strcmp(none, ringvm_nl_extack(nl)) ||
	    dump_vm(nl, 0, VM_NAME, &d) != -ENOENT || d.n)
		return CHILD_SEES_ROOT_VM;
	l.want = root_vm;
	if (__ringvm_nl_vcpu_stats_dump(nl, 0, NULL, list_cb, &l) || l.mine)
		return CHILD_LISTS_ROOT_VM;

	/* its own VM and vCPU are */
	devfd = __ringvm_open();
	if (devfd < 0)
		return CHILD_CREATE;
	req.regions[0].size = 0x1000;
	fd = __ringvm_create_vm(devfd, &req);
	if (fd < 0 || __ringvm_get_vm_info(fd, &info) ||
	    __ringvm_create_vcpu(fd, 0) < 0)
		return CHILD_CREATE;
	if (dump_vm(nl, info.id, NULL, &d) || d.n != 1 || d.bad ||
	    d.st[0].vm_id != info.id)
		return CHILD_OWN_VM;
	memset(&l, 0, sizeof(l));
	l.want = info.id;
	if (__ringvm_nl_vcpu_stats_dump(nl, 0, NULL, list_cb, &l) ||
	    l.mine != 1 || l.n != 1)
		return CHILD_OWN_LIST;
	return CHILD_OK;
}

TEST_F(stats, unprivileged)
{
	struct ucall uc;
	struct stat st;
	int status, ret;
	pid_t pid;

	ret = named_guest_vm(self->nl, VM_NAME, 1, &self->vm);
	ASSERT_EQ(0, ret) TH_LOG("named VM: %s", strerror(-ret));
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_sync_once);
	ASSERT_SYNC(self->vcpu, &uc, SYNC_START);

	/* /dev/ringvm is 0600: open it to nobody (teardown restores it) */
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	self->devmode = st.st_mode & 07777;
	ASSERT_EQ(0, chmod(RINGVM_DEV_PATH, 0666));

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_child(self->vm->id));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(CHILD_OK, WEXITSTATUS(status));
}

/* 7. Dumps while vCPUs close and VMs go */

struct dumper {
	struct ringvm_nl *nl;
	volatile int stop;
	unsigned int dumps, errors;
	int bad_errno;
	__u32 id;
};

static int nothing_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	(void)st;
	(void)arg;
	return 0;
}

static void *dump_thread(void *arg)
{
	struct dumper *d = arg;
	int ret;

	while (!d->stop) {
		ret = __ringvm_nl_vcpu_stats_dump(d->nl, 0, NULL, nothing_cb,
						  NULL);
		if (!ret)
			ret = __ringvm_nl_vcpu_stats_dump(d->nl, d->id, NULL,
							  nothing_cb, NULL);
		if (ret && ret != -ENOENT)
			d->bad_errno = ret;
		d->errors += !!ret;
		d->dumps++;
	}
	return NULL;
}

TEST_F(stats, dump_against_teardown)
{
	unsigned int round, rounds = host_is_tcg() ? 30 : 5, i;
	struct dumper d = { };
	struct test_vcpu *v[3];
	struct test_vm *vm;
	pthread_t thread;
	struct ucall uc;
	int ret;

	ASSERT_EQ(0, __ringvm_nl_open(&d.nl));
	ASSERT_EQ(0, pthread_create(&thread, NULL, dump_thread, &d));
	/*
	 * On one CPU the dumping thread runs only when this one yields: a
	 * round may fit in one time slice (the vmx machine with
	 * RINGVM_VMX_CPUS=1 made no dump at all in 3 runs of 4), so give
	 * it the CPU between the steps of a teardown.
	 */
	for (round = 0; round < rounds; round++) {
		vm = NULL;
		ret = named_guest_vm(self->nl, VM_NAME, 3, &vm);
		if (ret) {
			d.stop = 1;
			pthread_join(thread, NULL);
			ASSERT_EQ(0, ret) TH_LOG("named VM: %s",
						 strerror(-ret));
		}
		d.id = vm->id;
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, __vm_vcpu_add(vm, i, guest_sync_once,
						   &v[i]));
		vcpu_run(v[round % 3]);
		ASSERT_EQ(UCALL_SYNC, get_ucall(v[round % 3], &uc));
		sched_yield();
		vm_vcpu_remove(v[(round + 1) % 3]);
		sched_yield();
		ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, vm->id, NULL));
		sched_yield();
		vm_destroy(vm);
		vm = NULL;
	}
	d.stop = 1;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ringvm_nl_close(d.nl);
	TH_LOG("%u dumps, %u ENOENT", d.dumps, d.errors);
	EXPECT_EQ(0, d.bad_errno) TH_LOG("%s", strerror(-d.bad_errno));
	EXPECT_LT(0, d.dumps);
}

/* 8. World switches */

#define NR_SW_CPUID	1000
#define NR_SW_PAGES	20
/* WRMSRs of one stretch at most: 5 MSRs each way and the FS base */
#define MSR_SWITCHES_MAX	11

static void guest_switches(void)
{
	volatile char *scratch = (volatile char *)GUEST_SCRATCH_GPA;
	unsigned int pass, i;
	__u32 r[4];

	for (pass = 0; pass < 2; pass++) {
		GUEST_SYNC(SYNC_START);
		for (i = 0; i < NR_SW_CPUID; i++)
			guest_cpuid(0, 0, r);
		GUEST_SYNC(SYNC_CPUID);
		for (i = 0; i < NR_OUT; i++)
			outb(OUT_PORT, i);
		GUEST_SYNC(SYNC_OUT);
		/* first touches, mapped in the run loop */
		for (i = 0; i < NR_SW_PAGES; i++)
			scratch[(pass * NR_SW_PAGES + i) * GUEST_PAGE_SIZE] = 1;
		GUEST_SYNC(SYNC_PAGES);
	}
	GUEST_DONE();
}

/*
 * The host's interrupts and softirqs so far, all CPUs together (the
 * totals of /proc/stat's "intr" and "softirq" lines): each may make the
 * next entry flush L1D (irq_stat's kvm_cpu_l1tf_flush_l1d), and one
 * taken in the host between two exits shows as no exit at all.
 */
static __u64 host_irqs(void)
{
	unsigned long long intr = 0, soft = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "intr ", 5))
			sscanf(line + 5, "%llu", &intr);
		else if (!strncmp(line, "softirq ", 8))
			sscanf(line + 8, "%llu", &soft);
	}
	fclose(f);
	return intr + soft;
}

/* ringvm's vmentry_l1d_flush as it reads back: "cond", "never", ... */
static void l1d_mode(char *buf, size_t size)
{
	FILE *f = fopen("/sys/module/ringvm/parameters/vmentry_l1d_flush",
			"r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, size, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * L1D flushes (VMX, L1TF) over @a to @b, @stretches stretches of guest
 * code and @irqs host interrupts and softirqs: with cond, only as a
 * stretch starts or after a host interrupt or softirq, never for the
 * exits the run loop handles itself, first touches of RAM included
 * (module/vmx/l1tf.c); with never or on a CPU without L1TF, none.
 * "always" flushes on every entry: not bounded.
 */
static void check_l1d_flushes(struct __test_metadata *_metadata,
			      const char *phase,
			      const struct ringvm_nl_vcpu_stats *a,
			      const struct ringvm_nl_vcpu_stats *b,
			      __u64 stretches, __u64 irqs)
{
	__u64 flushes = DELTA(*b, *a, l1d_flushes);
	char mode[32];

	l1d_mode(mode, sizeof(mode));
	TH_LOG("%s: %llu L1D flush(es), %llu host interrupts and softirqs, "
	       "vmentry_l1d_flush=%s", phase, (unsigned long long)flushes,
	       (unsigned long long)irqs, mode);
	if (!strcmp(mode, "cond")) {
		EXPECT_LE(1, flushes) TH_LOG("%s", phase);
		EXPECT_GE(stretches + irqs, flushes)
			TH_LOG("%s: an L1D flush for an exit the run loop "
			       "handled", phase);
	} else if (strcmp(mode, "always")) {
		EXPECT_EQ(0, flushes) TH_LOG("%s", phase);
	}
}

/*
 * The world-switch counters over @runs RUNs, @a to @b, the thread pinned
 * to one CPU.  A stretch of guest execution (module/run.c) begins, on
 * SVM, with one save of the host's state; a RUN makes one stretch, more
 * only after a reschedule or a slow exit, which a host interrupt
 * ("other") or a nested page fault starts.  On VMX the VMCS stays
 * current on the CPU between stretches (parked, module/vmx/vcpu.c): a
 * thread that stays on its CPU, with no other vCPU there, loads and
 * clears it not once, whether the stretch ended in the run loop, in the
 * slow path or with an exit to user space.
 */
static void check_switches(struct __test_metadata *_metadata,
			   const char *phase,
			   const struct ringvm_nl_vcpu_stats *a,
			   const struct ringvm_nl_vcpu_stats *b, __u64 runs,
			   __u64 irqs)
{
	bool vmx = cpuinfo_arch() == RINGVM_ARCH_VMX;
	__u64 most = runs + REASON(*b, *a, OTHER) + REASON(*b, *a, NPF);
	__u64 saves = DELTA(*b, *a, host_state_saves);

	TH_LOG("%s: %llu RUN(s), %llu exits, %llu VMCS loads, %llu VMCS "
	       "clears, %llu host-state saves, %llu MSR switches", phase,
	       (unsigned long long)runs,
	       (unsigned long long)DELTA(*b, *a, exits),
	       (unsigned long long)DELTA(*b, *a, vmcs_loads),
	       (unsigned long long)DELTA(*b, *a, vmcs_clears),
	       (unsigned long long)saves,
	       (unsigned long long)DELTA(*b, *a, msr_switches));
	if (vmx) {
		EXPECT_EQ(0, DELTA(*b, *a, vmcs_loads))
			TH_LOG("%s: a VMPTRLD on the same CPU", phase);
		EXPECT_EQ(0, DELTA(*b, *a, vmcs_clears))
			TH_LOG("%s: a VMCLEAR on the same CPU", phase);
		EXPECT_EQ(0, saves);
		EXPECT_GE(MSR_SWITCHES_MAX * most, DELTA(*b, *a, msr_switches))
			TH_LOG("%s", phase);
		/* no counter of stretches on VMX: bound them instead */
		check_l1d_flushes(_metadata, phase, a, b, most, irqs);
		return;
	}
	EXPECT_LE(runs, saves) TH_LOG("%s", phase);
	EXPECT_GE(most, saves) TH_LOG("%s: a world switch per exit?", phase);
	EXPECT_EQ(0, DELTA(*b, *a, vmcs_loads));
	EXPECT_EQ(0, DELTA(*b, *a, vmcs_clears));
	EXPECT_EQ(0, DELTA(*b, *a, msr_switches));
	check_l1d_flushes(_metadata, phase, a, b, saves, irqs);
}

TEST_F(stats, world_switches)
{
	struct ringvm_nl_vcpu_stats a, b;
	unsigned int pass, i;
	__u64 irq_a, irq_b;
	struct ucall uc;

	/* one CPU: VMX's VMCS then stays where it is (check_switches()) */
	ASSERT_EQ(0, cpu_pin(sched_getcpu()));
	self->vm = vm_create_guest(&self->vcpu, guest_switches);
	/* the first pass maps the pages; the second is measured */
	for (pass = 0; pass < 2; pass++) {
		ASSERT_SYNC(self->vcpu, &uc, SYNC_START);
		STATS(self->vm, a);
		irq_a = host_irqs();
		ASSERT_SYNC(self->vcpu, &uc, SYNC_CPUID);
		irq_b = host_irqs();
		STATS(self->vm, b);
		EXPECT_LE(NR_SW_CPUID, REASON(b, a, CPUID));
		if (pass)
			check_switches(_metadata, "cpuid", &a, &b, 1,
				       irq_b - irq_a);

		a = b;
		irq_a = host_irqs();
		for (i = 0; i < NR_OUT; i++) {
			vcpu_run(self->vcpu);
			ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IO);
		}
		ASSERT_SYNC(self->vcpu, &uc, SYNC_OUT);
		irq_b = host_irqs();
		STATS(self->vm, b);
		if (pass)
			check_switches(_metadata, "out", &a, &b, NR_OUT + 1,
				       irq_b - irq_a);

		a = b;
		irq_a = host_irqs();
		ASSERT_SYNC(self->vcpu, &uc, SYNC_PAGES);
		irq_b = host_irqs();
		STATS(self->vm, b);
		EXPECT_LE(NR_SW_PAGES, DELTA(b, a, nested_page_faults));
		if (pass)
			check_switches(_metadata, "pages", &a, &b, 1,
				       irq_b - irq_a);
	}
	ASSERT_DONE(self->vcpu, &uc);
}

/* 9. Lazy SYSCALL MSRs */

#define NR_LAZY_HALTS	20
#define LAZY_VECTOR	0x41

static volatile __u64 lazy_irqs;

static void lazy_irq_handler(struct ex_regs *regs)
{
	(void)regs;
	lazy_irqs++;
	wrmsr(0x80b, 0);			/* x2APIC EOI */
}

static void guest_syscall_lazy(__u64 kgs)
{
	unsigned int i;

	wrmsr(MSR_KERNEL_GS_BASE, kgs);		/* the host's: no switch */
	guest_syscall_enable();		/* all four differ from the host's */
	asm volatile("syscall" : : : "rcx", "r11", "memory");
	GUEST_SYNC(1);

	/* x2APIC on, one-shot timer of 1 ms, each waited for halted */
	wrmsr(0x1b, rdmsr(0x1b) | (1ULL << 10));
	wrmsr(0x80f, 0x1ff);			/* SVR: enabled */
	wrmsr(0x83e, 0xb);			/* divide by 1 */
	wrmsr(0x832, LAZY_VECTOR);
	for (i = 1; i <= NR_LAZY_HALTS; i++) {
		wrmsr(0x838, 1000 * 1000);
		asm volatile("cli");
		while (lazy_irqs < i)
			asm volatile("sti; hlt; cli" : : : "memory");
	}
	asm volatile("syscall" : : : "rcx", "r11", "memory");
	GUEST_ASSERT_EQ(guest_syscall_counts[0], 2);
	GUEST_SYNC(2);
	GUEST_DONE();
}

TEST_F(stats, syscall_msrs_lazy)
{
	struct vm_opts o = { .max_vcpus = 1 };
	struct ringvm_nl_vcpu_stats a, b;
	__u64 halts, switches;
	unsigned long kgs = 0;
	struct ucall uc;

	ASSERT_EQ(0, cpu_pin(sched_getcpu()));
	/* this thread's user GS base: KERNEL_GS_BASE in its kernel */
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_GS, &kgs));
	self->vm = vm_create(&o);
	ASSERT_EQ(0, __ringvm_enable(self->vm->fd, RINGVM_ENABLE_LAPIC, 0));
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_syscall_lazy);
	vm_install_exception_handler(self->vm, LAZY_VECTOR, lazy_irq_handler);
	vcpu_args_set(self->vcpu, 1, (__u64)kgs);

	ASSERT_SYNC(self->vcpu, &uc, 1);
	STATS(self->vm, a);
	ASSERT_SYNC(self->vcpu, &uc, 2);	/* one RUN, the halts in it */
	STATS(self->vm, b);
	halts = REASON(b, a, HLT);
	switches = DELTA(b, a, msr_switches);
	TH_LOG("%llu HLT exits, %llu user exits, %llu MSR switches",
	       (unsigned long long)halts,
	       (unsigned long long)DELTA(b, a, user_exits),
	       (unsigned long long)switches);
	EXPECT_LE(NR_LAZY_HALTS / 2, halts);
	if (cpuinfo_arch() != RINGVM_ARCH_VMX) {
		EXPECT_EQ(0, switches);
	} else {
		/*
		 * Four MSRs, each counted twice (its WRMSR and the host's
		 * on the way back), when the RUN begins; again after a halt
		 * only if another task went back to user space on this CPU
		 * meanwhile: allow that for half of them (a busy machine).
		 * Written at every halt, it would be 8 per halt.
		 */
		EXPECT_GE(4 * (halts + 2), switches)
			TH_LOG("SYSCALL MSRs written at each halt?");
		EXPECT_LE(8, switches)
			TH_LOG("the guest's SYSCALL MSRs were not loaded");
	}
	ASSERT_DONE(self->vcpu, &uc);
}

RINGVM_GUEST_TEST_MAIN
