// SPDX-License-Identifier: GPL-2.0
/*
 * linux_boot_test: the test machine's own kernel, unmodified, boots as a
 * ringvm guest under vmctl run, with the initramfs of
 * selftests/runner/guest-init.sh (both in /ringvm/guests, put there by
 * the runner), and only "console=ttyS0" on its command line.
 *
 *  1. boot_shell_poweroff: the guest reaches /init, its clock agrees
 *     with the host's, a "sleep 2" takes two seconds of its uptime;
 *     then (ringvm_shell=1) a shell runs on its console: commands
 *     written to vmctl's stdin reach it, their output comes back, and
 *     its "poweroff -f" ends vmctl with status 0 through ACPI S5.  The
 *     guest kernel's log has no complaint about what ringvm presents.
 *  3. smp_2_vcpus, smp_4_vcpus: --vcpus 2 and 4 (in-kernel APICs, I/O
 *     APIC, MADT): every CPU comes up, /init counts them, a busy loop
 *     per CPU runs, poweroff is clean (skipped under TCG: QEMU's
 *     nested SVM with two CPUs, below; under Bochs they run on the
 *     one-CPU vmx-long machine, 4 vCPUs overcommitted on 1).
 *  4. kvm_backend: the same boot as 1., with its checks, under vmctl run
 *     --backend kvm (ringvm unloaded, kvm_amd or kvm_intel loaded): the
 *     same loader and devices on KVM, for comparing the two on one
 *     guest (skipped under Bochs: CI time).
 *  5. kvm_smp_2_vcpus, kvm_smp_4_vcpus: 3. under KVM, with its local
 *     APICs (split irqchip); skipped where 3. is, and under Bochs.
 *  2. bad_kernels: what the Linux loader refuses, each with one
 *     "vmctl:" line and status 1 before the guest runs: an old boot
 *     protocol, a 32-bit-only kernel, a truncated image, a VM too small
 *     for the kernel or for the initrd, a command line too long.
 *
 * The guest's console is copied to this test's output as "# guest: "
 * lines, so the runner scans the guest kernel's log for splats as it
 * does the test machine's.  vmctl's --stats lines go there too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "guest.h"

#define VM_NAME		"linux-t"
#define GUEST_DIR	"/ringvm/guests"
#define OUT_FILE	"/tmp/linux_boot.out"
#define ERR_FILE	"/tmp/linux_boot.err"
#define OUT_MAX		(1 << 20)

/*
 * The guest kernel's complaints about its machine (issue 8).  As in the
 * runner's scan of the test machine, a warning splat is "WARNING: CPU:";
 * the boot-time "RETBleed: WARNING: ..." notice is about the CPU model.
 */
static const char *const complaints[] = {
	"WARNING: CPU:", "BUG:", "Oops", "Call Trace:", "TSC unstable",
	"Marking TSC unstable", "clocksource watchdog", "ACPI Error",
	"ACPI BIOS Error", "ACPI Warning", "unchecked MSR access",
	"Kernel panic", "soft lockup", "hung_task",
};

FIXTURE(boot) {
	char *out;
	char err[4096];
	int status;
	time_t start, end;
};

FIXTURE_SETUP(boot)
{
	struct run_result res;
	char *argv[] = {
		(char *)ringvm_vmctl_path(), "create", VM_NAME, "--memory",
		"256M", "--vcpus", "4", NULL,
	};
	int ret = ringvm_ensure_loaded();

	self->out = NULL;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	if (access(GUEST_DIR "/vmlinuz", R_OK) ||
	    access(GUEST_DIR "/linux-initrd.gz", R_OK))
		SKIP(return, "no " GUEST_DIR "/vmlinuz and linux-initrd.gz (the runner puts them there)");
	ASSERT_EQ(0, run_prog(argv, &res));
	ASSERT_EQ(0, res.status) TH_LOG("vmctl create: %s", res.err);
}

/* kvm_backend's own KVM VM; destroyed by the teardown if the test fails */
static struct kvm_guest pin = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
static const __u8 pin_code[] = { 0xf4 };	/* hlt, never run */

