// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug_test: ringvm follows CPU hotplug.  cpu1 goes offline and online
 * through /sys/devices/system/cpu/cpu1/online while ringvm is loaded,
 * before it is loaded and before it is unloaded; each time the number of
 * CPUs with virtualization on (nr_cpus_enabled, ioctl and netlink) must
 * equal the number of online CPUs, and the device must keep answering.
 *
 * Needs a second CPU that can go offline; with one CPU every test is
 * skipped.  The teardown brings every CPU back online, whatever happened.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define NR_HOTPLUG_CYCLES	5
#define HOTPLUG_CPU		1

FIXTURE(hotplug) {
	int fd;
	int nr_online;		/* online CPUs with everything online */
};

FIXTURE_SETUP(hotplug)
{
	int ret;

	self->fd = -1;
	ASSERT_EQ(0, cpus_online_all());
	self->nr_online = cpus_online();
	ASSERT_LT(0, self->nr_online);
	ret = ringvm_ensure_loaded();
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->fd = __ringvm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(hotplug)
{
	EXPECT_EQ(0, cpus_online_all());
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* SKIP() must run in the test body: 6.1's harness runs it after setup. */
#define SKIP_WITHOUT_HOTPLUG_CPU()					\
	do {								\
		if (!cpu_hotpluggable(HOTPLUG_CPU))			\
			SKIP(return, "cpu%d missing or cannot go offline", \
			     HOTPLUG_CPU);				\
	} while (0)

/*
 * @fd answers, and ioctl and netlink both count @expect CPUs enabled,
 * which must also be the number online.
 */
static void assert_enabled(struct __test_metadata *_metadata, int fd,
			   int expect, const char *when)
{
	struct ringvm_nl_caps nc;
	struct ringvm_caps caps;
	struct ringvm_nl *nl;

	ASSERT_EQ(expect, cpus_online()) TH_LOG("%s", when);
	ASSERT_EQ(RINGVM_API_VERSION, __ringvm_get_api_version(fd));
	ASSERT_EQ(0, __ringvm_get_caps(fd, &caps));
	ASSERT_EQ(expect, (int)caps.nr_cpus_enabled) TH_LOG("%s", when);
	ASSERT_EQ(0, __ringvm_nl_open(&nl));
	ASSERT_EQ(0, __ringvm_nl_caps_get(nl, &nc));
	ringvm_nl_close(nl);
	ASSERT_EQ(expect, (int)nc.caps.nr_cpus_enabled) TH_LOG("%s", when);
}

static void reopen(struct __test_metadata *_metadata, int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = __ringvm_open();
	ASSERT_LE(0, *fd) TH_LOG("open: %s", strerror(-*fd));
}

TEST_F_TIMEOUT(hotplug, offline_online_cycles, 300)
{
	int i;

	SKIP_WITHOUT_HOTPLUG_CPU();
	assert_enabled(_metadata, self->fd, self->nr_online, "at start");
	for (i = 0; i < NR_HOTPLUG_CYCLES; i++) {
		ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, false));
		assert_enabled(_metadata, self->fd, self->nr_online - 1,
			       "cpu1 offline");
		ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, true));
		assert_enabled(_metadata, self->fd, self->nr_online,
			       "cpu1 back online");
	}
}

TEST_F_TIMEOUT(hotplug, load_while_offline, 300)
{
	SKIP_WITHOUT_HOTPLUG_CPU();
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, __ringvm_unload());

	ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, false));
	ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
	reopen(_metadata, &self->fd);
	assert_enabled(_metadata, self->fd, self->nr_online - 1,
		       "loaded with cpu1 offline");

	ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, true));
	assert_enabled(_metadata, self->fd, self->nr_online,
		       "cpu1 online after load");
}

TEST_F_TIMEOUT(hotplug, unload_while_offline, 300)
{
	SKIP_WITHOUT_HOTPLUG_CPU();
	ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, false));
	assert_enabled(_metadata, self->fd, self->nr_online - 1,
		       "cpu1 offline");
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, __ringvm_unload());

	/* cpu1 was left as found: it comes up, and ringvm takes it again. */
	ASSERT_EQ(0, cpu_set_online(HOTPLUG_CPU, true));
	ASSERT_EQ(self->nr_online, cpus_online());
	ASSERT_EQ(0, __ringvm_load(ringvm_ko_path()));
	reopen(_metadata, &self->fd);
	assert_enabled(_metadata, self->fd, self->nr_online,
		       "reloaded with cpu1 back");
}

RINGVM_TEST_MAIN
