/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-side selftest library: run a C function of the test binary as
 * a 64-bit guest, as the kernel's KVM selftests do (tools/testing/
 * selftests/kvm/lib), but written for ringvm.
 *
 *  1. The guest's physical layout            (gpa == gva: identity mapped)
 *  2. The host side: VMs, vCPUs, running     (vm.c)
 *  3. ucalls: the guest reports to the host  (ucall.c; guest and host)
 *  4. Guest-only helpers: port I/O, MSRs, CPUID, hypercalls, exceptions
 *                                            (guest.c, guest_entry.S)
 *  5. Wrappers for kselftest_harness.h tests that ASSERT on failure
 *     (only when the harness is included before this header)
 *
 * How a guest is made.  The selftests are static non-PIE binaries linked
 * at 0x400000.  vm_create_guest() makes an anonymous VM whose one RAM
 * region starts at guest-physical 0, copies every PT_LOAD segment of the
 * running binary (code, data, bss) into it at the same address, builds
 * long-mode page tables that identity map the low 4 GiB (2 MiB pages; the
 * first 2 MiB with 4 KiB pages and page 0 left out to catch NULL), a GDT
 * with 64-bit code, data and a TSS, an IDT whose handlers report an
 * unexpected exception to the host, and a stack per vCPU; then one vCPU in
 * long mode with RIP at the guest function and a CPUID table copied from
 * the host.  So guest code is an ordinary C function of the test file: it
 * sees the binary's globals as they were when the VM was made (see
 * sync_global_to_guest()), and an address above RAM but below 4 GiB is
 * MMIO.
 *
 * Rules for guest code (functions that run in the guest, marked "Guest
 * code" here): no libc at all (no printf, memset, malloc: no TLS and no
 * system calls in a guest), no host pointers (the host's stack and heap
 * are not in guest RAM), only the helpers of section 4 and the GUEST_*
 * macros.  The Makefile builds everything with -fno-stack-protector (no
 * %fs canary), -mno-red-zone (exception frames land on the current stack)
 * and -fno-tree-loop-distribute-patterns (no hidden memset/memcpy calls).
 *
 * Host functions return 0 (or a value) or a negative errno and never
 * assert, like the rest of lib/; section 5 has the asserting forms.
 */
#ifndef _RINGVM_GUEST_H
#define _RINGVM_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "libringvm.h"
#include "test_util.h"

/* 1. Guest physical layout (guest-physical == guest-virtual) */

#define GUEST_PAGE_SIZE		0x1000ULL
#define GUEST_LARGE_PAGE	0x200000ULL	/* 2 MiB */
#define GUEST_PML4_GPA		0x1000ULL
#define GUEST_PDPT_GPA		0x2000ULL
#define GUEST_PD_GPA		0x3000ULL	/* 4 pages, one per GiB */
#define GUEST_PT_GPA		0x7000ULL	/* 4 KiB pages of the 1st 2 MiB */
#define GUEST_GDT_GPA		0x8000ULL
#define GUEST_TSS_GPA		0x9000ULL
#define GUEST_IDT_GPA		0xa000ULL
/* Stack for exceptions taken from ring 3 (TSS.RSP0): 0x10000-0x1ffff */
#define GUEST_RSP0_TOP		0x20000ULL
/* vCPU n's stack: 64 KiB below GUEST_STACKS_GPA + (n + 1) * 64 KiB */
#define GUEST_STACKS_GPA	0x100000ULL
#define GUEST_STACK_SIZE	0x10000ULL
/* RAM no one touches at setup: for tests (never allocated until used) */
#define GUEST_SCRATCH_GPA	0x200000ULL
#define GUEST_SCRATCH_SIZE	0x200000ULL
/* The test binary itself */
#define GUEST_CODE_GPA		0x400000ULL
/* Identity-mapped, never RAM in a test VM: guest accesses are MMIO */
#define GUEST_MAPPED_TOP	0x100000000ULL	/* 4 GiB */
#define GUEST_MMIO_GPA		0xc0000000ULL

/* GDT selectors */
#define GUEST_SEL_CODE		0x08	/* 64-bit code, DPL 0 */
#define GUEST_SEL_DATA		0x10	/* data, DPL 0 */
#define GUEST_SEL_UCODE32	0x18	/* 32-bit code, DPL 3 (unused) */
#define GUEST_SEL_UDATA		0x20	/* data, DPL 3 */
#define GUEST_SEL_UCODE		0x28	/* 64-bit code, DPL 3 */
#define GUEST_SEL_TSS		0x30	/* 64-bit TSS, 16 bytes */
#define GUEST_GDT_LIMIT		0x3f

/* Architectural bits the library and the tests use */
#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_MP		(1ULL << 1)
#define X86_CR0_EM		(1ULL << 2)
#define X86_CR0_TS		(1ULL << 3)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_NE		(1ULL << 5)
#define X86_CR0_WP		(1ULL << 16)
#define X86_CR0_AM		(1ULL << 18)
#define X86_CR0_NW		(1ULL << 29)
#define X86_CR0_CD		(1ULL << 30)
#define X86_CR0_PG		(1ULL << 31)
#define X86_CR4_PAE		(1ULL << 5)
#define X86_CR4_OSFXSR		(1ULL << 9)
#define X86_CR4_OSXMMEXCPT	(1ULL << 10)
#define X86_CR4_OSXSAVE		(1ULL << 18)
#define EFER_SCE		(1ULL << 0)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NXE		(1ULL << 11)
#define X86_RFLAGS_FIXED	(1ULL << 1)
#define X86_RFLAGS_IF		(1ULL << 9)
#define X86_RFLAGS_DF		(1ULL << 10)
#define X86_RFLAGS_IOPL3	(3ULL << 12)
#define XFEATURE_X87		(1ULL << 0)
#define XFEATURE_SSE		(1ULL << 1)
#define XFEATURE_YMM		(1ULL << 2)

#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_DEBUGCTL	0x000001d9
#define MSR_IA32_SYSENTER_CS	0x00000174
#define MSR_IA32_SYSENTER_ESP	0x00000175
#define MSR_IA32_SYSENTER_EIP	0x00000176
#define MSR_IA32_CR_PAT		0x00000277
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103

/* Exception vectors */
#define DE_VECTOR	0
#define DB_VECTOR	1
#define NMI_VECTOR	2
#define BP_VECTOR	3
#define UD_VECTOR	6
#define NM_VECTOR	7
#define DF_VECTOR	8
#define TS_VECTOR	10
#define NP_VECTOR	11
#define SS_VECTOR	12
#define GP_VECTOR	13
#define PF_VECTOR	14
#define MF_VECTOR	16
#define AC_VECTOR	17
#define XM_VECTOR	19

#define GUEST_MAX_VCPUS		8

/* 2. The host side */

struct test_vm;

struct test_vcpu {
	struct test_vm *vm;
	__u32 id;
	int fd;
	struct ringvm_run *run;		/* mmap of the vCPU fd */
};

struct test_vm {
	int devfd;			/* /dev/ringvm, -1 for an adopted VM */
	int fd;				/* the VM */
	__u32 id;
	__u32 arch;			/* RINGVM_ARCH_VMX / _SVM */
	__u64 ram_size;			/* region 0: [0, ram_size) */
	void *mem;			/* mmap of region 0 */
	__u64 xcr0;			/* what each vCPU starts with, 0 if none */
	struct ringvm_cpuid cpuid;	/* the table given to the VM */
	struct test_vcpu *vcpus[GUEST_MAX_VCPUS];
};

/* Options of __vm_create(); zero means the default. */
struct vm_opts {
	const char *name;	/* NULL/"" = anonymous "anon-ID" */
	__u32 max_vcpus;	/* 0 = 1 */
	__u64 ram_size;		/* 0 = vm_guest_ram_size(); at least that */
	__u32 flags;		/* RINGVM_CREATE_VM flags (RINGVM_VM_*) */
};

/* RAM (from gpa 0) a guest VM needs: the binary, rounded up to 2 MiB. */
__u64 vm_guest_ram_size(void);

