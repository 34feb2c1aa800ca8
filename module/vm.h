/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMs and vCPUs: the objects the core and both backends share.
 *
 *  1. struct ringvm_npt   - the nested page tables of one VM (ept/)
 *  2. struct ringvm_vm    - a VM: name, guest RAM, vCPUs, CPUID table
 *  3. struct ringvm_vcpu  - a vCPU: registers, run page, exit
 *  4. the core's entry points for VMs, vCPUs and the run loop
 *
 * Legend for the field tags:
 *   (c)  set at creation, constant afterwards, read without a lock
 *   [t]  ringvm_vm_lock, the module-wide table of VMs
 *   [m]  vm->lock
 *   [p]  vm->npt.lock (a spinlock: table updates only)
 *   [v]  vcpu->mutex: held by every vCPU ioctl, RINGVM_RUN included
 *   (a)  atomic or READ_ONCE/WRITE_ONCE
 *   (s)  a statistic: written only by the thread in RINGVM_RUN, with
 *        plain stores (no lock, no atomic), read with READ_ONCE by
 *        vcpu-stats-get under vm->lock (stats.c)
 */
#ifndef RINGVM_VM_H
#define RINGVM_VM_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcuwait.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>
#include <asm/msr-index.h>
#include <asm/page.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "emulate.h"
#include "ringvm.h"

struct mem_cgroup;
struct page;

/* Access rights of a nested mapping. */
#define RINGVM_NPT_READ		BIT(0)
#define RINGVM_NPT_WRITE	BIT(1)
#define RINGVM_NPT_EXEC		BIT(2)
#define RINGVM_NPT_RWX		(RINGVM_NPT_READ | RINGVM_NPT_WRITE | \
				 RINGVM_NPT_EXEC)

/*
 * One format of nested page table entry: EPT (Intel SDM Vol. 3C §29.3.2)
 * or NPT (AMD APM Vol. 2 §15.25.5, ordinary long-mode entries).  Both are
 * 4-level radix trees of 512 entries; only the bits differ.
 */
struct ringvm_npt_ops {
	const char *name;
	u64 (*table_entry)(phys_addr_t table);	/* points at the next level */
	u64 (*leaf_entry)(phys_addr_t page, unsigned int prot, int level);
	bool (*present)(u64 entry);
	bool (*large)(u64 entry, int level);	/* leaf above level 1 */
	phys_addr_t (*addr)(u64 entry);
};

/* Nested page tables of one VM (module/ept/npt.c). */
struct ringvm_npt {
	const struct ringvm_npt_ops *ops;	/* (c) */
	spinlock_t lock;
	u64 *root;				/* (c) level-4 table */
	phys_addr_t root_pa;			/* (c) */
};

int ringvm_npt_init(struct ringvm_npt *npt, const struct ringvm_npt_ops *ops);
void ringvm_npt_destroy(struct ringvm_npt *npt);
/* Zeroed table pages a vCPU keeps for its next nested fault (npt.c). */
#define RINGVM_NPT_CACHE	3	/* a table for each level below the root */
struct ringvm_npt_cache {
	unsigned int nr;
	u64 *pages[RINGVM_NPT_CACHE];
};

int ringvm_npt_cache_fill(struct ringvm_npt_cache *cache, gfp_t gfp);
void ringvm_npt_cache_free(struct ringvm_npt_cache *cache);
int ringvm_npt_map(struct ringvm_npt *npt, struct ringvm_npt_cache *cache,
		   u64 gpa, phys_addr_t pa, unsigned int prot, int level);

extern const struct ringvm_npt_ops ringvm_ept_ops;
extern const struct ringvm_npt_ops ringvm_npt_amd_ops;

/* A VM's CPUID table, replaced as a whole by RINGVM_SET_CPUID. */
struct ringvm_cpuid_table {
	struct rcu_head rcu;
	u32 nent;
	struct ringvm_cpuid_entry entries[];
};

/*
 * A VM.  Referenced by its entry in the table of named VMs (until
 * vm-del), by every open VM or vCPU file and by every vCPU; freed by
 * ringvm_vm_put() with the last reference.
 */
struct ringvm_vm {
	struct kref ref;
	atomic_t nr_files;			/* VM and vCPU files */
	u32 id;					/* (c) */
	bool anonymous;				/* (c) */
	char name[RINGVM_NAME_MAX];		/* (c) */
	kuid_t owner;				/* (c) creator's euid */
	struct list_head link;			/* [t] ringvm_vms */
	bool destroyed;				/* (a) set once by destroy */

