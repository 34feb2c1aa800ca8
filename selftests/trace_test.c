// SPDX-License-Identifier: GPL-2.0
/*
 * trace_test: the ringvm: trace events (module/trace.h), read back from
 * tracefs as perf, trace-cmd or a script would see them.  Each case
 * enables events/ringvm, runs a guest that provably causes particular
 * exits, stops it, and checks the events of its VM (by id) in the trace
 * buffer, field by field.
 *
 *  1. format: every event is there, and the format files have numbers
 *     where the source has enum names (TRACE_DEFINE_ENUM), so user-space
 *     tools can decode the reason and type fields.
 *  2. exits: a known number of CPUIDs is exactly that many ringvm_exit
 *     events with reason cpuid and the vendor's raw reason, at the
 *     CPUID's RIP; an OUT is an io exit with the port in the
 *     qualification (bits 31:16 on both vendors) and a ringvm_userspace_exit
 *     with reason io; the first entry is at the guest function; every
 *     entry has its exit.
 *  3. npf: the first touch of a RAM page is a ringvm_npf with its gpa,
 *     access w and result mapped; a load from an address no region backs
 *     is one with access r and result mmio, and an mmio exit to user
 *     space.
 *  4. injection: an interrupt from RINGVM_INTERRUPT is a ringvm_inj_event
 *     with type intr and its vector; the #GP the module raises for an
 *     unknown MSR is one with type exception, vector 13 and error code 0;
 *     each right before the entry that delivers it.
 *  5. lifetime: ringvm_vm_create and ringvm_vm_destroy name the VM, with
 *     its memory and vCPU limit; ringvm_vcpu_create / _destroy come for
 *     each vCPU, in that order.
 *  6. bpf: a BPF program on ringvm:ringvm_exit, attached as bpftrace
 *     attaches its tracepoint probes (perf_event_open of the event's id,
 *     PERF_EVENT_IOC_SET_BPF), reading the fields at the offsets the
 *     format file gives, counts exactly the guest's CPUIDs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "kselftest_harness.h"
#include "guest.h"

#define NR_CPUIDS	13
#define PIO_PORT	0x5a1
#define IRQ_VECTOR	0x41
#define MSR_UNKNOWN	0x0badc0de
#define TOUCH_GPA	(GUEST_SCRATCH_GPA + 0x3000)
#define MMIO_GPA	(GUEST_MMIO_GPA + 0x18)
#define VM_NAME		GUEST_TEST_VM_PREFIX "trace"

/* Raw exit reasons: Intel SDM Vol. 3D App. C, AMD APM Vol. 2 App. C */
#define VMX_REASON_CPUID	10
#define VMX_REASON_IO		30
#define VMX_REASON_EPT		48
#define SVM_REASON_CPUID	0x72
#define SVM_REASON_IOIO		0x7b
#define SVM_REASON_NPF		0x400

static const char *const events[] = {
	"ringvm_vm_create", "ringvm_vm_destroy", "ringvm_vcpu_create",
	"ringvm_vcpu_destroy", "ringvm_entry", "ringvm_inj_event",
	"ringvm_exit", "ringvm_userspace_exit", "ringvm_npf",
};

/* 0. tracefs and the events read back */

#define MAX_FIELDS	12
#define MAX_EVENTS	4096

/* One ringvm event: its name and "key value" pairs, as printed. */
struct trace_event {
	char name[32];
	unsigned int nr;
	char key[MAX_FIELDS][16];
	char val[MAX_FIELDS][40];
};

/* The events read back, on the heap: the guest gets a copy of the bss */
static struct trace_event *trace;

static int tracefs_write(const char *dir, const char *file, const char *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return file_write(path, s, O_TRUNC);
}

/* Empty the buffer and turn the ringvm events on (or off): 0 or -errno. */
static int trace_enable(const char *dir, bool on)
{
	int ret;

	if (on) {
		ret = tracefs_write(dir, "trace", "");
		if (ret)
			return ret;
	}
	ret = tracefs_write(dir, "events/ringvm/enable", on ? "1" : "0");
	if (ret)
		return ret;
	return tracefs_write(dir, "tracing_on", "1");
}

