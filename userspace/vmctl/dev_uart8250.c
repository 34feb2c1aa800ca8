// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: a 16550A-compatible UART at COM1 (0x3f8-0x3ff) on
 * IRQ 4, the guest's console.  Runs on the run loop's thread, like
 * every device.
 *
 *  1. Transmit: what the guest writes to THR goes to the console
 *     (vmctl_console_write: stdout) at once, so THR and the transmitter
 *     are always empty again by the next access.  In loopback mode it goes
 *     to the receiver instead.
 *  2. Receive: a 16-byte FIFO (1 byte with the FIFOs off, as on the
 *     16450) filled from the console input (vmctl_console_read) in
 *     update() and whenever the guest makes room.
 *  3. Interrupts: the four sources of IIR in the 16550A's priority
 *     order, IRQ 4 while one is pending and enabled, gated by MCR OUT2
 *     as on a PC.
 *  4. The registers.
 *
 * Registers (offset from 0x3f8; DLAB is LCR bit 7):
 *	0  read RBR			write THR, or DLL if DLAB
 *	1  IER, or DLM if DLAB
 *	2  read IIR			write FCR
 *	3  LCR				4  MCR
 *	5  LSR (writes ignored)		6  MSR (writes ignored)
 *	7  SCR
 * References are to the National Semiconductor PC16550D datasheet
 * (June 1995), "16550D" below, by section.
 *
 * Input is taken only while the receiver has room, so console input
 * never overruns it; only loopback can (LSR OE).  Without a real line
 * there are no parity, framing or break errors.
 */
#include "machine.h"

#define UART_BASE	0x3f8
#define UART_IRQ	4
#define UART_FIFO_SIZE	16

#define UART_RX		0	/* in: receive buffer, DLAB=0 */
#define UART_TX		0	/* out: transmit holding, DLAB=0 */
#define UART_DLL	0	/* divisor latch low, DLAB=1 */
#define UART_IER	1
#define UART_DLM	1	/* divisor latch high, DLAB=1 */
#define UART_IIR	2	/* in */
#define UART_FCR	2	/* out */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01	/* received data available */
#define UART_IER_THRI	0x02	/* THR empty */
#define UART_IER_RLSI	0x04	/* receiver line status */
#define UART_IER_MSI	0x08	/* modem status */

/* IIR: bit 0 clear while an interrupt is pending; its source in 3-1 */
#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_TIMEOUT 0x0c	/* character timeout, FIFO mode */
#define UART_IIR_FIFO	0xc0

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_TRIGGER(v) ((v) >> 6)

#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01	/* receiver data ready */
#define UART_LSR_OE	0x02	/* overrun error */
#define UART_LSR_BRK_ERR_BITS 0x1e	/* OE PE FE BI */
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_DELTA	0x0f
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

/* The 1.8432 MHz crystal: one character (10 bits) is divisor * 86.8 us. */
#define UART_CHAR_NS_PER_DIV 86806ULL

static struct {
	__u8 dll, dlm, ier, fcr, lcr, mcr, scr;
	__u8 lsr_errors;	/* OE, until LSR is read */
	__u8 msr_delta;		/* MSR bits 3-0, until MSR is read */
	bool thri_pending;	/* the THRE interrupt, until taken */
	__u8 rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	__u64 rx_last;		/* ns: the receiver's last activity */
} uart = {
	.dll = 12,		/* 9600 baud, as a PC BIOS leaves it */
	.lcr = 0x03,		/* 8N1 */
	.mcr = UART_MCR_OUT2,
};

/* 2. Receive */

static unsigned int uart_rx_room(void)
{
	unsigned int size = uart.fcr & UART_FCR_ENABLE ? UART_FIFO_SIZE : 1;

	return uart.rx_count < size ? size - uart.rx_count : 0;
}

static void uart_rx_push(__u8 c)
{
	if (!uart_rx_room()) {
		uart.lsr_errors |= UART_LSR_OE;	/* the new byte is lost */
		return;
	}
	uart.rx[(uart.rx_head + uart.rx_count++) % UART_FIFO_SIZE] = c;
	uart.rx_last = vmctl_now_ns();
}

static __u8 uart_rx_pop(void)
{
	__u8 c;

	if (!uart.rx_count)
		return 0;
	c = uart.rx[uart.rx_head];
	uart.rx_head = (uart.rx_head + 1) % UART_FIFO_SIZE;
	uart.rx_count--;
	uart.rx_last = vmctl_now_ns();
	return c;
}

