// SPDX-License-Identifier: GPL-2.0
/*
 * ynl_test: the "ringvm" generic netlink family driven by the kernel's own
 * ynl client (tools/net/ynl/cli.py of Linux 6.12) with nothing but
 * uapi/ringvm.yaml, as a user scripts it:
 *
 *	ynl --spec ringvm.yaml --do caps-get
 *	ynl --spec ringvm.yaml --do vm-new --json '{"name": ...}'
 *	ynl --spec ringvm.yaml --do vm-get --json '{"name": ...}'
 *	ynl --spec ringvm.yaml --dump vm-get
 *	ynl --spec ringvm.yaml --do vm-del --json '{"name": ...}'
 *	ynl --spec ringvm.yaml --subscribe events --sleep 2
 *
 * and what comes back checked against RINGVM_GET_CAPS and libringvm's own
 * netlink code.  The client and the python3 it runs on are the runner's
 * ynl_test.root (scripts/ynl-payload.sh), in the initramfs of the machines
 * that run this test only; without them every case skips.  They run with
 * --no-schema: the guest has no jsonschema, and make validates the spec
 * against the same schema (scripts/check-spec-schema.py).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "guest.h"

#define YNL_DEFAULT	"/ringvm/ynl/ynl"
#define SPEC_DEFAULT	"/ringvm/ynl/ringvm.yaml"
#define VM_NAME		GUEST_TEST_VM_PREFIX "ynl"
/* Two regions: the multi-attr nest goes both ways. */
#define VM_REGIONS							\
	"[{\"gpa\": 0, \"size\": 1048576}, "				\
	"{\"gpa\": 4294967296, \"size\": 65536}]"
#define VM_NEW_JSON							\
	"{\"name\": \"" VM_NAME "\", \"mem-region\": " VM_REGIONS	\
	", \"max-vcpus\": 2}"
#define VM_BY_NAME	"{\"name\": \"" VM_NAME "\"}"

/* x86-64 syscall numbers: where a sleeping python3 waits. */
#define NR_NANOSLEEP		35
#define NR_CLOCK_NANOSLEEP	230

static const char *ynl_path(void)
{
	return getenv("RINGVM_YNL") ?: YNL_DEFAULT;
}

static const char *spec_path(void)
{
	return getenv("RINGVM_YNL_SPEC") ?: SPEC_DEFAULT;
}

/* Why the client cannot run here, or NULL. */
static const char *ynl_missing(void)
{
	if (access(ynl_path(), X_OK))
		/* the runner adds ynl_test.root where ynl_test is listed */
		return "no ynl client in this machine (ynl_test.root)";
	if (access(spec_path(), R_OK))
		return "no ringvm.yaml beside the ynl client";
	return NULL;
}

/*
 * ynl --spec SPEC --no-schema --output-json MODE OP [--json JSON]: the
 * reply is one JSON value on stdout.  run_prog()'s 0 or -errno.
 */
