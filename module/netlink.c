// SPDX-License-Identifier: GPL-2.0
/*
 * The "ringvm" generic netlink family: the control plane.
 *
 * uapi/ringvm.yaml is the specification; the policies and the op table
 * below follow it by hand because the ynl-gen kernel output of the 6.12
 * era uses split ops that Linux 6.1 does not have.  scripts/check-spec.py
 * checks that the uapi header and the spec agree.
 *
 * Handlers run in process context under genl_mutex.  Requests are
 * validated strictly (resv_start_op covers every op): unknown attributes
 * and attributes an op does not take are -EINVAL with an extack message.
 *
 * vm-new and vm-del change state: they need CAP_NET_ADMIN or
 * CAP_SYS_ADMIN, checked in the handlers because GENL_ADMIN_PERM alone
 * would refuse a CAP_SYS_ADMIN-only caller.
 *
 * Who sees what: a caller with either capability (an admin) sees every
 * VM; anyone else sees only the VMs its effective uid created
 * (vm->owner), and another user's VM is -ENOENT to it, exactly as a VM
 * that does not exist.  A dump decides who asked in its start callback,
 * which runs in the requester's context; later rounds may run in
 * whichever task reads the socket.  The events group names every VM, so
 * joining it needs CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN, checked by
 * genetlink when the socket joins; a group can only ask for one
 * capability, or for both, not for either).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/ringvm_netlink.h>

#include "vm.h"

/* caps-get takes no attributes at all. */
static const struct nla_policy ringvm_caps_get_nl_policy[RINGVM_A_CAPS_MAX + 1] = {
	[RINGVM_A_CAPS_PAD ... RINGVM_A_CAPS_MAX] = {
		.type = NLA_REJECT,
		.reject_message = "attribute not accepted in a caps-get request",
	},
};

/* vm-new: a name, one to eight regions, optionally a vCPU count. */
static const struct nla_policy
ringvm_mem_region_nl_policy[RINGVM_A_MEM_REGION_MAX + 1] = {
	[RINGVM_A_MEM_REGION_PAD] = {
		.type = NLA_REJECT,
		.reject_message = "pad is not a request attribute",
	},
	[RINGVM_A_MEM_REGION_GPA] = { .type = NLA_U64 },
	[RINGVM_A_MEM_REGION_SIZE] = { .type = NLA_U64 },
};

#define VM_NEW_REJECT { .type = NLA_REJECT,				\
	.reject_message = "attribute not accepted in a vm-new request" }
static const struct nla_policy ringvm_vm_new_nl_policy[RINGVM_A_VM_MAX + 1] = {
	[RINGVM_A_VM_PAD] = VM_NEW_REJECT,
	[RINGVM_A_VM_ID] = VM_NEW_REJECT,
	[RINGVM_A_VM_NR_VCPUS] = VM_NEW_REJECT,
	[RINGVM_A_VM_MEM_ALLOCATED] = VM_NEW_REJECT,
	[RINGVM_A_VM_EVENT] = VM_NEW_REJECT,
	[RINGVM_A_VM_FLAGS] = NLA_POLICY_MASK(NLA_U32,
					      RINGVM_VM_FLAGS_LARGE_PAGES),
	[RINGVM_A_VM_NAME] = { .type = NLA_NUL_STRING,
			       .len = RINGVM_NAME_MAX - 1 },
	[RINGVM_A_VM_MEM_REGION] = NLA_POLICY_NESTED(ringvm_mem_region_nl_policy),
	[RINGVM_A_VM_MAX_VCPUS] = { .type = NLA_U32 },
};

/* vm-del and vm-get: which VM, by id or by name. */
#define VM_ID_REJECT { .type = NLA_REJECT,				\
	.reject_message = "attribute not accepted: give an id or a name" }
