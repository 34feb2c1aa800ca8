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
 * Success is 0, or the file descriptor / count the operation makes.
 *
 * Parts:
 *  1. /dev/ringvm and its ioctls                 (dev.c)
 *     b. VMs, vCPUs, guest memory, the run page  (vm.c)
 *  2. the "ringvm" generic netlink family        (netlink.c)
 *     b. VM operations and events                (netlink.c)
 *     c. vCPU statistics                         (netlink.c)
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

/* 1b. VMs and vCPUs (vm.c) */

/*
 * RINGVM_CREATE_VM on /dev/ringvm: an anonymous VM, destroyed with its
 * last file descriptor.  Returns the VM fd, or -errno.
 */
int __ringvm_create_vm(int devfd, const struct ringvm_create_vm *req);
int ringvm_create_vm(int devfd, const struct ringvm_create_vm *req);

/*
 * RINGVM_OPEN_VM: a VM by @id (when not 0) or by @name (when not NULL
 * or "").  Both or neither are passed on as given, for the kernel to
 * refuse (EINVAL); a name too long for the ABI is -ENAMETOOLONG here.
 * Returns the VM fd, or -errno.
 */
int __ringvm_open_vm(int devfd, __u32 id, const char *name);
int ringvm_open_vm(int devfd, __u32 id, const char *name);

/* RINGVM_GET_VM_INFO; *info is zeroed first (its input must be 0). */
int __ringvm_get_vm_info(int vmfd, struct ringvm_vm_info *info);
int ringvm_get_vm_info(int vmfd, struct ringvm_vm_info *info);

/* RINGVM_CREATE_VCPU: the vCPU fd, or -errno. */
int __ringvm_create_vcpu(int vmfd, __u32 id);
int ringvm_create_vcpu(int vmfd, __u32 id);

/* RINGVM_SET_CPUID: 0 or -errno. */
int __ringvm_set_cpuid(int vmfd, const struct ringvm_cpuid *cpuid);
int ringvm_set_cpuid(int vmfd, const struct ringvm_cpuid *cpuid);

/* RINGVM_ENABLE of @cap with args[0] = @arg0, the rest 0: 0 or -errno. */
int __ringvm_enable(int vmfd, __u32 cap, __u64 arg0);
int ringvm_enable(int vmfd, __u32 cap, __u64 arg0);

/*
 * Map @size bytes of guest RAM at guest-physical @gpa (both 4 KiB
 * aligned, inside one region), shared with the guest.  NULL with errno
 * set on failure; munmap() it when done.
 */
void *ringvm_map_guest(int vmfd, __u64 gpa, size_t size);

/* Map the vCPU's run page (4096 bytes).  NULL with errno set on failure. */
#define RINGVM_RUN_PAGE_SIZE	4096
struct ringvm_run *ringvm_map_run(int vcpufd);

/* The I/O data of an IO exit: (char *)@run + run->io.data_offset. */
static inline void *ringvm_run_io_data(struct ringvm_run *run)
{
	return (char *)run + run->io.data_offset;
}

/*
 * RINGVM_RUN: 0 with run->exit_reason set, or -errno for a host-side
 * error.  A pending signal is an exit (RINGVM_EXIT_INTR), not -EINTR.
 */
int __ringvm_run(int vcpufd);
int ringvm_run(int vcpufd);

