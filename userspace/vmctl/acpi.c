// SPDX-License-Identifier: GPL-2.0
/* vmctl run: placeholder until the ACPI tables land (branch acpi). */
#include "machine.h"

__u64 vmctl_acpi_setup(struct vmctl_machine *m)
{
	(void)m;
	return VMCTL_ACPI_BASE;		/* no tables written yet */
}
