// SPDX-License-Identifier: GPL-2.0
/*
 * caps_test: the capabilities, as RINGVM_GET_CAPS, the netlink caps-get
 * and "vmctl info" report them, checked against each other and against
 * what the CPU itself says (/proc/cpuinfo, CPUID, the VMX MSRs).
 *
 * Expectations come from the hardware, never from a list of machines:
 * a feature ringvm reports must be one the CPU has; ringvm may leave out
 * one it does not use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define PAGE_4K		(1ULL << 12)
#define PAGE_2M		(1ULL << 21)
#define PAGE_1G		(1ULL << 30)

/* CPUID Fn8000_000A: SVM revision (EAX[7:0]), ASIDs (EBX), features (EDX) */
#define SVM_LEAF		0x8000000a
/* CPUID Fn8000_0001 EDX[26]: 1 GiB pages */
#define CPUID_EXT1		0x80000001
#define CPUID_EXT1_EDX_PAGE1GB	(1U << 26)
#define MSR_IA32_VMX_BASIC	0x480

FIXTURE(caps) {
	int fd;
	int api_version;
	struct ringvm_caps caps;
};

FIXTURE_SETUP(caps)
{
	int ret = ringvm_ensure_loaded();

	self->fd = -1;
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	self->fd = __ringvm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	self->api_version = __ringvm_get_api_version(self->fd);
	ASSERT_LE(0, self->api_version);
	ASSERT_EQ(0, __ringvm_get_caps(self->fd, &self->caps));
}

FIXTURE_TEARDOWN(caps)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, ringvm_ensure_unloaded());
}

TEST_F(caps, api_version)
{
	ASSERT_EQ(RINGVM_API_VERSION, self->api_version);
}

TEST_F(caps, ioctl_matches_netlink)
{
	const struct ringvm_caps *c = &self->caps;
	struct ringvm_nl_caps nc;
	struct ringvm_nl *nl;
	int ret;

	ASSERT_EQ(0, __ringvm_nl_open(&nl));
	ret = __ringvm_nl_caps_get(nl, &nc);
	ASSERT_EQ(0, ret) TH_LOG("caps-get: %s: %s", strerror(-ret),
				 ringvm_nl_extack(nl));
	ringvm_nl_close(nl);

	ASSERT_EQ(RINGVM_NL_CAPS_ATTRS_ALL, nc.attrs)
		TH_LOG("attributes missing from the reply: %#x",
		       RINGVM_NL_CAPS_ATTRS_ALL & ~nc.attrs);
	EXPECT_EQ(self->api_version, (int)nc.api_version);
	EXPECT_EQ(c->arch, nc.caps.arch);
	EXPECT_EQ(c->features, nc.caps.features);
	EXPECT_EQ(c->page_sizes, nc.caps.page_sizes);
	EXPECT_EQ(c->nr_asids, nc.caps.nr_asids);
	EXPECT_EQ(c->hw_revision, nc.caps.hw_revision);
	EXPECT_EQ(c->nr_cpus_enabled, nc.caps.nr_cpus_enabled);
}

TEST_F(caps, output_reserved_zero)
{
	unsigned int i;

	ASSERT_EQ(0, self->caps.flags);
	/* Braces: an ASSERT is two statements, its handler the second. */
	for (i = 0; i < ARRAY_SIZE(self->caps.reserved); i++) {
		ASSERT_EQ(0, self->caps.reserved[i]) TH_LOG("reserved[%u]", i);
	}
}

TEST_F(caps, arch_matches_cpuinfo)
{
	ASSERT_EQ(cpuinfo_arch(), self->caps.arch)
		TH_LOG("caps say %s", ringvm_arch_name(self->caps.arch));
}

/* ringvm refuses to load without these (DESIGN.md, module lifetime). */
TEST_F(caps, required_features)
{
	ASSERT_TRUE(self->caps.features & RINGVM_FEAT_NESTED_PAGING);
	if (self->caps.arch == RINGVM_ARCH_VMX) {
		ASSERT_TRUE(self->caps.features &
			    RINGVM_FEAT_UNRESTRICTED_GUEST);
	}
}

/* Every feature bit set has a name, so vmctl can print it. */
TEST_F(caps, features_named)
{
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(self->caps.features & (1ULL << bit)))
			continue;
		EXPECT_NE(NULL, ringvm_feature_name(bit))
			TH_LOG("feature bit %u has no name", bit);
	}
}

