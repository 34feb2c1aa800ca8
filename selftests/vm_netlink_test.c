// SPDX-License-Identifier: GPL-2.0
/*
 * vm_netlink_test: the VM operations of the "ringvm" generic netlink
 * family (uapi/ringvm.yaml): vm-new, vm-get (do and dump), vm-del and
 * the vm-event notifications on the "events" group; then one negative
 * test per validation branch, each with the exact errno and, where the
 * kernel gives one, an extack message; and what an unprivileged user
 * may do and see: only its own VMs, no vm-new, vm-del or events.
 *
 * Named VMs made here are called GUEST_TEST_VM_PREFIX-something, so a
 * failed test's leftovers are deleted by RINGVM_GUEST_TEST_MAIN.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NOBODY		65534
#define VM_A		GUEST_TEST_VM_PREFIX "nl-a"
#define VM_B		GUEST_TEST_VM_PREFIX "nl-b"

/* Every attribute a vm-new / vm-get reply carries. */
#define VM_ATTRS_ALL							\
	((1U << RINGVM_A_VM_ID) | (1U << RINGVM_A_VM_NAME) |		\
	 (1U << RINGVM_A_VM_MEM_REGION) | (1U << RINGVM_A_VM_MAX_VCPUS) |	\
	 (1U << RINGVM_A_VM_NR_VCPUS) | (1U << RINGVM_A_VM_MEM_ALLOCATED) | \
	 (1U << RINGVM_A_VM_FLAGS))

FIXTURE(vmnl) {
	struct ringvm_nl *nl;
	struct ringvm_nl *events;
	int devfd;
	mode_t devmode;		/* to restore, when nonzero */
};

static const struct ringvm_mem_region one_region = { 0, 0x10000 };

FIXTURE_SETUP(vmnl)
{
	int ret = ringvm_ensure_loaded();

	self->devfd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
	self->devfd = __ringvm_open();
	ASSERT_LE(0, self->devfd);
}

FIXTURE_TEARDOWN(vmnl)
{
	struct ringvm_nl_vm v;

	/* what a failed test may have left */
	if (self->nl) {
		if (!__ringvm_nl_vm_get(self->nl, 0, VM_A, &v))
			__ringvm_nl_vm_del(self->nl, v.id, NULL);
		if (!__ringvm_nl_vm_get(self->nl, 0, VM_B, &v))
			__ringvm_nl_vm_del(self->nl, v.id, NULL);
		ringvm_nl_close(self->nl);
	}
	if (self->events)
		ringvm_nl_close(self->events);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->devmode)
		chmod(RINGVM_DEV_PATH, self->devmode);
}

/* vm-new of @name with @regions: must succeed; the reply in @out. */
static void vm_new_ok(struct __test_metadata *_metadata, struct ringvm_nl *nl,
		      const char *name, const struct ringvm_mem_region *r,
		      unsigned int nr, __u32 max_vcpus, struct ringvm_nl_vm *out)
{
	int ret = __ringvm_nl_vm_new(nl, name, r, nr, max_vcpus, out);

	ASSERT_EQ(0, ret) TH_LOG("vm-new %s: %s: %s", name, strerror(-ret),
				 ringvm_nl_extack(nl));
}

/* @ret must be @err, and the kernel must have said why. */
#define EXPECT_NL_ERR(err, ret)						\
	do {								\
		int __r = (ret);					\
		EXPECT_EQ(err, __r) TH_LOG("%s (extack: \"%s\")",	\
			strerror(-__r), ringvm_nl_extack(self->nl));	\
		if (__r == (err) && (err) != -ENOENT)			\
			EXPECT_NE(0, ringvm_nl_extack(self->nl)[0])	\
				TH_LOG("no extack message");		\
	} while (0)

/* @ret must be @err with the extack message @text. */
#define EXPECT_NL_ERR_MSG(err, text, ret)				\
	do {								\
		int __r = (ret);					\
		EXPECT_EQ(err, __r) TH_LOG("%s (extack: \"%s\")",	\
			strerror(-__r), ringvm_nl_extack(self->nl));	\
		EXPECT_STREQ(text, ringvm_nl_extack(self->nl));		\
	} while (0)

/* 1. The operations */

