// SPDX-License-Identifier: GPL-2.0
/*
 * negative_test: one test per validation branch of /dev/ringvm and of the
 * netlink caps-get, each request valid in every other respect, each
 * checking the exact errno (and, for netlink, the extack message).  The
 * *_valid tests are the baselines: the same requests without the fault
 * succeed, so a refusal below is the branch under test and nothing else.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define NOBODY		65534
#define REJECT_MSG	"attribute not accepted in a caps-get request"

FIXTURE(negative) {
	int fd;
	struct ringvm_nl *nl;
};

FIXTURE_SETUP(negative)
{
	int ret = ringvm_ensure_loaded();

	self->fd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->fd = __ringvm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(negative)
{
	ringvm_nl_close(self->nl);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* RINGVM_GET_CAPS on @caps as given (no zeroing): 0 or -errno. */
static int get_caps_raw(int fd, struct ringvm_caps *caps)
{
	return __ringvm_ioctl(fd, RINGVM_GET_CAPS, (unsigned long)caps);
}

TEST_F(negative, caps_valid)
{
	struct ringvm_caps caps = { 0 };

	ASSERT_EQ(0, get_caps_raw(self->fd, &caps));
	ASSERT_NE(RINGVM_ARCH_NONE, caps.arch);
	ASSERT_EQ(RINGVM_API_VERSION,
		  __ringvm_ioctl(self->fd, RINGVM_GET_API_VERSION, 0));
}

TEST_F(negative, unknown_ioctl_nr)
{
	ASSERT_EQ(-ENOTTY, __ringvm_ioctl(self->fd, _IO(RINGVMIO, 0x7f), 0));
}

/* Another driver's ioctl (KVM_GET_API_VERSION) on /dev/ringvm. */
TEST_F(negative, foreign_ioctl_type)
{
	ASSERT_EQ(-ENOTTY, __ringvm_ioctl(self->fd, _IO(0xAE, 0x00), 0));
}

TEST_F(negative, api_version_nonzero_arg)
{
	ASSERT_EQ(-EINVAL,
		  __ringvm_ioctl(self->fd, RINGVM_GET_API_VERSION, 1));
}

/* An address that is mapped but never accessible. */
TEST_F(negative, caps_bad_pointer)
{
	size_t page = getpagesize();
	void *p = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->fd, RINGVM_GET_CAPS,
					  (unsigned long)p));
	munmap(p, page);
}

TEST_F(negative, caps_flags)
{
	struct ringvm_caps caps;
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&caps, 0, sizeof(caps));
		caps.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, get_caps_raw(self->fd, &caps))
			TH_LOG("flags = %#x", caps.flags);
	}
}

/* tsc_khz (once pad) is output only: what comes in is ignored. */
TEST_F(negative, caps_tsc_khz_ignored)
{
	static const __u32 ins[] = { 1, 0x80000000 };
	struct ringvm_caps caps;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ins); i++) {
		memset(&caps, 0, sizeof(caps));
		caps.tsc_khz = ins[i];
		EXPECT_EQ(0, get_caps_raw(self->fd, &caps))
			TH_LOG("tsc_khz = %#x", ins[i]);
		EXPECT_NE(ins[i], caps.tsc_khz);
		EXPECT_NE(0, caps.tsc_khz);
	}
}

TEST_F(negative, caps_reserved)
{
	static const __u64 vals[] = { 1, 1ULL << 63 };
	struct ringvm_caps caps;
	unsigned int i, v;

	for (i = 0; i < ARRAY_SIZE(caps.reserved); i++) {
		for (v = 0; v < ARRAY_SIZE(vals); v++) {
			memset(&caps, 0, sizeof(caps));
			caps.reserved[i] = vals[v];
			EXPECT_EQ(-EINVAL, get_caps_raw(self->fd, &caps))
				TH_LOG("reserved[%u] = %#llx", i,
				       (unsigned long long)vals[v]);
		}
	}
}

