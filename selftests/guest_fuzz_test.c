// SPDX-License-Identifier: GPL-2.0
/*
 * guest_fuzz_test: a hostile guest.  Each case builds a random mix of
 * privileged and sensitive instructions (MSRs, control and debug
 * registers, XSETBV, descriptor tables, the VMX and SVM instructions,
 * CPUID, HLT, port and string I/O, MMIO, software interrupts and
 * faults, far jumps, IRET, triple faults) and random bytes, starts it in
 * real, protected or long mode from a random but mostly valid state in a
 * fresh vCPU, and answers every exit, for a bounded time.  Then:
 *
 *  - the case must have ended in a defined exit: a guest exception the
 *    library's IDT reports, HLT, SHUTDOWN, FAIL_ENTRY, an alarm-driven
 *    INTR for a guest that spins, or EMULATION / INTERNAL_ERROR (fetch
 *    outside RAM) for what ringvm documents it does not emulate; never
 *    UNKNOWN, never an ioctl error;
 *  - no state user space can read holds a host-looking address
 *    (vcpu_host_address());
 *  - every state class round-trips: GET, SET, GET again is the same
 *    (vcpu_state_roundtrip()).
 *
 * The PRNG is seeded from the clock; the seed is printed, and
 * RINGVM_FUZZ_SEED=N (and RINGVM_FUZZ_CASES=N) replay a run, also in a
 * test machine (run.sh passes them on).  Each
 * case's own seed is printed when it fails.  svm (QEMU TCG) runs 1000
 * cases; other machines, where the CPU is emulated by Bochs, 60.
 *
 * Emulator bugs the generator must steer around are listed above
 * gen_cr0() (Quirk / Detection / Workaround).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"

#define FUZZ_CODE_GPA	0x40000ULL	/* free low RAM; CS 4000h in RM */
#define FUZZ_CODE_MAX	0x4000
#define FUZZ_DATA_GPA	0x50000ULL	/* memory operands; DS 5000h in RM */
#define FUZZ_DATA_SIZE	0x1000
#define FUZZ_ZERO_OFF	0xff0		/* 16 zero bytes: an empty IDTR */
#define FUZZ_MAX_INSNS	24
#define FUZZ_MAX_EXITS	64
#define FUZZ_MAX_ALLOW	512

enum fuzz_mode { MODE_REAL, MODE_PROT, MODE_LONG, MODES };
static const char *const mode_names[MODES] = { "real", "protected", "long" };

struct gen {
	__u8 *code;
	size_t len;
	enum fuzz_mode mode;
	__u64 seed;
	bool tcg_svm;		/* QEMU TCG with SVM: see the quirks */
	bool random_bytes;	/* the case may run random bytes */
	__u64 allow[FUZZ_MAX_ALLOW];
	unsigned int nallow;
};

static __u64 rnd(struct gen *g)
{
	/* xorshift64* */
	g->seed ^= g->seed >> 12;
	g->seed ^= g->seed << 25;
	g->seed ^= g->seed >> 27;
	return g->seed * 0x2545f4914f6cdd1dULL;
}

static __u32 below(struct gen *g, __u32 n)
{
	return (__u32)(rnd(g) >> 32) % n;
}

static void allow_any(struct gen *g, __u64 v)
{
	if (g->nallow < FUZZ_MAX_ALLOW)
		g->allow[g->nallow++] = v;
}

/* A value the case puts somewhere that may look like the host's. */
static void allow(struct gen *g, __u64 v)
{
	if (host_kernel_address(v))
		allow_any(g, v);
}

static void emit(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > FUZZ_CODE_MAX - 8)
		return;
	memcpy(g->code + g->len, p, n);
	g->len += n;
}

#define EMIT(g, ...)							\
	do {								\
		const __u8 __b[] = { __VA_ARGS__ };			\
		emit(g, __b, sizeof(__b));				\
	} while (0)

/* A value worth writing somewhere: edges, bits, or noise. */
static __u64 val64(struct gen *g)
{
	switch (below(g, 8)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1ULL << below(g, 64);
	case 3:
		return below(g, 0x10000);
	case 4:
		return (__u32)rnd(g);
	default:
		return rnd(g);
	}
}

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

/* MOV reg, imm: the whole 64 bits in long mode, else the low 32. */
static void mov_imm(struct gen *g, int reg, __u64 v)
{
	__u32 lo = v;

	if (g->mode == MODE_LONG) {
		EMIT(g, 0x48, 0xb8 + reg);
		emit(g, &v, 8);
		allow(g, v);
		return;
	}
	if (g->mode == MODE_REAL)
		EMIT(g, 0x66);
	EMIT(g, 0xb8 + reg);
	emit(g, &lo, 4);
}

