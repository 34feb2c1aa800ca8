// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 3: loading and unloading kernel modules with the
 * finit_module(2) and delete_module(2) system calls, so a busybox
 * initramfs needs no insmod/rmmod to run the tests.  Needs
 * CAP_SYS_MODULE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "libringvm.h"
#include "internal.h"

int __ringvm_finit_module(const char *path, const char *params)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0);
	ret = ret < 0 ? -errno : 0;
	close(fd);
	return ret;
}

int ringvm_finit_module(const char *path, const char *params)
{
	return ringvm_report(__ringvm_finit_module(path, params), path, NULL);
}

int __ringvm_delete_module(const char *name)
{
	/*
	 * O_NONBLOCK is the only mode Linux has had since 3.13: a module
	 * still in use is refused with -EAGAIN (EWOULDBLOCK), never waited
	 * for (kernel/module/main.c: try_stop_module()).
	 */
	if (syscall(SYS_delete_module, name, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int ringvm_delete_module(const char *name)
{
	return ringvm_report(__ringvm_delete_module(name), name, NULL);
}

bool ringvm_module_loaded(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

int __ringvm_load(const char *path)
{
	return __ringvm_finit_module(path, NULL);
}

int ringvm_load(const char *path)
{
	return ringvm_finit_module(path, NULL);
}

int __ringvm_unload(void)
{
	return __ringvm_delete_module(RINGVM_MODULE_NAME);
}

int ringvm_unload(void)
{
	return ringvm_delete_module(RINGVM_MODULE_NAME);
}
