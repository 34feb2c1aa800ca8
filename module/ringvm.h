/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringvm core: what the vendor-neutral code and the two backends share.
 *
 *  1. struct ringvm_hw_caps   - facts a backend found at probe time
 *  2. struct ringvm_arch_ops  - the backend, one const table per vendor
 *  3. the core's entry points  - per-CPU enablement, device, netlink
 *
 * Nothing outside vmx/ and svm/ asks which vendor it runs on: the core
 * calls ringvm_arch, which main.c chooses once at module load.
 */
#ifndef RINGVM_RINGVM_H
#define RINGVM_RINGVM_H

#include <linux/compiler_types.h>
#include <linux/jump_label.h>
#include <linux/types.h>
#include <linux/ringvm.h>

/*
 * Facts about the hardware, filled in by the backend's probe() before any
 * CPU is touched and never changed afterwards (read without locks).
 */
struct ringvm_hw_caps {
	u32 arch;		/* enum ringvm_arch */
	u32 hw_revision;	/* VMCS revision id / SVM revision */
	u64 features;		/* RINGVM_FEAT_* */
	u64 page_sizes;		/* nested page sizes, bit n = 2^n bytes */
	u32 nr_asids;		/* usable VPIDs / ASIDs, 0 if none */
};

struct ringvm_vm;
struct ringvm_vcpu;
struct ringvm_npt_ops;

/* Guest GPRs in the x86 encoding order (ModRM reg / REX numbering). */
enum ringvm_gpr {
	RINGVM_GPR_RAX, RINGVM_GPR_RCX, RINGVM_GPR_RDX, RINGVM_GPR_RBX,
	RINGVM_GPR_RSP, RINGVM_GPR_RBP, RINGVM_GPR_RSI, RINGVM_GPR_RDI,
	RINGVM_GPR_R8, RINGVM_GPR_R9, RINGVM_GPR_R10, RINGVM_GPR_R11,
	RINGVM_GPR_R12, RINGVM_GPR_R13, RINGVM_GPR_R14, RINGVM_GPR_R15,
	RINGVM_NR_GPRS
};

/* Single guest registers the core reads through ringvm_arch->get_reg(). */
enum ringvm_reg {
	RINGVM_REG_RIP,
	RINGVM_REG_RSP,
	RINGVM_REG_RFLAGS,
	RINGVM_REG_CR0,
	RINGVM_REG_CR3,
	RINGVM_REG_CR4,
	RINGVM_REG_EFER,	/* as the guest sees it (no SVME) */
	RINGVM_REG_CPL,
	RINGVM_REG_CR2,
	RINGVM_REG_CR8,		/* the TPR's bits 7:4 (lapic.c) */
};

/*
 * What fetching the instruction at CS:RIP needs (exit.c), in one call of
 * get_code_state() rather than all of get_sregs() on the exit path: the
 * registers as get_reg() gives them, CS's base and its L and D/B bits.
 */
struct ringvm_code_state {
	u64 rip;
	u64 cs_base;
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;
	u8 cpl;
	bool cs_l;
	bool cs_db;
};

/*
 * What a backend's vcpu_run() found, translated from its exit code.  The
 * core acts on @code; @raw always carries the vendor's own words and is
 * copied to the run page for every exit that reaches user space.
 */
enum ringvm_hw_exit_code {
	RINGVM_HW_EXIT_NONE,		/* handled in the backend: enter again */
	RINGVM_HW_EXIT_CPUID,
	RINGVM_HW_EXIT_HLT,
	RINGVM_HW_EXIT_IO,
	RINGVM_HW_EXIT_NPF,		/* nested page fault / EPT violation */
	RINGVM_HW_EXIT_RDMSR,		/* index in ECX */
	RINGVM_HW_EXIT_WRMSR,		/* index in ECX, value in EDX:EAX */
	RINGVM_HW_EXIT_HYPERCALL,	/* VMCALL / VMMCALL */
	RINGVM_HW_EXIT_DR,		/* MOV to or from DR0-7 */
	RINGVM_HW_EXIT_XSETBV,
	RINGVM_HW_EXIT_SHUTDOWN,	/* triple fault / shutdown */
	RINGVM_HW_EXIT_FAIL_ENTRY,	/* VM entry failed; see fail */
	RINGVM_HW_EXIT_UNHANDLED,	/* to user space as RINGVM_EXIT_UNKNOWN */
	RINGVM_HW_EXIT_IRQ_WINDOW,	/* the core's, before an entry */
	RINGVM_HW_EXIT_NMI_WINDOW,	/* likewise */
	RINGVM_HW_EXIT_EOI,		/* the core's: a level EOI (lapic.c) */
	/* an instruction exit, but its length unknown (exit.c) */
	RINGVM_HW_EXIT_NO_INSN_LEN,
	RINGVM_HW_EXIT_NR		/* the number of codes (statistics) */
};

