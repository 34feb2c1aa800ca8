/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ringvm: the /dev/ringvm ioctl ABI.
 *
 * Rules every struct here follows (see uapi/README.md):
 *  - only __u8..__u64, naturally aligned, explicit padding;
 *  - a "flags" field whose unknown bits are rejected with -EINVAL;
 *  - reserved fields that must be zero on input (-EINVAL otherwise);
 *  - a static size, asserted in the module, encoded in the ioctl number.
 * Capabilities are queried, never inferred from the API version.
 */
#ifndef _UAPI_LINUX_RINGVM_H
#define _UAPI_LINUX_RINGVM_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define RINGVM_DEV_NAME		"ringvm"

/* Bumped only on an incompatible change; growth is announced by caps. */
#define RINGVM_API_VERSION	1

/* 0xB9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define RINGVMIO		0xB9

/* Virtualization technology the module drives. */
enum ringvm_arch {
	RINGVM_ARCH_NONE = 0,
	RINGVM_ARCH_VMX = 1,	/* Intel VT-x */
	RINGVM_ARCH_SVM = 2,	/* AMD-V (SVM) */
};

/* struct ringvm_caps.features */
#define RINGVM_FEAT_NESTED_PAGING	_BITULL(0)  /* EPT or NPT */
#define RINGVM_FEAT_UNRESTRICTED_GUEST	_BITULL(1)  /* real / unpaged guest */
#define RINGVM_FEAT_TAGGED_TLB		_BITULL(2)  /* VPID or ASID */
#define RINGVM_FEAT_NRIP_SAVE		_BITULL(3)  /* SVM next-RIP on exit */
#define RINGVM_FEAT_DECODE_ASSISTS	_BITULL(4)  /* SVM decode assists */
#define RINGVM_FEAT_VGIF		_BITULL(5)  /* SVM virtual GIF */
#define RINGVM_FEAT_NP_AD_BITS		_BITULL(6)  /* nested A/D bits */
#define RINGVM_FEAT_FLUSH_BY_TAG	_BITULL(7)  /* flush one ASID/EPTP */
#define RINGVM_FEAT_VMCB_CLEAN		_BITULL(8)  /* SVM VMCB clean bits */
#define RINGVM_FEAT_TSC_SCALING		_BITULL(9)
#define RINGVM_FEAT_PAUSE_FILTER	_BITULL(10) /* PLE / pause filter */
#define RINGVM_FEAT_PREEMPTION_TIMER	_BITULL(11) /* VMX preemption timer */
#define RINGVM_FEAT_VIRT_APIC		_BITULL(12) /* APICv / AVIC present */
#define RINGVM_FEAT_LAPIC		_BITULL(13) /* RINGVM_ENABLE_LAPIC */
#define RINGVM_FEAT_LARGE_PAGES		_BITULL(14) /* RINGVM_VM_LARGE_PAGES */
#define RINGVM_FEAT_EOI_EXIT		_BITULL(15) /* RINGVM_LAPIC_EOI_EXIT */

/*
 * RINGVM_GET_CAPS: what the hardware and the module offer.
 *
 * In:  flags and reserved[] must be zero; the other fields are ignored.
 * Out: every field below flags.
 */
struct ringvm_caps {
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 arch;		/* enum ringvm_arch */
	__u64 features;		/* RINGVM_FEAT_* */
	__u64 page_sizes;	/* nested page sizes: bit n = 2^n bytes */
	__u32 nr_asids;		/* usable VPIDs / ASIDs, 0 if untagged */
	__u32 hw_revision;	/* VMCS revision id / SVM revision */
	__u32 nr_cpus_enabled;	/* CPUs with VMX/SVM turned on right now */
	__u32 tsc_khz;		/* guests' TSC frequency, kHz (the host's) */
	__u64 reserved[6];	/* must be 0 */
};

/* Limits built into the ABI (module parameters may lower the others). */
#define RINGVM_NAME_MAX		32	/* VM name, NUL included */
#define RINGVM_MAX_MEM_REGIONS	8
#define RINGVM_MAX_CPUID_ENTRIES 64
#define RINGVM_MAX_MSR_ENTRIES	32

