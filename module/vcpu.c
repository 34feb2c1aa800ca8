// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation, the vCPU file descriptor and its state ioctls.
 *
 *  1. creation: the core's part, then the backend's vcpu_init()
 *  2. checks on state that user space sets (everything is hostile)
 *  3. the ioctls: run, and get/set of registers, debug registers, MSRs,
 *     XSAVE image and XCR0
 *  4. the file: mmap of the run page, release destroys the vCPU
 *
 * A vCPU lives as long as its file descriptor; it holds a reference on
 * its VM.  Every ioctl takes vcpu->mutex, so the state ops of the backend
 * never race with RINGVM_RUN.
 *
 * Context: process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <trace/events/ipi.h>	/* smp_send_reschedule() on 6.3+ */
#include <asm/pgtable_types.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "fpu.h"
#include "trace.h"
#include "vm.h"

static_assert(sizeof(struct ringvm_regs) == 144);
static_assert(sizeof(struct ringvm_sregs) == 304);
static_assert(sizeof(struct ringvm_debugregs) == 128);
static_assert(sizeof(struct ringvm_msrs) == 520);
static_assert(sizeof(struct ringvm_xsave) == 4096);
static_assert(sizeof(struct ringvm_xcrs) == 32);
static_assert(sizeof(struct ringvm_events) == 64);
static_assert(sizeof(struct ringvm_interrupt) == 8);
static_assert(sizeof(struct ringvm_run) <= RINGVM_RUN_DATA_OFFSET);

/* 2. Checks on state from user space */

/* RFLAGS bits that exist; bit 1 reads as one (Intel SDM Vol. 1 §3.4.3). */
#define RINGVM_RFLAGS_VALID	0x3f7fd7ULL

static bool ringvm_segment_ok(const struct ringvm_segment *s)
{
	return !s->pad && s->type < 16 && s->present < 2 && s->dpl < 4 &&
	       s->db < 2 && s->s < 2 && s->l < 2 && s->g < 2 && s->avl < 2 &&
	       s->unusable < 2;
}

/*
 * The four PDPTEs of PAE paging at @cr3 (bits 31:5).  False if one that
 * is present has reserved bits set: MOV to CR3 or CR0 would raise #GP
 * for them (SDM Vol. 3A §4.4.1), and VM entry would fail (SDM Vol. 3C
 * §27.3.1.6).  A CR3 outside RAM reads as four absent entries.
 */
bool ringvm_read_pdptes(struct ringvm_vm *vm, u64 cr3, u64 pdpte[4])
{
	u64 rsvd = GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1) |
		   GENMASK_ULL(63, boot_cpu_data.x86_phys_bits);
	unsigned int i;

	if (ringvm_read_guest(vm, cr3 & GENMASK(31, 5), pdpte,
			      4 * sizeof(u64)))
		memset(pdpte, 0, 4 * sizeof(u64));
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & _PAGE_PRESENT) && (pdpte[i] & rsvd))
			return false;
	return true;
}

/*
 * EFER.LMA only with EFER.LME and CR0.PG: the processor sets LMA exactly
 * when paging goes on with LME set and clears it when paging goes off
 * (Intel SDM Vol. 3A §9.8.5, AMD APM Vol. 2 §14.6), so no processor
 * holds LMA otherwise, and QEMU's VMRUN does not survive it (svm/exit.c).
 * KVM's SET_SREGS refuses more (a 64-bit CS outside long mode, LME and
 * PG without PAE), but QEMU lets a guest reach those, and what GET_SREGS
 * returns must stay settable.
 */
static bool ringvm_long_mode_ok(const struct ringvm_sregs *sr)
{
	return !(sr->efer & EFER_LMA) ||
	       ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG));
}

