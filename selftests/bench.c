// SPDX-License-Identifier: GPL-2.0
/*
 * bench: ringvm against KVM on the same CPU, one round trip at a time
 * (issue 10).  Not a test: it asserts no timing, and the runner's bench
 * mode (run.sh --bench, make bench) calls it, not tests.list.
 *
 *   bench check               the method: a loop of N iterations of 3
 *                             instructions must read 3N TSC ticks (1 %)
 *   bench run ringvm|kvm LABEL
 *                             measure every round trip through /dev/ringvm
 *                             or /dev/kvm (the module already loaded);
 *                             prints "LABEL NAME TICKS" lines
 *   bench run ringvm|kvm LABEL KEY...
 *                             only the empty loop and these round trips
 *   bench table FILE...       check the method again, then print one
 *                             table from the outputs of run: the first
 *                             file is ringvm's, the others KVM's
 *   bench linux ringvm|kvm LABEL
 *                             boot the Linux guest of /ringvm/guests with
 *                             vmctl run (--backend kvm for kvm) to its
 *                             power-off (section 7)
 *   bench guard BASELINE RUN SLOWED
 *                             the regression guard (make bench-guard):
 *                             every figure of BASELINE against RUN (a run
 *                             of ringvm), failing on one more than
 *                             GUARD_PCT % above it; and SLOWED, a run of
 *                             the CPUID round trip with ringvm loaded
 *                             with debug_slow_cpuid, must fail that test
 *
 * The method.  In the svm machine under QEMU -icount shift=0 (and under
 * Bochs, whose TSC counts instructions) the TSC advances one tick per
 * retired instruction, so the TSC read in this process (LFENCE; RDTSC;
 * LFENCE) around a loop of N round trips counts every instruction the
 * round trips execute: this process, the outer kernel, the hypervisor
 * and the guest.  Each figure is the smallest of BENCH_REPS runs, less
 * the same loop with nothing in it (the guest's DEC/JNZ and the one
 * entry and exit), divided by N.
 *
 * The method is checked twice: in this process (bench check, and before
 * a table or a guard's verdict), and in the guest, where a loop of
 * CHECK_N iterations of 3 instructions between two RDTSCs must read
 * 3 * CHECK_N ticks within GUEST_CHECK_TOL (loop_tsc, reported by run
 * as "guest_method", checked by table and guard).
 *
 * The guest is the same for both: this binary laid out in guest RAM by
 * the selftest library (lib/vm.c, guest_image_build() for KVM), one vCPU
 * in long mode, and for each round trip a loop in assembly below, whose
 * registers are R8 = N and R9 = an address; it ends with an OUT to
 * DONE_PORT.  KVM runs without an in-kernel irqchip, so HLT, port I/O
 * and MMIO reach user space as they do with ringvm.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/kvm.h>

#include "guest.h"

#define BENCH_REPS	5
#define BENCH_N		1000		/* round trips per measurement */
#define BENCH_PAGES	BENCH_N		/* fresh pages per measurement */
/* Room for BENCH_N fresh pages from a 2 MiB boundary: two blocks. */
#define BLOCK_STRIDE	(2 * GUEST_LARGE_PAGE)
/*
 * Iterations of the method check: 300,000 ticks, well inside the 4
 * million between two timer ticks at HZ=250 and a 1 GHz icount TSC, so
 * that most runs see no interrupt.
 */
#define CHECK_N		100000
#define COMPUTE_N	1000000		/* iterations of the compute loop */
/*
 * The guest's method check reads a few ticks more than 3 * CHECK_N:
 * between its two RDTSCs run, besides the loop, LFENCE, SHL, OR and MOV
 * before it and LFENCE after it (300,006 ticks on svm); 30 ticks
 * (0.01 %) allow for that and nothing else.
 */
#define GUEST_CHECK_TOL	30
#define GUARD_PCT	5		/* the guard's allowance, in % */

#define BENCH_PORT	0xe0		/* the port of the I/O round trips */
#define DONE_PORT	0xe4		/* the guest's loop is over */
#define MSR_MISC_ENABLE	0x1a0		/* both keep it in ring 0 */
#define KVM_HC_NOP	1		/* KVM_HC_VAPIC_POLL_IRQ returns 0 */
/*
 * A hypercall each side hands to user space: for ringvm any number it
 * does not know; for KVM only KVM_HC_MAP_GPA_RANGE (12) can, once the VM
 * enabled KVM_CAP_EXIT_HYPERCALL for it, with a page-aligned address in
 * RBX and a nonzero page count in RCX (kvm_emulate_hypercall()).
 */
#define RINGVM_HC_USER	0x100
#define KVM_HC_USER	12		/* KVM_HC_MAP_GPA_RANGE */

#define __str(x)	#x
#define str(x)		__str(x)

/*
 * Guest code: "1: BODY; dec COUNT; jnz 1b", then OUT to DONE_PORT, as
 * @bits-bit code.  BODY must leave COUNT alone.
 */
#define GUEST_LOOP_AS(name, bits, count, body)				\
	asm(".pushsection .text\n"					\
	    ".globl " #name "\n"					\
	    ".type " #name ", @function\n"				\
	    ".code" bits "\n"						\
	    #name ":\n"							\
	    "1:\n\t" body "\n\t"					\
	    "dec %" count "\n\t"					\
	    "jnz 1b\n\t"						\
	    "mov $" str(DONE_PORT) ", %edx\n\t"				\
	    "out %al, %dx\n"						\
	    "2:\n\t"							\
	    "hlt\n\t"							\
	    "jmp 2b\n"							\
	    ".code64\n"							\
	    ".size " #name ", . - " #name "\n"				\
	    ".popsection\n");						\
	extern char name[]

/* Long mode: R8 counts. */
#define GUEST_LOOP(name, body)	GUEST_LOOP_AS(name, "64", "r8", body)

/* The compute loop: with DEC/JNZ, five instructions an iteration. */
#define COMPUTE_BODY	"imul %r8, %rax\n\tadd $7, %rax\n\txor %rax, %r11"

GUEST_LOOP(loop_empty, "");
GUEST_LOOP(loop_cpuid, "xor %eax, %eax\n\txor %ecx, %ecx\n\tcpuid");
GUEST_LOOP(loop_vmmcall, "mov %r10, %rax\n\tvmmcall");
GUEST_LOOP(loop_vmcall, "mov %r10, %rax\n\tvmcall");
#define HC_USER_ARGS	"mov %r10, %rax\n\txor %ebx, %ebx\n\t"		\
			"mov $1, %ecx\n\txor %edx, %edx\n\t"
GUEST_LOOP(loop_vmmcall_user, HC_USER_ARGS "vmmcall");
GUEST_LOOP(loop_vmcall_user, HC_USER_ARGS "vmcall");
GUEST_LOOP(loop_rdmsr, "mov $" str(MSR_MISC_ENABLE) ", %ecx\n\trdmsr");
GUEST_LOOP(loop_out, "mov $" str(BENCH_PORT) ", %edx\n\tout %al, %dx");
GUEST_LOOP(loop_in, "mov $" str(BENCH_PORT) ", %edx\n\tin %dx, %al");
GUEST_LOOP(loop_mmio_write, "mov %eax, (%r9)");
GUEST_LOOP(loop_mmio_read, "mov (%r9), %eax");
GUEST_LOOP(loop_hlt, "hlt");
GUEST_LOOP(loop_fresh_page, "mov %eax, (%r9)\n\tadd $4096, %r9");
GUEST_LOOP(loop_compute, COMPUTE_BODY);

/*
 * The real-mode loops: 16-bit code run with CS's base at the loop and IP
 * 0 (a base anywhere below 4 GiB is real mode's hidden part, as at
 * reset), ESI the count, EDI the hypercall number, DS's base at
 * GUEST_MMIO_GPA for the MMIO rows.
 */
#define GUEST_LOOP16(name, body)	GUEST_LOOP_AS(name, "16", "esi", body)

GUEST_LOOP16(rm_empty, "");
GUEST_LOOP16(rm_cpuid, "xor %eax, %eax\n\txor %ecx, %ecx\n\tcpuid");
GUEST_LOOP16(rm_vmmcall, "mov %edi, %eax\n\tvmmcall");
GUEST_LOOP16(rm_vmcall, "mov %edi, %eax\n\tvmcall");
#define RM_HC_USER_ARGS	"mov %edi, %eax\n\txor %ebx, %ebx\n\t"		\
			"mov $1, %ecx\n\txor %edx, %edx\n\t"
GUEST_LOOP16(rm_vmmcall_user, RM_HC_USER_ARGS "vmmcall");
GUEST_LOOP16(rm_vmcall_user, RM_HC_USER_ARGS "vmcall");
GUEST_LOOP16(rm_rdmsr, "mov $" str(MSR_MISC_ENABLE) ", %ecx\n\trdmsr");
GUEST_LOOP16(rm_out, "mov $" str(BENCH_PORT) ", %dx\n\tout %al, %dx");
GUEST_LOOP16(rm_in, "mov $" str(BENCH_PORT) ", %dx\n\tin %dx, %al");
GUEST_LOOP16(rm_mmio_write, "movl %eax, 0");
GUEST_LOOP16(rm_mmio_read, "movl 0, %eax");
GUEST_LOOP16(rm_hlt, "hlt");

/*
 * The method check in the guest: R8 iterations of INC, DEC, JNZ between
 * two reads of the TSC, whose difference it leaves in R11.
 */
#define GUEST_TSC_R11							\
	"lfence\n\trdtsc\n\tlfence\n\t"				\
	"shl $32, %rdx\n\tor %rdx, %rax\n\t"
asm(".pushsection .text\n"
	".globl loop_tsc\n"
	".type loop_tsc, @function\n"
	"loop_tsc:\n\t"
	GUEST_TSC_R11
	"mov %rax, %r11\n"
	"1:\n\t"
	"inc %r10\n\t"
	"dec %r8\n\t"
	"jnz 1b\n\t"
	GUEST_TSC_R11
	"sub %rax, %r11\n\t"
	"neg %r11\n\t"
	"mov $" str(DONE_PORT) ", %edx\n\t"
	"out %al, %dx\n"
	"2:\n\t"
	"hlt\n\t"
	"jmp 2b\n"
	".size loop_tsc, . - loop_tsc\n"
	".popsection\n");