/* EBX = a pointer into the data area ([EBX] operands). */
static void data_ptr(struct gen *g, __u32 off)
{
	mov_imm(g, RBX, (g->mode == MODE_REAL ? 0 : FUZZ_DATA_GPA) + off);
}

/* Address-size prefix so that [EBX] means [EBX] in real mode too. */
static void asz(struct gen *g)
{
	if (g->mode == MODE_REAL)
		EMIT(g, 0x67);
}

static const __u32 msr_list[] = {
	MSR_EFER, MSR_IA32_CR_PAT, MSR_FS_BASE, MSR_GS_BASE,
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC, MSR_TSC_AUX, MSR_IA32_DEBUGCTL,
	0x1b,		/* APIC base */
	0x1a0,		/* MISC_ENABLE */
	0x8b,		/* microcode revision */
	0x48, 0x49,	/* SPEC_CTRL, PRED_CMD */
	0x10a,		/* ARCH_CAPABILITIES */
	0x2ff,		/* MTRR default type */
	0x3a,		/* FEATURE_CONTROL */
	0x480,		/* VMX_BASIC */
	0xc0010114,	/* VM_CR */
	0xc0010117,	/* VM_HSAVE_PA */
	0xc0011029,	/* DE_CFG */
};

static void gen_msr(struct gen *g)
{
	__u32 idx = below(g, 4) ? msr_list[below(g, ARRAY_SIZE(msr_list))] :
				 (__u32)rnd(g);
	__u64 v = val64(g);
	/* no EFER writes on QEMU's SVM: see the quirk above gen_cr0() */
	bool write = below(g, 2) && !(idx == MSR_EFER && g->tcg_svm);

	mov_imm(g, RCX, idx);
	mov_imm(g, RAX, (__u32)v);
	mov_imm(g, RDX, v >> 32);
	allow(g, v);
	if (write)
		EMIT(g, 0x0f, 0x30);	/* WRMSR */
	else
		EMIT(g, 0x0f, 0x32);	/* RDMSR */
}

/*
 * Quirk: QEMU's TCG (7.2) is known to stop making progress on a VMRUN
 * with EFER.LME=1 and CR0.PG=0 in some states (reported for KVM's SVM
 * on the same emulator too); a guest gets there by a MOV to CR0 that
 * clears PG in 64-bit code, which QEMU accepts where silicon raises #GP,
 * or by random EFER writes.
 * Detection: a case that neither exits nor takes the alarm's INTR.
 * Workaround: on QEMU's SVM the generator never clears CR0.PG or PE in
 * long mode and never writes EFER (gen_msr()).
 */
static void gen_cr0(struct gen *g)
{
	static const __u64 flips[] = {
		X86_CR0_MP, X86_CR0_EM, X86_CR0_TS, X86_CR0_NE, X86_CR0_WP,
		X86_CR0_AM, X86_CR0_NW, X86_CR0_CD, X86_CR0_ET, 1ULL << 32,
		X86_CR0_PE, X86_CR0_PG,
	};
	__u64 base = g->mode == MODE_LONG ? 0x80010033ULL :
		     g->mode == MODE_PROT ? 0x31ULL : 0x30ULL;
	unsigned int n = ARRAY_SIZE(flips);

	if (g->mode == MODE_LONG && g->tcg_svm)
		n -= 2;
	mov_imm(g, RAX, base ^ flips[below(g, n)]);
	EMIT(g, 0x0f, 0x22, 0xc0);
}

static void gen_cr(struct gen *g)
{
	__u64 v;

	switch (below(g, 4)) {
	case 0:
		gen_cr0(g);
		return;
	case 1:
		switch (below(g, 4)) {
		case 0:
			v = GUEST_PML4_GPA;
			break;
		case 1:
			v = GUEST_PML4_GPA | (1ULL << (32 + below(g, 32)));
			break;
		case 2:
			v = (__u64)below(g, 0x400) << 12;
			break;
		default:
			v = GUEST_PML4_GPA | below(g, 0x1000);
			break;
		}
		mov_imm(g, RAX, v);
		allow_any(g, g->mode == MODE_LONG ? v : (__u32)v);
		EMIT(g, 0x0f, 0x22, 0xd8);
		return;
	case 2:
		v = (g->mode == MODE_LONG ? 0x40620ULL : 0x600ULL) ^
		    (1ULL << below(g, 32));
		mov_imm(g, RAX, v);
		EMIT(g, 0x0f, 0x22, 0xe0);
		return;
	default:
		mov_imm(g, RAX, below(g, 4) ? below(g, 16) : val64(g));
		if (g->mode == MODE_LONG)
			EMIT(g, 0x44, 0x0f, 0x22, 0xc0);	/* CR8 */
		else
			EMIT(g, 0xf0, 0x0f, 0x22, 0xc0);	/* AMD alias */
		return;
	}
}

