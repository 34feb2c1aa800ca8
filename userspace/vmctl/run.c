// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: run a flat binary image, or boot a kernel, in a VM made by
 * "vmctl create", on vCPU 0 of that VM, with the devices in devices.h,
 * until the guest halts for good, powers off, resets, writes to the
 * test-exit port, crashes or is interrupted.
 *
 *  1. Set up: open the VM by name, map its RAM, give the VM a CPUID
 *     table (cpuid.c), create vCPU 0; then either load the image and
 *     start it in the mode asked for (boot.c), or let the kernel's
 *     loader (loader_*.c) load it, with ACPI tables (acpi.c).
 *  2. The loop: bring the devices up to date (their timers, console
 *     input), hand the PIC's interrupt to ringvm, RINGVM_RUN, then
 *     complete the exit in user space: port I/O to the devices, MMIO
 *     (no devices yet), hypercalls the module left to us, HLT (sleep
 *     until a device has something); stop on the others.  A POSIX timer
 *     set for the devices' next deadline, and the console's input
 *     thread, end a RUN that is in the guest with a signal.
 *  3. How it ended, as the exit status (machine.h) and, for a guest that
 *     crashed, one line on stderr with what the hardware said; with
 *     --stats, the timings and the exits on stderr.
 *
 * The guest's console (the UART) is vmctl's stdin and stdout
 * (console.c); everything vmctl says itself goes to stderr.  The vCPU
 * lives as long as this process (its fd), so the VM can be run again
 * afterwards.
 */
#define _GNU_SOURCE		/* ppoll() */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "machine.h"

#define RUN_HELP							\
	"Runs the flat binary FILE, or boots the kernel KERNEL, in the VM\n" \
	"NAME (made by vmctl create) on vCPU 0.  The guest's serial\n"	\
	"console (COM1, 0x3f8) is stdin and stdout.\n\n"		\
	"options:\n"							\
	"  -i, --image FILE   a flat image to run (or --kernel)\n"	\
	"  -l, --load-addr A  guest-physical address to load it at\n"	\
	"                     (default 0x10000)\n"			\
	"  -e, --entry A      where to start (default: the load address);\n" \
	"                     in real mode below 1M, run as\n"		\
	"                     CS:IP = (A >> 4 & 0xf000):(A & 0xffff)\n"	\
	"  -m, --mode MODE    real (default), protected (flat 32-bit, no\n" \
	"                     paging) or long (64-bit, the first 4 GiB\n" \
	"                     identity mapped)\n"			\
	"  -a, --acpi         give an image the ACPI tables too\n"	\
	"  -k, --kernel FILE  boot a kernel: a Linux bzImage (x86 boot\n" \
	"                     protocol 2.12 or later, 64-bit entry) or a\n" \
	"                     multiboot (v1) kernel, told apart by their\n" \
	"                     headers; ACPI tables included\n"		\
	"  -r, --initrd FILE  the kernel's initrd (multiboot: module 1)\n" \
	"  -c, --cmdline STR  the kernel's command line\n"		\
	"  -n, --vcpus N      N vCPUs (1-8, default 1): vCPU 0 boots, the\n" \
	"                     others wait for its INIT and start-up IPIs;\n" \
	"                     implies --lapic when N > 1\n"		\
	"  -L, --lapic        the local APICs in ringvm, an I/O APIC at\n" \
	"                     0xfec00000 and a MADT in the ACPI tables\n" \
	"  -s, --stats        at the end, print on stderr the time to the\n" \
	"                     guest's first console byte and to its end,\n" \
	"                     and the exits vmctl handled, by reason\n"	\
	"  -b, --backend B    ringvm (default), or kvm: the same machine\n" \
	"                     on /dev/kvm (kvm_amd or kvm_intel loaded,\n" \
	"                     ringvm not), to compare a guest under both;\n" \
	"                     NAME only names it; --lapic gives KVM's\n" \
	"                     local APICs (split irqchip)\n"		\
	"  -M, --memory SIZE  with --backend kvm: its RAM at 0 (a multiple\n" \
	"                     of 4K, up to 3G)\n"				\
	"  -h, --help         show this help\n\n"			\
	"Protected and long mode use guest RAM at 0x1000-0x7fff for a GDT\n" \
	"(0x08 code32, 0x10 data, 0x18 code64, 0x20 TSS) and the page\n" \
	"tables; the image must not overlap it.  RSP starts at the load\n" \
	"address; in real mode all segments are the entry's and SP is 0.\n\n" \
	"Devices: an 8250 UART at 0x3f8 (IRQ 4), an i8259 PIC pair, an\n" \
	"i8254 PIT with port 0x61, a CMOS RTC with the host's time, port\n" \
	"0x80, reset through 0xcf9 and the i8042 (0x64), ACPI power\n"	\
	"management at 0x600 (S5 powers off), and a test-exit port at\n" \
	"0xf4.  Other ports read as all ones and ignore writes; so does\n" \
	"MMIO.  Hypercalls ringvm leaves to vmctl return -ENOSYS.\n\n"	\
	"Console: when stdin is a terminal it is raw while the guest\n"	\
	"runs, so keys such as Ctrl-C go to the guest.  Ctrl-A x quits,\n" \
	"Ctrl-A Ctrl-A sends Ctrl-A.\n\n"				\
	"exit status:\n"						\
	"  0        the guest powered off (ACPI S5), or halted with\n"	\
	"           interrupts disabled (HLT)\n"				\
	"  odd N    the guest wrote V to port 0xf4: N = (V << 1 | 1) & 0xff\n" \
	"           (so 1 when it wrote 0, as with QEMU's isa-debug-exit)\n" \
	"  1        vmctl failed (message on stderr)\n"		\
	"  2        bad command line\n"					\
	"  4        the guest triple-faulted (shutdown)\n"		\
	"  6        the hardware refused the guest's state (entry failed)\n" \
	"  8        ringvm could not handle the guest (emulation, internal\n" \
	"           error, unknown exit)\n"				\
	"  10       the VM was destroyed while it ran\n"		\
	"  12       the guest reset the machine (reboot)\n"		\
	"  14       Ctrl-A x on the console\n"				\
	"  128+S    stopped by signal S (130: SIGINT)\n"

