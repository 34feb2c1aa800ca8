// SPDX-License-Identifier: GPL-2.0
/*
 * perf_test: the ringvm: trace events through the tools kernel people
 * already use, with no ringvm-specific client: Debian's perf and
 * trace-cmd, which the runner puts into the machines that run this test
 * (scripts/perf-payload.sh, selftests/Makefile TEST_ROOTS).
 *
 *  1. perf_list: `perf list 'ringvm:*'` names all nine ringvm: events
 *     while ringvm is loaded, and none once it is unloaded.
 *  2. perf_stat: `perf stat` around a guest that makes NR_CPUIDS CPUID
 *     exits counts exactly that many ringvm:ringvm_exit events with the
 *     vendor's raw CPUID reason (a --filter on hw_reason), at least as
 *     many exits in all, and as many ringvm:ringvm_entry events as exits.
 *  2b. perf_trace: `perf trace --no-syscalls -e ringvm:ringvm_exit`
 *     around the same guest prints exactly its CPUID exits (its VM and
 *     the vendor's raw reason, as perf trace formats the fields) among
 *     the others.
 *  3. trace_cmd: `trace-cmd record -e ringvm` around the same guest, then
 *     `trace-cmd report`: the guest's VM is created and destroyed, its
 *     CPUID exits are exactly NR_CPUIDS with reason cpuid, the vendor's
 *     raw reason and arch, at the CPUID's RIP; every entry has its exit,
 *     and its two ucalls are exits to user space with reason io.
 *
 * The guest runs in a child: this binary again, as "perf_test --child
 * FILE" (RINGVM_GUEST_TEST_MAIN_CHILD), which the tools start as their
 * command, so that perf counts only its events; under trace-cmd it
 * first waits for trace-cmd's recorders (recorders_reading()).  It
 * writes its VM's id, the CPUID's RIP and the arch to FILE.  A case
 * skips only when its tool is not in the machine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NR_CPUIDS	13
#define PERF		"/usr/bin/perf"
#define TRACE_CMD	"/usr/bin/trace-cmd"
#define GUEST_INFO	"/tmp/perf_test.guest"
#define TOOL_OUT	"/tmp/perf_test.out"
#define TRACE_DAT	"/tmp/perf_test.dat"

/* Raw exit reasons: Intel SDM Vol. 3D App. C, AMD APM Vol. 2 App. C */
#define VMX_REASON_CPUID	10
#define SVM_REASON_CPUID	0x72

static const char *const events[] = {
	"ringvm_vm_create", "ringvm_vm_destroy", "ringvm_vcpu_create",
	"ringvm_vcpu_destroy", "ringvm_entry", "ringvm_inj_event",
	"ringvm_exit", "ringvm_userspace_exit", "ringvm_npf",
};

/* 0. The child's guest, and running the tools */

static void guest_cpuids(void)
{
	__u32 eax, ebx, ecx, edx;
	__u64 rip = 0;
	unsigned int i;

	for (i = 0; i < NR_CPUIDS; i++) {
		eax = 0;
		ecx = 0;
		asm volatile("lea 1f(%%rip), %[rip]\n\t"
			     "1: cpuid"
			     : [rip] "=&D"(rip), "+a"(eax), "=b"(ebx),
			       "+c"(ecx), "=d"(edx) : : "memory");
	}
	GUEST_SYNC(rip);
	GUEST_DONE();
}

/* Whether process @pid has the file @name ("trace_pipe_raw") open. */
static bool has_open(pid_t pid, const char *name)
{
	char dir[64], path[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *de;
	bool found = false;
	const char *p;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		p = strrchr(target, '/');
		found = p && !strcmp(p + 1, name);
	}
	closedir(d);
	return found;
}