static void gen_dr(struct gen *g)
{
	__u8 dr = below(g, 8);

	if (below(g, 2)) {
		__u64 v = val64(g);

		if (dr == 7 && below(g, 2))	/* a breakpoint on data */
			v = 0x400 | (0xfULL << 16) | 0x3;
		if (dr < 4 && below(g, 2))
			v = FUZZ_DATA_GPA + below(g, FUZZ_DATA_SIZE);
		mov_imm(g, RAX, v);
		EMIT(g, 0x0f, 0x23, 0xc0 | dr << 3);
	} else {
		EMIT(g, 0x0f, 0x21, 0xc0 | dr << 3);
	}
}

static void gen_xsetbv(struct gen *g)
{
	static const __u32 xcr0s[] = { 1, 3, 7, 0xe7, 0, 2, 5 };

	mov_imm(g, RCX, below(g, 8) ? 0 : below(g, 4));
	mov_imm(g, RAX, below(g, 4) ? xcr0s[below(g, ARRAY_SIZE(xcr0s))] :
					(__u32)rnd(g));
	mov_imm(g, RDX, below(g, 8) ? 0 : (__u32)rnd(g));
	EMIT(g, 0x0f, 0x01, 0xd1);
}

/* LGDT, LIDT, SGDT, SIDT [EBX]; LLDT, LTR, SLDT, STR AX. */
static void gen_dt(struct gen *g)
{
	static const __u8 modrm[] = { 0x13, 0x1b, 0x03, 0x0b };
	__u32 off = below(g, FUZZ_DATA_SIZE - 16);

	if (below(g, 2)) {
		data_ptr(g, off);
		asz(g);
		EMIT(g, 0x0f, 0x01, modrm[below(g, 4)]);
		return;
	}
	mov_imm(g, RAX, below(g, 2) ? below(g, 0x40) : below(g, 0x10000));
	EMIT(g, 0x0f, 0x00, 0xc0 | below(g, 4) << 3);
}

/* The VMX and SVM instructions, and other sensitive ones. */
#define SENS_MEM	1
#define SENS_LONG	2
static const struct {
	__u8 len;
	__u8 b[6];
	__u8 flags;		/* SENS_MEM: takes [EBX]; SENS_LONG */
} sensitive[] = {
	{ 3, { 0x0f, 0x01, 0xc1 }, 0 },		/* VMCALL */
	{ 3, { 0x0f, 0x01, 0xd9 }, 0 },		/* VMMCALL */
	{ 3, { 0x0f, 0x01, 0xc2 }, 0 },		/* VMLAUNCH */
	{ 3, { 0x0f, 0x01, 0xc3 }, 0 },		/* VMRESUME */
	{ 3, { 0x0f, 0x01, 0xc4 }, 0 },		/* VMXOFF */
	{ 4, { 0xf3, 0x0f, 0xc7, 0x33 }, SENS_MEM },	/* VMXON */
	{ 3, { 0x0f, 0xc7, 0x33 }, SENS_MEM },	/* VMPTRLD */
	{ 4, { 0x66, 0x0f, 0xc7, 0x33 }, SENS_MEM },	/* VMCLEAR */
	{ 3, { 0x0f, 0xc7, 0x3b }, SENS_MEM },	/* VMPTRST */
	{ 3, { 0x0f, 0x78, 0xc0 }, 0 },		/* VMREAD */
	{ 3, { 0x0f, 0x79, 0xc0 }, 0 },		/* VMWRITE */
	{ 5, { 0x66, 0x0f, 0x38, 0x80, 0x03 }, SENS_MEM },	/* INVEPT */
	{ 5, { 0x66, 0x0f, 0x38, 0x81, 0x03 }, SENS_MEM },	/* INVVPID */
	{ 3, { 0x0f, 0x01, 0xd4 }, 0 },		/* VMFUNC */
	{ 3, { 0x0f, 0x01, 0xd8 }, 0 },		/* VMRUN */
	{ 3, { 0x0f, 0x01, 0xda }, 0 },		/* VMLOAD */
	{ 3, { 0x0f, 0x01, 0xdb }, 0 },		/* VMSAVE */
	{ 3, { 0x0f, 0x01, 0xdc }, 0 },		/* STGI */
	{ 3, { 0x0f, 0x01, 0xdd }, 0 },		/* CLGI */
	{ 3, { 0x0f, 0x01, 0xde }, 0 },		/* SKINIT */
	{ 3, { 0x0f, 0x01, 0xdf }, 0 },		/* INVLPGA */
	{ 3, { 0x0f, 0x01, 0xf9 }, 0 },		/* RDTSCP */
	{ 3, { 0x0f, 0x01, 0xc8 }, 0 },		/* MONITOR */
	{ 3, { 0x0f, 0x01, 0xc9 }, 0 },		/* MWAIT */
	{ 2, { 0x0f, 0x33 }, 0 },			/* RDPMC */
	{ 2, { 0x0f, 0x31 }, 0 },			/* RDTSC */
	{ 2, { 0x0f, 0x08 }, 0 },			/* INVD */
	{ 2, { 0x0f, 0x09 }, 0 },			/* WBINVD */
	{ 2, { 0x0f, 0x06 }, 0 },			/* CLTS */
	{ 2, { 0x0f, 0x37 }, 0 },			/* GETSEC */
	{ 3, { 0x0f, 0x01, 0xf0 }, 0 },		/* LMSW AX */
	{ 3, { 0x0f, 0x01, 0xe0 }, 0 },		/* SMSW EAX */
	{ 3, { 0x0f, 0x01, 0x3b }, SENS_MEM },	/* INVLPG [EBX] */
	{ 3, { 0x0f, 0x01, 0xf8 }, SENS_LONG },	/* SWAPGS */
	{ 2, { 0x0f, 0x05 }, 0 },			/* SYSCALL */
	{ 2, { 0x0f, 0x34 }, 0 },			/* SYSENTER */
	{ 4, { 0xf3, 0x0f, 0xc7, 0xf8 }, 0 },	/* RDPID EAX */
	{ 5, { 0xf3, 0x48, 0x0f, 0xae, 0xd0 }, SENS_LONG },	/* WRFSBASE */
	{ 5, { 0xf3, 0x48, 0x0f, 0xae, 0xd8 }, SENS_LONG },	/* WRGSBASE */
	{ 5, { 0xf3, 0x48, 0x0f, 0xae, 0xc0 }, SENS_LONG },	/* RDFSBASE */
	{ 2, { 0x0f, 0xa2 }, 0 },			/* CPUID */
	{ 1, { 0xf4 }, 0 },			/* HLT */
	{ 1, { 0xfb }, 0 },			/* STI */
	{ 1, { 0xfa }, 0 },			/* CLI */
	{ 1, { 0xfd }, 0 },			/* STD */
	{ 2, { 0xf3, 0x90 }, 0 },			/* PAUSE */
};

