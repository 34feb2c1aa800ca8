// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl doctor: why ringvm can or cannot run VMs on this machine, one
 * check at a time, each in a plain sentence with what to do next.
 *
 *  1. The checks' results, and printing them as text or one JSON object.
 *  2. The CPU: vendor and VMX/SVM, the firmware's lock, nested paging,
 *     a hypervisor under us.  (/proc/cpuinfo, CPUID, /dev/cpu/0/msr)
 *  3. The kernel: KVM, Secure Boot, headers for DKMS, ringvm itself.
 *  4. /dev/ringvm and RINGVM_GET_CAPS: the proof that a VM can run.
 *
 * It only reads: nothing is loaded or changed, so any user may run it.
 * What it cannot read without root (MSRs, debugfs) it reports as unknown
 * or falls back from, and says so.  The exit status is 0 only when the
 * caps ioctl answered on an open /dev/ringvm.
 *
 * The check names and the JSON layout are parsed by selftests/vmctl_test.c
 * and documented in vmctl.8: change them together.
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "vmctl.h"

#define DOCTOR_HELP							\
	"Checks, one by one, what ringvm needs here and says what to do\n" \
	"about each problem: the CPU's VT-x/AMD-V, the firmware's lock,\n" \
	"EPT/NPT, a hypervisor underneath, KVM, Secure Boot, kernel\n"	\
	"headers, the module, /dev/ringvm and its caps ioctl.  Each check\n" \
	"is ok, warn, fail or unknown (could not tell; run as root to see\n" \
	"more).  It reads only and changes nothing.\n\n"		\
	"options:\n"							\
	"  -j, --json   print one JSON object: \"ready\" and \"checks\", an\n" \
	"               array of {name, status, message, hint}\n"	\
	"  -h, --help   show this help\n\n"				\
	"exit status: 0 when a VM can run here (ringvm loaded, /dev/ringvm\n" \
	"opens, its caps ioctl answers), 1 otherwise, 2 bad command line.\n"

/* 1. Results */

enum doctor_status { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL, DOCTOR_UNKNOWN };

static const char *const status_names[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_WARN] = "warn",
	[DOCTOR_FAIL] = "fail", [DOCTOR_UNKNOWN] = "unknown",
};

/* Text form: a fixed-width tag, so the lines line up. */
static const char *const status_tags[] = {
	[DOCTOR_OK] = "[ ok ]", [DOCTOR_WARN] = "[warn]",
	[DOCTOR_FAIL] = "[FAIL]", [DOCTOR_UNKNOWN] = "[ ?? ]",
};

struct doctor_check {
	const char *name;
	enum doctor_status status;
	char message[512];
	char hint[512];		/* "" when there is nothing to do */
};

enum cpu_arch { ARCH_NONE, ARCH_VMX, ARCH_SVM };

/* What the checks learn and later checks use. */
struct doctor {
	char vendor[16];	/* CPUID 0 "GenuineIntel", ... */
	enum cpu_arch arch;	/* from CPUID, whatever the kernel shows */
	char *flags;		/* /proc/cpuinfo "flags" of the first CPU */
	char *vmx_flags;	/* its "vmx flags", NULL if none */
	bool ringvm_loaded;
	int fd;			/* /dev/ringvm, -1 until it opened */
	bool ready;		/* the caps ioctl answered */
};

static void __attribute__((format(printf, 3, 4)))
say(struct doctor_check *c, enum doctor_status status, const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
hint(struct doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->hint, sizeof(c->hint), fmt, ap);
	va_end(ap);
}

static void print_text(const struct doctor *d,
		       const struct doctor_check *checks, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		printf("%s %s: %s\n", status_tags[checks[i].status],
		       checks[i].name, checks[i].message);
		if (checks[i].hint[0])
			printf("       hint: %s\n", checks[i].hint);
	}
	if (d->ready)
		printf("\nringvm can run VMs here.\n");
	else
		printf("\nringvm cannot run VMs here yet: see the checks marked FAIL above.\n");
}

