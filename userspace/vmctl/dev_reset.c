// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run devices: the two ways a PC guest resets the machine, each
 * ending the run with VMCTL_EXIT_RESET.  Runs on the run loop's thread,
 * like every device.
 *
 *  1. The reset control register at 0xcf9 (Intel ICH/PCH datasheets,
 *     "RST_CNT"; the ACPI FADT's reset register, boot.h): a byte write
 *     with RST_CPU (bit 2) set resets; reads give the last value.  Linux
 *     writes 0x02 then 0x06 (arch/x86/kernel/reboot.c, BOOT_CF9_FORCE).
 *  2. The 8042 keyboard controller's command port at 0x64 and data
 *     port at 0x60, just enough for a reset: its status always says
 *     input buffer empty and no output, so a guest's kb_wait() ends at
 *     once; command 0xfe pulses the CPU reset line; every other command
 *     and all data are taken and dropped, and 0x60 reads 0.  There is no
 *     keyboard: Linux's i8042 driver finds no controller that answers.
 *
 * The register at 0xcf9 is a byte register inside the PCI configuration
 * address dword at 0xcf8: a chipset decodes only byte accesses there as
 * RST_CNT.  So this device claims 0xcf8-0xcf9 whole (wide), and a dword
 * write to 0xcf8 (Linux's PCI probe writes 0x80000000 | devfn << 8 ...)
 * never reaches RST_CNT as its byte 1.  There is no PCI: 0xcf8 reads as
 * all ones and ignores writes.
 */
#include <string.h>

#include "machine.h"

#define RST_CNT_PORT	0xcf9
#define RST_CNT_RST_CPU	0x04
#define RST_CNT_MASK	0x0e	/* SYS_RST, RST_CPU, FULL_RST */

#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define I8042_STR_SYS	0x04	/* self-test passed */
#define I8042_STR_CMD	0x08	/* the last write was to 0x64 */
#define I8042_STR_UNLOCKED 0x10	/* keyboard not inhibited */
#define I8042_CMD_PULSE_RESET 0xfe

static __u8 rst_cnt;
static bool i8042_last_cmd;

static void machine_reset(struct vmctl_machine *m)
{
	m->stop = true;
	m->status = VMCTL_EXIT_RESET;
}

/* 1. RST_CNT */

static void rst_cnt_io(struct vmctl_machine *m, __u16 port, bool out,
		       __u8 *data, unsigned int size)
{
	if (port != RST_CNT_PORT || size != 1) {
		if (!out)
			memset(data, 0xff, size);
		return;
	}
	if (!out) {
		*data = rst_cnt;
		return;
	}
	rst_cnt = *data & RST_CNT_MASK;
	if (rst_cnt & RST_CNT_RST_CPU)
		machine_reset(m);
}

/* 2. The 8042 */

static void i8042_io(struct vmctl_machine *m, __u16 port, bool out,
		     __u8 *data, unsigned int size)
{
	(void)size;		/* 1: not a wide device */
	if (!out) {
		*data = port == I8042_CMD ?
			I8042_STR_SYS | I8042_STR_UNLOCKED |
			(i8042_last_cmd ? I8042_STR_CMD : 0) : 0;
		return;
	}
	i8042_last_cmd = port == I8042_CMD;
	if (port == I8042_CMD && *data == I8042_CMD_PULSE_RESET)
		machine_reset(m);
}

static void reset_reset(struct vmctl_machine *m)
{
	(void)m;
	rst_cnt = 0;
	i8042_last_cmd = false;
}

const struct vmctl_io_dev vmctl_dev_reset = {
	.name = "reset",
	.base = 0xcf8,
	.len = 2,
	.wide = true,
	.io = rst_cnt_io,
	.reset = reset_reset,
};

/* Two devices, so that port 0x61 (dev_i8254.c) between them is not ours. */
const struct vmctl_io_dev vmctl_dev_i8042_data = {
	.name = "i8042-data",
	.base = I8042_DATA,
	.len = 1,
	.io = i8042_io,
};

const struct vmctl_io_dev vmctl_dev_i8042_cmd = {
	.name = "i8042-cmd",
	.base = I8042_CMD,
	.len = 1,
	.io = i8042_io,
};
