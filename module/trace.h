/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ringvm: trace events, for perf, trace-cmd, bpftrace and tracefs
 * (events/ringvm/ under /sys/kernel/tracing).  Each is a static key
 * until someone enables it: a disabled event costs a NOP in the code.
 *
 *  1. VMs and vCPUs: ringvm_vm_create, ringvm_vm_destroy,
 *     ringvm_vcpu_create, ringvm_vcpu_destroy (vm.c, vcpu.c)
 *  2. the run loop: ringvm_inj_event, ringvm_entry, ringvm_exit,
 *     ringvm_userspace_exit (run.c, exit.c)
 *  3. nested page faults: ringvm_npf (exit.c)
 *
 * Every event of a vCPU carries the VM's id and the vCPU's, so that one
 * guest can be picked out of many with a filter ("vm == 3").  Printed
 * as "key value" pairs; module/README has the fields.
 *
 * The macros that make the enums' names readable to perf and
 * trace-cmd (TRACE_DEFINE_ENUM) follow include/trace/events/.  Only
 * run.c defines CREATE_TRACE_POINTS.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ringvm

#if !defined(RINGVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define RINGVM_TRACE_H

#include <linux/tracepoint.h>

#include "vm.h"

/* What ringvm_npf says of the fault, once handled. */
#define RINGVM_NPF_MAPPED	0	/* RAM: a page mapped, guest resumes */
#define RINGVM_NPF_MMIO		1	/* decoded: an MMIO exit */
#define RINGVM_NPF_EMULATION	2	/* not decoded: an EMULATION exit */
#define RINGVM_NPF_ERROR	3	/* INTERNAL_ERROR exit, or -errno */

/* The access of a nested page fault (plain numbers for the format file) */
#define RINGVM_NPF_ACC_READ	0x1
#define RINGVM_NPF_ACC_WRITE	0x2
#define RINGVM_NPF_ACC_FETCH	0x4
#define RINGVM_NPF_ACC_WALK	0x8	/* the guest's page-table walk */
#define RINGVM_NPF_ACC_DELIVERY	0x10	/* while delivering an event */

/*
 * The enums' values, for the format files: perf and trace-cmd read the
 * __print_symbolic() tables there with numbers, not the names.
 */
TRACE_DEFINE_ENUM(RINGVM_ARCH_VMX);
TRACE_DEFINE_ENUM(RINGVM_ARCH_SVM);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_NONE);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_CPUID);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_HLT);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_IO);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_NPF);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_RDMSR);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_WRMSR);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_HYPERCALL);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_DR);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_XSETBV);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_SHUTDOWN);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_FAIL_ENTRY);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_UNHANDLED);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_IRQ_WINDOW);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_NMI_WINDOW);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_EOI);
TRACE_DEFINE_ENUM(RINGVM_HW_EXIT_NO_INSN_LEN);
TRACE_DEFINE_ENUM(RINGVM_EXIT_UNKNOWN);
TRACE_DEFINE_ENUM(RINGVM_EXIT_IO);
TRACE_DEFINE_ENUM(RINGVM_EXIT_MMIO);
TRACE_DEFINE_ENUM(RINGVM_EXIT_HLT);
TRACE_DEFINE_ENUM(RINGVM_EXIT_HYPERCALL);
TRACE_DEFINE_ENUM(RINGVM_EXIT_MSR);
TRACE_DEFINE_ENUM(RINGVM_EXIT_SHUTDOWN);
TRACE_DEFINE_ENUM(RINGVM_EXIT_FAIL_ENTRY);
TRACE_DEFINE_ENUM(RINGVM_EXIT_INTR);
TRACE_DEFINE_ENUM(RINGVM_EXIT_EMULATION);
TRACE_DEFINE_ENUM(RINGVM_EXIT_DESTROYED);
TRACE_DEFINE_ENUM(RINGVM_EXIT_INTERNAL_ERROR);
TRACE_DEFINE_ENUM(RINGVM_EXIT_IRQ_WINDOW);
TRACE_DEFINE_ENUM(RINGVM_EXIT_NMI_WINDOW);
TRACE_DEFINE_ENUM(RINGVM_EXIT_EOI);
TRACE_DEFINE_ENUM(RINGVM_EVENT_INTR);
TRACE_DEFINE_ENUM(RINGVM_EVENT_NMI);
TRACE_DEFINE_ENUM(RINGVM_EVENT_EXCEPTION);
TRACE_DEFINE_ENUM(RINGVM_EVENT_SOFT_INTR);
TRACE_DEFINE_ENUM(RINGVM_EVENT_PRIV_SOFT_EXCEPTION);
TRACE_DEFINE_ENUM(RINGVM_EVENT_SOFT_EXCEPTION);

