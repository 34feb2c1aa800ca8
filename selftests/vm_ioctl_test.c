// SPDX-License-Identifier: GPL-2.0
/*
 * vm_ioctl_test: the VM and vCPU ioctls as an ABI.
 *
 *  1. lifetimes: anonymous VMs live as long as a file (VM fd, vCPU fd or
 *     mapping) refers to them; named ones until vm-del; vCPU ids; the
 *     module's limits (max_vms, max_vcpus, max_vm_mem_mb)
 *  2. one negative test per validation branch of each ioctl, each
 *     request valid in every other respect (the *_valid tests are the
 *     baselines), checking the exact errno
 *  3. the ioctl numbers: wrong size or direction, ioctls on the wrong
 *     kind of fd (ENOTTY), bad pointers (EFAULT)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "guest.h"

#define PAGE		0x1000ULL

FIXTURE(vmio) {
	int devfd;
	int vmfd;		/* a valid VM with two vCPU slots */
	int vcpufd;		/* its vCPU 0 */
	struct ringvm_run *run;
	struct ringvm_nl *nl;
	void *bad;		/* a PROT_NONE page */
};

/* A valid CREATE_VM request: one 64 KiB region, anonymous. */
static void valid_create(struct ringvm_create_vm *r)
{
	memset(r, 0, sizeof(*r));
	r->nr_regions = 1;
	r->regions[0].size = 0x10000;
	r->max_vcpus = 2;
}

/* Raw CREATE_VM: the fd or -errno. */
static int create_raw(int devfd, struct ringvm_create_vm *r)
{
	return __ringvm_ioctl(devfd, RINGVM_CREATE_VM, (unsigned long)r);
}

/* CREATE_VM must fail with @err (and close the fd if it did not). */
#define EXPECT_CREATE(err, req)						\
	do {								\
		int __fd = create_raw(self->devfd, req);		\
		if (__fd >= 0)						\
			close(__fd);					\
		EXPECT_EQ(err, __fd > 0 ? 0 : __fd);			\
	} while (0)

FIXTURE_SETUP(vmio)
{
	struct ringvm_create_vm req;
	int ret = ringvm_ensure_loaded();

	self->devfd = self->vmfd = self->vcpufd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->devfd = __ringvm_open();
	ASSERT_LE(0, self->devfd);
	valid_create(&req);
	self->vmfd = create_raw(self->devfd, &req);
	ASSERT_LE(0, self->vmfd) TH_LOG("create: %s", strerror(-self->vmfd));
	self->vcpufd = __ringvm_create_vcpu(self->vmfd, 0);
	ASSERT_LE(0, self->vcpufd);
	self->run = ringvm_map_run(self->vcpufd);
	ASSERT_NE(NULL, self->run);
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret);
	self->bad = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, self->bad);
}

FIXTURE_TEARDOWN(vmio)
{
	if (self->bad && self->bad != MAP_FAILED)
		munmap(self->bad, PAGE);
	if (self->run)
		munmap(self->run, PAGE);
	if (self->vcpufd >= 0)
		close(self->vcpufd);
	if (self->vmfd >= 0)
		close(self->vmfd);
	if (self->nl)
		ringvm_nl_close(self->nl);
	if (self->devfd >= 0)
		close(self->devfd);
}

/* 1. Lifetimes */

static __u32 vm_id(struct __test_metadata *_metadata, int vmfd)
{
	struct ringvm_vm_info info;

	ASSERT_EQ(0, __ringvm_get_vm_info(vmfd, &info));
	return info.id;
}

TEST_F(vmio, create_anonymous)
{
	struct ringvm_create_vm req;
	struct ringvm_vm_info info;
	struct ringvm_nl_vm nv;
	char name[RINGVM_NAME_MAX];
	int fd;

	valid_create(&req);
	req.max_vcpus = 0;		/* means 1 */
	req.nr_regions = 2;
	req.regions[1].gpa = 0x100000;
	req.regions[1].size = 0x3000;
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	ASSERT_NE(0, info.id);
	snprintf(name, sizeof(name), "anon-%u", info.id);
	EXPECT_STREQ(name, info.name);
	EXPECT_EQ(RINGVM_VM_INFO_ANONYMOUS, info.flags);
	EXPECT_EQ(2, info.nr_regions);
	EXPECT_EQ(0, memcmp(info.regions, req.regions,
			    2 * sizeof(req.regions[0])));
	EXPECT_EQ(1, info.max_vcpus);
	EXPECT_EQ(0, info.nr_vcpus);
	EXPECT_EQ(0, info.mem_allocated);

	/* netlink tells the same */
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, info.id, NULL, &nv));
	EXPECT_STREQ(name, nv.name);
	EXPECT_EQ(RINGVM_VM_FLAGS_ANONYMOUS, nv.flags);
	EXPECT_EQ(2, nv.nr_regions);
	EXPECT_EQ(1, nv.max_vcpus);
	close(fd);
}

TEST_F(vmio, create_anonymous_with_name)
{
	struct ringvm_create_vm req;
	struct ringvm_vm_info info;
	struct ringvm_nl_vm nv;
	int fd;

	valid_create(&req);
	strcpy(req.name, GUEST_TEST_VM_PREFIX "anon.Name_1");
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_STREQ(req.name, info.name);
	EXPECT_EQ(RINGVM_VM_INFO_ANONYMOUS, info.flags);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, req.name, &nv));
	EXPECT_EQ(info.id, nv.id);
	/* the name is taken while it lives, free again once it is gone */
	EXPECT_CREATE(-EEXIST, &req);
	close(fd);
	fd = create_raw(self->devfd, &req);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

TEST_F(vmio, anonymous_gone_after_close)
{
	struct ringvm_create_vm req;
	struct ringvm_nl_vm nv;
	__u32 id;
	int fd;

	valid_create(&req);
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	id = vm_id(_metadata, fd);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
	close(fd);
	ASSERT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
	ASSERT_EQ(-ENOENT, __ringvm_open_vm(self->devfd, id, NULL));
}

