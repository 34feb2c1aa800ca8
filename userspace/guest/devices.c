// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c: the test guest of vmctl run's PC devices, driven by
 * selftests/vmctl_devices_test.c.  64-bit code without libc, entered
 * through devices_entry.S with the number of the case to run; it talks
 * to the devices the way Linux's drivers do, checks what it can itself
 * (a "FAIL: ..." line for each miss) and prints what the host must
 * judge (times, dates, echoed input).  It returns the value for the
 * test-exit port: 0, so vmctl exits 1, unless it says otherwise.
 *
 *  1. Port I/O, TSC, console output, the IDT and the interrupt handler
 *  2. The PIC as Linux's init_8259A() and probe_8259A() program it
 *  3. The cases, one function each, in the order of the entry table
 */
#include <stdbool.h>
#include <stdint.h>

#define COM1		0x3f8
#define PIC1		0x20
#define PIC2		0xa0
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_MODE	0x43
#define PORT_B		0x61
#define RTC_INDEX	0x70
#define RTC_DATA	0x71
#define PIT_HZ		1193182ULL
#define VECTOR_BASE	0x20	/* IRQ 0-7, and 0x28 for IRQ 8-15 */
#define EXIT_EXCEPTION	0x70	/* vmctl exits 0xe1 */
#define EXIT_ALIVE	0x33	/* a reset came back: vmctl exits 0x67 */

/* 1. Basics */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

/* STI's shadow covers HLT: no interrupt slips in between. */
static inline void sti_hlt(void)
{
	asm volatile("sti; hlt" : : : "memory");
}

static uint32_t tsc_khz;

static uint32_t cpuid_eax(uint32_t leaf)
{
	uint32_t a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(leaf), "c"(0));
	return a;
}

static uint64_t us_since(uint64_t t0)
{
	return (rdtsc() - t0) * 1000 / tsc_khz;
}

/* Spin for @ms with interrupts as they are. */
static void spin_ms(uint64_t ms)
{
	uint64_t t0 = rdtsc();

	while (us_since(t0) < ms * 1000)
		asm volatile("pause");
}

static void putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	puts(buf + i);
}

static void put_hex(uint64_t v)
{
	char buf[17];
	int i = 16;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	puts("0x");
	puts(buf + i);
}

static void put_dec2(unsigned int v)
{
	putc('0' + v / 10 % 10);
	putc('0' + v % 10);
}

static unsigned int failures;

/* "FAIL: what (value)" unless @ok. */
static void check(bool ok, const char *what, uint64_t val)
{
	if (ok)
		return;
	failures++;
	puts("FAIL: ");
	puts(what);
	puts(" (");
	put_hex(val);
	puts(")\n");
}

/* The IDT: vectors 0-47 to devices_entry.S's stubs. */
struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t zero;
} __attribute__((packed));

#define NR_VECTORS	48
#define SEL_CODE64	0x18
#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[NR_VECTORS];
struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) idt_desc;

extern char vectors[];

void idt_setup(void)
{
	unsigned int i;

	for (i = 0; i < NR_VECTORS; i++) {
		uint64_t a = (uint64_t)vectors + 16 * i;

		idt[i] = (struct idt_gate) {
			.off0 = a, .sel = SEL_CODE64, .type = GATE_INTR,
			.off1 = a >> 16, .off2 = a >> 32,
		};
	}
	idt_desc.limit = sizeof(idt) - 1;
	idt_desc.base = (uint64_t)idt;
}

/* What the interrupt handler saw. */
static volatile unsigned int irq_count[16];
static volatile uint8_t isr_seen[16][2];	/* master, slave ISR */
static volatile uint8_t rtc_c_seen;
static volatile unsigned int uart_rx_irqs;
static volatile char rx_buf[256];
static volatile unsigned int rx_len;
static bool eoi_enabled = true;
/*
 * Whether the handler reads the ISRs: four exits more per interrupt,
 * which an emulator running the host takes milliseconds for; off where
 * ticks are counted against time.
 */
