// SPDX-License-Identifier: GPL-2.0
/* vmctl run --kernel: placeholder until the multiboot loader lands. */
#include "machine.h"

static bool multiboot_probe(const struct vmctl_kernel *k)
{
	(void)k;
	return false;
}

static int multiboot_load(struct vmctl_machine *m, const struct vmctl_kernel *k)
{
	(void)m;
	(void)k;
	return VMCTL_EXIT_FAIL;
}

const struct vmctl_loader vmctl_loader_multiboot = {
	.name = "multiboot",
	.probe = multiboot_probe,
	.load = multiboot_load,
};
