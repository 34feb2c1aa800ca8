/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ringvm generic netlink family.  The source of truth is uapi/ringvm.yaml;
 * this header follows the layout ynl-gen-c writes for it (checked by
 * scripts/check-spec.py).
 */
#ifndef _UAPI_LINUX_RINGVM_NETLINK_H
#define _UAPI_LINUX_RINGVM_NETLINK_H

#define RINGVM_FAMILY_NAME	"ringvm"
#define RINGVM_FAMILY_VERSION	1

enum {
	RINGVM_A_CAPS_PAD = 1,
	RINGVM_A_CAPS_API_VERSION,
	RINGVM_A_CAPS_ARCH,
	RINGVM_A_CAPS_FEATURES,
	RINGVM_A_CAPS_PAGE_SIZES,
	RINGVM_A_CAPS_NR_ASIDS,
	RINGVM_A_CAPS_HW_REVISION,
	RINGVM_A_CAPS_NR_CPUS_ENABLED,

	__RINGVM_A_CAPS_MAX,
	RINGVM_A_CAPS_MAX = (__RINGVM_A_CAPS_MAX - 1)
};

enum {
	RINGVM_CMD_CAPS_GET = 1,

	__RINGVM_CMD_MAX,
	RINGVM_CMD_MAX = (__RINGVM_CMD_MAX - 1)
};

#define RINGVM_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_RINGVM_NETLINK_H */