/* The same number with another size: an old or foreign struct layout. */
TEST_F(negative, caps_wrong_size)
{
	static const int deltas[] = { -8, 8 };
	struct {
		struct ringvm_caps caps;
		__u64 more;
	} buf;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(deltas); i++) {
		unsigned long cmd = _IOC(_IOC_READ | _IOC_WRITE, RINGVMIO,
					 _IOC_NR(RINGVM_GET_CAPS),
					 sizeof(struct ringvm_caps) + deltas[i]);

		memset(&buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->fd, cmd,
						  (unsigned long)&buf))
			TH_LOG("size %zu", sizeof(struct ringvm_caps) +
			       deltas[i]);
	}
}

/* The same number and size, read-only: a struct the kernel never reads. */
TEST_F(negative, caps_wrong_direction)
{
	struct ringvm_caps caps = { 0 };
	unsigned long cmd = _IOR(RINGVMIO, _IOC_NR(RINGVM_GET_CAPS),
				 struct ringvm_caps);

	ASSERT_EQ(-ENOTTY, __ringvm_ioctl(self->fd, cmd,
					  (unsigned long)&caps));
}

TEST_F(negative, dev_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, st.st_uid);
	ASSERT_EQ(0, st.st_gid);
}

/* Child: drop to nobody, open the device; exit 0 if it opened, or errno. */
static void open_as_nobody(void)
{
	int fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(255);
	fd = __ringvm_open();
	_exit(fd >= 0 ? 0 : -fd);
}

TEST_F(negative, open_unprivileged)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		open_as_nobody();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(255, WEXITSTATUS(status)) TH_LOG("cannot become nobody");
	ASSERT_EQ(EACCES, WEXITSTATUS(status))
		TH_LOG("uid %d opened /dev/ringvm, or got %s", NOBODY,
		       strerror(WEXITSTATUS(status)));
}

/*
 * caps-get carrying one attribute of @type with @len bytes of payload:
 * the request's errno, with the extack in ringvm_nl_extack(nl).
 */
static int caps_get_with(struct __test_metadata *_metadata,
			 struct ringvm_nl *nl, int type, int len)
{
	static const __u64 zero;
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_CAPS_GET);

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put(msg, type, len, &zero));
	return __ringvm_nl_transact(nl, msg, NULL, NULL);
}

TEST_F(negative, nl_caps_get_valid)
{
	struct ringvm_nl_caps caps;

	ASSERT_EQ(0, __ringvm_nl_caps_get(self->nl, &caps));
	ASSERT_STREQ("", ringvm_nl_extack(self->nl));
	ASSERT_EQ(RINGVM_NL_CAPS_ATTRS_ALL, caps.attrs);
}

TEST_F(negative, nl_unknown_attr)
{
	ASSERT_EQ(-EINVAL, caps_get_with(_metadata, self->nl,
					 RINGVM_A_CAPS_MAX + 1, 4));
	ASSERT_STRNE("", ringvm_nl_extack(self->nl));
	TH_LOG("extack: %s", ringvm_nl_extack(self->nl));
}

/* Every caps attribute but PAD, with the payload width of the reply's. */
TEST_F(negative, nl_known_attr)
{
	int type;

	for (type = RINGVM_A_CAPS_PAD + 1; type <= RINGVM_A_CAPS_MAX; type++) {
		int len = type == RINGVM_A_CAPS_FEATURES ||
			  type == RINGVM_A_CAPS_PAGE_SIZES ? 8 : 4;

		EXPECT_EQ(-EINVAL, caps_get_with(_metadata, self->nl, type,
						 len))
			TH_LOG("attribute %d accepted", type);
		EXPECT_STREQ(REJECT_MSG, ringvm_nl_extack(self->nl))
			TH_LOG("attribute %d", type);
	}
}

/* PAD is a caps attribute too, and as unwelcome in a request. */
TEST_F(negative, nl_pad_attr)
{
	ASSERT_EQ(-EINVAL, caps_get_with(_metadata, self->nl,
					 RINGVM_A_CAPS_PAD, 0));
	ASSERT_STREQ(REJECT_MSG, ringvm_nl_extack(self->nl));
}

RINGVM_TEST_MAIN
