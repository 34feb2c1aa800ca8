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

#include <pthread.h>
#include <stdbool.h>

#include "vmctl.h"
#include "boot.h"

/*
 * Long mode and 4-level paging (Intel SDM Vol. 3A §4.5): boot.c builds
 * the tables, run.c walks a guest's after a crash.
 */
#define EFER_LMA	(1ULL << 10)
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL	/* bits 51:12 */

/*
 * Exit codes of vmctl run besides VMCTL_EXIT_* (0 also means: the guest
 * halted).  A guest's write of V to the test-exit port gives the odd
 * (V << 1 | 1) & 0xff, so vmctl's own codes are even.
 */
#define VMCTL_EXIT_SHUTDOWN	4	/* triple fault / shutdown */
#define VMCTL_EXIT_FAIL_ENTRY	6	/* the hardware refused the state */
#define VMCTL_EXIT_UNHANDLED	8	/* emulation, internal error, unknown */
#define VMCTL_EXIT_DESTROYED	10	/* vmctl destroy while running */
#define VMCTL_EXIT_RESET	12	/* the guest reset the machine */
#define VMCTL_EXIT_QUIT		14	/* Ctrl-A x on the console */
#define VMCTL_EXIT_SIGNAL	128	/* + the signal: 130 for SIGINT */

struct vmctl_ram {
	__u64 gpa;
	__u64 size;
	void *hva;		/* mmap of the VM fd, NULL if not mapped */
};

#define VMCTL_MAX_VCPUS		8

struct vmctl_machine {
	const char *name;
	/*
	 * --backend kvm: the same machine on /dev/kvm (backend.c); @vmfd,
	 * @vcpufd and @ap_fd are unused, and @run and @ap_run are pages
	 * of vmctl's own that backend.c fills from, and completes into,
	 * KVM's struct kvm_run.
	 */
	bool kvm;
	int vmfd;
	int vcpufd;		/* vCPU 0, the boot processor */
	struct ringvm_run *run;
	/*
	 * --vcpus N: vCPUs 1..N-1 (the APs) wait for SIPI in the module and
	 * run on threads of their own (run.c).  With the in-kernel local
	 * APICs (@lapic, implied by N > 1) the machine also has an I/O
	 * APIC (dev_ioapic.c) and a MADT (acpi.c).  Devices are then
	 * reached from several threads: @lock serializes them.
	 */
	unsigned int nr_vcpus;
	unsigned int max_vcpus;	/* what the VM was made with */
	bool lapic;
	/* level EOIs exit (RINGVM_LAPIC_EOI_EXIT): the remote IRR works */
	bool eoi_exits;
	int ap_fd[VMCTL_MAX_VCPUS];
	struct ringvm_run *ap_run[VMCTL_MAX_VCPUS];
	pthread_mutex_t lock;
	unsigned int nr_ram;
	struct vmctl_ram ram[RINGVM_MAX_MEM_REGIONS];
	/* Set by a device (or the loop) to end the run with @status. */
	bool stop;
	int status;
	/*
	 * Set by a device whose next update time changed (a register
	 * write that starts a timer), or by the loop when console input
	 * arrived: every device's update() runs before the next entry.
	 */
	bool update_needed;
	__u64 next_update;	/* ns, CLOCK_MONOTONIC: the earliest asked */
	__u64 acpi_rsdp;	/* where acpi.c put the RSDP, 0 if nowhere */
};

#define VMCTL_NEVER	(~0ULL)

/* CLOCK_MONOTONIC in nanoseconds: the time base of every device. */
__u64 vmctl_now_ns(void);

/*
 * Console input (console.c): up to @max bytes the user typed, taken out
 * of the input buffer; 0 if none waits.  The UART pulls from it in its
 * update() while its receive FIFO has room; the loop sets
 * update_needed when more arrives.
 */
size_t vmctl_console_read(struct vmctl_machine *m, __u8 *buf, size_t max);

/* Console output: one byte the guest sent, to stdout. */
void vmctl_console_write(__u8 c);

/*
 * For the run loop: start reading stdin (raw terminal if it is one),
 * waking the loop through @wake_fd (an eventfd) and @kick_signal sent to
 * the calling thread; 0 or -errno.  stop() puts the terminal back.
 * arrived() says (once) that input came since the last call, pending()
 * that some waits for the UART to take it, quit()
 * that the user typed Ctrl-A x, first_output() when the guest's first
 * byte went out (ns, 0 if none did).
 */
int vmctl_console_start(int wake_fd, int kick_signal);
void vmctl_console_stop(void);
bool vmctl_console_arrived(void);
bool vmctl_console_pending(void);
bool vmctl_console_quit(void);
__u64 vmctl_console_first_output(void);

/*
 * The interrupt lines (dev_i8259.c): ISA IRQ 0-15 into the PIC pair,
 * IRQ 2 being the cascade.  A device drives its line: @level true while
 * it asks for service.  An edge-triggered line (the PC default; the
 * ELCR at 0x4d0-0x4d1 can make a line level-triggered) latches on the
 * rising edge, so a device that pulses calls it with true then false.
 */
void vmctl_irq_line(struct vmctl_machine *m, unsigned int irq, bool level);

/* Whether the PIC pair has an interrupt for the CPU (its INTR output). */
bool vmctl_pic_intr(struct vmctl_machine *m);

/*
 * The interrupt acknowledge cycle: the vector the CPU gets now (the
 * highest-priority request goes in service), or the spurious IRQ 7/15
 * vector if the request went away.  Only when vmctl_pic_intr().
 */
__u8 vmctl_pic_intack(struct vmctl_machine *m);

/*
 * Whether the PIC delivers ISA IRQ @irq (initialized, not masked), and
 * whether its last rising edge still waits in the IRR for the CPU to
 * take it: another edge now would merge with it.
 */
bool vmctl_pic_irq_enabled(struct vmctl_machine *m, unsigned int irq);
bool vmctl_pic_irq_waiting(struct vmctl_machine *m, unsigned int irq);

/*
 * The I/O APIC (dev_ioapic.c), with the in-kernel local APICs only: ISA
 * IRQ @irq's line (vmctl_irq_line() drives both interrupt controllers),
 * its MMIO page (true if @gpa was it), and its power-on state.
 */
void vmctl_ioapic_line(struct vmctl_machine *m, unsigned int irq, bool level);
bool vmctl_ioapic_mmio(struct vmctl_machine *m, __u64 gpa, bool write,
		       __u8 *data, unsigned int len);
void vmctl_ioapic_init(struct vmctl_machine *m);
void vmctl_ioapic_eoi(struct vmctl_machine *m, __u8 vector);

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

/*
 * memmap.c: the guest-physical memory map every loader reports (E820
 * for Linux, the multiboot mmap), sorted by address: RAM below 0x9fc00,
 * reserved 0x9fc00-0x9ffff (EBDA) and 0xe0000-0xfffff (the ACPI tables
 * and the BIOS area), the VM's RAM above 1 MiB.  The VGA and option
 * ROM hole 0xa0000-0xdffff is not listed.
 */
#define VMCTL_E820_RAM		1
#define VMCTL_E820_RESERVED	2

struct vmctl_mem_range {
	__u64 addr;
	__u64 size;
	__u32 type;		/* VMCTL_E820_* */
};

#define VMCTL_MAX_MEM_RANGES	(2 * RINGVM_MAX_MEM_REGIONS + 4)

/* Fills @r (VMCTL_MAX_MEM_RANGES entries); returns how many. */
unsigned int vmctl_memory_map(struct vmctl_machine *m,
			      struct vmctl_mem_range *r);

/*
 * How many bytes of RAM follow @gpa without a gap (0 if @gpa is not
 * RAM); the memory map's holes are not taken out.
 */
__u64 vmctl_ram_from(struct vmctl_machine *m, __u64 gpa);

/*
 * Kernel loaders (vmctl run --kernel): the files read whole, and the
 * options.  A loader's probe() says whether the image is its format;
 * load() puts kernel, initrd, command line and boot information in
 * guest RAM and sets vCPU 0's registers for the entry, or prints one
 * "vmctl: ..." line and returns VMCTL_EXIT_FAIL.  Checked in order:
 * multiboot first (an ELF kernel may also carry other headers), then
 * the Linux boot protocol.
 */
