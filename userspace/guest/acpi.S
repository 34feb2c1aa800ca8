/* SPDX-License-Identifier: GPL-2.0 */
/*
 * acpi.S: a test guest for vmctl's ACPI tables (vmctl/acpi.c) and ACPI
 * device (vmctl/dev_acpi.c), a flat binary for "vmctl run --mode
 * protected --acpi" at the default load address.  It does what an OS
 * does with them, in the order of ACPI 6.5 §5.2, and says on COM1 what
 * it found, one "acpi: ..." line a step:
 *
 *  1. scan 0xe0000-0xfffff for "RSD PTR " on 16-byte boundaries, check
 *     the RSDP's checksum and, revision 2, its extended checksum;
 *  2. the RSDT and the XSDT: signature, checksum, and the FADT among
 *     their entries, the same in both;
 *  3. the FADT: signature, checksum; its DSDT (X_DSDT first) likewise;
 *     \_S5 in the DSDT's AML: NameOp "_S5_" PackageOp, and its first
 *     element, SLP_TYPa; the FACS (FIRMWARE_CTRL or X_FIRMWARE_CTRL),
 *     64-byte aligned;
 *  4. the register blocks the FADT names, and their X_ forms: PM1a_CNT
 *     reads SCI_EN = 1, PM1a_EN keeps what is written, the PM timer is
 *     24 bits and advances across a busy wait;
 *  5. built as acpi.bin: enter S5 as ACPICA does (SLP_TYP alone, then
 *     with SLP_EN), which must end the run with vmctl's status 0.
 *     Built as acpi_sleep.bin (ACPI_SLEEP_TEST): SLP_EN with SLP_TYP 1,
 *     0 and 4, which the DSDT does not offer, each must come back with
 *     WAK_STS set (and write-1-to-clear clears it), and SLP_TYP 5
 *     without SLP_EN must do nothing; then write 0x15 to the test-exit
 *     port: status 43.
 *
 * Any check that fails prints "acpi: FAIL: what" and writes 1 to the
 * test-exit port 0xf4: status 3.  The guest finds every address and
 * port through the tables, as an OS would; boot.h gives it only the
 * scan's range.
 */
#include "../vmctl/boot.h"

#define COM1		0x3f8
#define UART_LSR_THRE	0x20
#define TEST_EXIT_PORT	0xf4

/* Signatures as little-endian dwords. */
#define SIG_RSD_	0x20445352	/* "RSD " */
#define SIG_PTR_	0x20525450	/* "PTR " */
#define SIG_RSDT	0x54445352
#define SIG_XSDT	0x54445358
#define SIG_FACP	0x50434146
#define SIG_DSDT	0x54445344
#define SIG_FACS	0x53434146
#define NAME_S5		0x5f35535f	/* "_S5_" */

/* FADT offsets (ACPI 6.5 Table 5.9) */
#define FADT_FIRMWARE_CTRL	36
#define FADT_DSDT		40
#define FADT_PM1A_EVT_BLK	56
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM_TMR_BLK		76
#define FADT_PM1_EVT_LEN	88
#define FADT_PM1_CNT_LEN	89
#define FADT_PM_TMR_LEN		91
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140
#define FADT_X_PM1A_EVT_BLK	148
#define FADT_X_PM1A_CNT_BLK	172
#define FADT_X_PM_TMR_BLK	208
#define GAS_SPACE_SYSTEM_IO	1

/* PM1 registers (ACPI 6.5 §4.8.4) */
#define PM1_GBL_EN		0x0020
#define PM1_WAK_STS		0x8000
#define PM1_SCI_EN		0x0001
#define PM1_SLP_TYP_SHIFT	10
#define PM1_SLP_TYP		0x1c00
#define PM1_SLP_EN		0x2000

#define AML_PACKAGE_OP		0x12
#define AML_BYTE_PREFIX		0x0a
#define AML_ONE_OP		0x01

