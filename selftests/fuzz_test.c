// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: a seeded, reproducible fuzzer over the whole ABI, run with
 * the suite so that every run attacks the module.
 *
 *  1. the PRNG, the record of the call in flight, failures and counts
 *  2. what each ioctl may answer (uapi/README.md), and the checks
 *  3. the pool: VM and vCPU fds and mappings, small and bounded
 *  4. arguments: pointers, boundary values, mutations of valid structs
 *  5. targets: ioctls on /dev/ringvm, VM and vCPU fds; RINGVM_RUN of
 *     random guest state and code; mmap and friends; the generic
 *     netlink family, valid and malformed
 *  6. the watchdog: no progress for a while prints the call in flight
 *  7. the test: the loop, then no fd leaked, no VM left, clean unload
 *
 * Reproducing.  Each step (one or a few calls) draws from its own PRNG
 * stream, splitmix64 of (seed, step), so step N makes the same calls
 * whatever came before it as long as the pool looks the same.  The seed
 * comes from $RINGVM_FUZZ_SEED (default below) and is printed; a failure
 * prints the seed, the step and call numbers and the call.  Also:
 * $RINGVM_FUZZ_CALLS sets how many calls to make, $RINGVM_FUZZ_VERBOSE=1
 * prints every call.
 *
 * The oracle: every failing call must end with an errno uapi/README.md
 * (or the generic ioctl, mm or netlink code) gives for it; calls the
 * documentation says must succeed or must fail (a valid request, a bad
 * pointer, a field that must be zero, a GET then SET of the same state)
 * must do so; RUN exits must be well formed; a SHUTDOWN is sticky and a
 * destroyed VM's vCPU leaves with DESTROYED.  The host must survive: the
 * runner fails the run on any oops, WARN or lockup in the kernel log.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "guest.h"

#define FZ_DEFAULT_SEED		0x72696e67766d2146ULL	/* "ringvm!F" */
#define FZ_CALLS_TCG		150000	/* QEMU TCG (the svm machine) */
#define FZ_CALLS_SLOW		15000	/* Bochs (vmx) and the rest */
#define FZ_WATCHDOG_S		60

#define PAGE			4096UL

/* 1. PRNG, the call in flight, failures, counts */

enum fz_target {
	T_DEV, T_VM, T_VCPU, T_RUN, T_MMAP, T_MEM, T_NL, T_FD, NR_TARGETS
};

static const char *const fz_target_name[NR_TARGETS] = {
	[T_DEV] = "dev-ioctl", [T_VM] = "vm-ioctl", [T_VCPU] = "vcpu-ioctl",
	[T_RUN] = "run", [T_MMAP] = "mmap", [T_MEM] = "mem",
	[T_NL] = "netlink", [T_FD] = "fd",
};

#define NR_ERRNO	140
#define FZ_HISTORY	16
#define NR_EXITS	(RINGVM_EXIT_EOI + 1)

static struct {
	__u64 seed;
	__u64 rng;			/* the stream of the step in flight */
	unsigned long step;
	unsigned long total;		/* calls made */
	unsigned long limit;		/* calls to make */
	int target;			/* of the call in flight */
	char what[384];			/* the call in flight, for people */
	/* the calls before it, for the watchdog: state matters to RUN */
	char history[FZ_HISTORY][192];
	unsigned long hist_at;
	unsigned long progress;		/* atomic: calls finished */
	int stop;			/* atomic: the watchdog should go */
	unsigned int watchdog_s;
	pid_t tid;			/* the fuzzing thread */
	bool pinned;			/* to CPUs 1..n, the watchdog to 0 */
	bool verbose;
	int last_pk;			/* where the last ioctl's struct was */
	unsigned long calls[NR_TARGETS];
	unsigned long nl_answers[NR_ERRNO];	/* NLMSG_ERROR: [0] acks */
	unsigned long hist[NR_TARGETS][NR_ERRNO];	/* [0]: success */
	unsigned long exits[NR_EXITS];
	unsigned int nr_failures;
	char first_failure[768];
} fz;

static __u64 splitmix64(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 r64(void)
{
	return splitmix64(&fz.rng);
}

/* Uniform enough in [0, n). */
static __u32 rnd(__u32 n)
{
	return n ? r64() % n : 0;
}

static bool one_in(__u32 n)
{
	return rnd(n) == 0;
}

static void step_seed(unsigned long step)
{
	fz.step = step;
	fz.rng = fz.seed ^ (step * 0xd1342543de82ef95ULL);
	r64();
}

static const __u64 fz_interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255,
	256, 0x7ff, 0xfff, 0x1000, 0x1001, 0xffff, 0x10000, 0x7fffffff,
	0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffULL,
	0x800000000000ULL, 0xffff800000000000ULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, 0xfffffffffffff000ULL, ~1ULL, ~0ULL,
};

/* A value for a field of @width bytes: boundaries, bits, small, random. */
static __u64 rnd_val(unsigned int width)
{
	__u64 v;

	switch (rnd(6)) {
	case 0:
	case 1:
		v = fz_interesting[rnd(ARRAY_SIZE(fz_interesting))];
		break;
	case 2:
		v = 1ULL << rnd(width * 8);
		break;
	case 3:
		v = rnd(17);
		break;
	case 4:
		v = -(__u64)(rnd(16) + 1);
		break;
	default:
		v = r64();
	}
	return width < 8 ? v & ((1ULL << (width * 8)) - 1) : v;
}

static const char *errno_name(int err)
{
	const char *s = err ? strerrorname_np(err) : "ok";

	return s ? s : "E?";
}

/* Start a call: what it is, for the watchdog and for failures. */
static void __attribute__((format(printf, 2, 3)))
call_begin(int target, const char *fmt, ...)
{
	va_list ap;

	fz.target = target;
	va_start(ap, fmt);
	vsnprintf(fz.what, sizeof(fz.what), fmt, ap);
	va_end(ap);
	if (fz.verbose) {
		printf("# [%lu.%lu] %s %s\n", fz.step, fz.total,
		       fz_target_name[target], fz.what);
		fflush(stdout);
	}
}

/* Record a failure of the call in flight (the first one is asserted). */
static void __attribute__((format(printf, 1, 2))) fz_fail(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!fz.nr_failures)
		snprintf(fz.first_failure, sizeof(fz.first_failure),
			 "seed %#llx step %lu call %lu %s %s: %s",
			 (unsigned long long)fz.seed, fz.step, fz.total,
			 fz_target_name[fz.target], fz.what, msg);
	if (fz.nr_failures++ < 20) {
		printf("# FAIL: seed %#llx step %lu call %lu %s %s: %s\n",
		       (unsigned long long)fz.seed, fz.step, fz.total,
		       fz_target_name[fz.target], fz.what, msg);
		fflush(stdout);
	}
}

/* 2. What calls may answer */

#define WANT_ANY	0	/* success or an allowed errno */
#define WANT_OK		-1	/* must succeed */
#define WANT_FAIL	-2	/* must fail, with an allowed errno */

static bool errno_in(int err, const int *errs)
{
	for (; *errs; errs++)
		if (*errs == err)
			return true;
	return false;
}

/*
 * End the call in flight: count it and check @ret (-1 with @err set, or
 * a result) against @errs (0-terminated) and @want (WANT_* or the errno
 * it must fail with).
 */
static void call_end(long ret, int err, const int *errs, int want)
{
	int e = ret < 0 ? err : 0;

	snprintf(fz.history[fz.hist_at++ % FZ_HISTORY],
		 sizeof(fz.history[0]), "%lu.%lu %s %.100s = %ld %s", fz.step,
		 fz.total, fz_target_name[fz.target], fz.what, ret,
		 errno_name(e));
	fz.calls[fz.target]++;
	fz.hist[fz.target][e < NR_ERRNO ? e : NR_ERRNO - 1]++;
	fz.total++;
	__atomic_add_fetch(&fz.progress, 1, __ATOMIC_RELEASE);

	if (e && !errno_in(e, errs))
		fz_fail("errno %s (%d) is not one this call may return",
			errno_name(e), e);
	else if (want == WANT_OK && e)
		fz_fail("failed with %s, must succeed", errno_name(e));
	else if (want == WANT_FAIL && !e)
		fz_fail("returned %ld, must fail", ret);
	else if (want > 0 && e != want)
		fz_fail("returned %ld (%s), must fail with %s", ret,
			errno_name(e), errno_name(want));
}

enum fd_kind { K_DEV, K_VM, K_VCPU, K_OTHER };

static const char *const kind_name[] = {
	[K_DEV] = "dev", [K_VM] = "vm", [K_VCPU] = "vcpu", [K_OTHER] = "other",
};

#define F_PTR		0x1	/* the argument points to the struct */
#define F_OUT		0x2	/* the kernel writes the struct back */
#define F_FD		0x4	/* success returns a new fd */

struct fz_ioctl {
	unsigned long cmd;
	const char *name;
	int kind;
	unsigned int flags;
	int errs[10];		/* uapi/README.md's errnos; 0-terminated */
};

/* Every ioctl of uapi/linux/ringvm.h with the errnos its entry lists. */
static const struct fz_ioctl fz_ioctls[] = {
	{ RINGVM_GET_API_VERSION, "GET_API_VERSION", K_DEV, 0, { EINVAL } },
	{ RINGVM_GET_CAPS, "GET_CAPS", K_DEV, F_PTR | F_OUT,
	  { EFAULT, EINVAL } },
	{ RINGVM_CREATE_VM, "CREATE_VM", K_DEV, F_PTR | F_FD,
	  { EFAULT, EINVAL, E2BIG, EEXIST, ENOSPC, ENOMEM, EMFILE,
	    EOPNOTSUPP } },
	{ RINGVM_OPEN_VM, "OPEN_VM", K_DEV, F_PTR | F_FD,
	  { EFAULT, EINVAL, ENOENT, ENOMEM, EMFILE } },
	{ RINGVM_CREATE_VCPU, "CREATE_VCPU", K_VM, F_FD,
	  { EINVAL, EEXIST, ENODEV, ENOMEM, EMFILE } },
	{ RINGVM_SET_CPUID, "SET_CPUID", K_VM, F_PTR,
	  { EFAULT, EINVAL, ENOMEM } },
	{ RINGVM_GET_VM_INFO, "GET_VM_INFO", K_VM, F_PTR | F_OUT,
	  { EFAULT, EINVAL } },
	{ RINGVM_ENABLE, "ENABLE", K_VM, F_PTR, { EFAULT, EINVAL, EBUSY } },
	{ RINGVM_SIGNAL_MSI, "SIGNAL_MSI", K_VM, F_PTR,
	  { EFAULT, EINVAL, ENXIO } },
	{ RINGVM_RUN, "RUN", K_VCPU, 0, { EINVAL, EINTR, ENOMEM } },
	{ RINGVM_GET_REGS, "GET_REGS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_REGS, "SET_REGS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_GET_SREGS, "GET_SREGS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_SREGS, "SET_SREGS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_GET_DEBUGREGS, "GET_DEBUGREGS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_DEBUGREGS, "SET_DEBUGREGS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_GET_MSRS, "GET_MSRS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_SET_MSRS, "SET_MSRS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_GET_XSAVE, "GET_XSAVE", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_XSAVE, "SET_XSAVE", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, ENOMEM, EINTR } },
	{ RINGVM_GET_XCRS, "GET_XCRS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_XCRS, "SET_XCRS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_INTERRUPT, "INTERRUPT", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	{ RINGVM_NMI, "NMI", K_VCPU, 0, { EINVAL, EINTR } },
	{ RINGVM_GET_EVENTS, "GET_EVENTS", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_EVENTS, "SET_EVENTS", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
	/* not F_OUT: a vCPU without an APIC refuses it (ENXIO) */
	{ RINGVM_GET_LAPIC, "GET_LAPIC", K_VCPU, F_PTR,
	  { EFAULT, ENXIO, ENOMEM, EINTR } },
	{ RINGVM_SET_LAPIC, "SET_LAPIC", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, ENXIO, ENOMEM, EINTR } },
	{ RINGVM_GET_MP_STATE, "GET_MP_STATE", K_VCPU, F_PTR | F_OUT,
	  { EFAULT, EINTR } },
	{ RINGVM_SET_MP_STATE, "SET_MP_STATE", K_VCPU, F_PTR,
	  { EFAULT, EINVAL, EINTR } },
};

static const int errs_enotty[] = { ENOTTY, 0 };
static const int errs_ebadf[] = { EBADF, 0 };

static const struct fz_ioctl *ioctl_find(unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fz_ioctls); i++)
		if (fz_ioctls[i].cmd == cmd)
			return &fz_ioctls[i];
	return NULL;
}

/* mmap, munmap, mprotect, mremap, madvise: the generic mm errnos. */
static const int errs_mm[] = {
	EINVAL, ENOMEM, EOVERFLOW, EPERM, EACCES, ENODEV, EBADF, EEXIST,
	EOPNOTSUPP, EFAULT, EAGAIN, 0
};

/* Netlink: the family's errnos and the generic netlink ones. */
static const int errs_nl[] = {
	EINVAL, ENOENT, EEXIST, EPERM, E2BIG, ENOSPC, ENOMEM, EMSGSIZE,
	EOPNOTSUPP, ERANGE, EBUSY, 0
};

/* sendmsg() itself: ENODATA for less than a header (netlink_sendmsg) */
static const int errs_nl_send[] = { EMSGSIZE, ENOBUFS, ENOMEM, ENODATA, 0 };

/* 3. The pool */

#define FZ_VMS		8
#define FZ_VCPUS	8
#define FZ_MAPS		12
#define FZ_NAMED	64	/* max_vms: every named VM fits */
#define FZ_NAMED_KEEP	8	/* more: a valid vm-del instead of vm-new */
#define FZ_MEM_LIMIT	(16ULL << 20)	/* more allocated: retire the VM */
#define FZ_ORPHAN_RUNS	2	/* bursts of a vCPU whose VM fd is closed */

/*
 * A runnable VM's region 0, [0, 2 MiB), mapped by the fuzzer and laid
 * out with page tables identity-mapping 1 GiB (2 MiB pages), a GDT, a
 * TSS, an IDT whose handlers HLT, and code at FZ_CODE.
 */
#define FZ_RAM		0x200000ULL
#define FZ_PML4		0x1000ULL
#define FZ_PDPT		0x2000ULL
#define FZ_PD		0x3000ULL
#define FZ_GDT		0x4000ULL
#define FZ_TSS		0x5000ULL
#define FZ_IDT		0x6000ULL
#define FZ_CODE		0x10000ULL
#define FZ_CODE_SIZE	0x1000ULL
#define FZ_HANDLERS	0x14000ULL
#define FZ_STACK	0x80000ULL
#define FZ_SEL_CODE64	0x08
#define FZ_SEL_DATA	0x10
#define FZ_SEL_CODE32	0x18
#define FZ_SEL_TSS	0x28

struct fz_vm {
	int fd;			/* -1: closed (the slot lives while users) */
	int users;		/* pool vCPUs of this VM */
	__u32 id;
	__u32 max_vcpus;
	__u32 nr_regions;
	bool destroyed;		/* we saw it destroyed (vm-del or info) */
	char name[RINGVM_NAME_MAX];
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS];
	__u8 *ram;		/* runnable: region 0 mapped, else NULL */
};

struct fz_vcpu {
	int fd;			/* -1: free */
	int vm;			/* index in vms[] */
	__u32 id;
	struct ringvm_run *run;	/* the run page, or NULL */
	bool shutdown;		/* SHUTDOWN sticks until SET_SREGS */
	unsigned int orphan_runs;
	__u32 last_exit;	/* for completing it */
};

struct fz_map {
	__u8 *addr;		/* NULL: free */
	size_t len;
	size_t safe;		/* bytes that may be touched */
	int prot;
};

struct fz_named {
	__u32 id;
	char name[RINGVM_NAME_MAX];
};

