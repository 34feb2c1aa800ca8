// SPDX-License-Identifier: GPL-2.0
/*
 * Vendor-neutral exit handling: what the core does with an exit that a
 * backend translated into a struct ringvm_hw_exit.
 *
 *  1. small helpers: skip, #GP, GPR access, exits to user space
 *  2. fast handlers, preemption off, straight after the exit: CPUID,
 *     MSRs the module keeps, in-kernel hypercalls, MOV DR with a known
 *     register, XSETBV
 *  3. slow handlers, preemptible: nested page faults (map RAM, or decode
 *     an MMIO access for user space), port I/O, unhandled MSRs and
 *     hypercalls, MOV DR that needs decoding, HLT, shutdown, entry
 *     failure, an instruction exit of unknown length; and the fetch at
 *     CS:RIP they share with a backend that must find an instruction's
 *     length itself (ringvm_insn_len_at_rip(), any context)
 *  4. completion: what the next RINGVM_RUN finishes with user space's
 *     answer before entering the guest again
 *
 * Every handler either finishes the instruction (skip it, or inject the
 * fault it raises) or leaves it to be re-executed; none returns to the
 * guest with half an instruction done.
 *
 * Context: process context, vcpu->mutex held; see each part.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/ringvm_netlink.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>
#include <asm/fpu/xcr.h>

#include "fpu.h"
#include "spec.h"
#include "trace.h"
#include "vm.h"

/* 1. Helpers */

/* DR7 L0-3 and G0-3: a breakpoint is enabled */
#define RINGVM_DR7_ENABLE	0xffULL

/* Nested faults on one page in a row before the mapping is given up on */
#define RINGVM_NPF_MAX_REPEATS	16

/*
 * Finish the instruction that exited.  A backend always gives the length
 * of a CPUID, HLT, RDMSR, WRMSR, hypercall, XSETBV or IN/OUT, from the
 * hardware or from the bytes at CS:RIP (ringvm_insn_len_at_rip()); where
 * it can have neither, it reports RINGVM_HW_EXIT_NO_INSN_LEN instead, as
 * a guessed length would land the guest inside the instruction.
 */
static void ringvm_skip(struct ringvm_vcpu *vcpu)
{
	WARN_ON_ONCE(!vcpu->exit.insn_len);
	ringvm_arch->skip_instruction(vcpu, vcpu->exit.insn_len);
}

static void ringvm_inject_gp(struct ringvm_vcpu *vcpu)
{
	ringvm_queue_exception(vcpu, X86_TRAP_GP, 0);
}

static u64 ringvm_read_gpr(struct ringvm_vcpu *vcpu, int reg)
{
	if (reg == RINGVM_GPR_RSP)
		return ringvm_arch->get_reg(vcpu, RINGVM_REG_RSP);
	return vcpu->gprs[reg];
}

static void ringvm_write_gpr(struct ringvm_vcpu *vcpu, int reg, u64 val)
{
	if (reg == RINGVM_GPR_RSP)
		ringvm_arch->set_reg(vcpu, RINGVM_REG_RSP, val);
	else
		vcpu->gprs[reg] = val;
}

/* Fill in the run page for an exit to user space. */
void ringvm_user_exit(struct ringvm_vcpu *vcpu, u32 reason)
{
	struct ringvm_run *run = vcpu->run;

	run->exit_reason = reason;
	run->rip = ringvm_arch->get_reg(vcpu, RINGVM_REG_RIP);
	run->hw = vcpu->exit.raw;
	ringvm_report_events(vcpu);
	vcpu->nr_user_exits++;
	trace_ringvm_userspace_exit(vcpu, reason, run->rip);
}

/*
 * The union of the run page before an exit fills its member: every
 * member fits in RINGVM_RUN_EXIT_DATA bytes, so those are cleared and
 * the rest of the union (which no exit writes) is left as it is.  A
 * constant size compiles to a few stores; the whole 256 bytes cost a
 * REP STOSB of 256 iterations, 14 % of an OUT round trip on svm.
 */
#define RINGVM_RUN_EXIT_DATA	64

static void ringvm_clear_exit_data(struct ringvm_vcpu *vcpu)
{
	struct ringvm_run *run = vcpu->run;

	BUILD_BUG_ON(sizeof(run->io) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->mmio) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->hypercall) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->msr) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->fail_entry) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->emulation) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->internal) > RINGVM_RUN_EXIT_DATA ||
		     sizeof(run->eoi) > RINGVM_RUN_EXIT_DATA);
	memset(run->padding, 0, RINGVM_RUN_EXIT_DATA);
}

static int ringvm_internal_error(struct ringvm_vcpu *vcpu, u32 suberror,
				 u64 data)
{
	ringvm_clear_exit_data(vcpu);
	vcpu->run->internal.suberror = suberror;
	vcpu->run->internal.data[0] = data;
	ringvm_user_exit(vcpu, RINGVM_EXIT_INTERNAL_ERROR);
	return 1;
}

/* 2. Fast handlers (preemption off; may not sleep) */