/* The value of field @key, "" if the event has none. */
static const char *ev_get(const struct trace_event *e, const char *key)
{
	unsigned int i;

	for (i = 0; i < e->nr; i++)
		if (!strcmp(e->key[i], key))
			return e->val[i];
	return "";
}

static unsigned long long ev_num(const struct trace_event *e,
				 const char *key)
{
	const char *v = ev_get(e, key);

	return *v ? strtoull(v, NULL, 0) : ~0ULL;
}

static bool ev_is(const struct trace_event *e, const char *name,
		  const char *key, const char *val)
{
	const char *v;

	if (strcmp(e->name, name))
		return false;
	if (!key)
		return true;
	v = ev_get(e, key);
	return !strcmp(v, val);
}

/*
 * Parse one line of "trace": "task-pid [cpu] flags ts: ringvm_x: k v k v".
 * True if it is a ringvm event of VM @vm.
 */
static bool parse_line(char *line, __u32 vm, struct trace_event *e)
{
	char *p = strstr(line, ": ringvm_"), *name, *save, *k, *v;

	if (!p)
		return false;
	name = p + 2;
	p = strchr(name, ':');
	if (!p)
		return false;
	*p++ = '\0';
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (k = strtok_r(p, "\n ", &save); k && e->nr < MAX_FIELDS;
	     k = strtok_r(NULL, "\n ", &save)) {
		v = strtok_r(NULL, "\n ", &save);
		if (!v)
			break;
		snprintf(e->key[e->nr], sizeof(e->key[0]), "%s", k);
		snprintf(e->val[e->nr], sizeof(e->val[0]), "%s", v);
		e->nr++;
	}
	return ev_num(e, "vm") == vm;
}

/*
 * The events of VM @vm in the buffer, in order: how many, or -errno;
 * -EOVERFLOW if the buffer lost events.
 */
static int trace_read(const char *dir, __u32 vm)
{
	char path[256], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "LOST") && strstr(line, "EVENTS")) {
			n = -EOVERFLOW;
			break;
		}
		if (n < MAX_EVENTS && parse_line(line, vm, &trace[n]))
			n++;
	}
	fclose(f);
	return n;
}

static unsigned int count(int n, const char *name, const char *key,
			  const char *val)
{
	unsigned int c = 0;
	int i;

	for (i = 0; i < n; i++)
		c += ev_is(&trace[i], name, key, val);
	return c;
}

/* The first event @name with @key = @val at or after @from, or -1. */
static int find(int n, int from, const char *name, const char *key,
		const char *val)
{
	int i;

	for (i = from; i < n; i++)
		if (ev_is(&trace[i], name, key, val))
			return i;
	return -1;
}

FIXTURE(trace) {
	struct test_vm *vm;
	struct test_vcpu *vcpu;
	const char *dir;
};

FIXTURE_SETUP(trace)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	if (!trace)
		trace = calloc(MAX_EVENTS, sizeof(*trace));
	ASSERT_NE(NULL, trace);
	self->dir = tracefs_dir("trace");
	if (!self->dir)
		SKIP(return, "no tracefs");
	ret = trace_enable(self->dir, true);
	ASSERT_EQ(0, ret) TH_LOG("enable events/ringvm: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->dir)
		trace_enable(self->dir, false);
	vm_destroy(self->vm);
}

/*
 * Destroy the test's VM and read its events with tracing stopped: the
 * number of events, asserted to be some.
 */
#define STOP_AND_READ(self)						\
	({								\
		__u32 __id = (self)->vm->id;				\
		int __n;						\
									\
		vm_destroy((self)->vm);					\
		(self)->vm = NULL;					\
		ASSERT_EQ(0, trace_enable((self)->dir, false));		\
		__n = trace_read((self)->dir, __id);			\
		ASSERT_LT(0, __n) TH_LOG("events of vm %u: %s", __id,	\
					 __n ? strerror(-__n) : "none"); \
		__n;							\
	})

/* 1. The events and their format files */