static void print_json(const struct doctor *d,
		       const struct doctor_check *checks, unsigned int n)
{
	unsigned int i;

	printf("{\n\t\"ready\": %s,\n\t\"checks\": [", d->ready ? "true" :
								 "false");
	for (i = 0; i < n; i++) {
		printf("%s\n\t\t{\"name\": \"%s\", \"status\": \"%s\", "
		       "\"message\": ", i ? "," : "", checks[i].name,
		       status_names[checks[i].status]);
		vmctl_json_str(stdout, checks[i].message);
		printf(", \"hint\": ");
		vmctl_json_str(stdout, checks[i].hint);
		printf("}");
	}
	printf("\n\t]\n}\n");
}

/* Small readers */

/* The first line of @path, without its newline: its length, or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f)) {
		err = ferror(f) ? -EIO : -ENODATA;
		fclose(f);
		return err;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strlen(buf);
}

/* Whether the blank-separated list @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; p && (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

/* 2. The CPU */

/*
 * The "flags" and "vmx flags" values of the first processor in
 * /proc/cpuinfo; the CPU's own answers come from CPUID, because Linux
 * hides the vmx flag when the firmware turned VMX off.
 */
static void read_cpu(struct doctor *d)
{
	unsigned int eax, ebx, ecx, edx;
	size_t cap = 0;
	char *line = NULL;
	FILE *f;

	__cpuid(0, eax, ebx, ecx, edx);
	memcpy(d->vendor, &ebx, 4);
	memcpy(d->vendor + 4, &edx, 4);
	memcpy(d->vendor + 8, &ecx, 4);
	d->vendor[12] = '\0';
	__cpuid(1, eax, ebx, ecx, edx);
	if (ecx & (1U << 5))				/* CPUID.1:ECX.VMX */
		d->arch = ARCH_VMX;
	else if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) &&
		 (ecx & (1U << 2)))			/* CPUID.80000001:ECX.SVM */
		d->arch = ARCH_SVM;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0 && line[0] != '\n') {
		char *colon = strchr(line, ':');
		char **field;

		if (!colon)
			continue;
		if (!strncmp(line, "flags", 5) && strchr(" \t", line[5]))
			field = &d->flags;
		else if (!strncmp(line, "vmx flags", 9))
			field = &d->vmx_flags;
		else
			continue;
		colon[strcspn(colon, "\n")] = '\0';
		free(*field);
		*field = strdup(colon + 1 + strspn(colon + 1, " "));
	}
	free(line);
	fclose(f);
}

static const char *arch_ext(const struct doctor *d)
{
	return d->arch == ARCH_VMX ? "VT-x" : "AMD-V (SVM)";
}

static void check_cpu(struct doctor *d, struct doctor_check *c)
{
	const char *flag = d->arch == ARCH_VMX ? "vmx" : "svm";
	bool hyp = has_word(d->flags, "hypervisor");

	if (!d->flags) {
		say(c, DOCTOR_UNKNOWN, "/proc/cpuinfo has no flags line (is /proc mounted?).");
		hint(c, "mount -t proc proc /proc");
	} else if (d->arch == ARCH_NONE) {
		say(c, DOCTOR_FAIL, "This %s CPU has neither VT-x nor AMD-V: no vmx or svm flag in /proc/cpuinfo, nor in CPUID.",
		    d->vendor);
		if (hyp)
			hint(c, "This is a virtual machine: enable nested virtualization on its host (e.g. kvm_intel nested=1 or kvm_amd nested=1, and QEMU -cpu host).");
		else
			hint(c, "ringvm needs a CPU with Intel VT-x or AMD-V; it cannot run on this one.");
	} else if (!has_word(d->flags, flag)) {
		say(c, DOCTOR_FAIL, "This %s CPU has %s, but the kernel does not list the %s flag in /proc/cpuinfo: the firmware turned it off (Linux then hides the flag), or the kernel was told to (clearcpuid=).",
		    d->vendor, arch_ext(d), flag);
		hint(c, "Turn on %s in the firmware setup (often under CPU or Security), then power-cycle the machine.",
		     d->arch == ARCH_VMX ? "Intel Virtualization Technology (VT-x)" :
					   "SVM Mode (AMD-V)");
	} else {
		say(c, DOCTOR_OK, "This %s CPU has %s: the %s flag is in /proc/cpuinfo.",
		    d->vendor, arch_ext(d), flag);
	}
}

