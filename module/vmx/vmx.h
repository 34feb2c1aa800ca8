/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX hardware definitions ringvm uses, named as in the Intel SDM.
 * Capability MSR layouts: Intel SDM Vol. 3D, Appendix A ("VMX Capability
 * Reporting Facility").
 */
#ifndef RINGVM_VMX_VMX_H
#define RINGVM_VMX_VMX_H

#include <linux/bits.h>

/* CPUID.1:ECX.VMX[bit 5] */
#define VMX_CPUID1_ECX_VMX			BIT(5)

/* IA32_VMX_BASIC, SDM Vol. 3D §A.1 */
#define IA32_VMX_BASIC_REVISION_MASK			GENMASK_ULL(30, 0)
#define IA32_VMX_BASIC_32BIT_PHYS_ADDR_ONLY		BIT_ULL(48)
#define IA32_VMX_BASIC_MEM_TYPE_SHIFT		50
#define IA32_VMX_BASIC_MEM_TYPE_MASK			GENMASK_ULL(53, 50)
#define IA32_VMX_BASIC_MEM_TYPE_WB			6ULL
#define IA32_VMX_BASIC_TRUE_CTLS			BIT_ULL(55)

/*
 * Control MSRs report allowed-0 settings in bits 31:0 and allowed-1
 * settings in bits 63:32 (SDM Vol. 3D §A.3).
 */
#define VMX_CTLS_ALLOWED1(msr)			((u32)((msr) >> 32))

/* Pin-based VM-execution controls, SDM Vol. 3C §25.6.1 */
#define PIN_BASED_VMX_PREEMPTION_TIMER		BIT(6)

/* Primary processor-based controls, SDM Vol. 3C §25.6.2, Table 25-6 */
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS	BIT(31)

/* Secondary processor-based controls, SDM Vol. 3C §25.6.2, Table 25-7 */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES	BIT(0)
#define SECONDARY_EXEC_ENABLE_EPT		BIT(1)
#define SECONDARY_EXEC_ENABLE_VPID		BIT(5)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST	BIT(7)
#define SECONDARY_EXEC_APIC_REGISTER_VIRT	BIT(8)
#define SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY	BIT(9)
#define SECONDARY_EXEC_PAUSE_LOOP_EXITING	BIT(10)
#define SECONDARY_EXEC_TSC_SCALING		BIT(25)

/* IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D §A.10 */
#define IA32_VMX_EPT_PAGE_WALK_4			BIT_ULL(6)
#define IA32_VMX_EPT_MEMTYPE_WB			BIT_ULL(14)
#define IA32_VMX_EPT_2MB_PAGE			BIT_ULL(16)
#define IA32_VMX_EPT_1GB_PAGE			BIT_ULL(17)
#define IA32_VMX_EPT_INVEPT				BIT_ULL(20)
#define IA32_VMX_EPT_AD				BIT_ULL(21)
#define IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT		BIT_ULL(25)
#define IA32_VMX_EPT_INVEPT_ALL_CONTEXT		BIT_ULL(26)
#define IA32_VMX_VPID_INVVPID			BIT_ULL(32)
#define IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT		BIT_ULL(41)
#define IA32_VMX_VPID_INVVPID_ALL_CONTEXT		BIT_ULL(42)

/* VPIDs are 16 bits wide and VPID 0 is the host's (SDM Vol. 3C §29.1). */
#define VMX_NR_VPIDS				0xffff

#endif /* RINGVM_VMX_VMX_H */