/* 1. VMs and vCPUs */

TRACE_EVENT(ringvm_vm_create,
	TP_PROTO(const struct ringvm_vm *vm),
	TP_ARGS(vm),

	TP_STRUCT__entry(
		__field(u32, vm)
		__array(char, name, RINGVM_NAME_MAX)
		__field(u32, max_vcpus)
		__field(u64, mem)
	),

	TP_fast_assign(
		u32 i;

		__entry->vm = vm->id;
		memcpy(__entry->name, vm->name, RINGVM_NAME_MAX);
		__entry->max_vcpus = vm->max_vcpus;
		__entry->mem = 0;
		for (i = 0; i < vm->nr_regions; i++)
			__entry->mem += vm->regions[i].size;
	),

	TP_printk("vm %u name %s max_vcpus %u mem 0x%llx",
		  __entry->vm, __entry->name, __entry->max_vcpus,
		  __entry->mem)
);

TRACE_EVENT(ringvm_vm_destroy,
	TP_PROTO(const struct ringvm_vm *vm),
	TP_ARGS(vm),

	TP_STRUCT__entry(
		__field(u32, vm)
		__array(char, name, RINGVM_NAME_MAX)
		__field(u64, mem_allocated)
	),

	TP_fast_assign(
		__entry->vm = vm->id;
		memcpy(__entry->name, vm->name, RINGVM_NAME_MAX);
		__entry->mem_allocated =
			(u64)atomic_long_read(&vm->nr_pages) << PAGE_SHIFT;
	),

	TP_printk("vm %u name %s mem_allocated 0x%llx",
		  __entry->vm, __entry->name, __entry->mem_allocated)
);

DECLARE_EVENT_CLASS(ringvm_vcpu_class,
	TP_PROTO(const struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u64, exits)
		__field(u64, user_exits)
	),

	TP_fast_assign(
		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->exits = vcpu->nr_exits;
		__entry->user_exits = vcpu->nr_user_exits;
	),

	TP_printk("vm %u vcpu %u exits %llu user_exits %llu",
		  __entry->vm, __entry->vcpu, __entry->exits,
		  __entry->user_exits)
);

DEFINE_EVENT(ringvm_vcpu_class, ringvm_vcpu_create,
	TP_PROTO(const struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu)
);

DEFINE_EVENT(ringvm_vcpu_class, ringvm_vcpu_destroy,
	TP_PROTO(const struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu)
);

/* 2. The run loop */

/* Right before the backend enters the guest; interrupts are off. */
TRACE_EVENT(ringvm_entry,
	TP_PROTO(struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->rip = ringvm_arch->get_reg(vcpu, RINGVM_REG_RIP);
	),

	TP_printk("vm %u vcpu %u rip 0x%llx",
		  __entry->vm, __entry->vcpu, __entry->rip)
);

/*
 * The event this entry delivers (vcpu->event), when there is one: the
 * backend writes it into the VM-entry fields right after.
 */
