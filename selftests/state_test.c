// SPDX-License-Identifier: GPL-2.0
/*
 * state_test: the vCPU state ioctls in both directions.  What user space
 * sets (GET/SET_REGS, _SREGS, _DEBUGREGS, _MSRS, _XCRS, _XSAVE) reads back
 * the same and is what the guest sees; what the guest changes is what
 * user space reads.  Guest stubs that must not disturb registers with
 * compiled code are written in assembly and stop with HLT.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"

FIXTURE(state) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
};

FIXTURE_SETUP(state)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
}

FIXTURE_TEARDOWN(state)
{
	vm_destroy(self->vm);
}

static void guest_done(void)
{
	GUEST_DONE();
}

/* 1. General-purpose registers */

/* struct ringvm_regs as the guest saw it: filled by guest_regs_dump */
static struct ringvm_regs regs_dump __attribute__((used));

asm(".pushsection .text\n"
	".globl guest_regs_dump, guest_regs_load, guest_regs_load_end\n"
	/* Store every register as struct ringvm_regs lays them out, then HLT */
	"guest_regs_dump:\n"
	"	mov %rax, regs_dump+0(%rip)\n"
	"	mov %rbx, regs_dump+8(%rip)\n"
	"	mov %rcx, regs_dump+16(%rip)\n"
	"	mov %rdx, regs_dump+24(%rip)\n"
	"	mov %rsi, regs_dump+32(%rip)\n"
	"	mov %rdi, regs_dump+40(%rip)\n"
	"	mov %rsp, regs_dump+48(%rip)\n"
	"	mov %rbp, regs_dump+56(%rip)\n"
	"	mov %r8, regs_dump+64(%rip)\n"
	"	mov %r9, regs_dump+72(%rip)\n"
	"	mov %r10, regs_dump+80(%rip)\n"
	"	mov %r11, regs_dump+88(%rip)\n"
	"	mov %r12, regs_dump+96(%rip)\n"
	"	mov %r13, regs_dump+104(%rip)\n"
	"	mov %r14, regs_dump+112(%rip)\n"
	"	mov %r15, regs_dump+120(%rip)\n"
	"	pushfq\n"
	"	popq regs_dump+136(%rip)\n"
	"	lea guest_regs_dump(%rip), %rax\n"
	"	mov %rax, regs_dump+128(%rip)\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	/* Load known values into every register but RSP, then HLT */
	"guest_regs_load:\n"
	"	movabs $0x0101010101010101, %rax\n"
	"	movabs $0x0202020202020202, %rbx\n"
	"	movabs $0x0303030303030303, %rcx\n"
	"	movabs $0x0404040404040404, %rdx\n"
	"	movabs $0x0505050505050505, %rsi\n"
	"	movabs $0x0606060606060606, %rdi\n"
	"	movabs $0x0808080808080808, %rbp\n"
	"	movabs $0x0909090909090909, %r8\n"
	"	movabs $0x0a0a0a0a0a0a0a0a, %r9\n"
	"	movabs $0x0b0b0b0b0b0b0b0b, %r10\n"
	"	movabs $0x0c0c0c0c0c0c0c0c, %r11\n"
	"	movabs $0x0d0d0d0d0d0d0d0d, %r12\n"
	"	movabs $0x0e0e0e0e0e0e0e0e, %r13\n"
	"	movabs $0x0f0f0f0f0f0f0f0f, %r14\n"
	"	movabs $0x1010101010101010, %r15\n"
	"	stc\n"
	"	hlt\n"
	"guest_regs_load_end:\n"
	"	jmp guest_regs_load_end\n"
	".popsection");
extern const char guest_regs_dump[], guest_regs_load[], guest_regs_load_end[];

/* CF PF AF ZF SF OF and bit 1: no TF, no IF */
#define TEST_RFLAGS	0x8d7ULL

static void fill_regs(struct ringvm_regs *r)
{
	__u64 *p = (__u64 *)r;
	unsigned int i;

	for (i = 0; i < 16; i++)
		p[i] = 0x1100000000000000ULL * (i + 1) + i;
	r->rsp = GUEST_STACKS_GPA + GUEST_STACK_SIZE / 2;
	r->rip = (uintptr_t)guest_regs_dump;
	r->rflags = TEST_RFLAGS;
}

TEST_F(state, regs_roundtrip)
{
	struct ringvm_regs set, got;

	self->vm = vm_create_guest(&self->vcpu, guest_done);
	fill_regs(&set);
	vcpu_regs_set(self->vcpu, &set);
	vcpu_regs_get(self->vcpu, &got);
	ASSERT_EQ(0, memcmp(&set, &got, sizeof(set)));
	/* bit 1 of RFLAGS reads as 1 whatever was set */
	set.rflags = 0;
	vcpu_regs_set(self->vcpu, &set);
	vcpu_regs_get(self->vcpu, &got);
	ASSERT_EQ(X86_RFLAGS_FIXED, got.rflags);
}