static void gen_sensitive(struct gen *g)
{
	unsigned int i = below(g, ARRAY_SIZE(sensitive));

	if ((sensitive[i].flags & SENS_LONG) && g->mode != MODE_LONG)
		return;
	if (sensitive[i].flags & SENS_MEM) {
		data_ptr(g, below(g, FUZZ_DATA_SIZE - 16) & ~7U);
		asz(g);
	} else {
		/* an operand for the ones that take RAX / RCX */
		mov_imm(g, RAX, val64(g));
		mov_imm(g, RCX, below(g, 2) ? below(g, 16) : val64(g));
	}
	emit(g, sensitive[i].b, sensitive[i].len);
}

static void gen_cpuid(struct gen *g)
{
	static const __u32 leaves[] = {
		0, 1, 7, 0xd, 0x40000000, 0x40000001, 0x80000000,
		0x80000001, 0x80000008, 0x8000000a,
	};

	mov_imm(g, RAX, below(g, 4) ? leaves[below(g, ARRAY_SIZE(leaves))] :
				     (__u32)rnd(g));
	mov_imm(g, RCX, below(g, 4));
	EMIT(g, 0x0f, 0xa2);
}

/* Any port but the ucall port, whose writes the library decodes. */
static __u16 port(struct gen *g)
{
	__u16 p = below(g, 2) ? below(g, 0x400) : below(g, 0x10000);

	return p == UCALL_PORT ? p + 1 : p;
}

static void gen_io(struct gen *g)
{
	__u16 p = port(g);

	mov_imm(g, RDX, p);
	switch (below(g, 4)) {
	case 0:		/* IN/OUT AL/AX/EAX, DX */
		if (below(g, 3) == 0)
			EMIT(g, 0x66);
		EMIT(g, 0xec + below(g, 4));
		return;
	case 1:		/* IN/OUT imm8 */
		EMIT(g, 0xe4 + below(g, 4), (__u8)(p == UCALL_PORT + 1 ?
						   0x80 : p));
		return;
	default:	/* REP INS/OUTS from and to the data area */
		mov_imm(g, RCX, below(g, 4) ? below(g, 64) : val64(g));
		mov_imm(g, RDI, (g->mode == MODE_REAL ? 0 : FUZZ_DATA_GPA) +
				below(g, FUZZ_DATA_SIZE / 2));
		mov_imm(g, RSI, (g->mode == MODE_REAL ? 0 : FUZZ_DATA_GPA) +
				below(g, FUZZ_DATA_SIZE / 2));
		if (below(g, 3))
			EMIT(g, 0xf3);
		if (below(g, 3) == 0)
			EMIT(g, 0x66);
		EMIT(g, 0x6c + below(g, 4));
		return;
	}
}