/*
 * FAILIF cc, "what": if condition cc holds, fail saying what.  The
 * failure path goes to subsection 1, after the code.
 */
.macro FAILIF cc, text
	j\cc	.Lfail\@
	.text 1
.Lfail\@:
	mov	$.Lmsg\@, %esi
	jmp	fail
.Lmsg\@:
	.asciz	"\text"
	.text 0
.endm

/* PRINT "text": print it. */
.macro PRINT text
	mov	$.Lstr\@, %esi
	call	puts
	.text 1
.Lstr\@:
	.asciz	"\text"
	.text 0
.endm

	.text
	.code32
	.globl	_start
_start:
	cld

/* 1. The RSDP (§5.2.5.1): a valid checksum too, or the scan goes on. */
	mov	$VMCTL_ACPI_BASE, %ebx
1:	cmpl	$SIG_RSD_, (%ebx)
	jne	2f
	cmpl	$SIG_PTR_, 4(%ebx)
	jne	2f
	mov	%ebx, %esi
	mov	$20, %ecx
	call	checksum
	jz	3f
2:	add	$16, %ebx
	cmp	$VMCTL_ACPI_END, %ebx
	jb	1b
	mov	$msg_no_rsdp, %esi
	jmp	fail
3:	mov	%ebx, rsdp
	PRINT	"acpi: RSDP at 0x"
	mov	%ebx, %eax
	mov	$5, %ecx
	call	puthex
	PRINT	" revision "
	movzbl	15(%ebx), %eax
	mov	$1, %ecx
	call	puthex
	PRINT	"\n"
	cmpb	$2, 15(%ebx)
	FAILIF	b, "RSDP revision below 2: no XSDT"
	mov	%ebx, %esi
	mov	20(%ebx), %ecx
	cmp	$36, %ecx
	FAILIF	b, "RSDP length below 36"
	call	checksum
	FAILIF	nz, "RSDP extended checksum"

/* 2. The RSDT (§5.2.7), 32-bit entries, and the XSDT (§5.2.8), 64-bit */
	mov	16(%ebx), %esi
	mov	$SIG_RSDT, %eax
	call	check_table
	lea	36(%esi), %edi		/* the entries */
	sub	$36, %ecx
	shr	$2, %ecx
	FAILIF	z, "RSDT has no entries"
1:	mov	(%edi), %edx
	cmpl	$SIG_FACP, (%edx)
	je	2f
	add	$4, %edi
	loop	1b
	mov	$msg_no_fadt, %esi
	jmp	fail
2:	mov	%edx, fadt

	mov	rsdp, %ebx
	cmpl	$0, 28(%ebx)
	FAILIF	ne, "XSDT above 4 GiB"
	mov	24(%ebx), %esi
	mov	$SIG_XSDT, %eax
	call	check_table
	lea	36(%esi), %edi
	sub	$36, %ecx
	shr	$3, %ecx
	FAILIF	z, "XSDT has no entries"
1:	cmpl	$0, 4(%edi)
	FAILIF	ne, "XSDT entry above 4 GiB"
	mov	(%edi), %edx
	cmpl	$SIG_FACP, (%edx)
	je	2f
	add	$8, %edi
	loop	1b
	mov	$msg_no_fadt, %esi
	jmp	fail
2:	cmp	fadt, %edx
	FAILIF	ne, "the XSDT's FADT is not the RSDT's"

/* 3. The FADT (§5.2.9), the DSDT (§5.2.11.1), \_S5 (§7.4.2), the FACS */
	mov	fadt, %esi
	mov	$SIG_FACP, %eax
	call	check_table
	mov	fadt, %ebx
	cmpl	$0, FADT_X_DSDT + 4(%ebx)
	FAILIF	ne, "X_DSDT above 4 GiB"
	mov	FADT_X_DSDT(%ebx), %esi
	test	%esi, %esi
	jnz	1f
	mov	FADT_DSDT(%ebx), %esi
