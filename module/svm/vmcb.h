/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Virtual Machine Control Block, AMD APM Vol. 2 Appendix B.
 *
 *  1. struct vmcb_control - the control area, offsets 000h-3FFh (Table B-1)
 *  2. struct vmcb_save    - the state save area, 400h-FFFh (Table B-2)
 *  3. the bits of the control fields ringvm writes or reads
 *
 * One 4 KiB page per vCPU, written by ringvm and by the processor at
 * VMRUN, #VMEXIT, VMLOAD and VMSAVE.  Every field sits at its natural
 * alignment, so the structs need no packing; the static_asserts at the
 * end pin the offsets the code relies on to the manual's.
 */
#ifndef RINGVM_SVM_VMCB_H
#define RINGVM_SVM_VMCB_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* Table B-1: the control area. */
struct vmcb_control {
	u32 intercept_cr;		/* 000h: 15:0 reads, 31:16 writes */
	u32 intercept_dr;		/* 004h: 15:0 reads, 31:16 writes */
	u32 intercept_exceptions;	/* 008h: one bit per vector */
	u32 intercept_misc1;		/* 00Ch: SVM_INTERCEPT1_* */
	u32 intercept_misc2;		/* 010h: SVM_INTERCEPT2_* */
	u32 intercept_misc3;		/* 014h: SVM_INTERCEPT3_* */
	u8 reserved_018[0x03c - 0x018];
	u16 pause_filter_threshold;	/* 03Ch */
	u16 pause_filter_count;		/* 03Eh */
	u64 iopm_base_pa;		/* 040h */
	u64 msrpm_base_pa;		/* 048h */
	u64 tsc_offset;			/* 050h */
	u32 guest_asid;			/* 058h */
	u8 tlb_control;			/* 05Ch: TLB_CONTROL_* */
	u8 reserved_05d[3];
	u32 int_ctl;			/* 060h: V_TPR, V_IRQ, V_INTR_MASKING */
	u32 int_vector;			/* 064h */
	u64 int_state;			/* 068h: SVM_INTERRUPT_SHADOW */
	u64 exitcode;			/* 070h: SVM_EXIT_* */
	u64 exitinfo1;			/* 078h */
	u64 exitinfo2;			/* 080h */
	u64 exitintinfo;		/* 088h: SVM_EVTINJ_* layout */
	u64 nested_ctl;			/* 090h: SVM_NESTED_CTL_NP_ENABLE */
	u64 avic_apic_bar;		/* 098h */
	u64 ghcb_pa;			/* 0A0h */
	u64 eventinj;			/* 0A8h: SVM_EVTINJ_* */
	u64 n_cr3;			/* 0B0h: nested page table root */
	u64 virt_ext;			/* 0B8h: LBR / VMLOAD virtualization */
	u32 clean;			/* 0C0h: VMCB_CLEAN_* */
	u32 reserved_0c4;
	u64 next_rip;			/* 0C8h: with NRIP save */
	u8 insn_len;			/* 0D0h: with decode assists */
	u8 insn_bytes[15];		/* 0D1h */
	u8 reserved_0e0[0x400 - 0x0e0];
};

/*
 * A segment in the save area: the selector and the hidden part, the
 * attributes packed as descriptor bits 47:40 and 55:52 (APM Vol. 2
 * §15.5.1, "Segment State in the VMCB").  The limit is the expanded,
 * byte-granular limit.
 */
struct vmcb_seg {
	u16 selector;
	u16 attrib;			/* SVM_SEG_* */
	u32 limit;
	u64 base;
};