TEST_F(vmnl, vm_new_get_del)
{
	const struct ringvm_mem_region r[2] = {
		{ 0, 0x200000 }, { 0x40000000, 0x1000 },
	};
	struct ringvm_nl_vm nv, g;
	struct ringvm_vm_info info;
	int fd;

	vm_new_ok(_metadata, self->nl, VM_A, r, 2, 3, &nv);
	EXPECT_EQ(VM_ATTRS_ALL, nv.attrs & VM_ATTRS_ALL)
		TH_LOG("attributes missing: %#x", VM_ATTRS_ALL & ~nv.attrs);
	EXPECT_NE(0, nv.id);
	EXPECT_STREQ(VM_A, nv.name);
	EXPECT_EQ(2, nv.nr_regions);
	EXPECT_EQ(0, memcmp(r, nv.regions, sizeof(r)));
	EXPECT_EQ(3, nv.max_vcpus);
	EXPECT_EQ(0, nv.nr_vcpus);
	EXPECT_EQ(0, nv.mem_allocated);
	EXPECT_EQ(0, nv.flags);

	/* vm-get by id and by name: the same */
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, nv.id, NULL, &g));
	EXPECT_EQ(0, memcmp(&nv, &g, sizeof(g)));
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, VM_A, &g));
	EXPECT_EQ(0, memcmp(&nv, &g, sizeof(g)));

	/* and the ioctl view */
	fd = __ringvm_open_vm(self->devfd, nv.id, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_STREQ(VM_A, info.name);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(3, info.max_vcpus);
	/* nr-vcpus and mem-allocated follow */
	{
		int vcpu = __ringvm_create_vcpu(fd, 2);
		__u32 *p = ringvm_map_guest(fd, 0, 0x2000);

		ASSERT_LE(0, vcpu);
		ASSERT_NE(NULL, p);
		p[0] = 1;
		p[1024] = 2;
		ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, nv.id, NULL, &g));
		EXPECT_EQ(1, g.nr_vcpus);
		EXPECT_EQ(0x2000, g.mem_allocated);
		munmap(p, 0x2000);
		close(vcpu);
	}
	close(fd);

	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, nv.id, NULL));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, nv.id, NULL, &g));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, VM_A, &g));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_del(self->nl, nv.id, NULL));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_del(self->nl, 0, VM_A));
	/* the name is free again at once */
	vm_new_ok(_metadata, self->nl, VM_A, r, 1, 0, &g);
	EXPECT_NE(nv.id, g.id);
	EXPECT_EQ(1, g.max_vcpus);		/* the default */
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, 0, VM_A));
}

struct seen {
	__u32 ids[4];
	unsigned int found;
	__u32 last_id;
	bool ordered;
	unsigned int count;
};

static int dump_cb(const struct ringvm_nl_vm *vm, void *arg)
{
	struct seen *s = arg;
	unsigned int i;

	if (vm->id <= s->last_id)
		s->ordered = false;
	s->last_id = vm->id;
	s->count++;
	for (i = 0; i < 4; i++)
		if (s->ids[i] == vm->id)
			s->found |= 1U << i;
	return 0;
}

/* The dump lists every live VM, named or anonymous, in id order. */
TEST_F(vmnl, dump)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct ringvm_nl_vm a, b;
	struct ringvm_vm_info info;
	struct seen s = { .ordered = true };
	int anon;

	req.regions[0].size = 0x1000;
	vm_new_ok(_metadata, self->nl, VM_A, &one_region, 1, 1, &a);
	anon = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, anon);
	ASSERT_EQ(0, __ringvm_get_vm_info(anon, &info));
	vm_new_ok(_metadata, self->nl, VM_B, &one_region, 1, 1, &b);
	s.ids[0] = a.id;
	s.ids[1] = info.id;
	s.ids[2] = b.id;
	ASSERT_EQ(0, __ringvm_nl_vm_dump(self->nl, dump_cb, &s));
	EXPECT_EQ(7, s.found);
	EXPECT_TRUE(s.ordered);
	EXPECT_LE(3, s.count);

	/* gone from the dump once gone */
	close(anon);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, a.id, NULL));
	memset(&s, 0, sizeof(s));
	s.ids[0] = a.id;
	s.ids[1] = info.id;
	s.ids[2] = b.id;
	s.ordered = true;
	ASSERT_EQ(0, __ringvm_nl_vm_dump(self->nl, dump_cb, &s));
	EXPECT_EQ(4, s.found);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, b.id, NULL));
}

/* 2. Events */

/* The next vm-event for VM @id must be @event (others are skipped). */
static void expect_event(struct __test_metadata *_metadata,
			 struct ringvm_nl *events, __u32 id, const char *name,
			 __u32 event)
{
	struct ringvm_nl_vm ev;
	int ret;

	do {
		ret = __ringvm_nl_event_wait(events, 5000, &ev);
		ASSERT_EQ(0, ret) TH_LOG("waiting for vm-event %s: %s",
					 ringvm_vm_event_name(event),
					 strerror(-ret));
	} while (ev.id != id);
	EXPECT_EQ(event, ev.event) TH_LOG("got vm-event %s",
					  ringvm_vm_event_name(ev.event));
	if (name)
		EXPECT_STREQ(name, ev.name);
}

