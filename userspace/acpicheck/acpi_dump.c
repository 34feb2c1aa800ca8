// SPDX-License-Identifier: GPL-2.0
/*
 * acpi_dump: run vmctl's acpi.c on a fake machine (1 MiB of RAM from
 * gpa 0, in this process) and write each table it made to DIR as a
 * binary file, rsdp.dat, rsdt.dat, xsdt.dat, facp.dat, facs.dat and
 * dsdt.dat, for "make acpicheck" to hand to iasl.  The tables are found
 * the way an OS finds them: the RSDP by its signature on a 16-byte
 * boundary of 0xe0000-0xfffff, the rest through its pointers.  The
 * checksums are checked on the way; any problem is one line on stderr
 * and exit status 1.
 *
 *	acpi_dump DIR
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

#define RAM_SIZE	0x100000

static __u8 ram[RAM_SIZE];

/* What acpi.c needs of run.c and util.c, for the fake machine. */
void *vmctl_gpa_to_hva(struct vmctl_machine *m, __u64 gpa, __u64 len)
{
	(void)m;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

int vmctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("vmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VMCTL_EXIT_FAIL;
}

static const char *dir;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("acpi_dump: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static __u32 get32(__u64 gpa)
{
	__u32 v;

	memcpy(&v, ram + gpa, 4);
	return v;
}

static __u64 get64(__u64 gpa)
{
	__u64 v;

	memcpy(&v, ram + gpa, 8);
	return v;
}

static void check_sum(const char *what, __u64 gpa, __u64 len)
{
	__u8 sum = 0;
	__u64 i;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		die("%s at 0x%llx+%llu is outside RAM", what,
		    (unsigned long long)gpa, (unsigned long long)len);
	for (i = 0; i < len; i++)
		sum += ram[gpa + i];
	if (sum)
		die("%s at 0x%llx: checksum off by 0x%02x", what,
		    (unsigned long long)gpa, sum);
}

static void dump(const char *name, __u64 gpa, __u64 len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(ram + gpa, 1, len, f) != len || fclose(f))
		die("%s: %s", path, strerror(errno));
	printf("%-4s 0x%05llx %3llu bytes -> %s\n", name,
	       (unsigned long long)gpa, (unsigned long long)len, path);
}

/* A table with the standard header: signature, checksum, then dump it. */
static __u32 table(const char *sig, const char *name, __u64 gpa)
{
	__u32 len;

	if (gpa < 0xe0000 || gpa + 36 > RAM_SIZE)
		die("%s at 0x%llx: not in the BIOS area", sig,
		    (unsigned long long)gpa);
	if (memcmp(ram + gpa, sig, 4))
		die("%s at 0x%llx: signature '%.4s'", sig,
		    (unsigned long long)gpa, (char *)ram + gpa);
	len = get32(gpa + 4);
	check_sum(sig, gpa, len);
	dump(name, gpa, len);
	return len;
}

int main(int argc, char **argv)
{
	struct vmctl_machine m = { .name = "acpi_dump", .nr_ram = 1 };
	__u64 rsdp, found = 0, gpa, fadt, x_fadt, facs, madt, x_madt;
	unsigned int nr = 1;
	__u32 len;

	if (argc == 3) {		/* --vcpus N: the machine with APICs */
		m.nr_vcpus = atoi(argv[2]);
		m.lapic = true;
		nr = 2;
	} else if (argc != 2) {
		fprintf(stderr, "usage: acpi_dump DIR [NR_VCPUS]\n");
		return 2;
	}
	dir = argv[1];
	m.ram[0] = (struct vmctl_ram) { .size = RAM_SIZE, .hva = ram };
	memset(ram, 0xa5, sizeof(ram));		/* no help from zeros */
	rsdp = vmctl_acpi_setup(&m);
	if (!rsdp)
		die("vmctl_acpi_setup failed");

	/* ACPI 6.5 §5.2.5.1: the scan an OS does. */
	for (gpa = VMCTL_ACPI_BASE; gpa < VMCTL_ACPI_END && !found; gpa += 16)
		if (!memcmp(ram + gpa, "RSD PTR ", 8))
			found = gpa;
	if (found != rsdp)
		die("the scan finds the RSDP at 0x%llx, vmctl_acpi_setup says 0x%llx",
		    (unsigned long long)found, (unsigned long long)rsdp);
	check_sum("RSDP (ACPI 1.0 part)", rsdp, 20);
	if (ram[rsdp + 15] < 2)
		die("RSDP revision %u: no XSDT", ram[rsdp + 15]);
	check_sum("RSDP", rsdp, get32(rsdp + 20));
	dump("rsdp", rsdp, get32(rsdp + 20));

	len = table("RSDT", "rsdt", get32(rsdp + 16));
	if (len != 36 + 4 * nr)
		die("RSDT: %u entries, want %u", (len - 36) / 4, nr);
	fadt = get32(get32(rsdp + 16) + 36);
	len = table("XSDT", "xsdt", get64(rsdp + 24));
	if (len != 36 + 8 * nr)
		die("XSDT: %u entries, want %u", (len - 36) / 8, nr);
	x_fadt = get64(get64(rsdp + 24) + 36);
	if (fadt != x_fadt)
		die("RSDT's FADT 0x%llx, XSDT's 0x%llx",
		    (unsigned long long)fadt, (unsigned long long)x_fadt);
	if (m.lapic) {
		madt = get32(get32(rsdp + 16) + 40);
		x_madt = get64(get64(rsdp + 24) + 44);
		if (madt != x_madt)
			die("RSDT's MADT 0x%llx, XSDT's 0x%llx",
			    (unsigned long long)madt,
			    (unsigned long long)x_madt);
		len = table("APIC", "apic", madt);
		/* header, 8, then per vCPU 8, I/O APIC 12, 2 x 10, NMI 6 */
		if (len != 44 + 8 * m.nr_vcpus + 12 + 20 + 6)
			die("MADT: %u bytes for %u vCPUs", len, m.nr_vcpus);
	}

	table("FACP", "facp", fadt);
	if (get32(fadt + 40) != get64(fadt + 140))
		die("FADT: DSDT 0x%x, X_DSDT 0x%llx", get32(fadt + 40),
		    (unsigned long long)get64(fadt + 140));
	table("DSDT", "dsdt", get64(fadt + 140));

	/* The FACS has no checksum (§5.2.10). */
	facs = get32(fadt + 36) ? get32(fadt + 36) : get64(fadt + 132);
	if (facs % 64 || facs + 64 > RAM_SIZE || memcmp(ram + facs, "FACS", 4))
		die("no FACS at 0x%llx", (unsigned long long)facs);
	dump("facs", facs, get32(facs + 4));
	return 0;
}
