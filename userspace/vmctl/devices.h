/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The devices of vmctl run, one dev_NAME.c file each defining
 * "const struct vmctl_io_dev vmctl_dev_NAME" (a file whose chip sits at
 * ports apart defines one for each range).  Included with VMCTL_DEV(name)
 * defined; no include guard on purpose.  A port no device claims reads
 * as all ones and ignores writes.
 */
VMCTL_DEV(uart8250)	/* COM1, 0x3f8-0x3ff, IRQ 4: the guest's console */
VMCTL_DEV(test_exit)	/* 0xf4: ends the run, like QEMU's isa-debug-exit */
VMCTL_DEV(i8259_master)	/* dev_i8259.c: PIC 0x20-0x21 */
VMCTL_DEV(i8259_slave)	/* dev_i8259.c: PIC 0xa0-0xa1, on IRQ 2 */
VMCTL_DEV(elcr)		/* dev_i8259.c: edge/level control 0x4d0-0x4d1 */
VMCTL_DEV(i8254)	/* PIT 0x40-0x43, channel 0 on IRQ 0 */
VMCTL_DEV(port_b)	/* dev_i8254.c: 0x61, channel 2's gate and OUT */
VMCTL_DEV(rtc)		/* CMOS RTC 0x70-0x71, IRQ 8 */
VMCTL_DEV(port80)	/* 0x80: POST codes, Linux's delay port */
VMCTL_DEV(reset)	/* dev_reset.c: 0xcf9 reset control (0xcf8-0xcf9) */
VMCTL_DEV(i8042_data)	/* dev_reset.c: 8042 data 0x60 */
VMCTL_DEV(i8042_cmd)	/* dev_reset.c: 8042 command 0x64, 0xfe resets */
VMCTL_DEV(acpi)		/* 0x600-0x60b: PM1a event and control, PM timer */
