/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where "vmctl run" puts things in guest-physical memory.  Plain #defines
 * only: userspace/Makefile reads VMCTL_DEFAULT_LOAD_ADDR from here to
 * link the example guest (guest/hello.S), so the two cannot disagree.
 *
 *	0x0000 - 0x0fff    free (the real-mode IVT, if a guest wants one)
 *	0x1000 - 0x10ff    GDT: null, 0x08 code32, 0x10 data, 0x18 code64,
 *	                   0x20 a 64-bit TSS descriptor (16 bytes)
 *	0x1100 - 0x1167    the TSS (zeros)
 *	0x2000 - 0x2fff    PML4 (long mode)
 *	0x3000 - 0x3fff    PDPT
 *	0x4000 - 0x7fff    4 page directories: the first 4 GiB, identity
 *	                   mapped with 2 MiB pages (RAM and the MMIO hole)
 *	0x10000            the image, by default
 *
 * The boot data (0x1000 - 0x7fff) is written for --mode protected and
 * --mode long only; an image must not overlap it then.  In real mode the
 * whole of RAM belongs to the image.
 */
#ifndef _VMCTL_BOOT_H
#define _VMCTL_BOOT_H

#define VMCTL_DEFAULT_LOAD_ADDR	0x10000

#define VMCTL_BOOT_START	0x1000
#define VMCTL_BOOT_GDT		0x1000
#define VMCTL_BOOT_TSS		0x1100
#define VMCTL_BOOT_TSS_LIMIT	0x67
#define VMCTL_BOOT_PML4		0x2000
#define VMCTL_BOOT_PDPT		0x3000
#define VMCTL_BOOT_PD		0x4000
#define VMCTL_BOOT_NR_PD	4
#define VMCTL_BOOT_END		0x8000

/* The BIOS area: the ACPI tables, found by a scan of 0xe0000-0xfffff. */
#define VMCTL_ACPI_BASE		0xe0000
#define VMCTL_IOAPIC_BASE	0xfec00000	/* dev_ioapic.c */
#define VMCTL_ACPI_END		0x100000
#define VMCTL_EBDA		0x9fc00

/* dev_acpi.c's ports, as the FADT describes them. */
#define VMCTL_ACPI_PM1A_EVT	0x600	/* 4 bytes: status, enable */
#define VMCTL_ACPI_PM1A_CNT	0x604	/* 2 bytes */
#define VMCTL_ACPI_PM_TMR	0x608	/* 4 bytes, 24-bit, 3.579545 MHz */
#define VMCTL_ACPI_SCI_IRQ	9
#define VMCTL_ACPI_RESET_PORT	0xcf9	/* the reset register, dev_reset.c */
#define VMCTL_ACPI_RESET_VALUE	0x06
#define VMCTL_ACPI_S5_TYP	5	/* SLP_TYP of \_S5 */

/* GDT selectors, the same in every mode so that reloads work. */
#define VMCTL_SEL_CODE32	0x08
#define VMCTL_SEL_DATA		0x10
#define VMCTL_SEL_CODE64	0x18
#define VMCTL_SEL_TSS		0x20
#define VMCTL_GDT_ENTRIES	6	/* the TSS descriptor takes two */

#endif /* _VMCTL_BOOT_H */
