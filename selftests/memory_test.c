// SPDX-License-Identifier: GPL-2.0
/*
 * memory_test: guest RAM.  The guest and an mmap of the VM fd see the
 * same bytes both ways; pages start zeroed and are allocated on first
 * touch (mem_allocated grows then, from either side); an access outside
 * every region is MMIO; first touches in new GiBs and 2 MiB ranges each
 * land in their own page (the nested tables they add); a VM made with
 * RINGVM_VM_LARGE_PAGES maps whole untouched 2 MiB blocks with one
 * nested fault, and the rest in 4 KiB pages, also when two vCPUs touch
 * one block at the same moment; and mmap refuses
 * ranges that are not inside one region, and private mappings, with
 * EINVAL.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "guest.h"

#define SCRATCH		GUEST_SCRATCH_GPA
#define PAGE		GUEST_PAGE_SIZE

FIXTURE(memory) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	int devfd;
};

FIXTURE_SETUP(memory)
{
	int ret = ringvm_ensure_loaded();

	self->devfd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->devfd = __ringvm_open();
	ASSERT_LE(0, self->devfd);
}

FIXTURE_TEARDOWN(memory)
{
	vm_destroy(self->vm);
	if (self->devfd >= 0)
		close(self->devfd);
}

static __u64 mem_allocated(struct __test_metadata *_metadata, int vmfd)
{
	struct ringvm_vm_info info;

	ASSERT_EQ(0, __ringvm_get_vm_info(vmfd, &info));
	return info.mem_allocated;
}

/* 1. Both sides see the same bytes */

static void guest_write_read(void)
{
	volatile __u64 *p = (volatile __u64 *)SCRATCH;
	__u64 i, sum = 0;

	/* four pages written by the guest, read by the host */
	for (i = 0; i < 4 * PAGE / 8; i++)
		p[i] = i * 0x9e3779b97f4a7c15ULL;
	GUEST_SYNC(1);
	/* the next four written by the host, read by the guest */
	for (i = 4 * PAGE / 8; i < 8 * PAGE / 8; i++)
		sum += p[i] ^ i;
	GUEST_SYNC(sum);
	/* the host's rewrite of the first page, seen at once */
	GUEST_ASSERT_EQ(p[0], 0x5555aaaa5555aaaaULL);
	GUEST_DONE();
}

TEST_F(memory, guest_and_host_see_the_same)
{
	__u64 *m, *second, i, sum = 0;
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_write_read);
	m = addr_gva2hva(self->vm, SCRATCH);
	ASSERT_SYNC(self->vcpu, &uc, 1);
	for (i = 0; i < 4 * PAGE / 8; i++)
		ASSERT_EQ(i * 0x9e3779b97f4a7c15ULL, m[i]) TH_LOG("word %llu",
			(unsigned long long)i);
	for (i = 4 * PAGE / 8; i < 8 * PAGE / 8; i++) {
		m[i] = i * 3;
		sum += (i * 3) ^ i;
	}
	ASSERT_SYNC(self->vcpu, &uc, sum);

	/* a second mapping of the same range sees it too */
	second = ringvm_map_guest(self->vm->fd, SCRATCH, 8 * PAGE);
	ASSERT_NE(NULL, second);
	ASSERT_EQ(0, memcmp(second, m, 8 * PAGE));
	second[0] = 0x5555aaaa5555aaaaULL;
	ASSERT_EQ(0x5555aaaa5555aaaaULL, m[0]);
	munmap(second, 8 * PAGE);
	ASSERT_DONE(self->vcpu, &uc);
}

/* 2. Zeroed pages, allocated on first touch */

static void guest_touch(__u64 npages)
{
	volatile __u8 *p = (volatile __u8 *)(SCRATCH + 0x100000);
	__u64 i, j, sum = 0;

	/* never touched: zeros */
	for (i = 0; i < npages; i++)
		for (j = 0; j < PAGE; j += 8)
			sum |= *(volatile __u64 *)(p + i * PAGE + j);
	GUEST_ASSERT_EQ(sum, 0);
	GUEST_SYNC(1);
	/* written: one byte per page */
	for (i = 0; i < npages; i++)
		p[(npages + i) * PAGE + 5] = 1;
	GUEST_SYNC(2);
	GUEST_DONE();
}