static bool record_isr = true;
/* test_ioapic_level(): interrupts come through the local APIC */
static bool apic_mode;
static void level_isr(void);

static uint8_t pic_read_isr(uint16_t pic)
{
	uint8_t v;

	outb(pic, 0x0b);	/* OCW3: read ISR */
	v = inb(pic);
	outb(pic, 0x0a);	/* OCW3: read IRR, Linux's default */
	return v;
}

static void uart_isr(void)
{
	uint8_t iir;

	while (!((iir = inb(COM1 + 2)) & 1)) {
		if ((iir & 0x0e) == 0x04 || (iir & 0x0e) == 0x0c)
			uart_rx_irqs++;
		while (inb(COM1 + 5) & 1) {
			char c = inb(COM1);

			if (rx_len < sizeof(rx_buf))
				rx_buf[rx_len++] = c;
		}
	}
}

void guest_isr(uint64_t vec)
{
	unsigned int irq = vec - VECTOR_BASE;

	if (vec < 32) {
		puts("FAIL: exception ");
		put_dec(vec);
		putc('\n');
		outb(0xf4, EXIT_EXCEPTION);
		for (;;)
			asm volatile("cli; hlt");
	}
	if (apic_mode) {
		level_isr();
		return;
	}
	if (record_isr) {
		isr_seen[irq][0] = pic_read_isr(PIC1);
		isr_seen[irq][1] = pic_read_isr(PIC2);
	}
	if (irq == 8) {
		outb(RTC_INDEX, 0x0c);
		rtc_c_seen = inb(RTC_DATA);
	}
	if (irq == 4)
		uart_isr();
	irq_count[irq]++;
	if (!eoi_enabled)
		return;
	if (irq >= 8)
		outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}

/* Wait, taking interrupts, until @count moves past @n; false after @ms. */
static bool wait_irq(volatile unsigned int *count, unsigned int n,
		     uint64_t ms)
{
	uint64_t t0 = rdtsc();

	sti();
	while (*count <= n) {
		if (us_since(t0) > ms * 1000) {
			cli();
			return false;
		}
		asm volatile("pause");
	}
	cli();
	return true;
}

/* 2. The PIC, as Linux's init_8259A() and probe_8259A() */

static void pic_init(bool auto_eoi)
{
	outb(PIC1 + 1, 0xff);
	outb(PIC2 + 1, 0xff);
	outb(PIC1, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(PIC1 + 1, VECTOR_BASE);	/* ICW2 */
	outb(PIC1 + 1, 1 << 2);		/* ICW3: slave on IR2 */
	outb(PIC1 + 1, auto_eoi ? 0x03 : 0x01);	/* ICW4: 8086 (AEOI) */
	outb(PIC2, 0x11);
	outb(PIC2 + 1, VECTOR_BASE + 8);
	outb(PIC2 + 1, 2);		/* ICW3: slave id 2 */
	outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, 0xfb);		/* all masked but the cascade */
	outb(PIC2 + 1, 0xff);
}

static void pic_unmask(unsigned int irq)
{
	uint16_t port = (irq < 8 ? PIC1 : PIC2) + 1;

	outb(port, inb(port) & ~(1 << (irq & 7)));
}

static void pic_mask(unsigned int irq)
{
	uint16_t port = (irq < 8 ? PIC1 : PIC2) + 1;

	outb(port, inb(port) | 1 << (irq & 7));
}

static void pit_program(uint16_t port, uint8_t control, uint16_t count)
{
	outb(PIT_MODE, control);
	outb(port, count & 0xff);
	outb(port, count >> 8);
}

/* Counter latch, then LSB and MSB. */
static uint16_t pit_latch(unsigned int ch)
{
	uint8_t lo;

	outb(PIT_MODE, ch << 6);
	lo = inb(PIT_CH0 + ch);
	return lo | inb(PIT_CH0 + ch) << 8;
}

/*
 * Channel 2's count and the TSC at the latch, taken again while the two
 * TSC reads around it are far apart (the vCPU was preempted there).
 */
