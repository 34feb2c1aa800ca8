/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The devices of vmctl run, one dev_NAME.c file each defining
 * "const struct vmctl_io_dev vmctl_dev_NAME".  Included with
 * VMCTL_DEV(name) defined; no include guard on purpose.  A port no
 * device claims reads as all ones and ignores writes.
 */
VMCTL_DEV(uart8250)	/* COM1, 0x3f8-0x3ff: the guest's console */
VMCTL_DEV(test_exit)	/* 0xf4: ends the run, like QEMU's isa-debug-exit */
VMCTL_DEV(acpi)		/* 0x600-0x60b: PM1a event and control, PM timer */
