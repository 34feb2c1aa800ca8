/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VT-x backend: the world switch, __vmx_vcpu_run(), and
 * vmx_unblock_nmis(), an IRET to self for the NMI exit.
 *
 *  1. save the host's callee-saved registers and keep the GPR array's
 *     address on the stack;
 *  2. write HOST_RSP if this stack depth differs from last time;
 *  3. load the guest's GPRs (RSP is the VMCS's) and VMLAUNCH or VMRESUME;
 *  4. the VM exit lands at vmx_vmexit (HOST_RIP) with RSP = HOST_RSP:
 *     store the guest's GPRs, scrub them from the registers, refill the
 *     return stack buffer, put the host's SPEC_CTRL back, and return 0;
 *     a VM-Fail returns 1.
 *
 * Context: called from vmx_vcpu_run() with the vCPU's VMCS current on
 * this CPU, preemption and interrupts off.  No C is called between the
 * entry and the exit's RSB refill.  vmx_unblock_nmis() is called from
 * the NMI exit's handler, in the same context.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>
#include <asm/unwind_hints.h>

#include "vmcs.h"	/* Kbuild gives .S files no -I */

/* Offsets in vcpu->gprs[], enum ringvm_gpr (x86 encoding order). */
#define GPR_RAX		(0 * 8)
#define GPR_RCX		(1 * 8)
#define GPR_RDX		(2 * 8)
#define GPR_RBX		(3 * 8)
/* 4: RSP, switched by the VMCS */
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

	.text

/*
 * int __vmx_vcpu_run(unsigned long *gprs, unsigned long *host_rsp,
 *		      bool launched, u64 spec_ctrl)
 *
 * @gprs:	vcpu->gprs[], loaded before entry and stored after exit
 * @host_rsp:	what HOST_RSP holds; updated here when it changes
 * @launched:	VMRESUME if true, VMLAUNCH if false
 * @spec_ctrl:	the SPEC_CTRL the guest runs with (ringvm_spec_ctrl_enter())
 *
 * Returns 0 after a VM exit (including an exit for a failed entry, whose
 * exit reason has bit 31 set), 1 if VMLAUNCH/VMRESUME itself failed
 * (VM_INSTRUCTION_ERROR says why) or faulted.
 */
SYM_FUNC_START(__vmx_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* @spec_ctrl and @gprs, for after the exit; then RSP is HOST_RSP. */
	push	%rcx
	push	%rdi

	/*
	 * HOST_RSP: the VM exit loads RSP from it (SDM Vol. 3C §28.5.3), so
	 * it must be this very stack depth.  It only changes when the caller
	 * runs on another stack or depth, so skip the VMWRITE otherwise.
	 */
	cmp	%rsp, (%rsi)
	je	.Lhost_rsp_done
	mov	$HOST_RSP, %eax
.Lvmwrite_rsp:
	vmwrite	%rsp, %rax
	jna	.Lvmfail
	mov	%rsp, (%rsi)
.Lhost_rsp_done:

	/* CF = @launched; nothing below until the jump changes CF. */
	bt	$0, %edx

	/* @gprs in RAX; RAX itself last, as it holds the pointer. */
	mov	%rdi, %rax
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
	mov	GPR_RAX(%rax), %rax

	/*
	 * MDS, TAA, MMIO stale data, RFDS: VERW when the host's mitigation
	 * set X86_FEATURE_CLEAR_CPU_BUF, as KVM's VMX does on 6.1 and 6.12
	 * (VM_CLEAR_CPU_BUFFERS is the AMD TSA bit there: it never ran on
	 * Intel; module/MITIGATIONS.md row 2).  Clobbers ZF.
	 */
	CLEAR_CPU_BUFFERS

	jnc	.Lvmlaunch

	/*
	 * A successful VMRESUME/VMLAUNCH does not fall through: the exit
	 * continues at vmx_vmexit with the stack as it is here.  Tell
	 * objtool to carry this unwind state over to it.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp	.Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

	/* A fault (VMX turned off under us: reboot) is a failure too. */
	_ASM_EXTABLE(.Lvmresume, .Lvmfail)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfail)
	_ASM_EXTABLE(.Lvmwrite_rsp, .Lvmfail)

SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	/* Not an indirect branch target, but HOST_RIP takes its address. */
	ENDBR

	/* Guest RAX on the stack, @gprs in RAX, then store them all. */
	push	%rax
	mov	8(%rsp), %rax
	pop	GPR_RAX(%rax)
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

	xor	%ebx, %ebx		/* return 0: a VM exit */

.Lscrub:
	pop	%rax			/* @gprs */

	/*
	 * No guest value may linger in a register the host could use
	 * speculatively; RBX holds the return value, RSP is the host's.
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
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

	/*
	 * The guest may have filled the return stack buffer with its own
	 * targets: refill it before the first unbalanced RET, and clear the
	 * branch history where the host asks for it (as KVM does).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/*
	 * SPEC_CTRL (module/spec.h): the host's value back before the
	 * first RET where the guest ran with more bits (@spec_ctrl, on the
	 * stack), and always with legacy IBRS (X86_FEATURE_KERNEL_IBRS,
	 * Skylake-era parts without eIBRS): IBRS only restricts predictions
	 * made before it was written from a less privileged predictor mode,
	 * and the guest was one.  As KVM's vmx_spec_ctrl_restore_host()
	 * (module/MITIGATIONS.md row 4); the LFENCE keeps a mispredicted
	 * skip from running on into the RET.
	 */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_MSR_SPEC_CTRL
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	mov	PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	ALTERNATIVE "", "jmp .Lspec_ctrl_write", X86_FEATURE_KERNEL_IBRS
	cmp	(%rsp), %eax
	jne	.Lspec_ctrl_write
	cmp	4(%rsp), %edx
	je	.Lspec_ctrl_fence
.Lspec_ctrl_write:
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lspec_ctrl_fence:
	lfence
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
.Lspec_ctrl_done:
	add	$8, %rsp		/* @spec_ctrl */

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%rbx, %rax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	mov	$1, %ebx
	jmp	.Lscrub
SYM_FUNC_END(__vmx_vcpu_run)

/*
 * void vmx_unblock_nmis(void)
 *
 * An IRET to the next instruction, for its side effect: IRET ends the
 * blocking by NMI (SDM Vol. 3A §7.7.1) that an NMI-caused VM exit leaves
 * behind (Vol. 3C §28.5.5), so that an NMI pending on this CPU is taken
 * right after it, through the host's own NMI entry.  The frame is what
 * the CPU pushes for an event in 64-bit mode (§7.14.2): SS, RSP, RFLAGS,
 * CS, RIP, so RSP and RFLAGS (IF clear) come back as they were.  The
 * kernel's iret_to_self() (asm/sync_core.h) does the same for sync_core();
 * objtool reads an IRET inside a function as "add $40, %rsp".
 */
SYM_FUNC_START(vmx_unblock_nmis)
	mov	%rsp, %rax
	mov	%ss, %ecx
	push	%rcx
	push	%rax
	pushfq
	mov	%cs, %ecx
	push	%rcx
	lea	.Lnmis_unblocked(%rip), %rcx
	push	%rcx
	iretq
.Lnmis_unblocked:
	RET
SYM_FUNC_END(vmx_unblock_nmis)
