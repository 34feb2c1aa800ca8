// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: detection and VMX operation on each CPU.
 *
 *  1. vmx_probe() reads the VMX capability MSRs on the boot CPU and
 *     refuses what ringvm cannot drive (no EPT, no unrestricted guest).
 *  2. vmx_hardware_setup() gives every possible CPU a VMXON region.
 *  3. vmx_cpu_enable() / vmx_cpu_disable() enter and leave VMX root
 *     operation on the calling CPU, with interrupts off, and leave CR4
 *     exactly as they found it.
 *  4. vmx_setup_controls() turns the capability MSRs into the control
 *     words every VMCS gets (struct vmx_config), with one helper for the
 *     allowed-0/allowed-1 rule.
 *  5. the VPID pool, the one reporter of failed VMX instructions, the
 *     VMCS dump for failed entries, and the ops table (the vCPU hooks
 *     live in vcpu.c, exit handling in exit.c).
 *
 * Intel SDM Vol. 3C §24.7 "Enabling and Entering VMX Operation" is the
 * recipe this file follows.  Everything here runs in process context,
 * except cpu_enable/cpu_disable (interrupts off), vmx_insn_failed() (any
 * context) and vmx_dump_vmcs() (the vCPU loaded, interrupts off).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "ringvm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* The VMXON region of each possible CPU, allocated once at load. */
static DEFINE_PER_CPU(struct page *, vmx_vmxon_page);
static u32 vmx_revision_id __read_mostly;

struct vmx_config vmx_cfg __read_mostly;

/* VPIDs 1..VMX_NR_VPIDS, one per vCPU while VPIDs are enabled. */
static DEFINE_IDA(vmx_vpid_ida);

/*
 * VMXON: VMfailInvalid (CF) if the region is bad, VMfailValid (ZF) if
 * this CPU is already in VMX operation; #GP or #UD if CR0/CR4/feature
 * control forbid it, which the exception table turns into -EFAULT.
 */
static int __vmx_on(u64 vmxon_pa)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jbe %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m" (vmxon_pa) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static int __vmx_off(void)
{
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	return 0;
fault:
	return -EFAULT;
}

/*
 * IA32_FEATURE_CONTROL must be locked with VMXON outside SMX allowed, or
 * VMXON faults (SDM Vol. 3C §24.7).  Linux locks it at boot when firmware
 * left it open, so an unlocked or closed MSR means firmware said no.
 */
static bool vmx_allowed_by_firmware(u64 *feat_ctl)
{
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, feat_ctl))
		return false;
	return (*feat_ctl & FEAT_CTL_LOCKED) &&
	       (*feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX);
}

/*
 * CR0 and CR4 must have every bit set that FIXED0 has set and no bit set
 * that FIXED1 has clear (SDM Vol. 3C §24.8, Vol. 3D §A.7 and §A.8).
 */
static bool vmx_cr_fixed_ok(unsigned long cr, u32 fixed0_msr, u32 fixed1_msr)
{
	u64 fixed0, fixed1;

	rdmsrl(fixed0_msr, fixed0);
	rdmsrl(fixed1_msr, fixed1);
	return (cr & fixed0) == fixed0 && !(cr & ~fixed1);
}

static u64 vmx_page_sizes(u64 ept_cap)
{
	u64 sizes = BIT_ULL(12);

	if (ept_cap & IA32_VMX_EPT_2MB_PAGE)
		sizes |= BIT_ULL(21);
	if (ept_cap & IA32_VMX_EPT_1GB_PAGE)
		sizes |= BIT_ULL(30);
	return sizes;
}

