// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: the ACPI fixed hardware that acpi.c's FADT
 * describes (ACPI 6.5 §4.8, "ACPI Hardware Specification"), at
 * 0x600-0x60b:
 *
 *	0x600  PM1a_STS   16 bits, write 1 to clear (§4.8.4.1.1)
 *	0x602  PM1a_EN    16 bits, stored (§4.8.4.1.2)
 *	0x604  PM1a_CNT   16 bits (§4.8.4.2.1)
 *	0x606  -          a hole: reads all ones
 *	0x608  PM_TMR     24-bit counter at 3.579545 MHz, read-only
 *	                  (§4.8.3.3); bits 24-31 read 0 (TMR_VAL_EXT is 0)
 *
 * Any access size at any offset works (ACPICA reads PM1 registers 16
 * bits at a time, Linux's clocksource the timer 32 bits at a time); a
 * read samples the timer once, so a 32-bit read is one value.
 *
 * PM1a_CNT: SCI_EN always reads 1 (the machine is always in ACPI mode:
 * the FADT's SMI_CMD is 0).  Writing SLP_EN (bit 13) puts the machine
 * in the sleep state whose type is in SLP_TYP (bits 10-12), in the same
 * write (§4.8.4.2.1; ACPICA writes SLP_TYP alone first, which does
 * nothing by itself):
 *   - VMCTL_ACPI_S5_TYP, the DSDT's \_S5 (soft off): the run ends with
 *     status VMCTL_EXIT_OK, as a powered-off PC would stay off;
 *   - any other type: the DSDT offers no S1-S4, so an OS never asks for
 *     them (SLP_TYP 0 is S0, working).  The machine "sleeps" and wakes
 *     at once: WAK_STS is set, as after a wake event, so that an OS
 *     spinning on WAK_STS after SLP_EN (ACPICA does for S1-S3) goes on.
 *
 * There are no events: nothing sets a status bit but the timer's
 * TMR_STS and the WAK_STS above, and the SCI (IRQ 9) is never raised,
 * whatever PM1a_EN holds.  reset() (a reboot) restores the power-on
 * state; the timer runs on.
 *
 * Runs on vmctl's one thread, at the guest's port I/O exits.
 */
#include <string.h>

#include "machine.h"

#define ACPI_BASE		VMCTL_ACPI_PM1A_EVT
#define ACPI_LEN		(VMCTL_ACPI_PM_TMR + 4 - ACPI_BASE)

/* Register offsets from ACPI_BASE, from boot.h's ports. */
#define ACPI_PM1_STS		0
#define ACPI_PM1_EN		2
#define ACPI_PM1_CNT		(VMCTL_ACPI_PM1A_CNT - ACPI_BASE)
#define ACPI_PM_TMR		(VMCTL_ACPI_PM_TMR - ACPI_BASE)

_Static_assert(ACPI_PM1_CNT == 4 && ACPI_PM_TMR == 8,
	       "boot.h's ports are one block: EVT, CNT, hole, TMR");

/* PM1 status and enable bits (Tables 4.16, 4.17) */
#define ACPI_PM1_TMR		(1u << 0)	/* TMR_STS / TMR_EN */
#define ACPI_PM1_BM_STS		(1u << 4)
#define ACPI_PM1_GBL		(1u << 5)	/* GBL_STS / GBL_EN */
#define ACPI_PM1_PWRBTN		(1u << 8)
#define ACPI_PM1_SLPBTN		(1u << 9)
#define ACPI_PM1_RTC		(1u << 10)
#define ACPI_PM1_PCIEXP_WAKE	(1u << 14)	/* _STS / _DIS */
#define ACPI_PM1_WAK_STS	(1u << 15)

#define ACPI_PM1_EN_BITS	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
				 ACPI_PM1_SLPBTN | ACPI_PM1_RTC | \
				 ACPI_PM1_PCIEXP_WAKE)

/* PM1 control bits (Table 4.18) */
#define ACPI_PM1_SCI_EN		(1u << 0)
#define ACPI_PM1_BM_RLD		(1u << 1)
#define ACPI_PM1_GBL_RLS	(1u << 2)	/* write-only: to the BIOS */
#define ACPI_PM1_SLP_TYP_SHIFT	10
#define ACPI_PM1_SLP_TYP	(7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN		(1u << 13)	/* write-only */

/* §4.8.3.3: the PM timer's clock, and TMR_STS on a change of bit 23. */
#define ACPI_PM_TMR_HZ		3579545ULL
#define ACPI_PM_TMR_BITS	24
#define NSEC_PER_SEC		1000000000ULL

static struct {
	__u16 sts;		/* PM1_STS, but TMR_STS: see acpi_sts() */
	__u16 en;		/* PM1_EN */
	__u16 cnt;		/* PM1_CNT: SCI_EN, BM_RLD, SLP_TYP */
	__u64 tmr_epoch;	/* the timer's ticks >> 23 when TMR_STS cleared */
} acpi = {
	.cnt = ACPI_PM1_SCI_EN,
};

/*
 * Timer ticks since CLOCK_MONOTONIC's zero: monotonic, as Linux's
 * acpi_pm clocksource checks.  In two parts, so that the product does
 * not overflow 64 bits after 85 minutes of uptime.
 */
static __u64 acpi_pm_ticks(void)
{
	__u64 ns = vmctl_now_ns();

	return ns / NSEC_PER_SEC * ACPI_PM_TMR_HZ +
	       ns % NSEC_PER_SEC * ACPI_PM_TMR_HZ / NSEC_PER_SEC;
}

/* TMR_STS: set whenever bit 23 of the counter changed since cleared. */
static __u16 acpi_sts(__u64 ticks)
{
	__u64 epoch = ticks >> (ACPI_PM_TMR_BITS - 1);

	return acpi.sts | (epoch != acpi.tmr_epoch ? ACPI_PM1_TMR : 0);
}

static void acpi_sts_write(__u16 val, __u64 ticks)
{
	acpi.sts &= ~val;
	if (val & ACPI_PM1_TMR)
		acpi.tmr_epoch = ticks >> (ACPI_PM_TMR_BITS - 1);
}

/* Bits of PM1_CNT in @mask take their value from @val. */
static void acpi_cnt_write(struct vmctl_machine *m, __u16 val, __u16 mask)
{
	__u16 cnt = (acpi.cnt & ~mask) | (val & mask);
	unsigned int typ;

	acpi.cnt = ACPI_PM1_SCI_EN |
		   (cnt & (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP));
	if (!(mask & val & ACPI_PM1_SLP_EN))
		return;
	typ = (cnt & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHIFT;
	if (typ == VMCTL_ACPI_S5_TYP) {
		m->status = VMCTL_EXIT_OK;
		m->stop = true;
		return;
	}
	acpi.sts |= ACPI_PM1_WAK_STS;
}

static void acpi_io(struct vmctl_machine *m, __u16 port, bool out,
		    __u8 *data, unsigned int size)
{
	unsigned int off = port - ACPI_BASE, i;
	__u64 ticks = acpi_pm_ticks();
	__u16 val[3] = { 0 }, mask[3] = { 0 };
	__u8 regs[ACPI_LEN];
	__u32 tmr;

	if (!out) {
		__u16 sts = acpi_sts(ticks);

		tmr = ticks & ((1u << ACPI_PM_TMR_BITS) - 1);
		memset(regs, 0xff, sizeof(regs));
		memcpy(regs + ACPI_PM1_STS, &sts, 2);
		memcpy(regs + ACPI_PM1_EN, &acpi.en, 2);
		memcpy(regs + ACPI_PM1_CNT, &acpi.cnt, 2);
		memcpy(regs + ACPI_PM_TMR, &tmr, 4);
		for (i = 0; i < size; i++)
			data[i] = off + i < ACPI_LEN ? regs[off + i] : 0xff;
		return;
	}

	/* Gather the bytes written into the three 16-bit PM1 registers. */
	for (i = 0; i < size && off + i < ACPI_PM1_CNT + 2; i++) {
		unsigned int reg = (off + i) / 2, shift = (off + i) % 2 * 8;

		val[reg] |= data[i] << shift;
		mask[reg] |= 0xff << shift;
	}
	if (mask[0])
		acpi_sts_write(val[0], ticks);
	if (mask[1])
		acpi.en = (acpi.en & ~mask[1]) |
			  (val[1] & mask[1] & ACPI_PM1_EN_BITS);
	if (mask[2])
		acpi_cnt_write(m, val[2], mask[2]);
	/* The timer and the hole ignore writes. */
}

static void acpi_reset(struct vmctl_machine *m)
{
	(void)m;
	acpi.sts = 0;
	acpi.en = 0;
	acpi.cnt = ACPI_PM1_SCI_EN;
}

const struct vmctl_io_dev vmctl_dev_acpi = {
	.name = "acpi",
	.base = ACPI_BASE,
	.len = ACPI_LEN,
	.wide = true,
	.io = acpi_io,
	.reset = acpi_reset,
};
