// SPDX-License-Identifier: GPL-2.0
/*
 * Host side of the guest library: make a VM whose guest is the test
 * binary itself (see guest.h for the layout and the rules).
 *
 *  1. the binary's loadable segments, and the RAM a guest needs
 *  2. guest RAM: the binary, page tables, GDT, TSS, IDT
 *  3. the CPUID table and XCR0 the guest gets
 *  4. VMs: create, adopt, destroy
 *  5. vCPUs: create, long-mode state, arguments, run
 *  6. describing an exit
 *
 * Runs in the test process (host user space); returns -errno, never
 * asserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "guest.h"

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((__u64)(a) - 1))

/* Page-table entry bits (Intel SDM Vol. 3A §4.5, AMD APM Vol. 2 §5.3) */
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_PS		(1ULL << 7)
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_US)

/* The guest side of the library (guest.c, guest_entry.S) */
extern char guest_isr_stubs[];

/* 1. The binary */

#define MAX_SEGMENTS	16

struct segments {
	unsigned int nr;
	__u64 start[MAX_SEGMENTS];
	__u64 size[MAX_SEGMENTS];
	__u64 end;		/* highest end of any of them */
	bool relocated;		/* PIE: not where the guest expects it */
};

static int segment_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct segments *s = arg;
	int i;

	(void)size;
	/* The first object is the executable itself. */
	if (info->dlpi_addr)
		s->relocated = true;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || s->nr == MAX_SEGMENTS)
			continue;
		s->start[s->nr] = info->dlpi_addr + ph->p_vaddr;
		s->size[s->nr] = ph->p_memsz;
		if (s->start[s->nr] + ph->p_memsz > s->end)
			s->end = s->start[s->nr] + ph->p_memsz;
		s->nr++;
	}
	return 1;	/* only the executable */
}

static int get_segments(struct segments *s)
{
	memset(s, 0, sizeof(*s));
	dl_iterate_phdr(segment_cb, s);
	if (s->relocated || !s->nr || s->start[0] < GUEST_CODE_GPA)
		return -ENOEXEC;	/* must be static, non-PIE, at 4 MiB */
	return 0;
}

__u64 vm_guest_ram_size(void)
{
	struct segments s;

	if (get_segments(&s))
		return 0;
	return ALIGN_UP(s.end, GUEST_LARGE_PAGE);
}

void *addr_gva2hva(const struct test_vm *vm, __u64 gva)
{
	if (!vm->mem || gva >= vm->ram_size)
		return NULL;
	return (char *)vm->mem + gva;
}

/* 2. Guest RAM */

static void copy_binary(struct test_vm *vm, const struct segments *s)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		memcpy(addr_gva2hva(vm, s->start[i]),
		       (const void *)(uintptr_t)s->start[i], s->size[i]);
}

/*
 * Identity map [0, 4 GiB): PML4[0] -> PDPT[0..3] -> four PDs of 2 MiB
 * pages, except the first 2 MiB, mapped by a page table with 4 KiB pages
 * and page 0 absent.  Every entry is a user page too (for ring 3 tests;
 * CR4.SMEP/SMAP stay clear).
 */
static void build_page_tables(struct test_vm *vm)
{
	__u64 *pml4 = addr_gva2hva(vm, GUEST_PML4_GPA);
	__u64 *pdpt = addr_gva2hva(vm, GUEST_PDPT_GPA);
	__u64 *pt = addr_gva2hva(vm, GUEST_PT_GPA);
	unsigned int i, j;

	pml4[0] = GUEST_PDPT_GPA | PTE_TABLE;
	for (i = 0; i < 4; i++) {
		__u64 pd_gpa = GUEST_PD_GPA + i * GUEST_PAGE_SIZE;
		__u64 *pd = addr_gva2hva(vm, pd_gpa);

		pdpt[i] = pd_gpa | PTE_TABLE;
		for (j = 0; j < 512; j++)
			pd[j] = ((__u64)i << 30 | (__u64)j << 21) |
				PTE_TABLE | PTE_PS;
	}
	((__u64 *)addr_gva2hva(vm, GUEST_PD_GPA))[0] = GUEST_PT_GPA | PTE_TABLE;
	for (j = 1; j < 512; j++)
		pt[j] = ((__u64)j << 12) | PTE_TABLE;
}