static void guest_triple_fault(void)
{
	struct {
		__u16 limit;
		__u64 base;
	} __attribute__((packed)) idtr = { 0, 0 };

	asm volatile("lidt %0; int3" : : "m"(idtr) : "memory");
	GUEST_FAIL("survived a triple fault");
}

static void guest_done(void)
{
	GUEST_DONE();
}

TEST_F(vmnl, events)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct test_vcpu *vcpu;
	struct ringvm_sregs s;
	struct ringvm_nl_vm a;
	struct test_vm *vm;
	char name[RINGVM_NAME_MAX];
	__u32 id;
	int ret, fd;

	ret = __ringvm_nl_events_open(&self->events);
	ASSERT_EQ(0, ret) TH_LOG("events: %s", strerror(-ret));

	/* named: created, destroyed */
	vm_new_ok(_metadata, self->nl, VM_A, &one_region, 1, 1, &a);
	expect_event(_metadata, self->events, a.id, VM_A,
		     RINGVM_VM_EVENT_CREATED);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, a.id, NULL));
	expect_event(_metadata, self->events, a.id, VM_A,
		     RINGVM_VM_EVENT_DESTROYED);

	/* anonymous: created, destroyed with its last fd */
	req.regions[0].size = 0x1000;
	fd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, fd);
	id = 0;
	{
		struct ringvm_vm_info info;

		ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
		id = info.id;
		snprintf(name, sizeof(name), "%s", info.name);
	}
	expect_event(_metadata, self->events, id, name,
		     RINGVM_VM_EVENT_CREATED);
	close(fd);
	expect_event(_metadata, self->events, id, name,
		     RINGVM_VM_EVENT_DESTROYED);

	/* a triple fault: shutdown */
	ASSERT_EQ(0, __vm_create_guest(&vm, &vcpu, guest_triple_fault));
	expect_event(_metadata, self->events, vm->id, NULL,
		     RINGVM_VM_EVENT_CREATED);
	vcpu_run(vcpu);
	ASSERT_EXIT(vcpu, RINGVM_EXIT_SHUTDOWN);
	expect_event(_metadata, self->events, vm->id, NULL,
		     RINGVM_VM_EVENT_SHUTDOWN);

	/* an entry failure: fail-entry */
	vcpu_reset(vcpu, guest_done);
	vcpu_sregs_get(vcpu, &s);
	s.cr0 &= ~X86_CR0_PE;
	vcpu_sregs_set(vcpu, &s);
	vcpu_run(vcpu);
	ASSERT_EXIT(vcpu, RINGVM_EXIT_FAIL_ENTRY);
	expect_event(_metadata, self->events, vm->id, NULL,
		     RINGVM_VM_EVENT_FAIL_ENTRY);
	id = vm->id;
	vm_destroy(vm);
	expect_event(_metadata, self->events, id, NULL,
		     RINGVM_VM_EVENT_DESTROYED);
}

/* 3. Names */

TEST_F(vmnl, name_valid)
{
	/* 31 characters of every kind allowed */
	const char *name = GUEST_TEST_VM_PREFIX "AZaz09._-xxxxxxxxxxxxxxxxxxx";
	struct ringvm_nl_vm v;

	ASSERT_EQ(RINGVM_NAME_MAX - 1, strlen(name));
	vm_new_ok(_metadata, self->nl, name, &one_region, 1, 1, &v);
	EXPECT_STREQ(name, v.name);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, 0, name));
}

TEST_F(vmnl, name_too_long)
{
	char name[RINGVM_NAME_MAX + 8];

	memset(name, 'a', RINGVM_NAME_MAX);
	name[RINGVM_NAME_MAX] = '\0';		/* 32 characters */
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, name, &one_region,
						  1, 1, NULL));
}

TEST_F(vmnl, name_bad_characters)
{
	static const char *const bad[] = {
		"st-a b", "st-a/b", "st-a:b", "st-\xc3\xa4", "st-a*", "st-\t",
		"st-a\\b",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, bad[i],
						&one_region, 1, 1, NULL));
}

TEST_F(vmnl, name_empty)
{
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, "", &one_region,
						  1, 1, NULL));
}

TEST_F(vmnl, name_missing)
{
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, NULL, &one_region,
						  1, 1, NULL));
}