static uint16_t pit_latch_timed(uint64_t *tsc)
{
	uint64_t a, b;
	uint16_t v;
	int i;

	for (i = 0; i < 20; i++) {
		a = rdtsc();
		outb(PIT_MODE, 2 << 6);
		b = rdtsc();
		v = inb(PIT_CH2);
		v |= inb(PIT_CH2) << 8;
		if ((b - a) * 1000 / tsc_khz < 200)
			break;
	}
	*tsc = a + (b - a) / 2;
	return v;
}

/* 3. The cases */

/*
 * PIT channel 0 on IRQ 0: periodic mode 2 at 100 Hz (Linux's 0x34),
 * HLT between ticks; then one shot of 20 ms in mode 4 (Linux's 0x38
 * clock event), which must fire once.
 */
static int test_pit_irq(void)
{
	unsigned int n;
	uint64_t t0;
	uint16_t v;

	pic_init(false);
	pic_unmask(0);
	pit_program(PIT_CH0, 0x34, PIT_HZ / 100);
	n = irq_count[0];
	while (irq_count[0] == n)
		sti_hlt();
	cli();
	check(isr_seen[0][0] == 0x01, "IRQ 0 not in service in its handler",
	      isr_seen[0][0]);
	record_isr = false;
	t0 = rdtsc();
	n = irq_count[0];
	while (irq_count[0] < n + 10)
		sti_hlt();
	cli();
	puts("pit periodic: 10 ticks in ");
	put_dec(us_since(t0) / 1000);
	puts(" ms\n");

	v = pit_latch(0);
	check(v >= 1 && v <= PIT_HZ / 100, "channel 0 latch", v);
	outb(PIT_MODE, 0xe2);		/* read-back: channel 0's status */
	v = inb(PIT_CH0);
	check((v & 0x3f) == 0x34, "channel 0 status", v);

	/* The periodic edge latched meanwhile, if any, goes first. */
	outb(PIT_MODE, 0x38);
	sti();
	spin_ms(2);
	cli();
	n = irq_count[0];
	t0 = rdtsc();
	outb(PIT_CH0, (PIT_HZ / 50) & 0xff);
	outb(PIT_CH0, (PIT_HZ / 50) >> 8);
	while (irq_count[0] == n)
		sti_hlt();
	cli();
	puts("pit oneshot: ");
	put_dec(us_since(t0) / 1000);
	puts(" ms\n");
	sti();
	spin_ms(60);
	cli();
	check(irq_count[0] == n + 1, "one shot fired more than once",
	      irq_count[0] - n);
	return 0;
}

/*
 * Channel 2 and port 0x61, as Linux calibrates the TSC: mode 0 with the
 * gate high, OUT2 (bit 5) polled (pit_calibrate_tsc), and the count read
 * over and over (quick_pit_calibrate); then the gate, the read-back
 * status, BCD counting and the port's other bits.
 */