TEST_F(memory, zeroed_and_allocated_on_touch)
{
	const __u64 n = 16;
	__u64 before, after_read, after_write, host_before;
	__u8 *host_page;
	struct ucall uc;
	size_t i;

	self->vm = vm_create_guest(&self->vcpu, guest_touch);
	vcpu_args_set(self->vcpu, 1, n);
	before = mem_allocated(_metadata, self->vm->fd);
	ASSERT_LT(0, before);	/* the binary and the tables */
	ASSERT_SYNC(self->vcpu, &uc, 1);
	after_read = mem_allocated(_metadata, self->vm->fd);
	ASSERT_SYNC(self->vcpu, &uc, 2);
	after_write = mem_allocated(_metadata, self->vm->fd);
	TH_LOG("mem_allocated: %llu at start, %llu after reading %llu pages, %llu after writing %llu more",
	       (unsigned long long)before, (unsigned long long)after_read,
	       (unsigned long long)n, (unsigned long long)after_write,
	       (unsigned long long)n);
	/* the guest's writes allocate at least one page each */
	ASSERT_LE(after_read + n * PAGE, after_write);
	ASSERT_GE(after_read + n * PAGE + GUEST_LARGE_PAGE, after_write);
	ASSERT_GE(after_read, before);

	/* the host: a page never touched reads as zeros, and is charged */
	host_before = mem_allocated(_metadata, self->vm->fd);
	host_page = addr_gva2hva(self->vm, SCRATCH + 0x180000);
	for (i = 0; i < PAGE; i++)
		ASSERT_EQ(0, host_page[i]);
	host_page[1] = 7;
	ASSERT_LE(host_before + PAGE, mem_allocated(_metadata, self->vm->fd));
	ASSERT_DONE(self->vcpu, &uc);
}

/* 3. MMIO: whatever no region backs */

#define HOLE_GPA(ram)	((ram) + GUEST_LARGE_PAGE)	/* between regions */
#define R2_GPA(ram)	((ram) + 2 * GUEST_LARGE_PAGE)	/* 2nd region */
#define R2_SIZE		GUEST_LARGE_PAGE

static void guest_regions(__u64 ram)
{
	/* RAM above the hole: no exit */
	*(volatile __u32 *)R2_GPA(ram) = 0x22222222;
	*(volatile __u32 *)(R2_GPA(ram) + R2_SIZE - 4) = 0x33333333;
	/* the end of region 0, the hole, just past region 2: MMIO */
	*(volatile __u32 *)(ram - 4) = 0x44444444;
	*(volatile __u32 *)HOLE_GPA(ram) = 0x11111111;
	*(volatile __u32 *)(R2_GPA(ram) + R2_SIZE) = 0x55555555;
	GUEST_ASSERT_EQ(*(volatile __u32 *)(ram + 0x40), 0x66666666);
	GUEST_DONE();
}

TEST_F(memory, mmio_outside_regions)
{
	struct ringvm_create_vm req;
	__u64 ram = vm_guest_ram_size();
	struct ringvm_run *run;
	__u32 *r2, v;
	struct ucall uc;
	int vmfd;

	/* region 0: the guest; a 2 MiB hole; region 1: 2 MiB */
	memset(&req, 0, sizeof(req));
	req.nr_regions = 2;
	req.regions[0].size = ram;
	req.regions[1].gpa = R2_GPA(ram);
	req.regions[1].size = R2_SIZE;
	vmfd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, vmfd) TH_LOG("create: %s", strerror(-vmfd));
	ASSERT_EQ(0, __vm_adopt(&self->vm, vmfd));
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_regions);
	vcpu_args_set(self->vcpu, 1, ram);
	run = self->vcpu->run;

	/* the stores to region 1 and to the end of region 0 do not exit */
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
	ASSERT_EQ(HOLE_GPA(ram), run->mmio.gpa);
	ASSERT_TRUE(run->mmio.is_write);
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
	ASSERT_EQ(R2_GPA(ram) + R2_SIZE, run->mmio.gpa);
	memcpy(&v, run->mmio.data, 4);
	ASSERT_EQ(0x55555555, v);
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
	ASSERT_FALSE(run->mmio.is_write);
	ASSERT_EQ(ram + 0x40, run->mmio.gpa);
	v = 0x66666666;
	memcpy(run->mmio.data, &v, 4);
	ASSERT_DONE(self->vcpu, &uc);

	r2 = ringvm_map_guest(self->vm->fd, R2_GPA(ram), R2_SIZE);
	ASSERT_NE(NULL, r2);
	EXPECT_EQ(0x22222222, r2[0]);
	EXPECT_EQ(0x33333333, r2[R2_SIZE / 4 - 1]);
	EXPECT_EQ(0x44444444,
		  *(__u32 *)addr_gva2hva(self->vm, ram - 4));
	munmap(r2, R2_SIZE);
}

/*
 * 4. Nested tables: a first touch takes the tables it needs from its
 * vCPU's cache (module/ept/npt.c) - two new ones in a new GiB, one in a
 * new 2 MiB range - and the cache is filled again before the next.  A
 * table handed out twice, or a page mapped through a stale one, shows
 * as a word that lands in the wrong page.
 */
#define GIB		0x40000000ULL
#define T1_GPA		GIB		/* region 1: 4 MiB at 1 GiB */
#define T1_SIZE		(2 * GUEST_LARGE_PAGE)
#define T2_GPA		(2 * GIB)	/* region 2: 2 MiB at 2 GiB */
#define T2_SIZE		GUEST_LARGE_PAGE
#define NR_TOUCHED	6

static const __u64 touched[NR_TOUCHED] = {
	T1_GPA,				/* new GiB: level-2 and level-1 tables */
	T2_GPA + T2_SIZE - PAGE,	/* another new GiB */
	T1_GPA + GUEST_LARGE_PAGE,	/* new 2 MiB range: a level-1 table */
	T1_GPA + PAGE,			/* tables there already: none */
	T2_GPA,
	T1_GPA + T1_SIZE - PAGE,
};

static __u64 touch_value(unsigned int i)
{
	return 0x7ab1e5000000ULL + i;
}

static void guest_tables(void)
{
	unsigned int i;

	for (i = 0; i < NR_TOUCHED; i++)
		*(volatile __u64 *)touched[i] = touch_value(i);
	for (i = 0; i < NR_TOUCHED; i++)
		GUEST_ASSERT_EQ(*(volatile __u64 *)touched[i], touch_value(i));
	GUEST_DONE();
}

/*
 * self->vm: the guest in region 0, RAM regions 1 and 2 at @g1 and @g2,
 * made with @flags, room for two vCPUs; self->vcpu at @code.
 */
static void vm_three_regions(struct __test_metadata *_metadata,
			     FIXTURE_DATA(memory) *self, __u32 flags,
			     __u64 g1, __u64 s1, __u64 g2, __u64 s2,
			     void *code)
{
	struct ringvm_create_vm req;
	int vmfd;

	memset(&req, 0, sizeof(req));
	req.flags = flags;
	req.max_vcpus = 2;
	req.nr_regions = 3;
	req.regions[0].size = vm_guest_ram_size();
	req.regions[1].gpa = g1;
	req.regions[1].size = s1;
	req.regions[2].gpa = g2;
	req.regions[2].size = s2;
	vmfd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, vmfd) TH_LOG("create: %s", strerror(-vmfd));
	ASSERT_EQ(0, __vm_adopt(&self->vm, vmfd));
	self->vcpu = vm_vcpu_add(self->vm, 0, code);
}

TEST_F(memory, tables_across_gigabytes)
{
	__u64 *t1, *t2, v;
	struct ucall uc;
	unsigned int i;

	vm_three_regions(_metadata, self, 0, T1_GPA, T1_SIZE, T2_GPA, T2_SIZE,
			 guest_tables);
	ASSERT_DONE(self->vcpu, &uc);

	t1 = ringvm_map_guest(self->vm->fd, T1_GPA, T1_SIZE);
	ASSERT_NE(NULL, t1);
	t2 = ringvm_map_guest(self->vm->fd, T2_GPA, T2_SIZE);
	ASSERT_NE(NULL, t2);
	/* each word in its page, and nothing else written in these pages */
	for (i = 0; i < NR_TOUCHED; i++) {
		__u64 gpa = touched[i], off;
		__u64 *page = gpa >= T2_GPA ? t2 + (gpa - T2_GPA) / 8 :
			      t1 + (gpa - T1_GPA) / 8;

		EXPECT_EQ(touch_value(i), page[0]) TH_LOG("gpa %#llx",
			(unsigned long long)gpa);
		for (off = 1, v = 0; off < PAGE / 8; off++)
			v |= page[off];
		EXPECT_EQ(0, v) TH_LOG("gpa %#llx", (unsigned long long)gpa);
	}
	munmap(t1, T1_SIZE);
	munmap(t2, T2_SIZE);
}