struct vmctl_kernel {
	const char *path;		/* for messages */
	const __u8 *image;
	size_t image_size;
	const char *initrd_path;	/* NULL: none */
	const __u8 *initrd;
	size_t initrd_size;
	const char *cmdline;		/* "" if none given */
};

struct vmctl_loader {
	const char *name;
	bool (*probe)(const struct vmctl_kernel *k);
	int (*load)(struct vmctl_machine *m, const struct vmctl_kernel *k);
};

extern const struct vmctl_loader vmctl_loader_multiboot; /* loader_multiboot.c */
extern const struct vmctl_loader vmctl_loader_linux;	 /* loader_linux.c */

/*
 * acpi.c: the ACPI tables (RSDP, RSDT, FADT, FACS, DSDT with \_S5) at
 * VMCTL_ACPI_BASE, describing dev_acpi.c's PM1a event and control
 * blocks, the PM timer and the reset register; the RSDP's address, or
 * 0 after printing why it could not.
 */
__u64 vmctl_acpi_setup(struct vmctl_machine *m);

/* cpuid.c: give the VM the host's CPUID, filtered.  0 or -errno. */
int vmctl_cpuid_setup(struct vmctl_machine *m);

/*
 * backend.c: what vmctl run asks of the hypervisor, to ringvm or (with
 * m->kvm) to KVM.  Each returns 0 or -errno.  @id is the vCPU's number.
 * vmctl_vcpu_run() leaves the exit in m->run (or
 * the AP's run page) in ringvm's layout, whichever the backend.
 */
int vmctl_get_regs(struct vmctl_machine *m, unsigned int id,
		   struct ringvm_regs *regs);
int vmctl_set_regs(struct vmctl_machine *m, unsigned int id,
		   const struct ringvm_regs *regs);
int vmctl_get_sregs(struct vmctl_machine *m, unsigned int id,
		    struct ringvm_sregs *sregs);
int vmctl_set_sregs(struct vmctl_machine *m, unsigned int id,
		    const struct ringvm_sregs *sregs);
int vmctl_set_cpuid(struct vmctl_machine *m, const struct ringvm_cpuid *t);
int vmctl_interrupt(struct vmctl_machine *m, __u8 vector);
int vmctl_vcpu_run(struct vmctl_machine *m, unsigned int id);
/* A message-signalled interrupt to the local APICs: how many it reached. */
int vmctl_signal_msi(struct vmctl_machine *m, __u64 address, __u32 data);

/*
 * --backend kvm: make the VM with @ram_size bytes of RAM at 0, then
 * @n vCPUs with their run pages (@lapic: with KVM's local APICs); or
 * VMCTL_EXIT_FAIL after saying why.  vmctl_kvm_close() undoes what was
 * made.
 */
int vmctl_kvm_open(struct vmctl_machine *m, __u64 ram_size);
int vmctl_kvm_create_vcpus(struct vmctl_machine *m, unsigned int n,
			   bool lapic);
void vmctl_kvm_close(struct vmctl_machine *m);

/* The most RAM --backend kvm gives, below KVM's TSS at 0xfffbd000. */
#define VMCTL_KVM_MAX_RAM	(3ULL << 30)

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
	/*
	 * Optional, for devices with time or input: bring the device up
	 * to @now (fire its timers, take console input, drive its IRQ
	 * line) and return the next time it must be called, or
	 * VMCTL_NEVER.  The loop calls every update() before an entry
	 * once the earliest time asked has come or update_needed is set,
	 * and while the guest halts it sleeps until then.
	 */
	__u64 (*update)(struct vmctl_machine *m, __u64 now);
	/* Optional: back to the power-on state (a reset with --reboot). */
	void (*reset)(struct vmctl_machine *m);
};

#define VMCTL_DEV(name) extern const struct vmctl_io_dev vmctl_dev_##name;
#include "devices.h"
#undef VMCTL_DEV

#endif /* _VMCTL_MACHINE_H */
