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
 *  6. l1d_flush_policy: the vmentry_l1d_flush parameter (L1TF).  A value
 *     it does not know refuses the load with EINVAL; on a CPU without
 *     L1TF (svm) every value reads back "not affected"; on one with it
 *     (the vmx machine's Skylake-X) auto reads back the host's l1tf=
 *     policy (cond by default), and "always" makes an exit handled in
 *     the module (CPUID) at least a 64 KiB read dearer than "never", as
 *     the guest's TSC shows: under Bochs it counts instructions.
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
#include "guest.h"

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

/* 6. L1TF */

#define L1D_PARAM	"/sys/module/" RINGVM_MODULE_NAME \
			"/parameters/vmentry_l1d_flush"
#define L1TF_SYSFS	"/sys/devices/system/cpu/vulnerabilities/l1tf"
#define L1D_TIMED_EXITS	200
/* The software flush reads 1024 lines; each is at least one instruction. */
#define L1D_FLUSH_MIN_INSNS	1024

/* What vmentry_l1d_flush=auto becomes under this kernel's l1tf= option. */
static const char *l1d_auto_mode(void)
{
	char cmdline[1024];
	const char *opt;

	sysfs_read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	opt = strstr(cmdline, "l1tf=");
	if (!opt)
		return "cond";			/* the kernel's default: flush */
	opt += strlen("l1tf=");
	if (!strncmp(opt, "off", 3))
		return "never";
	if (!strncmp(opt, "full", 4))
		return "always";
	return "cond";
}

/* Guest code: the TSC ticks of L1D_TIMED_EXITS CPUID exits, again and again. */
static void guest_time_exits(void)
{
	__u32 r[4];
	__u64 t0;
	int i;

	for (;;) {
		t0 = guest_rdtsc();
		for (i = 0; i < L1D_TIMED_EXITS; i++)
			guest_cpuid(0, 0, r);
		GUEST_SYNC(guest_rdtsc() - t0);
	}
}

/*
 * Load ringvm with vmentry_l1d_flush=@mode, check what it reads back, and
 * return the fewest TSC ticks of one CPUID exit over five timed rounds
 * (the fewest: a host interrupt in a round only adds).
 */
static __u64 l1d_exit_cost(struct __test_metadata *_metadata,
			   const char *mode, const char *expect)
{
	char params[64], got[64];
	__u64 best = ~0ULL;
	struct test_vcpu *vcpu;
	struct test_vm *vm;
	struct ucall uc;
	int i, ret;

	snprintf(params, sizeof(params), "vmentry_l1d_flush=%s", mode);
	ret = __ringvm_finit_module(ringvm_ko_path(), params);
	ASSERT_EQ(0, ret) TH_LOG("load with %s: %s", params, strerror(-ret));
	EXPECT_STREQ(expect, sysfs_read_line(L1D_PARAM, got, sizeof(got)))
		TH_LOG("loaded with %s", params);

	vm = vm_create_guest(&vcpu, guest_time_exits);
	for (i = 0; i < 5; i++) {
		ASSERT_UCALL(vcpu, &uc, UCALL_SYNC);
		if (uc.args[0] < best)
			best = uc.args[0];
	}
	vm_destroy(vm);
	ASSERT_EQ(0, __ringvm_unload());
	return best / L1D_TIMED_EXITS;
}

TEST_F_TIMEOUT(module, l1d_flush_policy, 600)
{
	static const char * const bad[] = { "", "sometimes", "\"not affected\"",
					    "always,never" };
	char l1tf[256], params[64];
	__u64 never, always;
	bool affected;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(params, sizeof(params), "vmentry_l1d_flush=%s", bad[i]);
		ret = __ringvm_finit_module(ringvm_ko_path(), params);
		ASSERT_EQ(-EINVAL, ret) TH_LOG("load with '%s': %s", params,
					       strerror(-ret));
		assert_unloaded(_metadata);
	}

	sysfs_read_line(L1TF_SYSFS, l1tf, sizeof(l1tf));
	ASSERT_NE('\0', l1tf[0]) TH_LOG("%s unreadable", L1TF_SYSFS);
	affected = strncmp(l1tf, "Not affected", 12) != 0;
	TH_LOG("host l1tf: %s; auto here means %s", l1tf,
	       affected ? l1d_auto_mode() : "not affected");

	if (!affected) {
		l1d_exit_cost(_metadata, "auto", "not affected");
		l1d_exit_cost(_metadata, "always", "not affected");
		return;
	}
	/* An affected model whose ARCH_CAPABILITIES says skip: no flush. */
	if (cpuinfo_has("flags", "arch_capabilities") > 0) {
		char got[64];

		ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
		sysfs_read_line(L1D_PARAM, got, sizeof(got));
		ASSERT_EQ(0, __ringvm_unload());
		if (!strcmp(got, "not affected"))
			SKIP(return, "ARCH_CAPABILITIES: no flush needed");
	}
	l1d_exit_cost(_metadata, "auto", l1d_auto_mode());
	never = l1d_exit_cost(_metadata, "never", "never");
	always = l1d_exit_cost(_metadata, "always", "always");
	TH_LOG("one CPUID exit: %llu ticks with never, %llu with always",
	       (unsigned long long)never, (unsigned long long)always);
	ASSERT_LE(never + L1D_FLUSH_MIN_INSNS, always)
		TH_LOG("always did not flush L1D on every entry");
}

RINGVM_TEST_MAIN