1:	mov	$SIG_DSDT, %eax
	call	check_table

	lea	36(%esi), %edi		/* the AML */
	lea	-4(%esi, %ecx), %ecx	/* the last place "_S5_" can start */
1:	cmp	%ecx, %edi
	FAILIF	a, "no _S5_ package in the DSDT"
	cmpl	$NAME_S5, (%edi)
	jne	2f
	cmpb	$AML_PACKAGE_OP, 4(%edi)
	je	3f
2:	inc	%edi
	jmp	1b
3:	testb	$0xc0, 5(%edi)		/* a one-byte PkgLength */
	FAILIF	nz, "\\_S5 package too long"
	cmpb	$0, 6(%edi)
	FAILIF	e, "\\_S5 package empty"
	movzbl	7(%edi), %eax		/* the first element: SLP_TYPa */
	cmp	$AML_ONE_OP, %eax
	jbe	4f			/* ZeroOp 0, OneOp 1 */
	cmp	$AML_BYTE_PREFIX, %eax
	FAILIF	ne, "\\_S5 SLP_TYPa is not a byte"
	movzbl	8(%edi), %eax
4:	cmp	$7, %eax
	FAILIF	a, "\\_S5 SLP_TYPa above 7"
	mov	%eax, slp_typ
	PRINT	"acpi: \\_S5 SLP_TYPa "
	mov	slp_typ, %eax
	mov	$1, %ecx
	call	puthex
	PRINT	"\n"

	mov	FADT_FIRMWARE_CTRL(%ebx), %esi
	test	%esi, %esi
	jnz	1f
	cmpl	$0, FADT_X_FIRMWARE_CTRL + 4(%ebx)
	FAILIF	ne, "X_FIRMWARE_CTRL above 4 GiB"
	mov	FADT_X_FIRMWARE_CTRL(%ebx), %esi
	test	%esi, %esi
	FAILIF	z, "no FACS"
1:	test	$63, %esi
	FAILIF	nz, "FACS not 64-byte aligned"
	cmpl	$SIG_FACS, (%esi)
	FAILIF	ne, "FACS signature"
	cmpl	$64, 4(%esi)
	FAILIF	b, "FACS shorter than 64 bytes"
	PRINT	"acpi: FACS ok\n"

/* 4. The registers: 32-bit block, its length, and its X_ GAS twin */
	mov	FADT_PM1A_EVT_BLK(%ebx), %eax
	mov	%eax, pm1a_evt
	cmpb	$4, FADT_PM1_EVT_LEN(%ebx)
	FAILIF	ne, "PM1_EVT_LEN is not 4"
	lea	FADT_X_PM1A_EVT_BLK(%ebx), %esi
	mov	$32, %edx
	call	check_gas
	mov	FADT_PM1A_CNT_BLK(%ebx), %eax
	mov	%eax, pm1a_cnt
	cmpb	$2, FADT_PM1_CNT_LEN(%ebx)
	FAILIF	ne, "PM1_CNT_LEN is not 2"
	lea	FADT_X_PM1A_CNT_BLK(%ebx), %esi
	mov	$16, %edx
	call	check_gas
	mov	FADT_PM_TMR_BLK(%ebx), %eax
	mov	%eax, pm_tmr
	cmpb	$4, FADT_PM_TMR_LEN(%ebx)
	FAILIF	ne, "PM_TMR_LEN is not 4"
	lea	FADT_X_PM_TMR_BLK(%ebx), %esi
	mov	$32, %edx
	call	check_gas
	PRINT	"acpi: PM1a_EVT 0x"
	mov	pm1a_evt, %eax
	mov	$4, %ecx
	call	puthex
	PRINT	" PM1a_CNT 0x"
	mov	pm1a_cnt, %eax
	mov	$4, %ecx
	call	puthex
	PRINT	" PM_TMR 0x"
	mov	pm_tmr, %eax
	mov	$4, %ecx
	call	puthex
	PRINT	"\n"

	mov	pm1a_cnt, %edx
	inw	%dx, %ax
	test	$PM1_SCI_EN, %ax
	FAILIF	z, "PM1a_CNT.SCI_EN is 0"
	PRINT	"acpi: SCI_EN 1\n"

	mov	pm1a_evt, %edx
	add	$2, %edx		/* PM1a_EN: the block's second half */
	mov	$PM1_GBL_EN, %ax
	outw	%ax, %dx
	inw	%dx, %ax
	cmp	$PM1_GBL_EN, %ax
	FAILIF	ne, "PM1a_EN does not keep GBL_EN"
	xor	%eax, %eax
	outw	%ax, %dx
	inw	%dx, %ax
	test	%ax, %ax
	FAILIF	nz, "PM1a_EN does not clear"
	PRINT	"acpi: PM1a_EN ok\n"

	mov	pm_tmr, %edx
	inl	%dx, %eax
	mov	%eax, %ebx
	mov	$100000, %ecx
