// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: the 8254 programmable interval timer at 0x40-0x43
 * and system control port B at 0x61, which gates channel 2 and shows
 * its output.  Runs on the run loop's thread, like every device.
 *
 *  1. Time: the counters run at 1193182 Hz, read off vmctl_now_ns();
 *     nothing ticks, every value is computed from the time a count
 *     started.
 *  2. A channel: its count element and OUT at a given tick, per mode,
 *     and the next rising edge of OUT.
 *  3. Programming: control words (counter latch, read-back), counts,
 *     the gate.
 *  4. The bus: reads and writes of 0x40-0x43 and 0x61.
 *  5. IRQ 0: channel 0's OUT, whose rising edges go to the PIC.
 *
 * References are to the Intel 8254 datasheet (order no. 231164-005),
 * "8254" below, by section.
 *
 * Simplifications, none of which Linux or a PC BIOS can tell:
 *  - a count written starts at once, not at the next CLK pulse, so
 *    mode 0 ends after N ticks, not N + 1;
 *  - a new count in mode 3 takes effect at the end of the period, not
 *    of the half period (8254 "Mode 3");
 *  - channel 1 (DRAM refresh on a PC) counts but drives nothing;
 *    port 0x61's refresh bit toggles at each read instead, so that a
 *    loop waiting for it to change ends.
 * IRQ 0 loses no period: the edges of periods that went by while vmctl
 * did not run (the host kept the vCPU thread off its CPU, the guest
 * stayed away from vmctl) are owed, up to PIT_OWED_MAX, and given one
 * at a time, each once the guest has taken the last (its PIC's IRR bit
 * is clear), as KVM's PIT re-injects them.  A Linux guest counts a
 * jiffy per tick early in its boot and checks its TSC against them;
 * ticks lost there get its TSC marked unstable.  At most one edge per
 * PIT_IRQ_MIN_NS: a guest that asks for a rate no exit round trip can
 * keep up with gets fewer interrupts, not a busy loop in vmctl.
 */
#include "machine.h"

#define PIT_BASE	0x40
#define PIT_MODE_PORT	3		/* 0x43 */
#define PORT_B		0x61
#define PIT_HZ		1193182ULL
#define NSEC_PER_SEC	1000000000ULL
#define PIT_IRQ_MIN_NS	50000ULL
#define PIT_OWED_MAX	1000U		/* lost edges kept, at most */
#define PIT_TICK_NEVER	(~0ULL)

/* Control word (8254 "Control Word Format") */
#define CW_SC(v)	((v) >> 6)		/* 3: read-back */
#define CW_RW(v)	(((v) >> 4) & 3)	/* 0: counter latch */
#define CW_MODE(v)	(((v) >> 1) & 7)
#define CW_BCD		0x01
#define CW_READBACK	3

#define RW_LSB		1
#define RW_MSB		2
#define RW_LSB_MSB	3

/* Read-back command (8254 "Read-Back Command"); its bits are active low */
#define RB_NO_COUNT	0x20
#define RB_NO_STATUS	0x10
#define RB_CHANNEL(i)	(0x02 << (i))
#define STATUS_OUT	0x80
#define STATUS_NULL	0x40

/* Port B (PC/AT "system control port B") */
#define PORTB_GATE2	0x01
#define PORTB_SPEAKER	0x02
#define PORTB_RW_MASK	0x0f		/* gate, speaker, NMI check enables */
#define PORTB_REFRESH	0x10
#define PORTB_OUT2	0x20

/* 1. Time */

static __u64 ns_to_tick(__u64 ns)
{
	return (unsigned __int128)ns * PIT_HZ / NSEC_PER_SEC;
}

