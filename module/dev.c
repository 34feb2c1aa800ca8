// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ringvm: the data path's front door.
 *
 * ioctls are dispatched from a table indexed by the ioctl's number; the
 * full command (direction and size included) must then match, so an old
 * or foreign binary gets -ENOTTY rather than a misread struct.  VMs are
 * created (anonymous) or opened here; their own ioctls are in vm.c.  Handlers
 * run in process context with no lock held.  The device is root-only
 * (mode 0600) unless udev gives it a group: the vmctl package's rule
 * makes it root:ringvm 0660, as /dev/kvm is kvm's.  Every open file holds
 * a reference on the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "vm.h"

static_assert(sizeof(struct ringvm_caps) == 88);

static long ringvm_ioctl_api_version(struct file *file, unsigned long arg)
{
	if (arg)
		return -EINVAL;
	return RINGVM_API_VERSION;
}

static bool ringvm_caps_input_ok(const struct ringvm_caps *in)
{
	return !in->flags &&
	       !memchr_inv(in->reserved, 0, sizeof(in->reserved));
}

static long ringvm_ioctl_get_caps(struct file *file, unsigned long arg)
{
	void __user *uptr = (void __user *)arg;
	struct ringvm_caps caps;

	if (copy_from_user(&caps, uptr, sizeof(caps)))
		return -EFAULT;
	if (!ringvm_caps_input_ok(&caps))
		return -EINVAL;

	ringvm_get_caps(&caps);
	if (copy_to_user(uptr, &caps, sizeof(caps)))
		return -EFAULT;
	return 0;
}

/* Names come from user space as fixed arrays: they must hold a NUL. */
static bool ringvm_name_terminated(const char *name)
{
	return memchr(name, 0, RINGVM_NAME_MAX);
}

static long ringvm_ioctl_create_vm(struct file *file, unsigned long arg)
{
	struct ringvm_create_vm req;
	struct ringvm_vm *vm;
	const char *why;
	int r;

	if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~RINGVM_VM_LARGE_PAGES) || req.pad ||
	    memchr_inv(req.reserved, 0, sizeof(req.reserved)) ||
	    !ringvm_name_terminated(req.name))
		return -EINVAL;
	if (req.nr_regions > RINGVM_MAX_MEM_REGIONS)
		return -EINVAL;

	r = ringvm_vm_create(req.name, true, req.flags, req.regions,
			     req.nr_regions, req.max_vcpus, &vm, &why);
	if (r)
		return r;
	r = ringvm_vm_getfd(vm);
	if (r < 0) {
		ringvm_vm_destroy(vm);
		ringvm_vm_put(vm);
	}
	return r;
}

static long ringvm_ioctl_open_vm(struct file *file, unsigned long arg)
{
	struct ringvm_open_vm req;
	struct ringvm_vm *vm;
	int fd;

	if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.reserved, 0, sizeof(req.reserved)) ||
	    !ringvm_name_terminated(req.name))
		return -EINVAL;
	/* Exactly one of id and name. */
	if (!req.id == !req.name[0])
		return -EINVAL;

	vm = ringvm_vm_find(req.id, req.name);
	if (!vm)
		return -ENOENT;
	/*
	 * The netlink rule (uapi/README.md, "Who sees what"): another
	 * user's VM does not exist for a caller without CAP_NET_ADMIN or
	 * CAP_SYS_ADMIN, whoever may open /dev/ringvm.
	 */
	if (!uid_eq(vm->owner, current_euid()) && !capable(CAP_NET_ADMIN) &&
	    !capable(CAP_SYS_ADMIN)) {
		ringvm_vm_put(vm);
		return -ENOENT;
	}
	fd = ringvm_vm_getfd(vm);
	if (fd < 0)
		ringvm_vm_put(vm);
	return fd;
}

struct ringvm_ioctl {
	unsigned int cmd;
	long (*fn)(struct file *file, unsigned long arg);
};

/* Indexed by _IOC_NR(); a hole or a mismatching cmd is -ENOTTY. */
static const struct ringvm_ioctl ringvm_dev_ioctls[] = {
	[_IOC_NR(RINGVM_GET_API_VERSION)] = {
		RINGVM_GET_API_VERSION, ringvm_ioctl_api_version
	},
	[_IOC_NR(RINGVM_GET_CAPS)] = {
		RINGVM_GET_CAPS, ringvm_ioctl_get_caps
	},
	[_IOC_NR(RINGVM_CREATE_VM)] = {
		RINGVM_CREATE_VM, ringvm_ioctl_create_vm
	},
	[_IOC_NR(RINGVM_OPEN_VM)] = {
		RINGVM_OPEN_VM, ringvm_ioctl_open_vm
	},
};

static long ringvm_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	const struct ringvm_ioctl *ioc;
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != RINGVMIO || nr >= ARRAY_SIZE(ringvm_dev_ioctls))
		return -ENOTTY;
	ioc = &ringvm_dev_ioctls[array_index_nospec(nr,
					ARRAY_SIZE(ringvm_dev_ioctls))];
	if (!ioc->fn || ioc->cmd != cmd)
		return -ENOTTY;
	return ioc->fn(file, arg);
}

static const struct file_operations ringvm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ringvm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ringvm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = RINGVM_DEV_NAME,
	.fops = &ringvm_dev_fops,
	.mode = 0600,
};

int ringvm_dev_register(void)
{
	return misc_register(&ringvm_miscdev);
}

void ringvm_dev_unregister(void)
{
	misc_deregister(&ringvm_miscdev);
}
