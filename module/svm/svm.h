/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD SVM backend: hardware definitions and what its files share.
 *
 *  1. hardware names, as in the AMD APM Vol. 2 (chapter 15, "Secure
 *     Virtual Machine", and Appendix C, "SVM Intercept Exit Codes") and
 *     the CPUID specification;
 *  2. struct svm_vcpu, the backend's vCPU;
 *  3. what svm.c, vcpu.c, exit.c and vmenter.S call in each other.
 *
 * The VMCB layout itself is in vmcb.h.
 */
#ifndef RINGVM_SVM_SVM_H
#define RINGVM_SVM_SVM_H

#include <linux/bits.h>
#include <linux/container_of.h>
#include <linux/percpu-defs.h>
#include <linux/stddef.h>
#include <linux/types.h>

#include "vm.h"
#include "svm/vmcb.h"

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

/* CR4.PKS, protection keys for supervisor pages (CPUID 7.0:ECX[31]) */
#define SVM_CR4_PKS			BIT_ULL(24)

/* EFER.TCE, translation cache extension (APM Vol. 2 §3.1.7) */
#define SVM_EFER_TCE			BIT_ULL(15)

/*
 * The MSR permission map covers three ranges of 8K MSRs with two bits
 * each, 8 KiB in all (APM Vol. 2 §15.11); the I/O permission map has one
 * bit per port plus the spill-over of a 4-byte access at FFFFh, 12 KiB
 * (§15.10.1).  Both are physically contiguous and page aligned.
 */
#define SVM_MSRPM_SIZE			(8 * 1024)
#define SVM_IOPM_SIZE			(12 * 1024)

/* ASID 0 is the host's (APM Vol. 2 §15.16). */
#define SVM_MIN_ASID			1

/* EXITCODE values, APM Vol. 2 Appendix C, Table C-1 (low 32 bits) */
#define SVM_EXIT_WRITE_CR8		0x018
#define SVM_EXIT_READ_DR0		0x020	/* ..0x02f: DR0-15 */
#define SVM_EXIT_WRITE_DR0		0x030	/* ..0x03f */
#define SVM_EXIT_EXCP_BASE		0x040	/* ..0x05f: vectors 0-31 */
#define SVM_EXIT_EXCP_DB		(SVM_EXIT_EXCP_BASE + 1)
#define SVM_EXIT_EXCP_AC		(SVM_EXIT_EXCP_BASE + 17)
#define SVM_EXIT_INTR			0x060
#define SVM_EXIT_NMI			0x061
#define SVM_EXIT_SMI			0x062
#define SVM_EXIT_VINTR			0x064
#define SVM_EXIT_RDPMC			0x06f
#define SVM_EXIT_CPUID			0x072
#define SVM_EXIT_IRET			0x074
#define SVM_EXIT_INVD			0x076
#define SVM_EXIT_HLT			0x078
#define SVM_EXIT_INVLPGA		0x07a
#define SVM_EXIT_IOIO			0x07b
#define SVM_EXIT_MSR			0x07c
#define SVM_EXIT_SHUTDOWN		0x07f
#define SVM_EXIT_VMRUN			0x080
#define SVM_EXIT_VMMCALL		0x081
#define SVM_EXIT_VMLOAD			0x082
#define SVM_EXIT_VMSAVE			0x083
#define SVM_EXIT_STGI			0x084
#define SVM_EXIT_CLGI			0x085
#define SVM_EXIT_SKINIT			0x086
#define SVM_EXIT_RDTSCP			0x087
#define SVM_EXIT_MONITOR		0x08a
#define SVM_EXIT_MWAIT			0x08b
#define SVM_EXIT_MWAIT_COND		0x08c
#define SVM_EXIT_XSETBV			0x08d
#define SVM_EXIT_NPF			0x400
#define SVM_EXIT_INVALID		0xffffffffU	/* VMEXIT_INVALID, -1 */

/* EXITINFO1 of SVM_EXIT_IOIO (APM Vol. 2 §15.10.2, Figure 15-2) */
#define SVM_IOIO_TYPE_IN		BIT_ULL(0)
#define SVM_IOIO_STR			BIT_ULL(2)
#define SVM_IOIO_REP			BIT_ULL(3)
#define SVM_IOIO_SZ8			BIT_ULL(4)
#define SVM_IOIO_SZ16			BIT_ULL(5)
#define SVM_IOIO_SZ32			BIT_ULL(6)
#define SVM_IOIO_PORT_SHIFT		16

/* EXITINFO1 of SVM_EXIT_NPF: a #PF error code (APM Vol. 2 §15.25.6) */
#define SVM_NPF_WRITE			BIT_ULL(1)
#define SVM_NPF_FETCH			BIT_ULL(4)
#define SVM_NPF_GUEST_WALK		BIT_ULL(33)

/* EXITINFO1 of a DR access with decode assists (§15.33.1): the GPR */
#define SVM_DR_GPR_MASK			GENMASK_ULL(3, 0)
#define SVM_CR_GPR_VALID		BIT_ULL(63)	/* MOV CRn, not CLTS/LMSW */

/* The part of the save area VMRUN and #VMEXIT read and write. */
#define SVM_GUEST_STATE_SIZE	offsetofend(struct vmcb_save, lastexcpto)

/* The backend's vCPU; ringvm_arch->vcpu_size bytes. */
struct svm_vcpu {
	struct ringvm_vcpu vcpu;	/* first: the core's part */
	struct vmcb *vmcb;		/* (c) one page */
	u64 vmcb_pa;			/* (c) */
	u64 *npt_pml5;			/* (c) see svm_init_npt(), or NULL */
	/*
	 * Where VMRUN last ran this vCPU and with which ASID generation;
	 * see svm_pick_asid().  Written with preemption off.
	 */
	int asid_cpu;			/* [v] -1: never ran */
	u64 asid_generation;		/* [v] */
	u64 host_save_pa;		/* [v] this CPU's VMSAVE area, loaded */
	u64 debugctl;			/* [v] guest's DEBUGCTL, never loaded */
	/*
	 * Blocking by NMI, which the VMCB does not hold without vNMI: set
	 * when an NMI goes in, ended by the guest's next IRET, which is
	 * intercepted; the IRET exit comes before the IRET runs, so NMIs
	 * stay blocked until RIP has left it (svm_nmi_masked()).
	 */
	bool nmi_masked;		/* [v] */
	bool awaiting_iret;		/* [v] the IRET at iret_rip exited */
	u64 iret_rip;			/* [v] */
	/*
	 * User space set state that VMRUN has not accepted yet: the next
	 * VMRUN keeps a copy to put back if it fails (svm_vcpu_run()).
	 */
	bool state_unchecked;		/* [v] */
	u32 saved_int_ctl;		/* [v] the copy */
	u64 saved_int_state;		/* [v] */
	u8 saved_state[SVM_GUEST_STATE_SIZE];	/* [v] */
};

#define to_svm(v)	container_of(v, struct svm_vcpu, vcpu)

/* svm.c: what probe found, constant after load */
struct svm_caps {
	bool nrips;		/* NRIP save: next_rip on instruction exits */
	bool decode_assists;	/* EXITINFO1 names the GPR of a DR access */
	bool vmcb_clean;	/* the processor honours the clean bits */
	bool npt_5level;	/* host in 5-level paging: so is the NPT */
	bool tcg_lme_quirk;	/* QEMU's TCG: no VMRUN at LME, no PG, no PAE */
	bool tcg_cr8_quirk;	/* QEMU's TCG: no guest CR8 write with V_IRQ */
	u32 max_asid;		/* ASIDs SVM_MIN_ASID..max_asid are ours */
	u32 fms;		/* CPUID Fn0000_0001_EAX: EDX at reset */
	u64 efer_allowed;	/* EFER bits a guest may set (not SVME) */
	u64 cr4_allowed;	/* CR4 bits this CPU implements */
	u64 cr3_mbz;		/* CR3 bits at and above MAXPHYADDR */
};

extern struct svm_caps svm_caps;
extern u64 svm_msrpm_pa, svm_iopm_pa;

/* svm.c: each CPU's ASIDs; this CPU's only, with preemption off */
struct svm_asid_state {
	u64 generation;		/* bumped when the ASIDs are used up */
	u32 next_asid;		/* > svm_caps.max_asid: start a generation */
};
DECLARE_PER_CPU(struct svm_asid_state, svm_asid_state);

u64 svm_host_save_pa(int cpu);
void svm_pick_asid(struct svm_vcpu *svm, int cpu);

/* vcpu.c */
int svm_vcpu_init(struct ringvm_vcpu *vcpu);
void svm_vcpu_uninit(struct ringvm_vcpu *vcpu);
void svm_vcpu_load(struct ringvm_vcpu *vcpu, int cpu);
void svm_vcpu_put(struct ringvm_vcpu *vcpu);
void svm_get_regs(struct ringvm_vcpu *vcpu, struct ringvm_regs *regs);
void svm_set_regs(struct ringvm_vcpu *vcpu, const struct ringvm_regs *regs);
void svm_get_sregs(struct ringvm_vcpu *vcpu, struct ringvm_sregs *sregs);
int svm_set_sregs(struct ringvm_vcpu *vcpu, const struct ringvm_sregs *sregs);
u64 svm_get_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg);
void svm_get_code_state(struct ringvm_vcpu *vcpu,
			struct ringvm_code_state *st);
