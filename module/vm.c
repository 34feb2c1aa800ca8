// SPDX-License-Identifier: GPL-2.0
/*
 * VMs: creation, the table of VMs, guest RAM and the VM file descriptor.
 *
 *  1. the table: every live VM, by id and by unique name
 *  2. guest RAM: regions checked at creation, pages allocated on first
 *     touch (by the guest, through a nested page fault, or by user space
 *     through mmap) and charged to the creator's memory cgroup
 *  3. creation and destruction; the last reference frees everything
 *  4. the VM file: ioctls (create vCPU, CPUID, info, enable) and mmap
 *
 * Lifetime: a VM is referenced by its table entry until it is destroyed
 * (vm-del, or the last file of an anonymous VM closing), by every VM and
 * vCPU file and by every vCPU.  Destroying takes it out of the table,
 * kicks running vCPUs out with RINGVM_EXIT_DESTROYED and drops the
 * table's reference; memory goes with the last reference.  Each VM holds
 * a reference on the module, so ringvm cannot unload while one exists.
 *
 * Context: process context; ringvm_vm_lock (a mutex) guards the table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/ringvm_netlink.h>
#include <asm/tsc.h>

#include "trace.h"
#include "vm.h"

static_assert(sizeof(struct ringvm_create_vm) == 208);
static_assert(sizeof(struct ringvm_open_vm) == 56);
static_assert(sizeof(struct ringvm_vm_info) == 224);
static_assert(sizeof(struct ringvm_cpuid) == 2056);
static_assert(sizeof(struct ringvm_enable) == 40);

/* 1. The table of VMs, in id order (ids only grow). */
DEFINE_MUTEX(ringvm_vm_lock);
static LIST_HEAD(ringvm_vms);		/* [t] */
static unsigned int ringvm_nr_vms;	/* [t] */
static u32 ringvm_last_id;		/* [t] */