static const struct ringvm_cpuid_entry *
ringvm_cpuid_find(const struct ringvm_cpuid_table *t, u32 fn, u32 index)
{
	u32 i;

	for (i = 0; t && i < t->nent; i++) {
		const struct ringvm_cpuid_entry *e = &t->entries[i];

		if (e->function == fn &&
		    (!(e->flags & RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

/* The debug_slow_cpuid knob (main.c): never on unless asked for. */
static noinline void ringvm_debug_slow(void)
{
	unsigned int n = ringvm_debug_slow_cpuid;

	while (n--)
		cpu_relax();
}

static void ringvm_handle_cpuid(struct ringvm_vcpu *vcpu)
{
	u32 fn = vcpu->gprs[RINGVM_GPR_RAX], index = vcpu->gprs[RINGVM_GPR_RCX];
	const struct ringvm_cpuid_entry *e;
	u32 r[4] = { };

	if (static_branch_unlikely(&ringvm_debug_slow_key))
		ringvm_debug_slow();
	if (fn == RINGVM_CPUID_LEAF_SIGNATURE) {
		r[0] = RINGVM_CPUID_LEAF_TIMING;
		memcpy(&r[1], RINGVM_CPUID_SIGNATURE, 12);
	} else if (fn == RINGVM_CPUID_LEAF_FEATURES) {
		r[0] = RINGVM_PV_FEAT_HYPERCALL;
	} else if (fn == RINGVM_CPUID_LEAF_TIMING) {
		r[0] = tsc_khz;
	} else {
		rcu_read_lock();
		e = ringvm_cpuid_find(rcu_dereference(vcpu->vm->cpuid), fn,
				      index);
		if (e) {
			r[0] = e->eax;
			r[1] = e->ebx;
			r[2] = e->ecx;
			r[3] = e->edx;
		}
		rcu_read_unlock();
	}

	if (fn == 1) {
		/* Hypervisor present; OSXSAVE mirrors CR4; initial APIC id */
		r[2] |= BIT(31);
		r[2] &= ~BIT(27);
		if (ringvm_arch->get_reg(vcpu, RINGVM_REG_CR4) & X86_CR4_OSXSAVE)
			r[2] |= BIT(27);
		r[1] = (r[1] & 0x00ffffff) | (vcpu->id << 24);
	} else if (unlikely(fn == 7 || fn == 0x80000008)) {
		ringvm_spec_cpuid(fn, index, r);
	} else if (unlikely(fn == 0xb || fn == 0x1f)) {
		r[3] = vcpu->id;	/* the x2APIC ID (SDM Vol. 2A, CPUID) */
	}
	vcpu->gprs[RINGVM_GPR_RAX] = r[0];
	vcpu->gprs[RINGVM_GPR_RBX] = r[1];
	vcpu->gprs[RINGVM_GPR_RCX] = r[2];
	vcpu->gprs[RINGVM_GPR_RDX] = r[3];
	ringvm_skip(vcpu);
}

/*
 * The MSR rules both vendors obey.  PAT: every entry must name a memory
 * type, 0, 1, 4, 5, 6 or 7 (SDM Vol. 3A §13.12.2, APM Vol. 2 §7.8.1).
 */
bool ringvm_pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/*
 * A WRMSR to EFER (SDM Vol. 3A §2.2.1, APM Vol. 2 §3.1.7): a bit outside
 * @valid, or a change of LME while paging is on, is a #GP (-EINVAL).
 * LMA belongs to the processor, which sets it when paging goes on with
 * LME set, so the write keeps its current value.  The EFER to load is
 * left in *@efer.
 */
int ringvm_efer_write(u64 old, u64 *efer, u64 cr0, u64 valid)
{
	if (*efer & ~valid)
		return -EINVAL;
	if (((*efer ^ old) & EFER_LME) && (cr0 & X86_CR0_PG))
		return -EINVAL;
	*efer = (*efer & ~EFER_LMA) | (old & EFER_LMA);
	return 0;
}

/*
 * x2APIC registers (0x800-0x8ff, Intel SDM Vol. 3A §10.12.1.2): a write
 * goes to the APIC straight away, as neither backend nor the core holds
 * any of them, and EOI, ICR and SELF_IPI writes are a guest's most
 * frequent WRMSRs.  Reads take the usual order: the test would cost
 * every other RDMSR a few instructions.
 */
static bool ringvm_x2apic_msr(u32 index)
{
	return (index >> 8) == 0x8;
}

/*
 * MSRs: the backend's first (those in the VMCS/VMCB or switched by it;
 * for a write, the x2APIC's before them), then the few the core keeps.
 * -ENOENT: nobody holds it; -EINVAL: a value the guest may not write.
 * The same rules for the guest's RDMSR/WRMSR and for
 * RINGVM_GET/SET_MSRS.
 */
int ringvm_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data)
{
	int r = ringvm_arch->get_msr(vcpu, index, data);

	if (r == -ENOENT)
		r = ringvm_spec_get_msr(vcpu, index, data);
	if (r == -ENOENT && vcpu->apic)
		r = ringvm_lapic_get_msr(vcpu, index, data);
	if (r != -ENOENT)
		return r;
	switch (index) {
	case MSR_TSC_AUX:
		*data = vcpu->tsc_aux;
		return 0;
	case MSR_IA32_APICBASE:
		/* xAPIC at its default base; vCPU 0 is the BSP. */
		*data = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			(vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = MSR_IA32_MISC_ENABLE_FAST_STRING |
			MSR_IA32_MISC_ENABLE_BTS_UNAVAIL |
			MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
		return 0;
	case MSR_IA32_UCODE_REV:
	/*
	 * AMD's interrupt-pending message register, which Linux reads on
	 * family 0xf/0x10 parts to see whether C1E is on (AMD BKDG for
	 * family 10h, MSRC001_0055): no C1E, no messages.
	 */
	case MSR_K8_INT_PENDING_MSG:
		*data = 0;
		return 0;
	}
	return -ENOENT;
}

int ringvm_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data)
{
	u64 cur;
	int r;

	if (ringvm_x2apic_msr(index) && vcpu->apic)
		return ringvm_lapic_set_msr(vcpu, index, data);
	r = ringvm_arch->set_msr(vcpu, index, data);

	if (r == -ENOENT)
		r = ringvm_spec_set_msr(vcpu, index, data);
	if (r == -ENOENT && vcpu->apic)
		r = ringvm_lapic_set_msr(vcpu, index, data);
	if (r != -ENOENT)
		return r;
	switch (index) {
	case MSR_TSC_AUX:
		if (data >> 32)
			return -EINVAL;
		vcpu->tsc_aux = data;
		return 0;
	case MSR_IA32_APICBASE:
	case MSR_IA32_MISC_ENABLE:
		/* Fixed: rewriting the current value is all that is allowed */
		ringvm_get_msr(vcpu, index, &cur);
		return data == cur ? 0 : -EINVAL;
	case MSR_IA32_UCODE_REV:
		return 0;	/* a write asks for an update: there is none */
	case MSR_K8_INT_PENDING_MSG:
		return data ? -EINVAL : 0;
	}
	return -ENOENT;
}

/* RDMSR / WRMSR; false if it must go to user space or be refused. */
static bool ringvm_handle_msr_fast(struct ringvm_vcpu *vcpu, bool write)
{
	u32 index = vcpu->gprs[RINGVM_GPR_RCX];
	u64 data;
	int r;

	if (write) {
		data = (u32)vcpu->gprs[RINGVM_GPR_RAX] |
		       (u64)(u32)vcpu->gprs[RINGVM_GPR_RDX] << 32;
		r = ringvm_set_msr(vcpu, index, data);
	} else {
		r = ringvm_get_msr(vcpu, index, &data);
	}
	if (r == -ENOENT && READ_ONCE(vcpu->vm->msr_exit))
		return false;
	if (r) {
		ringvm_inject_gp(vcpu);	/* unknown MSR or bad value */
		return true;
	}
	if (!write) {
		vcpu->gprs[RINGVM_GPR_RAX] = (u32)data;
		vcpu->gprs[RINGVM_GPR_RDX] = data >> 32;
	} else if (unlikely(vcpu->eoi_exit)) {	/* x2APIC EOI, level */
		ringvm_skip(vcpu);
		vcpu->exit.code = RINGVM_HW_EXIT_EOI;
		return false;
	}
	ringvm_skip(vcpu);
	return true;
}

/* Hypercall ABI: uapi/linux/ringvm.h and DESIGN.md "Interfaces". */
static bool ringvm_handle_hypercall_fast(struct ringvm_vcpu *vcpu)
{
	unsigned long *rax = &vcpu->gprs[RINGVM_GPR_RAX];

	if (ringvm_arch->get_reg(vcpu, RINGVM_REG_CPL)) {
		*rax = RINGVM_HC_EPERM;
	} else {
		switch (*rax) {
		case RINGVM_HC_NOP:
			*rax = 0;
			break;
		case RINGVM_HC_API_VERSION:
			*rax = RINGVM_API_VERSION;
			break;
		case RINGVM_HC_VCPU_ID:
			*rax = vcpu->id;
			break;
		default:
			return false;
		}
	}
	ringvm_skip(vcpu);
	return true;
}

void ringvm_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val)
{
	if (dr < 4) {
		vcpu->db[dr] = val;
	} else if (dr == 6) {
		ringvm_arch->set_dr(vcpu, 6, val);
	} else {
		ringvm_arch->set_dr(vcpu, 7, val);
		vcpu->dr_active = val & RINGVM_DR7_ENABLE;
	}
}

/*
 * MOV to or from DRn (Intel SDM Vol. 3B §18.2; DR4/DR5 alias DR6/DR7
 * unless CR4.DE, which makes them #UD).
 */
static void ringvm_mov_dr(struct ringvm_vcpu *vcpu, int dr, int gpr,
			  bool write, unsigned int len)
{
	u64 val;

	if (dr == 4 || dr == 5) {
		if (ringvm_arch->get_reg(vcpu, RINGVM_REG_CR4) & X86_CR4_DE) {
			ringvm_queue_exception(vcpu, X86_TRAP_UD, 0);
			return;
		}
		dr += 2;
	}
	if (write) {
		val = ringvm_read_gpr(vcpu, gpr);
		if ((dr < 4 && !ringvm_canonical(val)) ||
		    (dr >= 6 && val >> 32)) {
			ringvm_inject_gp(vcpu);
			return;
		}
		ringvm_set_dr(vcpu, dr, val);
	} else {
		val = dr < 4 ? vcpu->db[dr] : ringvm_arch->get_dr(vcpu, dr);
		ringvm_write_gpr(vcpu, gpr, val);
	}
	ringvm_arch->skip_instruction(vcpu, len);
}

static void ringvm_handle_xsetbv(struct ringvm_vcpu *vcpu)
{
	u64 xcr0 = (u32)vcpu->gprs[RINGVM_GPR_RAX] |
		   (u64)(u32)vcpu->gprs[RINGVM_GPR_RDX] << 32;

	if ((u32)vcpu->gprs[RINGVM_GPR_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    ringvm_arch->get_reg(vcpu, RINGVM_REG_CPL) ||
	    !ringvm_xcr0_ok(xcr0)) {
		ringvm_inject_gp(vcpu);
		return;
	}
	/* The guest's XCR0 is live in the run loop: change it right away. */
	if (xcr0 != vcpu->xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, xcr0);
	vcpu->xcr0 = xcr0;
	ringvm_skip(vcpu);
}

/*
 * IN from the ACPI PM timer (RINGVM_ENABLE_PM_TIMER): a free-running
 * 24-bit count at 3.579545 MHz (ACPI 6.5 §4.8.3.3) of CLOCK_MONOTONIC,
 * the clock a user-space model of the same timer would read.  It is the
 * reference Linux calibrates the TSC against, reading it between two
 * RDTSCs that must be close together; a trip to user space per read is
 * too slow for that on an emulated CPU.  A narrower IN gets the low
 * bytes, as from the hardware register.
 */
static bool ringvm_handle_pm_timer(struct ringvm_vcpu *vcpu)
{
	struct ringvm_hw_exit *exit = &vcpu->exit;
	u16 port = READ_ONCE(vcpu->vm->pm_timer_port);
	unsigned long *rax = &vcpu->gprs[RINGVM_GPR_RAX];
	u32 ticks;

	if (!port || exit->io.port != port || !exit->io.in ||
	    exit->io.string || !exit->insn_len)
		return false;
	ticks = mul_u64_u32_div(ktime_get_ns(), RINGVM_PM_TIMER_HZ,
				NSEC_PER_SEC) & RINGVM_PM_TIMER_MASK;
	switch (exit->io.size) {
	case 1:
		*rax = (*rax & ~0xffUL) | (u8)ticks;
		break;
	case 2:
		*rax = (*rax & ~0xffffUL) | (u16)ticks;
		break;
	default:
		*rax = ticks;	/* a 32-bit IN zero-extends into RAX */
		break;
	}
	ringvm_skip(vcpu);
	return true;
}

/*
 * A guest access to RAM not mapped yet: allocate and map the page.  With
 * @gfp GFP_NOWAIT this runs in the run loop's preemption-off section
 * (ringvm_handle_fast()) and says -EAGAIN when it would have to sleep;
 * the slow path then does it again with GFP_KERNEL_ACCOUNT.  Either way
 * the fault was counted once, by the fast path, which always sees an
 * exit first.  A VM with RINGVM_VM_LARGE_PAGES gets the whole 2 MiB
 * block where it can (vm.c; only on the slow path), else the 4 KiB page.
 */
static int ringvm_map_ram(struct ringvm_vcpu *vcpu, u64 gpa, gfp_t gfp)
{
	struct ringvm_vm *vm = vcpu->vm;
	struct page *page;

	if (vcpu->npf_repeats > RINGVM_NPF_MAX_REPEATS)
		return -ELOOP;
	if (ringvm_npt_cache_fill(&vcpu->npt_cache, gfp))
		return -EAGAIN;
	if (vm->large_pages) {
		page = ringvm_gpa_block(vm, gpa, gfp);
		if (IS_ERR(page))
			return PTR_ERR(page);	/* -EAGAIN: the slow path */
		/* else (-EBUSY: 4 KiB pages are mapped there) map 4 KiB */
		if (page && !ringvm_npt_map(&vm->npt, &vcpu->npt_cache,
					    gpa & PMD_MASK, page_to_phys(page),
					    RINGVM_NPT_RWX, 2))
			return 0;
	}
	page = ringvm_gpa_page(vm, gpa, gfp);
	if (!page)
		return -EAGAIN;
	if (ringvm_npt_map(&vm->npt, &vcpu->npt_cache, gpa & PAGE_MASK,
			   page_to_phys(page), RINGVM_NPT_RWX, 1))
		return -EEXIST;
	return 0;
}

/*
 * Whether a first touch must take the slow path: on PREEMPT_RT the
 * spinlocks of the page allocator, the xarray and npt->lock sleep, so
 * nothing of it may run with preemption off; and while the memory cgroup
 * is over memory.high, only a charge that may sleep throttles the task
 * (try_charge_memcg() leaves that to one that can block, or to the
 * return to user space, which a vCPU in RINGVM_RUN may not make for a
 * long time).
 */
static bool ringvm_npf_needs_slow(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return true;
#ifdef CONFIG_MEMCG
	if (current->memcg_nr_pages_over_high)
		return true;
#endif
	return false;
}

/*
 * A nested fault in the run loop: a first touch of guest RAM is mapped
 * here when that needs no sleep, without leaving the loop; MMIO and the
 * rest go to the slow path.
 */
static bool ringvm_handle_npf_fast(struct ringvm_vcpu *vcpu)
{
	u64 gpa = vcpu->exit.npf.gpa;
	int r;

	/* for ringvm_handle_npf() too: every NPF comes here first */
	vcpu->exit.npf.ram = ringvm_gpa_is_ram(vcpu->vm, gpa);
	if (!vcpu->exit.npf.ram)
		return false;
	vcpu->nr_npf_ram++;	/* stats.c */
	/* The same page faulting again and again: a mapping that won't do */
	if ((gpa ^ vcpu->last_npf_gpa) >> PAGE_SHIFT)
		vcpu->npf_repeats = 0;
	vcpu->last_npf_gpa = gpa;
	vcpu->npf_repeats++;
	if (ringvm_npf_needs_slow())
		return false;

	r = ringvm_map_ram(vcpu, gpa, GFP_NOWAIT | __GFP_NOWARN);
	if (r)
		return false;
	trace_ringvm_npf(vcpu, 0);
	return true;
}

/* The slow half of ringvm_handle_npf_fast(), preemptible. */
static int ringvm_handle_npf_ram(struct ringvm_vcpu *vcpu, u64 gpa)
{
	int r = ringvm_map_ram(vcpu, gpa, GFP_KERNEL_ACCOUNT);

	if (r)
		return ringvm_internal_error(vcpu, RINGVM_INTERNAL_ERR_MEMORY,
					     gpa);
	return 0;
}

bool ringvm_handle_fast(struct ringvm_vcpu *vcpu)
{
	struct ringvm_hw_exit *exit = &vcpu->exit;

	switch (exit->code) {
	case RINGVM_HW_EXIT_NONE:
		return true;
	case RINGVM_HW_EXIT_CPUID:
		ringvm_handle_cpuid(vcpu);
		return true;
	case RINGVM_HW_EXIT_RDMSR:
		return ringvm_handle_msr_fast(vcpu, false);
	case RINGVM_HW_EXIT_WRMSR:
		return ringvm_handle_msr_fast(vcpu, true);
	case RINGVM_HW_EXIT_HYPERCALL:
		return ringvm_handle_hypercall_fast(vcpu);
	case RINGVM_HW_EXIT_DR:
		if (exit->dr.gpr < 0 || !exit->insn_len)
			return false;	/* needs the decoder */
		ringvm_mov_dr(vcpu, exit->dr.dr, exit->dr.gpr, exit->dr.write,
			      exit->insn_len);
		return true;
	case RINGVM_HW_EXIT_XSETBV:
		ringvm_handle_xsetbv(vcpu);
		return true;
	case RINGVM_HW_EXIT_IO:
		return ringvm_handle_pm_timer(vcpu);
	case RINGVM_HW_EXIT_NPF:
		return ringvm_handle_npf_fast(vcpu);
	default:
		return false;
	}
}

/* 3. Slow handlers (preemptible) */

static enum ringvm_cpu_mode ringvm_cpu_mode(const struct ringvm_code_state *st)
{
	if (!(st->cr0 & X86_CR0_PE))
		return RINGVM_MODE_REAL;
	if ((st->efer & EFER_LMA) && st->cs_l)
		return RINGVM_MODE_LONG64;
	return st->cs_db ? RINGVM_MODE_PROT32 : RINGVM_MODE_PROT16;
}

/* A table entry: 8 bytes, or 4 in 32-bit paging; a constant size is a MOV */
static int ringvm_walk_read(void *opaque, u64 gpa, void *buf,
			    unsigned int size, int level)
{
	if (size == 8)
		return ringvm_vcpu_read_guest(opaque, gpa, buf, 8, level);
	return ringvm_vcpu_read_guest(opaque, gpa, buf, size, level);
}

/* The guest's page walk, as the vCPU's thread makes it (its page cache). */
static void ringvm_walk_ctx(struct ringvm_vcpu *vcpu,
			    const struct ringvm_code_state *st,
			    struct ringvm_walk_ctx *ctx)
{
	ctx->cr0 = st->cr0;
	ctx->cr3 = st->cr3;
	ctx->cr4 = st->cr4;
	ctx->efer = st->efer;
	ctx->read_gpa = ringvm_walk_read;
	ctx->opaque = vcpu;
}

/* The decoded instruction at CS:RIP and the bytes it came from. */
struct ringvm_fetched {
	struct ringvm_code_state st;
	enum ringvm_cpu_mode mode;
	struct ringvm_insn insn;
	u8 bytes[RINGVM_INSN_MAX_LEN];
	unsigned int nr_bytes;
};

/*
 * Read up to 15 bytes at CS:RIP through the guest's page tables: 0, or
 * -EFAULT if not even the first byte is readable RAM.  Reading guest
 * RAM allocates nothing and takes no lock, so this also runs with
 * interrupts off, in a backend's exit handler.  On SVM without NRIP save
 * this runs for every CPUID, RDMSR and hypercall (svm/exit.c), so it
 * asks the backend for only what it needs and reads through the vCPU's
 * page cache: 4 KiB of code and its page tables cost no xarray lookup
 * once seen (README, "Benchmark").
 */
static int ringvm_fetch_bytes(struct ringvm_vcpu *vcpu,
			      struct ringvm_fetched *f)
{
	struct ringvm_walk_ctx ctx;
	u64 la, gpa;
	u32 pferr;

	ringvm_arch->get_code_state(vcpu, &f->st);
	f->mode = ringvm_cpu_mode(&f->st);
	la = f->st.rip;
	if (f->mode != RINGVM_MODE_LONG64)
		la = (u32)(la + f->st.cs_base);
	ringvm_walk_ctx(vcpu, &f->st, &ctx);

	f->nr_bytes = 0;
	while (f->nr_bytes < RINGVM_INSN_MAX_LEN) {
		unsigned int n = min_t(unsigned int,
				       RINGVM_INSN_MAX_LEN - f->nr_bytes,
				       PAGE_SIZE - offset_in_page(la));

		if (ringvm_gva_to_gpa(&ctx, la, RINGVM_WALK_FETCH |
				      (f->st.cpl == 3 ? RINGVM_WALK_USER : 0),
				      &gpa, &pferr) ||
		    ringvm_vcpu_read_guest(vcpu, gpa, f->bytes + f->nr_bytes,
					   n, RINGVM_PAGE_CACHE_DATA))
			break;
		f->nr_bytes += n;
		la += n;
	}
	return f->nr_bytes ? 0 : -EFAULT;
}

/*
 * The instruction at CS:RIP, decoded.  -EFAULT if not even the first
 * byte is readable RAM; otherwise the decoder's answer.
 */
static int ringvm_fetch_insn(struct ringvm_vcpu *vcpu,
			     struct ringvm_fetched *f)
{
	int r = ringvm_fetch_bytes(vcpu, f);

	if (r)
		return r;
	return ringvm_decode_insn(f->bytes, f->nr_bytes, f->mode, &f->insn);
}

/*
 * The length of the instruction at CS:RIP if it is @opcode (@opcode_len
 * bytes, without prefixes), with its prefixes counted; 0 if it cannot
 * be read or is another instruction.  For a backend whose hardware
 * reported an instruction exit without its length (SVM without NRIP
 * save): one page walk and a few bytes compared, nothing allocated, no
 * lock, so it may run in the exit handler with interrupts off.
 */
u8 ringvm_insn_len_at_rip(struct ringvm_vcpu *vcpu, const u8 *opcode,
			  unsigned int opcode_len)
{
	struct ringvm_fetched f;
	int len;

	if (ringvm_fetch_bytes(vcpu, &f))
		return 0;
	len = ringvm_insn_match(f.bytes, f.nr_bytes, f.mode, opcode,
				opcode_len);
	return len > 0 ? len : 0;
}

/*
 * A guest MOV to CR8 that a backend intercepted (svm/exit.c): the TPR's
 * bits 7:4 (Intel SDM Vol. 3A §10.8.6.1), or the #GP of a reserved bit
 * or CPL > 0.  @gpr and @len as the hardware decoded them, or -1 / 0:
 * decoded at CS:RIP here.  -EINVAL, nothing done, if the bytes there are
 * not a MOV to CR8 now (another vCPU rewrote them, or the AMD LOCK MOV
 * CR0 form, which the decoder refuses).  Any context, as
 * ringvm_insn_len_at_rip().
 */
int ringvm_mov_to_cr8(struct ringvm_vcpu *vcpu, int gpr, u8 len)
{
	struct ringvm_fetched f;
	u64 val;

	if (gpr < 0 || !len) {
		if (ringvm_fetch_insn(vcpu, &f) ||
		    f.insn.op != RINGVM_INSN_MOV_CR || f.insn.cr != 8)
			return -EINVAL;
		gpr = f.insn.reg;
		len = f.insn.len;
	} else {
		ringvm_arch->get_code_state(vcpu, &f.st);
		f.mode = ringvm_cpu_mode(&f.st);
	}
	val = ringvm_read_gpr(vcpu, gpr);
	/* outside 64-bit mode (AMD's LOCK MOV CR0) the operand is 32 bits */
	if (f.mode != RINGVM_MODE_LONG64)
		val = (u32)val;
	if ((val >> 4) || ringvm_arch->get_reg(vcpu, RINGVM_REG_CPL)) {
		ringvm_inject_gp(vcpu);
		return 0;
	}
	ringvm_arch->set_reg(vcpu, RINGVM_REG_CR8, val);
	ringvm_arch->skip_instruction(vcpu, len);
	return 0;
}

static int ringvm_emulation_exit(struct ringvm_vcpu *vcpu,
				 const struct ringvm_fetched *f, u64 gpa)
{
	struct ringvm_run *run = vcpu->run;

	ringvm_clear_exit_data(vcpu);
	run->emulation.gpa = gpa;
	run->emulation.insn_len = f->nr_bytes;
	memcpy(run->emulation.insn, f->bytes, f->nr_bytes);
	ringvm_user_exit(vcpu, RINGVM_EXIT_EMULATION);
	return 1;
}

/*
 * The guest's EOI of a level-triggered vector (lapic.c), once the
 * instruction is done: user space's I/O APIC clears its remote IRR.
 */
static int ringvm_eoi_exit(struct ringvm_vcpu *vcpu)
{
	ringvm_clear_exit_data(vcpu);
	vcpu->run->eoi.vector = vcpu->eoi_vector;
	vcpu->eoi_exit = false;
	ringvm_user_exit(vcpu, RINGVM_EXIT_EOI);
	return 1;
}

/* A decoded access to the xAPIC page, handled here (lapic.c). */
static int ringvm_lapic_mmio(struct ringvm_vcpu *vcpu, u64 gpa,
			     const struct ringvm_insn *insn)
{
	u64 val, old;

	if (insn->op == RINGVM_INSN_LOAD) {
		val = ringvm_lapic_mmio_read(vcpu, gpa, insn->access_size);
		old = ringvm_read_gpr(vcpu, insn->reg);
		ringvm_write_gpr(vcpu, insn->reg,
				 ringvm_insn_load_result(insn, old, val));
	} else {
		val = insn->op == RINGVM_INSN_STORE ?
		      ringvm_read_gpr(vcpu, insn->reg) : 0;
		ringvm_lapic_mmio_write(vcpu, gpa, insn->access_size,
					ringvm_insn_store_value(insn, val));
	}
	ringvm_arch->skip_instruction(vcpu, insn->len);
	return vcpu->eoi_exit ? ringvm_eoi_exit(vcpu) : 0;
}

/* A guest access outside RAM: decode it and hand it to user space. */
static int ringvm_handle_mmio(struct ringvm_vcpu *vcpu, u64 gpa)
{
	struct ringvm_run *run = vcpu->run;
	struct ringvm_fetched f;
	u64 val;
	int r;

	/*
	 * Executing from MMIO, an IDT, GDT or stack outside RAM met while
	 * delivering an event, or guest page tables outside RAM: no
	 * instruction at RIP made this access, there is nothing to decode.
	 */
	if (vcpu->exit.npf.fetch)
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_INSN_FETCH, gpa);
	if (vcpu->exit.npf.in_delivery || vcpu->exit.npf.walk)
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_NO_INSN, gpa);
	r = ringvm_fetch_insn(vcpu, &f);
	if (r == -EFAULT)
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_INSN_FETCH, gpa);
	if (r || (f.insn.op != RINGVM_INSN_LOAD &&
		  f.insn.op != RINGVM_INSN_STORE &&
		  f.insn.op != RINGVM_INSN_STORE_IMM))
		return ringvm_emulation_exit(vcpu, &f, gpa);

	if (ringvm_lapic_mmio_owns(vcpu, gpa))
		return ringvm_lapic_mmio(vcpu, gpa, &f.insn);

	ringvm_clear_exit_data(vcpu);
	run->mmio.gpa = gpa;
	run->mmio.len = f.insn.access_size;
	if (f.insn.op == RINGVM_INSN_LOAD) {
		vcpu->pending = RINGVM_PENDING_MMIO_READ;
		vcpu->pending_insn = f.insn;
	} else {
		val = f.insn.op == RINGVM_INSN_STORE ?
		      ringvm_read_gpr(vcpu, f.insn.reg) : 0;
		val = ringvm_insn_store_value(&f.insn, val);
		memcpy(run->mmio.data, &val, f.insn.access_size);
		run->mmio.is_write = 1;
	}
	ringvm_arch->skip_instruction(vcpu, f.insn.len);
	ringvm_user_exit(vcpu, RINGVM_EXIT_MMIO);
	return 1;
}

static int ringvm_handle_npf(struct ringvm_vcpu *vcpu)
{
	u64 gpa = vcpu->exit.npf.gpa;
	int r;

	if (vcpu->exit.npf.ram)		/* ringvm_handle_npf_fast() */
		r = ringvm_handle_npf_ram(vcpu, gpa);
	else
		r = ringvm_handle_mmio(vcpu, gpa);
	trace_ringvm_npf(vcpu, r);
	return r;
}

static u64 ringvm_addr_mask(unsigned int addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/* Write @val into the low @addr_size bytes of a register, as hardware. */
static u64 ringvm_merge_addr(u64 old, u64 val, unsigned int addr_size)
{
	if (addr_size == 2)
		return (old & ~0xffffULL) | (val & 0xffff);
	return addr_size == 4 ? (u32)val : val;
}

/* The segment register an INS/OUTS operand uses. */
static const struct ringvm_segment *
ringvm_string_seg(const struct ringvm_fetched *f,
		  const struct ringvm_sregs *sregs)
{
	switch (f->insn.write ? f->insn.seg : RINGVM_SEG_ES) {
	case RINGVM_SEG_CS:
		return &sregs->cs;
	case RINGVM_SEG_SS:
		return &sregs->ss;
	case RINGVM_SEG_DS:
		return &sregs->ds;
	case RINGVM_SEG_FS:
		return &sregs->fs;
	case RINGVM_SEG_GS:
		return &sregs->gs;
	default:
		return &sregs->es;
	}
}

/*
 * The linear address of @size bytes at offset @off of @seg, with the
 * checks the processor makes on a string operand after the I/O exit
 * (Intel SDM Vol. 3A §5.3 and §5.4.1, Vol. 2 "INS", "OUTS"): in 64-bit
 * mode a canonical address (only FS and GS have a base); elsewhere a
 * usable segment of the right kind (INS writes: writable data; OUTS
 * reads: not an execute-only code segment) and the whole operand inside
 * its limit, expand-down segments included.  False: #GP(0), or #SS(0)
 * for SS.
 */
static bool ringvm_string_la(const struct ringvm_fetched *f,
			     const struct ringvm_sregs *sregs,
			     const struct ringvm_segment *seg, u64 off,
			     unsigned int size, u64 *la)
{
	bool code = seg->type & BIT(3), bit1 = seg->type & BIT(1);
	u64 last = off + size - 1, top;

	if (f->mode == RINGVM_MODE_LONG64) {
		*la = off;
		if (seg == &sregs->fs || seg == &sregs->gs)
			*la += seg->base;
		return ringvm_canonical(*la) && ringvm_canonical(*la + size - 1);
	}
	if (f->mode != RINGVM_MODE_REAL &&
	    (seg->unusable || !seg->present || !seg->s ||
	     (f->insn.write ? code && !bit1 : code || !bit1)))
		return false;
	if (!code && (seg->type & BIT(2))) {	/* expand-down */
		top = seg->db ? U32_MAX : U16_MAX;
		if (off <= seg->limit || last > top)
			return false;
	} else if (last > seg->limit) {
		return false;
	}
	*la = (u32)(seg->base + off);
	return true;
}

/*
 * Where an element at @la lies in guest-physical memory, split where it
 * crosses a page: each page through the guest's page walk, each piece
 * RAM.  0; -EFAULT with the guest's #PF or #GP queued; or 1 with an
 * internal-error exit to user space filled in when a piece is not RAM
 * or the walk cannot be made.
 */
static int ringvm_string_gpas(struct ringvm_vcpu *vcpu,
			      const struct ringvm_fetched *f, u64 la,
			      unsigned int size, u64 gpa[2], u8 *split)
{
	unsigned int access = (f->insn.write ? 0 : RINGVM_WALK_WRITE) |
			      (f->st.cpl == 3 ? RINGVM_WALK_USER : 0);
	struct ringvm_walk_ctx ctx;
	unsigned int i, n = 1;
	u64 piece_la[2];
	u32 pferr;
	int r;

	*split = min_t(unsigned int, size, PAGE_SIZE - offset_in_page(la));
	piece_la[0] = la;
	if (*split < size) {
		piece_la[1] = la + *split;
		if (f->mode != RINGVM_MODE_LONG64)
			piece_la[1] = (u32)piece_la[1];
		n = 2;
	}
	gpa[1] = 0;
	ringvm_walk_ctx(vcpu, &f->st, &ctx);
	for (i = 0; i < n; i++) {
		r = ringvm_gva_to_gpa(&ctx, piece_la[i], access, &gpa[i],
				      &pferr);
		if (r == -EFAULT) {
			ringvm_queue_page_fault(vcpu, piece_la[i], pferr);
			return -EFAULT;
		}
		if (r == -EINVAL) {		/* non-canonical */
			ringvm_queue_exception(vcpu, X86_TRAP_GP, 0);
			return -EFAULT;
		}
		if (r || !ringvm_gpa_is_ram(vcpu->vm, gpa[i]))
			return ringvm_internal_error(vcpu,
					RINGVM_INTERNAL_ERR_MEMORY, piece_la[i]);
	}
	return 0;
}

/*
 * INS / OUTS: one element per exit.  The element is checked whole
 * before anything moves: a segment or canonical violation is #GP (#SS
 * for SS), a page the walk refuses is #PF with CR2, and an element not
 * all in RAM is an INTERNAL_ERROR exit, with the registers untouched in
 * each case.  Then the registers move on; RIP moves past the instruction
 * only when the count runs out, so a REP form re-executes (Intel SDM
 * Vol. 2 "REP" and "INS"/"OUTS").
 */
static int ringvm_handle_string_io(struct ringvm_vcpu *vcpu)
{
	struct ringvm_hw_exit *exit = &vcpu->exit;
	struct ringvm_run *run = vcpu->run;
	const struct ringvm_segment *seg;
	struct ringvm_sregs sregs;
	struct ringvm_fetched f;
	int idx, r, size = exit->io.size;
	u64 mask, la, gpa[2], rflags;
	u8 split;

	r = ringvm_fetch_insn(vcpu, &f);
	if (r == -EFAULT)
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_INSN_FETCH, 0);
	if (r || f.insn.op != RINGVM_INSN_STRING_IO)
		return ringvm_emulation_exit(vcpu, &f, 0);

	mask = ringvm_addr_mask(f.insn.addr_size);
	if (f.insn.rep && !(vcpu->gprs[RINGVM_GPR_RCX] & mask)) {
		ringvm_arch->skip_instruction(vcpu, f.insn.len);
		return 0;	/* REP with a zero count does nothing */
	}

	/* OUTS reads DS:rSI (overridable), INS writes ES:rDI (fixed). */
	idx = f.insn.write ? RINGVM_GPR_RSI : RINGVM_GPR_RDI;
	ringvm_arch->get_sregs(vcpu, &sregs);
	seg = ringvm_string_seg(&f, &sregs);
	if (!ringvm_string_la(&f, &sregs, seg, vcpu->gprs[idx] & mask, size,
			      &la)) {
		ringvm_queue_exception(vcpu, seg == &sregs.ss ?
				       X86_TRAP_SS : X86_TRAP_GP, 0);
		return 0;
	}
	r = ringvm_string_gpas(vcpu, &f, la, size, gpa, &split);
	if (r)
		return r < 0 ? 0 : r;	/* the guest's fault, or user space */

	ringvm_clear_exit_data(vcpu);
	run->io.direction = f.insn.write ? RINGVM_IO_OUT : RINGVM_IO_IN;
	run->io.size = size;
	run->io.port = exit->io.port;
	run->io.count = 1;
	run->io.data_offset = RINGVM_RUN_DATA_OFFSET;
	if (f.insn.write) {
		u8 *data = (u8 *)run + RINGVM_RUN_DATA_OFFSET;

		if (ringvm_read_guest(vcpu->vm, gpa[0], data, split) ||
		    (split < size &&
		     ringvm_read_guest(vcpu->vm, gpa[1], data + split,
				       size - split)))
			return ringvm_internal_error(vcpu,
					RINGVM_INTERNAL_ERR_MEMORY, gpa[0]);
	} else {
		vcpu->pending = RINGVM_PENDING_IO_IN;
		vcpu->pending_size = size;
		vcpu->pending_string = true;
		vcpu->pending_gpa[0] = gpa[0];
		vcpu->pending_gpa[1] = gpa[1];
		vcpu->pending_split = split;
	}

	rflags = ringvm_arch->get_reg(vcpu, RINGVM_REG_RFLAGS);
	vcpu->gprs[idx] = ringvm_merge_addr(vcpu->gprs[idx], vcpu->gprs[idx] +
					    (rflags & X86_EFLAGS_DF ? -size :
					     size), f.insn.addr_size);
	if (f.insn.rep)
		vcpu->gprs[RINGVM_GPR_RCX] =
			ringvm_merge_addr(vcpu->gprs[RINGVM_GPR_RCX],
					  vcpu->gprs[RINGVM_GPR_RCX] - 1,
					  f.insn.addr_size);
	if (!f.insn.rep || !(vcpu->gprs[RINGVM_GPR_RCX] & mask))
		ringvm_arch->skip_instruction(vcpu, f.insn.len);
	ringvm_user_exit(vcpu, RINGVM_EXIT_IO);
	return 1;
}

static int ringvm_handle_io(struct ringvm_vcpu *vcpu)
{
	struct ringvm_hw_exit *exit = &vcpu->exit;
	struct ringvm_run *run = vcpu->run;

	if (exit->io.string)
		return ringvm_handle_string_io(vcpu);
	if (!exit->insn_len)	/* both backends always know it */
		return ringvm_internal_error(vcpu,
				RINGVM_INTERNAL_ERR_UNEXPECTED_EXIT, 0);

	ringvm_clear_exit_data(vcpu);
	run->io.direction = exit->io.in ? RINGVM_IO_IN : RINGVM_IO_OUT;
	run->io.size = exit->io.size;
	run->io.port = exit->io.port;
	run->io.count = 1;
	run->io.data_offset = RINGVM_RUN_DATA_OFFSET;
	if (exit->io.in) {
		vcpu->pending = RINGVM_PENDING_IO_IN;
		vcpu->pending_size = exit->io.size;
		vcpu->pending_string = false;
	} else {
		memcpy((u8 *)run + RINGVM_RUN_DATA_OFFSET,
		       &vcpu->gprs[RINGVM_GPR_RAX], exit->io.size);
	}
	ringvm_skip(vcpu);
	ringvm_user_exit(vcpu, RINGVM_EXIT_IO);
	return 1;
}

/* An MSR nobody in the kernel holds, with RINGVM_ENABLE_MSR_EXIT on. */
static int ringvm_handle_msr_user(struct ringvm_vcpu *vcpu, bool write)
{
	struct ringvm_run *run = vcpu->run;

	ringvm_clear_exit_data(vcpu);
	run->msr.index = vcpu->gprs[RINGVM_GPR_RCX];
	run->msr.is_write = write;
	if (write)
		run->msr.data = (u32)vcpu->gprs[RINGVM_GPR_RAX] |
				(u64)(u32)vcpu->gprs[RINGVM_GPR_RDX] << 32;
	vcpu->pending = write ? RINGVM_PENDING_MSR_WRITE :
				RINGVM_PENDING_MSR_READ;
	vcpu->pending_insn_len = vcpu->exit.insn_len;
	ringvm_user_exit(vcpu, RINGVM_EXIT_MSR);
	return 1;
}

static int ringvm_handle_hypercall_user(struct ringvm_vcpu *vcpu)
{
	struct ringvm_run *run = vcpu->run;

	ringvm_clear_exit_data(vcpu);
	run->hypercall.nr = vcpu->gprs[RINGVM_GPR_RAX];
	run->hypercall.args[0] = vcpu->gprs[RINGVM_GPR_RBX];
	run->hypercall.args[1] = vcpu->gprs[RINGVM_GPR_RCX];
	run->hypercall.args[2] = vcpu->gprs[RINGVM_GPR_RDX];
	run->hypercall.args[3] = vcpu->gprs[RINGVM_GPR_RSI];
	vcpu->pending = RINGVM_PENDING_HYPERCALL;
	ringvm_skip(vcpu);
	ringvm_user_exit(vcpu, RINGVM_EXIT_HYPERCALL);
	return 1;
}

/* MOV DR whose register the hardware did not say (SVM, no decode assist) */
static int ringvm_handle_dr_decode(struct ringvm_vcpu *vcpu)
{
	struct ringvm_fetched f;
	int r;

	r = ringvm_fetch_insn(vcpu, &f);
	if (r == -EFAULT)
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_INSN_FETCH, 0);
	if (r || f.insn.op != RINGVM_INSN_MOV_DR)
		return ringvm_emulation_exit(vcpu, &f, 0);
	ringvm_mov_dr(vcpu, f.insn.dr, f.insn.reg, f.insn.write, f.insn.len);
	return 0;
}