void svm_set_reg(struct ringvm_vcpu *vcpu, enum ringvm_reg reg, u64 val);
int svm_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
int svm_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data);
u64 svm_get_dr(struct ringvm_vcpu *vcpu, int dr);
void svm_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val);
void svm_skip_instruction(struct ringvm_vcpu *vcpu, unsigned int len);
void svm_get_intr_state(struct ringvm_vcpu *vcpu,
			struct ringvm_intr_state *st);
void svm_set_intr_state(struct ringvm_vcpu *vcpu,
			const struct ringvm_intr_state *st);
void svm_set_windows(struct ringvm_vcpu *vcpu, u8 windows);
void svm_mask_nmi(struct svm_vcpu *svm, bool masked);
void svm_dump_vmcb(struct svm_vcpu *svm);
void svm_forget_vmrun_state(struct svm_vcpu *svm);

/* exit.c */
int svm_vcpu_run(struct ringvm_vcpu *vcpu);

/*
 * vmenter.S: VMLOAD the guest's part, VMRUN, VMSAVE it again and VMLOAD
 * the host's from @host_save_pa; GPRs other than RAX and RSP come from
 * and go to @gprs.  Called with GIF clear and interrupts off.
 */
void __svm_vcpu_run(u64 vmcb_pa, unsigned long *gprs, u64 host_save_pa,
		    u64 spec_ctrl);

/* Tell the processor ringvm changed a group of VMCB fields. */
static inline void vmcb_mark_dirty(struct vmcb *vmcb, u32 clean_bits)
{
	vmcb->control.clean &= ~clean_bits;
}

#endif /* RINGVM_SVM_SVM_H */
