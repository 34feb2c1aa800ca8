// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: the PC's two 8259A interrupt controllers, master at
 * 0x20-0x21 and slave at 0xa0-0xa1 cascaded into the master's IR2, and
 * the edge/level control registers (ELCR) at 0x4d0-0x4d1.  Runs on the
 * run loop's thread, like every device; no locking.
 *
 *  1. The chip: request, in-service and mask registers, the priority
 *     resolver (fully nested, rotation, special mask mode).
 *  2. The pair: the cascade, the INTR output and the acknowledge cycle
 *     with its spurious IRQ 7 / IRQ 15 (machine.h's vmctl_irq_line,
 *     vmctl_pic_intr, vmctl_pic_intack).
 *  3. Programming: ICW1-ICW4, OCW1-OCW3, the poll command, the ELCR.
 *
 * References are to the Intel 8259A datasheet (order no. 231468-003,
 * December 1988), "8259A" below, by section.
 *
 * Edge requests.  The 8259A's edge sense latch sets IRR on a rising
 * edge, but the datasheet also asks that the IR input stay high until
 * the first INTA ("Edge Triggered Mode").  Devices here pulse their line
 * (machine.h), so an edge request stays latched in IRR until it is
 * acknowledged, masked or not, as every PC emulator does; the request
 * that vanishes before INTA is the level-triggered one whose line fell,
 * or one masked by OCW1 after INTR went up.  Either gives the spurious
 * IRQ 7 (IRQ 15 on the slave) that the datasheet describes.
 *
 * Until it is initialized (ICW1..ICW4 after a reset) a chip asserts no
 * INTR: on a PC the BIOS has always programmed it before the OS runs,
 * and the power-on vector base (0) would name exceptions.
 */
#include "machine.h"

#define PIC_MASTER	0x20
#define PIC_SLAVE	0xa0
#define PIC_ELCR	0x4d0
#define PIC_CASCADE_IR	2

/* Port A0 = 0, data bit 4 set: ICW1 (8259A, "Initialization Command Words") */
#define ICW1		0x10
#define ICW1_IC4	0x01	/* ICW4 follows */
#define ICW1_SNGL	0x02	/* single: no ICW3 */
#define ICW1_LTIM	0x08	/* every input level triggered */
#define ICW4_AEOI	0x02	/* automatic end of interrupt */
#define ICW4_SFNM	0x10	/* special fully nested mode */

/* Port A0 = 0, bit 4 clear: bit 3 tells OCW3 (set) from OCW2 (clear). */
#define OCW3		0x08
#define OCW3_RIS	0x01	/* read ISR, not IRR (with RR) */
#define OCW3_RR		0x02	/* take RIS */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode (with ESMM) */
#define OCW3_ESMM	0x40

/* OCW2 bits 7-5: R SL EOI (8259A Figure 8) */
#define OCW2_CMD(v)	((v) >> 5)
#define OCW2_LEVEL(v)	((v) & 7)
#define OCW2_AEOI_ROT_CLEAR	0	/* rotate in AEOI mode: clear */
#define OCW2_EOI		1	/* non-specific EOI */
#define OCW2_NOP		2
#define OCW2_SPECIFIC_EOI	3
#define OCW2_AEOI_ROT_SET	4	/* rotate in AEOI mode: set */
#define OCW2_ROTATE_EOI		5	/* rotate on non-specific EOI */
#define OCW2_SET_PRIORITY	6
#define OCW2_ROTATE_SEOI	7	/* rotate on specific EOI */

/* The ELCR bits that must stay 0: IRQ 0, 1, 2, 8, 13 (PIIX/ICH). */
#define ELCR_MASTER_MASK	0xf8
#define ELCR_SLAVE_MASK		0xde

/* 1. The chip */

struct pic {
	__u8 lines;		/* the IR inputs' levels */
	__u8 irr;		/* interrupt request register */
	__u8 isr;		/* in-service register */
	__u8 imr;		/* interrupt mask register (OCW1) */
	__u8 elcr;		/* level-triggered inputs */
	__u8 vector_base;	/* ICW2, bits 7-3 */
	__u8 icw3;
	__u8 lowest;		/* the input with the lowest priority */
	__u8 init_step;		/* next ICW expected: 2, 3, 4; 0 when done */
	bool icw4_needed;
	bool single;
	bool ltim;
	bool auto_eoi;
	bool rotate_on_aeoi;
	bool sfnm;
	bool special_mask;
	bool read_isr;		/* OCW3: the command port reads ISR */
	bool poll;		/* OCW3: the next read is a poll */
	bool initialized;
};