/* A feature, and whether this CPU has what it stands for. */
struct feat_check {
	__u64 feat;
	bool has;
	const char *why;
};

static bool svm_edx_has(unsigned int bit)
{
	__u32 r[4];

	cpuid(SVM_LEAF, 0, r);
	return r[3] & (1U << bit);
}

/*
 * AMD APM Vol. 2 §15.4 / CPUID Fn8000_000A EDX.  Features SVM always has
 * (unrestricted guest, tagged TLB, A/D bits in nested tables) map to true.
 */
static void svm_feat_checks(struct feat_check *fc)
{
	struct feat_check svm[] = {
		{ RINGVM_FEAT_NESTED_PAGING, svm_edx_has(0), "EDX[0] NP" },
		{ RINGVM_FEAT_UNRESTRICTED_GUEST, true, "always" },
		{ RINGVM_FEAT_TAGGED_TLB, true, "ASIDs" },
		{ RINGVM_FEAT_NRIP_SAVE, svm_edx_has(3), "EDX[3] NRIPS" },
		{ RINGVM_FEAT_DECODE_ASSISTS, svm_edx_has(7), "EDX[7]" },
		{ RINGVM_FEAT_VGIF, svm_edx_has(16), "EDX[16] vGIF" },
		{ RINGVM_FEAT_NP_AD_BITS, true, "always" },
		{ RINGVM_FEAT_FLUSH_BY_TAG, svm_edx_has(6), "EDX[6]" },
		{ RINGVM_FEAT_VMCB_CLEAN, svm_edx_has(5), "EDX[5]" },
		{ RINGVM_FEAT_TSC_SCALING, svm_edx_has(4), "EDX[4]" },
		{ RINGVM_FEAT_PAUSE_FILTER, svm_edx_has(10), "EDX[10]" },
		{ RINGVM_FEAT_PREEMPTION_TIMER, false, "VMX only" },
		{ RINGVM_FEAT_VIRT_APIC, svm_edx_has(13), "EDX[13] AVIC" },
		{ RINGVM_FEAT_LAPIC, true, "the module's own" },
		{ RINGVM_FEAT_LARGE_PAGES, true,
		  "the module's own: NPT maps 2M always" },
		{ RINGVM_FEAT_EOI_EXIT, true, "the module's own" },
	};

	memcpy(fc, svm, sizeof(svm));
}

static bool vmx_flag(const char *flag)
{
	return cpuinfo_has("vmx flags", flag) > 0;
}

/* Linux's names for the VMX capabilities (asm/vmxfeatures.h). */
static void vmx_feat_checks(struct feat_check *fc)
{
	struct feat_check vmx[] = {
		{ RINGVM_FEAT_NESTED_PAGING, vmx_flag("ept"), "ept" },
		{ RINGVM_FEAT_UNRESTRICTED_GUEST, vmx_flag("unrestricted_guest"),
		  "unrestricted_guest" },
		{ RINGVM_FEAT_TAGGED_TLB, vmx_flag("vpid") &&
		  vmx_flag("invvpid"), "vpid invvpid" },
		{ RINGVM_FEAT_NRIP_SAVE, false, "SVM only" },
		{ RINGVM_FEAT_DECODE_ASSISTS, false, "SVM only" },
		{ RINGVM_FEAT_VGIF, false, "SVM only" },
		{ RINGVM_FEAT_NP_AD_BITS, vmx_flag("ept_ad"), "ept_ad" },
		{ RINGVM_FEAT_FLUSH_BY_TAG, vmx_flag("invvpid"), "invvpid" },
		{ RINGVM_FEAT_VMCB_CLEAN, false, "SVM only" },
		{ RINGVM_FEAT_TSC_SCALING, vmx_flag("tsc_scaling"),
		  "tsc_scaling" },
		{ RINGVM_FEAT_PAUSE_FILTER, vmx_flag("ple"), "ple" },
		{ RINGVM_FEAT_PREEMPTION_TIMER, vmx_flag("preemption_timer"),
		  "preemption_timer" },
		{ RINGVM_FEAT_VIRT_APIC, vmx_flag("vapic") &&
		  vmx_flag("vapic_reg") && vmx_flag("vid"),
		  "vapic vapic_reg vid" },
		{ RINGVM_FEAT_LAPIC, true, "the module's own" },
		{ RINGVM_FEAT_LARGE_PAGES, true,
		  "the module's own where EPT maps 2M (caps.page_sizes test)" },
		{ RINGVM_FEAT_EOI_EXIT, true, "the module's own" },
	};

	memcpy(fc, vmx, sizeof(vmx));
}