TEST_F(trace, format)
{
	char path[256], buf[8192];
	unsigned int i;
	ssize_t len;
	int fd;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), "%s/events/ringvm/%s/format",
			 self->dir, events[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_LT(0, len);
		buf[len] = '\0';
		EXPECT_NE(NULL, strstr(buf, "field:u32 vm;")) TH_LOG("%s", path);
		/* an enum name left in print fmt: perf cannot decode it */
		EXPECT_EQ(NULL, strstr(buf, "RINGVM_")) TH_LOG("%s", path);
	}
}

/* 2. Exits */

static void guest_exits(void)
{
	__u32 eax, ebx, ecx, edx;
	__u64 rip = 0;
	unsigned int i;

	for (i = 0; i < NR_CPUIDS; i++) {
		eax = 0;
		ecx = 0;
		asm volatile("lea 1f(%%rip), %[rip]\n\t"
			     "1: cpuid"
			     : [rip] "=&D"(rip), "+a"(eax), "=b"(ebx),
			       "+c"(ecx), "=d"(edx) : : "memory");
	}
	outb(PIO_PORT, 0x5a);
	GUEST_SYNC(rip);
	GUEST_DONE();
}

TEST_F(trace, exits)
{
	bool svm;
	unsigned int cpuid_reason, io_reason, entries, exits;
	char num[32];
	__u64 cpuid_rip;
	struct ucall uc;
	int n, i;

	self->vm = vm_create_guest(&self->vcpu, guest_exits);
	svm = self->vm->arch == RINGVM_ARCH_SVM;
	cpuid_reason = svm ? SVM_REASON_CPUID : VMX_REASON_CPUID;
	io_reason = svm ? SVM_REASON_IOIO : VMX_REASON_IO;
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IO);
	ASSERT_EQ(PIO_PORT, self->vcpu->run->io.port);
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	cpuid_rip = uc.args[0];
	ASSERT_DONE(self->vcpu, &uc);

	n = STOP_AND_READ(self);

	/* Exactly the guest's CPUIDs, each at the instruction */
	EXPECT_EQ(NR_CPUIDS, count(n, "ringvm_exit", "reason", "cpuid"));
	for (i = 0; i < n; i++) {
		if (!ev_is(&trace[i], "ringvm_exit", "reason", "cpuid"))
			continue;
		EXPECT_EQ(0, ev_num(&trace[i], "vcpu"));
		EXPECT_EQ(cpuid_reason, ev_num(&trace[i], "hw_reason"));
		EXPECT_EQ(cpuid_rip, ev_num(&trace[i], "rip"));
		EXPECT_STREQ(svm ? "svm" : "vmx", ev_get(&trace[i], "arch"));
	}

	/* The OUT: an io exit with the port, then the exit to user space */
	i = find(n, 0, "ringvm_exit", "reason", "io");
	while (i >= 0 && (ev_num(&trace[i], "qual") >> 16 & 0xffff) !=
			 PIO_PORT)
		i = find(n, i + 1, "ringvm_exit", "reason", "io");
	ASSERT_LE(0, i) TH_LOG("no io exit for port %#x", PIO_PORT);
	EXPECT_EQ(io_reason, ev_num(&trace[i], "hw_reason"));
	i = find(n, i, "ringvm_userspace_exit", NULL, NULL);
	ASSERT_LE(0, i);
	EXPECT_STREQ("io", ev_get(&trace[i], "reason"));

	/* The first entry is at the guest function; each has its exit */
	i = find(n, 0, "ringvm_entry", NULL, NULL);
	ASSERT_LE(0, i);
	snprintf(num, sizeof(num), "%#llx",
		 (unsigned long long)(uintptr_t)guest_exits);
	EXPECT_STREQ(num, ev_get(&trace[i], "rip"));
	entries = count(n, "ringvm_entry", NULL, NULL);
	exits = count(n, "ringvm_exit", NULL, NULL);
	EXPECT_EQ(entries, exits);
	EXPECT_LT(NR_CPUIDS, exits);
	/* the OUT and two ucalls (SYNC, DONE) reached user space */
	EXPECT_EQ(3, count(n, "ringvm_userspace_exit", "reason", "io"));
	EXPECT_EQ(3, count(n, "ringvm_userspace_exit", NULL, NULL));
}

/* 3. Nested page faults */