struct ringvm_hw_exit {
	u32 code;		/* enum ringvm_hw_exit_code */
	/*
	 * Length of the exiting instruction.  Always set for CPUID, HLT,
	 * RDMSR, WRMSR, HYPERCALL, XSETBV and IO: from the hardware, or
	 * from the bytes at CS:RIP (ringvm_insn_len_at_rip()); a backend
	 * that has neither returns RINGVM_HW_EXIT_NO_INSN_LEN instead of
	 * the instruction's code.  For DR, 0 means the core decodes.
	 */
	u8 insn_len;
	union {
		struct {
			u16 port;
			u8 size;	/* 1, 2 or 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u64 gpa;
			bool write;
			bool fetch;
			/* while delivering an event, not for an instruction */
			bool in_delivery;
			/* reading or updating the guest's own page tables */
			bool walk;
			/* guest RAM, not MMIO: the core's, set in the inner loop */
			bool ram;
		} npf;
		struct {
			u8 dr;		/* 0..7 */
			s8 gpr;		/* enum ringvm_gpr, -1: core decodes */
			bool write;	/* MOV DRn, reg */
		} dr;
		struct {
			u64 reason;	/* VM-instruction error / exit reason */
		} fail;
	};
	struct ringvm_exit_hw raw;
};

/*
 * A virtualization backend.  Every hook is mandatory: main.c refuses to
 * load with a backend that leaves one NULL.  "vCPU lock" means the
 * caller holds vcpu->mutex; "loaded" means between vcpu_load() and
 * vcpu_put() on this CPU, with preemption disabled.
 *
 * Module and CPU lifetime:
 * @probe:	 detect the technology on the boot CPU and fill @caps.
 *		 Returns 0 if usable, -ENODEV if this technology is absent (the
 *		 next backend is tried), or another errno after logging one
 *		 line that says why it is unusable: -EPERM disabled by
 *		 firmware, -EOPNOTSUPP missing a feature ringvm requires.
 *		 Process context.
 * @hardware_setup:   allocate per-CPU state for every possible CPU.
 * @hardware_unsetup: free it; every CPU has been disabled already.
 * @cpu_enable:	 turn VMX/SVM on for this CPU.  Interrupts are off.
 *		 -EBUSY if another hypervisor has it on, -EPERM if firmware
 *		 forbids it here, -EIO if the hardware refused.
 * @cpu_disable: turn it off again and restore exactly the state that
 *		 @cpu_enable found.  Interrupts are off.  No vCPU is loaded
 *		 on this CPU (vcpu_put() always runs before preemption is
 *		 enabled again), but for the reboot notifier's IPI, which
 *		 may land in a stretch (cpu.c); VMX VMCLEARs the VMCS
 *		 vcpu_put() left parked here first.
 * @cpu_offline: optional: process context, pinned to a CPU that goes
 *		 offline or whose virtualization the module gives up, after
 *		 @cpu_disable or without it (the reboot notifier's IPI may
 *		 have run that): drop what may only be dropped from process
 *		 context (VMX: its user-return notifier).  Interrupts on.
 *
 * vCPUs (process context, vCPU lock or creation/destruction):
 * @npt_ops:	 the nested page table format (EPT or NPT entries).
 * @vcpu_size:	 bytes to allocate for a vCPU; the backend's struct starts
 *		 with struct ringvm_vcpu.
 * @vcpu_init:	 allocate the VMCS/VMCB and put the vCPU in the
 *		 architectural reset state (Intel SDM Vol. 3A §10.1.1, AMD
 *		 APM Vol. 2 §14.1.3): real mode, CS.selector F000 with base
 *		 FFFF0000, RIP FFF0, RFLAGS 2, CR0 60000010, DR6 FFFF0FF0,
 *		 DR7 400, EDX the family/model/stepping, nested paging with
 *		 vcpu->vm->npt.root_pa.  May sleep.
 * @vcpu_uninit: free what vcpu_init allocated.  Not loaded anywhere (VMX:
 *		 perhaps parked, which it undoes first).
 * @vcpu_load:	 preemption off: make this CPU run the vCPU (VMPTRLD unless
 *		 the VMCS is still parked here, host state fields,
 *		 tagged-TLB flush when vcpu->last_cpu differs from this
 *		 CPU, guest MSRs the hardware does not switch).
 * @vcpu_put:	 preemption off, loaded: undo vcpu_load (restore host MSRs
 *		 and segments; VMX leaves the VMCS current here, parked,
 *		 until another vCPU or CPU needs it) and set
 *		 vcpu->last_cpu.
 * @vcpu_run:	 loaded, interrupts off: enter the guest once and fill
 *		 vcpu->exit.  GPRs come from and go to vcpu->gprs[] (RSP is
 *		 the backend's); DR0-3 are already in the hardware when
 *		 vcpu->dr_active.  Returns 0; the exit says what happened.
 *
 * @state_needs_load: the state hooks below must load the vCPU for each
 *		 call made outside vcpu_load..vcpu_put (VMX: preemption off
 *		 and, unless the VMCS is parked on this CPU, a VMCLEAR where
 *		 it is and a VMPTRLD), so the core handles what exits it can
 *		 before vcpu_put (run.c); SVM's VMCB is memory, read
 *		 anywhere.
 *
 * Guest state (vCPU lock; loaded or not, the backend copes: a VMX
 * backend VMPTRLDs around a VMCS access when it is not loaded):
 * @get_regs/@set_regs:	   struct ringvm_regs, merging vcpu->gprs[].
 * @get_sregs/@set_sregs:  struct ringvm_sregs; set returns -EINVAL for
 *			   a value the hardware cannot even be given
 *			   (reserved CR4/EFER bits); inconsistent but
 *			   representable state is left to VM entry.
 * @get_reg/@set_reg:	   one register; set_reg takes RIP, RSP, RFLAGS,
 *			   CR2 (the address of a #PF the core raises) and
 *			   CR8 (the local APIC's TPR).
 * @get_code_state:	   struct ringvm_code_state, for the core's fetch
 *			   at CS:RIP; also with interrupts off, after an
 *			   exit.
 * @get_msr/@set_msr:	   MSRs the backend keeps (EFER, PAT, FS/GS base,
 *			   KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK,
 *			   SYSENTER_*, TSC, DEBUGCTL).  -ENOENT for an MSR it
 *			   does not keep (the core tries its own), -EINVAL
 *			   for a value the guest may not write (#GP).
 * @get_dr/@set_dr:	   DR6 and DR7 (dr is 6 or 7); the core keeps DR0-3.
 * @skip_instruction:	   advance RIP by @len (wrapping at 4 GiB outside
 *			   64-bit mode, see ringvm_rip_carries()), clear
 *			   the STI/MOV SS interrupt shadow, and queue the
 *			   single-step #DB a set RFLAGS.TF owes.
 *
 * Events: the core keeps the one event the next entry delivers in
 * vcpu->event (event.c).  @vcpu_run writes it into the VM-entry fields
 * when valid and clears it once an entry succeeded; after an exit that
 * cut an event's delivery short it gives the event back with
 * ringvm_requeue_event().  The backend raises exceptions of its own
 * with ringvm_queue_exception().
 */