/*
 * A range of guest-physical RAM.  gpa and size are multiples of 4 KiB,
 * size is not 0, regions of one VM do not overlap, and the region lies
 * below 2^(host MAXPHYADDR): gpa + size <= 2^MAXPHYADDR.  A guest access
 * outside every region is MMIO: it exits to user space.
 */
struct ringvm_mem_region {
	__u64 gpa;
	__u64 size;
};

/*
 * RINGVM_CREATE_VM: create a VM and return a file descriptor for it.
 *
 * The VM is anonymous: it has an id and a name ("anon-ID" when name is
 * empty) and shows in vm-get, but it is destroyed when the last file
 * descriptor for it (VM or vCPU) is closed.  Named, persistent VMs are
 * created over netlink (vm-new).
 *
 * RINGVM_VM_LARGE_PAGES (where caps.features has RINGVM_FEAT_LARGE_PAGES,
 * else EOPNOTSUPP): a first touch of a 2 MiB-aligned block of RAM that
 * lies wholly inside one region, and of which no page exists yet,
 * allocates the whole block at once and maps it with one 2 MiB nested
 * page.  The guest then takes one nested fault per block instead of 512
 * and its TLB holds 2 MiB translations; the price is that one byte
 * touched allocates 2 MiB.  Anything else (a block partly allocated, say
 * by the VMM's writes through mmap, or no 2 MiB of contiguous host
 * memory free) falls back to 4 KiB pages.  To user space the memory
 * stays 4 KiB pages: mmap, mem_allocated and the region rules are the
 * same.
 */
#define RINGVM_VM_LARGE_PAGES	_BITUL(0)
struct ringvm_create_vm {
	__u32 flags;		/* RINGVM_VM_* */
	__u32 nr_regions;	/* 1..RINGVM_MAX_MEM_REGIONS */
	__u32 max_vcpus;	/* 0 = 1; at most the max_vcpus parameter */
	__u32 pad;		/* must be 0 */
	char name[RINGVM_NAME_MAX];	/* NUL-terminated; "" = anon-ID */
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS];
	__u64 reserved[4];	/* must be 0 */
};

/*
 * RINGVM_OPEN_VM: open an existing VM by id or by name (exactly one of
 * the two: id != 0 or name[0] != 0) and return a file descriptor.
 */
struct ringvm_open_vm {
	__u32 flags;		/* none defined, must be 0 */
	__u32 id;
	char name[RINGVM_NAME_MAX];
	__u64 reserved[2];	/* must be 0 */
};

/* RINGVM_GET_VM_INFO (VM fd): what the VM is. */
#define RINGVM_VM_INFO_ANONYMOUS	_BITUL(0)
#define RINGVM_VM_INFO_DESTROYED	_BITUL(1)
#define RINGVM_VM_INFO_LARGE_PAGES	_BITUL(2)	/* RINGVM_VM_LARGE_PAGES */
struct ringvm_vm_info {
	__u32 id;
	__u32 flags;		/* out: RINGVM_VM_INFO_*; in: must be 0 */
	__u32 nr_regions;
	__u32 max_vcpus;
	__u32 nr_vcpus;		/* vCPUs created so far */
	__u32 pad;
	__u64 mem_allocated;	/* bytes of guest RAM allocated so far */
	char name[RINGVM_NAME_MAX];
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS];
	__u64 reserved[4];
};

/*
 * RINGVM_SET_CPUID (VM fd): the table CPUID answers from.  A leaf not in
 * the table reads as zeros.  The module always answers the hypervisor
 * leaves 0x40000000 (max leaf in EAX, signature "ringvm" in EBX ECX EDX
 * padded with NULs), 0x40000001 (RINGVM_PV_FEAT_* in EAX) and 0x40000010
 * (RINGVM_CPUID_LEAF_TIMING), and in leaf
 * 1 sets ECX bit 31 (hypervisor), ECX bit 27 (OSXSAVE) from the guest's
 * CR4 and the initial APIC id in EBX[31:24] from the vCPU id.
 */