/* What SET_REGS gave is what the guest has. */
TEST_F(state, regs_guest_sees)
{
	struct ringvm_regs set, *seen;

	self->vm = vm_create_guest(&self->vcpu, guest_done);
	fill_regs(&set);
	vcpu_regs_set(self->vcpu, &set);
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_HLT);
	seen = addr_gva2hva(self->vm, (uintptr_t)&regs_dump);
	ASSERT_EQ(0, memcmp(&set, seen, offsetof(struct ringvm_regs, rip)));
	ASSERT_EQ(set.rip, seen->rip);
	ASSERT_EQ(TEST_RFLAGS, seen->rflags);
}

/* What the guest loads is what GET_REGS reads, RIP past the HLT. */
TEST_F(state, regs_host_sees)
{
	struct ringvm_regs got;
	__u64 *p = (__u64 *)&got;
	unsigned int i;

	self->vm = vm_create_guest(&self->vcpu, guest_regs_load);
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_HLT);
	vcpu_regs_get(self->vcpu, &got);
	for (i = 0; i < 16; i++) {
		if (i == 6)	/* RSP: as the library set it */
			continue;
		EXPECT_EQ(0x0101010101010101ULL * (i + 1), p[i])
			TH_LOG("register %u", i);
	}
	EXPECT_EQ((uintptr_t)guest_regs_load_end, got.rip);
	EXPECT_TRUE(got.rflags & 1);		/* STC */
}

/* 2. Segment and control registers */

static void expect_seg_eq(struct __test_metadata *_metadata, const char *n,
			  const struct ringvm_segment *a,
			  const struct ringvm_segment *b)
{
	EXPECT_EQ(a->base, b->base) TH_LOG("%s", n);
	EXPECT_EQ(a->limit, b->limit) TH_LOG("%s", n);
	EXPECT_EQ(a->selector, b->selector) TH_LOG("%s", n);
	EXPECT_EQ(a->type, b->type) TH_LOG("%s", n);
	EXPECT_EQ(a->present, b->present) TH_LOG("%s", n);
	EXPECT_EQ(a->dpl, b->dpl) TH_LOG("%s", n);
	EXPECT_EQ(a->db, b->db) TH_LOG("%s", n);
	EXPECT_EQ(a->s, b->s) TH_LOG("%s", n);
	EXPECT_EQ(a->l, b->l) TH_LOG("%s", n);
	EXPECT_EQ(a->g, b->g) TH_LOG("%s", n);
}

TEST_F(state, sregs_roundtrip)
{
	struct ringvm_sregs a, b;

	self->vm = vm_create_guest(&self->vcpu, guest_done);
	/* GET after SET of a GET is stable */
	vcpu_sregs_get(self->vcpu, &a);
	vcpu_sregs_set(self->vcpu, &a);
	vcpu_sregs_get(self->vcpu, &b);
	ASSERT_EQ(0, memcmp(&a, &b, sizeof(a)));

	/* fields changed by SET read back changed */
	a.fs.base = 0x12345000;
	a.gs.base = 0xffff880000001000ULL;
	a.cr2 = 0xdead0000beefULL;
	a.cr8 = 5;
	a.gdt.limit = GUEST_GDT_LIMIT - 8;
	a.idt.base = GUEST_IDT_GPA;
	vcpu_sregs_set(self->vcpu, &a);
	vcpu_sregs_get(self->vcpu, &b);
	expect_seg_eq(_metadata, "cs", &a.cs, &b.cs);
	expect_seg_eq(_metadata, "ds", &a.ds, &b.ds);
	expect_seg_eq(_metadata, "ss", &a.ss, &b.ss);
	expect_seg_eq(_metadata, "fs", &a.fs, &b.fs);
	expect_seg_eq(_metadata, "gs", &a.gs, &b.gs);
	expect_seg_eq(_metadata, "tr", &a.tr, &b.tr);
	EXPECT_EQ(a.gdt.base, b.gdt.base);
	EXPECT_EQ(a.gdt.limit, b.gdt.limit);
	EXPECT_EQ(a.idt.base, b.idt.base);
	EXPECT_EQ(a.idt.limit, b.idt.limit);
	EXPECT_EQ(a.cr0, b.cr0);
	EXPECT_EQ(a.cr2, b.cr2);
	EXPECT_EQ(a.cr3, b.cr3);
	EXPECT_EQ(a.cr4, b.cr4);
	EXPECT_EQ(a.cr8, b.cr8);
	EXPECT_EQ(a.efer, b.efer);
}

/* The guest reports CR2, FS/GS-relative loads and the base MSRs. */
static void guest_sregs(void)
{
	__u64 cr2, fs0, gs0;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	asm volatile("mov %%fs:0, %0" : "=r"(fs0));
	asm volatile("mov %%gs:0, %0" : "=r"(gs0));
	GUEST_SYNC_ARGS(cr2, fs0, gs0, rdmsr(MSR_FS_BASE), rdmsr(MSR_GS_BASE),
			rdmsr(MSR_EFER));
	/* now the other way: CR2, GS base, then SWAPGS */
	asm volatile("mov %0, %%cr2" : : "r"(0x5a5a5a5a000ULL));
	wrmsr(MSR_GS_BASE, GUEST_SCRATCH_GPA + 0x3000);
	wrmsr(MSR_KERNEL_GS_BASE, GUEST_SCRATCH_GPA + 0x4000);
	asm volatile("swapgs" : : : "memory");
	GUEST_SYNC(2);
	GUEST_DONE();
}