/* A code or data segment descriptor (Intel SDM Vol. 3A §3.4.5). */
static __u64 gdt_entry(__u8 access, __u8 flags)
{
	/* base 0, limit 0xfffff (4 GiB with G) */
	return 0xffffULL | (__u64)access << 40 | 0xfULL << 48 |
	       (__u64)flags << 52;
}

/* The 64-bit TSS (Intel SDM Vol. 3A §8.7, Figure 8-11) */
struct tss64 {
	__u32 reserved0;
	__u64 rsp[3];
	__u64 reserved1;
	__u64 ist[7];
	__u64 reserved2;
	__u16 reserved3;
	__u16 iomap_base;
} __attribute__((packed));

#define TSS_LIMIT	(sizeof(struct tss64) - 1)

static void build_descriptor_tables(struct test_vm *vm)
{
	__u64 *gdt = addr_gva2hva(vm, GUEST_GDT_GPA);
	struct tss64 *tss = addr_gva2hva(vm, GUEST_TSS_GPA);
	__u64 *idt = addr_gva2hva(vm, GUEST_IDT_GPA);
	__u64 base = GUEST_TSS_GPA;
	unsigned int v;

	/* access: P | DPL | S | type;  flags: G | D/B | L */
	gdt[GUEST_SEL_CODE / 8] = gdt_entry(0x9b, 0xa);	/* L, G */
	gdt[GUEST_SEL_DATA / 8] = gdt_entry(0x93, 0xc);	/* D/B, G */
	gdt[GUEST_SEL_UCODE32 / 8] = gdt_entry(0xfb, 0xc);
	gdt[GUEST_SEL_UDATA / 8] = gdt_entry(0xf3, 0xc);
	gdt[GUEST_SEL_UCODE / 8] = gdt_entry(0xfb, 0xa);
	/* 16-byte system descriptor: busy 64-bit TSS (type 11), P */
	gdt[GUEST_SEL_TSS / 8] = TSS_LIMIT | (base & 0xffffff) << 16 |
				 0x8bULL << 40 | (base >> 24 & 0xff) << 56;
	gdt[GUEST_SEL_TSS / 8 + 1] = base >> 32;

	tss->rsp[0] = GUEST_RSP0_TOP;
	tss->iomap_base = sizeof(*tss);	/* no I/O bitmap */

	/* 64-bit interrupt gates, DPL 0, IST 0 (SDM Vol. 3A §6.14.1) */
	for (v = 0; v < 256; v++) {
		__u64 off = (uintptr_t)guest_isr_stubs + 16 * v;

		idt[2 * v] = (off & 0xffff) | (__u64)GUEST_SEL_CODE << 16 |
			     0x8eULL << 40 | (off >> 16 & 0xffff) << 48;
		idt[2 * v + 1] = off >> 32;
	}
}

/*
 * The same guest image in RAM that is not a ringvm VM's (the benchmark's
 * KVM guest): the binary, page tables and descriptor tables.
 */
int guest_image_build(void *mem, __u64 ram_size)
{
	struct test_vm vm = { .mem = mem, .ram_size = ram_size };
	struct segments s;
	int ret;

	ret = get_segments(&s);
	if (ret)
		return ret;
	if (ram_size < ALIGN_UP(s.end, GUEST_LARGE_PAGE))
		return -ERANGE;
	copy_binary(&vm, &s);
	build_page_tables(&vm);
	build_descriptor_tables(&vm);
	return 0;
}

/* 3. CPUID and XCR0 */

bool host_has_xsave(void)
{
	__u32 r[4];

	cpuid(1, 0, r);
	return r[2] & (1U << 27);	/* OSXSAVE */
}

__u64 host_xcr0(void)
{
	__u32 lo, hi;

	if (!host_has_xsave())
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((__u64)hi << 32);
}

bool host_is_tcg(void)
{
	__u32 r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1U << 31)))	/* no hypervisor */
		return false;
	cpuid(0x40000000, 0, r);
	return !memcmp(&r[1], "TCGT", 4) && !memcmp(&r[2], "CGTC", 4) &&
	       !memcmp(&r[3], "GTCG", 4);
}

