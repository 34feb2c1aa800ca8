// SPDX-License-Identifier: GPL-2.0
/*
 * ucalls: how a test guest reports to its host (see guest.h, section 3).
 *
 * Transport: the guest fills a struct ucall on its own stack and executes
 * "outl %eax, $UCALL_PORT" with the struct's address in EAX.  Guest RAM is
 * identity mapped below 4 GiB, so 32 bits are the whole address; the host
 * sees an IO exit to UCALL_PORT and reads the struct through its mapping
 * of guest RAM.  The strings a ucall points to (__FILE__, the assertion's
 * text) are in .rodata, which the guest and the host have at the same
 * address with the same bytes.
 *
 *  1. Guest code: ucall(), ucall_assert(), ucall_printf()
 *  2. Host: get_ucall(), ucall_str()
 */
#include <stdio.h>
#include <string.h>

#include "guest.h"

/* 1. Guest code */

static void ucall_send(struct ucall *uc)
{
	asm volatile("outl %0, %1"
		     : : "a"((__u32)(uintptr_t)uc), "Nd"((__u16)UCALL_PORT)
		     : "memory");
}

static void ucall_init(struct ucall *uc, __u64 cmd, unsigned int nargs,
		       va_list ap)
{
	unsigned int i;

	uc->cmd = cmd;
	uc->nargs = nargs < UCALL_MAX_ARGS ? nargs : UCALL_MAX_ARGS;
	for (i = 0; i < UCALL_MAX_ARGS; i++)
		uc->args[i] = i < uc->nargs ? va_arg(ap, __u64) : 0;
	uc->file = 0;
	uc->line = 0;
	uc->expr = 0;
	uc->buf[0] = '\0';
}

void ucall(__u64 cmd, unsigned int nargs, ...)
{
	struct ucall uc;
	va_list ap;

	va_start(ap, nargs);
	ucall_init(&uc, cmd, nargs, ap);
	va_end(ap);
	ucall_send(&uc);
}

void ucall_assert(const char *file, unsigned int line, const char *expr,
		  unsigned int nargs, ...)
{
	struct ucall uc;
	va_list ap;

	va_start(ap, nargs);
	ucall_init(&uc, UCALL_ASSERT, nargs, ap);
	va_end(ap);
	uc.file = (uintptr_t)file;
	uc.line = line;
	uc.expr = (uintptr_t)expr;
	ucall_send(&uc);
}

void ucall_printf(const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;

	uc.cmd = UCALL_PRINTF;
	uc.nargs = 0;
	uc.file = uc.line = uc.expr = 0;
	va_start(ap, fmt);
	guest_vsnprintf(uc.buf, sizeof(uc.buf), fmt, ap);
	va_end(ap);
	ucall_send(&uc);
}

/* Called from guest_code_returned (guest_entry.S). */
void guest_report_return(void)
{
	ucall_assert(__FILE__, __LINE__,
		     "the guest function returned (end it with GUEST_DONE())",
		     0);
	guest_halt_forever();
}

/* 2. Host */

unsigned int get_ucall(struct test_vcpu *vcpu, struct ucall *uc)
{
	struct ringvm_run *run = vcpu->run;
	const struct ucall *g;
	__u32 gva;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != RINGVM_EXIT_IO ||
	    run->io.direction != RINGVM_IO_OUT || run->io.size != 4 ||
	    run->io.port != UCALL_PORT ||
	    run->io.data_offset > 4096 - sizeof(gva))
		return UCALL_NONE;
	memcpy(&gva, (char *)run + run->io.data_offset, sizeof(gva));
	g = addr_gva2hva(vcpu->vm, gva);
	if (!g || !addr_gva2hva(vcpu->vm, (__u64)gva + sizeof(*uc) - 1))
		return UCALL_NONE;
	memcpy(uc, g, sizeof(*uc));
	uc->buf[UCALL_BUF_LEN - 1] = '\0';
	if (uc->cmd == UCALL_NONE || uc->cmd > UCALL_PRINTF) {
		uc->cmd = UCALL_NONE;
		return UCALL_NONE;
	}
	return uc->cmd;
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
	"#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP",
};

/* A guest string pointer as a host string: .rodata is the same in both. */
static const char *guest_str(__u64 p)
{
	return p ? (const char *)(uintptr_t)p : "?";
}

const char *ucall_str(const struct ucall *uc, char *buf, size_t len)
{
	const char *name;
	int n;

	switch (uc->cmd) {
	case UCALL_ASSERT:
		n = snprintf(buf, len, "%s:%llu: assertion failed: %s",
			     guest_str(uc->file), (unsigned long long)uc->line,
			     guest_str(uc->expr));
		if (uc->nargs == 2 && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - n, " (%#llx vs %#llx)",
				 (unsigned long long)uc->args[0],
				 (unsigned long long)uc->args[1]);
		break;
	case UCALL_UNHANDLED:
		name = uc->args[0] < 32 && vector_names[uc->args[0]] ?
		       vector_names[uc->args[0]] : "vector";
		snprintf(buf, len,
			 "unexpected exception %s (%llu), error code %#llx, at RIP %#llx (CR2 %#llx)",
			 name, (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3]);
		break;
	case UCALL_PRINTF:
		snprintf(buf, len, "%s", uc->buf);
		break;
	case UCALL_SYNC:
		snprintf(buf, len, "GUEST_SYNC(%#llx, %#llx, ...)",
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1]);
		break;
	case UCALL_DONE:
		snprintf(buf, len, "GUEST_DONE");
		break;
	default:
		snprintf(buf, len, "not a ucall");
	}
	return buf;
}