#define RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX	_BITUL(0)
struct ringvm_cpuid_entry {
	__u32 function;
	__u32 index;		/* subleaf, when SIGNIFICANT_INDEX */
	__u32 flags;		/* RINGVM_CPUID_FLAG_* */
	__u32 eax;
	__u32 ebx;
	__u32 ecx;
	__u32 edx;
	__u32 pad;		/* must be 0 */
};

struct ringvm_cpuid {
	__u32 nent;		/* 0..RINGVM_MAX_CPUID_ENTRIES */
	__u32 flags;		/* none defined, must be 0 */
	struct ringvm_cpuid_entry entries[RINGVM_MAX_CPUID_ENTRIES];
};

#define RINGVM_CPUID_SIGNATURE		"ringvm\0\0\0\0\0"	/* 12 bytes */
#define RINGVM_CPUID_LEAF_SIGNATURE	0x40000000
#define RINGVM_CPUID_LEAF_FEATURES	0x40000001
#define RINGVM_PV_FEAT_HYPERCALL	_BITUL(0)	/* the ABI below */
/*
 * Leaf 0x40000010, as VMware and KVM lay it out: EAX the TSC frequency in
 * kHz (every vCPU of a VM reads one TSC, which runs at the host's rate
 * from 0 at VM creation, also while no vCPU runs), EBX the local APIC
 * timer frequency in kHz (0: no in-kernel APIC yet).
 */
#define RINGVM_CPUID_LEAF_TIMING	0x40000010

/*
 * Hypercalls: VMCALL (Intel) or VMMCALL (AMD) with the number in RAX and
 * arguments in RBX, RCX, RDX, RSI; the result comes back in RAX.  Calls
 * from CPL > 0 return RINGVM_HC_EPERM without leaving the kernel.  The
 * module handles the numbers below; every other number exits to user
 * space (RINGVM_EXIT_HYPERCALL), whose ret field becomes RAX.
 */
#define RINGVM_HC_NOP		0	/* returns 0 */
#define RINGVM_HC_API_VERSION	1	/* returns RINGVM_API_VERSION */
#define RINGVM_HC_VCPU_ID	2	/* returns the calling vCPU's id */
#define RINGVM_HC_EPERM		((__u64)-1)

/* RINGVM_ENABLE (VM fd): turn on an optional behaviour. */
enum ringvm_enable_cap {
	/* MSRs the module does not handle exit to user space instead of #GP */
	RINGVM_ENABLE_MSR_EXIT = 1,
	/* an ACPI PM timer at port args[0] (0: none), read in the kernel */
	RINGVM_ENABLE_PM_TIMER = 2,
	/*
	 * A local APIC per vCPU, in the module (uapi/README.md "Local
	 * APIC"); only before the first vCPU, never undone.  args[0]:
	 * RINGVM_LAPIC_* flags, the other args 0.
	 */
	RINGVM_ENABLE_LAPIC = 3,
};

/*
 * RINGVM_ENABLE_LAPIC's args[0]: the EOI of a level-triggered vector
 * (its TMR bit set) ends the RUN with RINGVM_EXIT_EOI, for an I/O APIC
 * in user space (its remote IRR).
 */
#define RINGVM_LAPIC_EOI_EXIT		_BITULL(0)
#define RINGVM_LAPIC_FLAGS		RINGVM_LAPIC_EOI_EXIT

/* The ACPI PM timer's rate (ACPI 6.5 §4.8.3.3): 3.579545 MHz, 24 bits. */
#define RINGVM_PM_TIMER_HZ	3579545
#define RINGVM_PM_TIMER_MASK	0xffffff

struct ringvm_enable {
	__u32 cap;		/* enum ringvm_enable_cap */
	__u32 flags;		/* none defined, must be 0 */
	__u64 args[4];		/* per cap; must be 0 where unused */
};

