// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: an I/O APIC at 0xfec00000 (only with the in-kernel local
 * APICs, --vcpus N or --lapic), the 82093AA's register set: the index
 * register IOREGSEL at +0x00, the data window IOWIN at +0x10, and
 * behind them the ID (0), version (1), arbitration (2) and 24
 * redirection entries (0x10 + 2n: low and high halves).  References are
 * to the Intel 82093AA datasheet (order no. 290566-001), by section.
 *
 * ISA IRQ n drives pin n, except IRQ 0 (the PIT), which drives pin 2 as
 * the MADT's interrupt source override says (acpi.c).  An unmasked
 * entry whose pin is asserted sends its message through
 * RINGVM_SIGNAL_MSI: edge-triggered on the rising edge, level-triggered
 * whenever the line is (or becomes, by unmasking) asserted and the
 * entry's remote IRR is clear (§3.2.4).  A level message sets the remote
 * IRR; the local APIC's EOI of its vector (RINGVM_EXIT_EOI) clears it,
 * and a line still asserted then sends again.  Without EOI exits (the
 * KVM backend, which reports them only for routes vmctl does not set up)
 * the remote IRR is not modelled and a level line sends on each rise.
 *
 * Context: the vCPU threads and the device loop, with the machine's
 * device lock held (run.c).
 */
#include <string.h>

#include "machine.h"

#define IOAPIC_PINS		24
#define IOAPIC_VERSION		(0x11 | ((IOAPIC_PINS - 1) << 16))
#define RTE_VECTOR		0xffULL
#define RTE_MODE		(7ULL << 8)
#define RTE_MODE_LOWEST		(1ULL << 8)	/* fixed is 0 */
#define RTE_LOGICAL		(1ULL << 11)
#define RTE_ACTIVE_LOW		(1ULL << 13)
#define RTE_REMOTE_IRR		(1ULL << 14)
#define RTE_LEVEL		(1ULL << 15)
#define RTE_MASKED		(1ULL << 16)
/* The bits software may write (§3.2.4): not delivery status, remote IRR */
#define RTE_WRITABLE		(0xff00000000000000ULL | RTE_MASKED |	\
				 RTE_LEVEL | RTE_ACTIVE_LOW | RTE_LOGICAL | \
				 RTE_MODE | RTE_VECTOR)

static struct {
	__u32 sel;
	__u32 id;
	__u64 rte[IOAPIC_PINS];
	bool line[IOAPIC_PINS];
} ioapic;

static void ioapic_reset(void)
{
	unsigned int i;

	memset(&ioapic, 0, sizeof(ioapic));
	for (i = 0; i < IOAPIC_PINS; i++)
		ioapic.rte[i] = RTE_MASKED;
}

/* The pin's message, if its entry is unmasked and its line asserted. */
static void ioapic_send(struct vmctl_machine *m, unsigned int pin)
{
	__u64 rte = ioapic.rte[pin];
	__u64 addr;
	__u32 data;

	if (rte & RTE_MASKED)
		return;
	if (ioapic.line[pin] == !!(rte & RTE_ACTIVE_LOW))
		return;
	/* one level message until the EOI, §3.2.4 (only with EOI exits) */
	if ((rte & RTE_LEVEL) && (rte & RTE_REMOTE_IRR))
		return;
	/* Intel SDM Vol. 3A §10.11.1-2: the MSI the entry stands for */
	addr = 0xfee00000ULL | ((rte >> 56) << 12) |
	       (rte & RTE_LOGICAL ? 1 << 2 : 0);
	data = (rte & (RTE_VECTOR | RTE_MODE | RTE_LEVEL)) | (1 << 14);
	/*
	 * The remote IRR is set when a local APIC accepted the interrupt:
	 * a fixed or lowest-priority one (the others end with no EOI) that
	 * reached an enabled APIC (SIGNAL_MSI counts those).  Under the
	 * device lock: the EOI exit that clears it waits for it.
	 */
	if (vmctl_signal_msi(m, addr, data) > 0 && (rte & RTE_LEVEL) &&
	    (rte & RTE_MODE) <= RTE_MODE_LOWEST && m->eoi_exits)
		ioapic.rte[pin] |= RTE_REMOTE_IRR;
}