static int test_pit_ch2(void)
{
	uint64_t t0, dt;
	uint16_t v1, v2, prev;
	uint8_t b, msb;

	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
	pit_program(PIT_CH2, 0xb0, PIT_HZ / 100);
	t0 = rdtsc();
	check(!(inb(PORT_B) & 0x20), "OUT2 high right after the count", 0);
	while (!(inb(PORT_B) & 0x20))
		if (us_since(t0) > 2000000)
			break;
	puts("pit ch2: 10 ms in ");
	put_dec(us_since(t0));
	puts(" us\n");

	pit_program(PIT_CH2, 0xb0, 0xffff);
	v1 = pit_latch_timed(&t0);
	spin_ms(40);
	v2 = pit_latch_timed(&dt);
	dt -= t0;
	puts("pit ch2: ");
	put_dec((uint64_t)(uint16_t)(v1 - v2) * tsc_khz * 1000 / dt);
	puts(" Hz\n");

	/* The MSB, read as quick_pit_calibrate does, only goes down. */
	pit_program(PIT_CH2, 0xb0, 0xffff);
	prev = 0xff;
	t0 = rdtsc();
	while (us_since(t0) < 20000) {
		inb(PIT_CH2);
		msb = inb(PIT_CH2);
		check(msb <= prev, "MSB went up", msb);
		prev = msb;
	}
	check(prev < 0xff - 10, "MSB did not count", prev);

	/* Gate low stops mode 0; high again goes on. */
	outb(PORT_B, inb(PORT_B) & ~0x01);
	v1 = pit_latch(2);
	spin_ms(3);
	v2 = pit_latch(2);
	check(v1 == v2, "channel 2 counted with its gate low", v1 - v2);
	outb(PORT_B, inb(PORT_B) | 0x01);
	spin_ms(3);
	v2 = pit_latch(2);
	check(v1 - v2 > 2000, "channel 2 stuck with its gate high", v1 - v2);

	outb(PIT_MODE, 0xe8);		/* read-back: channel 2's status */
	v1 = inb(PIT_CH2);
	check((v1 & 0x3f) == 0x30, "channel 2 status", v1);

	pit_program(PIT_CH2, 0xb1, 0x9999);	/* BCD 9999 */
	spin_ms(1);
	v1 = pit_latch(2);
	check(v1 < 0x9999 && (v1 & 0xf) <= 9 && (v1 >> 4 & 0xf) <= 9 &&
	      (v1 >> 8 & 0xf) <= 9 && v1 >> 12 <= 9, "BCD count", v1);

	b = inb(PORT_B);
	check((inb(PORT_B) ^ b) & 0x10, "refresh bit does not toggle", b);
	outb(PORT_B, 0x02);
	check((inb(PORT_B) & 0x03) == 0x02, "port B speaker bit", b);
	outb(PORT_B, 0x00);
	return 0;
}

static uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(RTC_INDEX, reg);
	outb(RTC_DATA, v);
}

/*
 * The PIC: a masked IRQ stays in IRR and is not delivered, unmasked it
 * is; the ISR inside a handler; the cascade (RTC periodic on IRQ 8,
 * vector 0x28, master IR2 in service); the poll command; auto-EOI; the
 * ELCR's fixed bits; and probe_8259A()'s read-back of the mask.
 */