FIXTURE_TEARDOWN(boot)
{
	struct run_result res;
	char *argv[] = {
		(char *)ringvm_vmctl_path(), "destroy", VM_NAME, NULL,
	};

	run_prog(argv, &res);
	free(self->out);
	unlink(OUT_FILE);
	unlink(ERR_FILE);
	EXPECT_EQ(0, ringvm_ensure_unloaded());
	kvm_guest_destroy(&pin);
	EXPECT_EQ(0, kvm_modules_unload());
}

static char *read_file(const char *path, size_t max)
{
	char *buf = calloc(1, max + 1);
	ssize_t n, used = 0;
	int fd = open(path, O_RDONLY);

	if (!buf || fd < 0) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	while ((size_t)used < max &&
	       (n = read(fd, buf + used, max - used)) > 0)
		used += n;
	close(fd);
	return buf;
}

/* Each line of @text to the test's output, after @prefix. */
static void show(const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("# %s%.*s\n", prefix, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
	fflush(stdout);
}

/*
 * Boot the guest: vmctl run with @cmdline under a limit of @limit seconds
 * of the test machine's time.  With @input, vmctl's stdin is a pipe that
 * gets @input once the guest says "ringvm-guest: shell", as a user types
 * at a prompt (what comes earlier may meet the UART while the kernel's
 * driver still resets its FIFO, and be lost as on a real line).
 */
static void boot(struct __test_metadata *_metadata,
		 FIXTURE_DATA(boot) *self, const char *cmdline,
		 const char *input, int limit, const char *opts)
{
	char script[1024], *err, *line;
	int status = 0, in[2] = { -1, -1 };
	size_t shown = 0;
	bool done;
	pid_t pid;

	snprintf(script, sizeof(script),
		 "exec timeout %d %s run %s --kernel %s/vmlinuz --initrd %s/linux-initrd.gz --cmdline '%s' --stats %s %s >%s 2>%s",
		 limit, ringvm_vmctl_path(), VM_NAME, GUEST_DIR, GUEST_DIR,
		 cmdline, opts, input ? "" : "</dev/null", OUT_FILE,
		 ERR_FILE);
	if (input)
		ASSERT_EQ(0, pipe(in));
	self->start = time(NULL);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (input && (dup2(in[0], STDIN_FILENO) < 0 ||
			      close(in[1])))
			_exit(127);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (input)
		close(in[0]);
	/*
	 * The guest's console as it comes, a line at a time, so that the
	 * log shows how far a guest that hangs got.
	 */
	do {
		done = waitpid(pid, &status, WNOHANG) == pid;
		free(self->out);
		self->out = read_file(OUT_FILE, OUT_MAX);
		ASSERT_NE(NULL, self->out);
		while ((line = strchr(self->out + shown, '\n')) ||
		       (done && self->out[shown])) {
			size_t len = line ? (size_t)(line - self->out - shown) :
					    strlen(self->out + shown);

			printf("# guest: %.*s\n", (int)len, self->out + shown);
			shown += len + (line ? 1 : 0);
		}
		fflush(stdout);
		if (in[1] >= 0 && strstr(self->out, "ringvm-guest: shell")) {
			ASSERT_EQ((ssize_t)strlen(input),
				  write(in[1], input, strlen(input)));
			close(in[1]);
			in[1] = -1;
		}
		if (!done)
			usleep(500000);
	} while (!done);
	if (in[1] >= 0)
		close(in[1]);
	self->end = time(NULL);
	self->status = WIFEXITED(status) ? WEXITSTATUS(status) :
					   128 + WTERMSIG(status);
	err = read_file(ERR_FILE, sizeof(self->err) - 1);
	ASSERT_NE(NULL, err);
	strcpy(self->err, err);
	free(err);
	show("", self->err);
}

/* The guest's "ringvm-guest: KEY VALUE..." line, or NULL. */
static const char *guest_line(const char *out, const char *key)
{
	char want[64];
	const char *p;

	snprintf(want, sizeof(want), "ringvm-guest: %s", key);
	p = strstr(out, want);
	return p ? p + strlen(want) : NULL;
}

/*
 * Quirk: under QEMU's TCG the emulated CPU is slow against its TSC, which
 * runs at the host's rate: a port read (even one ringvm answers in the
 * kernel, RINGVM_ENABLE_PM_TIMER) takes longer than the 131072 TSC cycles
 * Linux allows around a PIT or PM timer sample, so it cannot calibrate
 * the TSC and marks it unstable.  Detection: the test machine is TCG and
 * the guest said both calibrations failed.  Workaround: accept that one
 * complaint there, and say so; everywhere else (Bochs counts TSC cycles
 * in instructions, silicon is fast) it fails the test.
 */
static bool tcg_tsc_calibration(const char *out)
{
	return host_is_tcg() &&
	       strstr(out, "tsc: Unable to calibrate against PIT") &&
	       strstr(out, "tsc: HPET/PMTIMER calibration failed");
}

/*
 * Quirk: early in the boot, before it has the PM timer, Linux checks the
 * TSC against jiffies ('refined-jiffies'), counted one per timer tick.
 * When the host leaves the vCPU thread off its CPU for a while, the
 * ticks fall behind the TSC and the watchdog marks the TSC unstable:
 * under TCG, with a Bochs beside it on two host cores, it did once in
 * CI (512 ms of jiffies against 710 ms of TSC), and with three CPU hogs
 * beside the svm machine in 3 boots of 3, while vmctl's PIT gave one
 * IRQ 0 for all the periods it missed.  It now gives each as soon as
 * the guest took the last (dev_i8254.c), and the hogs made 0 of 2; a
 * watchdog check that comes before the lost ticks are in would still
 * see the gap.  Detection: the test machine is TCG and the watchdog's
 * verdict names 'refined-jiffies'.  Workaround: accept that complaint
 * there, and say so; with the PM timer as watchdog, under Bochs (whose
 * guest time is its instruction count) and on silicon it fails the test.
 */
static bool tcg_jiffies_watchdog(const char *out)
{
	return host_is_tcg() && strstr(out, "'refined-jiffies' wd_nsec");
}

static void no_complaints(struct __test_metadata *_metadata, const char *out)
{
	bool tcg_tsc = tcg_tsc_calibration(out);
	bool tcg_jiffies = tcg_jiffies_watchdog(out);
	unsigned int i, spurious = 0;
	const char *p, *hit;

	if (tcg_tsc)
		printf("# note: TCG: the guest could not calibrate its TSC against the PIT or the PM timer (emulator speed); its \"TSC unstable\" is accepted\n");
	if (tcg_jiffies)
		printf("# note: TCG: the guest's jiffies fell behind its TSC (PIT ticks lost while the host did not run the vCPU); the watchdog's \"TSC unstable\" is accepted\n");
	for (i = 0; i < ARRAY_SIZE(complaints); i++) {
		const char *what = complaints[i];

		hit = strstr(out, what);
		if (hit && tcg_tsc && strstr(what, "TSC unstable"))
			continue;
		if (hit && tcg_jiffies && (strstr(what, "TSC unstable") ||
					   !strcmp(what, "clocksource watchdog")))
			continue;
		EXPECT_EQ(NULL, hit) {
			TH_LOG("the guest kernel said \"%s\"", what);
		}
	}
	for (p = out; (p = strstr(p, "spurious 8259A interrupt")); p++)
		spurious++;
	EXPECT_GE(1, spurious) TH_LOG("%u spurious PIC interrupts", spurious);
}

/*
 * One boot does it all (a boot costs minutes under Bochs): /init's
 * checks, then the shell, whose "poweroff -f" ends the VM.  @opts: more
 * options for vmctl run.
 */
static void shell_boot(struct __test_metadata *_metadata,
		       FIXTURE_DATA(boot) *self, const char *opts)
{
	static const char input[] =
		"echo answer-$((6 * 7))\n"
		"poweroff -f\n";
	const char *line;
	double up0 = 0, up1 = 0;
	long long d0 = 0, d1 = 0;

	boot(_metadata, self, "console=ttyS0 ringvm_shell=1", input, 1200,
	     opts);
	EXPECT_EQ(0, self->status) TH_LOG("vmctl run: %s", self->err);
	ASSERT_NE(NULL, guest_line(self->out, "init"))
		TH_LOG("the guest never reached /init");

	line = guest_line(self->out, "cpus ");
	ASSERT_NE(NULL, line);
	EXPECT_EQ(1, atoi(line));
	/* Without --lapic the machine has no local APIC, on either backend. */
	EXPECT_NE(NULL, strstr(self->out, "No local APIC present"));

	/* Its clock is the host's, and it runs at the host's rate. */
	line = guest_line(self->out, "date ");
	ASSERT_NE(NULL, line);
	d0 = atoll(line);
	line = guest_line(line, "date ");
	ASSERT_NE(NULL, line);
	d1 = atoll(line);
	EXPECT_LE(self->start - 2, d0);
	EXPECT_GE(self->end + 2, d1);
	EXPECT_LE(2, d1 - d0);
	line = guest_line(self->out, "uptime ");
	ASSERT_NE(NULL, line);
	ASSERT_EQ(2, sscanf(line, "%lf %lf", &up0, &up1));
	EXPECT_LE(1.9, up1 - up0) TH_LOG("sleep 2 took %.2f s", up1 - up0);
	/* ... and the fork and exec of sleep, slow on an emulated CPU */
	EXPECT_GE(4.0, up1 - up0) TH_LOG("sleep 2 took %.2f s", up1 - up0);

	/* What was typed reached the shell, and its answer came back. */
	ASSERT_NE(NULL, guest_line(self->out, "shell"));
	EXPECT_NE(NULL, strstr(self->out, "answer-42"))
		TH_LOG("the shell's answer did not come back");

	EXPECT_NE(NULL, strstr(self->out, "reboot: Power down"))
		TH_LOG("not powered off through the kernel's power-off path");
	EXPECT_NE(NULL, strstr(self->out,
			       "ACPI: PM: Preparing to enter system sleep state S5"))
		TH_LOG("not powered off through ACPI S5");
	no_complaints(_metadata, self->out);
}

TEST_F_TIMEOUT(boot, boot_shell_poweroff, 1300)
{
	shell_boot(_metadata, self, "");
}

/*
 * 3. SMP: --vcpus N gives the guest N CPUs through the in-kernel local
 * APICs, an I/O APIC and the MADT: the kernel brings every AP up with
 * INIT and SIPI, reports N online, runs N busy loops side by side and
 * powers off cleanly.
 */
static void smp_boot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(boot) *self, unsigned int n,
		     const char *backend)
{
	static const char input[] =
		"for j in $(seq $(nproc)); do "
		"(k=0; while [ $k -lt 300 ]; do k=$((k+1)); done; echo par-$j) & "
		"done; wait; echo par-done-$(nproc)\n"
		"poweroff -f\n";
	char opts[96], want[32];
	const char *line;
	unsigned int j;

	snprintf(opts, sizeof(opts), "--vcpus %u %s", n, backend);
	boot(_metadata, self, "console=ttyS0 ringvm_shell=1", input, 1200,
	     opts);
	EXPECT_EQ(0, self->status) TH_LOG("vmctl run: %s", self->err);
	ASSERT_NE(NULL, guest_line(self->out, "init"))
		TH_LOG("the guest never reached /init");
	line = guest_line(self->out, "cpus ");
	ASSERT_NE(NULL, line);
	EXPECT_EQ(n, (unsigned int)atoi(line));
	for (j = 1; j <= n; j++) {
		snprintf(want, sizeof(want), "par-%u", j);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
	}
	snprintf(want, sizeof(want), "par-done-%u", n);
	EXPECT_NE(NULL, strstr(self->out, want));
	EXPECT_NE(NULL, strstr(self->out, "reboot: Power down"));
	no_complaints(_metadata, self->out);
}

