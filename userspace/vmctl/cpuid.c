// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: the CPUID table the guest sees, the host's own CPUID with
 * what the guest cannot use taken out.  The guest should recognize the
 * CPU (vendor, family/model/stepping, brand string, the instruction set
 * extensions) and should not be told of hardware ringvm and vmctl do not
 * give it.  The module answers 0x40000000-0x40000001 itself and fills in
 * leaf 1's hypervisor and OSXSAVE bits and the APIC id.
 *
 * Leaves given (any other reads as zeros):
 *	0		max basic leaf lowered to 0xd; the vendor string
 *	1		family/model/stepping, features, filtered below
 *	7.0		structured extended features, filtered, max subleaf 0
 *	0xd.0, 0xd.1, 0xd.n	XSAVE: x87, SSE, AVX and AVX-512 state only
 *	0x80000000	max extended leaf lowered to 0x80000008
 *	0x80000001	extended features, filtered
 *	0x80000002-4	the brand string
 *	0x80000005-6	cache descriptions (AMD; zeros on Intel hosts)
 *	0x80000007	the invariant TSC bit alone, as the host has it
 *	0x80000008	address sizes; of the feature bits only the
 *			speculation-control ones; one core
 *
 * Taken out, by group:
 *  - virtualization: VMX, SMX, SVM, SKINIT (ringvm does not nest);
 *  - devices and MSRs that do not exist yet in a ringvm guest: the
 *    local APIC, x2APIC, TSC deadline, MCE/MCA, MTRR, debug store,
 *    thermal and power management (ACPI, TM, TM2, EST, PBE, leaf
 *    0x80000007 but for its invariant TSC bit), performance counters
 *    and PDCM, MONITOR/MWAIT and MONITORX, WAITPKG, the AMD extended
 *    APIC space, IBS, LWP, OSVW;
 *  - IA32_CORE_CAPABILITIES, which the guest would read and #GP on;
 *    the speculation-control bits (IBRS/IBPB, STIBP, L1D_FLUSH,
 *    ARCH_CAPABILITIES, SSBD) stay: the module offers those MSRs where
 *    the host kernel has them and clears the bits where it does not
 *    (module/spec.c);
 *  - RDTSCP and RDPID: the module makes RDTSCP #UD, and both read
 *    IA32_TSC_AUX;
 *  - XSAVES and XSAVEC (the module keeps XSAVE state in the standard
 *    format; Bochs also misreports the compacted size), supervisor
 *    state (IA32_XSS), MPX, PKRU/PKU/OSPKE, Intel PT, CET, AMX;
 *  - PCID/INVPCID, LA57, SGX, TME, PCONFIG, hybrid and other platform
 *    features a guest might try to program;
 *  - topology: HTT off and one logical processor (one vCPU).
 * With the in-kernel local APICs (--vcpus, --lapic) the APIC, x2APIC and
 * TSC-deadline bits come back, with the topology of N vCPUs (add_apic).
 * The rest (SSE*, AVX*, AES, BMI, ADX, SHA, RDRAND, ...) is kept.
 */
#include <cpuid.h>
#include <errno.h>
#include <string.h>

#include "machine.h"

#define BIT(n)		(1U << (n))

/*
 * Leaf 1.  ECX: DTES64 MONITOR DS-CPL VMX SMX EST TM2 xTPR PDCM PCID DCA
 * x2APIC TSC-deadline, and OSXSAVE and hypervisor, which the module sets.
 * EDX: MCE APIC MTRR MCA DS ACPI HTT TM PBE.
 */
#define L1_ECX_DROP	(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) |	\
			 BIT(7) | BIT(8) | BIT(14) | BIT(15) | BIT(17) |	\
			 BIT(18) | BIT(21) | BIT(24) | BIT(27) | BIT(31))
#define L1_EDX_DROP	(BIT(7) | BIT(9) | BIT(12) | BIT(14) | BIT(21) | \
			 BIT(22) | BIT(28) | BIT(29) | BIT(31))

/*
 * Leaf 7.0.  EBX: TSC_ADJUST SGX HLE INVPCID RTM RDT-M MPX RDT-A PT.
 * ECX: PKU OSPKE WAITPKG CET_SS TME LA57 RDPID SGX_LC PKS.
 * EDX: hybrid PCONFIG arch-LBR IBT AMX-BF16 AMX-TILE AMX-INT8
 * CORE_CAPABILITIES.
 */