static struct pic pics[2] = {	/* master, slave */
	{ .lowest = 7 }, { .lowest = 7 },
};

#define MASTER	(&pics[0])
#define SLAVE	(&pics[1])

static bool pic_level_triggered(const struct pic *p, unsigned int ir)
{
	return p->ltim || (p->elcr & (1U << ir));
}

/* An input's new level: latch a rising edge, or follow a level. */
static void pic_set_input(struct pic *p, unsigned int ir, bool level)
{
	__u8 bit = 1U << ir;

	if (pic_level_triggered(p, ir)) {
		if (level)
			p->irr |= bit;
		else
			p->irr &= ~bit;
	} else if (level && !(p->lines & bit)) {
		p->irr |= bit;
	}
	if (level)
		p->lines |= bit;
	else
		p->lines &= ~bit;
}

/*
 * The input of highest priority in @mask, or -1.  IR(lowest + 1) has
 * the highest priority, then on round to IR(lowest) (8259A "Rotation").
 */
static int pic_highest(const struct pic *p, __u8 mask)
{
	unsigned int i;

	for (i = 1; i <= 8; i++) {
		unsigned int ir = (p->lowest + i) & 7;

		if (mask & (1U << ir))
			return ir;
	}
	return -1;
}

/* Priority rank of @ir: 0 is the highest. */
static unsigned int pic_rank(const struct pic *p, unsigned int ir)
{
	return (ir - p->lowest - 1) & 7;
}

/*
 * The request the chip would present now, or -1: the highest-priority
 * unmasked one, if it outranks everything in service (fully nested
 * mode).  In special mask mode a masked in-service level does not
 * inhibit the others (8259A "Special Mask Mode"); in special fully
 * nested mode the master lets the slave interrupt an in-service IR2
 * (8259A "Special Fully Nest Mode").
 */
static int pic_pending(const struct pic *p)
{
	__u8 isr = p->isr;
	int req, svc;

	req = pic_highest(p, p->irr & ~p->imr);
	if (req < 0)
		return -1;
	if (p->special_mask)
		isr &= ~p->imr;
	svc = pic_highest(p, isr);
	if (svc < 0)
		return req;
	if (p == MASTER && p->sfnm && svc == PIC_CASCADE_IR &&
	    req == PIC_CASCADE_IR)
		return req;
	return pic_rank(p, svc) <= pic_rank(p, req) ? -1 : req;
}

/* Put @ir in service, as the INTA pulses (or a poll) do. */
static void pic_ack(struct pic *p, unsigned int ir)
{
	__u8 bit = 1U << ir;

	/* A level request stays in IRR while its line is high. */
	if (!pic_level_triggered(p, ir) || !(p->lines & bit))
		p->irr &= ~bit;
	if (p->auto_eoi) {
		if (p->rotate_on_aeoi)
			p->lowest = ir;
	} else {
		p->isr |= bit;
	}
}

/* 2. The pair */

/*
 * The slave's INT output is the master's IR2.  @intack: the slave was
 * just acknowledged, and its INT output falls during the INTA cycle, so
 * a request still pending afterwards is a new edge for the master.
 */
static void pic_cascade(bool intack)
{
	bool out = SLAVE->initialized && !SLAVE->init_step &&
		   pic_pending(SLAVE) >= 0;

	if (intack)
		pic_set_input(MASTER, PIC_CASCADE_IR, false);
	pic_set_input(MASTER, PIC_CASCADE_IR, out);
}

void vmctl_irq_line(struct vmctl_machine *m, unsigned int irq, bool level)
{
	vmctl_ioapic_line(m, irq, level);
	if (irq >= 16 || irq == PIC_CASCADE_IR)
		return;
	pic_set_input(&pics[irq >> 3], irq & 7, level);
	if (irq >= 8)
		pic_cascade(false);
}