#define NR_FEAT_CHECKS	16

TEST_F(caps, features_match_cpu)
{
	struct feat_check fc[NR_FEAT_CHECKS];
	__u64 known = 0;
	unsigned int i;

	if (self->caps.arch == RINGVM_ARCH_VMX &&
	    cpuinfo_has("vmx flags", "ept") <= 0)
		SKIP(return, "no \"vmx flags\" line in /proc/cpuinfo");
	if (self->caps.arch == RINGVM_ARCH_VMX)
		vmx_feat_checks(fc);
	else
		svm_feat_checks(fc);

	for (i = 0; i < NR_FEAT_CHECKS; i++) {
		const char *name = ringvm_feature_name(__builtin_ctzll(fc[i].feat));
		bool set = self->caps.features & fc[i].feat;

		known |= fc[i].feat;
		EXPECT_TRUE(!set || fc[i].has)
			TH_LOG("%s reported but the CPU lacks it (%s)", name,
			       fc[i].why);
		if (!set && fc[i].has)
			TH_LOG("note: CPU has %s (%s), ringvm does not offer it",
			       name, fc[i].why);
	}
	ASSERT_EQ(0, self->caps.features & ~known)
		TH_LOG("features this test does not know: %#llx",
		       (unsigned long long)(self->caps.features & ~known));
}

/* 4K always; 2M and 1G only where the nested page tables can map them. */
TEST_F(caps, page_sizes)
{
	__u64 ps = self->caps.page_sizes;
	__u32 r[4];

	ASSERT_TRUE(ps & PAGE_4K);
	ASSERT_EQ(0, ps & ~(PAGE_4K | PAGE_2M | PAGE_1G))
		TH_LOG("page_sizes %#llx", (unsigned long long)ps);
	/* RINGVM_VM_LARGE_PAGES is offered exactly where 2M maps */
	EXPECT_EQ(!!(ps & PAGE_2M),
		  !!(self->caps.features & RINGVM_FEAT_LARGE_PAGES));
	if (self->caps.arch == RINGVM_ARCH_SVM) {
		/* NPT walks long-mode tables: 2M always, 1G as the host. */
		cpuid(CPUID_EXT1, 0, r);
		ASSERT_TRUE(ps & PAGE_2M);
		ASSERT_EQ(!!(r[3] & CPUID_EXT1_EDX_PAGE1GB), !!(ps & PAGE_1G));
	} else if (cpuinfo_has("vmx flags", "ept") > 0) {
		ASSERT_EQ(vmx_flag("ept_1gb"), !!(ps & PAGE_1G));
	}
}

TEST_F(caps, asids)
{
	const struct ringvm_caps *c = &self->caps;
	__u32 r[4];

	ASSERT_EQ(!!(c->features & RINGVM_FEAT_TAGGED_TLB), c->nr_asids != 0)
		TH_LOG("tagged-tlb must go with a non-zero nr_asids (%u)",
		       c->nr_asids);
	if (c->arch == RINGVM_ARCH_SVM) {
		/* ASID 0 is the host's (AMD APM Vol. 2 §15.16). */
		cpuid(SVM_LEAF, 0, r);
		ASSERT_EQ(r[1] - 1, c->nr_asids);
	} else {
		/* VPIDs are 16 bits and 0 is the host's. */
		ASSERT_GE(0xffffU, c->nr_asids);
	}
}

TEST_F(caps, hw_revision)
{
	__u64 basic;
	__u32 r[4];
	int ret;

	if (self->caps.arch == RINGVM_ARCH_SVM) {
		cpuid(SVM_LEAF, 0, r);
		ASSERT_EQ(r[0] & 0xff, self->caps.hw_revision);
		return;
	}
	ret = rdmsr_cpu(0, MSR_IA32_VMX_BASIC, &basic);
	if (ret < 0)
		SKIP(return, "cannot read IA32_VMX_BASIC: %s", strerror(-ret));
	/* SDM Vol. 3D §A.1: bits 30:0 are the VMCS revision identifier. */
	ASSERT_EQ(basic & 0x7fffffff, self->caps.hw_revision);
}

