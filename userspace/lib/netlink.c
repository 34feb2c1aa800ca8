// SPDX-License-Identifier: GPL-2.0
/*
 * libringvm, part 2: the "ringvm" generic netlink family
 * (uapi/linux/ringvm_netlink.h), over libnl-3 and libnl-genl-3.
 *
 * 1. Opening: connect, turn on extended ACK, resolve the family id.
 * 2. One request: send it with NLM_F_ACK (libnl's auto-ACK) and read until
 *    the kernel's ACK (or NLMSG_DONE, or an error), keeping the extack
 *    message of the answer.
 * 3. Commands built on that: caps-get.
 * 4. VM operations: vm-new, vm-del, vm-get (do and dump); vCPU
 *    statistics (the vcpu-stats-get dump).
 * 5. Events: a socket in the "events" group, one vm-event at a time.
 *
 * About extended ACK in libnl 3.7 (checked against its lib/nl.c, tag
 * libnl3_7_0): it has no setter for NETLINK_EXT_ACK and never parses the
 * TLVs the kernel appends to an NLMSG_ERROR, so both are done here.  Its
 * error callback gets the struct nlmsgerr as nlmsg_data() of the received
 * header, which is how nl_error_cb() finds the header and its TLVs.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "libringvm.h"
#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct ringvm_nl {
	struct nl_sock *sk;
	int family;			/* generic netlink family id */
	char extack[256];		/* NLMSGERR_ATTR_MSG of the last answer */
};

/* One request in flight: what its callbacks share. */
struct nl_request {
	struct ringvm_nl *nl;
	int (*reply)(struct nl_msg *msg, void *arg);
	void *arg;
	int err;			/* first error: kernel's or reply()'s */
	bool done;			/* ACK, NLMSG_DONE or error seen */
};

/* libnl's error codes mean nothing to callers who expect errno. */
static int nlerr_to_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_INTR:		return -EINTR;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_BUSY:		return -EBUSY;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_PERM:		return -EPERM;
	case NLE_NODEV:		return -ENODEV;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	default:		return -EIO;
	}
}

/* 1. Opening */

int __ringvm_nl_open(struct ringvm_nl **nlp)
{
	struct ringvm_nl *nl;
	int one = 1;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		ret = -ENOMEM;
		goto err_free_nl;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_free_sock;
	}
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK,
		       NETLINK_EXT_ACK, &one, sizeof(one)) < 0) {
		ret = -errno;
		goto err_free_sock;
	}
	/* -NLE_OBJ_NOTFOUND (-ENOENT): no family of that name. */
	ret = genl_ctrl_resolve(nl->sk, RINGVM_FAMILY_NAME);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_free_sock;
	}
	nl->family = ret;
	*nlp = nl;
	return 0;

err_free_sock:
	nl_socket_free(nl->sk);
err_free_nl:
	free(nl);
	return ret;
}

int ringvm_nl_open(struct ringvm_nl **nlp)
{
	return ringvm_report(__ringvm_nl_open(nlp),
			     "generic netlink family " RINGVM_FAMILY_NAME,
			     NULL);
}

void ringvm_nl_close(struct ringvm_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *ringvm_nl_extack(const struct ringvm_nl *nl)
{
	return nl->extack;
}

/* 2. One request */

struct nl_msg *ringvm_nl_msg_new(struct ringvm_nl *nl, __u8 cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 cmd, RINGVM_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Copy NLMSGERR_ATTR_MSG out of an NLMSG_ERROR (an error or an ACK) or
 * the NLMSG_DONE of a dump.  In an NLMSG_ERROR the TLVs follow the struct
 * nlmsgerr and, unless NLM_F_CAPPED, the copy of the request it answers
 * (net/netlink/af_netlink.c: netlink_ack()); in an NLMSG_DONE they follow
 * its int error (netlink_dump_done()).
 */
static void nl_save_extack(struct ringvm_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlattr *msg;
	int hdrlen, len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		hdrlen = sizeof(int);
	} else {
		hdrlen = sizeof(*e);
		if (nlmsg_datalen(nlh) < hdrlen)
			return;
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (e->msg.nlmsg_len < NLMSG_HDRLEN ||
			    e->msg.nlmsg_len > (__u32)nlmsg_datalen(nlh))
				return;
			hdrlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
		}
	}
	if ((int)NLMSG_ALIGN(hdrlen) > nlmsg_datalen(nlh))
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, nlmsg_attrdata(nlh, hdrlen),
		      nlmsg_attrlen(nlh, hdrlen), NULL) < 0)
		return;
	msg = tb[NLMSGERR_ATTR_MSG];
	if (!msg)
		return;
	len = strnlen(nla_data(msg), nla_len(msg));
	if (len >= (int)sizeof(nl->extack))
		len = sizeof(nl->extack) - 1;
	memcpy(nl->extack, nla_data(msg), len);
	nl->extack[len] = '\0';
}

