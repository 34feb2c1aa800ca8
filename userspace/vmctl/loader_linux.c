// SPDX-License-Identifier: GPL-2.0
/* vmctl run --kernel: placeholder until the linux loader lands. */
#include "machine.h"

static bool linux_probe(const struct vmctl_kernel *k)
{
	(void)k;
	return false;
}

static int linux_load(struct vmctl_machine *m, const struct vmctl_kernel *k)
{
	(void)m;
	(void)k;
	return VMCTL_EXIT_FAIL;
}

const struct vmctl_loader vmctl_loader_linux = {
	.name = "linux",
	.probe = linux_probe,
	.load = linux_load,
};