1:	pause
	loop	1b
	inl	%dx, %eax
	test	$0xff000000, %ebx
	FAILIF	nz, "PM timer bits 24-31 not 0"
	test	$0xff000000, %eax
	FAILIF	nz, "PM timer bits 24-31 not 0"
	sub	%ebx, %eax
	and	$0xffffff, %eax		/* the count wraps at 2^24 */
	FAILIF	z, "PM timer stands still"
	cmp	$0x800000, %eax
	FAILIF	ae, "PM timer went backwards"
	PRINT	"acpi: PM timer advances\n"

#ifndef ACPI_SLEEP_TEST
/* 5. Soft off, as ACPICA's acpi_hw_legacy_sleep() writes it */
	PRINT	"acpi: entering S5\n"
	mov	pm1a_cnt, %edx
	inw	%dx, %ax
	and	$~(PM1_SLP_TYP | PM1_SLP_EN), %ax
	mov	slp_typ, %ecx
	shl	$PM1_SLP_TYP_SHIFT, %ecx
	or	%cx, %ax
	outw	%ax, %dx		/* SLP_TYP alone */
	or	$PM1_SLP_EN, %ax
	outw	%ax, %dx		/* and SLP_EN: the end */
	mov	$msg_s5_returned, %esi
	jmp	fail
#else
/* 5. Sleep types the DSDT does not offer come back with WAK_STS */
	mov	$1, %eax
	call	sleep_wake
	mov	$0, %eax
	call	sleep_wake
	mov	$4, %eax
	call	sleep_wake
	mov	pm1a_cnt, %edx
	mov	$(VMCTL_ACPI_S5_TYP << PM1_SLP_TYP_SHIFT), %ax
	outw	%ax, %dx		/* S5's SLP_TYP without SLP_EN */
	inw	%dx, %ax
	and	$(PM1_SLP_TYP | PM1_SCI_EN), %ax
	cmp	$(VMCTL_ACPI_S5_TYP << PM1_SLP_TYP_SHIFT | PM1_SCI_EN), %ax
	FAILIF	ne, "PM1a_CNT does not keep SLP_TYP"
	PRINT	"acpi: SLP_TYP 1, 0, 4 with SLP_EN and 5 without: still running\n"
	mov	$0x15, %al
	outb	%al, $TEST_EXIT_PORT
	mov	$msg_exit_returned, %esi
	jmp	fail

/* SLP_TYP EAX with SLP_EN; then WAK_STS must be set, and clear. */
sleep_wake:
	mov	pm1a_cnt, %edx
	shl	$PM1_SLP_TYP_SHIFT, %eax
	or	$PM1_SLP_EN, %eax
	outw	%ax, %dx
	mov	pm1a_evt, %edx		/* PM1a_STS */
	inw	%dx, %ax
	test	$PM1_WAK_STS, %ax
	FAILIF	z, "no WAK_STS after SLP_EN"
	mov	$PM1_WAK_STS, %ax
	outw	%ax, %dx
	inw	%dx, %ax
	test	$PM1_WAK_STS, %ax
	FAILIF	nz, "WAK_STS does not clear"
	ret
