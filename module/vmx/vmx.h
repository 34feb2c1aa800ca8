/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VT-x backend: what vmx.c, vcpu.c and exit.c share.
 *
 *  1. hardware definitions, named as in the Intel SDM: capability MSR
 *     layouts (Vol. 3D Appendix A), execution, exit and entry controls
 *     (Vol. 3C §25.6-§25.8), exit reasons (Vol. 3D Appendix C), exit
 *     qualifications and event information (Vol. 3C §28.2)
 *  2. struct vmx_config: the controls and limits chosen once at probe
 *  3. struct vmx_vcpu: a vCPU as this backend sees it
 *  4. the functions the three files call across
 *
 * VMCS field encodings and accessors are in vmcs.h.
 */
#ifndef RINGVM_VMX_VMX_H
#define RINGVM_VMX_VMX_H

#include <linux/bits.h>
#include <linux/jump_label.h>
#include <linux/types.h>

/* CPUID.1:ECX.VMX[bit 5] */
#define VMX_CPUID1_ECX_VMX			BIT(5)

/* IA32_VMX_BASIC, SDM Vol. 3D §A.1 */
#define IA32_VMX_BASIC_REVISION_MASK		GENMASK_ULL(30, 0)
#define IA32_VMX_BASIC_32BIT_PHYS_ADDR_ONLY	BIT_ULL(48)
#define IA32_VMX_BASIC_MEM_TYPE_SHIFT		50
#define IA32_VMX_BASIC_MEM_TYPE_MASK		GENMASK_ULL(53, 50)
#define IA32_VMX_BASIC_MEM_TYPE_WB		6ULL
#define IA32_VMX_BASIC_TRUE_CTLS		BIT_ULL(55)

/*
 * Control MSRs report allowed-0 settings in bits 31:0 (a 1 there: the
 * control must be 1) and allowed-1 settings in bits 63:32 (a 0 there:
 * the control must be 0), SDM Vol. 3D §A.3.
 */
#define VMX_CTLS_ALLOWED0(msr)			((u32)(msr))
#define VMX_CTLS_ALLOWED1(msr)			((u32)((msr) >> 32))

/* Pin-based VM-execution controls, SDM Vol. 3C §25.6.1, Table 25-5 */
#define PIN_BASED_EXT_INTR_MASK			BIT(0)
#define PIN_BASED_NMI_EXITING			BIT(3)
#define PIN_BASED_VIRTUAL_NMIS			BIT(5)
#define PIN_BASED_VMX_PREEMPTION_TIMER		BIT(6)

/* Primary processor-based controls, SDM Vol. 3C §25.6.2, Table 25-6 */
#define CPU_BASED_INTR_WINDOW_EXITING		BIT(2)
#define CPU_BASED_USE_TSC_OFFSETTING		BIT(3)
#define CPU_BASED_HLT_EXITING			BIT(7)
#define CPU_BASED_MWAIT_EXITING			BIT(10)
#define CPU_BASED_RDPMC_EXITING			BIT(11)
#define CPU_BASED_CR3_LOAD_EXITING		BIT(15)
#define CPU_BASED_CR3_STORE_EXITING		BIT(16)
#define CPU_BASED_CR8_LOAD_EXITING		BIT(19)
#define CPU_BASED_CR8_STORE_EXITING		BIT(20)
#define CPU_BASED_NMI_WINDOW_EXITING		BIT(22)
#define CPU_BASED_MOV_DR_EXITING		BIT(23)
#define CPU_BASED_UNCOND_IO_EXITING		BIT(24)
#define CPU_BASED_MONITOR_EXITING		BIT(29)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS	BIT(31)

