/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SVM hardware definitions ringvm uses, named as in the AMD APM Vol. 2
 * (chapter 15, "Secure Virtual Machine") and the CPUID specification.
 */
#ifndef RINGVM_SVM_SVM_H
#define RINGVM_SVM_SVM_H

#include <linux/bits.h>

/* CPUID Fn8000_0001_ECX[SVM] and Fn8000_0001_EDX[Page1GB] */
#define SVM_CPUID_EXT1_ECX_SVM		BIT(2)
#define SVM_CPUID_EXT1_EDX_PAGE1GB	BIT(26)

/* CPUID Fn8000_000A: SVM revision (EAX[7:0]), NASID (EBX), features (EDX) */
#define SVM_CPUID_LEAF			0x8000000a
#define SVM_CPUID_REVISION_MASK		0xff
#define SVM_FEATURE_NP			BIT(0)
#define SVM_FEATURE_NRIPS		BIT(3)
#define SVM_FEATURE_TSC_RATE		BIT(4)
#define SVM_FEATURE_VMCB_CLEAN		BIT(5)
#define SVM_FEATURE_FLUSH_BY_ASID	BIT(6)
#define SVM_FEATURE_DECODE_ASSISTS	BIT(7)
#define SVM_FEATURE_PAUSE_FILTER	BIT(10)
#define SVM_FEATURE_AVIC		BIT(13)
#define SVM_FEATURE_VGIF		BIT(16)

/* VM_CR MSR (C001_0114h), APM Vol. 2 §15.30.1 */
#define SVM_VM_CR_SVMDIS		BIT_ULL(4)

#endif /* RINGVM_SVM_SVM_H */