extern char loop_tsc[];

/* The same compute loop in this process: bench_compute_native(n). */
asm(".pushsection .text\n"
	".globl bench_compute_native\n"
	".type bench_compute_native, @function\n"
	"bench_compute_native:\n\t"
	"mov %rdi, %r8\n"
	"1:\n\t" COMPUTE_BODY "\n\t"
	"dec %r8\n\t"
	"jnz 1b\n\t"
	"ret\n"
	".size bench_compute_native, . - bench_compute_native\n"
	".popsection\n");
void bench_compute_native(__u64 n);

/* 1. The TSC and the method check */

static inline __u64 tsc(void)
{
	__u32 lo, hi;

	asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)
		     : : "memory");
	return (__u64)hi << 32 | lo;
}

/* N iterations of exactly three instructions: INC, DEC, JNZ. */
static __u64 three_insn_loop(__u64 n)
{
	__u64 t0, t1, x = 0;

	t0 = tsc();
	asm volatile("1:\n\t"
		     "inc %0\n\t"
		     "dec %1\n\t"
		     "jnz 1b"
		     : "+r"(x), "+r"(n) : : "cc");
	t1 = tsc();
	return t1 - t0;
}

/*
 * Whether the TSC counts instructions here: the smallest of CHECK_REPS
 * runs of three_insn_loop(CHECK_N) within CHECK_PCT % of 3 * CHECK_N.
 * Under Bochs the outer kernel's own interrupts land in every run late
 * in a boot: the check before the vmx table read 305,711 at best of 20
 * (1.9 %), the same to the tick in two boots (Bochs is deterministic),
 * where early in the boot it reads 300,007 to 302,859.  So 2 %: enough
 * to tell an instruction-counting TSC from any other (this development
 * host, without icount, reads 0.78 ticks an instruction).  The strict
 * check is the guest's (guest_method_ok(): 30 ticks in 300,000), which
 * every side of a table must pass.
 */
#define CHECK_REPS	20
#define CHECK_PCT	2

static bool method_check(void)
{
	__u64 best = ~0ULL, want = 3ULL * CHECK_N, t, back;
	unsigned int i;
	bool ok;

	back = tsc();
	back = tsc() - back;
	for (i = 0; i < CHECK_REPS; i++) {
		t = three_insn_loop(CHECK_N);
		printf("method: %u x 3 instructions: %llu TSC ticks\n",
		       CHECK_N, (unsigned long long)t);
		if (t < best)
			best = t;
	}
	ok = best >= want - want * CHECK_PCT / 100 &&
	     best <= want + want * CHECK_PCT / 100;
	printf("method: back-to-back TSC reads: %llu ticks; loop: %llu, "
	       "want %llu +-%u%%: %s\n", (unsigned long long)back,
	       (unsigned long long)best, (unsigned long long)want, CHECK_PCT,
	       ok ? "the TSC counts instructions" :
	       "the TSC does NOT count instructions here");
	return ok;
}

/* 2. Two hypervisors behind one interface */

enum bexit {
	BX_DONE,		/* OUT to DONE_PORT: the loop is over */
	BX_OUT,			/* OUT to BENCH_PORT */
	BX_IN,			/* IN from BENCH_PORT (answered 0x5a) */
	BX_MMIO_WRITE,
	BX_MMIO_READ,		/* answered 0x5a5a5a5a */
	BX_HLT,
	BX_HC,			/* the user-space hypercall (ret 0) */
	BX_OTHER,		/* anything else: the measurement fails */
};

struct bench {
	bool kvm;
	bool real;		/* the vCPU in real mode (bench_real_sregs()) */
	__u32 arch;		/* RINGVM_ARCH_VMX / _SVM */
	__u64 ram_size;
	__u64 fresh_gpa;	/* never touched: BENCH_REPS * BENCH_PAGES */
	__u64 block_gpa;	/* never touched: BENCH_REPS * BLOCK_STRIDE */
	/* ringvm */
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	struct ringvm_nl *nl;	/* vcpu-stats-get: the world switches */
	/* KVM */
	struct kvm_guest kg;
	char why[160];		/* what the last BX_OTHER was */
};

/*
 * The layout, the same for every side: the guest, BENCH_REPS *
 * BENCH_PAGES fresh pages, then BENCH_REPS runs of fresh 2 MiB blocks
 * (BENCH_N pages from a block boundary each, so two blocks a run).
 * @large: a ringvm VM with RINGVM_VM_LARGE_PAGES, or KVM's RAM with
 * MADV_HUGEPAGE (transparent huge pages of the outer kernel).
 */
static int bench_setup(struct bench *b, bool kvm, bool large)
{
	__u64 base = vm_guest_ram_size();
	int ret;

	memset(b, 0, sizeof(*b));
	kvm_guest_init(&b->kg);
	b->kvm = kvm;
	b->arch = cpuinfo_arch();
	b->fresh_gpa = base;
	b->block_gpa = (base + BENCH_REPS * BENCH_PAGES * GUEST_PAGE_SIZE +
			GUEST_LARGE_PAGE - 1) & ~(GUEST_LARGE_PAGE - 1);
	b->ram_size = b->block_gpa + BENCH_REPS * BLOCK_STRIDE;
	if (kvm) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXIT_HYPERCALL,
			.args[0] = 1ULL << KVM_HC_USER,
		};

		ret = kvm_guest_create_long_thp(&b->kg, b->ram_size, large);
		if (ret)
			return ret;
		return ioctl(b->kg.vm_fd, KVM_ENABLE_CAP, &cap) < 0 ?
			-errno : 0;
	}
	{
		struct vm_opts opts = {
			.ram_size = b->ram_size,
			.flags = large ? RINGVM_VM_LARGE_PAGES : 0,
		};

		ret = __vm_create(&b->vm, &opts);
		if (ret)
			return ret;
		return __vm_vcpu_add(b->vm, 0, loop_empty, &b->vcpu);
	}
}

static void bench_teardown(struct bench *b)
{
	if (b->kvm)
		kvm_guest_destroy(&b->kg);
	else
		vm_destroy(b->vm);
	if (b->nl)
		ringvm_nl_close(b->nl);
}

/*
 * The world-switch work of ringvm's vCPU (vcpu-stats-get, stats.c): VMCS
 * loads and clears (VMX), saves of the host's state (SVM), MSR switches.
 */
enum { SW_LOADS, SW_CLEARS, SW_SAVES, SW_MSRS, SW_NR };
static const char *const sw_keys[SW_NR] = {
	"sw_vmcs_loads", "sw_vmcs_clears", "sw_host_saves", "sw_msr_switches",
};

static int sw_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	__u64 *sw = arg;

	sw[SW_LOADS] = st->vmcs_loads;
	sw[SW_CLEARS] = st->vmcs_clears;
	sw[SW_SAVES] = st->host_state_saves;
	sw[SW_MSRS] = st->msr_switches;
	return 0;
}

/* @sw[SW_NR] of vCPU 0 now: 0 or -errno. */
static int bench_switches(struct bench *b, __u64 *sw)
{
	int ret;

	if (!b->nl) {
		ret = __ringvm_nl_open(&b->nl);
		if (ret)
			return ret;
	}
	return __ringvm_nl_vcpu_stats_dump(b->nl, b->vm->id, NULL, sw_cb, sw);
}

/*
 * Real mode, with the segments of GUEST_LOOP16: CR0 ET only, no paging,
 * no EFER bits; CS's base at @code; the others' limits 64 KiB, DS's base
 * GUEST_MMIO_GPA.  TR, LDTR and the tables stay as they were (real mode
 * uses none of them).  @s is a struct kvm_sregs or ringvm_sregs, whose
 * fields are named alike.
 */
#define RM_SEG(s, b, t)	((__typeof__((s).cs)){ .base = (b),		\
			  .limit = 0xffff, .type = (t), .present = 1, .s = 1 })
#define REAL_MODE_SREGS(s, code)					\
	do {								\
		(s).cs = RM_SEG(s, (uintptr_t)(code), 0xb);		\
		(s).ds = RM_SEG(s, GUEST_MMIO_GPA, 0x3);		\
		(s).es = (s).fs = (s).gs = (s).ss = RM_SEG(s, 0, 0x3);	\
		(s).cr0 = X86_CR0_ET;					\
		(s).cr4 = 0;						\
		(s).efer = 0;						\
	} while (0)

static int bench_real_sregs(struct bench *b, void *code)
{
	if (b->kvm) {
		struct kvm_sregs s;

		if (ioctl(b->kg.vcpu_fd, KVM_GET_SREGS, &s) < 0)
			return -errno;
		REAL_MODE_SREGS(s, code);
		return ioctl(b->kg.vcpu_fd, KVM_SET_SREGS, &s) < 0 ?
			-errno : 0;
	} else {
		struct ringvm_sregs s;
		int ret = __ringvm_get_sregs(b->vcpu->fd, &s);

		if (ret)
			return ret;
		REAL_MODE_SREGS(s, code);
		return __ringvm_set_sregs(b->vcpu->fd, &s);
	}
}

/*
 * The registers a loop starts with, in either layout (struct kvm_regs
 * and ringvm_regs name them alike): R8 = @n, R9 = @r9, R10 = @r10 for
 * the long-mode loops, ESI = @n and EDI = @r10 for the real-mode ones
 * (each ignores the other's); RIP @code, or 0 in real mode, whose CS
 * base is @code.
 */
#define BENCH_REGS(b, code, n, r9, r10) {				\
	.rip = (b)->real ? 0 : (uintptr_t)(code),			\
	.rsp = GUEST_STACKS_GPA + GUEST_STACK_SIZE - 8, .rflags = 2,	\
	.r8 = (n), .r9 = (r9), .r10 = (r10), .rsi = (n), .rdi = (r10),	\
}