	/* Guest RAM. */
	u32 nr_regions;				/* (c) */
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS]; /* (c) */
	/*
	 * gfn -> struct page, (a).  A page stays until the VM is freed:
	 * nothing takes one out before, so a vCPU may remember one
	 * (struct ringvm_page_cache).
	 */
	struct xarray pages;
	atomic_long_t nr_pages;			/* pages allocated */
	struct mem_cgroup *memcg;		/* (c) charged for guest RAM */
	bool large_pages;			/* (c) RINGVM_VM_LARGE_PAGES */
	struct ringvm_npt npt;

	struct mutex lock;			/* vcpus[], cpuid */
	u32 max_vcpus;				/* (c) */
	u32 nr_vcpus;				/* [m] */
	struct ringvm_vcpu **vcpus;		/* [m] written, (a) read */
	struct ringvm_cpuid_table __rcu *cpuid;	/* [m] written, RCU read */
	bool msr_exit;				/* [m] RINGVM_ENABLE_MSR_EXIT */
	u16 pm_timer_port;			/* [m] RINGVM_ENABLE_PM_TIMER */
	bool lapic;				/* [m] RINGVM_ENABLE_LAPIC */
	bool eoi_exit;				/* [m] RINGVM_LAPIC_EOI_EXIT */
	/*
	 * The guest TSC is the host's plus this, for every vCPU: 0 at
	 * creation.  A write of IA32_TSC by any vCPU (or SET_MSRS) moves
	 * it for all; the others pick it up at their next load.
	 */
	s64 tsc_offset;				/* (a) */
};

/* A completion the next RINGVM_RUN owes the guest (vcpu->pending). */
enum ringvm_pending {
	RINGVM_PENDING_NONE,
	RINGVM_PENDING_IO_IN,		/* copy run data into RAX / memory */
	RINGVM_PENDING_MMIO_READ,	/* write run->mmio.data to a GPR */
	RINGVM_PENDING_MSR_READ,	/* EDX:EAX from run->msr.data or #GP */
	RINGVM_PENDING_MSR_WRITE,	/* #GP if run->msr.error */
	RINGVM_PENDING_HYPERCALL,	/* RAX from run->hypercall.ret */
};

/* What kind of event vcpu->event is (the VMX interruption types). */
enum ringvm_event_type {
	RINGVM_EVENT_INTR,		/* external interrupt */
	RINGVM_EVENT_NMI = 2,
	RINGVM_EVENT_EXCEPTION,		/* hardware exception */
	RINGVM_EVENT_SOFT_INTR,		/* INT n */
	RINGVM_EVENT_PRIV_SOFT_EXCEPTION, /* INT1 (ICEBP) */
	RINGVM_EVENT_SOFT_EXCEPTION,	/* INT3, INTO */
};

/*
 * The event the next entry delivers through the guest IDT (event.c).
 * @insn_len: for software events, the length of the instruction.
 */
struct ringvm_event {
	bool valid;
	u8 type;			/* enum ringvm_event_type */
	u8 vector;
	bool has_error;
	u8 insn_len;
	u32 error_code;
};

/* vcpu->mode: whether the vCPU may be in guest mode on vcpu->cpu. */
enum ringvm_vcpu_mode {
	RINGVM_OUTSIDE_GUEST,
	RINGVM_IN_GUEST,
};

/*
 * Guest pages a vCPU read lately, for the page walk and the instruction
 * fetch on its exit path (ringvm_vcpu_read_guest()): without it each of
 * the five reads of a fetch in long mode is an xarray lookup.  One slot
 * per use, so that the pages of one walk never evict each other: slot 0
 * for the bytes read at the end, slots 1-4 for the page table of that
 * paging level.  A NULL page is an empty slot.  Only the vCPU's own
 * thread uses it, so it needs no lock.
 */
#define RINGVM_PAGE_CACHE_DATA	0
#define RINGVM_PAGE_CACHE_SIZE	5
struct ringvm_page_cache {
	unsigned long gfn[RINGVM_PAGE_CACHE_SIZE];
	struct page *page[RINGVM_PAGE_CACHE_SIZE];
};

/*
 * A vCPU.  The backend allocates ringvm_arch->vcpu_size bytes and puts
 * this struct first; everything here is the core's, except that the
 * backend reads and writes gprs[] around each entry.
 */
struct ringvm_vcpu {
	struct ringvm_vm *vm;			/* (c) holds a reference */
	u32 id;					/* (c) */
	struct ringvm_run *run;			/* (c) shared with user space */
	struct mutex mutex;