/* Secondary processor-based controls, SDM Vol. 3C §25.6.2, Table 25-7 */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES	BIT(0)
#define SECONDARY_EXEC_ENABLE_EPT		BIT(1)
#define SECONDARY_EXEC_ENABLE_VPID		BIT(5)
#define SECONDARY_EXEC_WBINVD_EXITING		BIT(6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST	BIT(7)
#define SECONDARY_EXEC_APIC_REGISTER_VIRT	BIT(8)
#define SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY	BIT(9)
#define SECONDARY_EXEC_PAUSE_LOOP_EXITING	BIT(10)
#define SECONDARY_EXEC_ENABLE_INVPCID		BIT(12)
#define SECONDARY_EXEC_ENCLS_EXITING		BIT(15)
#define SECONDARY_EXEC_TSC_SCALING		BIT(25)

/* VM-exit controls, SDM Vol. 3C §25.7.1, Table 25-13 */
#define VM_EXIT_SAVE_DEBUG_CONTROLS		BIT(2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE		BIT(9)
#define VM_EXIT_ACK_INTR_ON_EXIT		BIT(15)
#define VM_EXIT_SAVE_IA32_PAT			BIT(18)
#define VM_EXIT_LOAD_IA32_PAT			BIT(19)
#define VM_EXIT_SAVE_IA32_EFER			BIT(20)
#define VM_EXIT_LOAD_IA32_EFER			BIT(21)

/* VM-entry controls, SDM Vol. 3C §25.8.1, Table 25-15 */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS		BIT(2)
#define VM_ENTRY_IA32E_MODE			BIT(9)
#define VM_ENTRY_LOAD_IA32_PAT			BIT(14)
#define VM_ENTRY_LOAD_IA32_EFER			BIT(15)

/* IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D §A.10 */
#define IA32_VMX_EPT_PAGE_WALK_4		BIT_ULL(6)
#define IA32_VMX_EPT_MEMTYPE_WB			BIT_ULL(14)
#define IA32_VMX_EPT_2MB_PAGE			BIT_ULL(16)
#define IA32_VMX_EPT_1GB_PAGE			BIT_ULL(17)
#define IA32_VMX_EPT_INVEPT			BIT_ULL(20)
#define IA32_VMX_EPT_AD				BIT_ULL(21)
#define IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT	BIT_ULL(25)
#define IA32_VMX_EPT_INVEPT_ALL_CONTEXT		BIT_ULL(26)
#define IA32_VMX_VPID_INVVPID			BIT_ULL(32)
#define IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT	BIT_ULL(41)
#define IA32_VMX_VPID_INVVPID_ALL_CONTEXT	BIT_ULL(42)

/* VPIDs are 16 bits wide and VPID 0 is the host's (SDM Vol. 3C §29.1). */
#define VMX_NR_VPIDS				0xffff

/* EPTP, SDM Vol. 3C §25.6.11, Table 25-9 */
#define VMX_EPTP_MT_WB				6ULL
#define VMX_EPTP_PWL_4				(3ULL << 3)

/* INVEPT and INVVPID types, SDM Vol. 3C §31.3 */
#define VMX_EPT_EXTENT_CONTEXT			1
#define VMX_EPT_EXTENT_GLOBAL			2
#define VMX_VPID_EXTENT_SINGLE_CONTEXT		1
#define VMX_VPID_EXTENT_ALL_CONTEXT		2

