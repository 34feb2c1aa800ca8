// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest helpers: the real KVM as a reference and a neighbour.  ringvm
 * and KVM must not share a CPU, and KVM must work again once ringvm is
 * gone, so the tests load kvm_amd / kvm_intel and run a tiny guest with
 * the plain KVM API (Documentation/virt/kvm/api.rst, linux/kvm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "guest.h"

const char *kvm_vendor_module(void)
{
	switch (cpuinfo_arch()) {
	case RINGVM_ARCH_VMX:
		return "kvm_intel";
	case RINGVM_ARCH_SVM:
		return "kvm_amd";
	default:
		return NULL;
	}
}

int kvm_modules_unload(void)
{
	const char *vendor = kvm_vendor_module();
	int ret;

	if (vendor && ringvm_module_loaded(vendor)) {
		ret = __ringvm_delete_module(vendor);
		if (ret < 0)
			return ret;
	}
	if (ringvm_module_loaded("kvm"))
		return __ringvm_delete_module("kvm");
	return 0;
}

int kvm_create_vm(int *kvm_fd)
{
	int vm_fd;

	*kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm_fd < 0)
		return -errno;
	vm_fd = ioctl(*kvm_fd, KVM_CREATE_VM, 0);
	return vm_fd < 0 ? -errno : vm_fd;
}

void kvm_guest_init(struct kvm_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->kvm_fd = g->vm_fd = g->vcpu_fd = -1;
}

void kvm_guest_destroy(struct kvm_guest *g)
{
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->mem)
		munmap(g->mem, g->mem_size);
	if (g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	if (g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->kvm_fd >= 0)
		close(g->kvm_fd);
	kvm_guest_init(g);
}

/* One page of anonymous memory as memslot 0 at @gpa, holding @code. */
static int kvm_guest_memory(struct kvm_guest *g, const void *code,
			    size_t len, __u64 gpa)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = gpa,
	};

	g->mem_size = getpagesize();
	if (len > g->mem_size)
		return -E2BIG;
	g->mem = mmap(NULL, g->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return -errno;
	}
	memcpy(g->mem, code, len);
	slot.memory_size = g->mem_size;
	slot.userspace_addr = (unsigned long)g->mem;
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -errno;
	return 0;
}

/* Real mode, CS base 0, IP = @gpa, flags with only the reserved bit 1. */
static int kvm_guest_regs(struct kvm_guest *g, __u64 gpa)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = gpa, .rflags = 0x2 };

	if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(g->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* vCPU @id: its fd in *@fd (-1 if none) and its run page in *@run. */
static int kvm_vcpu_create(struct kvm_guest *g, unsigned int id, int *fd,
			   struct kvm_run **run)
{
	int size;

	*run = NULL;
	*fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, id);
	if (*fd < 0)
		return -errno;
	size = ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		return -errno;
	*run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (*run == MAP_FAILED) {
		*run = NULL;
		return -errno;
	}
	g->run_size = size;
	return 0;
}

static int kvm_guest_vcpu(struct kvm_guest *g)
{
	return kvm_vcpu_create(g, 0, &g->vcpu_fd, &g->run);
}

int kvm_guest_create(struct kvm_guest *g, const void *code, size_t len,
		     __u64 gpa)
{
	int ret;

	kvm_guest_init(g);
	ret = kvm_create_vm(&g->kvm_fd);
	if (ret < 0)
		return ret;
	g->vm_fd = ret;
	ret = kvm_guest_memory(g, code, len, gpa);
	if (!ret)
		ret = kvm_guest_vcpu(g);
	if (!ret)
		ret = kvm_guest_regs(g, gpa);
	return ret;
}

int kvm_guest_run(struct kvm_guest *g)
{
	if (ioctl(g->vcpu_fd, KVM_RUN, 0) < 0)
		return -errno;
	return g->run->exit_reason;
}

/* 64-bit guests: the selftests' guest image, run by KVM (the benchmark) */

static void kvm_seg(struct kvm_segment *k, const struct ringvm_segment *r)
{
	memset(k, 0, sizeof(*k));
	k->base = r->base;
	k->limit = r->limit;
	k->selector = r->selector;
	k->type = r->type;
	k->present = r->present;
	k->dpl = r->dpl;
	k->db = r->db;
	k->s = r->s;
	k->l = r->l;
	k->g = r->g;
	k->avl = r->avl;
	k->unusable = r->unusable;
}

