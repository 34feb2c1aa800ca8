// SPDX-License-Identifier: GPL-2.0
/*
 * Invariants on the state a vCPU hands to user space, for tests that let
 * a guest do odd things (guest.h section 2):
 *
 *  1. vcpu_host_address(): no field holds what looks like a host address
 *  2. vcpu_state_roundtrip(): every state class that GET returns, SET
 *     accepts, and GET then returns the same
 *
 * Both return a description of the first violation in a caller's buffer,
 * never assert and never print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

/* 1. Host-looking addresses */

static bool allowed(__u64 v, const __u64 *allow, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (allow[i] == v)
			return true;
	return false;
}

bool host_kernel_address(__u64 v)
{
	return v >= HOST_KERNEL_HALF;
}

struct addr_field {
	const char *name;
	__u64 val;
	bool phys;		/* a guest-physical address: CR3 */
};

const char *vcpu_host_address(struct test_vcpu *vcpu, const __u64 *allow,
			      unsigned int n, unsigned int flags,
			      char *buf, size_t len)
{
	struct ringvm_debugregs dr;
	struct ringvm_sregs s;
	struct ringvm_regs r;
	unsigned int i, hits = 0;
	const char *first = NULL;
	int ret;

	ret = __ringvm_get_regs(vcpu->fd, &r);
	if (!ret)
		ret = __ringvm_get_sregs(vcpu->fd, &s);
	if (!ret)
		ret = __ringvm_get_debugregs(vcpu->fd, &dr);
	if (ret) {
		snprintf(buf, len, "GET: %s", strerror(-ret));
		return buf;
	}

	{
		const struct addr_field f[] = {
			{ "run page rip", vcpu->run->rip, false },
			{ "rip", r.rip, false },
			{ "rsp", r.rsp, false },
			{ "gdt.base", s.gdt.base, false },
			{ "idt.base", s.idt.base, false },
			{ "cs.base", s.cs.base, false },
			{ "ds.base", s.ds.base, false },
			{ "es.base", s.es.base, false },
			{ "ss.base", s.ss.base, false },
			{ "fs.base", s.fs.base, false },
			{ "gs.base", s.gs.base, false },
			{ "tr.base", s.tr.base, false },
			{ "ldt.base", s.ldt.base, false },
			{ "dr0", dr.db[0], false },
			{ "dr1", dr.db[1], false },
			{ "dr2", dr.db[2], false },
			{ "dr3", dr.db[3], false },
			{ "cr3", s.cr3 & ~0xfffULL, true },
		};

		for (i = 0; i < ARRAY_SIZE(f); i++) {
			bool host;

			if (f[i].phys)
				host = f[i].val >= vcpu->vm->ram_size &&
				       f[i].val < HOST_PHYS_LIMIT &&
				       !allowed(s.cr3, allow, n);
			else
				host = host_kernel_address(f[i].val) &&
				       !allowed(f[i].val, allow, n);
			if (!host)
				continue;
			hits++;
			if (!first) {
				snprintf(buf, len, "%s = %#llx", f[i].name,
					 (unsigned long long)f[i].val);
				first = buf;
			}
		}
	}
	/*
	 * A host state dump (the QEMU quirk of svm/exit.c) puts host
	 * addresses in RIP, RSP, GDTR, IDTR and CR3 at once: a guest that
	 * ran random code makes one such value now and then, never that.
	 */
	if (flags & HOST_ADDR_LOOSE)
		return hits >= 3 ? first : NULL;
	return first;
}

/* 2. Round trips */

/* Every MSR the module keeps for a vCPU; the TSC moves on its own. */
static const __u32 state_msrs[] = {
	MSR_EFER, MSR_IA32_CR_PAT, MSR_FS_BASE, MSR_GS_BASE,
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_TSC_AUX, MSR_IA32_DEBUGCTL, MSR_IA32_TSC,
};

