// SPDX-License-Identifier: GPL-2.0
/*
 * nmi_test: host NMIs that arrive while a guest runs belong to the host,
 * which must handle each one at once while the guest keeps running.
 *
 * A guest spins on one CPU (it only counts); from another CPU the test
 * writes 'l' to /proc/sysrq-trigger, which sends an NMI to every other
 * CPU and waits until each has printed "NMI backtrace for cpu N" from
 * its NMI handler (or 10 s).  Each time, the guest's CPU must have
 * printed its backtrace, its "NMI:" count in /proc/interrupts must have
 * gone up, and the guest must count on afterwards.
 *
 * On VMX the NMI ends the guest's run with an NMI exit that leaves NMIs
 * blocked until an IRET.  A module that sends the NMI again without that
 * IRET gets back an NMI exit at each entry until a host interrupt comes:
 * the NMI is handled late, after many exits.  Where tracefs can put a
 * kprobe on the NMI exit's handler, the test counts those exits: at most
 * two per NMI the CPU handled (one, plus one should the re-sent NMI
 * still be on its way at the IRET), not hundreds.  SVM needs no such
 * count: the NMI stays pending through the exit and the host takes it at
 * STGI.
 *
 * Needs two online CPUs (in tests-smp.list for the runner's vmx-smp).
 * Each trigger puts two backtraces, a few KB, in the kernel log; a few
 * triggers only, so the log the runner dumps keeps what came before.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NR_TRIGGERS	3

/* The kprobe on the VMX NMI exit: group/event, and where it goes. */
#define KPROBE_EVENT	"ringvm_nmi_test/nmi_exit"
#define KPROBE_SYMBOL	"ringvm:vmx_exit_exception_nmi"

/* The guest's copy of these is what counts: see write_guest_global(). */
static volatile __u64 guest_count;
static volatile __u64 guest_stop;

/* Count until the host says stop: no exit but the host's own. */
static void guest_spin(void)
{
	while (!guest_stop)
		guest_count++;
	GUEST_DONE();
}

/* The vCPU's thread: RUN until the guest is done; never ASSERTs. */
struct runner {
	pthread_t thread;
	bool started;
	int cpu;
	struct test_vcpu *vcpu;
	volatile bool done;
	char err[384];
};

static void *run_guest(void *arg)
{
	struct runner *r = arg;
	struct ucall uc;
	int ret;

	ret = cpu_pin(r->cpu);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "affinity to cpu%d: %s",
			 r->cpu, strerror(-ret));
		goto out;
	}
	ret = __vcpu_run(r->vcpu);
	if (ret)
		snprintf(r->err, sizeof(r->err), "RUN: %s", strerror(-ret));
	else if (get_ucall(r->vcpu, &uc) != UCALL_DONE)
		vcpu_exit_str(r->vcpu, r->err, sizeof(r->err));
out:
	r->done = true;
	return NULL;
}

/* Seconds on CLOCK_MONOTONIC. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The "NMI:" count of @cpu in /proc/interrupts (the header line names
 * the columns: CPU0 CPU1 ...): 0 or -errno.
 */
static int nmi_count(int cpu, __u64 *count)
{
	char line[1024], name[16];
	int col = -1, i, ret = -ENOENT;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		char *tok, *save;

		snprintf(name, sizeof(name), "CPU%d", cpu);
		for (i = 0, tok = strtok_r(line, " \t\n", &save); tok;
		     i++, tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, name))
				col = i;
	}
	while (col >= 0 && fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		unsigned long long v = 0;

		while (*p == ' ')
			p++;
		if (strncmp(p, "NMI:", 4))
			continue;
		p += 4;
		for (i = 0; i <= col; i++) {
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
		if (i > col) {
			*count = v;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

/* Put the kprobe on the NMI exit and enable it: 0 or -errno. */
static int kprobe_add(const char *dir)
{
	char path[192];
	int ret;

	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	ret = file_write(path, "p:" KPROBE_EVENT " " KPROBE_SYMBOL "\n",
			 O_APPEND);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/events/" KPROBE_EVENT "/enable",
		 dir);
	return file_write(path, "1", 0);
}

static void kprobe_del(const char *dir)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/events/" KPROBE_EVENT "/enable",
		 dir);
	file_write(path, "0", 0);
	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	file_write(path, "-:" KPROBE_EVENT "\n", O_APPEND);
}

/* Hits of the kprobe so far (kprobe_profile: name, hits, misses). */
static int kprobe_hits(const char *dir, __u64 *hits)
{
	const char *event = strchr(KPROBE_EVENT, '/') + 1;
	char path[192], line[256], name[128];
	unsigned long long n;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_profile", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %llu", name, &n) == 2 &&
		    (!strcmp(name, event) || !strcmp(name, KPROBE_EVENT))) {
			*hits = n;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

FIXTURE(nmi) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	struct runner runner;
	int cpus[64];
	int nr_cpus;
	int kmsg_fd;
	const char *tracefs;	/* set while the kprobe is in place */
};

FIXTURE_SETUP(nmi)
{
	int ret = ringvm_ensure_loaded();

	self->kmsg_fd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->nr_cpus = cpus_allowed(self->cpus, ARRAY_SIZE(self->cpus));
	ASSERT_LE(1, self->nr_cpus);
}