static int nl_error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nl_request *req = arg;
	/* libnl passes nlmsg_data() of the header it received. */
	const struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);

	(void)who;
	nl_save_extack(req->nl, nlh);
	req->err = e->error;
	req->done = true;
	return NL_STOP;
}

/*
 * An ACK (NLMSG_ERROR with error 0) or the NLMSG_DONE of a dump.  A dump
 * that failed midway says so in its NLMSG_DONE: an int error, then extack
 * TLVs when NLM_F_ACK_TLVS (net/netlink/af_netlink.c: netlink_dump_done()).
 */
static int nl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct nl_request *req = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		nl_save_extack(req->nl, nlh);
	} else if (nlh->nlmsg_type == NLMSG_DONE &&
		   nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		int err = *(int *)nlmsg_data(nlh);

		if (err < 0 && !req->err) {
			req->err = err;
			nl_save_extack(req->nl, nlh);
		}
	}
	req->done = true;
	return NL_STOP;
}

static int nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nl_request *req = arg;
	int ret;

	if (!req->reply || req->err)
		return NL_OK;
	ret = req->reply(msg, req->arg);
	if (ret < 0)
		req->err = ret;
	return NL_OK;
}

static struct nl_cb *nl_request_cb(struct nl_request *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_err(cb, NL_CB_CUSTOM, nl_error_cb, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nl_finish_cb, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nl_finish_cb, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nl_valid_cb, req);
	return cb;
}

int __ringvm_nl_transact(struct ringvm_nl *nl, struct nl_msg *msg,
			 int (*reply)(struct nl_msg *msg, void *arg),
			 void *arg)
{
	struct nl_request req = {
		.nl = nl, .reply = reply, .arg = arg,
	};
	struct nl_cb *cb;
	int ret;

	nl->extack[0] = '\0';
	cb = nl_request_cb(&req);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/* nl_send_auto() sets NLM_F_ACK: every request ends in an ACK. */
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !req.done)
		ret = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (req.done)
		return req.err;
	return nlerr_to_errno(ret);
}

/* 3. Commands */

/* Where each caps attribute goes in struct ringvm_nl_caps. */
static const struct {
	int type;
	size_t offset;
	bool u64;
} caps_attrs[] = {
#define CAPS_ATTR(type, field, u64) \
	{ type, offsetof(struct ringvm_nl_caps, field), u64 }
	CAPS_ATTR(RINGVM_A_CAPS_API_VERSION, api_version, false),
	CAPS_ATTR(RINGVM_A_CAPS_ARCH, caps.arch, false),
	CAPS_ATTR(RINGVM_A_CAPS_FEATURES, caps.features, true),
	CAPS_ATTR(RINGVM_A_CAPS_PAGE_SIZES, caps.page_sizes, true),
	CAPS_ATTR(RINGVM_A_CAPS_NR_ASIDS, caps.nr_asids, false),
	CAPS_ATTR(RINGVM_A_CAPS_HW_REVISION, caps.hw_revision, false),
	CAPS_ATTR(RINGVM_A_CAPS_NR_CPUS_ENABLED, caps.nr_cpus_enabled, false),
#undef CAPS_ATTR
};

static int caps_parse(struct nl_msg *msg, void *arg)
{
	struct nla_policy policy[RINGVM_A_CAPS_MAX + 1] = {};
	struct nlattr *tb[RINGVM_A_CAPS_MAX + 1];
	struct ringvm_nl_caps *out = arg;
	unsigned int i;
	char *field;

	for (i = 0; i < ARRAY_SIZE(caps_attrs); i++)
		policy[caps_attrs[i].type].type =
			caps_attrs[i].u64 ? NLA_U64 : NLA_U32;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RINGVM_A_CAPS_MAX,
			  policy) < 0)
		return -EBADMSG;

	for (i = 0; i < ARRAY_SIZE(caps_attrs); i++) {
		struct nlattr *nla = tb[caps_attrs[i].type];

		if (!nla)
			continue;
		out->attrs |= 1U << caps_attrs[i].type;
		field = (char *)out + caps_attrs[i].offset;
		if (caps_attrs[i].u64)
			*(__u64 *)field = nla_get_u64(nla);
		else
			*(__u32 *)field = nla_get_u32(nla);
	}
	return 0;
}