/*
 * 5. RINGVM_VM_LARGE_PAGES: the first touch of a whole untouched 2 MiB
 * block of RAM allocates the block and maps it with one 2 MiB nested
 * page - one nested fault for 512 pages; a block the VMM wrote into
 * first, and the partial block at a region's end, stay 4 KiB pages.
 * The words the guest writes through the 2 MiB mapping are the ones the
 * host reads through mmap, page for page.
 */
#define L1_GPA		GIB		/* region 1: two blocks */
#define L1_SIZE		(2 * GUEST_LARGE_PAGE)
#define L2_GPA		(2 * GIB)	/* region 2: a block and a half */
#define L2_SIZE		(GUEST_LARGE_PAGE + GUEST_LARGE_PAGE / 2)
#define L_HOST_GPA	(L1_GPA + GUEST_LARGE_PAGE + 5 * PAGE)
#define L_MAGIC		0x1a26e000000000ULL

/* What the guest touches next, set by the host before each RUN. */
static __u64 large_gpa, large_pages_n;
/* The round the guest may start (memory.large_page_race): all of them */
static __u64 race_go = ~0ULL;

/*
 * One SYNC per range the host names, the same code every time, so the
 * first round, on a page of region 0, maps the code and the stack before
 * the host starts counting.  Each round also reads the guest's page
 * directories of the four GiBs, which its page walks would otherwise
 * read first on the first touch of each GiB.  Before writing, the guest
 * waits for race_go to reach its round: memory.large_page_race releases
 * two vCPUs at once that way.
 */
static void guest_large(void)
{
	__u64 gpa, i, round = 0;

	for (;;) {
		GUEST_SYNC(0);
		gpa = *(volatile __u64 *)&large_gpa;
		if (!gpa)
			break;
		for (i = 0; i < 4; i++)
			(void)*(volatile __u64 *)(GUEST_PD_GPA + i * PAGE);
		round++;
		while (*(volatile __u64 *)&race_go < round)
			;
		for (i = 0; i < *(volatile __u64 *)&large_pages_n; i++)
			*(volatile __u64 *)(gpa + i * PAGE) =
				L_MAGIC ^ (gpa + i * PAGE);
	}
	GUEST_DONE();
}

/*
 * Free blocks of 2 MiB or more in the host's buddy allocator
 * (/proc/buddyinfo: a count per order, 0 to 10, per zone); -1 if it
 * cannot be read.  The module's 2 MiB allocation does not compact hard
 * (__GFP_NORETRY) and falls back to 4 KiB pages without one.
 */
static long free_2m_blocks(void)
{
	char line[256];
	long n = 0;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "zone");
		unsigned long c;
		int order = 0, used = 0;

		/* "Node 0, zone   DMA32   2 4 ...": past the zone's name */
		if (!p || sscanf(p, "zone %*s%n", &used) < 0 || !used)
			continue;
		p += used;
		while (sscanf(p, "%lu%n", &c, &used) == 1) {
			if (order++ >= 9)
				n += c << (order - 10);
			p += used;
		}
	}
	fclose(f);
	return n;
}

/* Skip where 2 MiB blocks cannot be had: no 2M nested pages, or memory. */
#define SKIP_WITHOUT_LARGE_PAGES(self)					\
	do {								\
		struct ringvm_caps caps;				\
									\
		ASSERT_EQ(0, __ringvm_get_caps((self)->devfd, &caps));	\
		if (!(caps.features & RINGVM_FEAT_LARGE_PAGES))		\
			SKIP(return,					\
			     "the nested tables here map no 2 MiB pages"); \
		if (free_2m_blocks() < 16)				\
			SKIP(return, "%ld free 2 MiB blocks in "	\
			     "/proc/buddyinfo: the block allocations may " \
			     "fall back", free_2m_blocks());		\
	} while (0)

struct npf_count {
	__u64 npf;
	unsigned int n;
};

static int npf_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct npf_count *c = arg;

	c->npf += st->nested_page_faults;
	c->n++;
	return 0;
}

