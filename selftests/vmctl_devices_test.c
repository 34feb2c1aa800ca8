// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl_devices_test: the legacy PC devices of vmctl run (PIC, PIT and
 * port 0x61, RTC, the reset ports, the UART's receiver; with --lapic
 * the I/O APIC's level-triggered entries), two ways.
 *
 *  1. In a guest: the test guest userspace/guest/devices.c, one case an
 *     entry point, run by vmctl in a VM made here.  It programs the
 *     devices as Linux does, checks what it can itself ("FAIL: ..."
 *     lines) and prints the times, dates and echoes judged here.
 *  2. Without a VM: the PIC and PIT files of vmctl compiled into this
 *     test, with a clock the test sets, for what a guest cannot make
 *     happen on purpose or cannot time exactly: a request that vanishes
 *     before the acknowledge, many timer periods missed at once, the
 *     count at an exact tick, and any port value in any order; the
 *     I/O APIC's remote IRR against the EOIs a local APIC reports.
 *
 * The guest is $RINGVM_GUESTS/devices.bin, /ringvm/guests by default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * 2. The device files themselves, against a clock of the test's own;
 * first, as vmctl.h and the harness both define ARRAY_SIZE.
 */
#include "../userspace/vmctl/dev_i8259.c"
#include "../userspace/vmctl/dev_i8254.c"
#include "../userspace/vmctl/dev_ioapic.c"
#undef ARRAY_SIZE

#include "kselftest_harness.h"
#include "test_util.h"

static __u64 fake_now = 1000000000ULL;

__u64 vmctl_now_ns(void)
{
	return fake_now;
}

/* dev_ioapic.c's messages: counted here (vmctl's is in backend.c). */
static unsigned int nr_msis;
static __u32 last_msi_data;
static int msi_accepted = 1;	/* what SIGNAL_MSI answers */

int vmctl_signal_msi(struct vmctl_machine *m, __u64 address, __u32 data)
{
	(void)m;
	(void)address;
	nr_msis++;
	last_msi_data = data;
	return msi_accepted;
}

#define VM_NAME		"vmctl-tdev"
#define LOAD_ADDR	0x10000
#define RUN_TIMEOUT	"120"

/* Entry points of devices.c's guest_main(), 16 bytes apart. */
enum guest_case {
	CASE_PIT_IRQ, CASE_PIT_CH2, CASE_PIC, CASE_RTC, CASE_RESET_CF9,
	CASE_RESET_KBD, CASE_UART, CASE_FUZZ, CASE_IOAPIC_LEVEL,
};

#define GUEST_OK	1	/* guest_main() returned 0 */
#define RUN_RESET	12	/* VMCTL_EXIT_RESET */

static const char *guest_path(void)
{
	static char path[256];
	const char *dir = getenv("RINGVM_GUESTS");

	snprintf(path, sizeof(path), "%s/devices.bin",
		 dir && dir[0] ? dir : "/ringvm/guests");
	return path;
}

/* 1. In a guest */

FIXTURE(guest) {
	bool created;
};

FIXTURE_SETUP(guest)
{
	char *argv[] = { (char *)ringvm_vmctl_path(), "create", VM_NAME,
			 "--memory", "16M", NULL };
	struct run_result res;
	int ret = ringvm_ensure_loaded();

	self->created = false;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ASSERT_EQ(0, access(guest_path(), R_OK))
		TH_LOG("%s: %s", guest_path(), strerror(errno));
	ASSERT_EQ(0, run_prog(argv, &res));
	ASSERT_EQ(0, res.status) TH_LOG("create: %s", res.err);
	self->created = true;
}

FIXTURE_TEARDOWN(guest)
{
	char *argv[] = { (char *)ringvm_vmctl_path(), "destroy", VM_NAME,
			 NULL };
	struct run_result res;

	if (self->created)
		EXPECT_EQ(0, run_prog(argv, &res));
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/*
 * Run case @c of the guest under timeout(1).  With @input, vmctl's stdin
 * is a FIFO that gets @input once the guest printed "uart: ready" (so
 * that its loopback checks see no input).  No "FAIL" may appear in what
 * it printed.
 */
static void run_case_opts(struct __test_metadata *_metadata,
			  enum guest_case c, const char *opts,
			  const char *input, struct run_result *res)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "timeout %s %s run %s --image %s --mode long --entry 0x%x %s",
		 RUN_TIMEOUT, ringvm_vmctl_path(), VM_NAME, guest_path(),
		 LOAD_ADDR + 16 * c, opts);
	ASSERT_EQ(0, run_typing(cmd, "uart: ready", input, res));
	EXPECT_EQ(NULL, strstr(res->out, "FAIL")) TH_LOG("%s", res->out);
	TH_LOG("guest said:\n%s%s", res->out, res->err);
}