/*
 * Create an anonymous VM with guest RAM prepared as above and no vCPU:
 * 0 or -errno, *vmp set on success.
 */
int __vm_create(struct test_vm **vmp, const struct vm_opts *opts);

/*
 * Prepare an existing VM, e.g. a named one made by netlink vm-new and
 * opened with RINGVM_OPEN_VM: region 0 must start at gpa 0 and hold
 * vm_guest_ram_size() bytes.  Takes @vmfd over (closed by vm_destroy).
 */
int __vm_adopt(struct test_vm **vmp, int vmfd);

/*
 * A named VM made by vm-new over @nl with @max_vcpus, opened with
 * RINGVM_OPEN_VM and prepared for guest code: 0 or -errno.
 */
int named_guest_vm(struct ringvm_nl *nl, const char *name, __u32 max_vcpus,
		   struct test_vm **vmp);

/* A VM as __vm_create(NULL) with vCPU 0 at @guest_code. */
int __vm_create_guest(struct test_vm **vmp, struct test_vcpu **vcpup,
		      void *guest_code);

/*
 * Lay out a guest as __vm_create() does (binary, page tables, GDT, TSS,
 * IDT) in @mem, guest-physical 0 to @ram_size, for another hypervisor
 * (the benchmark runs the same guest under KVM): 0 or -errno.  A vCPU
 * gets vm_sregs_long_mode() of a test_vm with xcr0 0.
 */
int guest_image_build(void *mem, __u64 ram_size);

/* Close the vCPUs and the VM and free @vm (NULL is fine). */
void vm_destroy(struct test_vm *vm);

/*
 * Add vCPU @id in long mode at @guest_code with its own stack: 0 or
 * -errno; *vcpup set.
 */
int __vm_vcpu_add(struct test_vm *vm, __u32 id, void *guest_code,
		  struct test_vcpu **vcpup);

/* Close one vCPU (the id can then be created again) and free it. */
void vm_vcpu_remove(struct test_vcpu *vcpu);

/*
 * The long-mode state a vCPU of @vm starts with, built on @sregs (pass
 * the vCPU's GET_SREGS, so fields the library does not set keep their
 * values).
 */
void vm_sregs_long_mode(const struct test_vm *vm, struct ringvm_sregs *sregs);

/*
 * Put vCPU @vcpu (back) into the library's initial state: long mode,
 * XCR0, RIP at @guest_code, a fresh stack, arguments cleared.
 */
int __vcpu_reset(struct test_vcpu *vcpu, void *guest_code);

/* Host pointer for guest address @gva (== gpa), NULL outside region 0. */
void *addr_gva2hva(const struct test_vm *vm, __u64 gva);
#define addr_gpa2hva addr_gva2hva

/* Copy a global between the host and the guest's copy of the binary. */
#define sync_global_to_guest(vm, g)					\
	memcpy(addr_gva2hva(vm, (__u64)(uintptr_t)&(g)), &(g), sizeof(g))
#define sync_global_from_guest(vm, g)					\
	memcpy(&(g), addr_gva2hva(vm, (__u64)(uintptr_t)&(g)), sizeof(g))
/* Write @val into the guest's copy of global @g only. */
#define write_guest_global(vm, g, val)					\
	(*(typeof(&(g)))addr_gva2hva(vm, (__u64)(uintptr_t)&(g)) = (val))

/* Set the first @n (<= 6) integer arguments of the guest function. */
int __vcpu_args_set(struct test_vcpu *vcpu, unsigned int n, ...);

/* RINGVM_RUN once: 0 (see vcpu->run->exit_reason) or -errno. */
int __vcpu_run(struct test_vcpu *vcpu);

/* Exception handlers in the guest (NULL: report to the host). */
struct ex_regs;
void vm_install_exception_handler(struct test_vm *vm, unsigned int vector,
				  void (*handler)(struct ex_regs *));
/*
 * The guest image's handler table and the return address of a vCPU's
 * entry function (guest.c, guest_entry.S): for a guest set up by hand
 * (the benchmark's KVM vCPUs).
 */
