/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCS: field encodings and the instructions that touch it.
 *
 *  1. field encodings, SDM Vol. 3D Appendix B, named as there (the ones
 *     ringvm uses; the encoding's bits 14:13 give the width)
 *  2. vmcs_read16/32/64/l() and vmcs_write16/32/64/l(): a constant field
 *     of another width fails the build
 *  3. VMPTRLD, VMCLEAR, INVEPT and INVVPID
 *
 * Every VMX instruction here sends a VM-Fail (CF or ZF set, SDM Vol. 3C
 * §31.2) or a fault (#UD once VMX is off, e.g. while rebooting) to one
 * reporter, vmx_insn_failed(), which reads VM_INSTRUCTION_ERROR.  None of
 * them sleeps; the caller has the VMCS current on this CPU (VMREAD and
 * VMWRITE) with preemption off.
 */
#ifndef RINGVM_VMX_VMCS_H
#define RINGVM_VMX_VMCS_H

/* 16-bit fields */
#define VIRTUAL_PROCESSOR_ID		0x00000000
#define GUEST_ES_SELECTOR		0x00000800
#define GUEST_CS_SELECTOR		0x00000802
#define GUEST_SS_SELECTOR		0x00000804
#define GUEST_DS_SELECTOR		0x00000806
#define GUEST_FS_SELECTOR		0x00000808
#define GUEST_GS_SELECTOR		0x0000080a
#define GUEST_LDTR_SELECTOR		0x0000080c
#define GUEST_TR_SELECTOR		0x0000080e
#define HOST_ES_SELECTOR		0x00000c00
#define HOST_CS_SELECTOR		0x00000c02
#define HOST_SS_SELECTOR		0x00000c04
#define HOST_DS_SELECTOR		0x00000c06
#define HOST_FS_SELECTOR		0x00000c08
#define HOST_GS_SELECTOR		0x00000c0a
#define HOST_TR_SELECTOR		0x00000c0c

/* 64-bit fields (the "high" halves, encoding | 1, are not used) */
#define TSC_OFFSET			0x00002010
#define EPT_POINTER			0x0000201a
#define ENCLS_EXITING_BITMAP		0x0000202e
#define GUEST_PHYSICAL_ADDRESS		0x00002400
#define VMCS_LINK_POINTER		0x00002800
#define GUEST_IA32_DEBUGCTL		0x00002802
#define GUEST_IA32_PAT			0x00002804
#define GUEST_IA32_EFER			0x00002806
#define GUEST_PDPTR0			0x0000280a
#define GUEST_PDPTR1			0x0000280c
#define GUEST_PDPTR2			0x0000280e
#define GUEST_PDPTR3			0x00002810
#define HOST_IA32_PAT			0x00002c00
#define HOST_IA32_EFER			0x00002c02

/* 32-bit fields */
#define PIN_BASED_VM_EXEC_CONTROL	0x00004000
#define CPU_BASED_VM_EXEC_CONTROL	0x00004002
#define EXCEPTION_BITMAP		0x00004004
#define PAGE_FAULT_ERROR_CODE_MASK	0x00004006
#define PAGE_FAULT_ERROR_CODE_MATCH	0x00004008
#define CR3_TARGET_COUNT		0x0000400a
#define VM_EXIT_CONTROLS		0x0000400c
#define VM_EXIT_MSR_STORE_COUNT		0x0000400e
#define VM_EXIT_MSR_LOAD_COUNT		0x00004010
#define VM_ENTRY_CONTROLS		0x00004012
#define VM_ENTRY_MSR_LOAD_COUNT		0x00004014
#define VM_ENTRY_INTR_INFO_FIELD	0x00004016
#define VM_ENTRY_EXCEPTION_ERROR_CODE	0x00004018
#define VM_ENTRY_INSTRUCTION_LEN	0x0000401a
#define SECONDARY_VM_EXEC_CONTROL	0x0000401e
#define VM_INSTRUCTION_ERROR		0x00004400
#define VM_EXIT_REASON			0x00004402
#define VM_EXIT_INTR_INFO		0x00004404
#define VM_EXIT_INTR_ERROR_CODE		0x00004406
#define IDT_VECTORING_INFO_FIELD	0x00004408
#define IDT_VECTORING_ERROR_CODE	0x0000440a
#define VM_EXIT_INSTRUCTION_LEN		0x0000440c
#define VMX_INSTRUCTION_INFO		0x0000440e
#define GUEST_ES_LIMIT			0x00004800
#define GUEST_CS_LIMIT			0x00004802
#define GUEST_SS_LIMIT			0x00004804
#define GUEST_DS_LIMIT			0x00004806
#define GUEST_FS_LIMIT			0x00004808
#define GUEST_GS_LIMIT			0x0000480a
#define GUEST_LDTR_LIMIT		0x0000480c
#define GUEST_TR_LIMIT			0x0000480e
#define GUEST_GDTR_LIMIT		0x00004810
#define GUEST_IDTR_LIMIT		0x00004812
#define GUEST_ES_AR_BYTES		0x00004814
#define GUEST_CS_AR_BYTES		0x00004816
#define GUEST_SS_AR_BYTES		0x00004818
#define GUEST_DS_AR_BYTES		0x0000481a
#define GUEST_FS_AR_BYTES		0x0000481c
#define GUEST_GS_AR_BYTES		0x0000481e
#define GUEST_LDTR_AR_BYTES		0x00004820
#define GUEST_TR_AR_BYTES		0x00004822
#define GUEST_INTERRUPTIBILITY_INFO	0x00004824
#define GUEST_ACTIVITY_STATE		0x00004826
#define GUEST_SYSENTER_CS		0x0000482a
#define VMX_PREEMPTION_TIMER_VALUE	0x0000482e
#define HOST_IA32_SYSENTER_CS		0x00004c00

/* Natural-width fields */
#define CR0_GUEST_HOST_MASK		0x00006000
#define CR4_GUEST_HOST_MASK		0x00006002
#define CR0_READ_SHADOW			0x00006004
#define CR4_READ_SHADOW			0x00006006
#define EXIT_QUALIFICATION		0x00006400
#define GUEST_LINEAR_ADDRESS		0x0000640a
#define GUEST_CR0			0x00006800
#define GUEST_CR3			0x00006802
#define GUEST_CR4			0x00006804
#define GUEST_ES_BASE			0x00006806
#define GUEST_CS_BASE			0x00006808
#define GUEST_SS_BASE			0x0000680a
#define GUEST_DS_BASE			0x0000680c
#define GUEST_FS_BASE			0x0000680e
#define GUEST_GS_BASE			0x00006810
#define GUEST_LDTR_BASE			0x00006812
#define GUEST_TR_BASE			0x00006814
#define GUEST_GDTR_BASE			0x00006816
#define GUEST_IDTR_BASE			0x00006818
#define GUEST_DR7			0x0000681a
#define GUEST_RSP			0x0000681c
#define GUEST_RIP			0x0000681e
#define GUEST_RFLAGS			0x00006820
#define GUEST_PENDING_DBG_EXCEPTIONS	0x00006822
#define GUEST_SYSENTER_ESP		0x00006824
#define GUEST_SYSENTER_EIP		0x00006826
#define HOST_CR0			0x00006c00
#define HOST_CR3			0x00006c02
#define HOST_CR4			0x00006c04
#define HOST_FS_BASE			0x00006c06
#define HOST_GS_BASE			0x00006c08
#define HOST_TR_BASE			0x00006c0a
#define HOST_GDTR_BASE			0x00006c0c
#define HOST_IDTR_BASE			0x00006c0e
#define HOST_IA32_SYSENTER_ESP		0x00006c10
#define HOST_IA32_SYSENTER_EIP		0x00006c12
#define HOST_RSP			0x00006c14
#define HOST_RIP			0x00006c16

/* Bits 14:13 of an encoding give its width (SDM Vol. 3C §25.11.2). */
#define VMCS_WIDTH_16			0
#define VMCS_WIDTH_64			1
#define VMCS_WIDTH_32			2
#define VMCS_WIDTH_NATURAL		3
/*
 * True if @field has the width @width and is not the "high" half (bit 0)
 * of a 64-bit field, which x86-64 never needs.
 */
#define VMCS_FIELD_IS(field, width)					\
	(((field) & 0x6001) == ((width) << 13))

#ifndef __ASSEMBLY__

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/asm.h>

void vmx_insn_failed(const char *insn, unsigned long arg);

/*
 * A field that is a compile-time constant must have the accessor's width;
 * one that is not (a table's) is checked where the table is built.
 */
#define vmcs_check(field, width)					\
	BUILD_BUG_ON_MSG(__builtin_constant_p(field) &&		\
			 !VMCS_FIELD_IS(field, width),			\
			 "VMCS field accessed with the wrong width")

/*
 * VMREAD.  No asm goto with outputs: Linux 6.12 marks it broken for the
 * gcc-12 that builds it.  A VM-Fail sets "failed" through SETNA, a fault
 * through the exception table (EX_TYPE_ONE_REG).
 */
static __always_inline unsigned long __vmcs_readl(unsigned long field)
{
	unsigned long value, failed;

	asm volatile("1: vmread %[field], %[value]\n\t"
		     "setna %b[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_ONE_REG, %[failed])
		     : [value] "=&r" (value), [failed] "=&q" (failed)
		     : [field] "r" (field)
		     : "cc");
	if (unlikely((u8)failed)) {
		vmx_insn_failed("vmread", field);
		return 0;
	}
	return value;
}

static __always_inline void __vmcs_writel(unsigned long field,
					  unsigned long value)
{
	asm goto("1: vmwrite %[value], %[field]\n\t"
		 "jna %l[failed]\n\t"
		 _ASM_EXTABLE(1b, %l[failed])
		 : : [field] "r" (field), [value] "rm" (value)
		 : "cc" : failed);
	return;
failed:
	vmx_insn_failed("vmwrite", field);
}

static __always_inline u16 vmcs_read16(unsigned long field)
{
	vmcs_check(field, VMCS_WIDTH_16);
	return __vmcs_readl(field);
}

static __always_inline u32 vmcs_read32(unsigned long field)
{
	vmcs_check(field, VMCS_WIDTH_32);
	return __vmcs_readl(field);
}

static __always_inline u64 vmcs_read64(unsigned long field)
{
	vmcs_check(field, VMCS_WIDTH_64);
	return __vmcs_readl(field);
}

static __always_inline unsigned long vmcs_readl(unsigned long field)
{
	vmcs_check(field, VMCS_WIDTH_NATURAL);
	return __vmcs_readl(field);
}

static __always_inline void vmcs_write16(unsigned long field, u16 value)
{
	vmcs_check(field, VMCS_WIDTH_16);
	__vmcs_writel(field, value);
}

static __always_inline void vmcs_write32(unsigned long field, u32 value)
{
	vmcs_check(field, VMCS_WIDTH_32);
	__vmcs_writel(field, value);
}

static __always_inline void vmcs_write64(unsigned long field, u64 value)
{
	vmcs_check(field, VMCS_WIDTH_64);
	__vmcs_writel(field, value);
}

static __always_inline void vmcs_writel(unsigned long field,
					unsigned long value)
{
	vmcs_check(field, VMCS_WIDTH_NATURAL);
	__vmcs_writel(field, value);
}

/* VMPTRLD: make the VMCS at @pa current on this CPU. */
static inline void vmcs_load(phys_addr_t pa)
{
	u64 operand = pa;

	asm goto("1: vmptrld %[pa]\n\t"
		 "jna %l[failed]\n\t"
		 _ASM_EXTABLE(1b, %l[failed])
		 : : [pa] "m" (operand) : "cc", "memory" : failed);
	return;
failed:
	vmx_insn_failed("vmptrld", pa);
}

/*
 * VMCLEAR: write the VMCS at @pa back to memory, make it inactive and not
 * current on this CPU, and its launch state "clear" (SDM Vol. 3C
 * §25.11.3): the next entry must be VMLAUNCH.
 */
static inline void vmcs_clear(phys_addr_t pa)
{
	u64 operand = pa;

	asm goto("1: vmclear %[pa]\n\t"
		 "jna %l[failed]\n\t"
		 _ASM_EXTABLE(1b, %l[failed])
		 : : [pa] "m" (operand) : "cc", "memory" : failed);
	return;
failed:
	vmx_insn_failed("vmclear", pa);
}

/* INVEPT and INVVPID descriptors, SDM Vol. 3C §31.3 */
static inline void __invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} operand = { eptp, 0 };

	asm goto("1: invept %[operand], %[type]\n\t"
		 "jna %l[failed]\n\t"
		 _ASM_EXTABLE(1b, %l[failed])
		 : : [type] "r" (type), [operand] "m" (operand)
		 : "cc", "memory" : failed);
	return;
failed:
	vmx_insn_failed("invept", type);
}

static inline void __invvpid(unsigned long type, u16 vpid)
{
	struct {
		u64 vpid, gva;
	} operand = { vpid, 0 };

	asm goto("1: invvpid %[operand], %[type]\n\t"
		 "jna %l[failed]\n\t"
		 _ASM_EXTABLE(1b, %l[failed])
		 : : [type] "r" (type), [operand] "m" (operand)
		 : "cc", "memory" : failed);
	return;
failed:
	vmx_insn_failed("invvpid", type);
}

#endif /* __ASSEMBLY__ */
#endif /* RINGVM_VMX_VMCS_H */