/* Loads, stores and read-modify-writes to MMIO (not in real mode). */
static void gen_mmio(struct gen *g)
{
	static const __u8 ops[][3] = {
		{ 2, 0x8b, 0x03 },	/* MOV EAX, [EBX] */
		{ 2, 0x89, 0x03 },	/* MOV [EBX], EAX */
		{ 2, 0x88, 0x03 },	/* MOV [EBX], AL */
		{ 2, 0x8a, 0x03 },	/* MOV AL, [EBX] */
		{ 2, 0x87, 0x03 },	/* XCHG [EBX], EAX */
		{ 2, 0x01, 0x03 },	/* ADD [EBX], EAX */
		{ 2, 0xff, 0x03 },	/* INC [EBX] */
		{ 2, 0xf7, 0x13 },	/* NOT [EBX] */
		{ 2, 0x85, 0x03 },	/* TEST [EBX], EAX */
		{ 2, 0xa5, 0x00 },	/* MOVSD */
		{ 2, 0xab, 0x00 },	/* STOSD */
	};
	unsigned int i = below(g, ARRAY_SIZE(ops));
	__u64 a = GUEST_MMIO_GPA + below(g, 0x2000);

	if (g->mode == MODE_REAL)
		return;
	mov_imm(g, RBX, a);
	mov_imm(g, RSI, a);
	mov_imm(g, RDI, below(g, 2) ? a : FUZZ_DATA_GPA);
	mov_imm(g, RAX, val64(g));
	if (below(g, 4) == 0)
		EMIT(g, 0x66);
	else if (g->mode == MODE_LONG && below(g, 4) == 0)
		EMIT(g, 0x48);
	emit(g, &ops[i][1], ops[i][0] == 2 && ops[i][2] ? 2 : 1);
}

static void gen_fault(struct gen *g)
{
	__u32 off = below(g, FUZZ_DATA_SIZE - 16);

	switch (below(g, 10)) {
	case 0:
		EMIT(g, 0xcd, (__u8)below(g, 256));		/* INT n */
		return;
	case 1:
		EMIT(g, 0xcc);					/* INT3 */
		return;
	case 2:
		EMIT(g, 0xce);					/* INTO */
		return;
	case 3:
		EMIT(g, 0x0f, 0x0b);				/* UD2 */
		return;
	case 4:
		EMIT(g, 0x31, 0xc9, 0xf7, 0xf1);	/* ECX = 0; DIV ECX */
		return;
	/*
	 * IRET and a far JMP/CALL go where the stack or the random data
	 * say: in real mode always, elsewhere whenever the selector is
	 * one of the GDT's.  What runs there is as good as random bytes,
	 * and may move whatever the GPRs hold into CR3 (a real-mode case
	 * once left CR3 0x6efe1665 that way): judge the case as one with
	 * random bytes.
	 */
	case 5:
		if (g->mode == MODE_LONG && below(g, 2))
			EMIT(g, 0x48);
		EMIT(g, 0xcf);					/* IRET */
		g->random_bytes = true;
		return;
	case 6:							/* far JMP/CALL [EBX] */
		data_ptr(g, off);
		asz(g);
		EMIT(g, 0xff, below(g, 2) ? 0x2b : 0x1b);
		g->random_bytes = true;
		return;
	case 7:							/* MOV SS/DS, AX */
		mov_imm(g, RAX, below(g, 0x40));
		EMIT(g, 0x8e, below(g, 2) ? 0xd0 : 0xd8);
		return;
	case 8:							/* POPF */
		EMIT(g, 0x68);
		{
			__u32 f = rnd(g);

			if (g->mode == MODE_REAL)
				EMIT(g, (__u8)f, (__u8)(f >> 8));
			else
				emit(g, &f, 4);
		}
		EMIT(g, 0x9d);
		return;
	default:						/* triple fault */
		data_ptr(g, FUZZ_ZERO_OFF);
		asz(g);
		EMIT(g, 0x0f, 0x01, 0x1b, 0xcc);	/* LIDT [EBX]; INT3 */
		return;
	}
}

static void gen_random_bytes(struct gen *g)
{
	unsigned int i, n = 1 + below(g, 16);

	for (i = 0; i < n; i++)
		EMIT(g, (__u8)rnd(g));
	g->random_bytes = true;
}