/* The nested faults on RAM of the VM's @nr vCPUs so far, or ~0. */
static __u64 nested_faults(struct ringvm_nl *nl, __u32 vm_id, unsigned int nr)
{
	struct npf_count c = { 0, 0 };

	if (__ringvm_nl_vcpu_stats_dump(nl, vm_id, NULL, npf_cb, &c) ||
	    c.n != nr)
		return ~0ULL;
	return c.npf;
}

TEST_F(memory, large_pages)
{
	static const struct {
		__u64 gpa, pages, faults, bytes;
		const char *what;
	} want[] = {
		{ L1_GPA, 512, 1, GUEST_LARGE_PAGE, "a whole untouched block" },
		{ L1_GPA + GUEST_LARGE_PAGE, 512, 512, GUEST_LARGE_PAGE - PAGE,
		  "a block the host wrote into" },
		{ L2_GPA, 512, 1, GUEST_LARGE_PAGE,
		  "the other region's whole block" },
		{ L2_GPA + GUEST_LARGE_PAGE, 256, 256, GUEST_LARGE_PAGE / 2,
		  "the half block at its end" },
	};
	struct ringvm_vm_info info;
	__u64 *l1, *l2, faults, bytes, i;
	struct ringvm_nl *nl;
	struct ucall uc;
	unsigned int r;

	SKIP_WITHOUT_LARGE_PAGES(self);
	ASSERT_EQ(0, __ringvm_nl_open(&nl));

	vm_three_regions(_metadata, self, RINGVM_VM_LARGE_PAGES, L1_GPA,
			 L1_SIZE, L2_GPA, L2_SIZE, guest_large);
	ASSERT_EQ(0, __ringvm_get_vm_info(self->vm->fd, &info));
	EXPECT_TRUE(info.flags & RINGVM_VM_INFO_LARGE_PAGES);

	l1 = ringvm_map_guest(self->vm->fd, L1_GPA, L1_SIZE);
	ASSERT_NE(NULL, l1);
	l2 = ringvm_map_guest(self->vm->fd, L2_GPA, L2_SIZE);
	ASSERT_NE(NULL, l2);
	/* the VMM's write: L1's second block is not untouched any more */
	l1[(L_HOST_GPA - L1_GPA) / 8 + 1] = 7;

	/* a warm-up round on a page of region 0, then one per range */
	ASSERT_SYNC(self->vcpu, &uc, 0);
	write_guest_global(self->vm, large_gpa, GUEST_SCRATCH_GPA);
	write_guest_global(self->vm, large_pages_n, 1);
	ASSERT_SYNC(self->vcpu, &uc, 0);
	for (r = 0; r < ARRAY_SIZE(want); r++) {
		write_guest_global(self->vm, large_gpa, want[r].gpa);
		write_guest_global(self->vm, large_pages_n, want[r].pages);
		faults = nested_faults(nl, self->vm->id, 1);
		bytes = mem_allocated(_metadata, self->vm->fd);
		ASSERT_SYNC(self->vcpu, &uc, 0);
		faults = nested_faults(nl, self->vm->id, 1) - faults;
		bytes = mem_allocated(_metadata, self->vm->fd) - bytes;
		EXPECT_EQ(want[r].faults, faults) TH_LOG("%s", want[r].what);
		EXPECT_EQ(want[r].bytes, bytes) TH_LOG("%s", want[r].what);
	}
	write_guest_global(self->vm, large_gpa, 0);
	ASSERT_DONE(self->vcpu, &uc);

	/* the host sees each guest word in its page, and its own word */
	for (i = 0; i < L1_SIZE / PAGE; i++)
		EXPECT_EQ(L_MAGIC ^ (L1_GPA + i * PAGE), l1[i * PAGE / 8])
			TH_LOG("gpa %#llx", (unsigned long long)(L1_GPA + i * PAGE));
	for (i = 0; i < L2_SIZE / PAGE; i++)
		EXPECT_EQ(L_MAGIC ^ (L2_GPA + i * PAGE), l2[i * PAGE / 8])
			TH_LOG("gpa %#llx", (unsigned long long)(L2_GPA + i * PAGE));
	EXPECT_EQ(7, l1[(L_HOST_GPA - L1_GPA) / 8 + 1]);
	munmap(l1, L1_SIZE);
	munmap(l2, L2_SIZE);
	ringvm_nl_close(nl);
}