TEST_F(caps, nr_cpus_enabled)
{
	ASSERT_EQ(cpus_online(), (int)self->caps.nr_cpus_enabled);
}

/* "4K", "2M", "1G", ... back to a page_sizes bit; 0 if malformed. */
static __u64 page_size_bit(const char *s, size_t len)
{
	static const char units[] = "KMGTPE";
	char *end;
	unsigned long n = strtoul(s, &end, 10);
	const char *u;

	if (end != s + len - 1 || !n || (n & (n - 1)) || !*end)
		return 0;
	u = strchr(units, *end);
	if (!u)
		return 0;
	return 1ULL << (__builtin_ctzl(n) + 10 * (u - units + 1));
}

/* A feature name back to its bit ("bitN" for unnamed ones); 0 if bad. */
static __u64 feature_bit(const char *s, size_t len)
{
	char name[64];
	int bit;

	if (len >= sizeof(name))
		return 0;
	memcpy(name, s, len);
	name[len] = '\0';
	bit = ringvm_feature_bit(name);
	if (bit < 0 && sscanf(name, "bit%d", &bit) != 1)
		return 0;
	return 1ULL << bit;
}

/*
 * Turn a list of words (text: "a b c"; JSON: ["a", "b"]) into a mask with
 * @word_bit; "(none)" and "[]" are 0.  Sets *bad on a word it rejects.
 */
static __u64 words_mask(const char *list, __u64 (*word_bit)(const char *,
							      size_t),
			bool *bad)
{
	const char *sep = " \t\n[],\"";
	const char *p = list + strspn(list, sep);
	__u64 mask = 0, bit;
	size_t len;

	if (!strcmp(p, "(none)"))
		return 0;
	for (; *p; p += len, p += strspn(p, sep)) {
		len = strcspn(p, sep);
		bit = word_bit(p, len);
		if (!bit)
			*bad = true;
		mask |= bit;
	}
	return mask;
}

/* The value of the "label:" line of vmctl info's text output. */
static const char *text_field(struct __test_metadata *_metadata,
			      const char *out, const char *label, char *buf,
			      size_t len)
{
	size_t llen = strlen(label), vlen;
	const char *line, *v;

	for (line = out; *line; line += strcspn(line, "\n") + !!*line) {
		if (strncmp(line, label, llen) || line[llen] != ':')
			continue;
		v = line + llen + 1;
		v += strspn(v, " ");
		vlen = strcspn(v, "\n");
		ASSERT_GT(len, vlen);
		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		return buf;
	}
	ASSERT_TRUE(false) TH_LOG("no \"%s:\" line in:\n%s", label, out);
	return NULL;
}

/* The text of member @key of vmctl info --json's object. */
static const char *json_member(struct __test_metadata *_metadata,
			       const char *out, const char *key, char *buf,
			       size_t len)
{
	int ret = json_get(out, key, buf, len);

	ASSERT_EQ(0, ret) TH_LOG("member \"%s\": %s", key, strerror(-ret));
	return buf;
}

/* vmctl ARG1 [ARG2] (ARG2 may be NULL); it must start. */
#define vmctl(_metadata, res, arg1, arg2)				\
	do {								\
		ASSERT_EQ(0, run_vmctl(res, (char *)(arg1),		\
				       (char *)(arg2), NULL));		\
	} while (0)

TEST_F(caps, vmctl_info_text)
{
	const struct ringvm_caps *c = &self->caps;
	struct run_result res;
	char val[512], arch[64];
	bool bad = false;

#define FIELD(label) text_field(_metadata, res.out, label, val, sizeof(val))
	vmctl(_metadata, &res, "info", NULL);
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	ASSERT_STREQ("", res.err);

	EXPECT_EQ(self->api_version, atoi(FIELD("api version")));
	snprintf(arch, sizeof(arch), "%s (%s)", ringvm_arch_name(c->arch),
		 ringvm_arch_desc(c->arch));
	EXPECT_STREQ(arch, FIELD("arch"));
	EXPECT_EQ(c->features, words_mask(FIELD("features"), feature_bit,
					  &bad)) TH_LOG("features: %s", val);
	EXPECT_EQ(c->page_sizes, words_mask(FIELD("page sizes"),
					    page_size_bit, &bad))
		TH_LOG("page sizes: %s", val);
	EXPECT_FALSE(bad);
	EXPECT_EQ(c->nr_asids, strtoul(FIELD("asids"), NULL, 0));
	EXPECT_EQ(c->hw_revision, strtoul(FIELD("hw revision"), NULL, 0));
	EXPECT_EQ(c->nr_cpus_enabled, strtoul(FIELD("cpus enabled"), NULL, 0));
#undef FIELD
}

