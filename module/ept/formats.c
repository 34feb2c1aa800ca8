// SPDX-License-Identifier: GPL-2.0
/*
 * The two formats of nested page table entry.
 *
 * EPT and NPT are both 4-level radix trees of 512 eight-byte entries
 * indexed by guest-physical address bits 47:12, so npt.c walks and fills
 * them with one piece of code; only the bits of an entry differ:
 *
 *  - EPT (Intel SDM Vol. 3C §29.3.2, Tables 29-1..29-6): bit 0 read,
 *    bit 1 write, bit 2 execute; a leaf carries the memory type in bits
 *    5:3 and "ignore PAT" in bit 6; bit 7 marks a large page.
 *  - NPT (AMD APM Vol. 2 §15.25.5): ordinary long-mode entries.  The
 *    nested walk treats every access as a user access, so U/S must be 1
 *    at every level; bit 63 (NX) forbids execution; PAT bits 0 give WB.
 *
 * Pure functions: any context.
 */
#include <linux/bits.h>
#include <linux/pfn.h>

#include "vm.h"

#define NPT_ADDR_MASK	GENMASK_ULL(51, 12)

/* EPT */
#define EPT_READ	BIT_ULL(0)
#define EPT_WRITE	BIT_ULL(1)
#define EPT_EXEC	BIT_ULL(2)
#define EPT_MT_WB	(6ULL << 3)	/* SDM Vol. 3C §29.3.7 */
#define EPT_LARGE	BIT_ULL(7)

static u64 ept_table_entry(phys_addr_t table)
{
	return (table & NPT_ADDR_MASK) | EPT_READ | EPT_WRITE | EPT_EXEC;
}

/*
 * Guest RAM is ordinary write-back kernel memory: EPT type WB with
 * "ignore PAT" clear, so the guest's own PAT still combines with it
 * (SDM Vol. 3C §29.3.7.2) and a guest that maps RAM UC gets UC.
 */
static u64 ept_leaf_entry(phys_addr_t page, unsigned int prot, int level)
{
	u64 e = (page & NPT_ADDR_MASK) | EPT_MT_WB;

	if (prot & RINGVM_NPT_READ)
		e |= EPT_READ;
	if (prot & RINGVM_NPT_WRITE)
		e |= EPT_WRITE;
	if (prot & RINGVM_NPT_EXEC)
		e |= EPT_EXEC;
	if (level > 1)
		e |= EPT_LARGE;
	return e;
}

/* An EPT entry is present when any of R, W, X is set (SDM §29.3.2). */
static bool ept_present(u64 entry)
{
	return entry & (EPT_READ | EPT_WRITE | EPT_EXEC);
}

static bool ept_large(u64 entry, int level)
{
	return level > 1 && (entry & EPT_LARGE);
}

static phys_addr_t npt_entry_addr(u64 entry)
{
	return entry & NPT_ADDR_MASK;
}

const struct ringvm_npt_ops ringvm_ept_ops = {
	.name = "ept",
	.table_entry = ept_table_entry,
	.leaf_entry = ept_leaf_entry,
	.present = ept_present,
	.large = ept_large,
	.addr = npt_entry_addr,
};

/* NPT */
#define NPT_PRESENT	BIT_ULL(0)
#define NPT_WRITE	BIT_ULL(1)
#define NPT_USER	BIT_ULL(2)
#define NPT_ACCESSED	BIT_ULL(5)
#define NPT_DIRTY	BIT_ULL(6)
#define NPT_LARGE	BIT_ULL(7)
#define NPT_NX		BIT_ULL(63)

static u64 npt_table_entry(phys_addr_t table)
{
	return (table & NPT_ADDR_MASK) | NPT_PRESENT | NPT_WRITE | NPT_USER |
	       NPT_ACCESSED;
}

/*
 * A and D are set up front: the walker would set them itself, and
 * nothing in ringvm reads them yet.
 */
static u64 npt_leaf_entry(phys_addr_t page, unsigned int prot, int level)
{
	u64 e = (page & NPT_ADDR_MASK) | NPT_USER | NPT_ACCESSED | NPT_DIRTY;

	if (prot & RINGVM_NPT_READ)
		e |= NPT_PRESENT;
	if (prot & RINGVM_NPT_WRITE)
		e |= NPT_WRITE;
	if (!(prot & RINGVM_NPT_EXEC))
		e |= NPT_NX;
	if (level > 1)
		e |= NPT_LARGE;
	return e;
}

static bool npt_present(u64 entry)
{
	return entry & NPT_PRESENT;
}

static bool npt_large(u64 entry, int level)
{
	return level > 1 && (entry & NPT_LARGE);
}

const struct ringvm_npt_ops ringvm_npt_amd_ops = {
	.name = "npt",
	.table_entry = npt_table_entry,
	.leaf_entry = npt_leaf_entry,
	.present = npt_present,
	.large = npt_large,
	.addr = npt_entry_addr,
};