/* Table B-2: the state save area. */
struct vmcb_save {
	struct vmcb_seg es;		/* 000h */
	struct vmcb_seg cs;		/* 010h */
	struct vmcb_seg ss;		/* 020h */
	struct vmcb_seg ds;		/* 030h */
	struct vmcb_seg fs;		/* 040h: VMLOAD/VMSAVE */
	struct vmcb_seg gs;		/* 050h: VMLOAD/VMSAVE */
	struct vmcb_seg gdtr;		/* 060h: limit and base only */
	struct vmcb_seg ldtr;		/* 070h: VMLOAD/VMSAVE */
	struct vmcb_seg idtr;		/* 080h: limit and base only */
	struct vmcb_seg tr;		/* 090h: VMLOAD/VMSAVE */
	u8 reserved_0a0[0x0cb - 0x0a0];
	u8 cpl;				/* 0CBh */
	u32 reserved_0cc;
	u64 efer;			/* 0D0h */
	u8 reserved_0d8[0x148 - 0x0d8];
	u64 cr4;			/* 148h */
	u64 cr3;			/* 150h */
	u64 cr0;			/* 158h */
	u64 dr7;			/* 160h */
	u64 dr6;			/* 168h */
	u64 rflags;			/* 170h */
	u64 rip;			/* 178h */
	u8 reserved_180[0x1d8 - 0x180];
	u64 rsp;			/* 1D8h */
	u64 s_cet;			/* 1E0h */
	u64 ssp;			/* 1E8h */
	u64 isst_addr;			/* 1F0h */
	u64 rax;			/* 1F8h */
	u64 star;			/* 200h: this and below to sysenter_eip */
	u64 lstar;			/* 208h: are VMLOAD/VMSAVE state */
	u64 cstar;			/* 210h */
	u64 sfmask;			/* 218h */
	u64 kernel_gs_base;		/* 220h */
	u64 sysenter_cs;		/* 228h */
	u64 sysenter_esp;		/* 230h */
	u64 sysenter_eip;		/* 238h */
	u64 cr2;			/* 240h */
	u8 reserved_248[0x268 - 0x248];
	u64 g_pat;			/* 268h: guest PAT with nested paging */
	u64 dbgctl;			/* 270h: with LBR virtualization */
	u64 br_from;			/* 278h */
	u64 br_to;			/* 280h */
	u64 lastexcpfrom;		/* 288h */
	u64 lastexcpto;			/* 290h */
	u8 reserved_298[0x2e0 - 0x298];
	u64 spec_ctrl;			/* 2E0h: with V_SPEC_CTRL */
	u8 reserved_2e8[0xc00 - 0x2e8];
};

struct vmcb {
	struct vmcb_control control;	/* 000h */
	struct vmcb_save save;		/* 400h */
};

static_assert(sizeof(struct vmcb_seg) == 16);
static_assert(sizeof(struct vmcb_control) == 0x400);
static_assert(sizeof(struct vmcb) == 4096);
static_assert(offsetof(struct vmcb_control, pause_filter_threshold) == 0x03c);
static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x040);
static_assert(offsetof(struct vmcb_control, guest_asid) == 0x058);
static_assert(offsetof(struct vmcb_control, int_ctl) == 0x060);
static_assert(offsetof(struct vmcb_control, exitcode) == 0x070);
static_assert(offsetof(struct vmcb_control, exitintinfo) == 0x088);
static_assert(offsetof(struct vmcb_control, eventinj) == 0x0a8);
static_assert(offsetof(struct vmcb_control, n_cr3) == 0x0b0);
static_assert(offsetof(struct vmcb_control, clean) == 0x0c0);
static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8);
static_assert(offsetof(struct vmcb_control, insn_len) == 0x0d0);
static_assert(offsetof(struct vmcb, save) == 0x400);
static_assert(offsetof(struct vmcb_save, tr) == 0x090);
static_assert(offsetof(struct vmcb_save, cpl) == 0x0cb);
static_assert(offsetof(struct vmcb_save, efer) == 0x0d0);
static_assert(offsetof(struct vmcb_save, cr4) == 0x148);
static_assert(offsetof(struct vmcb_save, rip) == 0x178);
static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8);
static_assert(offsetof(struct vmcb_save, rax) == 0x1f8);
static_assert(offsetof(struct vmcb_save, star) == 0x200);
static_assert(offsetof(struct vmcb_save, sysenter_eip) == 0x238);
static_assert(offsetof(struct vmcb_save, cr2) == 0x240);
static_assert(offsetof(struct vmcb_save, g_pat) == 0x268);
static_assert(offsetof(struct vmcb_save, lastexcpto) == 0x290);
static_assert(offsetof(struct vmcb_save, spec_ctrl) == 0x2e0);

/* intercept_misc1, offset 00Ch (Table B-1) */
#define SVM_INTERCEPT1_INTR		BIT(0)
#define SVM_INTERCEPT1_NMI		BIT(1)
#define SVM_INTERCEPT1_SMI		BIT(2)
#define SVM_INTERCEPT1_VINTR		BIT(4)
#define SVM_INTERCEPT1_RDPMC		BIT(15)
#define SVM_INTERCEPT1_CPUID		BIT(18)
#define SVM_INTERCEPT1_IRET		BIT(20)
#define SVM_INTERCEPT1_INVD		BIT(22)
#define SVM_INTERCEPT1_HLT		BIT(24)
#define SVM_INTERCEPT1_INVLPGA		BIT(26)
#define SVM_INTERCEPT1_IOIO_PROT	BIT(27)
#define SVM_INTERCEPT1_MSR_PROT		BIT(28)
#define SVM_INTERCEPT1_SHUTDOWN		BIT(31)