extern void (*guest_exception_handlers[256])(struct ex_regs *);
extern char guest_code_returned[];

/* The host's CPUID leaves as a RINGVM_SET_CPUID table (at most 64). */
void host_cpuid_table(struct ringvm_cpuid *cpuid);

/* The entry for @function/@index in @cpuid, NULL if absent. */
struct ringvm_cpuid_entry *cpuid_find(struct ringvm_cpuid *cpuid,
				      __u32 function, __u32 index);

/* Whether the host CPU has XSAVE with OSXSAVE on; its XCR0. */
bool host_has_xsave(void);
__u64 host_xcr0(void);

/*
 * Whether the test machine is QEMU's TCG (hypervisor leaf signature
 * "TCGTCGTCGTCG"): a few tests skip what TCG does not emulate for a
 * nested guest (each says which quirk).
 */
bool host_is_tcg(void);

/*
 * No state a vCPU hands to user space may hold a host address (a failed
 * VM entry on QEMU's SVM stores the host's state in the VMCB: see
 * module/svm/exit.c).  A value is host-looking if it is a kernel address
 * (at or above HOST_KERNEL_HALF) or, for CR3, a physical address above
 * the guest's RAM, and the test did not put it there (@allow, @n).
 * vcpu_host_address() checks the run page's RIP, GET_REGS RIP and RSP,
 * every segment base, GDTR and IDTR bases, DR0-3 and CR3, and returns
 * NULL or a description in @buf of the first such field.  With
 * HOST_ADDR_LOOSE, for guests that ran random code and may have made
 * such a value themselves, only three or more at once count: a host
 * state dump changes RIP, RSP, GDTR, IDTR and CR3 together.
 * (state.c)
 */
#define HOST_KERNEL_HALF	0xffff800000000000ULL
#define HOST_PHYS_LIMIT		(1ULL << 52)
#define HOST_ADDR_LOOSE		(1U << 0)
bool host_kernel_address(__u64 v);
const char *vcpu_host_address(struct test_vcpu *vcpu, const __u64 *allow,
			      unsigned int n, unsigned int flags,
			      char *buf, size_t len);

/*
 * Every state class GET returns (regs, sregs, debugregs, XSAVE, XCRs and
 * the MSRs the vCPU keeps) SET must accept, and GET must then return the
 * same (the TSC excepted): NULL, or what failed in @buf.  (state.c)
 */
const char *vcpu_state_roundtrip(struct test_vcpu *vcpu, char *buf,
				 size_t len);

/* One line on the exit in @vcpu's run page (a ucall decoded): @buf. */
const char *vcpu_exit_str(struct test_vcpu *vcpu, char *buf, size_t len);

/*
 * Named VMs the tests make (netlink vm-new) are called
 * GUEST_TEST_VM_PREFIX-something.  guest_test_cleanup() deletes those a
 * failed test left behind (they would keep ringvm from unloading): 0 or
 * the first -errno.  guest_test_atexit() does that and unloads ringvm.
 * (cleanup.c)
 */
#define GUEST_TEST_VM_PREFIX	"st-"
int guest_test_cleanup(void);
void guest_test_atexit(void);

/* /sys/module/ringvm/parameters/@name as a number, @dflt if unreadable. */
long ringvm_module_param(const char *name, long dflt);

/* 3. ucalls */

/* Guest -> host: an OUT of the ucall's 32-bit address to this port. */
#define UCALL_PORT		0xe8
#define UCALL_MAX_ARGS		6
#define UCALL_BUF_LEN		256

enum ucall_cmd {
	UCALL_NONE,		/* the exit was not a ucall */
	UCALL_SYNC,		/* GUEST_SYNC*(): args[] */
	UCALL_ASSERT,		/* GUEST_ASSERT*() failed */
	UCALL_DONE,		/* GUEST_DONE() */
	UCALL_UNHANDLED,	/* exception: args = vector, error, rip, cr2 */
	UCALL_PRINTF,		/* GUEST_PRINTF(): buf */
};

