// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl_test: the vmctl commands that manage and run VMs, as a user runs
 * them: create, list (text and JSON), destroy, their errors, and run,
 * with the example guest (userspace/guest/hello.S, $RINGVM_HELLO) and
 * with tiny images written here that each exercise one path of vmctl's
 * run loop: a mode, a device, a way to end.  What vmctl says is checked
 * against the netlink view of the same VMs.  Last, vmctl doctor: its
 * checks against what the test machine is (cpuinfo, sysfs), with ringvm
 * loaded, unloaded, behind KVM and as an unprivileged user.
 *
 * Every VM made here is named "vmctl-t..."; the fixture's teardown
 * destroys any that a failed test left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "guest.h"

#define VM_PREFIX	"vmctl-t"
#define SZ_16M		(16ULL << 20)

/* vmctl run's exit statuses (vmctl help run). */
#define RUN_HALTED	0
#define RUN_SHUTDOWN	4
#define RUN_DESTROYED	10
#define RUN_SIGINT	130
#define TEST_EXIT(v)	((((v) << 1) | 1) & 0xff)

static const char hello_lines[] =
	"ringvm: hello from real mode\n"
	"ringvm: hello from protected mode\n"
	"ringvm: hello from long mode\n"
	"hypervisor: ringvm\n";

static const char *hello_path(void)
{
	const char *p = getenv("RINGVM_HELLO");

	return p && p[0] ? p : "/ringvm/hello.bin";
}

FIXTURE(vmctl) {
	struct ringvm_nl *nl;
	char image[64];		/* a file for test images, "" if none */
	struct test_vm *vm;	/* a guest VM, NULL if none */
};

FIXTURE_SETUP(vmctl)
{
	int ret = ringvm_ensure_loaded();
	int fd;

	self->nl = NULL;
	self->vm = NULL;
	self->image[0] = '\0';
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
	strcpy(self->image, "/tmp/vmctl_test.XXXXXX");
	fd = mkstemp(self->image);
	ASSERT_LE(0, fd) TH_LOG("mkstemp: %s", strerror(errno));
	close(fd);
}

FIXTURE_TEARDOWN(vmctl)
{
	vm_destroy(self->vm);
	if (self->image[0])
		unlink(self->image);
	if (self->nl) {
		delete_test_vms(self->nl, VM_PREFIX, false);
		ringvm_nl_close(self->nl);
	}
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* Run vmctl with the arguments given, up to a NULL; it must start. */
#define vmctl(_metadata, res, ...)					\
	do {								\
		ASSERT_EQ(0, run_vmctl(res, __VA_ARGS__));		\
	} while (0)

/* "sh -c SCRIPT": for what needs vmctl in the background. */
static void shell(struct __test_metadata *_metadata, struct run_result *res,
		  const char *script)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	int ret = run_prog(argv, res);

	ASSERT_EQ(0, ret) TH_LOG("sh: %s", strerror(-ret));
}

static void write_image(struct __test_metadata *_metadata, const char *path,
			const void *code, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)len, write(fd, code, len));
	close(fd);
}

