// SPDX-License-Identifier: GPL-2.0
/* vmctl run: placeholder until the i8259 PIC lands (branch devices). */
#include "machine.h"

void vmctl_irq_line(struct vmctl_machine *m, unsigned int irq, bool level)
{
	(void)m;
	(void)irq;
	(void)level;
}

bool vmctl_pic_intr(struct vmctl_machine *m)
{
	(void)m;
	return false;
}

__u8 vmctl_pic_intack(struct vmctl_machine *m)
{
	(void)m;
	return 0x27;		/* the spurious IRQ 7 of a PIC at 0x20 */
}