static struct {
	int devfd;
	int nlfd;		/* raw NETLINK_GENERIC socket */
	int nullfd;		/* /dev/null: not ours */
	__u16 family;
	__u32 arch;
	bool large_pages;	/* RINGVM_FEAT_LARGE_PAGES */
	__u32 nl_seq;
	struct fz_vm vms[FZ_VMS];
	struct fz_vcpu vcpus[FZ_VCPUS];
	struct fz_map maps[FZ_MAPS];
	struct fz_named named[FZ_NAMED];
	unsigned int nr_named;
	__u8 *arg;		/* FZ_ARG_PAGES pages, then a PROT_NONE page */
	__u8 *guard;
	__u8 *ro;		/* a read-only page */
	struct ringvm_sregs reset_sregs;	/* a new vCPU's */
	struct ringvm_regs reset_regs;
	bool have_reset;
	unsigned long alarms;
} pool;

#define FZ_ARG_PAGES	2
#define FZ_BAD_FD	1000	/* never open here */

static void pool_init(void)
{
	unsigned int i;

	memset(&pool, 0, sizeof(pool));
	pool.devfd = pool.nlfd = pool.nullfd = -1;
	for (i = 0; i < FZ_VMS; i++)
		pool.vms[i].fd = -1;
	for (i = 0; i < FZ_VCPUS; i++)
		pool.vcpus[i].fd = -1;
}

/* Close @fd of the pool as a counted call (close never fails here). */
static void fz_close(int fd, const char *what)
{
	long ret;

	call_begin(T_FD, "close(%d) %s", fd, what);
	ret = close(fd);
	call_end(ret, errno, errs_ebadf, WANT_OK);
}

static void fz_munmap(void *addr, size_t len)
{
	long ret;

	call_begin(T_MEM, "munmap(%p, %#zx)", addr, len);
	ret = munmap(addr, len);
	call_end(ret, errno, errs_mm, WANT_OK);
}

/* Free VM slot @i once neither its fd nor a vCPU needs it. */
static void vm_slot_maybe_free(int i)
{
	struct fz_vm *vm = &pool.vms[i];

	if (vm->fd >= 0 || vm->users)
		return;
	if (vm->ram)
		fz_munmap(vm->ram, FZ_RAM);
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
}

static void vm_close(int i)
{
	struct fz_vm *vm = &pool.vms[i];

	if (vm->fd >= 0) {
		fz_close(vm->fd, "vm");
		vm->fd = -1;
	}
	vm_slot_maybe_free(i);
}

static void vcpu_close(int i)
{
	struct fz_vcpu *v = &pool.vcpus[i];
	int vm = v->vm;

	if (v->fd < 0)
		return;
	if (v->run)
		fz_munmap(v->run, PAGE);
	fz_close(v->fd, "vcpu");
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	pool.vms[vm].users--;
	vm_slot_maybe_free(vm);
}

static void map_forget(int i)
{
	memset(&pool.maps[i], 0, sizeof(pool.maps[i]));
}

static void pool_close_all(void)
{
	unsigned int i;

	for (i = 0; i < FZ_VCPUS; i++)
		vcpu_close(i);
	for (i = 0; i < FZ_VMS; i++)
		vm_close(i);
	for (i = 0; i < FZ_MAPS; i++) {
		if (pool.maps[i].addr)
			fz_munmap(pool.maps[i].addr, pool.maps[i].len);
		map_forget(i);
	}
}

/* A random live slot, or -1. */
static int pick_vm(bool need_fd)
{
	int i, n = 0, pick = -1;

	for (i = 0; i < FZ_VMS; i++) {
		if (pool.vms[i].fd < 0 && (need_fd || !pool.vms[i].users))
			continue;
		if (rnd(++n) == 0)
			pick = i;
	}
	return pick;
}

static int pick_vcpu(void)
{
	int i, n = 0, pick = -1;

	for (i = 0; i < FZ_VCPUS; i++) {
		if (pool.vcpus[i].fd < 0)
			continue;
		if (rnd(++n) == 0)
			pick = i;
	}
	return pick;
}

static int free_vm_slot(void)
{
	int i;

	for (i = 0; i < FZ_VMS; i++)
		if (pool.vms[i].fd < 0 && !pool.vms[i].users &&
		    !pool.vms[i].ram)
			return i;
	return -1;
}

static int free_vcpu_slot(void)
{
	int i;

	for (i = 0; i < FZ_VCPUS; i++)
		if (pool.vcpus[i].fd < 0)
			return i;
	return -1;
}

static void vm_mark_destroyed(__u32 id, const char *name)
{
	int i;

	for (i = 0; i < FZ_VMS; i++) {
		struct fz_vm *vm = &pool.vms[i];

		if (vm->fd < 0 && !vm->users)
			continue;
		if ((id && vm->id == id) ||
		    (name && !strncmp(vm->name, name, RINGVM_NAME_MAX)))
			vm->destroyed = true;
	}
}

static void named_add(__u32 id, const char *name)
{
	if (pool.nr_named == FZ_NAMED)
		return;
	pool.named[pool.nr_named].id = id;
	snprintf(pool.named[pool.nr_named].name, RINGVM_NAME_MAX, "%s", name);
	pool.nr_named++;
}

static void named_del(__u32 id, const char *name)
{
	unsigned int i;

	for (i = 0; i < pool.nr_named; i++) {
		if ((id && pool.named[i].id == id) ||
		    (name && !strcmp(pool.named[i].name, name))) {
			pool.named[i] = pool.named[--pool.nr_named];
			return;
		}
	}
}

/* 4. Arguments */

/* Where a struct argument lives. */
enum ptr_kind {
	P_OK,		/* flush against the guard page: no byte more */
	P_MAPPED,	/* in a pool mapping (guest RAM, a run page) */
	P_STRADDLE,	/* partly in the guard page */
	P_RO,		/* a read-only page */
	P_NULL, P_KERNEL, P_NONCANON, P_TOP, P_GUARD,	/* never valid */
	NR_PTR_KINDS
};

static const char *const ptr_name[] = {
	"ok", "mapped", "straddle", "ro", "null", "kernel", "noncanon",
	"top", "guard",
};

static bool ptr_bad(int k)
{
	return k >= P_NULL;
}

/*
 * Choose where @buf's @size bytes go and copy them there: the argument
 * for the ioctl, and in *kind what it is.
 */
static unsigned long place_arg(const void *buf, size_t size, int *kind)
{
	static const unsigned long kernel[] = {
		0xffffffff81000000UL, 0xffff888000000000UL, 0xfffffffffffff000UL,
	};
	unsigned int r = rnd(100);
	__u8 *p;
	int i;

	if (r < 80) {
		*kind = P_OK;
	} else if (r < 84) {
		*kind = P_MAPPED;
		for (i = 0; i < FZ_MAPS; i++) {
			struct fz_map *m = &pool.maps[rnd(FZ_MAPS)];

			if (m->addr && m->safe >= size &&
			    (m->prot & (PROT_READ | PROT_WRITE)) ==
			    (PROT_READ | PROT_WRITE)) {
				p = m->addr + rnd((m->safe - size) / 8 + 1) * 8;
				memcpy(p, buf, size);
				return (unsigned long)p;
			}
		}
		*kind = P_OK;
	} else if (r < 87) {
		*kind = size > 1 ? P_STRADDLE : P_GUARD;
	} else if (r < 89) {
		*kind = P_RO;
	} else {
		*kind = P_NULL + rnd(5);
	}

	switch (*kind) {
	case P_OK:
		p = pool.guard - size;
		memcpy(p, buf, size);
		return (unsigned long)p;
	case P_STRADDLE: {
		size_t in = 1 + rnd(size - 1);	/* bytes before the guard */

		p = pool.guard - in;
		memcpy(p, buf, in);
		return (unsigned long)p;
	}
	case P_RO:
		return (unsigned long)pool.ro;
	case P_NULL:
		return rnd(2) ? 0 : 8 * rnd(512);
	case P_KERNEL:
		return kernel[rnd(ARRAY_SIZE(kernel))];
	case P_NONCANON:
		return rnd(2) ? 0x0000800000000000UL : 0x8000000000000000UL;
	case P_TOP:	/* above TASK_SIZE_MAX: no user page */
		return 0x7ffffffff000UL + rnd(PAGE / 8) * 8;
	default:
		return (unsigned long)pool.guard + rnd(PAGE / 8) * 8;
	}
}

/* A hot spot of a struct: a field worth mutating more often. */
struct hot {
	unsigned short off;
	unsigned char width;
};

/*
 * Change one field of @buf: an aligned word of 1, 2, 4 or 8 bytes, half
 * the time one of @hot.  Describes the change in @d.
 */
static void mutate(void *buf, size_t len, const struct hot *hot,
		   unsigned int nhot, char *d, size_t dlen)
{
	unsigned int w = 1U << rnd(4);
	size_t off;
	__u64 v = 0;

	if (nhot && rnd(2)) {
		const struct hot *h = &hot[rnd(nhot)];

		off = h->off;
		w = h->width;
	} else {
		while (w > len)
			w >>= 1;
		off = rnd(len / w) * w;
	}
	memcpy(&v, (__u8 *)buf + off, w);
	switch (rnd(4)) {
	case 0:
		v ^= 1ULL << rnd(w * 8);
		break;
	case 1:
		v += rnd(2) ? 1 : -1;
		break;
	default:
		v = rnd_val(w);
	}
	memcpy((__u8 *)buf + off, &v, w);
	snprintf(d + strlen(d), dlen - strlen(d), " [%zu:%u]=%#llx", off, w,
		 (unsigned long long)v);
}

static void random_bytes(void *buf, size_t len)
{
	__u8 *p = buf;
	size_t i;

	switch (rnd(4)) {
	case 0:
		memset(buf, 0, len);
		break;
	case 1:
		memset(buf, 0xff, len);
		break;
	default:
		for (i = 0; i < len; i++)
			p[i] = r64();
	}
}

#define DESC_LEN	192

/* 5. Targets */

static void on_alarm(int sig)
{
	(void)sig;
	pool.alarms++;
}

/*
 * The timer that bounds a guest that spins: the first SIGALRM after
 * @us, then one every @us in case one lands between two RUNs.  Without
 * SA_RESTART, and only armed around RUN bursts.
 */
static void timer_arm(unsigned int us)
{
	struct itimerval it = {
		.it_value = { .tv_usec = us },
		.it_interval = { .tv_usec = us },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static void timer_disarm(void)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
}

/* 5a. One ioctl: the argument is built, placed, the call checked. */

static const char *fd_desc(int fd, int kind)
{
	static char b[32];

	snprintf(b, sizeof(b), "%s fd %d", kind_name[kind], fd);
	return b;
}

static long do_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret;
}

static void check_fd_cloexec(long fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || !(fl & FD_CLOEXEC))
		fz_fail("new fd %ld has no FD_CLOEXEC", fd);
}

static void vm_adopt(long fd);
static void vcpu_adopt(long fd, int vm, __u32 id);

/*
 * The ioctl @io on @fd (of @kind) with @buf (@size bytes, or an integer
 * argument @iarg for the argument-less ones) placed by place_arg().
 * @want is what the request itself calls for if the pointer is good.
 * Returns the result (or -errno); a new fd is adopted by the pool or
 * closed.
 */
static long fz_ioctl(int fd, int kind, unsigned long cmd,
		     const struct fz_ioctl *io, const void *buf, size_t size,
		     unsigned long iarg, int want, int vm_slot,
		     const char *desc)
{
	const int *errs = errs_enotty;
	unsigned long arg = iarg;
	int pk = P_OK, target;
	long ret;
	int err;

	target = kind == K_VM ? T_VM : kind == K_VCPU ? T_VCPU : T_DEV;
	if (fd == FZ_BAD_FD) {
		errs = errs_ebadf;
		want = EBADF;
	} else if (!io || io->kind != kind) {
		want = ENOTTY;	/* not this fd's ioctl, or no ioctl */
	} else {
		errs = io->errs;
		if (io->flags & F_PTR) {
			arg = place_arg(buf, size, &pk);
			/* a vCPU without an APIC says ENXIO before that */
			if (ptr_bad(pk) && (cmd == RINGVM_GET_LAPIC ||
					    cmd == RINGVM_SET_LAPIC))
				want = WANT_FAIL;
			else if (ptr_bad(pk))
				want = EFAULT;
			else if (pk == P_RO && (io->flags & F_OUT))
				want = WANT_FAIL;
			else if (pk == P_RO || pk == P_STRADDLE)
				want = WANT_ANY;
		}
	}
	fz.last_pk = pk;
	call_begin(target, "ioctl(%s, %#lx %s, %s %#lx)%s", fd_desc(fd, kind),
		   cmd, io ? io->name : "?", ptr_name[pk], arg, desc);
	errno = 0;
	ret = do_ioctl(fd, cmd, arg);
	err = errno;
	call_end(ret, err, errs, want);
	if (ret < 0)
		return -err;
	if (io && io->kind == kind && (io->flags & F_FD)) {
		check_fd_cloexec(ret);
		if (cmd == RINGVM_CREATE_VCPU)
			vcpu_adopt(ret, vm_slot, iarg);
		else
			vm_adopt(ret);
	}
	return ret;
}

/* The struct an F_OUT call wrote, if it went to the P_OK place. */
static void *out_struct(size_t size)
{
	return pool.guard - size;
}

/* A plain, checked ioctl the fuzzer needs to succeed (GET before SET). */
static long fz_get(int fd, int kind, unsigned long cmd, void *buf,
		   size_t size)
{
	const struct fz_ioctl *io = ioctl_find(cmd);
	const int *errs = io->errs;
	long ret;
	int err;

	call_begin(kind == K_VM ? T_VM : T_VCPU, "ioctl(%s, %s)",
		   fd_desc(fd, kind), io->name);
	memset(buf, 0, size);
	ret = ioctl(fd, cmd, buf);
	err = errno;
	/* GET_LAPIC: ENXIO for a vCPU without an APIC */
	call_end(ret, err, errs, cmd == RINGVM_GET_LAPIC ? WANT_ANY : WANT_OK);
	return ret < 0 ? -err : ret;
}

static void vm_info_check(const struct fz_vm *vm,
			  const struct ringvm_vm_info *in)
{
	unsigned int i;

	if (in->nr_vcpus > in->max_vcpus)
		fz_fail("vm info: nr_vcpus %u > max_vcpus %u", in->nr_vcpus,
			in->max_vcpus);
	if (!in->nr_regions || in->nr_regions > RINGVM_MAX_MEM_REGIONS)
		fz_fail("vm info: nr_regions %u", in->nr_regions);
	if (!memchr(in->name, 0, sizeof(in->name)))
		fz_fail("vm info: name not terminated");
	if (in->flags & ~(RINGVM_VM_INFO_ANONYMOUS | RINGVM_VM_INFO_DESTROYED |
			  RINGVM_VM_INFO_LARGE_PAGES))
		fz_fail("vm info: unknown flags %#x", in->flags);
	for (i = 0; i < ARRAY_SIZE(in->reserved); i++)
		if (in->reserved[i])
			fz_fail("vm info: reserved[%u] = %#llx", i,
				(unsigned long long)in->reserved[i]);
	if (!vm)
		return;
	if (in->id != vm->id || in->max_vcpus != vm->max_vcpus ||
	    in->nr_regions != vm->nr_regions)
		fz_fail("vm info: id %u max_vcpus %u nr_regions %u, was %u %u %u",
			in->id, in->max_vcpus, in->nr_regions, vm->id,
			vm->max_vcpus, vm->nr_regions);
	if (vm->destroyed && !(in->flags & RINGVM_VM_INFO_DESTROYED))
		fz_fail("vm info: VM %u was deleted but is not DESTROYED",
			vm->id);
}

