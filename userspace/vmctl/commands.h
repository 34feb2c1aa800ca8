/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subcommands of vmctl, in the order "vmctl help" lists them.  Included
 * with VMCTL_CMD(name) defined; no include guard on purpose.
 */
VMCTL_CMD(info)
VMCTL_CMD(create)
VMCTL_CMD(list)
VMCTL_CMD(run)
VMCTL_CMD(destroy)
VMCTL_CMD(stat)
VMCTL_CMD(top)
VMCTL_CMD(doctor)