static void guest_npf(void)
{
	volatile __u32 *touch = (volatile __u32 *)TOUCH_GPA;
	volatile __u32 *mmio = (volatile __u32 *)MMIO_GPA;

	*touch = 1;
	GUEST_ASSERT_EQ(0x12345678, *mmio);
	GUEST_DONE();
}

TEST_F(trace, npf)
{
	struct ringvm_run *run;
	__u32 val = 0x12345678;
	char gpa[32];
	struct ucall uc;
	int n, i, u;
	bool svm;

	self->vm = vm_create_guest(&self->vcpu, guest_npf);
	svm = self->vm->arch == RINGVM_ARCH_SVM;
	run = self->vcpu->run;
	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_MMIO);
	ASSERT_EQ(MMIO_GPA, run->mmio.gpa);
	memcpy(run->mmio.data, &val, sizeof(val));
	ASSERT_DONE(self->vcpu, &uc);

	n = STOP_AND_READ(self);

	/* The write to fresh RAM: mapped, the guest went on */
	for (i = find(n, 0, "ringvm_npf", NULL, NULL); i >= 0;
	     i = find(n, i + 1, "ringvm_npf", NULL, NULL))
		if ((ev_num(&trace[i], "gpa") & ~0xfffULL) == TOUCH_GPA)
			break;
	ASSERT_LE(0, i) TH_LOG("no ringvm_npf at %#llx", TOUCH_GPA);
	EXPECT_EQ(0, ev_num(&trace[i], "vcpu"));
	EXPECT_STREQ("w", ev_get(&trace[i], "access"));
	EXPECT_STREQ("mapped", ev_get(&trace[i], "result"));

	/*
	 * The load from MMIO: an npf exit, then the exit to user space the
	 * handler made, then ringvm_npf with how it ended.
	 */
	snprintf(gpa, sizeof(gpa), "%#llx", MMIO_GPA);
	i = find(n, 0, "ringvm_exit", "gpa", gpa);
	ASSERT_LE(0, i) TH_LOG("no ringvm_exit at %s", gpa);
	EXPECT_STREQ("npf", ev_get(&trace[i], "reason"));
	EXPECT_EQ(svm ? SVM_REASON_NPF : VMX_REASON_EPT,
		  ev_num(&trace[i], "hw_reason"));
	u = find(n, i, "ringvm_userspace_exit", NULL, NULL);
	ASSERT_LE(0, u);
	EXPECT_STREQ("mmio", ev_get(&trace[u], "reason"));
	EXPECT_EQ(1, count(n, "ringvm_userspace_exit", "reason", "mmio"));
	i = find(n, i, "ringvm_npf", "gpa", gpa);
	ASSERT_LE(0, i) TH_LOG("no ringvm_npf at %s", gpa);
	EXPECT_EQ(u + 1, i);
	EXPECT_STREQ("r", ev_get(&trace[i], "access"));
	EXPECT_STREQ("mmio", ev_get(&trace[i], "result"));
}

/* 4. Event injection */

static volatile __u64 irq_count;

static void irq_handler(struct ex_regs *regs)
{
	irq_count += regs->vector == IRQ_VECTOR;
}

static void guest_injection(void)
{
	__u64 v;

	GUEST_ASSERT_EQ(GP_VECTOR, rdmsr_safe(MSR_UNKNOWN, &v));
	asm volatile("cli");
	GUEST_SYNC(0);
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(1, irq_count);
	GUEST_DONE();
}

