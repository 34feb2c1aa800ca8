/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the ringvm selftests: what a test needs besides libringvm
 * to set up and check the machine it runs in.  Every helper returns a
 * value or a negative errno and never asserts, so the test decides what a
 * failure means (ASSERT, EXPECT or SKIP).
 *
 *  1. where the module and vmctl are           (util.c)
 *  2. facts about the CPUs: cpuinfo, CPUID, online CPUs and hotplug
 *                                              (cpu.c)
 *  3. running a program and capturing its output (util.c)
 *  4. a small JSON checker                     (json.c)
 *  5. KVM: its modules and a one-vCPU real-mode guest (kvm.c)
 */
#ifndef _RINGVM_TEST_UTIL_H
#define _RINGVM_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "libringvm.h"

#ifndef ARRAY_SIZE	/* kselftest.h has it too */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* 1. Paths, as the runner lays out the test machine. */

/* $RINGVM_KO, else /ringvm/ringvm.ko. */
const char *ringvm_ko_path(void);
/* $RINGVM_VMCTL, else /ringvm/vmctl. */
const char *ringvm_vmctl_path(void);
/*
 * Whether the environment variable @name is "1": how a run by hand
 * (run.sh passes RINGVM_* through) asks for a case CI skips.
 */
bool ringvm_env_forces(const char *name);

/* Load ringvm unless it is loaded already: 0 or -errno. */
int ringvm_ensure_loaded(void);
/* Unload ringvm if it is loaded: 0 or -errno. */
int ringvm_ensure_unloaded(void);

/* 2. CPUs */

/*
 * Whether the first @field line of /proc/cpuinfo ("flags", "vmx flags")
 * lists @flag.  -errno if /proc/cpuinfo cannot be read, 0 if the line is
 * missing.
 */
int cpuinfo_has(const char *field, const char *flag);

/* RINGVM_ARCH_VMX or _SVM from the "flags" line, RINGVM_ARCH_NONE. */
__u32 cpuinfo_arch(void);

/* CPUID; returns the four registers of @leaf/@subleaf. */
void cpuid(__u32 leaf, __u32 subleaf, __u32 regs[4]);

/* Number of CPUs in /sys/devices/system/cpu/online, or -errno. */
int cpus_online(void);

/*
 * The CPUs this thread may run on, in order, at most @max of them into
 * @cpus: how many, or -errno.
 */
int cpus_allowed(int *cpus, int max);

/* Run this thread on @cpu only (sched_setaffinity): 0 or -errno. */
int cpu_pin(int cpu);

/* Whether cpuN has an "online" file, i.e. can be taken offline. */
bool cpu_hotpluggable(int cpu);

/* Write 0 or 1 to cpuN/online: 0 or -errno. */
int cpu_set_online(int cpu, bool online);

/* Online every CPU that can be; the first error, or 0. */
int cpus_online_all(void);

/*
 * Read MSR @msr on @cpu through /dev/cpu/N/msr, loading msr.ko if need
 * be: 0 or -errno (-EIO if the CPU faulted on the read).
 */
int rdmsr_cpu(int cpu, __u32 msr, __u64 *val);

/* Write @val to the sysfs file @path: 0 or -errno. */
int sysfs_write(const char *path, const char *val);

/* The same with open(2) flags added, e.g. O_TRUNC or O_APPEND. */
int file_write(const char *path, const char *val, int flags);

/* The number at the start of file @path (strtol, base 0), or @dflt. */
long file_read_long(const char *path, long dflt);

/*
 * tracefs, mounted at /sys/kernel/tracing if need be: the directory in
 * which @file (trace, kprobe_events, ...) is writable, or NULL.
 */
const char *tracefs_dir(const char *file);

/* The first line of @path, newline dropped, into @buf; "" if unreadable. */
const char *sysfs_read_line(const char *path, char *buf, size_t len);

/* 3. Programs */

struct run_result {
	int status;		/* exit code, or 128 + signal number */
	char out[16384];	/* stdout, NUL-terminated, truncated to fit */
	char err[4096];		/* stderr, likewise */
};

/* Run @argv (argv[0] a path, or a name looked up in PATH): 0 or -errno. */
int run_prog(char *const argv[], struct run_result *res);

/*
 * The same as user @uid, group @gid and no supplementary groups; the
 * child exits 127 with a message on stderr if it cannot become them.
 */
int run_prog_as(char *const argv[], uid_t uid, gid_t gid,
		struct run_result *res);

/*
 * vmctl ($RINGVM_VMCTL, or /ringvm/vmctl) with the arguments given, a
 * NULL after the last (at most 14): run_prog()'s 0 or -errno.
 */
int run_vmctl(struct run_result *res, ...) __attribute__((sentinel));

/*
 * The shell command @cmd; with @input, its stdin is a FIFO that gets
 * @input (no quote or '%' in it) once its stdout shows @prompt (a grep
 * pattern), as a user types at a prompt, within 120 s (none if @cmd
 * ended first; its output is kept); else </dev/null.
 * run_prog()'s 0 or -errno.
 */