/* The first nanosecond at which ns_to_tick() reaches @tick. */
static __u64 tick_to_ns(__u64 tick)
{
	if (tick == PIT_TICK_NEVER)
		return VMCTL_NEVER;
	return ((unsigned __int128)tick * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

/* 2. A channel */

struct pit_channel {
	/* programmed by the control word */
	__u8 mode;		/* 0-5 */
	__u8 rw;		/* RW_* */
	bool bcd;
	/* the count register and the count element */
	__u32 cr;		/* 1..65536 (10000 in BCD), 0 if none yet */
	bool armed;		/* the count element holds a count */
	__u32 count;		/* what it counts down from */
	__u64 start;		/* the tick it started at */
	bool frozen;		/* gate low stopped it ... */
	__u64 frozen_d;		/* ... this many ticks after start */
	bool pending;		/* modes 2, 3: cr reloads at pending_at */
	__u64 pending_at;
	bool gate;
	bool null_count;	/* cr written, not in the element yet */
	/* the bus side */
	bool write_msb;		/* RW_LSB_MSB: next write is the MSB */
	__u8 write_lsb;
	bool read_msb;		/* RW_LSB_MSB: next read is the MSB */
	bool latched;		/* counter latch */
	__u16 latch;
	bool status_latched;	/* read-back status */
	__u8 status;
};

/* The power-on state; see i8254_reset(). */
static struct pit_channel pit[3] = {
	{ .mode = 3, .rw = RW_LSB_MSB, .gate = true },
	{ .mode = 3, .rw = RW_LSB_MSB, .gate = true },
	{ .mode = 3, .rw = RW_LSB_MSB },
};
static __u8 port_b;		/* the PORTB_RW_MASK bits */
static bool refresh;
static __u64 irq0_done;		/* tick up to which IRQ 0 edges are counted */
static unsigned int irq0_owed;	/* channel 0's rising edges not given yet */
static __u64 irq0_given;	/* the tick IRQ 0 last got an edge at */
static bool irq0_line;		/* IRQ 0's level as the PIT drives it */

static __u32 pit_modulus(const struct pit_channel *ch)
{
	return ch->bcd ? 10000 : 65536;
}

/*
 * The count and start in force at @t: a reload that modes 2 and 3
 * deferred to the end of a period has happened once @t reaches it.
 */
static void pit_view(const struct pit_channel *ch, __u64 t, __u32 *count,
		     __u64 *start)
{
	*count = ch->count;
	*start = ch->start;
	if (ch->pending && t >= ch->pending_at) {
		*count = ch->cr;
		*start = ch->pending_at;
	}
}

/* Ticks the element has counted at @t. */
static __u64 pit_elapsed(const struct pit_channel *ch, __u64 t, __u32 *count)
{
	__u64 start;

	pit_view(ch, t, count, &start);
	if (ch->frozen)
		return ch->frozen_d;
	return t > start ? t - start : 0;
}

/* The count element at @t (8254 "Operating Modes" for the sequences). */
static __u32 pit_ce(const struct pit_channel *ch, __u64 t)
{
	__u32 count, mod = pit_modulus(ch);
	__u64 d;

	if (!ch->armed)
		return ch->count % mod;
	d = pit_elapsed(ch, t, &count);
	switch (ch->mode) {
	case 2:			/* N, N-1, ..., 1, N, ... */
		return count - d % count;
	case 3:			/* N, N-2, ..., 2 in each half */
		return (count - (2 * d) % count) & ~1U;
	default:		/* 0, 1, 4, 5: down through 0 and wrap */
		return (count + mod - d % mod) % mod;
	}
}

/* OUT at @t (8254 "Operating Modes", and its Figure 14 for the gate). */
static bool pit_out(const struct pit_channel *ch, __u64 t)
{
	__u32 count;
	__u64 d;

	if (!ch->armed)
		return ch->mode != 0;	/* mode 0: low from the control word */
	if (ch->frozen && (ch->mode == 2 || ch->mode == 3))
		return true;		/* gate low forces OUT high */
	d = pit_elapsed(ch, t, &count);
	switch (ch->mode) {
	case 0:			/* low until terminal count */
	case 1:			/* low from the trigger to terminal count */
		return d >= count;
	case 2:			/* low for the one tick at count 1 */
		return d % count != count - 1;
	case 3:			/* high for the first (N + 1) / 2 */
		return d % count < (count + 1) / 2;
	default:		/* 4, 5: low for the tick after count 0 */
		return d != count;
	}
}

/* The first tick after @a at which OUT rises, or PIT_TICK_NEVER. */
static __u64 pit_next_rise(const struct pit_channel *ch, __u64 a)
{
	__u32 count;
	__u64 start, d, e;

	if (!ch->armed || ch->frozen)
		return PIT_TICK_NEVER;
	/* A deferred reload happens at a period's end, where OUT rises. */
	if (ch->pending && ch->pending_at > a)
		return ch->pending_at;
	pit_view(ch, a, &count, &start);
	d = a > start ? a - start : 0;
	switch (ch->mode) {
	case 2:
	case 3:			/* at the end of every period */
		return start + (d / count + 1) * count;
	case 0:
	case 1:
		e = count;
		break;
	default:		/* 4, 5: one tick after count 0 */
		e = count + 1ULL;
		break;
	}
	return d < e ? start + e : PIT_TICK_NEVER;
}

/* 3. Programming */

/* Fold a deferred reload that @t has reached into count and start. */
static void pit_settle(struct pit_channel *ch, __u64 t)
{
	if (ch->pending && t >= ch->pending_at) {
		ch->count = ch->cr;
		ch->start = ch->pending_at;
		ch->pending = false;
	}
}

/* The count element takes the count register at @t. */
static void pit_start(struct pit_channel *ch, __u64 t)
{
	ch->count = ch->cr;
	ch->start = t;
	ch->armed = true;
	ch->frozen = false;
	ch->pending = false;
	ch->null_count = false;
	/* Modes 0, 2, 3, 4 count only while the gate is high. */
	if (!ch->gate && ch->mode != 1 && ch->mode != 5) {
		ch->frozen = true;
		ch->frozen_d = 0;
	}
}

static __u32 bcd_to_count(__u16 v)
{
	return (v >> 12) * 1000 + ((v >> 8) & 15) * 100 +
	       ((v >> 4) & 15) * 10 + (v & 15);
}

static __u16 count_to_bcd(__u32 v)
{
	return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 |
	       (v / 10 % 10) << 4 | v % 10;
}

/* A new count (8254 "Operating Modes": when each mode takes it). */
static void pit_write_count(struct pit_channel *ch, __u16 val, __u64 t)
{
	__u32 mod = pit_modulus(ch);
	__u32 n = ch->bcd ? bcd_to_count(val) % mod : val;

	ch->cr = n ? n : mod;	/* 0 is the largest count */
	ch->null_count = true;
	switch (ch->mode) {
	case 1:
	case 5:			/* waits for a trigger on the gate */
		break;
	case 2:
	case 3:			/* while counting: at the period's end */
		if (ch->armed && !ch->frozen) {
			ch->pending_at = pit_next_rise(ch, t);
			ch->pending = true;
			break;
		}
		pit_start(ch, t);
		break;
	default:		/* 0, 4: at once */
		pit_start(ch, t);
		break;
	}
}

static void pit_set_gate(struct pit_channel *ch, bool gate, __u64 t)
{
	if (gate == ch->gate)
		return;
	ch->gate = gate;
	if (!gate) {
		/* Modes 0, 2, 3, 4 stop; 1 and 5 do not care. */
		if (ch->armed && !ch->frozen && ch->mode != 1 &&
		    ch->mode != 5) {
			ch->frozen_d = t - ch->start;
			ch->frozen = true;
		}
		return;
	}
	switch (ch->mode) {
	case 0:
	case 4:			/* go on from where it stopped */
		if (ch->frozen) {
			ch->start = t - ch->frozen_d;
			ch->frozen = false;
		}
		break;
	default:		/* 1, 2, 3, 5: a rising gate (re)starts */
		if (ch->cr)
			pit_start(ch, t);
		break;
	}
}

static void pit_latch_count(struct pit_channel *ch, __u64 t)
{
	__u32 v = pit_ce(ch, t);

	if (ch->latched)	/* a second latch is ignored */
		return;
	ch->latch = ch->bcd ? count_to_bcd(v) : (__u16)v;
	ch->latched = true;
}

static void pit_latch_status(struct pit_channel *ch, __u64 t)
{
	if (ch->status_latched)
		return;
	ch->status = (pit_out(ch, t) ? STATUS_OUT : 0) |
		     (ch->null_count ? STATUS_NULL : 0) |
		     ch->rw << 4 | ch->mode << 1 | ch->bcd;
	ch->status_latched = true;
}

static void pit_control(__u8 val, __u64 t)
{
	struct pit_channel *ch;
	unsigned int i;

	if (CW_SC(val) == CW_READBACK) {
		for (i = 0; i < 3; i++) {
			if (!(val & RB_CHANNEL(i)))
				continue;
			if (!(val & RB_NO_STATUS))
				pit_latch_status(&pit[i], t);
			if (!(val & RB_NO_COUNT))
				pit_latch_count(&pit[i], t);
		}
		return;
	}
	ch = &pit[CW_SC(val)];
	if (!CW_RW(val)) {
		pit_latch_count(ch, t);
		return;
	}
	ch->rw = CW_RW(val);
	ch->mode = CW_MODE(val);
	if (ch->mode > 5)	/* 6 and 7 are 2 and 3 */
		ch->mode -= 4;
	ch->bcd = val & CW_BCD;
	ch->armed = false;
	ch->pending = false;
	ch->frozen = false;
	ch->cr = 0;
	ch->null_count = true;
	ch->write_msb = false;
	ch->read_msb = false;
	/* a new mode for channel 0: the old one's lost edges go with it */
	if (ch == &pit[0])
		irq0_owed = 0;
}

/* 4. The bus */

static void pit_write(struct pit_channel *ch, __u8 val, __u64 t)
{
	switch (ch->rw) {
	case RW_LSB:
		pit_write_count(ch, val, t);
		break;
	case RW_MSB:
		pit_write_count(ch, val << 8, t);
		break;
	default:
		if (!ch->write_msb) {
			ch->write_lsb = val;
			ch->write_msb = true;
			/* Mode 0: the first byte stops the count, OUT low. */
			if (ch->mode == 0)
				ch->armed = false;
			break;
		}
		ch->write_msb = false;
		pit_write_count(ch, ch->write_lsb | val << 8, t);
		break;
	}
}

static __u8 pit_read(struct pit_channel *ch, __u64 t)
{
	bool last = true;
	__u16 v;
	__u8 b;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	if (ch->latched) {
		v = ch->latch;
	} else {
		v = pit_ce(ch, t);
		if (ch->bcd)
			v = count_to_bcd(v);
	}
	switch (ch->rw) {
	case RW_MSB:
		b = v >> 8;
		break;
	case RW_LSB_MSB:
		b = ch->read_msb ? v >> 8 : v & 0xff;
		last = ch->read_msb;
		ch->read_msb = !ch->read_msb;
		break;
	default:
		b = v & 0xff;
		break;
	}
	if (last)
		ch->latched = false;
	return b;
}

/* 5. IRQ 0 */

/*
 * Count the rising edges channel 0 had since last time, and give IRQ 0
 * one of those owed if the guest took the last and the last is at least
 * PIT_IRQ_MIN_NS old.  Only that pulse raises the line; otherwise it
 * only falls with OUT, or a rise still owed would reach the interrupt
 * controllers twice.  Where the PIC does not deliver IRQ 0 (masked, not
 * initialized: the I/O APIC's turn), there is no taking to wait for,
 * and one edge stands for all the periods missed, as it always did.
 */
static void pit_irq0(struct vmctl_machine *m, __u64 t)
{
	const struct pit_channel *ch = &pit[0];
	__u64 a = irq0_done, rise;

	while (irq0_owed < PIT_OWED_MAX &&
	       (rise = pit_next_rise(ch, a)) <= t) {
		irq0_owed++;
		a = rise;
	}
	if (irq0_owed > 1 && !vmctl_pic_irq_enabled(m, 0))
		irq0_owed = 1;
	if (irq0_owed && t - irq0_given >= ns_to_tick(PIT_IRQ_MIN_NS) &&
	    !vmctl_pic_irq_waiting(m, 0)) {
		vmctl_irq_line(m, 0, false);
		vmctl_irq_line(m, 0, true);
		irq0_line = true;
		irq0_owed--;
		irq0_given = t;
	}
	if (t > irq0_done)
		irq0_done = t;
	if (irq0_line && !pit_out(ch, t)) {
		vmctl_irq_line(m, 0, false);
		irq0_line = false;
	}
}

/* Before an access: IRQ 0 up to now, then the deferred reloads. */
static __u64 pit_now(struct vmctl_machine *m)
{
	__u64 t = ns_to_tick(vmctl_now_ns());
	unsigned int i;

	pit_irq0(m, t);
	for (i = 0; i < 3; i++)
		pit_settle(&pit[i], t);
	return t;
}

static void i8254_io(struct vmctl_machine *m, __u16 port, bool out,
		     __u8 *data, unsigned int size)
{
	unsigned int reg = port - PIT_BASE;
	__u64 t = pit_now(m);

	(void)size;		/* 1: not a wide device */
	if (!out) {
		/* 0x43 is write-only; the 8254 leaves the bus floating. */
		*data = reg == PIT_MODE_PORT ? 0xff : pit_read(&pit[reg], t);
		return;
	}
	if (reg == PIT_MODE_PORT)
		pit_control(*data, t);
	else
		pit_write(&pit[reg], *data, t);
	/* Channel 0's OUT and next edge may have changed. */
	pit_irq0(m, t);
	m->update_needed = true;
}

static void port_b_io(struct vmctl_machine *m, __u16 port, bool out,
		      __u8 *data, unsigned int size)
{
	__u64 t = pit_now(m);

	(void)port;
	(void)size;
	if (out) {
		port_b = *data & PORTB_RW_MASK;
		pit_set_gate(&pit[2], port_b & PORTB_GATE2, t);
		return;
	}
	refresh = !refresh;
	*data = port_b | (refresh ? PORTB_REFRESH : 0) |
		(pit_out(&pit[2], t) ? PORTB_OUT2 : 0);
}

/*
 * The next time: channel 0's next rise, or, with edges owed, as soon as
 * one may go (PIT_IRQ_MIN_NS after the last).  While the last still
 * waits for the guest, the PIC's acknowledge brings the next update
 * (vmctl_pic_intack()), so a guest that takes none costs no more
 * wake-ups than the PIT's rate.
 */
static __u64 i8254_update(struct vmctl_machine *m, __u64 now)
{
	__u64 t = ns_to_tick(now), next;

	pit_irq0(m, t);
	pit_settle(&pit[0], t);
	next = tick_to_ns(pit_next_rise(&pit[0], t));
	if (irq0_owed && !vmctl_pic_irq_waiting(m, 0))
		next = tick_to_ns(irq0_given + ns_to_tick(PIT_IRQ_MIN_NS));
	if (next != VMCTL_NEVER && next < now + PIT_IRQ_MIN_NS)
		next = now + PIT_IRQ_MIN_NS;
	return next;
}

/*
 * Power-on: nothing counts until programmed, OUT is high (mode 3 without
 * a count, as a BIOS leaves the channels but for the count), so that
 * programming mode 2 or 4 makes no edge on IRQ 0; channels 0 and 1 have
 * their gates tied high, channel 2's follows port B bit 0 (clear).
 */
static void i8254_reset(struct vmctl_machine *m)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		pit[i] = (struct pit_channel) {
			.mode = 3,
			.rw = RW_LSB_MSB,
			.gate = i != 2,
		};
	port_b = 0;
	refresh = false;
	irq0_done = 0;
	irq0_owed = 0;
	irq0_given = 0;
	irq0_line = pit_out(&pit[0], 0);
	vmctl_irq_line(m, 0, irq0_line);
}

const struct vmctl_io_dev vmctl_dev_i8254 = {
	.name = "i8254",
	.base = PIT_BASE,
	.len = 4,
	.io = i8254_io,
	.update = i8254_update,
	.reset = i8254_reset,
};

const struct vmctl_io_dev vmctl_dev_port_b = {
	.name = "port-b",
	.base = PORT_B,
	.len = 1,
	.io = port_b_io,
};