static bool ringvm_sregs_ok(struct ringvm_vcpu *vcpu,
			    const struct ringvm_sregs *sr)
{
	u64 pdpte[4];
	const struct ringvm_segment *segs[] = {
		&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
		&sr->tr, &sr->ldt,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!ringvm_segment_ok(segs[i]))
			return false;
	return !memchr_inv(sr->gdt.pad, 0, sizeof(sr->gdt.pad)) &&
	       !memchr_inv(sr->idt.pad, 0, sizeof(sr->idt.pad)) &&
	       !memchr_inv(sr->reserved, 0, sizeof(sr->reserved)) &&
	       sr->cr8 < 16 && !(sr->cr0 >> 32) && ringvm_long_mode_ok(sr) &&
	       (!ringvm_pae_paging(sr->cr0, sr->cr4, sr->efer) ||
		ringvm_read_pdptes(vcpu->vm, sr->cr3, pdpte));
}

/* 3. ioctls */

/*
 * Run time and halt time (stats.c) are kept here, around the run loop:
 * a RUN that returns 0 with a HLT code left the guest halted in user
 * space's hands (every other way out of the loop sets another code).
 */
static long ringvm_vcpu_ioctl_run(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	int r;

	if (arg)
		return -EINVAL;
	ringvm_stats_run_begin(vcpu);
	r = ringvm_vcpu_run(vcpu);
	ringvm_stats_run_end(vcpu, !r && vcpu->exit.code == RINGVM_HW_EXIT_HLT);
	return r;
}

static long ringvm_vcpu_get_regs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_regs regs;

	ringvm_arch->get_regs(vcpu, &regs);
	return copy_to_user((void __user *)arg, &regs, sizeof(regs)) ?
	       -EFAULT : 0;
}

static long ringvm_vcpu_set_regs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_regs regs;

	if (copy_from_user(&regs, (void __user *)arg, sizeof(regs)))
		return -EFAULT;
	if (regs.rflags & ~RINGVM_RFLAGS_VALID)
		return -EINVAL;
	regs.rflags |= X86_EFLAGS_FIXED;
	ringvm_arch->set_regs(vcpu, &regs);
	return 0;
}

static long ringvm_vcpu_get_sregs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_sregs sregs;

	memset(&sregs, 0, sizeof(sregs));
	ringvm_arch->get_sregs(vcpu, &sregs);
	return copy_to_user((void __user *)arg, &sregs, sizeof(sregs)) ?
	       -EFAULT : 0;
}

static long ringvm_vcpu_set_sregs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_sregs sregs;
	int r;

	if (copy_from_user(&sregs, (void __user *)arg, sizeof(sregs)))
		return -EFAULT;
	if (!ringvm_sregs_ok(vcpu, &sregs))
		return -EINVAL;
	r = ringvm_arch->set_sregs(vcpu, &sregs);
	if (r)
		return r;
	vcpu->shutdown = false;	/* user space reset the vCPU */
	ringvm_fix_event(vcpu);	/* CR0.PE decides its error code */
	return 0;
}

static long ringvm_vcpu_get_debugregs(struct ringvm_vcpu *vcpu,
				      unsigned long arg)
{
	struct ringvm_debugregs dr;

	memset(&dr, 0, sizeof(dr));
	memcpy(dr.db, vcpu->db, sizeof(dr.db));
	dr.dr6 = ringvm_arch->get_dr(vcpu, 6);
	dr.dr7 = ringvm_arch->get_dr(vcpu, 7);
	return copy_to_user((void __user *)arg, &dr, sizeof(dr)) ? -EFAULT : 0;
}

static long ringvm_vcpu_set_debugregs(struct ringvm_vcpu *vcpu,
				      unsigned long arg)
{
	struct ringvm_debugregs dr;
	unsigned int i;

	if (copy_from_user(&dr, (void __user *)arg, sizeof(dr)))
		return -EFAULT;
	if (dr.flags || memchr_inv(dr.reserved, 0, sizeof(dr.reserved)))
		return -EINVAL;
	/* Bits 63:32 of DR6/DR7 are reserved, MOV DR would #GP (SDM §18.2) */
	if ((dr.dr6 | dr.dr7) >> 32)
		return -EINVAL;
	/* The hardware gets DR0-3 as they are: they must be canonical. */
	for (i = 0; i < 4; i++)
		if (!ringvm_canonical(dr.db[i]))
			return -EINVAL;
	ringvm_set_dr(vcpu, 0, dr.db[0]);
	ringvm_set_dr(vcpu, 1, dr.db[1]);
	ringvm_set_dr(vcpu, 2, dr.db[2]);
	ringvm_set_dr(vcpu, 3, dr.db[3]);
	ringvm_set_dr(vcpu, 6, dr.dr6);
	ringvm_set_dr(vcpu, 7, dr.dr7);
	return 0;
}