/* The signal that asked us to stop, 0 if none (1. and 2.). */
static volatile sig_atomic_t stop_signal;

#define TIMER_RETRY_NS	2000000ULL

static struct {
	timer_t timer;
	bool have_timer;
	__u64 armed;		/* the deadline set, VMCTL_NEVER if none */
	int wake_fd;		/* eventfd: signals and console input */
} loop = { .armed = VMCTL_NEVER, .wake_fd = -1 };

/*
 * The signals that stop vmctl, SIGALRM (the device timer) and SIGUSR1
 * (console input): each ends a RUN in the guest, being caught, and wakes
 * a halt's wait through the eventfd.  write() is async-signal-safe.
 */
static void on_signal(int sig)
{
	int saved = errno;
	__u64 one = 1;

	if (sig != SIGALRM && sig != SIGUSR1)
		stop_signal = sig;
	if (loop.wake_fd >= 0 && write(loop.wake_fd, &one, sizeof(one)) < 0) {
		/* full: a wake-up waits already */
	}
	errno = saved;
}

/* --stats */
static struct {
	__u64 start_ns;
	__u64 exits[RINGVM_EXIT_EOI + 1];
} stats;

static void print_stats(int status)
{
	__u64 first = vmctl_console_first_output(), end = vmctl_now_ns();
	unsigned int i;

	if (first)
		fprintf(stderr, "vmctl: stats: first console byte after %.3f s\n",
			(first - stats.start_ns) / 1e9);
	else
		fprintf(stderr, "vmctl: stats: no console output\n");
	fprintf(stderr, "vmctl: stats: ended (status %d) after %.3f s\n",
		status, (end - stats.start_ns) / 1e9);
	fprintf(stderr, "vmctl: stats: exits to vmctl:");
	for (i = 0; i < ARRAY_SIZE(stats.exits); i++)
		if (stats.exits[i])
			fprintf(stderr, " %s %llu",
				ringvm_exit_reason_name(i),
				(unsigned long long)stats.exits[i]);
	fputc('\n', stderr);
}