/* The MSRs of state_msrs[] this vCPU has (GET fails for the others). */
static int get_msrs(struct test_vcpu *vcpu, struct ringvm_msrs *m)
{
	struct ringvm_msrs *one = calloc(1, sizeof(*one));
	unsigned int i;

	if (!one)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	for (i = 0; i < ARRAY_SIZE(state_msrs); i++) {
		memset(one, 0, sizeof(*one));
		one->nmsrs = 1;
		one->entries[0].index = state_msrs[i];
		if (__ringvm_get_msrs(vcpu->fd, one) == 1)
			m->entries[m->nmsrs++] = one->entries[0];
	}
	free(one);
	return 0;
}

#define RT_FAIL(...)							\
	do {								\
		snprintf(buf, len, __VA_ARGS__);			\
		ret = buf;						\
		goto out;						\
	} while (0)

/* GET, SET, GET again and compare: @what names the class. */
#define RT_CLASS(what, type, get, set, cmp_len)				\
	do {								\
		type *a = calloc(1, sizeof(type));			\
		type *b = calloc(1, sizeof(type));			\
		int r_ = (a && b) ? get(vcpu->fd, a) : -ENOMEM;		\
									\
		if (r_ >= 0)						\
			r_ = set(vcpu->fd, a);				\
		if (r_ < 0) {						\
			snprintf(buf, len, "%s: %s", what, strerror(-r_)); \
			ret = buf;					\
		} else if ((r_ = get(vcpu->fd, b)) < 0) {		\
			snprintf(buf, len, "%s: GET again: %s", what,	\
				 strerror(-r_));			\
			ret = buf;					\
		} else if (memcmp(a, b, cmp_len)) {			\
			snprintf(buf, len, "%s: GET after SET differs",	\
				 what);					\
			ret = buf;					\
		}							\
		free(a);						\
		free(b);						\
		if (ret)						\
			return ret;					\
	} while (0)

const char *vcpu_state_roundtrip(struct test_vcpu *vcpu, char *buf,
				 size_t len)
{
	struct ringvm_msrs *m1 = NULL, *m2 = NULL;
	const char *ret = NULL;
	unsigned int i;
	int r;

	RT_CLASS("regs", struct ringvm_regs, __ringvm_get_regs,
		 __ringvm_set_regs, sizeof(struct ringvm_regs));
	RT_CLASS("sregs", struct ringvm_sregs, __ringvm_get_sregs,
		 __ringvm_set_sregs, sizeof(struct ringvm_sregs));
	RT_CLASS("debugregs", struct ringvm_debugregs, __ringvm_get_debugregs,
		 __ringvm_set_debugregs, sizeof(struct ringvm_debugregs));
	RT_CLASS("xsave", struct ringvm_xsave, __ringvm_get_xsave,
		 __ringvm_set_xsave, sizeof(struct ringvm_xsave));
	RT_CLASS("xcrs", struct ringvm_xcrs, __ringvm_get_xcrs,
		 __ringvm_set_xcrs, sizeof(struct ringvm_xcrs));

	m1 = calloc(1, sizeof(*m1));
	m2 = calloc(1, sizeof(*m2));
	if (!m1 || !m2)
		RT_FAIL("msrs: %s", strerror(ENOMEM));
	r = get_msrs(vcpu, m1);
	if (r)
		RT_FAIL("msrs: GET: %s", strerror(-r));
	r = __ringvm_set_msrs(vcpu->fd, m1);
	if (r != (int)m1->nmsrs)
		RT_FAIL("msrs: SET stopped at %#x (%d): %#llx", r < 0 ? 0 :
			m1->entries[r].index, r, r < 0 ? 0ULL :
			(unsigned long long)m1->entries[r].data);
	r = get_msrs(vcpu, m2);
	if (r)
		RT_FAIL("msrs: GET again: %s", strerror(-r));
	if (m1->nmsrs != m2->nmsrs)
		RT_FAIL("msrs: %u readable, then %u", m1->nmsrs, m2->nmsrs);
	for (i = 0; i < m1->nmsrs; i++)
		if (m1->entries[i].index != MSR_IA32_TSC &&
		    m1->entries[i].data != m2->entries[i].data)
			RT_FAIL("msrs: %#x was %#llx, now %#llx",
				m1->entries[i].index,
				(unsigned long long)m1->entries[i].data,
				(unsigned long long)m2->entries[i].data);
out:
	free(m1);
	free(m2);
	return ret;
}
