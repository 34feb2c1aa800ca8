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
};
#undef FEAT

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
