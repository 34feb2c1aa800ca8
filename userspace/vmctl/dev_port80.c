// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: port 0x80, where a PC BIOS writes its POST codes
 * and which Linux writes to as a short delay (io_delay).  Writes are
 * kept, reads return the last one, as on the POST cards that show it;
 * nothing is printed, so a guest may write it as often as it likes.
 * Runs on the run loop's thread, like every device.
 */
#include "machine.h"

static __u8 post_code;

static void port80_io(struct vmctl_machine *m, __u16 port, bool out,
		      __u8 *data, unsigned int size)
{
	(void)m;
	(void)port;
	(void)size;		/* 1: not a wide device */
	if (out)
		post_code = *data;
	else
		*data = post_code;
}

const struct vmctl_io_dev vmctl_dev_port80 = {
	.name = "port80",
	.base = 0x80,
	.len = 1,
	.io = port80_io,
};