TEST_F(vmnl, name_duplicate)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct ringvm_vm_info info;
	struct ringvm_nl_vm v;
	int fd;

	vm_new_ok(_metadata, self->nl, VM_A, &one_region, 1, 1, &v);
	EXPECT_NL_ERR(-EEXIST, __ringvm_nl_vm_new(self->nl, VM_A, &one_region,
						  1, 1, NULL));
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, 0, VM_A));
	/* an anonymous VM's name is taken too, given or made up */
	req.regions[0].size = 0x1000;
	fd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __ringvm_get_vm_info(fd, &info));
	EXPECT_NL_ERR(-EEXIST, __ringvm_nl_vm_new(self->nl, info.name,
						  &one_region, 1, 1, NULL));
	close(fd);
	strcpy(req.name, VM_B);
	fd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, fd);
	EXPECT_NL_ERR(-EEXIST, __ringvm_nl_vm_new(self->nl, VM_B,
						  &one_region, 1, 1, NULL));
	close(fd);
}

/* 4. Regions and vCPUs */

TEST_F(vmnl, regions_valid)
{
	struct ringvm_mem_region r[RINGVM_MAX_MEM_REGIONS];
	struct ringvm_nl_vm v;
	int i;

	for (i = 0; i < RINGVM_MAX_MEM_REGIONS; i++) {
		r[i].gpa = 0x100000ULL * i;
		r[i].size = 0x1000;
	}
	vm_new_ok(_metadata, self->nl, VM_A, r, RINGVM_MAX_MEM_REGIONS, 1, &v);
	EXPECT_EQ(RINGVM_MAX_MEM_REGIONS, v.nr_regions);
	EXPECT_EQ(0, memcmp(r, v.regions, sizeof(r)));
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

TEST_F(vmnl, regions_none)
{
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, NULL, 0, 1,
						  NULL));
}

TEST_F(vmnl, regions_too_many)
{
	struct ringvm_mem_region r[RINGVM_MAX_MEM_REGIONS + 1];
	int i;

	for (i = 0; i <= RINGVM_MAX_MEM_REGIONS; i++) {
		r[i].gpa = 0x100000ULL * i;
		r[i].size = 0x1000;
	}
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, r,
				RINGVM_MAX_MEM_REGIONS + 1, 1, NULL));
}

TEST_F(vmnl, regions_misaligned)
{
	struct ringvm_mem_region r = { 0x800, 0x1000 };

	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, &r, 1, 1,
						  NULL));
	r.gpa = 0;
	r.size = 0x1001;
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, &r, 1, 1,
						  NULL));
}

TEST_F(vmnl, regions_empty)
{
	struct ringvm_mem_region r = { 0x1000, 0 };

	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, &r, 1, 1,
						  NULL));
}

TEST_F(vmnl, regions_overlap)
{
	struct ringvm_mem_region r[2] = { { 0, 0x3000 }, { 0x2000, 0x1000 } };

	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, r, 2, 1,
						  NULL));
}

TEST_F(vmnl, regions_beyond_phys)
{
	struct ringvm_mem_region r = { 0, 0x1000 };
	__u32 regs[4];

	cpuid(0x80000008, 0, regs);
	r.gpa = 1ULL << (regs[0] & 0xff);
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, &r, 1, 1,
						  NULL));
}

TEST_F(vmnl, regions_too_big)
{
	__u64 max = ringvm_module_param("max_vm_mem_mb", 2048) << 20;
	struct ringvm_mem_region r[2] = { { 0, max }, { max, 0x1000 } };

	EXPECT_NL_ERR(-E2BIG, __ringvm_nl_vm_new(self->nl, VM_A, r, 2, 1,
						 NULL));
	r[0].size = max + 0x1000;
	EXPECT_NL_ERR(-E2BIG, __ringvm_nl_vm_new(self->nl, VM_A, r, 1, 1,
						 NULL));
}

/* A vm-new with @region as the only region, nested by hand. */
static int vm_new_raw_region(struct ringvm_nl *nl, const char *name, int gpa,
			     int size)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VM_NEW);
	struct nlattr *nest;

	if (!msg)
		return -ENOMEM;
	nla_put_string(msg, RINGVM_A_VM_NAME, name);
	nest = nla_nest_start(msg, RINGVM_A_VM_MEM_REGION);
	if (gpa)
		nla_put_u64(msg, RINGVM_A_MEM_REGION_GPA, 0);
	if (size)
		nla_put_u64(msg, RINGVM_A_MEM_REGION_SIZE, 0x1000);
	nla_nest_end(msg, nest);
	return __ringvm_nl_transact(nl, msg, NULL, NULL);
}

TEST_F(vmnl, regions_incomplete)
{
	EXPECT_NL_ERR(-EINVAL, vm_new_raw_region(self->nl, VM_A, 1, 0));
	EXPECT_NL_ERR(-EINVAL, vm_new_raw_region(self->nl, VM_A, 0, 1));
	EXPECT_NL_ERR(-EINVAL, vm_new_raw_region(self->nl, VM_A, 0, 0));
}