static u64 vmx_features(u32 pin1, u32 sec1, u64 ept_cap)
{
	u64 f = RINGVM_FEAT_NESTED_PAGING | RINGVM_FEAT_UNRESTRICTED_GUEST;

	if (vmx_cfg.proc2 & SECONDARY_EXEC_ENABLE_VPID)
		f |= RINGVM_FEAT_TAGGED_TLB;
	if (ept_cap & IA32_VMX_EPT_AD)
		f |= RINGVM_FEAT_NP_AD_BITS;
	if ((ept_cap & IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT) &&
	    (ept_cap & IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT))
		f |= RINGVM_FEAT_FLUSH_BY_TAG;
	if (sec1 & SECONDARY_EXEC_TSC_SCALING)
		f |= RINGVM_FEAT_TSC_SCALING;
	if (sec1 & SECONDARY_EXEC_PAUSE_LOOP_EXITING)
		f |= RINGVM_FEAT_PAUSE_FILTER;
	if (pin1 & PIN_BASED_VMX_PREEMPTION_TIMER)
		f |= RINGVM_FEAT_PREEMPTION_TIMER;
	if ((sec1 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) &&
	    (sec1 & SECONDARY_EXEC_APIC_REGISTER_VIRT) &&
	    (sec1 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY))
		f |= RINGVM_FEAT_VIRT_APIC;
	return f;
}

/*
 * Pin-based, primary, exit and entry controls have a TRUE_ variant when
 * IA32_VMX_BASIC[55] is set, which may let "default1" controls be 0
 * (SDM Vol. 3D §A.2); the secondary controls have none (@true_msr 0).
 */
static u64 vmx_read_ctls_msr(u32 msr, u32 true_msr)
{
	u64 val;

	if (true_msr && (vmx_cfg.basic & IA32_VMX_BASIC_TRUE_CTLS))
		msr = true_msr;
	rdmsrl(msr, val);
	return val;
}

/* Read a control MSR's allowed-1 half. */
static u32 vmx_ctls_allowed1(u32 msr, u32 true_msr)
{
	return VMX_CTLS_ALLOWED1(vmx_read_ctls_msr(msr, true_msr));
}

/*
 * The allowed-0/allowed-1 rule, in one place (SDM Vol. 3D §A.3): a
 * control whose allowed-0 bit is 1 must be 1, one whose allowed-1 bit is
 * 0 must be 0.  Every @required control must be settable; @optional ones
 * are set where the CPU allows; the rest stay 0 unless the CPU insists.
 */
static int vmx_adjust_ctls(const char *what, u32 msr, u32 true_msr,
			   u32 required, u32 optional, u32 *ctls)
{
	u64 cap = vmx_read_ctls_msr(msr, true_msr);
	u32 must = VMX_CTLS_ALLOWED0(cap), may = VMX_CTLS_ALLOWED1(cap);

	if (required & ~may) {
		pr_err("VMX lacks %s controls %#x (capability MSR %#llx)\n",
		       what, required & ~may, cap);
		return -EOPNOTSUPP;
	}
	*ctls = ((required | optional) & may) | must;
	return 0;
}

/*
 * VPIDs need INVVPID with a single-context or all-context flush, which
 * vcpu_load() uses when a vCPU changes CPUs (SDM Vol. 3C §29.4.3).
 */
static bool vmx_vpid_usable(u64 ept_cap)
{
	return (ept_cap & IA32_VMX_VPID_INVVPID) &&
	       (ept_cap & (IA32_VMX_VPID_INVVPID_SINGLE_CONTEXT |
			   IA32_VMX_VPID_INVVPID_ALL_CONTEXT));
}

/*
 * The VMX-preemption timer as a backstop: a guest that runs without
 * exiting still leaves the guest every millisecond or so, whatever
 * external-interrupt exiting does.  Without "save VMX-preemption timer
 * value" the timer reloads from the VMCS at every entry (SDM Vol. 3C
 * §26.5.1), so it costs one VMWRITE per vCPU, not one per entry.
 *
 * Quirk: Bochs 2.7 computes which interrupts are masked while it loads
 * the guest state on VM entry, before it marks the CPU as in VMX
 * non-root operation; so when the guest enters with RFLAGS.IF = 0,
 * external interrupts stay masked and, despite external-interrupt
 * exiting, never cause an exit until the guest exits for another reason
 * (a guest spinning with IF = 0 hangs a 1-CPU test machine for good).
 * Detection: none (silicon is not affected; the timer is harmless there).
 * Workaround: this timer, whose expiry Bochs does not mask.
 */