int __ringvm_nl_caps_get(struct ringvm_nl *nl, struct ringvm_nl_caps *out)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_CAPS_GET);

	memset(out, 0, sizeof(*out));
	if (!msg)
		return -ENOMEM;
	return __ringvm_nl_transact(nl, msg, caps_parse, out);
}

int ringvm_nl_caps_get(struct ringvm_nl *nl, struct ringvm_nl_caps *out)
{
	return ringvm_report(__ringvm_nl_caps_get(nl, out), "caps-get",
			     nl->extack);
}

/* 4. VM operations */

static int vm_parse_region(struct nlattr *nest, struct ringvm_mem_region *r)
{
	struct nla_policy policy[RINGVM_A_MEM_REGION_MAX + 1] = {
		[RINGVM_A_MEM_REGION_GPA] = { .type = NLA_U64 },
		[RINGVM_A_MEM_REGION_SIZE] = { .type = NLA_U64 },
	};
	struct nlattr *tb[RINGVM_A_MEM_REGION_MAX + 1];

	if (nla_parse_nested(tb, RINGVM_A_MEM_REGION_MAX, nest, policy) < 0 ||
	    !tb[RINGVM_A_MEM_REGION_GPA] || !tb[RINGVM_A_MEM_REGION_SIZE])
		return -EBADMSG;
	r->gpa = nla_get_u64(tb[RINGVM_A_MEM_REGION_GPA]);
	r->size = nla_get_u64(tb[RINGVM_A_MEM_REGION_SIZE]);
	return 0;
}

/*
 * A vm-new / vm-get reply or a vm-event into @out (zeroed first).  The
 * regions are a repeated nest, so the attributes are walked one by one
 * rather than through a table that would keep only the last of them.
 */
static int vm_parse(struct nl_msg *msg, struct ringvm_nl_vm *out)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *nla;
	int rem, type, ret;

	memset(out, 0, sizeof(*out));
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	nla_for_each_attr(nla, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		type = nla_type(nla);
		switch (type) {
		case RINGVM_A_VM_ID:
		case RINGVM_A_VM_MAX_VCPUS:
		case RINGVM_A_VM_NR_VCPUS:
		case RINGVM_A_VM_FLAGS:
		case RINGVM_A_VM_EVENT:
			if (nla_len(nla) != sizeof(__u32))
				return -EBADMSG;
			break;
		case RINGVM_A_VM_MEM_ALLOCATED:
			if (nla_len(nla) != sizeof(__u64))
				return -EBADMSG;
			break;
		}
		switch (type) {
		case RINGVM_A_VM_ID:
			out->id = nla_get_u32(nla);
			break;
		case RINGVM_A_VM_MAX_VCPUS:
			out->max_vcpus = nla_get_u32(nla);
			break;
		case RINGVM_A_VM_NR_VCPUS:
			out->nr_vcpus = nla_get_u32(nla);
			break;
		case RINGVM_A_VM_FLAGS:
			out->flags = nla_get_u32(nla);
			break;
		case RINGVM_A_VM_EVENT:
			out->event = nla_get_u32(nla);
			break;
		case RINGVM_A_VM_MEM_ALLOCATED:
			out->mem_allocated = nla_get_u64(nla);
			break;
		case RINGVM_A_VM_NAME:
			nla_strlcpy(out->name, nla, sizeof(out->name));
			break;
		case RINGVM_A_VM_MEM_REGION:
			if (out->nr_regions >= RINGVM_MAX_MEM_REGIONS)
				return -E2BIG;
			ret = vm_parse_region(nla,
					      &out->regions[out->nr_regions]);
			if (ret < 0)
				return ret;
			out->nr_regions++;
			break;
		default:	/* pad, or an attribute newer than us */
			continue;
		}
		if (type < 32)
			out->attrs |= 1U << type;
	}
	return 0;
}

