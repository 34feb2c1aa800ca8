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

typedef int (*state_io_fn)(int fd, void *state);

/* GET, SET, GET again and compare one class: NULL or what failed. */
static const char *roundtrip_class(struct test_vcpu *vcpu, const char *what,
				   size_t size, state_io_fn get,
				   state_io_fn set, char *buf, size_t len)
{
	void *a = calloc(1, size), *b = calloc(1, size);
	const char *ret = NULL;
	int r = (a && b) ? get(vcpu->fd, a) : -ENOMEM;

	if (r >= 0)
		r = set(vcpu->fd, a);
	if (r < 0) {
		snprintf(buf, len, "%s: %s", what, strerror(-r));
		ret = buf;
	} else {
		r = get(vcpu->fd, b);
		if (r < 0) {
			snprintf(buf, len, "%s: GET again: %s", what,
				 strerror(-r));
			ret = buf;
		} else if (memcmp(a, b, size)) {
			snprintf(buf, len, "%s: GET after SET differs", what);
			ret = buf;
		}
	}
	free(a);
	free(b);
	return ret;
}

#define ROUNDTRIP(name, type)						\
	roundtrip_class(vcpu, #name, sizeof(type),			\
			(state_io_fn)__ringvm_get_##name,		\
			(state_io_fn)__ringvm_set_##name, buf, len)

static const char *roundtrip_msrs(struct test_vcpu *vcpu, char *buf,
				  size_t len)
{
	struct ringvm_msrs *m1 = calloc(1, sizeof(*m1));
	struct ringvm_msrs *m2 = calloc(1, sizeof(*m2));
	const char *ret = buf;
	unsigned int i;
	int r;

	if (!m1 || !m2) {
		snprintf(buf, len, "msrs: %s", strerror(ENOMEM));
		goto out;
	}
	r = get_msrs(vcpu, m1);
	if (r) {
		snprintf(buf, len, "msrs: GET: %s", strerror(-r));
		goto out;
	}
	r = __ringvm_set_msrs(vcpu->fd, m1);
	if (r != (int)m1->nmsrs) {
		snprintf(buf, len, "msrs: SET stopped at entry %d: %#x = %#llx",
			 r, r < 0 ? 0 : m1->entries[r].index,
			 r < 0 ? 0ULL :
			 (unsigned long long)m1->entries[r].data);
		goto out;
	}
	r = get_msrs(vcpu, m2);
	if (r) {
		snprintf(buf, len, "msrs: GET again: %s", strerror(-r));
		goto out;
	}
	if (m1->nmsrs != m2->nmsrs) {
		snprintf(buf, len, "msrs: %u readable, then %u", m1->nmsrs,
			 m2->nmsrs);
		goto out;
	}
	for (i = 0; i < m1->nmsrs; i++) {
		if (m1->entries[i].index == MSR_IA32_TSC ||
		    m1->entries[i].data == m2->entries[i].data)
			continue;
		snprintf(buf, len, "msrs: %#x was %#llx, now %#llx",
			 m1->entries[i].index,
			 (unsigned long long)m1->entries[i].data,
			 (unsigned long long)m2->entries[i].data);
		goto out;
	}
	ret = NULL;
out:
	free(m1);
	free(m2);
	return ret;
}

const char *vcpu_state_roundtrip(struct test_vcpu *vcpu, char *buf,
				 size_t len)
{
	struct ringvm_sregs sr;
	const char *ret;

	ret = ROUNDTRIP(regs, struct ringvm_regs);
	if (ret)
		return ret;
	/* say what SET_SREGS refused, if it does */
	if (!__ringvm_get_sregs(vcpu->fd, &sr) &&
	    __ringvm_set_sregs(vcpu->fd, &sr)) {
		snprintf(buf, len,
			 "sregs: SET refused cr0 %#llx cr4 %#llx efer %#llx cr8 %#llx",
			 (unsigned long long)sr.cr0, (unsigned long long)sr.cr4,
			 (unsigned long long)sr.efer,
			 (unsigned long long)sr.cr8);
		return buf;
	}
	ret = ROUNDTRIP(sregs, struct ringvm_sregs);
	if (!ret)
		ret = ROUNDTRIP(debugregs, struct ringvm_debugregs);
	if (!ret)
		ret = ROUNDTRIP(xsave, struct ringvm_xsave);
	if (!ret)
		ret = ROUNDTRIP(xcrs, struct ringvm_xcrs);
	if (!ret)
		ret = ROUNDTRIP(events, struct ringvm_events);
	if (!ret)
		ret = roundtrip_msrs(vcpu, buf, len);
	return ret;
}