struct ucall {
	__u64 cmd;
	__u64 nargs;
	__u64 args[UCALL_MAX_ARGS];
	__u64 file;		/* const char *, same address in the host */
	__u64 line;
	__u64 expr;		/* const char *: the assertion's text */
	char buf[UCALL_BUF_LEN];
};

/*
 * Host: if the exit in @vcpu's run page is a ucall, copy it to @uc and
 * return its command, else UCALL_NONE (and @uc->cmd = UCALL_NONE).
 */
unsigned int get_ucall(struct test_vcpu *vcpu, struct ucall *uc);

/* Host: "file:line: expr (a, b)" for an ASSERT/UNHANDLED/PRINTF ucall. */
const char *ucall_str(const struct ucall *uc, char *buf, size_t len);

/* Guest code: report to the host (returns when the host runs again). */
void ucall(__u64 cmd, unsigned int nargs, ...);
void ucall_assert(const char *file, unsigned int line, const char *expr,
		  unsigned int nargs, ...);
void ucall_printf(const char *fmt, ...);
/* Guest code: report and stop for good (halts if run again). */
void __attribute__((noreturn)) guest_halt_forever(void);

#define __GUEST_NARGS(...)	__GUEST_NARGS_(0, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define __GUEST_NARGS_(_0, _1, _2, _3, _4, _5, _6, N, ...)	N

/* Guest code: UCALL_SYNC with up to 6 64-bit values. */
#define GUEST_SYNC_ARGS(...)						\
	ucall(UCALL_SYNC, __GUEST_NARGS(__VA_ARGS__), ##__VA_ARGS__)
#define GUEST_SYNC(arg)		GUEST_SYNC_ARGS((__u64)(arg))
#define GUEST_DONE()							\
	do {								\
		ucall(UCALL_DONE, 0);					\
		guest_halt_forever();					\
	} while (0)
#define GUEST_PRINTF(fmt, ...)	ucall_printf(fmt, ##__VA_ARGS__)

#define GUEST_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			ucall_assert(__FILE__, __LINE__, #cond, 0);	\
			guest_halt_forever();				\
		}							\
	} while (0)