static const struct nla_policy ringvm_vm_id_nl_policy[RINGVM_A_VM_MAX + 1] = {
	[RINGVM_A_VM_PAD] = VM_ID_REJECT,
	[RINGVM_A_VM_MEM_REGION] = VM_ID_REJECT,
	[RINGVM_A_VM_MAX_VCPUS] = VM_ID_REJECT,
	[RINGVM_A_VM_NR_VCPUS] = VM_ID_REJECT,
	[RINGVM_A_VM_MEM_ALLOCATED] = VM_ID_REJECT,
	[RINGVM_A_VM_FLAGS] = VM_ID_REJECT,
	[RINGVM_A_VM_EVENT] = VM_ID_REJECT,
	/* 0 is checked in the handler: the policy's range check is -ERANGE */
	[RINGVM_A_VM_ID] = { .type = NLA_U32 },
	[RINGVM_A_VM_NAME] = { .type = NLA_NUL_STRING,
			       .len = RINGVM_NAME_MAX - 1 },
};

/* vcpu-stats-get: which VM, by id or by name, or neither for all. */
#define STATS_REJECT { .type = NLA_REJECT,				\
	.reject_message = "attribute not accepted: give a vm-id or a vm-name" }
static const struct nla_policy
ringvm_vcpu_stats_nl_policy[RINGVM_A_VCPU_STATS_MAX + 1] = {
	[RINGVM_A_VCPU_STATS_PAD] = STATS_REJECT,
	[RINGVM_A_VCPU_STATS_VCPU_ID ... RINGVM_A_VCPU_STATS_MAX] = STATS_REJECT,
	/* 0 is checked in the dump, as for vm-get */
	[RINGVM_A_VCPU_STATS_VM_ID] = { .type = NLA_U32 },
	[RINGVM_A_VCPU_STATS_VM_NAME] = { .type = NLA_NUL_STRING,
					  .len = RINGVM_NAME_MAX - 1 },
};

/* The events group tells of every VM: for CAP_NET_ADMIN only. */
#ifndef GENL_MCAST_CAP_NET_ADMIN
#error "needs GENL_MCAST_CAP_NET_ADMIN (Linux 6.7 or a stable backport)"
#endif

static struct genl_family ringvm_nl_family;

/* Whether the sender of @skb may change and see every VM. */
static bool ringvm_nl_capable(struct sk_buff *skb)
{
	return netlink_capable(skb, CAP_NET_ADMIN) ||
	       netlink_capable(skb, CAP_SYS_ADMIN);
}

static bool ringvm_nl_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (ringvm_nl_capable(skb))
		return true;
	NL_SET_ERR_MSG(info->extack, "needs CAP_NET_ADMIN or CAP_SYS_ADMIN");
	return false;
}

/* An admin sees every VM, anyone else the VMs its euid created. */
static bool ringvm_nl_may_see(const struct ringvm_vm *vm, bool admin,
			      kuid_t uid)
{
	return admin || uid_eq(vm->owner, uid);
}

static int ringvm_nl_put_caps(struct sk_buff *msg, const struct ringvm_caps *c)
{
	if (nla_put_u32(msg, RINGVM_A_CAPS_API_VERSION, RINGVM_API_VERSION) ||
	    nla_put_u32(msg, RINGVM_A_CAPS_ARCH, c->arch) ||
	    nla_put_u64_64bit(msg, RINGVM_A_CAPS_FEATURES, c->features,
			      RINGVM_A_CAPS_PAD) ||
	    nla_put_u64_64bit(msg, RINGVM_A_CAPS_PAGE_SIZES, c->page_sizes,
			      RINGVM_A_CAPS_PAD) ||
	    nla_put_u32(msg, RINGVM_A_CAPS_NR_ASIDS, c->nr_asids) ||
	    nla_put_u32(msg, RINGVM_A_CAPS_HW_REVISION, c->hw_revision) ||
	    nla_put_u32(msg, RINGVM_A_CAPS_NR_CPUS_ENABLED, c->nr_cpus_enabled))
		return -EMSGSIZE;
	return 0;
}

static int ringvm_nl_caps_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ringvm_caps caps;
	struct sk_buff *msg;
	void *hdr;
	int r;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put(msg, info->snd_portid, info->snd_seq,
			  &ringvm_nl_family, 0, RINGVM_CMD_CAPS_GET);
	if (!hdr) {
		r = -EMSGSIZE;
		goto err_free;
	}

	ringvm_get_caps(&caps);
	r = ringvm_nl_put_caps(msg, &caps);
	if (r)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return r;
}