static void vmx_setup_preemption_timer(void)
{
	u64 misc, ticks;

	if (!(vmx_cfg.pin & PIN_BASED_VMX_PREEMPTION_TIMER))
		return;
	/* The timer counts TSC >> IA32_VMX_MISC[4:0] (SDM Vol. 3C §26.5.1) */
	rdmsrl(MSR_IA32_VMX_MISC, misc);
	ticks = ((u64)(tsc_khz ?: 1000000)) >> (misc & 0x1f);
	vmx_cfg.preempt_timer = clamp_t(u64, ticks, 1, U32_MAX);
}

/*
 * The controls of every VMCS.  What must exit, for the host's sake:
 * external interrupts and NMIs (pin-based), HLT, all I/O (unconditional
 * I/O exiting, no bitmaps), every RDMSR/WRMSR (no MSR bitmap), MOV DR,
 * MOV CR8 (the TPR is emulated), MONITOR/MWAIT (#UD), RDPMC (#GP, the
 * host's counters are not the guest's), WBINVD and ENCLS; and the
 * preemption timer where there is one (above).  Left 0 so
 * the instruction is #UD in the guest: RDTSCP (and RDPID), XSAVES,
 * user wait/pause, VM functions.  VM exits do not acknowledge the
 * interrupt (module/README): the host takes it once interrupts are on.
 */
static int vmx_setup_controls(u64 ept_cap)
{
	u32 proc2_opt = SECONDARY_EXEC_ENABLE_INVPCID |
			SECONDARY_EXEC_WBINVD_EXITING |
			SECONDARY_EXEC_ENCLS_EXITING;
	int r;

	if (vmx_vpid_usable(ept_cap))
		proc2_opt |= SECONDARY_EXEC_ENABLE_VPID;

	r = vmx_adjust_ctls("pin-based", MSR_IA32_VMX_PINBASED_CTLS,
			    MSR_IA32_VMX_TRUE_PINBASED_CTLS,
			    PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
			    PIN_BASED_VIRTUAL_NMIS |
			    PIN_BASED_VMX_PREEMPTION_TIMER, &vmx_cfg.pin);
	if (r)
		return r;
	vmx_setup_preemption_timer();
	r = vmx_adjust_ctls("processor-based", MSR_IA32_VMX_PROCBASED_CTLS,
			    MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
			    CPU_BASED_USE_TSC_OFFSETTING |
			    CPU_BASED_HLT_EXITING | CPU_BASED_MWAIT_EXITING |
			    CPU_BASED_CR8_LOAD_EXITING |
			    CPU_BASED_CR8_STORE_EXITING |
			    CPU_BASED_MOV_DR_EXITING |
			    CPU_BASED_UNCOND_IO_EXITING |
			    CPU_BASED_MONITOR_EXITING |
			    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
			    CPU_BASED_RDPMC_EXITING, &vmx_cfg.proc);
	if (r)
		return r;
	r = vmx_adjust_ctls("secondary", MSR_IA32_VMX_PROCBASED_CTLS2, 0,
			    SECONDARY_EXEC_ENABLE_EPT |
			    SECONDARY_EXEC_UNRESTRICTED_GUEST,
			    proc2_opt, &vmx_cfg.proc2);
	if (r)
		return r;
	r = vmx_adjust_ctls("VM-exit", MSR_IA32_VMX_EXIT_CTLS,
			    MSR_IA32_VMX_TRUE_EXIT_CTLS,
			    VM_EXIT_SAVE_DEBUG_CONTROLS |
			    VM_EXIT_HOST_ADDR_SPACE_SIZE |
			    VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
			    VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER,
			    0, &vmx_cfg.exit);
	if (r)
		return r;
	/* IA32E_MODE must be settable; vcpu.c sets it with EFER.LMA. */
	r = vmx_adjust_ctls("VM-entry", MSR_IA32_VMX_ENTRY_CTLS,
			    MSR_IA32_VMX_TRUE_ENTRY_CTLS,
			    VM_ENTRY_LOAD_DEBUG_CONTROLS | VM_ENTRY_IA32E_MODE |
			    VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER,
			    0, &vmx_cfg.entry);
	if (r)
		return r;
	vmx_cfg.entry &= ~VM_ENTRY_IA32E_MODE;

	if ((vmx_cfg.exit & VM_EXIT_ACK_INTR_ON_EXIT) ||
	    (vmx_cfg.entry & VM_ENTRY_IA32E_MODE)) {
		pr_err("VMX forces controls ringvm cannot use (exit %#x, entry %#x)\n",
		       vmx_cfg.exit, vmx_cfg.entry);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * CR4 bits a guest may own: the architectural ones of the x86-64 ringvm
 * runs, where the CPU has them.  VMXE, SMXE and the features that need
 * MSRs the VMCS does not switch (CET, PKS, FRED, UINTR, LAM, Key Locker)
 * stay the host's business.
 */
#define VMX_GUEST_CR4_BITS						\
	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |	\
	 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |	\
	 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
	 X86_CR4_UMIP | X86_CR4_LA57 | X86_CR4_FSGSBASE |		\
	 X86_CR4_PCIDE | X86_CR4_OSXSAVE | X86_CR4_SMEP |		\
	 X86_CR4_SMAP | X86_CR4_PKE)

/* SDM Vol. 3D §A.7, §A.8: bits fixed to 1 (FIXED0) and allowed to be 1 */
static void vmx_setup_fixed_crs(void)
{
	u64 fixed0, fixed1;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, fixed1);
	vmx_cfg.cr0_on = fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	vmx_cfg.cr0_off = X86_CR0_CD | X86_CR0_NW;
	vmx_cfg.cr0_never = ~fixed1;

	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, fixed1);
	vmx_cfg.cr4_on = fixed0;
	vmx_cfg.cr4_never = ~(fixed1 & VMX_GUEST_CR4_BITS) & ~fixed0;
}