#define __GUEST_ASSERT_OP(a, b, op)					\
	do {								\
		__u64 __a = (__u64)(a), __b = (__u64)(b);		\
		if (!(__a op __b)) {					\
			ucall_assert(__FILE__, __LINE__,		\
				     #a " " #op " " #b, 2, __a, __b);	\
			guest_halt_forever();				\
		}							\
	} while (0)
#define GUEST_ASSERT_EQ(a, b)	__GUEST_ASSERT_OP(a, b, ==)
#define GUEST_ASSERT_NE(a, b)	__GUEST_ASSERT_OP(a, b, !=)
#define GUEST_ASSERT_LT(a, b)	__GUEST_ASSERT_OP(a, b, <)
#define GUEST_ASSERT_LE(a, b)	__GUEST_ASSERT_OP(a, b, <=)
#define GUEST_FAIL(why)							\
	do {								\
		ucall_assert(__FILE__, __LINE__, why, 0);		\
		guest_halt_forever();					\
	} while (0)

/* 4. Guest-only helpers (guest code; also harmless on the host side) */

/* The frame guest_entry.S builds for every exception. */
struct ex_regs {
	__u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 vector, error_code;
	__u64 rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

/* Which hypercall instruction to use; set by the host for the guest. */
extern __u32 guest_arch;

/* Guest code: formatting without libc (%d %u %x %lx %llx %s %c %p %%). */
int guest_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int guest_snprintf(char *buf, size_t n, const char *fmt, ...);
/* Guest code: no libc memset/memcpy in a guest. */
void guest_memset(void *p, int c, size_t n);
void guest_memcpy(void *d, const void *s, size_t n);
int guest_memcmp(const void *a, const void *b, size_t n);

/* Guest code: run @fn in ring 3 on @stack_top (IOPL 3, so ucalls work). */
void guest_run_user(void (*fn)(void), void *stack_top);

/* Guest code: LSTAR values that count the SYSCALLs reaching them. */
extern char guest_syscall_target0[], guest_syscall_target1[];
extern volatile __u64 guest_syscall_counts[2];
/* Guest code: SYSCALL on, to those targets (LSTAR 0, CSTAR 1). */
void guest_syscall_enable(void);

static inline void outb(__u16 port, __u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(__u16 port, __u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(__u16 port, __u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline __u8 inb(__u16 port)
{
	__u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline __u16 inw(__u16 port)
{
	__u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline __u32 inl(__u16 port)
{
	__u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void guest_cpuid(__u32 leaf, __u32 subleaf, __u32 r[4])
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(subleaf) : "memory");
}

static inline __u64 rdmsr(__u32 msr)
{
	__u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return lo | ((__u64)hi << 32);
}

static inline void wrmsr(__u32 msr, __u64 v)
{
	asm volatile("wrmsr"
		     : : "c"(msr), "a"((__u32)v), "d"((__u32)(v >> 32))
		     : "memory");
}

static inline __u64 xgetbv(__u32 index)
{
	__u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | ((__u64)hi << 32);
}

/* RDTSC, after everything before it (LFENCE). */
static inline __u64 guest_rdtsc(void)
{
	__u32 lo, hi;

	asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi));
	return ((__u64)hi << 32) | lo;
}

static inline __u64 read_cr0(void)
{
	__u64 v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline __u64 read_cr3(void)
{
	__u64 v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline __u64 read_cr4(void)
{
	__u64 v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

/*
 * Run one instruction and catch the exception it raises, as KVM's
 * KVM_ASM_SAFE does: the exception handler sees R9 == GUEST_EX_MAGIC
 * and RIP == R10, moves RIP to R11 and leaves the vector in R9.
 * Returns the vector, or 0 if the instruction completed.
 */
#define GUEST_EX_MAGIC	0xabacadaba5a5a5a5ULL
#define GUEST_ASM_SAFE(insn)						\
	"movabs $0xabacadaba5a5a5a5, %%r9\n\t"				\
	"lea 1f(%%rip), %%r10\n\t"					\
	"lea 2f(%%rip), %%r11\n\t"					\
	"1: " insn "\n\t"						\
	"xor %%r9, %%r9\n\t"						\
	"2:\n\t"							\
	"mov %%r9b, %[vector]\n\t"
#define GUEST_ASM_SAFE_CLOBBERS	"r9", "r10", "r11", "memory"

static inline __u8 rdmsr_safe(__u32 msr, __u64 *val)
{
	__u32 lo = 0, hi = 0;
	__u8 vector;

	asm volatile(GUEST_ASM_SAFE("rdmsr")
		     : [vector] "=qm"(vector), "+a"(lo), "+d"(hi)
		     : "c"(msr) : GUEST_ASM_SAFE_CLOBBERS);
	*val = lo | ((__u64)hi << 32);
	return vector;
}

static inline __u8 wrmsr_safe(__u32 msr, __u64 val)
{
	__u8 vector;

	asm volatile(GUEST_ASM_SAFE("wrmsr")
		     : [vector] "=qm"(vector)
		     : "c"(msr), "a"((__u32)val), "d"((__u32)(val >> 32))
		     : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

static inline __u8 xsetbv_safe(__u32 index, __u64 val)
{
	__u8 vector;

	asm volatile(GUEST_ASM_SAFE("xsetbv")
		     : [vector] "=qm"(vector)
		     : "c"(index), "a"((__u32)val), "d"((__u32)(val >> 32))
		     : GUEST_ASM_SAFE_CLOBBERS);
	return vector;
}

/* VMCALL on Intel, VMMCALL on AMD: number in RAX, args RBX RCX RDX RSI. */
static inline __u64 guest_hypercall(__u64 nr, __u64 a0, __u64 a1, __u64 a2,
				    __u64 a3)
{
	__u64 ret;

	if (guest_arch == RINGVM_ARCH_SVM)
		asm volatile("vmmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	else
		asm volatile("vmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	return ret;
}

/* 5. kselftest_harness.h wrappers: they ASSERT, so only in a test body. */

#ifdef __KSELFTEST_HARNESS_H

/* Report a guest's ASSERT/UNHANDLED ucall as this test's failure. */
#define REPORT_GUEST_ASSERT(uc)						\
	do {								\
		char __b[512];						\
		ASSERT_TRUE(0) TH_LOG("guest: %s",			\
				      ucall_str(&(uc), __b, sizeof(__b))); \
	} while (0)

#define vm_create_guest(vcpup, code)					\
	({								\
		struct test_vm *__vm = NULL;				\
		int __r = __vm_create_guest(&__vm, vcpup, (void *)(code)); \
		ASSERT_EQ(0, __r) TH_LOG("vm_create_guest: %s",		\
					 strerror(-__r));		\
		__vm;							\
	})

#define vm_create(opts)							\
	({								\
		struct test_vm *__vm = NULL;				\
		int __r = __vm_create(&__vm, opts);			\
		ASSERT_EQ(0, __r) TH_LOG("vm_create: %s", strerror(-__r)); \
		__vm;							\
	})

#define vm_vcpu_add(vm, id, code)					\
	({								\
		struct test_vcpu *__v = NULL;				\
		int __r = __vm_vcpu_add(vm, id, (void *)(code), &__v);	\
		ASSERT_EQ(0, __r) TH_LOG("vcpu %u: %s", (unsigned)(id),	\
					 strerror(-__r));		\
		__v;							\
	})

#define vcpu_reset(vcpu, code)						\
	do {								\
		int __r = __vcpu_reset(vcpu, (void *)(code));		\
		ASSERT_EQ(0, __r) TH_LOG("vcpu_reset: %s", strerror(-__r)); \
	} while (0)

#define vcpu_args_set(vcpu, n, ...)					\
	do {								\
		int __r = __vcpu_args_set(vcpu, n, ##__VA_ARGS__);	\
		ASSERT_EQ(0, __r) TH_LOG("args: %s", strerror(-__r));	\
	} while (0)

/* RINGVM_RUN must succeed; the exit is in vcpu->run. */
#define vcpu_run(vcpu)							\
	do {								\
		int __r = __vcpu_run(vcpu);				\
		ASSERT_EQ(0, __r) TH_LOG("RINGVM_RUN: %s", strerror(-__r)); \
	} while (0)

/* A vCPU ioctl through libringvm's __ringvm_<op>() must succeed. */
#define vcpu_ioctl_ok(op, vcpu, arg)					\
	do {								\
		int __r = __ringvm_##op((vcpu)->fd, arg);		\
		ASSERT_LE(0, __r) TH_LOG(#op ": %s", strerror(-__r));	\
	} while (0)
#define vcpu_regs_get(vcpu, r)		vcpu_ioctl_ok(get_regs, vcpu, r)
#define vcpu_regs_set(vcpu, r)		vcpu_ioctl_ok(set_regs, vcpu, r)
#define vcpu_sregs_get(vcpu, r)		vcpu_ioctl_ok(get_sregs, vcpu, r)
#define vcpu_sregs_set(vcpu, r)		vcpu_ioctl_ok(set_sregs, vcpu, r)

/*
 * After an exit: no host-looking address in @vcpu's state (besides the
 * @n values of @allow), and every state class round-trips.
 */
#define ASSERT_STATE_SANE(vcpu, allow, n, flags)			\
	do {								\
		char __b[256];						\
		const char *__w = vcpu_host_address(vcpu, allow, n,	\
						    flags, __b,		\
						    sizeof(__b));	\
		ASSERT_EQ(NULL, __w) TH_LOG("host-looking address: %s", __w); \
		__w = vcpu_state_roundtrip(vcpu, __b, sizeof(__b));	\
		ASSERT_EQ(NULL, __w) TH_LOG("state round trip: %s", __w); \
	} while (0)

/* The exit in @vcpu's run page must be @reason. */
#define ASSERT_EXIT(vcpu, reason)					\
	do {								\
		char __b[512];						\
		ASSERT_EQ((__u32)(reason), (vcpu)->run->exit_reason)	\
			TH_LOG("expected a %s exit, got %s",		\
			       ringvm_exit_reason_name(reason),		\
			       vcpu_exit_str(vcpu, __b, sizeof(__b)));	\
	} while (0)

/*
 * Run @vcpu and return the ucall it makes: guest assertion failures and
 * unexpected exceptions fail the test with the guest's file:line, and so
 * does an exit that is not a ucall.  GUEST_PRINTF lines are logged and
 * the guest runs on.
 */
#define vcpu_run_ucall(vcpu, uc)					\
	({								\
		unsigned int __cmd;					\
		char __b[512];						\
		for (;;) {						\
			vcpu_run(vcpu);					\
			__cmd = get_ucall(vcpu, uc);			\
			if (__cmd != UCALL_PRINTF)			\
				break;					\
			TH_LOG("guest: %s", ucall_str(uc, __b, sizeof(__b))); \
		}							\
		if (__cmd == UCALL_ASSERT || __cmd == UCALL_UNHANDLED)	\
			REPORT_GUEST_ASSERT(*(uc));			\
		ASSERT_NE(UCALL_NONE, __cmd)				\
			TH_LOG("expected a ucall, got %s",		\
			       vcpu_exit_str(vcpu, __b, sizeof(__b)));	\
		__cmd;							\
	})

/* Run: the guest must make ucall @cmd. */
#define ASSERT_UCALL(vcpu, uc, cmd)					\
	do {								\
		unsigned int __c = vcpu_run_ucall(vcpu, uc);		\
		ASSERT_EQ((unsigned int)(cmd), __c)			\
			TH_LOG("expected ucall %u, got %u", (unsigned)(cmd), \
			       __c);					\
	} while (0)

/* Run: GUEST_SYNC(@val) must come next. */
#define ASSERT_SYNC(vcpu, uc, val)					\
	do {								\
		ASSERT_UCALL(vcpu, uc, UCALL_SYNC);			\
		ASSERT_EQ((__u64)(val), (uc)->args[0]);			\
	} while (0)

#define ASSERT_DONE(vcpu, uc)	ASSERT_UCALL(vcpu, uc, UCALL_DONE)

/*
 * main() for a guest test binary: skip as a whole without root or
 * VMX/SVM (as RINGVM_TEST_MAIN), run the tests, then delete named VMs a
 * test left behind and unload ringvm, as every binary leaves it unloaded.
 */
#define RINGVM_GUEST_TEST_MAIN	__RINGVM_GUEST_TEST_MAIN(NULL)

/*
 * The same, but "BINARY --child ARGS..." runs @child(argc, argv) with
 * argv[0] "--child" instead of the tests, and exits with what it returns:
 * a workload of the binary's own that a test hands to another program
 * (perf stat, trace-cmd record) to run.  It neither cleans up nor unloads.
 */
#define RINGVM_GUEST_TEST_MAIN_CHILD(child)	__RINGVM_GUEST_TEST_MAIN(child)

#define __RINGVM_GUEST_TEST_MAIN(child)					\
int main(int argc, char **argv)						\
{									\
	int (*const __child)(int, char **) = (child);			\
	const char *why = NULL;						\
	int ret;							\
									\
	if (__child && argc > 1 && !strcmp(argv[1], "--child"))		\
		return __child(argc - 1, argv + 1);			\
	if (geteuid() != 0)						\
		why = "must run as root";				\
	else if (cpuinfo_arch() == RINGVM_ARCH_NONE)			\
		why = "no vmx or svm flag in /proc/cpuinfo";		\
	if (why) {							\
		ksft_print_header();					\
		ksft_exit_skip("%s\n", why);				\
	}								\
	ret = guest_test_cleanup();					\
	if (ret < 0)							\
		ksft_print_msg("cleanup before: %s\n", strerror(-ret));	\
	/* test_harness_run() exits; clean up from an atexit hook */	\
	atexit(guest_test_atexit);					\
	return test_harness_run(argc, argv);				\
}

#endif /* __KSELFTEST_HARNESS_H */

#endif /* _RINGVM_GUEST_H */
