// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run: the hypervisor under the machine.  ringvm (/dev/ringvm) by
 * default; with --backend kvm the same loaders, devices and run loop
 * drive KVM (/dev/kvm, Documentation/virt/kvm/api.rst) instead, so that
 * one guest can be run under both and what it does compared: its
 * console, its exit status, the exits vmctl saw.
 *
 * The KVM machine is the one a ringvm VM without in-kernel APICs gives:
 * one vCPU, RAM from guest-physical 0, no in-kernel irqchip (the PIC
 * and PIT stay in vmctl and interrupts go in with KVM_INTERRUPT), and
 * vmctl's CPUID table less what KVM cannot give.  The run loop keeps
 * reading ringvm's struct ringvm_run: vmctl_vcpu_run() fills a page of
 * that layout from KVM's struct kvm_run after KVM_RUN, and copies what
 * the devices answered (an IN's data, an MMIO read's) back into
 * kvm_run before the next.
 *
 * Where the two differ for a guest (uapi/README.md says what ringvm
 * does): hypercalls KVM does not know return -KVM_ENOSYS (-1000) in
 * the guest without reaching vmctl, where ringvm hands them to vmctl,
 * which returns -ENOSYS (-38); KVM takes interrupt vectors below 32;
 * CPUID 0x40000000 has no signature and 0x40000001 no ringvm features;
 * with the APICs, a HLT with interrupts off waits in KVM for an NMI,
 * INIT or SIPI, where ringvm also reports it once (a HLT exit with
 * if_flag 0, which ends vmctl run): vmctl then runs until stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "machine.h"

/* linux/kvm.h's spelling before 6.6 (the old one is kept there). */
#define KVM_CPUID_SIGNIFICANT	KVM_CPUID_FLAG_SIGNIFCANT_INDEX

/* 1. ringvm */

static int vcpu_fd(struct vmctl_machine *m, unsigned int id)
{
	return id ? m->ap_fd[id] : m->vcpufd;
}

/* 2. KVM */

/* Where the (single) TSS of KVM's real-mode support goes, as QEMU does. */
#define KVM_TSS_ADDR		0xfffbd000ULL

/*
 * An IN's or OUT's data in vmctl's run page: after the struct, as ringvm
 * puts it.  KVM moves at most a page per string I/O exit; what does
 * not fit here is refused (a guest would need REP INS/OUTS of over 3 KiB
 * to one port).
 */
#define KVM_IO_DATA	((sizeof(struct ringvm_run) + 63) & ~63UL)

/* I/O APIC pins KVM_CAP_SPLIT_IRQCHIP reserves routes for (dev_ioapic.c) */
#define KVM_IOAPIC_PINS		24

struct kvm_vcpu_state {
	int fd;				/* 0 until made: see kvm_fd() */
	struct kvm_run *run;
	/* Completion owed to KVM before the next KVM_RUN. */
	enum { OWE_NOTHING, OWE_IN, OWE_MMIO_READ } owe;
};

static struct {
	int kvm_fd, vm_fd;
	size_t run_size;
	bool lapic;			/* split irqchip: APICs in KVM */
	unsigned int nr_vcpus;
	struct kvm_vcpu_state v[VMCTL_MAX_VCPUS];
} kvm = { .kvm_fd = -1, .vm_fd = -1 };

/* vCPU @id's fd (the AP threads only ask for their own). */
static int kvm_fd(unsigned int id)
{
	return id < kvm.nr_vcpus ? kvm.v[id].fd : -1;
}