static int vmx_probe_controls(struct ringvm_hw_caps *caps)
{
	u32 pin1, proc1, sec1 = 0;
	u64 ept_cap = 0;
	int r;

	pin1 = vmx_ctls_allowed1(MSR_IA32_VMX_PINBASED_CTLS,
				 MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	proc1 = vmx_ctls_allowed1(MSR_IA32_VMX_PROCBASED_CTLS,
				  MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	if (proc1 & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		sec1 = vmx_ctls_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2, 0);
	if (sec1 & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_cap);

	if (!(sec1 & SECONDARY_EXEC_ENABLE_EPT)) {
		pr_err("VMX without EPT is not supported\n");
		return -EOPNOTSUPP;
	}
	if (!(ept_cap & IA32_VMX_EPT_PAGE_WALK_4) ||
	    !(ept_cap & IA32_VMX_EPT_MEMTYPE_WB) ||
	    !(ept_cap & IA32_VMX_EPT_INVEPT) ||
	    !(ept_cap & (IA32_VMX_EPT_INVEPT_SINGLE_CONTEXT |
			 IA32_VMX_EPT_INVEPT_ALL_CONTEXT))) {
		pr_err("EPT lacks 4-level walks, WB tables or INVEPT (EPT_VPID_CAP=%#llx)\n",
		       ept_cap);
		return -EOPNOTSUPP;
	}
	if (!(sec1 & SECONDARY_EXEC_UNRESTRICTED_GUEST)) {
		pr_err("VMX without unrestricted guest is not supported\n");
		return -EOPNOTSUPP;
	}

	vmx_cfg.ept_vpid_cap = ept_cap;
	r = vmx_setup_controls(ept_cap);
	if (r)
		return r;
	vmx_setup_fixed_crs();

	caps->features = vmx_features(pin1, sec1, ept_cap);
	caps->page_sizes = vmx_page_sizes(ept_cap);
	caps->nr_asids = (caps->features & RINGVM_FEAT_TAGGED_TLB) ?
			 VMX_NR_VPIDS : 0;
	return 0;
}

static int vmx_probe(struct ringvm_hw_caps *caps)
{
	u64 feat_ctl = 0, basic;

	if (!(cpuid_ecx(1) & VMX_CPUID1_ECX_VMX))
		return -ENODEV;

	if (!vmx_allowed_by_firmware(&feat_ctl)) {
		pr_err("VMX is disabled by firmware (IA32_FEATURE_CONTROL=%#llx)\n",
		       feat_ctl);
		return -EPERM;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	/* SDM Vol. 3D §A.1: regions must be write-back, above 4 GiB is fine. */
	if ((basic & IA32_VMX_BASIC_32BIT_PHYS_ADDR_ONLY) ||
	    ((basic & IA32_VMX_BASIC_MEM_TYPE_MASK) >> IA32_VMX_BASIC_MEM_TYPE_SHIFT) !=
	    IA32_VMX_BASIC_MEM_TYPE_WB) {
		pr_err("unsupported VMX region constraints (IA32_VMX_BASIC=%#llx)\n",
		       basic);
		return -EOPNOTSUPP;
	}

	memset(caps, 0, sizeof(*caps));
	caps->arch = RINGVM_ARCH_VMX;
	caps->hw_revision = basic & IA32_VMX_BASIC_REVISION_MASK;
	vmx_revision_id = caps->hw_revision;
	vmx_cfg.basic = basic;
	return vmx_probe_controls(caps);
}

static void vmx_hardware_unsetup(void)
{
	vmx_l1tf_unsetup();
	ringvm_free_cpu_pages(&vmx_vmxon_page);
}

/* SDM Vol. 3C §25.11.5: a 4 KiB region starting with the revision id. */
static int vmx_hardware_setup(void)
{
	int cpu, r;

	r = ringvm_alloc_cpu_pages(&vmx_vmxon_page);
	if (r)
		return r;
	for_each_possible_cpu(cpu) {
		u32 *region = page_address(per_cpu(vmx_vmxon_page, cpu));

		*region = vmx_revision_id;
	}
	r = vmx_l1tf_setup();
	if (r)
		ringvm_free_cpu_pages(&vmx_vmxon_page);
	return r;
}

static int vmx_cpu_enable(void)
{
	u64 feat_ctl;
	int r;

	/* Somebody else (KVM) is in VMX operation on this CPU. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	if (!vmx_allowed_by_firmware(&feat_ctl))
		return -EPERM;

	cr4_set_bits_irqsoff(X86_CR4_VMXE);
	if (!vmx_cr_fixed_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			     MSR_IA32_VMX_CR0_FIXED1) ||
	    !vmx_cr_fixed_ok(__read_cr4(), MSR_IA32_VMX_CR4_FIXED0,
			     MSR_IA32_VMX_CR4_FIXED1)) {
		r = -EIO;
		goto err_clear_vmxe;
	}

	r = __vmx_on(page_to_phys(__this_cpu_read(vmx_vmxon_page)));
	if (r)
		goto err_clear_vmxe;
	vmx_uret_cpu_enable();
	return 0;

err_clear_vmxe:
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
	return r;
}

static void vmx_cpu_disable(void)
{
	vmx_vcpu_evict_cpu();	/* a parked VMCS: VMCLEAR before VMXOFF */
	vmx_uret_cpu_disable();	/* the host's SYSCALL MSRs (vcpu.c 1b) */
	/* Only fails if we were not in VMX operation: a host invariant. */
	WARN_ON_ONCE(__vmx_off());
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

/*
 * A VPID per vCPU keeps its guest-linear and combined translations apart
 * from the host's (VPID 0) and other vCPUs' (SDM Vol. 3C §29.1).  With
 * VPIDs off, or all 65535 taken, a vCPU runs with none: every VM entry
 * and exit then flushes them instead.
 */
int vmx_alloc_vpid(void)
{
	int vpid;

	if (!(vmx_cfg.proc2 & SECONDARY_EXEC_ENABLE_VPID))
		return 0;
	vpid = ida_alloc_range(&vmx_vpid_ida, 1, VMX_NR_VPIDS, GFP_KERNEL);
	return vpid < 0 ? 0 : vpid;
}

void vmx_free_vpid(int vpid)
{
	if (vpid)
		ida_free(&vmx_vpid_ida, vpid);
}

/* VM_INSTRUCTION_ERROR, if there is a current VMCS to read it from. */
static bool vmx_read_insn_error(unsigned long *err)
{
	unsigned long failed;

	asm volatile("1: vmread %[field], %[err]\n\t"
		     "setna %b[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE_TYPE_REG(1b, 2b, EX_TYPE_ONE_REG, %[failed])
		     : [err] "=&r" (*err), [failed] "=&q" (failed)
		     : [field] "r" ((unsigned long)VM_INSTRUCTION_ERROR)
		     : "cc");
	return !(u8)failed;
}

/*
 * Every failed VMX instruction ends here (vmcs.h).  A VM-Fail with VMX on
 * is a ringvm bug: say which instruction, operand and VM-instruction
 * error (SDM Vol. 3C §31.4), once with a backtrace.  With VMX off (the
 * reboot notifier turned it off under a running vCPU) the instruction
 * faulted instead; that is expected, and only logged.
 */
void vmx_insn_failed(const char *insn, unsigned long arg)
{
	unsigned long err;

	if (!(cr4_read_shadow() & X86_CR4_VMXE)) {
		pr_err_ratelimited("%s %#lx on CPU %d: VMX is off\n", insn, arg,
				   raw_smp_processor_id());
		return;
	}
	if (!vmx_read_insn_error(&err))
		err = ~0UL;
	WARN_ONCE(1, "ringvm: %s %#lx failed, VM-instruction error %ld\n",
		  insn, arg, (long)err);
}

/*
 * The VMCS, for a failed VM entry, behind the dump_invalid_state
 * parameter: the guest-state area the entry checks read (SDM Vol. 3C
 * §27.3), the controls (§27.2) and what the exit said.  Never on the
 * hot path; the VMCS is current.
 */
struct vmx_dump_field {
	const char *name;
	u32 field;
};

#define VMX_DUMP(f)	{ #f, f }

static const struct vmx_dump_field vmx_dump_fields[] = {
	VMX_DUMP(VM_EXIT_REASON), VMX_DUMP(EXIT_QUALIFICATION),
	VMX_DUMP(VM_INSTRUCTION_ERROR),
	VMX_DUMP(PIN_BASED_VM_EXEC_CONTROL), VMX_DUMP(CPU_BASED_VM_EXEC_CONTROL),
	VMX_DUMP(SECONDARY_VM_EXEC_CONTROL), VMX_DUMP(VM_EXIT_CONTROLS),
	VMX_DUMP(VM_ENTRY_CONTROLS), VMX_DUMP(EXCEPTION_BITMAP),
	VMX_DUMP(VM_ENTRY_INTR_INFO_FIELD),
	VMX_DUMP(VM_ENTRY_EXCEPTION_ERROR_CODE),
	VMX_DUMP(VM_ENTRY_INSTRUCTION_LEN), VMX_DUMP(EPT_POINTER),
	VMX_DUMP(VIRTUAL_PROCESSOR_ID),
	VMX_DUMP(CR0_GUEST_HOST_MASK), VMX_DUMP(CR0_READ_SHADOW),
	VMX_DUMP(CR4_GUEST_HOST_MASK), VMX_DUMP(CR4_READ_SHADOW),
	VMX_DUMP(GUEST_CR0), VMX_DUMP(GUEST_CR3), VMX_DUMP(GUEST_CR4),
	VMX_DUMP(GUEST_IA32_EFER), VMX_DUMP(GUEST_IA32_PAT),
	VMX_DUMP(GUEST_IA32_DEBUGCTL), VMX_DUMP(GUEST_DR7),
	VMX_DUMP(GUEST_RIP), VMX_DUMP(GUEST_RSP), VMX_DUMP(GUEST_RFLAGS),
	VMX_DUMP(GUEST_CS_SELECTOR), VMX_DUMP(GUEST_CS_BASE),
	VMX_DUMP(GUEST_CS_LIMIT), VMX_DUMP(GUEST_CS_AR_BYTES),
	VMX_DUMP(GUEST_SS_SELECTOR), VMX_DUMP(GUEST_SS_BASE),
	VMX_DUMP(GUEST_SS_LIMIT), VMX_DUMP(GUEST_SS_AR_BYTES),
	VMX_DUMP(GUEST_DS_SELECTOR), VMX_DUMP(GUEST_DS_BASE),
	VMX_DUMP(GUEST_DS_LIMIT), VMX_DUMP(GUEST_DS_AR_BYTES),
	VMX_DUMP(GUEST_ES_SELECTOR), VMX_DUMP(GUEST_ES_BASE),
	VMX_DUMP(GUEST_ES_LIMIT), VMX_DUMP(GUEST_ES_AR_BYTES),
	VMX_DUMP(GUEST_FS_SELECTOR), VMX_DUMP(GUEST_FS_BASE),
	VMX_DUMP(GUEST_FS_LIMIT), VMX_DUMP(GUEST_FS_AR_BYTES),
	VMX_DUMP(GUEST_GS_SELECTOR), VMX_DUMP(GUEST_GS_BASE),
	VMX_DUMP(GUEST_GS_LIMIT), VMX_DUMP(GUEST_GS_AR_BYTES),
	VMX_DUMP(GUEST_TR_SELECTOR), VMX_DUMP(GUEST_TR_BASE),
	VMX_DUMP(GUEST_TR_LIMIT), VMX_DUMP(GUEST_TR_AR_BYTES),
	VMX_DUMP(GUEST_LDTR_SELECTOR), VMX_DUMP(GUEST_LDTR_BASE),
	VMX_DUMP(GUEST_LDTR_LIMIT), VMX_DUMP(GUEST_LDTR_AR_BYTES),
	VMX_DUMP(GUEST_GDTR_BASE), VMX_DUMP(GUEST_GDTR_LIMIT),
	VMX_DUMP(GUEST_IDTR_BASE), VMX_DUMP(GUEST_IDTR_LIMIT),
	VMX_DUMP(GUEST_INTERRUPTIBILITY_INFO), VMX_DUMP(GUEST_ACTIVITY_STATE),
	VMX_DUMP(GUEST_PENDING_DBG_EXCEPTIONS), VMX_DUMP(VMCS_LINK_POINTER),
	VMX_DUMP(GUEST_SYSENTER_CS), VMX_DUMP(GUEST_SYSENTER_ESP),
	VMX_DUMP(GUEST_SYSENTER_EIP),
	VMX_DUMP(GUEST_PDPTR0), VMX_DUMP(GUEST_PDPTR1),
	VMX_DUMP(GUEST_PDPTR2), VMX_DUMP(GUEST_PDPTR3),
	VMX_DUMP(HOST_CR0), VMX_DUMP(HOST_CR3), VMX_DUMP(HOST_CR4),
	VMX_DUMP(HOST_IA32_EFER), VMX_DUMP(HOST_IA32_PAT),
	VMX_DUMP(HOST_RIP), VMX_DUMP(HOST_RSP),
	VMX_DUMP(HOST_FS_BASE), VMX_DUMP(HOST_GS_BASE),
	VMX_DUMP(HOST_TR_BASE), VMX_DUMP(HOST_GDTR_BASE),
	VMX_DUMP(HOST_IDTR_BASE),
};

void vmx_dump_vmcs(struct vmx_vcpu *vmx)
{
	const struct vmx_dump_field *f = vmx_dump_fields;
	unsigned int i, n = ARRAY_SIZE(vmx_dump_fields);

	pr_err("VM entry failed: vCPU %u of VM %u, VMCS at %pa\n",
	       vmx->vcpu.id, vmx->vcpu.vm->id, &vmx->vmcs_pa);
	/* Two fields a line: the console may be a slow UART. */
	for (i = 0; i + 1 < n; i += 2)
		pr_err("  %s=%#lx %s=%#lx\n",
		       f[i].name, __vmcs_readl(f[i].field),
		       f[i + 1].name, __vmcs_readl(f[i + 1].field));
	if (i < n)
		pr_err("  %s=%#lx\n", f[i].name, __vmcs_readl(f[i].field));
}

const struct ringvm_arch_ops vmx_arch_ops = {
	.name = "VMX",
	.probe = vmx_probe,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
	.cpu_offline = vmx_uret_cpu_offline,

	.npt_ops = &ringvm_ept_ops,
	.state_needs_load = true,
	.vcpu_size = sizeof(struct vmx_vcpu),
	.vcpu_init = vmx_vcpu_init,
	.vcpu_uninit = vmx_vcpu_uninit,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.vcpu_run = vmx_vcpu_run,

	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_reg = vmx_get_reg,
	.get_code_state = vmx_get_code_state,
	.set_reg = vmx_set_reg,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
	.get_dr = vmx_get_dr,
	.set_dr = vmx_set_dr,
	.skip_instruction = vmx_skip_instruction,
	.get_intr_state = vmx_get_intr_state,
	.set_intr_state = vmx_set_intr_state,
	.set_windows = vmx_set_windows,
};