void *vmctl_gpa_to_hva(struct vmctl_machine *m, __u64 gpa, __u64 len)
{
	unsigned int i;

	for (i = 0; i < m->nr_ram; i++) {
		struct vmctl_ram *r = &m->ram[i];

		if (r->hva && gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return (char *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

/* 1. Setting up */

struct run_opts {
	const char *name;
	const char *image;
	__u64 load_addr;
	__u64 entry;
	bool entry_set;
	bool load_set;
	bool mode_set;
	enum vmctl_mode mode;
	bool acpi;
	bool stats;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	unsigned int vcpus;
	bool lapic;
	bool kvm;
	__u64 memory;		/* --backend kvm */
};

static int parse_mode(const char *s, enum vmctl_mode *mode)
{
	static const char *const names[] = {
		[VMCTL_MODE_REAL] = "real",
		[VMCTL_MODE_PROTECTED] = "protected",
		[VMCTL_MODE_LONG] = "long",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int run_parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "load-addr", required_argument, NULL, 'l' },
		{ "entry", required_argument, NULL, 'e' },
		{ "mode", required_argument, NULL, 'm' },
		{ "acpi", no_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'r' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 's' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "lapic", no_argument, NULL, 'L' },
		{ "backend", required_argument, NULL, 'b' },
		{ "memory", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct vmctl_cmd *cmd = &vmctl_cmd_run;
	__u64 n;
	int c, ret;

	*o = (struct run_opts) { .load_addr = VMCTL_DEFAULT_LOAD_ADDR,
				 .vcpus = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:l:e:m:ak:r:c:sn:Lb:M:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!vmctl_parse_size(optarg, &n) || n < 1 ||
			    n > VMCTL_MAX_VCPUS)
				return vmctl_usage_error(cmd,
					"bad vCPU count '%s': 1 to %d", optarg,
					VMCTL_MAX_VCPUS);
			o->vcpus = n;
			if (n > 1)
				o->lapic = true;
			break;
		case 'L':
			o->lapic = true;
			break;
		case 'b':
			if (strcmp(optarg, "ringvm") && strcmp(optarg, "kvm"))
				return vmctl_usage_error(cmd,
					"bad backend '%s': ringvm or kvm",
					optarg);
			o->kvm = !strcmp(optarg, "kvm");
			break;
		case 'M':
			if (!vmctl_parse_size(optarg, &o->memory) ||
			    !o->memory || o->memory % 4096 ||
			    o->memory > VMCTL_KVM_MAX_RAM)
				return vmctl_usage_error(cmd,
					"bad memory size '%s': a nonzero multiple of 4K up to 3G",
					optarg);
			break;
		case 'i':
			o->image = optarg;
			break;
		case 'l':
			if (!vmctl_parse_size(optarg, &o->load_addr))
				return vmctl_usage_error(cmd,
					"bad load address '%s'", optarg);
			o->load_set = true;
			break;
		case 'e':
			if (!vmctl_parse_size(optarg, &o->entry))
				return vmctl_usage_error(cmd,
					"bad entry address '%s'", optarg);
			o->entry_set = true;
			break;
		case 'm':
			if (parse_mode(optarg, &o->mode))
				return vmctl_usage_error(cmd,
					"bad mode '%s': real, protected or long",
					optarg);
			o->mode_set = true;
			break;
		case 'a':
			o->acpi = true;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'r':
			o->initrd = optarg;
			break;
		case 'c':
			o->cmdline = optarg;
			break;
		case 's':
			o->stats = true;
			break;
		case 'h':
			vmctl_cmd_usage(cmd, stdout);
			return VMCTL_EXIT_OK;
		default:
			return vmctl_bad_option(cmd, argv, c);
		}
	}
	ret = vmctl_name_arg(cmd, argc, argv, &o->name);
	if (ret)
		return ret;
	if (!o->image == !o->kernel)
		return vmctl_usage_error(cmd, "give --image or --kernel");
	if (o->kvm != !!o->memory)
		return vmctl_usage_error(cmd, o->kvm ?
			"--backend kvm needs --memory" :
			"--memory is for --backend kvm (a ringvm VM has the size vmctl create gave it)");
	if (o->kernel) {
		if (o->load_set || o->entry_set || o->mode_set)
			return vmctl_usage_error(cmd,
				"--load-addr, --entry and --mode are for --image; a kernel says where it goes");
		if (!o->cmdline)
			o->cmdline = "";
		return -1;
	}
	if (o->initrd || o->cmdline)
		return vmctl_usage_error(cmd, "--initrd and --cmdline need --kernel");
	if (!o->entry_set)
		o->entry = o->load_addr;
	if (o->mode == VMCTL_MODE_REAL && o->entry >= 0x100000)
		return vmctl_usage_error(cmd,
			"entry 0x%llx: real mode starts below 1M",
			(unsigned long long)o->entry);
	if (o->mode == VMCTL_MODE_PROTECTED && o->entry > 0xffffffff)
		return vmctl_usage_error(cmd,
			"entry 0x%llx: protected mode starts below 4G",
			(unsigned long long)o->entry);
	return -1;
}

/* Open VM @name and map every region of its RAM. */
static int open_vm(struct vmctl_machine *m)
{
	struct ringvm_vm_info info;
	unsigned int i;
	int devfd, ret;

	devfd = vmctl_dev_open();
	if (devfd < 0)
		return VMCTL_EXIT_FAIL;
	m->vmfd = __ringvm_open_vm(devfd, 0, m->name);
	close(devfd);
	if (m->vmfd == -ENOENT || m->vmfd == -ENAMETOOLONG)
		return vmctl_fail("run %s: no such VM", m->name);
	if (m->vmfd < 0)
		return vmctl_fail("run %s: RINGVM_OPEN_VM: %s", m->name,
				  strerror(-m->vmfd));
	ret = __ringvm_get_vm_info(m->vmfd, &info);
	if (ret < 0)
		return vmctl_fail("run %s: RINGVM_GET_VM_INFO: %s", m->name,
				  strerror(-ret));
	m->max_vcpus = info.max_vcpus;
	m->nr_ram = info.nr_regions < RINGVM_MAX_MEM_REGIONS ?
		    info.nr_regions : RINGVM_MAX_MEM_REGIONS;
	for (i = 0; i < m->nr_ram; i++) {
		struct vmctl_ram *r = &m->ram[i];

		r->gpa = info.regions[i].gpa;
		r->size = info.regions[i].size;
		r->hva = ringvm_map_guest(m->vmfd, r->gpa, r->size);
		if (!r->hva)
			return vmctl_fail("run %s: mmap of RAM 0x%llx+0x%llx: %s",
					  m->name, (unsigned long long)r->gpa,
					  (unsigned long long)r->size,
					  strerror(errno));
	}
	return 0;
}

/* Read the image into guest RAM at @o->load_addr; its size to *@size. */
static int load_image(struct vmctl_machine *m, const struct run_opts *o,
		      __u64 *size)
{
	struct stat st;
	ssize_t n;
	void *dst;
	off_t off;
	int fd;

	fd = open(o->image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return vmctl_fail("image %s: %s", o->image, strerror(err));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return vmctl_fail("image %s: not a file with something in it",
				  o->image);
	}
	dst = vmctl_gpa_to_hva(m, o->load_addr, st.st_size);
	if (!dst) {
		close(fd);
		return vmctl_fail("image %s: %lld bytes at 0x%llx do not fit in the RAM of %s",
				  o->image, (long long)st.st_size,
				  (unsigned long long)o->load_addr, m->name);
	}
	for (off = 0; off < st.st_size; off += n) {
		n = read(fd, (char *)dst + off, st.st_size - off);
		if (n <= 0) {
			close(fd);
			return vmctl_fail("image %s: %s", o->image,
					  n ? strerror(errno) : "file shrank");
		}
	}
	close(fd);
	*size = st.st_size;
	return 0;
}

/*
 * A whole file into memory, for the loaders: *@buf (free()) and *@size.
 * A kernel or initrd larger than 1 GiB could not fit a VM vmctl makes
 * sense for; refusing it early keeps the allocation bounded.
 */
static int read_whole(const char *path, const char *what, __u8 **buf,
		      size_t *size)
{
	struct stat st;
	ssize_t n;
	off_t off;
	int fd;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return vmctl_fail("%s %s: %s", what, path, strerror(err));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > (1 << 30)) {
		close(fd);
		return vmctl_fail("%s %s: not a file of 1 byte to 1 GiB", what,
				  path);
	}
	*buf = malloc(st.st_size);
	if (!*buf) {
		close(fd);
		return vmctl_fail("%s %s: out of memory", what, path);
	}
	for (off = 0; off < st.st_size; off += n) {
		n = read(fd, *buf + off, st.st_size - off);
		if (n <= 0) {
			close(fd);
			return vmctl_fail("%s %s: %s", what, path,
					  n ? strerror(errno) : "file shrank");
		}
	}
	close(fd);
	*size = st.st_size;
	return 0;
}

static const struct vmctl_loader *const loaders[] = {
	&vmctl_loader_multiboot,
	&vmctl_loader_linux,
};

static int boot_kernel(struct vmctl_machine *m, const struct run_opts *o)
{
	struct vmctl_kernel k = {
		.path = o->kernel, .initrd_path = o->initrd,
		.cmdline = o->cmdline,
	};
	__u8 *image = NULL, *initrd = NULL;
	unsigned int i;
	int ret;

	ret = read_whole(o->kernel, "kernel", &image, &k.image_size);
	if (!ret && o->initrd)
		ret = read_whole(o->initrd, "initrd", &initrd,
				 &k.initrd_size);
	k.image = image;
	k.initrd = initrd;
	for (i = 0; !ret && i < ARRAY_SIZE(loaders); i++) {
		if (loaders[i]->probe(&k)) {
			ret = loaders[i]->load(m, &k);
			break;
		}
	}
	if (!ret && i == ARRAY_SIZE(loaders))
		ret = vmctl_fail("kernel %s: not a multiboot or Linux kernel image",
				 o->kernel);
	free(image);
	free(initrd);
	return ret;
}

/*
 * vCPU 0, and with --vcpus the APs, waiting for SIPI.  The APICs are
 * turned on first (ringvm takes that only before a VM's first vCPU); a
 * VM an earlier "vmctl run --lapic" left them on has them whatever we
 * ask, and then gets the machine that goes with them.
 */
static int create_vcpus(struct vmctl_machine *m, const struct run_opts *o)
{
	struct ringvm_mp_state wait = { .state = RINGVM_MP_WAIT_SIPI };
	struct ringvm_lapic_state *probe;
	unsigned int i;
	int ret, fd;

	if (m->kvm) {
		ret = vmctl_kvm_create_vcpus(m, o->vcpus, o->lapic);
		if (!ret && m->lapic)
			vmctl_ioapic_init(m);
		return ret;
	}
	if (o->vcpus > m->max_vcpus)
		return vmctl_fail("run %s: the VM has room for %u vCPUs, not %u (vmctl create --vcpus)",
				  m->name, m->max_vcpus, o->vcpus);
	if (o->lapic) {
		/*
		 * EOI exits for the I/O APIC's remote IRR; a ringvm before
		 * them refuses the flag: its APICs, no remote IRR then.
		 */
		ret = __ringvm_enable(m->vmfd, RINGVM_ENABLE_LAPIC,
				      RINGVM_LAPIC_EOI_EXIT);
		m->eoi_exits = !ret;
		if (ret == -EINVAL)
			ret = __ringvm_enable(m->vmfd, RINGVM_ENABLE_LAPIC, 0);
		if (ret == -EBUSY)
			return vmctl_fail("run %s: the VM has vCPUs: is another vmctl running it?",
					  m->name);
		if (ret < 0)
			return vmctl_fail("RINGVM_ENABLE_LAPIC: %s%s",
					  strerror(-ret), ret == -EINVAL ?
					  " (a ringvm without in-kernel APICs)" :
					  "");
	}
	for (i = 0; i < o->vcpus; i++) {
		fd = __ringvm_create_vcpu(m->vmfd, i);
		if (fd == -EEXIST)
			return vmctl_fail("run %s: vCPU %u exists: is another vmctl running the VM?",
					  m->name, i);
		if (fd < 0)
			return vmctl_fail("run %s: RINGVM_CREATE_VCPU %u: %s",
					  m->name, i, strerror(-fd));
		if (!i) {
			m->vcpufd = fd;
			m->run = ringvm_map_run(fd);
			if (!m->run)
				return vmctl_fail("mmap of the run page: %s",
						  strerror(errno));
			continue;
		}
		m->ap_fd[i] = fd;
		m->ap_run[i] = ringvm_map_run(fd);
		if (!m->ap_run[i])
			return vmctl_fail("mmap of the run page: %s",
					  strerror(errno));
		ret = __ringvm_set_mp_state(fd, &wait);
		if (ret < 0)
			return vmctl_fail("RINGVM_SET_MP_STATE: %s",
					  strerror(-ret));
	}
	m->nr_vcpus = o->vcpus;
	probe = malloc(sizeof(*probe));
	if (!probe)
		return vmctl_fail("out of memory");
	m->lapic = !__ringvm_get_lapic(m->vcpufd, probe);
	free(probe);
	if (m->lapic)
		vmctl_ioapic_init(m);
	return 0;
}

static int setup(struct vmctl_machine *m, const struct run_opts *o)
{
	__u64 size = 0;
	int ret;

	ret = m->kvm ? vmctl_kvm_open(m, o->memory) : open_vm(m);
	if (ret)
		return ret;
	if (o->image) {
		ret = load_image(m, o, &size);
		if (ret)
			return ret;
		if (o->mode != VMCTL_MODE_REAL &&
		    o->load_addr < VMCTL_BOOT_END &&
		    o->load_addr + size > VMCTL_BOOT_START)
			return vmctl_fail("image %s at 0x%llx-0x%llx overlaps the boot data at 0x%x-0x%x (see 'vmctl help run')",
					  o->image,
					  (unsigned long long)o->load_addr,
					  (unsigned long long)(o->load_addr + size - 1),
					  VMCTL_BOOT_START, VMCTL_BOOT_END - 1);
		if (o->acpi && o->load_addr < VMCTL_ACPI_END &&
		    o->load_addr + size > VMCTL_ACPI_BASE)
			return vmctl_fail("image %s at 0x%llx-0x%llx overlaps the ACPI tables at 0x%x-0x%x",
					  o->image,
					  (unsigned long long)o->load_addr,
					  (unsigned long long)(o->load_addr + size - 1),
					  VMCTL_ACPI_BASE, VMCTL_ACPI_END - 1);
	}
	ret = create_vcpus(m, o);
	if (ret)
		return ret;
	ret = vmctl_cpuid_setup(m);
	if (ret < 0)
		return vmctl_fail("RINGVM_SET_CPUID: %s", strerror(-ret));
	if (o->kernel || o->acpi) {
		m->acpi_rsdp = vmctl_acpi_setup(m);
		if (!m->acpi_rsdp)
			return VMCTL_EXIT_FAIL;
	}
	/*
	 * The PM timer's reads are answered in the kernel, fast enough for
	 * the guest to calibrate its TSC against them; dev_acpi.c's model
	 * of the same clock serves a module without it, and KVM.  Port 0
	 * turns off what an earlier run of this VM may have left on.
	 */
	ret = m->kvm ? 0 :
	      __ringvm_enable(m->vmfd, RINGVM_ENABLE_PM_TIMER,
			      m->acpi_rsdp ? VMCTL_ACPI_PM_TMR : 0);
	if (ret < 0 && ret != -EINVAL)
		return vmctl_fail("RINGVM_ENABLE_PM_TIMER: %s", strerror(-ret));
	if (o->kernel)
		return boot_kernel(m, o);
	return vmctl_boot_setup(m, o->mode, o->entry, o->load_addr);
}

/* 2. The loop */

static const struct vmctl_io_dev *const devices[] = {
#define VMCTL_DEV(name) &vmctl_dev_##name,
#include "devices.h"
#undef VMCTL_DEV
};

static const struct vmctl_io_dev *find_dev(__u16 port)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i]->base &&
		    port - devices[i]->base < devices[i]->len)
			return devices[i];
	return NULL;
}

/* One access of @size bytes at @port; bytes for a device that is not wide. */
static void port_io(struct vmctl_machine *m, __u16 port, bool out,
		    __u8 *data, unsigned int size)
{
	const struct vmctl_io_dev *dev = find_dev(port);
	unsigned int i;

	if (dev && dev->wide) {
		dev->io(m, port, out, data, size);
		return;
	}
	for (i = 0; i < size; i++) {
		dev = find_dev(port + i);
		if (dev)
			dev->io(m, port + i, out, data + i, 1);
		else if (!out)
			data[i] = 0xff;
	}
}

static int handle_io(struct vmctl_machine *m, struct ringvm_run *run)
{
	unsigned int size = run->io.size, i;
	__u8 *data = ringvm_run_io_data(run);

	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset + (__u64)size * run->io.count >
	    RINGVM_RUN_PAGE_SIZE)
		return vmctl_fail("bad IO exit from ringvm: size %u count %u offset %llu",
				  size, run->io.count,
				  (unsigned long long)run->io.data_offset);
	for (i = 0; i < run->io.count && !m->stop; i++)
		port_io(m, run->io.port, run->io.direction == RINGVM_IO_OUT,
			data + i * size, size);
	return 0;
}

/*
 * Time.  Devices ask, through their update(), to be called again at a
 * time; a POSIX timer at the earliest of those times sends SIGALRM,
 * which ends a RUN in the guest (a guest in a busy loop waiting for the
 * timer interrupt exits nowhere else).  The timer repeats every
 * TIMER_RETRY_NS until the loop sets it anew: a signal that lands just
 * before RINGVM_RUN is entered is gone before the RUN could see it, and
 * the next one ends that RUN.
 */
__u64 vmctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct timespec ns_to_timespec(__u64 ns)
{
	return (struct timespec) {
		.tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL,
	};
}

static void arm_timer(__u64 deadline)
{
	struct itimerspec its = { 0 };

	if (!loop.have_timer || deadline == loop.armed)
		return;
	if (deadline != VMCTL_NEVER) {
		its.it_value = ns_to_timespec(deadline ? deadline : 1);
		its.it_interval = ns_to_timespec(TIMER_RETRY_NS);
	}
	timer_settime(loop.timer, TIMER_ABSTIME, &its, NULL);
	loop.armed = deadline;
}

/*
 * Every device's update(), when the earliest time one asked for has
 * come or something changed (a register write, console input).
 */
static void update_devices(struct vmctl_machine *m)
{
	__u64 now, next = VMCTL_NEVER, t;
	unsigned int i;

	if (vmctl_console_arrived() || vmctl_console_pending())
		m->update_needed = true;
	if (!m->update_needed) {
		if (m->next_update == VMCTL_NEVER)
			return;
		now = vmctl_now_ns();
		if (now < m->next_update)
			return;
	} else {
		now = vmctl_now_ns();
	}
	m->update_needed = false;
	for (i = 0; i < ARRAY_SIZE(devices); i++) {
		if (!devices[i]->update)
			continue;
		t = devices[i]->update(m, now);
		if (t < next)
			next = t;
	}
	m->next_update = next;
	arm_timer(next);
}

/*
 * The PIC's interrupt goes to ringvm when the guest can take it: the
 * interrupt acknowledge happens then, as the CPU's would.  Otherwise ask
 * for an exit when it can (the interrupt window).  ringvm takes vectors
 * 32-255 only: a guest that sets the PIC's base below 32 (a real-mode
 * BIOS convention) cannot get its interrupts, and vmctl says so.
 */
static int deliver_interrupt(struct vmctl_machine *m)
{
	struct ringvm_run *run = m->run;
	__u8 vector;
	int ret;

	run->flags &= ~RINGVM_RUN_IRQ_WINDOW;
	if (!vmctl_pic_intr(m))
		return 0;
	if (!run->ready_for_interrupt) {
		run->flags |= RINGVM_RUN_IRQ_WINDOW;
		return 0;
	}
	vector = vmctl_pic_intack(m);
	ret = vmctl_interrupt(m, vector);
	if (ret < 0)
		return vmctl_fail("RINGVM_INTERRUPT vector %u: %s%s", vector,
				  strerror(-ret), vector < 32 ?
				  " (the guest set the PIC's vectors below 32, which ringvm cannot inject)" :
				  "");
	/* The run page says ready again only after the next exit. */
	run->ready_for_interrupt = 0;
	return 0;
}

/*
 * HLT with interrupts enabled: sleep until a device has an interrupt
 * for the CPU (its timer came, input arrived) or vmctl must stop.  The
 * vCPU is already past the HLT, so the next RUN takes the interrupt.
 */
static void halt_wait(struct vmctl_machine *m)
{
	struct pollfd pfd = { .fd = loop.wake_fd, .events = POLLIN };
	__u64 drain;

	for (;;) {
		struct timespec ts, *timeout = NULL;
		__u64 now;

		update_devices(m);
		if (m->stop || vmctl_pic_intr(m) || stop_signal ||
		    vmctl_console_quit())
			return;
		if (m->next_update != VMCTL_NEVER) {
			now = vmctl_now_ns();
			if (now >= m->next_update)
				continue;
			ts = ns_to_timespec(m->next_update - now);
			timeout = &ts;
		}
		if (ppoll(&pfd, 1, timeout, NULL) > 0 &&
		    read(loop.wake_fd, &drain, sizeof(drain)) < 0) {
			/* EAGAIN: someone drained it first */
		}
	}
}

/* 3. Reporting how a guest ended */

static void report_hw(const struct ringvm_run *run)
{
	const struct ringvm_exit_hw *hw = &run->hw;

	if (hw->arch == RINGVM_ARCH_NONE) {	/* --backend kvm */
		fprintf(stderr, "vmctl:   rip 0x%llx; KVM exit reason %u\n",
			(unsigned long long)run->rip, hw->reason);
		return;
	}
	fprintf(stderr,
		"vmctl:   rip 0x%llx; %s exit 0x%x, qualification/exitinfo1 0x%llx, info1 0x%llx, info2 0x%llx, gpa 0x%llx\n",
		(unsigned long long)run->rip, ringvm_arch_name(hw->arch),
		hw->reason, (unsigned long long)hw->qualification,
		(unsigned long long)hw->info1, (unsigned long long)hw->info2,
		(unsigned long long)hw->gpa);
}

/* "vmctl: guest <reason>: DETAIL", the raw exit, and @status. */
static int __attribute__((format(printf, 3, 4)))
guest_failed(const struct ringvm_run *run, int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vmctl: guest %s: ",
		ringvm_exit_reason_name(run->exit_reason));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	report_hw(run);
	return status;
}

/*
 * After a shutdown or an internal error: which vCPU, its registers, and
 * in long mode the guest's 4-level walk of RIP and CR2, so a report says
 * whether the guest lost its page tables or its CR3.
 */