void vmctl_ioapic_line(struct vmctl_machine *m, unsigned int irq, bool level)
{
	unsigned int pin = irq == 0 ? 2 : irq;
	bool old;

	if (!m->lapic || pin >= IOAPIC_PINS)
		return;
	old = ioapic.line[pin];
	ioapic.line[pin] = level;
	if (level != old)	/* sent only if it is now asserted */
		ioapic_send(m, pin);
}

static __u32 ioapic_read(void)
{
	__u32 reg = ioapic.sel & 0xff;

	switch (reg) {
	case 0:
		return ioapic.id << 24;
	case 1:
		return IOAPIC_VERSION;
	case 2:
		return ioapic.id << 24;		/* arbitration ID */
	}
	if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS)
		return reg & 1 ? ioapic.rte[(reg - 0x10) / 2] >> 32 :
				 (__u32)ioapic.rte[(reg - 0x10) / 2];
	return 0;
}

static void ioapic_write(struct vmctl_machine *m, __u32 val)
{
	__u32 reg = ioapic.sel & 0xff;
	unsigned int pin;
	__u64 rte;

	if (reg == 0) {
		ioapic.id = (val >> 24) & 0xf;
		return;
	}
	if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_PINS)
		return;		/* version, arbitration: read-only */
	pin = (reg - 0x10) / 2;
	rte = ioapic.rte[pin];
	if (reg & 1)
		rte = (rte & 0xffffffffULL) | ((__u64)val << 32);
	else
		rte = (rte & ~0xffffffffULL) | val;
	/* The remote IRR is read-only; an edge entry has none. */
	rte = (rte & RTE_WRITABLE) | (ioapic.rte[pin] & RTE_REMOTE_IRR);
	if (!(rte & RTE_LEVEL))
		rte &= ~RTE_REMOTE_IRR;
	ioapic.rte[pin] = rte;
	/* Unmasking a level-triggered pin that is asserted delivers it. */
	if (!(reg & 1) && (ioapic.rte[pin] & RTE_LEVEL))
		ioapic_send(m, pin);
}

/*
 * A local APIC's EOI of a level-triggered @vector (RINGVM_EXIT_EOI): the
 * EOI message clears the remote IRR of each entry with that vector
 * (§3.2.4), and a line still asserted sends again.
 */
void vmctl_ioapic_eoi(struct vmctl_machine *m, __u8 vector)
{
	unsigned int pin;

	if (!m->lapic)
		return;
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((ioapic.rte[pin] & RTE_VECTOR) != vector ||
		    !(ioapic.rte[pin] & RTE_REMOTE_IRR))
			continue;
		ioapic.rte[pin] &= ~RTE_REMOTE_IRR;
		ioapic_send(m, pin);
	}
}

/*
 * An MMIO access the module left to vmctl: true if it was the I/O
 * APIC's page.  Registers are 32 bits wide (§3.0); other widths read 0.
 */
bool vmctl_ioapic_mmio(struct vmctl_machine *m, __u64 gpa, bool write,
		       __u8 *data, unsigned int len)
{
	__u64 off = gpa - VMCTL_IOAPIC_BASE;
	__u32 val = 0;

	if (!m->lapic || gpa < VMCTL_IOAPIC_BASE || off >= 0x1000)
		return false;
	if (write) {
		memcpy(&val, data, len < 4 ? len : 4);
		if (off == 0x00 && len == 4)
			ioapic.sel = val;
		else if (off == 0x10 && len == 4)
			ioapic_write(m, val);
		return true;
	}
	if (off == 0x00)
		val = ioapic.sel;
	else if (off == 0x10)
		val = ioapic_read();
	memset(data, 0, len);
	memcpy(data, &val, len < 4 ? len : 4);
	return true;
}

void vmctl_ioapic_init(struct vmctl_machine *m)
{
	(void)m;
	ioapic_reset();
}
