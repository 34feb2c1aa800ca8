// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: run a flat binary image in a VM made by "vmctl create", on
 * vCPU 0 of that VM, with the devices in devices.h, until the guest halts,
 * writes to the test-exit port, crashes or is interrupted.
 *
 *  1. Set up: open the VM by name, map its RAM, load the image, give the
 *     VM a CPUID table (cpuid.c), create vCPU 0 and start it in the mode
 *     asked for (boot.c).
 *  2. The loop: RINGVM_RUN, then complete the exit in user space: port
 *     I/O to the devices, MMIO (no devices yet), hypercalls the module
 *     left to us; stop on the others.
 *  3. How it ended, as the exit status (machine.h) and, for a guest that
 *     crashed, one line on stderr with what the hardware said.
 *
 * The guest's console (the UART) is vmctl's stdout; everything vmctl
 * says itself goes to stderr.  The vCPU lives as long as this process
 * (its fd), so the VM can be run again afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "machine.h"

#define RUN_HELP							\
	"Runs the flat binary FILE in the VM NAME (made by vmctl create)\n" \
	"on vCPU 0.  The guest's serial console (COM1, 0x3f8) is stdout.\n\n" \
	"options:\n"							\
	"  -i, --image FILE   the image to run (required)\n"		\
	"  -l, --load-addr A  guest-physical address to load it at\n"	\
	"                     (default 0x10000)\n"			\
	"  -e, --entry A      where to start (default: the load address);\n" \
	"                     in real mode below 1M, run as\n"		\
	"                     CS:IP = (A >> 4 & 0xf000):(A & 0xffff)\n"	\
	"  -m, --mode MODE    real (default), protected (flat 32-bit, no\n" \
	"                     paging) or long (64-bit, the first 4 GiB\n" \
	"                     identity mapped)\n"			\
	"  -h, --help         show this help\n\n"			\
	"Protected and long mode use guest RAM at 0x1000-0x7fff for a GDT\n" \
	"(0x08 code32, 0x10 data, 0x18 code64, 0x20 TSS) and the page\n" \
	"tables; the image must not overlap it.  RSP starts at the load\n" \
	"address; in real mode all segments are the entry's and SP is 0.\n\n" \
	"Devices: an 8250 UART at 0x3f8 (output only), and a test-exit\n" \
	"port at 0xf4.  Other ports read as all ones and ignore writes; so\n" \
	"does MMIO.  Hypercalls ringvm leaves to vmctl return -ENOSYS.\n\n" \
	"exit status:\n"						\
	"  0        the guest halted (HLT)\n"				\
	"  odd N    the guest wrote V to port 0xf4: N = (V << 1 | 1) & 0xff\n" \
	"           (so 1 when it wrote 0, as with QEMU's isa-debug-exit)\n" \
	"  1        vmctl failed (message on stderr)\n"		\
	"  2        bad command line\n"					\
	"  4        the guest triple-faulted (shutdown)\n"		\
	"  6        the hardware refused the guest's state (entry failed)\n" \
	"  8        ringvm could not handle the guest (emulation, internal\n" \
	"           error, unknown exit)\n"				\
	"  10       the VM was destroyed while it ran\n"		\
	"  128+S    stopped by signal S (130: Ctrl-C)\n"

/* The signal that asked us to stop, 0 if none (1. and 2.). */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
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
	enum vmctl_mode mode;
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
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct vmctl_cmd *cmd = &vmctl_cmd_run;
	int c;

	*o = (struct run_opts) { .load_addr = VMCTL_DEFAULT_LOAD_ADDR };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:l:e:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->image = optarg;
			break;
		case 'l':
			if (!vmctl_parse_size(optarg, &o->load_addr))
				return vmctl_usage_error(cmd,
					"bad load address '%s'", optarg);
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
			break;
		case 'h':
			vmctl_cmd_usage(cmd, stdout);
			return VMCTL_EXIT_OK;
		default:
			return vmctl_bad_option(cmd, argv, c);
		}
	}
	if (optind >= argc)
		return vmctl_usage_error(cmd, "no VM name given");
	if (optind + 1 < argc)
		return vmctl_usage_error(cmd, "unexpected argument '%s'",
					 argv[optind + 1]);
	if (!o->image)
		return vmctl_usage_error(cmd, "--image is required");
	o->name = argv[optind];
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

