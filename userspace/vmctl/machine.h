/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmctl run: the machine it emulates around one vCPU, and the interface
 * between the run loop (run.c), the boot code (boot.c, cpuid.c) and the
 * devices (one dev_*.c file each, listed in devices.h).
 *
 * One process runs one VM on one thread, so a device keeps its state in
 * a static struct in its own file.
 */
#ifndef _VMCTL_MACHINE_H
#define _VMCTL_MACHINE_H

#include <stdbool.h>

#include "vmctl.h"
#include "boot.h"

/*
 * Exit codes of vmctl run besides VMCTL_EXIT_* (0 also means: the guest
 * halted).  A guest's write of V to the test-exit port gives the odd
 * (V << 1 | 1) & 0xff, so vmctl's own codes are even.
 */
#define VMCTL_EXIT_SHUTDOWN	4	/* triple fault / shutdown */
#define VMCTL_EXIT_FAIL_ENTRY	6	/* the hardware refused the state */
#define VMCTL_EXIT_UNHANDLED	8	/* emulation, internal error, unknown */
#define VMCTL_EXIT_DESTROYED	10	/* vmctl destroy while running */
#define VMCTL_EXIT_SIGNAL	128	/* + the signal: 130 for SIGINT */

struct vmctl_ram {
	__u64 gpa;
	__u64 size;
	void *hva;		/* mmap of the VM fd, NULL if not mapped */
};

struct vmctl_machine {
	const char *name;
	int vmfd;
	int vcpufd;
	struct ringvm_run *run;
	unsigned int nr_ram;
	struct vmctl_ram ram[RINGVM_MAX_MEM_REGIONS];
	/* Set by a device (or the loop) to end the run with @status. */
	bool stop;
	int status;
};

/* What the guest sees at @gpa, if [@gpa, @gpa + @len) is RAM of one region. */
void *vmctl_gpa_to_hva(struct vmctl_machine *m, __u64 gpa, __u64 len);

/* boot.c */
enum vmctl_mode {
	VMCTL_MODE_REAL,
	VMCTL_MODE_PROTECTED,
	VMCTL_MODE_LONG,
};

/*
 * Set vCPU 0 up to start at @entry in @mode: write the boot data (for
 * protected and long mode) and set sregs and regs.  @stack is RSP outside
 * real mode.  0, or VMCTL_EXIT_FAIL after saying why.
 */
int vmctl_boot_setup(struct vmctl_machine *m, enum vmctl_mode mode,
		     __u64 entry, __u64 stack);

/* cpuid.c: give the VM the host's CPUID, filtered.  0 or -errno. */
int vmctl_cpuid_setup(struct vmctl_machine *m);

/*
 * Port I/O devices.  @io handles one access of @size bytes at @port
 * (base <= port < base + len): for an OUT, @data holds the value; for an
 * IN, the device writes it there.  Little-endian, as on x86.  Unless
 * @wide, the run loop splits wider accesses into bytes at port, port+1,
 * ..., as the ISA bus does for an 8-bit device.
 */
struct vmctl_io_dev {
	const char *name;
	__u16 base;
	__u16 len;
	bool wide;
	void (*io)(struct vmctl_machine *m, __u16 port, bool out,
		   __u8 *data, unsigned int size);
};

#define VMCTL_DEV(name) extern const struct vmctl_io_dev vmctl_dev_##name;
#include "devices.h"
#undef VMCTL_DEV

#endif /* _VMCTL_MACHINE_H */