TEST_F(state, sregs_guest_sees)
{
	struct ringvm_msrs *m = calloc(1, sizeof(*m));
	struct ringvm_sregs s;
	struct ucall uc;

	ASSERT_NE(NULL, m);
	self->vm = vm_create_guest(&self->vcpu, guest_sregs);
	*(__u64 *)addr_gva2hva(self->vm, GUEST_SCRATCH_GPA) = 0xf5f5f5f5;
	*(__u64 *)addr_gva2hva(self->vm, GUEST_SCRATCH_GPA + 0x1000) =
		0x6a6a6a6a;
	vcpu_sregs_get(self->vcpu, &s);
	s.cr2 = 0xc2c2c2c2000ULL;
	s.fs.base = GUEST_SCRATCH_GPA;
	s.gs.base = GUEST_SCRATCH_GPA + 0x1000;
	vcpu_sregs_set(self->vcpu, &s);

	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0xc2c2c2c2000ULL, uc.args[0]);
	EXPECT_EQ(0xf5f5f5f5, uc.args[1]);
	EXPECT_EQ(0x6a6a6a6a, uc.args[2]);
	EXPECT_EQ(GUEST_SCRATCH_GPA, uc.args[3]);
	EXPECT_EQ(GUEST_SCRATCH_GPA + 0x1000, uc.args[4]);
	EXPECT_EQ(s.efer, uc.args[5]);

	ASSERT_SYNC(self->vcpu, &uc, 2);
	vcpu_sregs_get(self->vcpu, &s);
	EXPECT_EQ(0x5a5a5a5a000ULL, s.cr2);
	EXPECT_EQ(GUEST_SCRATCH_GPA + 0x4000, s.gs.base);	/* swapped */
	m->nmsrs = 1;
	m->entries[0].index = MSR_KERNEL_GS_BASE;
	ASSERT_EQ(1, __ringvm_get_msrs(self->vcpu->fd, m));
	EXPECT_EQ(GUEST_SCRATCH_GPA + 0x3000, m->entries[0].data);
	ASSERT_DONE(self->vcpu, &uc);
	free(m);
}

/* 3. Debug registers */

#define DR7_FIXED	0x400ULL
/* RW1 = LEN1 = 11b and the GD/LE/GE bits clear: nothing enabled */
#define DR7_QUIET	(DR7_FIXED | 0x00f00000ULL)

static void guest_debugregs(void)
{
	__u64 d0, d1, d2, d3, d6, d7;

	asm volatile("mov %%dr0, %0" : "=r"(d0));
	asm volatile("mov %%dr1, %0" : "=r"(d1));
	asm volatile("mov %%dr2, %0" : "=r"(d2));
	asm volatile("mov %%dr3, %0" : "=r"(d3));
	asm volatile("mov %%dr6, %0" : "=r"(d6));
	asm volatile("mov %%dr7, %0" : "=r"(d7));
	GUEST_SYNC_ARGS(d0, d1, d2, d3, d6, d7);
	asm volatile("mov %0, %%dr0" : : "r"(0x1000ULL));
	asm volatile("mov %0, %%dr1" : : "r"(0x2000ULL));
	asm volatile("mov %0, %%dr2" : : "r"(0xffffffffff600000ULL));
	asm volatile("mov %0, %%dr3" : : "r"(0x00007ffffffff000ULL));
	asm volatile("mov %0, %%dr7" : : "r"(DR7_FIXED | 0x00500000ULL));
	GUEST_SYNC(2);
	GUEST_DONE();
}

TEST_F(state, debugregs)
{
	struct ringvm_debugregs set = {
		.db = { 0x401000, 0xffff800000000000ULL, 0x7fff0000, 8 },
		.dr6 = 0xffff0ff0,
		.dr7 = DR7_QUIET,
	}, got;
	struct ucall uc;
	int ret;

	self->vm = vm_create_guest(&self->vcpu, guest_debugregs);
	ret = __ringvm_set_debugregs(self->vcpu->fd, &set);
	ASSERT_EQ(0, ret) TH_LOG("SET_DEBUGREGS: %s", strerror(-ret));
	ASSERT_EQ(0, __ringvm_get_debugregs(self->vcpu->fd, &got));
	ASSERT_EQ(0, memcmp(&set, &got, sizeof(set)));

	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(set.db[0], uc.args[0]);
	EXPECT_EQ(set.db[1], uc.args[1]);
	EXPECT_EQ(set.db[2], uc.args[2]);
	EXPECT_EQ(set.db[3], uc.args[3]);
	EXPECT_EQ(0xffff0ff0, uc.args[4]);
	EXPECT_EQ(DR7_QUIET, uc.args[5]);

	ASSERT_SYNC(self->vcpu, &uc, 2);
	ASSERT_EQ(0, __ringvm_get_debugregs(self->vcpu->fd, &got));
	EXPECT_EQ(0x1000, got.db[0]);
	EXPECT_EQ(0x2000, got.db[1]);
	EXPECT_EQ(0xffffffffff600000ULL, got.db[2]);
	EXPECT_EQ(0x00007ffffffff000ULL, got.db[3]);
	EXPECT_EQ(DR7_FIXED | 0x00500000ULL, got.dr7);
	ASSERT_DONE(self->vcpu, &uc);
}

