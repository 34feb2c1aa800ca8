/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringvm core: what the vendor-neutral code and the two backends share.
 *
 *  1. struct ringvm_hw_caps   - facts a backend found at probe time
 *  2. struct ringvm_arch_ops  - the backend, one const table per vendor
 *  3. the core's entry points  - per-CPU enablement, device, netlink
 *
 * Nothing outside vmx/ and svm/ asks which vendor it runs on: the core
 * calls ringvm_arch, which main.c chooses once at module load.
 */
#ifndef RINGVM_RINGVM_H
#define RINGVM_RINGVM_H

#include <linux/compiler_types.h>
#include <linux/types.h>
#include <linux/ringvm.h>

/*
 * Facts about the hardware, filled in by the backend's probe() before any
 * CPU is touched and never changed afterwards (read without locks).
 */
struct ringvm_hw_caps {
	u32 arch;		/* enum ringvm_arch */
	u32 hw_revision;	/* VMCS revision id / SVM revision */
	u64 features;		/* RINGVM_FEAT_* */
	u64 page_sizes;		/* nested page sizes, bit n = 2^n bytes */
	u32 nr_asids;		/* usable VPIDs / ASIDs, 0 if none */
};

/*
 * A virtualization backend.  Every hook is mandatory: main.c refuses to
 * load with a backend that leaves one NULL.
 *
 * @probe:	 detect the technology on the boot CPU and fill @caps.
 *		 Returns 0 if usable, -ENODEV if this technology is absent (the
 *		 next backend is tried), or another errno after logging one
 *		 line that says why it is unusable: -EPERM disabled by
 *		 firmware, -EOPNOTSUPP missing a feature ringvm requires.
 *		 Process context.
 * @hardware_setup:   allocate per-CPU state for every possible CPU.
 * @hardware_unsetup: free it; every CPU has been disabled already.
 * @cpu_enable:	 turn VMX/SVM on for this CPU.  Interrupts are off.
 *		 -EBUSY if another hypervisor has it on, -EPERM if firmware
 *		 forbids it here, -EIO if the hardware refused.
 * @cpu_disable: turn it off again and restore exactly the state that
 *		 @cpu_enable found.  Interrupts are off.
 */
struct ringvm_arch_ops {
	const char *name;
	int (*probe)(struct ringvm_hw_caps *caps);
	int (*hardware_setup)(void);
	void (*hardware_unsetup)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
};

extern const struct ringvm_arch_ops vmx_arch_ops;
extern const struct ringvm_arch_ops svm_arch_ops;

/* Chosen once in ringvm_init() and constant until the module goes. */
extern const struct ringvm_arch_ops *ringvm_arch;
extern struct ringvm_hw_caps ringvm_hw;

/* cpu.c: virtualization on every online CPU, following hotplug. */
int ringvm_cpus_enable(void);
void ringvm_cpus_disable(void);
unsigned int ringvm_nr_cpus_enabled(void);

struct page;
/*
 * One zeroed page, on its CPU's node, for every possible CPU: for the
 * backends' VMXON regions and host save areas.  Allocation is all or
 * nothing; freeing is safe on a partly filled set.
 */
int ringvm_alloc_cpu_pages(struct page *__percpu *pages);
void ringvm_free_cpu_pages(struct page *__percpu *pages);

/* main.c */
void ringvm_get_caps(struct ringvm_caps *caps);

/* dev.c: /dev/ringvm */
int ringvm_dev_register(void);
void ringvm_dev_unregister(void);

/* netlink.c: the "ringvm" generic netlink family */
int ringvm_nl_register(void);
void ringvm_nl_unregister(void);

#endif /* RINGVM_RINGVM_H */