	unsigned long gprs[RINGVM_NR_GPRS];	/* [v] RSP is the backend's */
	struct ringvm_hw_exit exit;		/* [v] last exit */
	int cpu;				/* [v] loaded on, or -1 */
	int last_cpu;				/* [v] previous cpu, or -1 */
	int mode;				/* (a) enum ringvm_vcpu_mode */

	/* Debug registers the core keeps; DR6/DR7 are the backend's. */
	u64 db[4];				/* [v] */
	bool dr_active;				/* [v] DR7 enables breakpoints */

	/* Extended state: guest XCR0 and the XSAVE image (standard form). */
	u64 xcr0;				/* [v] */
	struct ringvm_xsave *fpu;		/* [v] 64-byte aligned */

	/* MSRs the core keeps. */
	u64 tsc_aux;				/* [v] */
	u64 spec_ctrl;				/* [v] as the guest wrote it */

	struct ringvm_event event;		/* [v] for the next entry */
	bool triple_fault;			/* [v] a merge ended in one */
	/* RINGVM_INTERRUPT / RINGVM_NMI, waiting for the guest (event.c) */
	bool irq_pending;			/* [v] */
	u8 irq_vector;				/* [v] */
	bool nmi_pending;			/* [v] */
	u8 windows_wanted;			/* [v] RINGVM_RUN_* of this RUN */
	u8 windows_open;			/* [v] as last set_windows() */
	bool shutdown;				/* [v] sticky until SET_SREGS */

	/* The local APIC (lapic.c); NULL unless the VM enabled it. */
	struct ringvm_lapic *apic;		/* (c) */
	unsigned long apic_posted;		/* (a) RINGVM_POSTED_* bits */
	bool apic_irr;				/* [v] a vector in the IRR */
	/* the guest's EOI of a level vector, for user space (exit.c) */
	bool eoi_exit;				/* [v] */
	u8 eoi_vector;				/* [v] */
	u32 mp_state;				/* [v] enum ringvm_mp_state_value */
	bool sipi_pending;			/* [v] */
	u8 sipi_vector;				/* [v] */
	struct rcuwait wait;			/* the halted vCPU's thread */
	u64 last_npf_gpa;			/* [v] loop guard */
	unsigned int npf_repeats;		/* [v] */
	struct ringvm_npt_cache npt_cache;	/* [v] */
	struct ringvm_page_cache page_cache;	/* [v] */

	/* What the next RINGVM_RUN must complete first. */
	u32 pending;				/* [v] enum ringvm_pending */
	u8 pending_insn_len;			/* [v] to skip on completion */
	u8 pending_size;			/* [v] IN size */
	bool pending_string;			/* [v] INS: store to memory */
	u64 pending_gpa[2];			/* [v] INS destination, */
	u8 pending_split;			/* [v] bytes at [0], rest at [1] */
	struct ringvm_insn pending_insn;	/* [v] MMIO load / INS */

	/* Statistics (stats.c). */
	u64 nr_exits;				/* (s) every hardware exit */
	u64 nr_user_exits;			/* (s) RUNs that returned */
	u64 nr_exits_by_code[RINGVM_HW_EXIT_NR];	/* (s) */
	u64 nr_npf_ram;				/* (s) NPFs on guest RAM */
	u64 nr_injections;			/* (s) entries with an event */
	u64 run_clock;				/* (s) ringvm_stat_clock */
	u64 halt_clock;				/* (s) ringvm_stat_clock */
	/* World-switch work outside the entry itself, by the backend. */
	u64 nr_vmcs_loads;			/* (s) VMX: VMPTRLD */
	u64 nr_vmcs_clears;			/* (s) VMX: VMCLEAR (stats.c) */
	u64 nr_host_saves;			/* (s) SVM: host VMSAVE */
	u64 nr_msr_switches;			/* (s) WRMSR host/guest */
	u64 nr_l1d_flushes;			/* (s) VMX: L1TF flush */
};

/* vm.c */
extern struct mutex ringvm_vm_lock;
int ringvm_vm_create(const char *name, bool anonymous, u32 flags,
		     const struct ringvm_mem_region *regions, u32 nr_regions,
		     u32 max_vcpus, struct ringvm_vm **out, const char **why);
