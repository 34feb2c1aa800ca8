// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page tables: one table-management core for EPT and NPT.
 *
 *  1. ringvm_npt_init()    - an empty level-4 table
 *  2. ringvm_npt_map()     - map one 4 KiB or 2 MiB guest page, adding
 *                            tables from a vCPU's cache
 *                            (ringvm_npt_cache_fill())
 *  3. ringvm_npt_destroy() - free every table, leaves are not ours
 *
 * The entry bits come from a struct ringvm_npt_ops (formats.c); the
 * walk here only knows "512 entries per level, 9 address bits each".
 * NPT follows the host's paging depth (AMD APM Vol. 2 §15.25.3): under a
 * host with CR4.LA57 the SVM backend puts a fifth-level table of its own,
 * one entry pointing here, above these four (svm/vcpu.c).
 *
 * Levels are numbered as the manuals do: 4 (PML4) down to 1 (PT).  A
 * 2 MiB page is a leaf at level 2 (RINGVM_VM_LARGE_PAGES): an EPT PDE
 * with bit 7 set (SDM Vol. 3C §29.3.2), or on AMD a long-mode PDE with
 * PS set, the nested tables having the long-mode format (APM Vol. 2
 * §5.3 and §15.25.5); ops->large() tells it from a table.  1 GiB leaves
 * at level 3 would fit in the same way.
 *
 * Context: process context.  Table pages come from the faulting vCPU's
 * cache, filled before npt->lock is taken; the lock, a spinlock held only
 * while entries are written, keeps vCPUs faulting in pages of one VM on
 * several CPUs from racing.  Mapping never sleeps, so the run loop maps
 * a page without leaving its preemption-off section (exit.c).  Entries are
 * written with WRITE_ONCE: the hardware walker may read them at any time.
 *
 * Invalidation: entries only ever go from not-present to present while
 * a VM lives, and the SDM (Vol. 3C §29.4.3.1) and the APM (Vol. 2
 * §15.25.12 "TLB management") let a CPU cache only present entries,
 * so a new mapping needs no flush.  A VM's tables are freed with the VM
 * after its last vCPU is gone, and a vCPU always flushes its EPTP/VPID or
 * takes a fresh ASID on its first run on a CPU (see the backends), so a
 * recycled root page cannot inherit stale translations.  Anything that
 * ever removes or downgrades an entry must flush every CPU first.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/spinlock.h>

#include "vm.h"

#define NPT_LEVELS	4
#define NPT_ENTRIES	512

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (NPT_ENTRIES - 1);
}

int ringvm_npt_init(struct ringvm_npt *npt, const struct ringvm_npt_ops *ops)
{
	npt->ops = ops;
	spin_lock_init(&npt->lock);
	npt->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!npt->root)
		return -ENOMEM;
	npt->root_pa = __pa(npt->root);
	return 0;
}

static void npt_free_table(const struct ringvm_npt_ops *ops, u64 *table,
			   int level)
{
	unsigned int i;

	for (i = 0; level > 1 && i < NPT_ENTRIES; i++) {
		u64 e = table[i];

		if (ops->present(e) && !ops->large(e, level))
			npt_free_table(ops, __va(ops->addr(e)), level - 1);
	}
	free_page((unsigned long)table);
}

void ringvm_npt_destroy(struct ringvm_npt *npt)
{
	if (npt->root)
		npt_free_table(npt->ops, npt->root, NPT_LEVELS);
	npt->root = NULL;
}

/*
 * A vCPU's table pages for its next nested faults: filled, zeroed, before
 * a fault needs them and kept when it does not, so that a fault under a
 * table that exists costs no allocation at all.  Only the vCPU's own
 * thread (in RINGVM_RUN, vcpu->mutex held) fills and takes from it.
 */
int ringvm_npt_cache_fill(struct ringvm_npt_cache *cache, gfp_t gfp)
{
	while (cache->nr < RINGVM_NPT_CACHE) {
		u64 *page = (u64 *)get_zeroed_page(gfp | __GFP_ACCOUNT);

		if (!page)
			return -ENOMEM;
		cache->pages[cache->nr++] = page;
	}
	return 0;
}

void ringvm_npt_cache_free(struct ringvm_npt_cache *cache)
{
	while (cache->nr)
		free_page((unsigned long)cache->pages[--cache->nr]);
}

/* The bytes one entry at @level maps: 4 KiB at 1, 2 MiB at 2. */
static u64 npt_level_size(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

/*
 * Map the guest page at @gpa to the host memory at @pa: 4 KiB with @level
 * 1, 2 MiB with @level 2 (both aligned to that size), taking the tables
 * it needs from @cache, which must be full (one table for every level
 * below the root: the worst case).  Returns 0, also when another vCPU
 * mapped the same page first or a 2 MiB page maps it already; -EBUSY
 * for a 2 MiB page where 4 KiB pages are mapped (the caller maps 4 KiB
 * instead); -EEXIST if @gpa is mapped to different memory (a host bug:
 * the caller reports it).  Never sleeps.
 */
int ringvm_npt_map(struct ringvm_npt *npt, struct ringvm_npt_cache *cache,
		   u64 gpa, phys_addr_t pa, unsigned int prot, int level)
{
	const struct ringvm_npt_ops *ops = npt->ops;
	u64 *table, *slot;
	int l, r = 0;
	u64 e;

	BUILD_BUG_ON(NPT_LEVELS - 1 > RINGVM_NPT_CACHE);
	if (WARN_ON_ONCE(cache->nr < RINGVM_NPT_CACHE || level < 1 ||
			 level > 2 ||
			 ((gpa | pa) & (npt_level_size(level) - 1))))
		return -ENOMEM;

	spin_lock(&npt->lock);
	table = npt->root;
	for (l = NPT_LEVELS; l > level; l--) {
		slot = &table[npt_index(gpa, l)];
		e = READ_ONCE(*slot);
		if (!ops->present(e)) {
			u64 *next = cache->pages[--cache->nr];

			e = ops->table_entry(__pa(next));
			WRITE_ONCE(*slot, e);
		} else if (ops->large(e, l)) {
			/* a 2 MiB page already: right if it covers @pa */
			r = ops->addr(e) + (gpa & (npt_level_size(l) - 1)) ==
			    (pa & PAGE_MASK) ? 0 : -EEXIST;
			goto out_unlock;
		}
		table = __va(ops->addr(e));
	}

	slot = &table[npt_index(gpa, level)];
	e = READ_ONCE(*slot);
	if (!ops->present(e))
		WRITE_ONCE(*slot, ops->leaf_entry(pa, prot, level));
	else if (level > 1 && !ops->large(e, level))
		r = -EBUSY;		/* a table of 4 KiB pages */
	else
		r = ops->addr(e) == (pa & PAGE_MASK) ? 0 : -EEXIST;
out_unlock:
	spin_unlock(&npt->lock);
	return r;
}