/* Take console input while there is room; not in loopback mode. */
static void uart_rx_fill(struct vmctl_machine *m)
{
	__u8 buf[UART_FIFO_SIZE];
	size_t n, i;

	if (uart.mcr & UART_MCR_LOOP)
		return;
	n = vmctl_console_read(m, buf, uart_rx_room());
	for (i = 0; i < n && i < sizeof(buf); i++)
		uart_rx_push(buf[i]);
}

static void uart_rx_clear(void)
{
	uart.rx_head = 0;
	uart.rx_count = 0;
}

/* 1. Transmit */

static void uart_tx(__u8 c)
{
	if (uart.mcr & UART_MCR_LOOP) {
		uart_rx_push(c);
		return;
	}
	vmctl_console_write(c);
}

/* 3. Interrupts */

/* The FIFO's trigger level: 1, 4, 8 or 14 bytes (16550D Table V). */
static unsigned int uart_rx_trigger(void)
{
	static const unsigned int level[] = { 1, 4, 8, 14 };

	if (!(uart.fcr & UART_FCR_ENABLE))
		return 1;
	return level[UART_FCR_TRIGGER(uart.fcr)];
}

/* Four character times of the current baud rate, the FIFO timeout. */
static __u64 uart_timeout_ns(void)
{
	unsigned int div = uart.dll | uart.dlm << 8;

	return 4 * UART_CHAR_NS_PER_DIV * (div ? div : 0x10000);
}

/*
 * In FIFO mode, bytes below the trigger level that nobody touched for
 * four character times raise the timeout indication (16550D "FIFO
 * Interrupt Mode Operation").
 */
static bool uart_rx_timed_out(__u64 now)
{
	return uart.fcr & UART_FCR_ENABLE && uart.rx_count &&
	       uart.rx_count < uart_rx_trigger() &&
	       now - uart.rx_last >= uart_timeout_ns();
}

/*
 * In the modem status inputs: in loopback mode the MCR outputs, wired
 * DTR to DSR, RTS to CTS, OUT1 to RI, OUT2 to DCD (16550D "Modem
 * Control Register" bit 4); else a modem that is always there.
 */
