// SPDX-License-Identifier: GPL-2.0
/*
 * backend_test: vmctl run --backend kvm runs vmctl's machine (loaders,
 * devices, run loop) on KVM instead of ringvm, so the same guest can be
 * run under both and the two compared.  Each of the suite's guest
 * programs below runs under ringvm, then (ringvm unloaded, kvm_amd or
 * kvm_intel loaded) under KVM, and must end with the status the test
 * expects under both, and print the same lines, to the byte but for the
 * numbers in the lines that give times, dates and rates.  The one difference allowed is the
 * one the guest is told: CPUID 0x40000000 names ringvm under ringvm and
 * nothing under KVM (userspace/vmctl/backend.c).
 *
 * Programs: the example guest (real, protected and long mode), the
 * devices guest's cases (PIT with its interrupts, PIT channel 2, PIC,
 * RTC, both resets, the UART with typed input, port fuzz; the PIT with
 * the local APICs in the hypervisor and a second vCPU, the PIC with
 * them: under KVM its split irqchip), the multiboot test kernel, and
 * three images for the exits that end a guest (HLT with interrupts off,
 * an MMIO read of nothing, a triple fault).
 *
 * Skipped where KVM does not load.  The Linux boot under both is in
 * linux_boot_test (kvm_backend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "guest.h"

#define VM_NAME		"backend-t"
#define MEMORY		"16M"
#define TEST_EXIT(v)	((((v) << 1) | 1) & 0xff)
#define RUN_HALTED	0
#define RUN_SHUTDOWN	4
#define RUN_RESET	12
#define IMAGE_FILE	"/tmp/backend_test.img"

/* HLT with interrupts off ends the run with status 0. */
static const __u8 img_cli_hlt[] = { 0xfa, 0xf4 };
/* Protected mode: a read where there is no RAM or device is all ones. */
static const __u8 img_mmio_nothing[] = {
	0xa1, 0x00, 0x00, 0x00, 0xd0,	/* mov 0xd0000000, %eax */
	0x83, 0xc0, 0x01,		/* add $1, %eax: 0 if all ones */
	0xe6, 0xf4,			/* out %al, $0xf4 */
};
/* Long mode, no IDT: INT3 becomes a triple fault. */
static const __u8 img_int3[] = { 0xcc };

struct program {
	const char *what;
	const char *file;	/* in $RINGVM_GUESTS; NULL: the image */
	const __u8 *image;	/* written to IMAGE_FILE first */
	size_t image_len;
	const char *args;	/* after "vmctl run NAME" and the file */
	const char *input;	/* typed once the guest says "uart: ready" */
	int status;		/* under both */
};

/* devices.c's guest_main(): the cases' entry points, 16 bytes apart */
#define DEV(n)	"--mode long --entry " #n
#define IMG(c)	NULL, c, sizeof(c)

static const struct program programs[] = {
	{ "hello", "hello.bin", NULL, 0, "", NULL, TEST_EXIT(0) },
	{ "pit", "devices.bin", NULL, 0, DEV(0x10000), NULL, TEST_EXIT(0) },
	{ "pit ch2", "devices.bin", NULL, 0, DEV(0x10010), NULL,
	  TEST_EXIT(0) },
	{ "pic", "devices.bin", NULL, 0, DEV(0x10020), NULL, TEST_EXIT(0) },
	{ "rtc", "devices.bin", NULL, 0, DEV(0x10030), NULL, TEST_EXIT(0) },
	{ "reset cf9", "devices.bin", NULL, 0, DEV(0x10040), NULL, RUN_RESET },
	{ "reset kbd", "devices.bin", NULL, 0, DEV(0x10050), NULL, RUN_RESET },
	{ "uart", "devices.bin", NULL, 0, DEV(0x10060),
	  "typed\nmore than the sixteen bytes of the FIFO\n.", TEST_EXIT(0) },
	{ "fuzz", "devices.bin", NULL, 0, DEV(0x10070), NULL, TEST_EXIT(0) },
	/* the same with the local APICs in the hypervisor, and an AP */
	{ "pit, APICs, 2 vCPUs", "devices.bin", NULL, 0,
	  DEV(0x10000) " --vcpus 2", NULL, TEST_EXIT(0) },
	{ "pic, APICs", "devices.bin", NULL, 0, DEV(0x10020) " --lapic", NULL,
	  TEST_EXIT(0) },
	{ "multiboot", "mbtest.mb", NULL, 0, "--cmdline 'a b'", NULL,
	  TEST_EXIT(0x21) },
	{ "cli hlt", IMG(img_cli_hlt), "--mode long", NULL, RUN_HALTED },
	{ "mmio nothing", IMG(img_mmio_nothing), "--mode protected", NULL,
	  TEST_EXIT(0) },
	{ "int3", IMG(img_int3), "--mode long", NULL, RUN_SHUTDOWN },
};