/* An execution breakpoint the guest sets fires in the guest: #DB. */
static volatile __u64 db_count, db_dr6, db_rip;

static void guest_db_handler(struct ex_regs *regs)
{
	__u64 dr6;

	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	db_count++;
	db_dr6 = dr6;
	db_rip = regs->rip;
	regs->rflags |= 1ULL << 16;	/* RF: do not fault again */
}

static __attribute__((noinline)) void bp_target(void)
{
	asm volatile("nop");
}

static void guest_breakpoint(void)
{
	asm volatile("mov %0, %%dr0" : : "r"((__u64)(uintptr_t)bp_target));
	asm volatile("mov %0, %%dr7" : : "r"(DR7_FIXED | 1));	/* L0 */
	bp_target();
	asm volatile("mov %0, %%dr7" : : "r"(DR7_FIXED));
	GUEST_SYNC(db_count);
	GUEST_ASSERT_EQ(db_count, 1);
	GUEST_ASSERT_EQ(db_rip, (uintptr_t)bp_target);
	GUEST_ASSERT(db_dr6 & 1);		/* B0 */
	bp_target();
	GUEST_ASSERT_EQ(db_count, 1);
	GUEST_DONE();
}

TEST_F(state, debugregs_breakpoint)
{
	struct ucall uc;

	self->vm = vm_create_guest(&self->vcpu, guest_breakpoint);
	vm_install_exception_handler(self->vm, DB_VECTOR, guest_db_handler);
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	/*
	 * Quirk: QEMU's TCG VMRUN loads DR7 from the VMCB without arming
	 * its breakpoints (helper_vmrun does not call cpu_x86_update_dr7),
	 * so a nested guest's breakpoints never fire.
	 */
	if (!uc.args[0] && host_is_tcg() && self->vm->arch == RINGVM_ARCH_SVM)
		SKIP(return, "QEMU TCG does not arm breakpoints loaded by VMRUN");
	ASSERT_DONE(self->vcpu, &uc);
}

/*
 * A data breakpoint on the stack slot the guest's #GP frame starts at
 * (SS, the first push): the #GP the module raises for a WRMSR to an MSR
 * nobody holds hits it while being delivered, a #DB exit during event
 * delivery where the processor reports it so.  The #GP must still be
 * delivered - its handler runs once and the guest goes on - where
 * replacing it with the #DB lost it and the WRMSR, run again, raised it
 * again forever.  The hit is a trap the processor delivers after the
 * event; if it reports it during delivery instead, the module, with one
 * event slot, drops it (module/event.c) and DR6 keeps the record.
 * Bochs delivers the trap after the event, so there this guards the
 * outcome rather than reproducing the lost #GP.
 */
static volatile __u64 gp_count;

static void guest_gp_skip_wrmsr(struct ex_regs *regs)
{
	gp_count++;
	regs->rip += 2;			/* 0f 30 */
}

static void guest_db_in_delivery(void)
{
	__u64 dr6;

	asm volatile("mov %%rsp, %%rax\n\t"
		     "and $-16, %%rax\n\t"
		     "sub $8, %%rax\n\t"
		     "mov %%rax, %%dr0\n\t"
		     "mov %0, %%dr7\n\t"
		     "mov $0xdeadbeef, %%ecx\n\t"
		     "wrmsr\n\t"
		     "mov %1, %%dr7"
		     /* L0, R/W0 = 01b (writes), LEN0 = 10b (8 bytes) */
		     : : "r"(DR7_FIXED | 1 | (1ULL << 16) | (2ULL << 18)),
		       "r"(DR7_FIXED)
		     : "rax", "rcx", "rdx", "memory");
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	GUEST_SYNC_ARGS(gp_count, db_count, dr6);
	GUEST_DONE();
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(state, debugregs_hit_during_delivery)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct ucall uc;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	self->vm = vm_create_guest(&self->vcpu, guest_db_in_delivery);
	vm_install_exception_handler(self->vm, DB_VECTOR, guest_db_handler);
	vm_install_exception_handler(self->vm, GP_VECTOR, guest_gp_skip_wrmsr);
	alarm(20);
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	alarm(0);
	EXPECT_EQ(1, uc.args[0]);		/* the #GP, once */
	if (host_is_tcg() && self->vm->arch == RINGVM_ARCH_SVM &&
	    !(uc.args[2] & 1))
		SKIP(return, "QEMU TCG does not arm breakpoints loaded by VMRUN");
	/*
	 * 1: the processor delivered the trap after the #GP, as the SDM
	 * says (Bochs does); 0: it reported the hit during delivery and
	 * the module kept the #GP (module/event.c).
	 */
	EXPECT_GE(1, uc.args[1]);
	EXPECT_TRUE(uc.args[2] & 1) TH_LOG("dr6 %#llx",
					   (unsigned long long)uc.args[2]);
	ASSERT_DONE(self->vcpu, &uc);
}

/*
 * SET_SREGS with PAE paging checks the four PDPTEs at CR3 as MOV to CR3
 * would (Intel SDM Vol. 3A §4.4.1): a present one with a reserved bit
 * is EINVAL, on both vendors; VMX used to take the state and then fail
 * to enter it, or run on stale PDPTEs.
 */