static int run_ynl(struct run_result *res, const char *mode, const char *op,
		   const char *json)
{
	char *argv[] = {
		(char *)ynl_path(), "--spec", (char *)spec_path(),
		"--no-schema", "--output-json", (char *)mode, (char *)op,
		json ? "--json" : NULL, (char *)json, NULL,
	};
	struct timespec t0, t1;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = run_prog(argv, res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* What python3 costs in this machine. */
	ksft_print_msg("ynl %s %s: %.2f s\n", mode, op,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ret;
}

/* Member @key of JSON object @obj as an unsigned number. */
static int json_u64(const char *obj, const char *key, __u64 *val)
{
	char buf[32], *end;
	int ret = json_get(obj, key, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	return errno || end == buf || *end ? -EINVAL : 0;
}

/*
 * Start "ynl --subscribe events --sleep SECS" with its stdout on a pipe
 * (*@outfd) and wait until it sleeps, which it does only once it has
 * joined the group.  Its pid, or -errno.
 */
static pid_t ynl_subscribe(int *outfd, const char *secs)
{
	char path[64], line[64];
	int fds[2], fd, i;
	pid_t pid;
	long nr;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 ||
		    dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fds[0]);
		execl(ynl_path(), ynl_path(), "--spec", spec_path(),
		      "--no-schema", "--output-json", "--subscribe", "events",
		      "--sleep", secs, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*outfd = fds[0];

	/*
	 * /proc/PID/syscall names the system call a blocked task is in:
	 * python3's time.sleep() is clock_nanosleep().  Up to 120 s (guest
	 * time) for python3 to start and read the spec.
	 */
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (i = 0; i < 12000; i++) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			break;
		memset(line, 0, sizeof(line));
		if (read(fd, line, sizeof(line) - 1) < 0)
			line[0] = 0;
		close(fd);
		nr = strtol(line, NULL, 10);
		if (line[0] >= '0' && line[0] <= '9' &&
		    (nr == NR_CLOCK_NANOSLEEP || nr == NR_NANOSLEEP))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -ETIMEDOUT;
}

/* Read @fd to its end into @buf; the child's exit status, or -errno. */
static int ynl_collect(pid_t pid, int fd, char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;
	int status;

	while (used < len - 1) {
		n = read(fd, buf + used, len - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += n;
	}
	buf[used] = 0;
	close(fd);
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

FIXTURE(ynl) {
	struct ringvm_nl *nl;
	pid_t sub;		/* a subscriber still running */
	struct run_result res;
	char elem[4096];
	char buf[4096];
};

FIXTURE_SETUP(ynl)
{
	const char *why = ynl_missing();
	int ret;

	self->nl = NULL;
	self->sub = 0;
	if (why)
		SKIP(return, "%s", why);
	ret = ringvm_ensure_loaded();
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(ynl)
{
	struct ringvm_nl_vm v;

	if (self->sub > 0) {
		kill(self->sub, SIGKILL);
		waitpid(self->sub, NULL, 0);
	}
	if (!self->nl)
		return;
	if (!__ringvm_nl_vm_get(self->nl, 0, VM_NAME, &v))
		__ringvm_nl_vm_del(self->nl, v.id, NULL);
	ringvm_nl_close(self->nl);
}

/*
 * Each ynl run starts python3 and parses the spec in pure Python: 0.2 s
 * of a host CPU, a few seconds of an emulated one; hence the limits.
 */

/* caps-get says what RINGVM_GET_CAPS says. */
TEST_F_TIMEOUT(ynl, caps_get, 120)
{
	struct ringvm_caps caps;
	const char *arch;
	__u64 v;
	int fd;

	fd = __ringvm_open();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	ASSERT_EQ(0, __ringvm_get_caps(fd, &caps));
	close(fd);

	ASSERT_EQ(0, run_ynl(&self->res, "--do", "caps-get", NULL));
	ASSERT_EQ(0, self->res.status)
		TH_LOG("ynl: %s%s", self->res.out, self->res.err);
	ASSERT_TRUE(json_valid(self->res.out))
		TH_LOG("not JSON: %s", self->res.out);

	ASSERT_EQ(0, json_u64(self->res.out, "api-version", &v));
	EXPECT_EQ(RINGVM_API_VERSION, v);
	/* The enum by its name in the spec. */
	ASSERT_EQ(0, json_get(self->res.out, "arch", self->buf,
			      sizeof(self->buf)));
	arch = caps.arch == RINGVM_ARCH_VMX ? "\"vmx\"" : "\"svm\"";
	EXPECT_STREQ(arch, self->buf);
	ASSERT_EQ(0, json_u64(self->res.out, "features", &v));
	EXPECT_EQ(caps.features, v);
	ASSERT_EQ(0, json_u64(self->res.out, "page-sizes", &v));
	EXPECT_EQ(caps.page_sizes, v);
	ASSERT_EQ(0, json_u64(self->res.out, "nr-asids", &v));
	EXPECT_EQ(caps.nr_asids, v);
	ASSERT_EQ(0, json_u64(self->res.out, "hw-revision", &v));
	EXPECT_EQ(caps.hw_revision, v);
	ASSERT_EQ(0, json_u64(self->res.out, "nr-cpus-enabled", &v));
	EXPECT_EQ(caps.nr_cpus_enabled, v);
	EXPECT_EQ(cpus_online(), (int)v);
}

/*
 * vm-new, vm-get (do and dump), vm-del, each a ynl run, while another ynl has
 * subscribed to the events group: it must see created, then destroyed,
 * for this VM and nothing else.  The subscriber is stopped while the
 * others run, so its --sleep cannot run out before the last event: a
 * stopped clock_nanosleep() resumes on SIGCONT, and returns at once if
 * its time has passed.
 */
TEST_F_TIMEOUT(ynl, vm_lifecycle_events, 300)
{
	struct ringvm_nl_vm v;
	char *out = self->res.out;
	__u64 id, n;
	int fd, i, ret;
	pid_t sub;
	bool found;

	sub = ynl_subscribe(&fd, "2");
	ASSERT_LT(0, sub) TH_LOG("ynl --subscribe: %s", strerror(-sub));
	self->sub = sub;
	ASSERT_EQ(0, kill(sub, SIGSTOP));

	/* vm-new: the reply is the VM, as vm-get gives it. */
	ASSERT_EQ(0, run_ynl(&self->res, "--do", "vm-new", VM_NEW_JSON));
	EXPECT_EQ(0, self->res.status)
		TH_LOG("ynl: %s%s", out, self->res.err);
	ASSERT_TRUE(json_valid(out)) TH_LOG("not JSON: %s", out);
	ASSERT_EQ(0, json_u64(out, "id", &id));
	EXPECT_NE(0, id);
	ASSERT_EQ(0, json_get(out, "name", self->buf, sizeof(self->buf)));
	EXPECT_STREQ("\"" VM_NAME "\"", self->buf);
	ASSERT_EQ(0, json_get(out, "mem-region", self->buf,
			      sizeof(self->buf)));
	EXPECT_STREQ(VM_REGIONS, self->buf);
	ASSERT_EQ(0, json_u64(out, "max-vcpus", &n));
	EXPECT_EQ(2, n);
	ASSERT_EQ(0, json_u64(out, "nr-vcpus", &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, json_u64(out, "mem-allocated", &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, json_get(out, "flags", self->buf, sizeof(self->buf)));
	EXPECT_STREQ("[]", self->buf);

	/* The kernel agrees, through libringvm. */
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, VM_NAME, &v));
	EXPECT_EQ(id, v.id);
	ASSERT_EQ(2, v.nr_regions);
	EXPECT_EQ(0, v.regions[0].gpa);
	EXPECT_EQ(0x100000, v.regions[0].size);
	EXPECT_EQ(0x100000000ULL, v.regions[1].gpa);
	EXPECT_EQ(0x10000, v.regions[1].size);
	EXPECT_EQ(2, v.max_vcpus);

	/* vm-get by name: the same VM. */
	ASSERT_EQ(0, run_ynl(&self->res, "--do", "vm-get", VM_BY_NAME));
	EXPECT_EQ(0, self->res.status)
		TH_LOG("ynl: %s%s", out, self->res.err);
	ASSERT_EQ(0, json_u64(out, "id", &n));
	EXPECT_EQ(id, n);
	ASSERT_EQ(0, json_get(out, "mem-region", self->buf,
			      sizeof(self->buf)));
	EXPECT_STREQ(VM_REGIONS, self->buf);

	/* The same name again: EEXIST, no event. */
	ASSERT_EQ(0, run_ynl(&self->res, "--do", "vm-new", VM_NEW_JSON));
	EXPECT_EQ(1, self->res.status) TH_LOG("ynl: %s%s", out,
					      self->res.err);
	EXPECT_NE(NULL, strstr(out, "File exists")) TH_LOG("ynl: %s", out);

	/* The dump lists it, with its id, memory and vCPUs. */
	ASSERT_EQ(0, run_ynl(&self->res, "--dump", "vm-get", NULL));
	EXPECT_EQ(0, self->res.status)
		TH_LOG("ynl: %s%s", out, self->res.err);
	ASSERT_TRUE(json_valid(out)) TH_LOG("not JSON: %s", out);
	found = false;
	for (i = 0; !json_index(out, i, self->elem, sizeof(self->elem));
	     i++) {
		ASSERT_EQ(0, json_get(self->elem, "name", self->buf,
				      sizeof(self->buf)));
		if (strcmp(self->buf, "\"" VM_NAME "\""))
			continue;
		found = true;
		ASSERT_EQ(0, json_u64(self->elem, "id", &n));
		EXPECT_EQ(id, n);
		ASSERT_EQ(0, json_get(self->elem, "mem-region", self->buf,
				      sizeof(self->buf)));
		EXPECT_STREQ(VM_REGIONS, self->buf);
		ASSERT_EQ(0, json_u64(self->elem, "max-vcpus", &n));
		EXPECT_EQ(2, n);
	}
	EXPECT_TRUE(found) TH_LOG("vm-get dump: %s", out);

	/* vm-del by name: gone for the kernel and for the dump. */
	ASSERT_EQ(0, run_ynl(&self->res, "--do", "vm-del", VM_BY_NAME));
	EXPECT_EQ(0, self->res.status)
		TH_LOG("ynl: %s%s", out, self->res.err);
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, VM_NAME, &v));
	ASSERT_EQ(0, run_ynl(&self->res, "--dump", "vm-get", NULL));
	EXPECT_EQ(0, self->res.status);
	EXPECT_EQ(NULL, strstr(out, VM_NAME)) TH_LOG("vm-get dump: %s", out);

	/* What the subscriber saw. */
	ASSERT_EQ(0, kill(sub, SIGCONT));
	ret = ynl_collect(sub, fd, out, sizeof(self->res.out));
	self->sub = 0;
	ASSERT_EQ(0, ret) TH_LOG("ynl --subscribe exited %d: %s", ret, out);
	ASSERT_TRUE(json_valid(out)) TH_LOG("not JSON: %s", out);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, json_index(out, i, self->elem,
					sizeof(self->elem)))
			TH_LOG("notification %d missing: %s", i, out);
		ASSERT_EQ(0, json_get(self->elem, "name", self->buf,
				      sizeof(self->buf)));
		EXPECT_STREQ("\"vm-event\"", self->buf);
		ASSERT_EQ(0, json_get(self->elem, "msg", self->buf,
				      sizeof(self->buf)));
		ASSERT_EQ(0, json_u64(self->buf, "id", &n));
		EXPECT_EQ(id, n);
		strcpy(self->elem, self->buf);
		ASSERT_EQ(0, json_get(self->elem, "name", self->buf,
				      sizeof(self->buf)));
		EXPECT_STREQ("\"" VM_NAME "\"", self->buf);
		ASSERT_EQ(0, json_get(self->elem, "event", self->buf,
				      sizeof(self->buf)));
		EXPECT_STREQ(i ? "\"destroyed\"" : "\"created\"", self->buf);
	}
	EXPECT_EQ(-ENOENT, json_index(out, 2, self->elem, sizeof(self->elem)))
		TH_LOG("more than two notifications: %s", out);
}

/* An error reaches the user as the errno and the kernel's extack. */
TEST_F_TIMEOUT(ynl, vm_del_missing, 120)
{
	ASSERT_EQ(0, run_ynl(&self->res, "--do", "vm-del",
			 "{\"name\": \"" GUEST_TEST_VM_PREFIX "ynl-none\"}"));
	EXPECT_EQ(1, self->res.status)
		TH_LOG("ynl: %s%s", self->res.out, self->res.err);
	EXPECT_NE(NULL, strstr(self->res.out, "No such file or directory"))
		TH_LOG("ynl: %s", self->res.out);
	EXPECT_NE(NULL, strstr(self->res.out, "no such VM"))
		TH_LOG("ynl: %s", self->res.out);
}

RINGVM_GUEST_TEST_MAIN
