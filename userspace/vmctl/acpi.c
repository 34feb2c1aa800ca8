// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: the ACPI tables, written into guest RAM at VMCTL_ACPI_BASE
 * (the BIOS area the E820 map reserves, memmap.c) before the guest runs.
 * They describe a machine with the PC's legacy devices and one ACPI
 * device, dev_acpi.c: the PM1a event and control blocks and the PM
 * timer.  Without the in-kernel local APICs there is no MADT, so an OS
 * falls back to the 8259 PIC; with them (--vcpus, --lapic) a MADT
 * follows the DSDT and the RSDT and XSDT list it after the FADT.  The DSDT offers \_S0 and \_S5 only, so "poweroff" in a Linux
 * guest ends the run through S5.
 *
 * Section numbers are those of the ACPI Specification 6.5.
 *
 *  1. The table layouts: packed structs checked against the spec's
 *     offsets.
 *  2. The DSDT's AML, encoded by hand (the ASL is beside it).
 *  3. vmctl_acpi_setup(): lay the tables out one after another from
 *     VMCTL_ACPI_BASE, fill them in, checksum them.
 *
 * Layout (each table aligned as it must be, offsets from 0xe0000):
 *	0x000  RSDP	36 bytes, 16-byte aligned (§5.2.5.1)
 *	0x040  FACS	64 bytes, 64-byte aligned (§5.2.10)
 *	0x080  RSDT	one entry: the FADT
 *	0x0a8  XSDT	the same entry, 64 bits wide
 *	0x0d8  FADT	revision 6, 276 bytes
 *	0x1f0  DSDT
 * The RSDP comes first so that a scan (Linux's, or a test guest's)
 * finds it at once; the boot loaders also pass its address.
 *
 * Runs in vmctl before the vCPU starts; nothing here is reentered.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "machine.h"

/* 1. The tables */

/* §5.2.3.2 Generic Address Structure */
struct acpi_gas {
	__u8 space_id;
	__u8 bit_width;
	__u8 bit_offset;
	__u8 access_size;
	__u64 address;
} __attribute__((packed));

#define ACPI_SPACE_SYSTEM_IO	1
#define ACPI_ACCESS_BYTE	1
#define ACPI_ACCESS_WORD	2
#define ACPI_ACCESS_DWORD	3

static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

/* §5.2.5.3 Root System Description Pointer, revision 2 (ACPI 2.0+) */
struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	__u8 checksum;			/* of the first 20 bytes */
	char oem_id[6];
	__u8 revision;			/* 2 */
	__u32 rsdt_address;
	__u32 length;			/* 36 */
	__u64 xsdt_address;
	__u8 extended_checksum;		/* of all 36 bytes */
	__u8 reserved[3];
} __attribute__((packed));

static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");
static_assert(offsetof(struct acpi_rsdp, length) == 20, "RSDP length");

/* §5.2.6 System Description Table Header */
struct acpi_header {
	char signature[4];
	__u32 length;			/* of the table, header included */
	__u8 revision;
	__u8 checksum;			/* the whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	__u32 oem_revision;
	char creator_id[4];
	__u32 creator_revision;
} __attribute__((packed));

static_assert(sizeof(struct acpi_header) == 36, "header is 36 bytes");

/*
 * §5.2.9 Fixed ACPI Description Table, revision 6 (Table 5.9), all of
 * it: 276 bytes, which is also what Linux 6.1 and 6.12 know
 * (struct acpi_table_fadt): a longer one would be truncated with an
 * "ACPI BIOS Warning".
 */
struct acpi_fadt {
	struct acpi_header header;		/* "FACP" */
	__u32 firmware_ctrl;			/* the FACS */
	__u32 dsdt;
	__u8 reserved0;				/* INT_MODEL in ACPI 1.0 */
	__u8 preferred_pm_profile;
	__u16 sci_int;
	__u32 smi_cmd;
	__u8 acpi_enable;
	__u8 acpi_disable;
	__u8 s4bios_req;
	__u8 pstate_cnt;
	__u32 pm1a_evt_blk;
	__u32 pm1b_evt_blk;
	__u32 pm1a_cnt_blk;
	__u32 pm1b_cnt_blk;
	__u32 pm2_cnt_blk;
	__u32 pm_tmr_blk;
	__u32 gpe0_blk;
	__u32 gpe1_blk;
	__u8 pm1_evt_len;
	__u8 pm1_cnt_len;
	__u8 pm2_cnt_len;
	__u8 pm_tmr_len;
	__u8 gpe0_blk_len;
	__u8 gpe1_blk_len;
	__u8 gpe1_base;
	__u8 cst_cnt;
	__u16 p_lvl2_lat;
	__u16 p_lvl3_lat;
	__u16 flush_size;
	__u16 flush_stride;
	__u8 duty_offset;
	__u8 duty_width;
	__u8 day_alrm;
	__u8 mon_alrm;
	__u8 century;
	__u16 iapc_boot_arch;
	__u8 reserved1;
	__u32 flags;
	struct acpi_gas reset_reg;
	__u8 reset_value;
	__u16 arm_boot_arch;
	__u8 minor_version;
	__u64 x_firmware_ctrl;
	__u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	__u64 hypervisor_vendor_id;
} __attribute__((packed));

static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT SCI_INT");
static_assert(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56, "FADT PM1a");
static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT PM_TMR");
static_assert(offsetof(struct acpi_fadt, pm1_evt_len) == 88, "FADT lens");
static_assert(offsetof(struct acpi_fadt, century) == 108, "FADT CENTURY");
static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET");
static_assert(offsetof(struct acpi_fadt, x_firmware_ctrl) == 132, "FADT X_");
static_assert(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT X_PM1a");
static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_TMR");
static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244,
	      "FADT SLEEP_CONTROL_REG");
static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6 is 276 bytes");

#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR		5	/* ACPI 6.5 */

/* Table 5.10 Fixed ACPI Description Table Fixed Feature Flags */
#define ACPI_FADT_WBINVD	(1u << 0)
#define ACPI_FADT_PROC_C1	(1u << 2)
#define ACPI_FADT_PWR_BUTTON	(1u << 4)  /* none, or a control method one */
#define ACPI_FADT_SLP_BUTTON	(1u << 5)  /* the same */
#define ACPI_FADT_FIX_RTC	(1u << 6)  /* no RTC_STS wake */
#define ACPI_FADT_RESET_REG_SUP	(1u << 10)

/* Table 5.11 IA-PC Boot Architecture Flags */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042		(1u << 1)
#define ACPI_IAPC_NO_VGA	(1u << 2)
#define ACPI_IAPC_NO_MSI	(1u << 3)
#define ACPI_IAPC_NO_ASPM	(1u << 4)
#define ACPI_IAPC_NO_CMOS_RTC	(1u << 5)

/* §5.2.10 Firmware ACPI Control Structure, version 2 (Table 5.14) */
struct acpi_facs {
	char signature[4];		/* "FACS" */
	__u32 length;			/* 64 */
	__u32 hardware_signature;
	__u32 firmware_waking_vector;
	__u32 global_lock;
	__u32 flags;
	__u64 x_firmware_waking_vector;
	__u8 version;			/* 2 */
	__u8 reserved0[3];
	__u32 ospm_flags;
	__u8 reserved1[24];
} __attribute__((packed));

static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

#define ACPI_OEM_ID		"RINGVM"	/* 6 characters */
#define ACPI_OEM_TABLE_ID	"RINGVM  "	/* 8 */
#define ACPI_CREATOR_ID		"RVMC"		/* 4: vmctl */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_REVISION	1

/* 2. The DSDT's AML (§20, ACPI Machine Language) */

/*
 * The definition block, as iasl would compile it (ASL, §19):
 *
 *	DefinitionBlock ("", "DSDT", 2, "RINGVM", "RINGVM  ", 1)
 *	{
 *		Name (_S0, Package (0x04) { Zero, Zero, Zero, Zero })
 *		Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *	}
 *
 * §7.4.2: \_Sx is { PM1a_CNT.SLP_TYP, PM1b_CNT.SLP_TYP, reserved,
 * reserved }.  S0 is working (SLP_TYP 0 does nothing in dev_acpi.c);
 * S5 is soft off, SLP_TYP VMCTL_ACPI_S5_TYP.  S1-S4 are not offered,
 * so an OS never asks for them.  DSDT revision 2: integers are 64 bits
 * wide (§5.2.11.1).
 *
 * Encoding (§20.2): NameOp 0x08, a NameSeg of four characters,
 * PackageOp 0x12, PkgLength (one byte when below 64, counting itself),
 * NumElements, then the elements: ZeroOp 0x00, or BytePrefix 0x0a and
 * the byte.
 */
#define AML_NAME_OP		0x08
#define AML_PACKAGE_OP		0x12
#define AML_BYTE_PREFIX		0x0a
#define AML_ZERO_OP		0x00

static const __u8 dsdt_aml[] = {
	AML_NAME_OP, '_', 'S', '0', '_',
	AML_PACKAGE_OP, 6, 4,			/* PkgLength 6, 4 elements */
		AML_ZERO_OP, AML_ZERO_OP, AML_ZERO_OP, AML_ZERO_OP,
	AML_NAME_OP, '_', 'S', '5', '_',
	AML_PACKAGE_OP, 8, 4,			/* PkgLength 8, 4 elements */
		AML_BYTE_PREFIX, VMCTL_ACPI_S5_TYP,
		AML_BYTE_PREFIX, VMCTL_ACPI_S5_TYP,
		AML_ZERO_OP, AML_ZERO_OP,
};

/*
 * §5.2.12 Multiple APIC Description Table, only with the in-kernel local
 * APICs (--vcpus, --lapic): one Processor Local APIC per vCPU, the I/O
 * APIC (dev_ioapic.c) with GSIs 0-23, the ISA overrides a PC has (IRQ 0,
 * the PIT, on GSI 2; IRQ 9, the SCI, level-triggered active high, as
 * the FADT's SCI_INT says) and LINT1 of every processor as NMI.
 * PCAT_COMPAT: the 8259 pair is there too, for the OS to mask.
 */
struct acpi_madt {
	struct acpi_header h;
	__u32 lapic_address;
	__u32 flags;
} __attribute__((packed));

struct acpi_madt_lapic {		/* §5.2.12.2, type 0 */
	__u8 type, length, uid, apic_id;
	__u32 flags;			/* bit 0: enabled */
} __attribute__((packed));

struct acpi_madt_ioapic {		/* §5.2.12.3, type 1 */
	__u8 type, length, id, reserved;
	__u32 address;
	__u32 gsi_base;
} __attribute__((packed));

struct acpi_madt_override {		/* §5.2.12.5, type 2 */
	__u8 type, length, bus, source;
	__u32 gsi;
	__u16 flags;			/* MPS INTI flags, Table 5.50 */
} __attribute__((packed));

struct acpi_madt_lapic_nmi {		/* §5.2.12.7, type 4 */
	__u8 type, length, uid;
	__u16 flags;
	__u8 lint;
} __attribute__((packed));

static_assert(sizeof(struct acpi_madt) == 44, "MADT header");
static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");
static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT I/O APIC");
static_assert(sizeof(struct acpi_madt_override) == 10, "MADT override");
static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT NMI");

#define MADT_PCAT_COMPAT	1
#define INTI_ACTIVE_HIGH	0x1
#define INTI_LEVEL		0xc

/* 3. Writing them */

static __u8 acpi_checksum(const void *p, size_t len)
{
	const __u8 *b = p;
	__u8 sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

/* The next table's place: @size bytes at @align; the allocator's cursor. */
static __u64 acpi_alloc(__u64 *next, size_t size, __u64 align)
{
	__u64 at = (*next + align - 1) & ~(align - 1);

	*next = at + size;
	return at;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     __u32 length, __u8 revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Last, once the table is complete. */
static void acpi_header_sum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static size_t acpi_madt_len(const struct vmctl_machine *m)
{
	return sizeof(struct acpi_madt) +
	       m->nr_vcpus * sizeof(struct acpi_madt_lapic) +
	       sizeof(struct acpi_madt_ioapic) +
	       2 * sizeof(struct acpi_madt_override) +
	       sizeof(struct acpi_madt_lapic_nmi);
}

static void acpi_madt_init(const struct vmctl_machine *m, __u8 *p)
{
	struct acpi_madt *madt = (struct acpi_madt *)p;
	struct acpi_madt_override ovr;
	struct acpi_madt_ioapic io = {
		.type = 1, .length = sizeof(io), .id = m->nr_vcpus,
		.address = VMCTL_IOAPIC_BASE,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = 4, .length = sizeof(nmi), .uid = 0xff,
		.lint = 1,
	};
	unsigned int i;

	acpi_header_init(&madt->h, "APIC", acpi_madt_len(m), 4);
	madt->lapic_address = 0xfee00000;
	madt->flags = MADT_PCAT_COMPAT;
	p += sizeof(*madt);
	for (i = 0; i < m->nr_vcpus; i++) {
		struct acpi_madt_lapic l = {
			.type = 0, .length = sizeof(l), .uid = i,
			.apic_id = i, .flags = 1,
		};

		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	ovr = (struct acpi_madt_override) {
		.type = 2, .length = sizeof(ovr), .source = 0, .gsi = 2,
	};
	memcpy(p, &ovr, sizeof(ovr));
	p += sizeof(ovr);
	ovr.source = VMCTL_ACPI_SCI_IRQ;
	ovr.gsi = VMCTL_ACPI_SCI_IRQ;
	ovr.flags = INTI_ACTIVE_HIGH | INTI_LEVEL;
	memcpy(p, &ovr, sizeof(ovr));
	p += sizeof(ovr);
	memcpy(p, &nmi, sizeof(nmi));
	acpi_header_sum(&madt->h);
}

static struct acpi_gas acpi_io_gas(__u16 port, unsigned int bytes,
				   __u8 access_size)
{
	return (struct acpi_gas) {
		.space_id = ACPI_SPACE_SYSTEM_IO,
		.bit_width = 8 * bytes,
		.access_size = access_size,
		.address = port,
	};
}

/*
 * The FADT (§5.2.9).  Each choice, and what Linux (6.1, 6.12) makes of
 * it (drivers/acpi/acpica/tbfadt.c, arch/x86/kernel/acpi/boot.c):
 *
 * - Both the 32-bit block addresses and their X_ GAS forms, equal and
 *   of equal width: ACPICA warns of a "32/64X address mismatch" or
 *   "length mismatch" otherwise.  PM1a_EVT_BLK and PM1a_CNT_BLK are the
 *   required blocks (§4.8.1); no PM1b, PM2 or GPE blocks.
 * - FIRMWARE_CTRL only, X_FIRMWARE_CTRL 0: the spec wants one of the
 *   two zero.  DSDT and X_DSDT both, equal (allowed, and read by an
 *   ACPI 1.0 OS as well as a 2.0+ one).
 * - SMI_CMD 0: the machine is always in ACPI mode, there is no SMM to
 *   hand over from (§4.8.2.1, §5.2.9 SMI_CMD "zero on systems that do
 *   not support Legacy Mode"); ACPICA then skips the mode switch, and
 *   PM1_CNT.SCI_EN reads 1 anyway.
 * - SCI_INT 9, the PC's usual: without a MADT it is ISA IRQ 9 on the
 *   PIC, which Linux makes level-triggered through the ELCR.  It never
 *   fires: dev_acpi.c has no events.
 * - P_LVL2_LAT > 100 and P_LVL3_LAT > 1000: no C2, no C3 (§5.2.9).
 * - CENTURY 0: no century byte in the RTC's CMOS; Linux's mc146818
 *   code then windows the two-digit year itself, which is right
 *   whatever dev_rtc.c does with CMOS 0x32.
 * - IAPC_BOOT_ARCH (Table 5.11): LEGACY_DEVICES, as there are ISA
 *   devices (PIC, PIT, RTC, COM1) (Linux only drops PnP BIOS probing
 *   without it); no 8042, so Linux's i8042 driver does not probe ports
 *   0x60/0x64, where only a reset stub lives; NO_VGA, as there is no
 *   VGA behind 0xa0000 or 0x3c0.  MSI and ASPM are left alone: there
 *   is no PCI to apply them to, and NO_MSI would only add a log line.
 *   An RTC exists, so no NO_CMOS_RTC.
 * - Flags (Table 5.10): WBINVD works (the spec wants it set), C1 (HLT)
 *   works; no fixed power or sleep button (their bits set say "none
 *   or a control method one", so Linux installs no fixed-event
 *   handler for them); FIX_RTC: no RTC wake status in PM1; the reset
 *   register is supported.  Not HW_REDUCED_ACPI: this is a PC with
 *   PM1 blocks.
 * - RESET_REG: 8-bit system I/O 0xcf9, value 0x06 (Linux's acpi_reboot()
 *   wants bit width 8, bit offset 0).
 */
static void acpi_fadt_init(struct acpi_fadt *f, __u32 facs, __u32 dsdt)
{
	acpi_header_init(&f->header, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->minor_version = ACPI_FADT_MINOR;
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->preferred_pm_profile = 0;		/* unspecified */
	f->sci_int = VMCTL_ACPI_SCI_IRQ;
	f->smi_cmd = 0;

	f->pm1a_evt_blk = VMCTL_ACPI_PM1A_EVT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = acpi_io_gas(VMCTL_ACPI_PM1A_EVT, 4,
					ACPI_ACCESS_WORD);
	f->pm1a_cnt_blk = VMCTL_ACPI_PM1A_CNT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = acpi_io_gas(VMCTL_ACPI_PM1A_CNT, 2,
					ACPI_ACCESS_WORD);
	f->pm_tmr_blk = VMCTL_ACPI_PM_TMR;
	f->pm_tmr_len = 4;
	f->x_pm_tmr_blk = acpi_io_gas(VMCTL_ACPI_PM_TMR, 4, ACPI_ACCESS_DWORD);

	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	f->century = 0;
	f->iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_NO_VGA;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 |
		   ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON |
		   ACPI_FADT_FIX_RTC | ACPI_FADT_RESET_REG_SUP;
	f->reset_reg = acpi_io_gas(VMCTL_ACPI_RESET_PORT, 1, ACPI_ACCESS_BYTE);
	f->reset_value = VMCTL_ACPI_RESET_VALUE;
	acpi_header_sum(&f->header);
}

static void acpi_rsdp_init(struct acpi_rsdp *r, __u32 rsdt, __u64 xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->rsdt_address = rsdt;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = acpi_checksum(r, offsetof(struct acpi_rsdp, length));
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

__u64 vmctl_acpi_setup(struct vmctl_machine *m)
{
	__u64 next = VMCTL_ACPI_BASE, rsdp, facs, rsdt, xsdt, fadt, dsdt;
	__u64 madt = 0, entries[2];
	const unsigned int nr = m->lapic ? 2 : 1;
	const size_t rsdt_len = sizeof(struct acpi_header) + 4 * nr;
	const size_t xsdt_len = sizeof(struct acpi_header) + 8 * nr;
	const size_t dsdt_len = sizeof(struct acpi_header) + sizeof(dsdt_aml);
	struct acpi_header *h;
	unsigned int i;
	__u8 *base;
	__u32 addr32;

	rsdp = acpi_alloc(&next, sizeof(struct acpi_rsdp), 16);
	facs = acpi_alloc(&next, sizeof(struct acpi_facs), 64);
	rsdt = acpi_alloc(&next, rsdt_len, 8);
	xsdt = acpi_alloc(&next, xsdt_len, 8);
	fadt = acpi_alloc(&next, sizeof(struct acpi_fadt), 8);
	dsdt = acpi_alloc(&next, dsdt_len, 8);
	if (m->lapic)
		madt = acpi_alloc(&next, acpi_madt_len(m), 8);

	base = vmctl_gpa_to_hva(m, VMCTL_ACPI_BASE, next - VMCTL_ACPI_BASE);
	if (!base) {
		vmctl_fail("ACPI tables: no RAM at 0x%x-0x%llx in %s",
			   VMCTL_ACPI_BASE, (unsigned long long)next - 1,
			   m->name);
		return 0;
	}
	/* Whatever an earlier run or the image left there goes. */
	memset(base, 0, next - VMCTL_ACPI_BASE);
#define AT(gpa)	(base + ((gpa) - VMCTL_ACPI_BASE))

	/* §5.2.10: the OS keeps its own state in the FACS; we zero it. */
	memcpy(((struct acpi_facs *)AT(facs))->signature, "FACS", 4);
	((struct acpi_facs *)AT(facs))->length = sizeof(struct acpi_facs);
	((struct acpi_facs *)AT(facs))->version = 2;

	h = (struct acpi_header *)AT(dsdt);
	acpi_header_init(h, "DSDT", dsdt_len, 2);
	memcpy(h + 1, dsdt_aml, sizeof(dsdt_aml));
	acpi_header_sum(h);

	acpi_fadt_init((struct acpi_fadt *)AT(fadt), facs, dsdt);
	entries[0] = fadt;
	if (m->lapic) {
		acpi_madt_init(m, AT(madt));
		entries[1] = madt;
	}

	/* §5.2.7 RSDT: 32-bit entries; §5.2.8 XSDT: 64-bit ones. */
	h = (struct acpi_header *)AT(rsdt);
	acpi_header_init(h, "RSDT", rsdt_len, 1);
	for (i = 0; i < nr; i++) {
		addr32 = entries[i];
		memcpy((__u8 *)(h + 1) + 4 * i, &addr32, 4);
	}
	acpi_header_sum(h);

	h = (struct acpi_header *)AT(xsdt);
	acpi_header_init(h, "XSDT", xsdt_len, 1);
	memcpy(h + 1, entries, 8 * nr);
	acpi_header_sum(h);

	acpi_rsdp_init((struct acpi_rsdp *)AT(rsdp), rsdt, xsdt);
#undef AT
	return rsdp;
}