/*
 * Whether trace-cmd record's recorders are reading: every other child of
 * our parent (the trace-cmd that runs us) has a trace_pipe_raw open and
 * sleeps, which a recorder does only in its read loop.
 *
 * trace-cmd record (3.1, and upstream still) forks a recorder a CPU,
 * then the command, and does not wait for the recorders: each installs
 * its SIGUSR1 handler and enters its read loop only once it runs.  When
 * the command exits, trace-cmd sends SIGUSR1; a recorder that has not
 * yet reached the loop is killed by it (no handler yet) or skips the
 * loop and its final flush, and its CPU's events never reach the file.
 * On one CPU (Bochs) this child, which is short, runs to its end before
 * the recorder runs at all: "can not stat '/tmp/perf_test.dat.cpu0'".
 */
static bool recorders_reading(void)
{
	pid_t self = getpid(), parent = getppid();
	char path[64], buf[512], state;
	unsigned int n = 0, ready = 0;
	struct dirent *de;
	const char *p;
	int ppid;
	pid_t pid;
	DIR *d;
	FILE *f;

	d = opendir("/proc");
	if (!d)
		return false;
	while ((de = readdir(d))) {
		pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 ||
		    ppid != parent)
			continue;
		n++;
		ready += state == 'S' && has_open(pid, "trace_pipe_raw");
	}
	closedir(d);
	return n && ready == n;
}

/*
 * perf_test --child FILE [--after-recorders]: run guest_cpuids to its end
 * and write "vm ID rip RIP arch ARCH" to FILE; with --after-recorders,
 * first wait (up to 60 s) until trace-cmd record's recorders are reading
 * (recorders_reading()).  0, or 1 with why on stderr.
 */