TEST_F(vmio, anonymous_kept_by_vcpu_fd)
{
	struct ringvm_create_vm req;
	struct ringvm_nl_vm nv;
	int fd, vcpu, again;
	__u32 id;

	valid_create(&req);
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	id = vm_id(_metadata, fd);
	vcpu = __ringvm_create_vcpu(fd, 1);
	ASSERT_LE(0, vcpu);
	close(fd);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
	EXPECT_EQ(1, nv.nr_vcpus);
	again = __ringvm_open_vm(self->devfd, id, NULL);
	ASSERT_LE(0, again);
	close(again);
	close(vcpu);
	ASSERT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
}

TEST_F(vmio, anonymous_kept_by_mapping)
{
	struct ringvm_create_vm req;
	struct ringvm_nl_vm nv;
	__u32 id, *p;
	int fd;

	valid_create(&req);
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	id = vm_id(_metadata, fd);
	p = ringvm_map_guest(fd, 0, PAGE);
	ASSERT_NE(NULL, p);
	close(fd);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
	p[0] = 42;			/* still RAM */
	EXPECT_EQ(42, p[0]);
	munmap(p, PAGE);
	ASSERT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, id, NULL, &nv));
}

TEST_F(vmio, open_by_id_and_name)
{
	struct ringvm_create_vm req;
	int fd, byid, byname;
	__u32 id;

	valid_create(&req);
	strcpy(req.name, GUEST_TEST_VM_PREFIX "open");
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	id = vm_id(_metadata, fd);
	byid = __ringvm_open_vm(self->devfd, id, NULL);
	ASSERT_LE(0, byid);
	EXPECT_EQ(id, vm_id(_metadata, byid));
	byname = __ringvm_open_vm(self->devfd, 0, req.name);
	ASSERT_LE(0, byname);
	EXPECT_EQ(id, vm_id(_metadata, byname));
	/* the VM outlives the fd that made it while another is open */
	close(fd);
	EXPECT_EQ(id, vm_id(_metadata, byname));
	close(byid);
	close(byname);
	EXPECT_EQ(-ENOENT, __ringvm_open_vm(self->devfd, id, NULL));
}

TEST_F(vmio, named_vm_outlives_its_fds)
{
	struct ringvm_mem_region r = { .gpa = 0, .size = 0x10000 };
	const char *name = GUEST_TEST_VM_PREFIX "named";
	struct ringvm_vm_info info;
	struct ringvm_nl_vm nv;
	int fd, ret;

	ret = __ringvm_nl_vm_new(self->nl, name, &r, 1, 1, &nv);
	ASSERT_EQ(0, ret) TH_LOG("vm-new: %s: %s", strerror(-ret),
				 ringvm_nl_extack(self->nl));
	fd = __ringvm_open_vm(self->devfd, 0, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_EQ(nv.id, info.id);
	EXPECT_EQ(0, info.flags);
	close(fd);
	fd = __ringvm_open_vm(self->devfd, nv.id, NULL);
	ASSERT_LE(0, fd);
	/* vm-del: the fd stays valid but the VM is destroyed */
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, 0, name));
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_TRUE(info.flags & RINGVM_VM_INFO_DESTROYED);
	EXPECT_EQ(-ENODEV, __ringvm_create_vcpu(fd, 0));
	EXPECT_EQ(-ENOENT, __ringvm_open_vm(self->devfd, 0, name));
	close(fd);
}

TEST_F(vmio, vcpu_ids)
{
	struct ringvm_vm_info info;
	int v1, v2, again;

	/* the fixture's VM has max_vcpus 2 and vCPU 0 */
	EXPECT_EQ(-EEXIST, __ringvm_create_vcpu(self->vmfd, 0));
	v1 = __ringvm_create_vcpu(self->vmfd, 1);
	ASSERT_LE(0, v1);
	EXPECT_EQ(-EINVAL, __ringvm_create_vcpu(self->vmfd, 2));
	EXPECT_EQ(-EINVAL, __ringvm_create_vcpu(self->vmfd, 0xffffffff));
	EXPECT_EQ(-EINVAL, __ringvm_ioctl(self->vmfd, RINGVM_CREATE_VCPU,
					  1ULL << 32));
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vmfd, &info));
	EXPECT_EQ(2, info.nr_vcpus);
	/* closing a vCPU frees its id */
	close(v1);
	v2 = __ringvm_create_vcpu(self->vmfd, 1);
	ASSERT_LE(0, v2);
	again = __ringvm_create_vcpu(self->vmfd, 1);
	EXPECT_EQ(-EEXIST, again);
	close(v2);
}

