/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbtest.S: a multiboot v1 kernel that reports on the serial port what
 * the boot loader gave it, for vmctl run --kernel (selftests/
 * vmctl_boot_test.c checks the lines exactly).  Built twice by the
 * Makefile: mbtest.mb, an ELF32 file loaded by its program headers, and
 * with -DAOUT_KLUDGE mbtest-aout.mb, a flat binary whose header carries
 * the address fields (flags bit 16).  Multiboot Specification 0.6.96:
 *
 *  1. §3.2 the machine state: EAX holds 0x2BADB002 ("mb: magic ok", or
 *     "mb: bad magic" and exit 0x7f), 32-bit protected mode without
 *     paging and IF clear ("mb: state ok"); then our own stack;
 *  2. the loader zeroed .bss: "mb: bss zero", and the guest dirties it,
 *     so that a second run in the same VM tests the zeroing again;
 *  3. §3.3 the boot information at EBX: mem_lower and mem_upper, each
 *     memory map entry, the command line, the boot loader's name, the
 *     modules: their number, the first bytes of the first, its size,
 *     whether it is page aligned and its string;
 *  4. write MBTEST_DONE to the test-exit port 0xf4: vmctl exits with
 *     (0x21 << 1 | 1) & 0xff = 67.
 *
 * Printing polls LSR.THRE (bit 5) before each byte.  The ESP, GDT and
 * IDT the loader leaves are undefined by §3.2: the guest sets ESP and
 * needs no descriptor table of its own, since it never reloads a segment
 * register and takes no exception.
 */
#define COM1		0x3f8
#define UART_LSR	(COM1 + 5)
#define UART_LSR_THRE	0x20
#define TEST_EXIT_PORT	0xf4
#define MBTEST_DONE	0x21
#define MBTEST_BAD	0x7f

/* §3.1.1 the header */
#define MB_HEADER_MAGIC	0x1BADB002
#define MB_PAGE_ALIGN	(1 << 0)
#define MB_MEMORY_INFO	(1 << 1)
#define MB_AOUT_KLUDGE	(1 << 16)
#ifdef AOUT_KLUDGE
#define MB_FLAGS	(MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE)
#else
#define MB_FLAGS	(MB_PAGE_ALIGN | MB_MEMORY_INFO)
#endif

/* §3.2 and §3.3 */
#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define INFO_FLAGS	0
#define INFO_MEM_LOWER	4
#define INFO_MEM_UPPER	8
#define INFO_CMDLINE	16
#define INFO_MODS_COUNT	20
#define INFO_MODS_ADDR	24
#define INFO_MMAP_LEN	44
#define INFO_MMAP_ADDR	48
#define INFO_LOADER	64
#define INFO_F_MEM	0
#define INFO_F_CMDLINE	2
#define INFO_F_MODS	3
#define INFO_F_MMAP	6
#define INFO_F_LOADER	9

#define X86_CR0_PE	0x00000001
#define X86_CR0_PG	0x80000000
#define X86_EFLAGS_IF	0x00000200
#define X86_EFLAGS_VM	0x00020000

/* Print the string literal @s. */
.macro PRINT s
	.pushsection .rodata
9:	.asciz	"\s"
	.popsection
	mov	$9b, %esi
	call	puts
.endm

	.code32
	.section .multiboot, "ax"
	.balign	4
mb_header:
	.long	MB_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MB_HEADER_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
	.long	mb_header			/* header_addr */
	.long	mb_load_start			/* load_addr */
	.long	mb_load_end			/* load_end_addr */
	.long	mb_bss_end			/* bss_end_addr */
	.long	_start				/* entry_addr */
#endif

	.text
	.globl	_start
_start:
/* 1. The machine state, before anything changes it */
	mov	%eax, %edi
	cld
	mov	$stack_top, %esp
	mov	%ebx, %ebp			/* the info, from here on */
	cmp	$MB_BOOTLOADER_MAGIC, %edi
	je	1f
	PRINT	"mb: bad magic 0x"
	mov	%edi, %eax
	call	puthex32
	PRINT	"\n"
	mov	$MBTEST_BAD, %al
	jmp	done
1:	PRINT	"mb: magic ok\n"
	mov	%cr0, %eax
	and	$(X86_CR0_PE | X86_CR0_PG), %eax
	cmp	$X86_CR0_PE, %eax
	jne	1f
	pushf
	pop	%eax
	test	$(X86_EFLAGS_IF | X86_EFLAGS_VM), %eax
	jnz	1f
	PRINT	"mb: state ok\n"
	jmp	2f
1:	PRINT	"mb: state bad\n"
2:

/* 2. .bss */
	cmpl	$0, bss_canary
	jne	1f
	PRINT	"mb: bss zero\n"
	jmp	2f
1:	PRINT	"mb: bss dirty\n"
2:	movl	$0xdeadbeef, bss_canary