/* A new VM fd: into the pool if there is room, else closed. */
static void vm_adopt(long fd)
{
	struct ringvm_vm_info info;
	int i = free_vm_slot();
	struct fz_vm *vm;

	if (i < 0 || fz_get(fd, K_VM, RINGVM_GET_VM_INFO, &info,
			    sizeof(info)) < 0) {
		fz_close(fd, "vm (no room)");
		return;
	}
	vm_info_check(NULL, &info);
	vm = &pool.vms[i];
	memset(vm, 0, sizeof(*vm));
	vm->fd = fd;
	vm->id = info.id;
	vm->max_vcpus = info.max_vcpus;
	vm->nr_regions = info.nr_regions;
	vm->destroyed = info.flags & RINGVM_VM_INFO_DESTROYED;
	memcpy(vm->name, info.name, sizeof(vm->name));
	memcpy(vm->regions, info.regions, sizeof(vm->regions));
}

static struct ringvm_run *map_run(int fd)
{
	void *p;
	long ret;

	call_begin(T_MMAP, "mmap(run page of vcpu fd %d)", fd);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = p == MAP_FAILED ? -1 : 0;
	call_end(ret, errno, errs_mm, WANT_OK);
	return p == MAP_FAILED ? NULL : p;
}

static void vcpu_adopt(long fd, int vm, __u32 id)
{
	int i = free_vcpu_slot();
	struct fz_vcpu *v;

	if (i < 0 || vm < 0) {
		fz_close(fd, "vcpu (no room)");
		return;
	}
	v = &pool.vcpus[i];
	memset(v, 0, sizeof(*v));
	v->fd = fd;
	v->vm = vm;
	v->id = id;
	v->last_exit = NR_EXITS;
	pool.vms[vm].users++;
	if (!one_in(8))
		v->run = map_run(fd);
	if (!pool.have_reset &&
	    fz_get(fd, K_VCPU, RINGVM_GET_SREGS, &pool.reset_sregs,
		   sizeof(pool.reset_sregs)) == 0 &&
	    fz_get(fd, K_VCPU, RINGVM_GET_REGS, &pool.reset_regs,
		   sizeof(pool.reset_regs)) == 0)
		pool.have_reset = true;
}

/* 5b. The guest: memory layout, code, state */

static void vm_layout(struct fz_vm *vm)
{
	__u64 *pml4 = (__u64 *)(vm->ram + FZ_PML4);
	__u64 *pdpt = (__u64 *)(vm->ram + FZ_PDPT);
	__u64 *pd = (__u64 *)(vm->ram + FZ_PD);
	__u64 *gdt = (__u64 *)(vm->ram + FZ_GDT);
	__u64 *idt = (__u64 *)(vm->ram + FZ_IDT);
	unsigned int i;

	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = FZ_PDPT | 7;
	for (i = 0; i < 4; i++)
		pdpt[i] = FZ_PD | 7;
	for (i = 0; i < 512; i++)
		pd[i] = ((__u64)i << 21) | 0x87;
	memset(gdt, 0, PAGE);
	gdt[1] = 0x00af9b000000ffffULL;		/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;		/* data */
	gdt[3] = 0x00cf9b000000ffffULL;		/* 32-bit code */
	gdt[4] = 0x00009b000000ffffULL;		/* 16-bit code */
	gdt[5] = 0x67 | FZ_TSS << 16 | 0x89ULL << 40;	/* 64-bit TSS */
	for (i = 0; i < 256; i++) {
		__u64 off = FZ_HANDLERS + 16 * i;

		idt[2 * i] = (off & 0xffff) | (__u64)FZ_SEL_CODE64 << 16 |
			     0x8eULL << 40 | (off >> 16 & 0xffff) << 48;
		idt[2 * i + 1] = off >> 32;
		/* hlt; iretq */
		memcpy(vm->ram + off, "\xf4\x48\xcf", 3);
	}
}

struct insn {
	__u8 len;	/* opcode bytes */
	__u8 imm;	/* random bytes after them */
	__u8 b[4];
};

/* Instructions that exit, fault, or reach emulation and MMIO. */
static const struct insn fz_insns[] = {
	{ 1, 0, { 0xf4 } },			/* hlt */
	{ 2, 0, { 0x0f, 0xa2 } },		/* cpuid */
	{ 3, 0, { 0x0f, 0x01, 0xd9 } },		/* vmmcall */
	{ 3, 0, { 0x0f, 0x01, 0xc1 } },		/* vmcall */
	{ 2, 0, { 0x0f, 0x32 } },		/* rdmsr */
	{ 2, 0, { 0x0f, 0x30 } },		/* wrmsr */
	{ 1, 4, { 0xb8 } },			/* mov eax, imm32 */
	{ 1, 4, { 0xb9 } },			/* mov ecx, imm32 */
	{ 1, 4, { 0xba } },			/* mov edx, imm32 */
	{ 2, 8, { 0x48, 0xb8 } },		/* mov rax, imm64 */
	{ 2, 8, { 0x48, 0xbf } },		/* mov rdi, imm64 */
	{ 2, 8, { 0x48, 0xbe } },		/* mov rsi, imm64 */
	{ 2, 0, { 0x89, 0x07 } },		/* mov [rdi], eax */
	{ 2, 0, { 0x8b, 0x07 } },		/* mov eax, [rdi] */
	{ 3, 0, { 0x48, 0x89, 0x07 } },		/* mov [rdi], rax */
	{ 4, 0, { 0x48, 0x0f, 0xb6, 0x07 } },	/* movzx rax, byte [rdi] */
	{ 2, 8, { 0x48, 0xa3 } },		/* mov [moffs64], rax */
	{ 2, 0, { 0x01, 0x07 } },		/* add [rdi], eax */
	{ 2, 0, { 0x87, 0x07 } },		/* xchg [rdi], eax */
	{ 1, 1, { 0xe6 } },			/* out imm8, al */
	{ 1, 1, { 0xe4 } },			/* in al, imm8 */
	{ 1, 0, { 0xee } },			/* out dx, al */
	{ 1, 0, { 0xef } },			/* out dx, eax */
	{ 1, 0, { 0xed } },			/* in eax, dx */
	{ 2, 0, { 0x66, 0xed } },		/* in ax, dx */
	{ 2, 0, { 0xf3, 0x6c } },		/* rep insb */
	{ 2, 0, { 0xf3, 0x6f } },		/* rep outsd */
	{ 1, 0, { 0x6e } },			/* outsb */
	{ 3, 0, { 0x0f, 0x01, 0xd1 } },		/* xsetbv */
	{ 3, 0, { 0x0f, 0x01, 0xd0 } },		/* xgetbv */
	{ 3, 0, { 0x0f, 0x22, 0xc0 } },		/* mov cr0, rax */
	{ 3, 0, { 0x0f, 0x22, 0xd8 } },		/* mov cr3, rax */
	{ 3, 0, { 0x0f, 0x22, 0xe0 } },		/* mov cr4, rax */
	{ 4, 0, { 0x44, 0x0f, 0x22, 0xc0 } },	/* mov cr8, rax */
	{ 3, 0, { 0x0f, 0x20, 0xc0 } },		/* mov rax, cr0 */
	{ 2, 1, { 0x0f, 0x23 } },		/* mov drN, reg */
	{ 2, 1, { 0x0f, 0x21 } },		/* mov reg, drN */
	{ 1, 0, { 0xcc } },			/* int3 */
	{ 1, 1, { 0xcd } },			/* int imm8 */
	{ 2, 0, { 0x0f, 0x0b } },		/* ud2 */
	{ 2, 0, { 0x0f, 0x31 } },		/* rdtsc */
	{ 3, 0, { 0x0f, 0x01, 0xf9 } },		/* rdtscp */
	{ 2, 0, { 0x0f, 0x09 } },		/* wbinvd */
	{ 2, 0, { 0x0f, 0x08 } },		/* invd */
	{ 3, 0, { 0x0f, 0x01, 0xf8 } },		/* swapgs */
	{ 2, 0, { 0x0f, 0x05 } },		/* syscall */
	{ 2, 0, { 0x0f, 0x34 } },		/* sysenter */
	{ 2, 0, { 0x48, 0xcf } },		/* iretq */
	{ 1, 0, { 0xfa } },			/* cli */
	{ 1, 0, { 0xfb } },			/* sti */
	{ 2, 0, { 0xf3, 0x90 } },		/* pause */
	{ 2, 0, { 0xeb, 0xfe } },		/* jmp $ */
	{ 3, 0, { 0x0f, 0x01, 0x38 } },		/* invlpg [rax] */
	{ 3, 0, { 0x0f, 0x01, 0xdf } },		/* invlpga */
	{ 3, 0, { 0x0f, 0x01, 0x10 } },		/* lgdt [rax] */
	{ 3, 0, { 0x0f, 0x01, 0x18 } },		/* lidt [rax] */
	{ 3, 0, { 0x0f, 0x00, 0xd8 } },		/* ltr ax */
	{ 2, 0, { 0x8e, 0xd8 } },		/* mov ds, ax */
	{ 2, 0, { 0x8e, 0xd0 } },		/* mov ss, ax */
	{ 3, 0, { 0x0f, 0x01, 0xc8 } },		/* monitor */
	{ 3, 0, { 0x0f, 0x01, 0xc9 } },		/* mwait */
	{ 3, 0, { 0x0f, 0xae, 0x28 } },		/* xrstor [rax] */
	{ 3, 0, { 0x0f, 0xae, 0x10 } },		/* ldmxcsr [rax] */
	{ 3, 0, { 0x0f, 0x01, 0xd8 } },		/* vmrun */
	{ 3, 0, { 0x0f, 0x01, 0xda } },		/* vmload */
	{ 3, 0, { 0x0f, 0x01, 0xdc } },		/* stgi */
	{ 3, 0, { 0x0f, 0x01, 0xdd } },		/* clgi */
	{ 3, 0, { 0x0f, 0x01, 0xde } },		/* skinit */
	{ 4, 0, { 0xf3, 0x0f, 0xc7, 0x30 } },	/* vmxon [rax] */
	{ 3, 0, { 0x0f, 0x01, 0xc4 } },		/* vmxoff */
	{ 3, 0, { 0x0f, 0x78, 0xc0 } },		/* vmread */
	{ 3, 0, { 0x0f, 0x01, 0xd4 } },		/* vmfunc */
	{ 1, 0, { 0x9d } },			/* popf */
	{ 2, 0, { 0xf3, 0xa4 } },		/* rep movsb */
	{ 2, 0, { 0xf3, 0xaa } },		/* rep stosb */
	{ 2, 0, { 0xff, 0xe0 } },		/* jmp rax */
	{ 1, 0, { 0xc3 } },			/* ret */
	{ 1, 1, { 0x75 } },			/* jnz rel8 */
	{ 3, 0, { 0xc5, 0xf8, 0x77 } },		/* vzeroupper */
	{ 2, 0, { 0xd9, 0xe8 } },		/* fld1 */
};

static const __u8 fz_prefixes[] = {
	0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x26, 0x64, 0x65, 0xf0, 0x48, 0x41,
};

/* Addresses worth pointing at: RAM, its end, MMIO, tables. */
static const __u64 fz_addrs[] = {
	FZ_CODE, FZ_GDT, FZ_PML4, FZ_RAM - 8, FZ_RAM, FZ_RAM + PAGE,
	0xc0000000, 0xfee00000, 0xffff0000, 0x3ffff000, 0x40000000,
	0x8000000000ULL, 0xfffffffffffffff8ULL,
};

/* Fill the code area: instructions from the list, or random bytes. */
static void gen_code(__u8 *code)
{
	unsigned int n = 0, i, len = 16 + rnd(256);
	__u64 imm;

	if (one_in(4)) {
		for (i = 0; i < len; i++)
			code[i] = r64();
		return;
	}
	while (n + 16 < FZ_CODE_SIZE - 8 && n < len) {
		const struct insn *in = &fz_insns[rnd(ARRAY_SIZE(fz_insns))];

		if (one_in(10))
			code[n++] = fz_prefixes[rnd(ARRAY_SIZE(fz_prefixes))];
		memcpy(code + n, in->b, in->len);
		n += in->len;
		if (in->imm == 8 && rnd(2))
			imm = fz_addrs[rnd(ARRAY_SIZE(fz_addrs))] + 8 * rnd(4);
		else
			imm = in->imm == 1 ? r64() : rnd_val(in->imm);
		memcpy(code + n, &imm, in->imm);
		n += in->imm;
	}
	if (rnd(2)) {	/* jmp rel32 back to the start */
		__s32 rel = -(__s32)(n + 5);

		code[n++] = 0xe9;
		memcpy(code + n, &rel, 4);
	}
}

static void seg(struct ringvm_segment *s, __u16 sel, __u64 base,
		__u32 limit, __u8 type, __u8 sys, __u8 db, __u8 l, __u8 g)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->present = 1;
	s->s = sys;
	s->db = db;
	s->l = l;
	s->g = g;
}

enum { MODE_REAL, MODE_RESET, MODE_PROT32, MODE_LONG, NR_MODES };

/* Segments, tables and control registers of @mode on top of @sr. */
static void sregs_mode(struct ringvm_sregs *sr, int mode)
{
	struct ringvm_segment *data[] = {
		&sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
	};
	unsigned int i;

	switch (mode) {
	case MODE_REAL:
		seg(&sr->cs, FZ_CODE >> 4, FZ_CODE, 0xffff, 0xb, 1, 0, 0, 0);
		for (i = 0; i < ARRAY_SIZE(data); i++)
			seg(data[i], 0, 0, 0xffff, 3, 1, 0, 0, 0);
		seg(&sr->tr, 0, 0, 0xffff, 0xb, 0, 0, 0, 0);
		seg(&sr->ldt, 0, 0, 0xffff, 2, 0, 0, 0, 0);
		sr->gdt.base = 0;
		sr->gdt.limit = 0xffff;
		sr->idt.base = 0;
		sr->idt.limit = 0x3ff;
		sr->cr0 = 0x10;
		sr->cr4 = 0;
		sr->efer = 0;
		break;
	case MODE_PROT32:
	case MODE_LONG:
		if (mode == MODE_LONG)
			seg(&sr->cs, FZ_SEL_CODE64, 0, 0xffffffff, 0xb, 1, 0,
			    1, 1);
		else
			seg(&sr->cs, FZ_SEL_CODE32, 0, 0xffffffff, 0xb, 1, 1,
			    0, 1);
		for (i = 0; i < ARRAY_SIZE(data); i++)
			seg(data[i], FZ_SEL_DATA, 0, 0xffffffff, 3, 1, 1, 0,
			    1);
		seg(&sr->tr, FZ_SEL_TSS, FZ_TSS, 0x67, 0xb, 0, 0, 0, 0);
		seg(&sr->ldt, 0, 0, 0, 2, 0, 0, 0, 0);
		sr->ldt.unusable = 1;
		sr->ldt.present = 0;
		sr->gdt.base = FZ_GDT;
		sr->gdt.limit = 0x37;
		sr->idt.base = FZ_IDT;
		sr->idt.limit = one_in(4) ? 0 : 0xfff;
		sr->cr0 = 0x31;				/* PE ET NE */
		sr->cr4 = 0;
		sr->efer = 0;
		if (mode == MODE_LONG) {
			sr->cr0 |= 0x80010000;		/* PG WP */
			sr->cr3 = FZ_PML4;
			sr->cr4 = 0x620;		/* PAE OSFXSR OSXMMEXCPT */
			if (host_has_xsave() && rnd(2))
				sr->cr4 |= X86_CR4_OSXSAVE;
			sr->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
		}
		break;
	default:	/* MODE_RESET: as the vCPU was made */
		*sr = pool.reset_sregs;
	}
}

/*
 * Quirk: QEMU 7.2's TCG stops making progress - the host CPU running
 * the VMRUN takes no interrupt and answers no NMI again - on a VMRUN
 * with EFER.LME set in real mode (found here: seed 0x72696e67766d2146,
 * steps 14234 and 70897, real-mode vCPUs with EFER 0x100).  The state
 * is architectural; on TCG the module refuses to enter it (FAIL_ENTRY,
 * svm/exit.c), which the SET_MSRS and guest WRMSR routes here still
 * exercise.  Detection: RCU stalls on the CPU that ran the RUN, and the
 * watchdog's report.  Workaround: under QEMU's SVM the sregs this
 * fuzzer sets have no LME without PG, the neighbouring states nothing
 * has shown to be safe on TCG.
 */
static bool fz_tcg_svm;

static void sregs_tcg_safe(struct ringvm_sregs *sr)
{
	if (fz_tcg_svm && (sr->efer & EFER_LME) && !(sr->cr0 & X86_CR0_PG))
		sr->efer &= ~(EFER_LME | EFER_LMA);
}

/* A change the checks let through: each field within its range. */
static void sregs_mutate_legal(struct ringvm_sregs *sr, char *d, size_t dlen)
{
	struct ringvm_segment *segs[] = {
		&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
		&sr->tr, &sr->ldt,
	};
	struct ringvm_segment *s = segs[rnd(ARRAY_SIZE(segs))];
	unsigned int f = rnd(20);

	switch (f) {
	case 0: s->base = rnd_val(8); break;
	case 1: s->limit = rnd_val(4); break;
	case 2: s->selector = rnd_val(2); break;
	case 3: s->type = rnd(16); break;
	case 4: s->present ^= 1; break;
	case 5: s->dpl = rnd(4); break;
	case 6: s->db ^= 1; break;
	case 7: s->s ^= 1; break;
	case 8: s->l ^= 1; break;
	case 9: s->g ^= 1; break;
	case 10: s->unusable ^= 1; break;
	case 11: sr->cr0 ^= 1ULL << rnd(32); break;
	case 12: sr->cr3 = rnd(2) ? rnd_val(8) : sr->cr3 ^ 1ULL << rnd(64);
		break;
	case 13: sr->cr4 ^= 1ULL << rnd(26); break;
	case 14: sr->efer ^= 1ULL << rnd(16); break;
	case 15: sr->cr8 = rnd(16); break;
	case 16: sr->cr2 = rnd_val(8); break;
	case 17: sr->gdt.base = rnd_val(8); sr->gdt.limit = rnd_val(2); break;
	case 18: sr->idt.base = rnd_val(8); sr->idt.limit = rnd_val(2); break;
	default: sr->cr0 = rnd_val(4); break;
	}
	sregs_tcg_safe(sr);
	snprintf(d + strlen(d), dlen - strlen(d), " legal#%u", f);
}

/* 5c. /dev/ringvm */

/* A valid CREATE_VM: small regions, maybe a name. */
static void gen_create_vm(struct ringvm_create_vm *c)
{
	__u64 gpa = 0;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->nr_regions = 1 + rnd(3);
	c->max_vcpus = rnd(5);
	for (i = 0; i < c->nr_regions; i++) {
		gpa += PAGE * rnd(64);
		c->regions[i].gpa = gpa;
		c->regions[i].size = PAGE * (1 + rnd(64));
		gpa += c->regions[i].size;
	}
	if (one_in(3))
		snprintf(c->name, sizeof(c->name), "fz-anon-%u", rnd(8));
	if (one_in(4))
		c->flags = RINGVM_VM_LARGE_PAGES;
}

static __u32 known_vm_id(void)
{
	int i = pick_vm(true);

	if (i >= 0 && rnd(2))
		return pool.vms[i].id;
	if (pool.nr_named && rnd(2))
		return pool.named[rnd(pool.nr_named)].id;
	return rnd_val(4);
}

static const struct hot hot_caps[] = {
	{ 0, 4 }, { 36, 4 }, { 40, 8 }, { 80, 8 },
};
static const struct hot hot_create[] = {
	{ 0, 4 }, { 4, 4 }, { 8, 4 }, { 12, 4 }, { 16, 8 }, { 40, 8 },
	{ 48, 8 }, { 56, 8 }, { 64, 8 }, { 176, 8 }, { 200, 8 },
};
static const struct hot hot_open[] = {
	{ 0, 4 }, { 4, 4 }, { 8, 1 }, { 39, 1 }, { 40, 8 }, { 48, 8 },
};

/*
 * A random command for an fd of @kind: its own valid ones mostly, and
 * the same numbers with the wrong size or direction, another kind's,
 * unknown numbers and foreign types.  Returns the table entry, or NULL
 * when no ringvm ioctl has that command.
 */
static unsigned long pick_cmd(int kind, const struct fz_ioctl **iop)
{
	static const unsigned long foreign[] = {
		0xae00,			/* KVM_GET_API_VERSION */
		0xae80,			/* KVM_RUN */
		0x5401,			/* TCGETS */
		0xc008ae05,		/* KVM_GET_SUPPORTED_CPUID */
	};
	const struct fz_ioctl *io;
	unsigned int r = rnd(100), n = 0;
	unsigned long cmd;

	do {
		io = &fz_ioctls[rnd(ARRAY_SIZE(fz_ioctls))];
	} while (r < 65 && io->kind != kind && ++n < 64);

	if (r < 65) {
		cmd = io->cmd;
	} else if (r < 75) {	/* wrong size or direction */
		unsigned int dir = _IOC_DIR(io->cmd), size = _IOC_SIZE(io->cmd);

		if (rnd(2))
			dir ^= 1 + rnd(3);
		else
			size += rnd(2) ? 8 : size >= 8 ? -8 : 8;
		cmd = _IOC(dir & 3, RINGVMIO, _IOC_NR(io->cmd), size & 0x3fff);
	} else if (r < 85) {	/* another kind's, or this one's */
		cmd = io->cmd;
	} else if (r < 95) {
		cmd = _IOC(rnd(4), RINGVMIO, rnd(0x40), rnd(2) ? rnd(4097) :
			   8 * rnd(512));
	} else {
		cmd = foreign[rnd(ARRAY_SIZE(foreign))];
	}
	*iop = ioctl_find(cmd);
	return cmd;
}

static const int errs_none[] = { 0 };

static void step_dev(void)
{
	union {
		struct ringvm_caps caps;
		struct ringvm_create_vm create;
		struct ringvm_open_vm open;
		__u8 raw[4096];
	} u;
	char d[DESC_LEN] = "";
	const struct fz_ioctl *io;
	unsigned long cmd = pick_cmd(K_DEV, &io), iarg = 0;
	int fd = pool.devfd, kind = K_DEV, want = WANT_ANY;
	size_t size = _IOC_SIZE(cmd);
	unsigned int mode = rnd(10);
	long ret;

	if (one_in(50)) {
		fd = FZ_BAD_FD;
	} else if (one_in(50)) {
		fd = pool.nullfd;
		kind = K_OTHER;
	}
	memset(&u, 0, sizeof(u));
	switch (io && io->kind == K_DEV ? cmd : 0) {
	case RINGVM_GET_API_VERSION:
		iarg = rnd(2) ? 0 : rnd_val(8);
		want = iarg ? EINVAL : WANT_OK;
		break;
	case RINGVM_GET_CAPS:
		if (mode < 5) {
			want = WANT_OK;
		} else if (mode < 9) {
			mutate(&u.caps, sizeof(u.caps), hot_caps,
			       ARRAY_SIZE(hot_caps), d, sizeof(d));
		} else {
			random_bytes(&u.caps, sizeof(u.caps));
		}
		want = u.caps.flags ||
		       memcmp(u.caps.reserved, (__u64[6]){ 0 },
			      sizeof(u.caps.reserved)) ? EINVAL : WANT_OK;
		break;
	case RINGVM_CREATE_VM:
		gen_create_vm(&u.create);
		if (mode >= 4 && mode < 9) {
			unsigned int k = 1 + rnd(2);

			while (k--)
				mutate(&u.create, sizeof(u.create), hot_create,
				       ARRAY_SIZE(hot_create), d, sizeof(d));
		} else if (mode == 9) {
			random_bytes(&u.create, sizeof(u.create));
		}
		if ((u.create.flags & ~RINGVM_VM_LARGE_PAGES) || u.create.pad ||
		    memcmp(u.create.reserved, (__u64[4]){ 0 },
			   sizeof(u.create.reserved)) ||
		    !memchr(u.create.name, 0, sizeof(u.create.name)) ||
		    u.create.nr_regions > RINGVM_MAX_MEM_REGIONS ||
		    !u.create.nr_regions)
			want = EINVAL;
		break;
	case RINGVM_OPEN_VM:
		if (rnd(2)) {
			u.open.id = known_vm_id();
		} else {
			int i = pick_vm(true);

			if (i >= 0 && rnd(2))
				memcpy(u.open.name, pool.vms[i].name,
				       sizeof(u.open.name));
			else if (pool.nr_named)
				memcpy(u.open.name,
				       pool.named[rnd(pool.nr_named)].name,
				       sizeof(u.open.name));
			else
				strcpy(u.open.name, "fz-none");
		}
		if (mode >= 5 && mode < 9)
			mutate(&u.open, sizeof(u.open), hot_open,
			       ARRAY_SIZE(hot_open), d, sizeof(d));
		else if (mode == 9)
			random_bytes(&u.open, sizeof(u.open));
		if (u.open.flags || u.open.reserved[0] || u.open.reserved[1] ||
		    !memchr(u.open.name, 0, sizeof(u.open.name)) ||
		    !u.open.id == !u.open.name[0])
			want = EINVAL;
		break;
	default:
		random_bytes(u.raw, sizeof(u.raw));
		iarg = rnd_val(8);
	}
	if (size > sizeof(u))
		size = sizeof(u);
	ret = fz_ioctl(fd, kind, cmd, io, &u, size, iarg, want, -1, d);
	if (cmd == RINGVM_GET_API_VERSION && kind == K_DEV && ret >= 0 &&
	    ret != RINGVM_API_VERSION)
		fz_fail("API version %ld", ret);
	if (cmd == RINGVM_GET_CAPS && kind == K_DEV && ret == 0 &&
	    fz.last_pk == P_OK) {
		const struct ringvm_caps *c = out_struct(sizeof(*c));

		if (c->arch != pool.arch || c->flags || !c->tsc_khz ||
		    memcmp(c->reserved, (__u64[6]){ 0 }, sizeof(c->reserved)))
			fz_fail("caps: arch %u flags %#x tsc_khz %u", c->arch,
				c->flags, c->tsc_khz);
	}
}

/* 5d. VM fds */

static void gen_cpuid(struct ringvm_cpuid *c)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->nent = rnd(RINGVM_MAX_CPUID_ENTRIES + 1);
	for (i = 0; i < c->nent; i++) {
		struct ringvm_cpuid_entry *e = &c->entries[i];

		e->function = rnd(4) ? rnd(0x20) :
			      rnd(2) ? 0x80000000 + rnd(0x20) : rnd_val(4);
		e->index = rnd(4);
		e->flags = rnd(2) ? RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
		e->eax = r64();
		e->ebx = r64();
		e->ecx = r64();
		e->edx = r64();
	}
}

static const struct hot hot_cpuid[] = {
	{ 0, 4 }, { 4, 4 }, { 16, 4 }, { 36, 4 }, { 44, 4 }, { 68, 4 },
};

static void step_vm(void)
{
	union {
		struct ringvm_cpuid cpuid;
		struct ringvm_vm_info info;
		struct ringvm_enable en;
		__u8 raw[4096];
	} u;
	char d[DESC_LEN] = "";
	const struct fz_ioctl *io;
	unsigned long cmd = pick_cmd(K_VM, &io), iarg = 0;
	int i = pick_vm(true), want = WANT_ANY, fd, kind = K_VM;
	unsigned int mode = rnd(10);
	size_t size = _IOC_SIZE(cmd);
	struct fz_vm *vm;
	long ret;

	if (i < 0)
		return;
	vm = &pool.vms[i];
	fd = vm->fd;
	if (one_in(50)) {
		fd = pool.devfd;	/* a VM ioctl on the device */
		kind = K_DEV;
	}
	memset(&u, 0, sizeof(u));
	switch (io && io->kind == K_VM ? cmd : 0) {
	case RINGVM_CREATE_VCPU:
		iarg = rnd(4) ? rnd(vm->max_vcpus + 2) : rnd_val(8);
		if (iarg >= vm->max_vcpus)
			want = EINVAL;
		else if (vm->destroyed)
			want = WANT_FAIL;
		break;
	case RINGVM_SET_CPUID:
		gen_cpuid(&u.cpuid);
		if (mode >= 5 && mode < 9)
			mutate(&u.cpuid, sizeof(u.cpuid), hot_cpuid,
			       ARRAY_SIZE(hot_cpuid), d, sizeof(d));
		else if (mode == 9)
			random_bytes(&u.cpuid, sizeof(u.cpuid));
		if (u.cpuid.flags || u.cpuid.nent > RINGVM_MAX_CPUID_ENTRIES) {
			want = EINVAL;
		} else {
			unsigned int e;

			want = WANT_OK;
			for (e = 0; e < u.cpuid.nent; e++)
				if (u.cpuid.entries[e].pad ||
				    u.cpuid.entries[e].flags &
				    ~RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX)
					want = EINVAL;
		}
		break;
	case RINGVM_GET_VM_INFO:
		if (mode >= 7)
			random_bytes(&u.info, sizeof(u.info));
		want = u.info.flags ? EINVAL : WANT_OK;
		break;
	case RINGVM_ENABLE:
		switch (rnd(3)) {
		case 0:
			u.en.cap = RINGVM_ENABLE_MSR_EXIT;
			u.en.args[0] = rnd(2);
			break;
		case 1:
			u.en.cap = RINGVM_ENABLE_PM_TIMER;
			u.en.args[0] = rnd(2) ? 0x608 : rnd_val(2);
			break;
		default:
			u.en.cap = RINGVM_ENABLE_LAPIC;
			u.en.args[0] = rnd(2) ? RINGVM_LAPIC_EOI_EXIT : 0;
			break;
		}
		if (mode >= 5 && mode < 9)
			mutate(&u.en, sizeof(u.en), NULL, 0, d, sizeof(d));
		else if (mode == 9)
			random_bytes(&u.en, sizeof(u.en));
		want = u.en.flags || u.en.args[1] || u.en.args[2] ||
		       u.en.args[3] ||
		       (u.en.cap == RINGVM_ENABLE_MSR_EXIT ?
			u.en.args[0] > 1 :
			u.en.cap == RINGVM_ENABLE_PM_TIMER ?
			u.en.args[0] > 0xffff :
			u.en.cap == RINGVM_ENABLE_LAPIC ?
			(u.en.args[0] & ~RINGVM_LAPIC_FLAGS) != 0 : true) ?
		       EINVAL : WANT_OK;
		/* the APIC: EBUSY once the VM has a vCPU */
		if (u.en.cap == RINGVM_ENABLE_LAPIC && want == WANT_OK)
			want = WANT_ANY;
		break;
	default:
		random_bytes(u.raw, sizeof(u.raw));
		iarg = rnd_val(8);
	}
	if (size > sizeof(u))
		size = sizeof(u);
	ret = fz_ioctl(fd, kind, cmd, io, &u, size, iarg, want, i, d);
	if (cmd == RINGVM_GET_VM_INFO && kind == K_VM && ret == 0 &&
	    fz.last_pk == P_OK)
		vm_info_check(vm, out_struct(sizeof(u.info)));
}

/* 5e. vCPU fds: state */

static const __u32 fz_msrs[] = {
	0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0xfe, 0x10a, 0x174, 0x175,
	0x176, 0x1a0, 0x1d9, 0x277, 0x2ff, 0x480, 0x6e0, 0x802, 0x830,
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010114,
	0xc0010117, 0x40000000, 0xffffffff,
};

static void gen_msrs(struct ringvm_msrs *m)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->nmsrs = rnd(RINGVM_MAX_MSR_ENTRIES + 1);
	for (i = 0; i < m->nmsrs; i++) {
		m->entries[i].index = rnd(4) ? fz_msrs[rnd(ARRAY_SIZE(fz_msrs))]
					     : rnd_val(4);
		m->entries[i].data = rnd_val(8);
	}
}