bool vmctl_pic_intr(struct vmctl_machine *m)
{
	(void)m;
	return MASTER->initialized && !MASTER->init_step &&
	       pic_pending(MASTER) >= 0;
}

bool vmctl_pic_irq_enabled(struct vmctl_machine *m, unsigned int irq)
{
	const struct pic *p;

	(void)m;
	if (irq >= 16)		/* before &pics[irq >> 3] is formed */
		return false;
	p = &pics[irq >> 3];
	return p->initialized && !p->init_step &&
	       !(p->imr & (1U << (irq & 7)));
}

bool vmctl_pic_irq_waiting(struct vmctl_machine *m, unsigned int irq)
{
	return vmctl_pic_irq_enabled(m, irq) &&
	       (pics[irq >> 3].irr & (1U << (irq & 7)));
}

/*
 * The INTA cycle (8259A "Interrupt Sequence").  A request that is gone
 * by now (its level fell, or OCW1 masked it) leaves the chip nothing to
 * resolve: it answers IR7's vector without setting ISR bit 7 (8259A
 * "Interrupt Sequence", last paragraph).  On the slave, the master has
 * already put IR2 in service, so the handler of the spurious IRQ 15
 * finds the master's IR2 to acknowledge, as Linux's does.
 */
__u8 vmctl_pic_intack(struct vmctl_machine *m)
{
	struct pic *p = MASTER;
	int ir = pic_pending(MASTER);

	if (ir < 0)
		return MASTER->vector_base | 7;
	pic_ack(MASTER, ir);
	/* IRQ 0 taken: the PIT may have more ticks owed to give */
	if (ir == 0)
		m->update_needed = true;
	if (ir == PIC_CASCADE_IR && !MASTER->single) {
		p = SLAVE;
		ir = pic_pending(SLAVE);
		if (ir >= 0)
			pic_ack(SLAVE, ir);
		pic_cascade(true);
		if (ir < 0)
			return SLAVE->vector_base | 7;
	}
	return p->vector_base | ir;
}

/* 3. Programming */

static void pic_eoi(struct pic *p, int ir, bool rotate)
{
	if (ir < 0)
		return;
	p->isr &= ~(1U << ir);
	if (rotate)
		p->lowest = ir;
}

/* OCW2 (8259A Figure 8 and "End of Interrupt") */
static void pic_ocw2(struct pic *p, __u8 val)
{
	unsigned int level = OCW2_LEVEL(val);

	switch (OCW2_CMD(val)) {
	case OCW2_AEOI_ROT_CLEAR:
		p->rotate_on_aeoi = false;
		break;
	case OCW2_AEOI_ROT_SET:
		p->rotate_on_aeoi = true;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		/* The highest-priority level in service ends. */
		pic_eoi(p, pic_highest(p, p->isr),
			OCW2_CMD(val) == OCW2_ROTATE_EOI);
		break;
	case OCW2_SPECIFIC_EOI:
	case OCW2_ROTATE_SEOI:
		pic_eoi(p, level, OCW2_CMD(val) == OCW2_ROTATE_SEOI);
		break;
	case OCW2_SET_PRIORITY:
		p->lowest = level;
		break;
	default:		/* OCW2_NOP */
		break;
	}
}

static void pic_ocw3(struct pic *p, __u8 val)
{
	if (val & OCW3_ESMM)
		p->special_mask = val & OCW3_SMM;
	if (val & OCW3_RR)
		p->read_isr = val & OCW3_RIS;
	p->poll = val & OCW3_POLL;
}

/*
 * ICW1 starts the sequence: IMR and ISR cleared, IR7 lowest, special
 * mask mode off, status reads to IRR, and the edge sense latches reset,
 * so an edge input needs a new rising edge (8259A "Initialization
 * Command Words").  The datasheet does not clear IRR or ISR; a chip
 * being reprogrammed is being reset, and leaving a stale in-service
 * bit would block its levels for good.
 */