/* vmctl create NAME --memory 16M, which must work. */
static void create_vm(struct __test_metadata *_metadata, const char *name)
{
	struct run_result res;

	vmctl(_metadata, &res, "create", name, "--memory", "16M", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("create %s: %s", name, res.err);
}

/* The line of "vmctl list" whose second column is @name, or NULL. */
static const char *list_line(const char *out, const char *name, char *buf,
			     size_t len)
{
	const char *line;
	char col[64];

	for (line = out; *line; ) {
		size_t n = strcspn(line, "\n");

		if (sscanf(line, "%*s %63s", col) == 1 && !strcmp(col, name)) {
			snprintf(buf, len, "%.*s", (int)n, line);
			return buf;
		}
		line += n + (line[n] == '\n');
	}
	return NULL;
}

/*
 * create, then the VM as netlink, list and list --json show it, then
 * destroy: each command's output and exit code.
 */
TEST_F(vmctl, create_list_destroy)
{
	const char *name = VM_PREFIX "1";
	struct ringvm_nl_vm vm;
	struct run_result res;
	char line[256], want[256], key[64];

	vmctl(_metadata, &res, "create", name, "--memory", "16M", "--vcpus",
	      "2", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ("", res.err);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
	snprintf(want, sizeof(want), "%u\n", vm.id);
	EXPECT_STREQ(want, res.out);
	EXPECT_STREQ(name, vm.name);
	EXPECT_EQ(1, vm.nr_regions);
	EXPECT_EQ(0, vm.regions[0].gpa);
	EXPECT_EQ(SZ_16M, vm.regions[0].size);
	EXPECT_EQ(2, vm.max_vcpus);
	EXPECT_EQ(0, vm.flags);

	vmctl(_metadata, &res, "list", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_EQ(0, strncmp(res.out, "ID ", 3)) TH_LOG("%s", res.out);
	ASSERT_NE(NULL, list_line(res.out, name, line, sizeof(line)))
		TH_LOG("no %s in:\n%s", name, res.out);
	{
		char id[16], n[64], mem[16], vcpus[16], flags[64];

		ASSERT_EQ(5, sscanf(line, "%15s %63s %15s %15s %63s", id, n,
				    mem, vcpus, flags)) TH_LOG("%s", line);
		EXPECT_EQ(vm.id, strtoul(id, NULL, 10));
		EXPECT_STREQ("16M", mem);
		EXPECT_STREQ("0/2", vcpus);
		EXPECT_STREQ("-", flags);
	}

	vmctl(_metadata, &res, "list", "--json", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	ASSERT_TRUE(json_valid(res.out)) TH_LOG("not JSON:\n%s", res.out);
	EXPECT_EQ('[', res.out[strspn(res.out, " \t\n")]);
	snprintf(key, sizeof(key), "\"name\": \"%s\"", name);
	EXPECT_NE(NULL, strstr(res.out, key)) TH_LOG("%s", res.out);
	snprintf(want, sizeof(want),
		 "{\"id\": %u, \"name\": \"%s\", \"memory\": 16777216, "
		 "\"mem_allocated\": ", vm.id, name);
	EXPECT_NE(NULL, strstr(res.out, want)) TH_LOG("%s", res.out);
	EXPECT_NE(NULL, strstr(res.out, "\"regions\": [{\"gpa\": 0, "
				"\"size\": 16777216}], \"max_vcpus\": 2, "
				"\"nr_vcpus\": 0, \"flags\": []}"))
		TH_LOG("%s", res.out);

	vmctl(_metadata, &res, "destroy", name, NULL);
	EXPECT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ("", res.out);
	EXPECT_STREQ("", res.err);
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
	vmctl(_metadata, &res, "list", NULL);
	EXPECT_EQ(0, res.status);
	EXPECT_EQ(NULL, list_line(res.out, name, line, sizeof(line)));
}

/* create --large-pages: the VM says so, in vm-get and in both lists. */
TEST_F(vmctl, create_large_pages)
{
	const char *name = VM_PREFIX "lp";
	struct ringvm_nl_vm vm;
	struct ringvm_caps caps;
	struct run_result res;
	char line[256];
	int dev;

	dev = ringvm_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, __ringvm_get_caps(dev, &caps));
	close(dev);
	vmctl(_metadata, &res, "create", name, "-m", "16M", "--large-pages",
	      NULL);
	if (!(caps.features & RINGVM_FEAT_LARGE_PAGES)) {
		EXPECT_EQ(1, res.status);
		EXPECT_NE(NULL, strstr(res.err, "no 2 MiB pages"))
			TH_LOG("stderr: %s", res.err);
		return;
	}
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
	EXPECT_EQ(RINGVM_VM_FLAGS_LARGE_PAGES, vm.flags);
	vmctl(_metadata, &res, "list", NULL);
	ASSERT_NE(NULL, list_line(res.out, name, line, sizeof(line)))
		TH_LOG("no %s in:\n%s", name, res.out);
	EXPECT_NE(NULL, strstr(line, " large-pages")) TH_LOG("%s", line);
	vmctl(_metadata, &res, "list", "--json", NULL);
	EXPECT_TRUE(json_valid(res.out)) TH_LOG("%s", res.out);
	EXPECT_NE(NULL, strstr(res.out, "\"flags\": [\"large-pages\"]"))
		TH_LOG("%s", res.out);
	vmctl(_metadata, &res, "destroy", name, NULL);
	EXPECT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
}

/* Sizes with and without suffixes; list prints them back. */
TEST_F(vmctl, create_sizes)
{
	static const struct {
		const char *arg;
		__u64 bytes;
		const char *shown;
	} sizes[] = {
		{ "4K", 4096, "4K" }, { "4096", 4096, "4K" },
		{ "0x200000", 2 << 20, "2M" }, { "1536k", 1536 << 10, "1536K" },
		{ "16MiB", SZ_16M, "16M" }, { "1G", 1ULL << 30, "1G" },
		{ "1g", 1ULL << 30, "1G" },
	};
	struct ringvm_nl_vm vm;
	struct run_result res;
	char name[32], line[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), VM_PREFIX "size%u", i);
		vmctl(_metadata, &res, "create", name, "-m", sizes[i].arg,
		      NULL);
		EXPECT_EQ(0, res.status) TH_LOG("%s: %s", sizes[i].arg,
						res.err);
		if (res.status)
			continue;
		ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
		EXPECT_EQ(sizes[i].bytes, vm.regions[0].size)
			TH_LOG("%s", sizes[i].arg);
		EXPECT_EQ(1, vm.max_vcpus);
		vmctl(_metadata, &res, "list", NULL);
		ASSERT_NE(NULL, list_line(res.out, name, line, sizeof(line)));
		EXPECT_NE(NULL, strstr(line, sizes[i].shown))
			TH_LOG("%s: %s", sizes[i].arg, line);
		vmctl(_metadata, &res, "destroy", name, NULL);
		EXPECT_EQ(0, res.status);
	}
}

/* An anonymous VM (RINGVM_CREATE_VM) shows, flagged, while its fd lives. */
TEST_F(vmctl, list_anonymous)
{
	struct ringvm_create_vm req = {
		.nr_regions = 1, .regions = { { 0, 1 << 20 } },
	};
	struct run_result res;
	struct ringvm_vm_info info;
	char name[RINGVM_NAME_MAX], line[256];
	int dev, vmfd;

	dev = ringvm_open();
	ASSERT_LE(0, dev);
	vmfd = ringvm_create_vm(dev, &req);
	ASSERT_LE(0, vmfd);
	ASSERT_EQ(0, ringvm_get_vm_info(vmfd, &info));
	snprintf(name, sizeof(name), "%s", info.name);

	vmctl(_metadata, &res, "list", NULL);
	EXPECT_EQ(0, res.status);
	ASSERT_NE(NULL, list_line(res.out, name, line, sizeof(line)))
		TH_LOG("no %s in:\n%s", name, res.out);
	EXPECT_NE(NULL, strstr(line, " 1M ")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, " anonymous")) TH_LOG("%s", line);
	vmctl(_metadata, &res, "list", "--json", NULL);
	EXPECT_TRUE(json_valid(res.out)) TH_LOG("%s", res.out);
	EXPECT_NE(NULL, strstr(res.out, "\"flags\": [\"anonymous\"]"));

	close(vmfd);
	close(dev);
	vmctl(_metadata, &res, "list", NULL);
	EXPECT_EQ(NULL, list_line(res.out, name, line, sizeof(line)));
}

/* With no VM at all, the JSON form is an empty array. */
TEST_F(vmctl, list_empty_json)
{
	struct run_result res;

	delete_test_vms(self->nl, VM_PREFIX, false);
	vmctl(_metadata, &res, "list", "--json", NULL);
	ASSERT_EQ(0, res.status);
	ASSERT_TRUE(json_valid(res.out)) TH_LOG("%s", res.out);
	/* Other VMs may exist only if another test left one: none here. */
	EXPECT_STREQ("[]\n", res.out);
}

