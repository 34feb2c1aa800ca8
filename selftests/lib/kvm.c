// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest helpers: the real KVM as a reference and a neighbour.  ringvm
 * and KVM must not share a CPU, and KVM must work again once ringvm is
 * gone, so the tests load kvm_amd / kvm_intel and run a tiny guest with
 * the plain KVM API (Documentation/virt/kvm/api.rst, linux/kvm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "test_util.h"

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

static int kvm_guest_vcpu(struct kvm_guest *g)
{
	int size;

	g->vcpu_fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, 0);
	if (g->vcpu_fd < 0)
		return -errno;
	size = ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		return -errno;
	g->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu_fd, 0);
	if (g->run == MAP_FAILED) {
		g->run = NULL;
		return -errno;
	}
	g->run_size = size;
	return 0;
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