/* Basic exit reasons, SDM Vol. 3D Appendix C, Table C-1 */
#define EXIT_REASON_EXCEPTION_NMI		0
#define EXIT_REASON_EXTERNAL_INTERRUPT		1
#define EXIT_REASON_TRIPLE_FAULT		2
#define EXIT_REASON_INIT_SIGNAL			3
#define EXIT_REASON_SIPI_SIGNAL			4
#define EXIT_REASON_INTERRUPT_WINDOW		7
#define EXIT_REASON_NMI_WINDOW			8
#define EXIT_REASON_TASK_SWITCH			9
#define EXIT_REASON_CPUID			10
#define EXIT_REASON_GETSEC			11
#define EXIT_REASON_HLT				12
#define EXIT_REASON_INVD			13
#define EXIT_REASON_INVLPG			14
#define EXIT_REASON_RDPMC			15
#define EXIT_REASON_RDTSC			16
#define EXIT_REASON_RSM				17
#define EXIT_REASON_VMCALL			18
#define EXIT_REASON_VMCLEAR			19
#define EXIT_REASON_VMLAUNCH			20
#define EXIT_REASON_VMPTRLD			21
#define EXIT_REASON_VMPTRST			22
#define EXIT_REASON_VMREAD			23
#define EXIT_REASON_VMRESUME			24
#define EXIT_REASON_VMWRITE			25
#define EXIT_REASON_VMOFF			26
#define EXIT_REASON_VMON			27
#define EXIT_REASON_CR_ACCESS			28
#define EXIT_REASON_DR_ACCESS			29
#define EXIT_REASON_IO_INSTRUCTION		30
#define EXIT_REASON_MSR_READ			31
#define EXIT_REASON_MSR_WRITE			32
#define EXIT_REASON_INVALID_STATE		33
#define EXIT_REASON_MSR_LOAD_FAIL		34
#define EXIT_REASON_MWAIT_INSTRUCTION		36
#define EXIT_REASON_MONITOR_TRAP_FLAG		37
#define EXIT_REASON_MONITOR_INSTRUCTION		39
#define EXIT_REASON_PAUSE_INSTRUCTION		40
#define EXIT_REASON_MCE_DURING_VMENTRY		41
#define EXIT_REASON_TPR_BELOW_THRESHOLD		43
#define EXIT_REASON_APIC_ACCESS			44
#define EXIT_REASON_EOI_INDUCED			45
#define EXIT_REASON_GDTR_IDTR			46
#define EXIT_REASON_LDTR_TR			47
#define EXIT_REASON_EPT_VIOLATION		48
#define EXIT_REASON_EPT_MISCONFIG		49
#define EXIT_REASON_INVEPT			50
#define EXIT_REASON_RDTSCP			51
#define EXIT_REASON_PREEMPTION_TIMER		52
#define EXIT_REASON_INVVPID			53
#define EXIT_REASON_WBINVD			54
#define EXIT_REASON_XSETBV			55
#define EXIT_REASON_APIC_WRITE			56
#define EXIT_REASON_RDRAND			57
#define EXIT_REASON_INVPCID			58
#define EXIT_REASON_VMFUNC			59
#define EXIT_REASON_ENCLS			60
#define EXIT_REASON_RDSEED			61
#define EXIT_REASON_PML_FULL			62
#define EXIT_REASON_XSAVES			63
#define EXIT_REASON_XRSTORS			64
#define EXIT_REASON_UMWAIT			67
#define EXIT_REASON_TPAUSE			68
#define EXIT_REASON_BUS_LOCK			74
#define EXIT_REASON_NOTIFY			75

/* Exit reason field, SDM Vol. 3C §25.9.1, Table 25-18 */
#define VMX_EXIT_REASON_BASIC_MASK		GENMASK(15, 0)
#define VMX_EXIT_REASON_FAILED_VMENTRY		BIT(31)
/*
 * Not the hardware's: raw.reason when VMLAUNCH/VMRESUME failed and no
 * exit happened at all (the VM-instruction error is in raw.info2).
 */
#define VMX_EXIT_REASON_VMFAIL			0xffff

/*
 * VM-exit and VM-entry interruption information, IDT-vectoring
 * information (SDM Vol. 3C §25.8.3 Table 25-17, §25.9.2 Tables 25-19 and
 * 25-20).
 */
#define INTR_INFO_VECTOR_MASK			GENMASK(7, 0)
#define INTR_INFO_INTR_TYPE_MASK		GENMASK(10, 8)
#define INTR_INFO_INTR_TYPE_SHIFT		8
#define INTR_INFO_DELIVER_CODE_MASK		BIT(11)
#define INTR_INFO_UNBLOCK_NMI			BIT(12)
#define INTR_INFO_VALID_MASK			BIT(31)

#define INTR_TYPE_EXT_INTR			(0 << 8)
#define INTR_TYPE_NMI_INTR			(2 << 8)
#define INTR_TYPE_HARD_EXCEPTION		(3 << 8)
#define INTR_TYPE_SOFT_INTR			(4 << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION		(5 << 8)
#define INTR_TYPE_SOFT_EXCEPTION		(6 << 8)

