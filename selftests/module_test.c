// SPDX-License-Identifier: GPL-2.0
/*
 * module_test: the life of ringvm.ko, and its neighbour KVM.
 *
 *  1. load_unload_cycles: 50 loads and unloads; each time /dev/ringvm
 *     appears, answers RINGVM_GET_API_VERSION, and goes away.
 *  2. unload_refused_while_open: an open /dev/ringvm pins the module.
 *  3. refused_while_kvm_holds_cpu: with a KVM VM alive, loading ringvm
 *     fails with EBUSY and says why in the kernel log; once KVM is gone
 *     ringvm loads.
 *  4. kvm_refused_while_loaded: the reverse; KVM cannot take a CPU that
 *     ringvm holds (6.12: kvm_amd/kvm_intel fails to load; 6.1: it loads
 *     but KVM_CREATE_VM fails), and ringvm is unharmed.
 *  5. kvm_runs_after_unload: after ringvm is unloaded, KVM runs a real-mode
 *     guest to an OUT and a HLT, so ringvm gave the CPUs back intact.
 *
 * Every test starts and ends with ringvm and KVM unloaded; the fixture
 * enforces both, so the binary leaves the module unloaded.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define NR_LOAD_CYCLES	50

FIXTURE(module) {
	int dev_fd;
	int kmsg_fd;
	int kvm_fd;
	int vm_fd;
	struct kvm_guest guest;
};

FIXTURE_SETUP(module)
{
	self->dev_fd = self->kmsg_fd = self->kvm_fd = self->vm_fd = -1;
	kvm_guest_init(&self->guest);
	ASSERT_EQ(0, kvm_modules_unload())
		TH_LOG("KVM's modules are loaded and cannot be unloaded");
	ASSERT_EQ(0, ringvm_ensure_unloaded())
		TH_LOG("ringvm is loaded and cannot be unloaded");
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

FIXTURE_TEARDOWN(module)
{
	close_fd(&self->dev_fd);
	close_fd(&self->kmsg_fd);
	close_fd(&self->vm_fd);
	close_fd(&self->kvm_fd);
	kvm_guest_destroy(&self->guest);
	EXPECT_EQ(0, kvm_modules_unload());
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* ringvm is loaded: /dev/ringvm is a char device that answers. */
static void assert_dev_answers(struct __test_metadata *_metadata)
{
	struct stat st;
	int fd, ret;

	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st))
		TH_LOG("%s: %s", RINGVM_DEV_PATH, strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	fd = __ringvm_open();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	ret = __ringvm_get_api_version(fd);
	close(fd);
	ASSERT_EQ(RINGVM_API_VERSION, ret);
}

/* ringvm is not loaded and its device is gone. */
static void assert_unloaded(struct __test_metadata *_metadata)
{
	ASSERT_FALSE(ringvm_module_loaded(RINGVM_MODULE_NAME));
	ASSERT_NE(0, access(RINGVM_DEV_PATH, F_OK))
		TH_LOG("%s still exists", RINGVM_DEV_PATH);
	ASSERT_EQ(ENOENT, errno);
}

TEST_F_TIMEOUT(module, load_unload_cycles, 600)
{
	int i, ret;

	for (i = 0; i < NR_LOAD_CYCLES; i++) {
		ret = __ringvm_load(ringvm_ko_path());
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: load %s: %s", i,
					 ringvm_ko_path(), strerror(-ret));
		assert_dev_answers(_metadata);
		ret = __ringvm_unload();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: unload: %s", i,
					 strerror(-ret));
		assert_unloaded(_metadata);
	}
}

TEST_F(module, unload_refused_while_open)
{
	ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
	self->dev_fd = __ringvm_open();
	ASSERT_LE(0, self->dev_fd);

	/* kernel/module/main.c: try_stop_module() says -EWOULDBLOCK. */
	ASSERT_EQ(-EAGAIN, __ringvm_unload());
	ASSERT_TRUE(ringvm_module_loaded(RINGVM_MODULE_NAME));
	ASSERT_EQ(RINGVM_API_VERSION, __ringvm_get_api_version(self->dev_fd));

	close_fd(&self->dev_fd);
	ASSERT_EQ(0, __ringvm_unload());
	assert_unloaded(_metadata);
}