static int vm_reply(struct nl_msg *msg, void *arg)
{
	return vm_parse(msg, arg);
}

/* Add ID and NAME to @msg: each when given. */
static int vm_put_key(struct nl_msg *msg, __u32 id, const char *name)
{
	if (id && nla_put_u32(msg, RINGVM_A_VM_ID, id) < 0)
		return -EMSGSIZE;
	if (name && nla_put_string(msg, RINGVM_A_VM_NAME, name) < 0)
		return -EMSGSIZE;
	return 0;
}

int __ringvm_nl_vm_new(struct ringvm_nl *nl, const char *name,
		       const struct ringvm_mem_region *regions,
		       unsigned int nr_regions, __u32 max_vcpus,
		       struct ringvm_nl_vm *out)
{
	return __ringvm_nl_vm_new_flags(nl, name, regions, nr_regions,
					max_vcpus, 0, out);
}

int __ringvm_nl_vm_new_flags(struct ringvm_nl *nl, const char *name,
			     const struct ringvm_mem_region *regions,
			     unsigned int nr_regions, __u32 max_vcpus,
			     __u32 flags, struct ringvm_nl_vm *out)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VM_NEW);
	struct ringvm_nl_vm reply;
	struct nlattr *nest;
	unsigned int i;

	if (!out)
		out = &reply;
	memset(out, 0, sizeof(*out));
	nl->extack[0] = '\0';
	if (!msg)
		return -ENOMEM;
	if (vm_put_key(msg, 0, name) < 0)
		goto err_msgsize;
	for (i = 0; i < nr_regions; i++) {
		nest = nla_nest_start(msg, RINGVM_A_VM_MEM_REGION);
		if (!nest ||
		    nla_put_u64(msg, RINGVM_A_MEM_REGION_GPA,
				regions[i].gpa) < 0 ||
		    nla_put_u64(msg, RINGVM_A_MEM_REGION_SIZE,
				regions[i].size) < 0)
			goto err_msgsize;
		nla_nest_end(msg, nest);
	}
	if (max_vcpus && nla_put_u32(msg, RINGVM_A_VM_MAX_VCPUS, max_vcpus) < 0)
		goto err_msgsize;
	if (flags && nla_put_u32(msg, RINGVM_A_VM_FLAGS, flags) < 0)
		goto err_msgsize;
	return __ringvm_nl_transact(nl, msg, vm_reply, out);

err_msgsize:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

int ringvm_nl_vm_new(struct ringvm_nl *nl, const char *name,
		     const struct ringvm_mem_region *regions,
		     unsigned int nr_regions, __u32 max_vcpus,
		     struct ringvm_nl_vm *out)
{
	return ringvm_report(__ringvm_nl_vm_new(nl, name, regions, nr_regions,
						max_vcpus, out),
			     "vm-new", nl->extack);
}

int __ringvm_nl_vm_del(struct ringvm_nl *nl, __u32 id, const char *name)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VM_DEL);

	nl->extack[0] = '\0';
	if (!msg)
		return -ENOMEM;
	if (vm_put_key(msg, id, name) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __ringvm_nl_transact(nl, msg, NULL, NULL);
}

int ringvm_nl_vm_del(struct ringvm_nl *nl, __u32 id, const char *name)
{
	return ringvm_report(__ringvm_nl_vm_del(nl, id, name), "vm-del",
			     nl->extack);
}

int __ringvm_nl_vm_get(struct ringvm_nl *nl, __u32 id, const char *name,
		       struct ringvm_nl_vm *out)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VM_GET);

	memset(out, 0, sizeof(*out));
	nl->extack[0] = '\0';
	if (!msg)
		return -ENOMEM;
	if (vm_put_key(msg, id, name) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __ringvm_nl_transact(nl, msg, vm_reply, out);
}

int ringvm_nl_vm_get(struct ringvm_nl *nl, __u32 id, const char *name,
		     struct ringvm_nl_vm *out)
{
	return ringvm_report(__ringvm_nl_vm_get(nl, id, name, out), "vm-get",
			     nl->extack);
}

struct vm_dump {
	int (*cb)(const struct ringvm_nl_vm *vm, void *arg);
	void *arg;
};

static int vm_dump_one(struct nl_msg *msg, void *arg)
{
	struct vm_dump *d = arg;
	struct ringvm_nl_vm vm;
	int ret = vm_parse(msg, &vm);

	return ret < 0 ? ret : d->cb(&vm, d->arg);
}

