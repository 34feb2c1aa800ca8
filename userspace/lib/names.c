// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 5: names for the numbers of the ABI, one table each, so
 * vmctl's output and the tests that parse it agree on them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libringvm.h"
#include "internal.h"

static const struct {
	const char *name;
	const char *desc;
} arch_names[] = {
	[RINGVM_ARCH_NONE] = { "none", "none" },
	[RINGVM_ARCH_VMX] = { "vmx", "Intel VT-x" },
	[RINGVM_ARCH_SVM] = { "svm", "AMD SVM" },
};

/* Indexed by bit number of RINGVM_FEAT_*. */
#define FEAT(f)	__builtin_ctzll(RINGVM_FEAT_##f)
static const char *const feature_names[] = {
	[FEAT(NESTED_PAGING)]		= "nested-paging",
	[FEAT(UNRESTRICTED_GUEST)]	= "unrestricted-guest",
	[FEAT(TAGGED_TLB)]		= "tagged-tlb",
	[FEAT(NRIP_SAVE)]		= "nrip-save",
	[FEAT(DECODE_ASSISTS)]		= "decode-assists",
	[FEAT(VGIF)]			= "vgif",
	[FEAT(NP_AD_BITS)]		= "np-ad-bits",
	[FEAT(FLUSH_BY_TAG)]		= "flush-by-tag",
	[FEAT(VMCB_CLEAN)]		= "vmcb-clean",
	[FEAT(TSC_SCALING)]		= "tsc-scaling",
	[FEAT(PAUSE_FILTER)]		= "pause-filter",
	[FEAT(PREEMPTION_TIMER)]	= "preemption-timer",
	[FEAT(VIRT_APIC)]		= "virt-apic",
	[FEAT(LAPIC)]			= "lapic",
	[FEAT(LARGE_PAGES)]		= "large_pages",
	[FEAT(EOI_EXIT)]		= "eoi-exit",
};
#undef FEAT

static const char *const exit_reason_names[] = {
	[RINGVM_EXIT_UNKNOWN]		= "unknown",
	[RINGVM_EXIT_IO]		= "io",
	[RINGVM_EXIT_MMIO]		= "mmio",
	[RINGVM_EXIT_HLT]		= "hlt",
	[RINGVM_EXIT_HYPERCALL]		= "hypercall",
	[RINGVM_EXIT_MSR]		= "msr",
	[RINGVM_EXIT_SHUTDOWN]		= "shutdown",
	[RINGVM_EXIT_FAIL_ENTRY]	= "fail-entry",
	[RINGVM_EXIT_INTR]		= "intr",
	[RINGVM_EXIT_EMULATION]		= "emulation",
	[RINGVM_EXIT_DESTROYED]		= "destroyed",
	[RINGVM_EXIT_INTERNAL_ERROR]	= "internal-error",
	[RINGVM_EXIT_IRQ_WINDOW]	= "irq-window",
	[RINGVM_EXIT_NMI_WINDOW]	= "nmi-window",
	[RINGVM_EXIT_EOI]		= "eoi",
};

static const char *const vm_event_names[] = {
	[RINGVM_VM_EVENT_CREATED]	= "created",
	[RINGVM_VM_EVENT_DESTROYED]	= "destroyed",
	[RINGVM_VM_EVENT_SHUTDOWN]	= "shutdown",
	[RINGVM_VM_EVENT_FAIL_ENTRY]	= "fail-entry",
};

const char *ringvm_arch_name(__u32 arch)
{
	return arch < ARRAY_SIZE(arch_names) ? arch_names[arch].name :
					       "unknown";
}

const char *ringvm_arch_desc(__u32 arch)
{
	return arch < ARRAY_SIZE(arch_names) ? arch_names[arch].desc :
					       "unknown";
}

const char *ringvm_feature_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;
}

int ringvm_feature_bit(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(feature_names); i++)
		if (feature_names[i] && !strcmp(feature_names[i], name))
			return i;
	return -EINVAL;
}

char *ringvm_page_size_str(unsigned int shift, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned int u = shift / 10;

	if (u == 0 || u > sizeof(units) - 1)
		snprintf(buf, len, "%lluB", 1ULL << (shift & 63));
	else
		snprintf(buf, len, "%llu%c", 1ULL << (shift - 10 * u),
			 units[u - 1]);
	return buf;
}

const char *ringvm_exit_reason_name(__u32 reason)
{
	static __thread char buf[16];

	if (reason < ARRAY_SIZE(exit_reason_names) &&
	    exit_reason_names[reason])
		return exit_reason_names[reason];
	snprintf(buf, sizeof(buf), "exit-%u", reason);
	return buf;
}

const char *ringvm_vm_event_name(__u32 event)
{
	static __thread char buf[16];

	if (event < ARRAY_SIZE(vm_event_names) && vm_event_names[event])
		return vm_event_names[event];
	snprintf(buf, sizeof(buf), "event-%u", event);
	return buf;
}

static const char *const exit_stat_names[] = {
	[RINGVM_A_EXIT_REASONS_OTHER]		= "other",
	[RINGVM_A_EXIT_REASONS_CPUID]		= "cpuid",
	[RINGVM_A_EXIT_REASONS_HLT]		= "hlt",
	[RINGVM_A_EXIT_REASONS_IO]		= "io",
	[RINGVM_A_EXIT_REASONS_NPF]		= "npf",
	[RINGVM_A_EXIT_REASONS_RDMSR]		= "rdmsr",
	[RINGVM_A_EXIT_REASONS_WRMSR]		= "wrmsr",
	[RINGVM_A_EXIT_REASONS_HYPERCALL]	= "hypercall",
	[RINGVM_A_EXIT_REASONS_MOV_DR]		= "mov-dr",
	[RINGVM_A_EXIT_REASONS_XSETBV]		= "xsetbv",
	[RINGVM_A_EXIT_REASONS_SHUTDOWN]	= "shutdown",
	[RINGVM_A_EXIT_REASONS_FAIL_ENTRY]	= "fail-entry",
	[RINGVM_A_EXIT_REASONS_UNHANDLED]	= "unhandled",
	[RINGVM_A_EXIT_REASONS_NO_INSN_LEN]	= "no-insn-len",
};

const char *ringvm_exit_stat_name(unsigned int attr)
{
	return attr < ARRAY_SIZE(exit_stat_names) ? exit_stat_names[attr] :
						    NULL;
}