/* Refusals: exit 1, one "vmctl: " line on stderr, nothing on stdout. */
TEST_F(vmctl, errors)
{
	const char *name = VM_PREFIX "dup";
	struct run_result res;
	char want[128];

	create_vm(_metadata, name);
	vmctl(_metadata, &res, "create", name, "--memory", "16M", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_STREQ("", res.out);
	snprintf(want, sizeof(want),
		 "vmctl: create %s: a VM of that name exists already\n", name);
	EXPECT_STREQ(want, res.err);

	/* Names the kernel refuses: its extack is in the message. */
	vmctl(_metadata, &res, "create", "bad name", "--memory", "16M", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_EQ(0, strncmp(res.err, "vmctl: create bad name: ", 24))
		TH_LOG("%s", res.err);
	vmctl(_metadata, &res, "create",
	      "a-name-that-is-longer-than-31-chars", "--memory", "16M", NULL);
	EXPECT_EQ(1, res.status) TH_LOG("%s", res.err);

	/* More memory than max_vm_mem_mb (2048 by default) allows. */
	vmctl(_metadata, &res, "create", VM_PREFIX "big", "--memory", "64G",
	      NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_NE(NULL, strstr(res.err, "Argument list too long"))
		TH_LOG("%s", res.err);

	vmctl(_metadata, &res, "destroy", VM_PREFIX "none", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_STREQ("vmctl: destroy " VM_PREFIX "none: no such VM\n",
		     res.err);
	vmctl(_metadata, &res, "run", VM_PREFIX "none", "--image",
	      hello_path(), NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_STREQ("vmctl: run " VM_PREFIX "none: no such VM\n", res.err);
	vmctl(_metadata, &res, "run", name, "--image", "/nonexistent", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_STREQ("vmctl: image /nonexistent: No such file or directory\n",
		     res.err);
}

/* Bad command lines: exit 2 and the usage, before anything is done. */
TEST_F(vmctl, usage)
{
	static const char *const bad[][6] = {
		{ "create", NULL },
		{ "create", VM_PREFIX "u" },			/* no --memory */
		{ "create", VM_PREFIX "u", "--memory", NULL },
		{ "create", VM_PREFIX "u", "--memory", "0" },
		{ "create", VM_PREFIX "u", "--memory", "3K" },
		{ "create", VM_PREFIX "u", "--memory", "12345" },
		{ "create", VM_PREFIX "u", "--memory", "16X" },
		{ "create", VM_PREFIX "u", "--memory", "-16M" },
		{ "create", VM_PREFIX "u", "--memory", "" },
		{ "create", VM_PREFIX "u", "-m", "16M", "--vcpus", "0" },
		{ "create", VM_PREFIX "u", "-m", "16M", "extra" },
		{ "destroy", NULL },
		{ "destroy", "a", "b" },
		{ "list", "extra" },
		{ "list", "--bogus" },
		{ "run", VM_PREFIX "u" },			/* no --image */
		{ "run", VM_PREFIX "u", "--image", "x", "--mode", "bogus" },
		{ "run", VM_PREFIX "u", "--image", "x", "--entry", "1M" },
		{ "run", VM_PREFIX "u", "--image", "x", "--load-addr", "z" },
		{ "run", VM_PREFIX "u", "--image", "x", "--backend", "xen" },
		{ "run", VM_PREFIX "u", "--image", "x", "--backend", "kvm" },
		{ "run", VM_PREFIX "u", "--image", "x", "--memory", "16M" },
		{ "run", VM_PREFIX "u", "--backend", "kvm", "--memory", "0" },
		{ "run", VM_PREFIX "u", "--backend", "kvm", "--memory", "5K" },
		{ "run", VM_PREFIX "u", "--backend", "kvm", "--memory", "4G" },
		{ "run", VM_PREFIX "u", "--image", "x", "--vcpus", "0" },
		{ "doctor", "extra" },
		{ "doctor", "--bogus" },
		{ "stat", NULL },
		{ "stat", "a", "b" },
		{ "stat", "a", "--bogus" },
		{ "top", "extra" },
		{ "top", "--iterations", "0" },
		{ "top", "--iterations", "x" },
		{ "top", "--interval", "0.01" },
		{ "top", "--interval", "1s" },
		{ "top", "--interval" },
	};
	struct ringvm_nl_vm vm;
	struct run_result res;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *const *a = bad[i];

		vmctl(_metadata, &res, a[0], a[1], a[2], a[3], a[4], a[5],
		      NULL);
		EXPECT_EQ(2, res.status) TH_LOG("case %u: %s %s %s %s", i,
						a[0], a[1] ? a[1] : "",
						a[2] ? a[2] : "",
						a[3] ? a[3] : "");
		EXPECT_NE(NULL, strstr(res.err, "usage: vmctl"))
			TH_LOG("case %u: %s", i, res.err);
		EXPECT_STREQ("", res.out);
	}
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, VM_PREFIX "u",
					      &vm));
	for (i = 0; i < 7; i++) {
		static const char *const cmds[] = {
			"create", "list", "run", "destroy", "doctor", "stat",
			"top",
		};

		vmctl(_metadata, &res, "help", cmds[i], NULL);
		EXPECT_EQ(0, res.status);
		EXPECT_NE(NULL, strstr(res.out, "usage: vmctl"));
	}
}

/*
 * vmctl stat and top, on a named VM whose vCPU this test runs: a guest
 * that makes 7 CPUID exits, reports, then spins on CPUID until told.
 */
#define STAT_VM		VM_PREFIX "stat"

static volatile __u64 stat_stop;

static void guest_stat(void)
{
	unsigned int i;
	__u32 r[4];

	for (i = 0; i < 7; i++)
		guest_cpuid(0, 0, r);
	GUEST_SYNC(1);
	while (!stat_stop)
		guest_cpuid(0, 0, r);
	GUEST_DONE();
}

/* The named VM STAT_VM with vCPU 0 at guest_stat, run to its SYNC. */
static struct test_vcpu *stat_vm(struct __test_metadata *_metadata,
				 FIXTURE_DATA(vmctl) *self)
{
	struct ringvm_mem_region r = { 0, vm_guest_ram_size() };
	struct test_vcpu *vcpu;
	struct ringvm_nl_vm nv;
	int devfd, vmfd;
	struct ucall uc;

	ASSERT_EQ(0, __ringvm_nl_vm_new(self->nl, STAT_VM, &r, 1, 1, &nv))
		TH_LOG("%s", ringvm_nl_extack(self->nl));
	devfd = __ringvm_open();
	ASSERT_LE(0, devfd);
	vmfd = __ringvm_open_vm(devfd, 0, STAT_VM);
	close(devfd);
	ASSERT_LE(0, vmfd);
	ASSERT_EQ(0, __vm_adopt(&self->vm, vmfd));
	vcpu = vm_vcpu_add(self->vm, 0, guest_stat);
	ASSERT_SYNC(vcpu, &uc, 1);
	return vcpu;
}

static int stat_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	memcpy(arg, st, sizeof(*st));
	return 0;
}

/* Member @key of the JSON object @obj as a number. */
static unsigned long long json_u64(struct __test_metadata *_metadata,
				   const char *obj, const char *key)
{
	char buf[64];
	int ret = json_get(obj, key, buf, sizeof(buf));

	EXPECT_EQ(0, ret) TH_LOG("no \"%s\" in %s", key, obj);
	if (ret)
		return ~0ULL;
	return strtoull(buf, NULL, 10);
}

/* A vCPU object of vmctl stat --json against the netlink counters. */
static void stat_json_check(struct __test_metadata *_metadata,
			    const char *obj,
			    const struct ringvm_nl_vcpu_stats *st)
{
	char reasons[1024];
	const char *name;
	unsigned int i;

	EXPECT_EQ(st->exits, json_u64(_metadata, obj, "exits"));
	EXPECT_EQ(st->user_exits, json_u64(_metadata, obj, "user_exits"));
	EXPECT_EQ(st->nested_page_faults,
		  json_u64(_metadata, obj, "nested_page_faults"));
	EXPECT_EQ(st->injected_events,
		  json_u64(_metadata, obj, "injected_events"));
	EXPECT_EQ(st->run_ns, json_u64(_metadata, obj, "run_ns"));
	EXPECT_EQ(st->halt_ns, json_u64(_metadata, obj, "halt_ns"));
	EXPECT_EQ(st->vmcs_loads, json_u64(_metadata, obj, "vmcs_loads"));
	EXPECT_EQ(st->vmcs_clears, json_u64(_metadata, obj, "vmcs_clears"));
	EXPECT_EQ(st->host_state_saves,
		  json_u64(_metadata, obj, "host_state_saves"));
	EXPECT_EQ(st->msr_switches, json_u64(_metadata, obj, "msr_switches"));
	EXPECT_EQ(st->l1d_flushes, json_u64(_metadata, obj, "l1d_flushes"));
	ASSERT_EQ(0, json_get(obj, "exit_reasons", reasons,
			      sizeof(reasons)));
	for (i = 1; i <= RINGVM_A_EXIT_REASONS_MAX; i++) {
		name = ringvm_exit_stat_name(i);
		if (name) {
			EXPECT_EQ(st->exit_reasons[i],
				  json_u64(_metadata, reasons, name))
				TH_LOG("reason %s", name);
		}
	}
}

/*
 * vmctl stat --json is valid JSON and says what the netlink dump says
 * (the vCPU is stopped, so even the times agree); the text form has the
 * same cpuid count; an unknown VM is exit 1.
 */
TEST_F(vmctl, stat)
{
	char vm[128], vcpus[4096], vcpu0[2048], total[2048], want[64];
	struct ringvm_nl_vcpu_stats st;
	unsigned long long v0, tot;
	struct run_result res;
	const char *line;

	stat_vm(_metadata, self);
	ASSERT_EQ(0, __ringvm_nl_vcpu_stats_dump(self->nl, self->vm->id,
						 NULL, stat_cb, &st));
	ASSERT_LE(7, st.exit_reasons[RINGVM_A_EXIT_REASONS_CPUID]);

	vmctl(_metadata, &res, "stat", STAT_VM, "--json", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("%s", res.err);
	ASSERT_TRUE(json_valid(res.out)) TH_LOG("%s", res.out);
	ASSERT_EQ(0, json_get(res.out, "vm", vm, sizeof(vm)));
	EXPECT_EQ(self->vm->id, json_u64(_metadata, vm, "id"));
	ASSERT_EQ(0, json_get(vm, "name", want, sizeof(want)));
	EXPECT_STREQ("\"" STAT_VM "\"", want);
	ASSERT_EQ(0, json_get(res.out, "vcpus", vcpus, sizeof(vcpus)));
	ASSERT_EQ(0, json_index(vcpus, 0, vcpu0, sizeof(vcpu0)));
	EXPECT_EQ(-ENOENT, json_index(vcpus, 1, total, sizeof(total)));
	EXPECT_EQ(0, json_u64(_metadata, vcpu0, "id"));
	stat_json_check(_metadata, vcpu0, &st);
	ASSERT_EQ(0, json_get(res.out, "total", total, sizeof(total)));
	stat_json_check(_metadata, total, &st);

	vmctl(_metadata, &res, "stat", STAT_VM, NULL);
	ASSERT_EQ(0, res.status) TH_LOG("%s", res.err);
	line = strstr(res.out, "\n  cpuid ");
	ASSERT_NE(NULL, line) TH_LOG("%s", res.out);
	ASSERT_EQ(2, sscanf(line, " cpuid %llu %llu", &v0, &tot));
	EXPECT_EQ(st.exit_reasons[RINGVM_A_EXIT_REASONS_CPUID], v0);
	EXPECT_EQ(v0, tot);
	EXPECT_NE(NULL, strstr(res.out, "vcpu0"));

	vmctl(_metadata, &res, "stat", VM_PREFIX "nosuch", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_NE(NULL, strstr(res.err, "no such VM")) TH_LOG("%s", res.err);
	EXPECT_STREQ("", res.out);
}

struct stat_runner {
	struct test_vcpu *vcpu;
	int ret;
};

static void *stat_run_thread(void *arg)
{
	struct stat_runner *r = arg;

	r->ret = __vcpu_run(r->vcpu);
	return NULL;
}

/*
 * The rate on a "  LABEL TOTAL RATE" line of @snap (up to the next
 * "vmctl top:"), -1 if there is none.
 */
static double top_rate(const char *snap, const char *label)
{
	char key[64];
	const char *p, *end = strstr(snap + 1, "vmctl top:");
	unsigned long long total;
	double rate;

	snprintf(key, sizeof(key), "\n  %s ", label);
	p = strstr(snap, key);
	if (!p || (end && p > end) ||
	    sscanf(p + strlen(key), "%llu %lf", &total, &rate) != 2)
		return -1;
	return rate;
}

/*
 * vmctl top --iterations 2 while the guest spins on CPUID: two
 * snapshots, each with the VM, its CPUID exits and a rate above 0.
 */
TEST_F(vmctl, top)
{
	struct stat_runner r = { };
	const char *snap[2];
	struct run_result res;
	char head[96];
	pthread_t thread;
	int i;

	r.vcpu = stat_vm(_metadata, self);
	ASSERT_EQ(0, pthread_create(&thread, NULL, stat_run_thread, &r));
	vmctl(_metadata, &res, "top", "--iterations", "2", "--interval",
	      "0.3", NULL);
	write_guest_global(self->vm, stat_stop, 1);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, r.ret);

	ASSERT_EQ(0, res.status) TH_LOG("%s", res.err);
	snap[0] = strstr(res.out, "vmctl top:");
	ASSERT_NE(NULL, snap[0]) TH_LOG("%s", res.out);
	snap[1] = strstr(snap[0] + 1, "vmctl top:");
	ASSERT_NE(NULL, snap[1]) TH_LOG("%s", res.out);
	EXPECT_EQ(NULL, strstr(snap[1] + 1, "vmctl top:"));
	snprintf(head, sizeof(head), "VM %u %s: 1 vCPU, run ", self->vm->id,
		 STAT_VM);
	for (i = 0; i < 2; i++) {
		snap[i] = strstr(snap[i], head);
		ASSERT_NE(NULL, snap[i]) TH_LOG("%s", res.out);
		EXPECT_LT(0, top_rate(snap[i], "exit cpuid"))
			TH_LOG("snapshot %d: %s", i, res.out);
		EXPECT_LT(0, top_rate(snap[i], "exits"));
		EXPECT_LE(0, top_rate(snap[i], "user-exits"));
	}
}

/* The example guest: its four lines on stdout, exit 1; twice. */
TEST_F_TIMEOUT(vmctl, run_hello, 300)
{
	const char *name = VM_PREFIX "hello";
	struct ringvm_nl_vm vm;
	struct run_result res;
	int i;

	ASSERT_EQ(0, access(hello_path(), R_OK))
		TH_LOG("%s: %s", hello_path(), strerror(errno));
	create_vm(_metadata, name);
	/* The vCPU dies with vmctl's fd: the same VM runs again. */
	for (i = 0; i < 2; i++) {
		vmctl(_metadata, &res, "run", name, "--image", hello_path(),
		      NULL);
		EXPECT_EQ(TEST_EXIT(0), res.status) TH_LOG("run %d", i);
		EXPECT_STREQ(hello_lines, res.out);
		EXPECT_STREQ("", res.err);
	}
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
	EXPECT_LT(0, vm.mem_allocated);
}

struct image_case {
	const char *what;
	const char *mode;
	const __u8 *code;
	size_t len;
	int status;
	const char *out;	/* stdout, exactly */
	const char *err;	/* the start of stderr; "" = empty */
	const char *err_has;	/* also somewhere in stderr, if set */
};

/*
 * Tiny images, each one path of vmctl run.  A loop in the host that
 * tests them one by one in the same VM also checks that a run leaves
 * nothing behind for the next.
 */
static const __u8 real_uart[] = {
	0xba, 0xf8, 0x03,		/* mov $0x3f8, %dx */
	0xb0, 'A', 0xee,		/* mov $'A', %al; out %al, (%dx) */
	0xb0, '\n', 0xee,
	0xb0, 0x02, 0xe6, 0xf4,		/* mov $2, %al; out %al, $0xf4 */
};
static const __u8 real_lsr_scratch[] = {
	0xba, 0xfd, 0x03, 0xec,		/* in 0x3fd (LSR), %al */
	0x3c, 0x60, 0x75, 0x11,		/* cmp $0x60, %al; jne 1f */
	0xba, 0xff, 0x03,		/* SCR: write 0x5a, read it back */
	0xb0, 0x5a, 0xee, 0xb0, 0x00, 0xec,
	0x3c, 0x5a, 0x75, 0x04,		/* cmp $0x5a, %al; jne 1f */
	0xb0, 0x00, 0xeb, 0x02,		/* mov $0, %al; jmp 2f */
	0xb0, 0x55,			/* 1: mov $0x55, %al */
	0xe6, 0xf4,			/* 2: out %al, $0xf4 */
};
static const __u8 real_unclaimed_port[] = {
	0xe4, 0x81,			/* in $0x81, %al: all ones */
	0xe6, 0xf4,			/* -> exit (0xff << 1 | 1) & 0xff */
};
static const __u8 prot_test_exit_wide[] = {
	0x66, 0xb8, 0x03, 0x01,		/* mov $0x103, %ax */
	0x66, 0xe7, 0xf4,		/* out %ax, $0xf4: V = 0x103 */
};
static const __u8 prot_mmio_read[] = {
	0x8b, 0x05, 0x00, 0x00, 0xe0, 0xfe,	/* mov 0xfee00000, %eax */
	0x83, 0xc0, 0x01,		/* add $1, %eax: 0 if all ones */
	0xe6, 0xf4,
};
static const __u8 long_hlt[] = { 0xf4 };
static const __u8 long_int3[] = { 0xcc };	/* no IDT: triple fault */
static const __u8 long_cpuid_sig[] = {
	0xb8, 0x00, 0x00, 0x00, 0x40,	/* mov $0x40000000, %eax */
	0x31, 0xc9, 0x0f, 0xa2,		/* xor %ecx, %ecx; cpuid */
	0xb0, 0x01,			/* mov $1, %al */
	0x81, 0xfb, 'r', 'i', 'n', 'g',	/* cmp $"ring", %ebx */
	0x75, 0x02, 0xb0, 0x00,		/* jne 1f; mov $0, %al */
	0xe6, 0xf4,			/* 1: out %al, $0xf4 */
};

#define IMG(c)	c, sizeof(c)
static const struct image_case image_cases[] = {
	{ "uart", "real", IMG(real_uart), TEST_EXIT(2), "A\n", "", NULL },
	{ "lsr+scr", "real", IMG(real_lsr_scratch), TEST_EXIT(0), "", "", NULL },
	{ "unclaimed port", "real", IMG(real_unclaimed_port), TEST_EXIT(0xff),
	  "", "", NULL },
	{ "wide test-exit", "protected", IMG(prot_test_exit_wide),
	  TEST_EXIT(0x103), "", "", NULL },
	{ "mmio read", "protected", IMG(prot_mmio_read), TEST_EXIT(0), "",
	  "", NULL },
	{ "hlt", "long", IMG(long_hlt), RUN_HALTED, "", "", NULL },
	{ "cpuid", "long", IMG(long_cpuid_sig), TEST_EXIT(0), "", "", NULL },
	/* the report: vCPU, registers, the walk of RIP down to its page */
	{ "triple fault", "long", IMG(long_int3), RUN_SHUTDOWN, "",
	  "vmctl: guest shutdown: ", "vmctl:   vCPU 0: rsp " },
	{ "triple fault walk", "long", IMG(long_int3), RUN_SHUTDOWN, "",
	  "vmctl: guest shutdown: ", " -> 0x" },
};

TEST_F_TIMEOUT(vmctl, run_images, 300)
{
	const char *name = VM_PREFIX "img";
	struct run_result res;
	unsigned int i;

	create_vm(_metadata, name);
	for (i = 0; i < ARRAY_SIZE(image_cases); i++) {
		const struct image_case *c = &image_cases[i];

		write_image(_metadata, self->image, c->code, c->len);
		vmctl(_metadata, &res, "run", name, "--image", self->image,
		      "--mode", c->mode, NULL);
		EXPECT_EQ(c->status, res.status)
			TH_LOG("%s: stderr: %s", c->what, res.err);
		EXPECT_STREQ(c->out, res.out) TH_LOG("%s", c->what);
		if (c->err[0]) {
			EXPECT_EQ(0, strncmp(res.err, c->err, strlen(c->err)))
				TH_LOG("%s: %s", c->what, res.err);
			if (c->err_has)
				EXPECT_NE(NULL, strstr(res.err, c->err_has))
					TH_LOG("%s: no \"%s\" in: %s", c->what,
					       c->err_has, res.err);
		} else {
			EXPECT_STREQ("", res.err) TH_LOG("%s", c->what);
		}
	}
}

/* --load-addr and --entry: real-mode CS:IP from the entry address. */
TEST_F_TIMEOUT(vmctl, run_load_addr_entry, 120)
{
	const char *name = VM_PREFIX "entry";
	/* hlt at +0 (not to be run); at +1 the UART image's code */
	__u8 code[1 + sizeof(real_uart)] = { 0xf4 };
	struct run_result res;

	memcpy(code + 1, real_uart, sizeof(real_uart));
	write_image(_metadata, self->image, code, sizeof(code));
	create_vm(_metadata, name);
	vmctl(_metadata, &res, "run", name, "--image", self->image,
	      "--load-addr", "0x7c00", "--entry", "0x7c01", NULL);
	EXPECT_EQ(TEST_EXIT(2), res.status) TH_LOG("%s", res.err);
	EXPECT_STREQ("A\n", res.out);
	vmctl(_metadata, &res, "run", name, "--image", self->image,
	      "--load-addr", "0x20000", "--entry", "0x20001", "--mode",
	      "real", NULL);
	EXPECT_EQ(TEST_EXIT(2), res.status) TH_LOG("%s", res.err);

	/* Where it does not fit: past the end of RAM, over the boot data. */
	vmctl(_metadata, &res, "run", name, "--image", self->image,
	      "--load-addr", "0xfffff8", "--mode", "long", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_NE(NULL, strstr(res.err, "do not fit")) TH_LOG("%s", res.err);
	vmctl(_metadata, &res, "run", name, "--image", self->image,
	      "--load-addr", "0x2000", "--mode", "long", NULL);
	EXPECT_EQ(1, res.status);
	EXPECT_NE(NULL, strstr(res.err, "overlaps the boot data"))
		TH_LOG("%s", res.err);
}

static const __u8 spin[] = { 0xeb, 0xfe };	/* 1: jmp 1b */

/* Ctrl-C: "vmctl: interrupted" and 130, whatever the guest does. */
TEST_F_TIMEOUT(vmctl, run_interrupted, 300)
{
	const char *name = VM_PREFIX "intr";
	struct run_result res;
	char script[512];

	write_image(_metadata, self->image, spin, sizeof(spin));
	create_vm(_metadata, name);
	/*
	 * A background job starts with SIGINT ignored until vmctl catches
	 * it, so keep sending it until vmctl is gone.
	 */
	snprintf(script, sizeof(script),
		 "%s run %s --image %s & pid=$!; sleep 1; "
		 "while kill -INT $pid 2>/dev/null; do sleep 1; done; "
		 "wait $pid", ringvm_vmctl_path(), name, self->image);
	shell(_metadata, &res, script);
	EXPECT_EQ(RUN_SIGINT, res.status) TH_LOG("%s", res.err);
	EXPECT_STREQ("vmctl: interrupted\n", res.err);
}

/* vmctl destroy while vmctl run runs it: run ends with 10. */
TEST_F_TIMEOUT(vmctl, run_destroyed, 300)
{
	const char *name = VM_PREFIX "gone";
	struct ringvm_nl_vm vm;
	struct run_result res;
	char script[768];

	write_image(_metadata, self->image, spin, sizeof(spin));
	create_vm(_metadata, name);
	/* Destroy once the run has its vCPU (list shows 1/1). */
	snprintf(script, sizeof(script),
		 "v=%s; $v run %s --image %s --mode long & pid=$!; n=0; "
		 "until $v list | grep -q ' %s .* 1/1 '; do "
		 "n=$((n + 1)); [ $n -lt 60 ] || break; sleep 1; done; "
		 "$v destroy %s >&2; wait $pid",
		 ringvm_vmctl_path(), name, self->image, name, name);
	shell(_metadata, &res, script);
	EXPECT_EQ(RUN_DESTROYED, res.status) TH_LOG("%s", res.err);
	snprintf(script, sizeof(script), "vmctl: VM %s was destroyed\n", name);
	EXPECT_STREQ(script, res.err);
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
}

/* vmctl doctor */

#define NOBODY		65534

/* Its checks, in the order it prints them (doctor.c). */
static const char *const doctor_names[] = {
	"cpu", "firmware", "nested-paging", "hypervisor", "kvm",
	"secure-boot", "headers", "module", "device", "caps",
};

struct doctor_result {
	struct run_result run;
	bool ready;
	/* Per check, in doctor_names' order: status and hint, unquoted. */
	char status[ARRAY_SIZE(doctor_names)][16];
	char message[ARRAY_SIZE(doctor_names)][512];
	char hint[ARRAY_SIZE(doctor_names)][512];
};

/* A JSON string member of @obj, without its quotes (no escapes in it). */
static int json_get_str(const char *obj, const char *key, char *buf,
			size_t len)
{
	int ret = json_get(obj, key, buf, len);
	size_t n;

	if (ret)
		return ret;
	n = strlen(buf);
	if (n < 2 || buf[0] != '"' || buf[n - 1] != '"')
		return -EINVAL;
	memmove(buf, buf + 1, n - 2);
	buf[n - 2] = '\0';
	return 0;
}

/*
 * vmctl doctor --json as @uid (root when 0), parsed: valid JSON, "ready"
 * a boolean that matches the exit status, and exactly the checks of
 * doctor_names in that order, each with a known status and a message.
 */
static void doctor_json(struct __test_metadata *_metadata, uid_t uid,
			struct doctor_result *d)
{
	char *argv[] = { (char *)ringvm_vmctl_path(), "doctor", "--json",
			 NULL };
	static char checks[16384];
	char elem[2048], name[64], ready[8];
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = uid ? run_prog_as(argv, uid, uid, &d->run) :
		    run_prog(argv, &d->run);
	ASSERT_EQ(0, ret) TH_LOG("run vmctl: %s", strerror(-ret));
	EXPECT_STREQ("", d->run.err);
	ASSERT_TRUE(json_valid(d->run.out)) TH_LOG("not JSON:\n%s", d->run.out);
	ASSERT_EQ(0, json_get(d->run.out, "ready", ready, sizeof(ready)));
	ASSERT_TRUE(!strcmp(ready, "true") || !strcmp(ready, "false"))
		TH_LOG("ready: %s", ready);
	d->ready = !strcmp(ready, "true");
	EXPECT_EQ(d->ready ? 0 : 1, d->run.status);
	ASSERT_EQ(0, json_get(d->run.out, "checks", checks, sizeof(checks)));
	for (i = 0; i < ARRAY_SIZE(doctor_names); i++) {
		ASSERT_EQ(0, json_index(checks, i, elem, sizeof(elem)))
			TH_LOG("no check %u (%s)", i, doctor_names[i]);
		ASSERT_EQ(0, json_get_str(elem, "name", name, sizeof(name)));
		ASSERT_STREQ(doctor_names[i], name);
		ASSERT_EQ(0, json_get_str(elem, "status", d->status[i],
					  sizeof(d->status[i])));
		EXPECT_TRUE(!strcmp(d->status[i], "ok") ||
			    !strcmp(d->status[i], "warn") ||
			    !strcmp(d->status[i], "fail") ||
			    !strcmp(d->status[i], "unknown"))
			TH_LOG("%s: status %s", name, d->status[i]);
		ASSERT_EQ(0, json_get_str(elem, "message", d->message[i],
					  sizeof(d->message[i])));
		EXPECT_NE('\0', d->message[i][0]) TH_LOG("%s", name);
		ASSERT_EQ(0, json_get_str(elem, "hint", d->hint[i],
					  sizeof(d->hint[i])));
	}
	EXPECT_EQ(-ENOENT, json_index(checks, i, elem, sizeof(elem)));
}

/* Index of check @name in doctor_names. */
static unsigned int doctor_idx(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(doctor_names) - 1; i++)
		if (!strcmp(doctor_names[i], name))
			break;
	return i;
}

#define DOCTOR_STATUS(d, name)	((d)->status[doctor_idx(name)])
#define DOCTOR_MESSAGE(d, name)	((d)->message[doctor_idx(name)])
#define DOCTOR_HINT(d, name)	((d)->hint[doctor_idx(name)])

/* The line of the text form for check @name, and its hint line if any. */
static const char *doctor_line(const char *out, const char *name,
			       char *buf, size_t len)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "] %s: ", name);
	p = strstr(out, key);
	if (!p || p - out < 6)
		return NULL;
	p -= 5;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* The text form's lines as TAP comments: what doctor said on this machine. */
static void doctor_print(const char *out)
{
	while (*out) {
		size_t n = strcspn(out, "\n");

		printf("# doctor: %.*s\n", (int)n, out);
		out += n + (out[n] == '\n');
	}
}

/*
 * With ringvm loaded and KVM not: exit 0, and each check as the machine
 * says it must be.
 */
TEST_F(vmctl, doctor_ready)
{
	struct doctor_result *d = malloc(sizeof(*d));
	int hyp = cpuinfo_has("flags", "hypervisor");
	char path[320], line[640];
	struct utsname u;
	struct stat st;
	bool headers, msr;

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, kvm_modules_unload());
	modprobe("msr");	/* without it the firmware check is unknown */
	msr = access("/dev/cpu/0/msr", R_OK) == 0;
	ASSERT_EQ(0, uname(&u));
	snprintf(path, sizeof(path), "/lib/modules/%s/build", u.release);
	headers = stat(path, &st) == 0;
	ASSERT_LE(0, hyp);

	doctor_json(_metadata, 0, d);
	EXPECT_TRUE(d->ready);
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "cpu"));
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "nested-paging"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "nested-paging"));
	EXPECT_STREQ(msr ? "ok" : "unknown", DOCTOR_STATUS(d, "firmware"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "firmware"));
	EXPECT_STREQ(hyp ? "warn" : "ok", DOCTOR_STATUS(d, "hypervisor"));
	if (hyp) {
		__u32 sig[4];

		/* QEMU's TCG signs CPUID 0x40000000; say it is an emulator. */
		cpuid(0x40000000, 0, sig);
		EXPECT_EQ(!memcmp(&sig[1], "TCGTCGTCGTCG", 12),
			  strstr(DOCTOR_HINT(d, "hypervisor"), "(TCG)") != NULL)
			TH_LOG("%s", DOCTOR_HINT(d, "hypervisor"));
	}
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "kvm"));
	EXPECT_STREQ(headers ? "ok" : "warn", DOCTOR_STATUS(d, "headers"));
	if (!headers) {
		EXPECT_NE(NULL, strstr(DOCTOR_HINT(d, "headers"),
				       "linux-headers-"));
	}
	/* Loaded, so whatever the signature policy, it was accepted. */
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "secure-boot"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "secure-boot"));
	if (access("/sys/firmware/efi", F_OK)) {
		EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "secure-boot"),
				       "Not booted through EFI"));
	}
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "module"));
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "device"));
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "caps"));
	EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "caps"),
			       cpuinfo_arch() == RINGVM_ARCH_VMX ?
			       "Intel VT-x" : "AMD SVM"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "caps"));
	EXPECT_STREQ("", DOCTOR_HINT(d, "caps"));

	/* The text form says the same. */
	vmctl(_metadata, &d->run, "doctor", NULL);
	EXPECT_EQ(0, d->run.status);
	EXPECT_STREQ("", d->run.err);
	EXPECT_NE(NULL, doctor_line(d->run.out, "module", line, sizeof(line)));
	EXPECT_EQ(0, strncmp(line, "[ ok ] module: ringvm", 21))
		TH_LOG("%s", line);
	EXPECT_NE(NULL, doctor_line(d->run.out, "hypervisor", line,
				    sizeof(line)));
	EXPECT_EQ(0, strncmp(line, hyp ? "[warn]" : "[ ok ]", 6))
		TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(d->run.out, "\n\nringvm can run VMs here.\n"))
		TH_LOG("%s", d->run.out);
	doctor_print(d->run.out);
	free(d);
}