TEST_F(trace, injection)
{
	struct ucall uc;
	int n, i;

	self->vm = vm_create_guest(&self->vcpu, guest_injection);
	vm_install_exception_handler(self->vm, IRQ_VECTOR, irq_handler);
	ASSERT_SYNC(self->vcpu, &uc, 0);
	ASSERT_EQ(0, __ringvm_interrupt(self->vcpu->fd, IRQ_VECTOR));
	ASSERT_DONE(self->vcpu, &uc);

	n = STOP_AND_READ(self);

	/*
	 * Each is injected at least once; again if an exit cut its
	 * delivery short (the first touch of the IDT's page, say).
	 */
	ASSERT_LE(0, find(n, 0, "ringvm_inj_event", "type", "exception"))
		TH_LOG("no exception injected");
	ASSERT_LE(0, find(n, 0, "ringvm_inj_event", "type", "intr"))
		TH_LOG("no interrupt injected");
	for (i = 0; i < n; i++) {
		if (ev_is(&trace[i], "ringvm_inj_event", "type", "exception")) {
			EXPECT_EQ(0, ev_num(&trace[i], "vcpu"));
			EXPECT_EQ(GP_VECTOR, ev_num(&trace[i], "vector"));
			EXPECT_EQ(1, ev_num(&trace[i], "has_error"));
			EXPECT_EQ(0, ev_num(&trace[i], "error_code"));
		} else if (ev_is(&trace[i], "ringvm_inj_event", NULL, NULL)) {
			EXPECT_STREQ("intr", ev_get(&trace[i], "type"));
			EXPECT_EQ(IRQ_VECTOR, ev_num(&trace[i], "vector"));
			EXPECT_EQ(0, ev_num(&trace[i], "has_error"));
		} else {
			continue;
		}
		/* the entry that delivers it follows */
		EXPECT_TRUE(i + 1 < n &&
			    ev_is(&trace[i + 1], "ringvm_entry", NULL, NULL));
	}
}

/* 5. VM and vCPU lifetime */

static void guest_nothing(void)
{
	GUEST_DONE();
}

TEST_F(trace, lifetime)
{
	const struct vm_opts opts = { .name = VM_NAME, .max_vcpus = 2 };
	int n, c, v0, v1, d0, d1, d;
	__u64 ram;

	self->vm = vm_create(&opts);
	ram = self->vm->ram_size;
	vm_vcpu_add(self->vm, 0, guest_nothing);
	vm_vcpu_add(self->vm, 1, guest_nothing);

	n = STOP_AND_READ(self);

	c = find(n, 0, "ringvm_vm_create", "name", VM_NAME);
	ASSERT_LE(0, c) TH_LOG("no ringvm_vm_create named " VM_NAME);
	EXPECT_EQ(2, ev_num(&trace[c], "max_vcpus"));
	EXPECT_EQ(ram, ev_num(&trace[c], "mem"));
	v0 = find(n, c, "ringvm_vcpu_create", "vcpu", "0");
	v1 = find(n, c, "ringvm_vcpu_create", "vcpu", "1");
	d0 = find(n, c, "ringvm_vcpu_destroy", "vcpu", "0");
	d1 = find(n, c, "ringvm_vcpu_destroy", "vcpu", "1");
	d = find(n, c, "ringvm_vm_destroy", "name", VM_NAME);
	ASSERT_LT(c, v0);
	ASSERT_LT(v0, v1);
	ASSERT_LT(v1, d0);
	ASSERT_LT(v1, d1);
	ASSERT_LT(d0, d);
	ASSERT_LT(d1, d);
	/* the library wrote the guest's image and page tables */
	EXPECT_LT(0, ev_num(&trace[d], "mem_allocated"));
	EXPECT_GE(ram, ev_num(&trace[d], "mem_allocated"));
	EXPECT_EQ(1, count(n, "ringvm_vm_create", NULL, NULL));
	EXPECT_EQ(1, count(n, "ringvm_vm_destroy", NULL, NULL));
}

/*
 * 6. BPF, the way bpftrace uses the events: bpftrace is not in the test
 * machines (Debian's pulls LLVM and Clang, about 250 MB), so this case
 * does by hand what its tracepoint probes do.
 */

/* Field @name of ringvm event @event: its offset in the record, or -1. */
static int field_offset(const char *dir, const char *event, const char *name,
			int *size)
{
	char path[256], line[256], want[64];
	int off = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/ringvm/%s/format", dir, event);
	snprintf(want, sizeof(want), " %s;", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, want);

		if (!p || !strstr(line, "field:") || !strstr(p, "offset:"))
			continue;
		if (sscanf(strstr(p, "offset:"), "offset:%d; size:%d;", &off,
			   size) != 2)
			off = -1;
		break;
	}
	fclose(f);
	return off;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

#define INSN(c, d, sr, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (sr), \
			    .off = (o), .imm = (i) })