#define NR_PROGRAMS	ARRAY_SIZE(programs)

/* What each program did: [0] under ringvm, [1] under KVM. */
static struct run_result results[2][NR_PROGRAMS];

/*
 * A KVM VM with a vCPU kept open through the KVM half.  KVM's first VM,
 * and its first vCPU without an in-kernel APIC, turn static keys on
 * (preempt notifiers, kvm_has_noapic_vcpu) and its last turn them off;
 * every such flip patches kernel text, which under multi-threaded TCG
 * can meet the stale-INT3 quirk (selftests/runner/README.md, "Quirks").
 * With this one open, the programs' VMs flip nothing.
 */
static struct kvm_guest pin;
static const __u8 pin_code[] = { 0xf4 };	/* hlt, never run */

FIXTURE(backend) {
	int unused;
};

FIXTURE_SETUP(backend)
{
	self->unused = 0;
	kvm_guest_init(&pin);
}

FIXTURE_TEARDOWN(backend)
{
	struct run_result res;

	run_vmctl(&res, "destroy", VM_NAME, NULL);
	unlink(IMAGE_FILE);
	kvm_guest_destroy(&pin);
	EXPECT_EQ(0, kvm_modules_unload());
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

/* $RINGVM_HELLO or /ringvm/hello.bin; the others in $RINGVM_GUESTS. */
static void program_path(const struct program *p, char *buf, size_t len)
{
	const char *dir = getenv("RINGVM_GUESTS");
	const char *hello = getenv("RINGVM_HELLO");

	if (!p->file)
		snprintf(buf, len, "%s", IMAGE_FILE);
	else if (!strcmp(p->file, "hello.bin"))
		snprintf(buf, len, "%s", hello && hello[0] ? hello :
					 "/ringvm/hello.bin");
	else
		snprintf(buf, len, "%s/%s", dir && dir[0] ? dir :
					    "/ringvm/guests", p->file);
}

static void write_image(struct __test_metadata *_metadata, const __u8 *code,
			size_t len)
{
	FILE *f = fopen(IMAGE_FILE, "w");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(len, fwrite(code, 1, len, f));
	ASSERT_EQ(0, fclose(f));
}

/*
 * Program @p under timeout(1), with @backend ("" or the KVM options)
 * after the VM's name.  With input, vmctl's stdin is a FIFO that gets it
 * once the guest printed "uart: ready".
 */
static void run_program(struct __test_metadata *_metadata,
			const struct program *p, const char *backend,
			struct run_result *res)
{
	char cmd[768], file[512];

	if (p->image)
		write_image(_metadata, p->image, p->image_len);
	program_path(p, file, sizeof(file));
	snprintf(cmd, sizeof(cmd), "timeout 120 %s run %s %s %s %s %s",
		 ringvm_vmctl_path(), VM_NAME, backend,
		 strstr(file, ".mb") ? "--kernel" : "--image", file, p->args);
	ASSERT_EQ(0, run_typing(cmd, "uart: ready", p->input, res));
}

/*
 * The lines that hold times, dates and rates, which differ from run to
 * run on any hypervisor (the RTC set to 00:00:00 may read back a second
 * later); every other line must match to the byte.
 */
static const char *const timed_lines[] = {
	"pit periodic: ", "pit oneshot: ", "pit ch2: ", "rtc bcd: ",
	"rtc bin: ", "rtc set: ", "rtc update irq: ", "uart: rx interrupts ",
};

static bool timed_line(const char *line)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(timed_lines); i++)
		if (!strncmp(line, timed_lines[i], strlen(timed_lines[i])))
			return true;
	return false;
}

/*
 * @s with each run of digits in a timed line replaced by one '#', in
 * place.
 */