/*
 * 5b. Two vCPUs touch the same untouched block at the same moment, each
 * going on through all its pages: both may fault and allocate a block,
 * but the xarray takes one of them whole, and both map it with a 2 MiB
 * page - two nested faults at most, 2 MiB allocated.  Were the block
 * split between the two allocations, or mapped in 4 KiB pages by one
 * vCPU before the other's 2 MiB page, the rest of its pages would fault
 * one by one.  The vCPUs wait for the host's go in a spin, so on two
 * CPUs their first touches come within a few instructions of each other.
 */
#define RACE_BLOCKS	4

struct race_run {
	struct test_vcpu *vcpu;
	pthread_t thread;
	int ret;
	__u64 ucall;
};

/* One RUN of r->vcpu, on a thread of its own: its result and ucall. */
static void *race_run_once(void *arg)
{
	struct race_run *r = arg;
	struct ucall uc;

	r->ret = __vcpu_run(r->vcpu);
	r->ucall = r->ret ? UCALL_NONE : get_ucall(r->vcpu, &uc);
	return NULL;
}

TEST_F_TIMEOUT(memory, large_page_race, 120)
{
	struct race_run run[2] = {};
	__u64 *l1, faults, bytes, round;
	struct ringvm_nl *nl;
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	unsigned int b, v;
	__u64 i;

	SKIP_WITHOUT_LARGE_PAGES(self);
	ASSERT_EQ(0, __ringvm_nl_open(&nl));

	vm_three_regions(_metadata, self, RINGVM_VM_LARGE_PAGES, L1_GPA,
			 RACE_BLOCKS * GUEST_LARGE_PAGE, L2_GPA, L2_SIZE,
			 guest_large);
	run[0].vcpu = self->vcpu;
	run[1].vcpu = vm_vcpu_add(self->vm, 1, guest_large);

	/* to the first SYNC, then a warm-up round on a page of region 0 */
	write_guest_global(self->vm, large_gpa, GUEST_SCRATCH_GPA);
	write_guest_global(self->vm, large_pages_n, 1);
	for (round = 0; round < 2; round++) {
		write_guest_global(self->vm, race_go, round);
		for (v = 0; v < 2; v++) {
			race_run_once(&run[v]);
			ASSERT_EQ(0, run[v].ret);
			ASSERT_EQ(UCALL_SYNC, run[v].ucall);
		}
	}

	write_guest_global(self->vm, large_pages_n, 512);
	for (b = 0; b < RACE_BLOCKS; b++, round++) {
		write_guest_global(self->vm, large_gpa,
				   L1_GPA + b * GUEST_LARGE_PAGE);
		faults = nested_faults(nl, self->vm->id, 2);
		bytes = mem_allocated(_metadata, self->vm->fd);
		for (v = 0; v < 2; v++)
			ASSERT_EQ(0, pthread_create(&run[v].thread, NULL,
						    race_run_once, &run[v]));
		/* both spin on race_go by now, or soon: go */
		nanosleep(&wait, NULL);
		write_guest_global(self->vm, race_go, round);
		for (v = 0; v < 2; v++) {
			ASSERT_EQ(0, pthread_join(run[v].thread, NULL));
			ASSERT_EQ(0, run[v].ret) TH_LOG("vCPU %u", v);
			ASSERT_EQ(UCALL_SYNC, run[v].ucall) TH_LOG("vCPU %u", v);
		}
		faults = nested_faults(nl, self->vm->id, 2) - faults;
		bytes = mem_allocated(_metadata, self->vm->fd) - bytes;
		/* 2: both faulted before either had mapped the block */
		printf("# block %u: %llu nested fault(s)\n", b,
		       (unsigned long long)faults);
		EXPECT_GE(2, faults) TH_LOG("block %u", b);
		EXPECT_LE(1, faults) TH_LOG("block %u", b);
		EXPECT_EQ(GUEST_LARGE_PAGE, bytes) TH_LOG("block %u", b);
	}

	l1 = ringvm_map_guest(self->vm->fd, L1_GPA,
			      RACE_BLOCKS * GUEST_LARGE_PAGE);
	ASSERT_NE(NULL, l1);
	for (i = 0; i < RACE_BLOCKS * GUEST_LARGE_PAGE / PAGE; i++)
		EXPECT_EQ(L_MAGIC ^ (L1_GPA + i * PAGE), l1[i * PAGE / 8])
			TH_LOG("gpa %#llx", (unsigned long long)(L1_GPA + i * PAGE));
	munmap(l1, RACE_BLOCKS * GUEST_LARGE_PAGE);
	ringvm_nl_close(nl);
}

