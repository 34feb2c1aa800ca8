// SPDX-License-Identifier: GPL-2.0
/*
 * suspend_test: ringvm across a system suspend.
 *
 * With /sys/power/pm_test set to "core", "echo mem > /sys/power/state"
 * runs the whole suspend path -- CPUs offlined, syscore_suspend() on the
 * last one -- waits pm_test_delay seconds and resumes, without needing
 * firmware to really sleep.  So ringvm's syscore and hotplug callbacks
 * both run.  The wait is a busy loop that proves nothing here and costs
 * Bochs some ten minutes a test (five guest seconds of instructions), so
 * the fixture sets the delay to 0 and puts it back after.
 *
 *  1. cycle_keeps_cpus: after resume every online CPU has virtualization on
 *     again: nr_cpus_enabled matches, on SVM each CPU's EFER.SVME is set
 *     (read through /dev/cpu/N/msr), and KVM still cannot take the CPUs.
 *  2. unload_after_cycle_restores: after a cycle, unloading ringvm gives
 *     every CPU back -- on SVM EFER.SVME is clear everywhere, and KVM can
 *     create a VM, which enables virtualization on every online CPU.
 *
 * Skipped when the kernel has no pm_test or the machine no S3 ("mem").
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define PM_TEST		"/sys/power/pm_test"
#define PM_STATE	"/sys/power/state"
#define PM_TEST_DELAY	"/sys/module/suspend/parameters/pm_test_delay"
#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ULL << 12)

FIXTURE(suspend) {
	int fd;
	int kvm_fd;
	int vm_fd;
	char delay[16];		/* pm_test_delay before the test, or "" */
};

FIXTURE_SETUP(suspend)
{
	int ret;

	self->fd = self->kvm_fd = self->vm_fd = -1;
	sysfs_read_line(PM_TEST_DELAY, self->delay, sizeof(self->delay));
	if (self->delay[0])
		ASSERT_EQ(0, sysfs_write(PM_TEST_DELAY, "0"));
	ASSERT_EQ(0, kvm_modules_unload());
	ret = ringvm_ensure_loaded();
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->fd = __ringvm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(suspend)
{
	if (access(PM_TEST, W_OK) == 0)
		EXPECT_EQ(0, sysfs_write(PM_TEST, "none"));
	if (self->delay[0])
		EXPECT_EQ(0, sysfs_write(PM_TEST_DELAY, self->delay));
	if (self->vm_fd >= 0)
		close(self->vm_fd);
	if (self->kvm_fd >= 0)
		close(self->kvm_fd);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, kvm_modules_unload());
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* Whether "mem" is one of the states in /sys/power/state. */
static bool s3_offered(void)
{
	struct run_result res;
	char *argv[] = { "cat", PM_STATE, NULL };

	if (run_prog(argv, &res) || res.status)
		return false;
	return strstr(res.out, "mem") != NULL;
}

#define SKIP_WITHOUT_PM_TEST()						\
	do {								\
		if (access(PM_TEST, W_OK) || !s3_offered())		\
			SKIP(return, "no %s or no S3 in %s", PM_TEST,	\
			     PM_STATE);					\
	} while (0)

/* One suspend-to-RAM cycle that stops after syscore_suspend(). */
static int suspend_cycle(void)
{
	int ret = sysfs_write(PM_TEST, "core");

	if (ret)
		return ret;
	return sysfs_write(PM_STATE, "mem");
}

/*
 * On SVM, EFER.SVME of every online CPU must be @on.  On VMX CR4.VMXE
 * cannot be read from user space; the KVM checks below stand in for it.
 */
static void assert_svme_everywhere(struct __test_metadata *_metadata,
				   bool on)
{
	int cpu, nr = cpus_online();

	if (cpuinfo_arch() != RINGVM_ARCH_SVM)
		return;
	ASSERT_LT(0, nr);
	/* Online CPUs are 0..nr-1 here: the fixture onlines nothing else. */
	for (cpu = 0; cpu < nr; cpu++) {
		__u64 efer;
		int ret = rdmsr_cpu(cpu, MSR_EFER, &efer);

		if (ret == -ENOENT || ret == -ENXIO)
			SKIP(return, "no /dev/cpu/%d/msr", cpu);
		ASSERT_EQ(0, ret) TH_LOG("EFER of CPU %d: %s", cpu,
					 strerror(-ret));
		ASSERT_EQ(on, !!(efer & EFER_SVME))
			TH_LOG("CPU %d: EFER=%#llx", cpu,
			       (unsigned long long)efer);
	}
}

TEST_F_TIMEOUT(suspend, cycle_keeps_cpus, 300)
{
	struct ringvm_caps caps;
	int ret;

	SKIP_WITHOUT_PM_TEST();
	ret = suspend_cycle();
	ASSERT_EQ(0, ret) TH_LOG("suspend: %s", strerror(-ret));

	ASSERT_EQ(RINGVM_API_VERSION, __ringvm_get_api_version(self->fd));
	ASSERT_EQ(0, __ringvm_get_caps(self->fd, &caps));
	ASSERT_EQ(cpus_online(), (int)caps.nr_cpus_enabled);
	assert_svme_everywhere(_metadata, true);

	/* 6.12: KVM refuses to load; 6.1: it loads, but gets no VM. */
	ret = modprobe(kvm_vendor_module());
	ASSERT_LE(0, ret);
	if (ret == 0) {
		ret = kvm_create_vm(&self->kvm_fd);
		if (ret >= 0)
			self->vm_fd = ret;
		ASSERT_GT(0, ret)
			TH_LOG("KVM_CREATE_VM succeeded on CPUs ringvm holds");
	}
}

TEST_F_TIMEOUT(suspend, unload_after_cycle_restores, 300)
{
	int ret;

	SKIP_WITHOUT_PM_TEST();
	ret = suspend_cycle();
	ASSERT_EQ(0, ret) TH_LOG("suspend: %s", strerror(-ret));

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	assert_svme_everywhere(_metadata, false);

	ASSERT_EQ(0, modprobe(kvm_vendor_module()));
	ret = kvm_create_vm(&self->kvm_fd);
	if (ret >= 0)
		self->vm_fd = ret;
	ASSERT_LE(0, ret) TH_LOG("KVM_CREATE_VM after ringvm left: %s",
				 strerror(-ret));
}

RINGVM_TEST_MAIN