/* Point the vCPU at @code (BENCH_REGS()), in real mode if b->real. */
static int bench_start(struct bench *b, void *code, __u64 n, __u64 r9,
		       __u64 r10)
{
	if (b->real) {
		int ret = bench_real_sregs(b, code);

		if (ret)
			return ret;
	}
	if (b->kvm) {
		struct kvm_regs regs = BENCH_REGS(b, code, n, r9, r10);

		return ioctl(b->kg.vcpu_fd, KVM_SET_REGS, &regs) < 0 ?
			-errno : 0;
	} else {
		struct ringvm_regs regs = BENCH_REGS(b, code, n, r9, r10);

		return __ringvm_set_regs(b->vcpu->fd, &regs);
	}
}

/* R11 of the vCPU, where loop_tsc leaves its count; 0 on failure. */
static __u64 bench_r11(struct bench *b)
{
	if (b->kvm) {
		struct kvm_regs regs;

		return ioctl(b->kg.vcpu_fd, KVM_GET_REGS, &regs) < 0 ?
			0 : regs.r11;
	} else {
		struct ringvm_regs regs;

		return __ringvm_get_regs(b->vcpu->fd, &regs) ? 0 : regs.r11;
	}
}

static enum bexit io_exit(bool in, __u16 port, __u8 size, void *data)
{
	if (port == DONE_PORT && !in)
		return BX_DONE;
	if (port != BENCH_PORT || size != 1)
		return BX_OTHER;
	if (!in)
		return BX_OUT;
	*(__u8 *)data = 0x5a;
	return BX_IN;
}

static enum bexit mmio_exit(bool write, __u64 gpa, __u32 len, __u8 *data)
{
	if (gpa != GUEST_MMIO_GPA || len != 4)
		return BX_OTHER;
	if (write)
		return BX_MMIO_WRITE;
	memset(data, 0x5a, 4);
	return BX_MMIO_READ;
}

static enum bexit kvm_step(struct bench *b)
{
	struct kvm_run *run = b->kg.run;

	if (ioctl(b->kg.vcpu_fd, KVM_RUN, 0) < 0) {
		snprintf(b->why, sizeof(b->why), "KVM_RUN: %s",
			 strerror(errno));
		return BX_OTHER;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.count == 1)
			return io_exit(run->io.direction == KVM_EXIT_IO_IN,
				       run->io.port, run->io.size,
				       (char *)run + run->io.data_offset);
		break;
	case KVM_EXIT_MMIO:
		return mmio_exit(run->mmio.is_write, run->mmio.phys_addr,
				 run->mmio.len, run->mmio.data);
	case KVM_EXIT_HLT:
		return BX_HLT;
	case KVM_EXIT_HYPERCALL:
		if (run->hypercall.nr != KVM_HC_USER)
			break;
		run->hypercall.ret = 0;
		return BX_HC;
	}
	snprintf(b->why, sizeof(b->why), "KVM exit %u", run->exit_reason);
	return BX_OTHER;
}

static enum bexit ringvm_step(struct bench *b)
{
	struct ringvm_run *run = b->vcpu->run;
	int ret = __ringvm_run(b->vcpu->fd);

	if (ret) {
		snprintf(b->why, sizeof(b->why), "RINGVM_RUN: %s",
			 strerror(-ret));
		return BX_OTHER;
	}
	switch (run->exit_reason) {
	case RINGVM_EXIT_IO:
		if (run->io.count == 1)
			return io_exit(run->io.direction == RINGVM_IO_IN,
				       run->io.port, run->io.size,
				       ringvm_run_io_data(run));
		break;
	case RINGVM_EXIT_MMIO:
		return mmio_exit(run->mmio.is_write, run->mmio.gpa,
				 run->mmio.len, run->mmio.data);
	case RINGVM_EXIT_HLT:
		return BX_HLT;
	case RINGVM_EXIT_HYPERCALL:
		if (run->hypercall.nr != RINGVM_HC_USER)
			break;
		run->hypercall.ret = 0;
		return BX_HC;
	}
	vcpu_exit_str(b->vcpu, b->why, sizeof(b->why));
	return BX_OTHER;
}

/*
 * Run @code once (R8 = @n, R9 = @r9, R10 = @r10): every exit until the
 * one to DONE_PORT must be @want, and there must be @n of them unless
 * @want is BX_DONE.  The TSC ticks it took, or 0 on failure (b->why).
 */
static __u64 bench_once(struct bench *b, void *code, __u64 n, __u64 r9,
			__u64 r10, enum bexit want)
{
	__u64 t0, t1, exits = 0;
	enum bexit e;
	int ret;

	ret = bench_start(b, code, n, r9, r10);
	if (ret) {
		snprintf(b->why, sizeof(b->why), "set regs: %s",
			 strerror(-ret));
		return 0;
	}
	t0 = tsc();
	for (;;) {
		e = b->kvm ? kvm_step(b) : ringvm_step(b);
		if (e == BX_DONE)
			break;
		if (e != want) {
			if (e != BX_OTHER)
				snprintf(b->why, sizeof(b->why),
					 "exit kind %d, not %d", e, want);
			return 0;
		}
		exits++;
	}
	t1 = tsc();
	if (want != BX_DONE && exits != n) {
		snprintf(b->why, sizeof(b->why), "%llu exits, not %llu",
			 (unsigned long long)exits, (unsigned long long)n);
		return 0;
	}
	return t1 - t0;
}

/*
 * The outer kernel's own ioctl path, which every round trip to user
 * space takes once and which neither hypervisor can shorten: syscall
 * entry and exit, the file lookup, the LSM hook and the VFS dispatch,
 * ended here at once by /dev/null, which has no ioctls (ENOTTY).  Per
 * call with this loop's own few instructions, best of BENCH_REPS loops
 * of BENCH_N; 0 on failure.
 */
static __u64 ioctl_path_ticks(void)
{
	__u64 best = ~0ULL, t0, t1;
	unsigned int i, j;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (i = 0; i < BENCH_REPS && best; i++) {
		t0 = tsc();
		for (j = 0; j < BENCH_N; j++)
			if (ioctl(fd, 0) != -1 || errno != ENOTTY)
				break;
		t1 = tsc();
		if (j < BENCH_N)
			best = 0;
		else if (t1 - t0 < best)
			best = t1 - t0;
	}
	close(fd);
	return (best + BENCH_N / 2) / BENCH_N;
}

/* 3. The round trips */

enum { ARG_NONE, ARG_MMIO, ARG_FRESH, ARG_BLOCK, ARG_HC, ARG_HC_USER };

struct trip {
	const char *key;	/* one word, for the run files */
	const char *what;	/* the table's first column */
	void *code;
	enum bexit want;
	int arg;
	bool large;		/* in the large-page VM (bench_setup()) */
	bool real;		/* in real mode (GUEST_LOOP16) */
};

static const struct trip trips[] = {
	{ "cpuid", "CPUID (leaf 0), in the kernel", loop_cpuid,
	  BX_DONE, ARG_NONE, false, false },
	{ "hypercall", "no-op hypercall, in the kernel", NULL,
	  BX_DONE, ARG_HC, false, false },
	{ "rdmsr", "RDMSR MISC_ENABLE, in the kernel", loop_rdmsr,
	  BX_DONE, ARG_NONE, false, false },
	{ "out", "OUT to user space and back", loop_out,
	  BX_OUT, ARG_NONE, false, false },
	{ "in", "IN from user space and back", loop_in,
	  BX_IN, ARG_NONE, false, false },
	{ "mmio_write", "MMIO write to user space and back",
	  loop_mmio_write, BX_MMIO_WRITE, ARG_MMIO, false, false },
	{ "mmio_read", "MMIO read from user space and back",
	  loop_mmio_read, BX_MMIO_READ, ARG_MMIO, false, false },
	{ "hlt", "HLT to user space and back", loop_hlt, BX_HLT, ARG_NONE,
	  false, false },
	{ "hypercall_user", "unknown hypercall to user space and back", NULL,
	  BX_HC, ARG_HC_USER, false, false },
	{ "fresh_page", "first write to a fresh 4 KiB page",
	  loop_fresh_page, BX_DONE, ARG_FRESH, false, false },
	{ "block_4k", "first write to each page of fresh 2 MiB blocks, "
	  "4 KiB nested pages", loop_fresh_page, BX_DONE, ARG_BLOCK, false,
	  false },
	{ "block_2m", "the same with 2 MiB nested pages (ringvm: "
	  "RINGVM_VM_LARGE_PAGES; KVM: THP)", loop_fresh_page, BX_DONE,
	  ARG_BLOCK, true, false },
	{ "rm_cpuid", "real mode: CPUID (leaf 0), in the kernel", rm_cpuid,
	  BX_DONE, ARG_NONE, false, true },
	{ "rm_hypercall", "real mode: no-op hypercall, in the kernel", NULL,
	  BX_DONE, ARG_HC, false, true },
	{ "rm_rdmsr", "real mode: RDMSR MISC_ENABLE, in the kernel",
	  rm_rdmsr, BX_DONE, ARG_NONE, false, true },
	{ "rm_out", "real mode: OUT to user space and back", rm_out,
	  BX_OUT, ARG_NONE, false, true },
	{ "rm_in", "real mode: IN from user space and back", rm_in,
	  BX_IN, ARG_NONE, false, true },
	{ "rm_mmio_write", "real mode: MMIO write to user space and back",
	  rm_mmio_write, BX_MMIO_WRITE, ARG_NONE, false, true },
	{ "rm_mmio_read", "real mode: MMIO read from user space and back",
	  rm_mmio_read, BX_MMIO_READ, ARG_NONE, false, true },
	{ "rm_hlt", "real mode: HLT to user space and back", rm_hlt, BX_HLT,
	  ARG_NONE, false, true },
	{ "rm_hypercall_user", "real mode: unknown hypercall to user space "
	  "and back", NULL, BX_HC, ARG_HC_USER, false, true },
};

/*
 * The smallest of BENCH_REPS runs of @code, each with @n iterations;
 * ARG_FRESH gets pages no one has touched in every run.  0 on failure.
 */