/* Whether the test machine is Bochs: its BIOS says so in the DMI data. */
static bool host_is_bochs(void)
{
	static const char *const files[] = {
		"/sys/class/dmi/id/bios_version",
		"/sys/class/dmi/id/bios_vendor",
	};
	char buf[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (sysfs_read_line(files[i], buf, sizeof(buf)) &&
		    strstr(buf, "Bochs"))
			return true;
	return false;
}

/*
 * Where the SMP boots do not run in CI, with RINGVM_SMP_BOOT=1 forcing
 * them (by hand).  Under Bochs they run (the vmx-long machine, one CPU:
 * 2 and 4 vCPUs overcommitted on it), about 3.5 minutes a boot.
 *  - Under QEMU's TCG with two CPUs (the svm machine) a Linux 6.1 guest
 *    with 2 or 4 vCPUs dies at random, about every other boot, with a
 *    triple fault while a #PF on an instruction fetch in kernel text is
 *    delivered, although the page tables its CR3 names are intact when
 *    vmctl reads them afterwards.  Under KVM (kvm_smp_*), the same boot
 *    made the test machine's own kernel panic, twice in two runs, and
 *    with QEMU 10 both hypervisors lose 3 boots of 10: QEMU's nested
 *    SVM, not ringvm (selftests/README.md, "Known problem").
 */
static const char *smp_skip_reason(void)
{
	if (ringvm_env_forces("RINGVM_SMP_BOOT"))
		return NULL;
	if (host_is_tcg())
		return "SMP boot under TCG: random triple faults under ringvm, the test machine's panic under KVM: QEMU's nested SVM (selftests/README.md, \"Known problem\")";
	return NULL;
}

TEST_F_TIMEOUT(boot, smp_2_vcpus, 1300)
{
	const char *why = smp_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	smp_boot(_metadata, self, 2, "");
}

TEST_F_TIMEOUT(boot, smp_4_vcpus, 1300)
{
	const char *why = smp_skip_reason();

	if (why)
		SKIP(return, "%s", why);
	smp_boot(_metadata, self, 4, "");
}

/*
 * 4. The same boot under KVM: vmctl run --backend kvm with the VM's size.
 * KVM and ringvm cannot share the CPUs, so ringvm goes first (the
 * teardown unloads KVM).  Under Bochs a second Linux boot would not fit
 * the CI budget; RINGVM_KVM_BOOT=1 runs it there.
 */
/*
 * ringvm out, KVM in, for a boot under --backend kvm: "" or why it cannot
 * run here (a skip).  What must work fails the test (the harness's SKIP
 * would hide an EXPECT).  A KVM VM with a vCPU of the test's own holds
 * KVM's static keys on while vmctl's VM comes and goes (backend_test
 * says why).
 */
static const char *kvm_instead(struct __test_metadata *_metadata)
{
	char *destroy[] = {
		(char *)ringvm_vmctl_path(), "destroy", VM_NAME, NULL,
	};
	const char *kvm = kvm_vendor_module();
	struct run_result res;
	int ret;

	if (host_is_bochs() && !ringvm_env_forces("RINGVM_KVM_BOOT"))
		return "another Linux boot under Bochs: beyond the CI budget";
	if (!kvm)
		return "neither VMX nor SVM in /proc/cpuinfo";
	ASSERT_EQ(0, run_prog(destroy, &res));
	ASSERT_EQ(0, res.status) TH_LOG("vmctl destroy: %s", res.err);
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	if (modprobe(kvm))
		return "no KVM to boot on (modprobe failed)";
	ret = kvm_guest_create(&pin, pin_code, sizeof(pin_code), 0x1000);
	ASSERT_EQ(0, ret) TH_LOG("a KVM VM: %s", strerror(-ret));
	return "";
}

TEST_F_TIMEOUT(boot, kvm_backend, 1300)
{
	const char *why = kvm_instead(_metadata);

	if (why[0])
		SKIP(return, "%s", why);
	shell_boot(_metadata, self, "--backend kvm --memory 256M");
	kvm_guest_destroy(&pin);
}

/*
 * 5. The SMP boots of 3. under KVM: its local APICs (split irqchip), the
 * rest vmctl's as under ringvm.  "" or why it skipped.
 */
static const char *kvm_smp(struct __test_metadata *_metadata,
			   FIXTURE_DATA(boot) *self, unsigned int n)
{
	const char *why = smp_skip_reason();

	if (!why)
		why = kvm_instead(_metadata);
	if (why[0])
		return why;
	smp_boot(_metadata, self, n, "--backend kvm --memory 256M");
	kvm_guest_destroy(&pin);
	return "";
}

TEST_F_TIMEOUT(boot, kvm_smp_2_vcpus, 1300)
{
	const char *why = kvm_smp(_metadata, self, 2);

	if (why[0])
		SKIP(return, "%s", why);
}

TEST_F_TIMEOUT(boot, kvm_smp_4_vcpus, 1300)
{
	const char *why = kvm_smp(_metadata, self, 4);

	if (why[0])
		SKIP(return, "%s", why);
}

/* 2. Refused before the guest runs */

#define BAD_FILE	"/tmp/linux_boot.bad"
#define BIG_FILE	"/tmp/linux_boot.big"

/* The first @len bytes of the guest's vmlinuz to BAD_FILE, patched. */
static void write_patched(struct __test_metadata *_metadata, size_t len,
			  size_t off, const void *patch, size_t plen)
{
	char *img = read_file(GUEST_DIR "/vmlinuz", len);
	int fd;

	ASSERT_NE(NULL, img);
	memcpy(img + off, patch, plen);
	fd = open(BAD_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, img, len));
	close(fd);
	free(img);
}