/*
 * An instruction exit whose length neither the hardware nor the bytes at
 * CS:RIP gave (SVM without NRIP save, svm/exit.c): they could not be
 * read, or are not that instruction any more - another vCPU or user
 * space rewrote the code or the guest's page tables after the exit.
 * Skipping a guessed length would put the guest inside an instruction,
 * so nothing is done: no result, RIP at the instruction, the guest state
 * as the exit left it.  User space gets an EMULATION exit with the
 * bytes there now (gpa 0, as for a MOV DR the decoder refuses), or an
 * INTERNAL_ERROR with RINGVM_INTERNAL_ERR_INSN_FETCH if none can be
 * read; run->hw says which instruction exited.  RUN again executes
 * whatever is at RIP then.
 */
static int ringvm_handle_no_insn_len(struct ringvm_vcpu *vcpu)
{
	struct ringvm_fetched f;

	if (ringvm_fetch_bytes(vcpu, &f))
		return ringvm_internal_error(vcpu,
					     RINGVM_INTERNAL_ERR_INSN_FETCH, 0);
	return ringvm_emulation_exit(vcpu, &f, 0);
}

int ringvm_handle_slow(struct ringvm_vcpu *vcpu)
{
	struct ringvm_hw_exit *exit = &vcpu->exit;
	struct ringvm_run *run = vcpu->run;

	switch (exit->code) {
	case RINGVM_HW_EXIT_NONE:
		return 0;
	case RINGVM_HW_EXIT_NPF:
		return ringvm_handle_npf(vcpu);
	case RINGVM_HW_EXIT_IO:
		return ringvm_handle_io(vcpu);
	case RINGVM_HW_EXIT_HLT:
		ringvm_clear_exit_data(vcpu);
		ringvm_skip(vcpu);
		if (vcpu->apic) {		/* blocks in run.c */
			if (!ringvm_lapic_halt(vcpu))
				return 0;
			ringvm_user_exit(vcpu, RINGVM_EXIT_HLT);
			return 1;
		}
		if (ringvm_event_wakes_hlt(vcpu))
			return 0;
		ringvm_user_exit(vcpu, RINGVM_EXIT_HLT);
		return 1;
	case RINGVM_HW_EXIT_RDMSR:
	case RINGVM_HW_EXIT_WRMSR:
		return ringvm_handle_msr_user(vcpu,
					exit->code == RINGVM_HW_EXIT_WRMSR);
	case RINGVM_HW_EXIT_HYPERCALL:
		return ringvm_handle_hypercall_user(vcpu);
	case RINGVM_HW_EXIT_DR:
		return ringvm_handle_dr_decode(vcpu);
	case RINGVM_HW_EXIT_NO_INSN_LEN:
		return ringvm_handle_no_insn_len(vcpu);
	case RINGVM_HW_EXIT_SHUTDOWN:
		ringvm_clear_exit_data(vcpu);
		vcpu->shutdown = true;
		ringvm_user_exit(vcpu, RINGVM_EXIT_SHUTDOWN);
		ringvm_nl_vm_event(vcpu->vm, RINGVM_VM_EVENT_SHUTDOWN);
		return 1;
	case RINGVM_HW_EXIT_IRQ_WINDOW:
		ringvm_clear_exit_data(vcpu);
		ringvm_user_exit(vcpu, RINGVM_EXIT_IRQ_WINDOW);
		return 1;
	case RINGVM_HW_EXIT_NMI_WINDOW:
		ringvm_clear_exit_data(vcpu);
		ringvm_user_exit(vcpu, RINGVM_EXIT_NMI_WINDOW);
		return 1;
	case RINGVM_HW_EXIT_EOI:
		return ringvm_eoi_exit(vcpu);
	case RINGVM_HW_EXIT_FAIL_ENTRY:
		ringvm_clear_exit_data(vcpu);
		run->fail_entry.hardware_entry_failure_reason = exit->fail.reason;
		run->fail_entry.cpu = vcpu->last_cpu;
		ringvm_user_exit(vcpu, RINGVM_EXIT_FAIL_ENTRY);
		ringvm_nl_vm_event(vcpu->vm, RINGVM_VM_EVENT_FAIL_ENTRY);
		return 1;
	default:
		ringvm_clear_exit_data(vcpu);
		ringvm_user_exit(vcpu, RINGVM_EXIT_UNKNOWN);
		return 1;
	}
}

