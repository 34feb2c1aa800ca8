// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_test: guest accesses outside every RAM region exit to user space
 * as MMIO, decoded by the module (module/emulate.c): the address, the
 * width, the direction and, for a store, the data; for a load, the data
 * user space puts in the run page lands in the destination register
 * with MOV / MOVZX / MOVSX semantics.  An instruction the decoder does
 * not handle is an EMULATION exit with its bytes.
 *
 * Each guest function below runs a fixed list of instructions written
 * in inline assembly (so the encodings are known) against GUEST_MMIO_GPA,
 * which the guest's page tables map and no region backs; the host walks
 * the same list and checks or answers each exit.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"

#define MMIO	GUEST_MMIO_GPA
#define PRESET	0x1122334455667788ULL

FIXTURE(mmio) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
};

FIXTURE_SETUP(mmio)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
}

FIXTURE_TEARDOWN(mmio)
{
	vm_destroy(self->vm);
}

struct mmio_step {
	const char *insn;
	bool write;
	__u32 len;
	__u64 gpa;
	__u64 data;	/* store: what the guest writes; load: the answer */
};

/*
 * The next exit must be the MMIO access @s describes: check a store's
 * data, or give a load its answer.
 */
static void expect_mmio(struct __test_metadata *_metadata,
			struct test_vcpu *vcpu, const struct mmio_step *s)
{
	struct ringvm_run *run = vcpu->run;
	__u64 data = 0;
	char b[512];

	vcpu_run(vcpu);
	ASSERT_EQ(RINGVM_EXIT_MMIO, run->exit_reason)
		TH_LOG("%s: %s", s->insn, vcpu_exit_str(vcpu, b, sizeof(b)));
	ASSERT_EQ(s->gpa, run->mmio.gpa) TH_LOG("%s", s->insn);
	ASSERT_EQ(s->len, run->mmio.len) TH_LOG("%s", s->insn);
	ASSERT_EQ(s->write, run->mmio.is_write) TH_LOG("%s", s->insn);
	if (s->write) {
		memcpy(&data, run->mmio.data, s->len);
		ASSERT_EQ(s->data, data) TH_LOG("%s", s->insn);
	} else {
		memset(run->mmio.data, 0xcc, sizeof(run->mmio.data));
		memcpy(run->mmio.data, &s->data, s->len);
	}
}

static void run_steps(struct __test_metadata *_metadata,
		      struct test_vcpu *vcpu, const struct mmio_step *steps,
		      unsigned int n)
{
	struct ucall uc;
	unsigned int i;

	for (i = 0; i < n; i++)
		expect_mmio(_metadata, vcpu, &steps[i]);
	ASSERT_DONE(vcpu, &uc);
}

/* 1. Stores */

static void guest_stores(void)
{
	__u64 rax;

	asm volatile("movb %%al, (%%rbx)" : : "a"(0x11), "b"(MMIO) : "memory");
	asm volatile("movw %%ax, (%%rbx)" : : "a"(0x2222), "b"(MMIO)
		     : "memory");
	asm volatile("movl %%eax, (%%rbx)" : : "a"(0x33333333), "b"(MMIO)
		     : "memory");
	asm volatile("movq %%rax, (%%rbx)" : : "a"(0x4444444444444444ULL),
		     "b"(MMIO) : "memory");
	/* C6 /0, C7 /0 with 66, C7 /0, REX.W C7 /0 (imm32 sign-extended) */
	asm volatile("movb $0x55, (%%rbx)" : : "b"(MMIO) : "memory");
	asm volatile("movw $0x6666, 2(%%rbx)" : : "b"(MMIO) : "memory");
	asm volatile("movl $0x77777777, 4(%%rbx)" : : "b"(MMIO) : "memory");
	asm volatile("movq $-2, 8(%%rbx)" : : "b"(MMIO) : "memory");
	/* AH without REX; SIL, R9 and R12 need one */
	asm volatile("movb %%ah, (%%rbx)" : : "a"(0xab00), "b"(MMIO)
		     : "memory");
	asm volatile("movb %%sil, (%%rbx)" : : "S"(0x5e), "b"(MMIO)
		     : "memory");
	asm volatile("mov %0, %%r9; movq %%r9, 0x10(%%rbx)"
		     : : "r"(0x0123456789abcdefULL), "b"(MMIO) : "r9", "memory");
	asm volatile("mov %0, %%r12; movl %%eax, 0x18(%%r12)"
		     : : "r"(MMIO), "a"(0x12121212) : "r12", "memory");
	/* SIB with an index; an FS override (base 0); A2/A3 moffs */
	asm volatile("movl %%eax, 0x20(%%rbx,%%rcx,4)"
		     : : "a"(0xabcdef01), "b"(MMIO), "c"(2) : "memory");
	asm volatile("movw %%ax, %%fs:0x30(%%rbx)" : : "a"(0x3030), "b"(MMIO)
		     : "memory");
	asm volatile("movabs %%al, 0xc0000040" : : "a"(0x40) : "memory");
	rax = 0x4141414141414141ULL;
	asm volatile("movabs %%rax, 0xc0000048" : : "a"(rax) : "memory");
	GUEST_DONE();
}