/* vmctl run with @kernel [@initrd] [@cmdline]: status 1, one line. */
static void refused(struct __test_metadata *_metadata, const char *kernel,
		    const char *initrd, const char *cmdline, const char *why)
{
	char *argv[10] = {
		(char *)ringvm_vmctl_path(), "run", VM_NAME, "--kernel",
		(char *)kernel,
	};
	unsigned int n = 5;
	struct run_result res;

	if (initrd) {
		argv[n++] = "--initrd";
		argv[n++] = (char *)initrd;
	}
	if (cmdline) {
		argv[n++] = "--cmdline";
		argv[n++] = (char *)cmdline;
	}
	ASSERT_EQ(0, run_prog(argv, &res));
	EXPECT_EQ(1, res.status) TH_LOG("%s: %s", why, res.err);
	EXPECT_EQ(0, strncmp(res.err, "vmctl: ", 7)) TH_LOG("%s", res.err);
	EXPECT_EQ(strlen(res.err) - 1, strcspn(res.err, "\n"))
		TH_LOG("%s: not one line: %s", why, res.err);
	EXPECT_NE(NULL, strstr(res.err, why)) TH_LOG("%s", res.err);
	EXPECT_EQ(0, res.out[0]) TH_LOG("the guest ran: %s", res.out);
}