static __u64 bench_best(struct bench *b, const struct trip *t, __u64 n)
{
	void *code = t->code;
	__u64 best = ~0ULL, ticks, r9 = 0, r10 = 0;
	bool svm = b->arch == RINGVM_ARCH_SVM;
	unsigned int i;

	if (t->arg == ARG_HC) {
		if (t->real)
			code = svm ? rm_vmmcall : rm_vmcall;
		else
			code = svm ? loop_vmmcall : loop_vmcall;
		r10 = b->kvm ? KVM_HC_NOP : RINGVM_HC_NOP;
	} else if (t->arg == ARG_HC_USER) {
		if (t->real)
			code = svm ? rm_vmmcall_user : rm_vmcall_user;
		else
			code = svm ? loop_vmmcall_user : loop_vmcall_user;
		r10 = b->kvm ? KVM_HC_USER : RINGVM_HC_USER;
	}
	for (i = 0; i < BENCH_REPS; i++) {
		if (t->arg == ARG_MMIO)
			r9 = GUEST_MMIO_GPA;
		else if (t->arg == ARG_FRESH)
			r9 = b->fresh_gpa + i * BENCH_PAGES * GUEST_PAGE_SIZE;
		else if (t->arg == ARG_BLOCK)
			r9 = b->block_gpa + i * BLOCK_STRIDE;
		ticks = bench_once(b, code, n, r9, r10, t->want);
		if (!ticks)
			return 0;
		if (ticks < best)
			best = ticks;
	}
	return best;
}

/*
 * The VM lifecycle: open the device, create a VM with one page of RAM,
 * write "OUT to DONE_PORT" into it, create vCPU 0 and map its run page,
 * set real-mode registers (CS base 0, IP at the code), run to that first
 * exit, and close it all (the VM goes with its last fd).  LIFE_N cycles
 * a measurement, best of BENCH_REPS: the TSC, which under -icount also
 * counts the time the outer kernel spends idle waiting (for a grace
 * period that KVM's teardown waits for, say), and the calling thread's
 * CPU time, which counts neither that nor work handed to other threads.
 */
#define LIFE_N		20
#define LIFE_GPA	0x1000

static const __u8 life_code[] = {
	0xe6, DONE_PORT,		/* out %al, $DONE_PORT */
	0xf4,				/* hlt */
};

static int ringvm_life_once(void)
{
	struct ringvm_create_vm req = {
		.nr_regions = 1,
		.regions[0] = { .gpa = LIFE_GPA, .size = GUEST_PAGE_SIZE },
	};
	struct ringvm_regs regs = { .rip = LIFE_GPA, .rflags = 0x2 };
	int devfd, vmfd = -1, vcpufd = -1, ret;
	struct ringvm_run *run = NULL;
	struct ringvm_sregs sregs;
	void *mem = NULL;

	devfd = __ringvm_open();
	if (devfd < 0)
		return devfd;
	ret = vmfd = __ringvm_create_vm(devfd, &req);
	if (vmfd >= 0) {
		mem = ringvm_map_guest(vmfd, LIFE_GPA, GUEST_PAGE_SIZE);
		ret = mem ? 0 : -errno;
	}
	if (!ret) {
		memcpy(mem, life_code, sizeof(life_code));
		ret = vcpufd = __ringvm_create_vcpu(vmfd, 0);
	}
	if (vcpufd >= 0) {
		run = ringvm_map_run(vcpufd);
		ret = run ? __ringvm_get_sregs(vcpufd, &sregs) : -errno;
	}
	if (!ret) {
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
		ret = __ringvm_set_sregs(vcpufd, &sregs);
	}
	if (!ret)
		ret = __ringvm_set_regs(vcpufd, &regs);
	if (!ret)
		ret = __ringvm_run(vcpufd);
	if (!ret && (run->exit_reason != RINGVM_EXIT_IO ||
		     run->io.port != DONE_PORT))
		ret = -EPROTO;
	if (run)
		munmap(run, RINGVM_RUN_PAGE_SIZE);
	if (mem)
		munmap(mem, GUEST_PAGE_SIZE);
	if (vcpufd >= 0)
		close(vcpufd);
	if (vmfd >= 0)
		close(vmfd);
	close(devfd);
	return ret;
}

static int kvm_life_once(void)
{
	struct kvm_guest g;
	int ret;

	ret = kvm_guest_create(&g, life_code, sizeof(life_code), LIFE_GPA);
	if (!ret)
		ret = kvm_guest_run(&g);
	if (ret >= 0)
		ret = ret == KVM_EXIT_IO && g.run->io.port == DONE_PORT ?
		      0 : -EPROTO;
	kvm_guest_destroy(&g);
	return ret;
}

static __u64 thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* "LABEL lifecycle TICKS" and "LABEL lifecycle_cpu NS", per cycle. */
static int bench_lifecycle(bool kvm, const char *label)
{
	__u64 best = ~0ULL, best_ns = ~0ULL, t0, ns0;
	unsigned int i, j;
	int ret;

	for (i = 0; i < BENCH_REPS; i++) {
		ns0 = thread_ns();
		t0 = tsc();
		for (j = 0; j < LIFE_N; j++) {
			ret = kvm ? kvm_life_once() : ringvm_life_once();
			if (ret) {
				fprintf(stderr, "bench: %s: lifecycle: %s\n",
					label, strerror(-ret));
				return 1;
			}
		}
		t0 = tsc() - t0;
		ns0 = thread_ns() - ns0;
		if (t0 < best)
			best = t0;
		if (ns0 < best_ns)
			best_ns = ns0;
	}
	printf("%s lifecycle %llu\n%s lifecycle_cpu %llu\n", label,
	       (unsigned long long)(best / LIFE_N), label,
	       (unsigned long long)(best_ns / LIFE_N));
	return 0;
}

/* "LABEL # NAME=VALUE" with the first line of file @path; nothing if none. */
static void print_file(const char *label, const char *name, const char *path)
{
	char val[128] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	if (fgets(val, sizeof(val), f))
		val[strcspn(val, "\n")] = 0;
	fclose(f);
	printf("%s # %s=%s\n", label, name, val);
}

/* A module parameter that says which mitigation a side applies. */
static void print_param(const char *label, const char *module,
			const char *param)
{
	char path[128], name[96];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 param);
	snprintf(name, sizeof(name), "%s.%s", module, param);
	print_file(label, name, path);
}

/*
 * The method check in the guest: the smallest of BENCH_REPS counts of
 * loop_tsc, printed as "LABEL guest_method TICKS"; 0 on failure.
 */
static __u64 guest_method(struct bench *b, const char *label)
{
	__u64 best = ~0ULL, t;
	unsigned int i;

	for (i = 0; i < BENCH_REPS; i++) {
		if (!bench_once(b, loop_tsc, CHECK_N, 0, 0, BX_DONE))
			return 0;
		t = bench_r11(b);
		if (!t)
			return 0;
		if (t < best)
			best = t;
	}
	printf("%s guest_method %llu\n", label, (unsigned long long)best);
	return best;
}