/* As nobody: the device does not open, so no VM can run; it says why. */
TEST_F(vmctl, doctor_unprivileged)
{
	struct doctor_result *d = malloc(sizeof(*d));

	ASSERT_NE(NULL, d);
	modprobe("msr");
	doctor_json(_metadata, NOBODY, d);
	EXPECT_FALSE(d->ready);
	EXPECT_EQ(1, d->run.status);
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "module"));
	EXPECT_STREQ("fail", DOCTOR_STATUS(d, "device"));
	EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "device"),
			       "does not open for uid 65534: Permission denied"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "device"));
	EXPECT_NE(NULL, strstr(DOCTOR_HINT(d, "device"), "root"))
		TH_LOG("%s", DOCTOR_HINT(d, "device"));
	EXPECT_STREQ("unknown", DOCTOR_STATUS(d, "caps"));
	if (access("/dev/cpu/0/msr", F_OK) == 0) {
		EXPECT_STREQ("unknown", DOCTOR_STATUS(d, "firmware"));
		EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "firmware"),
				       "needs root"))
			TH_LOG("%s", DOCTOR_MESSAGE(d, "firmware"));
	}
	/* What needs no privilege is the same as for root. */
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "cpu"));
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "nested-paging"));
	free(d);
}

/*
 * Whether a package installed ringvm for the running kernel: modules.dep
 * lists a ringvm.ko (run.sh --dkms puts the DKMS-built one there).
 */
