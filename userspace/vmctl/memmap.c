// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: the guest-physical memory map of a PC, as the loaders hand
 * it to a kernel (machine.h).  Below 1 MiB a PC has RAM up to the EBDA,
 * the VGA window and option ROMs, and the BIOS area; ringvm's RAM
 * region starts at 0 and covers all of it, so the map carves those
 * holes out of it and marks the BIOS area (where acpi.c puts the
 * tables) reserved, as firmware would.
 */
#include "machine.h"

static void add(struct vmctl_mem_range *r, unsigned int *n, __u64 start,
		__u64 end, __u32 type)
{
	if (end <= start || *n >= VMCTL_MAX_MEM_RANGES)
		return;
	r[(*n)++] = (struct vmctl_mem_range) {
		.addr = start, .size = end - start, .type = type,
	};
}

unsigned int vmctl_memory_map(struct vmctl_machine *m,
			      struct vmctl_mem_range *r)
{
	unsigned int i, n = 0;
	bool bios = false;

	for (i = 0; i < m->nr_ram; i++) {
		__u64 start = m->ram[i].gpa, end = start + m->ram[i].size;

		if (start < VMCTL_EBDA)
			add(r, &n, start, end < VMCTL_EBDA ? end : VMCTL_EBDA,
			    VMCTL_E820_RAM);
		if (start < VMCTL_ACPI_END && end > VMCTL_ACPI_BASE &&
		    !bios) {
			add(r, &n, VMCTL_EBDA, 0xa0000, VMCTL_E820_RESERVED);
			add(r, &n, VMCTL_ACPI_BASE, VMCTL_ACPI_END,
			    VMCTL_E820_RESERVED);
			bios = true;
		}
		if (end > VMCTL_ACPI_END)
			add(r, &n, start > VMCTL_ACPI_END ? start :
				   VMCTL_ACPI_END, end, VMCTL_E820_RAM);
	}
	return n;
}

__u64 vmctl_ram_from(struct vmctl_machine *m, __u64 gpa)
{
	__u64 len = 0;
	bool found;
	unsigned int i;

	do {
		__u64 at = gpa + len;

		found = false;
		if (at < gpa)		/* wrapped: nothing is above 2^64 */
			break;
		for (i = 0; i < m->nr_ram; i++) {
			const struct vmctl_ram *r = &m->ram[i];

			if (at >= r->gpa && at - r->gpa < r->size) {
				len = r->gpa + r->size - gpa;
				found = true;
			}
		}
	} while (found);
	return len;
}