/* Guest interruptibility state, SDM Vol. 3C §25.4.2, Table 25-3 */
#define GUEST_INTR_STATE_STI			BIT(0)
#define GUEST_INTR_STATE_MOV_SS			BIT(1)
#define GUEST_INTR_STATE_NMI			BIT(3)

/* Guest activity state, SDM Vol. 3C §25.4.2 */
#define GUEST_ACTIVITY_ACTIVE			0

/* Pending debug exceptions and #DB exit qualification, Table 28-1 */
#define VMX_DR6_B0_3				GENMASK(3, 0)
#define VMX_DR6_BD				BIT(13)
#define VMX_DR6_BS				BIT(14)
#define VMX_DR6_RTM				BIT(16)
#define VMX_DR6_INIT				0xffff0ff0ULL	/* at reset */
/* DR7.GD, general detect (SDM Vol. 3B §18.2.4) */
#define VMX_DR7_GD				BIT(13)

/* Segment access rights, SDM Vol. 3C §25.4.1, Table 25-2 */
#define VMX_AR_TYPE_MASK			GENMASK(3, 0)
#define VMX_AR_S				BIT(4)
#define VMX_AR_DPL_SHIFT			5
#define VMX_AR_DPL_MASK				GENMASK(6, 5)
#define VMX_AR_P				BIT(7)
#define VMX_AR_AVL				BIT(12)
#define VMX_AR_L				BIT(13)
#define VMX_AR_DB				BIT(14)
#define VMX_AR_G				BIT(15)
#define VMX_AR_UNUSABLE				BIT(16)

/* Control-register access qualification, SDM Vol. 3C §28.2.1, Table 28-3 */
#define VMX_CR_NUM(q)				((q) & 0xf)
#define VMX_CR_ACCESS_TYPE(q)			(((q) >> 4) & 3)
#define VMX_CR_ACCESS_MOV_TO_CR			0
#define VMX_CR_ACCESS_MOV_FROM_CR		1
#define VMX_CR_ACCESS_CLTS			2
#define VMX_CR_ACCESS_LMSW			3
#define VMX_CR_GPR(q)				(((q) >> 8) & 0xf)
#define VMX_CR_LMSW_DATA(q)			(((q) >> 16) & 0xffff)

/* MOV DR qualification, SDM Vol. 3C §28.2.1, Table 28-4 */
#define VMX_DR_NUM(q)				((q) & 7)
#define VMX_DR_FROM_DR				BIT(4)
#define VMX_DR_GPR(q)				(((q) >> 8) & 0xf)

/* I/O instruction qualification, SDM Vol. 3C §28.2.1, Table 28-5 */
#define VMX_IO_SIZE(q)				(((q) & 7) + 1)
#define VMX_IO_IN				BIT(3)
#define VMX_IO_STRING				BIT(4)
#define VMX_IO_REP				BIT(5)
#define VMX_IO_PORT(q)				(((q) >> 16) & 0xffff)

/* EPT violation qualification, SDM Vol. 3C §28.2.1, Table 28-7 */
#define EPT_VIOLATION_ACC_WRITE			BIT(1)
#define EPT_VIOLATION_ACC_INSTR			BIT(2)
#define EPT_VIOLATION_GVA_IS_VALID		BIT(7)
#define EPT_VIOLATION_GVA_TRANSLATED		BIT(8)
#define EPT_VIOLATION_GVA_MASK			(EPT_VIOLATION_GVA_IS_VALID | \
						 EPT_VIOLATION_GVA_TRANSLATED)
#define EPT_VIOLATION_NMI_UNBLOCKING		BIT(12)

/* VM-instruction error numbers, SDM Vol. 3C §31.4, Table 31-1 */
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD	7
#define VMXERR_ENTRY_INVALID_HOST_STATE_FIELD	8

#ifndef __ASSEMBLY__

#include "vm.h"

/*
 * What probe() chose, on the boot CPU, for every vCPU: the control words
 * (the allowed-0/allowed-1 rule already applied) and the CR0/CR4 bits
 * VMX operation forces.  Written once at load, read without locks.
 */