TEST_F(vmio, limit_max_vcpus)
{
	long max = ringvm_module_param("max_vcpus", 8);
	struct ringvm_create_vm req;
	int fd;

	valid_create(&req);
	req.max_vcpus = max;
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd);
	EXPECT_LE(0, __ringvm_create_vcpu(fd, max - 1));
	EXPECT_EQ(-EINVAL, __ringvm_create_vcpu(fd, max));
	close(fd);
	req.max_vcpus = max + 1;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, limit_max_vms)
{
	long max = ringvm_module_param("max_vms", 64);
	struct ringvm_create_vm req;
	int *fds = calloc(max + 1, sizeof(int));
	int n, ret = 0;

	ASSERT_NE(NULL, fds);
	valid_create(&req);
	req.regions[0].size = PAGE;
	for (n = 0; n <= max; n++) {
		ret = create_raw(self->devfd, &req);
		if (ret < 0)
			break;
		fds[n] = ret;
	}
	TH_LOG("%d VMs made, max_vms %ld (one is the fixture's)", n, max);
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_GT(max, n);
	while (n--)
		close(fds[n]);
	free(fds);
	/* and there is room again */
	ret = create_raw(self->devfd, &req);
	EXPECT_LE(0, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(vmio, limit_max_vm_mem)
{
	__u64 max = ringvm_module_param("max_vm_mem_mb", 2048) << 20;
	struct ringvm_create_vm req;
	int fd;

	valid_create(&req);
	req.regions[0].size = max;		/* nothing is allocated yet */
	fd = create_raw(self->devfd, &req);
	ASSERT_LE(0, fd) TH_LOG("%llu bytes: %s", (unsigned long long)max,
				strerror(-fd));
	close(fd);
	req.regions[0].size = max + PAGE;
	EXPECT_CREATE(-E2BIG, &req);
	/* the sum counts */
	req.nr_regions = 2;
	req.regions[0].size = max;
	req.regions[1].gpa = max;
	req.regions[1].size = PAGE;
	EXPECT_CREATE(-E2BIG, &req);
}

/* 2. Negative tests: RINGVM_CREATE_VM */

TEST_F(vmio, create_valid)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	EXPECT_CREATE(0, &req);
	req.nr_regions = RINGVM_MAX_MEM_REGIONS;
	for (int i = 0; i < RINGVM_MAX_MEM_REGIONS; i++) {
		req.regions[i].gpa = 0x100000ULL * i;
		req.regions[i].size = PAGE;
	}
	EXPECT_CREATE(0, &req);
	valid_create(&req);
	memset(req.name, 'a', RINGVM_NAME_MAX - 1);	/* 31 characters */
	EXPECT_CREATE(0, &req);
}

/*
 * Every flag but RINGVM_VM_LARGE_PAGES is refused; that one makes a VM
 * that says so in its info where the caps offer it, EOPNOTSUPP where not.
 */
TEST_F(vmio, create_flags)
{
	struct ringvm_create_vm req;
	struct ringvm_vm_info info;
	struct ringvm_caps caps;
	int bit, fd;

	for (bit = 0; bit < 32; bit++) {
		if (1U << bit == RINGVM_VM_LARGE_PAGES)
			continue;
		valid_create(&req);
		req.flags = 1U << bit;
		EXPECT_CREATE(-EINVAL, &req);
		req.flags |= RINGVM_VM_LARGE_PAGES;
		EXPECT_CREATE(-EINVAL, &req);
	}

	ASSERT_EQ(0, __ringvm_get_caps(self->devfd, &caps));
	valid_create(&req);
	req.flags = RINGVM_VM_LARGE_PAGES;
	fd = create_raw(self->devfd, &req);
	if (!(caps.features & RINGVM_FEAT_LARGE_PAGES)) {
		EXPECT_EQ(-EOPNOTSUPP, fd);
		return;
	}
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_EQ(RINGVM_VM_INFO_ANONYMOUS | RINGVM_VM_INFO_LARGE_PAGES,
		  info.flags);
	close(fd);
}

TEST_F(vmio, create_pad)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.pad = 1;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_reserved)
{
	struct ringvm_create_vm req;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(req.reserved); i++) {
		valid_create(&req);
		req.reserved[i] = 1ULL << 63;
		EXPECT_CREATE(-EINVAL, &req);
	}
}

TEST_F(vmio, create_nr_regions)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.nr_regions = 0;
	EXPECT_CREATE(-EINVAL, &req);
	req.nr_regions = RINGVM_MAX_MEM_REGIONS + 1;
	EXPECT_CREATE(-EINVAL, &req);
	req.nr_regions = 0xffffffff;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_region_misaligned)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.regions[0].gpa = 0x800;
	EXPECT_CREATE(-EINVAL, &req);
	valid_create(&req);
	req.regions[0].size = 0x1800;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_region_empty)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.regions[0].size = 0;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_region_overlap)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.nr_regions = 2;
	req.regions[0].size = 0x2000;
	req.regions[1].gpa = 0x1000;
	req.regions[1].size = 0x2000;
	EXPECT_CREATE(-EINVAL, &req);
	req.regions[1] = req.regions[0];		/* the same twice */
	EXPECT_CREATE(-EINVAL, &req);
	req.regions[1].gpa = 0;				/* one inside another */
	req.regions[1].size = 0x1000;
	EXPECT_CREATE(-EINVAL, &req);
}

static __u64 phys_limit(void)
{
	__u32 r[4];

	cpuid(0x80000008, 0, r);
	return 1ULL << (r[0] & 0xff);
}

TEST_F(vmio, create_region_beyond_phys)
{
	struct ringvm_create_vm req;
	__u64 limit = phys_limit();

	valid_create(&req);
	req.regions[0].gpa = limit;
	req.regions[0].size = PAGE;
	EXPECT_CREATE(-EINVAL, &req);
	req.regions[0].gpa = limit - PAGE;
	req.regions[0].size = 2 * PAGE;
	EXPECT_CREATE(-EINVAL, &req);
	/* gpa + size wrapping around 2^64 */
	req.regions[0].gpa = -PAGE;
	req.regions[0].size = 2 * PAGE;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_name)
{
	static const char *const bad[] = {
		"a b", "a/b", "a:b", "vm\n", "\xc3\xa4", "a*", "\x7f",
	};
	struct ringvm_create_vm req;
	unsigned int i;

	/* 32 characters: no room for the NUL */
	valid_create(&req);
	memset(req.name, 'a', RINGVM_NAME_MAX);
	EXPECT_CREATE(-EINVAL, &req);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		valid_create(&req);
		strcpy(req.name, bad[i]);
		EXPECT_CREATE(-EINVAL, &req);
	}
}

TEST_F(vmio, create_too_many_vcpus)
{
	struct ringvm_create_vm req;

	valid_create(&req);
	req.max_vcpus = ringvm_module_param("max_vcpus", 8) + 1;
	EXPECT_CREATE(-EINVAL, &req);
	req.max_vcpus = 0xffffffff;
	EXPECT_CREATE(-EINVAL, &req);
}