static long ringvm_vcpu_msrs(struct ringvm_vcpu *vcpu, unsigned long arg,
			     bool set)
{
	struct ringvm_msrs __user *umsrs = (void __user *)arg;
	struct ringvm_msrs msrs;
	u32 i;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return -EFAULT;
	if (msrs.pad || msrs.nmsrs > RINGVM_MAX_MSR_ENTRIES)
		return -EINVAL;
	for (i = 0; i < msrs.nmsrs; i++)
		if (msrs.entries[i].reserved)
			return -EINVAL;

	for (i = 0; i < msrs.nmsrs; i++) {
		struct ringvm_msr_entry *e = &msrs.entries[i];
		int r = set ? ringvm_set_msr(vcpu, e->index, e->data) :
			      ringvm_get_msr(vcpu, e->index, &e->data);
		if (r)
			break;
	}
	vcpu->eoi_exit = false;	/* user space wrote the EOI: no exit */
	if (!set && copy_to_user(umsrs, &msrs, sizeof(msrs)))
		return -EFAULT;
	return i;
}

static long ringvm_vcpu_get_msrs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	return ringvm_vcpu_msrs(vcpu, arg, false);
}

static long ringvm_vcpu_set_msrs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	return ringvm_vcpu_msrs(vcpu, arg, true);
}

static long ringvm_vcpu_get_xsave(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	return copy_to_user((void __user *)arg, vcpu->fpu,
			    sizeof(*vcpu->fpu)) ? -EFAULT : 0;
}

static long ringvm_vcpu_set_xsave(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_xsave *img;
	int r;

	img = memdup_user((void __user *)arg, sizeof(*img));
	if (IS_ERR(img))
		return PTR_ERR(img);
	r = ringvm_fpu_check_image(img);
	if (!r)
		memcpy(vcpu->fpu, img, sizeof(*img));
	kfree(img);
	return r;
}

static long ringvm_vcpu_get_xcrs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_xcrs xcrs = { .xcr0 = vcpu->xcr0 };

	return copy_to_user((void __user *)arg, &xcrs, sizeof(xcrs)) ?
	       -EFAULT : 0;
}

static long ringvm_vcpu_set_xcrs(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_xcrs xcrs;

	if (copy_from_user(&xcrs, (void __user *)arg, sizeof(xcrs)))
		return -EFAULT;
	if (memchr_inv(xcrs.reserved, 0, sizeof(xcrs.reserved)) ||
	    !ringvm_xcr0_ok(xcrs.xcr0))
		return -EINVAL;
	vcpu->xcr0 = xcrs.xcr0;
	return 0;
}

struct ringvm_vcpu_ioctl {
	unsigned int cmd;
	long (*fn)(struct ringvm_vcpu *vcpu, unsigned long arg);
};