TEST_F(mmio, stores)
{
	static const struct mmio_step steps[] = {
		{ "mov %al, (%rbx)", true, 1, MMIO, 0x11 },
		{ "mov %ax, (%rbx)", true, 2, MMIO, 0x2222 },
		{ "mov %eax, (%rbx)", true, 4, MMIO, 0x33333333 },
		{ "mov %rax, (%rbx)", true, 8, MMIO, 0x4444444444444444ULL },
		{ "movb $imm8", true, 1, MMIO, 0x55 },
		{ "movw $imm16", true, 2, MMIO + 2, 0x6666 },
		{ "movl $imm32", true, 4, MMIO + 4, 0x77777777 },
		{ "movq $-2", true, 8, MMIO + 8, 0xfffffffffffffffeULL },
		{ "mov %ah, (%rbx)", true, 1, MMIO, 0xab },
		{ "mov %sil, (%rbx)", true, 1, MMIO, 0x5e },
		{ "mov %r9, 0x10(%rbx)", true, 8, MMIO + 0x10,
		  0x0123456789abcdefULL },
		{ "mov %eax, 0x18(%r12)", true, 4, MMIO + 0x18, 0x12121212 },
		{ "mov %eax, 0x20(%rbx,%rcx,4)", true, 4, MMIO + 0x28,
		  0xabcdef01 },
		{ "mov %ax, %fs:0x30(%rbx)", true, 2, MMIO + 0x30, 0x3030 },
		{ "movabs %al, moffs64", true, 1, MMIO + 0x40, 0x40 },
		{ "movabs %rax, moffs64", true, 8, MMIO + 0x48,
		  0x4141414141414141ULL },
	};

	self->vm = vm_create_guest(&self->vcpu, guest_stores);
	run_steps(_metadata, self->vcpu, steps, ARRAY_SIZE(steps));
}

/* 2. Loads: the guest checks what the registers got */