TEST_F(state, sregs_pae_pdptes)
{
	__u64 *pdpte;
	struct ringvm_sregs sregs;

	self->vm = vm_create_guest(&self->vcpu, guest_debugregs);
	pdpte = addr_gva2hva(self->vm, GUEST_SCRATCH_GPA);
	ASSERT_EQ(0, __ringvm_get_sregs(self->vcpu->fd, &sregs));
	sregs.efer = 0;
	sregs.cs.l = 0;
	sregs.cs.db = 1;
	sregs.cr3 = GUEST_SCRATCH_GPA;
	sregs.cr4 |= X86_CR4_PAE;

	memset(pdpte, 0, 32);
	pdpte[2] = (GUEST_SCRATCH_GPA + 0x1000) | 1;
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpu->fd, &sregs));
	pdpte[2] |= 1ULL << 5;			/* reserved in a PDPTE */
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpu->fd, &sregs));
	pdpte[2] &= ~1ULL;			/* not present: not checked */
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpu->fd, &sregs));
	pdpte[3] = 1ULL << 62 | 1;		/* above MAXPHYADDR */
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpu->fd, &sregs));
	sregs.cr0 &= ~X86_CR0_PG;		/* no paging: not checked */
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpu->fd, &sregs));
}

/*
 * SET_SREGS takes EFER.LMA only with LME and PG, as a processor holds
 * it.  LME without PG - the moment before paging goes on - is fine.
 */
TEST_F(state, sregs_long_mode_consistent)
{
	struct ringvm_sregs lm, s;

	self->vm = vm_create_guest(&self->vcpu, guest_debugregs);
	ASSERT_EQ(0, __ringvm_get_sregs(self->vcpu->fd, &lm));
	ASSERT_TRUE((lm.efer & EFER_LMA) && lm.cs.l);

	s = lm;
	s.cr0 &= ~X86_CR0_PG;			/* LMA left behind */
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpu->fd, &s));
	s = lm;
	s.efer &= ~EFER_LME;			/* LMA without LME */
	EXPECT_EQ(-EINVAL, __ringvm_set_sregs(self->vcpu->fd, &s));
	s = lm;
	s.cr0 &= ~X86_CR0_PG;
	s.efer &= ~EFER_LMA;
	s.cs.l = 0;
	s.cs.db = 1;				/* LME, no PG: fine */
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpu->fd, &s));
	EXPECT_EQ(0, __ringvm_set_sregs(self->vcpu->fd, &lm));
}

/* 4. MSRs through the ioctls: PAT and the TSC */

static void guest_msr_state(void)
{
	__u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	GUEST_SYNC_ARGS(rdmsr(MSR_IA32_CR_PAT), lo | (__u64)hi << 32);
	GUEST_DONE();
}

TEST_F(state, msrs)
{
	const __u64 pat = 0x0007040600070406ULL, tsc = 1ULL << 44;
	struct ringvm_msrs *m = calloc(1, sizeof(*m));
	struct ucall uc;

	ASSERT_NE(NULL, m);
	self->vm = vm_create_guest(&self->vcpu, guest_msr_state);
	m->nmsrs = 2;
	m->entries[0].index = MSR_IA32_CR_PAT;
	m->entries[0].data = pat;
	m->entries[1].index = MSR_IA32_TSC;
	m->entries[1].data = tsc;
	ASSERT_EQ(2, __ringvm_set_msrs(self->vcpu->fd, m));
	memset(m, 0, sizeof(*m));
	m->nmsrs = 2;
	m->entries[0].index = MSR_IA32_CR_PAT;
	m->entries[1].index = MSR_IA32_TSC;
	ASSERT_EQ(2, __ringvm_get_msrs(self->vcpu->fd, m));
	EXPECT_EQ(pat, m->entries[0].data);
	EXPECT_LE(tsc, m->entries[1].data);
	EXPECT_GT(tsc + (1ULL << 40), m->entries[1].data);

	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(pat, uc.args[0]);
	EXPECT_LE(tsc, uc.args[1]);
	EXPECT_GT(tsc + (1ULL << 40), uc.args[1]);
	ASSERT_DONE(self->vcpu, &uc);
	free(m);
}

/* 5. XCR0 */

static void guest_xcr0(__u64 xcr0)
{
	GUEST_ASSERT_EQ(xgetbv(0), xcr0);
	GUEST_ASSERT_EQ(xsetbv_safe(0, XFEATURE_X87 | XFEATURE_SSE), 0);
	GUEST_ASSERT_EQ(xgetbv(0), XFEATURE_X87 | XFEATURE_SSE);
	/* out to user space and back in: the guest's value stays */
	GUEST_SYNC(2);
	GUEST_ASSERT_EQ(xgetbv(0), XFEATURE_X87 | XFEATURE_SSE);
	GUEST_SYNC(1);
	/* the host put xcr0 back */
	GUEST_ASSERT_EQ(xgetbv(0), xcr0);
	/* what XSETBV refuses: no x87, AVX without SSE, XCR1 */
	GUEST_ASSERT_EQ(xsetbv_safe(0, 0), GP_VECTOR);
	GUEST_ASSERT_EQ(xsetbv_safe(0, XFEATURE_X87 | XFEATURE_YMM),
			GP_VECTOR);
	GUEST_ASSERT_EQ(xsetbv_safe(0, xcr0 | (1ULL << 62)), GP_VECTOR);
	GUEST_ASSERT_EQ(xgetbv(0), xcr0);
	GUEST_DONE();
}