int __ringvm_nl_vm_dump(struct ringvm_nl *nl,
			int (*cb)(const struct ringvm_nl_vm *vm, void *arg),
			void *arg)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VM_GET);
	struct vm_dump d = { .cb = cb, .arg = arg };

	nl->extack[0] = '\0';
	if (!msg)
		return -ENOMEM;
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	return __ringvm_nl_transact(nl, msg, vm_dump_one, &d);
}

int ringvm_nl_vm_dump(struct ringvm_nl *nl,
		      int (*cb)(const struct ringvm_nl_vm *vm, void *arg),
		      void *arg)
{
	return ringvm_report(__ringvm_nl_vm_dump(nl, cb, arg), "vm-get dump",
			     nl->extack);
}

/* 4c. vCPU statistics */

static int stats_parse_reasons(struct nlattr *nest,
			       struct ringvm_nl_vcpu_stats *out)
{
	struct nlattr *nla;
	int rem, type;

	nla_for_each_nested(nla, nest, rem) {
		type = nla_type(nla);
		if (type == RINGVM_A_EXIT_REASONS_PAD ||
		    type > RINGVM_A_EXIT_REASONS_MAX)
			continue;	/* pad, or a reason newer than us */
		if (nla_len(nla) != sizeof(__u64))
			return -EBADMSG;
		out->exit_reasons[type] = nla_get_u64(nla);
	}
	return 0;
}

/* Where each u64 attribute of a vcpu-stats message goes. */
static __u64 *stats_u64_field(struct ringvm_nl_vcpu_stats *st, int type)
{
	switch (type) {
	case RINGVM_A_VCPU_STATS_EXITS:
		return &st->exits;
	case RINGVM_A_VCPU_STATS_USER_EXITS:
		return &st->user_exits;
	case RINGVM_A_VCPU_STATS_NESTED_PAGE_FAULTS:
		return &st->nested_page_faults;
	case RINGVM_A_VCPU_STATS_INJECTED_EVENTS:
		return &st->injected_events;
	case RINGVM_A_VCPU_STATS_HALT_NS:
		return &st->halt_ns;
	case RINGVM_A_VCPU_STATS_RUN_NS:
		return &st->run_ns;
	case RINGVM_A_VCPU_STATS_VMCS_LOADS:
		return &st->vmcs_loads;
	case RINGVM_A_VCPU_STATS_VMCS_CLEARS:
		return &st->vmcs_clears;
	case RINGVM_A_VCPU_STATS_HOST_STATE_SAVES:
		return &st->host_state_saves;
	case RINGVM_A_VCPU_STATS_MSR_SWITCHES:
		return &st->msr_switches;
	case RINGVM_A_VCPU_STATS_L1D_FLUSHES:
		return &st->l1d_flushes;
	}
	return NULL;
}

static int stats_parse(struct nl_msg *msg, struct ringvm_nl_vcpu_stats *out)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *nla;
	int rem, type, ret;
	__u64 *field;

	memset(out, 0, sizeof(*out));
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	nla_for_each_attr(nla, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		type = nla_type(nla);
		field = stats_u64_field(out, type);
		if (field) {
			if (nla_len(nla) != sizeof(__u64))
				return -EBADMSG;
			*field = nla_get_u64(nla);
		} else if (type == RINGVM_A_VCPU_STATS_VM_ID ||
			   type == RINGVM_A_VCPU_STATS_VCPU_ID) {
			if (nla_len(nla) != sizeof(__u32))
				return -EBADMSG;
			if (type == RINGVM_A_VCPU_STATS_VM_ID)
				out->vm_id = nla_get_u32(nla);
			else
				out->vcpu_id = nla_get_u32(nla);
		} else if (type == RINGVM_A_VCPU_STATS_VM_NAME) {
			nla_strlcpy(out->vm_name, nla, sizeof(out->vm_name));
		} else if (type == RINGVM_A_VCPU_STATS_EXIT_REASONS) {
			ret = stats_parse_reasons(nla, out);
			if (ret < 0)
				return ret;
		} else {
			continue;	/* pad, or an attribute newer than us */
		}
		if (type < 32)
			out->attrs |= 1U << type;
	}
	return 0;
}