/* Whether round trip @key is one of @keys (all of them if none). */
static bool wanted(const char *key, int nkeys, char **keys)
{
	int i;

	for (i = 0; i < nkeys; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return !nkeys;
}

static int cmd_run(const char *backend, const char *label, int nkeys,
		   char **keys)
{
	static const struct trip empty = {
		.code = loop_empty, .want = BX_DONE,
	};
	static const struct trip compute = {
		.code = loop_compute, .want = BX_DONE,
	};
	static const struct trip empty16 = {
		.code = rm_empty, .want = BX_DONE, .real = true,
	};
	struct bench b, large, real;
	bool large_up = false, real_up = false;
	__u64 base, rm_base = 0, ticks, native = ~0ULL, t0, sw0[SW_NR],
	      sw1[SW_NR];
	unsigned int i, j;
	bool kvm = !strcmp(backend, "kvm");
	int ret, err = 0;

	if (!kvm && strcmp(backend, "ringvm")) {
		fprintf(stderr, "bench: no backend '%s'\n", backend);
		return 2;
	}
	ret = bench_setup(&b, kvm, false);
	if (ret) {
		fprintf(stderr, "bench: %s: setting up the guest: %s\n",
			label, strerror(-ret));
		bench_teardown(&b);
		return 1;
	}
	/* Mitigations are per module: say what this side ran with. */
	print_param(label, "ringvm", "vmentry_l1d_flush");
	print_param(label, "kvm_intel", "vmentry_l1d_flush");
	print_param(label, "kvm_amd", "npt");
	print_param(label, "ringvm", "debug_slow_cpuid");
	/*
	 * The outer kernel's transparent huge pages, which back KVM's RAM in
	 * the 2 MiB rows ("[madvise]" or "[always]": they do; "[never]":
	 * KVM's figure is 4 KiB pages again).
	 */
	if (kvm)
		print_file(label, "transparent_hugepage",
			   "/sys/kernel/mm/transparent_hugepage/enabled");

	base = bench_best(&b, &empty, BENCH_N);
	if (!base) {
		fprintf(stderr, "bench: %s: empty loop: %s\n", label, b.why);
		bench_teardown(&b);
		return 1;
	}
	printf("%s empty %llu\n", label,
	       (unsigned long long)(base / BENCH_N));
	ticks = ioctl_path_ticks();
	if (ticks)
		printf("%s ioctl_path %llu\n", label,
		       (unsigned long long)ticks);
	for (i = 0; i < ARRAY_SIZE(trips); i++) {
		struct bench *bp = trips[i].large ? &large :
				   trips[i].real ? &real : &b;

		if (!wanted(trips[i].key, nkeys, keys))
			continue;
		if (trips[i].real && !real_up) {
			/* a VM of its own, whose vCPU stays in real mode */
			ret = bench_setup(&real, kvm, false);
			real.real = true;
			rm_base = ret ? 0 : bench_best(&real, &empty16,
						       BENCH_N);
			if (!rm_base) {
				fprintf(stderr, "bench: %s: the real-mode "
					"guest: %s\n", label,
					ret ? strerror(-ret) : real.why);
				bench_teardown(&real);
				err = 1;
				break;
			}
			printf("%s rm_empty %llu\n", label,
			       (unsigned long long)(rm_base / BENCH_N));
			real_up = true;
		}
		if (trips[i].large && !large_up) {
			ret = bench_setup(&large, kvm, true);
			if (ret) {
				/* EOPNOTSUPP: no 2 MiB nested pages here */
				fprintf(stderr, "bench: %s: the large-page "
					"guest: %s\n", label, strerror(-ret));
				bench_teardown(&large);
				if (ret != -EOPNOTSUPP)
					err = 1;
				continue;
			}
			large_up = true;
		}
		if (!kvm && bench_switches(bp, sw0))
			sw0[0] = ~0ULL;
		ticks = bench_best(bp, &trips[i], BENCH_N);
		/* all BENCH_REPS runs, BENCH_N round trips each */
		if (!kvm && ticks && sw0[0] != ~0ULL &&
		    !bench_switches(bp, sw1))
			for (j = 0; j < SW_NR; j++)
				printf("%s %s_%s %llu\n", label, sw_keys[j],
				       trips[i].key,
				       (unsigned long long)(sw1[j] - sw0[j]));
		if (!ticks) {
			fprintf(stderr, "bench: %s: %s: %s\n", label,
				trips[i].key, bp->why);
			err = 1;
			continue;
		}
		t0 = trips[i].real ? rm_base : base;
		ticks = ticks > t0 ? ticks - t0 : 0;
		printf("%s %s %llu\n", label, trips[i].key,
		       (unsigned long long)((ticks + BENCH_N / 2) / BENCH_N));
	}
	if (large_up)
		bench_teardown(&large);
	if (real_up)
		bench_teardown(&real);
	if (wanted("lifecycle", nkeys, keys) && bench_lifecycle(kvm, label))
		err = 1;
	if (nkeys) {
		bench_teardown(&b);
		return err;
	}
	if (!guest_method(&b, label)) {
		fprintf(stderr, "bench: %s: guest method check: %s\n", label,
			b.why[0] ? b.why : "no count in R11");
		err = 1;
	}
	ticks = bench_best(&b, &compute, COMPUTE_N);
	if (!ticks) {
		fprintf(stderr, "bench: %s: compute: %s\n", label, b.why);
		err = 1;
	} else {
		for (i = 0; i < BENCH_REPS; i++) {
			t0 = tsc();
			bench_compute_native(COMPUTE_N);
			t0 = tsc() - t0;
			if (t0 < native)
				native = t0;
		}
		printf("%s compute %llu\n%s native %llu\n", label,
		       (unsigned long long)ticks, label,
		       (unsigned long long)native);
	}
	bench_teardown(&b);
	return err;
}

/* 4. The table */

#define MAX_SIDES	4

#define SIDE_KEYS	256

struct side {
	char label[64];
	char keys[SIDE_KEYS][48];	/* sw_msr_switches_rm_hypercall_user */
	__u64 vals[SIDE_KEYS];
	unsigned int n;
	char notes[4][128];
	unsigned int nnotes;
};

static int side_read(struct side *s, const char *path)
{
	char line[256], label[64], key[48];
	unsigned long long v;
	FILE *f = fopen(path, "r");

	memset(s, 0, sizeof(*s));
	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash = strstr(line, " # ");

		if (hash && s->nnotes < 4) {
			line[strcspn(line, "\n")] = 0;
			snprintf(s->notes[s->nnotes++], sizeof(s->notes[0]),
				 "%s", hash + 3);
			continue;
		}
		if (sscanf(line, "%63s %47s %llu", label, key, &v) != 3)
			continue;
		if (s->n >= SIDE_KEYS) {	/* a row of n/a would hide it */
			fprintf(stderr, "bench: %s: more than %u figures\n",
				path, SIDE_KEYS);
			fclose(f);
			return -1;
		}
		snprintf(s->label, sizeof(s->label), "%s", label);
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		s->vals[s->n++] = v;
	}
	fclose(f);
	return 0;
}

/* The value of @key in @s, or -1. */
static long long side_get(const struct side *s, const char *key)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i], key))
			return s->vals[i];
	return -1;
}

static void cell(long long v)
{
	if (v < 0)
		printf(" n/a |");
	else
		printf(" %lld |", v);
}

static void ratio(long long num, long long den)
{
	if (num < 0 || den <= 0)
		printf(" n/a |");
	else
		printf(" %.2f |", (double)num / den);
}

/*
 * The sides of a table: ringvm's first (r), then KVM's (k[]), and any
 * more of ringvm's (x[], e.g. "ringvm-l1d-never"), each compared with
 * the KVM side whose label ends the same way (xk[], or -1).
 */
struct table {
	struct side *r, *k[MAX_SIDES], *x[MAX_SIDES];
	unsigned int nk, nx;
	int xk[MAX_SIDES];
};

static void row(const char *what, const char *key, const struct table *t)
{
	unsigned int i;

	printf("| %s |", what);
	for (i = 0; i < t->nk; i++)
		cell(side_get(t->k[i], key));
	cell(side_get(t->r, key));
	for (i = 0; i < t->nx; i++)
		cell(side_get(t->x[i], key));
	for (i = 0; i < t->nk; i++)
		ratio(side_get(t->r, key), side_get(t->k[i], key));
	for (i = 0; i < t->nx; i++)
		if (t->xk[i] >= 0)
			ratio(side_get(t->x[i], key),
			      side_get(t->k[t->xk[i]], key));
	printf("\n");
}

/* The header of a table of row()s, @first the first column's. */
static void head(const char *first, const struct table *t)
{
	unsigned int i;

	printf("| %s |", first);
	for (i = 0; i < t->nk; i++)
		printf(" %s |", t->k[i]->label);
	printf(" %s |", t->r->label);
	for (i = 0; i < t->nx; i++)
		printf(" %s |", t->x[i]->label);
	for (i = 0; i < t->nk; i++)
		printf(" %s / %s |", t->r->label, t->k[i]->label);
	for (i = 0; i < t->nx; i++)
		if (t->xk[i] >= 0)
			printf(" %s / %s |", t->x[i]->label,
			       t->k[t->xk[i]]->label);
	printf("\n|---|");
	for (i = 0; i < 2 * t->nk + 1 + t->nx; i++)
		printf("---:|");
	for (i = 0; i < t->nx; i++)
		if (t->xk[i] >= 0)
			printf("---:|");
	printf("\n");
}

/* "ringvm-l1d-never" goes with "KVM-l1d-never": the same "-..." tail. */
static int table_pair(const struct table *t, const struct side *x)
{
	const char *tail = strchr(x->label, '-');
	unsigned int i;

	for (i = 0; tail && i < t->nk; i++) {
		const char *kt = strchr(t->k[i]->label, '-');

		if (kt && !strcmp(kt, tail))
			return i;
	}
	return -1;
}

/* The guest's method check of side @s (guest_method()), printed. */
static bool guest_method_ok(const struct side *s)
{
	long long t = side_get(s, "guest_method"), want = 3LL * CHECK_N;
	bool ok = t >= want && t <= want + GUEST_CHECK_TOL;

	printf("method: %s's guest: %u x 3 instructions: %lld TSC ticks, "
	       "want %lld to %lld: %s\n", s->label, CHECK_N, t, want,
	       want + GUEST_CHECK_TOL, ok ? "ok" : "FAILED");
	return ok;
}

/*
 * What zeroing one 4 KiB page costs here, done as the kernel does it on
 * this CPU: every first touch pays it on both sides (KVM's anonymous
 * page and ringvm's guest page are allocated zeroed).  Under TCG each
 * iteration of a REP string instruction retires as one instruction, so
 * REP STOSB of 4096 bytes reads about 4096 ticks.  Best of BENCH_REPS,
 * less two back-to-back TSC reads; *@how says which way was timed.
 */
static __u64 page_clear_ticks(const char **how)
{
	static __u8 page[4096] __attribute__((aligned(4096)));
	__u64 best = ~0ULL, t0, t1, back;
	/* clear_page() in arch/x86/include/asm/page_64.h picks by these */
	bool erms = cpuinfo_has("flags", "erms") > 0;
	bool rep_good = cpuinfo_has("flags", "rep_good") > 0;
	unsigned int i;

	*how = erms ? "REP STOSB, 4096 bytes (erms)" :
	       rep_good ? "REP STOSQ, 512 quadwords (rep_good)" :
	       "REP STOSQ, 512 quadwords (the kernel unrolls a loop here)";
	back = tsc();
	back = tsc() - back;
	for (i = 0; i < BENCH_REPS; i++) {
		void *d = page;
		unsigned long c = erms ? sizeof(page) : sizeof(page) / 8;

		t0 = tsc();
		if (erms)
			asm volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0)
				     : "memory");
		else
			asm volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0)
				     : "memory");
		t1 = tsc();
		if (t1 - t0 - back < best)
			best = t1 - t0 - back;
	}
	return best;
}

/*
 * The round trips to user space (those not ending in BX_DONE) again
 * with the outer kernel's ioctl path (ioctl_path_ticks()) taken out of
 * each side's figure: what the
 * hypervisors themselves, the VMM's loop and the return to user space
 * cost.  Each side's own measurement of that path, from its run.
 */
static void ioctl_path_table(struct side *sides, unsigned int n,
			     const struct table *t)
{
	unsigned int i, j;
	long long v, path;
	char key[48];

	for (i = 0; i < n; i++) {
		path = side_get(&sides[i], "ioctl_path");
		for (j = 0; path > 0 && j < ARRAY_SIZE(trips); j++) {
			v = side_get(&sides[i], trips[j].key);
			if (trips[j].want == BX_DONE || v <= path ||
			    sides[i].n >= SIDE_KEYS)
				continue;
			snprintf(sides[i].keys[sides[i].n],
				 sizeof(sides[i].keys[0]), "less_%s",
				 trips[j].key);
			sides[i].vals[sides[i].n++] = v - path;
		}
	}
	path = side_get(t->r, "ioctl_path");
	if (path <= 0)
		return;
	printf("\n\nthe outer kernel's ioctl path, which every round trip to "
	       "user space takes once (syscall entry and exit, file lookup, "
	       "LSM hook, VFS dispatch; an ioctl on /dev/null that fails "
	       "with ENOTTY): %s %lld ticks, %s %lld; the round trips to "
	       "user space less it\n\n", t->r->label, path, t->k[0]->label,
	       side_get(t->k[0], "ioctl_path"));
	head("round trip", t);
	for (i = 0; i < ARRAY_SIZE(trips); i++) {
		if (trips[i].want == BX_DONE)
			continue;
		snprintf(key, sizeof(key), "less_%s", trips[i].key);
		row(trips[i].what, key, t);
	}
}