/* vCPU state: 0 or -errno. */
int __ringvm_get_regs(int vcpufd, struct ringvm_regs *regs);
int ringvm_get_regs(int vcpufd, struct ringvm_regs *regs);
int __ringvm_set_regs(int vcpufd, const struct ringvm_regs *regs);
int ringvm_set_regs(int vcpufd, const struct ringvm_regs *regs);
int __ringvm_get_sregs(int vcpufd, struct ringvm_sregs *sregs);
int ringvm_get_sregs(int vcpufd, struct ringvm_sregs *sregs);
int __ringvm_set_sregs(int vcpufd, const struct ringvm_sregs *sregs);
int ringvm_set_sregs(int vcpufd, const struct ringvm_sregs *sregs);
int __ringvm_get_debugregs(int vcpufd, struct ringvm_debugregs *dregs);
int ringvm_get_debugregs(int vcpufd, struct ringvm_debugregs *dregs);
int __ringvm_set_debugregs(int vcpufd, const struct ringvm_debugregs *dregs);
int ringvm_set_debugregs(int vcpufd, const struct ringvm_debugregs *dregs);
/* GET/SET_MSRS return how many entries were processed, or -errno. */
int __ringvm_get_msrs(int vcpufd, struct ringvm_msrs *msrs);
int ringvm_get_msrs(int vcpufd, struct ringvm_msrs *msrs);
int __ringvm_set_msrs(int vcpufd, const struct ringvm_msrs *msrs);
int ringvm_set_msrs(int vcpufd, const struct ringvm_msrs *msrs);
int __ringvm_get_xsave(int vcpufd, struct ringvm_xsave *xsave);
int ringvm_get_xsave(int vcpufd, struct ringvm_xsave *xsave);
int __ringvm_set_xsave(int vcpufd, const struct ringvm_xsave *xsave);
int ringvm_set_xsave(int vcpufd, const struct ringvm_xsave *xsave);
int __ringvm_get_xcrs(int vcpufd, struct ringvm_xcrs *xcrs);
int ringvm_get_xcrs(int vcpufd, struct ringvm_xcrs *xcrs);
int __ringvm_set_xcrs(int vcpufd, const struct ringvm_xcrs *xcrs);
int ringvm_set_xcrs(int vcpufd, const struct ringvm_xcrs *xcrs);
int __ringvm_get_events(int vcpufd, struct ringvm_events *events);
int ringvm_get_events(int vcpufd, struct ringvm_events *events);
int __ringvm_set_events(int vcpufd, const struct ringvm_events *events);
int ringvm_set_events(int vcpufd, const struct ringvm_events *events);
int __ringvm_get_lapic(int vcpufd, struct ringvm_lapic_state *lapic);
int ringvm_get_lapic(int vcpufd, struct ringvm_lapic_state *lapic);
int __ringvm_set_lapic(int vcpufd, const struct ringvm_lapic_state *lapic);
int ringvm_set_lapic(int vcpufd, const struct ringvm_lapic_state *lapic);
int __ringvm_get_mp_state(int vcpufd, struct ringvm_mp_state *mp);
int ringvm_get_mp_state(int vcpufd, struct ringvm_mp_state *mp);
int __ringvm_set_mp_state(int vcpufd, const struct ringvm_mp_state *mp);
int ringvm_set_mp_state(int vcpufd, const struct ringvm_mp_state *mp);
/* RINGVM_SIGNAL_MSI (VM fd): vCPUs reached, or -errno. */
int __ringvm_signal_msi(int vmfd, __u64 address, __u32 data);
/* RINGVM_INTERRUPT with @vector, RINGVM_NMI: 0 or -errno. */
int __ringvm_interrupt(int vcpufd, unsigned int vector);
int __ringvm_nmi(int vcpufd);

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

/* 2b. VM operations */

/* A VM as vm-new, vm-get and vm-event describe it. */
struct ringvm_nl_vm {
	__u32 attrs;		/* bit n: attribute RINGVM_A_VM_n was present */
	__u32 id, flags, max_vcpus, nr_vcpus, event;
	__u64 mem_allocated;
	char name[RINGVM_NAME_MAX];
	__u32 nr_regions;
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS];
};

/*
 * vm-new: a named VM with @nr_regions regions (the request carries them
 * all, even beyond RINGVM_MAX_MEM_REGIONS, for the kernel to judge) and
 * RINGVM_A_VM_MAX_VCPUS when @max_vcpus is not 0.  @name NULL sends no
 * name.  The reply goes to @out when not NULL.  0 or -errno (extack in
 * ringvm_nl_extack()).
 */
int __ringvm_nl_vm_new(struct ringvm_nl *nl, const char *name,
		       const struct ringvm_mem_region *regions,
		       unsigned int nr_regions, __u32 max_vcpus,
		       struct ringvm_nl_vm *out);
/* The same with RINGVM_A_VM_FLAGS (RINGVM_VM_FLAGS_*) when @flags is not 0. */
int __ringvm_nl_vm_new_flags(struct ringvm_nl *nl, const char *name,
			     const struct ringvm_mem_region *regions,
			     unsigned int nr_regions, __u32 max_vcpus,
			     __u32 flags, struct ringvm_nl_vm *out);
int ringvm_nl_vm_new(struct ringvm_nl *nl, const char *name,
		     const struct ringvm_mem_region *regions,
		     unsigned int nr_regions, __u32 max_vcpus,
		     struct ringvm_nl_vm *out);