static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int vmctl_kvm_open(struct vmctl_machine *m, __u64 ram_size)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
	};
	struct vmctl_ram *r = &m->ram[0];
	int ret;

	kvm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm.kvm_fd < 0)
		return vmctl_fail("--backend kvm: /dev/kvm: %s (is kvm_amd or kvm_intel loaded?)",
				  strerror(errno));
	ret = ioctl(kvm.kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		return vmctl_fail("--backend kvm: KVM API version %d, not %d",
				  ret, KVM_API_VERSION);
	/*
	 * KVM_CREATE_VM fails with EINTR when a signal comes while it
	 * sets the VM up (6.1 waits there for a worker thread of the
	 * VM's).  The console's SIGUSR1 does: at once when stdin is at
	 * EOF, as with </dev/null (seen in backend_test).  QEMU's
	 * kvm_init() retries the same way.
	 */
	do
		kvm.vm_fd = ioctl(kvm.kvm_fd, KVM_CREATE_VM, 0);
	while (kvm.vm_fd < 0 && errno == EINTR);
	if (kvm.vm_fd < 0)
		return vmctl_fail("--backend kvm: KVM_CREATE_VM: %s",
				  strerror(errno));
	/* Intel without unrestricted guest runs real mode through it. */
	ret = ioctl(kvm.vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
	if (ret < 0)
		return vmctl_fail("--backend kvm: KVM_SET_TSS_ADDR: %s",
				  strerror(errno));
	r->gpa = 0;
	r->size = ram_size;
	r->hva = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->hva == MAP_FAILED) {
		r->hva = NULL;
		return vmctl_fail("--backend kvm: %llu bytes of RAM: %s",
				  (unsigned long long)ram_size,
				  strerror(errno));
	}
	m->nr_ram = 1;
	m->max_vcpus = VMCTL_MAX_VCPUS;
	slot.userspace_addr = (__u64)(unsigned long)r->hva;
	ret = kvm_ioctl(kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
	if (ret < 0)
		return vmctl_fail("--backend kvm: KVM_SET_USER_MEMORY_REGION: %s",
				  strerror(-ret));
	return 0;
}

/* vCPU @id, its kvm_run, and vmctl's run page for it. */
static int kvm_create_vcpu(struct vmctl_machine *m, unsigned int id)
{
	struct kvm_vcpu_state *v = &kvm.v[id];
	struct ringvm_run **page = id ? &m->ap_run[id] : &m->run;
	int fd;

	fd = ioctl(kvm.vm_fd, KVM_CREATE_VCPU, id);
	if (fd < 0)
		return vmctl_fail("--backend kvm: KVM_CREATE_VCPU %u: %s", id,
				  strerror(errno));
	v->fd = fd;
	kvm.nr_vcpus = id + 1;
	v->run = mmap(NULL, kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return vmctl_fail("--backend kvm: mmap of kvm_run: %s",
				  strerror(errno));
	}
	*page = aligned_alloc(RINGVM_RUN_PAGE_SIZE, RINGVM_RUN_PAGE_SIZE);
	if (!*page)
		return vmctl_fail("out of memory");
	memset(*page, 0, RINGVM_RUN_PAGE_SIZE);
	return 0;
}

/*
 * With @lapic, KVM's local APICs and nothing else of its irqchip
 * (KVM_CAP_SPLIT_IRQCHIP, as ringvm's RINGVM_ENABLE_LAPIC): the PIC, the
 * PIT and the I/O APIC stay vmctl's; the I/O APIC's messages go in with
 * KVM_SIGNAL_MSI and the PIC's with KVM_INTERRUPT (an ExtINT through
 * LINT0).  The APs wait for INIT and SIPI in KVM, as KVM starts them.
 */
int vmctl_kvm_create_vcpus(struct vmctl_machine *m, unsigned int n,
			   bool lapic)
{
	struct kvm_enable_cap split = {
		.cap = KVM_CAP_SPLIT_IRQCHIP, .args[0] = KVM_IOAPIC_PINS,
	};
	unsigned int i;
	int size, ret;

	size = ioctl(kvm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return vmctl_fail("--backend kvm: KVM_GET_VCPU_MMAP_SIZE: %s",
				  size < 0 ? strerror(errno) : "too small");
	kvm.run_size = size;
	if (lapic) {
		ret = kvm_ioctl(kvm.vm_fd, KVM_ENABLE_CAP, &split);
		if (ret)
			return vmctl_fail("--backend kvm: KVM_CAP_SPLIT_IRQCHIP: %s",
					  strerror(-ret));
		kvm.lapic = true;
	}
	for (i = 0; i < n; i++) {
		ret = kvm_create_vcpu(m, i);
		if (ret)
			return ret;
	}
	m->nr_vcpus = n;
	m->lapic = lapic;
	return 0;
}

void vmctl_kvm_close(struct vmctl_machine *m)
{
	unsigned int i;

	for (i = 0; i < kvm.nr_vcpus; i++) {
		struct kvm_vcpu_state *v = &kvm.v[i];

		free(i ? m->ap_run[i] : m->run);
		if (i)
			m->ap_run[i] = NULL;
		if (v->run)
			munmap(v->run, kvm.run_size);
		if (v->fd > 0)
			close(v->fd);
		*v = (struct kvm_vcpu_state) { 0 };
	}
	m->run = NULL;
	kvm.nr_vcpus = 0;
	if (m->ram[0].hva)
		munmap(m->ram[0].hva, m->ram[0].size);
	m->ram[0].hva = NULL;
	if (kvm.vm_fd >= 0)
		close(kvm.vm_fd);
	if (kvm.kvm_fd >= 0)
		close(kvm.kvm_fd);
	kvm.vm_fd = kvm.kvm_fd = -1;
}

/*
 * struct kvm_segment and struct kvm_dtable have ringvm's fields in
 * ringvm's order; the sregs differ after EFER (KVM's APIC base and
 * pending-interrupt bitmap, which vmctl leaves as KVM has them).
 */
static void seg_from_kvm(struct ringvm_segment *d, const struct kvm_segment *s)
{
	*d = (struct ringvm_segment) {
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static void seg_to_kvm(struct kvm_segment *d, const struct ringvm_segment *s)
{
	*d = (struct kvm_segment) {
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static int kvm_get_sregs(unsigned int id, struct ringvm_sregs *d)
{
	struct kvm_sregs s;
	int ret = kvm_ioctl(kvm_fd(id), KVM_GET_SREGS, &s);

	if (ret)
		return ret;
	memset(d, 0, sizeof(*d));
	seg_from_kvm(&d->cs, &s.cs);
	seg_from_kvm(&d->ds, &s.ds);
	seg_from_kvm(&d->es, &s.es);
	seg_from_kvm(&d->fs, &s.fs);
	seg_from_kvm(&d->gs, &s.gs);
	seg_from_kvm(&d->ss, &s.ss);
	seg_from_kvm(&d->tr, &s.tr);
	seg_from_kvm(&d->ldt, &s.ldt);
	d->gdt.base = s.gdt.base;
	d->gdt.limit = s.gdt.limit;
	d->idt.base = s.idt.base;
	d->idt.limit = s.idt.limit;
	d->cr0 = s.cr0;
	d->cr2 = s.cr2;
	d->cr3 = s.cr3;
	d->cr4 = s.cr4;
	d->cr8 = s.cr8;
	d->efer = s.efer;
	return 0;
}

static int kvm_set_sregs(unsigned int id, const struct ringvm_sregs *d)
{
	struct kvm_sregs s;
	int ret = kvm_ioctl(kvm_fd(id), KVM_GET_SREGS, &s);

	if (ret)
		return ret;
	seg_to_kvm(&s.cs, &d->cs);
	seg_to_kvm(&s.ds, &d->ds);
	seg_to_kvm(&s.es, &d->es);
	seg_to_kvm(&s.fs, &d->fs);
	seg_to_kvm(&s.gs, &d->gs);
	seg_to_kvm(&s.ss, &d->ss);
	seg_to_kvm(&s.tr, &d->tr);
	seg_to_kvm(&s.ldt, &d->ldt);
	s.gdt.base = d->gdt.base;
	s.gdt.limit = d->gdt.limit;
	s.idt.base = d->idt.base;
	s.idt.limit = d->idt.limit;
	s.cr0 = d->cr0;
	s.cr2 = d->cr2;
	s.cr3 = d->cr3;
	s.cr4 = d->cr4;
	s.cr8 = d->cr8;
	s.efer = d->efer;
	/*
	 * No local APIC, as ringvm without --lapic: IA32_APIC_BASE with
	 * the global enable clear, from which KVM also clears CPUID.1
	 * EDX.APIC (without it the guest finds an APIC whose page reads
	 * all ones, and MMIO exits pile up).  With one, KVM's reset value.
	 */
	if (!kvm.lapic)
		s.apic_base = 0;
	return kvm_ioctl(kvm_fd(id), KVM_SET_SREGS, &s);
}

/* struct kvm_regs is struct ringvm_regs, field for field. */
_Static_assert(sizeof(struct kvm_regs) == sizeof(struct ringvm_regs),
	       "kvm_regs and ringvm_regs differ");
_Static_assert(offsetof(struct kvm_regs, rip) ==
	       offsetof(struct ringvm_regs, rip) &&
	       offsetof(struct kvm_regs, r15) ==
	       offsetof(struct ringvm_regs, r15),
	       "kvm_regs and ringvm_regs differ");

/*
 * KVM_GET_SUPPORTED_CPUID's entry for @fn.@index, or NULL.  The feature
 * words vmctl's table keeps are ANDed with it: a bit the host has but
 * KVM cannot virtualize must not reach the guest.
 */
static const struct kvm_cpuid_entry2 *
kvm_supported(const struct kvm_cpuid2 *sup, __u32 fn, __u32 index)
{
	__u32 i;

	for (i = 0; i < sup->nent; i++)
		if (sup->entries[i].function == fn &&
		    (!(sup->entries[i].flags & KVM_CPUID_SIGNIFICANT) ||
		     sup->entries[i].index == index))
			return &sup->entries[i];
	return NULL;
}

static void kvm_filter(struct kvm_cpuid_entry2 *e,
		       const struct kvm_cpuid2 *sup)
{
	const struct kvm_cpuid_entry2 *s = kvm_supported(sup, e->function,
							 e->index);
	static const __u32 none;

	switch (e->function) {
	case 1:
		/*
		 * TSC deadline (ECX bit 24) is not in KVM's list but comes
		 * with its local APIC where KVM_CAP_TSC_DEADLINE_TIMER says.
		 */
		if (!kvm.lapic || ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION,
					KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
			e->ecx &= ~(1U << 24);
		e->ecx &= (s ? s->ecx : none) | 1U << 24;
		e->edx &= s ? s->edx : none;
		e->ecx |= 1U << 31;	/* hypervisor present */
		break;
	case 7:
		if (e->index)
			break;
		e->ebx &= s ? s->ebx : none;
		e->ecx &= s ? s->ecx : none;
		e->edx &= s ? s->edx : none;
		break;
	case 0xd:
		if (e->index <= 1)
			e->eax &= s ? s->eax : none;
		if (!e->index)
			e->edx &= s ? s->edx : none;
		break;
	case 0x80000001:
		e->ecx &= s ? s->ecx : none;
		e->edx &= s ? s->edx : none;
		break;
	case 0x80000007:
		e->edx &= s ? s->edx : none;
		break;
	case 0x80000008:
		e->ebx &= s ? s->ebx : none;
		break;
	}
}

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid2 *c, __u32 fn,
					   __u32 index)
{
	__u32 i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

/*
 * CPUID 0xd after the filter: the XSAVE components are those of the
 * features left (SDM Vol. 1 §13.2: AVX state needs AVX, the three
 * AVX-512 components AVX512F), the subleaves of the others are zero,
 * and ECX, the largest area, is what the components left need.
 * Linux warns ("XSAVE consistency problem") where ECX disagrees with
 * the features it finds.  EBX follows XCR0 (KVM updates it).
 */
static void kvm_fix_xsave(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *x = find_entry(c, 0xd, 0);
	struct kvm_cpuid_entry2 *l1 = find_entry(c, 1, 0);
	struct kvm_cpuid_entry2 *l7 = find_entry(c, 7, 0);
	__u32 i, size = 512 + 64;	/* legacy area and header */

	if (!x)
		return;
	if (!l1 || !(l1->ecx & (1U << 28)))		/* AVX */
		x->eax &= ~(1U << 2);
	if (!l7 || !(l7->ebx & (1U << 16)))		/* AVX512F */
		x->eax &= ~(7U << 5);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != 0xd || e->index < 2)
			continue;
		if (e->index < 32 && (x->eax & (1U << e->index))) {
			if (e->ebx + e->eax > size)
				size = e->ebx + e->eax;
			continue;
		}
		e->eax = e->ebx = e->ecx = e->edx = 0;
	}
	x->ebx = 512 + 64;
	x->ecx = size;
}

/* Whether vmctl runs under QEMU's TCG (its CPUID signature). */
static bool host_is_tcg(void)
{
	char sig[13];

	vmctl_hypervisor_signature(sig);
	return !strcmp(sig, "TCGTCGTCGTCG");
}

/*
 * Quirk: QEMU's TCG ignores the SVM XSETBV intercept (as state_test
 * says for ringvm), so KVM there never sees the guest set XCR0: it keeps
 * the reset value, 1, loads it into XCR0 at every entry once the guest
 * has CR4.OSXSAVE, and answers CPUID 0xd.0 EBX for it, against which a
 * Linux guest that enabled AVX warns ("XSAVE consistency problem").
 * Detection: the host's CPUID signature is TCG's.  Workaround: start
 * the vCPU with XCR0 = every component CPUID offers, which is what
 * Linux writes.  Elsewhere XCR0 starts at 1, as at reset.
 */
static int kvm_tcg_xcr0(int fd, const struct kvm_cpuid2 *c)
{
	const struct kvm_cpuid_entry2 *x = NULL;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };
	__u32 i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xd && !c->entries[i].index)
			x = &c->entries[i];
	if (!x || !host_is_tcg())
		return 0;
	xcrs.xcrs[0].value = ((__u64)x->edx << 32 | x->eax) | 1;
	return kvm_ioctl(fd, KVM_SET_XCRS, &xcrs);
}

#define KVM_MAX_CPUID	256

static int kvm_set_cpuid(const struct ringvm_cpuid *t)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      KVM_MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *sup = calloc(1, size), *c = calloc(1, size);
	struct kvm_cpuid_entry2 *e;
	__u32 i, id;
	int ret = -ENOMEM, tsc_khz;

	if (t->nent + 2 > KVM_MAX_CPUID)
		ret = -E2BIG;
	if (!sup || !c || ret == -E2BIG)
		goto out;
	sup->nent = KVM_MAX_CPUID;
	ret = kvm_ioctl(kvm.kvm_fd, KVM_GET_SUPPORTED_CPUID, sup);
	if (ret)
		goto out;
	for (i = 0; i < t->nent; i++) {
		const struct ringvm_cpuid_entry *r = &t->entries[i];

		e = &c->entries[c->nent++];
		*e = (struct kvm_cpuid_entry2) {
			.function = r->function, .index = r->index,
			.eax = r->eax, .ebx = r->ebx, .ecx = r->ecx,
			.edx = r->edx,
		};
		if (r->flags & RINGVM_CPUID_FLAG_SIGNIFICANT_INDEX)
			e->flags = KVM_CPUID_SIGNIFICANT;
		kvm_filter(e, sup);
	}
	kvm_fix_xsave(c);
	/*
	 * The hypervisor leaves: no signature (ringvm's module answers
	 * "ringvm" there, which this is not), and the TSC frequency in
	 * 0x40000010 as the module gives it, in kHz.  Without the range
	 * KVM would answer an Intel guest's read of 0x40000000 with the
	 * highest basic leaf.
	 */
	tsc_khz = ioctl(kvm_fd(0), KVM_GET_TSC_KHZ, 0);
	c->entries[c->nent++] = (struct kvm_cpuid_entry2) {
		.function = 0x40000000, .eax = 0x40000010,
	};
	c->entries[c->nent++] = (struct kvm_cpuid_entry2) {
		.function = 0x40000010, .eax = tsc_khz > 0 ? tsc_khz : 0,
	};
	/*
	 * Each vCPU its own table: the APIC ID in leaf 1 EBX[31:24] and,
	 * with the APICs, the x2APIC ID in leaf 0xb EDX, which ringvm's
	 * module fills in itself (SDM Vol. 2A, CPUID).
	 */
	for (id = 0; !ret && id < kvm.nr_vcpus; id++) {
		for (i = 0; i < c->nent; i++) {
			e = &c->entries[i];
			if (e->function == 1)
				e->ebx = (e->ebx & 0x00ffffff) | id << 24;
			else if (e->function == 0xb)
				e->edx = id;
		}
		ret = kvm_ioctl(kvm_fd(id), KVM_SET_CPUID2, c);
		if (!ret)
			ret = kvm_tcg_xcr0(kvm_fd(id), c);
	}
out:
	free(sup);
	free(c);
	return ret;
}

/*
 * KVM's internal errors as ringvm's (uapi): the suberrors that mean the
 * same thing, else 0 ("unknown"), with KVM's data words.
 */
static void kvm_internal(struct ringvm_run *r, const struct kvm_run *k)
{
	unsigned int i, n = k->internal.ndata;

	r->exit_reason = RINGVM_EXIT_INTERNAL_ERROR;
	switch (k->internal.suberror) {
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		r->internal.suberror = RINGVM_INTERNAL_ERR_NO_INSN;
		break;
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		r->internal.suberror = RINGVM_INTERNAL_ERR_UNEXPECTED_EXIT;
		break;
	default:
		r->internal.suberror = 0;
	}
	if (n > ARRAY_SIZE(r->internal.data))
		n = ARRAY_SIZE(r->internal.data);
	for (i = 0; i < n; i++)
		r->internal.data[i] = k->internal.data[i];
}

/*
 * KVM's exit in ringvm's layout; -E2BIG, after saying so, for string
 * I/O too large for vmctl's page.
 */
static int kvm_exit(struct kvm_vcpu_state *v, struct ringvm_run *r,
		    const struct kvm_run *k)
{
	struct kvm_regs regs;
	__u64 bytes;

	memset(&r->hw, 0, sizeof(r->hw));
	memset(r->padding, 0, sizeof(r->padding));
	switch (k->exit_reason) {
	case KVM_EXIT_IO:
		bytes = (__u64)k->io.size * k->io.count;
		if (bytes > RINGVM_RUN_PAGE_SIZE - KVM_IO_DATA ||
		    k->io.data_offset + bytes > kvm.run_size) {
			vmctl_fail("KVM_RUN: string I/O of %llu bytes at port 0x%x: vmctl takes up to %lu",
				   (unsigned long long)bytes, k->io.port,
				   RINGVM_RUN_PAGE_SIZE - KVM_IO_DATA);
			return -E2BIG;
		}
		r->exit_reason = RINGVM_EXIT_IO;
		r->io.direction = k->io.direction == KVM_EXIT_IO_OUT ?
				  RINGVM_IO_OUT : RINGVM_IO_IN;
		r->io.size = k->io.size;
		r->io.port = k->io.port;
		r->io.count = k->io.count;
		r->io.data_offset = KVM_IO_DATA;
		if (k->io.direction == KVM_EXIT_IO_OUT)
			memcpy(ringvm_run_io_data(r),
			       (const char *)k + k->io.data_offset, bytes);
		else
			v->owe = OWE_IN;
		return 0;
	case KVM_EXIT_MMIO:
		r->exit_reason = RINGVM_EXIT_MMIO;
		r->mmio.gpa = k->mmio.phys_addr;
		r->mmio.len = k->mmio.len;
		r->mmio.is_write = k->mmio.is_write;
		memcpy(r->mmio.data, k->mmio.data, sizeof(r->mmio.data));
		if (!k->mmio.is_write)
			v->owe = OWE_MMIO_READ;
		return 0;
	case KVM_EXIT_HLT:
		r->exit_reason = RINGVM_EXIT_HLT;
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		r->exit_reason = RINGVM_EXIT_IRQ_WINDOW;
		return 0;
	case KVM_EXIT_INTR:
		r->exit_reason = RINGVM_EXIT_INTR;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		r->exit_reason = RINGVM_EXIT_SHUTDOWN;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		r->exit_reason = RINGVM_EXIT_FAIL_ENTRY;
		r->fail_entry.hardware_entry_failure_reason =
			k->fail_entry.hardware_entry_failure_reason;
		r->fail_entry.cpu = k->fail_entry.cpu;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		kvm_internal(r, k);
		break;
	default:
		r->exit_reason = RINGVM_EXIT_UNKNOWN;
		break;
	}
	/* The guest is done: KVM's exit reason and RIP, for report_hw(). */
	r->hw.reason = k->exit_reason;
	r->rip = kvm_ioctl(v->fd, KVM_GET_REGS, &regs) ? 0 : regs.rip;
	return 0;
}

static int kvm_run(unsigned int id, struct ringvm_run *r)
{
	struct kvm_vcpu_state *v = &kvm.v[id];
	struct kvm_run *k = v->run;
	int ret;

	/* Complete the last exit, as RINGVM_RUN reads the run page. */
	if (v->owe == OWE_IN)
		memcpy((char *)k + k->io.data_offset, ringvm_run_io_data(r),
		       (size_t)k->io.size * k->io.count);
	else if (v->owe == OWE_MMIO_READ)
		memcpy(k->mmio.data, r->mmio.data, sizeof(k->mmio.data));
	v->owe = OWE_NOTHING;
	k->request_interrupt_window = !!(r->flags & RINGVM_RUN_IRQ_WINDOW);
	/*
	 * An AP that waits for INIT (KVM_MP_STATE_UNINITIALIZED) sleeps in
	 * KVM_RUN until one comes, then returns EAGAIN: run it again, to
	 * wait for the SIPI.  A signal still ends it (EINTR).
	 */
	do
		ret = kvm_ioctl(v->fd, KVM_RUN, NULL);
	while (ret == -EAGAIN);
	/* KVM updates these on every return, -EINTR included. */
	r->ready_for_interrupt = k->ready_for_interrupt_injection;
	r->if_flag = k->if_flag;
	if (ret)
		return ret;
	return kvm_exit(v, r, k);
}

/* 3. Either */

int vmctl_get_regs(struct vmctl_machine *m, unsigned int id,
		   struct ringvm_regs *regs)
{
	if (m->kvm)
		return kvm_ioctl(kvm_fd(id), KVM_GET_REGS, regs);
	return __ringvm_get_regs(vcpu_fd(m, id), regs);
}

int vmctl_set_regs(struct vmctl_machine *m, unsigned int id,
		   const struct ringvm_regs *regs)
{
	if (m->kvm)
		return kvm_ioctl(kvm_fd(id), KVM_SET_REGS, (void *)regs);
	return __ringvm_set_regs(vcpu_fd(m, id), regs);
}

int vmctl_get_sregs(struct vmctl_machine *m, unsigned int id,
		    struct ringvm_sregs *sregs)
{
	if (m->kvm)
		return kvm_get_sregs(id, sregs);
	return __ringvm_get_sregs(vcpu_fd(m, id), sregs);
}

int vmctl_set_sregs(struct vmctl_machine *m, unsigned int id,
		    const struct ringvm_sregs *sregs)
{
	if (m->kvm)
		return kvm_set_sregs(id, sregs);
	return __ringvm_set_sregs(vcpu_fd(m, id), sregs);
}

int vmctl_set_cpuid(struct vmctl_machine *m, const struct ringvm_cpuid *t)
{
	if (m->kvm)
		return kvm_set_cpuid(t);
	return __ringvm_set_cpuid(m->vmfd, t);
}

int vmctl_interrupt(struct vmctl_machine *m, __u8 vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	if (m->kvm)
		return kvm_ioctl(kvm_fd(0), KVM_INTERRUPT, &irq);
	return __ringvm_interrupt(m->vcpufd, vector);
}

int vmctl_signal_msi(struct vmctl_machine *m, __u64 address, __u32 data)
{
	struct kvm_msi msi = {
		.address_lo = (__u32)address, .address_hi = address >> 32,
		.data = data,
	};
	int ret;

	if (!m->kvm)
		return __ringvm_signal_msi(m->vmfd, address, data);
	ret = ioctl(kvm.vm_fd, KVM_SIGNAL_MSI, &msi);
	return ret < 0 ? -errno : ret;
}

int vmctl_vcpu_run(struct vmctl_machine *m, unsigned int id)
{
	if (m->kvm)
		return kvm_run(id, id ? m->ap_run[id] : m->run);
	return __ringvm_run(vcpu_fd(m, id));
}