/* The fresh-page row again with the page clear both sides pay taken out. */
static void fresh_page_note(const struct table *t)
{
	long long clear, rv = side_get(t->r, "fresh_page");
	const char *how;
	unsigned int i;

	if (rv < 0)
		return;
	clear = page_clear_ticks(&how);
	printf("\nzeroing a 4 KiB page: %lld ticks (%s); the first write to a"
	       " fresh page without it:", clear, how);
	for (i = 0; i < t->nk; i++) {
		long long kv = side_get(t->k[i], "fresh_page");

		if (kv > clear && rv > clear)
			printf(" %s %lld, %s %lld, ratio %.2f;",
			       t->k[i]->label, kv - clear, t->r->label,
			       rv - clear, (double)(rv - clear) / (kv - clear));
	}
	printf("\n");
}

/*
 * ringvm's world-switch work per round trip, from its vcpu-stats-get
 * counters around each row's runs (cmd_run()); nothing if not counted.
 * The runs' own SET_REGS are in; on VMX they find the VMCS parked on
 * their CPU and load nothing (module/vmx/vcpu.c), as the RUNs do, so a
 * figure above 0 there means the thread moved to another CPU.
 */
static void switches_table(const struct side *r)
{
	char key[64];
	unsigned int i, j;
	long long v;

	if (side_get(r, "sw_vmcs_loads_cpuid") < 0)
		return;
	printf("\n%s's world switches per round trip (its vcpu-stats-get "
	       "counters over the %u runs of %u)\n\n"
	       "| round trip | VMCS loads | VMCS clears | host-state saves |"
	       " MSR switches |\n|---|---:|---:|---:|---:|\n", r->label,
	       BENCH_REPS, BENCH_N);
	for (i = 0; i < ARRAY_SIZE(trips); i++) {
		printf("| %s |", trips[i].what);
		for (j = 0; j < SW_NR; j++) {
			snprintf(key, sizeof(key), "%s_%s", sw_keys[j],
				 trips[i].key);
			v = side_get(r, key);
			if (v < 0)
				printf(" n/a |");
			else
				printf(" %.2f |",
				       (double)v / (BENCH_REPS * BENCH_N));
		}
		printf("\n");
	}
}

/*
 * The local APIC paths of 'bench apic' (section 6), where the sides have
 * them: TSC ticks per event, the guest's handler and EOI included.
 */
#define APIC_N		200	/* events per run (section 6) */
#define APIC_REPS	5	/* runs, the best counts */

static const char *const apic_rows[][2] = {
	{ "apic_eoi", "x2APIC EOI, nothing in service (WRMSR)" },
	{ "apic_self_ipi", "self-IPI (WRMSR) delivered, handled, EOI" },
	{ "apic_timer", "TSC-deadline timer interrupt, handled, EOI" },
	{ "apic_ipi", "IPI round trip between two vCPUs, both halting" },
};

static void apic_table(const struct table *t)
{
	unsigned int i;
	long long v;

	if (side_get(t->r, apic_rows[0][0]) < 0)
		return;
	printf("\nlocal APIC in the hypervisor (ringvm: RINGVM_ENABLE_LAPIC; "
	       "KVM: KVM_CAP_SPLIT_IRQCHIP), two vCPUs in x2APIC mode, TSC "
	       "ticks per event, the guest's handler and EOI included; %u "
	       "events, best of %u\n\n", APIC_N, APIC_REPS);
	head("local APIC", t);
	for (i = 0; i < ARRAY_SIZE(apic_rows); i++)
		row(apic_rows[i][1], apic_rows[i][0], t);
	v = side_get(t->r, "apic_msr_switches");
	if (v >= 0)
		printf("\n%s's MSR switches (vcpu-stats-get msr-switches, both "
		       "vCPUs) over the whole run, its %u IPI round trips "
		       "included: %lld\n", t->r->label, APIC_REPS * APIC_N, v);
}

/* The Linux boot of 'bench linux' (section 7), where the sides have it. */
static void linux_table(const struct table *t)
{
	if (side_get(t->r, "linux_init") < 0)
		return;
	printf("\nLinux boot: the test machine's kernel and the initramfs of "
	       "guest-init.sh under vmctl run (1 vCPU, 256 MiB, "
	       "console=ttyS0; KVM: --backend kvm, no in-kernel irqchip), "
	       "from the fork of vmctl to the guest's /init\n\n");
	head("Linux boot to /init", t);
	row("TSC ticks (instructions, and idle time the boot waited)",
	    "linux_init", t);
	row("vmctl's CPU time (user and system, all threads), ms",
	    "linux_init_cpu_ms", t);
	printf("\n(the exits vmctl handled: the notes \"linux exits to "
	       "vmctl\" at the top)\n");
}

static int cmd_table(int argc, char **argv)
{
	static struct side sides[MAX_SIDES];
	struct table t = { .r = &sides[0] };
	struct side *r = t.r;
	unsigned int i, j;

	if (argc < 2 || argc > MAX_SIDES) {
		fprintf(stderr, "usage: bench table RINGVM-FILE KVM-FILE... "
			"[RINGVM-FILE...]\n");
		return 2;
	}
	if (!method_check()) {
		printf("method: failed; no table (boot the machine with "
		       "QEMU -icount shift=0, or Bochs)\n");
		return 1;
	}
	for (i = 0; i < (unsigned int)argc; i++)
		if (side_read(&sides[i], argv[i]))
			return 1;
	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strncmp(sides[i].label, "ringvm", 6))
			t.x[t.nx++] = &sides[i];
		else
			t.k[t.nk++] = &sides[i];
	}
	if (!t.nk) {
		fprintf(stderr, "bench: table: no KVM side\n");
		return 2;
	}
	for (i = 0; i < t.nx; i++)
		t.xk[i] = table_pair(&t, t.x[i]);
	for (i = 0; i < (unsigned int)argc; i++)
		if (!guest_method_ok(&sides[i])) {
			printf("method: failed in the guest; no table\n");
			return 1;
		}

	for (i = 0; i < (unsigned int)argc; i++)
		for (j = 0; j < sides[i].nnotes; j++)
			printf("%s: %s\n", sides[i].label, sides[i].notes[j]);
	printf("\nTSC ticks (= instructions) per round trip, less the empty"
	       " loop (%llu ringvm, %llu KVM); %u round trips, best of %u\n\n",
	       side_get(r, "empty"), side_get(t.k[0], "empty"), BENCH_N,
	       BENCH_REPS);
	head("round trip", &t);
	for (i = 0; i < ARRAY_SIZE(trips); i++)
		row(trips[i].what, trips[i].key, &t);
	printf("\nguest compute loop, %u x 5 instructions, one entry and exit"
	       " (native: %lld ticks)\n\n", COMPUTE_N, side_get(r, "native"));
	printf("| compute |");
	for (i = 0; i < t.nk; i++)
		printf(" %s |", t.k[i]->label);
	printf(" %s |", r->label);
	for (i = 0; i < t.nx; i++)
		printf(" %s |", t.x[i]->label);
	printf("\n|---|");
	for (i = 0; i < t.nk + 1 + t.nx; i++)
		printf("---:|");
	printf("\n| guest / native |");
	for (i = 0; i < t.nk; i++)
		ratio(side_get(t.k[i], "compute"), side_get(t.k[i], "native"));
	ratio(side_get(r, "compute"), side_get(r, "native"));
	for (i = 0; i < t.nx; i++)
		ratio(side_get(t.x[i], "compute"), side_get(t.x[i], "native"));
	printf("\n\nVM lifecycle: open the device, a VM with one page of RAM, "
	       "vCPU 0, real-mode registers, run to the first exit (OUT), "
	       "close; per cycle, %u cycles, best of %u\n\n", LIFE_N,
	       BENCH_REPS);
	head("lifecycle", &t);
	row("TSC ticks (instructions, and idle time the cycle waited)",
	    "lifecycle", &t);
	row("the calling thread's CPU time, ns", "lifecycle_cpu", &t);
	apic_table(&t);
	linux_table(&t);
	ioctl_path_table(sides, argc, &t);
	fresh_page_note(&t);
	switches_table(r);
	return 0;
}

/* 5. The regression guard */

/*
 * Whether @now is more than GUARD_PCT % above @base.  The figures are
 * instruction counts, the same from boot to boot to a few ticks (the
 * fresh page: about 0.3 %), so the allowance is for noise and small
 * changes that a reviewer need not hear about.
 */
static bool guard_above(long long now, long long base)
{
	return now * 100 > base * (100 + GUARD_PCT);
}

/*
 * The baseline: "KEY TICKS" lines, '#' starts a comment.  Read as a
 * side labelled "baseline".
 */
static int baseline_read(struct side *s, const char *path)
{
	char line[256], key[48];
	unsigned long long v;
	FILE *f = fopen(path, "r");

	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "baseline");
	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%47s %llu", key, &v) != 2)
			continue;
		if (s->n >= ARRAY_SIZE(s->vals))
			break;
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		s->vals[s->n++] = v;
	}
	fclose(f);
	if (!s->n) {
		fprintf(stderr, "bench: %s: no figures\n", path);
		return -1;
	}
	return 0;
}

/* The first column's text for @key. */
static const char *trip_what(const char *key)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(trips); i++)
		if (!strcmp(trips[i].key, key))
			return trips[i].what;
	return key;
}