static const struct hot hot_msrs[] = {
	{ 0, 4 }, { 4, 4 }, { 8, 4 }, { 12, 4 }, { 16, 8 },
};
static const struct hot hot_xsave[] = {
	{ 0, 2 }, { 2, 2 }, { 4, 1 }, { 24, 4 }, { 28, 4 }, { 512, 8 },
	{ 520, 8 }, { 528, 8 }, { 536, 8 }, { 568, 8 }, { 576, 8 },
};
static const struct hot hot_debugregs[] = {
	{ 0, 8 }, { 24, 8 }, { 32, 8 }, { 40, 8 }, { 48, 8 }, { 120, 8 },
};

/* The SET for @get's state: GET it, change it, SET it. */
static unsigned long set_of(unsigned long get)
{
	switch (get) {
	case RINGVM_GET_REGS: return RINGVM_SET_REGS;
	case RINGVM_GET_SREGS: return RINGVM_SET_SREGS;
	case RINGVM_GET_DEBUGREGS: return RINGVM_SET_DEBUGREGS;
	case RINGVM_GET_MSRS: return RINGVM_SET_MSRS;
	case RINGVM_GET_XSAVE: return RINGVM_SET_XSAVE;
	case RINGVM_GET_XCRS: return RINGVM_SET_XCRS;
	case RINGVM_GET_EVENTS: return RINGVM_SET_EVENTS;
	case RINGVM_GET_LAPIC: return RINGVM_SET_LAPIC;
	case RINGVM_GET_MP_STATE: return RINGVM_SET_MP_STATE;
	}
	return 0;
}

static unsigned long get_of(unsigned long set)
{
	static const unsigned long gets[] = {
		RINGVM_GET_REGS, RINGVM_GET_SREGS, RINGVM_GET_DEBUGREGS,
		RINGVM_GET_MSRS, RINGVM_GET_XSAVE, RINGVM_GET_XCRS,
		RINGVM_GET_EVENTS, RINGVM_GET_LAPIC, RINGVM_GET_MP_STATE,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gets); i++)
		if (set_of(gets[i]) == set)
			return gets[i];
	return 0;
}

/*
 * Canonical at the host's linear-address width (57 bits under LA57),
 * the width the module checks DR0-3 against: "NN bits virtual" in
 * /proc/cpuinfo, read once.
 */
static bool canonical(__u64 a)
{
	static int vbits;
	char line[256];
	int phys;
	FILE *f;

	if (!vbits) {
		vbits = 48;
		f = fopen("/proc/cpuinfo", "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "address sizes : %d bits physical, "
				   "%d bits virtual", &phys, &vbits) == 2)
				break;
		if (f)
			fclose(f);
	}
	return (__u64)((__s64)(a << (64 - vbits)) >> (64 - vbits)) == a;
}

static bool segment_ok(const struct ringvm_segment *s)
{
	return !s->pad && s->type < 16 && s->present < 2 && s->dpl < 4 &&
	       s->db < 2 && s->s < 2 && s->l < 2 && s->g < 2 && s->avl < 2 &&
	       s->unusable < 2;
}

/* What SET of @buf must give: EINVAL for what the checks refuse. */
static int set_want(unsigned long cmd, const void *buf, bool pristine)
{
	switch (cmd) {
	case RINGVM_SET_REGS: {
		const struct ringvm_regs *r = buf;

		return r->rflags & ~0x3f7fd7ULL ? EINVAL : WANT_OK;
	}
	case RINGVM_SET_SREGS: {
		const struct ringvm_sregs *s = buf;
		const struct ringvm_segment *segs[] = {
			&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss,
			&s->tr, &s->ldt,
		};
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(segs); i++)
			if (!segment_ok(segs[i]))
				return EINVAL;
		for (i = 0; i < 3; i++)
			if (s->gdt.pad[i] || s->idt.pad[i])
				return EINVAL;
		for (i = 0; i < 4; i++)
			if (s->reserved[i])
				return EINVAL;
		if (s->cr8 > 15 || s->cr0 >> 32)
			return EINVAL;
		/* CR4 and EFER: the backend knows the reserved bits */
		return pristine ? WANT_OK : WANT_ANY;
	}
	case RINGVM_SET_DEBUGREGS: {
		const struct ringvm_debugregs *dr = buf;
		unsigned int i;

		if (dr->flags || (dr->dr6 | dr->dr7) >> 32)
			return EINVAL;
		for (i = 0; i < 9; i++)
			if (dr->reserved[i])
				return EINVAL;
		for (i = 0; i < 4; i++)
			if (!canonical(dr->db[i]))
				return EINVAL;
		return WANT_OK;
	}
	case RINGVM_SET_MSRS:
	case RINGVM_GET_MSRS: {
		const struct ringvm_msrs *m = buf;
		unsigned int i;

		if (m->pad || m->nmsrs > RINGVM_MAX_MSR_ENTRIES)
			return EINVAL;
		for (i = 0; i < m->nmsrs; i++)
			if (m->entries[i].reserved)
				return EINVAL;
		return WANT_OK;
	}
	case RINGVM_SET_XSAVE:
	case RINGVM_SET_XCRS:
	case RINGVM_SET_EVENTS:
	case RINGVM_SET_LAPIC:
		return pristine ? WANT_OK : WANT_ANY;
	case RINGVM_SET_MP_STATE: {
		const struct ringvm_mp_state *mp = buf;

		if (mp->flags || mp->state > RINGVM_MP_WAIT_SIPI)
			return EINVAL;
		return pristine ? WANT_OK : WANT_ANY;
	}
	}
	return WANT_ANY;
}

/* A few state changes a guest can run with, beside the raw mutations. */
static void regs_mutate(struct ringvm_regs *r, char *d, size_t dlen)
{
	__u64 *gprs = &r->rax;
	unsigned int f = rnd(4);

	switch (f) {
	case 0:
		r->rip = rnd(2) ? FZ_CODE + rnd(64) : rnd_val(8);
		break;
	case 1:
		r->rflags = (rnd_val(8) & 0x3f7fd7ULL) | 2;
		break;
	case 2:
		r->rsp = rnd(2) ? FZ_STACK - 8 * rnd(64) : rnd_val(8);
		break;
	default:
		gprs[rnd(16)] = rnd_val(8);
	}
	snprintf(d + strlen(d), dlen - strlen(d), " regs#%u", f);
}

static void xcrs_gen(struct ringvm_xcrs *x)
{
	static const __u64 vals[] = { 1, 3, 7, 0xe7, 5, 0, 2, 0x1f };

	memset(x, 0, sizeof(*x));
	x->xcr0 = rnd(4) ? vals[rnd(ARRAY_SIZE(vals))] : rnd_val(8);
}

/*
 * SET @cmd on vCPU @vi: from its GET (a round trip that must succeed
 * when unchanged) with mutations, or random.
 */
static void vcpu_set(int vi, unsigned long cmd)
{
	static union {
		struct ringvm_regs regs;
		struct ringvm_sregs sregs;
		struct ringvm_debugregs dr;
		struct ringvm_msrs msrs;
		struct ringvm_xsave xsave;
		struct ringvm_xcrs xcrs;
		struct ringvm_lapic_state lapic;
		struct ringvm_mp_state mp;
	} u;
	struct fz_vcpu *v = &pool.vcpus[vi];
	const struct fz_ioctl *io = ioctl_find(cmd);
	size_t size = _IOC_SIZE(cmd);
	char d[DESC_LEN] = "";
	unsigned int mode = rnd(10), k;
	bool pristine = true;
	int want;
	long ret;

	if (cmd == RINGVM_SET_MSRS) {
		gen_msrs(&u.msrs);
	} else if (cmd == RINGVM_SET_XCRS && rnd(2)) {
		xcrs_gen(&u.xcrs);
		pristine = false;
	} else if (fz_get(v->fd, K_VCPU, get_of(cmd), &u, size) < 0) {
		return;
	}
	if (cmd == RINGVM_SET_REGS && mode < 5) {
		for (k = rnd(3); k; k--)
			regs_mutate(&u.regs, d, sizeof(d));
	} else if (cmd == RINGVM_SET_SREGS && mode < 5) {
		if (pool.have_reset && rnd(2)) {
			sregs_mode(&u.sregs, rnd(NR_MODES));
			strcat(d, " mode");
		}
		for (k = rnd(3); k; k--)
			sregs_mutate_legal(&u.sregs, d, sizeof(d));
		pristine = !strstr(d, "legal");
	} else if (mode < 8) {
		const struct hot *hot = NULL;
		unsigned int nhot = 0;

		if (cmd == RINGVM_SET_XSAVE) {
			hot = hot_xsave;
			nhot = ARRAY_SIZE(hot_xsave);
		} else if (cmd == RINGVM_SET_MSRS) {
			hot = hot_msrs;
			nhot = ARRAY_SIZE(hot_msrs);
		} else if (cmd == RINGVM_SET_DEBUGREGS) {
			hot = hot_debugregs;
			nhot = ARRAY_SIZE(hot_debugregs);
		}
		if (mode > 2) {
			for (k = 1 + rnd(2); k; k--)
				mutate(&u, size, hot, nhot, d, sizeof(d));
			pristine = false;
		}
	} else {
		random_bytes(&u, size);
		strcat(d, " random");
		pristine = false;
	}
	want = set_want(cmd, &u, pristine);
	ret = fz_ioctl(v->fd, K_VCPU, cmd, io, &u, size, 0, want, v->vm, d);
	if (cmd == RINGVM_SET_SREGS && ret == 0)
		v->shutdown = false;
	if (cmd == RINGVM_SET_MSRS && ret > (long)u.msrs.nmsrs)
		fz_fail("SET_MSRS processed %ld of %u", ret, u.msrs.nmsrs);
}

/*
 * RINGVM_INTERRUPT with any vector (below 32: EINVAL) or RINGVM_NMI; a
 * second before the guest took the first is EINVAL too, so either may
 * fail, but with nothing else.
 */
static void vcpu_inject(int vi, unsigned long cmd)
{
	struct fz_vcpu *v = &pool.vcpus[vi];
	struct ringvm_interrupt irq = { .vector = rnd(256) };
	char d[DESC_LEN];

	if (one_in(20))
		irq.flags = 1U << rnd(32);
	snprintf(d, sizeof(d), " vector %u flags %#x", irq.vector, irq.flags);
	if (cmd == RINGVM_NMI)
		fz_ioctl(v->fd, K_VCPU, cmd, ioctl_find(cmd), NULL, 0, 0,
			 WANT_ANY, v->vm, "");
	else
		fz_ioctl(v->fd, K_VCPU, cmd, ioctl_find(cmd), &irq,
			 sizeof(irq), 0,
			 irq.vector < 32 || irq.flags ? EINVAL : WANT_ANY,
			 v->vm, d);
}

static void step_vcpu(void)
{
	static const unsigned long sets[] = {
		RINGVM_SET_REGS, RINGVM_SET_SREGS, RINGVM_SET_DEBUGREGS,
		RINGVM_SET_MSRS, RINGVM_SET_XSAVE, RINGVM_SET_XCRS,
		RINGVM_SET_EVENTS, RINGVM_INTERRUPT, RINGVM_NMI,
		RINGVM_SET_LAPIC, RINGVM_SET_MP_STATE,
	};
	__u8 raw[4096];
	char d[DESC_LEN] = "";
	const struct fz_ioctl *io;
	int vi = pick_vcpu(), want = WANT_ANY, fd, kind = K_VCPU, slot;
	unsigned long cmd;
	size_t size;
	long ret;

	if (vi < 0)
		return;
	fd = pool.vcpus[vi].fd;
	slot = pool.vcpus[vi].vm;
	if (rnd(2)) {
		cmd = sets[rnd(ARRAY_SIZE(sets))];
		if (cmd == RINGVM_INTERRUPT || cmd == RINGVM_NMI)
			vcpu_inject(vi, cmd);
		else
			vcpu_set(vi, cmd);
		return;
	}
	cmd = pick_cmd(K_VCPU, &io);
	if (cmd == RINGVM_RUN)
		cmd = RINGVM_GET_REGS;	/* RUN has its own step */
	io = ioctl_find(cmd);
	size = _IOC_SIZE(cmd);
	if (size > sizeof(raw))
		size = sizeof(raw);
	if (one_in(50)) {
		int vm = pick_vm(true);

		if (vm >= 0) {		/* a vCPU ioctl on a VM */
			fd = pool.vms[vm].fd;
			kind = K_VM;
			slot = vm;
		}
	}
	if (cmd == RINGVM_GET_MSRS) {
		gen_msrs((struct ringvm_msrs *)raw);
		if (one_in(4))
			mutate(raw, size, hot_msrs, ARRAY_SIZE(hot_msrs), d,
			       sizeof(d));
		want = set_want(cmd, raw, true);
	} else if (io && io->kind == K_VCPU && (io->flags & F_OUT)) {
		random_bytes(raw, size);	/* GETs ignore the input */
		want = WANT_OK;
	} else {
		random_bytes(raw, size);
	}
	ret = fz_ioctl(fd, kind, cmd, io, raw, size, rnd_val(8), want, slot,
		       d);
	if (cmd == RINGVM_GET_MSRS && ret > 0 &&
	    ret > (long)((struct ringvm_msrs *)raw)->nmsrs)
		fz_fail("GET_MSRS processed %ld of %u", ret,
			((struct ringvm_msrs *)raw)->nmsrs);
}

/* 5f. RUN */

static bool vm_gpa_is_ram(const struct fz_vm *vm, __u64 gpa)
{
	unsigned int i;

	for (i = 0; i < vm->nr_regions; i++)
		if (gpa - vm->regions[i].gpa < vm->regions[i].size)
			return true;
	return false;
}

/* The exit RUN returned 0 with: well formed? */
static void check_exit(struct fz_vcpu *v, const struct fz_vm *vm)
{
	struct ringvm_run *run = v->run;
	__u32 r = run->exit_reason;

	/* no RUN here asks for a window */
	if (r >= NR_EXITS || r == RINGVM_EXIT_IRQ_WINDOW ||
	    r == RINGVM_EXIT_NMI_WINDOW) {
		fz_fail("exit_reason %u", r);
		return;
	}
	fz.exits[r]++;
	if (v->shutdown && r != RINGVM_EXIT_SHUTDOWN &&
	    r != RINGVM_EXIT_DESTROYED)
		fz_fail("exit %s after SHUTDOWN without SET_SREGS",
			ringvm_exit_reason_name(r));
	else if (!v->shutdown && vm->destroyed &&
		 r != RINGVM_EXIT_DESTROYED && r != RINGVM_EXIT_SHUTDOWN)
		fz_fail("exit %s of a destroyed VM",
			ringvm_exit_reason_name(r));
	switch (r) {
	case RINGVM_EXIT_EOI:	/* of a vector the APIC could take */
		if (run->eoi.vector < 32)
			fz_fail("EOI exit of vector %u", run->eoi.vector);
		break;
	case RINGVM_EXIT_IO:
		if (run->io.direction > RINGVM_IO_OUT ||
		    (run->io.size != 1 && run->io.size != 2 &&
		     run->io.size != 4) || run->io.count != 1 ||
		    run->io.data_offset != RINGVM_RUN_DATA_OFFSET)
			fz_fail("IO exit dir %u size %u count %u offset %llu",
				run->io.direction, run->io.size, run->io.count,
				(unsigned long long)run->io.data_offset);
		break;
	case RINGVM_EXIT_MMIO:
		if ((run->mmio.len != 1 && run->mmio.len != 2 &&
		     run->mmio.len != 4 && run->mmio.len != 8) ||
		    run->mmio.is_write > 1)
			fz_fail("MMIO exit len %u is_write %u", run->mmio.len,
				run->mmio.is_write);
		if (vm_gpa_is_ram(vm, run->mmio.gpa))
			fz_fail("MMIO exit at %#llx, which is RAM",
				(unsigned long long)run->mmio.gpa);
		break;
	case RINGVM_EXIT_EMULATION:
		if (run->emulation.insn_len > 15)
			fz_fail("EMULATION insn_len %u",
				run->emulation.insn_len);
		break;
	case RINGVM_EXIT_MSR:
		if (run->msr.is_write > 1)
			fz_fail("MSR exit is_write %u", run->msr.is_write);
		break;
	case RINGVM_EXIT_SHUTDOWN:
		v->shutdown = true;
		break;
	}
}