struct vmx_config {
	u64 basic;			/* IA32_VMX_BASIC */
	u64 ept_vpid_cap;		/* IA32_VMX_EPT_VPID_CAP */
	u32 pin;			/* PIN_BASED_VM_EXEC_CONTROL */
	u32 proc;			/* CPU_BASED_VM_EXEC_CONTROL */
	u32 proc2;			/* SECONDARY_VM_EXEC_CONTROL */
	u32 exit;			/* VM_EXIT_CONTROLS */
	u32 entry;			/* VM_ENTRY_CONTROLS, no IA32E_MODE */
	/*
	 * Guest CR0/CR4 bits, all of them in the guest/host masks so that
	 * the guest sees its own value in the read shadow (SDM Vol. 3C
	 * §25.6.6):
	 *  _on:    the hardware must hold 1 in VMX operation, whatever the
	 *	    guest wrote (CR0.NE, CR4.VMXE; SDM Vol. 3D §A.7, §A.8;
	 *	    unrestricted guest exempts CR0.PE and CR0.PG)
	 *  _off:   the guest's value lives only in the shadow, the hardware
	 *	    holds 0 (CR0.CD, CR0.NW: the guest runs cached)
	 *  _never: the guest can never set them: reserved, unsupported, or
	 *	    features ringvm does not give guests (VMXE, SMXE, CET...);
	 *	    a guest write that tries is a #GP
	 */
	unsigned long cr0_on, cr0_off, cr0_never;
	unsigned long cr4_on, cr4_never;
	u32 preempt_timer;		/* VMX-preemption timer reload value */
};

extern struct vmx_config vmx_cfg;

/*
 * A vCPU.  Tags as in vm.h: everything here is [v] (vcpu->mutex) except
 * where a field says "loaded": touched only between vcpu_load() and
 * vcpu_put(), on that CPU, with preemption off.
 */
struct vmx_vcpu {
	struct ringvm_vcpu vcpu;	/* first: the core allocates us */

	void *vmcs;			/* (c) one page */
	phys_addr_t vmcs_pa;		/* (c) */
	u64 eptp;			/* (c) */
	u16 vpid;			/* (c) 0: none, flush on every entry */

	bool loaded;			/* between vcpu_load and vcpu_put */
	bool launched;			/* VMLAUNCH done since the last VMCLEAR */
	int parked_cpu;			/* VMCS active there, or -1: vcpu.c */
	bool need_flush;		/* guest TLB stale: flush at next load */
	bool l1d_flush;			/* L1D may hold host data: flush */

	u32 entry_ctls;			/* VM_ENTRY_CONTROLS as written */
	u32 proc_ctls;			/* CPU_BASED_VM_EXEC_CONTROL as written */
	unsigned long cr0_mask;		/* CR0_GUEST_HOST_MASK as written */

	/* Host state vmenter.S and vcpu_put() restore (loaded). */
	unsigned long host_rsp;		/* HOST_RSP as written */
	unsigned long host_cr3;
	unsigned long host_cr4;
	u64 host_debugctl;
	u64 host_fs_base;
	u16 host_ds_sel, host_es_sel, host_fs_sel, host_gs_sel;
	u16 host_ldt_sel;
	bool kgs_switched;		/* the guest's KERNEL_GS_BASE loaded */
	bool syscall_live;		/* loaded with EFER.SCE: see vcpu.c */
	u64 host_kgs;

	/* Guest state the VMCS does not hold. */
	u64 guest_msrs[5];		/* VMX_MSR_*; hardware's while loaded */
	unsigned long cr2;		/* hardware CR2 during entry */
	u64 dr6;			/* DR6: #DB exits never reach hardware */
	u8 cr8;				/* TPR, CR8 exits emulate it */
	u64 tsc_offset;
};

/* The MSRs SYSCALL/SWAPGS use, switched by hand at load and put. */
enum vmx_switched_msr {
	VMX_MSR_KERNEL_GS_BASE,
	VMX_MSR_STAR,
	VMX_MSR_LSTAR,
	VMX_MSR_CSTAR,
	VMX_MSR_SFMASK,
	VMX_NR_SWITCHED_MSRS
};