static int test_pic(void)
{
	uint8_t v;

	pic_init(false);
	outb(PIC1 + 1, 0xff);
	check(inb(PIC1 + 1) == 0xff, "IMR read back", inb(PIC1 + 1));
	outb(PIC1 + 1, 0xfb);

	pit_program(PIT_CH0, 0x34, PIT_HZ / 100);
	sti();
	spin_ms(30);
	cli();
	check(irq_count[0] == 0, "masked IRQ 0 delivered", irq_count[0]);
	v = inb(PIC1);			/* IRR, as OCW3 left it */
	check(v & 0x01, "masked IRQ 0 not in IRR", v);
	check(pic_read_isr(PIC1) == 0, "ISR not empty", pic_read_isr(PIC1));
	pic_unmask(0);
	if (!wait_irq(&irq_count[0], 0, 1000)) {
		check(false, "unmasked IRQ 0 not delivered: IRR ISR IMR",
		      inb(PIC1) << 16 | pic_read_isr(PIC1) << 8 |
		      inb(PIC1 + 1));
		check(false, "IRQ 7 count", irq_count[7]);
	}
	pic_mask(0);
	outb(PIT_MODE, 0x30);		/* mode 0, no count: OUT low, quiet */
	puts("pic: mask ok\n");

	/* The slave, through the RTC's periodic interrupt (1024 Hz). */
	pic_unmask(8);
	rtc_read(0x0c);
	rtc_write(0x0b, rtc_read(0x0b) | 0x40);		/* PIE */
	check(wait_irq(&irq_count[8], 2, 1000), "IRQ 8 not delivered",
	      irq_count[8]);
	rtc_write(0x0b, rtc_read(0x0b) & ~0x40);
	check(isr_seen[8][0] == 0x04, "master ISR during IRQ 8", isr_seen[8][0]);
	check(isr_seen[8][1] == 0x01, "slave ISR during IRQ 8", isr_seen[8][1]);
	check(rtc_c_seen & 0xc0, "register C without IRQF|PF", rtc_c_seen);

	/* Poll: the slave's request, acknowledged by the read. */
	rtc_read(0x0c);
	rtc_write(0x0b, rtc_read(0x0b) | 0x40);
	spin_ms(5);
	outb(PIC2, 0x0c);		/* OCW3: poll */
	v = inb(PIC2);
	check(v == 0x80, "slave poll", v);
	check(pic_read_isr(PIC2) == 0x01, "slave ISR after the poll",
	      pic_read_isr(PIC2));
	outb(PIC2, 0x60);		/* specific EOI, IR0 */
	rtc_write(0x0b, rtc_read(0x0b) & ~0x40);
	rtc_read(0x0c);
	pic_mask(8);
	outb(PIC2, 0x0c);
	check(inb(PIC2) == 0, "poll with nothing pending", 0);
	puts("pic: cascade ok\n");

	/*
	 * The master latched the slave's request on IR2, which the poll
	 * then took away: at the INTA the slave has nothing, and answers
	 * its IR7 without putting it in service (spurious IRQ 15), while
	 * the master's IR2 is in service, as Linux's handler expects.
	 */
	wait_irq(&irq_count[15], 0, 1000);
	check(irq_count[15] == 1, "spurious IRQ 15", irq_count[15]);
	check(isr_seen[15][1] == 0, "slave ISR in spurious IRQ 15",
	      isr_seen[15][1]);
	check(isr_seen[15][0] == 0x04, "master ISR in spurious IRQ 15",
	      isr_seen[15][0]);
	check(pic_read_isr(PIC1) == 0, "master ISR after the EOI",
	      pic_read_isr(PIC1));
	puts("pic: spurious ok\n");

	/* Auto-EOI: nothing stays in service. */
	pic_init(true);
	eoi_enabled = false;
	pic_unmask(0);
	pit_program(PIT_CH0, 0x34, PIT_HZ / 100);
	check(wait_irq(&irq_count[0], irq_count[0] + 2, 1000),
	      "IRQ 0 in auto-EOI mode", 0);
	eoi_enabled = true;
	check(isr_seen[0][0] == 0, "ISR in auto-EOI mode", isr_seen[0][0]);
	outb(PIT_MODE, 0x30);
	pic_mask(0);

	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	check(inb(0x4d0) == 0xf8, "ELCR1", inb(0x4d0));
	check(inb(0x4d1) == 0xde, "ELCR2", inb(0x4d1));
	outb(0x4d0, 0);
	outb(0x4d1, 0);
	puts("pic: done\n");
	return 0;
}

static void rtc_wait_uip(void)
{
	uint64_t t0 = rdtsc();

	while (rtc_read(0x0a) & 0x80)
		if (us_since(t0) > 10000)
			break;
}

static unsigned int bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 15);
}

/* "TAG: YYYY-MM-DD HH:MM:SS" in the current format, 24-hour. */
static void rtc_print(const char *tag)
{
	bool bin = rtc_read(0x0b) & 0x04;
	unsigned int s, mi, h, d, mo, y, c;

	rtc_wait_uip();
	s = bcd(rtc_read(0), bin);
	mi = bcd(rtc_read(2), bin);
	h = bcd(rtc_read(4), bin);
	d = bcd(rtc_read(7), bin);
	mo = bcd(rtc_read(8), bin);
	y = bcd(rtc_read(9), bin);
	c = bcd(rtc_read(0x32), bin);
	puts(tag);
	puts(": ");
	put_dec2(c);
	put_dec2(y);
	putc('-');
	put_dec2(mo);
	putc('-');
	put_dec2(d);
	putc(' ');
	put_dec2(h);
	putc(':');
	put_dec2(mi);
	putc(':');
	put_dec2(s);
	putc('\n');
}