/* A VM's attributes, as vm-new, vm-get and the dump reply with them. */
static int ringvm_nl_put_vm(struct sk_buff *msg, struct ringvm_vm *vm)
{
	struct ringvm_vm_info info;
	struct nlattr *nest;
	u32 i, flags = 0;

	ringvm_vm_fill_info(vm, &info);
	if (info.flags & RINGVM_VM_INFO_ANONYMOUS)
		flags |= RINGVM_VM_FLAGS_ANONYMOUS;
	if (info.flags & RINGVM_VM_INFO_DESTROYED)
		flags |= RINGVM_VM_FLAGS_DESTROYED;
	if (info.flags & RINGVM_VM_INFO_LARGE_PAGES)
		flags |= RINGVM_VM_FLAGS_LARGE_PAGES;
	if (nla_put_u32(msg, RINGVM_A_VM_ID, info.id) ||
	    nla_put_string(msg, RINGVM_A_VM_NAME, info.name) ||
	    nla_put_u32(msg, RINGVM_A_VM_MAX_VCPUS, info.max_vcpus) ||
	    nla_put_u32(msg, RINGVM_A_VM_NR_VCPUS, info.nr_vcpus) ||
	    nla_put_u64_64bit(msg, RINGVM_A_VM_MEM_ALLOCATED,
			      info.mem_allocated, RINGVM_A_VM_PAD) ||
	    nla_put_u32(msg, RINGVM_A_VM_FLAGS, flags))
		return -EMSGSIZE;
	for (i = 0; i < info.nr_regions; i++) {
		nest = nla_nest_start(msg, RINGVM_A_VM_MEM_REGION);
		if (!nest ||
		    nla_put_u64_64bit(msg, RINGVM_A_MEM_REGION_GPA,
				      info.regions[i].gpa,
				      RINGVM_A_MEM_REGION_PAD) ||
		    nla_put_u64_64bit(msg, RINGVM_A_MEM_REGION_SIZE,
				      info.regions[i].size,
				      RINGVM_A_MEM_REGION_PAD))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int ringvm_nl_reply_vm(struct genl_info *info, struct ringvm_vm *vm,
			      u8 cmd)
{
	struct sk_buff *msg;
	void *hdr;
	int r;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, info->snd_portid, info->snd_seq,
			  &ringvm_nl_family, 0, cmd);
	r = hdr ? ringvm_nl_put_vm(msg, vm) : -EMSGSIZE;
	if (r) {
		nlmsg_free(msg);
		return r;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Collect the regions of a vm-new request (a repeated nested attribute) */
static int ringvm_nl_parse_regions(struct genl_info *info,
				   struct ringvm_mem_region *regions,
				   u32 *nr)
{
	struct nlattr *tb[RINGVM_A_MEM_REGION_MAX + 1];
	struct nlattr *attr;
	int rem, r;

	*nr = 0;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != RINGVM_A_VM_MEM_REGION)
			continue;
		if (*nr == RINGVM_MAX_MEM_REGIONS) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "more than 8 memory regions");
			return -EINVAL;
		}
		r = nla_parse_nested(tb, RINGVM_A_MEM_REGION_MAX, attr,
				     ringvm_mem_region_nl_policy,
				     info->extack);
		if (r)
			return r;
		if (!tb[RINGVM_A_MEM_REGION_GPA] ||
		    !tb[RINGVM_A_MEM_REGION_SIZE]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "a memory region needs gpa and size");
			return -EINVAL;
		}
		regions[*nr].gpa = nla_get_u64(tb[RINGVM_A_MEM_REGION_GPA]);
		regions[*nr].size = nla_get_u64(tb[RINGVM_A_MEM_REGION_SIZE]);
		(*nr)++;
	}
	if (!*nr) {
		NL_SET_ERR_MSG(info->extack, "a VM needs a memory region");
		return -EINVAL;
	}
	return 0;
}

