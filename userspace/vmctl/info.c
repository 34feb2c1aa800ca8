// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl info: what the hypervisor and the CPUs under it offer, from the
 * generic netlink caps-get (the control plane; no /dev/ringvm needed).
 *
 * The text form is one "label: value" line per fact; the JSON form is one
 * object.  Both name features and page sizes with libringvm's tables, and
 * the selftests parse both, so change them together.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

#define INFO_HELP							\
	"Prints the ringvm API version, the virtualization extension the\n" \
	"module drives, its features, the nested page sizes, the number of\n" \
	"ASIDs/VPIDs, the hardware revision (SVM revision / VMCS revision\n" \
	"id) and the number of CPUs with virtualization turned on.\n\n"	\
	"options:\n"							\
	"  -j, --json   print one JSON object instead of text\n"	\
	"  -h, --help   show this help\n"

/* The name of RINGVM_FEAT_* bit @bit, or "bitN" for one without. */
static const char *feature_str(unsigned int bit, char *buf, size_t len)
{
	const char *name = ringvm_feature_name(bit);

	if (name)
		return name;
	snprintf(buf, len, "bit%u", bit);
	return buf;
}

/*
 * Print each set bit of @mask through @str, separated by @sep and each
 * wrapped in @quote, or @none when no bit is set.
 */
static void print_bits(FILE *f, __u64 mask, const char *sep,
		       const char *quote, const char *none,
		       const char *(*str)(unsigned int, char *, size_t))
{
	const char *s = "";
	unsigned int bit;
	char buf[16];

	for (bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		fprintf(f, "%s%s%s%s", s, quote, str(bit, buf, sizeof(buf)),
			quote);
		s = sep;
	}
	if (!mask)
		fputs(none, f);
}

static const char *page_size_str(unsigned int shift, char *buf, size_t len)
{
	return ringvm_page_size_str(shift, buf, len);
}

static void info_print_text(FILE *f, const struct ringvm_nl_caps *c)
{
	fprintf(f, "api version:     %u\n", c->api_version);
	fprintf(f, "arch:            %s (%s)\n", ringvm_arch_name(c->caps.arch),
		ringvm_arch_desc(c->caps.arch));
	fprintf(f, "features:        ");
	print_bits(f, c->caps.features, " ", "", "(none)", feature_str);
	fprintf(f, "\npage sizes:      ");
	print_bits(f, c->caps.page_sizes, " ", "", "(none)",
		   page_size_str);
	fprintf(f, "\nasids:           %u\n", c->caps.nr_asids);
	fprintf(f, "hw revision:     0x%x\n", c->caps.hw_revision);
	fprintf(f, "cpus enabled:    %u\n", c->caps.nr_cpus_enabled);
}

static void info_print_json(FILE *f, const struct ringvm_nl_caps *c)
{
	fprintf(f, "{\n\t\"api_version\": %u,\n", c->api_version);
	fprintf(f, "\t\"arch\": \"%s\",\n", ringvm_arch_name(c->caps.arch));
	fprintf(f, "\t\"features\": [");
	print_bits(f, c->caps.features, ", ", "\"", "", feature_str);
	fprintf(f, "],\n\t\"features_mask\": \"0x%llx\",\n",
		(unsigned long long)c->caps.features);
	fprintf(f, "\t\"page_sizes\": [");
	print_bits(f, c->caps.page_sizes, ", ", "\"", "", page_size_str);
	fprintf(f, "],\n\t\"page_sizes_mask\": \"0x%llx\",\n",
		(unsigned long long)c->caps.page_sizes);
	fprintf(f, "\t\"nr_asids\": %u,\n", c->caps.nr_asids);
	fprintf(f, "\t\"hw_revision\": %u,\n", c->caps.hw_revision);
	fprintf(f, "\t\"nr_cpus_enabled\": %u\n}\n", c->caps.nr_cpus_enabled);
}

static int info_run(int argc, char **argv)
{
	struct ringvm_nl_caps caps;
	struct ringvm_nl *nl;
	bool json = false;
	int ret;

	ret = vmctl_json_opts(&vmctl_cmd_info, argc, argv, &json, NULL);
	if (ret >= 0)
		return ret;

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	ret = __ringvm_nl_caps_get(nl, &caps);
	if (ret < 0) {
		ret = vmctl_fail("caps-get: %s%s%s", strerror(-ret),
				 ringvm_nl_extack(nl)[0] ? ": " : "",
				 ringvm_nl_extack(nl));
		ringvm_nl_close(nl);
		return ret;
	}
	ringvm_nl_close(nl);

	if (json)
		info_print_json(stdout, &caps);
	else
		info_print_text(stdout, &caps);
	return VMCTL_EXIT_OK;
}

const struct vmctl_cmd vmctl_cmd_info = {
	.name = "info",
	.args = "[-j|--json]",
	.summary = "show the capabilities of ringvm and the CPU",
	.help = INFO_HELP,
	.run = info_run,
};