/* 3. The boot information */
	btl	$INFO_F_MEM, INFO_FLAGS(%ebp)
	jnc	1f
	PRINT	"mb: mem_lower="
	mov	INFO_MEM_LOWER(%ebp), %eax
	call	putdec
	PRINT	" mem_upper="
	mov	INFO_MEM_UPPER(%ebp), %eax
	call	putdec
	PRINT	"\n"
1:
	btl	$INFO_F_MMAP, INFO_FLAGS(%ebp)
	jnc	3f
	mov	INFO_MMAP_ADDR(%ebp), %ebx	/* at an entry's size field */
	mov	INFO_MMAP_LEN(%ebp), %ecx
	add	%ebx, %ecx			/* the end */
1:	cmp	%ecx, %ebx
	jae	3f
	PRINT	"mb: mmap base=0x"
	mov	8(%ebx), %eax
	call	puthex32
	mov	4(%ebx), %eax
	call	puthex32
	PRINT	" len=0x"
	mov	16(%ebx), %eax
	call	puthex32
	mov	12(%ebx), %eax
	call	puthex32
	PRINT	" type="
	mov	20(%ebx), %eax
	call	putdec
	PRINT	"\n"
	mov	(%ebx), %eax
	lea	4(%ebx, %eax), %ebx		/* size counts what follows */
	jmp	1b
3:
	btl	$INFO_F_CMDLINE, INFO_FLAGS(%ebp)
	jnc	1f
	PRINT	"mb: cmdline="
	mov	INFO_CMDLINE(%ebp), %esi
	call	puts
	PRINT	"\n"
1:
	btl	$INFO_F_LOADER, INFO_FLAGS(%ebp)
	jnc	1f
	PRINT	"mb: loader="
	mov	INFO_LOADER(%ebp), %esi
	call	puts
	PRINT	"\n"
1:
	btl	$INFO_F_MODS, INFO_FLAGS(%ebp)
	jnc	4f
	PRINT	"mb: mods="
	mov	INFO_MODS_COUNT(%ebp), %eax
	call	putdec
	cmpl	$0, INFO_MODS_COUNT(%ebp)
	je	3f
	/* The first module: up to 8 bytes of [mod_start, mod_end). */
	mov	INFO_MODS_ADDR(%ebp), %ebx
	PRINT	" first bytes="
	mov	0(%ebx), %esi			/* mod_start */
	mov	4(%ebx), %ecx
	sub	%esi, %ecx			/* its size */
	cmp	$8, %ecx
	jbe	1f
	mov	$8, %ecx
1:	jecxz	2f
1:	lodsb
	call	puthex8
	dec	%ecx
	jz	2f
	mov	$' ', %al
	call	putc
	jmp	1b
2:	PRINT	"\nmb: mod size="
	mov	4(%ebx), %eax
	sub	0(%ebx), %eax
	call	putdec
	testl	$0xfff, 0(%ebx)
	jnz	1f
	PRINT	" page aligned"
1:	PRINT	" string="
	mov	8(%ebx), %esi
	call	puts
3:	PRINT	"\n"
4:

/* 4. Done */
	mov	$MBTEST_DONE, %al
done:
	outb	%al, $TEST_EXIT_PORT
1:	hlt
	jmp	1b

/* putc: AL to COM1, once the transmitter holds nothing. */
putc:
	push	%edx
	push	%eax
	mov	$UART_LSR, %dx
1:	inb	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	1b
	pop	%eax
	mov	$COM1, %dx
	outb	%al, %dx
	pop	%edx
	ret

/* puts: the NUL-terminated string at ESI; clobbers ESI, AL. */
puts:
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	ret

/* putdec: EAX in decimal; clobbers EAX. */
putdec:
	push	%ecx
	push	%edx
	push	%ebx
	mov	$10, %ebx
	xor	%ecx, %ecx
1:	xor	%edx, %edx
	div	%ebx
	push	%edx				/* digits, last first */
	inc	%ecx
	test	%eax, %eax
	jnz	1b
1:	pop	%eax
	add	$'0', %al
	call	putc
	loop	1b
	pop	%ebx
	pop	%edx
	pop	%ecx
	ret

/* puthex32: EAX as 8 hex digits; puthex8: AL as 2.  Clobber EAX. */
puthex32:
	push	%eax
	shr	$24, %eax
	call	puthex8
	mov	(%esp), %eax
	shr	$16, %eax
	call	puthex8
	mov	(%esp), %eax
	shr	$8, %eax
	call	puthex8
	pop	%eax
puthex8:
	push	%eax
	shr	$4, %al
	call	puthex4
	pop	%eax
puthex4:
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	1f
	add	$('a' - '9' - 1), %al
1:	jmp	putc

	.bss
	.balign	16
bss_canary:
	.skip	4
	.balign	16
	.skip	4096
stack_top:
