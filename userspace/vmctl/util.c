// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl: parsing and printing numbers, sizes and JSON strings, shared by
 * the subcommands.
 */
#include <cpuid.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmctl.h"

bool vmctl_parse_u64(const char *s, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))	/* no sign, no blanks */
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool vmctl_parse_size(const char *s, __u64 *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	unsigned int shift = 0;
	const char *u;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return false;
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return false;
		shift = 10 * (u - units + 1);
		end++;
		/* K, KB, KiB: all the same 1024. */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
		if (*end)
			return false;
	}
	if (shift && v > (~0ULL >> shift))
		return false;
	*out = v << shift;
	return true;
}

char *vmctl_size_str(__u64 bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (bytes && !(bytes & 1023) && u < 3) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes,
			 units[u]);
	return buf;
}

void vmctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void vmctl_hypervisor_signature(char sig[13])
{
	unsigned int eax, regs[3], i;

	sig[0] = '\0';
	__cpuid(1, eax, regs[0], regs[1], regs[2]);
	if (!(regs[1] & (1U << 31)))	/* ECX: no hypervisor */
		return;
	__cpuid(0x40000000, eax, regs[0], regs[1], regs[2]);
	memcpy(sig, regs, 12);
	sig[12] = '\0';
	for (i = 0; i < 12 && sig[i]; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			break;
	if (i == 0 || (i < 12 && sig[i]))
		sig[0] = '\0';
}