TEST_F(vmnl, max_vcpus_zero_or_too_many)
{
	struct nl_msg *msg = ringvm_nl_msg_new(self->nl, RINGVM_CMD_VM_NEW);
	struct nlattr *nest;

	/* 0 explicitly (the library sends none for 0) */
	ASSERT_NE(NULL, msg);
	nla_put_string(msg, RINGVM_A_VM_NAME, VM_A);
	nest = nla_nest_start(msg, RINGVM_A_VM_MEM_REGION);
	nla_put_u64(msg, RINGVM_A_MEM_REGION_GPA, 0);
	nla_put_u64(msg, RINGVM_A_MEM_REGION_SIZE, 0x1000);
	nla_nest_end(msg, nest);
	nla_put_u32(msg, RINGVM_A_VM_MAX_VCPUS, 0);
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_transact(self->nl, msg, NULL,
						    NULL));
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new(self->nl, VM_A, &one_region,
			1, ringvm_module_param("max_vcpus", 8) + 1, NULL));
}

/* 5. vm-del and vm-get keys */

TEST_F(vmnl, key_both_or_neither)
{
	struct ringvm_nl_vm v, g;

	vm_new_ok(_metadata, self->nl, VM_A, &one_region, 1, 1, &v);
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_del(self->nl, v.id, VM_A));
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_del(self->nl, 0, NULL));
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_get(self->nl, v.id, VM_A, &g));
	EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_get(self->nl, 0, NULL, &g));
	/* still there */
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

/* vm-del or vm-get (do, or dump with @dump) with one u32 @type = @val. */
static int send_u32(struct ringvm_nl *nl, __u8 cmd, bool dump, int type,
		    __u32 val)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, cmd);

	if (!msg)
		return -ENOMEM;
	if (dump)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	if (nla_put_u32(msg, type, val) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __ringvm_nl_transact(nl, msg, NULL, NULL);
}

/* VM ids start at 1: id 0 is EINVAL (not the policy's ERANGE). */
TEST_F(vmnl, key_id_zero)
{
	EXPECT_NL_ERR_MSG(-EINVAL, "VM ids start at 1",
			  send_u32(self->nl, RINGVM_CMD_VM_GET, false,
				   RINGVM_A_VM_ID, 0));
	EXPECT_NL_ERR_MSG(-EINVAL, "VM ids start at 1",
			  send_u32(self->nl, RINGVM_CMD_VM_DEL, false,
				   RINGVM_A_VM_ID, 0));
}

TEST_F(vmnl, key_no_such_vm)
{
	struct ringvm_nl_vm g;

	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0xfffffff0, NULL, &g));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0,
					      GUEST_TEST_VM_PREFIX "none", &g));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_del(self->nl, 0xfffffff0, NULL));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_del(self->nl, 0,
					      GUEST_TEST_VM_PREFIX "none"));
}

/* 6. Attributes the operations do not take */

/* @cmd with a name (for the ops that need a key) plus one u32 @type. */
static int send_with_attr(struct ringvm_nl *nl, __u8 cmd, const char *name,
			  int type)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, cmd);
	struct nlattr *nest;

	if (!msg)
		return -ENOMEM;
	if (name)
		nla_put_string(msg, RINGVM_A_VM_NAME, name);
	if (cmd == RINGVM_CMD_VM_NEW) {
		nest = nla_nest_start(msg, RINGVM_A_VM_MEM_REGION);
		nla_put_u64(msg, RINGVM_A_MEM_REGION_GPA, 0);
		nla_put_u64(msg, RINGVM_A_MEM_REGION_SIZE, 0x1000);
		nla_nest_end(msg, nest);
	}
	if (type == RINGVM_A_VM_MEM_ALLOCATED)
		nla_put_u64(msg, type, 0);
	else
		nla_put_u32(msg, type, 1);
	return __ringvm_nl_transact(nl, msg, NULL, NULL);
}

TEST_F(vmnl, unknown_attribute)
{
	struct ringvm_nl_vm v;

	EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl, RINGVM_CMD_VM_NEW,
					      VM_A, RINGVM_A_VM_MAX + 1));
	vm_new_ok(_metadata, self->nl, VM_B, &one_region, 1, 1, &v);
	EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl, RINGVM_CMD_VM_DEL,
					      VM_B, RINGVM_A_VM_MAX + 1));
	EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl, RINGVM_CMD_VM_GET,
					      VM_B, RINGVM_A_VM_MAX + 1));
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