#endif

/*
 * check_table: the table at ESI has the signature EAX and a checksum
 * of 0 over its length; print "acpi: SIGN ok".  Returns the length in
 * ECX, ESI kept.
 */
check_table:
	cmp	%eax, (%esi)
	FAILIF	ne, "table signature"
	mov	%eax, signame
	movl	$0, signame + 4
	mov	4(%esi), %ecx
	cmp	$36, %ecx
	FAILIF	b, "table shorter than its header"
	call	checksum
	FAILIF	nz, "table checksum"
	push	%esi
	PRINT	"acpi: "
	mov	$signame, %esi
	call	puts
	PRINT	" ok\n"
	pop	%esi
	mov	4(%esi), %ecx
	ret

/* check_gas: the GAS at ESI is system I/O, EDX bits wide, at port EAX. */
check_gas:
	cmpb	$GAS_SPACE_SYSTEM_IO, (%esi)
	FAILIF	ne, "X_ block not in system I/O space"
	cmp	%dl, 1(%esi)
	FAILIF	ne, "X_ block width differs from the length"
	cmp	%eax, 4(%esi)
	FAILIF	ne, "X_ block address differs from the 32-bit one"
	cmpl	$0, 8(%esi)
	FAILIF	ne, "X_ block address differs from the 32-bit one"
	ret

/* checksum: the sum of ECX bytes at ESI, in AL; ZF if 0.  ESI, ECX kept. */
checksum:
	push	%esi
	push	%ecx
	xor	%ah, %ah
1:	add	(%esi), %ah
	inc	%esi
	loop	1b
	mov	%ah, %al
	pop	%ecx
	pop	%esi
	test	%al, %al
	ret

/* putc: AL to COM1, once the transmitter has room.  All kept. */
putc:
	push	%edx
	push	%eax
	mov	$(COM1 + 5), %dx	/* LSR */
1:	inb	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	1b
	pop	%eax
	mov	$COM1, %dx
	outb	%al, %dx
	pop	%edx
	ret

/* puts: the string at ESI.  ESI is left past it, AL clobbered. */
puts:
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	ret

/* puthex: the low ECX hex digits of EAX.  EAX, ECX clobbered. */
puthex:
	push	%ebx
	mov	%eax, %ebx
1:	dec	%ecx
	mov	%ebx, %eax
	shl	$2, %ecx
	shr	%cl, %eax
	shr	$2, %ecx
	and	$0xf, %eax
	mov	hexdigits(%eax), %al
	call	putc
	test	%ecx, %ecx
	jnz	1b
	pop	%ebx
	ret

/* fail: "acpi: FAIL: " the string at ESI, then the test-exit port: 3 */
fail:
	push	%esi
	PRINT	"\nacpi: FAIL: "
	pop	%esi
	call	puts
	PRINT	"\n"
	mov	$1, %al
	outb	%al, $TEST_EXIT_PORT
1:	hlt
	jmp	1b

hexdigits:		.ascii	"0123456789abcdef"
msg_no_rsdp:		.asciz	"no RSDP in 0xe0000-0xfffff"
msg_no_fadt:		.asciz	"no FADT in the RSDT or XSDT"
msg_s5_returned:	.asciz	"still running after SLP_EN with \\_S5's SLP_TYP"
#ifdef ACPI_SLEEP_TEST
msg_exit_returned:	.asciz	"still running after the test-exit port"
#endif

/* Variables: .bss is not in the flat binary; each is written first. */
	.bss
	.balign	4
rsdp:		.skip	4
fadt:		.skip	4
pm1a_evt:	.skip	4
pm1a_cnt:	.skip	4
pm_tmr:		.skip	4
slp_typ:	.skip	4
signame:	.skip	8	/* 4 characters, then zeros */
