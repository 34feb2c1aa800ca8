// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl_acpi_test: the ACPI tables "vmctl run --acpi" writes (acpi.c)
 * and its ACPI PM device (dev_acpi.c), seen from a guest that uses them
 * the way an OS does (userspace/guest/acpi.S, shipped by the runner in
 * /ringvm/guests, or $RINGVM_GUESTS):
 *
 *  - acpi.bin finds and checks every table, the PM registers and the PM
 *    timer, then powers off through S5: vmctl exits 0;
 *  - acpi_sleep.bin asks for sleep types the DSDT does not offer, and
 *    writes S5's SLP_TYP without SLP_EN: none ends the run;
 *  - without --acpi there are no tables to find;
 *  - with too little RAM for the tables, vmctl run --acpi refuses.
 *
 * Every VM made here is named "acpi-t..."; the fixture's teardown
 * destroys any that a failed test left behind.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define VM_PREFIX	"acpi-t"
#define TEST_EXIT(v)	((((v) << 1) | 1) & 0xff)
#define GUEST_FAILED	TEST_EXIT(1)	/* acpi.S's "acpi: FAIL: ..." */

/* What acpi.bin prints after the RSDP's line, on vmctl's tables. */
static const char acpi_lines[] =
	"acpi: RSDT ok\n"
	"acpi: XSDT ok\n"
	"acpi: FACP ok\n"
	"acpi: DSDT ok\n"
	"acpi: \\_S5 SLP_TYPa 5\n"
	"acpi: FACS ok\n"
	"acpi: PM1a_EVT 0x0600 PM1a_CNT 0x0604 PM_TMR 0x0608\n"
	"acpi: SCI_EN 1\n"
	"acpi: PM1a_EN ok\n"
	"acpi: PM timer advances\n";

static void guest_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("RINGVM_GUESTS");

	snprintf(buf, len, "%s/%s", dir && dir[0] ? dir : "/ringvm/guests",
		 name);
}

FIXTURE(acpi) {
	struct ringvm_nl *nl;
};

FIXTURE_SETUP(acpi)
{
	int ret = ringvm_ensure_loaded();

	self->nl = NULL;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(acpi)
{
	if (self->nl) {
		delete_test_vms(self->nl, VM_PREFIX, false);
		ringvm_nl_close(self->nl);
	}
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* Run vmctl with the arguments given, up to a NULL; it must start. */
#define vmctl(_metadata, res, ...)					\
	do {								\
		ASSERT_EQ(0, run_vmctl(res, __VA_ARGS__));		\
	} while (0)

/* vmctl create NAME --memory SIZE, which must work. */
static void create_vm(struct __test_metadata *_metadata, const char *name,
		      const char *memory)
{
	struct run_result res;

	vmctl(_metadata, &res, "create", name, "--memory", memory, NULL);
	ASSERT_EQ(0, res.status) TH_LOG("create %s: %s", name, res.err);
}

/* vmctl run NAME --image GUEST --mode protected [--acpi] */
static void run_guest(struct __test_metadata *_metadata,
		      struct run_result *res, const char *name,
		      const char *guest, bool acpi)
{
	char image[256];

	guest_path(image, sizeof(image), guest);
	ASSERT_EQ(0, access(image, R_OK)) TH_LOG("test guest %s missing",
						 image);
	vmctl(_metadata, res, "run", name, "--image", image, "--mode",
	      "protected", acpi ? "--acpi" : NULL, NULL);
}

/*
 * The first line names where the RSDP was found: on a 16-byte boundary
 * of the BIOS area, ACPI 2.0+; the rest are the same on any layout.
 */
static void check_tables(struct __test_metadata *_metadata, const char *out)
{
	unsigned int rsdp, rev;
	int n = 0;

	ASSERT_EQ(2, sscanf(out, "acpi: RSDP at 0x%x revision %u\n%n", &rsdp,
			    &rev, &n)) TH_LOG("output: %s", out);
	ASSERT_LT(0, n);
	EXPECT_LE(0xe0000, rsdp);
	EXPECT_GT(0x100000, rsdp);
	EXPECT_EQ(0, rsdp % 16);
	EXPECT_EQ(2, rev);
	EXPECT_EQ(0, strncmp(out + n, acpi_lines, strlen(acpi_lines)))
		TH_LOG("output: %s", out);
}

/* The tables, the registers, then S5: vmctl's status 0. */
TEST_F(acpi, tables_and_s5)
{
	const char *name = VM_PREFIX "1";
	struct run_result res;
	size_t len;

	create_vm(_metadata, name, "16M");
	run_guest(_metadata, &res, name, "acpi.bin", true);
	EXPECT_EQ(0, res.status) TH_LOG("output: %s\nstderr: %s", res.out,
					res.err);
	EXPECT_STREQ("", res.err);
	check_tables(_metadata, res.out);
	len = strlen(res.out);
	ASSERT_LT(strlen("acpi: entering S5\n"), len);
	EXPECT_STREQ("acpi: entering S5\n",
		     res.out + len - strlen("acpi: entering S5\n"));
}

/*
 * SLP_EN with SLP_TYP 1, 0 and 4 (not offered), and SLP_TYP 5 without
 * SLP_EN, all come back; the guest ends through the test-exit port.
 */
TEST_F(acpi, other_sleep_types)
{
	static const char last[] =
		"acpi: SLP_TYP 1, 0, 4 with SLP_EN and 5 without: still running\n";
	const char *name = VM_PREFIX "2";
	struct run_result res;
	size_t len;

	create_vm(_metadata, name, "16M");
	run_guest(_metadata, &res, name, "acpi_sleep.bin", true);
	EXPECT_EQ(TEST_EXIT(0x15), res.status)
		TH_LOG("output: %s\nstderr: %s", res.out, res.err);
	EXPECT_STREQ("", res.err);
	check_tables(_metadata, res.out);
	len = strlen(res.out);
	ASSERT_LT(strlen(last), len);
	EXPECT_STREQ(last, res.out + len - strlen(last));
}

/* No --acpi, no tables: the guest's scan finds nothing. */
TEST_F(acpi, no_tables_without_acpi)
{
	const char *name = VM_PREFIX "3";
	struct run_result res;

	create_vm(_metadata, name, "16M");
	run_guest(_metadata, &res, name, "acpi.bin", false);
	EXPECT_EQ(GUEST_FAILED, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ("\nacpi: FAIL: no RSDP in 0xe0000-0xfffff\n", res.out);
}

/* RAM that ends below the BIOS area: vmctl run --acpi says so, exits 1. */
TEST_F(acpi, too_little_ram)
{
	const char *name = VM_PREFIX "4";
	struct run_result res;

	create_vm(_metadata, name, "512K");
	run_guest(_metadata, &res, name, "acpi.bin", true);
	EXPECT_EQ(1, res.status);
	EXPECT_STREQ("", res.out);
	EXPECT_EQ(0, strncmp(res.err, "vmctl: ACPI tables: no RAM at 0xe0000",
			     strlen("vmctl: ACPI tables: no RAM at 0xe0000")))
		TH_LOG("stderr: %s", res.err);
}

TEST_HARNESS_MAIN