#define MSR_IA32_FEATURE_CONTROL	0x3a
#define FEAT_CTL_LOCKED			(1ULL << 0)
#define FEAT_CTL_VMX_OUTSIDE_SMX	(1ULL << 2)
#define MSR_VM_CR			0xc0010114
#define VM_CR_LOCK			(1ULL << 3)
#define VM_CR_SVMDIS			(1ULL << 4)

/* MSR @msr of CPU 0 through the msr driver: 0, or -errno. */
static int rdmsr0(unsigned int msr, __u64 *val)
{
	int fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, val, sizeof(*val), msr);
	close(fd);
	if (n < 0)
		return -errno;
	return n == sizeof(*val) ? 0 : -EIO;
}

static void firmware_vmx(struct doctor_check *c, __u64 v)
{
	if ((v & FEAT_CTL_LOCKED) && (v & FEAT_CTL_VMX_OUTSIDE_SMX)) {
		say(c, DOCTOR_OK, "IA32_FEATURE_CONTROL is %#llx: locked with VMX allowed.",
		    (unsigned long long)v);
		return;
	}
	/* Linux locks it at boot if firmware left it open (module/vmx/vmx.c). */
	say(c, DOCTOR_FAIL, "IA32_FEATURE_CONTROL is %#llx: %s, so VMXON would fault and ringvm refuses to load (EPERM).",
	    (unsigned long long)v, (v & FEAT_CTL_LOCKED) ?
	    "the firmware locked it with VMX off" : "it is not locked");
	hint(c, "Turn on Intel Virtualization Technology (VT-x) in the firmware setup, then power-cycle the machine.");
}

static void firmware_svm(struct doctor_check *c, __u64 v)
{
	if (!(v & VM_CR_SVMDIS)) {
		say(c, DOCTOR_OK, "VM_CR is %#llx: SVMDIS is clear, SVM may be turned on.",
		    (unsigned long long)v);
		return;
	}
	say(c, DOCTOR_FAIL, "VM_CR is %#llx: the firmware set SVMDIS%s, so ringvm refuses to load (EPERM).",
	    (unsigned long long)v, (v & VM_CR_LOCK) ? " and locked it" : "");
	hint(c, "Turn on SVM Mode (AMD-V) in the firmware setup, then power-cycle the machine.");
}

static void check_firmware(struct doctor *d, struct doctor_check *c)
{
	unsigned int msr = d->arch == ARCH_VMX ? MSR_IA32_FEATURE_CONTROL :
						 MSR_VM_CR;
	const char *name = d->arch == ARCH_VMX ? "IA32_FEATURE_CONTROL" :
						 "VM_CR";
	__u64 v;
	int ret;

	if (d->arch == ARCH_NONE) {
		say(c, DOCTOR_UNKNOWN, "Nothing to check: the CPU has no VT-x or AMD-V.");
		return;
	}
	ret = rdmsr0(msr, &v);
	if (ret == -ENOENT || ret == -ENXIO) {
		say(c, DOCTOR_UNKNOWN, "Cannot read %s: /dev/cpu/0/msr does not exist (the msr module is not loaded).",
		    name);
		hint(c, "As root: modprobe msr, then run vmctl doctor again.");
	} else if (ret == -EACCES || ret == -EPERM) {
		say(c, DOCTOR_UNKNOWN, "Cannot read %s: /dev/cpu/0/msr needs root (CAP_SYS_RAWIO).",
		    name);
		hint(c, "Run vmctl doctor as root to see the firmware's setting.");
	} else if (ret == -EIO && d->arch == ARCH_SVM) {
		/* module/svm/svm.c: a VM_CR that faults forbids nothing. */
		say(c, DOCTOR_OK, "VM_CR cannot be read (the CPU faults the read, as some emulators do); ringvm takes that as SVM allowed.");
	} else if (ret == -EIO) {
		say(c, DOCTOR_FAIL, "The CPU faults a read of IA32_FEATURE_CONTROL, so ringvm refuses to load (EPERM).");
		hint(c, "Turn on VT-x in the firmware setup; in a VM, give the guest a CPU model with VMX (QEMU -cpu host).");
	} else if (ret < 0) {
		say(c, DOCTOR_UNKNOWN, "Cannot read %s from /dev/cpu/0/msr: %s.",
		    name, strerror(-ret));
	} else if (d->arch == ARCH_VMX) {
		firmware_vmx(c, v);
	} else {
		firmware_svm(c, v);
	}
}