static int guest_child(int argc, char **argv)
{
	struct test_vcpu *vcpu;
	struct test_vm *vm;
	struct ucall uc;
	unsigned int i;
	__u64 rip;
	FILE *f;
	int ret;

	if (argc != 2 && (argc != 3 || strcmp(argv[2], "--after-recorders"))) {
		fprintf(stderr, "usage: perf_test --child FILE "
			"[--after-recorders]\n");
		return 1;
	}
	if (argc == 3) {
		/* sleeping hands the CPU to a recorder that has not yet run */
		for (i = 0; !recorders_reading(); i++) {
			if (i == 6000) {
				fprintf(stderr, "child: trace-cmd's recorders "
					"are not reading after 60 s\n");
				return 1;
			}
			usleep(10000);
		}
	}
	ret = __vm_create_guest(&vm, &vcpu, guest_cpuids);
	if (ret) {
		fprintf(stderr, "child: vm_create_guest: %s\n", strerror(-ret));
		return 1;
	}
	if (__vcpu_run(vcpu) || get_ucall(vcpu, &uc) != UCALL_SYNC) {
		fprintf(stderr, "child: the guest did not reach GUEST_SYNC\n");
		return 1;
	}
	rip = uc.args[0];
	if (__vcpu_run(vcpu) || get_ucall(vcpu, &uc) != UCALL_DONE) {
		fprintf(stderr, "child: the guest did not reach GUEST_DONE\n");
		return 1;
	}
	f = fopen(argv[1], "w");
	if (!f) {
		fprintf(stderr, "child: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(f, "vm %u rip %llu arch %s\n", vm->id,
		(unsigned long long)rip,
		vm->arch == RINGVM_ARCH_SVM ? "svm" : "vmx");
	vm_destroy(vm);
	return fclose(f) ? 1 : 0;
}

/* What the child wrote. */
struct guest_info {
	unsigned int vm;
	unsigned long long rip;
	char arch[8];
};

static int read_guest_info(struct guest_info *gi)
{
	FILE *f = fopen(GUEST_INFO, "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "vm %u rip %llu arch %7s", &gi->vm, &gi->rip, gi->arch);
	fclose(f);
	return n == 3 ? 0 : -EINVAL;
}

/*
 * Run @argv with stdout and stderr into TOOL_OUT: its exit status, or
 * -1 if it did not exit.
 */
static int run_tool(const char *const argv[])
{
	struct timespec t0, t1;
	struct rusage ru;
	int st, fd;
	pid_t pid;

	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(TOOL_OUT, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		close(fd);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		/* no pager, no ~/.perfconfig */
		setenv("PAGER", "cat", 1);
		setenv("HOME", "/tmp", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st))
		return -1;
	/* how long a tool takes here (guest time), and on the CPU: Bochs */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "# %s %s: %ld ms, %ld ms on the CPU\n", argv[0],
		argv[1], (t1.tv_sec - t0.tv_sec) * 1000 +
		(t1.tv_nsec - t0.tv_nsec) / 1000000,
		(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return WEXITSTATUS(st);
}

/*
 * Copy what the last tool printed to the log, as "#" lines: those that
 * hold @match, all if it is NULL.
 */
static void show_tool_out(const char *match)
{
	char line[512];
	FILE *f = fopen(TOOL_OUT, "r");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n < 60) {
		if (match && !strstr(line, match))
			continue;
		fprintf(stderr, "#   %s", line);
		n++;
	}
	fclose(f);
}

/* This binary, for the tools to run as "--child" */
static const char *self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

FIXTURE(perf) {
	char exe[PATH_MAX];
};

FIXTURE_SETUP(perf)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	/* where perf and trace-cmd look first */
	ASSERT_NE(NULL, tracefs_dir("events/ringvm/enable"))
		TH_LOG("no tracefs with the ringvm events");
	ASSERT_NE(NULL, self_exe(self->exe, sizeof(self->exe)));
	unlink(GUEST_INFO);
}

FIXTURE_TEARDOWN(perf)
{
	unlink(GUEST_INFO);
	unlink(TOOL_OUT);
	unlink(TRACE_DAT);
}

#define REQUIRE_TOOL(path)						\
	do {								\
		if (access(path, X_OK))					\
			SKIP(return, "no %s in this machine (the runner "	\
			     "adds it with perf_test's root segment: "	\
			     "scripts/perf-payload.sh)", path);		\
	} while (0)

/*
 * Run @argv, a tool whose command is this binary's child, and read what
 * the child wrote into @gi: both must work; the tool's output goes to
 * the log when one does not.
 */
static void run_tool_child(struct __test_metadata *_metadata,
			   const char *const argv[], struct guest_info *gi)
{
	int ret = run_tool(argv);

	if (ret)
		show_tool_out(NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s %s exited with %d", argv[0], argv[1],
				 ret);
	ret = read_guest_info(gi);
	if (ret)
		show_tool_out(NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", GUEST_INFO, strerror(-ret));
}

/* 1. perf list */

/*
 * The ringvm: tracepoints `perf list 'ringvm:*'` prints, as a bit mask
 * over events[]; -1 for a ringvm: name not in events[] or a failed run.
 */
static long perf_list_ringvm(void)
{
	static const char *const argv[] = { PERF, "list", "ringvm:*", NULL };
	char line[512], name[128];
	unsigned int i;
	long mask = 0;
	FILE *f;

	if (run_tool(argv))
		return -1;
	f = fopen(TOOL_OUT, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %127s", name) != 1 ||
		    strncmp(name, "ringvm:", 7) ||
		    !strstr(line, "[Tracepoint event]"))
			continue;
		for (i = 0; i < ARRAY_SIZE(events); i++)
			if (!strcmp(name + 7, events[i]))
				break;
		if (i == ARRAY_SIZE(events)) {
			fprintf(stderr, "# perf list: unknown %s\n", name);
			mask = -1;
			break;
		}
		mask |= 1L << i;
	}
	fclose(f);
	return mask;
}

TEST_F(perf, perf_list)
{
	long mask;

	REQUIRE_TOOL(PERF);
	mask = perf_list_ringvm();
	if (mask != (1L << ARRAY_SIZE(events)) - 1)
		show_tool_out("ringvm");
	EXPECT_EQ((1L << ARRAY_SIZE(events)) - 1, mask);

	/* they go with the module */
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	mask = perf_list_ringvm();
	if (mask)
		show_tool_out("ringvm");
	EXPECT_EQ(0, mask);
}

/* 2. perf stat */

/* Up to @max counts of perf stat -x, output in TOOL_OUT, in order. */
static int perf_stat_counts(char names[][64], unsigned long long *counts,
			    int max)
{
	char line[512], *val, *unit, *name, *save;
	FILE *f = fopen(TOOL_OUT, "r");
	int n = 0;

	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		/* VALUE,UNIT,EVENT,... (UNIT empty: strsep, not strtok) */
		save = line;
		val = strsep(&save, ",");
		unit = strsep(&save, ",");
		name = strsep(&save, ",");
		if (!unit || !name)
			continue;
		snprintf(names[n], 64, "%s", name);
		counts[n] = strtoull(val, &unit, 10);
		if (unit == val || *unit)
			counts[n] = ~0ULL;	/* <not counted> */
		n++;
	}
	fclose(f);
	return n;
}