static void pic_icw1(struct pic *p, __u8 val)
{
	__u8 elcr = p->elcr;

	*p = (struct pic) {
		.lines = p->lines,
		.elcr = elcr,
		.lowest = 7,
		.init_step = 2,
		.icw4_needed = val & ICW1_IC4,
		.single = val & ICW1_SNGL,
		.ltim = val & ICW1_LTIM,
	};
	/* Level inputs still high request again at once. */
	p->irr = p->lines & (p->ltim ? 0xff : elcr);
}

static void pic_write_data(struct pic *p, __u8 val)
{
	switch (p->init_step) {
	case 2:
		/* x86 mode: the low 3 bits are the IR number. */
		p->vector_base = val & 0xf8;
		p->init_step = p->single ? (p->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		p->icw3 = val;
		p->init_step = p->icw4_needed ? 4 : 0;
		break;
	case 4:
		p->auto_eoi = val & ICW4_AEOI;
		p->sfnm = val & ICW4_SFNM;
		p->init_step = 0;
		break;
	default:
		p->imr = val;	/* OCW1 */
		return;
	}
	if (!p->init_step)
		p->initialized = true;
}

static void pic_write_cmd(struct pic *p, __u8 val)
{
	if (val & ICW1)
		pic_icw1(p, val);
	else if (val & OCW3)
		pic_ocw3(p, val);
	else
		pic_ocw2(p, val);
}

/*
 * The poll command (8259A "The Poll Command"): the read acts as an
 * INTA, and returns bit 7 set and the level when a request is pending,
 * 0 when none is.  A poll of the master that finds IR2 says just that:
 * the slave is polled next (8259A "Cascade Mode").
 */
static __u8 pic_poll(struct pic *p)
{
	int ir;

	p->poll = false;
	ir = pic_pending(p);
	if (ir < 0)
		return 0;
	pic_ack(p, ir);
	if (p == SLAVE)
		pic_cascade(true);
	return 0x80 | ir;
}

static __u8 pic_read_cmd(struct pic *p)
{
	if (p->poll)
		return pic_poll(p);
	return p->read_isr ? p->isr : p->irr;
}

static void i8259_io(struct vmctl_machine *m, __u16 port, bool out,
		     __u8 *data, unsigned int size)
{
	struct pic *p = port >= PIC_SLAVE ? SLAVE : MASTER;
	bool cmd = !(port & 1);

	(void)m;
	(void)size;		/* 1: not a wide device */
	if (out && cmd)
		pic_write_cmd(p, *data);
	else if (out)
		pic_write_data(p, *data);
	else if (cmd)
		*data = pic_read_cmd(p);
	else
		*data = p->imr;
	/* The slave's output may have changed: masks, EOIs, a new init. */
	pic_cascade(false);
}

/* The ELCR (PIIX/ICH datasheets, "ELCR1/ELCR2"): bit N for IRQ 8*port+N. */
static void elcr_io(struct vmctl_machine *m, __u16 port, bool out,
		    __u8 *data, unsigned int size)
{
	struct pic *p = &pics[port - PIC_ELCR];
	__u8 mask = p == MASTER ? ELCR_MASTER_MASK : ELCR_SLAVE_MASK;
	unsigned int ir;

	(void)m;
	(void)size;
	if (!out) {
		*data = p->elcr;
		return;
	}
	p->elcr = *data & mask;
	/* An input now level-triggered requests as long as it is high. */
	for (ir = 0; ir < 8; ir++)
		if (pic_level_triggered(p, ir))
			pic_set_input(p, ir, p->lines & (1U << ir));
	pic_cascade(false);
}

static void i8259_reset(struct vmctl_machine *m)
{
	(void)m;
	pics[0] = (struct pic) { .lowest = 7 };
	pics[1] = (struct pic) { .lowest = 7 };
}

const struct vmctl_io_dev vmctl_dev_i8259_master = {
	.name = "i8259-master",
	.base = PIC_MASTER,
	.len = 2,
	.io = i8259_io,
	.reset = i8259_reset,
};

const struct vmctl_io_dev vmctl_dev_i8259_slave = {
	.name = "i8259-slave",
	.base = PIC_SLAVE,
	.len = 2,
	.io = i8259_io,
};

const struct vmctl_io_dev vmctl_dev_elcr = {
	.name = "elcr",
	.base = PIC_ELCR,
	.len = 2,
	.io = elcr_io,
};