TEST_F(state, xcrs)
{
	struct ringvm_xcrs x;
	struct ucall uc;

	if (!host_has_xsave())
		SKIP(return, "no XSAVE");
	/*
	 * QEMU's TCG ignores the SVM XSETBV intercept: the guest's XSETBV
	 * goes straight to the (emulated) CPU, and ringvm takes the value
	 * it finds after the guest ran as the guest's (module/fpu.c).  The
	 * checks of what XSETBV refuses are then QEMU's, which agree.
	 */
	self->vm = vm_create_guest(&self->vcpu, guest_xcr0);
	vcpu_args_set(self->vcpu, 1, self->vm->xcr0);
	ASSERT_EQ(0, __ringvm_get_xcrs(self->vcpu->fd, &x));
	ASSERT_EQ(self->vm->xcr0, x.xcr0);
	ASSERT_SYNC(self->vcpu, &uc, 2);
	ASSERT_SYNC(self->vcpu, &uc, 1);
	ASSERT_EQ(0, __ringvm_get_xcrs(self->vcpu->fd, &x));
	ASSERT_EQ(XFEATURE_X87 | XFEATURE_SSE, x.xcr0);
	x.xcr0 = self->vm->xcr0;
	ASSERT_EQ(0, __ringvm_set_xcrs(self->vcpu->fd, &x));
	ASSERT_DONE(self->vcpu, &uc);
}

/* 6. XSAVE: x87 control word, MXCSR, XMM0-15 and the YMM upper halves */

#define XSAVE_FCW		0
#define XSAVE_MXCSR		24
#define XSAVE_XMM		160
#define XSAVE_XSTATE_BV		512

/* 16 registers x 32 bytes; the host fills these before the VM exists */
static __u8 vec_in[512] __attribute__((aligned(32), used));
static __u8 vec_out[512] __attribute__((aligned(32), used));
static __u32 fpu_ctl[2] __attribute__((used));	/* out: FCW, MXCSR after the host's SET */

/* Load vec_in, FCW 0x27f, MXCSR 0x9fa0; HLT; store into vec_out. */
asm(".pushsection .text\n"
	".globl guest_vec_sse, guest_vec_avx\n"
	"guest_vec_sse:\n"
	"	lea vec_in(%rip), %rax\n"
	"	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu \\r*32(%rax), %xmm\\r\n"
	"	.endr\n"
	"	call vec_ctl_in\n"
	"	hlt\n"
	"	lea vec_out(%rip), %rax\n"
	"	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu %xmm\\r, \\r*32(%rax)\n"
	"	.endr\n"
	"	call vec_ctl_out\n"
	"	jmp guest_vec_check\n"
	"guest_vec_avx:\n"
	"	lea vec_in(%rip), %rax\n"
	"	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu \\r*32(%rax), %ymm\\r\n"
	"	.endr\n"
	"	call vec_ctl_in\n"
	"	hlt\n"
	"	lea vec_out(%rip), %rax\n"
	"	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu %ymm\\r, \\r*32(%rax)\n"
	"	.endr\n"
	"	call vec_ctl_out\n"
	"	jmp guest_vec_check\n"
	"vec_ctl_in:\n"
	"	sub $8, %rsp\n"
	"	movl $0x27f, (%rsp)\n"
	"	fldcw (%rsp)\n"
	"	movl $0x9fa0, (%rsp)\n"
	"	ldmxcsr (%rsp)\n"
	"	add $8, %rsp\n"
	"	ret\n"
	"vec_ctl_out:\n"
	"	fnstcw fpu_ctl(%rip)\n"
	"	stmxcsr fpu_ctl+4(%rip)\n"
	"	ret\n"
	".popsection");
extern const char guest_vec_sse[], guest_vec_avx[];

void guest_vec_check(void);
void guest_vec_check(void)
{
	GUEST_SYNC(1);
	GUEST_DONE();
}

static bool cpu_has_avx(__u64 xcr0)
{
	__u32 r[4];

	cpuid(1, 0, r);
	return (r[2] & (1U << 28)) && (xcr0 & XFEATURE_YMM);
}

/* Offset of the YMM_Hi128 component in the standard format. */
static __u32 ymm_offset(void)
{
	__u32 r[4];

	cpuid(0xd, 2, r);
	return r[1];
}