static bool ringvm_in_modules_dep(void)
{
	char path[320], line[512];
	struct utsname u;
	bool found = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "ringvm.ko:", 10) ||
			strstr(line, "/ringvm.ko:");
	fclose(f);
	return found;
}

/*
 * Without ringvm: exit 1, the module and the device fail, with hints: to
 * modprobe it where it is installed, else to build and insmod it.
 */
TEST(doctor_not_loaded)
{
	struct doctor_result *d = malloc(sizeof(*d));
	bool installed = ringvm_in_modules_dep();
	char line[640];
	const char *hint;

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	doctor_json(_metadata, 0, d);
	EXPECT_FALSE(d->ready);
	EXPECT_STREQ("fail", DOCTOR_STATUS(d, "module"));
	/* Then the kernel log's last ringvm error, if an earlier test made one. */
	EXPECT_EQ(0, strncmp(DOCTOR_MESSAGE(d, "module"),
			     "ringvm is not loaded (no /sys/module/ringvm).", 45))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "module"));
	EXPECT_NE(NULL, strstr(DOCTOR_HINT(d, "module"),
			       installed ? "modprobe ringvm" : "insmod"))
		TH_LOG("installed %d: %s", installed,
		       DOCTOR_HINT(d, "module"));
	EXPECT_STREQ("fail", DOCTOR_STATUS(d, "device"));
	EXPECT_STREQ("unknown", DOCTOR_STATUS(d, "caps"));
	/* Nothing wrong with the CPU: ringvm loads here. */
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "cpu"));
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "nested-paging"));

	vmctl(_metadata, &d->run, "doctor", NULL);
	EXPECT_EQ(1, d->run.status);
	EXPECT_STREQ("", d->run.err);
	ASSERT_NE(NULL, doctor_line(d->run.out, "module", line, sizeof(line)))
		TH_LOG("%s", d->run.out);
	EXPECT_EQ(0, strncmp(line, "[FAIL] module: ringvm is not loaded (no /sys/module/ringvm).",
			     60)) TH_LOG("%s", line);
	hint = strstr(d->run.out, line) + strlen(line);
	EXPECT_EQ(0, strncmp(hint, "\n       hint: ", 14)) TH_LOG("%s", hint);
	EXPECT_NE(NULL, strstr(d->run.out, "\nringvm cannot run VMs here yet"));
	free(d);
}

