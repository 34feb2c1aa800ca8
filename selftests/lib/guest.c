// SPDX-License-Identifier: GPL-2.0
/*
 * Guest code: helpers that run inside a test guest (see guest.h).
 *
 * Everything here runs in the guest, in 64-bit mode at CPL 0 (or 3 for
 * guest_run_user's callee), with interrupts off, on the vCPU's stack in
 * guest RAM.  It must not call libc: no TLS, no system calls, and no
 * memset/memcpy the compiler might pick for us (the Makefile passes
 * -fno-tree-loop-distribute-patterns).
 *
 *  1. the exception router the IDT stubs of guest_entry.S call
 *  2. memset, memcpy, memcmp and a small vsnprintf
 *  3. ring 3
 *  4. SYSCALL targets
 */
#include <stdarg.h>

#include "guest.h"

/* Set by the host before the binary is copied in (vm.c). */
__u32 guest_arch;

/* Per-vector handlers; the host fills the guest's copy. */
void (*guest_exception_handlers[256])(struct ex_regs *);

/* 1. Exceptions */

/*
 * Called by guest_isr_common (guest_entry.S) with the saved frame; the
 * frame is written back on return.  An exception raised inside
 * GUEST_ASM_SAFE() resumes after the instruction with the vector in R9;
 * one with a handler goes to it; anything else is reported to the host
 * and stops the vCPU.
 */
void guest_route_exception(struct ex_regs *regs)
{
	void (*handler)(struct ex_regs *);
	__u64 cr2;

	if (regs->r9 == GUEST_EX_MAGIC && regs->rip == regs->r10) {
		regs->rip = regs->r11;
		regs->r9 = regs->vector;
		return;
	}
	handler = guest_exception_handlers[regs->vector & 0xff];
	if (handler) {
		handler(regs);
		return;
	}
	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	ucall(UCALL_UNHANDLED, 4, regs->vector, regs->error_code, regs->rip,
	      cr2);
	guest_halt_forever();
}

void guest_halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt" : : : "memory");
}

/* 2. Strings */

void guest_memset(void *p, int c, size_t n)
{
	asm volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
}

void guest_memcpy(void *d, const void *s, size_t n)
{
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

int guest_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

struct fmt_out {
	char *buf;
	size_t n;	/* room, NUL included */
	size_t len;	/* what would have been written */
};

static void put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct fmt_out *o, unsigned long long v, unsigned int base,
		    bool neg, int width, char pad)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[i++] = '-';
	while (width-- > i)
		put(o, pad);
	while (i)
		put(o, tmp[--i]);
}

int guest_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .n = n };
	const char *s;

	for (; *fmt; fmt++) {
		unsigned long long v;
		int longs = 0, width = 0;
		char pad = ' ';

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long sv = longs ? va_arg(ap, long long) :
					       va_arg(ap, int);

			v = sv < 0 ? -(unsigned long long)sv :
				     (unsigned long long)sv;
			put_num(&o, v, 10, sv < 0, width, pad);
			break;
		}
		case 'u':
		case 'x':
			v = longs ? va_arg(ap, unsigned long long) :
				    va_arg(ap, unsigned int);
			put_num(&o, v, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				width, pad);
			break;
		case 's':
			for (s = va_arg(ap, const char *); s && *s; s++)
				put(&o, *s);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default:	/* unknown: print it as written */
			put(&o, '%');
			if (!*fmt)
				goto out;
			put(&o, *fmt);
		}
	}
out:
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len;
}

int guest_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = guest_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return ret;
}

/* 3. Ring 3 */

/*
 * IRETQ to @fn at CPL 3 with RSP = @stack_top (16-byte aligned, minus the
 * return-address slot a call would have pushed) and IOPL 3, so that the
 * user code can make ucalls with OUT.  @fn must not return: it has no
 * way back to ring 0.
 */
void guest_run_user(void (*fn)(void), void *stack_top)
{
	__u64 rsp = (((uintptr_t)stack_top) & ~0xfULL) - 8;

	asm volatile("push %[ss]\n\t"
		     "push %[rsp]\n\t"
		     "push %[rflags]\n\t"
		     "push %[cs]\n\t"
		     "push %[rip]\n\t"
		     "iretq"
		     : : [ss] "i"(GUEST_SEL_UDATA | 3), [rsp] "r"(rsp),
		       [rflags] "i"(X86_RFLAGS_FIXED | X86_RFLAGS_IOPL3),
		       [cs] "i"(GUEST_SEL_UCODE | 3), [rip] "r"(fn)
		     : "memory");
	__builtin_unreachable();
}

/* 4. SYSCALL targets */

/*
 * Two places for LSTAR that count the SYSCALLs that reach them, in
 * guest_syscall_counts[0] and [1], and return (SFMASK 0, so RFLAGS is
 * R11 again).  Two, so that a guest can tell whose LSTAR a SYSCALL used.
 */
volatile __u64 guest_syscall_counts[2];

/*
 * SYSCALL on: EFER.SCE, STAR with the 64-bit code selector, LSTAR the
 * first target, CSTAR the second (each its own counter), SFMASK 0.
 */
void guest_syscall_enable(void)
{
	wrmsr(MSR_STAR, (__u64)GUEST_SEL_CODE << 32);
	wrmsr(MSR_LSTAR, (__u64)(uintptr_t)guest_syscall_target0);
	wrmsr(MSR_CSTAR, (__u64)(uintptr_t)guest_syscall_target1);
	wrmsr(MSR_SYSCALL_MASK, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

asm(".pushsection .text\n"
	".globl guest_syscall_target0, guest_syscall_target1\n"
	"guest_syscall_target0:\n\t"
	"lock incq guest_syscall_counts(%rip)\n\t"
	"jmp 1f\n"
	"guest_syscall_target1:\n\t"
	"lock incq guest_syscall_counts+8(%rip)\n"
	"1:\tpush %r11\n\t"
	"popfq\n\t"
	"jmp *%rcx\n"
	".popsection");