TEST_F_TIMEOUT(state, xsave, 60)
{
	struct ringvm_xsave *img = calloc(1, sizeof(*img));
	__u8 *x = (__u8 *)img, *out;
	struct ucall uc;
	__u32 *ctl, ymm = 0;
	bool avx;
	int i;

	ASSERT_NE(NULL, img);
	for (i = 0; i < 512; i++)
		vec_in[i] = i * 7 + 1;
	self->vm = vm_create_guest(&self->vcpu, guest_vec_sse);
	avx = cpu_has_avx(self->vm->xcr0);
	if (avx) {
		ymm = ymm_offset();
		ASSERT_LE(ymm + 256, sizeof(*img));
		vcpu_reset(self->vcpu, guest_vec_avx);
	}
	TH_LOG("XCR0 %#llx, %s", (unsigned long long)self->vm->xcr0,
	       avx ? "XMM and YMM" : "XMM only");

	/* guest -> host */
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_HLT);
	ASSERT_EQ(0, __ringvm_get_xsave(self->vcpu->fd, img));
	EXPECT_EQ(0x27f, *(__u16 *)(x + XSAVE_FCW));
	EXPECT_EQ(0x9fa0, *(__u32 *)(x + XSAVE_MXCSR));
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(0, memcmp(x + XSAVE_XMM + 16 * i, vec_in + 32 * i,
				    16)) TH_LOG("xmm%d", i);
		if (avx)
			EXPECT_EQ(0, memcmp(x + ymm + 16 * i,
					    vec_in + 32 * i + 16, 16))
				TH_LOG("ymm%d upper half", i);
	}
	EXPECT_TRUE(*(__u64 *)(x + XSAVE_XSTATE_BV) & XFEATURE_SSE);
	if (avx)
		EXPECT_TRUE(*(__u64 *)(x + XSAVE_XSTATE_BV) & XFEATURE_YMM);

	/* host -> guest */
	for (i = 0; i < 16; i++) {
		memset(x + XSAVE_XMM + 16 * i, 0xa0 + i, 16);
		if (avx)
			memset(x + ymm + 16 * i, 0xc0 + i, 16);
	}
	*(__u16 *)(x + XSAVE_FCW) = 0x37f;
	*(__u32 *)(x + XSAVE_MXCSR) = 0x7f80;
	*(__u64 *)(x + XSAVE_XSTATE_BV) |= XFEATURE_X87 | XFEATURE_SSE |
					   (avx ? XFEATURE_YMM : 0);
	ASSERT_EQ(0, __ringvm_set_xsave(self->vcpu->fd, img));
	ASSERT_SYNC(self->vcpu, &uc, 1);
	out = addr_gva2hva(self->vm, (uintptr_t)vec_out);
	ctl = addr_gva2hva(self->vm, (uintptr_t)fpu_ctl);
	EXPECT_EQ(0x37f, ctl[0] & 0xffff);
	EXPECT_EQ(0x7f80, ctl[1]);
	for (i = 0; i < 16; i++) {
		__u8 want[32];

		memset(want, 0xa0 + i, 16);
		memset(want + 16, 0xc0 + i, 16);
		EXPECT_EQ(0, memcmp(out + 32 * i, want, avx ? 32 : 16))
			TH_LOG("register %d", i);
	}
	ASSERT_DONE(self->vcpu, &uc);
	free(img);
}

/* GET_XSAVE of a fresh vCPU: the init state, MXCSR 0x1f80, FCW 0x37f. */
TEST_F(state, xsave_init)
{
	struct ringvm_xsave *img = calloc(1, sizeof(*img));
	__u8 *x = (__u8 *)img;

	ASSERT_NE(NULL, img);
	self->vm = vm_create_guest(&self->vcpu, guest_done);
	ASSERT_EQ(0, __ringvm_get_xsave(self->vcpu->fd, img));
	EXPECT_EQ(0x37f, *(__u16 *)(x + XSAVE_FCW));
	EXPECT_EQ(0x1f80, *(__u32 *)(x + XSAVE_MXCSR));
	EXPECT_EQ(0, *(__u64 *)(x + XSAVE_XSTATE_BV + 8));	/* XCOMP_BV */
	/* and it can be set back as it is */
	EXPECT_EQ(0, __ringvm_set_xsave(self->vcpu->fd, img));
	free(img);
}

/*
 * 7. What a guest does that the hardware of one vendor refuses and an
 * emulator lets through: no host state may come out of it, and every
 * state class must still round-trip.
 */

/* Which odd thing guest_odd_state() does. */
enum odd_case {
	ODD_CR0_HIGH,		/* MOV to CR0 with bit 32 set */
	ODD_CR0_NW,		/* CR0.NW without CR0.CD */
	ODD_CR4_RSVD,		/* CR4 bit 15, reserved everywhere */
	ODD_CR3_MBZ,		/* CR3 bit 62 in long mode */
	ODD_MXCSR_RSVD,		/* LDMXCSR with bit 31 */
	ODD_CASES
};

static const char *const odd_names[ODD_CASES] = {
	"CR0 bit 32", "CR0.NW without CD", "CR4 bit 15", "CR3 bit 62",
	"MXCSR bit 31",
};

/* The vector the host reports when it refused the entry (see below). */
#define ODD_REFUSED	0xff