#define L7_EBX_DROP	(BIT(1) | BIT(2) | BIT(4) | BIT(10) | BIT(11) |	\
			 BIT(12) | BIT(14) | BIT(15) | BIT(25))
#define L7_ECX_DROP	(BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(13) |	\
			 BIT(16) | BIT(22) | BIT(30) | BIT(31))
#define L7_EDX_DROP	(BIT(15) | BIT(18) | BIT(19) | BIT(20) |	\
			 BIT(22) | BIT(24) | BIT(25) | BIT(30))

/*
 * Leaf 0x80000008 EBX: IBPB, IBRS, STIBP, IBRS/STIBP always on, IBRS
 * preferred and same-mode, SSBD and SSB_NO (AMD APM Vol. 3, E.4.7).
 */
#define LX8_EBX_KEEP	(BIT(12) | BIT(14) | BIT(15) | BIT(16) | BIT(17) | \
			 BIT(18) | BIT(19) | BIT(24) | BIT(26))

/*
 * Leaf 0x80000001.  ECX: CmpLegacy SVM ExtApicSpace OSVW IBS SKINIT WDT
 * LWP NodeId TOPOEXT PerfCtrCore PerfCtrNb DBX PerfTsc PerfCtrL2I
 * MONITORX.  EDX: RDTSCP.
 */
#define LX1_ECX_DROP	(BIT(1) | BIT(2) | BIT(3) | BIT(9) | BIT(10) |	\
			 BIT(12) | BIT(13) | BIT(15) | BIT(19) | BIT(22) | \
			 BIT(23) | BIT(24) | BIT(26) | BIT(27) | BIT(28) | \
			 BIT(29))
#define LX1_EDX_DROP	BIT(27)

/*
 * XSAVE components offered: x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256,
 * Hi16_ZMM).  MPX (3, 4), PT (8), PKRU (9), CET (11, 12), AMX (17, 18)
 * and the supervisor components are not.
 */
#define XSTATE_OFFERED	0xe7ULL

/* Leaf 0xd.1 EAX: XSAVEOPT (0) and XGETBV with ECX=1 (2) stay. */
#define LD1_EAX_KEEP	(BIT(0) | BIT(2))

static struct ringvm_cpuid_entry *add(struct ringvm_cpuid *t, __u32 fn,
				      __u32 index, bool indexed)
{
	struct ringvm_cpuid_entry *e = &t->entries[t->nent++];
	unsigned int a, b, c, d;

	__cpuid_count(fn, index, a, b, c, d);
	*e = (struct ringvm_cpuid_entry) {
		.function = fn, .index = indexed ? index : 0,
		.flags = indexed ? RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX : 0,
		.eax = a, .ebx = b, .ecx = c, .edx = d,
	};
	return e;
}

static void add_basic(struct ringvm_cpuid *t)
{
	struct ringvm_cpuid_entry *e;
	unsigned int max, i;
	bool xsave;
	__u64 xcr0;

	e = add(t, 0, 0, false);
	if (e->eax > 0xd)
		e->eax = 0xd;
	max = e->eax;

	e = add(t, 1, 0, false);
	xsave = e->ecx & BIT(26);
	e->ecx &= ~L1_ECX_DROP;
	e->edx &= ~L1_EDX_DROP;
	/*
	 * EBX: brand index and CLFLUSH size stay; one logical processor,
	 * and APIC id 0 (the module puts the vCPU id there).
	 */
	e->ebx = (e->ebx & 0xffff) | (1U << 16);

	if (max >= 7) {
		e = add(t, 7, 0, true);
		e->eax = 0;		/* only subleaf 0 */
		e->ebx &= ~L7_EBX_DROP;
		e->ecx &= ~L7_ECX_DROP;
		e->edx &= ~L7_EDX_DROP;
	}

	if (max < 0xd || !xsave)
		return;
	e = add(t, 0xd, 0, true);
	xcr0 = (e->eax | (__u64)e->edx << 32) & XSTATE_OFFERED;
	e->eax = (__u32)xcr0;
	e->edx = xcr0 >> 32;
	/*
	 * EBX is the size for the XCR0 the guest has now; the module does
	 * not track it, so give the size of everything offered, an upper
	 * bound (ECX, computed from the components' offsets below).
	 */
	e->ecx = 512 + 64;
	for (i = 2; i < 64; i++) {
		struct ringvm_cpuid_entry *c;

		if (!(xcr0 & (1ULL << i)))
			continue;
		c = add(t, 0xd, i, true);
		if (c->eax + c->ebx > e->ecx)
			e->ecx = c->eax + c->ebx;
	}
	e->ebx = e->ecx;
	e = add(t, 0xd, 1, true);
	e->eax &= LD1_EAX_KEEP;
	e->ebx = e->ecx = e->edx = 0;	/* no XSAVES: no IA32_XSS */
}