TEST_F(caps, vmctl_info_json)
{
	const struct ringvm_caps *c = &self->caps;
	struct run_result res;
	char val[512], arch[64];
	bool bad = false;

#define MEMBER(key) json_member(_metadata, res.out, key, val, sizeof(val))
	vmctl(_metadata, &res, "info", "--json");
	ASSERT_EQ(0, res.status) TH_LOG("stderr: %s", res.err);
	ASSERT_STREQ("", res.err);
	ASSERT_TRUE(json_valid(res.out)) TH_LOG("not JSON:\n%s", res.out);

	EXPECT_EQ(self->api_version, atoi(MEMBER("api_version")));
	snprintf(arch, sizeof(arch), "\"%s\"", ringvm_arch_name(c->arch));
	EXPECT_STREQ(arch, MEMBER("arch"));
	EXPECT_EQ(c->features, words_mask(MEMBER("features"), feature_bit,
					  &bad)) TH_LOG("features: %s", val);
	/* The masks are strings: "0x..." */
	EXPECT_EQ(c->features, strtoull(MEMBER("features_mask") + 1, NULL, 16));
	EXPECT_EQ(c->page_sizes, words_mask(MEMBER("page_sizes"),
					    page_size_bit, &bad))
		TH_LOG("page_sizes: %s", val);
	EXPECT_EQ(c->page_sizes,
		  strtoull(MEMBER("page_sizes_mask") + 1, NULL, 16));
	EXPECT_FALSE(bad);
	EXPECT_EQ(c->nr_asids, strtoul(MEMBER("nr_asids"), NULL, 10));
	EXPECT_EQ(c->hw_revision, strtoul(MEMBER("hw_revision"), NULL, 10));
	EXPECT_EQ(c->nr_cpus_enabled,
		  strtoul(MEMBER("nr_cpus_enabled"), NULL, 10));
#undef MEMBER
}

/* Without the module: exit 1 and one clear line, on stderr only. */
TEST(vmctl_not_loaded)
{
	static const char *const args[][2] = {
		{ "info", NULL }, { "info", "--json" },
	};
	struct run_result res;
	unsigned int i;

	ASSERT_EQ(0, ringvm_ensure_unloaded());
	for (i = 0; i < ARRAY_SIZE(args); i++) {
		vmctl(_metadata, &res, args[i][0], args[i][1]);
		EXPECT_EQ(1, res.status);
		EXPECT_STREQ("", res.out);
		EXPECT_STREQ("vmctl: ringvm module not loaded (insmod ringvm.ko)\n",
			     res.err);
	}
}

/* Bad command lines exit 2 with the usage on stderr; help goes to stdout. */
TEST(vmctl_usage)
{
	static const struct {
		const char *arg1, *arg2;
		int status;
		bool usage_on_stdout;
	} calls[] = {
		{ NULL, NULL, 2, false },
		{ "bogus", NULL, 2, false },
		{ "--bogus", NULL, 2, false },
		{ "info", "--bogus", 2, false },
		{ "info", "extra", 2, false },
		{ "help", "bogus", 2, false },
		{ "--help", NULL, 0, true },
		{ "help", NULL, 0, true },
		{ "help", "info", 0, true },
		{ "info", "--help", 0, true },
	};
	struct run_result res;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		bool to_stdout = calls[i].usage_on_stdout;
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "vmctl %s %s",
			 calls[i].arg1 ? calls[i].arg1 : "",
			 calls[i].arg2 ? calls[i].arg2 : "");
		vmctl(_metadata, &res, calls[i].arg1, calls[i].arg2);
		EXPECT_EQ(calls[i].status, res.status) TH_LOG("%s", cmd);
		EXPECT_NE(NULL, strstr(to_stdout ? res.out : res.err,
				       "usage: vmctl"))
			TH_LOG("%s: no usage", cmd);
		EXPECT_STREQ("", to_stdout ? res.err : res.out)
			TH_LOG("%s: output on the wrong stream", cmd);
	}
}

RINGVM_TEST_MAIN