/* Known attributes in a request that does not take them. */
TEST_F(vmnl, unexpected_attribute)
{
	static const int for_new[] = {
		RINGVM_A_VM_ID, RINGVM_A_VM_NR_VCPUS, RINGVM_A_VM_FLAGS,
		RINGVM_A_VM_EVENT, RINGVM_A_VM_MEM_ALLOCATED,
	};
	static const int for_key[] = {
		RINGVM_A_VM_MAX_VCPUS, RINGVM_A_VM_NR_VCPUS,
		RINGVM_A_VM_FLAGS, RINGVM_A_VM_EVENT,
	};
	struct ringvm_nl_vm v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(for_new); i++)
		EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl,
				RINGVM_CMD_VM_NEW, VM_A, for_new[i]));
	vm_new_ok(_metadata, self->nl, VM_B, &one_region, 1, 1, &v);
	for (i = 0; i < ARRAY_SIZE(for_key); i++) {
		EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl,
				RINGVM_CMD_VM_DEL, VM_B, for_key[i]));
		EXPECT_NL_ERR(-EINVAL, send_with_attr(self->nl,
				RINGVM_CMD_VM_GET, VM_B, for_key[i]));
	}
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, v.id, NULL, &v));
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

/*
 * vm-new takes one flag, large-pages (RINGVM_VM_LARGE_PAGES), and vm-get
 * says it back; the state flags, or any other bit, are refused.
 */
TEST_F(vmnl, new_large_pages)
{
	struct ringvm_nl_vm v;
	struct ringvm_caps caps;
	int devfd, ret, bit;

	for (bit = 0; bit < 32; bit++) {
		if (1U << bit == RINGVM_VM_FLAGS_LARGE_PAGES)
			continue;
		EXPECT_NL_ERR(-EINVAL, __ringvm_nl_vm_new_flags(self->nl,
				VM_A, &one_region, 1, 1, 1U << bit, NULL));
	}
	devfd = __ringvm_open();
	ASSERT_LE(0, devfd);
	ASSERT_EQ(0, __ringvm_get_caps(devfd, &caps));
	close(devfd);
	ret = __ringvm_nl_vm_new_flags(self->nl, VM_A, &one_region, 1, 1,
				       RINGVM_VM_FLAGS_LARGE_PAGES, &v);
	if (!(caps.features & RINGVM_FEAT_LARGE_PAGES)) {
		EXPECT_NL_ERR(-EOPNOTSUPP, ret);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", strerror(-ret),
				 ringvm_nl_extack(self->nl));
	EXPECT_EQ(RINGVM_VM_FLAGS_LARGE_PAGES, v.flags);
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, v.id, NULL, &v));
	EXPECT_EQ(RINGVM_VM_FLAGS_LARGE_PAGES, v.flags);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