/* intercept_misc2, offset 010h */
#define SVM_INTERCEPT2_VMRUN		BIT(0)
#define SVM_INTERCEPT2_VMMCALL		BIT(1)
#define SVM_INTERCEPT2_VMLOAD		BIT(2)
#define SVM_INTERCEPT2_VMSAVE		BIT(3)
#define SVM_INTERCEPT2_STGI		BIT(4)
#define SVM_INTERCEPT2_CLGI		BIT(5)
#define SVM_INTERCEPT2_SKINIT		BIT(6)
#define SVM_INTERCEPT2_RDTSCP		BIT(7)
#define SVM_INTERCEPT2_MONITOR		BIT(10)
#define SVM_INTERCEPT2_MWAIT		BIT(11)
#define SVM_INTERCEPT2_XSETBV		BIT(13)

/* intercept_dr: reads of DR0-7 in bits 7:0, writes in bits 23:16 */
#define SVM_INTERCEPT_CR8_WRITE		BIT(16 + 8)
#define SVM_INTERCEPT_DR0_7_READ	GENMASK(7, 0)
#define SVM_INTERCEPT_DR0_7_WRITE	GENMASK(23, 16)

/* tlb_control, offset 05Ch (APM Vol. 2 §15.16.2) */
#define TLB_CONTROL_DO_NOTHING		0
#define TLB_CONTROL_FLUSH_ALL_ASID	1

/* int_ctl, offset 060h (APM Vol. 2 §15.21.1) */
#define SVM_V_TPR_MASK			GENMASK(3, 0)
#define SVM_V_IRQ			BIT(8)
#define SVM_V_INTR_PRIO_MASK		GENMASK(19, 16)
#define SVM_V_IGN_TPR			BIT(20)
#define SVM_V_INTR_MASKING		BIT(24)

/* int_state, offset 068h */
#define SVM_INTERRUPT_SHADOW		BIT_ULL(0)

/* nested_ctl, offset 090h */
#define SVM_NESTED_CTL_NP_ENABLE	BIT_ULL(0)

/*
 * eventinj (APM Vol. 2 §15.20) and exitintinfo (§15.7.2) share a layout:
 * vector 7:0, type 10:8, error code valid 11, valid 31, error code 63:32.
 */
#define SVM_EVTINJ_VEC_MASK		GENMASK_ULL(7, 0)
#define SVM_EVTINJ_TYPE_MASK		GENMASK_ULL(10, 8)
#define SVM_EVTINJ_TYPE_SHIFT		8
#define SVM_EVTINJ_TYPE_INTR		(0ULL << 8)
#define SVM_EVTINJ_TYPE_NMI		(2ULL << 8)
#define SVM_EVTINJ_TYPE_EXEPT		(3ULL << 8)
#define SVM_EVTINJ_TYPE_SOFT		(4ULL << 8)
#define SVM_EVTINJ_VALID_ERR		BIT_ULL(11)
#define SVM_EVTINJ_VALID		BIT_ULL(31)
#define SVM_EVTINJ_ERR_SHIFT		32

/*
 * clean, offset 0C0h (APM Vol. 2 §15.15.3, Table 15-9): a set bit tells
 * the processor it may use what it cached of that group at the last
 * VMRUN of this VMCB on this CPU.
 */
#define VMCB_CLEAN_INTERCEPTS		BIT(0)	/* intercepts, TSC offset */
#define VMCB_CLEAN_IOPM			BIT(1)	/* IOPM/MSRPM base */
#define VMCB_CLEAN_ASID			BIT(2)
#define VMCB_CLEAN_TPR			BIT(3)	/* int_ctl, int_vector */
#define VMCB_CLEAN_NP			BIT(4)	/* nested_ctl, n_cr3, g_pat */
#define VMCB_CLEAN_CRX			BIT(5)	/* CR0, CR3, CR4, EFER */
#define VMCB_CLEAN_DRX			BIT(6)	/* DR6, DR7 */
#define VMCB_CLEAN_DT			BIT(7)	/* GDTR, IDTR */
#define VMCB_CLEAN_SEG			BIT(8)	/* ES, CS, SS, DS, CPL */
#define VMCB_CLEAN_CR2			BIT(9)
#define VMCB_CLEAN_CR2			BIT(9)
#define VMCB_CLEAN_LBR			BIT(10)
#define VMCB_CLEAN_AVIC			BIT(11)
#define VMCB_CLEAN_ALL			GENMASK(11, 0)

/* vmcb_seg.attrib: descriptor bits 47:40 in 7:0 and 55:52 in 11:8 */
#define SVM_SEG_TYPE_MASK		GENMASK(3, 0)
#define SVM_SEG_S			BIT(4)
#define SVM_SEG_DPL_SHIFT		5
#define SVM_SEG_DPL_MASK		GENMASK(6, 5)
#define SVM_SEG_P			BIT(7)
#define SVM_SEG_AVL			BIT(8)
#define SVM_SEG_L			BIT(9)
#define SVM_SEG_DB			BIT(10)
#define SVM_SEG_G			BIT(11)

#endif /* RINGVM_SVM_VMCB_H */