static void check_nested_paging(struct doctor *d, struct doctor_check *c)
{
	const char *missing;

	if (d->arch == ARCH_NONE) {
		say(c, DOCTOR_UNKNOWN, "Nothing to check: the CPU has no VT-x or AMD-V.");
		return;
	}
	if (d->arch == ARCH_SVM) {
		if (has_word(d->flags, "npt")) {
			say(c, DOCTOR_OK, "The CPU has NPT (nested page tables): the npt flag is in /proc/cpuinfo.");
		} else {
			say(c, DOCTOR_FAIL, "No npt flag in /proc/cpuinfo: ringvm needs NPT (nested page tables) and refuses to load without it.");
			hint(c, "Use a CPU with NPT (every AMD CPU since Barcelona); in a VM, give the guest NPT (QEMU -cpu host, kvm_amd npt=1 on the host).");
		}
		return;
	}
	if (!d->vmx_flags) {
		say(c, DOCTOR_UNKNOWN, "This kernel lists no \"vmx flags\" in /proc/cpuinfo (Linux 5.8 and later do), so EPT and unrestricted guest cannot be checked here.");
		return;
	}
	if (!has_word(d->vmx_flags, "ept"))
		missing = has_word(d->vmx_flags, "unrestricted_guest") ?
			  "EPT" : "EPT and unrestricted guest";
	else if (!has_word(d->vmx_flags, "unrestricted_guest"))
		missing = "unrestricted guest";
	else
		missing = NULL;
	if (!missing) {
		say(c, DOCTOR_OK, "The CPU has EPT and unrestricted guest (ept, unrestricted_guest in \"vmx flags\").");
		return;
	}
	say(c, DOCTOR_FAIL, "The CPU lacks %s (\"vmx flags\" in /proc/cpuinfo), which ringvm requires; it refuses to load.",
	    missing);
	hint(c, "Use a CPU with both (Intel Westmere or later); in a VM, give the guest a CPU model that has them (QEMU -cpu host, kvm_intel ept=1 unrestricted_guest=1 on the host).");
}

static void check_hypervisor(struct doctor *d, struct doctor_check *c)
{
	char sig[13];

	if (!has_word(d->flags, "hypervisor")) {
		say(c, DOCTOR_OK, "No hypervisor flag in /proc/cpuinfo: ringvm runs on the CPU itself (an emulator that hides the flag, like Bochs, looks the same).");
		return;
	}
	vmctl_hypervisor_signature(sig);
	say(c, DOCTOR_WARN, "This machine is itself a VM (the hypervisor flag is set%s%s%s): ringvm works nested, but every VM exit goes through the hypervisor below, so it is slower.",
	    sig[0] ? "; CPUID signature \"" : "", sig, sig[0] ? "\"" : "");
	if (!strcmp(sig, "TCGTCGTCGTCG"))
		hint(c, "Nothing to fix, but this is QEMU without KVM (TCG): everything is emulated, many times slower, and its %s has quirks that real CPUs do not (ringvm works around those it knows).  Measure performance on bare metal.",
		     arch_ext(d));
	else
		hint(c, "Nothing to fix; measure performance on bare metal.");
}

/* 3. The kernel */

struct kmod {
	char name[64];
	int refcnt;
};

/* @name's line in /proc/modules: 1 if loaded, 0 if not, -errno. */
static int proc_module(const char *name, struct kmod *m)
{
	char line[512];
	FILE *f = fopen("/proc/modules", "re");
	int found = 0;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%63s %*u %d", m->name, &m->refcnt) == 2 &&
			!strcmp(m->name, name);
	fclose(f);
	return found;
}

