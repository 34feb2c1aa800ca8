// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 1: /dev/ringvm and its ioctls (uapi/linux/ringvm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "libringvm.h"
#include "internal.h"

int __ringvm_open(void)
{
	int fd = open(RINGVM_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int ringvm_open(void)
{
	return ringvm_report(__ringvm_open(), "open " RINGVM_DEV_PATH, NULL);
}

int __ringvm_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int __ringvm_get_api_version(int fd)
{
	return __ringvm_ioctl(fd, RINGVM_GET_API_VERSION, 0);
}

int ringvm_get_api_version(int fd)
{
	return ringvm_report(__ringvm_get_api_version(fd),
			     "RINGVM_GET_API_VERSION", NULL);
}

int __ringvm_get_caps(int fd, struct ringvm_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	return __ringvm_ioctl(fd, RINGVM_GET_CAPS, (unsigned long)caps);
}

int ringvm_get_caps(int fd, struct ringvm_caps *caps)
{
	return ringvm_report(__ringvm_get_caps(fd, caps), "RINGVM_GET_CAPS",
			     NULL);
}
