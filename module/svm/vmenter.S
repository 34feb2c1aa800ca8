/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD SVM backend: the world switch, __svm_vcpu_run().
 *
 * Context: called from svm_vcpu_run() on the vCPU's CPU with preemption
 * and interrupts off and GIF clear (CLGI), so that no interrupt, NMI or
 * SMI can run host code while this CPU holds guest state.
 *
 *  1. Set RFLAGS.IF: with V_INTR_MASKING the host's IF as VMRUN finds it
 *     decides whether physical interrupts reach the host as INTR
 *     intercepts while the guest runs (AMD APM Vol. 2 §15.21.1).
 *  2. VMLOAD the guest's FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR,
 *     CSTAR, SFMASK and SYSENTER MSRs from its VMCB (§15.5.2): VMRUN
 *     switches only the rest.
 *  3. Load the guest GPRs but RAX and RSP, which the VMCB holds; VMRUN.
 *  4. At #VMEXIT the processor has restored the host's RSP, RAX (the
 *     VMCB address), CR0/3/4, EFER, GDTR, IDTR, CS/SS/DS/ES and RFLAGS
 *     from the host save area (§15.6) but not the VMLOAD state, so GS
 *     still holds the guest's base: no per-CPU data may be touched until
 *     the host's VMLOAD, which follows the guest's VMSAVE at once.
 *  5. Store the guest GPRs, stuff the return stack buffer and untrain
 *     return predictions before the first RET, clear the guest's values
 *     from the registers, and return; the caller sets GIF again.
 *
 * The host's VMLOAD state is saved by svm_vcpu_load() with VMSAVE into
 * this CPU's host save area; it cannot change while the vCPU is loaded.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>

/* Byte offsets in vcpu->gprs[], in enum ringvm_gpr order (exit.c checks). */
#define GPR_RCX		(1 * 8)
#define GPR_RDX		(2 * 8)
#define GPR_RBX		(3 * 8)
#define GPR_RBP		(5 * 8)
#define GPR_RSI		(6 * 8)
#define GPR_RDI		(7 * 8)
#define GPR_R8		(8 * 8)
#define GPR_R9		(9 * 8)
#define GPR_R10		(10 * 8)
#define GPR_R11		(11 * 8)
#define GPR_R12		(12 * 8)
#define GPR_R13		(13 * 8)
#define GPR_R14		(14 * 8)
#define GPR_R15		(15 * 8)

/* What __svm_vcpu_run() keeps on its stack across VMRUN. */
#define STK_VMCB	0
#define STK_GPRS	8
#define STK_HOST_SAVE	16
#define STK_SPEC_CTRL	24
#define STK_SIZE	32

/* Not instrumentable: a probe between VMRUN and VMLOAD would see guest GS. */
.section .noinstr.text, "ax"

/*
 * void __svm_vcpu_run(u64 vmcb_pa, unsigned long *gprs, u64 host_save_pa,
 *		       u64 spec_ctrl)
 *
 * @spec_ctrl: the SPEC_CTRL the guest runs with (ringvm_spec_ctrl_enter())
 */
SYM_FUNC_START(__svm_vcpu_run)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	push	%rcx			/* STK_SPEC_CTRL */
	push	%rdx			/* STK_HOST_SAVE */
	push	%rsi			/* STK_GPRS */
	push	%rdi			/* STK_VMCB */

	/*
	 * GIF is clear, so IF=1 lets nothing in here; VMRUN saves it as the
	 * host's IF.  Not right before VMRUN: an STI shadow on VMRUN can
	 * leak into the guest's interrupt shadow when injecting an event
	 * ends in #VMEXIT (the reason KVM moved its STI away from VMRUN).
	 */
	sti

	mov	%rdi, %rax
	vmload	%rax

	/* Guest GPRs; RAX is the VMCB address until VMRUN. */
	mov	%rsi, %rax
	mov	GPR_RCX(%rax), %rcx
	mov	GPR_RDX(%rax), %rdx
	mov	GPR_RBX(%rax), %rbx
	mov	GPR_RBP(%rax), %rbp
	mov	GPR_RSI(%rax), %rsi
	mov	GPR_RDI(%rax), %rdi
	mov	GPR_R8(%rax), %r8
	mov	GPR_R9(%rax), %r9
	mov	GPR_R10(%rax), %r10
	mov	GPR_R11(%rax), %r11
	mov	GPR_R12(%rax), %r12
	mov	GPR_R13(%rax), %r13
	mov	GPR_R14(%rax), %r14
	mov	GPR_R15(%rax), %r15
	mov	STK_VMCB(%rsp), %rax

	/* Flush CPU buffers where the host asked for it on VM entry. */
	VM_CLEAR_CPU_BUFFERS

	vmrun	%rax

	/* #VMEXIT: RAX is the VMCB address again, RSP the host's. */
	cli
	vmsave	%rax
	mov	STK_HOST_SAVE(%rsp), %rax
	vmload	%rax			/* host GS base: per-CPU data is back */

	mov	STK_GPRS(%rsp), %rax
	mov	%rcx, GPR_RCX(%rax)
	mov	%rdx, GPR_RDX(%rax)
	mov	%rbx, GPR_RBX(%rax)
	mov	%rbp, GPR_RBP(%rax)
	mov	%rsi, GPR_RSI(%rax)
	mov	%rdi, GPR_RDI(%rax)
	mov	%r8, GPR_R8(%rax)
	mov	%r9, GPR_R9(%rax)
	mov	%r10, GPR_R10(%rax)
	mov	%r11, GPR_R11(%rax)
	mov	%r12, GPR_R12(%rax)
	mov	%r13, GPR_R13(%rax)
	mov	%r14, GPR_R14(%rax)
	mov	%r15, GPR_R15(%rax)

	/*
	 * The guest trained the return stack buffer and return predictors:
	 * refill the one and untrain the others before the first RET (and
	 * before interrupts, whose handlers return into this code).
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/*
	 * SPEC_CTRL (module/spec.h): the host's value back, before the
	 * first RET, where the guest ran with more bits; the LFENCE keeps
	 * a mispredicted skip from running on into a RET (KVM's
	 * RESTORE_HOST_SPEC_CTRL in the same place).  RCX and RDX are
	 * stored already and cleared below.
	 */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_MSR_SPEC_CTRL
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	mov	PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	cmp	STK_SPEC_CTRL(%rsp), %eax
	jne	.Lspec_ctrl_write
	cmp	STK_SPEC_CTRL + 4(%rsp), %edx
	je	.Lspec_ctrl_fence
.Lspec_ctrl_write:
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lspec_ctrl_fence:
	lfence
.Lspec_ctrl_done:

#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
#endif

	/* No guest value may steer speculation from here on. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	add	$STK_SIZE, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__svm_vcpu_run)