/* Answer the last exit with something random, as a VMM might. */
static void complete_exit(struct fz_vcpu *v)
{
	struct ringvm_run *run = v->run;

	if (!run || v->last_exit >= NR_EXITS)
		return;
	switch (v->last_exit) {
	case RINGVM_EXIT_IO:
		if (run->io.direction == RINGVM_IO_IN)
			memcpy((__u8 *)run + RINGVM_RUN_DATA_OFFSET,
			       (__u64[1]){ rnd_val(8) }, 8);
		break;
	case RINGVM_EXIT_MMIO: {
		__u64 v64 = rnd_val(8);

		memcpy(run->mmio.data, &v64, 8);
		break;
	}
	case RINGVM_EXIT_HYPERCALL:
		run->hypercall.ret = rnd_val(8);
		break;
	case RINGVM_EXIT_MSR:
		run->msr.data = rnd_val(8);
		run->msr.error = rnd(3) ? 0 : rnd(2) ? 1 : rnd_val(1);
		break;
	}
	if (one_in(16)) {	/* scribble over the run page */
		unsigned int off = rnd(PAGE / 8) * 8;

		*(__u64 *)((__u8 *)run + off) = rnd_val(8);
	}
}

static unsigned int fz_run_us = 2000;

/*
 * A state to run from: a mode's segments and control registers (or the
 * reset state), a few changes the checks let through, RIP at the code.
 */
static void run_state(struct fz_vcpu *v)
{
	static struct ringvm_sregs sr;
	static struct ringvm_regs regs;
	char d[DESC_LEN] = "";
	int mode = pool.have_reset ? rnd(NR_MODES) : NR_MODES;
	unsigned int k;
	long ret;

	if (fz_get(v->fd, K_VCPU, RINGVM_GET_SREGS, &sr, sizeof(sr)) < 0 ||
	    fz_get(v->fd, K_VCPU, RINGVM_GET_REGS, &regs, sizeof(regs)) < 0)
		return;
	if (mode < NR_MODES)
		sregs_mode(&sr, mode);
	snprintf(d, sizeof(d), " mode %d", mode);
	for (k = one_in(3) ? rnd(3) : 0; k; k--)
		sregs_mutate_legal(&sr, d, sizeof(d));
	ret = fz_ioctl(v->fd, K_VCPU, RINGVM_SET_SREGS,
		       ioctl_find(RINGVM_SET_SREGS), &sr, sizeof(sr), 0,
		       set_want(RINGVM_SET_SREGS, &sr, !strstr(d, "legal")),
		       v->vm, d);
	if (ret == 0)
		v->shutdown = false;

	d[0] = 0;
	if (mode == MODE_REAL)
		regs.rip = rnd(64);
	else if (mode != MODE_RESET && mode < NR_MODES)
		regs.rip = FZ_CODE + rnd(64);
	regs.rsp = mode == MODE_REAL ? 0x8000 : FZ_STACK;
	regs.rflags = rnd(4) ? 2 : (rnd_val(8) & 0x3f7fd7ULL) | 2;
	for (k = rnd(3); k; k--)
		regs_mutate(&regs, d, sizeof(d));
	fz_ioctl(v->fd, K_VCPU, RINGVM_SET_REGS, ioctl_find(RINGVM_SET_REGS),
		 &regs, sizeof(regs), 0, set_want(RINGVM_SET_REGS, &regs,
						   true), v->vm, d);
}

/* A runnable VM: region 0 at gpa 0, laid out; one more region maybe. */
static int new_runnable_vm(void)
{
	struct ringvm_create_vm c;
	int slot = free_vm_slot();
	long fd;
	void *p;

	if (slot < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.nr_regions = 1;
	c.regions[0].size = FZ_RAM;
	if (rnd(2)) {
		c.nr_regions = 2;
		c.regions[1].gpa = rnd(2) ? 0xffff0000ULL : FZ_RAM + PAGE;
		c.regions[1].size = 0x10000;
	}
	c.max_vcpus = 1 + rnd(4);
	/* the guests' first touches then map 2 MiB blocks */
	if (pool.large_pages && rnd(2))
		c.flags = RINGVM_VM_LARGE_PAGES;
	call_begin(T_DEV, "ioctl(CREATE_VM runnable, %u regions, %u vcpus%s)",
		   c.nr_regions, c.max_vcpus,
		   c.flags ? ", large pages" : "");
	fd = ioctl(pool.devfd, RINGVM_CREATE_VM, &c);
	call_end(fd, errno, ioctl_find(RINGVM_CREATE_VM)->errs, WANT_ANY);
	if (fd < 0)
		return -1;
	check_fd_cloexec(fd);
	vm_adopt(fd);
	if (pool.vms[slot].fd != fd)
		return -1;
	call_begin(T_MMAP, "mmap(vm fd %ld, region 0)", fd);
	p = mmap(NULL, FZ_RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	call_end(p == MAP_FAILED ? -1 : 0, errno, errs_mm, WANT_OK);
	if (p == MAP_FAILED)
		return slot;
	pool.vms[slot].ram = p;
	vm_layout(&pool.vms[slot]);
	return slot;
}

static int new_vcpu(int slot)
{
	struct fz_vm *vm = &pool.vms[slot];
	__u32 id;
	long fd;

	if (vm->fd < 0 || free_vcpu_slot() < 0)
		return -1;
	id = rnd(vm->max_vcpus);
	call_begin(T_VM, "ioctl(vm fd %d, CREATE_VCPU %u)", vm->fd, id);
	fd = ioctl(vm->fd, RINGVM_CREATE_VCPU, id);
	call_end(fd, errno, ioctl_find(RINGVM_CREATE_VCPU)->errs, WANT_ANY);
	if (fd < 0)
		return -1;
	check_fd_cloexec(fd);
	vcpu_adopt(fd, slot, id);
	return 0;
}

/* Retire a VM whose guest allocated too much. */
static void vm_check_memory(int slot)
{
	struct ringvm_vm_info info;
	struct fz_vm *vm = &pool.vms[slot];
	int i;

	if (vm->fd < 0 || fz_get(vm->fd, K_VM, RINGVM_GET_VM_INFO, &info,
				 sizeof(info)) < 0)
		return;
	vm_info_check(vm, &info);
	if (info.mem_allocated <= FZ_MEM_LIMIT)
		return;
	for (i = 0; i < FZ_VCPUS; i++)
		if (pool.vcpus[i].fd >= 0 && pool.vcpus[i].vm == slot)
			vcpu_close(i);
	vm_close(slot);
}

static void step_run(void)
{
	static const unsigned long sets[] = {
		RINGVM_SET_DEBUGREGS, RINGVM_SET_MSRS, RINGVM_SET_XCRS,
		RINGVM_SET_XSAVE,
	};
	const int *run_errs = ioctl_find(RINGVM_RUN)->errs;
	int vi = pick_vcpu(), slot;
	unsigned int k, n;
	struct fz_vcpu *v;
	struct fz_vm *vm;

	/* Mostly a vCPU of a VM laid out to run code */
	for (k = 0; vi >= 0 && k < 4 && !pool.vms[pool.vcpus[vi].vm].ram &&
	     !one_in(5); k++)
		vi = pick_vcpu();

	if (vi < 0 || one_in(20)) {
		slot = pick_vm(true);
		if (slot < 0 || !pool.vms[slot].ram || one_in(4))
			slot = new_runnable_vm();
		if (slot >= 0)
			new_vcpu(slot);
		return;
	}
	v = &pool.vcpus[vi];
	vm = &pool.vms[v->vm];
	if (vm->fd < 0 && ++v->orphan_runs > FZ_ORPHAN_RUNS) {
		vcpu_close(vi);
		return;
	}

	/* New state, sometimes new code */
	if (rnd(10) < 6) {
		run_state(v);
		if (one_in(3))
			vcpu_set(vi, sets[rnd(ARRAY_SIZE(sets))]);
		if (vm->ram && rnd(10) < 7) {
			if (one_in(8))
				vm_layout(vm);
			gen_code(vm->ram + FZ_CODE);
		}
	}

	timer_arm(fz_run_us);
	for (n = 1 + rnd(8), k = 0; k < n; k++) {
		struct ringvm_run *run = v->run;
		int want = WANT_ANY;
		long ret;

		complete_exit(v);
		if (run) {
			if (one_in(30)) {
				run->flags = (rnd_val(4) & ~RINGVM_RUN_FLAGS) |
					     (1U << 31);
				want = EINVAL;
			} else if (one_in(30)) {
				run->pad0 = rnd_val(4) | 1;
				want = EINVAL;
			} else {
				run->flags = 0;
				run->pad0 = 0;
			}
		}
		if (want != EINVAL && one_in(40)) {
			call_begin(T_RUN, "ioctl(vcpu fd %d, RUN, arg != 0)",
				   v->fd);
			ret = ioctl(v->fd, RINGVM_RUN, 1 + rnd_val(8) % 1000);
			call_end(ret, errno, run_errs, EINVAL);
			continue;
		}
		call_begin(T_RUN, "ioctl(vcpu fd %d (vm %u%s), RUN) #%u",
			   v->fd, vm->id, vm->destroyed ? " destroyed" : "",
			   k);
		ret = ioctl(v->fd, RINGVM_RUN, 0);
		call_end(ret, errno, run_errs, want);
		if (run && want == EINVAL) {
			run->flags = 0;
			run->pad0 = 0;
		}
		if (ret < 0 || !run) {
			v->last_exit = NR_EXITS;
			continue;
		}
		check_exit(v, vm);
		v->last_exit = run->exit_reason;
		if (run->exit_reason == RINGVM_EXIT_INTR ||
		    run->exit_reason == RINGVM_EXIT_DESTROYED)
			break;
	}
	timer_disarm();
	vm_check_memory(v->vm);
}

/* 5g. mmap and the other mm calls */

static void touch(struct fz_map *m)
{
	size_t off;

	if (!m->safe)
		return;
	off = rnd(m->safe);
	if (m->prot & PROT_WRITE)
		m->addr[off] = r64();
	else if (m->prot & PROT_READ)
		(void)*(volatile __u8 *)(m->addr + off);
}

static int free_map_slot(void)
{
	int i = rnd(FZ_MAPS);

	if (pool.maps[i].addr) {
		fz_munmap(pool.maps[i].addr, pool.maps[i].len);
		map_forget(i);
	}
	return i;
}

static void step_mmap(void)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	unsigned int r = rnd(100), type;
	int fd, kind, vi = -1, prot, flags, want = WANT_ANY;
	struct fz_vm *vm = NULL;
	size_t len, rlen;
	__u64 off;
	void *p;
	long ret;

	if (r < 50 && (vi = pick_vm(true)) >= 0) {
		vm = &pool.vms[vi];
		fd = vm->fd;
		kind = K_VM;
	} else if (r < 85 && (vi = pick_vcpu()) >= 0) {
		fd = pool.vcpus[vi].fd;
		kind = K_VCPU;
	} else if (r < 92) {
		fd = pool.devfd;
		kind = K_DEV;
	} else if (r < 96) {
		fd = pool.nlfd;
		kind = K_OTHER;
	} else {
		fd = FZ_BAD_FD;
		kind = K_OTHER;
	}

	len = rnd(2) ? PAGE * (1 + rnd(4)) : rnd(3) ? rnd(0x40000) :
	      rnd_val(8);
	off = 0;
	if (vm && rnd(4)) {
		const struct ringvm_mem_region *reg =
			&vm->regions[rnd(vm->nr_regions)];

		off = reg->gpa + PAGE * rnd(reg->size / PAGE + 2);
		if (rnd(2))
			len = reg->size - (off - reg->gpa) +
			      (long)PAGE * ((int)rnd(3) - 1);
		if (len > (1ULL << 40))
			len = PAGE;
	} else if (one_in(4)) {
		off = rnd(3) ? PAGE * rnd(16) : rnd_val(8);
	}
	prot = prots[rnd(ARRAY_SIZE(prots))];
	type = rnd(10) < 7 ? MAP_SHARED : rnd(2) ? MAP_PRIVATE :
	       MAP_SHARED_VALIDATE;
	flags = type;
	if (type == MAP_SHARED_VALIDATE && one_in(3))
		flags |= 1 << (20 + rnd(8));	/* unknown to validate */
	if (one_in(8) && len <= (1 << 20))
		flags |= MAP_POPULATE;
	if (one_in(8))
		flags |= MAP_NORESERVE;

	rlen = (len + PAGE - 1) & ~(PAGE - 1);
	if (kind == K_DEV || kind == K_OTHER) {	/* no mmap, or no file */
		want = WANT_FAIL;
	} else if (len && rlen && !(off & (PAGE - 1)) && len < (1ULL << 40) &&
		   !(flags & ~(MAP_SHARED_VALIDATE | MAP_POPULATE |
			       MAP_NORESERVE)) && !(prot & PROT_EXEC)) {
		/* Past the generic checks: the module's rule decides */
		bool shared = type != MAP_PRIVATE, fits;

		if (kind == K_VCPU) {
			fits = !off && rlen == PAGE;
		} else {
			unsigned int i;

			fits = false;
			for (i = 0; i < vm->nr_regions; i++) {
				const struct ringvm_mem_region *g =
					&vm->regions[i];

				if (off >= g->gpa && off - g->gpa < g->size &&
				    rlen <= g->size - (off - g->gpa))
					fits = true;
			}
		}
		want = shared && fits ? WANT_OK : WANT_FAIL;
	}

	call_begin(T_MMAP, "mmap(NULL, %#zx, %#x, %#x, %s, %#llx)", len, prot,
		   flags, fd_desc(fd, kind), (unsigned long long)off);
	p = mmap(NULL, len, prot, flags, fd, off);
	ret = p == MAP_FAILED ? -1 : 0;
	call_end(ret, errno, errs_mm, want);
	if (p == MAP_FAILED)
		return;
	r = free_map_slot();
	pool.maps[r].addr = p;
	pool.maps[r].len = rlen;
	pool.maps[r].safe = rlen;
	pool.maps[r].prot = prot;
	for (type = rnd(4); type; type--)
		touch(&pool.maps[r]);
}

static void step_mem(void)
{
	static const int advice[] = {
		MADV_DONTNEED, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT,
		MADV_DONTFORK, MADV_DOFORK, MADV_FREE, MADV_REMOVE,
		MADV_SEQUENTIAL, MADV_NORMAL,
	};
	int i = rnd(FZ_MAPS), prot;
	struct fz_map *m = &pool.maps[i];
	unsigned int r = rnd(100);
	size_t len;
	void *p;
	long ret;

	if (!m->addr)
		return;
	if (r < 35) {
		touch(m);
		touch(m);
	} else if (r < 55) {
		fz_munmap(m->addr, m->len);
		map_forget(i);
	} else if (r < 70) {
		prot = rnd(8) & (PROT_READ | PROT_WRITE | PROT_EXEC);
		call_begin(T_MEM, "mprotect(%p, %#zx, %#x)", m->addr, m->len,
			   prot);
		ret = mprotect(m->addr, m->len, prot);
		call_end(ret, errno, errs_mm, WANT_ANY);
		if (!ret)
			m->prot = prot;
		touch(m);
	} else if (r < 85) {
		int adv = advice[rnd(ARRAY_SIZE(advice))];

		call_begin(T_MEM, "madvise(%p, %#zx, %d)", m->addr, m->len,
			   adv);
		ret = madvise(m->addr, m->len, adv);
		call_end(ret, errno, errs_mm, WANT_ANY);
		touch(m);
	} else {
		int fl = rnd(2) ? MREMAP_MAYMOVE : 0;

		len = rnd(2) ? m->len / 2 & ~(PAGE - 1) : m->len + PAGE;
		if (!len)
			len = PAGE;
		call_begin(T_MEM, "mremap(%p, %#zx, %#zx, %d)", m->addr,
			   m->len, len, fl);
		p = mremap(m->addr, m->len, len, fl);
		call_end(p == MAP_FAILED ? -1 : 0, errno, errs_mm, WANT_ANY);
		if (p == MAP_FAILED)
			return;
		m->addr = p;
		if (len < m->safe)
			m->safe = len;	/* grown: never touch beyond */
		m->len = len;
		touch(m);
	}
}

/* 5h. Opening and closing */

static void step_fd(void)
{
	unsigned int r = rnd(100);
	int i;

	if (r < 30) {
		i = new_runnable_vm();
		if (i >= 0 && rnd(2))
			new_vcpu(i);
	} else if (r < 55) {
		i = pick_vm(true);
		if (i >= 0)
			new_vcpu(i);
	} else if (r < 70) {
		i = pick_vm(true);
		if (i >= 0) {
			if (rnd(2)) {
				int j;

				for (j = 0; j < FZ_VCPUS; j++)
					if (pool.vcpus[j].fd >= 0 &&
					    pool.vcpus[j].vm == i)
						vcpu_close(j);
			}
			vm_close(i);
		}
	} else if (r < 90) {
		i = pick_vcpu();
		if (i >= 0)
			vcpu_close(i);
	} else {
		long fd;

		call_begin(T_FD, "open(/dev/ringvm)");
		fd = open(RINGVM_DEV_PATH, O_RDWR | (rnd(2) ? O_CLOEXEC : 0));
		call_end(fd, errno, errs_none, WANT_OK);
		if (fd >= 0)
			fz_close(fd, "second /dev/ringvm");
	}
}

/* 5i. Netlink */

struct nlreq {
	__u8 buf[8192];
	size_t len;
	size_t attrs[32];	/* offsets of the attributes */
	unsigned int nr_attrs;
	__u8 cmd;
	bool valid;		/* a valid request, not mutated */
	/* what a valid vm-del or vm-new was about */
	__u32 id;
	char name[RINGVM_NAME_MAX];
};

static void *nl_put(struct nlreq *q, const void *data, size_t len)
{
	void *p = q->buf + q->len;

	if (q->len + NLMSG_ALIGN(len) > sizeof(q->buf))
		return NULL;
	if (data)
		memcpy(p, data, len);
	else
		memset(p, 0, NLMSG_ALIGN(len));
	memset((__u8 *)p + len, 0, NLMSG_ALIGN(len) - len);
	q->len += NLMSG_ALIGN(len);
	return p;
}

/* Append an attribute: its offset, or 0 when it does not fit. */
static size_t nl_attr(struct nlreq *q, __u16 type, const void *data,
		      __u16 len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
	size_t at = q->len;

	if (at + NLA_HDRLEN + NLMSG_ALIGN(len) > sizeof(q->buf))
		return 0;
	if (q->nr_attrs < ARRAY_SIZE(q->attrs))
		q->attrs[q->nr_attrs++] = at;
	nl_put(q, &a, NLA_HDRLEN);
	if (len)
		nl_put(q, data, len);
	return at;
}

static void nl_nest_end(struct nlreq *q, size_t at)
{
	struct nlattr *a = (struct nlattr *)(q->buf + at);

	if (at)
		a->nla_len = q->len - at;
}

static void nl_begin(struct nlreq *q, __u16 type, __u16 flags, __u8 cmd)
{
	struct nlmsghdr h = {
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = ++pool.nl_seq,
	};
	struct genlmsghdr g = { .cmd = cmd, .version = 1 };

	memset(q, 0, offsetof(struct nlreq, attrs));
	q->nr_attrs = 0;
	q->cmd = cmd;
	q->valid = false;
	q->id = 0;
	q->name[0] = 0;
	nl_put(q, &h, sizeof(h));
	nl_put(q, &g, sizeof(g));
}

static void nl_end(struct nlreq *q)
{
	((struct nlmsghdr *)q->buf)->nlmsg_len = q->len;
}

/* Random attributes, nested up to @depth. */
static void nl_random_attrs(struct nlreq *q, unsigned int depth)
{
	unsigned int n = rnd(depth == 2 ? 5 : 3);
	__u8 data[64];

	while (n--) {
		__u16 type = rnd(4) ? rnd(RINGVM_A_VM_MAX + 3) : rnd_val(2);
		__u16 len = rnd(2) ? 4 * rnd(3) : rnd(sizeof(data));

		if (depth && one_in(3)) {
			size_t at = nl_attr(q, type | (rnd(2) ? NLA_F_NESTED :
							0), NULL, 0);

			nl_random_attrs(q, depth - 1);
			nl_nest_end(q, at);
			continue;
		}
		random_bytes(data, len);
		if (len == 8 && rnd(2))
			memcpy(data, (__u64[1]){ rnd_val(8) }, 8);
		nl_attr(q, type, data, len);
	}
}

static void nl_name(struct nlreq *q, const char *name)
{
	nl_attr(q, RINGVM_A_VM_NAME, name, strlen(name) + 1);
}

/* A valid request of the family, with NLM_F_ACK or not. */
static void nl_valid(struct nlreq *q)
{
	__u16 flags = NLM_F_REQUEST | (rnd(2) ? NLM_F_ACK : 0);
	unsigned int c = rnd(100), i;
	char name[RINGVM_NAME_MAX];

	if (c < 20) {
		nl_begin(q, pool.family, flags, RINGVM_CMD_CAPS_GET);
	} else if (c < 45 && pool.nr_named < FZ_NAMED_KEEP) {
		size_t at;

		nl_begin(q, pool.family, flags, RINGVM_CMD_VM_NEW);
		snprintf(name, sizeof(name), "st-fz-%u", rnd(16));
		nl_name(q, name);
		memcpy(q->name, name, sizeof(q->name));
		for (i = 1 + rnd(2); i; i--) {
			__u64 gpa = (i - 1) * 0x400000ULL;
			__u64 size = PAGE * (1 + rnd(512));

			at = nl_attr(q, RINGVM_A_VM_MEM_REGION | NLA_F_NESTED,
				     NULL, 0);
			nl_attr(q, RINGVM_A_MEM_REGION_GPA, &gpa, 8);
			nl_attr(q, RINGVM_A_MEM_REGION_SIZE, &size, 8);
			nl_nest_end(q, at);
		}
		if (rnd(2)) {
			__u32 mv = 1 + rnd(8);

			nl_attr(q, RINGVM_A_VM_MAX_VCPUS, &mv, 4);
		}
	} else if (c < 80) {
		bool del = c < 60 || pool.nr_named >= FZ_NAMED_KEEP;

		nl_begin(q, pool.family, flags,
			 del ? RINGVM_CMD_VM_DEL : RINGVM_CMD_VM_GET);
		if (pool.nr_named && rnd(4)) {
			struct fz_named *n = &pool.named[rnd(pool.nr_named)];

			if (rnd(2)) {
				q->id = n->id;
				nl_attr(q, RINGVM_A_VM_ID, &q->id, 4);
			} else {
				memcpy(q->name, n->name, sizeof(q->name));
				nl_name(q, n->name);
			}
		} else {
			q->id = known_vm_id() ?: 1;
			nl_attr(q, RINGVM_A_VM_ID, &q->id, 4);
		}
	} else {
		nl_begin(q, pool.family, flags | NLM_F_DUMP,
			 RINGVM_CMD_VM_GET);
	}
	q->valid = true;
	nl_end(q);
}

/* One change to a valid request: an attribute or the headers. */
static void nl_mutate(struct nlreq *q, char *d, size_t dlen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)q->buf;
	struct genlmsghdr *g = NLMSG_DATA(h);
	unsigned int r = rnd(12);

	q->valid = false;
	if (q->nr_attrs && r < 6) {
		struct nlattr *a = (struct nlattr *)(q->buf +
					q->attrs[rnd(q->nr_attrs)]);

		switch (r) {
		case 0:
			a->nla_type = rnd(4) ? rnd(RINGVM_A_VM_MAX + 3) :
				      rnd_val(2);
			break;
		case 1:
			a->nla_len = rnd(2) ? rnd(NLA_HDRLEN + 1) :
				     (__u16)(a->nla_len + 4 - 8 * rnd(2));
			break;
		case 2:
			a->nla_len = rnd_val(2);
			break;
		default: {	/* the payload */
			size_t plen = a->nla_len > NLA_HDRLEN &&
				      (__u8 *)a + a->nla_len <= q->buf + q->len ?
				      a->nla_len - NLA_HDRLEN : 0;

			if (plen)
				mutate((__u8 *)a + NLA_HDRLEN, plen, NULL, 0,
				       d, dlen);
		}
		}
		snprintf(d + strlen(d), dlen - strlen(d), " attr#%u", r);
		return;
	}
	switch (r) {
	case 6:
		h->nlmsg_flags ^= 1 << rnd(16);
		break;
	case 7:
		g->cmd = rnd(2) ? rnd(8) : rnd_val(1);
		break;
	case 8:
		g->version = rnd_val(1);
		g->reserved = rnd_val(2);
		break;
	case 9: {	/* a duplicate of the last attribute */
		if (q->nr_attrs) {
			size_t at = q->attrs[q->nr_attrs - 1];
			size_t n = q->len - at;

			nl_put(q, q->buf + at, n);
			h = (struct nlmsghdr *)q->buf;
			h->nlmsg_len = q->len;
		}
		break;
	}
	default:
		h->nlmsg_len = rnd(2) ? rnd(q->len + 8) : rnd_val(4);
	}
	snprintf(d + strlen(d), dlen - strlen(d), " hdr#%u", r);
}