TEST_F(perf, perf_stat)
{
	char filter[64], names[3][64];
	unsigned long long c[3];
	struct guest_info gi;
	bool svm = cpuinfo_arch() == RINGVM_ARCH_SVM;
	const char *argv[] = {
		PERF, "stat", "-x", ",",
		"-e", "ringvm:ringvm_exit", "--filter", filter,
		"-e", "ringvm:ringvm_exit", "-e", "ringvm:ringvm_entry",
		"--", self->exe, "--child", GUEST_INFO, NULL
	};
	int n;

	REQUIRE_TOOL(PERF);
	snprintf(filter, sizeof(filter), "hw_reason == %#x",
		 svm ? SVM_REASON_CPUID : VMX_REASON_CPUID);
	run_tool_child(_metadata, argv, &gi);

	n = perf_stat_counts(names, c, 3);
	if (n != 3)
		show_tool_out(NULL);
	ASSERT_EQ(3, n);
	EXPECT_STREQ("ringvm:ringvm_exit", names[0]);
	EXPECT_STREQ("ringvm:ringvm_exit", names[1]);
	EXPECT_STREQ("ringvm:ringvm_entry", names[2]);
	/* exactly the guest's CPUIDs */
	EXPECT_EQ(NR_CPUIDS, c[0]) TH_LOG("filter '%s'", filter);
	/* and more: the ucalls, the first touches of its pages */
	EXPECT_LE(NR_CPUIDS + 2, c[1]);
	EXPECT_NE(~0ULL, c[1]);
	/* every entry ends in an exit */
	EXPECT_EQ(c[1], c[2]);
}

/*
 * 2b. perf trace: the events as perf trace prints them (-e with a
 * tracepoint, --no-syscalls), one line each with the fields it decodes
 * from the format file: exactly the guest's CPUIDs among its VM's exits.
 */
TEST_F(perf, perf_trace)
{
	const char *argv[] = {
		PERF, "trace", "--no-syscalls", "-e", "ringvm:ringvm_exit",
		"--", self->exe, "--child", GUEST_INFO, NULL
	};
	unsigned int lines = 0, cpuids = 0;
	char line[512], vm[32], hw[32];
	struct guest_info gi;
	FILE *f;

	REQUIRE_TOOL(PERF);
	run_tool_child(_metadata, argv, &gi);

	/*
	 * perf trace prints the fields itself, in decimal, and leaves out
	 * those that are 0: "ringvm:ringvm_exit(vm: 2, reason: 4, arch: 2,
	 * hw_reason: 1024, rip: 4203520, ...)".
	 */
	snprintf(vm, sizeof(vm), "(vm: %u, ", gi.vm);
	snprintf(hw, sizeof(hw), " hw_reason: %u,",
		 cpuinfo_arch() == RINGVM_ARCH_SVM ? SVM_REASON_CPUID :
						     VMX_REASON_CPUID);
	f = fopen(TOOL_OUT, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "ringvm:ringvm_exit");

		if (!p || !strstr(p, vm))
			continue;
		lines++;
		cpuids += !!strstr(p, hw);
	}
	fclose(f);
	if (cpuids != NR_CPUIDS)
		show_tool_out(NULL);
	EXPECT_EQ(NR_CPUIDS, cpuids);
	/* and the other exits: the ucalls, the first touches */
	EXPECT_LE(NR_CPUIDS + 2, lines);
}

/* 3. trace-cmd record and report */

/*
 * Field @key of a trace-cmd report line ("... ringvm_x: k v k v ...") into
 * @buf: @buf, or "" if there is none.
 */