/*
 * The RTC: the time in BCD and binary, 12-hour mode, setting the clock
 * (SET), the update-ended interrupt, register C and D, CMOS RAM.
 */
static int test_rtc(void)
{
	uint8_t b = rtc_read(0x0b), h24, h12, v;
	uint64_t t0;

	check(rtc_read(0x0d) == 0x80, "register D", rtc_read(0x0d));
	check(b == 0x02, "register B at power-on", b);
	rtc_print("rtc bcd");
	rtc_write(0x0b, 0x06);		/* binary, 24-hour */
	rtc_print("rtc bin");
	rtc_wait_uip();
	h24 = rtc_read(4);
	rtc_write(0x0b, 0x04);		/* binary, 12-hour */
	h12 = rtc_read(4);
	check((h12 & 0x7f) >= 1 && (h12 & 0x7f) <= 12 &&
	      ((h12 & 0x7f) % 12 + (h12 & 0x80 ? 12 : 0)) == h24,
	      "12-hour register", h12 << 8 | h24);

	/* SET: 1999-12-31 23:59:58, then two seconds and a half. */
	rtc_write(0x0b, 0x86);
	rtc_write(0x32, 19);
	rtc_write(9, 99);
	rtc_write(8, 12);
	rtc_write(7, 31);
	rtc_write(4, 23);
	rtc_write(2, 59);
	rtc_write(0, 58);
	check(rtc_read(0) == 58, "seconds while SET", rtc_read(0));
	rtc_write(0x0b, 0x06);
	spin_ms(2500);
	rtc_print("rtc set");

	/* The update-ended interrupt, once a second. */
	pic_init(false);
	pic_unmask(8);
	/* PF goes on setting (RS is 1024 Hz), but IRQF only when enabled. */
	rtc_read(0x0c);
	v = rtc_read(0x0c);
	check(!(v & 0x80), "IRQF without an enabled flag", v);
	rtc_write(0x0b, 0x16);		/* UIE */
	t0 = rdtsc();
	while (!irq_count[8] && us_since(t0) < 3000000)
		sti_hlt();
	cli();
	rtc_write(0x0b, 0x06);
	puts("rtc update irq: ");
	put_dec(us_since(t0) / 1000);
	puts(" ms\n");
	check(irq_count[8] == 1, "update-ended interrupts", irq_count[8]);
	check((rtc_c_seen & 0x90) == 0x90, "register C: IRQF|UF", rtc_c_seen);

	rtc_write(0x40, 0x5a);
	outb(RTC_INDEX, 0x80 | 0x40);	/* with the NMI mask bit */
	check(inb(RTC_DATA) == 0x5a, "CMOS RAM", 0);
	rtc_write(0x0b, 0x02);
	return 0;
}

/* Linux's reboot through 0xcf9, after a PCI probe at 0xcf8 survives. */
static int test_reset_cf9(void)
{
	uint8_t cf9;

	outl(0xcf8, 0x80000000 | 4 << 8);	/* byte 1 has bit 2 set */
	check(inl(0xcfc) == 0xffffffff, "no PCI device", 0);
	puts("reset: PCI probe survived\n");
	cf9 = inb(0xcf9) & ~0x06;
	outb(0xcf9, cf9 | 0x02);
	check(inb(0xcf9) == 0x02, "0xcf9 read back", inb(0xcf9));
	outb(0xcf9, cf9 | 0x06);
	return EXIT_ALIVE;
}

/* Linux's reboot through the 8042: kb_wait(), then 0xfe to 0x64. */
static int test_reset_kbd(void)
{
	unsigned int i;

	for (i = 0; i < 0x10000; i++)
		if (!(inb(0x64) & 0x02))
			break;
	check(i == 0, "8042 input buffer busy", i);
	check(inb(0x60) == 0, "8042 data", 0);
	outb(0x64, 0xfe);
	return EXIT_ALIVE;
}