/* A vm-get dump takes no attributes, not even the do's id or name. */
TEST_F(vmnl, dump_with_attribute)
{
	struct ringvm_nl_vm v;
	struct nl_msg *msg;

	vm_new_ok(_metadata, self->nl, VM_B, &one_region, 1, 1, &v);
	EXPECT_NL_ERR_MSG(-EINVAL, "a vm-get dump takes no attributes",
			  send_u32(self->nl, RINGVM_CMD_VM_GET, true,
				   RINGVM_A_VM_ID, v.id));
	EXPECT_NL_ERR_MSG(-EINVAL, "a vm-get dump takes no attributes",
			  send_u32(self->nl, RINGVM_CMD_VM_GET, true,
				   RINGVM_A_VM_ID, 0));
	msg = ringvm_nl_msg_new(self->nl, RINGVM_CMD_VM_GET);
	ASSERT_NE(NULL, msg);
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	ASSERT_EQ(0, nla_put_string(msg, RINGVM_A_VM_NAME, VM_B));
	EXPECT_NL_ERR_MSG(-EINVAL, "a vm-get dump takes no attributes",
			  __ringvm_nl_transact(self->nl, msg, NULL, NULL));
	/* the policy refuses the rest before the dump starts */
	EXPECT_NL_ERR(-EINVAL, send_u32(self->nl, RINGVM_CMD_VM_GET, true,
					RINGVM_A_VM_FLAGS, 0));
	EXPECT_NL_ERR(-EINVAL, send_u32(self->nl, RINGVM_CMD_VM_GET, true,
					RINGVM_A_VM_MAX + 1, 0));
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

/*
 * 7. Who may do and see what.  An admin (CAP_NET_ADMIN or CAP_SYS_ADMIN)
 * does anything and sees every VM; anyone else may not vm-new, vm-del
 * or join the events group, and sees only the VMs its uid created: any
 * other VM is ENOENT, as if it did not exist.
 */

/* The VMs a dump shows, up to 8 of them. */
struct listing {
	__u32 ids[8];
	unsigned int n;
};

static int list_cb(const struct ringvm_nl_vm *vm, void *arg)
{
	struct listing *l = arg;

	if (l->n < ARRAY_SIZE(l->ids))
		l->ids[l->n] = vm->id;
	l->n++;
	return 0;
}

static bool listed(const struct listing *l, __u32 id)
{
	unsigned int i;

	for (i = 0; i < l->n && i < ARRAY_SIZE(l->ids); i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

/* Whether the "@field:" line of /proc/self/status is all zeros. */
static bool status_zero(const char *field)
{
	size_t len = strlen(field);
	char line[128];
	bool zero = false;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			zero = strspn(line + len + 1, "\t0") ==
			       strcspn(line + len + 1, "\n");
	fclose(f);
	return zero;
}

/* What the unprivileged child found wrong: its exit status. */
enum {
	CHILD_OK, CHILD_SETUP, CHILD_CAPS, CHILD_CREATE, CHILD_NEW,
	CHILD_DEL, CHILD_DEL_OWN, CHILD_GET_OTHER, CHILD_GET_OWN,
	CHILD_DUMP, CHILD_EVENTS, CHILD_OPEN_OTHER, CHILD_OPEN_OWN,
	CHILD_PIPE, CHILD_MAX
};

static const char *const child_what[CHILD_MAX] = {
	[CHILD_OK] = "ok",
	[CHILD_SETUP] = "could not become nobody or connect",
	[CHILD_CAPS] = "still has capabilities as nobody",
	[CHILD_CREATE] = "RINGVM_CREATE_VM failed",
	[CHILD_NEW] = "vm-new was not EPERM with its extack",
	[CHILD_DEL] = "vm-del of root's VM was not EPERM",
	[CHILD_DEL_OWN] = "vm-del of its own VM was not EPERM",
	[CHILD_GET_OTHER] = "vm-get of root's VMs was not ENOENT",
	[CHILD_GET_OWN] = "vm-get of its own VM failed",
	[CHILD_DUMP] = "the dump showed more or less than its own VM",
	[CHILD_EVENTS] = "joining the events group was not EPERM",
	[CHILD_OPEN_OTHER] = "RINGVM_OPEN_VM of root's VMs was not ENOENT",
	[CHILD_OPEN_OWN] = "RINGVM_OPEN_VM of its own VM failed",
	[CHILD_PIPE] = "talking to the parent failed",
};

struct root_vms {
	__u32 named, anon;
	char anon_name[RINGVM_NAME_MAX];
};

/*
 * As nobody, without capabilities: create an anonymous VM through
 * /dev/ringvm, check what netlink lets it do and see, tell the parent
 * the VM's id and keep the VM until the parent has looked at it.
 */
static int unprivileged_child(const struct root_vms *root, int up, int down)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct ringvm_vm_info info;
	struct listing l = { 0 };
	struct ringvm_nl *nl, *events;
	struct ringvm_nl_vm v;
	char none[256], go;
	int devfd, fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY) || geteuid() != NOBODY)
		return CHILD_SETUP;
	if (!status_zero("CapEff") || !status_zero("CapPrm") ||
	    !status_zero("CapAmb"))
		return CHILD_CAPS;
	if (__ringvm_nl_open(&nl))
		return CHILD_SETUP;

	/* its own VM */
	devfd = __ringvm_open();
	if (devfd < 0)
		return CHILD_CREATE;
	req.regions[0].size = 0x1000;
	fd = __ringvm_create_vm(devfd, &req);
	if (fd < 0 || __ringvm_get_vm_info(fd, &info))
		return CHILD_CREATE;

	/* no changes */
	if (__ringvm_nl_vm_new(nl, VM_A, &one_region, 1, 1, NULL) != -EPERM ||
	    strcmp(ringvm_nl_extack(nl), "needs CAP_NET_ADMIN or CAP_SYS_ADMIN"))
		return CHILD_NEW;
	if (__ringvm_nl_vm_del(nl, root->named, NULL) != -EPERM ||
	    __ringvm_nl_vm_del(nl, root->anon, NULL) != -EPERM)
		return CHILD_DEL;
	if (__ringvm_nl_vm_del(nl, info.id, NULL) != -EPERM)
		return CHILD_DEL_OWN;

	/* root's VMs do not exist, down to the extack */
	if (__ringvm_nl_vm_get(nl, 0xfffffff0, NULL, &v) != -ENOENT)
		return CHILD_GET_OTHER;
	snprintf(none, sizeof(none), "%s", ringvm_nl_extack(nl));
	if (__ringvm_nl_vm_get(nl, root->named, NULL, &v) != -ENOENT ||
	    strcmp(none, ringvm_nl_extack(nl)) ||
	    __ringvm_nl_vm_get(nl, 0, VM_B, &v) != -ENOENT ||
	    __ringvm_nl_vm_get(nl, root->anon, NULL, &v) != -ENOENT ||
	    strcmp(none, ringvm_nl_extack(nl)) ||
	    __ringvm_nl_vm_get(nl, 0, root->anon_name, &v) != -ENOENT)
		return CHILD_GET_OTHER;

	/* its own VM it sees */
	if (__ringvm_nl_vm_get(nl, info.id, NULL, &v) || v.id != info.id ||
	    __ringvm_nl_vm_get(nl, 0, info.name, &v) || v.id != info.id ||
	    !(v.flags & RINGVM_VM_FLAGS_ANONYMOUS))
		return CHILD_GET_OWN;
	if (__ringvm_nl_vm_dump(nl, list_cb, &l) || l.n != 1 ||
	    l.ids[0] != info.id)
		return CHILD_DUMP;

	if (__ringvm_nl_events_open(&events) != -EPERM)
		return CHILD_EVENTS;

	/* /dev/ringvm keeps to the same rule */
	if (__ringvm_open_vm(devfd, root->named, NULL) != -ENOENT ||
	    __ringvm_open_vm(devfd, 0, VM_B) != -ENOENT ||
	    __ringvm_open_vm(devfd, root->anon, NULL) != -ENOENT ||
	    __ringvm_open_vm(devfd, 0, root->anon_name) != -ENOENT)
		return CHILD_OPEN_OTHER;
	v.id = __ringvm_open_vm(devfd, info.id, NULL);
	if ((int)v.id < 0)
		return CHILD_OPEN_OWN;
	close(v.id);

	/* the parent looks at the VM, then says when it is done */
	if (write(up, &info.id, sizeof(info.id)) != sizeof(info.id) ||
	    read(down, &go, 1) != 1)
		return CHILD_PIPE;
	close(fd);
	close(devfd);
	ringvm_nl_close(nl);
	return CHILD_OK;
}