TEST_F(vmio, create_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->devfd, RINGVM_CREATE_VM,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->devfd, RINGVM_CREATE_VM, 0));
}

/* RINGVM_OPEN_VM */

static int open_raw(int devfd, struct ringvm_open_vm *o)
{
	return __ringvm_ioctl(devfd, RINGVM_OPEN_VM, (unsigned long)o);
}

#define EXPECT_OPEN(err, o)						\
	do {								\
		int __fd = open_raw(self->devfd, o);			\
		if (__fd >= 0)						\
			close(__fd);					\
		EXPECT_EQ(err, __fd > 0 ? 0 : __fd);			\
	} while (0)

TEST_F(vmio, open_valid)
{
	struct ringvm_open_vm o = { .id = vm_id(_metadata, self->vmfd) };

	EXPECT_OPEN(0, &o);
}

TEST_F(vmio, open_flags)
{
	struct ringvm_open_vm o;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&o, 0, sizeof(o));
		o.id = vm_id(_metadata, self->vmfd);
		o.flags = 1U << bit;
		EXPECT_OPEN(-EINVAL, &o);
	}
}

TEST_F(vmio, open_reserved)
{
	struct ringvm_open_vm o;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(o.reserved); i++) {
		memset(&o, 0, sizeof(o));
		o.id = vm_id(_metadata, self->vmfd);
		o.reserved[i] = 1;
		EXPECT_OPEN(-EINVAL, &o);
	}
}

TEST_F(vmio, open_both_or_neither)
{
	struct ringvm_vm_info info;
	struct ringvm_open_vm o;

	ASSERT_EQ(0, __ringvm_get_vm_info(self->vmfd, &info));
	memset(&o, 0, sizeof(o));
	EXPECT_OPEN(-EINVAL, &o);
	o.id = info.id;
	strcpy(o.name, info.name);
	EXPECT_OPEN(-EINVAL, &o);
}

TEST_F(vmio, open_name_unterminated)
{
	struct ringvm_open_vm o;

	memset(&o, 0, sizeof(o));
	memset(o.name, 'a', sizeof(o.name));
	EXPECT_OPEN(-EINVAL, &o);
}

TEST_F(vmio, open_no_such_vm)
{
	struct ringvm_open_vm o;

	memset(&o, 0, sizeof(o));
	o.id = 0xfffffff0;
	EXPECT_OPEN(-ENOENT, &o);
	memset(&o, 0, sizeof(o));
	strcpy(o.name, GUEST_TEST_VM_PREFIX "no-such-vm");
	EXPECT_OPEN(-ENOENT, &o);
}

TEST_F(vmio, open_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->devfd, RINGVM_OPEN_VM,
					  (unsigned long)self->bad));
}

/* RINGVM_GET_VM_INFO */

TEST_F(vmio, info_flags)
{
	struct ringvm_vm_info info;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&info, 0, sizeof(info));
		info.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, __ringvm_ioctl(self->vmfd, RINGVM_GET_VM_INFO,
						  (unsigned long)&info));
	}
}

TEST_F(vmio, info_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vmfd, RINGVM_GET_VM_INFO,
					  (unsigned long)self->bad));
}

/* RINGVM_SET_CPUID */

static int set_cpuid_raw(int vmfd, struct ringvm_cpuid *c)
{
	return __ringvm_ioctl(vmfd, RINGVM_SET_CPUID, (unsigned long)c);
}

TEST_F(vmio, cpuid_valid)
{
	struct ringvm_cpuid *c = calloc(1, sizeof(*c));

	ASSERT_NE(NULL, c);
	EXPECT_EQ(0, set_cpuid_raw(self->vmfd, c));	/* empty */
	c->nent = RINGVM_MAX_CPUID_ENTRIES;
	for (int i = 0; i < RINGVM_MAX_CPUID_ENTRIES; i++) {
		c->entries[i].function = i;
		c->entries[i].flags = RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX;
	}
	EXPECT_EQ(0, set_cpuid_raw(self->vmfd, c));
	free(c);
}

TEST_F(vmio, cpuid_nent)
{
	struct ringvm_cpuid *c = calloc(2, sizeof(*c));

	ASSERT_NE(NULL, c);
	c->nent = RINGVM_MAX_CPUID_ENTRIES + 1;
	EXPECT_EQ(-EINVAL, set_cpuid_raw(self->vmfd, c));
	c->nent = 0xffffffff;
	EXPECT_EQ(-EINVAL, set_cpuid_raw(self->vmfd, c));
	free(c);
}

TEST_F(vmio, cpuid_flags)
{
	struct ringvm_cpuid *c = calloc(1, sizeof(*c));
	int bit;

	ASSERT_NE(NULL, c);
	for (bit = 0; bit < 32; bit++) {
		c->flags = 1U << bit;
		EXPECT_EQ(-EINVAL, set_cpuid_raw(self->vmfd, c));
	}
	free(c);
}

TEST_F(vmio, cpuid_entry_pad)
{
	struct ringvm_cpuid *c = calloc(1, sizeof(*c));

	ASSERT_NE(NULL, c);
	c->nent = 3;
	c->entries[2].pad = 1;
	EXPECT_EQ(-EINVAL, set_cpuid_raw(self->vmfd, c));
	free(c);
}

TEST_F(vmio, cpuid_entry_flags)
{
	struct ringvm_cpuid *c = calloc(1, sizeof(*c));
	int bit;

	ASSERT_NE(NULL, c);
	c->nent = 2;
	for (bit = 1; bit < 32; bit++) {
		c->entries[1].flags = 1U << bit;
		EXPECT_EQ(-EINVAL, set_cpuid_raw(self->vmfd, c));
	}
	free(c);
}