static void guest_loads(void)
{
	__u64 v, w;

	/* 8- and 16-bit loads keep the rest; 32-bit ones zero-extend */
	v = PRESET;
	asm volatile("movb (%%rbx), %%al" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x11223344556677aaULL);
	v = PRESET;
	asm volatile("movw (%%rbx), %%ax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x112233445566bbbbULL);
	v = PRESET;
	asm volatile("movl (%%rbx), %%eax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xccccccccULL);
	v = PRESET;
	asm volatile("movq (%%rbx), %%rax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xddddddddddddddddULL);

	/* MOVZX, MOVSX, MOVSXD */
	v = PRESET;
	asm volatile("movzbl (%%rbx), %%eax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x80);
	v = PRESET;
	asm volatile("movzwq (%%rbx), %%rax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x8001);
	v = PRESET;
	asm volatile("movsbl (%%rbx), %%eax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffff80ULL);
	v = PRESET;
	asm volatile("movsbq (%%rbx), %%rax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffffff80ULL);
	v = PRESET;
	asm volatile("movswq (%%rbx), %%rax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffff8000ULL);
	v = PRESET;
	asm volatile("movslq (%%rbx), %%rax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffff80000000ULL);
	v = PRESET;
	asm volatile("movsbw (%%rbx), %%ax" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x112233445566ff80ULL);

	/* AH without REX; SIL and R10 with one */
	v = PRESET;
	asm volatile("movb (%%rbx), %%ah" : "+a"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455669988ULL);
	v = PRESET;
	asm volatile("movb (%%rbx), %%sil" : "+S"(v) : "b"(MMIO) : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455667742ULL);
	asm volatile("mov %1, %%r10; movq 8(%%rbx), %%r10; mov %%r10, %0"
		     : "=r"(v) : "r"(PRESET), "b"(MMIO) : "r10", "memory");
	GUEST_ASSERT_EQ(v, 0x0102030405060708ULL);
	asm volatile("mov %2, %%r12; mov %1, %%r11; movl 0x18(%%r12), %%r11d;"
		     "mov %%r11, %0"
		     : "=r"(v) : "r"(PRESET), "r"(MMIO) : "r11", "r12",
		       "memory");
	GUEST_ASSERT_EQ(v, 0x9abcdef0ULL);
	/* A0/A1 moffs */
	v = PRESET;
	asm volatile("movabs 0xc0000040, %%al" : "+a"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455667777ULL);
	asm volatile("movabs 0xc0000048, %%eax" : "=a"(w) : : "memory");
	GUEST_ASSERT_EQ(w, 0x48484848ULL);
	GUEST_DONE();
}

TEST_F(mmio, loads)
{
	static const struct mmio_step steps[] = {
		{ "mov (%rbx), %al", false, 1, MMIO, 0xaa },
		{ "mov (%rbx), %ax", false, 2, MMIO, 0xbbbb },
		{ "mov (%rbx), %eax", false, 4, MMIO, 0xcccccccc },
		{ "mov (%rbx), %rax", false, 8, MMIO, 0xddddddddddddddddULL },
		{ "movzbl", false, 1, MMIO, 0x80 },
		{ "movzwq", false, 2, MMIO, 0x8001 },
		{ "movsbl", false, 1, MMIO, 0x80 },
		{ "movsbq", false, 1, MMIO, 0x80 },
		{ "movswq", false, 2, MMIO, 0x8000 },
		{ "movslq", false, 4, MMIO, 0x80000000 },
		{ "movsbw", false, 1, MMIO, 0x80 },
		{ "mov (%rbx), %ah", false, 1, MMIO, 0x99 },
		{ "mov (%rbx), %sil", false, 1, MMIO, 0x42 },
		{ "mov 8(%rbx), %r10", false, 8, MMIO + 8,
		  0x0102030405060708ULL },
		{ "mov 0x18(%r12), %r11d", false, 4, MMIO + 0x18, 0x9abcdef0 },
		{ "movabs moffs64, %al", false, 1, MMIO + 0x40, 0x77 },
		{ "movabs moffs64, %eax", false, 4, MMIO + 0x48, 0x48484848 },
	};

	self->vm = vm_create_guest(&self->vcpu, guest_loads);
	run_steps(_metadata, self->vcpu, steps, ARRAY_SIZE(steps));
}

/* Each access is one exit, also when the guest repeats it in a loop. */
static void guest_loop(void)
{
	volatile __u32 *p = (volatile __u32 *)(MMIO + 0x100);
	__u32 i, sum = 0;

	for (i = 0; i < 16; i++) {
		*p = i;
		sum += *p;
	}
	GUEST_ASSERT_EQ(sum, 16 * 15 / 2 * 3);
	GUEST_DONE();
}

TEST_F(mmio, loop)
{
	struct ringvm_run *run;
	struct ucall uc;
	__u32 i, v;

	self->vm = vm_create_guest(&self->vcpu, guest_loop);
	run = self->vcpu->run;
	for (i = 0; i < 16; i++) {
		vcpu_run(self->vcpu);
		ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
		ASSERT_TRUE(run->mmio.is_write);
		ASSERT_EQ(4, run->mmio.len);
		memcpy(&v, run->mmio.data, 4);
		ASSERT_EQ(i, v);
		vcpu_run(self->vcpu);
		ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
		ASSERT_FALSE(run->mmio.is_write);
		ASSERT_EQ(MMIO + 0x100, run->mmio.gpa);
		v = 3 * i;
		memcpy(run->mmio.data, &v, 4);
	}
	ASSERT_DONE(self->vcpu, &uc);
}

/* 3. Instructions the decoder refuses: an EMULATION exit with the bytes */

asm(".pushsection .text\n"
	".globl mmio_add_insn, mmio_xchg_insn, mmio_movdqu_insn\n"
	"mmio_add_insn:\n"
	"	addl %eax, (%rbx)\n"
	"	ud2\n"
	"mmio_xchg_insn:\n"
	"	xchgl %eax, (%rbx)\n"
	"	ud2\n"
	"mmio_movdqu_insn:\n"
	"	movdqu (%rbx), %xmm0\n"
	"	ud2\n"
	".popsection");
extern const __u8 mmio_add_insn[], mmio_xchg_insn[], mmio_movdqu_insn[];

/* The insn to run comes in RDI: jump to it with RBX at the MMIO page. */
static void guest_refused(const void *insn)
{
	asm volatile("jmp *%0" : : "r"(insn), "a"(1), "b"(MMIO) : "memory");
}

TEST_F(mmio, refused)
{
	static const struct {
		const char *what;
		const __u8 *insn;
		unsigned int len;
	} cases[] = {
		{ "add %eax, (%rbx)", mmio_add_insn, 2 },
		{ "xchg %eax, (%rbx)", mmio_xchg_insn, 2 },
		{ "movdqu (%rbx), %xmm0", mmio_movdqu_insn, 4 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ringvm_run *run;

		TH_LOG("%s", cases[i].what);
		self->vm = vm_create_guest(&self->vcpu, guest_refused);
		run = self->vcpu->run;
		vcpu_args_set(self->vcpu, 1, (uintptr_t)cases[i].insn);
		vcpu_run(self->vcpu);
		ASSERT_EXIT(self->vcpu, RINGVM_EXIT_EMULATION);
		ASSERT_EQ((uintptr_t)cases[i].insn, run->rip);
		ASSERT_EQ(MMIO, run->emulation.gpa);
		ASSERT_LE(cases[i].len, run->emulation.insn_len);
		ASSERT_GE(15, run->emulation.insn_len);
		ASSERT_EQ(0, memcmp(run->emulation.insn, cases[i].insn,
				    cases[i].len));
		vm_destroy(self->vm);
		self->vm = NULL;
	}
}

/*
 * 5. MMIO that no instruction at RIP touched.  An exception whose
 * delivery pushes its frame onto a stack in MMIO, and a load whose
 * page-table walk reads a page table in MMIO, fault on an MMIO address;
 * decoding the instruction at RIP as the access would hand user space a
 * made-up MMIO exit.  Both are INTERNAL_ERROR / NO_INSN with the GPA.
 */
#define WALK_VA		0x3fe00000ULL	/* PD[0][511]: its table in MMIO */

static void guest_stack_in_mmio(void)
{
	asm volatile("mov %0, %%rsp\n\tud2" : : "r"(MMIO + 0x800) : "memory");
}

static void guest_walk_in_mmio(void)
{
	asm volatile("movl (%0), %%eax" : : "r"(WALK_VA) : "rax", "memory");
}

static void expect_no_insn(struct __test_metadata *_metadata,
			   struct test_vcpu *vcpu, __u64 gpa_page)
{
	struct ringvm_run *run = vcpu->run;
	char b[512];

	vcpu_run(vcpu);
	ASSERT_EQ(RINGVM_EXIT_INTERNAL_ERROR, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(vcpu, b, sizeof(b)));
	ASSERT_EQ(RINGVM_INTERNAL_ERR_NO_INSN, run->internal.suberror);
	ASSERT_EQ(gpa_page, run->internal.data[0] & ~0xfffULL)
		TH_LOG("gpa %#llx", (unsigned long long)run->internal.data[0]);
}

TEST_F(mmio, exception_frame_in_mmio)
{
	self->vm = vm_create_guest(&self->vcpu, guest_stack_in_mmio);
	expect_no_insn(_metadata, self->vcpu, MMIO);
}

TEST_F(mmio, page_table_in_mmio)
{
	__u64 *pd;

	self->vm = vm_create_guest(&self->vcpu, guest_walk_in_mmio);
	pd = addr_gva2hva(self->vm, GUEST_PD_GPA);
	pd[WALK_VA >> 21] = MMIO | 0x3;	/* present, writable: a table */
	expect_no_insn(_metadata, self->vcpu, MMIO);
}

RINGVM_GUEST_TEST_MAIN