static int ringvm_nl_vm_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ringvm_mem_region regions[RINGVM_MAX_MEM_REGIONS];
	u32 nr_regions, max_vcpus = 1, flags = 0;
	struct ringvm_vm *vm;
	const char *why;
	int r;

	if (!ringvm_nl_admin(skb, info))
		return -EPERM;
	if (!info->attrs[RINGVM_A_VM_NAME]) {
		NL_SET_ERR_MSG(info->extack, "a VM needs a name");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, RINGVM_A_VM_NAME);
		return -EINVAL;
	}
	r = ringvm_nl_parse_regions(info, regions, &nr_regions);
	if (r)
		return r;
	if (info->attrs[RINGVM_A_VM_MAX_VCPUS])
		max_vcpus = nla_get_u32(info->attrs[RINGVM_A_VM_MAX_VCPUS]);
	if (!max_vcpus) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[RINGVM_A_VM_MAX_VCPUS],
				    "max-vcpus must be at least 1");
		return -EINVAL;
	}

	if (info->attrs[RINGVM_A_VM_FLAGS] &&
	    nla_get_u32(info->attrs[RINGVM_A_VM_FLAGS]))
		flags |= RINGVM_VM_LARGE_PAGES;	/* the policy allows no other */

	r = ringvm_vm_create(nla_data(info->attrs[RINGVM_A_VM_NAME]), false,
			     flags, regions, nr_regions, max_vcpus, &vm, &why);
	if (r) {
		/*
		 * @why is a string literal in vm.c; NL_SET_ERR_MSG() wants a
		 * literal at its own call site, so set the message directly.
		 */
		if (why && info->extack)
			info->extack->_msg = why;
		return r;
	}
	r = ringvm_nl_reply_vm(info, vm, RINGVM_CMD_VM_NEW);
	ringvm_vm_put(vm);
	return r;
}

/*
 * The VM a vm-del or vm-get request names, with a reference, if the
 * sender of @skb may see it; one it may not see is not found.
 */
static struct ringvm_vm *ringvm_nl_find_vm(struct sk_buff *skb,
					   struct genl_info *info, int *err)
{
	struct nlattr *id = info->attrs[RINGVM_A_VM_ID];
	struct nlattr *name = info->attrs[RINGVM_A_VM_NAME];
	struct ringvm_vm *vm;

	if (!id == !name) {
		NL_SET_ERR_MSG(info->extack, "give exactly one of id and name");
		*err = -EINVAL;
		return NULL;
	}
	if (id && !nla_get_u32(id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, id, "VM ids start at 1");
		*err = -EINVAL;
		return NULL;
	}
	vm = ringvm_vm_find(id ? nla_get_u32(id) : 0,
			    name ? nla_data(name) : "");
	if (vm && !ringvm_nl_may_see(vm, ringvm_nl_capable(skb),
				     current_euid())) {
		ringvm_vm_put(vm);
		vm = NULL;
	}
	if (!vm) {
		NL_SET_ERR_MSG_ATTR(info->extack, id ?: name, "no such VM");
		*err = -ENOENT;
	}
	return vm;
}

static int ringvm_nl_vm_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ringvm_vm *vm;
	int r;

	if (!ringvm_nl_admin(skb, info))
		return -EPERM;
	vm = ringvm_nl_find_vm(skb, info, &r);
	if (!vm)
		return r;
	r = ringvm_vm_destroy(vm);
	ringvm_vm_put(vm);
	if (r)
		NL_SET_ERR_MSG(info->extack, "VM already destroyed");
	return r;
}

static int ringvm_nl_vm_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ringvm_vm *vm;
	int r;

	vm = ringvm_nl_find_vm(skb, info, &r);
	if (!vm)
		return r;
	r = ringvm_nl_reply_vm(info, vm, RINGVM_CMD_VM_GET);
	ringvm_vm_put(vm);
	return r;
}