TEST_F(vmio, cpuid_bad_pointer)
{
	EXPECT_EQ(-EFAULT, set_cpuid_raw(self->vmfd, self->bad));
}

/* RINGVM_ENABLE */

static int enable_raw(int vmfd, __u32 cap, __u32 flags, __u64 a0, __u64 a1,
		      __u64 a2, __u64 a3)
{
	struct ringvm_enable e = {
		.cap = cap, .flags = flags, .args = { a0, a1, a2, a3 },
	};

	return __ringvm_ioctl(vmfd, RINGVM_ENABLE, (unsigned long)&e);
}

TEST_F(vmio, enable_valid)
{
	EXPECT_EQ(0, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0, 1, 0,
				0, 0));
	EXPECT_EQ(0, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0, 0, 0,
				0, 0));
	EXPECT_EQ(0, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0, 0x608,
				0, 0, 0));
	EXPECT_EQ(0, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0, 0xffff,
				0, 0, 0));
	EXPECT_EQ(0, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0, 0, 0,
				0, 0));
}

TEST_F(vmio, enable_unknown_cap)
{
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, 0, 0, 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_LAPIC + 1,
				      0, 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, 0xffffffff, 0, 1, 0, 0, 0));
}

TEST_F(vmio, enable_flags)
{
	int bit;

	for (bit = 0; bit < 32; bit++)
		EXPECT_EQ(-EINVAL, enable_raw(self->vmfd,
					      RINGVM_ENABLE_MSR_EXIT,
					      1U << bit, 1, 0, 0, 0));
}

TEST_F(vmio, enable_args)
{
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0,
				      2, 0, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0,
				      1, 1, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0,
				      1, 0, 1, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_MSR_EXIT, 0,
				      1, 0, 0, 1ULL << 63));
	/* PM timer: a 16-bit port, nothing else */
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0,
				      0x10000, 0, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0,
				      0x608, 1, 0, 0));
	EXPECT_EQ(-EINVAL, enable_raw(self->vmfd, RINGVM_ENABLE_PM_TIMER, 0,
				      0x608, 0, 0, 1));
}

TEST_F(vmio, enable_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vmfd, RINGVM_ENABLE,
					  (unsigned long)self->bad));
}

/* RINGVM_RUN */

TEST_F(vmio, run_arg)
{
	EXPECT_EQ(-EINVAL, __ringvm_ioctl(self->vcpufd, RINGVM_RUN, 1));
	EXPECT_EQ(-EINVAL, __ringvm_ioctl(self->vcpufd, RINGVM_RUN,
					  (unsigned long)self->run));
}

TEST_F(vmio, run_flags)
{
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (RINGVM_RUN_FLAGS & (1U << bit))
			continue;
		self->run->flags = 1U << bit;
		EXPECT_EQ(-EINVAL, __ringvm_run(self->vcpufd));
	}
	self->run->flags = 0;
}

TEST_F(vmio, run_pad)
{
	self->run->pad0 = 1;
	EXPECT_EQ(-EINVAL, __ringvm_run(self->vcpufd));
	self->run->pad0 = 0;
}

/* RINGVM_SET_REGS */

TEST_F(vmio, regs_valid)
{
	struct ringvm_regs r;

	ASSERT_EQ(0, __ringvm_get_regs(self->vcpufd, &r));
	EXPECT_EQ(0, __ringvm_set_regs(self->vcpufd, &r));
	r.rflags = 0x3f7fd7;		/* every bit that exists */
	EXPECT_EQ(0, __ringvm_set_regs(self->vcpufd, &r));
}

TEST_F(vmio, regs_rflags_reserved)
{
	static const int bits[] = { 3, 5, 15, 22, 31, 32, 63 };
	struct ringvm_regs r;
	unsigned int i;

	ASSERT_EQ(0, __ringvm_get_regs(self->vcpufd, &r));
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		r.rflags = X86_RFLAGS_FIXED | 1ULL << bits[i];
		EXPECT_EQ(-EINVAL, __ringvm_set_regs(self->vcpufd, &r))
			TH_LOG("RFLAGS bit %d", bits[i]);
	}
}

TEST_F(vmio, regs_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_REGS,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_REGS,
					  (unsigned long)self->bad));
}

/* RINGVM_SET_SREGS: each change to the valid reset state is refused */

static void get_sregs(struct __test_metadata *_metadata, int fd,
		      struct ringvm_sregs *s)
{
	ASSERT_EQ(0, __ringvm_get_sregs(fd, s));
}

TEST_F(vmio, sregs_valid)
{
	struct ringvm_sregs s;

	get_sregs(_metadata, self->vcpufd, &s);
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpufd, &s));
	s.cr8 = 15;
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpufd, &s));
}

TEST_F(vmio, sregs_reserved)
{
	struct ringvm_sregs s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s.reserved); i++) {
		get_sregs(_metadata, self->vcpufd, &s);
		s.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
	}
}

/* Each segment register's pad, and each attribute beyond its range. */
TEST_F(vmio, sregs_segment_fields)
{
	struct ringvm_sregs s;
	int seg;

	for (seg = 0; seg < 8; seg++) {
		struct ringvm_segment *sp;

		get_sregs(_metadata, self->vcpufd, &s);
		sp = &s.cs + seg;
		sp->pad = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s))
			TH_LOG("segment %d pad", seg);
#define BAD_ATTR(field, val)						\
		do {							\
			get_sregs(_metadata, self->vcpufd, &s);		\
			sp = &s.cs + seg;				\
			sp->field = val;				\
			EXPECT_EQ(-EINVAL,				\
				  __ringvm_set_sregs(self->vcpufd, &s))	\
				TH_LOG("segment %d " #field " %d", seg, val); \
		} while (0)
		BAD_ATTR(type, 16);
		BAD_ATTR(present, 2);
		BAD_ATTR(dpl, 4);
		BAD_ATTR(db, 2);
		BAD_ATTR(s, 2);
		BAD_ATTR(l, 2);
		BAD_ATTR(g, 2);
		BAD_ATTR(avl, 2);
		BAD_ATTR(unusable, 2);
#undef BAD_ATTR
	}
}

