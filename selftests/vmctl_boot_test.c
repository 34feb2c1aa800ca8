// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl_boot_test: vmctl run --kernel with the multiboot loader, as a
 * user runs it.  The multiboot test kernel (userspace/guest/mbtest.S,
 * in $RINGVM_GUESTS or /ringvm/guests) prints on the serial port what the
 * loader gave it; its lines are compared exactly with what this VM must
 * get: the memory fields and map from the VM's RAM, the command line,
 * module 1 with the bytes this test wrote.  Then the refusals: each bad
 * image or initrd gives exit 1, one "vmctl: " line on stderr and nothing
 * on stdout, and leaves the VM able to boot the good kernel.
 *
 * Every VM made here is named "vmctl-b..."; the fixture's teardown
 * destroys any that a failed test left behind.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define VM_PREFIX	"vmctl-b"
#define SZ_1M		(1ULL << 20)
#define SZ_64M		(64ULL << 20)

#define RUN_FAIL	1
#define TEST_EXIT(v)	((((v) << 1) | 1) & 0xff)
#define MBTEST_DONE	TEST_EXIT(0x21)		/* mbtest.S, 4. */

/* The Multiboot Specification 0.6.96, §3.1.1 */
#define MB_HEADER_MAGIC	0x1BADB002
#define MB_SEARCH	8192

#define CMDLINE		"console=ttyS0 root=/dev/ram0 mb-test"

static const char *guest_path(const char *file, char *buf, size_t len)
{
	const char *dir = getenv("RINGVM_GUESTS");

	snprintf(buf, len, "%s/%s", dir && dir[0] ? dir : "/ringvm/guests",
		 file);
	return buf;
}

FIXTURE(boot) {
	struct ringvm_nl *nl;
	char kernel[64];	/* temporary files, "" if none */
	char initrd[64];
};

static int make_temp(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/vmctl_boot_test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		path[0] = '\0';
		return -errno;
	}
	close(fd);
	return 0;
}

FIXTURE_SETUP(boot)
{
	int ret = ringvm_ensure_loaded();

	self->nl = NULL;
	self->kernel[0] = self->initrd[0] = '\0';
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
	ASSERT_EQ(0, make_temp(self->kernel, sizeof(self->kernel)));
	ASSERT_EQ(0, make_temp(self->initrd, sizeof(self->initrd)));
}

FIXTURE_TEARDOWN(boot)
{
	if (self->kernel[0])
		unlink(self->kernel);
	if (self->initrd[0])
		unlink(self->initrd);
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
		      const char *size)
{
	struct run_result res;

	vmctl(_metadata, &res, "create", name, "--memory", size, NULL);
	ASSERT_EQ(0, res.status) TH_LOG("create %s: %s", name, res.err);
}

static void write_file(struct __test_metadata *_metadata, const char *path,
		       const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t done = 0;
	ssize_t n;

	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	while (done < len) {
		n = write(fd, (const char *)data + done, len - done);
		if (n <= 0)
			break;
		done += n;
	}
	close(fd);
	ASSERT_EQ(len, done) TH_LOG("%s: %s", path, strerror(errno));
}