static int ringvm_nl_dump_one(struct sk_buff *skb,
			      struct netlink_callback *cb, struct ringvm_vm *vm)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ringvm_nl_family, NLM_F_MULTI, RINGVM_CMD_VM_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (ringvm_nl_put_vm(skb, vm)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* What a dump keeps in cb->args[] from one round to the next. */
enum {
	RINGVM_DUMP_LAST_ID,	/* the last VM sent or skipped */
	RINGVM_DUMP_ADMIN,	/* the requester sees every VM */
	RINGVM_DUMP_UID,	/* else only those of this euid */
};

/* In the requester's context: note who asks. */
static int ringvm_nl_vm_get_start(struct netlink_callback *cb)
{
	cb->args[RINGVM_DUMP_ADMIN] = ringvm_nl_capable(cb->skb);
	cb->args[RINGVM_DUMP_UID] = __kuid_val(current_euid());
	return 0;
}

/*
 * The dump walks VMs in id order, skipping those the requester may not
 * see.  It takes no attributes; the policy is shared with the do, which
 * takes id and name, so those two are refused here, where (unlike in
 * the start callback on Linux 6.1) an extack message reaches the caller.
 */
static int ringvm_nl_vm_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	kuid_t uid = KUIDT_INIT((uid_t)cb->args[RINGVM_DUMP_UID]);
	bool admin = cb->args[RINGVM_DUMP_ADMIN];
	u32 id = cb->args[RINGVM_DUMP_LAST_ID];
	struct ringvm_vm *vm;
	int r = 0;

	if (nlmsg_attrlen(cb->nlh, GENL_HDRLEN)) {
		NL_SET_ERR_MSG_ATTR(cb->extack,
				    nlmsg_attrdata(cb->nlh, GENL_HDRLEN),
				    "a vm-get dump takes no attributes");
		return -EINVAL;
	}
	while ((vm = ringvm_vm_find_next(id))) {
		if (ringvm_nl_may_see(vm, admin, uid))
			r = ringvm_nl_dump_one(skb, cb, vm);
		if (!r)
			id = vm->id;
		ringvm_vm_put(vm);
		if (r)
			break;
	}
	cb->args[RINGVM_DUMP_LAST_ID] = id;
	/* A full skb ends this round; one VM too big for it is an error. */
	return skb->len ?: r;
}

/*
 * vcpu-stats-get.  The exit-reasons nest gives each vendor-neutral exit
 * code its attribute; the codes no hardware exit has (the windows the
 * core opens itself) have none.
 */
static const u16 ringvm_nl_exit_attr[RINGVM_HW_EXIT_NR] = {
	[RINGVM_HW_EXIT_NONE] = RINGVM_A_EXIT_REASONS_OTHER,
	[RINGVM_HW_EXIT_CPUID] = RINGVM_A_EXIT_REASONS_CPUID,
	[RINGVM_HW_EXIT_HLT] = RINGVM_A_EXIT_REASONS_HLT,
	[RINGVM_HW_EXIT_IO] = RINGVM_A_EXIT_REASONS_IO,
	[RINGVM_HW_EXIT_NPF] = RINGVM_A_EXIT_REASONS_NPF,
	[RINGVM_HW_EXIT_RDMSR] = RINGVM_A_EXIT_REASONS_RDMSR,
	[RINGVM_HW_EXIT_WRMSR] = RINGVM_A_EXIT_REASONS_WRMSR,
	[RINGVM_HW_EXIT_HYPERCALL] = RINGVM_A_EXIT_REASONS_HYPERCALL,
	[RINGVM_HW_EXIT_DR] = RINGVM_A_EXIT_REASONS_MOV_DR,
	[RINGVM_HW_EXIT_XSETBV] = RINGVM_A_EXIT_REASONS_XSETBV,
	[RINGVM_HW_EXIT_SHUTDOWN] = RINGVM_A_EXIT_REASONS_SHUTDOWN,
	[RINGVM_HW_EXIT_FAIL_ENTRY] = RINGVM_A_EXIT_REASONS_FAIL_ENTRY,
	[RINGVM_HW_EXIT_UNHANDLED] = RINGVM_A_EXIT_REASONS_UNHANDLED,
	[RINGVM_HW_EXIT_NO_INSN_LEN] = RINGVM_A_EXIT_REASONS_NO_INSN_LEN,
};

