// SPDX-License-Identifier: GPL-2.0
/*
 * Virtualization on every online CPU.
 *
 *  1. A dynamic CPU hotplug state turns VMX/SVM on when a CPU comes online
 *     and off before it goes; registering it runs the "on" half on every
 *     CPU already online, and removing it runs the "off" half.  Those
 *     callbacks run in the target CPU's hotplug thread, pinned to it.
 *  2. A reboot notifier turns it off everywhere before reboot and kexec
 *     (VMX blocks INIT, so a CPU left in VMX root would never come back
 *     in the next kernel) and keeps it off from then on.
 *  3. Syscore suspend/resume turn it off and on for the last CPU standing;
 *     the others went through (1) when they were offlined.
 *
 * The per-CPU flag is only touched by its own CPU with interrupts off, so
 * an IPI from the reboot notifier never sees a half-done transition.
 *
 * Emergency paths (panic, crash kexec, emergency reboot) are not hooked:
 * on Linux 6.1 the kernel itself executes VMXOFF / clears EFER.SVME there
 * for any CPU that has them set; on later kernels only a single callback
 * slot exists and it belongs to KVM (see module/README).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/smp.h>
#include <linux/syscore_ops.h>

#include "ringvm.h"

static DEFINE_PER_CPU(bool, ringvm_cpu_on);
static atomic_t ringvm_cpus_on = ATOMIC_INIT(0);
static bool ringvm_rebooting;
static int ringvm_hp_state;

/* Interrupts off.  Returns the backend's errno. */
static int ringvm_cpu_enable_this(void)
{
	int r;

	if (__this_cpu_read(ringvm_cpu_on))
		return 0;
	r = ringvm_arch->cpu_enable();
	if (r)
		return r;
	__this_cpu_write(ringvm_cpu_on, true);
	atomic_inc(&ringvm_cpus_on);
	return 0;
}

/* Interrupts off. */
static void ringvm_cpu_disable_this(void)
{
	if (!__this_cpu_read(ringvm_cpu_on))
		return;
	ringvm_arch->cpu_disable();
	__this_cpu_write(ringvm_cpu_on, false);
	atomic_dec(&ringvm_cpus_on);
}

static const char *ringvm_enable_error(int r)
{
	switch (r) {
	case -EBUSY:
		return "already enabled by another hypervisor (kvm_intel or kvm_amd?)";
	case -EPERM:
		return "disabled by firmware";
	default:
		return "refused by the CPU";
	}
}

static int ringvm_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int r;

	if (READ_ONCE(ringvm_rebooting))
		return -EBUSY;

	local_irq_save(flags);
	r = ringvm_cpu_enable_this();
	local_irq_restore(flags);
	if (r)
		pr_err("CPU %u: cannot enable %s: %s (%d)\n", cpu,
		       ringvm_arch->name, ringvm_enable_error(r), r);
	return r;
}

static int ringvm_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	ringvm_cpu_disable_this();
	local_irq_restore(flags);
	if (ringvm_arch->cpu_offline)
		ringvm_arch->cpu_offline();
	return 0;
}

static void ringvm_cpu_disable_ipi(void *unused)
{
	ringvm_cpu_disable_this();
}

static int ringvm_reboot_notify(struct notifier_block *nb,
				unsigned long code, void *unused)
{
	WRITE_ONCE(ringvm_rebooting, true);
	on_each_cpu(ringvm_cpu_disable_ipi, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block ringvm_reboot_nb = {
	.notifier_call = ringvm_reboot_notify,
};

/*
 * Syscore callbacks run on the one CPU left online, interrupts off.  Its
 * flag says whether resume has anything to turn back on.
 */
static bool ringvm_was_on_at_suspend;

static int ringvm_suspend(void)
{
	ringvm_was_on_at_suspend = __this_cpu_read(ringvm_cpu_on);
	ringvm_cpu_disable_this();
	return 0;
}

static void ringvm_resume(void)
{
	int r;

	if (!ringvm_was_on_at_suspend)
		return;
	r = ringvm_cpu_enable_this();
	if (r)
		pr_err("CPU %d: cannot re-enable %s after resume: %s (%d)\n",
		       smp_processor_id(), ringvm_arch->name,
		       ringvm_enable_error(r), r);
}

#ifdef RINGVM_HAVE_STRUCT_SYSCORE
static int ringvm_syscore_suspend(void *data)
{
	return ringvm_suspend();
}

static void ringvm_syscore_resume(void *data)
{
	ringvm_resume();
}

static const struct syscore_ops ringvm_syscore_ops = {
	.suspend = ringvm_syscore_suspend,
	.resume = ringvm_syscore_resume,
};

static struct syscore ringvm_syscore = {
	.ops = &ringvm_syscore_ops,
};

static void ringvm_syscore_register(void)
{
	register_syscore(&ringvm_syscore);
}

static void ringvm_syscore_unregister(void)
{
	unregister_syscore(&ringvm_syscore);
}
#else
static struct syscore_ops ringvm_syscore_ops = {
	.suspend = ringvm_suspend,
	.resume = ringvm_resume,
};

static void ringvm_syscore_register(void)
{
	register_syscore_ops(&ringvm_syscore_ops);
}

static void ringvm_syscore_unregister(void)
{
	unregister_syscore_ops(&ringvm_syscore_ops);
}
#endif

void ringvm_free_cpu_pages(struct page *__percpu *pages)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page **pg = per_cpu_ptr(pages, cpu);

		if (*pg)
			__free_page(*pg);
		*pg = NULL;
	}
}

int ringvm_alloc_cpu_pages(struct page *__percpu *pages)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page *pg = alloc_pages_node(cpu_to_node(cpu),
						   GFP_KERNEL_ACCOUNT |
						   __GFP_ZERO, 0);

		if (!pg) {
			ringvm_free_cpu_pages(pages);
			return -ENOMEM;
		}
		*per_cpu_ptr(pages, cpu) = pg;
	}
	return 0;
}

unsigned int ringvm_nr_cpus_enabled(void)
{
	return atomic_read(&ringvm_cpus_on);
}

int ringvm_cpus_enable(void)
{
	int r;

	WRITE_ONCE(ringvm_rebooting, false);
	r = register_reboot_notifier(&ringvm_reboot_nb);
	if (r)
		return r;
	ringvm_syscore_register();

	/* On failure this has already turned the CPUs it enabled off. */
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "ringvm:online",
			      ringvm_cpu_online, ringvm_cpu_offline);
	if (r < 0)
		goto err_unregister;
	ringvm_hp_state = r;
	return 0;

err_unregister:
	ringvm_syscore_unregister();
	unregister_reboot_notifier(&ringvm_reboot_nb);
	return r;
}

void ringvm_cpus_disable(void)
{
	cpuhp_remove_state(ringvm_hp_state);
	ringvm_syscore_unregister();
	unregister_reboot_notifier(&ringvm_reboot_nb);
	WARN_ON_ONCE(atomic_read(&ringvm_cpus_on));
}