/* General-purpose registers, RIP and RFLAGS. */
struct ringvm_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/* A segment register with its hidden part, as the VMCS/VMCB hold it. */
struct ringvm_segment {
	__u64 base;
	__u32 limit;		/* byte granular: the expanded limit */
	__u16 selector;
	__u8 type;		/* 4-bit type field */
	__u8 present;
	__u8 dpl;
	__u8 db;
	__u8 s;
	__u8 l;
	__u8 g;
	__u8 avl;
	__u8 unusable;		/* VMX "unusable" / a null selector loaded */
	__u8 pad;		/* must be 0 */
};

struct ringvm_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];		/* must be 0 */
};

/* Segment, descriptor-table and control registers, and EFER. */
struct ringvm_sregs {
	struct ringvm_segment cs, ds, es, fs, gs, ss;
	struct ringvm_segment tr, ldt;
	struct ringvm_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 reserved[4];	/* must be 0 */
};

struct ringvm_debugregs {
	__u64 db[4];
	__u64 dr6;
	__u64 dr7;
	__u64 flags;		/* none defined, must be 0 */
	__u64 reserved[9];	/* must be 0 */
};

/*
 * RINGVM_GET_MSRS / RINGVM_SET_MSRS: the MSRs a guest may own.  Entries
 * are processed in order; the ioctl returns how many were, stopping at
 * the first MSR the module does not hold (or, for SET, the first value
 * the guest could not have written either).
 */
struct ringvm_msr_entry {
	__u32 index;
	__u32 reserved;		/* must be 0 */
	__u64 data;
};

struct ringvm_msrs {
	__u32 nmsrs;		/* 0..RINGVM_MAX_MSR_ENTRIES */
	__u32 pad;		/* must be 0 */
	struct ringvm_msr_entry entries[RINGVM_MAX_MSR_ENTRIES];
};

/*
 * RINGVM_GET_XSAVE / RINGVM_SET_XSAVE: x87, SSE, AVX and AVX-512 state in
 * the standard (non-compacted) XSAVE layout, Intel SDM Vol. 1 §13.4.
 * SET checks XSTATE_BV against the supported components, XCOMP_BV == 0,
 * the reserved header bytes and MXCSR's reserved bits.
 */
struct ringvm_xsave {
	__u32 region[1024];
};

/* RINGVM_GET_XCRS / RINGVM_SET_XCRS: XCR0 only for now. */
struct ringvm_xcrs {
	__u64 xcr0;
	__u64 reserved[3];	/* must be 0 */
};

/*
 * RINGVM_GET_EVENTS / RINGVM_SET_EVENTS: the events a vCPU owes its guest
 * and what blocks them, so that a save and restore loses nothing.
 * injected: the event the next entry delivers through the guest IDT (an
 * exception user space or the module raised, or an event whose delivery
 * an exit cut short).  irq/nmi: RINGVM_INTERRUPT / RINGVM_NMI accepted
 * and waiting until the guest can take them.
 */
#define RINGVM_EVENT_TYPE_INTR		0	/* external interrupt */
#define RINGVM_EVENT_TYPE_NMI		2
#define RINGVM_EVENT_TYPE_EXCEPTION	3	/* hardware exception */
#define RINGVM_EVENT_TYPE_SOFT_INTR	4	/* INT n (VMX only) */
#define RINGVM_EVENT_TYPE_PRIV_SOFT_EXC	5	/* INT1 (VMX only) */
#define RINGVM_EVENT_TYPE_SOFT_EXC	6	/* INT3, INTO (VMX only) */

#define RINGVM_SHADOW_STI	(1U << 0)	/* after STI */
#define RINGVM_SHADOW_MOV_SS	(1U << 1)	/* after MOV SS / POP SS */

struct ringvm_events {
	struct {
		__u8 valid;
		__u8 type;		/* RINGVM_EVENT_TYPE_* */
		__u8 vector;
		__u8 has_error_code;
		__u32 error_code;
		__u8 insn_len;		/* soft types: the INT's length */
		__u8 pad[7];
	} injected;
	__u8 irq_pending;
	__u8 irq_vector;		/* 32-255 */
	__u8 nmi_pending;
	__u8 nmi_masked;		/* the guest is in its NMI handler */
	__u32 shadow;			/* RINGVM_SHADOW_* */
	__u32 flags;			/* none defined, must be 0 */
	__u32 pad;
	__u64 reserved[4];		/* must be 0 */
};