TRACE_EVENT_CONDITION(ringvm_inj_event,
	TP_PROTO(const struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_CONDITION(vcpu->event.valid),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u8, type)
		__field(u8, vector)
		__field(u8, has_error)
		__field(u32, error_code)
	),

	TP_fast_assign(
		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->type = vcpu->event.type;
		__entry->vector = vcpu->event.vector;
		__entry->has_error = vcpu->event.has_error;
		__entry->error_code = vcpu->event.error_code;
	),

	TP_printk("vm %u vcpu %u type %s vector %u has_error %u error_code 0x%x",
		  __entry->vm, __entry->vcpu,
		  __print_symbolic(__entry->type,
				   { RINGVM_EVENT_INTR, "intr" },
				   { RINGVM_EVENT_NMI, "nmi" },
				   { RINGVM_EVENT_EXCEPTION, "exception" },
				   { RINGVM_EVENT_SOFT_INTR, "soft_intr" },
				   { RINGVM_EVENT_PRIV_SOFT_EXCEPTION, "priv_soft_exc" },
				   { RINGVM_EVENT_SOFT_EXCEPTION, "soft_exc" }),
		  __entry->vector, __entry->has_error, __entry->error_code)
);

/*
 * Every exit from the guest, as the backend translated it: the
 * vendor-neutral code the core acts on and the vendor's raw words
 * (struct ringvm_exit_hw: VMX basic exit reason, qualification,
 * interruption info, instruction error; SVM EXITCODE, EXITINFO1,
 * EXITINFO2, EXITINTINFO).
 */
TRACE_EVENT(ringvm_exit,
	TP_PROTO(struct ringvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u32, reason)
		__field(u32, arch)
		__field(u32, hw_reason)
		__field(u64, rip)
		__field(u64, qual)
		__field(u64, info1)
		__field(u64, info2)
		__field(u64, gpa)
	),

	TP_fast_assign(
		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->reason = vcpu->exit.code;
		__entry->arch = vcpu->exit.raw.arch;
		__entry->hw_reason = vcpu->exit.raw.reason;
		__entry->rip = ringvm_arch->get_reg(vcpu, RINGVM_REG_RIP);
		__entry->qual = vcpu->exit.raw.qualification;
		__entry->info1 = vcpu->exit.raw.info1;
		__entry->info2 = vcpu->exit.raw.info2;
		__entry->gpa = vcpu->exit.raw.gpa;
	),

	TP_printk("vm %u vcpu %u reason %s arch %s hw_reason 0x%x rip 0x%llx qual 0x%llx info1 0x%llx info2 0x%llx gpa 0x%llx",
		  __entry->vm, __entry->vcpu,
		  __print_symbolic(__entry->reason,
				   { RINGVM_HW_EXIT_NONE, "none" },
				   { RINGVM_HW_EXIT_CPUID, "cpuid" },
				   { RINGVM_HW_EXIT_HLT, "hlt" },
				   { RINGVM_HW_EXIT_IO, "io" },
				   { RINGVM_HW_EXIT_NPF, "npf" },
				   { RINGVM_HW_EXIT_RDMSR, "rdmsr" },
				   { RINGVM_HW_EXIT_WRMSR, "wrmsr" },
				   { RINGVM_HW_EXIT_HYPERCALL, "hypercall" },
				   { RINGVM_HW_EXIT_DR, "dr" },
				   { RINGVM_HW_EXIT_XSETBV, "xsetbv" },
				   { RINGVM_HW_EXIT_SHUTDOWN, "shutdown" },
				   { RINGVM_HW_EXIT_FAIL_ENTRY, "fail_entry" },
				   { RINGVM_HW_EXIT_UNHANDLED, "unhandled" },
				   { RINGVM_HW_EXIT_IRQ_WINDOW, "irq_window" },
				   { RINGVM_HW_EXIT_NMI_WINDOW, "nmi_window" },
				   { RINGVM_HW_EXIT_EOI, "eoi" },
				   { RINGVM_HW_EXIT_NO_INSN_LEN, "no_insn_len" }),
		  __print_symbolic(__entry->arch,
				   { RINGVM_ARCH_VMX, "vmx" },
				   { RINGVM_ARCH_SVM, "svm" }),
		  __entry->hw_reason, __entry->rip, __entry->qual,
		  __entry->info1, __entry->info2, __entry->gpa)
);