/*
 * KVM VMs, from the "PID-FD" directories KVM makes in debugfs; -errno
 * when that cannot be read (no debugfs, or not root).
 */
static int kvm_vm_count(void)
{
	struct dirent *e;
	int n = 0, pid, fd;
	char end;
	DIR *dir = opendir("/sys/kernel/debug/kvm");

	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		n += sscanf(e->d_name, "%d-%d%c", &pid, &fd, &end) == 2;
	closedir(dir);
	return n;
}

static void check_kvm(struct doctor *d, struct doctor_check *c)
{
	static const char *const vendors[] = { "kvm_intel", "kvm_amd" };
	const char *unload;
	char at_load[8] = "";
	struct kmod m = { };
	unsigned int i;
	int ret = 0, vms;

	for (i = 0; i < ARRAY_SIZE(vendors) && ret <= 0; i++)
		ret = proc_module(vendors[i], &m);
	if (ret == -ENOENT) {
		say(c, DOCTOR_OK, "No /proc/modules: this kernel cannot load modules, so no KVM module either.");
		return;
	} else if (ret < 0) {
		say(c, DOCTOR_UNKNOWN, "Cannot read /proc/modules: %s.", strerror(-ret));
		return;
	}
	if (!ret) {
		say(c, DOCTOR_OK, "KVM is not loaded (no kvm_intel or kvm_amd in /proc/modules).");
		return;
	}
	unload = m.name[4] == 'i' ? "modprobe -r kvm_intel kvm" :
				    "modprobe -r kvm_amd kvm";
	if (d->ringvm_loaded) {
		say(c, DOCTOR_WARN, "%s is loaded next to ringvm: only one hypervisor can own %s, so KVM cannot run VMs while ringvm is loaded.",
		    m.name, arch_ext(d));
		hint(c, "If you do not need KVM: %s.  To use KVM, unload ringvm first (rmmod ringvm).",
		     unload);
		return;
	}
	/* Linux 6.12 and later turn VMX/SVM on when KVM loads, by default. */
	read_line("/sys/module/kvm/parameters/enable_virt_at_load", at_load,
		  sizeof(at_load));
	vms = kvm_vm_count();
	if (at_load[0] == 'Y' || vms > 0) {
		char why[96];

		if (at_load[0] == 'Y')
			snprintf(why, sizeof(why), "it turned %s on when it loaded (kvm.enable_virt_at_load=Y)",
				 arch_ext(d));
		else
			snprintf(why, sizeof(why), "%d KVM VM%s exist%s", vms,
				 vms == 1 ? "" : "s", vms == 1 ? "s" : "");
		say(c, DOCTOR_FAIL, "%s holds the CPU: %s, so loading ringvm fails with EBUSY.",
		    m.name, why);
		hint(c, "Stop the KVM VMs (QEMU, libvirt, ...), then as root: %s",
		     unload);
	} else if (vms < 0 && m.refcnt > 0) {
		say(c, DOCTOR_WARN, "%s is in use (%d references: /dev/kvm or KVM VMs are open; debugfs would tell which, as root).  While a KVM VM exists, loading ringvm fails with EBUSY.",
		    m.name, m.refcnt);
		hint(c, "Stop the KVM VMs (QEMU, libvirt, ...), then as root: %s",
		     unload);
	} else {
		say(c, DOCTOR_WARN, "%s is loaded but runs no VM: ringvm can load, but then KVM cannot start VMs, and while a KVM VM exists ringvm cannot load (EBUSY).",
		    m.name);
		hint(c, "If you do not need KVM, as root: %s", unload);
	}
}

#define EFI_SECURE_BOOT_VAR						\
	"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

/*
 * Secure Boot: 1 on, 0 off, -ENODEV when not booted through EFI,
 * -errno when it cannot be told.  The EFI variable first (4 bytes of
 * attributes, then the value); else mokutil, if installed.
 */
