/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code: the IDT entry stubs of a test guest and the return path of
 * a guest function.
 *
 * Runs in the guest, 64-bit mode, CPL 0, interrupts off (the IDT has
 * interrupt gates).  vm.c points IDT vector n at guest_isr_stubs + 16 * n.
 * Each stub pushes a zero where the CPU pushes no error code, then the
 * vector, so guest_isr_common always sees the same frame, struct ex_regs
 * in guest.h:
 *
 *	rax ... r15 (15 registers, pushed here)
 *	vector, error code
 *	rip, cs, rflags, rsp, ss (pushed by the CPU)
 *
 * In 64-bit mode the CPU aligns RSP to 16 bytes before pushing its five
 * words (Intel SDM Vol. 3A §6.14.2), so after the error code, the vector
 * and 15 registers RSP is 16-byte aligned again for the call, as the
 * SysV ABI wants.
 */

	.text

/*
 * The CPU pushes an error code for vectors 8, 10-14, 17, 21, 29 and 30
 * (Intel SDM Vol. 3A Table 6-1; AMD APM Vol. 2 Table 8-1).
 */
	.macro isr_stub vec
	.align 16
	.if \vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp guest_isr_common
	.endm

	.align 16
	.globl guest_isr_stubs
guest_isr_stubs:
	.altmacro
	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr
	.noaltmacro

guest_isr_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	movq %rsp, %rdi
	cld
	call guest_route_exception
	popq %rax
	popq %rcx
	popq %rdx
	popq %rbx
	popq %rbp
	popq %rsi
	popq %rdi
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp		/* vector and error code */
	iretq

/*
 * The return address on a fresh vCPU's stack: the guest function must
 * end with GUEST_DONE() and never return.
 */
	.globl guest_code_returned
guest_code_returned:
	call guest_report_return
	ud2

	.section .note.GNU-stack, "", @progbits