static bool cpuid_add(struct ringvm_cpuid *c, __u32 fn, __u32 idx,
		      bool significant)
{
	struct ringvm_cpuid_entry *e;
	__u32 r[4];

	if (c->nent == RINGVM_MAX_CPUID_ENTRIES)
		return false;
	cpuid(fn, idx, r);
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = significant ? RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
	e->eax = r[0];
	e->ebx = r[1];
	e->ecx = r[2];
	e->edx = r[3];
	return true;
}

/* The subleaves of @fn worth copying (Intel SDM Vol. 2A, CPUID). */
static void cpuid_add_leaf(struct ringvm_cpuid *c, __u32 fn)
{
	__u32 r[4], i, max;

	switch (fn) {
	case 4:			/* caches: until type 0, that one included */
	case 0x8000001d:
		for (i = 0; i < 8; i++) {
			cpuid(fn, i, r);
			if (!cpuid_add(c, fn, i, true) || !(r[0] & 0x1f))
				break;
		}
		return;
	case 7:
	case 0x14:
	case 0x17:
		cpuid(fn, 0, r);
		max = r[0] < 3 ? r[0] : 3;
		for (i = 0; i <= max; i++)
			cpuid_add(c, fn, i, true);
		return;
	case 0xb:		/* topology: until level type 0, included */
	case 0x1f:
		for (i = 0; i < 4; i++) {
			cpuid(fn, i, r);
			if (!cpuid_add(c, fn, i, true) || !(r[2] & 0xff00))
				break;
		}
		return;
	case 0xd: {		/* XSAVE: 0, 1 and each supported component */
		__u64 comps;

		cpuid(0xd, 0, r);
		comps = r[0] | (__u64)r[3] << 32;
		cpuid(0xd, 1, r);
		comps |= r[2] | (__u64)r[3] << 32;
		for (i = 0; i < 63; i++)
			if (i < 2 || (comps & (1ULL << i)))
				cpuid_add(c, fn, i, true);
		return;
	}
	case 0xf:
	case 0x10:
	case 0x12:
		cpuid_add(c, fn, 0, true);
		cpuid_add(c, fn, 1, true);
		return;
	default:
		cpuid_add(c, fn, 0, false);
	}
}

void host_cpuid_table(struct ringvm_cpuid *c)
{
	__u32 r[4], fn, max;

	memset(c, 0, sizeof(*c));
	cpuid(0, 0, r);
	max = r[0] < 0x20 ? r[0] : 0x20;
	for (fn = 0; fn <= max; fn++)
		cpuid_add_leaf(c, fn);
	cpuid(0x80000000, 0, r);
	max = r[0] < 0x80000021 ? r[0] : 0x80000021;
	for (fn = 0x80000000; fn <= max; fn++)
		cpuid_add_leaf(c, fn);
}

struct ringvm_cpuid_entry *cpuid_find(struct ringvm_cpuid *c, __u32 function,
				      __u32 index)
{
	__u32 i;

	for (i = 0; i < c->nent; i++) {
		struct ringvm_cpuid_entry *e = &c->entries[i];

		if (e->function != function)
			continue;
		if (!(e->flags & RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		    e->index == index)
			return e;
	}
	return NULL;
}

/* 4. VMs */

/* Fill a fresh VM's RAM and hand it its CPUID table. */
static int vm_prepare(struct test_vm *vm)
{
	struct ringvm_vm_info info;
	struct ringvm_caps caps;
	struct segments s;
	int devfd, ret;

	ret = get_segments(&s);
	if (ret)
		return ret;
	ret = __ringvm_get_vm_info(vm->fd, &info);
	if (ret)
		return ret;
	vm->id = info.id;
	if (!info.nr_regions || info.regions[0].gpa ||
	    info.regions[0].size < ALIGN_UP(s.end, GUEST_LARGE_PAGE))
		return -ERANGE;
	vm->ram_size = info.regions[0].size;

	devfd = vm->devfd >= 0 ? vm->devfd : __ringvm_open();
	if (devfd < 0)
		return devfd;
	ret = __ringvm_get_caps(devfd, &caps);
	if (devfd != vm->devfd)
		close(devfd);
	if (ret)
		return ret;
	vm->arch = caps.arch;

	vm->mem = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->fd, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return -errno;
	}

	/* The guest's copy of guest_arch says which hypercall to use. */
	guest_arch = vm->arch;
	copy_binary(vm, &s);
	build_page_tables(vm);
	build_descriptor_tables(vm);

	host_cpuid_table(&vm->cpuid);
	ret = __ringvm_set_cpuid(vm->fd, &vm->cpuid);
	if (ret)
		return ret;
	vm->xcr0 = host_xcr0();
	return 0;
}