static int setup(struct vmctl_machine *m, const struct run_opts *o)
{
	__u64 size = 0;
	int ret;

	ret = open_vm(m);
	if (ret)
		return ret;
	ret = load_image(m, o, &size);
	if (ret)
		return ret;
	if (o->mode != VMCTL_MODE_REAL && o->load_addr < VMCTL_BOOT_END &&
	    o->load_addr + size > VMCTL_BOOT_START)
		return vmctl_fail("image %s at 0x%llx-0x%llx overlaps the boot data at 0x%x-0x%x (see 'vmctl help run')",
				  o->image, (unsigned long long)o->load_addr,
				  (unsigned long long)(o->load_addr + size - 1),
				  VMCTL_BOOT_START, VMCTL_BOOT_END - 1);
	ret = vmctl_cpuid_setup(m);
	if (ret < 0)
		return vmctl_fail("RINGVM_SET_CPUID: %s", strerror(-ret));
	m->vcpufd = __ringvm_create_vcpu(m->vmfd, 0);
	if (m->vcpufd == -EEXIST)
		return vmctl_fail("run %s: vCPU 0 exists: is another vmctl running the VM?",
				  m->name);
	if (m->vcpufd < 0)
		return vmctl_fail("run %s: RINGVM_CREATE_VCPU: %s", m->name,
				  strerror(-m->vcpufd));
	m->run = ringvm_map_run(m->vcpufd);
	if (!m->run)
		return vmctl_fail("mmap of the run page: %s", strerror(errno));
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

static int handle_io(struct vmctl_machine *m)
{
	struct ringvm_run *run = m->run;
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

/* 3. Reporting how a guest ended */

static void report_hw(const struct ringvm_run *run)
{
	const struct ringvm_exit_hw *hw = &run->hw;

	fprintf(stderr,
		"vmctl:   rip 0x%llx; %s exit 0x%x, qualification/exitinfo1 0x%llx, info1 0x%llx, info2 0x%llx, gpa 0x%llx\n",
		(unsigned long long)run->rip, ringvm_arch_name(hw->arch),
		hw->reason, (unsigned long long)hw->qualification,
		(unsigned long long)hw->info1, (unsigned long long)hw->info2,
		(unsigned long long)hw->gpa);
}

/* "vmctl: guest <reason>: DETAIL", the raw exit, and @status. */
static int __attribute__((format(printf, 3, 4)))
guest_failed(struct vmctl_machine *m, int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vmctl: guest %s: ",
		ringvm_exit_reason_name(m->run->exit_reason));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	report_hw(m->run);
	return status;
}

static int guest_emulation(struct vmctl_machine *m)
{
	const struct ringvm_run *run = m->run;
	char bytes[16 * 3 + 1] = "";
	unsigned int i, n = run->emulation.insn_len;

	if (n > sizeof(run->emulation.insn))
		n = sizeof(run->emulation.insn);
	for (i = 0; i < n; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, " %02x",
			 run->emulation.insn[i]);
	return guest_failed(m, VMCTL_EXIT_UNHANDLED,
			    "ringvm cannot emulate the instruction at gpa 0x%llx:%s",
			    (unsigned long long)run->emulation.gpa,
			    n ? bytes : " (no bytes)");
}

static int guest_internal_error(struct vmctl_machine *m)
{
	static const char *const what[] = {
		[RINGVM_INTERNAL_ERR_UNEXPECTED_EXIT] = "unexpected exit",
		[RINGVM_INTERNAL_ERR_INSN_FETCH] = "RIP not in guest RAM",
		[RINGVM_INTERNAL_ERR_MEMORY] = "no memory for a guest page",
		[RINGVM_INTERNAL_ERR_NO_INSN] =
			"event delivery or a page walk touched MMIO",
	};
	const struct ringvm_run *run = m->run;
	__u32 sub = run->internal.suberror;

	return guest_failed(m, VMCTL_EXIT_UNHANDLED,
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
static int handle_exit(struct vmctl_machine *m)
{
	struct ringvm_run *run = m->run;
	int ret;

	switch (run->exit_reason) {
	case RINGVM_EXIT_IO:
		ret = handle_io(m);
		if (ret)
			return ret;
		break;
	case RINGVM_EXIT_MMIO:
		/* No MMIO devices yet: reads are all ones, writes vanish. */
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
		/* Nothing can wake it: no interrupts exist yet. */
		return VMCTL_EXIT_OK;
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
		return guest_failed(m, VMCTL_EXIT_SHUTDOWN,
				    "triple fault or shutdown");
	case RINGVM_EXIT_FAIL_ENTRY:
		return guest_failed(m, VMCTL_EXIT_FAIL_ENTRY,
				    "hardware entry failure reason 0x%llx on CPU %u",
				    (unsigned long long)
				    run->fail_entry.hardware_entry_failure_reason,
				    run->fail_entry.cpu);
	case RINGVM_EXIT_EMULATION:
		return guest_emulation(m);
	case RINGVM_EXIT_INTERNAL_ERROR:
		return guest_internal_error(m);
	default:
		return guest_failed(m, VMCTL_EXIT_UNHANDLED,
				    "exit ringvm left unhandled");
	}
	return m->stop ? m->status : -1;
}

/*
 * A signal that arrives while the vCPU runs makes RINGVM_RUN return an
 * INTR exit; one that arrives between two runs is seen here before the
 * next.  One that lands in the few instructions between this check and
 * the ioctl is seen at the guest's next exit.
 */
static int run_loop(struct vmctl_machine *m)
{
	int ret;

	for (;;) {
		if (stop_signal)
			return stopped_by_signal(stop_signal);
		ret = __ringvm_run(m->vcpufd);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			fflush(stdout);
			return vmctl_fail("RINGVM_RUN: %s", strerror(-ret));
		}
		ret = handle_exit(m);
		if (ret >= 0)
			return ret;
	}
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	unsigned int i;

	/* No SA_RESTART: RINGVM_RUN must come back to us. */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int run_run(int argc, char **argv)
{
	struct vmctl_machine m = { .vmfd = -1, .vcpufd = -1 };
	struct run_opts o;
	unsigned int i;
	int ret;

	ret = run_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	m.name = o.name;
	catch_signals();
	ret = setup(&m, &o);
	if (!ret)
		ret = run_loop(&m);
	fflush(stdout);

	if (m.run)
		munmap(m.run, RINGVM_RUN_PAGE_SIZE);
	if (m.vcpufd >= 0)
		close(m.vcpufd);
	for (i = 0; i < m.nr_ram; i++)
		if (m.ram[i].hva)
			munmap(m.ram[i].hva, m.ram[i].size);
	if (m.vmfd >= 0)
		close(m.vmfd);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_run = {
	.name = "run",
	.args = "NAME -i|--image FILE [-l|--load-addr A] [-e|--entry A] [-m|--mode real|protected|long]",
	.summary = "run a flat binary image in a VM",
	.help = RUN_HELP,
	.run = run_run,
};