/* RINGVM_INTERRUPT */
struct ringvm_interrupt {
	__u32 vector;			/* 32-255 */
	__u32 flags;			/* none defined, must be 0 */
};

/*
 * The run page: the vCPU file descriptor's mmap at offset 0, one page,
 * shared with the kernel.  RINGVM_RUN fills in the exit; before the next
 * RINGVM_RUN user space completes it (data for an IN, an MMIO read, an
 * MSR read; ret for a hypercall; error for an MSR access).
 */
enum ringvm_exit_reason {
	RINGVM_EXIT_UNKNOWN = 0,	/* hw.* holds an exit ringvm doesn't handle */
	RINGVM_EXIT_IO = 1,
	RINGVM_EXIT_MMIO = 2,
	RINGVM_EXIT_HLT = 3,
	RINGVM_EXIT_HYPERCALL = 4,
	RINGVM_EXIT_MSR = 5,
	RINGVM_EXIT_SHUTDOWN = 6,	/* triple fault or shutdown */
	RINGVM_EXIT_FAIL_ENTRY = 7,	/* the hardware refused the guest state */
	RINGVM_EXIT_INTR = 8,		/* a signal is pending */
	RINGVM_EXIT_EMULATION = 9,	/* an MMIO instruction not decoded */
	RINGVM_EXIT_DESTROYED = 10,	/* the VM was destroyed */
	RINGVM_EXIT_INTERNAL_ERROR = 11,/* guest state ringvm can't handle */
	RINGVM_EXIT_IRQ_WINDOW = 12,	/* asked for: an interrupt can go in */
	RINGVM_EXIT_NMI_WINDOW = 13,	/* asked for: an NMI can go in */
	RINGVM_EXIT_EOI = 14,		/* a level-triggered vector's EOI */
};

/* run->flags, set by user space before RINGVM_RUN */
#define RINGVM_RUN_IRQ_WINDOW	(1U << 0)  /* exit when an IRQ can go in */
#define RINGVM_RUN_NMI_WINDOW	(1U << 1)  /* exit when an NMI can go in */
#define RINGVM_RUN_FLAGS	(RINGVM_RUN_IRQ_WINDOW | RINGVM_RUN_NMI_WINDOW)

/* Raw vendor information about the exit, filled for every exit. */
struct ringvm_exit_hw {
	__u32 arch;		/* enum ringvm_arch */
	__u32 reason;		/* VMX basic exit reason / SVM exit code (low) */
	__u64 qualification;	/* VMX exit qualification / SVM EXITINFO1 */
	__u64 info1;		/* VMX interruption info / SVM EXITINFO2 */
	__u64 info2;		/* VMX instruction error / SVM EXITINTINFO */
	__u64 gpa;		/* guest-physical address where relevant */
};

#define RINGVM_IO_IN		0
#define RINGVM_IO_OUT		1
#define RINGVM_RUN_DATA_OFFSET	1024	/* io data lives at run + this */