/*
 * The exits whose slow handling cannot sleep, handled by run.c before it
 * gives the vCPU up (preemption off, interrupts on) where the backend
 * says ringvm_arch->state_needs_load (VMX): port I/O that is not a
 * string, HLT, an MSR or a hypercall for user space, an MMIO access, a
 * window, a level EOI, nothing.  The backend's state hooks then find the
 * vCPU loaded; from the slow path proper, the RIP skip, RUN's rip and
 * the interrupt state would each borrow it (on VMX preemption off and
 * the parked VMCS taken and parked again, vmx/vcpu.c: cheap on the same
 * CPU, but not free).  True with ringvm_handle_slow()'s answer in *@r;
 * false: that exit is the slow path's.
 */
bool ringvm_handle_slow_loaded(struct ringvm_vcpu *vcpu, int *r)
{
	const struct ringvm_hw_exit *exit = &vcpu->exit;

	switch (exit->code) {
	case RINGVM_HW_EXIT_IO:
		if (exit->io.string)	/* INS completion writes RAM */
			return false;
		break;
	case RINGVM_HW_EXIT_NPF:
		if (exit->npf.ram)	/* may allocate and sleep */
			return false;
		break;
	case RINGVM_HW_EXIT_NONE:
	case RINGVM_HW_EXIT_HLT:
	case RINGVM_HW_EXIT_RDMSR:
	case RINGVM_HW_EXIT_WRMSR:
	case RINGVM_HW_EXIT_HYPERCALL:
	case RINGVM_HW_EXIT_IRQ_WINDOW:
	case RINGVM_HW_EXIT_NMI_WINDOW:
	case RINGVM_HW_EXIT_EOI:
		break;
	default:		/* netlink events, the decoder's EMULATION */
		return false;
	}
	*r = ringvm_handle_slow(vcpu);
	return true;
}