TEST_F(boot, bad_kernels)
{
	static const unsigned char v201[] = { 0x01, 0x02 };
	static const unsigned char no64[] = { 0x00, 0x00 };
	char cmdline[4096];
	struct run_result res;
	char *argv[] = {
		(char *)ringvm_vmctl_path(), "create", VM_NAME "2",
		"--memory", "16M", NULL,
	};
	int fd;

	write_patched(_metadata, 1 << 20, 0x206, v201, sizeof(v201));
	refused(_metadata, BAD_FILE, NULL, NULL, "boot protocol 2.01");
	write_patched(_metadata, 1 << 20, 0x236, no64, sizeof(no64));
	refused(_metadata, BAD_FILE, NULL, NULL, "no 64-bit entry");
	write_patched(_metadata, 0x300, 0, "", 0);
	refused(_metadata, BAD_FILE, NULL, NULL, "no protected-mode kernel");

	memset(cmdline, 'x', sizeof(cmdline) - 1);
	cmdline[sizeof(cmdline) - 1] = '\0';
	refused(_metadata, GUEST_DIR "/vmlinuz", NULL, cmdline,
		"the command line is 4095 bytes");

	/* An initrd of 255 MiB leaves no room in 256 MiB. */
	fd = open(BIG_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 255 << 20));
	close(fd);
	refused(_metadata, GUEST_DIR "/vmlinuz", BIG_FILE, NULL,
		"do not fit in the RAM");
	unlink(BIG_FILE);
	unlink(BAD_FILE);

	/* A VM of 16 MiB is too small for the kernel itself. */
	ASSERT_EQ(0, run_prog(argv, &res));
	ASSERT_EQ(0, res.status) TH_LOG("vmctl create: %s", res.err);
	argv[1] = "run";
	argv[3] = "--kernel";
	argv[4] = GUEST_DIR "/vmlinuz";
	ASSERT_EQ(0, run_prog(argv, &res));
	EXPECT_EQ(1, res.status);
	EXPECT_NE(NULL, strstr(res.err, "MiB of RAM")) TH_LOG("%s", res.err);
	argv[1] = "destroy";
	argv[3] = NULL;
	run_prog(argv, &res);
}

TEST_HARNESS_MAIN