static void gen_stack(struct gen *g)
{
	mov_imm(g, RSP, below(g, 2) ? GUEST_STACKS_GPA + below(g, 0x10000) :
				     val64(g));
}

static void (*const generators[])(struct gen *g) = {
	gen_msr, gen_msr, gen_cr, gen_cr, gen_dr, gen_xsetbv, gen_dt,
	gen_sensitive, gen_sensitive, gen_sensitive, gen_cpuid, gen_io,
	gen_io, gen_mmio, gen_mmio, gen_fault, gen_random_bytes, gen_stack,
};

static void generate(struct gen *g)
{
	unsigned int i, n = 1 + below(g, FUZZ_MAX_INSNS);

	for (i = 0; i < n; i++)
		generators[below(g, ARRAY_SIZE(generators))](g);
	EMIT(g, 0xf4, 0xeb, 0xfd);		/* HLT; JMP back to it */
}

/* The vCPU's starting state */

static void seg_real(struct ringvm_segment *s, __u16 sel, __u8 type)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = (__u64)sel << 4;
	s->limit = 0xffff;
	s->type = type;
	s->s = 1;
	s->present = 1;
}

static void state_real(struct ringvm_sregs *s, struct ringvm_regs *r)
{
	seg_real(&s->cs, FUZZ_CODE_GPA >> 4, 0xb);
	seg_real(&s->ds, FUZZ_DATA_GPA >> 4, 0x3);
	seg_real(&s->es, FUZZ_DATA_GPA >> 4, 0x3);
	seg_real(&s->fs, 0, 0x3);
	seg_real(&s->gs, 0, 0x3);
	seg_real(&s->ss, 0x1000, 0x3);
	s->tr.type = 0xb;
	s->tr.limit = 0xffff;
	s->tr.present = 1;
	s->tr.s = 0;
	s->tr.db = s->tr.l = s->tr.g = 0;
	s->ldt.type = 0x2;
	s->ldt.limit = 0xffff;
	s->ldt.present = 1;
	s->ldt.s = 0;
	s->ldt.db = s->ldt.l = s->ldt.g = 0;
	s->idt.base = 0;
	s->idt.limit = 0x3ff;
	s->cr0 = X86_CR0_ET;
	s->cr4 = 0;
	s->efer = 0;
	r->rip = 0;
	r->rsp = 0xfff0;
}

static void state_prot(struct ringvm_sregs *s, struct ringvm_regs *r)
{
	struct ringvm_segment *segs[] = { &s->ds, &s->es, &s->fs, &s->gs,
					  &s->ss };
	unsigned int i;

	s->cs.l = 0;
	s->cs.db = 1;
	s->cs.limit = 0xffffffff;
	s->cs.g = 1;
	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		segs[i]->base = 0;
		segs[i]->limit = 0xffffffff;
		segs[i]->g = 1;
		segs[i]->db = 1;
	}
	s->idt.limit = 0;	/* any exception is a triple fault */
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	s->cr4 &= ~(X86_CR4_PAE);
	s->efer = 0;
	r->rip = FUZZ_CODE_GPA;
}

/* Now and then one field of the mode's state is off. */
static void perturb(struct gen *g, struct ringvm_sregs *s,
		    struct ringvm_regs *r)
{
	struct ringvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs,
					  &s->gs, &s->ss, &s->tr, &s->ldt };
	struct ringvm_segment *seg = segs[below(g, ARRAY_SIZE(segs))];
	unsigned int i;

	for (i = 0; i < 16; i++) {
		__u64 v = rnd(g);

		/* GPRs but RSP: random, never host-looking unless allowed */
		if (i != 4)
			((__u64 *)r)[i] = below(g, 2) ? v >> 17 : val64(g);
		allow(g, ((__u64 *)r)[i]);
	}
	r->rflags = 0x2 | (rnd(g) & 0x8d5) |
		    (below(g, 8) ? 0 : rnd(g) & 0x240700);
	if (below(g, 4))
		return;
	switch (below(g, 6)) {
	case 0:
		seg->type ^= 1 << below(g, 4);
		break;
	case 1:
		seg->dpl = below(g, 4);
		break;
	case 2:
		seg->db ^= 1;
		break;
	case 3:
		seg->present ^= 1;
		break;
	case 4:
		seg->limit = rnd(g);
		break;
	default:
		s->cr4 ^= 1ULL << below(g, 24);
		break;
	}
}

/* The fixture: one VM, a fresh vCPU for each case */

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

struct tally {
	unsigned int by_reason[RINGVM_EXIT_INTERNAL_ERROR + 1];
	unsigned int guest_exceptions;
	unsigned int exits;
};

FIXTURE(fuzz) {
	struct test_vm *vm;
	void *ram0;		/* guest RAM as it was made */
};

FIXTURE_SETUP(fuzz)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
}

