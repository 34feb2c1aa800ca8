// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run device: an 8250-compatible UART at COM1 (0x3f8-0x3ff), the
 * guest's console.  Output only for now: what the guest writes to THR
 * goes to vmctl's stdout, flushed at each newline; there is no input
 * and no interrupt yet.
 *
 * Registers (offset from 0x3f8; DLAB is LCR bit 7):
 *	0  read RBR: 0 (nothing received)	write THR, or DLL if DLAB
 *	1  IER, or DLM if DLAB: stored
 *	2  read IIR: no interrupt pending (FIFO bits if enabled); write FCR
 *	3  LCR: stored			4  MCR: stored
 *	5  LSR: THR empty + transmitter empty (0x60), never data ready
 *	6  MSR: CTS DSR DCD, or in loopback mode the MCR outputs
 *	7  SCR: stored
 * A polling guest waits for LSR bit 5 and finds it set at once.  Linux's
 * 8250 driver probes with the scratch register and loopback mode, both
 * of which behave.  In loopback mode THR writes are not sent out (on the
 * real chip they go to the receiver, which this one does not have yet).
 */
#include <stdio.h>

#include "machine.h"

#define UART_BASE	0x3f8

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

#define UART_LCR_DLAB	0x80
#define UART_FCR_ENABLE	0x01
#define UART_IIR_NO_INT	0x01
#define UART_IIR_FIFO	0xc0
#define UART_MCR_LOOP	0x10
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

static struct {
	__u8 dll, dlm, ier, fcr, lcr, mcr, scr;
} uart = {
	.dll = 12,		/* 9600 baud, as a PC BIOS leaves it */
	.lcr = 0x03,		/* 8N1 */
	.mcr = 0x08,		/* OUT2 */
};

/* In loopback mode the modem inputs follow the MCR outputs (8250/16550). */
static __u8 uart_msr(void)
{
	__u8 msr = 0;

	if (!(uart.mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if (uart.mcr & 0x01)		/* DTR */
		msr |= UART_MSR_DSR;
	if (uart.mcr & 0x02)		/* RTS */
		msr |= UART_MSR_CTS;
	if (uart.mcr & 0x04)		/* OUT1 */
		msr |= UART_MSR_RI;
	if (uart.mcr & 0x08)		/* OUT2 */
		msr |= UART_MSR_DCD;
	return msr;
}

static void uart_tx(__u8 c)
{
	if (uart.mcr & UART_MCR_LOOP)
		return;
	vmctl_console_write(c);
}

static __u8 uart_read(unsigned int reg)
{
	bool dlab = uart.lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RX:
		return dlab ? uart.dll : 0;
	case UART_IER:
		return dlab ? uart.dlm : uart.ier;
	case UART_IIR:
		return UART_IIR_NO_INT |
		       (uart.fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return uart.lcr;
	case UART_MCR:
		return uart.mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return uart_msr();
	default:
		return uart.scr;
	}
}

static void uart_write(unsigned int reg, __u8 val)
{
	bool dlab = uart.lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab)
			uart.dll = val;
		else
			uart_tx(val);
		break;
	case UART_IER:
		if (dlab)
			uart.dlm = val;
		else
			uart.ier = val & 0x0f;
		break;
	case UART_FCR:
		uart.fcr = val & 0xc9;	/* bits 1, 2 clear FIFOs: self-clearing */
		break;
	case UART_LCR:
		uart.lcr = val;
		break;
	case UART_MCR:
		uart.mcr = val & 0x1f;
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
	(void)m;
	(void)size;		/* always 1: not a wide device */
	if (out)
		uart_write(port - UART_BASE, *data);
	else
		*data = uart_read(port - UART_BASE);
}

const struct vmctl_io_dev vmctl_dev_uart8250 = {
	.name = "uart8250",
	.base = UART_BASE,
	.len = 8,
	.io = uart_io,
};
