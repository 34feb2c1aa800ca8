/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devices_entry.S: the entry points and interrupt stubs of the devices
 * test guest (devices.c), a flat image for "vmctl run --mode long" at
 * the default load address.  vmctl starts it in 64-bit mode with its own
 * GDT, the first 4 GiB identity mapped and RSP at the load address.
 *
 * The image starts with a table of entry points 16 bytes apart: entry
 * N (--entry LOAD + 16 * N) runs case N of guest_main() in devices.c.
 * Each clears .bss (a second run on the same VM finds the first run's
 * RAM), loads the IDT that devices.c filled and calls guest_main(N),
 * whose return value goes to the test-exit port: vmctl exits with
 * (V << 1) | 1.
 *
 * Interrupt stubs, 16 bytes apart from `vectors`, one for each of
 * vectors 0-47: push the vector, save the registers the C code may
 * clobber (and RBP, which the stub uses), call guest_isr(vector), and IRETQ.  An exception's error
 * code is not popped: guest_isr() never returns from an exception.
 */
#define NR_ENTRIES	9
#define NR_VECTORS	48
#define TEST_EXIT_PORT	0xf4

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	.set	i, 0
	.rept	NR_ENTRIES
	.balign	16
	mov	$i, %edi
	jmp	common
	.set	i, i + 1
	.endr

common:
	mov	%edi, %ebx
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	cld
	rep stosb
	call	idt_setup
	lidt	idt_desc(%rip)
	mov	%ebx, %edi
	call	guest_main
	outb	%al, $TEST_EXIT_PORT
1:	cli
	hlt
	jmp	1b

	.balign	16
	.globl	vectors
vectors:
	.set	i, 0
	.rept	NR_VECTORS
	.balign	16
	pushq	$i
	jmp	isr_common
	.set	i, i + 1
	.endr

/* Frame: the CPU's 5 (or 6) quadwords, the vector, 10 registers. */
isr_common:
	push	%rbp
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	mov	80(%rsp), %rdi
	mov	%rsp, %rbp
	and	$-16, %rsp		/* the ABI's alignment for the call */
	call	guest_isr
	mov	%rbp, %rsp
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	pop	%rbp
	add	$8, %rsp		/* the vector */
	iretq

	.section .note.GNU-stack, "", @progbits
