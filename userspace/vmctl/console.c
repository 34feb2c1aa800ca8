// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: the guest's console on vmctl's stdin and stdout.
 *
 *  1. Output: the UART's transmitter writes each byte with
 *     vmctl_console_write(), which notes when the first came (--stats).
 *  2. Input: a thread of its own reads stdin into a buffer, so the vCPU
 *     thread never blocks on it, and wakes the vCPU thread: a signal
 *     ends a RINGVM_RUN that is in the guest, and the wake-up descriptor
 *     ends a halt's wait (run.c).  The UART takes bytes from the buffer
 *     with vmctl_console_read() as its receive FIFO has room, so input
 *     typed before the guest reads it waits here instead of being lost.
 *  3. The terminal: when stdin is a terminal it is put in raw mode, so
 *     every key (Ctrl-C too) goes to the guest, and put back on every way
 *     out: the end of the run, exit(), and the signals that kill.
 *  4. The escape, as QEMU's: Ctrl-A x ends vmctl run (status
 *     VMCTL_EXIT_QUIT), Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A followed
 *     by anything else sends both.
 *
 * Only the input thread writes the buffer's tail and only the vCPU
 * thread its head, under one mutex; the thread holds every signal
 * blocked, so the process's signals reach the vCPU thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "machine.h"

#define CTRL_A		0x01
#define INPUT_SIZE	4096

static struct {
	pthread_t thread;
	bool started;
	int wake_fd;
	pthread_t vcpu_thread;
	int kick_signal;

	pthread_mutex_t lock;
	pthread_cond_t room;
	__u8 buf[INPUT_SIZE];
	size_t head;			/* under lock */
	atomic_size_t len;		/* changed under lock, read anywhere */
	atomic_bool arrived;		/* new bytes since the last look */
	atomic_bool quit;		/* Ctrl-A x */
	bool escape;			/* the thread saw Ctrl-A */

	bool raw;
	struct termios saved;

	__u64 first_output_ns;
} con = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.wake_fd = -1,
};

/* 1. Output */

void vmctl_console_write(__u8 c)
{
	if (!con.first_output_ns)
		con.first_output_ns = vmctl_now_ns();
	putchar(c);
	/*
	 * A line at a time, or at once when the guest echoes what is typed
	 * (a terminal in raw mode prints nothing until the flush).
	 */
	if (c == '\n' || con.started)
		fflush(stdout);
}

__u64 vmctl_console_first_output(void)
{
	return con.first_output_ns;
}

/* 2. Input */

static void kick(void)
{
	__u64 one = 1;

	atomic_store(&con.arrived, true);
	if (write(con.wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: a wake-up is waiting anyway */
	}
	pthread_kill(con.vcpu_thread, con.kick_signal);
}

/* Queue @c, after the escape has had its say; false to stop reading. */
static bool input_byte(__u8 c, __u8 *out, size_t *n)
{
	if (con.escape) {
		con.escape = false;
		if (c == 'x' || c == 'X') {
			atomic_store(&con.quit, true);
			return false;
		}
		if (c != CTRL_A)
			out[(*n)++] = CTRL_A;
	} else if (c == CTRL_A) {
		con.escape = true;
		return true;
	}
	out[(*n)++] = c;
	return true;
}

static void *input_thread(void *arg)
{
	__u8 in[256], out[2 * sizeof(in)];
	bool more = true;

	(void)arg;
	while (more) {
		size_t n = 0, done = 0;
		ssize_t got, i;

		got = read(STDIN_FILENO, in, sizeof(in));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;			/* EOF: the guest gets no more */
		for (i = 0; i < got && more; i++)
			more = input_byte(in[i], out, &n);

		pthread_mutex_lock(&con.lock);
		while (done < n) {
			size_t chunk;

			while (con.len == INPUT_SIZE)
				pthread_cond_wait(&con.room, &con.lock);
			chunk = INPUT_SIZE - con.len;
			if (chunk > n - done)
				chunk = n - done;
			for (i = 0; i < (ssize_t)chunk; i++)
				con.buf[(con.head + con.len + i) % INPUT_SIZE] =
					out[done + i];
			con.len += chunk;
			done += chunk;
			kick();
		}
		pthread_mutex_unlock(&con.lock);
	}
	kick();					/* Ctrl-A x, or EOF */
	return NULL;
}

size_t vmctl_console_read(struct vmctl_machine *m, __u8 *buf, size_t max)
{
	size_t n = 0;

	(void)m;
	if (!con.started)
		return 0;
	pthread_mutex_lock(&con.lock);
	while (n < max && con.len) {
		buf[n++] = con.buf[con.head];
		con.head = (con.head + 1) % INPUT_SIZE;
		con.len--;
	}
	if (n)
		pthread_cond_signal(&con.room);
	pthread_mutex_unlock(&con.lock);
	return n;
}

bool vmctl_console_arrived(void)
{
	return atomic_load_explicit(&con.arrived, memory_order_relaxed) &&
	       atomic_exchange(&con.arrived, false);
}

/*
 * Whether typed bytes wait here: the UART takes them only as its FIFO
 * drains, so the loop keeps asking it while any wait, not only when
 * they arrive.
 */
bool vmctl_console_pending(void)
{
	return atomic_load_explicit(&con.len, memory_order_relaxed);
}

bool vmctl_console_quit(void)
{
	return atomic_load_explicit(&con.quit, memory_order_relaxed);
}

/* 3. The terminal */

static void restore_terminal(void)
{
	if (con.raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &con.saved);
		con.raw = false;
	}
}

/* A signal that kills: the terminal back, then die of it as before. */
static void on_fatal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void raw_terminal(void)
{
	static const int fatal[] = {
		SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGPIPE,
	};
	struct termios t;
	unsigned int i;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &con.saved))
		return;
	t = con.saved;
	cfmakeraw(&t);
	/* Keep output processing: vmctl's own messages end in plain \n. */
	t.c_oflag |= OPOST;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return;
	con.raw = true;
	atexit(restore_terminal);
	for (i = 0; i < ARRAY_SIZE(fatal); i++)
		signal(fatal[i], on_fatal);
}

int vmctl_console_start(int wake_fd, int kick_signal)
{
	sigset_t all, old;
	int ret;

	con.wake_fd = wake_fd;
	con.kick_signal = kick_signal;
	con.vcpu_thread = pthread_self();
	raw_terminal();
	/* The thread inherits the mask: all blocked, for the vCPU's sake. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&con.thread, NULL, input_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		restore_terminal();
		return -ret;
	}
	pthread_detach(con.thread);
	con.started = true;
	return 0;
}

void vmctl_console_stop(void)
{
	/*
	 * The input thread may sit in read() on a terminal; it dies with
	 * the process.  Only the terminal needs putting back.
	 */
	fflush(stdout);
	restore_terminal();
}
