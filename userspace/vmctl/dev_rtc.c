// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: the MC146818 real-time clock and its CMOS RAM,
 * index at 0x70 (bit 7 is the PC's NMI mask, ignored) and data at 0x71.
 * Runs on the run loop's thread, like every device.
 *
 *  1. The clock: registers 0-9 (and the century, 0x32) are the host's
 *     UTC time at the moment of the read, plus an offset in seconds the
 *     guest made by setting the clock; in BCD or binary (register B DM)
 *     and 12- or 24-hour (B 24/12) as register B says at that moment.
 *  2. The flags: update-ended, alarm and periodic (register C) from the
 *     time too, IRQ 8 while one that register B enables is set.
 *  3. The bus: index and data; registers A-D.  The rest of the CMOS
 *     RAM (0x0e-0x7f: the chip's own 50 bytes and the PC's upper bank)
 *     is plain storage, but for the century byte, part of the clock.
 *
 * References are to the Motorola MC146818A datasheet, "MC146818"
 * below, by section.
 *
 * The chip's update cycle takes the registers away for 244 us before
 * each second ends (UIP set, register A bit 7) and then advances them.
 * Here a read computes them whole from the host clock, so they are
 * never half-updated; UIP is still set in that last 244 us of each host
 * second, as a guest waiting for it to clear (Linux's
 * mc146818_avoid_UIP) expects to see it now and then.
 */
#include <time.h>

#include "machine.h"

#define RTC_INDEX	0x70
#define RTC_DATA	0x71

#define RTC_SECONDS	0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES	0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS	0x04
#define RTC_HOURS_ALARM	0x05
#define RTC_DAY_OF_WEEK	0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32	/* the PC's (ACPI FADT's) century byte */
#define RTC_RAM_SIZE	0x80

/* Register A */
#define RTC_UIP		0x80
#define RTC_DV_MASK	0x70
#define RTC_DV_32KHZ	0x20	/* the divider for 32.768 kHz, running */
#define RTC_RS_MASK	0x0f

/* Register B */
#define RTC_SET		0x80
#define RTC_PIE		0x40
#define RTC_AIE		0x20
#define RTC_UIE		0x10
#define RTC_SQWE	0x08
#define RTC_DM_BINARY	0x04
#define RTC_24H		0x02
#define RTC_DSE		0x01

/* Register C: what happened; D: the battery is good */
#define RTC_IRQF	0x80
#define RTC_PF		0x40
#define RTC_AF		0x20
#define RTC_UF		0x10
#define RTC_VRT		0x80

#define RTC_HOUR_PM	0x80	/* 12-hour mode */
#define RTC_ALARM_ANY	0xc0	/* an alarm byte of 11xxxxxx matches all */
#define RTC_UIP_NS	244000ULL
#define NSEC_PER_SEC	1000000000ULL

static struct {
	__u8 index;
	__u8 ram[RTC_RAM_SIZE];	/* 0-9 hold the time only while SET */
	long long offset;	/* guest time - host time, seconds */
	bool seen;		/* last_sec and last_period are set */
	__u64 last_sec;		/* host second whose end was last seen */
	__u64 last_period;	/* periodic interrupts: last period seen */
} rtc = {
	.ram = {
		[RTC_REG_A] = RTC_DV_32KHZ | 0x06,	/* 1024 Hz */
		[RTC_REG_B] = RTC_24H,
		[RTC_REG_D] = RTC_VRT,
	},
};

/* 1. The clock */

static __u64 host_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static bool rtc_binary(void)
{
	return rtc.ram[RTC_REG_B] & RTC_DM_BINARY;
}

static __u8 rtc_to_reg(unsigned int v)
{
	return rtc_binary() ? v : (v / 10) << 4 | v % 10;
}

static unsigned int rtc_from_reg(__u8 v)
{
	return rtc_binary() ? v : (v >> 4) * 10 + (v & 15);
}

/* The hour register: 0-23, or 1-12 with bit 7 for PM (MC146818 Table 3). */
static __u8 rtc_hour_to_reg(unsigned int h)
{
	if (rtc.ram[RTC_REG_B] & RTC_24H)
		return rtc_to_reg(h);
	return rtc_to_reg(h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static unsigned int rtc_hour_from_reg(__u8 v)
{
	unsigned int h;

	if (rtc.ram[RTC_REG_B] & RTC_24H)
		return rtc_from_reg(v);
	h = rtc_from_reg(v & ~RTC_HOUR_PM) % 12;
	return v & RTC_HOUR_PM ? h + 12 : h;
}

/* The guest's time at host second @host_sec, into the time registers. */
static void rtc_fill(__u8 *reg, __u64 host_sec)
{
	time_t t = (time_t)(host_sec + rtc.offset);
	struct tm tm;

	gmtime_r(&t, &tm);
	reg[RTC_SECONDS] = rtc_to_reg(tm.tm_sec);
	reg[RTC_MINUTES] = rtc_to_reg(tm.tm_min);
	reg[RTC_HOURS] = rtc_hour_to_reg(tm.tm_hour);
	reg[RTC_DAY_OF_WEEK] = rtc_to_reg(tm.tm_wday + 1);	/* Sunday 1 */
	reg[RTC_DAY_OF_MONTH] = rtc_to_reg(tm.tm_mday);
	reg[RTC_MONTH] = rtc_to_reg(tm.tm_mon + 1);
	reg[RTC_YEAR] = rtc_to_reg(tm.tm_year % 100);
	reg[RTC_CENTURY] = rtc_to_reg((tm.tm_year + 1900) / 100);
}

static bool rtc_is_time_reg(unsigned int i)
{
	return i == RTC_SECONDS || i == RTC_MINUTES || i == RTC_HOURS ||
	       (i >= RTC_DAY_OF_WEEK && i <= RTC_YEAR) || i == RTC_CENTURY;
}

/* The offset that makes the time in ram[] the guest's time now. */
static void rtc_take_time(void)
{
	__u8 *r = rtc.ram;
	unsigned int year = rtc_from_reg(r[RTC_YEAR]) % 100 +
			    rtc_from_reg(r[RTC_CENTURY]) % 100 * 100;
	struct tm tm = {
		.tm_sec = rtc_from_reg(r[RTC_SECONDS]) % 60,
		.tm_min = rtc_from_reg(r[RTC_MINUTES]) % 60,
		.tm_hour = rtc_hour_from_reg(r[RTC_HOURS]) % 24,
		.tm_mday = rtc_from_reg(r[RTC_DAY_OF_MONTH]),
		.tm_mon = rtc_from_reg(r[RTC_MONTH]) - 1,
	};

	/* A guest that never wrote the century means its own. */
	if (year < 1970)
		year += 100;
	tm.tm_year = year - 1900;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return;		/* not a date: the clock keeps its time */
	rtc.offset = (long long)timegm(&tm) -
		     (long long)(host_realtime_ns() / NSEC_PER_SEC);
}

/* 2. The flags */

static void rtc_irq(struct vmctl_machine *m)
{
	__u8 *c = &rtc.ram[RTC_REG_C];
	__u8 b = rtc.ram[RTC_REG_B];

	if (*c & b & (RTC_PF | RTC_AF | RTC_UF))
		*c |= RTC_IRQF;
	/* IRQ# stays asserted until register C is read (MC146818 "IRQF"). */
	vmctl_irq_line(m, 8, *c & RTC_IRQF);
}

static bool rtc_running(void)
{
	return (rtc.ram[RTC_REG_A] & RTC_DV_MASK) == RTC_DV_32KHZ &&
	       !(rtc.ram[RTC_REG_B] & RTC_SET);
}

/* 0 if off; RS 1 and 2 are 256 and 128 Hz with a 32.768 kHz crystal. */
static __u64 rtc_period_ns(void)
{
	unsigned int rs = rtc.ram[RTC_REG_A] & RTC_RS_MASK;

	if (!rs || (rtc.ram[RTC_REG_A] & RTC_DV_MASK) != RTC_DV_32KHZ)
		return 0;
	if (rs < 3)
		rs += 7;
	return NSEC_PER_SEC * (1U << (rs - 1)) / 32768;
}

static bool rtc_alarm_matches(const __u8 *now)
{
	static const unsigned int alarm[] = {
		RTC_SECONDS_ALARM, RTC_MINUTES_ALARM, RTC_HOURS_ALARM,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(alarm); i++) {
		__u8 a = rtc.ram[alarm[i]];

		if ((a & RTC_ALARM_ANY) != RTC_ALARM_ANY &&
		    a != now[alarm[i] - 1])
			return false;
	}
	return true;
}

/*
 * Set the flags for what happened up to host time @rt (ns) and
 * monotonic @now: the end of a second (UF, and AF if the new time
 * matches the alarm; after a long absence only the last second is
 * compared), a periodic tick (PF).  The flags are set whether their
 * interrupts are enabled or not (MC146818 "Register C").
 */
static void rtc_catch_up(__u64 rt, __u64 now)
{
	__u64 sec = rt / NSEC_PER_SEC, period = rtc_period_ns();
	__u8 regs[RTC_RAM_SIZE];

	if (!rtc.seen) {	/* nothing happened before the first look */
		rtc.last_sec = sec;
		rtc.last_period = period ? now / period : 0;
		rtc.seen = true;
	}
	if (sec > rtc.last_sec && rtc_running()) {
		rtc.ram[RTC_REG_C] |= RTC_UF;
		rtc_fill(regs, sec);
		if (rtc_alarm_matches(regs))
			rtc.ram[RTC_REG_C] |= RTC_AF;
	}
	rtc.last_sec = sec;
	if (period && now / period > rtc.last_period)
		rtc.ram[RTC_REG_C] |= RTC_PF;
	rtc.last_period = period ? now / period : 0;
}

static __u64 rtc_update(struct vmctl_machine *m, __u64 now)
{
	__u64 rt = host_realtime_ns(), next = VMCTL_NEVER;
	__u64 period = rtc_period_ns();
	__u8 b = rtc.ram[RTC_REG_B];

	rtc_catch_up(rt, now);
	rtc_irq(m);
	if ((b & (RTC_UIE | RTC_AIE)) && rtc_running())
		next = now + NSEC_PER_SEC - rt % NSEC_PER_SEC;
	if ((b & RTC_PIE) && period && (now / period + 1) * period < next)
		next = (now / period + 1) * period;
	return next;
}

/* 3. The bus */

static __u8 rtc_read(struct vmctl_machine *m, unsigned int i)
{
	__u64 rt = host_realtime_ns();
	__u8 regs[RTC_RAM_SIZE], v;

	if (rtc_is_time_reg(i) && !(rtc.ram[RTC_REG_B] & RTC_SET)) {
		rtc_fill(regs, rt / NSEC_PER_SEC);
		return regs[i];
	}
	switch (i) {
	case RTC_REG_A:
		v = rtc.ram[i] & ~RTC_UIP;
		if (rtc_running() &&
		    rt % NSEC_PER_SEC >= NSEC_PER_SEC - RTC_UIP_NS)
			v |= RTC_UIP;
		return v;
	case RTC_REG_C:
		/* Reading C clears it and releases IRQ# (MC146818). */
		rtc_catch_up(rt, vmctl_now_ns());
		rtc_irq(m);
		v = rtc.ram[i];
		rtc.ram[i] = 0;
		rtc_irq(m);
		return v;
	default:
		return rtc.ram[i];
	}
}

static void rtc_write(struct vmctl_machine *m, unsigned int i, __u8 val)
{
	bool set = rtc.ram[RTC_REG_B] & RTC_SET;
	__u8 b;

	if (rtc_is_time_reg(i)) {
		/*
		 * With SET the guest writes the registers one by one; the
		 * clock takes them when SET clears.  Without it, a write
		 * changes the running time at once.
		 */
		if (!set)
			rtc_fill(rtc.ram, host_realtime_ns() / NSEC_PER_SEC);
		rtc.ram[i] = val;
		if (!set)
			rtc_take_time();
		return;
	}
	switch (i) {
	case RTC_REG_A:
		rtc.ram[i] = val & ~RTC_UIP;
		break;
	case RTC_REG_B:
		b = val;
		if (b & RTC_SET) {
			b &= ~RTC_UIE;	/* SET clears UIE (MC146818) */
			if (!set)	/* the time stops where it is */
				rtc_fill(rtc.ram,
					 host_realtime_ns() / NSEC_PER_SEC);
		}
		rtc.ram[i] = b;
		if (set && !(b & RTC_SET))
			rtc_take_time();
		rtc_irq(m);
		m->update_needed = true;
		break;
	case RTC_REG_C:
	case RTC_REG_D:		/* read-only */
		break;
	default:
		rtc.ram[i] = val;
		break;
	}
}

static void rtc_io(struct vmctl_machine *m, __u16 port, bool out,
		   __u8 *data, unsigned int size)
{
	(void)size;		/* 1: not a wide device */
	if (port == RTC_INDEX) {
		if (out)
			rtc.index = *data & 0x7f;
		else
			*data = 0xff;	/* write-only on a PC */
		return;
	}
	if (out) {
		rtc_write(m, rtc.index, *data);
		if (rtc.index == RTC_REG_A)
			m->update_needed = true;
	} else {
		*data = rtc_read(m, rtc.index);
	}
}

/*
 * The RESET pin (MC146818 "RESET"): interrupt enables, square wave and
 * flags cleared; the time and the RAM, battery-backed, stay.
 */
static void rtc_reset(struct vmctl_machine *m)
{
	rtc.ram[RTC_REG_B] &= ~(RTC_PIE | RTC_AIE | RTC_UIE | RTC_SQWE);
	rtc.ram[RTC_REG_C] = 0;
	rtc_irq(m);
}

const struct vmctl_io_dev vmctl_dev_rtc = {
	.name = "rtc",
	.base = RTC_INDEX,
	.len = 2,
	.io = rtc_io,
	.update = rtc_update,
	.reset = rtc_reset,
};