static int secure_boot_state(void)
{
	unsigned char var[5];
	char line[128];
	ssize_t n = -1;
	FILE *p;
	int fd;

	if (access("/sys/firmware/efi", F_OK))
		return -ENODEV;
	fd = open(EFI_SECURE_BOOT_VAR, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, var, sizeof(var));
		close(fd);
	}
	if (n == sizeof(var))
		return var[4] == 1;
	p = popen("mokutil --sb-state 2>/dev/null", "r");
	if (!p)
		return -errno;
	n = -ENOENT;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "SecureBoot enabled"))
			n = 1;
		else if (strstr(line, "SecureBoot disabled"))
			n = 0;
	pclose(p);
	return n;
}

static void check_secure_boot(struct doctor *d, struct doctor_check *c)
{
	int sb = secure_boot_state();
	char enforce[8] = "";
	bool refused;

	read_line("/sys/module/module/parameters/sig_enforce", enforce,
		  sizeof(enforce));
	refused = sb == 1 || enforce[0] == 'Y';
	if (sb < 0 && sb != -ENODEV && enforce[0] != 'Y') {
		say(c, DOCTOR_UNKNOWN, "Cannot tell whether Secure Boot is on: the SecureBoot EFI variable is unreadable and mokutil is not installed or said nothing.");
		hint(c, "Install mokutil and run vmctl doctor again, or run: mokutil --sb-state");
		return;
	}
	if (!refused) {
		say(c, DOCTOR_OK, "%s and module signatures are not enforced: an unsigned ringvm.ko loads (it taints the kernel, which is expected).",
		    sb == -ENODEV ? "Not booted through EFI, so no Secure Boot," :
				    "Secure Boot is off");
		return;
	}
	say(c, d->ringvm_loaded ? DOCTOR_OK : DOCTOR_WARN,
	    "%s: the kernel refuses modules not signed with a key it trusts%s.",
	    sb == 1 ? "Secure Boot is on" : "Module signatures are enforced (module.sig_enforce=Y)",
	    d->ringvm_loaded ? "; ringvm is loaded, so it was accepted" :
			       ", so an unsigned ringvm.ko will not load (EKEYREJECTED or EPERM)");
	if (!d->ringvm_loaded)
		hint(c, "Sign ringvm.ko with a key enrolled with mokutil --import (DKMS signs with its own MOK once enrolled), or turn Secure Boot off in the firmware setup.");
}

static void check_headers(struct doctor *d, struct doctor_check *c)
{
	char path[300];
	struct utsname u;
	struct stat st;

	(void)d;
	if (uname(&u)) {
		say(c, DOCTOR_UNKNOWN, "uname: %s.", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "/lib/modules/%s/build", u.release);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		say(c, DOCTOR_OK, "The headers of the running kernel (%s) are at %s: ringvm.ko can be built here, and by DKMS.",
		    u.release, path);
		return;
	}
	say(c, DOCTOR_WARN, "%s %s: ringvm.ko cannot be built here for the running kernel %s, nor rebuilt by DKMS.",
	    path, lstat(path, &st) ? "does not exist" : "is a dangling link",
	    u.release);
	hint(c, "Install the headers: apt-get install linux-headers-%s (Debian, Ubuntu) or dnf install kernel-devel-%s (Fedora).  Not needed if you load a ringvm.ko built elsewhere for this kernel.",
	     u.release, u.release);
}

/* Whether modules.dep of the running kernel lists a ringvm.ko. */
static bool ringvm_installed(void)
{
	char path[300], line[512];
	struct utsname u;
	bool found = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/ringvm.ko:") != NULL;
	fclose(f);
	return found;
}

#define SYSLOG_ACTION_READ_ALL		3
#define SYSLOG_ACTION_SIZE_BUFFER	10

/*
 * The kernel log's last error from ringvm since it last loaded (its
 * "enabled on N CPUs" line), without the level and time stamp: what a
 * failed insmod said.  "" when there is none or the log is not readable
 * (dmesg_restrict without CAP_SYSLOG).
 */
static void ringvm_last_error(char *buf, size_t len)
{
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
	char *log, *line, *text, *save;

	buf[0] = '\0';
	if (size <= 0 || !(log = malloc(size + 1)))
		return;
	size = klogctl(SYSLOG_ACTION_READ_ALL, log, size);
	log[size > 0 ? size : 0] = '\0';
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "<3>[    1.234567] ringvm: ..." */
		text = line[0] == '<' ? strchr(line, '>') : NULL;
		if (!text)
			continue;
		text++;
		if (text[0] == '[' && strstr(text, "] "))
			text = strstr(text, "] ") + 2;
		if (strncmp(text, "ringvm: ", 8))
			continue;
		if (line[1] <= '3')		/* KERN_ERR or worse */
			snprintf(buf, len, "%s", text);
		else
			buf[0] = '\0';
	}
	free(log);
}

static void check_module(struct doctor *d, struct doctor_check *c)
{
	char version[64], err[200];

	if (d->ringvm_loaded) {
		if (read_line("/sys/module/ringvm/version", version,
			      sizeof(version)) > 0)
			say(c, DOCTOR_OK, "ringvm %s is loaded (/sys/module/ringvm).",
			    version);
		else
			say(c, DOCTOR_OK, "ringvm is loaded (/sys/module/ringvm).");
		return;
	}
	if (access("/proc/modules", F_OK)) {
		say(c, DOCTOR_FAIL, "ringvm is not loaded, and this kernel cannot load modules (no /proc/modules).");
		hint(c, "Boot a kernel built with CONFIG_MODULES=y (every distribution kernel is).");
		return;
	}
	ringvm_last_error(err, sizeof(err));
	if (err[0])
		say(c, DOCTOR_FAIL, "ringvm is not loaded (no /sys/module/ringvm).  The kernel log's last word from it: \"%s\".",
		    err);
	else
		say(c, DOCTOR_FAIL, "ringvm is not loaded (no /sys/module/ringvm).");
	if (ringvm_installed())
		hint(c, "As root: modprobe ringvm.  If it fails, dmesg | grep ringvm says why; the checks above say what to fix.");
	else
		hint(c, "Build it (make, in the ringvm tree) and load it as root: insmod build/kmod-VERSION/ringvm.ko.  If it fails, dmesg | grep ringvm says why.");
}

/* 4. The device */

/* The name of group @gid from /etc/group, or its number. */
static const char *group_name(gid_t gid, char *buf, size_t len)
{
	char line[512], *name, *save;
	FILE *f = fopen("/etc/group", "re");

	if (gid)
		snprintf(buf, len, "%u", (unsigned int)gid);
	else	/* a busybox initramfs has no /etc/group */
		snprintf(buf, len, "root");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		unsigned int g;

		name = strtok_r(line, ":", &save);
		if (name && strtok_r(NULL, ":", &save) &&
		    sscanf(strtok_r(NULL, ":", &save) ?: "", "%u", &g) == 1 &&
		    g == gid) {
			snprintf(buf, len, "%s", name);
			break;
		}
	}
	fclose(f);
	return buf;
}

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int i, n = getgroups(ARRAY_SIZE(groups), groups);

	if (getegid() == gid)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void device_open_failed(struct doctor_check *c, const struct stat *st,
			       const char *desc, int err)
{
	char group[64];

	say(c, DOCTOR_FAIL, "%s does not open for uid %u: %s.", desc,
	    (unsigned int)geteuid(), strerror(err));
	if (err != EACCES && err != EPERM) {
		hint(c, "dmesg | grep ringvm may say why.");
		return;
	}
	group_name(st->st_gid, group, sizeof(group));
	if ((st->st_mode & 0060) == 0060 && !in_group(st->st_gid))
		hint(c, "Add yourself to group %s (usermod -aG %s $USER), then log in again; or run as root.",
		     group, group);
	else
		hint(c, "Run as root, or install the vmctl package, whose udev rule (60-ringvm.rules: KERNEL==\"ringvm\", GROUP=\"ringvm\", MODE=\"0660\") opens it to group ringvm (then usermod -aG ringvm $USER).");
}

