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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/ringvm_netlink.h>

#include "ringvm.h"

/* caps-get takes no attributes at all. */
static const struct nla_policy ringvm_caps_get_nl_policy[RINGVM_A_CAPS_MAX + 1] = {
	[RINGVM_A_CAPS_PAD ... RINGVM_A_CAPS_MAX] = {
		.type = NLA_REJECT,
		.reject_message = "attribute not accepted in a caps-get request",
	},
};

static struct genl_family ringvm_nl_family;

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

static const struct genl_ops ringvm_nl_ops[] = {
	{
		.cmd = RINGVM_CMD_CAPS_GET,
		.doit = ringvm_nl_caps_get_doit,
		.policy = ringvm_caps_get_nl_policy,
		.maxattr = RINGVM_A_CAPS_MAX,
	},
};

static const struct genl_multicast_group ringvm_nl_mcgrps[] = {
	{ .name = RINGVM_MCGRP_EVENTS, },
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