FIXTURE_TEARDOWN(fuzz)
{
	vm_destroy(self->vm);
	free(self->ram0);
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

/* VMX basic exit reasons and SVM exit codes: port I/O, nested faults */
#define VMX_EXIT_IO_INSTRUCTION	30
#define SVM_EXIT_IOIO		0x7b
#define VMX_EXIT_EPT_VIOLATION	48
#define SVM_EXIT_NPF		0x400

/*
 * The internal errors ringvm documents for a guest: a fetch outside RAM
 * (RIP in MMIO); a string I/O instruction whose memory operand is not
 * RAM, or whose guest page walk reads tables outside RAM (an operand
 * that does not translate is the guest's #PF); and MMIO met by an
 * event's delivery or by the guest's own page walk (NO_INSN).
 */
static bool internal_error_documented(const struct ringvm_run *run)
{
	bool io = run->hw.arch == RINGVM_ARCH_SVM ?
		  run->hw.reason == SVM_EXIT_IOIO :
		  run->hw.reason == VMX_EXIT_IO_INSTRUCTION;

	bool npf = run->hw.arch == RINGVM_ARCH_SVM ?
		   run->hw.reason == SVM_EXIT_NPF :
		   run->hw.reason == VMX_EXIT_EPT_VIOLATION;

	/* NO_INSN: an event's delivery or the guest's walk met MMIO */
	return run->internal.suberror == RINGVM_INTERNAL_ERR_INSN_FETCH ||
	       (run->internal.suberror == RINGVM_INTERNAL_ERR_MEMORY && io) ||
	       (run->internal.suberror == RINGVM_INTERNAL_ERR_NO_INSN && npf);
}

/* Answer an exit; false when it ends the case. */
static bool answer(struct __test_metadata *_metadata, struct test_vcpu *vcpu,
		   struct tally *t, __u64 case_seed)
{
	struct ringvm_run *run = vcpu->run;
	char b[512];
	struct ucall uc;

	switch (run->exit_reason) {
	case RINGVM_EXIT_IO:
		if (get_ucall(vcpu, &uc) != UCALL_NONE) {
			t->guest_exceptions++;
			return false;
		}
		if (run->io.direction == RINGVM_IO_IN)
			memset((char *)run + run->io.data_offset, 0,
			       run->io.size * run->io.count);
		return true;
	case RINGVM_EXIT_MMIO:
		memset(run->mmio.data, 0xa5, sizeof(run->mmio.data));
		return true;
	case RINGVM_EXIT_HYPERCALL:
		run->hypercall.ret = 0;
		return true;
	case RINGVM_EXIT_MSR:
		run->msr.error = 1;
		return true;
	case RINGVM_EXIT_HLT:
		return true;
	case RINGVM_EXIT_SHUTDOWN:
	case RINGVM_EXIT_FAIL_ENTRY:
	case RINGVM_EXIT_INTR:
	case RINGVM_EXIT_EMULATION:
		return false;
	case RINGVM_EXIT_INTERNAL_ERROR:
		ASSERT_TRUE(internal_error_documented(run))
			TH_LOG("case seed %#llx: %s", (unsigned long long)case_seed,
			       vcpu_exit_str(vcpu, b, sizeof(b)));
		return false;
	default:
		ASSERT_TRUE(0) TH_LOG("case seed %#llx: undefined exit %s",
				      (unsigned long long)case_seed,
				      vcpu_exit_str(vcpu, b, sizeof(b)));
		return false;
	}
}

static void run_case(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fuzz) *self, __u64 case_seed,
		     struct tally *t, bool tcg_svm)
{
	struct itimerval it = {
		.it_value = { .tv_usec = 40000 },
		.it_interval = { .tv_usec = 20000 },
	};
	struct itimerval off = { 0 };
	static struct gen g;
	struct ringvm_sregs sregs;
	struct ringvm_regs regs;
	struct test_vcpu *vcpu;
	unsigned int i;
	char b[256];
	const char *w;

	memset(&g, 0, sizeof(g));
	g.seed = case_seed | 1;
	g.tcg_svm = tcg_svm;
	g.mode = below(&g, MODES);
	g.code = addr_gva2hva(self->vm, FUZZ_CODE_GPA);

	memcpy(self->vm->mem, self->ram0, self->vm->ram_size);
	for (i = 0; i < FUZZ_DATA_SIZE; i++)	/* no 8 bytes host-looking */
		((__u8 *)addr_gva2hva(self->vm, FUZZ_DATA_GPA))[i] =
			i >= FUZZ_ZERO_OFF ? 0 : rnd(&g) & 0x7f;
	generate(&g);