/* 6. mmap refusals */

FIXTURE(mmap) {
	int devfd, vmfd;
};

#define R0_SIZE		0x10000ULL
#define R1_GPA		0x10000ULL	/* right after region 0 */
#define R1_SIZE		0x10000ULL
#define R2_GPA_M	0x100000ULL
#define R2_SIZE_M	0x4000ULL

FIXTURE_SETUP(mmap)
{
	struct ringvm_create_vm req;
	int ret = ringvm_ensure_loaded();

	self->devfd = self->vmfd = -1;
	ASSERT_EQ(0, ret);
	self->devfd = __ringvm_open();
	ASSERT_LE(0, self->devfd);
	memset(&req, 0, sizeof(req));
	req.nr_regions = 3;
	req.regions[0].size = R0_SIZE;
	req.regions[1].gpa = R1_GPA;
	req.regions[1].size = R1_SIZE;
	req.regions[2].gpa = R2_GPA_M;
	req.regions[2].size = R2_SIZE_M;
	self->vmfd = __ringvm_create_vm(self->devfd, &req);
	ASSERT_LE(0, self->vmfd) TH_LOG("create: %s", strerror(-self->vmfd));
}

FIXTURE_TEARDOWN(mmap)
{
	if (self->vmfd >= 0)
		close(self->vmfd);
	if (self->devfd >= 0)
		close(self->devfd);
}

/* mmap(2) of @len at @off: 0 (and unmapped again) or -errno. */
static int try_mmap(int fd, size_t len, off_t off, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

TEST_F(mmap, valid)
{
	ASSERT_EQ(0, try_mmap(self->vmfd, R0_SIZE, 0, MAP_SHARED));
	ASSERT_EQ(0, try_mmap(self->vmfd, PAGE, R0_SIZE - PAGE, MAP_SHARED));
	ASSERT_EQ(0, try_mmap(self->vmfd, R1_SIZE, R1_GPA, MAP_SHARED));
	ASSERT_EQ(0, try_mmap(self->vmfd, R2_SIZE_M, R2_GPA_M, MAP_SHARED));
	ASSERT_EQ(0, try_mmap(self->vmfd, PAGE, R2_GPA_M + PAGE, MAP_SHARED));
}

TEST_F(mmap, private)
{
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, PAGE, 0, MAP_PRIVATE));
}

TEST_F(mmap, outside_every_region)
{
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, PAGE, R1_GPA + R1_SIZE,
				    MAP_SHARED));
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, PAGE, R2_GPA_M + R2_SIZE_M,
				    MAP_SHARED));
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, PAGE, 1ULL << 40,
				    MAP_SHARED));
}

TEST_F(mmap, past_the_end_of_a_region)
{
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, 2 * PAGE,
				    R2_GPA_M + R2_SIZE_M - PAGE, MAP_SHARED));
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, R2_SIZE_M + PAGE, R2_GPA_M,
				    MAP_SHARED));
}

/* Regions 0 and 1 touch: a range over both is still refused. */
TEST_F(mmap, across_two_regions)
{
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, 2 * PAGE, R1_GPA - PAGE,
				    MAP_SHARED));
	ASSERT_EQ(-EINVAL, try_mmap(self->vmfd, R0_SIZE + R1_SIZE, 0,
				    MAP_SHARED));
}

/* The vCPU fd maps one page at offset 0, shared, and nothing else. */
TEST_F(mmap, vcpu_run_page)
{
	int vcpufd = __ringvm_create_vcpu(self->vmfd, 0);

	ASSERT_LE(0, vcpufd);
	EXPECT_EQ(0, try_mmap(vcpufd, PAGE, 0, MAP_SHARED));
	EXPECT_EQ(-EINVAL, try_mmap(vcpufd, PAGE, 0, MAP_PRIVATE));
	EXPECT_EQ(-EINVAL, try_mmap(vcpufd, 2 * PAGE, 0, MAP_SHARED));
	EXPECT_EQ(-EINVAL, try_mmap(vcpufd, PAGE, PAGE, MAP_SHARED));
	close(vcpufd);
}

RINGVM_GUEST_TEST_MAIN