/* 4. Completion of the previous exit, before the next entry */

/*
 * The element of an INS, into the one or two pieces of RAM found at the
 * exit.  They were RAM then and regions never change, so only a failed
 * page allocation can stop it: an internal-error exit, not an errno.
 */
static int ringvm_complete_ins(struct ringvm_vcpu *vcpu, u64 data)
{
	unsigned int split = vcpu->pending_split;
	u8 *bytes = (u8 *)&data;

	if (ringvm_write_guest(vcpu->vm, vcpu->pending_gpa[0], bytes,
			       split) ||
	    (split < vcpu->pending_size &&
	     ringvm_write_guest(vcpu->vm, vcpu->pending_gpa[1], bytes + split,
				vcpu->pending_size - split)))
		return ringvm_internal_error(vcpu, RINGVM_INTERNAL_ERR_MEMORY,
					     vcpu->pending_gpa[0]);
	return 0;
}

int ringvm_complete_pending(struct ringvm_vcpu *vcpu)
{
	struct ringvm_run *run = vcpu->run;
	u64 data = 0, old;
	u32 pending = vcpu->pending;

	vcpu->pending = RINGVM_PENDING_NONE;
	switch (pending) {
	case RINGVM_PENDING_IO_IN:
		memcpy(&data, (u8 *)run + RINGVM_RUN_DATA_OFFSET,
		       vcpu->pending_size);
		if (vcpu->pending_string)
			return ringvm_complete_ins(vcpu, data);
		old = vcpu->gprs[RINGVM_GPR_RAX];
		if (vcpu->pending_size == 4)
			vcpu->gprs[RINGVM_GPR_RAX] = (u32)data;
		else if (vcpu->pending_size == 2)
			vcpu->gprs[RINGVM_GPR_RAX] = (old & ~0xffffULL) |
						     (data & 0xffff);
		else
			vcpu->gprs[RINGVM_GPR_RAX] = (old & ~0xffULL) |
						     (data & 0xff);
		break;
	case RINGVM_PENDING_MMIO_READ:
		memcpy(&data, run->mmio.data, vcpu->pending_insn.access_size);
		old = ringvm_read_gpr(vcpu, vcpu->pending_insn.reg);
		ringvm_write_gpr(vcpu, vcpu->pending_insn.reg,
				 ringvm_insn_load_result(&vcpu->pending_insn,
							 old, data));
		break;
	case RINGVM_PENDING_MSR_READ:
	case RINGVM_PENDING_MSR_WRITE:
		if (run->msr.error) {
			ringvm_inject_gp(vcpu);
			break;
		}
		if (pending == RINGVM_PENDING_MSR_READ) {
			vcpu->gprs[RINGVM_GPR_RAX] = (u32)run->msr.data;
			vcpu->gprs[RINGVM_GPR_RDX] = run->msr.data >> 32;
		}
		ringvm_arch->skip_instruction(vcpu, vcpu->pending_insn_len);
		break;
	case RINGVM_PENDING_HYPERCALL:
		vcpu->gprs[RINGVM_GPR_RAX] = run->hypercall.ret;
		break;
	}
	return 0;
}