static int ringvm_nl_put_exit_reasons(struct sk_buff *msg,
				      const struct ringvm_vcpu_stats *st)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(msg, RINGVM_A_VCPU_STATS_EXIT_REASONS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < RINGVM_HW_EXIT_NR; i++) {
		if (!ringvm_nl_exit_attr[i])
			continue;
		if (nla_put_u64_64bit(msg, ringvm_nl_exit_attr[i],
				      st->exits_by_code[i],
				      RINGVM_A_EXIT_REASONS_PAD))
			return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int ringvm_nl_put_vcpu_stats(struct sk_buff *skb,
				    struct netlink_callback *cb,
				    struct ringvm_vm *vm, u32 vcpu_id,
				    const struct ringvm_vcpu_stats *st)
{
	const struct {
		int type;
		u64 val;
	} counters[] = {
		{ RINGVM_A_VCPU_STATS_EXITS, st->exits },
		{ RINGVM_A_VCPU_STATS_USER_EXITS, st->user_exits },
		{ RINGVM_A_VCPU_STATS_NESTED_PAGE_FAULTS, st->npf_ram },
		{ RINGVM_A_VCPU_STATS_INJECTED_EVENTS, st->injections },
		{ RINGVM_A_VCPU_STATS_HALT_NS, st->halt_ns },
		{ RINGVM_A_VCPU_STATS_RUN_NS, st->run_ns },
		{ RINGVM_A_VCPU_STATS_VMCS_LOADS, st->vmcs_loads },
		{ RINGVM_A_VCPU_STATS_VMCS_CLEARS, st->vmcs_clears },
		{ RINGVM_A_VCPU_STATS_HOST_STATE_SAVES, st->host_saves },
		{ RINGVM_A_VCPU_STATS_MSR_SWITCHES, st->msr_switches },
		{ RINGVM_A_VCPU_STATS_L1D_FLUSHES, st->l1d_flushes },
	};
	unsigned int i;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ringvm_nl_family, NLM_F_MULTI,
			  RINGVM_CMD_VCPU_STATS_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RINGVM_A_VCPU_STATS_VM_ID, vm->id) ||
	    nla_put_string(skb, RINGVM_A_VCPU_STATS_VM_NAME, vm->name) ||
	    nla_put_u32(skb, RINGVM_A_VCPU_STATS_VCPU_ID, vcpu_id) ||
	    ringvm_nl_put_exit_reasons(skb, st))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		if (nla_put_u64_64bit(skb, counters[i].type, counters[i].val,
				      RINGVM_A_VCPU_STATS_PAD))
			goto cancel;
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * One message per vCPU of @vm from *@next on; *@next is left at the
 * first one that did not fit (-EMSGSIZE).  vm->lock keeps each vCPU
 * from being freed while its counters are read (ringvm_vcpu_free()).
 */
static int ringvm_nl_dump_vcpus(struct sk_buff *skb,
				struct netlink_callback *cb,
				struct ringvm_vm *vm, long *next)
{
	struct ringvm_vcpu_stats st;
	struct ringvm_vcpu *vcpu;
	int r;

	for (; *next < vm->max_vcpus; (*next)++) {
		mutex_lock(&vm->lock);
		vcpu = vm->vcpus[*next];
		if (vcpu)
			ringvm_vcpu_stats_read(vcpu, &st);
		mutex_unlock(&vm->lock);
		if (!vcpu)
			continue;
		r = ringvm_nl_put_vcpu_stats(skb, cb, vm, *next, &st);
		if (r)
			return r;
	}
	return 0;
}

/* What a vcpu-stats-get dump keeps in cb->args[] between rounds. */
enum {
	RINGVM_STATS_DUMP_ADMIN,	/* the requester sees every VM */
	RINGVM_STATS_DUMP_UID,		/* else only those of this euid */
	RINGVM_STATS_DUMP_STATE,	/* below; 0 when the dump starts */
	RINGVM_STATS_DUMP_VM_ID,	/* the VM being dumped, or the last */
	RINGVM_STATS_DUMP_NEXT_VCPU,	/* the next vCPU id in it */
};

/* RINGVM_STATS_DUMP_STATE */
enum {
	RINGVM_STATS_DUMP_NEW,		/* first round: check the request */
	RINGVM_STATS_DUMP_ALL,		/* every VM, between two */
	RINGVM_STATS_DUMP_ALL_IN_VM,	/* every VM, inside one */
	RINGVM_STATS_DUMP_ONE_IN_VM,	/* the VM asked for */
	RINGVM_STATS_DUMP_DONE,
};