struct ringvm_vm *ringvm_vm_find(u32 id, const char *name);
struct ringvm_vm *ringvm_vm_find_next(u32 id);
int ringvm_vm_destroy(struct ringvm_vm *vm);
void ringvm_vm_get(struct ringvm_vm *vm);
void ringvm_vm_put(struct ringvm_vm *vm);
void ringvm_vm_file_put(struct ringvm_vm *vm);
int ringvm_vm_getfd(struct ringvm_vm *vm);
struct page *ringvm_gpa_page(struct ringvm_vm *vm, u64 gpa, gfp_t gfp);
struct page *ringvm_gpa_block(struct ringvm_vm *vm, u64 gpa, gfp_t gfp);
bool ringvm_large_pages_supported(void);
bool ringvm_gpa_is_ram(struct ringvm_vm *vm, u64 gpa);
int ringvm_read_guest(struct ringvm_vm *vm, u64 gpa, void *buf,
		      unsigned int len);
int ringvm_write_guest(struct ringvm_vm *vm, u64 gpa, const void *buf,
		       unsigned int len);
int __ringvm_vcpu_read_guest(struct ringvm_vcpu *vcpu, u64 gpa, void *buf,
			     unsigned int len, unsigned int slot);

/*
 * ringvm_read_guest() for the vCPU's own thread, on its exit path (the
 * guest page walk and the fetch at CS:RIP, exit.c): the same answers,
 * with the page last read through @slot (RINGVM_PAGE_CACHE_*) found
 * without the xarray.  Never sleeps or allocates; may run with
 * interrupts off.  Inline for its usual case, @len bytes in the page
 * that @slot holds: a call chain costs a walk more than the lookup.
 */
static inline int ringvm_vcpu_read_guest(struct ringvm_vcpu *vcpu, u64 gpa,
					 void *buf, unsigned int len,
					 unsigned int slot)
{
	const struct ringvm_page_cache *c = &vcpu->page_cache;
	unsigned int off = offset_in_page(gpa);

	if (likely(slot < RINGVM_PAGE_CACHE_SIZE && c->page[slot] &&
		   c->gfn[slot] == gpa >> PAGE_SHIFT &&
		   len <= PAGE_SIZE - off)) {
		memcpy(buf, page_address(c->page[slot]) + off, len);
		return 0;
	}
	return __ringvm_vcpu_read_guest(vcpu, gpa, buf, len, slot);
}
void ringvm_vm_fill_info(struct ringvm_vm *vm, struct ringvm_vm_info *info);

/* vcpu.c */
int ringvm_vcpu_create(struct ringvm_vm *vm, u32 id);
bool ringvm_read_pdptes(struct ringvm_vm *vm, u64 cr3, u64 pdpte[4]);
void ringvm_vcpu_free(struct ringvm_vcpu *vcpu);
void ringvm_vcpu_kick(struct ringvm_vcpu *vcpu);

/* event.c */
void ringvm_queue_exception(struct ringvm_vcpu *vcpu, u8 vector,
			    u32 error_code);
void ringvm_queue_debug_trap(struct ringvm_vcpu *vcpu);
void ringvm_queue_page_fault(struct ringvm_vcpu *vcpu, u64 la,
			     u32 error_code);
void ringvm_requeue_event(struct ringvm_vcpu *vcpu,
			  const struct ringvm_event *ev);