static const char *field(const char *line, const char *key, char *buf,
			 size_t len)
{
	const char *p = strstr(line, ": ringvm_");
	size_t klen = strlen(key), n;

	buf[0] = 0;
	if (!p)
		return buf;
	p = strchr(p + 2, ':');
	while (p && *p) {
		p += strspn(p, ": ");
		if (!strncmp(p, key, klen) && p[klen] == ' ') {
			p += klen + 1;
			n = strcspn(p, " \n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p, n);
			buf[n] = 0;
			return buf;
		}
		/* skip a key and its value */
		p += strcspn(p, " ");
		p += strspn(p, " ");
		p += strcspn(p, " \n");
	}
	return buf;
}

/* Whether @line is event @name ("ringvm_exit") of VM @vm. */
static bool is_event(const char *line, const char *name, unsigned int vm)
{
	char want[64], buf[32];
	const char *p = strstr(line, ": ringvm_");

	snprintf(want, sizeof(want), ": %s:", name);
	if (!p || strncmp(p, want, strlen(want)))
		return false;
	return strtoul(field(line, "vm", buf, sizeof(buf)), NULL, 0) == vm;
}

TEST_F(perf, trace_cmd)
{
	const char *record[] = {
		TRACE_CMD, "record", "-e", "ringvm", "-o", TRACE_DAT,
		self->exe, "--child", GUEST_INFO, "--after-recorders", NULL
	};
	static const char *const report[] = {
		TRACE_CMD, "report", "-i", TRACE_DAT, NULL
	};
	unsigned int cpuids = 0, entries = 0, exits = 0, uexits = 0;
	unsigned int created = 0, destroyed = 0, bad = 0;
	unsigned int raw = cpuinfo_arch() == RINGVM_ARCH_SVM ?
			   SVM_REASON_CPUID : VMX_REASON_CPUID;
	char line[512], buf[32];
	struct guest_info gi;
	FILE *f;
	int ret;

	REQUIRE_TOOL(TRACE_CMD);
	run_tool_child(_metadata, record, &gi);
	ret = run_tool(report);
	if (ret)
		show_tool_out(NULL);
	ASSERT_EQ(0, ret) TH_LOG("trace-cmd report exited with %d", ret);

	f = fopen(TOOL_OUT, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		created += is_event(line, "ringvm_vm_create", gi.vm);
		destroyed += is_event(line, "ringvm_vm_destroy", gi.vm);
		entries += is_event(line, "ringvm_entry", gi.vm);
		if (is_event(line, "ringvm_userspace_exit", gi.vm))
			uexits += !strcmp("io", field(line, "reason", buf,
						      sizeof(buf)));
		if (!is_event(line, "ringvm_exit", gi.vm))
			continue;
		exits++;
		if (strcmp("cpuid", field(line, "reason", buf, sizeof(buf))))
			continue;
		cpuids++;
		if (strtoul(field(line, "hw_reason", buf, sizeof(buf)), NULL,
			    0) != raw ||
		    strtoull(field(line, "rip", buf, sizeof(buf)), NULL, 0) !=
		    gi.rip ||
		    strcmp(gi.arch, field(line, "arch", buf, sizeof(buf))) ||
		    strcmp("0", field(line, "vcpu", buf, sizeof(buf)))) {
			if (bad++ < 3)
				TH_LOG("not the guest's CPUID at %#llx: %s",
				       gi.rip, line);
		}
	}
	fclose(f);
	if (!cpuids)
		show_tool_out(NULL);
	EXPECT_EQ(1, created);
	EXPECT_EQ(1, destroyed);
	EXPECT_EQ(NR_CPUIDS, cpuids) TH_LOG("vm %u", gi.vm);
	EXPECT_EQ(0, bad);
	EXPECT_LE(NR_CPUIDS + 2, exits);
	EXPECT_EQ(exits, entries);
	/* GUEST_SYNC and GUEST_DONE */
	EXPECT_EQ(2, uexits);
}

RINGVM_GUEST_TEST_MAIN_CHILD(guest_child)