static void guest_odd_state(__u64 which)
{
	__u64 cr0 = read_cr0(), v;
	__u32 mxcsr = 0x1f80 | (1U << 31);
	__u8 vector;

	switch (which) {
	case ODD_CR0_HIGH:
	case ODD_CR0_NW:
		v = which == ODD_CR0_HIGH ? cr0 | (1ULL << 32) :
		    (cr0 & ~X86_CR0_CD) | X86_CR0_NW;
		asm volatile(GUEST_ASM_SAFE("mov %[v], %%cr0")
			     : [vector] "=qm"(vector) : [v] "r"(v)
			     : GUEST_ASM_SAFE_CLOBBERS);
		break;
	case ODD_CR4_RSVD:
		v = read_cr4() | (1ULL << 15);
		asm volatile(GUEST_ASM_SAFE("mov %[v], %%cr4")
			     : [vector] "=qm"(vector) : [v] "r"(v)
			     : GUEST_ASM_SAFE_CLOBBERS);
		break;
	case ODD_CR3_MBZ:
		v = read_cr3() | (1ULL << 62);
		asm volatile(GUEST_ASM_SAFE("mov %[v], %%cr3")
			     : [vector] "=qm"(vector) : [v] "r"(v)
			     : GUEST_ASM_SAFE_CLOBBERS);
		break;
	default:
		asm volatile(GUEST_ASM_SAFE("ldmxcsr %[v]")
			     : [vector] "=qm"(vector) : [v] "m"(mxcsr)
			     : GUEST_ASM_SAFE_CLOBBERS);
		break;
	}
	/* what the guest reads back after it, whatever happened */
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	GUEST_SYNC_ARGS(vector, read_cr0(), read_cr3(), read_cr4(), mxcsr);
	GUEST_DONE();
}

/*
 * Silicon (and Bochs) raise #GP for each of these.  Under QEMU's TCG the
 * SVM guest gets no #GP for the CR0 and MXCSR cases and runs on, and the
 * next entry is refused (CR0) or the image sanitized (MXCSR); QEMU ends
 * the guest with VMEXIT_INVALID at the CR3 and CR4 ones.  Both are a
 * FAIL_ENTRY exit (module/svm/exit.c).  Whatever happens, every exit
 * must be defined and the state clean.  After a FAIL_ENTRY at the
 * instruction itself the host plays the guest's exception handler (RIP
 * to R11, R9 = ODD_REFUSED); after any, it repairs CR0.NW.
 */
static void run_odd_case(struct __test_metadata *_metadata,
			 struct test_vcpu *vcpu, unsigned int which)
{
	struct ringvm_sregs sregs;
	struct ringvm_regs regs;
	unsigned int fails = 0;
	struct ucall uc;
	__u32 cmd;

	vcpu_args_set(vcpu, 1, (__u64)which);
	for (;;) {
		vcpu_run(vcpu);
		/* every exit, not just the odd one */
		ASSERT_STATE_SANE(vcpu, NULL, 0, 0);
		if (vcpu->run->exit_reason == RINGVM_EXIT_FAIL_ENTRY) {
			ASSERT_EQ(RINGVM_ARCH_SVM, vcpu->vm->arch);
			ASSERT_EQ(~0ULL, vcpu->run->fail_entry
				  .hardware_entry_failure_reason);
			ASSERT_GT(3, ++fails);
			vcpu_regs_get(vcpu, &regs);
			/* the guest's state, not the host's */
			ASSERT_LE(GUEST_CODE_GPA, regs.rip);
			ASSERT_GT(vcpu->vm->ram_size, regs.rip);
			ASSERT_LE(GUEST_STACKS_GPA, regs.rsp);
			ASSERT_GT(vcpu->vm->ram_size, regs.rsp);
			if (regs.r9 == GUEST_EX_MAGIC && regs.rip == regs.r10) {
				regs.rip = regs.r11;
				regs.r9 = ODD_REFUSED;
				vcpu_regs_set(vcpu, &regs);
			}
			vcpu_sregs_get(vcpu, &sregs);
			ASSERT_EQ(GUEST_PML4_GPA, sregs.cr3 & ~(1ULL << 62));
			ASSERT_EQ(GUEST_GDT_GPA, sregs.gdt.base);
			ASSERT_EQ(GUEST_IDT_GPA, sregs.idt.base);
			sregs.cr0 &= ~X86_CR0_NW;
			sregs.cr3 = GUEST_PML4_GPA;
			vcpu_sregs_set(vcpu, &sregs);
			continue;
		}
		cmd = get_ucall(vcpu, &uc);
		if (cmd == UCALL_ASSERT || cmd == UCALL_UNHANDLED)
			REPORT_GUEST_ASSERT(uc);
		if (cmd == UCALL_DONE)
			break;
		ASSERT_EQ(UCALL_SYNC, cmd);
		TH_LOG("%s: vector %#llx, then cr0 %#llx cr3 %#llx cr4 %#llx mxcsr %#llx",
		       odd_names[which], (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3],
		       (unsigned long long)uc.args[4]);
		/* silicon and Bochs refuse every one of them */
		if (uc.args[0] != ODD_REFUSED && uc.args[0] != GP_VECTOR)
			ASSERT_TRUE(host_is_tcg() && !uc.args[0]);
	}
	/* and the CR0 the vCPU ends with is one that exists */
	vcpu_sregs_get(vcpu, &sregs);
	ASSERT_EQ(0, sregs.cr0 >> 32);
	ASSERT_EQ(0, sregs.cr4 & (1ULL << 15));
}

TEST_F(state, odd_guest_state)
{
	unsigned int which;

	for (which = 0; which < ODD_CASES; which++) {
		TH_LOG("%s", odd_names[which]);
		self->vm = vm_create_guest(&self->vcpu, guest_odd_state);
		run_odd_case(_metadata, self->vcpu, which);
		vm_destroy(self->vm);
		self->vm = NULL;
	}
}

RINGVM_GUEST_TEST_MAIN