/*
 * The guard: the method (here and in the guest), every baseline figure
 * against the run, and the self-test: the slowed run's CPUID figure
 * must be one the guard flags.  Prints both figures of every row; 0 if
 * all is well.
 */
static int cmd_guard(const char *base_path, const char *run_path,
		     const char *slow_path)
{
	static struct side base, now, slow;
	long long b, n;
	unsigned int i, bad = 0;

	if (!method_check()) {
		printf("guard: the TSC does not count instructions here: "
		       "nothing to compare\n");
		return 1;
	}
	if (baseline_read(&base, base_path) || side_read(&now, run_path) ||
	    side_read(&slow, slow_path))
		return 1;
	if (!guest_method_ok(&now))
		return 1;

	printf("\nringvm's TSC ticks (= instructions) per round trip against"
	       " %s; a figure more than %d %% above it fails\n\n"
	       "| round trip | baseline | now | now / baseline | |\n"
	       "|---|---:|---:|---:|---|\n", base_path, GUARD_PCT);
	for (i = 0; i < base.n; i++) {
		const char *verdict = "ok";

		b = base.vals[i];
		n = side_get(&now, base.keys[i]);
		if (n < 0) {
			verdict = "MISSING";
			bad++;
		} else if (guard_above(n, b)) {
			verdict = "ABOVE";
			bad++;
		} else if (guard_above(b, n)) {
			verdict = "below: update the baseline?";
		}
		printf("| %s |", trip_what(base.keys[i]));
		cell(b);
		cell(n);
		ratio(n, b);
		printf(" %s |\n", verdict);
	}

	/* The self-test: a slower CPUID round trip must not pass. */
	b = side_get(&base, "cpuid");
	n = side_get(&slow, "cpuid");
	for (i = 0; i < slow.nnotes; i++)
		if (strstr(slow.notes[i], "debug_slow_cpuid"))
			printf("\nself-test: %s: %s", slow.label,
			       slow.notes[i]);
	printf("\nself-test: CPUID %lld, baseline %lld: %s\n", n, b,
	       n >= 0 && b > 0 && guard_above(n, b) ?
	       "flagged, as it must be" :
	       "NOT flagged: the guard cannot see a slower round trip");
	if (n < 0 || b <= 0 || !guard_above(n, b))
		bad++;
	printf("guard: %s (%u problem%s)\n", bad ? "FAILED" : "passed", bad,
	       bad == 1 ? "" : "s");
	return bad ? 1 : 0;
}

/*
 * 6. The local APIC (bench apic ringvm|kvm LABEL): the hypervisor's
 * in-kernel APIC (ringvm's RINGVM_ENABLE_LAPIC; KVM's with
 * KVM_CAP_SPLIT_IRQCHIP, the same model: local APICs in the kernel, the
 * rest in user space), timed by the guest itself: under -icount and
 * Bochs its TSC counts every instruction the test machine runs, the host
 * kernel's and the hypervisor's included.  Two vCPUs in x2APIC mode, each
 * on a thread of its own.  Each figure includes the guest's handler, the
 * selftests library's generic entry (all registers saved) and an x2APIC
 * EOI.  Per event, the best of APIC_REPS runs of APIC_N; printed as
 * "LABEL KEY TICKS" lines, apic_rows[]'s keys, for the table (section 4).
 *  - apic_eoi: WRMSR to the x2APIC EOI register, nothing in service;
 *  - apic_self_ipi: WRMSR to SELF_IPI with IF set: the interrupt
 *    injected at that exit's entry, handled, EOI;
 *  - apic_timer: IA32_TSC_DEADLINE armed in the past, the hrtimer's host
 *    interrupt, the injection, the handler (the guest spins meanwhile);
 *  - apic_ipi: vCPU 0 sends a fixed IPI to vCPU 1, which is halted in
 *    the hypervisor, and halts until vCPU 1's reply IPI: two wake-ups and
 *    two host thread switches on a one-CPU machine (KVM halt-polls first,
 *    with its default halt_poll_ns, until another task is runnable).
 * Both vCPUs turn SYSCALL on with the same STAR, LSTAR, CSTAR and SFMASK,
 * as a Linux guest does: on VMX no VMCS field switches those, and a
 * hypervisor that wrote them at every switch between the two vCPUs would
 * pay for it in the IPI round trip.  ringvm's side also prints its
 * msr-switches counter over the whole run ("apic_msr_switches").
 */
#define APIC_VEC	0x40
#define X2APIC_EOI	0x80b
#define X2APIC_ICR	0x830
#define X2APIC_SELF_IPI	0x83f
#define MSR_TSC_DL	0x6e0

static volatile __u64 apic_irqs[2];
static volatile __u64 apic_ready;

static void apic_handler(struct ex_regs *regs)
{
	(void)regs;
	apic_irqs[rdmsr(0x802) & 1]++;
	wrmsr(X2APIC_EOI, 0);
}

static void apic_wait(__u32 id, __u64 n)
{
	for (;;) {
		asm volatile("cli");
		if (apic_irqs[id] >= n)
			break;
		asm volatile("sti; hlt" ::: "memory");
	}
}

/* Keep the smaller of *@best and the ticks since @t0. */
static void apic_best(__u64 *best, __u64 t0)
{
	__u64 t = guest_rdtsc() - t0;

	if (!*best || t < *best)
		*best = t;
}

static void guest_apic_bench(__u64 id, __u64 n)
{
	__u64 t0, eoi = 0, self = 0, timer = 0, ipi = 0, i, r;

	wrmsr(MSR_STAR, (__u64)GUEST_SEL_CODE << 32);	/* as Linux does */
	wrmsr(MSR_LSTAR, (__u64)(uintptr_t)guest_syscall_target0);
	wrmsr(MSR_CSTAR, (__u64)(uintptr_t)guest_syscall_target1);
	wrmsr(MSR_SYSCALL_MASK, 0x47700);	/* TF DF IF IOPL NT AC */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(0x1b, rdmsr(0x1b) | (1 << 10));		/* x2APIC */
	wrmsr(0x80f, 0x1ff);				/* SVR: on */
	if (id == 1) {
		apic_ready = 1;
		for (i = 1;; i++) {
			apic_wait(1, i);
			wrmsr(X2APIC_ICR, APIC_VEC);	/* to ID 0 */
		}
	}
	wrmsr(0x832, APIC_VEC | (2 << 17));		/* TSC-deadline */
	while (!apic_ready)
		cpu_relax();
	/* best of APIC_REPS: the host's own interrupts land at random */
	for (r = 0; r < APIC_REPS; r++) {
		t0 = guest_rdtsc();
		for (i = 0; i < n; i++)
			wrmsr(X2APIC_EOI, 0);
		apic_best(&eoi, t0);

		/* IF set: each interrupt comes right after the WRMSR's exit */
		apic_irqs[0] = 0;
		asm volatile("sti");
		t0 = guest_rdtsc();
		for (i = 1; i <= n; i++)
			wrmsr(X2APIC_SELF_IPI, APIC_VEC);
		apic_best(&self, t0);
		GUEST_ASSERT_EQ(n, apic_irqs[0]);

		apic_irqs[0] = 0;
		t0 = guest_rdtsc();
		for (i = 1; i <= n; i++) {
			wrmsr(MSR_TSC_DL, 1);
			while (apic_irqs[0] < i)
				cpu_relax();
		}
		apic_best(&timer, t0);
		asm volatile("cli");

		apic_irqs[0] = 0;
		t0 = guest_rdtsc();
		for (i = 1; i <= n; i++) {
			wrmsr(X2APIC_ICR, (1ULL << 32) | APIC_VEC);
			apic_wait(0, i);
		}
		apic_best(&ipi, t0);
	}
	GUEST_SYNC_ARGS(eoi / n, self / n, timer / n, ipi / n);
	GUEST_DONE();
}

/* The two vCPUs on either hypervisor: vCPU 1 runs on a thread. */
struct apic_bench {
	bool kvm;
	struct test_vm *vm;
	struct test_vcpu *bsp, *ap;
	struct kvm_guest kg;
	int ap_fd;
	struct kvm_run *ap_run;
	pthread_t thread;
};

static void *apic_ap(void *p)
{
	struct apic_bench *a = p;

	if (a->kvm) {
		/* halts stay in KVM: only the signal ends the run */
		while (ioctl(a->ap_fd, KVM_RUN, 0) == 0 || errno != EINTR)
			;
		return NULL;
	}
	while (!__vcpu_run(a->ap) && a->ap->run->exit_reason != RINGVM_EXIT_INTR)
		;
	return NULL;
}

static void apic_nop_signal(int sig)
{
	(void)sig;
}