/*
 * What keeps an interrupt or an NMI out of the guest right now (event.c):
 * RFLAGS.IF, the STI / MOV SS shadow (RINGVM_SHADOW_*), and blocking by
 * NMI from the delivery of an NMI until the next IRET.  set_intr_state
 * writes the shadow and the NMI blocking; if_flag is RFLAGS, set with the
 * registers.
 */
struct ringvm_intr_state {
	bool if_flag;
	bool nmi_masked;
	u32 shadow;
};

/*
 * Interrupt and NMI windows: set_windows(RINGVM_RUN_IRQ_WINDOW |
 * RINGVM_RUN_NMI_WINDOW) makes the guest exit (RINGVM_HW_EXIT_NONE is
 * enough) as soon as it could take an interrupt / an NMI, so that the
 * core can inject one or report the window.  The core calls it only when
 * the set changes, and forgets what it set when the backend stores
 * RINGVM_WINDOWS_UNKNOWN in vcpu->windows_open (it closed one itself).
 * RINGVM_WINDOW_TPR, the core's own: a vector of the local APIC waits for
 * the TPR alone, so a guest MOV to CR8 must exit (VMX exits on every one;
 * SVM intercepts them while this is set, ringvm_mov_to_cr8()).
 */
#define RINGVM_WINDOW_TPR	BIT(7)	/* clear of every RINGVM_RUN_* */
#define RINGVM_WINDOWS_UNKNOWN	0xff