/* A test guest read whole into a malloc()ed buffer; NULL if it cannot. */
static __u8 *read_guest(const char *file, size_t *len)
{
	char path[256];
	struct stat st;
	__u8 *buf;
	int fd;

	fd = open(guest_path(file, path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    !(buf = malloc(st.st_size))) {
		close(fd);
		return NULL;
	}
	if (read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Module 1's bytes: a pattern, so that a misplaced copy shows. */
static void module_bytes(__u8 *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (__u8)(0xa5 ^ (i * 7));
}

/*
 * What mbtest prints in VM @vm, booted with @cmdline and, if @initrd,
 * the module of @mod_len bytes from module_bytes().  The memory fields
 * and map follow from the VM's RAM (one region at 0: vmctl create) and
 * vmctl's memory map (userspace/vmctl/memmap.c).
 */
static void expected_lines(const struct ringvm_nl_vm *vm, const char *cmdline,
			   const char *initrd, size_t mod_len, char *buf,
			   size_t len)
{
	__u64 ram = vm->regions[0].size;
	__u8 first[8];
	size_t n, i;

	n = snprintf(buf, len,
		     "mb: magic ok\n"
		     "mb: state ok\n"
		     "mb: bss zero\n"
		     "mb: mem_lower=639 mem_upper=%llu\n"
		     "mb: mmap base=0x0000000000000000 len=0x000000000009fc00 type=1\n"
		     "mb: mmap base=0x000000000009fc00 len=0x0000000000000400 type=2\n"
		     "mb: mmap base=0x00000000000e0000 len=0x0000000000020000 type=2\n"
		     "mb: mmap base=0x0000000000100000 len=0x%016llx type=1\n"
		     "mb: cmdline=%s\n"
		     "mb: loader=ringvm vmctl\n",
		     (unsigned long long)(ram - SZ_1M) / 1024,
		     (unsigned long long)(ram - SZ_1M), cmdline);
	if (!initrd) {
		snprintf(buf + n, len - n, "mb: mods=0\n");
		return;
	}
	module_bytes(first, sizeof(first));
	n += snprintf(buf + n, len - n, "mb: mods=1 first bytes=");
	for (i = 0; i < sizeof(first) && i < mod_len; i++)
		n += snprintf(buf + n, len - n, "%s%02x", i ? " " : "",
			      first[i]);
	snprintf(buf + n, len - n,
		 "\nmb: mod size=%zu page aligned string=%s\n", mod_len,
		 initrd);
}

/*
 * Boot @guest twice in a 64M VM with --cmdline and --initrd: the same
 * lines both times (the second run sees a zeroed bss again).
 */
static void boot_mbtest(struct __test_metadata *_metadata,
			FIXTURE_DATA(boot) *self, const char *name,
			const char *guest)
{
	static __u8 mod[3000];
	static char want[4096];
	struct ringvm_nl_vm vm;
	struct run_result res;
	char path[256];
	int i;

	guest_path(guest, path, sizeof(path));
	ASSERT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path,
						strerror(errno));
	create_vm(_metadata, name, "64M");
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));
	ASSERT_EQ(1, vm.nr_regions);
	ASSERT_EQ(0, vm.regions[0].gpa);
	ASSERT_EQ(SZ_64M, vm.regions[0].size);
	module_bytes(mod, sizeof(mod));
	write_file(_metadata, self->initrd, mod, sizeof(mod));
	expected_lines(&vm, CMDLINE, self->initrd, sizeof(mod), want,
		       sizeof(want));
	for (i = 0; i < 2; i++) {
		vmctl(_metadata, &res, "run", name, "--kernel", path,
		      "--initrd", self->initrd, "--cmdline", CMDLINE, NULL);
		EXPECT_EQ(MBTEST_DONE, res.status)
			TH_LOG("run %d: stderr: %s", i, res.err);
		EXPECT_STREQ(want, res.out) TH_LOG("run %d", i);
		EXPECT_STREQ("", res.err) TH_LOG("run %d", i);
	}
}

/* The ELF kernel, loaded by its program headers. */
TEST_F_TIMEOUT(boot, multiboot_elf, 300)
{
	boot_mbtest(_metadata, self, VM_PREFIX "elf", "mbtest.mb");
}

/* The flat kernel, loaded by the header's address fields (flags bit 16). */
TEST_F_TIMEOUT(boot, multiboot_aout, 300)
{
	boot_mbtest(_metadata, self, VM_PREFIX "aout", "mbtest-aout.mb");
}

/*
 * No --cmdline, no --initrd: an empty command line, no module; then a
 * module of one byte.  (vmctl refuses an empty initrd file.)
 */
TEST_F_TIMEOUT(boot, multiboot_defaults, 300)
{
	const char *name = VM_PREFIX "dflt";
	static char want[4096];
	struct ringvm_nl_vm vm;
	struct run_result res;
	char path[256];

	guest_path("mbtest.mb", path, sizeof(path));
	create_vm(_metadata, name, "64M");
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, name, &vm));

	vmctl(_metadata, &res, "run", name, "--kernel", path, NULL);
	expected_lines(&vm, "", NULL, 0, want, sizeof(want));
	EXPECT_EQ(MBTEST_DONE, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ(want, res.out);
	EXPECT_STREQ("", res.err);

	/* A 1-byte module: the first bytes stop at its end. */
	write_file(_metadata, self->initrd, "\xa5", 1);
	vmctl(_metadata, &res, "run", name, "--kernel", path, "--initrd",
	      self->initrd, NULL);
	expected_lines(&vm, "", self->initrd, 1, want, sizeof(want));
	EXPECT_EQ(MBTEST_DONE, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ(want, res.out);
	EXPECT_STREQ("", res.err);
}

/* The bad inputs: one change each to an otherwise good boot. */

/* The offset of mbtest.mb's multiboot header; -1 if none. */
static long mb_header(const __u8 *img, size_t len)
{
	size_t off;

	for (off = 0; off + 12 <= len && off + 12 <= MB_SEARCH; off += 4) {
		__u32 magic;

		memcpy(&magic, img + off, 4);
		if (magic == MB_HEADER_MAGIC)
			return off;
	}
	return -1;
}

/* Set the header's flags, with a checksum that matches. */
static void mb_set_flags(__u8 *img, long hdr, __u32 flags)
{
	__u32 sum = -(MB_HEADER_MAGIC + flags);

	memcpy(img + hdr + 4, &flags, 4);
	memcpy(img + hdr + 8, &sum, 4);
}

static Elf32_Phdr *phdr0(__u8 *img)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;

	return (Elf32_Phdr *)(img + eh->e_phoff);
}

enum bad_kind {
	BAD_EMPTY,
	BAD_RANDOM,
	BAD_CHECKSUM,
	BAD_ELF64,
	BAD_MACHINE,
	BAD_TRUNCATED,
	BAD_BEYOND_RAM,
	BAD_BOOT_DATA,
	BAD_ENTRY,
	BAD_VIDEO,
	BAD_UNKNOWN_FLAG,
	BAD_AOUT_TRUNCATED,
	BAD_SMALL_VM,
	BAD_BIG_INITRD,
};

struct bad_case {
	const char *what;
	enum bad_kind kind;
	const char *guest;	/* the image it starts from */
	const char *err;	/* in stderr after "vmctl: " */
};

static const struct bad_case bad_cases[] = {
	{ "empty file", BAD_EMPTY, NULL, "" },
	{ "random bytes", BAD_RANDOM, NULL,
	  "not a multiboot or Linux kernel image" },
	{ "bad checksum", BAD_CHECKSUM, "mbtest.mb",
	  "not a multiboot or Linux kernel image" },
	{ "ELF64", BAD_ELF64, "mbtest.mb", "ELF64" },
	{ "x86-64 machine", BAD_MACHINE, "mbtest.mb",
	  "not an i386 ELF executable" },
	{ "truncated ELF", BAD_TRUNCATED, "mbtest.mb", "truncated" },
	{ "segment beyond RAM", BAD_BEYOND_RAM, "mbtest.mb",
	  "is not in the RAM of" },
	{ "segment on the boot data", BAD_BOOT_DATA, "mbtest.mb",
	  "overlaps the boot data" },
	{ "entry outside", BAD_ENTRY, "mbtest.mb", "entry point" },
	{ "video mode", BAD_VIDEO, "mbtest.mb", "video mode" },
	{ "unknown required flag", BAD_UNKNOWN_FLAG, "mbtest.mb",
	  "requires features" },
	{ "truncated a.out", BAD_AOUT_TRUNCATED, "mbtest-aout.mb",
	  "truncated" },
	{ "kernel above a 1M VM's RAM", BAD_SMALL_VM, "mbtest.mb",
	  "is not in the RAM of" },
	{ "initrd bigger than RAM", BAD_BIG_INITRD, "mbtest.mb",
	  "do not fit" },
};

/* Random bytes from a fixed seed (no "HdrS", no multiboot magic). */
static void random_bytes(__u8 *buf, size_t len)
{
	__u32 x = 0x12345678;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = x >> 16;
	}
}

/*
 * Write the case's kernel (and initrd) files; the VM to run it in and
 * the initrd to give it, NULL for none.
 */