/* vCPU @id of the KVM guest at guest_apic_bench(@id, APIC_N). */
static int apic_kvm_regs(struct apic_bench *a, int fd, __u64 id)
{
	struct kvm_regs regs = {
		.rip = (uintptr_t)guest_apic_bench,
		.rsp = GUEST_STACKS_GPA + (id + 1) * GUEST_STACK_SIZE - 8,
		.rflags = X86_RFLAGS_FIXED,
		.rdi = id,
		.rsi = APIC_N,
	};
	__u64 ret = (uintptr_t)guest_code_returned;

	memcpy((char *)a->kg.mem + regs.rsp, &ret, sizeof(ret));
	return ioctl(fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int apic_setup(struct apic_bench *a)
{
	struct vm_opts opts = { .max_vcpus = 2 };
	void (*handler)(struct ex_regs *) = apic_handler;
	int ret;

	if (a->kvm) {
		ret = kvm_guest_create_long_apic(&a->kg, vm_guest_ram_size());
		if (!ret)
			ret = kvm_guest_add_vcpu(&a->kg, 1, &a->ap_fd,
						 &a->ap_run);
		if (!ret)
			ret = apic_kvm_regs(a, a->kg.vcpu_fd, 0);
		if (!ret)
			ret = apic_kvm_regs(a, a->ap_fd, 1);
		if (!ret)
			memcpy((char *)a->kg.mem +
			       (uintptr_t)&guest_exception_handlers[APIC_VEC],
			       &handler, sizeof(handler));
		return ret;
	}
	ret = __vm_create(&a->vm, &opts);
	if (!ret)
		ret = __ringvm_enable(a->vm->fd, RINGVM_ENABLE_LAPIC, 0);
	if (!ret)
		ret = __vm_vcpu_add(a->vm, 0, guest_apic_bench, &a->bsp);
	if (!ret)
		ret = __vm_vcpu_add(a->vm, 1, guest_apic_bench, &a->ap);
	if (!ret)
		ret = __vcpu_args_set(a->bsp, 2, 0ULL, (__u64)APIC_N);
	if (!ret)
		ret = __vcpu_args_set(a->ap, 2, 1ULL, (__u64)APIC_N);
	if (!ret)
		vm_install_exception_handler(a->vm, APIC_VEC, handler);
	return ret;
}

static void apic_teardown(struct apic_bench *a)
{
	if (a->ap_run)
		munmap(a->ap_run, a->kg.run_size);
	if (a->ap_fd >= 0)
		close(a->ap_fd);
	kvm_guest_destroy(&a->kg);
	vm_destroy(a->vm);
}

/*
 * Run vCPU 0 to its next ucall other than a GUEST_PRINTF: in *@uc, 0;
 * or -1 with *@why saying what came instead.
 */
static int apic_bsp_ucall(struct apic_bench *a, struct ucall *uc,
			  char *why, size_t len)
{
	const struct kvm_run *run = a->kg.run;
	__u32 gva;

	for (;;) {
		if (!a->kvm) {
			if (__vcpu_run(a->bsp) ||
			    get_ucall(a->bsp, uc) == UCALL_NONE) {
				vcpu_exit_str(a->bsp, why, len);
				return -1;
			}
		} else {
			if (ioctl(a->kg.vcpu_fd, KVM_RUN, 0) < 0) {
				snprintf(why, len, "KVM_RUN: %s",
					 strerror(errno));
				return -1;
			}
			if (run->exit_reason != KVM_EXIT_IO ||
			    run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != UCALL_PORT || run->io.size != 4) {
				snprintf(why, len, "KVM exit %u",
					 run->exit_reason);
				return -1;
			}
			memcpy(&gva, (const char *)run + run->io.data_offset,
			       sizeof(gva));
			if (gva + sizeof(*uc) > a->kg.mem_size) {
				snprintf(why, len, "ucall at %#x", gva);
				return -1;
			}
			memcpy(uc, (const char *)a->kg.mem + gva, sizeof(*uc));
			uc->buf[UCALL_BUF_LEN - 1] = '\0';
		}
		if (uc->cmd != UCALL_PRINTF)
			return 0;
		fprintf(stderr, "bench: apic: guest: %s\n", uc->buf);
	}
}

static int apic_msrs_cb(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	*(__u64 *)arg += st->msr_switches;
	return 0;
}

/* ringvm: "LABEL apic_msr_switches N", both vCPUs' counters summed. */
static void apic_msr_switches(const struct apic_bench *a, const char *label)
{
	struct ringvm_nl *nl;
	__u64 n = 0;

	if (__ringvm_nl_open(&nl))
		return;
	if (!__ringvm_nl_vcpu_stats_dump(nl, a->vm->id, NULL, apic_msrs_cb,
					 &n))
		printf("%s apic_msr_switches %llu\n", label,
		       (unsigned long long)n);
	ringvm_nl_close(nl);
}

static int cmd_apic(const char *backend, const char *label)
{
	struct sigaction sa = { .sa_handler = apic_nop_signal };
	struct apic_bench a = { .ap_fd = -1 };
	char why[512] = "";
	struct ucall uc;
	unsigned int i;
	int ret;

	a.kvm = !strcmp(backend, "kvm");
	kvm_guest_init(&a.kg);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: RUN returns */
	ret = apic_setup(&a);
	if (ret) {
		fprintf(stderr, "bench: apic %s: setting up: %s\n", backend,
			strerror(-ret));
		apic_teardown(&a);
		return 1;
	}
	if (pthread_create(&a.thread, NULL, apic_ap, &a)) {
		apic_teardown(&a);
		return 1;
	}
	ret = apic_bsp_ucall(&a, &uc, why, sizeof(why));
	pthread_kill(a.thread, SIGUSR1);
	pthread_join(a.thread, NULL);
	if (!ret && uc.cmd != UCALL_SYNC) {
		ucall_str(&uc, why, sizeof(why));
		ret = -1;
	}
	if (ret) {
		fprintf(stderr, "bench: apic %s: the guest said %s\n", backend,
			why);
		apic_teardown(&a);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(apic_rows); i++)	/* the table's order */
		printf("%s %s %llu\n", label, apic_rows[i][0],
		       (unsigned long long)uc.args[i]);
	if (!a.kvm)
		apic_msr_switches(&a, label);
	apic_teardown(&a);
	return 0;
}

/*
 * 7. A Linux boot (bench linux ringvm|kvm LABEL): the test machine's own
 * kernel and guest-init.sh's initramfs, as linux_boot_test boots them,
 * under vmctl run --stats: through /dev/ringvm (a VM made with vmctl
 * create) or --backend kvm (vmctl's same loader and devices on /dev/kvm,
 * no in-kernel irqchip on either).  The TSC is read at the fork and when
 * the console shows /init's first line; so are vmctl's user and system
 * CPU time (/proc/PID/stat, all its threads; the guest's time is in it on
 * both sides).  Printed: "LABEL linux_init TICKS", "LABEL
 * linux_init_cpu_ms MS", and vmctl's --stats line of the exits it handled
 * as a note ("LABEL # linux exits to vmctl: ...").  Under -icount the TSC
 * also advances while the test machine idles, so the first figure is the
 * boot's time in the test machine, not only its instructions.  The guest
 * then sleeps 2 s and powers off; vmctl must end with status 0.
 */
#define LINUX_VM	"bench-linux"
#define LINUX_DIR	"/ringvm/guests"
#define LINUX_ERR	"/tmp/bench-linux.err"

/* User and system CPU time of process @pid so far, in ms; -1 if unknown. */
static long long proc_cpu_ms(pid_t pid)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after "(comm)": state is field 3, utime and stime 14 and 15 */
	p = p ? strrchr(buf, ')') : NULL;
	if (!p || hz <= 0)
		return -1;
	n = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st);
	return n == 2 ? (long long)((ut + st) * 1000 / hz) : -1;
}

static int cmd_linux(const char *backend, const char *label)
{
	bool kvm = !strcmp(backend, "kvm");
	char *vmctl = (char *)ringvm_vmctl_path();
	char *run[] = { vmctl, "run", LINUX_VM, "--kernel",
			LINUX_DIR "/vmlinuz", "--initrd",
			LINUX_DIR "/linux-initrd.gz", "--cmdline",
			"console=ttyS0", "--stats", "--backend", "kvm",
			"--memory", "256M", NULL };
	static struct run_result res;
	long long cpu_ms = -1;
	__u64 t0, t1 = 0;
	char line[512];
	int out[2], status = 0, ret = 1;
	FILE *f;
	pid_t pid;

	if (access(run[4], R_OK) || access(run[6], R_OK)) {
		fprintf(stderr, "bench: linux: no %s or %s\n", run[4], run[6]);
		return 1;
	}
	if (!kvm) {
		run[10] = NULL;		/* no --backend kvm --memory 256M */
		if (run_vmctl(&res, "create", LINUX_VM, "--memory", "256M",
			      NULL) || res.status) {
			fprintf(stderr, "bench: linux: vmctl create: %s\n",
				res.err);
			return 1;
		}
	}
	if (pipe(out)) {
		perror("bench: linux: pipe");
		goto out_destroy;
	}
	fflush(NULL);
	t0 = tsc();
	pid = fork();
	if (pid < 0) {
		perror("bench: linux: fork");
		close(out[0]);
		close(out[1]);
		goto out_destroy;
	}
	if (!pid) {
		int in = open("/dev/null", O_RDONLY);
		int err = open(LINUX_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || err < 0 || dup2(in, 0) < 0 ||
		    dup2(out[1], 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		close(out[0]);
		execv(vmctl, run);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	if (!f)
		close(out[0]);
	while (f && fgets(line, sizeof(line), f)) {
		if (!t1 && strstr(line, "ringvm-guest: init")) {
			t1 = tsc();
			cpu_ms = proc_cpu_ms(pid);
		}
	}
	if (f)
		fclose(f);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "bench: linux %s: vmctl run ended with status "
			"%#x (%s)\n", backend, status, LINUX_ERR);
		goto out_destroy;
	}
	if (!t1 || cpu_ms < 0) {
		fprintf(stderr, "bench: linux %s: no /init line%s\n", backend,
			t1 ? ", or no CPU time" : "");
		goto out_destroy;
	}
	printf("%s linux_init %llu\n%s linux_init_cpu_ms %lld\n", label,
	       (unsigned long long)(t1 - t0), label, cpu_ms);
	f = fopen(LINUX_ERR, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "exits to vmctl:");

		if (p) {
			line[strcspn(line, "\n")] = 0;
			printf("%s # linux %s\n", label, p);
		}
	}
	if (f)
		fclose(f);
	ret = 0;
out_destroy:
	if (!kvm)
		run_vmctl(&res, "destroy", LINUX_VM, NULL);
	return ret;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return method_check() ? 0 : 1;
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return cmd_run(argv[2], argv[3], argc - 4, argv + 4);
	if (argc == 5 && !strcmp(argv[1], "guard"))
		return cmd_guard(argv[2], argv[3], argv[4]);
	if (argc >= 2 && !strcmp(argv[1], "table"))
		return cmd_table(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "apic"))
		return cmd_apic(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "linux"))
		return cmd_linux(argv[2], argv[3]);
	fprintf(stderr, "usage: bench check | run ringvm|kvm LABEL [KEY...] |"
		" table RINGVM-FILE KVM-FILE... |\n"
		"       guard BASELINE RUN SLOWED | apic ringvm|kvm LABEL |\n"
		"       linux ringvm|kvm LABEL\n");
	return 2;
}