/* Indexed by _IOC_NR() - 0x20; every one runs under vcpu->mutex. */
#define VCPU_NR(cmd)	(_IOC_NR(cmd) - 0x20)
static const struct ringvm_vcpu_ioctl ringvm_vcpu_ioctls[] = {
	[VCPU_NR(RINGVM_RUN)] = { RINGVM_RUN, ringvm_vcpu_ioctl_run },
	[VCPU_NR(RINGVM_GET_REGS)] = { RINGVM_GET_REGS, ringvm_vcpu_get_regs },
	[VCPU_NR(RINGVM_SET_REGS)] = { RINGVM_SET_REGS, ringvm_vcpu_set_regs },
	[VCPU_NR(RINGVM_GET_SREGS)] = { RINGVM_GET_SREGS, ringvm_vcpu_get_sregs },
	[VCPU_NR(RINGVM_SET_SREGS)] = { RINGVM_SET_SREGS, ringvm_vcpu_set_sregs },
	[VCPU_NR(RINGVM_GET_DEBUGREGS)] = { RINGVM_GET_DEBUGREGS, ringvm_vcpu_get_debugregs },
	[VCPU_NR(RINGVM_SET_DEBUGREGS)] = { RINGVM_SET_DEBUGREGS, ringvm_vcpu_set_debugregs },
	[VCPU_NR(RINGVM_GET_MSRS)] = { RINGVM_GET_MSRS, ringvm_vcpu_get_msrs },
	[VCPU_NR(RINGVM_SET_MSRS)] = { RINGVM_SET_MSRS, ringvm_vcpu_set_msrs },
	[VCPU_NR(RINGVM_GET_XSAVE)] = { RINGVM_GET_XSAVE, ringvm_vcpu_get_xsave },
	[VCPU_NR(RINGVM_SET_XSAVE)] = { RINGVM_SET_XSAVE, ringvm_vcpu_set_xsave },
	[VCPU_NR(RINGVM_GET_XCRS)] = { RINGVM_GET_XCRS, ringvm_vcpu_get_xcrs },
	[VCPU_NR(RINGVM_SET_XCRS)] = { RINGVM_SET_XCRS, ringvm_vcpu_set_xcrs },
	[VCPU_NR(RINGVM_INTERRUPT)] = { RINGVM_INTERRUPT, ringvm_vcpu_interrupt },
	[VCPU_NR(RINGVM_NMI)] = { RINGVM_NMI, ringvm_vcpu_nmi },
	[VCPU_NR(RINGVM_GET_EVENTS)] = { RINGVM_GET_EVENTS, ringvm_vcpu_get_events },
	[VCPU_NR(RINGVM_SET_EVENTS)] = { RINGVM_SET_EVENTS, ringvm_vcpu_set_events },
	[VCPU_NR(RINGVM_GET_LAPIC)] = { RINGVM_GET_LAPIC, ringvm_vcpu_get_lapic },
	[VCPU_NR(RINGVM_SET_LAPIC)] = { RINGVM_SET_LAPIC, ringvm_vcpu_set_lapic },
	[VCPU_NR(RINGVM_GET_MP_STATE)] = {
		RINGVM_GET_MP_STATE, ringvm_vcpu_get_mp_state
	},
	[VCPU_NR(RINGVM_SET_MP_STATE)] = {
		RINGVM_SET_MP_STATE, ringvm_vcpu_set_mp_state
	},
};

static long ringvm_vcpu_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct ringvm_vcpu *vcpu = file->private_data;
	const struct ringvm_vcpu_ioctl *ioc;
	unsigned int nr = VCPU_NR(cmd);
	long r;

	if (_IOC_TYPE(cmd) != RINGVMIO || nr >= ARRAY_SIZE(ringvm_vcpu_ioctls))
		return -ENOTTY;
	ioc = &ringvm_vcpu_ioctls[array_index_nospec(nr,
					ARRAY_SIZE(ringvm_vcpu_ioctls))];
	if (!ioc->fn || ioc->cmd != cmd)
		return -ENOTTY;

	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	r = ioc->fn(vcpu, arg);
	mutex_unlock(&vcpu->mutex);
	return r;
}

/* 4. The file */

static vm_fault_t ringvm_vcpu_fault(struct vm_fault *vmf)
{
	struct ringvm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(vcpu->run);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct ringvm_vcpu_vm_ops = {
	.fault = ringvm_vcpu_fault,
};

static int ringvm_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_ops = &ringvm_vcpu_vm_ops;
	return 0;
}

static int ringvm_vcpu_release(struct inode *inode, struct file *file)
{
	ringvm_vcpu_free(file->private_data);
	return 0;
}

static const struct file_operations ringvm_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ringvm_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ringvm_vcpu_mmap,
	.release = ringvm_vcpu_release,
	.llseek = noop_llseek,
};