/* The long-mode state vm_sregs_long_mode() gives a ringvm vCPU. */
static int kvm_vcpu_long_mode(int fd)
{
	const struct test_vm novm = { .xcr0 = 0 };
	struct ringvm_sregs r;
	struct kvm_sregs k;

	if (ioctl(fd, KVM_GET_SREGS, &k) < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	vm_sregs_long_mode(&novm, &r);
	kvm_seg(&k.cs, &r.cs);
	kvm_seg(&k.ds, &r.ds);
	kvm_seg(&k.es, &r.es);
	kvm_seg(&k.fs, &r.fs);
	kvm_seg(&k.gs, &r.gs);
	kvm_seg(&k.ss, &r.ss);
	kvm_seg(&k.tr, &r.tr);
	kvm_seg(&k.ldt, &r.ldt);
	k.gdt.base = r.gdt.base;
	k.gdt.limit = r.gdt.limit;
	k.idt.base = r.idt.base;
	k.idt.limit = r.idt.limit;
	k.cr0 = r.cr0;
	k.cr2 = r.cr2;
	k.cr3 = r.cr3;
	k.cr4 = r.cr4;
	k.cr8 = r.cr8;
	k.efer = r.efer;
	if (ioctl(fd, KVM_SET_SREGS, &k) < 0)
		return -errno;
	return 0;
}

#define CPUID_1_ECX_X2APIC	(1U << 21)
#define CPUID_1_ECX_TSC_DL	(1U << 24)

/*
 * KVM_SET_CPUID2 with all KVM supports, as a VMM would give a guest;
 * @apic: with KVM's local APIC, whose x2APIC mode and TSC-deadline timer
 * KVM emulates but a VMM announces (leaf 1 ECX).
 */
static int kvm_vcpu_cpuid(struct kvm_guest *g, int fd, bool apic)
{
	const unsigned int max = 256;
	struct kvm_cpuid2 *c;
	unsigned int i;
	int ret = 0;

	c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = max;
	if (ioctl(g->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		ret = -errno;
		goto out;
	}
	for (i = 0; apic && i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= CPUID_1_ECX_X2APIC |
					     CPUID_1_ECX_TSC_DL;
	if (ioctl(fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
out:
	free(c);
	return ret;
}

int kvm_guest_create_long(struct kvm_guest *g, __u64 ram_size)
{
	return kvm_guest_create_long_thp(g, ram_size, false);
}

/* The VM and its RAM, the selftests' guest image, no vCPU yet. */
static int kvm_guest_long_ram(struct kvm_guest *g, __u64 ram_size, bool thp)
{
	struct kvm_userspace_memory_region slot = { .slot = 0 };
	__u64 pad = thp ? GUEST_LARGE_PAGE : 0, head;
	__u8 *m;
	int ret;

	kvm_guest_init(g);
	ret = kvm_create_vm(&g->kvm_fd);
	if (ret < 0)
		return ret;
	g->vm_fd = ret;
	m = mmap(NULL, ram_size + pad, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	/* gpa and address congruent modulo 2 MiB, or KVM maps 4 KiB */
	head = pad ? (((uintptr_t)m + pad - 1) & ~(pad - 1)) - (uintptr_t)m :
		     0;
	if (head)
		munmap(m, head);
	if (pad - head)
		munmap(m + head + ram_size, pad - head);
	g->mem = m + head;
	g->mem_size = ram_size;
	/*
	 * 4 KiB pages, as ringvm's guest RAM without RINGVM_VM_LARGE_PAGES
	 * has; or huge pages, as it has with.
	 */
	madvise(g->mem, ram_size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	ret = guest_image_build(g->mem, ram_size);
	if (ret)
		return ret;
	slot.memory_size = ram_size;
	slot.userspace_addr = (unsigned long)g->mem;
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -errno;
	return 0;
}

/* vCPU @fd's CPUID (with the APIC's bits or not), then long mode. */
static int kvm_vcpu_setup(struct kvm_guest *g, int fd, bool apic)
{
	int ret = kvm_vcpu_cpuid(g, fd, apic);

	return ret ? ret : kvm_vcpu_long_mode(fd);
}

int kvm_guest_create_long_thp(struct kvm_guest *g, __u64 ram_size, bool thp)
{
	int ret = kvm_guest_long_ram(g, ram_size, thp);

	if (!ret)
		ret = kvm_guest_vcpu(g);
	return ret ? ret : kvm_vcpu_setup(g, g->vcpu_fd, false);
}

/* KVM_CAP_SPLIT_IRQCHIP's I/O APIC routes: the 82093AA's 24 pins. */
#define KVM_SPLIT_ROUTES	24

int kvm_guest_create_long_apic(struct kvm_guest *g, __u64 ram_size)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = KVM_SPLIT_ROUTES,
	};
	int ret = kvm_guest_long_ram(g, ram_size, false);

	if (!ret && ioctl(g->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		ret = -errno;
	if (!ret)
		ret = kvm_guest_vcpu(g);
	return ret ? ret : kvm_vcpu_setup(g, g->vcpu_fd, true);
}

int kvm_guest_add_vcpu(struct kvm_guest *g, unsigned int id, int *fd,
		       struct kvm_run **run)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	int ret = kvm_vcpu_create(g, id, fd, run);

	if (!ret)
		ret = kvm_vcpu_setup(g, *fd, true);
	/* with the in-kernel APIC an AP would wait for INIT and SIPI */
	if (!ret && ioctl(*fd, KVM_SET_MP_STATE, &mp) < 0)
		ret = -errno;
	return ret;
}