/* A request that is not one: headers and attributes at random. */
static void nl_random(struct nlreq *q, char *d, size_t dlen)
{
	__u16 type = pool.family;
	unsigned int r = rnd(20);

	if (r == 0)
		type = 0xfff0;		/* above GENL_MAX_ID: no family */
	else if (r == 1)
		type = rnd(NLMSG_MIN_TYPE);	/* control messages */
	nl_begin(q, type, rnd(4) ? NLM_F_REQUEST | (rnd(2) ? NLM_F_ACK : 0) :
		 rnd_val(2), rnd(2) ? rnd(8) : rnd_val(1));
	nl_random_attrs(q, 2);
	nl_end(q);
	snprintf(d + strlen(d), dlen - strlen(d), " random type %#x", type);
}

/* The family's reply messages: VM ids of the VMs vm-new made. */
static void nl_parse_reply(const struct nlmsghdr *h)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const struct nlattr *a;
	int rem;
	__u32 id = 0, flags = 0;
	char name[RINGVM_NAME_MAX] = "";

	if (h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
		fz_fail("reply of %u bytes", h->nlmsg_len);
		return;
	}
	rem = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	a = (const struct nlattr *)((const __u8 *)g + GENL_HDRLEN);
	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= rem) {
		const void *p = (const __u8 *)a + NLA_HDRLEN;
		int plen = a->nla_len - NLA_HDRLEN;

		if (a->nla_type == RINGVM_A_VM_ID && plen == 4)
			memcpy(&id, p, 4);
		else if (a->nla_type == RINGVM_A_VM_FLAGS && plen == 4)
			memcpy(&flags, p, 4);
		else if (a->nla_type == RINGVM_A_VM_NAME && plen > 0 &&
			 plen <= RINGVM_NAME_MAX)
			memcpy(name, p, plen);
		rem -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const __u8 *)a +
					    NLA_ALIGN(a->nla_len));
	}
	if (rem >= NLA_HDRLEN)
		fz_fail("reply cmd %u: %d bytes of malformed attributes",
			g->cmd, rem);
	name[RINGVM_NAME_MAX - 1] = 0;
	if (g->cmd == RINGVM_CMD_VM_NEW) {
		if (!id || (flags & RINGVM_VM_FLAGS_ANONYMOUS))
			fz_fail("vm-new reply: id %u flags %#x", id, flags);
		else
			named_add(id, name);
	}
}

/*
 * Read what the kernel answered to the request(s) just sent: genetlink
 * runs them in sendmsg(), so the replies (and a dump's first part) are
 * queued already, and each recv() lets a dump go on.  Returns the first
 * error the requests got, 0 if none; *replies counts the family's
 * messages.
 */
static int nl_drain(unsigned int *replies)
{
	static __u8 buf[65536];
	int first = 0;

	*replies = 0;
	for (;;) {
		ssize_t n = recv(pool.nlfd, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_TRUNC);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0) {
			if (errno != EAGAIN)
				fz_fail("recv: %s", strerror(errno));
			return first;
		}
		if ((size_t)n > sizeof(buf)) {
			fz_fail("reply of %zd bytes truncated", n);
			continue;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq > pool.nl_seq)
				fz_fail("reply seq %u, last sent %u",
					h->nlmsg_seq, pool.nl_seq);
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				int err = -e->error;

				if (err < 0 || (err && !errno_in(err, errs_nl)))
					fz_fail("netlink error %d", e->error);
				fz.nl_answers[err > 0 && err < NR_ERRNO ?
					      err : 0]++;
				if (!first)
					first = err;
			} else if (h->nlmsg_type == pool.family) {
				nl_parse_reply(h);
				++*replies;
			}
		}
		if (n >= (ssize_t)NLMSG_HDRLEN)
			fz_fail("%zd bytes after the last reply message", n);
	}
}

static void nl_send(const void *buf, size_t len, const char *d)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	long ret;

	call_begin(T_NL, "send(%zu bytes: type %#x flags %#x cmd %u)%s", len,
		   len >= NLMSG_HDRLEN ? ((struct nlmsghdr *)buf)->nlmsg_type
				       : 0,
		   len >= NLMSG_HDRLEN ? ((struct nlmsghdr *)buf)->nlmsg_flags
				       : 0,
		   len >= NLMSG_HDRLEN + 1 ? ((const __u8 *)buf)[16] : 0, d);
	ret = sendto(pool.nlfd, buf, len, 0, (struct sockaddr *)&kernel,
		     sizeof(kernel));
	call_end(ret, errno, errs_nl_send,
		 len >= NLMSG_HDRLEN ? WANT_OK : WANT_ANY);
}

/* Refresh what the pool knows after a vm-del of unknown aim. */
static void vm_refresh_destroyed(void)
{
	struct ringvm_vm_info info;
	int i;

	for (i = 0; i < FZ_VMS; i++) {
		struct fz_vm *vm = &pool.vms[i];

		if (vm->fd < 0 || vm->destroyed)
			continue;
		if (fz_get(vm->fd, K_VM, RINGVM_GET_VM_INFO, &info,
			   sizeof(info)) == 0 &&
		    (info.flags & RINGVM_VM_INFO_DESTROYED))
			vm_mark_destroyed(vm->id, NULL);
	}
}

static void step_nl(void)
{
	static struct nlreq q, q2;
	char d[DESC_LEN] = "";
	unsigned int r = rnd(100), replies;
	bool more = false;
	size_t len;
	int res;

	if (r < 40) {
		nl_valid(&q);
	} else if (r < 80) {
		nl_valid(&q);
		for (r = 1 + rnd(2); r; r--)
			nl_mutate(&q, d, sizeof(d));
	} else {
		nl_random(&q, d, sizeof(d));
	}
	len = q.len;
	if (one_in(10)) {		/* cut short */
		len = rnd(q.len);
		strcat(d, " truncated");
		q.valid = false;
	} else if (one_in(10)) {	/* two requests in one datagram */
		nl_valid(&q2);
		if (q.len + q2.len <= sizeof(q.buf)) {
			memcpy(q.buf + q.len, q2.buf, q2.len);
			len += q2.len;
			strcat(d, " +1");
			more = q2.cmd == RINGVM_CMD_VM_DEL;
		}
		q.valid = false;
	}
	nl_send(q.buf, len, d);
	res = nl_drain(&replies);

	if (q.valid && q.cmd == RINGVM_CMD_CAPS_GET && (res || replies != 1))
		fz_fail("valid caps-get: %s, %u replies", errno_name(res),
			replies);
	if (q.valid && q.cmd == RINGVM_CMD_VM_NEW && res &&
	    res != EEXIST && res != ENOSPC)
		fz_fail("valid vm-new: %s", errno_name(res));
	if (q.valid && q.cmd == RINGVM_CMD_VM_NEW && !res && replies != 1)
		fz_fail("valid vm-new: %u replies", replies);
	if (q.valid && q.cmd == RINGVM_CMD_VM_DEL && !res) {
		named_del(q.id, q.name[0] ? q.name : NULL);
		vm_mark_destroyed(q.id, q.name[0] ? q.name : NULL);
	}
	if (q.valid && q.cmd == RINGVM_CMD_VM_GET && res && res != ENOENT)
		fz_fail("valid vm-get: %s", errno_name(res));
	if (q.valid && res == ENOENT)	/* gone by a mutated vm-del */
		named_del(q.id, q.name[0] ? q.name : NULL);
	if (!q.valid && (more || (len > 16 && q.buf[16] == RINGVM_CMD_VM_DEL)))
		vm_refresh_destroyed();
}