/*
 * A KVM VM holds the CPU: doctor says loading ringvm would fail and how
 * to unload KVM, and after an insmod that failed, what the module logged;
 * with KVM idle it warns (on 6.12, which turns VMX/SVM on when KVM loads,
 * it still fails); without KVM all is well.
 */
TEST(doctor_kvm_holds_cpu)
{
	struct doctor_result *d = malloc(sizeof(*d));
	const char *vendor = kvm_vendor_module();
	char at_load[8] = "", unload[64];
	int kvm_fd = -1, vm_fd, fd;

	ASSERT_NE(NULL, d);
	ASSERT_NE(NULL, vendor);
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	ASSERT_EQ(0, modprobe(vendor));
	vm_fd = kvm_create_vm(&kvm_fd);
	ASSERT_LE(0, vm_fd) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm_fd));
	snprintf(unload, sizeof(unload), "modprobe -r %s kvm", vendor);
	/* As module_test.refused_while_kvm_holds_cpu: the user's insmod. */
	ASSERT_EQ(-EBUSY, __ringvm_load(ringvm_ko_path()));

	doctor_json(_metadata, 0, d);
	EXPECT_STREQ("fail", DOCTOR_STATUS(d, "kvm"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "kvm"));
	EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "kvm"), "EBUSY"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "kvm"));
	EXPECT_NE(NULL, strstr(DOCTOR_HINT(d, "kvm"), unload))
		TH_LOG("%s", DOCTOR_HINT(d, "kvm"));
	EXPECT_STREQ("fail", DOCTOR_STATUS(d, "module"));
	EXPECT_NE(NULL, strstr(DOCTOR_MESSAGE(d, "module"),
			       "already enabled by another hypervisor"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "module"));
	close(vm_fd);
	close(kvm_fd);

	fd = open("/sys/module/kvm/parameters/enable_virt_at_load", O_RDONLY);
	if (fd >= 0) {
		EXPECT_LT(0, read(fd, at_load, sizeof(at_load) - 1));
		close(fd);
	}
	doctor_json(_metadata, 0, d);
	EXPECT_STREQ(at_load[0] == 'Y' ? "fail" : "warn",
		     DOCTOR_STATUS(d, "kvm"))
		TH_LOG("%s", DOCTOR_MESSAGE(d, "kvm"));
	EXPECT_NE(NULL, strstr(DOCTOR_HINT(d, "kvm"), unload));

	ASSERT_EQ(0, kvm_modules_unload());
	doctor_json(_metadata, 0, d);
	EXPECT_STREQ("ok", DOCTOR_STATUS(d, "kvm"));
	EXPECT_STREQ("", DOCTOR_HINT(d, "kvm"));
	free(d);
}

RINGVM_TEST_MAIN