/* Names are for people and scripts: keep them printable and short. */
static bool ringvm_name_ok(const char *name)
{
	size_t i, len = strnlen(name, RINGVM_NAME_MAX);

	if (!len || len >= RINGVM_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

static struct ringvm_vm *ringvm_vm_lookup(u32 id, const char *name)
{
	struct ringvm_vm *vm;

	lockdep_assert_held(&ringvm_vm_lock);
	list_for_each_entry(vm, &ringvm_vms, link)
		if (id ? vm->id == id : !strcmp(vm->name, name))
			return vm;
	return NULL;
}

/* Find a live VM by id (if nonzero) or name, with a reference, or NULL. */
struct ringvm_vm *ringvm_vm_find(u32 id, const char *name)
{
	struct ringvm_vm *vm;

	mutex_lock(&ringvm_vm_lock);
	vm = ringvm_vm_lookup(id, name);
	if (vm)
		ringvm_vm_get(vm);
	mutex_unlock(&ringvm_vm_lock);
	return vm;
}

/* The live VM with the lowest id above @id, with a reference, or NULL. */
struct ringvm_vm *ringvm_vm_find_next(u32 id)
{
	struct ringvm_vm *vm;

	mutex_lock(&ringvm_vm_lock);
	list_for_each_entry(vm, &ringvm_vms, link) {
		if (vm->id > id) {
			ringvm_vm_get(vm);
			mutex_unlock(&ringvm_vm_lock);
			return vm;
		}
	}
	mutex_unlock(&ringvm_vm_lock);
	return NULL;
}

void ringvm_vm_get(struct ringvm_vm *vm)
{
	kref_get(&vm->ref);
}

/* 2. Guest RAM */

/* The region holding guest-physical @gpa, or NULL: MMIO. */
static const struct ringvm_mem_region *ringvm_gpa_region(struct ringvm_vm *vm,
							 u64 gpa)
{
	u32 i;

	for (i = 0; i < vm->nr_regions; i++)
		if (gpa - vm->regions[i].gpa < vm->regions[i].size)
			return &vm->regions[i];
	return NULL;
}

bool ringvm_gpa_is_ram(struct ringvm_vm *vm, u64 gpa)
{
	return ringvm_gpa_region(vm, gpa);
}

/*
 * The page backing guest-physical @gpa, which must be RAM.  With @gfp a
 * missing page is allocated with it (zeroed, charged to the VM's
 * creator): GFP_KERNEL_ACCOUNT may sleep, GFP_NOWAIT never does and may
 * fail.  With @gfp 0 a missing page is NULL.
 */
struct page *ringvm_gpa_page(struct ringvm_vm *vm, u64 gpa, gfp_t gfp)
{
	unsigned long gfn = gpa >> PAGE_SHIFT;
	struct mem_cgroup *old_memcg;
	struct page *page, *old;

	page = xa_load(&vm->pages, gfn);
	if (page || !gfp)
		return page;

	old_memcg = set_active_memcg(vm->memcg);
	page = alloc_page(gfp | __GFP_ACCOUNT | __GFP_ZERO);
	set_active_memcg(old_memcg);
	if (!page)
		return NULL;

	old = xa_cmpxchg(&vm->pages, gfn, NULL, page, gfp | __GFP_ACCOUNT);
	if (old) {		/* lost a race, or no memory for the xarray */
		__free_page(page);
		return xa_is_err(old) ? NULL : old;
	}
	atomic_long_inc(&vm->nr_pages);
	return page;
}

/* Whether the backend's nested tables map 2 MiB pages. */
bool ringvm_large_pages_supported(void)
{
	return ringvm_hw.page_sizes & BIT_ULL(PMD_SHIFT);
}

/* Whether the 2 MiB block at @block lies wholly inside one region. */
static bool ringvm_block_is_ram(struct ringvm_vm *vm, u64 block)
{
	const struct ringvm_mem_region *r = ringvm_gpa_region(vm, block);

	return r && r->size - (block - r->gpa) >= PMD_SIZE;
}

/*
 * The first of the 512 pages in vm->pages at @first, if they are one
 * naturally aligned run of memory that a 2 MiB nested page can map; NULL
 * otherwise.  Looked at under the xarray's lock, so that a block being
 * stored (ringvm_store_block()) is seen whole; pages are only ever added
 * while the VM lives, so a whole block stays whole.
 */
static struct page *ringvm_whole_block(struct ringvm_vm *vm,
				       unsigned long first)
{
	XA_STATE(xas, &vm->pages, first);
	struct page *head = NULL, *page;
	unsigned long i = 0;

	xas_lock(&xas);
	xas_for_each(&xas, page, first + PTRS_PER_PMD - 1) {
		if (!i)
			head = page;
		/* xas_for_each() skips holes: the index tells */
		if (xas.xa_index != first + i || page != head + i)
			break;
		i++;
	}
	xas_unlock(&xas);
	if (i < PTRS_PER_PMD || !IS_ALIGNED(page_to_pfn(head), PTRS_PER_PMD))
		return NULL;
	return head;
}

/*
 * Store the 512 pages of the block at @page as guest frames @first on,
 * all under the xarray's lock, so that two vCPUs faulting in one block
 * at once cannot split it between their allocations: the one that finds
 * another's page in the block stores nothing more.  The lock is dropped
 * only to allocate xarray nodes (xas_nomem()); a page stored before that
 * is recognised as this block's own when it goes on, and a vCPU that
 * looks at the block meanwhile finds it partial and maps 4 KiB pages
 * (correct, only slower).  Counts the pages stored.  True if all 512
 * are: the block is whole, and nothing else is to be done.  Otherwise
 * frees the pages not stored.
 */
static bool ringvm_store_block(struct ringvm_vm *vm, unsigned long first,
			       struct page *page, gfp_t gfp)
{
	XA_STATE(xas, &vm->pages, first);
	unsigned long i, stored = 0;
	void *cur;

	do {
		xas_lock(&xas);
		for (i = 0; i < PTRS_PER_PMD; i++) {
			xas_set(&xas, first + i);
			cur = xas_load(&xas);
			if (cur == page + i)	/* stored before a retry */
				continue;
			if (cur)		/* another's: leave it the block */
				break;
			xas_store(&xas, page + i);
			if (xas_error(&xas))
				break;
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, gfp | __GFP_ACCOUNT));

	if (i == PTRS_PER_PMD) {	/* the last pass found or stored all */
		atomic_long_add(PTRS_PER_PMD, &vm->nr_pages);
		return true;
	}
	for (i = 0; i < PTRS_PER_PMD; i++) {
		if (xa_load(&vm->pages, first + i) == page + i)
			stored++;
		else
			__free_page(page + i);
	}
	atomic_long_add(stored, &vm->nr_pages);
	return false;
}

/*
 * RINGVM_VM_LARGE_PAGES: back the 2 MiB block around guest-physical @gpa
 * with one naturally aligned 2 MiB allocation, if the VM asked for it,
 * the block is RAM from end to end and none of its pages exists yet.
 * alloc_pages_exact() hands the block back as 512 pages with a reference
 * each, which go into vm->pages one by one like any page, so mmap, the
 * copies and ringvm_vm_free_pages() never see the difference.  Returns
 * the block's first page if vm->pages holds a whole block there (this
 * one, or one a racing vCPU stored first), for a 2 MiB nested mapping;
 * NULL otherwise (the caller maps 4 KiB): a block the VMM or a guest
 * access put single pages into stays in 4 KiB pages.  @gfp as for
 * ringvm_gpa_page(), which must not be 0 here; with one that may not
 * sleep, a block that would be allocated is ERR_PTR(-EAGAIN) instead:
 * zeroing 2 MiB is work for the preemptible slow path, not for the run
 * loop's fast one.
 */
struct page *ringvm_gpa_block(struct ringvm_vm *vm, u64 gpa, gfp_t gfp)
{
	unsigned long first = (gpa & PMD_MASK) >> PAGE_SHIFT, gfn = first;
	struct mem_cgroup *old_memcg;
	void *block;

	if (!vm->large_pages || !ringvm_block_is_ram(vm, gpa & PMD_MASK))
		return NULL;
	if (xa_find(&vm->pages, &gfn, first + PTRS_PER_PMD - 1, XA_PRESENT))
		return ringvm_whole_block(vm, first);
	if (!gfpflags_allow_blocking(gfp))
		return ERR_PTR(-EAGAIN);

	old_memcg = set_active_memcg(vm->memcg);
	block = alloc_pages_exact(PMD_SIZE, gfp | __GFP_ACCOUNT | __GFP_ZERO |
				  __GFP_NORETRY | __GFP_NOWARN);
	set_active_memcg(old_memcg);
	if (!block)
		return NULL;

	if (ringvm_store_block(vm, first, virt_to_page(block), gfp))
		return virt_to_page(block);
	return ringvm_whole_block(vm, first);
}

/*
 * @n bytes at @off of guest page @page into @buf; NULL reads as zeros.
 * Inlined: out of line it costs the exit path's fetch (five reads) about
 * 40 instructions.
 */
static __always_inline void ringvm_page_read(struct page *page,
					     unsigned int off, void *buf,
					     unsigned int n)
{
	if (page)
		memcpy(buf, page_address(page) + off, n);
	else
		memset(buf, 0, n);
}

/*
 * Copy guest RAM out of (@write false) or into the VM.  -ENOENT if any
 * byte is not RAM; -ENOMEM if a page cannot be allocated for a write.
 * Unallocated pages read as zeros without being allocated, so a read
 * never sleeps and may run with interrupts off; a write may sleep.
 */
static int ringvm_copy_guest(struct ringvm_vm *vm, u64 gpa, void *buf,
			     unsigned int len, bool write)
{
	while (len) {
		unsigned int off = offset_in_page(gpa);
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page;

		if (!ringvm_gpa_is_ram(vm, gpa))
			return -ENOENT;
		page = ringvm_gpa_page(vm, gpa,
				       write ? GFP_KERNEL_ACCOUNT : 0);
		if (write && !page)
			return -ENOMEM;
		if (write)
			memcpy(page_address(page) + off, buf, n);
		else
			ringvm_page_read(page, off, buf, n);
		buf += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int ringvm_read_guest(struct ringvm_vm *vm, u64 gpa, void *buf,
		      unsigned int len)
{
	return ringvm_copy_guest(vm, gpa, buf, len, false);
}

/*
 * The page behind @gfn for @vcpu's own reads: from slot @i of its page
 * cache, else from vm->pages, remembered there if it exists.
 * ERR_PTR(-ENOENT) if @gfn is not RAM; NULL for RAM never written (it
 * reads as zeros).
 */
static struct page *ringvm_vcpu_page(struct ringvm_vcpu *vcpu,
				     unsigned long gfn, unsigned int i)
{
	struct ringvm_page_cache *c = &vcpu->page_cache;
	struct page *page;

	if (likely(c->page[i] && c->gfn[i] == gfn))
		return c->page[i];
	if (!ringvm_gpa_is_ram(vcpu->vm, (u64)gfn << PAGE_SHIFT))
		return ERR_PTR(-ENOENT);
	page = xa_load(&vcpu->vm->pages, gfn);
	if (page) {
		c->gfn[i] = gfn;
		c->page[i] = page;
	}
	return page;
}

/* ringvm_vcpu_read_guest() (vm.h) when its inline case does not apply. */
int __ringvm_vcpu_read_guest(struct ringvm_vcpu *vcpu, u64 gpa, void *buf,
			     unsigned int len, unsigned int slot)
{
	if (WARN_ON_ONCE(slot >= RINGVM_PAGE_CACHE_SIZE))
		return -EINVAL;
	while (len) {
		unsigned int off = offset_in_page(gpa);
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - off);
		struct page *page = ringvm_vcpu_page(vcpu, gpa >> PAGE_SHIFT,
						     slot);

		if (IS_ERR(page))
			return PTR_ERR(page);
		ringvm_page_read(page, off, buf, n);
		buf += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int ringvm_write_guest(struct ringvm_vm *vm, u64 gpa, const void *buf,
		       unsigned int len)
{
	return ringvm_copy_guest(vm, gpa, (void *)buf, len, true);
}

/*
 * Regions: aligned, nonzero, below the host's physical address width,
 * not overlapping, and within max_vm_mem_mb in total.
 */
static int ringvm_check_regions(const struct ringvm_mem_region *r, u32 nr,
				const char **why)
{
	u64 limit = 1ULL << boot_cpu_data.x86_phys_bits;
	u64 total = 0;
	u32 i, j;

	if (!nr || nr > RINGVM_MAX_MEM_REGIONS) {
		*why = "need 1 to 8 memory regions";
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		if (!r[i].size || !PAGE_ALIGNED(r[i].gpa) ||
		    !PAGE_ALIGNED(r[i].size)) {
			*why = "memory region not 4 KiB aligned or empty";
			return -EINVAL;
		}
		if (r[i].gpa >= limit || r[i].size > limit - r[i].gpa) {
			*why = "memory region beyond the physical address width";
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (r[i].gpa < r[j].gpa + r[j].size &&
			    r[j].gpa < r[i].gpa + r[i].size) {
				*why = "memory regions overlap";
				return -EINVAL;
			}
		}
		total += r[i].size;
	}
	if (total > (u64)ringvm_max_vm_mem_mb << 20) {
		*why = "more memory than the max_vm_mem_mb parameter allows";
		return -E2BIG;
	}
	return 0;
}

/* 3. Creation and destruction */

static void ringvm_vm_free_pages(struct ringvm_vm *vm)
{
	unsigned long gfn;
	struct page *page;

	xa_for_each(&vm->pages, gfn, page)
		__free_page(page);
	xa_destroy(&vm->pages);
}

static void ringvm_vm_release(struct kref *ref)
{
	struct ringvm_vm *vm = container_of(ref, struct ringvm_vm, ref);

	ringvm_npt_destroy(&vm->npt);
	ringvm_vm_free_pages(vm);
	kfree(rcu_dereference_protected(vm->cpuid, true));
	mem_cgroup_put(vm->memcg);
	kfree(vm->vcpus);
	kfree(vm);
	module_put(THIS_MODULE);
}

void ringvm_vm_put(struct ringvm_vm *vm)
{
	kref_put(&vm->ref, ringvm_vm_release);
}

/*
 * Create a VM and put it in the table.  On success *out holds the
 * table's reference plus one for the caller.  On failure *why says what
 * was wrong with the request, for an extack.
 */
int ringvm_vm_create(const char *name, bool anonymous, u32 flags,
		     const struct ringvm_mem_region *regions, u32 nr_regions,
		     u32 max_vcpus, struct ringvm_vm **out, const char **why)
{
	struct ringvm_vm *vm;
	int r;

	*why = NULL;
	if (!anonymous || name[0]) {
		if (!ringvm_name_ok(name)) {
			*why = "name must be 1-31 characters of A-Z a-z 0-9 . _ -";
			return -EINVAL;
		}
	}
	if ((flags & RINGVM_VM_LARGE_PAGES) &&
	    !ringvm_large_pages_supported()) {
		*why = "the hardware maps no 2 MiB nested pages";
		return -EOPNOTSUPP;
	}
	if (!max_vcpus)
		max_vcpus = 1;
	if (max_vcpus > ringvm_max_vcpus) {
		*why = "more vCPUs than the max_vcpus parameter allows";
		return -EINVAL;
	}
	r = ringvm_check_regions(regions, nr_regions, why);
	if (r)
		return r;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	kref_init(&vm->ref);
	vm->tsc_offset = -rdtsc();
	vm->anonymous = anonymous;
	vm->large_pages = flags & RINGVM_VM_LARGE_PAGES;
	vm->owner = current_euid();	/* netlink.c shows a VM to its owner */
	vm->nr_regions = nr_regions;
	memcpy(vm->regions, regions, nr_regions * sizeof(*regions));
	xa_init(&vm->pages);
	mutex_init(&vm->lock);
	vm->max_vcpus = max_vcpus;
	vm->vcpus = kcalloc(max_vcpus, sizeof(*vm->vcpus), GFP_KERNEL_ACCOUNT);
	if (!vm->vcpus) {
		r = -ENOMEM;
		goto err_free_vm;
	}
	r = ringvm_npt_init(&vm->npt, ringvm_arch->npt_ops);
	if (r)
		goto err_free_vcpus;
	vm->memcg = get_mem_cgroup_from_mm(current->mm);

	mutex_lock(&ringvm_vm_lock);
	if (ringvm_nr_vms >= ringvm_max_vms) {
		*why = "as many VMs as the max_vms parameter allows exist";
		r = -ENOSPC;
		goto err_unlock;
	}
	if (name[0] && ringvm_vm_lookup(0, name)) {
		*why = "a VM with this name exists";
		r = -EEXIST;
		goto err_unlock;
	}
	vm->id = ++ringvm_last_id;
	if (name[0])
		strscpy(vm->name, name, sizeof(vm->name));
	else
		snprintf(vm->name, sizeof(vm->name), "anon-%u", vm->id);
	list_add_tail(&vm->link, &ringvm_vms);
	ringvm_nr_vms++;
	__module_get(THIS_MODULE);
	ringvm_vm_get(vm);		/* the caller's */
	mutex_unlock(&ringvm_vm_lock);

	ringvm_nl_vm_event(vm, RINGVM_VM_EVENT_CREATED);
	trace_ringvm_vm_create(vm);
	*out = vm;
	return 0;

err_unlock:
	mutex_unlock(&ringvm_vm_lock);
	mem_cgroup_put(vm->memcg);
	ringvm_npt_destroy(&vm->npt);
err_free_vcpus:
	kfree(vm->vcpus);
err_free_vm:
	kfree(vm);
	return r;
}

/*
 * Take @vm out of the table, kick its vCPUs out of the guest and drop
 * the table's reference.  -ENOENT if it was destroyed already.
 */
int ringvm_vm_destroy(struct ringvm_vm *vm)
{
	u32 i;

	mutex_lock(&ringvm_vm_lock);
	if (vm->destroyed) {
		mutex_unlock(&ringvm_vm_lock);
		return -ENOENT;
	}
	WRITE_ONCE(vm->destroyed, true);
	list_del(&vm->link);
	ringvm_nr_vms--;
	mutex_unlock(&ringvm_vm_lock);

	/* Pairs with the barrier between vcpu->mode and the check in run.c */
	smp_mb();
	mutex_lock(&vm->lock);
	for (i = 0; i < vm->max_vcpus; i++)
		if (vm->vcpus[i])
			ringvm_vcpu_kick(vm->vcpus[i]);
	mutex_unlock(&vm->lock);

	ringvm_nl_vm_event(vm, RINGVM_VM_EVENT_DESTROYED);
	trace_ringvm_vm_destroy(vm);
	ringvm_vm_put(vm);
	return 0;
}

/* An anonymous VM goes with the last file that refers to it. */
void ringvm_vm_file_put(struct ringvm_vm *vm)
{
	if (atomic_dec_and_test(&vm->nr_files) && vm->anonymous)
		ringvm_vm_destroy(vm);
	ringvm_vm_put(vm);
}

void ringvm_vm_fill_info(struct ringvm_vm *vm, struct ringvm_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = vm->id;
	if (vm->anonymous)
		info->flags |= RINGVM_VM_INFO_ANONYMOUS;
	if (READ_ONCE(vm->destroyed))
		info->flags |= RINGVM_VM_INFO_DESTROYED;
	if (vm->large_pages)
		info->flags |= RINGVM_VM_INFO_LARGE_PAGES;
	info->nr_regions = vm->nr_regions;
	info->max_vcpus = vm->max_vcpus;
	info->nr_vcpus = READ_ONCE(vm->nr_vcpus);
	info->mem_allocated = (u64)atomic_long_read(&vm->nr_pages) << PAGE_SHIFT;
	strscpy(info->name, vm->name, sizeof(info->name));
	memcpy(info->regions, vm->regions, sizeof(info->regions));
}

/* 4. The VM file */

static long ringvm_vm_ioctl_create_vcpu(struct ringvm_vm *vm,
					unsigned long arg)
{
	if (arg >= vm->max_vcpus)
		return -EINVAL;
	return ringvm_vcpu_create(vm, arg);
}

static long ringvm_vm_ioctl_set_cpuid(struct ringvm_vm *vm,
				      unsigned long arg)
{
	struct ringvm_cpuid __user *ucpuid = (void __user *)arg;
	struct ringvm_cpuid_table *table, *old;
	u32 nent, flags, i;

	if (get_user(nent, &ucpuid->nent) || get_user(flags, &ucpuid->flags))
		return -EFAULT;
	if (flags || nent > RINGVM_MAX_CPUID_ENTRIES)
		return -EINVAL;
	table = kmalloc(struct_size(table, entries, nent), GFP_KERNEL_ACCOUNT);
	if (!table)
		return -ENOMEM;
	table->nent = nent;
	if (copy_from_user(table->entries, ucpuid->entries,
			   nent * sizeof(table->entries[0]))) {
		kfree(table);
		return -EFAULT;
	}
	for (i = 0; i < nent; i++) {
		if (table->entries[i].pad || table->entries[i].flags &
		    ~RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX) {
			kfree(table);
			return -EINVAL;
		}
	}

	mutex_lock(&vm->lock);
	old = rcu_replace_pointer(vm->cpuid, table, lockdep_is_held(&vm->lock));
	mutex_unlock(&vm->lock);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static long ringvm_vm_ioctl_get_info(struct ringvm_vm *vm, unsigned long arg)
{
	struct ringvm_vm_info __user *uinfo = (void __user *)arg;
	struct ringvm_vm_info info;
	u32 flags;

	if (get_user(flags, &uinfo->flags))
		return -EFAULT;
	if (flags)
		return -EINVAL;
	ringvm_vm_fill_info(vm, &info);
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ringvm_vm_ioctl_enable(struct ringvm_vm *vm, unsigned long arg)
{
	struct ringvm_enable en;

	if (copy_from_user(&en, (void __user *)arg, sizeof(en)))
		return -EFAULT;
	if (en.flags)
		return -EINVAL;
	switch (en.cap) {
	case RINGVM_ENABLE_MSR_EXIT:
		/* args[0]: 1 to turn on, 0 to turn off; nothing else. */
		if (en.args[0] > 1 || en.args[1] || en.args[2] || en.args[3])
			return -EINVAL;
		WRITE_ONCE(vm->msr_exit, en.args[0]);
		return 0;
	case RINGVM_ENABLE_PM_TIMER:
		/* args[0]: the port, 0 for none; nothing else. */
		if (en.args[0] > 0xffff || en.args[1] || en.args[2] ||
		    en.args[3])
			return -EINVAL;
		WRITE_ONCE(vm->pm_timer_port, en.args[0]);
		return 0;
	case RINGVM_ENABLE_LAPIC:
		/* Before the first vCPU: every vCPU has one or none does. */
		if ((en.args[0] & ~RINGVM_LAPIC_FLAGS) || en.args[1] ||
		    en.args[2] || en.args[3])
			return -EINVAL;
		mutex_lock(&vm->lock);
		if (vm->nr_vcpus) {
			mutex_unlock(&vm->lock);
			return -EBUSY;
		}
		vm->lapic = true;
		vm->eoi_exit = en.args[0] & RINGVM_LAPIC_EOI_EXIT;
		mutex_unlock(&vm->lock);
		return 0;
	default:
		return -EINVAL;
	}
}

struct ringvm_vm_ioctl {
	unsigned int cmd;
	long (*fn)(struct ringvm_vm *vm, unsigned long arg);
};

/* Indexed by _IOC_NR() - 0x10.  None needs a lock held on entry. */
#define VM_NR(cmd)	(_IOC_NR(cmd) - 0x10)
static const struct ringvm_vm_ioctl ringvm_vm_ioctls[] = {
	[VM_NR(RINGVM_CREATE_VCPU)] = {
		RINGVM_CREATE_VCPU, ringvm_vm_ioctl_create_vcpu
	},
	[VM_NR(RINGVM_SET_CPUID)] = {
		RINGVM_SET_CPUID, ringvm_vm_ioctl_set_cpuid
	},
	[VM_NR(RINGVM_GET_VM_INFO)] = {
		RINGVM_GET_VM_INFO, ringvm_vm_ioctl_get_info
	},
	[VM_NR(RINGVM_ENABLE)] = {
		RINGVM_ENABLE, ringvm_vm_ioctl_enable
	},
	[VM_NR(RINGVM_SIGNAL_MSI)] = {
		RINGVM_SIGNAL_MSI, ringvm_vm_signal_msi
	},
};

static long ringvm_vm_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct ringvm_vm *vm = file->private_data;
	const struct ringvm_vm_ioctl *ioc;
	unsigned int nr = VM_NR(cmd);

	if (_IOC_TYPE(cmd) != RINGVMIO || nr >= ARRAY_SIZE(ringvm_vm_ioctls))
		return -ENOTTY;
	ioc = &ringvm_vm_ioctls[array_index_nospec(nr,
					ARRAY_SIZE(ringvm_vm_ioctls))];
	if (!ioc->fn || ioc->cmd != cmd)
		return -ENOTTY;
	return ioc->fn(vm, arg);
}

static vm_fault_t ringvm_vm_fault(struct vm_fault *vmf)
{
	struct ringvm_vm *vm = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct page *page;

	if (!ringvm_gpa_is_ram(vm, gpa))
		return VM_FAULT_SIGBUS;
	page = ringvm_gpa_page(vm, gpa, GFP_KERNEL_ACCOUNT);
	if (!page)
		return VM_FAULT_OOM;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct ringvm_vm_vm_ops = {
	.fault = ringvm_vm_fault,
};

/* The mapping's file offset is the guest-physical address. */
static int ringvm_vm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ringvm_vm *vm = file->private_data;
	u64 gpa = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 size = vma->vm_end - vma->vm_start;
	u32 i;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > (U64_MAX >> PAGE_SHIFT))
		return -EINVAL;
	for (i = 0; i < vm->nr_regions; i++) {
		const struct ringvm_mem_region *r = &vm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    size <= r->size - (gpa - r->gpa))
			break;
	}
	if (i == vm->nr_regions)
		return -EINVAL;

#ifdef RINGVM_HAVE_VM_FLAGS_SET	/* Linux 6.3 made vm_flags read-only */
	vm_flags_set(vma, VM_DONTEXPAND);
#else
	vma->vm_flags |= VM_DONTEXPAND;
#endif
	vma->vm_ops = &ringvm_vm_vm_ops;
	return 0;
}

static int ringvm_vm_release_file(struct inode *inode, struct file *file)
{
	ringvm_vm_file_put(file->private_data);
	return 0;
}

static const struct file_operations ringvm_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ringvm_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ringvm_vm_mmap,
	.release = ringvm_vm_release_file,
	.llseek = noop_llseek,
};

/*
 * A new file descriptor for @vm.  Consumes the caller's reference on
 * success and leaves it to the caller on failure.
 */
int ringvm_vm_getfd(struct ringvm_vm *vm)
{
	int fd;

	atomic_inc(&vm->nr_files);
	fd = anon_inode_getfd("ringvm-vm", &ringvm_vm_fops, vm,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		atomic_dec(&vm->nr_files);
	return fd;
}
