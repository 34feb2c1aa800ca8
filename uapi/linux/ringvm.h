/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ringvm: the /dev/ringvm ioctl ABI.
 *
 * Rules every struct here follows (see uapi/README.md):
 *  - only __u8..__u64, naturally aligned, explicit padding;
 *  - a "flags" field whose unknown bits are rejected with -EINVAL;
 *  - reserved fields that must be zero on input (-EINVAL otherwise);
 *  - a static size, asserted in the module, encoded in the ioctl number.
 * Capabilities are queried, never inferred from the API version.
 */
#ifndef _UAPI_LINUX_RINGVM_H
#define _UAPI_LINUX_RINGVM_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define RINGVM_DEV_NAME		"ringvm"

/* Bumped only on an incompatible change; growth is announced by caps. */
#define RINGVM_API_VERSION	1

/* 0xB9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define RINGVMIO		0xB9

/* Virtualization technology the module drives. */
enum ringvm_arch {
	RINGVM_ARCH_NONE = 0,
	RINGVM_ARCH_VMX = 1,	/* Intel VT-x */
	RINGVM_ARCH_SVM = 2,	/* AMD-V (SVM) */
};

/* struct ringvm_caps.features */
#define RINGVM_FEAT_NESTED_PAGING	_BITULL(0)  /* EPT or NPT */
#define RINGVM_FEAT_UNRESTRICTED_GUEST	_BITULL(1)  /* real / unpaged guest */
#define RINGVM_FEAT_TAGGED_TLB		_BITULL(2)  /* VPID or ASID */
#define RINGVM_FEAT_NRIP_SAVE		_BITULL(3)  /* SVM next-RIP on exit */
#define RINGVM_FEAT_DECODE_ASSISTS	_BITULL(4)  /* SVM decode assists */
#define RINGVM_FEAT_VGIF		_BITULL(5)  /* SVM virtual GIF */
#define RINGVM_FEAT_NP_AD_BITS		_BITULL(6)  /* nested A/D bits */
#define RINGVM_FEAT_FLUSH_BY_TAG	_BITULL(7)  /* flush one ASID/EPTP */
#define RINGVM_FEAT_VMCB_CLEAN		_BITULL(8)  /* SVM VMCB clean bits */
#define RINGVM_FEAT_TSC_SCALING		_BITULL(9)
#define RINGVM_FEAT_PAUSE_FILTER	_BITULL(10) /* PLE / pause filter */
#define RINGVM_FEAT_PREEMPTION_TIMER	_BITULL(11) /* VMX preemption timer */
#define RINGVM_FEAT_VIRT_APIC		_BITULL(12) /* APICv / AVIC present */

/*
 * RINGVM_GET_CAPS: what the hardware and the module offer.
 *
 * In:  flags and reserved[] must be zero; the other fields are ignored.
 * Out: every field below flags.
 */
struct ringvm_caps {
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 arch;		/* enum ringvm_arch */
	__u64 features;		/* RINGVM_FEAT_* */
	__u64 page_sizes;	/* nested page sizes: bit n = 2^n bytes */
	__u32 nr_asids;		/* usable VPIDs / ASIDs, 0 if untagged */
	__u32 hw_revision;	/* VMCS revision id / SVM revision */
	__u32 nr_cpus_enabled;	/* CPUs with VMX/SVM turned on right now */
	__u32 pad;		/* must be 0 */
	__u64 reserved[6];	/* must be 0 */
};

/*
 * ioctls on /dev/ringvm.  Each is documented in uapi/README.md with its
 * capability, parameters, return value and errors.
 */
/* Returns RINGVM_API_VERSION; the argument must be 0. */
#define RINGVM_GET_API_VERSION	_IO(RINGVMIO, 0x00)
#define RINGVM_GET_CAPS		_IOWR(RINGVMIO, 0x01, struct ringvm_caps)

#endif /* _UAPI_LINUX_RINGVM_H */