/*
 * The UART: loopback (TX to RX, overrun, MSR), the THRE interrupt as
 * Linux's driver tests it, OUT2 gating IRQ 4, then echo what the host
 * writes to vmctl's stdin, taken by the receive interrupt, until '.'.
 */
static int test_uart(void)
{
	unsigned int i, done = 0;
	uint8_t v;

	outb(COM1 + 2, 0x07);			/* FIFO on, cleared */
	outb(COM1 + 4, 0x10 | 0x0b);		/* loopback, DTR RTS OUT2 */
	outb(COM1, 'A');
	outb(COM1, 'B');
	check(inb(COM1 + 5) & 0x01, "loopback: no data ready", 0);
	check(inb(COM1) == 'A', "loopback: first byte", 0);
	check(inb(COM1) == 'B', "loopback: second byte", 0);
	check(!(inb(COM1 + 5) & 0x01), "loopback: data ready when empty", 0);
	for (i = 0; i < 17; i++)
		outb(COM1, 'a' + i);
	v = inb(COM1 + 5);
	check((v & 0x03) == 0x03, "loopback: overrun", v);
	check(!(inb(COM1 + 5) & 0x02), "overrun not cleared by LSR read", 0);
	v = inb(COM1 + 6);
	check((v & 0xf0) == 0xb0, "loopback: MSR", v);
	outb(COM1 + 2, 0x07);
	outb(COM1 + 4, 0x0b);			/* out of loopback */
	check(!(inb(COM1 + 5) & 0x01), "FIFO clear", 0);

	/* THRE: set by enabling it, cleared by reading IIR. */
	outb(COM1 + 1, 0x02);
	v = inb(COM1 + 2);
	check(v == 0xc2, "IIR: THRE", v);
	v = inb(COM1 + 2);
	check(v == 0xc1, "IIR: THRE after it was read", v);
	outb(COM1 + 1, 0x00);

	/* OUT2 gates IRQ 4. */
	pic_init(false);
	pic_unmask(4);
	outb(COM1 + 4, 0x03);
	outb(COM1 + 1, 0x02);
	sti();
	spin_ms(5);
	cli();
	check(irq_count[4] == 0, "IRQ 4 without OUT2", irq_count[4]);
	outb(COM1 + 4, 0x0b);
	check(wait_irq(&irq_count[4], 0, 1000), "IRQ 4 with OUT2", 0);
	outb(COM1 + 1, 0x00);
	puts("uart: ready\n");

	/*
	 * Echo, with the FIFO's trigger at 8: the timeout gets the rest.
	 * The host writes only once it saw "uart: ready".
	 */
	outb(COM1 + 2, 0x81);
	uart_rx_irqs = 0;
	outb(COM1 + 1, 0x01);
	for (i = 0; !done; ) {
		cli();
		if (i == rx_len)
			sti_hlt();
		cli();
		for (; i < rx_len && !done; i++) {
			if (rx_buf[i] == '.')
				done = 1;
			else
				putc(rx_buf[i]);
		}
		if (i >= sizeof(rx_buf))
			done = 1;
	}
	outb(COM1 + 1, 0x00);
	puts("uart: rx interrupts ");
	put_dec(uart_rx_irqs);
	putc('\n');
	check(uart_rx_irqs > 0, "no receive interrupts", 0);
	return 0;
}

/*
 * Any value to any port of the devices, in any order, with interrupts
 * off; vmctl must live through it.  The UART's THR, LCR and MCR are
 * spared (the report goes through them), and so are the reset ports.
 */
/*
 * With --lapic: the RTC's IRQ 8 as a level-triggered interrupt through
 * the I/O APIC at 0xfec00000 to the local APIC at 0xfee00000 (the PIC
 * masked).  The line stays up until register C is read, and the handler
 * reads it only at the LEVEL_SENDS-th interrupt: until then each EOI
 * finds the line still up and the I/O APIC, its remote IRR cleared by
 * that EOI, sends again at once (82093AA §3.2.4).  In the handler the
 * entry's remote IRR is set; after the last EOI, with the line down, it
 * is clear and nothing more comes.
 */