static void run_case(struct __test_metadata *_metadata, enum guest_case c,
		     const char *input, struct run_result *res)
{
	run_case_opts(_metadata, c, "", input, res);
}

/* The number after @key in @out, or -1. */
static long number_after(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* IRQ 0 at 100 Hz with HLT between ticks, then a 20 ms one shot. */
TEST_F_TIMEOUT(guest, pit_irq, 200)
{
	struct run_result res;
	long ms;

	run_case(_metadata, CASE_PIT_IRQ, NULL, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	/*
	 * Never faster than the PIT (a late tick is a period that went
	 * by, given when the guest took the one before); slower when ticks
	 * come late: an exit costs about a millisecond under a busy TCG.
	 * Bochs: 100.
	 */
	ms = number_after(res.out, "pit periodic: 10 ticks in ");
	EXPECT_LE(80, ms);
	EXPECT_GE(400, ms);
	ms = number_after(res.out, "pit oneshot: ");
	EXPECT_LE(15, ms);
	EXPECT_GE(100, ms);
}

/* Channel 2 and port 0x61 as Linux's TSC calibration uses them. */
TEST_F_TIMEOUT(guest, pit_channel2, 200)
{
	struct run_result res;
	long v;

	run_case(_metadata, CASE_PIT_CH2, NULL, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	/* At least 10 ms; more only when the emulator was slow to poll. */
	v = number_after(res.out, "pit ch2: 10 ms in ");
	EXPECT_LE(9000, v);
	EXPECT_GE(500000, v);
	v = number_after(res.out, " us\npit ch2: ");
	EXPECT_LE(1193182 * 90 / 100, v);
	EXPECT_GE(1193182 * 110 / 100, v);
}

/* Masks, the cascade, poll, spurious IRQ 15, auto-EOI, the ELCR. */
TEST_F_TIMEOUT(guest, pic, 200)
{
	struct run_result res;

	run_case(_metadata, CASE_PIC, NULL, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	EXPECT_NE(NULL, strstr(res.out, "pic: spurious ok\npic: done\n"));
}

/* "TAG: YYYY-MM-DD HH:MM:SS" in @out as seconds since 1970, or -1. */
static long long guest_time(const char *out, const char *tag)
{
	struct tm tm = { 0 };
	const char *p = strstr(out, tag);

	if (!p || sscanf(p + strlen(tag), ": %d-%d-%d %d:%d:%d", &tm.tm_year,
			 &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			 &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* The RTC against time(), setting it, its update interrupt. */
TEST_F_TIMEOUT(guest, rtc, 200)
{
	struct run_result res;
	long long before = time(NULL), after, t;
	long ms;

	run_case(_metadata, CASE_RTC, NULL, &res);
	after = time(NULL);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	t = guest_time(res.out, "rtc bcd");
	EXPECT_LE(before - 2, t);
	EXPECT_GE(after + 2, t);
	t = guest_time(res.out, "rtc bin");
	EXPECT_LE(before - 2, t);
	EXPECT_GE(after + 2, t);
	/* 1999-12-31 23:59:58 and two and a half seconds */
	t = guest_time(res.out, "rtc set");
	EXPECT_LE(946684800LL, t);
	EXPECT_GE(946684801LL, t);
	ms = number_after(res.out, "rtc update irq: ");
	EXPECT_LE(0, ms);
	EXPECT_GE(1200, ms);
}

/* Linux's reboot through 0xcf9 (0x02, then 0x06): status 12. */
TEST_F_TIMEOUT(guest, reset_cf9, 200)
{
	struct run_result res;

	run_case(_metadata, CASE_RESET_CF9, NULL, &res);
	EXPECT_EQ(RUN_RESET, res.status) TH_LOG("%s", res.err);
	EXPECT_NE(NULL, strstr(res.out, "reset: PCI probe survived\n"));
}

/* Linux's reboot through the 8042: kb_wait(), 0xfe to 0x64: status 12. */
TEST_F_TIMEOUT(guest, reset_kbd, 200)
{
	struct run_result res;

	run_case(_metadata, CASE_RESET_KBD, NULL, &res);
	EXPECT_EQ(RUN_RESET, res.status) TH_LOG("%s", res.err);
}

/* stdin to the guest by the receive interrupt, echoed to stdout. */
TEST_F_TIMEOUT(guest, uart_echo, 200)
{
	static const char line1[] = "hello\n";
	static const char line2[] = "a line longer than the sixteen bytes of the FIFO\n";
	struct run_result res;
	char input[256], want[256];

	snprintf(input, sizeof(input), "%s%s.", line1, line2);
	snprintf(want, sizeof(want), "uart: ready\n%s%suart: rx interrupts ",
		 line1, line2);
	run_case(_metadata, CASE_UART, input, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	EXPECT_NE(NULL, strstr(res.out, want)) TH_LOG("%s", res.out);
}

/* Random values to every device port: vmctl lives, the guest ends. */
TEST_F_TIMEOUT(guest, fuzz, 200)
{
	struct run_result res;

	run_case(_metadata, CASE_FUZZ, NULL, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	EXPECT_NE(NULL, strstr(res.out, "fuzz: 20000 accesses\n"));
}

/*
 * --lapic: the RTC's line as a level-triggered I/O APIC entry.  The
 * handler leaves it up for four EOIs: each makes ringvm report the EOI
 * (RINGVM_EXIT_EOI), vmctl clear the entry's remote IRR, and the I/O
 * APIC send again at once, so five interrupts come from one update
 * interrupt; the guest checks the remote IRR in the handler and after.
 */
TEST_F_TIMEOUT(guest, ioapic_level, 200)
{
	struct run_result res;
	long ms;

	run_case_opts(_metadata, CASE_IOAPIC_LEVEL, "--lapic", NULL, &res);
	EXPECT_EQ(GUEST_OK, res.status) TH_LOG("%s", res.err);
	EXPECT_EQ(5, number_after(res.out, "ioapic level: ")) TH_LOG("%s",
								   res.out);
	/* one update interrupt, the rest at once: well inside 1.2 s */
	ms = number_after(res.out, " interrupts in ");
	EXPECT_LE(0, ms);
	EXPECT_GE(1200, ms);
}

/* 2. Without a VM */

static struct vmctl_machine machine;

/* The device file that has @port. */
static const struct vmctl_io_dev *port_dev(__u16 port)
{
	if (port >= 0x4d0)
		return &vmctl_dev_elcr;
	if (port >= 0xa0)
		return &vmctl_dev_i8259_slave;
	if (port == 0x61)
		return &vmctl_dev_port_b;
	if (port >= 0x40)
		return &vmctl_dev_i8254;
	return &vmctl_dev_i8259_master;
}

static void out8(__u16 port, __u8 v)
{
	port_dev(port)->io(&machine, port, true, &v, 1);
}

static __u8 in8(__u16 port)
{
	__u8 v = 0;

	port_dev(port)->io(&machine, port, false, &v, 1);
	return v;
}

/* Power-on, then init_8259A() with everything unmasked. */
static void pic_linux_init(void)
{
	vmctl_dev_i8259_master.reset(&machine);
	vmctl_dev_i8254.reset(&machine);
	out8(0x21, 0xff);
	out8(0xa1, 0xff);
	out8(0x20, 0x11);
	out8(0x21, 0x20);
	out8(0x21, 0x04);
	out8(0x21, 0x01);
	out8(0xa0, 0x11);
	out8(0xa1, 0x28);
	out8(0xa1, 0x02);
	out8(0xa1, 0x01);
	out8(0x21, 0x00);
	out8(0xa1, 0x00);
}

static __u8 isr_of(__u16 pic)
{
	__u8 v;

	out8(pic, 0x0b);
	v = in8(pic);
	out8(pic, 0x0a);
	return v;
}

TEST(pic_priority_and_nesting)
{
	pic_linux_init();
	ASSERT_FALSE(vmctl_pic_intr(&machine));
	vmctl_irq_line(&machine, 4, true);
	vmctl_irq_line(&machine, 3, true);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x23, vmctl_pic_intack(&machine));
	/* IRQ 4 waits while IRQ 3 is in service; IRQ 1 does not. */
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	vmctl_irq_line(&machine, 1, true);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x21, vmctl_pic_intack(&machine));
	EXPECT_EQ(0x0a, isr_of(0x20));
	out8(0x20, 0x20);		/* non-specific EOI: IRQ 1 */
	EXPECT_EQ(0x08, isr_of(0x20));
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	out8(0x20, 0x63);		/* specific EOI: IRQ 3 */
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x24, vmctl_pic_intack(&machine));
	out8(0x20, 0x64);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	/* Edges: a line still high requests nothing new. */
	vmctl_irq_line(&machine, 4, true);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	/* Set priority: IR3 lowest, so IR4 first, then IR1. */
	vmctl_irq_line(&machine, 1, false);
	vmctl_irq_line(&machine, 1, true);
	vmctl_irq_line(&machine, 4, false);
	vmctl_irq_line(&machine, 4, true);
	out8(0x20, 0xc3);
	EXPECT_EQ(0x24, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);
	EXPECT_EQ(0x21, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
}

/* Which lines the PIC delivers: masks, and no line past IRQ 15. */
TEST(pic_irq_enabled)
{
	pic_linux_init();
	EXPECT_TRUE(vmctl_pic_irq_enabled(&machine, 0));
	EXPECT_TRUE(vmctl_pic_irq_enabled(&machine, 15));
	out8(0xa1, 0x80);		/* mask IRQ 15 */
	EXPECT_FALSE(vmctl_pic_irq_enabled(&machine, 15));
	EXPECT_FALSE(vmctl_pic_irq_enabled(&machine, 16));
	EXPECT_FALSE(vmctl_pic_irq_enabled(&machine, ~0U));
	EXPECT_FALSE(vmctl_pic_irq_waiting(&machine, 16));
	EXPECT_FALSE(vmctl_pic_irq_waiting(&machine, 3));
	vmctl_irq_line(&machine, 3, true);
	EXPECT_TRUE(vmctl_pic_irq_waiting(&machine, 3));
	vmctl_irq_line(&machine, 3, false);
}

/* A request gone before INTA: IRQ 7 / IRQ 15, not in service. */
TEST(pic_spurious)
{
	pic_linux_init();
	out8(0x4d0, 0x20);		/* IRQ 5 level-triggered */
	vmctl_irq_line(&machine, 5, true);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	vmctl_irq_line(&machine, 5, false);
	EXPECT_EQ(0x27, vmctl_pic_intack(&machine));
	EXPECT_EQ(0x00, isr_of(0x20));

	/* Masked between INTR and INTA, and delivered once unmasked. */
	vmctl_irq_line(&machine, 3, true);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	out8(0x21, 0x08);
	EXPECT_EQ(0x27, vmctl_pic_intack(&machine));
	EXPECT_EQ(0x08, in8(0x20) & 0x08);	/* still in IRR */
	out8(0x21, 0x00);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x23, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);

	/* On the slave: IRQ 15, with the master's IR2 in service. */
	out8(0x4d1, 0x04);		/* IRQ 10 level-triggered */
	vmctl_irq_line(&machine, 10, true);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	vmctl_irq_line(&machine, 10, false);
	EXPECT_EQ(0x2f, vmctl_pic_intack(&machine));
	EXPECT_EQ(0x04, isr_of(0x20));
	EXPECT_EQ(0x00, isr_of(0xa0));
	/* mask_and_ack_8259A(15): specific EOIs to both */
	out8(0xa0, 0x67);
	out8(0x20, 0x62);
	EXPECT_EQ(0x00, isr_of(0x20));
	EXPECT_FALSE(vmctl_pic_intr(&machine));

	/* A real slave interrupt: vector 0x2a, both in service. */
	vmctl_irq_line(&machine, 10, true);
	EXPECT_EQ(0x2a, vmctl_pic_intack(&machine));
	EXPECT_EQ(0x04, isr_of(0x20));
	EXPECT_EQ(0x04, isr_of(0xa0));
	/* Level: still high after the EOIs, so it asks again. */
	out8(0xa0, 0x20);
	out8(0x20, 0x20);
	EXPECT_TRUE(vmctl_pic_intr(&machine));
	out8(0x4d1, 0x00);
	out8(0x4d0, 0x00);
}

#define TICK_NS(n)	((__u64)(n) * 1000000000ULL / 1193182)

/*
 * Take IRQ 0 as the guest would, each edge acknowledged and ended, and
 * the clock moved on to the next update only where that is due within
 * PIT_IRQ_MIN_NS (a tick owed), up to @max edges: how many came.  No
 * second edge may wait while one is in service.
 */
static unsigned int take_irq0(struct __test_metadata *_metadata,
			      unsigned int max)
{
	__u64 next = vmctl_dev_i8254.update(&machine, fake_now);
	unsigned int n = 0;

	while (n < max) {
		if (!vmctl_pic_intr(&machine)) {
			if (next - fake_now > 50000)
				break;
			fake_now = next;
			next = vmctl_dev_i8254.update(&machine, fake_now);
			if (!vmctl_pic_intr(&machine))
				break;
		}
		EXPECT_EQ(0x20, vmctl_pic_intack(&machine));
		EXPECT_FALSE(vmctl_pic_intr(&machine));
		out8(0x20, 0x20);
		n++;
		next = vmctl_dev_i8254.update(&machine, fake_now);
	}
	return n;
}

/*
 * Mode 2 at 100 Hz: an edge each period; after a second without updates
 * the hundred periods' edges, each once the last was taken and
 * PIT_IRQ_MIN_NS after it, never a burst; no more than PIT_OWED_MAX
 * (1000) after a long absence; and none of them after a new control
 * word.
 */
TEST(pit_periodic_catch_up)
{
	unsigned int n;
	__u64 next;

	pic_linux_init();
	fake_now = 1000000000ULL;
	out8(0x43, 0x34);
	out8(0x40, 11932 & 0xff);
	out8(0x40, 11932 >> 8);
	next = vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	ASSERT_NE(VMCTL_NEVER, next);
	EXPECT_GE(TICK_NS(11932) + 1000, next - fake_now);
	EXPECT_LE(TICK_NS(11932) - 1000, next - fake_now);
	fake_now = next;
	vmctl_dev_i8254.update(&machine, fake_now);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x20, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);

	/* A second of no updates: a hundred edges owed, one given now. */
	fake_now += 1000000000ULL;
	vmctl_dev_i8254.update(&machine, fake_now);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	/* not taken: updates give nothing more, and wait for the next rise */
	fake_now += 50000;
	next = vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_LT(50000, next - fake_now);
	EXPECT_GE(TICK_NS(11932) + 1000, next - fake_now);
	/* taken: the rest, PIT_IRQ_MIN_NS apart (5 ms, no new period) */
	EXPECT_EQ(100, take_irq0(_metadata, 200));

	/*
	 * A hundred seconds away: a thousand edges, not ten thousand, and
	 * the periods of the 50 ms they take.
	 */
	fake_now += 100000000000ULL;
	n = take_irq0(_metadata, 20000);
	EXPECT_LE(1000, n);
	EXPECT_GE(1006, n);

	/* A new mode drops what the old one owed. */
	fake_now += 1000000000ULL;
	vmctl_dev_i8254.update(&machine, fake_now);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x20, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);
	out8(0x43, 0x30);		/* mode 0, no count yet */
	/* at most the one given as the control word came, of 99 owed */
	EXPECT_GE(1, take_irq0(_metadata, 200));
}

/*
 * Mode 3 with a 50 us period while edges are owed: in the PIT_IRQ_MIN_NS
 * after an edge given, OUT rises (and falls) again, and those rises are
 * owed, not given on top: no edge reaches the PIC until the 50 us are up.
 */
TEST(pit_owed_rise_not_given_twice)
{
	unsigned int step;

	pic_linux_init();
	fake_now = 1000000000ULL;
	out8(0x43, 0x36);		/* channel 0, mode 3 */
	out8(0x40, 60);			/* 60 ticks: 50.3 us */
	out8(0x40, 0);
	fake_now += 1000000000ULL;	/* a second away: owed */
	vmctl_dev_i8254.update(&machine, fake_now);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x20, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);
	for (step = 1; step <= 9; step++) {
		fake_now += 5000;
		vmctl_dev_i8254.update(&machine, fake_now);
		EXPECT_FALSE(vmctl_pic_intr(&machine)) TH_LOG("+%u us", step * 5);
	}
	fake_now += 6000;
	vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_TRUE(vmctl_pic_intr(&machine));
}

/* Mode 4 one shot: an edge after N + 1 ticks, and never again. */
TEST(pit_oneshot)
{
	__u64 next, start;

	pic_linux_init();
	fake_now = 2000000000ULL;
	start = fake_now;
	out8(0x43, 0x38);
	out8(0x40, 100);
	out8(0x40, 0);
	next = vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_LE(TICK_NS(100), next - start);
	EXPECT_GE(TICK_NS(102), next - start);
	fake_now = next - 1;
	vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
	fake_now = next;
	next = vmctl_dev_i8254.update(&machine, fake_now);
	ASSERT_TRUE(vmctl_pic_intr(&machine));
	EXPECT_EQ(0x20, vmctl_pic_intack(&machine));
	out8(0x20, 0x20);
	EXPECT_EQ(VMCTL_NEVER, next);
	fake_now += 1000000000ULL;
	vmctl_dev_i8254.update(&machine, fake_now);
	EXPECT_FALSE(vmctl_pic_intr(&machine));
}

/* Channel 2 mode 0 as quick_pit_calibrate and pit_calibrate_tsc see it. */
TEST(pit_channel2_counts)
{
	__u64 t0;
	unsigned int k;

	pic_linux_init();
	vmctl_dev_i8254.reset(&machine);
	fake_now = 3000000000ULL;
	/* Start on a tick: the count then moves exactly every tick. */
	fake_now = TICK_NS(ns_to_tick(fake_now) + 1);
	t0 = fake_now;
	out8(0x61, (in8(0x61) & ~0x02) | 0x01);
	out8(0x43, 0xb0);
	out8(0x42, 0xff);
	out8(0x42, 0xff);
	for (k = 0; k < 40; k++) {
		fake_now = t0 + TICK_NS(256 * k + 128);
		in8(0x42);
		EXPECT_EQ(0xff - k, in8(0x42)) TH_LOG("after %u x 256", k);
	}
	/* OUT2 in port 0x61: low until terminal count. */
	out8(0x43, 0xb0);
	out8(0x42, 11932 & 0xff);
	out8(0x42, 11932 >> 8);
	t0 = fake_now;
	fake_now = t0 + TICK_NS(11930);
	EXPECT_EQ(0, in8(0x61) & 0x20);
	fake_now = t0 + TICK_NS(11933);
	EXPECT_EQ(0x20, in8(0x61) & 0x20);
	/* The latch holds while time goes on; status says null count. */
	out8(0x43, 0x80);		/* latch channel 2 */
	k = in8(0x42) | in8(0x42) << 8;
	out8(0x43, 0x80);
	fake_now += TICK_NS(5000);
	EXPECT_EQ(k, in8(0x42) | in8(0x42) << 8);
	EXPECT_NE(k, in8(0x42) | in8(0x42) << 8);
	out8(0x43, 0xb0);
	out8(0x43, 0xe8);
	EXPECT_EQ(0x70, in8(0x42));	/* null count, lohi, mode 0 */
}

/* The I/O APIC's registers through its MMIO page. */
static void ioapic_wr(__u32 reg, __u32 val)
{
	vmctl_ioapic_mmio(&machine, VMCTL_IOAPIC_BASE, true, (__u8 *)&reg, 4);
	vmctl_ioapic_mmio(&machine, VMCTL_IOAPIC_BASE + 0x10, true,
			  (__u8 *)&val, 4);
}

static __u32 ioapic_rd(__u32 reg)
{
	__u32 val;

	vmctl_ioapic_mmio(&machine, VMCTL_IOAPIC_BASE, true, (__u8 *)&reg, 4);
	vmctl_ioapic_mmio(&machine, VMCTL_IOAPIC_BASE + 0x10, false,
			  (__u8 *)&val, 4);
	return val;
}

/*
 * A level-triggered entry (82093AA §3.2.4): one message, then the remote
 * IRR holds the next until the local APIC's EOI of its vector; a line
 * still asserted at the EOI sends again.  The remote IRR is read-only
 * and an edge entry has none; a message no APIC accepted, or an NMI,
 * sets none (no EOI would clear it).  Without EOI exits it is not kept.
 */
TEST(ioapic_level_remote_irr)
{
	const __u32 rte = 0x8000 | 0x45;	/* level, fixed, vector 0x45 */
	const __u32 irr = 1u << 14;

	machine.lapic = true;
	machine.eoi_exits = true;
	vmctl_ioapic_init(&machine);
	nr_msis = 0;
	ioapic_wr(0x10 + 2 * 5, rte);
	vmctl_ioapic_line(&machine, 5, true);
	ASSERT_EQ(1, nr_msis);
	EXPECT_EQ(rte | irr, last_msi_data) TH_LOG("a level message");
	EXPECT_EQ(rte | irr, ioapic_rd(0x10 + 2 * 5));
	/* held: a new rise, a rewrite, another vector's EOI send nothing */
	vmctl_ioapic_line(&machine, 5, false);
	vmctl_ioapic_line(&machine, 5, true);
	ioapic_wr(0x10 + 2 * 5, rte & ~irr);
	vmctl_ioapic_eoi(&machine, 0x46);
	EXPECT_EQ(1, nr_msis);
	EXPECT_EQ(rte | irr, ioapic_rd(0x10 + 2 * 5));
	/* the EOI with the line still up: cleared, and sent again */
	vmctl_ioapic_eoi(&machine, 0x45);
	EXPECT_EQ(2, nr_msis);
	EXPECT_EQ(rte | irr, ioapic_rd(0x10 + 2 * 5));
	/* the EOI with the line down: cleared, nothing sent */
	vmctl_ioapic_line(&machine, 5, false);
	vmctl_ioapic_eoi(&machine, 0x45);
	EXPECT_EQ(2, nr_msis);
	EXPECT_EQ(rte, ioapic_rd(0x10 + 2 * 5));
	/* a write cannot set it; switching to edge drops it */
	ioapic_wr(0x10 + 2 * 5, rte | irr);
	EXPECT_EQ(rte, ioapic_rd(0x10 + 2 * 5));
	vmctl_ioapic_line(&machine, 5, true);
	EXPECT_EQ(3, nr_msis);
	ioapic_wr(0x10 + 2 * 5, 0x45);
	EXPECT_EQ(0x45, ioapic_rd(0x10 + 2 * 5));
	vmctl_ioapic_line(&machine, 5, false);

	/* nobody accepted it, or an NMI entry: no EOI will come, no IRR */
	msi_accepted = 0;
	ioapic_wr(0x10 + 2 * 5, rte);
	vmctl_ioapic_line(&machine, 5, true);
	EXPECT_EQ(4, nr_msis);
	EXPECT_EQ(rte, ioapic_rd(0x10 + 2 * 5));
	vmctl_ioapic_line(&machine, 5, false);
	msi_accepted = 1;
	ioapic_wr(0x10 + 2 * 5, rte | (4 << 8));
	vmctl_ioapic_line(&machine, 5, true);
	EXPECT_EQ(5, nr_msis);
	EXPECT_EQ(rte | (4 << 8), ioapic_rd(0x10 + 2 * 5));
	vmctl_ioapic_line(&machine, 5, false);

	/* without EOI exits every rise sends and no remote IRR shows */
	machine.eoi_exits = false;
	vmctl_ioapic_init(&machine);
	ioapic_wr(0x10 + 2 * 5, rte);
	vmctl_ioapic_line(&machine, 5, true);
	vmctl_ioapic_line(&machine, 5, false);
	vmctl_ioapic_line(&machine, 5, true);
	EXPECT_EQ(7, nr_msis);
	EXPECT_EQ(rte, ioapic_rd(0x10 + 2 * 5));
	machine.lapic = false;
}

/* Any value to any port, any order, any time: nothing breaks. */
TEST(hostile_ports)
{
	static const __u16 ports[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42,
		0x43, 0x61,
	};
	unsigned int i, seed = 1;

	pic_linux_init();
	for (i = 0; i < 200000; i++) {
		unsigned int r = rand_r(&seed);
		__u16 port = ports[r % ARRAY_SIZE(ports)];

		if (r & 0x100)
			out8(port, r >> 16);
		else
			in8(port);
		if (!(r & 0x1e00)) {
			fake_now += r >> 20;
			vmctl_dev_i8254.update(&machine, fake_now);
		}
		vmctl_irq_line(&machine, (r >> 24) & 15, r & 0x200);
		if (vmctl_pic_intr(&machine))
			vmctl_pic_intack(&machine);
	}
}

TEST_HARNESS_MAIN
