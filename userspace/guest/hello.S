/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hello.S: ringvm's example guest, a flat binary for "vmctl run" in its
 * default real mode at its default load address (the Makefile links it
 * there, from vmctl/boot.h).  It walks the x86 through its modes the way
 * a boot loader does, saying where it is on the serial port:
 *
 *  1. real mode: program the 8250 UART at COM1 (115200 8N1, FIFOs on),
 *     print "ringvm: hello from real mode";
 *  2. load a GDT, set CR0.PE, far jump: 32-bit protected mode, print;
 *  3. build page tables identity-mapping the first 1 GiB (2 MiB pages),
 *     CR4.PAE, CR3, EFER.LME, CR0.PG, far jump: 64-bit long mode, print;
 *  4. CPUID 0x40000000: print "hypervisor: " and the signature in
 *     EBX ECX EDX ("ringvm");
 *  5. write 0 to the test-exit port 0xf4, which ends the run: vmctl exits
 *     with status 1 ((0 << 1) | 1, like QEMU's isa-debug-exit).  Should
 *     the write come back, HLT (vmctl: exit 0).
 *
 * Printing polls LSR.THRE (bit 5) before each byte, as a driver without
 * interrupts must.  The GDT and the selectors are vmctl's (boot.h), so
 * the same image could start in any of vmctl's modes at the right entry.
 * The page tables and the stack are in .bss, which is not in the flat
 * binary: they are built at run time, so a second run on the same VM
 * (whose RAM still holds the first run's) sees the same thing.
 */
#include "../vmctl/boot.h"

#define COM1		0x3f8
#define UART_LSR_THRE	0x20
#define TEST_EXIT_PORT	0xf4

/* A real-mode offset: CS = DS = SS = the load address >> 4. */
#define REAL(sym)	((sym) - VMCTL_DEFAULT_LOAD_ADDR)

#define X86_CR0_PE	0x00000001
#define X86_CR0_PG	0x80000000
#define X86_CR4_PAE	0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

/*
 * puts: print the NUL-terminated string at (E/R)SI; clobbers AL, BL, DX,
 * SI.  The same bytes assemble for 16-, 32- and 64-bit code.
 */
.macro PUTS
1:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %bl
	mov	$(COM1 + 5), %dx		/* LSR */
2:	inb	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	2b
	mov	$COM1, %dx			/* THR */
	mov	%bl, %al
	outb	%al, %dx
	jmp	1b
3:	ret
.endm

/* outb VAL to COM1 + REG */
.macro UART_SET reg, val
	mov	$(COM1 + \reg), %dx
	mov	$\val, %al
	outb	%al, %dx
.endm

	.text
	.globl	_start

/* 1. Real mode: CS:IP = 0x1000:0000, at the load address. */
	.code16
_start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$REAL(stack16_top), %sp

	UART_SET 1, 0x00		/* IER: no interrupts */
	UART_SET 3, 0x80		/* LCR: DLAB, to set the divisor */
	UART_SET 0, 0x01		/* DLL: 115200 baud */
	UART_SET 1, 0x00		/* DLM */
	UART_SET 3, 0x03		/* LCR: 8N1 */
	UART_SET 2, 0x07		/* FCR: FIFOs on and cleared */
	UART_SET 4, 0x03		/* MCR: DTR RTS */

	mov	$REAL(msg_real), %si
	call	puts16

/* 2. Protected mode */
	lgdtl	REAL(gdt_desc)
	mov	%cr0, %eax
	or	$X86_CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$VMCTL_SEL_CODE32, $pm32

puts16:	PUTS

	.code32
pm32:
	mov	$VMCTL_SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%ax, %ss
	mov	$stack_top, %esp

	mov	$msg_protected, %esi
	call	puts32

/* 3. Long mode: PML4[0] -> PDPT[0] -> PD, 512 x 2 MiB = 1 GiB. */
	mov	$pml4, %edi			/* clear PML4, PDPT, PD */
	xor	%eax, %eax
	mov	$(3 * 4096 / 4), %ecx
	cld
	rep stosl
	movl	$(pdpt + 3), pml4		/* present, writable */
	movl	$(pd + 3), pdpt
	mov	$pd, %edi
	mov	$0x83, %eax			/* present, writable, 2 MiB */
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	1b

	mov	%cr4, %eax
	or	$X86_CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$X86_CR0_PG, %eax
	mov	%eax, %cr0			/* EFER.LMA is set now */
	ljmp	$VMCTL_SEL_CODE64, $lm64

puts32:	PUTS

	.code64
lm64:
	mov	$VMCTL_SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	lea	msg_long(%rip), %rsi
	call	puts64

/* 4. The hypervisor's CPUID leaf: the signature is 12 bytes, NUL padded. */
	mov	$0x40000000, %eax
	xor	%ecx, %ecx
	cpuid
	lea	signature(%rip), %rdi
	mov	%ebx, 0(%rdi)
	mov	%ecx, 4(%rdi)
	mov	%edx, 8(%rdi)
	movb	$0, 12(%rdi)
	lea	msg_hypervisor(%rip), %rsi
	call	puts64
	lea	signature(%rip), %rsi
	call	puts64
	lea	msg_newline(%rip), %rsi
	call	puts64

/* 5. Done */
	xor	%eax, %eax
	outb	%al, $TEST_EXIT_PORT
1:	hlt
	jmp	1b

puts64:	PUTS

/* Data, in .text too: the flat binary is that one section. */
	.balign	8
gdt:	/* vmctl's GDT (boot.h), without the TSS */
	.quad	0
	.quad	0x00cf9b000000ffff		/* 0x08: code, 32-bit, flat */
	.quad	0x00cf93000000ffff		/* 0x10: data, flat */
	.quad	0x00af9b000000ffff		/* 0x18: code, 64-bit */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

msg_real:	.asciz	"ringvm: hello from real mode\n"
msg_protected:	.asciz	"ringvm: hello from protected mode\n"
msg_long:	.asciz	"ringvm: hello from long mode\n"
msg_hypervisor:	.asciz	"hypervisor: "
msg_newline:	.asciz	"\n"

	.bss
	.balign	4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4096
	.skip	4096
stack_top:
signature:
	.skip	16
	.balign	16
	.skip	1024
stack16_top:
