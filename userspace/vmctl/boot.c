// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: starting vCPU 0 in real, protected or long mode at the
 * image's entry point.  boot.h has the guest-physical layout.
 *
 *  1. real mode: the reset state with CS:IP and the data and stack
 *     segments pointing at the entry's 64 KiB segment;
 *  2. protected mode: a GDT in guest RAM and flat 32-bit segments that
 *     match it, CR0.PE, no paging;
 *  3. long mode: the same GDT, identity-mapping page tables for the
 *     first 4 GiB, a 64-bit CS, EFER.LME|LMA, CR0.PG|PE, CR4.PAE.
 * The IDT is empty (limit 0) outside real mode: the guest's first
 * exception becomes a triple fault, which vmctl reports (exit 4), until
 * it loads its own.
 *
 * The hidden parts of the segment registers are set to exactly what
 * loading the GDT's selectors would give (Intel SDM Vol. 3A §3.4.5), so a
 * guest that reloads a segment register sees no change.
 */
#include <string.h>

#include "machine.h"

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define EFER_LME	(1ULL << 8)

#define SEG_TYPE_DATA	0x3	/* read/write, accessed */
#define SEG_TYPE_CODE	0xb	/* execute/read, accessed */
#define SEG_TYPE_TSS	0xb	/* busy 32/64-bit TSS */

/*
 * A code or data descriptor (Intel SDM Vol. 3A §3.4.5): base 0, limit
 * 0xfffff in 4 KiB units, present, DPL 0, S = 1.
 */
static __u64 gdt_flat(__u8 type, bool l, bool db)
{
	return 0xffffULL | (__u64)(0x90 | type) << 40 | 0xfULL << 48 |
	       (__u64)(l ? 0x2 : 0) << 52 | (__u64)(db ? 0x4 : 0) << 52 |
	       0x8ULL << 52;			/* G */
}

/*
 * A 64-bit TSS descriptor, two entries (§8.2.3); in 32-bit mode the
 * second reads as a null descriptor.
 */
static void gdt_tss(__u64 *d, __u64 base, __u32 limit)
{
	d[0] = (limit & 0xffff) | (base & 0xffffff) << 16 |
	       (__u64)(0x80 | SEG_TYPE_TSS) << 40 |
	       (__u64)((limit >> 16) & 0xf) << 48 |
	       ((base >> 24) & 0xff) << 56;
	d[1] = base >> 32;
}

static struct ringvm_segment seg_flat(__u16 sel, __u8 type, bool l, bool db)
{
	return (struct ringvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = l, .g = 1,
	};
}

/* The boot data of protected and long mode (boot.h), in guest RAM. */
static int write_boot_data(struct vmctl_machine *m)
{
	__u8 *boot = vmctl_gpa_to_hva(m, VMCTL_BOOT_START,
				      VMCTL_BOOT_END - VMCTL_BOOT_START);
	__u64 *gdt, *pml4, *pdpt, *pd;
	unsigned int i;

	if (!boot)
		return vmctl_fail("%s: no RAM at 0x%x-0x%x for the GDT and page tables",
				  m->name, VMCTL_BOOT_START, VMCTL_BOOT_END - 1);
#define BOOT_PTR(gpa)	((__u64 *)(boot + (gpa) - VMCTL_BOOT_START))
	memset(boot, 0, VMCTL_BOOT_END - VMCTL_BOOT_START);
	gdt = BOOT_PTR(VMCTL_BOOT_GDT);
	gdt[VMCTL_SEL_CODE32 / 8] = gdt_flat(SEG_TYPE_CODE, false, true);
	gdt[VMCTL_SEL_DATA / 8] = gdt_flat(SEG_TYPE_DATA, false, true);
	gdt[VMCTL_SEL_CODE64 / 8] = gdt_flat(SEG_TYPE_CODE, true, false);
	gdt_tss(&gdt[VMCTL_SEL_TSS / 8], VMCTL_BOOT_TSS, VMCTL_BOOT_TSS_LIMIT);

	/* 4-level paging, 2 MiB pages (Intel SDM Vol. 3A §4.5). */
	pml4 = BOOT_PTR(VMCTL_BOOT_PML4);
	pdpt = BOOT_PTR(VMCTL_BOOT_PDPT);
	pd = BOOT_PTR(VMCTL_BOOT_PD);
	pml4[0] = VMCTL_BOOT_PDPT | PTE_P | PTE_RW;
	for (i = 0; i < VMCTL_BOOT_NR_PD; i++)
		pdpt[i] = (VMCTL_BOOT_PD + i * 4096ULL) | PTE_P | PTE_RW;
	for (i = 0; i < VMCTL_BOOT_NR_PD * 512; i++)
		pd[i] = ((__u64)i << 21) | PTE_P | PTE_RW | PTE_PS;
#undef BOOT_PTR
	return 0;
}

/* 1. Real mode: CS = DS = ES = FS = GS = SS = entry's segment, SP 0. */
static void setup_real(struct ringvm_sregs *s, struct ringvm_regs *r,
		       __u64 entry)
{
	__u16 sel = (entry >> 4) & 0xf000;
	struct ringvm_segment *segs[] = {
		&s->ds, &s->es, &s->fs, &s->gs, &s->ss,
	};
	unsigned int i;

	s->cs.selector = sel;
	s->cs.base = (__u64)sel << 4;
	s->cs.limit = 0xffff;
	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		segs[i]->selector = sel;
		segs[i]->base = (__u64)sel << 4;
		segs[i]->limit = 0xffff;
	}
	r->rip = entry & 0xffff;
	r->rsp = 0;		/* the first push goes to the segment's top */
}

/* 2. and 3. */
static void setup_flat(struct ringvm_sregs *s, struct ringvm_regs *r,
		       enum vmctl_mode mode, __u64 entry, __u64 stack)
{
	struct ringvm_segment data = seg_flat(VMCTL_SEL_DATA, SEG_TYPE_DATA,
					      false, true);
	bool lm = mode == VMCTL_MODE_LONG;

	if (lm)
		s->cs = seg_flat(VMCTL_SEL_CODE64, SEG_TYPE_CODE, true, false);
	else
		s->cs = seg_flat(VMCTL_SEL_CODE32, SEG_TYPE_CODE, false, true);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct ringvm_segment) {
		.base = VMCTL_BOOT_TSS, .limit = VMCTL_BOOT_TSS_LIMIT,
		.selector = VMCTL_SEL_TSS, .type = SEG_TYPE_TSS, .present = 1,
	};
	s->gdt.base = VMCTL_BOOT_GDT;
	s->gdt.limit = VMCTL_GDT_ENTRIES * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	s->cr4 = 0;
	s->efer = 0;
	if (lm) {
		s->cr0 |= X86_CR0_PG;
		s->cr3 = VMCTL_BOOT_PML4;
		s->cr4 |= X86_CR4_PAE;
		s->efer |= EFER_LME | EFER_LMA;
	}
	r->rip = entry;
	r->rsp = stack;
}

int vmctl_boot_setup(struct vmctl_machine *m, enum vmctl_mode mode,
		     __u64 entry, __u64 stack)
{
	struct ringvm_sregs sregs;
	struct ringvm_regs regs = { .rflags = 0x2 };
	int ret;

	/* Start from the reset state the hypervisor gave vCPU 0. */
	ret = vmctl_get_sregs(m, 0, &sregs);
	if (ret < 0)
		return vmctl_fail("reading vCPU 0's segment registers: %s",
				  strerror(-ret));
	if (mode == VMCTL_MODE_REAL) {
		setup_real(&sregs, &regs, entry);
	} else {
		ret = write_boot_data(m);
		if (ret)
			return ret;
		setup_flat(&sregs, &regs, mode, entry, stack);
	}
	ret = vmctl_set_sregs(m, 0, &sregs);
	if (ret < 0)
		return vmctl_fail("setting vCPU 0's segment registers: %s",
				  strerror(-ret));
	ret = vmctl_set_regs(m, 0, &regs);
	if (ret < 0)
		return vmctl_fail("setting vCPU 0's registers: %s",
				  strerror(-ret));
	return 0;
}
