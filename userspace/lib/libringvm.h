/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libringvm: a thin C library over the ringvm ABI, shared by vmctl and the
 * selftests.  User space only; not thread-safe per handle (one struct
 * ringvm_nl per thread).
 *
 * Every operation comes in a pair, as in the kernel's KVM selftests:
 *
 *   __ringvm_xxx()  does the operation and returns a negative errno on
 *                   failure; it prints nothing.  Tests use it to check the
 *                   exact errno of a refusal.
 *   ringvm_xxx()    the same, but reports a failure on stderr
 *                   ("libringvm: what: strerror[: extack]") before
 *                   returning the same negative errno.
 *
 * Parts:
 *  1. /dev/ringvm and its ioctls                 (dev.c)
 *  2. the "ringvm" generic netlink family        (netlink.c)
 *  3. loading and unloading kernel modules       (module.c)
 *  4. the kernel log, /dev/kmsg                  (kmsg.c)
 *  5. names for the numbers in the ABI           (names.c)
 */
#ifndef _LIBRINGVM_H
#define _LIBRINGVM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/ringvm.h>
#include <linux/ringvm_netlink.h>

struct nl_msg;

/* 1. /dev/ringvm */

#define RINGVM_DEV_PATH		"/dev/" RINGVM_DEV_NAME

/* open(RINGVM_DEV_PATH, O_RDWR | O_CLOEXEC): the fd, or -errno. */
int __ringvm_open(void);
int ringvm_open(void);

/* A raw ioctl: its non-negative return value, or -errno. */
int __ringvm_ioctl(int fd, unsigned long cmd, unsigned long arg);

/* RINGVM_GET_API_VERSION: the version (>= 0), or -errno. */
int __ringvm_get_api_version(int fd);
int ringvm_get_api_version(int fd);

/* RINGVM_GET_CAPS with a zeroed input struct: 0, or -errno. */
int __ringvm_get_caps(int fd, struct ringvm_caps *caps);
int ringvm_get_caps(int fd, struct ringvm_caps *caps);

/* 2. generic netlink family "ringvm" */

/* A socket bound to the family, and the extack of its last request. */
struct ringvm_nl;

/* What RINGVM_CMD_CAPS_GET answers. */
struct ringvm_nl_caps {
	__u32 api_version;	/* RINGVM_A_CAPS_API_VERSION */
	__u32 attrs;		/* bit n set: attribute n was in the reply */
	/* The other attributes; flags, pad and reserved[] stay 0. */
	struct ringvm_caps caps;
};

/* Every attribute a caps-get reply must carry. */
#define RINGVM_NL_CAPS_ATTRS_ALL					\
	((1U << RINGVM_A_CAPS_API_VERSION) | (1U << RINGVM_A_CAPS_ARCH) |	\
	 (1U << RINGVM_A_CAPS_FEATURES) | (1U << RINGVM_A_CAPS_PAGE_SIZES) |	\
	 (1U << RINGVM_A_CAPS_NR_ASIDS) | (1U << RINGVM_A_CAPS_HW_REVISION) |	\
	 (1U << RINGVM_A_CAPS_NR_CPUS_ENABLED))

/*
 * Connect, turn on extended ACK and resolve the family.  -ENOENT when the
 * family is not registered (module not loaded).  On success *nlp is set.
 */
int __ringvm_nl_open(struct ringvm_nl **nlp);
int ringvm_nl_open(struct ringvm_nl **nlp);
void ringvm_nl_close(struct ringvm_nl *nl);

/*
 * The kernel's extack message (NLMSGERR_ATTR_MSG) for the last request
 * on @nl, or "" when it sent none.  Valid until the next request.
 */
const char *ringvm_nl_extack(const struct ringvm_nl *nl);

/* A request header for @cmd of the family; add attributes with nla_put. */
struct nl_msg *ringvm_nl_msg_new(struct ringvm_nl *nl, __u8 cmd);

/*
 * Send @msg (always freed) and read until the kernel's ACK or error.
 * @reply, if not NULL, is called for each reply message; a negative errno
 * from it fails the request once the ACK has been read.  Returns 0 or
 * -errno (the kernel's, with its extack in ringvm_nl_extack()).
 */
int __ringvm_nl_transact(struct ringvm_nl *nl, struct nl_msg *msg,
			 int (*reply)(struct nl_msg *msg, void *arg),
			 void *arg);

/* RINGVM_CMD_CAPS_GET, no attributes: 0, or -errno. */
int __ringvm_nl_caps_get(struct ringvm_nl *nl, struct ringvm_nl_caps *out);
int ringvm_nl_caps_get(struct ringvm_nl *nl, struct ringvm_nl_caps *out);

/* 3. kernel modules */

#define RINGVM_MODULE_NAME	"ringvm"

/* finit_module(2) of the file at @path with @params ("" if NULL). */
int __ringvm_finit_module(const char *path, const char *params);
int ringvm_finit_module(const char *path, const char *params);

/* delete_module(2) with O_NONBLOCK: -EAGAIN while the module is in use. */
int __ringvm_delete_module(const char *name);
int ringvm_delete_module(const char *name);

/* Whether /sys/module/@name exists: loaded (or built in with params). */
bool ringvm_module_loaded(const char *name);

/* The two above for ringvm itself. */
int __ringvm_load(const char *path);
int ringvm_load(const char *path);
int __ringvm_unload(void);
int ringvm_unload(void);

/* 4. kernel log */

/* /dev/kmsg, non-blocking, positioned after the last record: fd or -errno. */
int __ringvm_kmsg_open(void);
int ringvm_kmsg_open(void);

/*
 * Read the records logged since the last read on @fd and look for one
 * whose text starts with @prefix (e.g. "ringvm: ").  Copies the first such
 * text, without its newline, to @buf.  Returns 1 if found, 0 if not, or
 * -errno.
 */
int __ringvm_kmsg_find(int fd, const char *prefix, char *buf, size_t len);

/* 5. names */

/* "vmx", "svm", "none" or "unknown". */
const char *ringvm_arch_name(__u32 arch);

/* Longer form for people: "Intel VT-x", "AMD SVM", ... */
const char *ringvm_arch_desc(__u32 arch);

/* Name of RINGVM_FEAT_* bit @bit ("nested-paging"), NULL if unnamed. */
const char *ringvm_feature_name(unsigned int bit);

/* The bit number for a feature name, or -EINVAL. */
int ringvm_feature_bit(const char *name);

/*
 * Page size 2^@shift bytes as "4K", "2M", "1G", ...; returns @buf.
 * @len of 8 is enough for every shift below 64.
 */
char *ringvm_page_size_str(unsigned int shift, char *buf, size_t len);

#endif /* _LIBRINGVM_H */