/* 1. Creation and destruction */

static void ringvm_vcpu_free_mem(struct ringvm_vcpu *vcpu)
{
	ringvm_lapic_free(vcpu);
	ringvm_npt_cache_free(&vcpu->npt_cache);
	kfree(vcpu->fpu);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

/* Create vCPU @id of @vm and return its file descriptor. */
int ringvm_vcpu_create(struct ringvm_vm *vm, u32 id)
{
	struct ringvm_vcpu *vcpu;
	int r, fd;

	vcpu = kzalloc(ringvm_arch->vcpu_size, GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->fpu = kzalloc(sizeof(*vcpu->fpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu->run || !vcpu->fpu) {
		r = -ENOMEM;
		goto err_free;
	}
	vcpu->vm = vm;
	vcpu->id = id;
	mutex_init(&vcpu->mutex);
	vcpu->cpu = -1;
	vcpu->last_cpu = -1;
	ringvm_fpu_reset(vcpu);

	r = ringvm_lapic_create(vcpu);
	if (r)
		goto err_free;
	r = ringvm_arch->vcpu_init(vcpu);
	if (r)
		goto err_free;

	mutex_lock(&vm->lock);
	if (READ_ONCE(vm->destroyed)) {
		r = -ENODEV;
		goto err_unlock;
	}
	if (vm->vcpus[id]) {
		r = -EEXIST;
		goto err_unlock;
	}
	if (vm->lapic != !!vcpu->apic) {	/* RINGVM_ENABLE_LAPIC raced */
		r = -EBUSY;
		goto err_unlock;
	}
	ringvm_vm_get(vm);
	atomic_inc(&vm->nr_files);
	fd = anon_inode_getfd("ringvm-vcpu", &ringvm_vcpu_fops, vcpu,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		atomic_dec(&vm->nr_files);
		ringvm_vm_put(vm);	/* not the last: the caller has one */
		r = fd;
		goto err_unlock;
	}
	WRITE_ONCE(vm->vcpus[id], vcpu);
	vm->nr_vcpus++;
	/* before the unlock: a close of the new fd frees it only after */
	trace_ringvm_vcpu_create(vcpu);
	mutex_unlock(&vm->lock);
	return fd;

err_unlock:
	mutex_unlock(&vm->lock);
	ringvm_arch->vcpu_uninit(vcpu);
err_free:
	ringvm_vcpu_free_mem(vcpu);
	return r;
}

/* The last close of the vCPU's file: it is not running anywhere. */
void ringvm_vcpu_free(struct ringvm_vcpu *vcpu)
{
	struct ringvm_vm *vm = vcpu->vm;

	trace_ringvm_vcpu_destroy(vcpu);
	mutex_lock(&vm->lock);
	WRITE_ONCE(vm->vcpus[vcpu->id], NULL);
	vm->nr_vcpus--;
	mutex_unlock(&vm->lock);
	if (vcpu->apic)
		synchronize_rcu();	/* IPIs reach vCPUs under RCU */

	ringvm_arch->vcpu_uninit(vcpu);
	ringvm_vcpu_free_mem(vcpu);
	ringvm_vm_file_put(vm);
}

/*
 * Make @vcpu leave guest mode soon if it is in it, or its halt in the
 * module: any interrupt makes the guest exit, and the run loop then sees
 * why it was kicked.  The
 * reschedule IPI, as KVM sends, can be sent from any context, the APIC
 * timer's hard interrupt included, and its handler does nothing here.
 */
void ringvm_vcpu_kick(struct ringvm_vcpu *vcpu)
{
	int cpu, me;

	rcuwait_wake_up(&vcpu->wait);	/* halted in the module (lapic.c) */
	if (READ_ONCE(vcpu->mode) != RINGVM_IN_GUEST)
		return;
	cpu = READ_ONCE(vcpu->cpu);
	me = get_cpu();
	if (cpu >= 0 && cpu != me && cpu_online(cpu))
		smp_send_reschedule(cpu);
	put_cpu();
}