TEST_F(vmio, sregs_dtable_pad)
{
	struct ringvm_sregs s;
	int i;

	for (i = 0; i < 3; i++) {
		get_sregs(_metadata, self->vcpufd, &s);
		s.gdt.pad[i] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
		get_sregs(_metadata, self->vcpufd, &s);
		s.idt.pad[i] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
	}
}

TEST_F(vmio, sregs_cr8)
{
	struct ringvm_sregs s;

	get_sregs(_metadata, self->vcpufd, &s);
	s.cr8 = 16;
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
}

TEST_F(vmio, sregs_cr0_high)
{
	struct ringvm_sregs s;

	get_sregs(_metadata, self->vcpufd, &s);
	s.cr0 |= 1ULL << 32;
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
	get_sregs(_metadata, self->vcpufd, &s);
	s.cr0 |= 1ULL << 63;
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s));
}

/* Bits no x86 CPU defines: CR4 bits 63 and 32 (and 15), EFER 63 and 2 */
TEST_F(vmio, sregs_cr4_reserved)
{
	static const int bits[] = { 15, 32, 63 };
	struct ringvm_sregs s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		get_sregs(_metadata, self->vcpufd, &s);
		s.cr4 |= 1ULL << bits[i];
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s))
			TH_LOG("CR4 bit %d", bits[i]);
	}
}

TEST_F(vmio, sregs_efer_reserved)
{
	static const int bits[] = { 1, 2, 7, 9, 32, 63 };
	struct ringvm_sregs s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		get_sregs(_metadata, self->vcpufd, &s);
		s.efer |= 1ULL << bits[i];
		EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpufd, &s))
			TH_LOG("EFER bit %d", bits[i]);
	}
}

TEST_F(vmio, sregs_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_SREGS,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_SREGS,
					  (unsigned long)self->bad));
}

/* RINGVM_SET_DEBUGREGS */

static void valid_dr(struct ringvm_debugregs *d)
{
	memset(d, 0, sizeof(*d));
	d->dr6 = 0xffff0ff0;
	d->dr7 = 0x400;
}

TEST_F(vmio, debugregs_valid)
{
	struct ringvm_debugregs d;

	valid_dr(&d);
	d.db[0] = 0x00007ffffffff000ULL;
	d.db[1] = 0xffff800000000000ULL;
	EXPECT_EQ(0, __ringvm_set_debugregs(self->vcpufd, &d));
}

TEST_F(vmio, debugregs_flags)
{
	struct ringvm_debugregs d;
	int bit;

	for (bit = 0; bit < 64; bit++) {
		valid_dr(&d);
		d.flags = 1ULL << bit;
		EXPECT_EQ(-EINVAL, __ringvm_set_debugregs(self->vcpufd, &d));
	}
}

TEST_F(vmio, debugregs_reserved)
{
	struct ringvm_debugregs d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(d.reserved); i++) {
		valid_dr(&d);
		d.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_debugregs(self->vcpufd, &d));
	}
}

TEST_F(vmio, debugregs_high_bits)
{
	struct ringvm_debugregs d;

	valid_dr(&d);
	d.dr6 |= 1ULL << 32;
	EXPECT_EQ(-EINVAL, __ringvm_set_debugregs(self->vcpufd, &d));
	valid_dr(&d);
	d.dr7 |= 1ULL << 63;
	EXPECT_EQ(-EINVAL, __ringvm_set_debugregs(self->vcpufd, &d));
}

/* The host's linear-address width, "NN bits virtual" in /proc/cpuinfo. */
static int host_virt_bits(void)
{
	char line[256];
	int phys, virt = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %d bits physical, %d bits virtual",
			   &phys, &virt) == 2)
			break;
	if (f)
		fclose(f);
	return virt;
}

/*
 * Canonical at the host's width: 48 bits, or 57 with LA57, where
 * 0x0000800000000000 is canonical and must be taken.
 */
TEST_F(vmio, debugregs_noncanonical)
{
	int i, vbits = host_virt_bits();
	struct ringvm_debugregs d;

	ASSERT_TRUE(vbits == 48 || vbits == 57) TH_LOG("%d bits", vbits);
	for (i = 0; i < 4; i++) {
		valid_dr(&d);
		d.db[i] = 1ULL << (vbits - 1);
		EXPECT_EQ(-EINVAL, __ringvm_set_debugregs(self->vcpufd, &d));
		d.db[i] = 0x0000800000000000ULL;
		EXPECT_EQ(vbits == 57 ? 0 : -EINVAL,
			  __ringvm_set_debugregs(self->vcpufd, &d));
	}
}

TEST_F(vmio, debugregs_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_DEBUGREGS,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_DEBUGREGS,
					  (unsigned long)self->bad));
}

/* RINGVM_GET_MSRS / RINGVM_SET_MSRS */

static struct ringvm_msrs *lstar_msrs(unsigned int n)
{
	struct ringvm_msrs *m = calloc(1, sizeof(*m) + 16);
	unsigned int i;

	if (!m)
		return NULL;
	m->nmsrs = n;
	for (i = 0; i < RINGVM_MAX_MSR_ENTRIES; i++) {
		m->entries[i].index = MSR_LSTAR;
		m->entries[i].data = 0xffffffff81000000ULL;
	}
	return m;
}

TEST_F(vmio, msrs_valid)
{
	struct ringvm_msrs *m = lstar_msrs(RINGVM_MAX_MSR_ENTRIES);

	ASSERT_NE(NULL, m);
	EXPECT_EQ(RINGVM_MAX_MSR_ENTRIES, __ringvm_set_msrs(self->vcpufd, m));
	EXPECT_EQ(RINGVM_MAX_MSR_ENTRIES, __ringvm_get_msrs(self->vcpufd, m));
	free(m);
}