static void report_walk(struct vmctl_machine *m, const char *what,
			__u64 cr3, __u64 va)
{
	__u64 table = cr3 & PTE_ADDR, e, size, gpa, *t;
	const __u8 *b;
	int level;

	fprintf(stderr, "vmctl:   walk of %s 0x%llx:", what,
		(unsigned long long)va);
	for (level = 4; level >= 1; level--) {
		t = vmctl_gpa_to_hva(m, table, 4096);
		if (!t) {
			fprintf(stderr, " (table 0x%llx not RAM)",
				(unsigned long long)table);
			break;
		}
		e = t[(va >> (12 + 9 * (level - 1))) & 511];
		fprintf(stderr, " L%d 0x%llx", level, (unsigned long long)e);
		if (!(e & PTE_P))
			break;
		if (level > 1 && (level == 4 || !(e & PTE_PS))) {
			table = e & PTE_ADDR;
			continue;
		}
		size = 1ULL << (12 + 9 * (level - 1));
		gpa = (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
		b = vmctl_gpa_to_hva(m, gpa, 8);
		if (b)
			fprintf(stderr, " -> 0x%llx: %02x %02x %02x %02x %02x %02x %02x %02x",
				(unsigned long long)gpa, b[0], b[1], b[2],
				b[3], b[4], b[5], b[6], b[7]);
		break;
	}
	fputc('\n', stderr);
}

static void report_state(struct vmctl_machine *m,
			 const struct ringvm_run *run)
{
	struct ringvm_sregs sr;
	struct ringvm_regs r;
	unsigned int id = 0;

	if (run != m->run)
		for (id = 1; id < m->nr_vcpus; id++)
			if (run == m->ap_run[id])
				break;
	if (id == m->nr_vcpus || vmctl_get_regs(m, id, &r) ||
	    vmctl_get_sregs(m, id, &sr))
		return;
	fprintf(stderr,
		"vmctl:   vCPU %u: rsp 0x%llx rflags 0x%llx cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx\n",
		id, (unsigned long long)r.rsp, (unsigned long long)r.rflags,
		(unsigned long long)sr.cr0, (unsigned long long)sr.cr2,
		(unsigned long long)sr.cr3, (unsigned long long)sr.cr4,
		(unsigned long long)sr.efer);
	if (!(sr.efer & EFER_LMA))
		return;
	report_walk(m, "rip", sr.cr3, r.rip);
	report_walk(m, "cr2", sr.cr3, sr.cr2);
}

static int guest_emulation(const struct ringvm_run *run)
{
	char bytes[16 * 3 + 1] = "";
	unsigned int i, n = run->emulation.insn_len;

	if (n > sizeof(run->emulation.insn))
		n = sizeof(run->emulation.insn);
	for (i = 0; i < n; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, " %02x",
			 run->emulation.insn[i]);
	return guest_failed(run, VMCTL_EXIT_UNHANDLED,
			    "ringvm cannot emulate the instruction at gpa 0x%llx:%s",
			    (unsigned long long)run->emulation.gpa,
			    n ? bytes : " (no bytes)");
}

static int guest_internal_error(const struct ringvm_run *run)
{
	static const char *const what[] = {
		[RINGVM_INTERNAL_ERR_UNEXPECTED_EXIT] = "unexpected exit",
		[RINGVM_INTERNAL_ERR_INSN_FETCH] = "RIP not in guest RAM",
		[RINGVM_INTERNAL_ERR_MEMORY] = "no memory for a guest page",
		[RINGVM_INTERNAL_ERR_NO_INSN] =
			"event delivery or a page walk touched MMIO",
	};
	__u32 sub = run->internal.suberror;

	return guest_failed(run, VMCTL_EXIT_UNHANDLED,
			    "%s (suberror %u), data 0x%llx 0x%llx 0x%llx 0x%llx",
			    sub < ARRAY_SIZE(what) && what[sub] ? what[sub] :
								  "unknown",
			    sub,
			    (unsigned long long)run->internal.data[0],
			    (unsigned long long)run->internal.data[1],
			    (unsigned long long)run->internal.data[2],
			    (unsigned long long)run->internal.data[3]);
}

static int stopped_by_signal(int sig)
{
	fflush(stdout);
	fprintf(stderr, "vmctl: interrupted\n");
	return VMCTL_EXIT_SIGNAL + sig;
}

/*
 * Complete one exit.  Returns -1 to run again, or the exit status.
 */
static int handle_exit(struct vmctl_machine *m, struct ringvm_run *run)
{
	int ret;

	if (run->exit_reason < ARRAY_SIZE(stats.exits))
		stats.exits[run->exit_reason]++;
	else
		stats.exits[0]++;

	switch (run->exit_reason) {
	case RINGVM_EXIT_IO:
		ret = handle_io(m, run);
		if (ret)
			return ret;
		break;
	case RINGVM_EXIT_MMIO:
		if (run->mmio.len > sizeof(run->mmio.data))
			return vmctl_fail("bad MMIO exit from ringvm: len %u",
					  run->mmio.len);
		if (vmctl_ioapic_mmio(m, run->mmio.gpa, run->mmio.is_write,
				      run->mmio.data, run->mmio.len))
			break;
		/* Other MMIO: reads are all ones, writes vanish. */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		break;
	case RINGVM_EXIT_HYPERCALL:
		run->hypercall.ret = (__u64)-ENOSYS;
		break;
	case RINGVM_EXIT_MSR:
		/* Only with RINGVM_ENABLE_MSR_EXIT, which vmctl never asks. */
		run->msr.error = 1;
		break;
	case RINGVM_EXIT_HLT:
		/* With interrupts off nothing wakes it: the guest is done. */
		if (!run->if_flag)
			return VMCTL_EXIT_OK;
		halt_wait(m);
		break;
	case RINGVM_EXIT_IRQ_WINDOW:
		break;		/* the loop injects the interrupt */
	case RINGVM_EXIT_EOI:
		vmctl_ioapic_eoi(m, run->eoi.vector);
		break;
	case RINGVM_EXIT_INTR:
		/*
		 * A signal we catch, or one the kernel dealt with on the
		 * way back (SIGSTOP, SIGCONT): then run on.
		 */
		if (stop_signal)
			return stopped_by_signal(stop_signal);
		break;
	case RINGVM_EXIT_DESTROYED:
		fflush(stdout);
		fprintf(stderr, "vmctl: VM %s was destroyed\n", m->name);
		return VMCTL_EXIT_DESTROYED;
	case RINGVM_EXIT_SHUTDOWN:
		ret = guest_failed(run, VMCTL_EXIT_SHUTDOWN,
				   "triple fault or shutdown");
		report_state(m, run);
		return ret;
	case RINGVM_EXIT_FAIL_ENTRY:
		return guest_failed(run, VMCTL_EXIT_FAIL_ENTRY,
				    "hardware entry failure reason 0x%llx on CPU %u",
				    (unsigned long long)
				    run->fail_entry.hardware_entry_failure_reason,
				    run->fail_entry.cpu);
	case RINGVM_EXIT_EMULATION:
		return guest_emulation(run);
	case RINGVM_EXIT_INTERNAL_ERROR:
		ret = guest_internal_error(run);
		report_state(m, run);
		return ret;
	default:
		return guest_failed(run, VMCTL_EXIT_UNHANDLED,
				    "exit ringvm left unhandled");
	}
	return m->stop ? m->status : -1;
}

/*
 * A signal that arrives while the vCPU runs makes RINGVM_RUN return an
 * INTR exit; one that arrives between two runs is seen here before the
 * next.  One that lands in the few instructions between this check and
 * the ioctl is seen at the guest's next exit.  The devices are touched
 * only with the machine's lock held: an AP's exit may reach them too.
 */
static int run_loop(struct vmctl_machine *m)
{
	int ret;

	for (;;) {
		if (stop_signal)
			return stopped_by_signal(stop_signal);
		if (vmctl_console_quit()) {
			fflush(stdout);
			fprintf(stderr, "\nvmctl: quit (Ctrl-A x)\n");
			return VMCTL_EXIT_QUIT;
		}
		pthread_mutex_lock(&m->lock);
		update_devices(m);
		ret = m->stop ? m->status : deliver_interrupt(m);
		pthread_mutex_unlock(&m->lock);
		if (m->stop || ret)
			return ret;
		ret = vmctl_vcpu_run(m, 0);
		if (ret == -EINTR)
			continue;
		if (m->kvm && ret == -E2BIG)
			return VMCTL_EXIT_FAIL;	/* backend.c said why */
		if (ret < 0) {
			fflush(stdout);
			return vmctl_fail("%s: %s", m->kvm ? "KVM_RUN" :
					  "RINGVM_RUN", strerror(-ret));
		}
		pthread_mutex_lock(&m->lock);
		ret = m->stop ? m->status : handle_exit(m, m->run);
		pthread_mutex_unlock(&m->lock);
		if (ret >= 0)
			return ret;
	}
}

/*
 * 2b. The APs (--vcpus): a thread each, blocked in RINGVM_RUN until the
 * guest starts its AP with INIT and SIPI.  An exit that ends the machine
 * stops it for every vCPU: the AP records the status and signals the
 * boot processor's thread.  SIGALRM, SIGUSR1 and the stop signals go to
 * the main thread only; SIGUSR2 ends an AP's RUN at the end.
 */
static pthread_t ap_threads[VMCTL_MAX_VCPUS];
static pthread_t main_thread;
static volatile bool aps_stop;

struct ap_arg {
	struct vmctl_machine *m;
	unsigned int id;
};

static struct ap_arg ap_args[VMCTL_MAX_VCPUS];

static void *ap_loop(void *p)
{
	struct ap_arg *a = p;
	struct vmctl_machine *m = a->m;
	struct ringvm_run *run = m->ap_run[a->id];
	int ret;

	while (!aps_stop) {
		ret = vmctl_vcpu_run(m, a->id);
		if (ret == -EINTR)
			continue;
		pthread_mutex_lock(&m->lock);
		if (ret < 0)
			ret = vmctl_fail("RINGVM_RUN on vCPU %u: %s", a->id,
					 strerror(-ret));
		else if (m->stop || (run->exit_reason == RINGVM_EXIT_INTR &&
				     aps_stop))
			ret = -1;
		else if (run->exit_reason == RINGVM_EXIT_HLT)
			ret = -1;	/* offline: waits for INIT in ringvm */
		else
			ret = handle_exit(m, run);
		if (ret >= 0 && !m->stop) {
			m->stop = true;
			m->status = ret;
			pthread_kill(main_thread, SIGUSR1);
		}
		pthread_mutex_unlock(&m->lock);
		if (ret >= 0)
			break;
	}
	return NULL;
}

static void ap_signal(int sig)
{
	(void)sig;
}

static int start_aps(struct vmctl_machine *m)
{
	struct sigaction sa = { .sa_handler = ap_signal };
	sigset_t block, old;
	unsigned int i;
	int err;

	main_thread = pthread_self();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);	/* no SA_RESTART */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 1; i < m->nr_vcpus; i++) {
		ap_args[i] = (struct ap_arg) { .m = m, .id = i };
		err = pthread_create(&ap_threads[i], NULL, ap_loop,
				     &ap_args[i]);
		if (err) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return vmctl_fail("vCPU %u thread: %s", i,
					  strerror(err));
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static void stop_aps(struct vmctl_machine *m)
{
	unsigned int i;

	aps_stop = true;
	for (i = 1; i < m->nr_vcpus; i++) {
		if (!ap_threads[i])
			continue;
		pthread_kill(ap_threads[i], SIGUSR2);
		while (pthread_tryjoin_np(ap_threads[i], NULL)) {
			usleep(1000);
			pthread_kill(ap_threads[i], SIGUSR2);
		}
	}
}

/* The signals, the wake-up eventfd, the device timer, the console. */
static int loop_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGUSR1 };
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM,
	};
	unsigned int i;
	int ret;

	loop.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop.wake_fd < 0)
		return vmctl_fail("eventfd: %s", strerror(errno));
	/* No SA_RESTART: RINGVM_RUN must come back to us. */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &loop.timer))
		return vmctl_fail("timer_create: %s", strerror(errno));
	loop.have_timer = true;
	ret = vmctl_console_start(loop.wake_fd, SIGUSR1);
	if (ret)
		return vmctl_fail("console: %s", strerror(-ret));
	return 0;
}