static void prepare_bad(struct __test_metadata *_metadata,
			FIXTURE_DATA(boot) *self, const struct bad_case *c,
			const char **vm, const char **initrd)
{
	size_t len = 0;
	__u8 *img = NULL;
	long hdr = -1;
	__u32 flags = 0;

	*vm = VM_PREFIX "bad";
	*initrd = NULL;
	if (c->guest) {
		img = read_guest(c->guest, &len);
		ASSERT_NE(NULL, img) TH_LOG("%s: %s", c->guest,
					    strerror(errno));
		hdr = mb_header(img, len);
		ASSERT_LE(0, hdr);
		memcpy(&flags, img + hdr + 4, 4);
	}
	switch (c->kind) {
	case BAD_EMPTY:
		break;
	case BAD_RANDOM:
		len = 16384;
		img = malloc(len);
		ASSERT_NE(NULL, img);
		random_bytes(img, len);
		ASSERT_GT(0, mb_header(img, len));
		ASSERT_NE(0, memcmp(img + 0x202, "HdrS", 4));
		break;
	case BAD_CHECKSUM:
		img[hdr + 8]++;
		break;
	case BAD_ELF64:
		img[EI_CLASS] = ELFCLASS64;
		break;
	case BAD_MACHINE:
		((Elf32_Ehdr *)img)->e_machine = EM_X86_64;
		break;
	case BAD_TRUNCATED:
		/* The header stays, the code goes. */
		len = hdr + 0x40;
		break;
	case BAD_BEYOND_RAM:
		phdr0(img)->p_paddr = 0x8000000;	/* 128M in a 64M VM */
		break;
	case BAD_BOOT_DATA:
		phdr0(img)->p_paddr = 0x2000;
		break;
	case BAD_ENTRY:
		((Elf32_Ehdr *)img)->e_entry = 0x3000000;
		break;
	case BAD_VIDEO:
		mb_set_flags(img, hdr, flags | 1 << 2);
		break;
	case BAD_UNKNOWN_FLAG:
		mb_set_flags(img, hdr, flags | 1 << 5);
		break;
	case BAD_AOUT_TRUNCATED:
		len = hdr + 0x40;
		break;
	case BAD_SMALL_VM:
		*vm = VM_PREFIX "1m";
		break;
	case BAD_BIG_INITRD:
		*vm = VM_PREFIX "4m";
		*initrd = self->initrd;
		{
			/* 5M of zeroes for a 4M VM: a sparse file. */
			int fd = open(self->initrd, O_WRONLY | O_CLOEXEC);

			ASSERT_LE(0, fd);
			ASSERT_EQ(0, ftruncate(fd, 5 * SZ_1M));
			close(fd);
		}
		break;
	}
	write_file(_metadata, self->kernel, img, len);
	free(img);
}

/*
 * Each bad input: exit 1, nothing on stdout, exactly one "vmctl: " line
 * on stderr that says why; then the good kernel still boots in the same
 * VM, so a refused load leaves nothing behind that matters.
 */
TEST_F_TIMEOUT(boot, multiboot_refused, 600)
{
	static char want[4096];
	struct ringvm_nl_vm vm;
	struct run_result res;
	char path[256];
	unsigned int i;

	guest_path("mbtest.mb", path, sizeof(path));
	create_vm(_metadata, VM_PREFIX "bad", "64M");
	create_vm(_metadata, VM_PREFIX "1m", "1M");
	create_vm(_metadata, VM_PREFIX "4m", "4M");
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		const char *name, *initrd;

		prepare_bad(_metadata, self, c, &name, &initrd);
		if (initrd)
			vmctl(_metadata, &res, "run", name, "--kernel",
			      self->kernel, "--initrd", initrd, NULL);
		else
			vmctl(_metadata, &res, "run", name, "--kernel",
			      self->kernel, NULL);
		EXPECT_EQ(RUN_FAIL, res.status)
			TH_LOG("%s: stderr: %s", c->what, res.err);
		EXPECT_STREQ("", res.out) TH_LOG("%s", c->what);
		EXPECT_EQ(0, strncmp(res.err, "vmctl: ", 7))
			TH_LOG("%s: %s", c->what, res.err);
		EXPECT_EQ(strlen(res.err) - 1, strcspn(res.err, "\n"))
			TH_LOG("%s: not one line: %s", c->what, res.err);
		EXPECT_NE(NULL, strstr(res.err, c->err))
			TH_LOG("%s: wanted \"%s\" in: %s", c->what, c->err,
			       res.err);
	}

	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, 0, VM_PREFIX "bad", &vm));
	vmctl(_metadata, &res, "run", VM_PREFIX "bad", "--kernel", path,
	      NULL);
	expected_lines(&vm, "", NULL, 0, want, sizeof(want));
	EXPECT_EQ(MBTEST_DONE, res.status) TH_LOG("stderr: %s", res.err);
	EXPECT_STREQ(want, res.out);
}

RINGVM_TEST_MAIN