/* In the requester's context: note who asks, as vm-get does. */
static int ringvm_nl_vcpu_stats_start(struct netlink_callback *cb)
{
	cb->args[RINGVM_STATS_DUMP_ADMIN] = ringvm_nl_capable(cb->skb);
	cb->args[RINGVM_STATS_DUMP_UID] = __kuid_val(current_euid());
	return 0;
}

/*
 * First round: the request names one VM (vm-id or vm-name, not both) or
 * none; the policy has refused every other attribute.  Errors end the
 * dump with an extack message in its NLMSG_DONE (on 6.1 the start
 * callback's extack is lost).
 */
static int ringvm_nl_stats_dump_begin(struct netlink_callback *cb)
{
	kuid_t uid = KUIDT_INIT((uid_t)cb->args[RINGVM_STATS_DUMP_UID]);
	struct nlattr *tb[RINGVM_A_VCPU_STATS_MAX + 1];
	bool admin = cb->args[RINGVM_STATS_DUMP_ADMIN];
	struct nlattr *id, *name;
	struct ringvm_vm *vm;
	int r;

	r = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, RINGVM_A_VCPU_STATS_MAX,
			ringvm_vcpu_stats_nl_policy, cb->extack);
	if (r)
		return r;
	id = tb[RINGVM_A_VCPU_STATS_VM_ID];
	name = tb[RINGVM_A_VCPU_STATS_VM_NAME];
	if (id && name) {
		NL_SET_ERR_MSG(cb->extack, "give at most one of vm-id and vm-name");
		return -EINVAL;
	}
	if (!id && !name) {
		cb->args[RINGVM_STATS_DUMP_STATE] = RINGVM_STATS_DUMP_ALL;
		return 0;
	}
	if (id && !nla_get_u32(id)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, id, "VM ids start at 1");
		return -EINVAL;
	}
	vm = ringvm_vm_find(id ? nla_get_u32(id) : 0,
			    name ? nla_data(name) : "");
	if (vm && !ringvm_nl_may_see(vm, admin, uid)) {
		ringvm_vm_put(vm);
		vm = NULL;
	}
	if (!vm) {
		NL_SET_ERR_MSG_ATTR(cb->extack, id ?: name, "no such VM");
		return -ENOENT;
	}
	cb->args[RINGVM_STATS_DUMP_VM_ID] = vm->id;
	cb->args[RINGVM_STATS_DUMP_STATE] = RINGVM_STATS_DUMP_ONE_IN_VM;
	ringvm_vm_put(vm);
	return 0;
}

/*
 * The VM to dump next, with a reference: the one a full skb stopped
 * in, as long as it lives (ids are never reused, so its id finds it or
 * nothing), else, for a dump of all, the next by id.  NULL: the end.
 */
static struct ringvm_vm *ringvm_nl_stats_next_vm(struct netlink_callback *cb)
{
	long *state = &cb->args[RINGVM_STATS_DUMP_STATE];
	u32 id = cb->args[RINGVM_STATS_DUMP_VM_ID];
	struct ringvm_vm *vm = NULL;

	if (*state == RINGVM_STATS_DUMP_ALL_IN_VM ||
	    *state == RINGVM_STATS_DUMP_ONE_IN_VM)
		vm = ringvm_vm_find(id, "");
	if (vm || *state == RINGVM_STATS_DUMP_ONE_IN_VM)
		return vm;
	vm = ringvm_vm_find_next(id);
	if (vm) {
		cb->args[RINGVM_STATS_DUMP_VM_ID] = vm->id;
		cb->args[RINGVM_STATS_DUMP_NEXT_VCPU] = 0;
		*state = RINGVM_STATS_DUMP_ALL_IN_VM;
	}
	return vm;
}