static int run_run(int argc, char **argv)
{
	struct vmctl_machine m = { .vmfd = -1, .vcpufd = -1,
				   .lock = PTHREAD_MUTEX_INITIALIZER };
	struct run_opts o;
	unsigned int i;
	int ret;

	ret = run_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	m.name = o.name;
	m.kvm = o.kvm;
	m.next_update = VMCTL_NEVER;
	m.update_needed = true;
	stats.start_ns = vmctl_now_ns();
	ret = loop_setup();
	if (!ret)
		ret = setup(&m, &o);
	if (!ret)
		ret = start_aps(&m);
	if (!ret)
		ret = run_loop(&m);
	stop_aps(&m);
	vmctl_console_stop();
	if (o.stats)
		print_stats(ret);
	if (loop.have_timer)
		timer_delete(loop.timer);

	if (m.kvm)
		vmctl_kvm_close(&m);	/* and the run pages */
	if (m.run)
		munmap(m.run, RINGVM_RUN_PAGE_SIZE);
	if (m.vcpufd >= 0)
		close(m.vcpufd);
	for (i = 1; i < VMCTL_MAX_VCPUS; i++) {
		if (m.ap_run[i])
			munmap(m.ap_run[i], RINGVM_RUN_PAGE_SIZE);
		if (m.ap_fd[i] > 0)
			close(m.ap_fd[i]);
	}
	for (i = 0; i < m.nr_ram; i++)
		if (m.ram[i].hva)
			munmap(m.ram[i].hva, m.ram[i].size);
	if (m.vmfd >= 0)
		close(m.vmfd);
	if (loop.wake_fd >= 0)
		close(loop.wake_fd);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_run = {
	.name = "run",
	.args = "NAME -i|--image FILE [-l|--load-addr A] [-e|--entry A] [-m|--mode real|protected|long] [-a|--acpi] | -k|--kernel FILE [-r|--initrd FILE] [-c|--cmdline STR]; [-n|--vcpus N] [-L|--lapic] [-s|--stats] [-b|--backend ringvm|kvm -M|--memory SIZE]",
	.summary = "run a flat binary image, or boot a kernel, in a VM",
	.help = RUN_HELP,
	.run = run_run,
};
