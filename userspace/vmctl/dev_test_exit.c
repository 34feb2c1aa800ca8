// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: the test-exit port 0xf4, like QEMU's isa-debug-exit.
 * A write of value V (1, 2 or 4 bytes) ends the run, and vmctl exits
 * with status (V << 1) | 1, truncated to 8 bits by the system: a guest
 * that writes 0 makes vmctl exit 1, and every status a guest can cause
 * this way is odd, unlike vmctl's own.  Reads return all ones.
 */
#include <string.h>

#include "machine.h"

static void test_exit_io(struct vmctl_machine *m, __u16 port, bool out,
			 __u8 *data, unsigned int size)
{
	__u32 v = 0;

	(void)port;
	if (!out) {
		memset(data, 0xff, size);
		return;
	}
	memcpy(&v, data, size);		/* little-endian, as the guest's */
	m->status = ((v << 1) | 1) & 0xff;
	m->stop = true;
}

const struct vmctl_io_dev vmctl_dev_test_exit = {
	.name = "test-exit",
	.base = 0xf4,
	.len = 1,
	.wide = true,
	.io = test_exit_io,
};
