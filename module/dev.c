// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ringvm: the data path's front door.
 *
 * ioctls are dispatched from a table indexed by the ioctl's number; the
 * full command (direction and size included) must then match, so an old
 * or foreign binary gets -ENOTTY rather than a misread struct.  Handlers
 * run in process context with no lock held.  The device is root-only
 * (mode 0600); every open file holds a reference on the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "ringvm.h"

static_assert(sizeof(struct ringvm_caps) == 88);

static long ringvm_ioctl_api_version(struct file *file, unsigned long arg)
{
	if (arg)
		return -EINVAL;
	return RINGVM_API_VERSION;
}

static bool ringvm_caps_input_ok(const struct ringvm_caps *in)
{
	return !in->flags && !in->pad &&
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