static void check_device(struct doctor *d, struct doctor_check *c)
{
	char desc[160], group[64];
	struct stat st;

	if (stat(RINGVM_DEV_PATH, &st)) {
		say(c, DOCTOR_FAIL, "%s does not exist%s.", RINGVM_DEV_PATH,
		    d->ringvm_loaded ? "" : ": ringvm is not loaded");
		if (d->ringvm_loaded)
			hint(c, "ringvm is loaded, so devtmpfs or udev did not make the node: mount -t devtmpfs devtmpfs /dev, or check udev.");
		else
			hint(c, "It appears when ringvm loads (see the module check).");
		return;
	}
	snprintf(desc, sizeof(desc), "%s (mode %04o, owner uid %u, group %s)",
		 RINGVM_DEV_PATH, st.st_mode & 07777, (unsigned int)st.st_uid,
		 group_name(st.st_gid, group, sizeof(group)));
	if (!S_ISCHR(st.st_mode)) {
		say(c, DOCTOR_FAIL, "%s is not a character device.", desc);
		hint(c, "Remove it (rm %s) and reload ringvm.", RINGVM_DEV_PATH);
		return;
	}
	d->fd = __ringvm_open();
	if (d->fd < 0) {
		device_open_failed(c, &st, desc, -d->fd);
		return;
	}
	say(c, DOCTOR_OK, "%s opens for uid %u.", desc, (unsigned int)geteuid());
}

static void check_caps(struct doctor *d, struct doctor_check *c)
{
	struct ringvm_caps caps;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	if (d->fd < 0) {
		say(c, DOCTOR_UNKNOWN, "Not asked: %s did not open.", RINGVM_DEV_PATH);
		return;
	}
	ret = __ringvm_get_caps(d->fd, &caps);
	if (ret < 0) {
		say(c, DOCTOR_FAIL, "RINGVM_GET_CAPS failed: %s.", strerror(-ret));
		hint(c, "dmesg | grep ringvm may say why; vmctl and the module may be from different builds.");
		return;
	}
	d->ready = true;
	say(c, DOCTOR_OK, "RINGVM_GET_CAPS answers: %s, turned on on %u of %ld online CPUs.",
	    ringvm_arch_desc(caps.arch), caps.nr_cpus_enabled, online);
}

/* The checks, in the order they run and print; later ones use earlier facts. */
static const struct {
	const char *name;
	void (*check)(struct doctor *d, struct doctor_check *c);
} doctor_checks[] = {
	{ "cpu", check_cpu },
	{ "firmware", check_firmware },
	{ "nested-paging", check_nested_paging },
	{ "hypervisor", check_hypervisor },
	{ "kvm", check_kvm },
	{ "secure-boot", check_secure_boot },
	{ "headers", check_headers },
	{ "module", check_module },
	{ "device", check_device },
	{ "caps", check_caps },
};

static int doctor_run(int argc, char **argv)
{
	const struct vmctl_cmd *cmd = &vmctl_cmd_doctor;
	struct doctor_check checks[ARRAY_SIZE(doctor_checks)] = { };
	struct doctor d = { .fd = -1 };
	bool json = false;
	unsigned int i;
	int ret;

	ret = vmctl_json_opts(cmd, argc, argv, &json, NULL);
	if (ret >= 0)
		return ret;

	read_cpu(&d);
	d.ringvm_loaded = ringvm_module_loaded(RINGVM_MODULE_NAME);
	for (i = 0; i < ARRAY_SIZE(doctor_checks); i++) {
		checks[i].name = doctor_checks[i].name;
		doctor_checks[i].check(&d, &checks[i]);
	}
	if (d.fd >= 0)
		close(d.fd);
	free(d.flags);
	free(d.vmx_flags);

	if (json)
		print_json(&d, checks, ARRAY_SIZE(checks));
	else
		print_text(&d, checks, ARRAY_SIZE(checks));
	return d.ready ? VMCTL_EXIT_OK : VMCTL_EXIT_FAIL;
}

const struct vmctl_cmd vmctl_cmd_doctor = {
	.name = "doctor",
	.args = "[-j|--json]",
	.summary = "say whether ringvm can run here, and what to fix",
	.help = DOCTOR_HELP,
	.run = doctor_run,
};