TEST_F(trace, bpf_program)
{
	struct perf_event_attr pa = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(pa),
		.sample_period = 1, .wakeup_events = 1,
	};
	int vm_off, vm_size, hw_off, hw_size, map_fd, prog_fd, ev_fd;
	char log[4096] = "", path[256];
	union bpf_attr attr;
	__u32 key = 0, raw;
	__u64 hits = 0;
	struct ucall uc;
	long id;

	vm_off = field_offset(self->dir, "ringvm_exit", "vm", &vm_size);
	hw_off = field_offset(self->dir, "ringvm_exit", "hw_reason",
			      &hw_size);
	ASSERT_LE(0, vm_off);
	ASSERT_LE(0, hw_off);
	ASSERT_EQ(4, vm_size);
	ASSERT_EQ(4, hw_size);
	snprintf(path, sizeof(path), "%s/events/ringvm/ringvm_exit/id",
		 self->dir);
	id = file_read_long(path, -1);
	ASSERT_LT(0, id) TH_LOG("%s", path);

	/* one u64 counter */
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 1;
	map_fd = sys_bpf(BPF_MAP_CREATE, &attr);
	if (map_fd < 0 && errno == ENOSYS)
		SKIP(return, "no bpf(2) in this kernel");
	ASSERT_LE(0, map_fd) TH_LOG("map: %s", strerror(errno));

	self->vm = vm_create_guest(&self->vcpu, guest_exits);
	raw = self->vm->arch == RINGVM_ARCH_SVM ? SVM_REASON_CPUID :
						  VMX_REASON_CPUID;
	{
		/* if (vm == ID && hw_reason == RAW) counter[0]++; return 0 */
		struct bpf_insn prog[] = {
			INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1,
			     vm_off, 0),
			INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 11,
			     self->vm->id),
			INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1,
			     hw_off, 0),
			INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 9, raw),
			INSN(BPF_ST | BPF_W | BPF_MEM, BPF_REG_10, 0, -4, 0),
			INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2,
			     BPF_REG_10, 0, 0),
			INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
			INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1,
			     BPF_PSEUDO_MAP_FD, 0, map_fd),
			INSN(0, 0, 0, 0, 0),
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
			     BPF_FUNC_map_lookup_elem),
			INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
			INSN(BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_0,
			     BPF_REG_1, 0, BPF_ADD),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		};

		memset(&attr, 0, sizeof(attr));
		attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
		attr.insns = (uintptr_t)prog;
		attr.insn_cnt = ARRAY_SIZE(prog);
		attr.license = (uintptr_t)"GPL";
		attr.log_buf = (uintptr_t)log;
		attr.log_size = sizeof(log);
		attr.log_level = 1;
		prog_fd = sys_bpf(BPF_PROG_LOAD, &attr);
		ASSERT_LE(0, prog_fd) TH_LOG("load: %s\n%s", strerror(errno),
					     log);
	}

	/* this thread's events: the vCPU runs in it */
	pa.config = id;
	ev_fd = syscall(__NR_perf_event_open, &pa, 0, -1, -1,
			PERF_FLAG_FD_CLOEXEC);
	ASSERT_LE(0, ev_fd) TH_LOG("perf_event_open: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(ev_fd, PERF_EVENT_IOC_SET_BPF, prog_fd))
		TH_LOG("PERF_EVENT_IOC_SET_BPF: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(ev_fd, PERF_EVENT_IOC_ENABLE, 0));

	vcpu_run(self->vcpu);
	ASSERT_EXIT(self->vcpu, RINGVM_EXIT_IO);
	ASSERT_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_DONE(self->vcpu, &uc);
	ASSERT_EQ(0, ioctl(ev_fd, PERF_EVENT_IOC_DISABLE, 0));

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map_fd;
	attr.key = (uintptr_t)&key;
	attr.value = (uintptr_t)&hits;
	ASSERT_EQ(0, sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr));
	EXPECT_EQ(NR_CPUIDS, hits) TH_LOG("the BPF program's count");
	close(ev_fd);
	close(prog_fd);
	close(map_fd);
}

RINGVM_GUEST_TEST_MAIN
