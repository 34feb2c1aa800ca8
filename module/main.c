// SPDX-License-Identifier: GPL-2.0
/*
 * ringvm module load and unload.
 *
 * Load, in order:
 *  1. pick the backend whose probe() recognises this CPU (VMX or SVM) and
 *     check it fills every hook;
 *  2. let it allocate its per-CPU state;
 *  3. turn virtualization on for every online CPU (cpu.c), which fails
 *     the load if another hypervisor already holds a CPU;
 *  4. only then open the doors to user space: /dev/ringvm and netlink.
 * Unload cannot begin while a VM exists: every VM holds a module
 * reference.
 * Unload is the same backwards.  Both run in process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jump_label.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>

#include <asm/tsc.h>

#include "fpu.h"
#include "spec.h"
#include "vm.h"

unsigned int ringvm_max_vms = 64;
module_param_named(max_vms, ringvm_max_vms, uint, 0444);
MODULE_PARM_DESC(max_vms, "Most VMs that may exist at once (default 64)");

unsigned int ringvm_max_vcpus = 8;
module_param_named(max_vcpus, ringvm_max_vcpus, uint, 0444);
MODULE_PARM_DESC(max_vcpus, "Most vCPUs per VM (default 8)");

unsigned long ringvm_max_vm_mem_mb = 2048;
module_param_named(max_vm_mem_mb, ringvm_max_vm_mem_mb, ulong, 0444);
MODULE_PARM_DESC(max_vm_mem_mb, "Most guest RAM per VM in MiB (default 2048)");

bool ringvm_dump_invalid_state;
module_param_named(dump_invalid_state, ringvm_dump_invalid_state, bool, 0644);
MODULE_PARM_DESC(dump_invalid_state,
		 "Log the VMCS/VMCB when VM entry fails (default off)");

/*
 * A knob for the benchmark's guard (make bench-guard, selftests/bench.c)
 * to prove that it sees a round trip grow: every CPUID exit first spins
 * this many PAUSEs.  Off (0) by default, and then the static key leaves
 * a NOP in the CPUID path; read-only after load, at most
 * RINGVM_DEBUG_SLOW_MAX, since it runs with interrupts off.
 */
#define RINGVM_DEBUG_SLOW_MAX	100000
unsigned int ringvm_debug_slow_cpuid;
module_param_named(debug_slow_cpuid, ringvm_debug_slow_cpuid, uint, 0444);
MODULE_PARM_DESC(debug_slow_cpuid,
		 "Debug: PAUSEs added to every CPUID exit (default 0, off)");
DEFINE_STATIC_KEY_FALSE(ringvm_debug_slow_key);

const struct ringvm_arch_ops *ringvm_arch __read_mostly;
struct ringvm_hw_caps ringvm_hw __read_mostly;

static const struct ringvm_arch_ops *const ringvm_backends[] = {
	&vmx_arch_ops,
	&svm_arch_ops,
};

static bool ringvm_ops_complete(const struct ringvm_arch_ops *ops)
{
	return ops->name && ops->probe && ops->hardware_setup &&
	       ops->hardware_unsetup && ops->cpu_enable && ops->cpu_disable &&
	       ops->npt_ops && ops->vcpu_size >= sizeof(struct ringvm_vcpu) &&
	       ops->vcpu_init && ops->vcpu_uninit && ops->vcpu_load &&
	       ops->vcpu_put && ops->vcpu_run && ops->get_regs &&
	       ops->set_regs && ops->get_sregs && ops->set_sregs &&
	       ops->get_reg && ops->set_reg && ops->get_msr && ops->set_msr &&
	       ops->get_dr && ops->set_dr && ops->skip_instruction &&
	       ops->get_intr_state && ops->set_intr_state && ops->set_windows;
}

/*
 * The first backend whose probe() does not answer -ENODEV decides: either
 * it is usable, or it has logged why not and its errno fails the load.
 */
static int ringvm_select_arch(void)
{
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(ringvm_backends); i++) {
		const struct ringvm_arch_ops *ops = ringvm_backends[i];

		if (WARN_ON_ONCE(!ringvm_ops_complete(ops)))
			return -EINVAL;
		r = ops->probe(&ringvm_hw);
		if (r == -ENODEV)
			continue;
		if (r)
			return r;
		ringvm_arch = ops;
		return 0;
	}
	pr_err("no VMX or SVM on this CPU\n");
	return -ENODEV;
}

void ringvm_get_caps(struct ringvm_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->arch = ringvm_hw.arch;
	caps->features = ringvm_hw.features | RINGVM_FEAT_LAPIC |
			 RINGVM_FEAT_EOI_EXIT;
	if (ringvm_large_pages_supported())
		caps->features |= RINGVM_FEAT_LARGE_PAGES;
	caps->page_sizes = ringvm_hw.page_sizes;
	caps->nr_asids = ringvm_hw.nr_asids;
	caps->hw_revision = ringvm_hw.hw_revision;
	caps->nr_cpus_enabled = ringvm_nr_cpus_enabled();
	caps->tsc_khz = tsc_khz;
}

static int __init ringvm_init(void)
{
	int r;

	r = ringvm_select_arch();
	if (r)
		return r;

	if (ringvm_debug_slow_cpuid) {
		ringvm_debug_slow_cpuid = min(ringvm_debug_slow_cpuid,
					      RINGVM_DEBUG_SLOW_MAX);
		static_branch_enable(&ringvm_debug_slow_key);
		pr_warn("debug_slow_cpuid=%u: CPUID exits are slowed on purpose\n",
			ringvm_debug_slow_cpuid);
	}

	r = ringvm_fpu_setup();
	if (r)
		return r;
	ringvm_spec_setup();

	r = ringvm_arch->hardware_setup();
	if (r)
		return r;

	r = ringvm_cpus_enable();
	if (r)
		goto err_unsetup;

	r = ringvm_dev_register();
	if (r)
		goto err_cpus_disable;

	r = ringvm_nl_register();
	if (r)
		goto err_dev_unregister;

	pr_info("%s enabled on %u CPUs\n", ringvm_arch->name,
		ringvm_nr_cpus_enabled());
	return 0;

err_dev_unregister:
	ringvm_dev_unregister();
err_cpus_disable:
	ringvm_cpus_disable();
err_unsetup:
	ringvm_arch->hardware_unsetup();
	return r;
}

static void __exit ringvm_exit(void)
{
	ringvm_nl_unregister();
	ringvm_dev_unregister();
	ringvm_cpus_disable();
	ringvm_arch->hardware_unsetup();
}

module_init(ringvm_init);
module_exit(ringvm_exit);

MODULE_DESCRIPTION("ringvm: a hypervisor driving Intel VT-x and AMD SVM");
MODULE_LICENSE("GPL");
/*
 * The release (debian/changelog, dkms.conf).  It also gives the module a
 * srcversion, by which a DKMS build is known to be of the same sources.
 */
MODULE_VERSION("0.1.0");