TEST_F(vmio, msrs_nmsrs)
{
	struct ringvm_msrs *m = lstar_msrs(RINGVM_MAX_MSR_ENTRIES + 1);

	ASSERT_NE(NULL, m);
	EXPECT_EQ(-EINVAL, __ringvm_set_msrs(self->vcpufd, m));
	EXPECT_EQ(-EINVAL, __ringvm_get_msrs(self->vcpufd, m));
	m->nmsrs = 0x80000000;
	EXPECT_EQ(-EINVAL, __ringvm_get_msrs(self->vcpufd, m));
	free(m);
}

TEST_F(vmio, msrs_pad)
{
	struct ringvm_msrs *m = lstar_msrs(1);

	ASSERT_NE(NULL, m);
	m->pad = 1;
	EXPECT_EQ(-EINVAL, __ringvm_set_msrs(self->vcpufd, m));
	EXPECT_EQ(-EINVAL, __ringvm_get_msrs(self->vcpufd, m));
	free(m);
}

TEST_F(vmio, msrs_entry_reserved)
{
	struct ringvm_msrs *m = lstar_msrs(4);

	ASSERT_NE(NULL, m);
	m->entries[3].reserved = 1;
	EXPECT_EQ(-EINVAL, __ringvm_set_msrs(self->vcpufd, m));
	EXPECT_EQ(-EINVAL, __ringvm_get_msrs(self->vcpufd, m));
	free(m);
}

TEST_F(vmio, msrs_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_MSRS,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_MSRS,
					  (unsigned long)self->bad));
}

/* RINGVM_SET_XSAVE: each change to the vCPU's own image is refused */

#define XSAVE_MXCSR	24
#define XSAVE_HDR	512

static struct ringvm_xsave *get_xsave(struct __test_metadata *_metadata,
				      int fd)
{
	struct ringvm_xsave *x = calloc(1, sizeof(*x));

	ASSERT_NE(NULL, x);
	ASSERT_EQ(0, __ringvm_get_xsave(fd, x));
	return x;
}

TEST_F(vmio, xsave_valid)
{
	struct ringvm_xsave *x = get_xsave(_metadata, self->vcpufd);

	EXPECT_EQ(0, __ringvm_set_xsave(self->vcpufd, x));
	/* x87 and SSE in use, MXCSR with every control bit */
	*(__u64 *)((__u8 *)x + XSAVE_HDR) |= XFEATURE_X87 | XFEATURE_SSE;
	*(__u32 *)((__u8 *)x + XSAVE_MXCSR) = 0xff80;
	EXPECT_EQ(0, __ringvm_set_xsave(self->vcpufd, x));
	free(x);
}

TEST_F(vmio, xsave_xstate_bv)
{
	struct ringvm_xsave *x = get_xsave(_metadata, self->vcpufd);

	*(__u64 *)((__u8 *)x + XSAVE_HDR) |= 1ULL << 62;
	EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x));
	free(x);
}

TEST_F(vmio, xsave_xcomp_bv)
{
	struct ringvm_xsave *x = get_xsave(_metadata, self->vcpufd);

	*(__u64 *)((__u8 *)x + XSAVE_HDR + 8) = 1ULL << 63 | XFEATURE_SSE;
	EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x));
	*(__u64 *)((__u8 *)x + XSAVE_HDR + 8) = XFEATURE_X87;
	EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x));
	free(x);
}

TEST_F(vmio, xsave_header_reserved)
{
	struct ringvm_xsave *x = get_xsave(_metadata, self->vcpufd);
	int off;

	for (off = 16; off < 64; off += 8) {
		free(x);
		x = get_xsave(_metadata, self->vcpufd);
		((__u8 *)x)[XSAVE_HDR + off] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x))
			TH_LOG("header byte %d", off);
	}
	free(x);
}

TEST_F(vmio, xsave_mxcsr_reserved)
{
	struct ringvm_xsave *x = get_xsave(_metadata, self->vcpufd);

	*(__u32 *)((__u8 *)x + XSAVE_MXCSR) = 0x1f80 | 1U << 31;
	EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x));
	*(__u32 *)((__u8 *)x + XSAVE_MXCSR) = 0x1f80 | 1U << 16;
	EXPECT_EQ(-EINVAL, __ringvm_set_xsave(self->vcpufd, x));
	free(x);
}

TEST_F(vmio, xsave_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_XSAVE,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_XSAVE,
					  (unsigned long)self->bad));
}

/* RINGVM_SET_XCRS */

static int set_xcr0(int fd, __u64 xcr0, __u64 reserved)
{
	struct ringvm_xcrs x = { .xcr0 = xcr0, .reserved = { reserved } };

	return __ringvm_set_xcrs(fd, &x);
}

TEST_F(vmio, xcrs_valid)
{
	EXPECT_EQ(0, set_xcr0(self->vcpufd, XFEATURE_X87, 0));
	if (host_xcr0() & XFEATURE_SSE)
		EXPECT_EQ(0, set_xcr0(self->vcpufd,
				      XFEATURE_X87 | XFEATURE_SSE, 0));
}

TEST_F(vmio, xcrs_reserved)
{
	struct ringvm_xcrs x = { .xcr0 = XFEATURE_X87 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(x.reserved); i++) {
		memset(x.reserved, 0, sizeof(x.reserved));
		x.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __ringvm_set_xcrs(self->vcpufd, &x));
	}
}

TEST_F(vmio, xcrs_no_x87)
{
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, 0, 0));
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, XFEATURE_SSE, 0));
}

TEST_F(vmio, xcrs_avx_without_sse)
{
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd,
				    XFEATURE_X87 | XFEATURE_YMM, 0));
}