/*
 * vm-del / vm-get by id (when not 0) and/or by name (when not NULL); as
 * with RINGVM_OPEN_VM, what is given is sent, and the kernel judges.
 */
int __ringvm_nl_vm_del(struct ringvm_nl *nl, __u32 id, const char *name);
int ringvm_nl_vm_del(struct ringvm_nl *nl, __u32 id, const char *name);
int __ringvm_nl_vm_get(struct ringvm_nl *nl, __u32 id, const char *name,
		       struct ringvm_nl_vm *out);
int ringvm_nl_vm_get(struct ringvm_nl *nl, __u32 id, const char *name,
		     struct ringvm_nl_vm *out);

/*
 * vm-get dump: @cb once per VM, in the kernel's order.  A negative errno
 * from @cb stops the calls and is returned once the dump has been read.
 */
int __ringvm_nl_vm_dump(struct ringvm_nl *nl,
			int (*cb)(const struct ringvm_nl_vm *vm, void *arg),
			void *arg);
int ringvm_nl_vm_dump(struct ringvm_nl *nl,
		      int (*cb)(const struct ringvm_nl_vm *vm, void *arg),
		      void *arg);

/*
 * Events: a separate socket subscribed to the "events" group (no
 * requests on it).  __ringvm_nl_event_wait() reads one vm-event within
 * @timeout_ms (-1: no limit): 0 with *out filled, -ETIMEDOUT, or -errno.
 * Close with ringvm_nl_close().
 */
int __ringvm_nl_events_open(struct ringvm_nl **nlp);
int __ringvm_nl_event_wait(struct ringvm_nl *nl, int timeout_ms,
			   struct ringvm_nl_vm *out);

/* 2c. vCPU statistics (vcpu-stats-get dump) */

/* One vCPU's counters; exit_reasons[] is indexed by RINGVM_A_EXIT_REASONS_*. */
struct ringvm_nl_vcpu_stats {
	__u32 attrs;	/* bit n: attribute RINGVM_A_VCPU_STATS_n was present */
	__u32 vm_id, vcpu_id;
	char vm_name[RINGVM_NAME_MAX];
	__u64 exits, user_exits, nested_page_faults, injected_events;
	__u64 halt_ns, run_ns;
	__u64 vmcs_loads, vmcs_clears, host_state_saves, msr_switches;
	__u64 l1d_flushes;
	__u64 exit_reasons[RINGVM_A_EXIT_REASONS_MAX + 1];
};

/* Every attribute a vcpu-stats-get message carries. */
#define RINGVM_NL_VCPU_STATS_ATTRS_ALL					\
	(((1U << (RINGVM_A_VCPU_STATS_MAX + 1)) - 1) &			\
	 ~((1U << RINGVM_A_VCPU_STATS_PAD) | 1U))

/*
 * vcpu-stats-get dump: of the VM @vm_id (when not 0) and/or @vm_name
 * (when not NULL), sent as given for the kernel to judge, or of every
 * VM when neither.  @cb once per vCPU, in the kernel's order; a negative
 * errno from it stops the calls and is returned once the dump has been
 * read.  0 or -errno (extack in ringvm_nl_extack()).
 */
int __ringvm_nl_vcpu_stats_dump(struct ringvm_nl *nl, __u32 vm_id,
				const char *vm_name,
				int (*cb)(const struct ringvm_nl_vcpu_stats *st,
					  void *arg),
				void *arg);
int ringvm_nl_vcpu_stats_dump(struct ringvm_nl *nl, __u32 vm_id,
			      const char *vm_name,
			      int (*cb)(const struct ringvm_nl_vcpu_stats *st,
					void *arg),
			      void *arg);

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

/*
 * RINGVM_EXIT_* as "unknown", "io", "mmio", "hlt", "hypercall", "msr",
 * "shutdown", "fail-entry", "intr", "emulation", "destroyed",
 * "internal-error"; "exit-N" (in a per-thread buffer) for a number
 * without a name.
 */
const char *ringvm_exit_reason_name(__u32 reason);

/* RINGVM_VM_EVENT_*: "created", "destroyed", "shutdown", "fail-entry". */
const char *ringvm_vm_event_name(__u32 event);

/*
 * RINGVM_A_EXIT_REASONS_* as the spec names them ("cpuid", "io",
 * "mov-dr", ...); NULL for pad and for a number without a name.
 */
const char *ringvm_exit_stat_name(unsigned int attr);

#endif /* _LIBRINGVM_H */
