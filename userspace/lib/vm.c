// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 1b: VMs and vCPUs (uapi/linux/ringvm.h): creating and
 * opening VMs, their vCPUs, guest memory and the run page, and the vCPU
 * state ioctls.  Each __ringvm_x() is the ioctl and nothing else, so a
 * test sees exactly the kernel's errno; ringvm_x() reports it too.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "libringvm.h"
#include "internal.h"

/* VMs */

int __ringvm_create_vm(int devfd, const struct ringvm_create_vm *req)
{
	return __ringvm_ioctl(devfd, RINGVM_CREATE_VM, (unsigned long)req);
}

int ringvm_create_vm(int devfd, const struct ringvm_create_vm *req)
{
	return ringvm_report(__ringvm_create_vm(devfd, req),
			     "RINGVM_CREATE_VM", NULL);
}

int __ringvm_open_vm(int devfd, __u32 id, const char *name)
{
	struct ringvm_open_vm req = { .id = id };

	if (name) {
		if (strlen(name) >= sizeof(req.name))
			return -ENAMETOOLONG;
		strcpy(req.name, name);
	}
	return __ringvm_ioctl(devfd, RINGVM_OPEN_VM, (unsigned long)&req);
}

int ringvm_open_vm(int devfd, __u32 id, const char *name)
{
	return ringvm_report(__ringvm_open_vm(devfd, id, name),
			     "RINGVM_OPEN_VM", name);
}

int __ringvm_get_vm_info(int vmfd, struct ringvm_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	return __ringvm_ioctl(vmfd, RINGVM_GET_VM_INFO, (unsigned long)info);
}

int ringvm_get_vm_info(int vmfd, struct ringvm_vm_info *info)
{
	return ringvm_report(__ringvm_get_vm_info(vmfd, info),
			     "RINGVM_GET_VM_INFO", NULL);
}

int __ringvm_create_vcpu(int vmfd, __u32 id)
{
	return __ringvm_ioctl(vmfd, RINGVM_CREATE_VCPU, id);
}

int ringvm_create_vcpu(int vmfd, __u32 id)
{
	return ringvm_report(__ringvm_create_vcpu(vmfd, id),
			     "RINGVM_CREATE_VCPU", NULL);
}

int __ringvm_set_cpuid(int vmfd, const struct ringvm_cpuid *cpuid)
{
	return __ringvm_ioctl(vmfd, RINGVM_SET_CPUID, (unsigned long)cpuid);
}

int ringvm_set_cpuid(int vmfd, const struct ringvm_cpuid *cpuid)
{
	return ringvm_report(__ringvm_set_cpuid(vmfd, cpuid),
			     "RINGVM_SET_CPUID", NULL);
}

int __ringvm_enable(int vmfd, __u32 cap, __u64 arg0)
{
	struct ringvm_enable req = { .cap = cap, .args = { arg0 } };

	return __ringvm_ioctl(vmfd, RINGVM_ENABLE, (unsigned long)&req);
}

int ringvm_enable(int vmfd, __u32 cap, __u64 arg0)
{
	return ringvm_report(__ringvm_enable(vmfd, cap, arg0),
			     "RINGVM_ENABLE", NULL);
}

/* Memory: the VM fd's offset is the guest-physical address. */

void *ringvm_map_guest(int vmfd, __u64 gpa, size_t size)
{
	/* A gpa above 2^63 becomes a negative off_t: the kernel judges it. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vmfd,
		       (off_t)gpa);

	return p == MAP_FAILED ? NULL : p;
}

struct ringvm_run *ringvm_map_run(int vcpufd)
{
	void *p = mmap(NULL, RINGVM_RUN_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, vcpufd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* vCPUs */

int __ringvm_run(int vcpufd)
{
	return __ringvm_ioctl(vcpufd, RINGVM_RUN, 0);
}

int ringvm_run(int vcpufd)
{
	return ringvm_report(__ringvm_run(vcpufd), "RINGVM_RUN", NULL);
}

/* One __get/__set/get/set quartet per piece of vCPU state. */
#define VCPU_STATE(name, type, GET, SET)				\
int __ringvm_get_##name(int vcpufd, type *p)				\
{									\
	return __ringvm_ioctl(vcpufd, GET, (unsigned long)p);		\
}									\
int ringvm_get_##name(int vcpufd, type *p)				\
{									\
	return ringvm_report(__ringvm_get_##name(vcpufd, p), #GET, NULL); \
}									\
int __ringvm_set_##name(int vcpufd, const type *p)			\
{									\
	return __ringvm_ioctl(vcpufd, SET, (unsigned long)p);		\
}									\
int ringvm_set_##name(int vcpufd, const type *p)			\
{									\
	return ringvm_report(__ringvm_set_##name(vcpufd, p), #SET, NULL); \
}

VCPU_STATE(regs, struct ringvm_regs, RINGVM_GET_REGS, RINGVM_SET_REGS)
VCPU_STATE(sregs, struct ringvm_sregs, RINGVM_GET_SREGS, RINGVM_SET_SREGS)
VCPU_STATE(debugregs, struct ringvm_debugregs, RINGVM_GET_DEBUGREGS,
	   RINGVM_SET_DEBUGREGS)
VCPU_STATE(msrs, struct ringvm_msrs, RINGVM_GET_MSRS, RINGVM_SET_MSRS)
VCPU_STATE(xsave, struct ringvm_xsave, RINGVM_GET_XSAVE, RINGVM_SET_XSAVE)
VCPU_STATE(xcrs, struct ringvm_xcrs, RINGVM_GET_XCRS, RINGVM_SET_XCRS)
VCPU_STATE(events, struct ringvm_events, RINGVM_GET_EVENTS,
	   RINGVM_SET_EVENTS)
VCPU_STATE(lapic, struct ringvm_lapic_state, RINGVM_GET_LAPIC,
	   RINGVM_SET_LAPIC)
VCPU_STATE(mp_state, struct ringvm_mp_state, RINGVM_GET_MP_STATE,
	   RINGVM_SET_MP_STATE)

int __ringvm_signal_msi(int vmfd, __u64 address, __u32 data)
{
	struct ringvm_msi msi = { .address = address, .data = data };

	return __ringvm_ioctl(vmfd, RINGVM_SIGNAL_MSI, (unsigned long)&msi);
}

int __ringvm_interrupt(int vcpufd, unsigned int vector)
{
	struct ringvm_interrupt irq = { .vector = vector };

	return __ringvm_ioctl(vcpufd, RINGVM_INTERRUPT, (unsigned long)&irq);
}

int __ringvm_nmi(int vcpufd)
{
	return __ringvm_ioctl(vcpufd, RINGVM_NMI, 0);
}