TEST_F(vmio, xcrs_unsupported_bit)
{
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, XFEATURE_X87 | 1ULL << 62,
				    0));
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, XFEATURE_X87 | 1ULL << 63,
				    0));
}

/* Only part of AVX-512 (opmask without the ZMM state) */
TEST_F(vmio, xcrs_partial_avx512)
{
	__u64 base = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_YMM;

	if ((host_xcr0() & 0xe7) != 0xe7)
		SKIP(return, "no AVX-512 in the host's XCR0");
	EXPECT_EQ(0, set_xcr0(self->vcpufd, base | 0xe0, 0));
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, base | 0x20, 0));
	EXPECT_EQ(-EINVAL, set_xcr0(self->vcpufd, base | 0x60, 0));
}

TEST_F(vmio, xcrs_bad_pointer)
{
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_SET_XCRS,
					  (unsigned long)self->bad));
	EXPECT_EQ(-EFAULT, __ringvm_ioctl(self->vcpufd, RINGVM_GET_XCRS,
					  (unsigned long)self->bad));
}

/* 3. ioctl numbers */

enum { DEV, VM, VCPU };

static const struct ioc {
	const char *name;
	int fd;			/* the kind of fd it belongs to */
	unsigned long cmd;
} iocs[] = {
	{ "GET_CAPS", DEV, RINGVM_GET_CAPS },
	{ "CREATE_VM", DEV, RINGVM_CREATE_VM },
	{ "OPEN_VM", DEV, RINGVM_OPEN_VM },
	{ "SET_CPUID", VM, RINGVM_SET_CPUID },
	{ "GET_VM_INFO", VM, RINGVM_GET_VM_INFO },
	{ "ENABLE", VM, RINGVM_ENABLE },
	{ "GET_REGS", VCPU, RINGVM_GET_REGS },
	{ "SET_REGS", VCPU, RINGVM_SET_REGS },
	{ "GET_SREGS", VCPU, RINGVM_GET_SREGS },
	{ "SET_SREGS", VCPU, RINGVM_SET_SREGS },
	{ "GET_DEBUGREGS", VCPU, RINGVM_GET_DEBUGREGS },
	{ "SET_DEBUGREGS", VCPU, RINGVM_SET_DEBUGREGS },
	{ "GET_MSRS", VCPU, RINGVM_GET_MSRS },
	{ "SET_MSRS", VCPU, RINGVM_SET_MSRS },
	{ "GET_XSAVE", VCPU, RINGVM_GET_XSAVE },
	{ "SET_XSAVE", VCPU, RINGVM_SET_XSAVE },
	{ "GET_XCRS", VCPU, RINGVM_GET_XCRS },
	{ "SET_XCRS", VCPU, RINGVM_SET_XCRS },
};

static int fd_of(FIXTURE_DATA(vmio) *self, int kind)
{
	return kind == DEV ? self->devfd : kind == VM ? self->vmfd :
	       self->vcpufd;
}

/* The same number with another size, or another direction: ENOTTY. */
TEST_F(vmio, wrong_size_or_direction)
{
	static __u8 buf[8192];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(iocs); i++) {
		unsigned long c = iocs[i].cmd;
		int fd = fd_of(self, iocs[i].fd);
		unsigned int dir = _IOC_DIR(c);
		unsigned int other = dir == _IOC_READ ? _IOC_WRITE :
				     dir == _IOC_WRITE ? _IOC_READ :
				     _IOC_WRITE;

		EXPECT_EQ(-ENOTTY, __ringvm_ioctl(fd, _IOC(dir, _IOC_TYPE(c),
				_IOC_NR(c), _IOC_SIZE(c) + 8),
				(unsigned long)buf)) TH_LOG("%s + 8", iocs[i].name);
		EXPECT_EQ(-ENOTTY, __ringvm_ioctl(fd, _IOC(dir, _IOC_TYPE(c),
				_IOC_NR(c), _IOC_SIZE(c) - 8),
				(unsigned long)buf)) TH_LOG("%s - 8", iocs[i].name);
		EXPECT_EQ(-ENOTTY, __ringvm_ioctl(fd, _IOC(other, _IOC_TYPE(c),
				_IOC_NR(c), _IOC_SIZE(c)),
				(unsigned long)buf)) TH_LOG("%s other direction",
							    iocs[i].name);
	}
	/* the _IO ones with a size */
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vcpufd,
					  _IOW(RINGVMIO, 0x20, __u64), 0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vmfd,
					  _IOW(RINGVMIO, 0x10, __u32), 0));
}

/* Each ioctl on the other kinds of fd: ENOTTY, whatever the argument. */
TEST_F(vmio, wrong_fd)
{
	static __u8 buf[8192];
	unsigned int i;
	int kind;

	for (i = 0; i < ARRAY_SIZE(iocs); i++) {
		for (kind = DEV; kind <= VCPU; kind++) {
			if (kind == iocs[i].fd)
				continue;
			EXPECT_EQ(-ENOTTY, __ringvm_ioctl(fd_of(self, kind),
					iocs[i].cmd, (unsigned long)buf))
				TH_LOG("%s on fd kind %d", iocs[i].name, kind);
		}
	}
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vmfd, RINGVM_RUN, 0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->devfd, RINGVM_RUN, 0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vcpufd, RINGVM_CREATE_VCPU, 1));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->devfd, RINGVM_CREATE_VCPU, 1));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vmfd,
					  RINGVM_GET_API_VERSION, 0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vcpufd,
					  RINGVM_GET_API_VERSION, 0));
	/* unknown numbers in the VM and vCPU ranges */
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vmfd, _IO(RINGVMIO, 0x1f), 0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vcpufd, _IO(RINGVMIO, 0x2f),
					  0));
	EXPECT_EQ(-ENOTTY, __ringvm_ioctl(self->vcpufd, _IO(0xAE, 0x80), 0));
}

RINGVM_GUEST_TEST_MAIN