static inline struct vmx_vcpu *to_vmx(struct ringvm_vcpu *vcpu)
{
	return container_of(vcpu, struct vmx_vcpu, vcpu);
}

/* vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int __vmx_vcpu_run(unsigned long *gprs, unsigned long *host_rsp,
		   bool launched, u64 spec_ctrl);
void vmx_vmexit(void);
/* vmenter.S: IRET to self, which ends blocking by NMI (exit.c says why). */
void vmx_unblock_nmis(void);

/* l1tf.c */
int vmx_l1tf_setup(void);
void vmx_l1tf_unsetup(void);
void __vmx_l1d_flush(struct vmx_vcpu *vmx);
DECLARE_STATIC_KEY_FALSE(vmx_l1d_should_flush);

/* L1TF: flush L1D before the entry where the policy says so (l1tf.c). */
static __always_inline void vmx_l1d_flush(struct vmx_vcpu *vmx)
{
	if (static_branch_unlikely(&vmx_l1d_should_flush))
		__vmx_l1d_flush(vmx);
}

/* vmx.c */
int vmx_alloc_vpid(void);
void vmx_free_vpid(int vpid);
void vmx_dump_vmcs(struct vmx_vcpu *vmx);

/* vcpu.c */
int vmx_vcpu_init(struct ringvm_vcpu *vcpu);
void vmx_vcpu_uninit(struct ringvm_vcpu *vcpu);
void vmx_vcpu_evict_cpu(void);
void vmx_uret_cpu_enable(void);
void vmx_uret_cpu_disable(void);
void vmx_uret_cpu_offline(void);
void vmx_vcpu_load(struct ringvm_vcpu *vcpu, int cpu);
void vmx_vcpu_put(struct ringvm_vcpu *vcpu);
void vmx_get_regs(struct ringvm_vcpu *vcpu, struct ringvm_regs *regs);
void vmx_set_regs(struct ringvm_vcpu *vcpu, const struct ringvm_regs *regs);
void vmx_get_sregs(struct ringvm_vcpu *vcpu, struct ringvm_sregs *sregs);
int vmx_set_sregs(struct ringvm_vcpu *vcpu, const struct ringvm_sregs *sregs);
u64 vmx_get_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg);
void vmx_get_code_state(struct ringvm_vcpu *vcpu,
			struct ringvm_code_state *st);
void vmx_set_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg, u64 val);
int vmx_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data);
u64 vmx_get_dr(struct ringvm_vcpu *vcpu, int dr);
void vmx_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val);
void vmx_skip_instruction(struct ringvm_vcpu *vcpu, unsigned int len);
void vmx_get_intr_state(struct ringvm_vcpu *vcpu,
			struct ringvm_intr_state *st);
void vmx_set_intr_state(struct ringvm_vcpu *vcpu,
			const struct ringvm_intr_state *st);
void vmx_set_windows(struct ringvm_vcpu *vcpu, u8 windows);

/* exit.c: one entry and what its exit means. */
int vmx_vcpu_run(struct ringvm_vcpu *vcpu);

/* vcpu.c, for exit.c: loaded, interrupts off. */
unsigned long vmx_read_gpr(struct vmx_vcpu *vmx, int gpr);
void vmx_write_gpr(struct vmx_vcpu *vmx, int gpr, unsigned long val);
bool vmx_in_64bit_mode(void);
void vmx_skip(struct vmx_vcpu *vmx, unsigned int len);
unsigned long vmx_guest_cr0(struct vmx_vcpu *vmx);
bool vmx_set_guest_cr0(struct vmx_vcpu *vmx, unsigned long cr0);
bool vmx_set_guest_cr3(struct vmx_vcpu *vmx, unsigned long cr3);
void vmx_flush_guest_tlb(struct vmx_vcpu *vmx);

#endif /* __ASSEMBLY__ */
#endif /* RINGVM_VMX_VMX_H */