int run_typing(const char *cmd, const char *prompt, const char *input,
	       struct run_result *res);

/*
 * Delete every named VM whose name starts with @prefix (at most 64), as
 * tests do with what a failed test left behind; with @report, a line on
 * stderr for each.  0, or the first error (cleanup.c).
 */
int delete_test_vms(struct ringvm_nl *nl, const char *prefix, bool report);

/* "modprobe NAME": modprobe's exit code, or -errno if it did not run. */
int modprobe(const char *name);

/* 4. JSON */

/* Whether @doc is exactly one JSON value (RFC 8259), with white space. */
bool json_valid(const char *doc);

/*
 * The text of member @key's value in the top-level object of @doc, copied
 * to @buf as it appears (strings keep their quotes).  0, -ENOENT if there
 * is no such member, -EINVAL if @doc is not an object, -ENOSPC if @len is
 * too small.
 */
int json_get(const char *doc, const char *key, char *buf, size_t len);

/*
 * The text of element @index (from 0) of the top-level array @doc, the
 * same way: 0, -ENOENT past the end, -EINVAL if @doc is not an array,
 * -ENOSPC if @len is too small.
 */
int json_index(const char *doc, unsigned int index, char *buf, size_t len);

/* 5. KVM */

/* "kvm_amd" or "kvm_intel" for this CPU (from cpuinfo), NULL if neither. */
const char *kvm_vendor_module(void);

/* Unload kvm_amd/kvm_intel, then kvm, where loaded: 0 or -errno. */
int kvm_modules_unload(void);

/* open /dev/kvm and KVM_CREATE_VM: the VM fd, or -errno; *kvm_fd set. */
int kvm_create_vm(int *kvm_fd);

/* A VM with one vCPU in real mode and one memslot holding some code. */
struct kvm_guest {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	void *mem;
	size_t mem_size;
};

/* Mark @g empty (fds -1), so kvm_guest_destroy() on it does nothing. */
void kvm_guest_init(struct kvm_guest *g);

/*
 * Create the VM, put @code at guest-physical @gpa (page aligned, below
 * 1 MiB) in a one-page memslot and point CS:IP at it: 0 or -errno.
 * Starts with kvm_guest_init(); kvm_guest_destroy() undoes a partial
 * setup too.
 */
int kvm_guest_create(struct kvm_guest *g, const void *code, size_t len,
		     __u64 gpa);
void kvm_guest_destroy(struct kvm_guest *g);
/*
 * Create the VM with @ram_size bytes of RAM from guest-physical 0 (4 KiB
 * pages: no transparent huge pages) laid out as a ringvm test guest
 * (guest_image_build(), guest.h), the CPUID KVM supports, and one vCPU
 * in the library's long mode; set RIP and RSP with KVM_SET_REGS.  No
 * in-kernel irqchip.  0 or -errno; kvm_guest_destroy() cleans up.
 */
int kvm_guest_create_long(struct kvm_guest *g, __u64 ram_size);
/*
 * The same with @thp: RAM 2 MiB aligned and MADV_HUGEPAGE, so that the
 * outer kernel's transparent huge pages (where enabled) back it and KVM
 * maps them with 2 MiB nested pages; without, MADV_NOHUGEPAGE.
 */
int kvm_guest_create_long_thp(struct kvm_guest *g, __u64 ram_size, bool thp);
/*
 * kvm_guest_create_long() with KVM's local APICs in the kernel and the
 * rest of the interrupt controllers left to user space
 * (KVM_CAP_SPLIT_IRQCHIP, ringvm's model), x2APIC and TSC-deadline in
 * CPUID.  kvm_guest_add_vcpu() then adds vCPU @id (an AP, made runnable
 * at once rather than waiting for SIPI) in the same long mode: its fd and
 * run page in *@fd and *@run, closed by the caller (munmap with
 * g->run_size).
 */
int kvm_guest_create_long_apic(struct kvm_guest *g, __u64 ram_size);
int kvm_guest_add_vcpu(struct kvm_guest *g, unsigned int id, int *fd,
		       struct kvm_run **run);

/* KVM_RUN once: run->exit_reason, or -errno. */
int kvm_guest_run(struct kvm_guest *g);

/*
 * main() of a test binary, instead of TEST_HARNESS_MAIN.  On a CPU without
 * VMX or SVM, where ringvm cannot load, or without root, the whole binary
 * is skipped: TAP "1..0 # SKIP reason" and exit code 4 (KSFT_SKIP).
 * Include kselftest_harness.h first.
 */
#define RINGVM_TEST_MAIN						\
int main(int argc, char **argv)						\
{									\
	const char *why = NULL;						\
									\
	if (geteuid() != 0)						\
		why = "must run as root";				\
	else if (cpuinfo_arch() == RINGVM_ARCH_NONE)			\
		why = "no vmx or svm flag in /proc/cpuinfo";		\
	if (why) {							\
		ksft_print_header();					\
		ksft_exit_skip("%s\n", why);				\
	}								\
	return test_harness_run(argc, argv);				\
}

#endif /* _RINGVM_TEST_UTIL_H */