static int ringvm_nl_vcpu_stats_dumpit(struct sk_buff *skb,
				       struct netlink_callback *cb)
{
	kuid_t uid = KUIDT_INIT((uid_t)cb->args[RINGVM_STATS_DUMP_UID]);
	bool admin = cb->args[RINGVM_STATS_DUMP_ADMIN];
	long *state = &cb->args[RINGVM_STATS_DUMP_STATE];
	long *next = &cb->args[RINGVM_STATS_DUMP_NEXT_VCPU];
	struct ringvm_vm *vm;
	int r = 0;

	if (*state == RINGVM_STATS_DUMP_NEW) {
		r = ringvm_nl_stats_dump_begin(cb);
		if (r)
			return r;
	}
	while (*state != RINGVM_STATS_DUMP_DONE &&
	       (vm = ringvm_nl_stats_next_vm(cb))) {
		if (ringvm_nl_may_see(vm, admin, uid))
			r = ringvm_nl_dump_vcpus(skb, cb, vm, next);
		ringvm_vm_put(vm);
		if (r)
			break;
		*state = *state == RINGVM_STATS_DUMP_ONE_IN_VM ?
			 RINGVM_STATS_DUMP_DONE : RINGVM_STATS_DUMP_ALL;
	}
	if (!r)
		*state = RINGVM_STATS_DUMP_DONE;
	/* A full skb ends this round; one vCPU too big for it is an error. */
	return skb->len ?: r;
}

/* Tell the events group what happened to @vm.  Process context. */
void ringvm_nl_vm_event(struct ringvm_vm *vm, u32 event)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &ringvm_nl_family, 0,
			  RINGVM_CMD_VM_EVENT);
	if (!hdr || nla_put_u32(msg, RINGVM_A_VM_ID, vm->id) ||
	    nla_put_string(msg, RINGVM_A_VM_NAME, vm->name) ||
	    nla_put_u32(msg, RINGVM_A_VM_EVENT, event)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&ringvm_nl_family, msg, 0, 0, GFP_KERNEL);
}

static const struct genl_ops ringvm_nl_ops[] = {
	{
		.cmd = RINGVM_CMD_CAPS_GET,
		.doit = ringvm_nl_caps_get_doit,
		.policy = ringvm_caps_get_nl_policy,
		.maxattr = RINGVM_A_CAPS_MAX,
	},
	{
		.cmd = RINGVM_CMD_VM_NEW,
		.doit = ringvm_nl_vm_new_doit,
		.policy = ringvm_vm_new_nl_policy,
		.maxattr = RINGVM_A_VM_MAX,
	},
	{
		.cmd = RINGVM_CMD_VM_DEL,
		.doit = ringvm_nl_vm_del_doit,
		.policy = ringvm_vm_id_nl_policy,
		.maxattr = RINGVM_A_VM_MAX,
	},
	{
		.cmd = RINGVM_CMD_VM_GET,
		.doit = ringvm_nl_vm_get_doit,
		.start = ringvm_nl_vm_get_start,
		.dumpit = ringvm_nl_vm_get_dumpit,
		.policy = ringvm_vm_id_nl_policy,
		.maxattr = RINGVM_A_VM_MAX,
	},
	{
		.cmd = RINGVM_CMD_VCPU_STATS_GET,
		.start = ringvm_nl_vcpu_stats_start,
		.dumpit = ringvm_nl_vcpu_stats_dumpit,
		.policy = ringvm_vcpu_stats_nl_policy,
		.maxattr = RINGVM_A_VCPU_STATS_MAX,
	},
};

static const struct genl_multicast_group ringvm_nl_mcgrps[] = {
	{ .name = RINGVM_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN, },
};

static struct genl_family ringvm_nl_family = {
	.name = RINGVM_FAMILY_NAME,
	.version = RINGVM_FAMILY_VERSION,
	.module = THIS_MODULE,
	.ops = ringvm_nl_ops,
	.n_ops = ARRAY_SIZE(ringvm_nl_ops),
	.resv_start_op = RINGVM_CMD_CAPS_GET,
	.mcgrps = ringvm_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ringvm_nl_mcgrps),
};

int ringvm_nl_register(void)
{
	return genl_register_family(&ringvm_nl_family);
}

void ringvm_nl_unregister(void)
{
	genl_unregister_family(&ringvm_nl_family);
}