static struct test_vm *vm_alloc(int devfd, int fd)
{
	struct test_vm *vm = calloc(1, sizeof(*vm));

	if (vm) {
		vm->devfd = devfd;
		vm->fd = fd;
	}
	return vm;
}

int __vm_create(struct test_vm **vmp, const struct vm_opts *opts)
{
	static const struct vm_opts none;
	struct ringvm_create_vm req;
	struct test_vm *vm;
	int devfd, fd, ret;

	*vmp = NULL;
	if (!opts)
		opts = &none;
	memset(&req, 0, sizeof(req));
	req.nr_regions = 1;
	req.regions[0].size = vm_guest_ram_size();
	if (!req.regions[0].size)
		return -ENOEXEC;
	if (opts->ram_size > req.regions[0].size)
		req.regions[0].size = ALIGN_UP(opts->ram_size, GUEST_PAGE_SIZE);
	req.max_vcpus = opts->max_vcpus;
	req.flags = opts->flags;
	if (opts->name)
		snprintf(req.name, sizeof(req.name), "%s", opts->name);

	devfd = __ringvm_open();
	if (devfd < 0)
		return devfd;
	fd = __ringvm_create_vm(devfd, &req);
	if (fd < 0) {
		close(devfd);
		return fd;
	}
	vm = vm_alloc(devfd, fd);
	if (!vm) {
		close(fd);
		close(devfd);
		return -ENOMEM;
	}
	ret = vm_prepare(vm);
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	*vmp = vm;
	return 0;
}

int __vm_adopt(struct test_vm **vmp, int vmfd)
{
	struct test_vm *vm = vm_alloc(-1, vmfd);
	int ret;

	*vmp = NULL;
	if (!vm)
		return -ENOMEM;
	ret = vm_prepare(vm);
	if (ret) {
		vm->fd = -1;	/* the caller keeps it on failure */
		vm_destroy(vm);
		return ret;
	}
	*vmp = vm;
	return 0;
}

int named_guest_vm(struct ringvm_nl *nl, const char *name, __u32 max_vcpus,
		   struct test_vm **vmp)
{
	struct ringvm_mem_region r = { 0, vm_guest_ram_size() };
	struct ringvm_nl_vm nv;
	int devfd, vmfd, ret;

	ret = __ringvm_nl_vm_new(nl, name, &r, 1, max_vcpus, &nv);
	if (ret)
		return ret;
	devfd = __ringvm_open();
	if (devfd < 0)
		return devfd;
	vmfd = __ringvm_open_vm(devfd, 0, name);
	close(devfd);
	if (vmfd < 0)
		return vmfd;
	return __vm_adopt(vmp, vmfd);
}

int __vm_create_guest(struct test_vm **vmp, struct test_vcpu **vcpup,
		      void *guest_code)
{
	int ret = __vm_create(vmp, NULL);

	if (ret)
		return ret;
	ret = __vm_vcpu_add(*vmp, 0, guest_code, vcpup);
	if (ret) {
		vm_destroy(*vmp);
		*vmp = NULL;
	}
	return ret;
}

void vm_destroy(struct test_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < GUEST_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vm_vcpu_remove(vm->vcpus[i]);
	if (vm->mem)
		munmap(vm->mem, vm->ram_size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->devfd >= 0)
		close(vm->devfd);
	free(vm);
}

void vm_install_exception_handler(struct test_vm *vm, unsigned int vector,
				  void (*handler)(struct ex_regs *))
{
	write_guest_global(vm, guest_exception_handlers[vector & 0xff],
			   handler);
}

/* 5. vCPUs */