/* Resolve the family with CTRL_CMD_GETFAMILY: its id, or -errno. */
static int nl_resolve(int fd)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	static struct nlreq q;
	static __u8 buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;

	nl_begin(&q, GENL_ID_CTRL, NLM_F_REQUEST, CTRL_CMD_GETFAMILY);
	nl_attr(&q, CTRL_ATTR_FAMILY_NAME, RINGVM_FAMILY_NAME,
		sizeof(RINGVM_FAMILY_NAME));
	nl_end(&q);
	if (sendto(fd, q.buf, q.len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		struct nlattr *a;
		int rem;

		if (h->nlmsg_type == NLMSG_ERROR)
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		if (h->nlmsg_type != GENL_ID_CTRL)
			continue;
		rem = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		a = (struct nlattr *)((__u8 *)NLMSG_DATA(h) + GENL_HDRLEN);
		while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		       a->nla_len <= rem) {
			if (a->nla_type == CTRL_ATTR_FAMILY_ID)
				return *(__u16 *)((__u8 *)a + NLA_HDRLEN);
			rem -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((__u8 *)a +
					      NLA_ALIGN(a->nla_len));
		}
	}
	return -ENOENT;
}

/* 6. The watchdog */

static int fz_kmsg = -1;	/* /dev/kmsg, for reports (below) */

/*
 * A line of a report: to stdout and, at KERN_ERR, to the kernel log.
 * When the fuzzing thread's CPU stops taking interrupts, the tty may
 * never send what was written to it (its interrupt may go to that CPU),
 * while printk() still reaches the console.
 */
static void __attribute__((format(printf, 1, 2))) report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (fz_kmsg >= 0) {	/* one write, one record */
		char rec[540];
		int len = snprintf(rec, sizeof(rec), "<3>fuzz_test: %s\n",
				   line);

		if (write(fz_kmsg, rec, len) < 0)
			fz_kmsg = -1;
	}
	dprintf(STDOUT_FILENO, "#%s%s\n", line[0] ? " " : "", line);
}

static void print_call(void)
{
	report("  seed %#llx step %lu call %lu target %s",
	       (unsigned long long)fz.seed, fz.step, fz.total,
	       fz_target_name[fz.target]);
	report("  %s", fz.what);
}

/* The kernel stack of the fuzzing thread: where it is stuck. */
static void print_stack(void)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", fz.tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	report("  kernel stack of the fuzzing thread:");
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		report("    %s", l);
}

/*
 * Where every CPU is, into the kernel log (sysrq l: NMI backtraces), and
 * from there to the test's output: the fuzzing thread may be stuck with
 * interrupts off, and the runner's dmesg dump may never come.
 */
static void print_backtraces(void)
{
	static char rec[1024];
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	int sysrq = open("/proc/sysrq-trigger", O_WRONLY);
	ssize_t n;

	if (kmsg < 0 || sysrq < 0)
		goto out;
	lseek(kmsg, 0, SEEK_END);
	if (write(sysrq, "l", 1) != 1)
		goto out;
	sleep(3);
	report("  sysrq-l (backtrace of all active CPUs):");
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		char *text;

		if (n <= 0)
			continue;
		rec[n] = 0;
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		text[strcspn(text, "\n")] = 0;
		if (strncmp(text, "fuzz_test: ", 11))
			report("    %s", text);
	}
out:
	if (kmsg >= 0)
		close(kmsg);
	if (sysrq >= 0)
		close(sysrq);
}

static void *watchdog(void *arg)
{
	unsigned long last = ~0UL;
	unsigned int stale = 0, i;
	sigset_t all;
	cpu_set_t cpu0;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Not where the fuzzer runs: its CPU may stop taking interrupts */
	if (fz.pinned) {
		CPU_ZERO(&cpu0);
		CPU_SET(0, &cpu0);
		sched_setaffinity(0, sizeof(cpu0), &cpu0);
	}
	while (!__atomic_load_n(&fz.stop, __ATOMIC_ACQUIRE)) {
		unsigned long p;

		usleep(250000);
		p = __atomic_load_n(&fz.progress, __ATOMIC_ACQUIRE);
		if (p != last) {
			last = p;
			stale = 0;
			continue;
		}
		if (++stale < 4 * fz.watchdog_s)
			continue;
		report("watchdog: no call finished for %u s; in flight:",
		       fz.watchdog_s);
		print_call();
		report("  the calls before it:");
		for (i = 0; i < FZ_HISTORY; i++)
			report("    %s", fz.history[(fz.hist_at + i) %
						 FZ_HISTORY]);
		print_stack();
		print_backtraces();
		_exit(KSFT_FAIL);
	}
	return NULL;
}

/* SIGSEGV, SIGBUS: a mapping of the module's misbehaved. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	report("signal %d (%s) at %p during:", sig, strsignal(sig),
	       si->si_addr);
	print_call();
	/* SA_RESETHAND: the access faults again and kills us */
}

/* 7. The test */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		printf("#   fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

static void print_stats(double secs)
{
	char line[1024];
	unsigned int t, e;

	printf("# fuzz: seed %#llx: %lu calls in %.1f s (%lu steps)\n",
	       (unsigned long long)fz.seed, fz.total, secs, fz.step);
	for (t = 0; t < NR_TARGETS; t++) {
		int n = snprintf(line, sizeof(line), "# fuzz: %-10s %7lu:",
				 fz_target_name[t], fz.calls[t]);

		for (e = 0; e < NR_ERRNO; e++)
			if (fz.hist[t][e] && n < (int)sizeof(line))
				n += snprintf(line + n, sizeof(line) - n,
					      " %s %lu", errno_name(e),
					      fz.hist[t][e]);
		printf("%s\n", line);
	}
	{
		int n = snprintf(line, sizeof(line),
				 "# fuzz: netlink answers:");

		for (e = 0; e < NR_ERRNO; e++)
			if (fz.nl_answers[e] && n < (int)sizeof(line))
				n += snprintf(line + n, sizeof(line) - n,
					      " %s %lu", errno_name(e),
					      fz.nl_answers[e]);
		printf("%s\n", line);
	}
	{
		int n = snprintf(line, sizeof(line), "# fuzz: run exits:");

		for (e = 0; e < NR_EXITS; e++)
			if (fz.exits[e] && n < (int)sizeof(line))
				n += snprintf(line + n, sizeof(line) - n,
					      " %s %lu",
					      ringvm_exit_reason_name(e),
					      fz.exits[e]);
		printf("%s (%lu SIGALRM)\n", line, pool.alarms);
	}
	fflush(stdout);
}

struct vm_list {
	unsigned int nr, nr_anon;
	__u32 ids[FZ_NAMED];
	char names[FZ_NAMED][RINGVM_NAME_MAX];
};

static int collect_vm(const struct ringvm_nl_vm *vm, void *arg)
{
	struct vm_list *l = arg;

	if (vm->flags & RINGVM_VM_FLAGS_ANONYMOUS) {
		l->nr_anon++;
		printf("# left over: anonymous VM %u %s\n", vm->id, vm->name);
		return 0;
	}
	if (l->nr < FZ_NAMED) {
		l->ids[l->nr] = vm->id;
		memcpy(l->names[l->nr], vm->name, RINGVM_NAME_MAX);
		l->nr++;
	}
	return 0;
}

/* Delete every named VM (the fuzzer's): how many, or -errno. */
static int delete_named_vms(struct ringvm_nl *nl, struct vm_list *l)
{
	unsigned int i;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = __ringvm_nl_vm_dump(nl, collect_vm, l);
	if (ret)
		return ret;
	for (i = 0; i < l->nr; i++)
		__ringvm_nl_vm_del(nl, l->ids[i], NULL);
	return l->nr;
}

FIXTURE(fuzz) {
	struct ringvm_nl *nl;
};

FIXTURE_SETUP(fuzz)
{
	int ret = ringvm_ensure_loaded();

	pool_init();
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct vm_list l;

	pool_close_all();
	if (pool.nlfd >= 0)
		close(pool.nlfd);
	if (pool.devfd >= 0)
		close(pool.devfd);
	if (pool.nullfd >= 0)
		close(pool.nullfd);
	if (self->nl) {
		delete_named_vms(self->nl, &l);
		ringvm_nl_close(self->nl);
	}
	ringvm_ensure_unloaded();
}

static void fz_setup_memory(struct __test_metadata *_metadata)
{
	__u8 *p;

	p = mmap(NULL, (FZ_ARG_PAGES + 2) * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	pool.arg = p;
	pool.guard = p + FZ_ARG_PAGES * PAGE;
	pool.ro = pool.guard + PAGE;
	ASSERT_EQ(0, mprotect(pool.guard, PAGE, PROT_NONE));
	memset(pool.ro, 0x5a, PAGE);
	ASSERT_EQ(0, mprotect(pool.ro, PAGE, PROT_READ));
}

static void fz_config(void)
{
	const char *s = getenv("RINGVM_FUZZ_SEED");
	bool fast = host_is_tcg();

	fz_tcg_svm = fast && cpuinfo_arch() == RINGVM_ARCH_SVM;
	fz.seed = s && *s ? strtoull(s, NULL, 0) : FZ_DEFAULT_SEED;
	s = getenv("RINGVM_FUZZ_CALLS");
	fz.limit = s && *s ? strtoul(s, NULL, 0) :
		   fast ? FZ_CALLS_TCG : FZ_CALLS_SLOW;
	s = getenv("RINGVM_FUZZ_VERBOSE");
	fz.verbose = s && *s == '1';
	fz.watchdog_s = fast ? FZ_WATCHDOG_S : 2 * FZ_WATCHDOG_S;
	fz_run_us = fast ? 2000 : 1000;
	printf("# fuzz: seed %#llx (RINGVM_FUZZ_SEED), %lu calls (%s), "
	       "watchdog %u s\n", (unsigned long long)fz.seed, fz.limit,
	       fast ? "TCG" : "not TCG: fewer", fz.watchdog_s);
	fflush(stdout);
}

static void (*const fz_steps[])(void) = {
	step_dev, step_vm, step_vcpu, step_run, step_mmap, step_mem,
	step_nl, step_fd,
};

/* Per 100 steps; RUN bursts and netlink are the expensive ones. */
static const unsigned int fz_weights[] = {
	[T_DEV] = 14, [T_VM] = 16, [T_VCPU] = 24, [T_RUN] = 5,
	[T_MMAP] = 9, [T_MEM] = 7, [T_NL] = 20, [T_FD] = 5,
};

TEST_F_TIMEOUT(fuzz, abi, 280)
{
	struct sigaction alarm_sa = { .sa_handler = on_alarm };
	struct sigaction fault_sa = {
		.sa_sigaction = on_fault,
		.sa_flags = SA_SIGINFO | SA_RESETHAND,
	};
	struct timespec t0, t1;
	struct ringvm_caps caps = { 0 };
	struct vm_list left;
	pthread_t wd;
	unsigned long step;
	int fds_before, fds_after, ret;
	char refcnt[32] = "";
	FILE *f;

	memset(&fz, 0, sizeof(fz));
	fz_config();
	fz_setup_memory(_metadata);
	ASSERT_EQ(0, sigaction(SIGALRM, &alarm_sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &fault_sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &fault_sa, NULL));

	fds_before = count_fds();
	ASSERT_LE(0, fds_before);
	pool.devfd = __ringvm_open();
	ASSERT_LE(0, pool.devfd);
	ASSERT_EQ(0, __ringvm_get_caps(pool.devfd, &caps));
	pool.arch = caps.arch;
	pool.large_pages = caps.features & RINGVM_FEAT_LARGE_PAGES;
	pool.nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pool.nullfd);
	pool.nlfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			   NETLINK_GENERIC);
	ASSERT_LE(0, pool.nlfd);
	ret = nl_resolve(pool.nlfd);
	ASSERT_LT(0, ret) TH_LOG("family %s: %s", RINGVM_FAMILY_NAME,
				 strerror(-ret));
	pool.family = ret;

	fz_kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	fz.tid = syscall(SYS_gettid);
	if (cpus_online() > 1) {
		cpu_set_t rest;
		int cpu;

		CPU_ZERO(&rest);
		for (cpu = 1; cpu < cpus_online(); cpu++)
			CPU_SET(cpu, &rest);
		fz.pinned = !sched_setaffinity(0, sizeof(rest), &rest);
	}
	ASSERT_EQ(0, pthread_create(&wd, NULL, watchdog, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (step = 0; fz.total < fz.limit; step++) {
		unsigned int w = 0, t = 0, r;

		step_seed(step);
		r = rnd(100);
		while (t < NR_TARGETS - 1 && r >= w + fz_weights[t])
			w += fz_weights[t++];
		fz_steps[t]();
		if (fz.nr_failures > 100)
			break;
	}
	fz.step = step;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	__atomic_store_n(&fz.stop, 1, __ATOMIC_RELEASE);
	pthread_join(wd, NULL);

	/* Everything closed: no fd of ours is left, no VM either */
	pool_close_all();
	close(pool.nlfd);
	close(pool.devfd);
	close(pool.nullfd);
	if (fz_kmsg >= 0)
		close(fz_kmsg);
	pool.nlfd = pool.devfd = pool.nullfd = fz_kmsg = -1;
	print_stats(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);

	fds_after = count_fds();
	if (fds_after != fds_before)
		list_fds();
	EXPECT_EQ(fds_before, fds_after) TH_LOG("fds leaked");

	ret = delete_named_vms(self->nl, &left);
	EXPECT_LE(0, ret) TH_LOG("vm dump: %s", strerror(-ret));
	EXPECT_EQ(0, left.nr_anon) TH_LOG("anonymous VMs outlived their fds");
	printf("# fuzz: %d named VMs deleted at the end (%u tracked)\n", ret,
	       pool.nr_named);
	ret = delete_named_vms(self->nl, &left);
	EXPECT_EQ(0, ret) TH_LOG("VMs left after deleting the named ones");
	ringvm_nl_close(self->nl);
	self->nl = NULL;

	f = fopen("/sys/module/" RINGVM_MODULE_NAME "/refcnt", "r");
	if (f) {
		if (!fgets(refcnt, sizeof(refcnt), f))
			refcnt[0] = 0;
		fclose(f);
	}
	EXPECT_EQ(0, atoi(refcnt)) TH_LOG("module refcount %s", refcnt);
	ret = ringvm_unload();
	EXPECT_EQ(0, ret) TH_LOG("rmmod: %s", strerror(-ret));
	EXPECT_FALSE(ringvm_module_loaded(RINGVM_MODULE_NAME));

	ASSERT_EQ(0, fz.nr_failures) TH_LOG("%u failures; the first: %s",
					    fz.nr_failures, fz.first_failure);
	ASSERT_LE(fz.limit, fz.total);
}

/*
 * Like RINGVM_GUEST_TEST_MAIN, but the cleanup around the tests deletes
 * every named VM: the fuzzer's names are its own invention.
 */
int main(int argc, char **argv)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "must run as root";
	else if (cpuinfo_arch() == RINGVM_ARCH_NONE)
		why = "no vmx or svm flag in /proc/cpuinfo";
	if (why) {
		ksft_print_header();
		ksft_exit_skip("%s\n", why);
	}
	atexit(guest_test_atexit);
	return test_harness_run(argc, argv);
}