FIXTURE_TEARDOWN(nmi)
{
	if (self->runner.started) {
		write_guest_global(self->vm, guest_stop, 1);
		pthread_join(self->runner.thread, NULL);
	}
	if (self->tracefs)
		kprobe_del(self->tracefs);
	if (self->kmsg_fd >= 0)
		close(self->kmsg_fd);
	vm_destroy(self->vm);
}

static __u64 count_now(struct test_vm *vm)
{
	return *(volatile __u64 *)addr_gva2hva(vm,
				(__u64)(uintptr_t)&guest_count);
}

/*
 * Wait up to @secs of the test machine's time (under Bochs far longer in
 * wall time) for the guest's count to pass @from: whether it did.
 */
static bool guest_counts_past(struct test_vm *vm, __u64 from, double secs)
{
	double end = now() + secs;

	while (count_now(vm) <= from) {
		if (now() > end)
			return false;
		usleep(1000);
	}
	return true;
}

/*
 * NMIs to the guest's CPU while the guest runs: each one handled by the
 * host (its backtrace, its count), the guest running on.
 */
TEST_F_TIMEOUT(nmi, backtrace_while_guest_runs, 600)
{
	__u64 nmis_before, nmis_after, hits_before = 0, hits_after = 0;
	int guest_cpu, i, ret;
	char want[64], got[256];

	if (self->nr_cpus < 2)
		SKIP(return, "%d CPU(s): the NMIs come from another CPU",
		     self->nr_cpus);
	if (access("/proc/sysrq-trigger", W_OK))
		SKIP(return, "no /proc/sysrq-trigger: %s", strerror(errno));

	/* This thread on the first CPU, the guest on the second. */
	guest_cpu = self->cpus[1];
	ASSERT_EQ(0, cpu_pin(self->cpus[0]));
	self->kmsg_fd = __ringvm_kmsg_open();
	ASSERT_LE(0, self->kmsg_fd) TH_LOG("/dev/kmsg: %s",
					   strerror(-self->kmsg_fd));

	if (cpuinfo_arch() == RINGVM_ARCH_VMX) {
		const char *dir = tracefs_dir("kprobe_events");

		ret = dir ? kprobe_add(dir) : -ENOENT;
		if (!ret)
			self->tracefs = dir;
		else if (dir)
			kprobe_del(dir);
		if (ret)
			TH_LOG("no kprobe on %s (%s): NMI exits not counted",
			       KPROBE_SYMBOL, strerror(-ret));
	}

	self->vm = vm_create_guest(&self->vcpu, guest_spin);
	self->runner.vcpu = self->vcpu;
	self->runner.cpu = guest_cpu;
	ASSERT_EQ(0, pthread_create(&self->runner.thread, NULL, run_guest,
				    &self->runner));
	self->runner.started = true;
	ASSERT_TRUE(guest_counts_past(self->vm, 0, 20))
		TH_LOG("the guest did not start counting: %s",
		       self->runner.done ? self->runner.err : "running");

	ASSERT_EQ(0, nmi_count(guest_cpu, &nmis_before));
	if (self->tracefs)
		ASSERT_EQ(0, kprobe_hits(self->tracefs, &hits_before));

	snprintf(want, sizeof(want), "NMI backtrace for cpu %d", guest_cpu);
	for (i = 0; i < NR_TRIGGERS; i++) {
		double t = now();
		__u64 count;

		/* Returns once every CPU printed, or after 10 s. */
		ASSERT_EQ(0, file_write("/proc/sysrq-trigger", "l", 0));
		t = now() - t;
		count = count_now(self->vm);
		ret = __ringvm_kmsg_find(self->kmsg_fd, want, got,
					 sizeof(got));
		ASSERT_EQ(1, ret)
			TH_LOG("trigger %d: no \"%s\" in the kernel log after %.2f s (%d)",
			       i, want, t, ret);
		ASSERT_STREQ(want, got);
		ASSERT_FALSE(self->runner.done)
			TH_LOG("the guest's RUN ended: %s", self->runner.err);
		ASSERT_TRUE(guest_counts_past(self->vm, count, 20))
			TH_LOG("trigger %d: the guest stopped counting at %llu",
			       i, (unsigned long long)count);
		TH_LOG("trigger %d: backtrace of cpu%d after %.3f s", i,
		       guest_cpu, t);
	}

	ASSERT_EQ(0, nmi_count(guest_cpu, &nmis_after));
	EXPECT_LE(nmis_before + NR_TRIGGERS, nmis_after)
		TH_LOG("cpu%d handled %llu NMIs for %d triggers", guest_cpu,
		       (unsigned long long)(nmis_after - nmis_before),
		       NR_TRIGGERS);
	if (self->tracefs) {
		ASSERT_EQ(0, kprobe_hits(self->tracefs, &hits_after));
		TH_LOG("cpu%d: %llu NMIs handled, %llu NMI exits", guest_cpu,
		       (unsigned long long)(nmis_after - nmis_before),
		       (unsigned long long)(hits_after - hits_before));
		/* Hundreds per NMI when the NMI stays blocked (above). */
		EXPECT_GE(2 * (nmis_after - nmis_before),
			  hits_after - hits_before);
	}

	write_guest_global(self->vm, guest_stop, 1);
	ASSERT_EQ(0, pthread_join(self->runner.thread, NULL));
	self->runner.started = false;
	ASSERT_STREQ("", self->runner.err);
}

RINGVM_GUEST_TEST_MAIN