TEST_F_TIMEOUT(module, refused_while_kvm_holds_cpu, 300)
{
	const char *kvm = kvm_vendor_module();
	char line[512];
	int ret;

	ASSERT_EQ(0, modprobe(kvm));
	/* On 6.1 KVM turns VMX/SVM on only while a VM exists. */
	ret = kvm_create_vm(&self->kvm_fd);
	ASSERT_LE(0, ret) TH_LOG("KVM_CREATE_VM: %s", strerror(-ret));
	self->vm_fd = ret;

	self->kmsg_fd = __ringvm_kmsg_open();
	ASSERT_LE(0, self->kmsg_fd);
	ret = __ringvm_load(ringvm_ko_path());
	ASSERT_EQ(-EBUSY, ret) TH_LOG("load with a KVM VM alive: %s",
				      ret ? strerror(-ret) : "succeeded");
	assert_unloaded(_metadata);
	ret = __ringvm_kmsg_find(self->kmsg_fd, "ringvm: ", line,
				 sizeof(line));
	ASSERT_EQ(1, ret) TH_LOG("no \"ringvm: \" line in the kernel log");
	TH_LOG("kernel log: %s", line);

	close_fd(&self->vm_fd);
	close_fd(&self->kvm_fd);
	ASSERT_EQ(0, kvm_modules_unload());
	ret = __ringvm_load(ringvm_ko_path());
	ASSERT_EQ(0, ret) TH_LOG("load after KVM left: %s", strerror(-ret));
	assert_dev_answers(_metadata);
}

TEST_F_TIMEOUT(module, kvm_refused_while_loaded, 300)
{
	const char *kvm = kvm_vendor_module();
	struct ringvm_caps caps;
	int ret;

	ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
	self->dev_fd = __ringvm_open();
	ASSERT_LE(0, self->dev_fd);

	ret = modprobe(kvm);
	ASSERT_LE(0, ret) TH_LOG("modprobe did not run: %s", strerror(-ret));
	if (ret) {
		TH_LOG("modprobe %s refused (6.12 behaviour)", kvm);
	} else {
		ret = kvm_create_vm(&self->kvm_fd);
		if (ret >= 0)
			self->vm_fd = ret;
		ASSERT_GT(0, ret)
			TH_LOG("KVM_CREATE_VM succeeded on CPUs ringvm holds");
		TH_LOG("%s loaded, KVM_CREATE_VM refused: %s (6.1 behaviour)",
		       kvm, strerror(-ret));
	}

	/* ringvm still holds every CPU and answers. */
	ASSERT_EQ(RINGVM_API_VERSION, __ringvm_get_api_version(self->dev_fd));
	ASSERT_EQ(0, __ringvm_get_caps(self->dev_fd, &caps));
	ASSERT_EQ(cpus_online(), (int)caps.nr_cpus_enabled);

	close_fd(&self->kvm_fd);
	ASSERT_EQ(0, kvm_modules_unload());
	close_fd(&self->dev_fd);
	ASSERT_EQ(0, __ringvm_unload());
}

/* Real mode at 0x1000: OUT 0x42 to port 0x10, then HLT. */
static const __u8 guest_code[] = {
	0xb0, 0x42,		/* mov $0x42, %al */
	0xe6, 0x10,		/* out %al, $0x10 */
	0xf4,			/* hlt */
};

#define GUEST_GPA	0x1000
#define GUEST_PORT	0x10
#define GUEST_BYTE	0x42

TEST_F_TIMEOUT(module, kvm_runs_after_unload, 300)
{
	struct kvm_run *run;
	int ret;

	ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
	assert_dev_answers(_metadata);
	ASSERT_EQ(0, __ringvm_unload());

	ASSERT_EQ(0, modprobe(kvm_vendor_module()));
	ret = kvm_guest_create(&self->guest, guest_code, sizeof(guest_code),
			       GUEST_GPA);
	ASSERT_EQ(0, ret) TH_LOG("KVM guest setup: %s", strerror(-ret));
	run = self->guest.run;

	ret = kvm_guest_run(&self->guest);
	ASSERT_EQ(KVM_EXIT_IO, ret) TH_LOG("exit reason %d", ret);
	ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	ASSERT_EQ(GUEST_PORT, run->io.port);
	ASSERT_EQ(1, run->io.size);
	ASSERT_EQ(1, run->io.count);
	ASSERT_EQ(GUEST_BYTE, *((__u8 *)run + run->io.data_offset));

	ret = kvm_guest_run(&self->guest);
	ASSERT_EQ(KVM_EXIT_HLT, ret) TH_LOG("exit reason %d", ret);

	kvm_guest_destroy(&self->guest);
	ASSERT_EQ(0, kvm_modules_unload());
}

RINGVM_TEST_MAIN
