// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 4: the kernel log through /dev/kmsg, to check what the
 * module printed (Documentation/ABI/testing/dev-kmsg).  Each read(2)
 * returns one record, "PRIO,SEQ,USEC,FLAGS;TEXT\n" followed by optional
 * " KEY=VALUE" lines; -EPIPE means records were overwritten before we read
 * them, and the next read goes on from the oldest one left.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "libringvm.h"
#include "internal.h"

#define KMSG_RECORD_MAX	8192	/* CONSOLE_EXT_LOG_MAX, the kernel's limit */

int __ringvm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int ringvm_kmsg_open(void)
{
	return ringvm_report(__ringvm_kmsg_open(), "open /dev/kmsg", NULL);
}

/* The text of a record: after the first ';', up to the first newline. */
static const char *kmsg_text(char *rec, size_t *len)
{
	char *text = memchr(rec, ';', *len);
	char *nl;

	if (!text)
		return NULL;
	text++;
	*len -= text - rec;
	nl = memchr(text, '\n', *len);
	if (nl)
		*len = nl - text;
	return text;
}

int __ringvm_kmsg_find(int fd, const char *prefix, char *buf, size_t len)
{
	size_t plen = strlen(prefix);
	char rec[KMSG_RECORD_MAX];
	const char *text;
	size_t tlen;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return 0;
		tlen = n;
		text = kmsg_text(rec, &tlen);
		if (!text || tlen < plen || memcmp(text, prefix, plen))
			continue;
		if (len) {
			if (tlen >= len)
				tlen = len - 1;
			memcpy(buf, text, tlen);
			buf[tlen] = '\0';
		}
		return 1;
	}
}