struct ringvm_arch_ops {
	const char *name;
	int (*probe)(struct ringvm_hw_caps *caps);
	int (*hardware_setup)(void);
	void (*hardware_unsetup)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	void (*cpu_offline)(void);

	const struct ringvm_npt_ops *npt_ops;
	bool state_needs_load;
	size_t vcpu_size;
	int (*vcpu_init)(struct ringvm_vcpu *vcpu);
	void (*vcpu_uninit)(struct ringvm_vcpu *vcpu);
	void (*vcpu_load)(struct ringvm_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct ringvm_vcpu *vcpu);
	int (*vcpu_run)(struct ringvm_vcpu *vcpu);

	void (*get_regs)(struct ringvm_vcpu *vcpu, struct ringvm_regs *regs);
	void (*set_regs)(struct ringvm_vcpu *vcpu,
			 const struct ringvm_regs *regs);
	void (*get_sregs)(struct ringvm_vcpu *vcpu, struct ringvm_sregs *sregs);
	int (*set_sregs)(struct ringvm_vcpu *vcpu,
			 const struct ringvm_sregs *sregs);
	u64 (*get_reg)(struct ringvm_vcpu *vcpu, enum ringvm_reg reg);
	void (*get_code_state)(struct ringvm_vcpu *vcpu,
			       struct ringvm_code_state *st);
	void (*set_reg)(struct ringvm_vcpu *vcpu, enum ringvm_reg reg, u64 val);
	int (*get_msr)(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct ringvm_vcpu *vcpu, u32 index, u64 data);
	u64 (*get_dr)(struct ringvm_vcpu *vcpu, int dr);
	void (*set_dr)(struct ringvm_vcpu *vcpu, int dr, u64 val);
	void (*skip_instruction)(struct ringvm_vcpu *vcpu, unsigned int len);
	void (*get_intr_state)(struct ringvm_vcpu *vcpu,
			       struct ringvm_intr_state *st);
	void (*set_intr_state)(struct ringvm_vcpu *vcpu,
			       const struct ringvm_intr_state *st);
	void (*set_windows)(struct ringvm_vcpu *vcpu, u8 windows);
};

/*
 * Skipping @len bytes from @rip carries out of bit 31: only then can
 * the 4 GiB wrap outside 64-bit mode matter (RIP is 32 bits there, SDM
 * Vol. 1 §3.5), so a backend asks for the mode only in that case.
 */
static inline bool ringvm_rip_carries(u64 rip, unsigned int len)
{
	return (u32)(rip + len) < (u32)rip;
}

extern const struct ringvm_arch_ops vmx_arch_ops;
extern const struct ringvm_arch_ops svm_arch_ops;

/* Chosen once in ringvm_init() and constant until the module goes. */
extern const struct ringvm_arch_ops *ringvm_arch;
extern struct ringvm_hw_caps ringvm_hw;

/* cpu.c: virtualization on every online CPU, following hotplug. */
int ringvm_cpus_enable(void);
void ringvm_cpus_disable(void);
unsigned int ringvm_nr_cpus_enabled(void);

struct page;
/*
 * One zeroed page, on its CPU's node, for every possible CPU: for the
 * backends' VMXON regions and host save areas.  Allocation is all or
 * nothing; freeing is safe on a partly filled set.
 */
int ringvm_alloc_cpu_pages(struct page *__percpu *pages);
void ringvm_free_cpu_pages(struct page *__percpu *pages);

/* main.c */
void ringvm_get_caps(struct ringvm_caps *caps);

/* Module parameters (main.c), read-only after load. */
extern unsigned int ringvm_max_vms;
extern unsigned int ringvm_max_vcpus;
extern unsigned long ringvm_max_vm_mem_mb;
extern bool ringvm_dump_invalid_state;
extern unsigned int ringvm_debug_slow_cpuid;
DECLARE_STATIC_KEY_FALSE(ringvm_debug_slow_key);

/* dev.c: /dev/ringvm */
int ringvm_dev_register(void);
void ringvm_dev_unregister(void);

/* netlink.c: the "ringvm" generic netlink family */
int ringvm_nl_register(void);
void ringvm_nl_unregister(void);

#endif /* RINGVM_RINGVM_H */