static void add_extended(struct ringvm_cpuid *t)
{
	struct ringvm_cpuid_entry *e;
	unsigned int max, fn;

	e = add(t, 0x80000000, 0, false);
	if (e->eax < 0x80000001 || e->eax > 0x8000ffff) {
		t->nent--;		/* no extended leaves at all */
		return;
	}
	if (e->eax > 0x80000008)
		e->eax = 0x80000008;
	max = e->eax;

	e = add(t, 0x80000001, 0, false);
	e->ecx &= ~LX1_ECX_DROP;
	e->edx &= ~LX1_EDX_DROP;

	for (fn = 0x80000002; fn <= max && fn <= 0x80000006; fn++)
		add(t, fn, 0, false);
	if (max >= 0x80000007) {
		/*
		 * EDX bit 8, invariant TSC: the guest's TSC is the host's
		 * plus an offset, so it runs at a constant rate through
		 * every guest power state if the host's does.  Without it
		 * Linux keeps watching the TSC against other clocks.  The
		 * rest (power management, APM) is not offered.
		 */
		e = add(t, 0x80000007, 0, false);
		e->eax = e->ebx = e->ecx = 0;
		e->edx &= BIT(8);
	}
	if (max >= 0x80000008) {
		e = add(t, 0x80000008, 0, false);
		e->eax &= 0xffff;	/* physical and linear address bits */
		e->ebx &= LX8_EBX_KEEP;
		e->ecx = e->edx = 0;
	}
}

/*
 * With the in-kernel local APICs: the APIC (leaf 1 EDX 9), x2APIC and
 * TSC-deadline (ECX 21, 24) bits, which ringvm emulates whatever the
 * host has; for N vCPUs HTT and N logical processors in leaf 1, and
 * leaf 0xb with one thread per core and N cores (the module puts each
 * vCPU's x2APIC ID in EDX).
 */
static void add_apic(struct ringvm_cpuid *t, unsigned int n)
{
	struct ringvm_cpuid_entry *e;
	unsigned int i, shift = 0;

	for (i = 0; i < t->nent; i++) {
		e = &t->entries[i];
		if (e->function != 1)
			continue;
		e->edx |= BIT(9);
		e->ecx |= BIT(21) | BIT(24);
		if (n > 1) {
			e->edx |= BIT(28);
			e->ebx = (e->ebx & 0xff00ffff) | (n << 16);
		}
	}
	while ((1U << shift) < n)
		shift++;
	/* SDM Vol. 2A, CPUID leaf 0BH: level type 1 SMT, 2 core */
	t->entries[t->nent++] = (struct ringvm_cpuid_entry) {
		.function = 0xb, .index = 0,
		.flags = RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX,
		.eax = 0, .ebx = 1, .ecx = 1 << 8,
	};
	t->entries[t->nent++] = (struct ringvm_cpuid_entry) {
		.function = 0xb, .index = 1,
		.flags = RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX,
		.eax = shift, .ebx = n, .ecx = 2 << 8 | 1,
	};
	t->entries[t->nent++] = (struct ringvm_cpuid_entry) {
		.function = 0xb, .index = 2,
		.flags = RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX,
		.ecx = 2,
	};
}

int vmctl_cpuid_setup(struct vmctl_machine *m)
{
	struct ringvm_cpuid t;

	memset(&t, 0, sizeof(t));
	add_basic(&t);
	add_extended(&t);
	if (m->lapic)
		add_apic(&t, m->nr_vcpus);
	return vmctl_set_cpuid(m, &t);
}
