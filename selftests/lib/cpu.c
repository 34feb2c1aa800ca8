// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest helpers: what the CPUs are and which are online, from
 * /proc/cpuinfo, CPUID and /sys/devices/system/cpu.  The tests derive
 * their expectations from these rather than from a list of machines.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <cpuid.h>

#include "test_util.h"

#define SYS_CPU	"/sys/devices/system/cpu"

/* Whether the space-separated @list holds the word @word. */
static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';

		if (start && end)
			return true;
		p += len;
	}
	return false;
}

int cpuinfo_has(const char *field, const char *flag)
{
	size_t flen = strlen(field);
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* "flags\t\t: fpu vme ..." */
		char *colon = strchr(line, ':');

		if (strncmp(line, field, flen) || !colon ||
		    strspn(line + flen, " \t") != (size_t)(colon - line) - flen)
			continue;
		ret = word_in(colon + 1, flag);
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

__u32 cpuinfo_arch(void)
{
	if (cpuinfo_has("flags", "vmx") > 0)
		return RINGVM_ARCH_VMX;
	if (cpuinfo_has("flags", "svm") > 0)
		return RINGVM_ARCH_SVM;
	return RINGVM_ARCH_NONE;
}

void cpuid(__u32 leaf, __u32 subleaf, __u32 regs[4])
{
	__cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
}

static int read_sysfs(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/*
 * Parse a cpulist such as "0-3,5,7-8": the number of CPUs in it, and in
 * *@last (if not NULL) the highest CPU number; -EINVAL if malformed.
 */
static int cpulist_parse(const char *list, int *last)
{
	const char *p = list;
	int count = 0;

	if (last)
		*last = -1;
	while (*p >= '0' && *p <= '9') {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (hi < lo)
			return -EINVAL;
		count += hi - lo + 1;
		if (last && hi > *last)
			*last = hi;
		p = *end == ',' ? end + 1 : end;
	}
	return count;
}

int cpus_online(void)
{
	char buf[4096];
	int ret = read_sysfs(SYS_CPU "/online", buf, sizeof(buf));

	return ret < 0 ? ret : cpulist_parse(buf, NULL);
}

int cpus_allowed(int *cpus, int max)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

int cpu_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

bool cpu_hotpluggable(int cpu)
{
	char path[64];

	snprintf(path, sizeof(path), SYS_CPU "/cpu%d/online", cpu);
	return access(path, W_OK) == 0;
}

int cpu_set_online(int cpu, bool online)
{
	char path[64];

	snprintf(path, sizeof(path), SYS_CPU "/cpu%d/online", cpu);
	return sysfs_write(path, online ? "1" : "0");
}

int cpus_online_all(void)
{
	char buf[4096];
	int cpu, last, ret, first = 0;

	ret = read_sysfs(SYS_CPU "/present", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ret = cpulist_parse(buf, &last);
	if (ret < 0)
		return ret;
	for (cpu = 0; cpu <= last; cpu++) {
		if (!cpu_hotpluggable(cpu))
			continue;
		ret = cpu_set_online(cpu, true);
		if (ret < 0 && !first)
			first = ret;
	}
	return first;
}

int rdmsr_cpu(int cpu, __u32 msr, __u64 *val)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && modprobe("msr") == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, val, sizeof(*val), msr) != sizeof(*val))
		ret = -EIO;
	close(fd);
	return ret;
}

int file_write(const char *path, const char *val, int flags)
{
	size_t len = strlen(val);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

long file_read_long(const char *path, long dflt)
{
	char buf[32];
	long v = dflt;
	FILE *f = fopen(path, "re");

	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

int sysfs_write(const char *path, const char *val)
{
	return file_write(path, val, 0);
}

const char *tracefs_dir(const char *file)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	snprintf(path, sizeof(path), "%s/%s", dirs[0], file);
	if (access(path, F_OK))
		mount("nodev", dirs[0], "tracefs", 0, NULL);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], file);
		if (!access(path, W_OK))
			return dirs[i];
	}
	return NULL;
}

const char *sysfs_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}