	vcpu = vm_vcpu_add(self->vm, 0, (void *)FUZZ_CODE_GPA);
	vcpu_sregs_get(vcpu, &sregs);
	vcpu_regs_get(vcpu, &regs);
	perturb(&g, &sregs, &regs);
	if (g.mode == MODE_REAL)
		state_real(&sregs, &regs);
	else if (g.mode == MODE_PROT)
		state_prot(&sregs, &regs);
	else
		regs.rip = FUZZ_CODE_GPA;
	/* mostly valid: SET may refuse a perturbed field, then run as is */
	__ringvm_set_sregs(vcpu->fd, &sregs);
	vcpu_regs_set(vcpu, &regs);

	alarmed = 0;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	for (i = 0; i < FUZZ_MAX_EXITS && !alarmed; i++) {
		int r = __vcpu_run(vcpu);

		if (r == -EINTR)
			break;
		if (r) {
			setitimer(ITIMER_REAL, &off, NULL);
			ASSERT_EQ(0, r) TH_LOG("case seed %#llx: RUN: %s",
					       (unsigned long long)case_seed,
					       strerror(-r));
		}
		t->exits++;
		t->by_reason[vcpu->run->exit_reason <= RINGVM_EXIT_INTERNAL_ERROR ?
			     vcpu->run->exit_reason : 0]++;
		if (!answer(_metadata, vcpu, t, case_seed))
			break;
	}
	setitimer(ITIMER_REAL, &off, NULL);

	w = vcpu_host_address(vcpu, g.allow, g.nallow,
			      g.random_bytes ? HOST_ADDR_LOOSE : 0, b, sizeof(b));
	ASSERT_EQ(NULL, w) TH_LOG("case seed %#llx (%s mode): host-looking address: %s",
				  (unsigned long long)case_seed,
				  mode_names[g.mode], w);
	w = vcpu_state_roundtrip(vcpu, b, sizeof(b));
	ASSERT_EQ(NULL, w) TH_LOG("case seed %#llx (%s mode): round trip: %s",
				  (unsigned long long)case_seed,
				  mode_names[g.mode], w);
	vm_vcpu_remove(vcpu);
}

TEST_F_TIMEOUT(fuzz, hostile_guest, 600)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	bool tcg_svm = host_is_tcg() && cpuinfo_arch() == RINGVM_ARCH_SVM;
	unsigned long cases = env_ul("RINGVM_FUZZ_CASES", tcg_svm ? 1000 : 60);
	__u64 seed = env_ul("RINGVM_FUZZ_SEED", (unsigned long)time(NULL));
	struct test_vcpu *vcpu;
	struct tally t = { 0 };
	struct timespec t0, t1;
	unsigned long c;
	__u64 s = seed | 1;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	TH_LOG("seed %llu (RINGVM_FUZZ_SEED), %lu cases",
	       (unsigned long long)seed, cases);
	/* a VM with its guest RAM laid out, and no vCPU */
	self->vm = vm_create_guest(&vcpu, (void *)FUZZ_CODE_GPA);
	vm_vcpu_remove(vcpu);
	self->ram0 = malloc(self->vm->ram_size);
	ASSERT_NE(NULL, self->ram0);
	memcpy(self->ram0, self->vm->mem, self->vm->ram_size);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (c = 0; c < cases; c++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		run_case(_metadata, self, s, &t, tcg_svm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%lu cases, %u exits in %.1f s: io %u mmio %u hlt %u hypercall %u msr %u shutdown %u fail_entry %u intr %u emulation %u internal %u; %u guest exceptions",
	       cases, t.exits, (t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       t.by_reason[RINGVM_EXIT_IO], t.by_reason[RINGVM_EXIT_MMIO],
	       t.by_reason[RINGVM_EXIT_HLT], t.by_reason[RINGVM_EXIT_HYPERCALL],
	       t.by_reason[RINGVM_EXIT_MSR], t.by_reason[RINGVM_EXIT_SHUTDOWN],
	       t.by_reason[RINGVM_EXIT_FAIL_ENTRY], t.by_reason[RINGVM_EXIT_INTR],
	       t.by_reason[RINGVM_EXIT_EMULATION],
	       t.by_reason[RINGVM_EXIT_INTERNAL_ERROR], t.guest_exceptions);

	/* and the host still runs a well-behaved guest */
	vcpu = vm_vcpu_add(self->vm, 0, (void *)FUZZ_CODE_GPA);
	memcpy(self->vm->mem, self->ram0, self->vm->ram_size);
	memcpy(addr_gva2hva(self->vm, FUZZ_CODE_GPA), "\xf4", 1);
	vcpu_run(vcpu);
	ASSERT_EXIT(vcpu, RINGVM_EXIT_HLT);
}

RINGVM_GUEST_TEST_MAIN