static void seg_flat(struct ringvm_segment *s, __u16 sel, __u8 type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

void vm_sregs_long_mode(const struct test_vm *vm, struct ringvm_sregs *sregs)
{
	__u32 r[4];

	seg_flat(&sregs->cs, GUEST_SEL_CODE, 0xb, true);
	seg_flat(&sregs->ds, GUEST_SEL_DATA, 0x3, false);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;

	memset(&sregs->tr, 0, sizeof(sregs->tr));
	sregs->tr.base = GUEST_TSS_GPA;
	sregs->tr.limit = TSS_LIMIT;
	sregs->tr.selector = GUEST_SEL_TSS;
	sregs->tr.type = 0xb;		/* busy 64-bit TSS */
	sregs->tr.present = 1;

	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.limit = 0xffff;
	sregs->ldt.type = 0x2;
	sregs->ldt.present = 1;

	memset(&sregs->gdt, 0, sizeof(sregs->gdt));
	sregs->gdt.base = GUEST_GDT_GPA;
	sregs->gdt.limit = GUEST_GDT_LIMIT;
	memset(&sregs->idt, 0, sizeof(sregs->idt));
	sregs->idt.base = GUEST_IDT_GPA;
	sregs->idt.limit = 256 * 16 - 1;

	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		     X86_CR0_WP | X86_CR0_PG;
	sregs->cr2 = 0;
	sregs->cr3 = GUEST_PML4_GPA;
	sregs->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (vm->xcr0)
		sregs->cr4 |= X86_CR4_OSXSAVE;
	sregs->cr8 = 0;
	sregs->efer = EFER_LME | EFER_LMA;
	cpuid(0x80000001, 0, r);
	if (r[3] & (1U << 20))		/* NX */
		sregs->efer |= EFER_NXE;
	memset(sregs->reserved, 0, sizeof(sregs->reserved));
}

static __u64 vcpu_stack_top(const struct test_vcpu *vcpu)
{
	return GUEST_STACKS_GPA + (vcpu->id + 1) * GUEST_STACK_SIZE;
}

/*
 * XCR0 for a new vCPU: the host's, or as much of x87|SSE|AVX as the
 * module takes, so that code the compiler made for this CPU runs.
 */
static int vcpu_set_xcr0(struct test_vcpu *vcpu)
{
	struct test_vm *vm = vcpu->vm;
	const __u64 tries[] = { vm->xcr0, vm->xcr0 & 0x7, 0x3 };
	struct ringvm_xcrs xcrs;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < 3; i++) {
		memset(&xcrs, 0, sizeof(xcrs));
		xcrs.xcr0 = tries[i];
		ret = __ringvm_set_xcrs(vcpu->fd, &xcrs);
		if (!ret) {
			vm->xcr0 = tries[i];
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

int __vcpu_reset(struct test_vcpu *vcpu, void *guest_code)
{
	struct test_vm *vm = vcpu->vm;
	struct ringvm_sregs sregs;
	struct ringvm_regs regs;
	__u64 *ret_slot;
	int ret;

	ret = __ringvm_get_sregs(vcpu->fd, &sregs);
	if (ret)
		return ret;
	vm_sregs_long_mode(vm, &sregs);
	ret = __ringvm_set_sregs(vcpu->fd, &sregs);
	if (ret)
		return ret;
	if (vm->xcr0) {
		ret = vcpu_set_xcr0(vcpu);
		if (ret)
			return ret;
	}

	/* RSP as right after a call: the return address on top. */
	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)guest_code;
	regs.rsp = vcpu_stack_top(vcpu) - 8;
	regs.rflags = X86_RFLAGS_FIXED;
	ret_slot = addr_gva2hva(vm, regs.rsp);
	if (!ret_slot)
		return -ERANGE;
	*ret_slot = (uintptr_t)guest_code_returned;
	return __ringvm_set_regs(vcpu->fd, &regs);
}

int __vm_vcpu_add(struct test_vm *vm, __u32 id, void *guest_code,
		  struct test_vcpu **vcpup)
{
	struct test_vcpu *vcpu;
	int ret;

	*vcpup = NULL;
	if (id >= GUEST_MAX_VCPUS || vm->vcpus[id])
		return -EINVAL;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = __ringvm_create_vcpu(vm->fd, id);
	if (vcpu->fd < 0) {
		ret = vcpu->fd;
		free(vcpu);
		return ret;
	}
	vcpu->run = mmap(NULL, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		goto err;
	}
	vm->vcpus[id] = vcpu;
	ret = __vcpu_reset(vcpu, guest_code);
	if (ret)
		goto err;
	*vcpup = vcpu;
	return 0;
err:
	vm_vcpu_remove(vcpu);
	return ret;
}

void vm_vcpu_remove(struct test_vcpu *vcpu)
{
	if (vcpu->vm->vcpus[vcpu->id] == vcpu)
		vcpu->vm->vcpus[vcpu->id] = NULL;
	if (vcpu->run)
		munmap(vcpu->run, GUEST_PAGE_SIZE);
	close(vcpu->fd);
	free(vcpu);
}

int __vcpu_args_set(struct test_vcpu *vcpu, unsigned int n, ...)
{
	struct ringvm_regs regs;
	__u64 *slots[6] = { &regs.rdi, &regs.rsi, &regs.rdx, &regs.rcx,
			    &regs.r8, &regs.r9 };
	unsigned int i;
	va_list ap;
	int ret;

	if (n > 6)
		return -EINVAL;
	ret = __ringvm_get_regs(vcpu->fd, &regs);
	if (ret)
		return ret;
	va_start(ap, n);
	for (i = 0; i < n; i++)
		*slots[i] = va_arg(ap, __u64);
	va_end(ap);
	return __ringvm_set_regs(vcpu->fd, &regs);
}

int __vcpu_run(struct test_vcpu *vcpu)
{
	return __ringvm_run(vcpu->fd);
}

/* 6. Describing an exit */

const char *vcpu_exit_str(struct test_vcpu *vcpu, char *buf, size_t len)
{
	const struct ringvm_run *run = vcpu->run;
	const char *name = ringvm_exit_reason_name(run->exit_reason);
	struct ucall uc;
	size_t n;
	int i;

	n = snprintf(buf, len, "%s exit (%u) at RIP %#llx, hw reason %#x",
		     name ? name : "unknown", run->exit_reason,
		     (unsigned long long)run->rip, run->hw.reason);
	if (n >= len)
		return buf;
	switch (run->exit_reason) {
	case RINGVM_EXIT_IO:
		if (get_ucall(vcpu, &uc) != UCALL_NONE) {
			char tmp[384];

			snprintf(buf + n, len - n, ": ucall: %s",
				 ucall_str(&uc, tmp, sizeof(tmp)));
			break;
		}
		snprintf(buf + n, len - n, ": %s port %#x size %u",
			 run->io.direction == RINGVM_IO_OUT ? "out" : "in",
			 run->io.port, run->io.size);
		break;
	case RINGVM_EXIT_MMIO:
		snprintf(buf + n, len - n, ": %s gpa %#llx len %u",
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.gpa, run->mmio.len);
		break;
	case RINGVM_EXIT_HYPERCALL:
		snprintf(buf + n, len - n, ": nr %#llx",
			 (unsigned long long)run->hypercall.nr);
		break;
	case RINGVM_EXIT_MSR:
		snprintf(buf + n, len - n, ": %s %#x",
			 run->msr.is_write ? "wrmsr" : "rdmsr", run->msr.index);
		break;
	case RINGVM_EXIT_FAIL_ENTRY:
		snprintf(buf + n, len - n, ": hardware reason %#llx",
			 (unsigned long long)
			 run->fail_entry.hardware_entry_failure_reason);
		break;
	case RINGVM_EXIT_EMULATION:
		n += snprintf(buf + n, len - n, ": gpa %#llx bytes",
			      (unsigned long long)run->emulation.gpa);
		for (i = 0; i < run->emulation.insn_len && i < 15 && n < len;
		     i++)
			n += snprintf(buf + n, len - n, " %02x",
				      run->emulation.insn[i]);
		break;
	case RINGVM_EXIT_INTERNAL_ERROR:
		snprintf(buf + n, len - n, ": suberror %u data %#llx %#llx",
			 run->internal.suberror,
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1]);
		break;
	default:
		snprintf(buf + n, len - n, ": qual %#llx info %#llx %#llx",
			 (unsigned long long)run->hw.qualification,
			 (unsigned long long)run->hw.info1,
			 (unsigned long long)run->hw.info2);
	}
	return buf;
}