struct ringvm_run {
	/* in */
	__u32 flags;		/* RINGVM_RUN_* */
	__u32 pad0;
	/* out */
	__u32 exit_reason;	/* enum ringvm_exit_reason */
	__u8 ready_for_interrupt; /* RINGVM_INTERRUPT now goes in at once */
	__u8 if_flag;		/* guest RFLAGS.IF */
	__u16 pad1;
	__u64 rip;		/* guest RIP at the exit (after the insn for IO) */
	struct ringvm_exit_hw hw;
	union {
		/* RINGVM_EXIT_IO: count items of size bytes at data_offset */
		struct {
			__u8 direction;		/* RINGVM_IO_IN / _OUT */
			__u8 size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;		/* always 1 today */
			__u64 data_offset;	/* from the start of the run page */
		} io;
		/* RINGVM_EXIT_MMIO: for a read, fill data before RUN */
		struct {
			__u64 gpa;
			__u8 data[8];
			__u32 len;		/* 1, 2, 4 or 8 */
			__u8 is_write;
			__u8 pad[3];
		} mmio;
		/* RINGVM_EXIT_HYPERCALL: set ret before RUN */
		struct {
			__u64 nr;
			__u64 args[4];		/* RBX, RCX, RDX, RSI */
			__u64 ret;
		} hypercall;
		/* RINGVM_EXIT_MSR: for a read set data; error=1 injects #GP */
		struct {
			__u32 index;
			__u8 is_write;
			__u8 error;
			__u8 pad[2];
			__u64 data;
		} msr;
		/* RINGVM_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 pad;
		} fail_entry;
		/* RINGVM_EXIT_EMULATION: the bytes the decoder refused */
		struct {
			__u64 gpa;
			__u8 insn_len;
			__u8 insn[15];
		} emulation;
		/*
		 * RINGVM_EXIT_EOI: the guest ended @vector (TMR set) with an
		 * EOI; RIP is past the instruction that wrote it
		 */
		struct {
			__u8 vector;
			__u8 pad[7];
		} eoi;
		/* RINGVM_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;		/* RINGVM_INTERNAL_ERR_* */
			__u32 pad;
			__u64 data[4];
		} internal;
		__u8 padding[256];
	};
	__u64 reserved[8];
};

#define RINGVM_INTERNAL_ERR_UNEXPECTED_EXIT	1  /* hw.* says which */
#define RINGVM_INTERNAL_ERR_INSN_FETCH		2  /* RIP not in guest RAM */
#define RINGVM_INTERNAL_ERR_MEMORY		3  /* guest page allocation */
/* MMIO met by event delivery or the guest's page walk; data[0]: GPA */
#define RINGVM_INTERNAL_ERR_NO_INSN		4

/*
 * The local APIC as state (RINGVM_GET_LAPIC / RINGVM_SET_LAPIC): the
 * xAPIC register page's first 1 KiB, each register's 32 bits at its
 * offset (0x20 ID ... 0x3e0 divide configuration), in both modes; the
 * x2APIC ICR's destination is in the ICR2 slot (0x310).  timer_ns: the
 * time until a one-shot or periodic count reaches 0 (0: not counting).
 */
#define RINGVM_LAPIC_REGS_SIZE	1024
struct ringvm_lapic_state {
	__u32 flags;		/* none defined, must be 0 */
	__u32 pad;		/* must be 0 */
	__u64 apic_base;	/* IA32_APIC_BASE */
	__u64 tsc_deadline;	/* IA32_TSC_DEADLINE, 0 when not armed */
	__u64 timer_ns;
	__u64 reserved[4];	/* must be 0 */
	__u8 regs[RINGVM_LAPIC_REGS_SIZE];
};

/* A vCPU's multiprocessor state (RINGVM_GET/SET_MP_STATE). */
enum ringvm_mp_state_value {
	RINGVM_MP_RUNNABLE = 0,
	RINGVM_MP_HALTED = 1,		/* HLT, until an interrupt */
	RINGVM_MP_INIT_RECEIVED = 2,	/* an INIT: reset, then wait */
	RINGVM_MP_WAIT_SIPI = 3,	/* wait-for-SIPI */
};

struct ringvm_mp_state {
	__u32 state;		/* enum ringvm_mp_state_value */
	__u32 flags;		/* none defined, must be 0 */
};

/*
 * RINGVM_SIGNAL_MSI (VM fd): a message-signalled interrupt to the VM's
 * local APICs, as a device or an I/O APIC writes it (SDM Vol. 3A
 * §10.11): address 0xFEExxxxx with the destination in bits 19:12 and
 * bit 2 for logical destination; data with the vector in bits 7:0, the
 * delivery mode in 10:8 and the trigger mode in bit 15.  Returns the
 * number of vCPUs it reached.
 */
struct ringvm_msi {
	__u64 address;
	__u32 data;
	__u32 flags;		/* none defined, must be 0 */
	__u64 reserved[2];	/* must be 0 */
};

/*
 * ioctls on /dev/ringvm.  Each is documented in uapi/README.md with its
 * capability, parameters, return value and errors.
 */