#define LAPIC_BASE	0xfee00000UL
#define IOAPIC_BASE	0xfec00000UL
#define RTE_RTC		(0x10 + 2 * 8)
#define RTE_LEVEL	(1u << 15)
#define RTE_REMOTE_IRR	(1u << 14)
#define RTE_MASKED	(1u << 16)
#define LEVEL_SENDS	5

static volatile unsigned int level_irqs;
static volatile uint32_t level_rte_seen;

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static void level_isr(void)
{
	level_rte_seen |= ioapic_read(RTE_RTC);
	if (++level_irqs == LEVEL_SENDS)
		rtc_c_seen = rtc_read(0x0c);	/* the line goes down */
	*(volatile uint32_t *)(LAPIC_BASE + 0xb0) = 0;	/* EOI */
}

static int test_ioapic_level(void)
{
	uint64_t t0;
	uint32_t rte;

	outb(PIC1 + 1, 0xff);
	outb(PIC2 + 1, 0xff);
	*(volatile uint32_t *)(LAPIC_BASE + 0xf0) = 0x1ff;	/* SVR: on */
	apic_mode = true;
	rtc_read(0x0c);
	ioapic_write(RTE_RTC + 1, 0);			/* to APIC ID 0 */
	ioapic_write(RTE_RTC, (VECTOR_BASE + 8) | RTE_LEVEL);
	rtc_write(0x0b, 0x16);				/* UIE: once a second */
	/* spin, not HLT: a lost interrupt must not stop the guest */
	t0 = rdtsc();
	sti();
	while (level_irqs < LEVEL_SENDS && us_since(t0) < 3000000)
		asm volatile("pause");
	cli();
	puts("ioapic level: ");
	put_dec(level_irqs);
	puts(" interrupts in ");
	put_dec(us_since(t0) / 1000);
	puts(" ms\n");
	/* the line is down: no more until the next update (a second) */
	sti();
	spin_ms(200);
	cli();
	check(level_irqs == LEVEL_SENDS, "level interrupts", level_irqs);
	check(level_rte_seen & RTE_REMOTE_IRR, "remote IRR in the handler",
	      level_rte_seen);
	check((rtc_c_seen & 0x90) == 0x90, "register C: IRQF|UF", rtc_c_seen);
	rte = ioapic_read(RTE_RTC);
	check(!(rte & RTE_REMOTE_IRR), "remote IRR after the EOI", rte);
	rtc_write(0x0b, 0x02);
	ioapic_write(RTE_RTC, RTE_MASKED);
	apic_mode = false;
	return 0;
}

static int test_fuzz(void)
{
	static const uint16_t ports[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42,
		0x43, 0x61, 0x70, 0x71, 0x80, 0x60, 0x3f9, 0x3fa, 0x3fd,
		0x3fe, 0x3ff, 0xcf8,
	};
	uint64_t x = rdtsc() | 1;
	unsigned int i;

	for (i = 0; i < 20000; i++) {
		uint16_t port;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		port = ports[(x >> 8) % (sizeof(ports) / sizeof(ports[0]))];
		if (x & 1)
			outb(port, x >> 32);
		else
			inb(port);
	}
	outb(COM1 + 1, 0);
	outb(COM1 + 2, 0x07);
	puts("fuzz: ");
	put_dec(i);
	puts(" accesses\n");
	return 0;
}

int guest_main(unsigned int entry)
{
	static int (*const cases[])(void) = {
		test_pit_irq, test_pit_ch2, test_pic, test_rtc,
		test_reset_cf9, test_reset_kbd, test_uart, test_fuzz,
		test_ioapic_level,
	};
	int ret;

	tsc_khz = cpuid_eax(0x40000010);
	if (!tsc_khz) {
		puts("FAIL: no TSC frequency in CPUID 0x40000010\n");
		return 0x7f;
	}
	if (entry >= sizeof(cases) / sizeof(cases[0]))
		return 0x7e;
	ret = cases[entry]();
	return failures ? 0x7d : ret;
}