/* RINGVM_RUN returns with an exit for user space (the run page's). */
TRACE_EVENT(ringvm_userspace_exit,
	TP_PROTO(const struct ringvm_vcpu *vcpu, u32 reason, u64 rip),
	TP_ARGS(vcpu, reason, rip),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u32, reason)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->reason = reason;
		__entry->rip = rip;
	),

	TP_printk("vm %u vcpu %u reason %s rip 0x%llx",
		  __entry->vm, __entry->vcpu,
		  __print_symbolic(__entry->reason,
				   { RINGVM_EXIT_UNKNOWN, "unknown" },
				   { RINGVM_EXIT_IO, "io" },
				   { RINGVM_EXIT_MMIO, "mmio" },
				   { RINGVM_EXIT_HLT, "hlt" },
				   { RINGVM_EXIT_HYPERCALL, "hypercall" },
				   { RINGVM_EXIT_MSR, "msr" },
				   { RINGVM_EXIT_SHUTDOWN, "shutdown" },
				   { RINGVM_EXIT_FAIL_ENTRY, "fail_entry" },
				   { RINGVM_EXIT_INTR, "intr" },
				   { RINGVM_EXIT_EMULATION, "emulation" },
				   { RINGVM_EXIT_DESTROYED, "destroyed" },
				   { RINGVM_EXIT_INTERNAL_ERROR, "internal_error" },
				   { RINGVM_EXIT_IRQ_WINDOW, "irq_window" },
				   { RINGVM_EXIT_NMI_WINDOW, "nmi_window" },
				   { RINGVM_EXIT_EOI, "eoi" }),
		  __entry->rip)
);

/*
 * 3. A nested page fault (EPT violation, NPF), once handled: @r is the
 * handler's answer (0: back to the guest, 1: an exit to user space in
 * the run page, -errno).
 */
TRACE_EVENT(ringvm_npf,
	TP_PROTO(const struct ringvm_vcpu *vcpu, int r),
	TP_ARGS(vcpu, r),

	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u64, gpa)
		__field(u32, access)
		__field(u32, result)
	),

	TP_fast_assign(
		const struct ringvm_hw_exit *exit = &vcpu->exit;

		__entry->vm = vcpu->vm->id;
		__entry->vcpu = vcpu->id;
		__entry->gpa = exit->npf.gpa;
		__entry->access =
			(exit->npf.write ? RINGVM_NPF_ACC_WRITE :
			 exit->npf.fetch ? RINGVM_NPF_ACC_FETCH :
					   RINGVM_NPF_ACC_READ) |
			(exit->npf.walk ? RINGVM_NPF_ACC_WALK : 0) |
			(exit->npf.in_delivery ? RINGVM_NPF_ACC_DELIVERY : 0);
		__entry->result =
			!r ? RINGVM_NPF_MAPPED :
			r < 0 ? RINGVM_NPF_ERROR :
			vcpu->run->exit_reason == RINGVM_EXIT_MMIO ?
				RINGVM_NPF_MMIO :
			vcpu->run->exit_reason == RINGVM_EXIT_EMULATION ?
				RINGVM_NPF_EMULATION : RINGVM_NPF_ERROR;
	),

	TP_printk("vm %u vcpu %u gpa 0x%llx access %s result %s",
		  __entry->vm, __entry->vcpu, __entry->gpa,
		  __print_flags(__entry->access, "|",
				{ RINGVM_NPF_ACC_READ, "r" },
				{ RINGVM_NPF_ACC_WRITE, "w" },
				{ RINGVM_NPF_ACC_FETCH, "x" },
				{ RINGVM_NPF_ACC_WALK, "walk" },
				{ RINGVM_NPF_ACC_DELIVERY, "delivery" }),
		  __print_symbolic(__entry->result,
				   { RINGVM_NPF_MAPPED, "mapped" },
				   { RINGVM_NPF_MMIO, "mmio" },
				   { RINGVM_NPF_EMULATION, "emulation" },
				   { RINGVM_NPF_ERROR, "error" }))
);

#endif /* RINGVM_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