struct stats_dump {
	int (*cb)(const struct ringvm_nl_vcpu_stats *st, void *arg);
	void *arg;
};

static int stats_dump_one(struct nl_msg *msg, void *arg)
{
	struct stats_dump *d = arg;
	struct ringvm_nl_vcpu_stats st;
	int ret = stats_parse(msg, &st);

	return ret < 0 ? ret : d->cb(&st, d->arg);
}

int __ringvm_nl_vcpu_stats_dump(struct ringvm_nl *nl, __u32 vm_id,
				const char *vm_name,
				int (*cb)(const struct ringvm_nl_vcpu_stats *st,
					  void *arg),
				void *arg)
{
	struct nl_msg *msg = ringvm_nl_msg_new(nl, RINGVM_CMD_VCPU_STATS_GET);
	struct stats_dump d = { .cb = cb, .arg = arg };

	nl->extack[0] = '\0';
	if (!msg)
		return -ENOMEM;
	if ((vm_id && nla_put_u32(msg, RINGVM_A_VCPU_STATS_VM_ID, vm_id) < 0) ||
	    (vm_name &&
	     nla_put_string(msg, RINGVM_A_VCPU_STATS_VM_NAME, vm_name) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	return __ringvm_nl_transact(nl, msg, stats_dump_one, &d);
}

int ringvm_nl_vcpu_stats_dump(struct ringvm_nl *nl, __u32 vm_id,
			      const char *vm_name,
			      int (*cb)(const struct ringvm_nl_vcpu_stats *st,
					void *arg),
			      void *arg)
{
	return ringvm_report(__ringvm_nl_vcpu_stats_dump(nl, vm_id, vm_name,
							 cb, arg),
			     "vcpu-stats-get dump", nl->extack);
}

/* 5. Events */

int __ringvm_nl_events_open(struct ringvm_nl **nlp)
{
	struct ringvm_nl *nl;
	int grp, ret;

	ret = __ringvm_nl_open(&nl);
	if (ret < 0)
		return ret;
	grp = genl_ctrl_resolve_grp(nl->sk, RINGVM_FAMILY_NAME,
				    RINGVM_MCGRP_EVENTS);
	if (grp < 0) {
		ret = nlerr_to_errno(grp);
		goto err_close;
	}
	/* Notifications carry sequence number 0; nothing is requested. */
	nl_socket_disable_seq_check(nl->sk);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_close;
	}
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_close;
	}
	*nlp = nl;
	return 0;

err_close:
	ringvm_nl_close(nl);
	return ret;
}

struct nl_event {
	struct ringvm_nl_vm *out;
	int err;
	bool got;
};

static int nl_event_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nl_event *ev = arg;

	if (ev->got || !genlmsg_valid_hdr(nlmsg_hdr(msg), 0) ||
	    gh->cmd != RINGVM_CMD_VM_EVENT)
		return NL_SKIP;
	ev->err = vm_parse(msg, ev->out);
	ev->got = true;
	return NL_STOP;
}

static int ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int __ringvm_nl_event_wait(struct ringvm_nl *nl, int timeout_ms,
			   struct ringvm_nl_vm *out)
{
	struct nl_event ev = { .out = out };
	struct pollfd pfd = {
		.fd = nl_socket_get_fd(nl->sk), .events = POLLIN,
	};
	struct nl_cb *cb, *sock_cb;
	struct timespec t0;
	int left, ret;

	/*
	 * A clone of the socket's callbacks, not a fresh set: a fresh one
	 * would check sequence numbers again, and notifications carry 0.
	 */
	cb = nl_socket_get_cb(nl->sk);	/* takes a reference */
	sock_cb = cb;
	cb = nl_cb_clone(sock_cb);
	nl_cb_put(sock_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nl_event_cb, &ev);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* Read what is queued first: poll only when nothing is. */
		ret = nl_recvmsgs(nl->sk, cb);
		if (ev.got) {
			ret = ev.err;
			break;
		}
		if (ret < 0 && ret != -NLE_AGAIN) {
			ret = nlerr_to_errno(ret);
			break;
		}
		if (ret >= 0)
			continue;
		left = timeout_ms < 0 ? -1 : timeout_ms - ms_since(&t0);
		if (timeout_ms >= 0 && left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = poll(&pfd, 1, left);
		if (ret < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	nl_cb_put(cb);
	return ret;
}