void ringvm_fix_event(struct ringvm_vcpu *vcpu);
u32 ringvm_prepare_events(struct ringvm_vcpu *vcpu);
bool ringvm_event_wakes_hlt(struct ringvm_vcpu *vcpu);
void ringvm_report_events(struct ringvm_vcpu *vcpu);
long ringvm_vcpu_interrupt(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_nmi(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_get_events(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_set_events(struct ringvm_vcpu *vcpu, unsigned long arg);

/* Whether the run loop must call ringvm_prepare_events() before entry. */
static inline bool ringvm_events_active(const struct ringvm_vcpu *vcpu)
{
	return vcpu->irq_pending | vcpu->nmi_pending | vcpu->windows_wanted |
	       vcpu->windows_open | vcpu->apic_irr |
	       !!READ_ONCE(vcpu->apic_posted);
}

/* lapic.c */
bool ringvm_lapic_extint_open(struct ringvm_vcpu *vcpu);

/* Whether a RINGVM_INTERRUPT may go in: no APIC, or LINT0 lets it. */
static inline bool ringvm_extint_open(struct ringvm_vcpu *vcpu)
{
	return !vcpu->apic || ringvm_lapic_extint_open(vcpu);
}

int ringvm_lapic_create(struct ringvm_vcpu *vcpu);
void ringvm_lapic_free(struct ringvm_vcpu *vcpu);
void ringvm_lapic_sync(struct ringvm_vcpu *vcpu);
#define RINGVM_LAPIC_TPR_HELD	(-2)	/* ringvm_lapic_deliverable() */
int ringvm_lapic_deliverable(struct ringvm_vcpu *vcpu);
void ringvm_lapic_accept(struct ringvm_vcpu *vcpu, int vec);
int ringvm_lapic_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
int ringvm_lapic_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data);
bool ringvm_lapic_mmio_owns(struct ringvm_vcpu *vcpu, u64 gpa);
u64 ringvm_lapic_mmio_read(struct ringvm_vcpu *vcpu, u64 gpa,
			   unsigned int len);
void ringvm_lapic_mmio_write(struct ringvm_vcpu *vcpu, u64 gpa,
			     unsigned int len, u64 val);
int ringvm_lapic_block(struct ringvm_vcpu *vcpu);
bool ringvm_lapic_halt(struct ringvm_vcpu *vcpu);
long ringvm_vcpu_get_lapic(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_set_lapic(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_get_mp_state(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vcpu_set_mp_state(struct ringvm_vcpu *vcpu, unsigned long arg);
long ringvm_vm_signal_msi(struct ringvm_vm *vm, unsigned long arg);

/* run.c */
int ringvm_vcpu_run(struct ringvm_vcpu *vcpu);

/*
 * exit.c: the vendor-neutral exit handlers.  ringvm_handle_fast() runs
 * with preemption off right after an exit and returns true to re-enter
 * at once; ringvm_handle_slow() runs preemptible for the rest and
 * returns 0 to re-enter, 1 to return to user space, or -errno.
 * ringvm_handle_slow_loaded() runs it still loaded, preemption off, for
 * the exits whose slow handling cannot sleep (for a backend whose state
 * hooks would load the vCPU otherwise): true if it did.
 */
bool ringvm_handle_fast(struct ringvm_vcpu *vcpu);
int ringvm_handle_slow(struct ringvm_vcpu *vcpu);
bool ringvm_handle_slow_loaded(struct ringvm_vcpu *vcpu, int *r);
int ringvm_complete_pending(struct ringvm_vcpu *vcpu);
void ringvm_user_exit(struct ringvm_vcpu *vcpu, u32 reason);
u8 ringvm_insn_len_at_rip(struct ringvm_vcpu *vcpu, const u8 *opcode,
			  unsigned int opcode_len);
int ringvm_mov_to_cr8(struct ringvm_vcpu *vcpu, int gpr, u8 len);
int ringvm_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data);
int ringvm_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data);
bool ringvm_pat_valid(u64 pat);
int ringvm_efer_write(u64 old, u64 *efer, u64 cr0, u64 valid);
void ringvm_set_dr(struct ringvm_vcpu *vcpu, int dr, u64 val);

/* PAE paging (not 4-level): the four PDPTEs are loaded with CR3. */
static inline bool ringvm_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * Canonical at the host's linear-address width (48, or 57 with LA57),
 * the width MSR writes and debug-register loads are checked against.
 */
static inline bool ringvm_canonical(u64 addr)
{
	return __is_canonical_address(addr, boot_cpu_data.x86_virt_bits);
}

/* @addr sign-extended from the host's linear-address width. */
static inline u64 ringvm_canonicalize(u64 addr)
{
	return __canonical_address(addr, boot_cpu_data.x86_virt_bits);
}

/* netlink.c */
void ringvm_nl_vm_event(struct ringvm_vm *vm, u32 event);

/* stats.c: a snapshot of a vCPU's counters, as vcpu-stats-get gives it */
struct ringvm_vcpu_stats {
	u64 exits;
	u64 exits_by_code[RINGVM_HW_EXIT_NR];
	u64 user_exits;
	u64 npf_ram;
	u64 injections;
	u64 run_ns;
	u64 halt_ns;
	u64 vmcs_loads;
	u64 vmcs_clears;
	u64 host_saves;
	u64 msr_switches;
	u64 l1d_flushes;
};

void ringvm_stats_run_begin(struct ringvm_vcpu *vcpu);
void ringvm_stats_run_end(struct ringvm_vcpu *vcpu, bool halted);
void ringvm_stats_halt(struct ringvm_vcpu *vcpu, bool begin);
void ringvm_vcpu_stats_read(const struct ringvm_vcpu *vcpu,
			    struct ringvm_vcpu_stats *st);

#endif /* RINGVM_VM_H */