static __u8 uart_msr_lines(void)
{
	__u8 msr = 0;

	if (!(uart.mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if (uart.mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (uart.mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (uart.mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (uart.mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

/*
 * The pending interrupt of highest priority (16550D Table IV): receiver
 * line status, received data (or the FIFO timeout), THR empty, modem
 * status.  UART_IIR_NO_INT if none.
 */
static __u8 uart_iir_source(__u64 now)
{
	__u8 ier = uart.ier;

	if (ier & UART_IER_RLSI && uart.lsr_errors)
		return UART_IIR_RLSI;
	if (ier & UART_IER_RDI && uart.rx_count >= uart_rx_trigger())
		return UART_IIR_RDI;
	if (ier & UART_IER_RDI && uart_rx_timed_out(now))
		return UART_IIR_TIMEOUT;
	if (ier & UART_IER_THRI && uart.thri_pending)
		return UART_IIR_THRI;
	if (ier & UART_IER_MSI && uart.msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/*
 * IRQ 4 follows the INTR pin through a buffer that MCR OUT2 enables on
 * a PC.  In loopback mode the OUT2 pin is forced inactive (16550D
 * "Modem Control Register" bit 4), so no interrupt leaves the chip,
 * although IIR reports them as usual.
 */
static void uart_update_irq(struct vmctl_machine *m)
{
	bool intr = uart_iir_source(vmctl_now_ns()) != UART_IIR_NO_INT;

	vmctl_irq_line(m, UART_IRQ, intr && (uart.mcr & UART_MCR_OUT2) &&
				    !(uart.mcr & UART_MCR_LOOP));
}

/* 4. The registers */

static __u8 uart_read_iir(void)
{
	__u8 iir = uart_iir_source(vmctl_now_ns());

	/* Reading IIR with THRE the source clears it (16550D Table IV). */
	if (iir == UART_IIR_THRI)
		uart.thri_pending = false;
	return iir | (uart.fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0);
}

static __u8 uart_read(struct vmctl_machine *m, unsigned int reg)
{
	bool dlab = uart.lcr & UART_LCR_DLAB;
	__u8 v;

	switch (reg) {
	case UART_RX:
		if (dlab)
			return uart.dll;
		v = uart_rx_pop();
		uart_rx_fill(m);
		return v;
	case UART_IER:
		return dlab ? uart.dlm : uart.ier;
	case UART_IIR:
		return uart_read_iir();
	case UART_LCR:
		return uart.lcr;
	case UART_MCR:
		return uart.mcr;
	case UART_LSR:
		v = uart.lsr_errors | UART_LSR_THRE | UART_LSR_TEMT |
		    (uart.rx_count ? UART_LSR_DR : 0);
		uart.lsr_errors = 0;	/* errors clear when read */
		return v;
	case UART_MSR:
		v = uart_msr_lines() | uart.msr_delta;
		uart.msr_delta = 0;
		return v;
	default:
		return uart.scr;
	}
}

static void uart_write_ier(__u8 val)
{
	__u8 old = uart.ier;

	uart.ier = val & 0x0f;
	/*
	 * Enabling the THRE interrupt with THR empty raises it at once;
	 * Linux's 8250 driver tests for exactly this (UART_BUG_THRE).
	 */
	if ((uart.ier & ~old) & UART_IER_THRI)
		uart.thri_pending = true;
	else if (!(uart.ier & UART_IER_THRI))
		uart.thri_pending = false;
}

static void uart_write_fcr(__u8 val)
{
	/* FIFO enable changing clears both FIFOs (16550D "FCR" bit 0). */
	if ((val ^ uart.fcr) & UART_FCR_ENABLE || val & UART_FCR_CLEAR_RCVR)
		uart_rx_clear();
	/* The other bits are written only with bit 0 set. */
	uart.fcr = val & UART_FCR_ENABLE ? val & 0xc9 : 0;
}

static void uart_write_mcr(__u8 val)
{
	__u8 old = uart_msr_lines(), now, changed;

	uart.mcr = val & 0x1f;
	now = uart_msr_lines();
	changed = old ^ now;
	if (changed & UART_MSR_CTS)
		uart.msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		uart.msr_delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		uart.msr_delta |= UART_MSR_DDCD;
	if (changed & old & UART_MSR_RI)	/* RI's trailing edge */
		uart.msr_delta |= UART_MSR_TERI;
}

static void uart_write(struct vmctl_machine *m, unsigned int reg, __u8 val)
{
	bool dlab = uart.lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab) {
			uart.dll = val;
			break;
		}
		uart_tx(val);
		/* THR is empty again at once: a new THRE interrupt. */
		uart.thri_pending = true;
		break;
	case UART_IER:
		if (dlab)
			uart.dlm = val;
		else
			uart_write_ier(val);
		break;
	case UART_FCR:
		uart_write_fcr(val);
		uart_rx_fill(m);
		break;
	case UART_LCR:
		uart.lcr = val;
		break;
	case UART_MCR:
		uart_write_mcr(val);
		uart_rx_fill(m);	/* leaving loopback takes input */
		break;
	case UART_SCR:
		uart.scr = val;
		break;
	default:		/* LSR, MSR: read-only */
		break;
	}
}

static void uart_io(struct vmctl_machine *m, __u16 port, bool out,
		    __u8 *data, unsigned int size)
{
	(void)size;		/* always 1: not a wide device */
	if (out)
		uart_write(m, port - UART_BASE, *data);
	else
		*data = uart_read(m, port - UART_BASE);
	uart_update_irq(m);
	/* The FIFO timeout may need a new wake-up time. */
	if (uart.rx_count)
		m->update_needed = true;
}

/* Take input, drive IRQ 4; come back when the FIFO timeout is due. */
static __u64 uart_update(struct vmctl_machine *m, __u64 now)
{
	uart_rx_fill(m);
	uart_update_irq(m);
	if (uart.fcr & UART_FCR_ENABLE && uart.rx_count &&
	    uart.rx_count < uart_rx_trigger() && !uart_rx_timed_out(now))
		return uart.rx_last + uart_timeout_ns();
	return VMCTL_NEVER;
}

static void uart_reset(struct vmctl_machine *m)
{
	uart.dll = 12;
	uart.dlm = 0;
	uart.ier = 0;
	uart.fcr = 0;
	uart.lcr = 0x03;
	uart.mcr = UART_MCR_OUT2;
	uart.scr = 0;
	uart.lsr_errors = 0;
	uart.msr_delta = 0;
	uart.thri_pending = false;
	uart_rx_clear();
	vmctl_irq_line(m, UART_IRQ, false);
}

const struct vmctl_io_dev vmctl_dev_uart8250 = {
	.name = "uart8250",
	.base = UART_BASE,
	.len = 8,
	.io = uart_io,
	.update = uart_update,
	.reset = uart_reset,
};