/* Returns RINGVM_API_VERSION; the argument must be 0. */
#define RINGVM_GET_API_VERSION	_IO(RINGVMIO, 0x00)
#define RINGVM_GET_CAPS		_IOWR(RINGVMIO, 0x01, struct ringvm_caps)
/* Return a new file descriptor (O_RDWR | O_CLOEXEC). */
#define RINGVM_CREATE_VM	_IOW(RINGVMIO, 0x02, struct ringvm_create_vm)
#define RINGVM_OPEN_VM		_IOW(RINGVMIO, 0x03, struct ringvm_open_vm)

/*
 * ioctls on a VM file descriptor.  mmap of the VM descriptor maps guest
 * RAM: the file offset is the guest-physical address, and the whole
 * mapping must lie inside one region (MAP_SHARED only).
 */
/* The argument is the vCPU id, 0..max_vcpus-1; returns a vCPU fd. */
#define RINGVM_CREATE_VCPU	_IO(RINGVMIO, 0x10)
#define RINGVM_SET_CPUID	_IOW(RINGVMIO, 0x11, struct ringvm_cpuid)
#define RINGVM_GET_VM_INFO	_IOWR(RINGVMIO, 0x12, struct ringvm_vm_info)
#define RINGVM_ENABLE		_IOW(RINGVMIO, 0x13, struct ringvm_enable)
#define RINGVM_SIGNAL_MSI	_IOW(RINGVMIO, 0x14, struct ringvm_msi)

/* ioctls on a vCPU file descriptor; mmap at offset 0 maps struct ringvm_run. */
#define RINGVM_RUN		_IO(RINGVMIO, 0x20)	/* argument must be 0 */
#define RINGVM_GET_REGS		_IOR(RINGVMIO, 0x21, struct ringvm_regs)
#define RINGVM_SET_REGS		_IOW(RINGVMIO, 0x22, struct ringvm_regs)
#define RINGVM_GET_SREGS	_IOR(RINGVMIO, 0x23, struct ringvm_sregs)
#define RINGVM_SET_SREGS	_IOW(RINGVMIO, 0x24, struct ringvm_sregs)
#define RINGVM_GET_DEBUGREGS	_IOR(RINGVMIO, 0x25, struct ringvm_debugregs)
#define RINGVM_SET_DEBUGREGS	_IOW(RINGVMIO, 0x26, struct ringvm_debugregs)
#define RINGVM_GET_MSRS		_IOWR(RINGVMIO, 0x27, struct ringvm_msrs)
#define RINGVM_SET_MSRS		_IOW(RINGVMIO, 0x28, struct ringvm_msrs)
#define RINGVM_GET_XSAVE	_IOR(RINGVMIO, 0x29, struct ringvm_xsave)
#define RINGVM_SET_XSAVE	_IOW(RINGVMIO, 0x2a, struct ringvm_xsave)
#define RINGVM_GET_XCRS		_IOR(RINGVMIO, 0x2b, struct ringvm_xcrs)
#define RINGVM_SET_XCRS		_IOW(RINGVMIO, 0x2c, struct ringvm_xcrs)
#define RINGVM_INTERRUPT	_IOW(RINGVMIO, 0x2d, struct ringvm_interrupt)
#define RINGVM_NMI		_IO(RINGVMIO, 0x2e)	/* argument must be 0 */
#define RINGVM_GET_EVENTS	_IOR(RINGVMIO, 0x2f, struct ringvm_events)
#define RINGVM_SET_EVENTS	_IOW(RINGVMIO, 0x30, struct ringvm_events)
#define RINGVM_GET_LAPIC	_IOR(RINGVMIO, 0x31, struct ringvm_lapic_state)
#define RINGVM_SET_LAPIC	_IOW(RINGVMIO, 0x32, struct ringvm_lapic_state)
#define RINGVM_GET_MP_STATE	_IOR(RINGVMIO, 0x33, struct ringvm_mp_state)
#define RINGVM_SET_MP_STATE	_IOW(RINGVMIO, 0x34, struct ringvm_mp_state)

#endif /* _UAPI_LINUX_RINGVM_H */