TEST_F(vmnl, unprivileged)
{
	struct ringvm_create_vm req = { .nr_regions = 1 };
	struct ringvm_vm_info info;
	struct listing l = { 0 };
	struct root_vms root;
	struct ringvm_nl_vm v, g;
	int up[2], down[2];
	__u32 child_id = 0;
	struct stat st;
	int status, anon;
	pid_t pid;

	/* root's VMs: a named one and an anonymous one */
	vm_new_ok(_metadata, self->nl, VM_B, &one_region, 1, 1, &v);
	req.regions[0].size = 0x1000;
	anon = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, anon);
	ASSERT_EQ(0, __ringvm_get_vm_info(anon, &info));
	root.named = v.id;
	root.anon = info.id;
	snprintf(root.anon_name, sizeof(root.anon_name), "%s", info.name);

	/*
	 * /dev/ringvm is 0600: open it to everyone for this test (the
	 * teardown puts the mode back), so that nobody can make a VM.
	 */
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	self->devmode = st.st_mode & 07777;
	ASSERT_EQ(0, chmod(RINGVM_DEV_PATH, 0666));

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		_exit(unprivileged_child(&root, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);

	/* root sees nobody's VM, and everything else */
	if (read(up[0], &child_id, sizeof(child_id)) == sizeof(child_id)) {
		EXPECT_EQ(0, __ringvm_nl_vm_get(self->nl, child_id, NULL,
						&g));
		EXPECT_EQ(child_id, g.id);
		EXPECT_EQ(0, __ringvm_nl_vm_dump(self->nl, list_cb, &l));
		EXPECT_TRUE(listed(&l, child_id));
		EXPECT_TRUE(listed(&l, root.named));
		EXPECT_TRUE(listed(&l, root.anon));
		/* the child waits for this */
		EXPECT_EQ(1, write(down[1], "g", 1));
	}
	close(down[1]);
	close(up[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(CHILD_OK, WEXITSTATUS(status))
		TH_LOG("uid %d: %s", NOBODY, WEXITSTATUS(status) < CHILD_MAX ?
		       child_what[WEXITSTATUS(status)] : "?");
	EXPECT_NE(0, child_id);

	/* nothing changed */
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, VM_A, &g));
	EXPECT_EQ(0, __ringvm_nl_vm_get(self->nl, root.anon, NULL, &g));
	close(anon);
	ASSERT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
}

RINGVM_GUEST_TEST_MAIN