static void mask_times(char *s)
{
	char *out = s;
	bool timed = timed_line(s);

	while (*s) {
		if (*s < '0' || *s > '9' || !timed) {
			if (*s == '\n')
				timed = timed_line(s + 1);
			*out++ = *s++;
			continue;
		}
		while (*s >= '0' && *s <= '9')	/* before out overtakes s */
			s++;
		*out++ = '#';
	}
	*out = '\0';
}

/*
 * The one line that differs by design: the hypervisor's signature.
 * false if ringvm's hello did not print it.
 */
static bool unname_hypervisor(char *out)
{
	static const char sig[] = "hypervisor: ringvm";
	char *p = strstr(out, sig);

	if (!p)
		return false;
	memmove(p + strlen("hypervisor: "), p + strlen(sig),
		strlen(p + strlen(sig)) + 1);
	return true;
}

TEST_F_TIMEOUT(backend, guest_programs, 1800)
{
	char *create[] = {
		(char *)ringvm_vmctl_path(), "create", VM_NAME, "--memory",
		MEMORY, "--vcpus", "2", NULL,
	};
	const char *kvm = kvm_vendor_module();
	struct run_result res;
	unsigned int i;
	int ret;

	if (!kvm)
		SKIP(return, "neither VMX nor SVM in /proc/cpuinfo");
	/* 1. ringvm */
	ASSERT_EQ(0, kvm_modules_unload());
	ret = ringvm_ensure_loaded();
	ASSERT_EQ(0, ret) TH_LOG("load ringvm: %s", strerror(-ret));
	ASSERT_EQ(0, run_prog(create, &res));
	ASSERT_EQ(0, res.status) TH_LOG("vmctl create: %s", res.err);
	for (i = 0; i < NR_PROGRAMS; i++)
		run_program(_metadata, &programs[i], "", &results[0][i]);
	ASSERT_EQ(0, run_vmctl(&res, "destroy", VM_NAME, NULL));
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	for (i = 0; i < NR_PROGRAMS; i++)	/* even if KVM does not load */
		EXPECT_EQ(programs[i].status, results[0][i].status)
			TH_LOG("%s under ringvm: %s%s", programs[i].what,
			       results[0][i].out, results[0][i].err);

	/* 2. KVM */
	ret = modprobe(kvm);
	if (ret)
		SKIP(return, "modprobe %s: %d: no KVM to compare with", kvm,
		     ret);
	ret = kvm_guest_create(&pin, pin_code, sizeof(pin_code), 0x1000);
	ASSERT_EQ(0, ret) TH_LOG("a KVM VM: %s", strerror(-ret));
	for (i = 0; i < NR_PROGRAMS; i++)
		run_program(_metadata, &programs[i],
			    "--backend kvm --memory " MEMORY,
			    &results[1][i]);
	kvm_guest_destroy(&pin);
	ASSERT_EQ(0, kvm_modules_unload());

	/* 3. The same under both */
	for (i = 0; i < NR_PROGRAMS; i++) {
		const struct program *p = &programs[i];
		struct run_result *r = &results[0][i], *k = &results[1][i];

		EXPECT_EQ(p->status, r->status)
			TH_LOG("%s under ringvm: %s%s", p->what, r->out, r->err);
		EXPECT_EQ(p->status, k->status)
			TH_LOG("%s under KVM: %s%s", p->what, k->out, k->err);
		EXPECT_EQ(NULL, strstr(r->out, "FAIL")) TH_LOG("%s", r->out);
		EXPECT_EQ(NULL, strstr(k->out, "FAIL")) TH_LOG("%s", k->out);
		/* Status 1 is also vmctl's failure: no message then. */
		if (p->status != RUN_SHUTDOWN) {
			EXPECT_STREQ("", r->err) TH_LOG("%s", p->what);
			EXPECT_STREQ("", k->err) TH_LOG("%s", p->what);
		}
		if (!strcmp(p->what, "hello"))
			EXPECT_TRUE(unname_hypervisor(r->out))
				TH_LOG("ringvm's hello did not name it");
		mask_times(r->out);
		mask_times(k->out);
		EXPECT_STREQ(r->out, k->out) TH_LOG("%s", p->what);
		printf("# %s: status %d and %d, %zu and %zu bytes of output\n",
		       p->what, r->status, k->status, strlen(r->out),
		       strlen(k->out));
		fflush(stdout);
	}
}

TEST_HARNESS_MAIN
