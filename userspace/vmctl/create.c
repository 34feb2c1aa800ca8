// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl create: a named VM over generic netlink (vm-new), with one RAM
 * region at guest-physical 0.  The VM lives until "vmctl destroy", not
 * tied to this process.  Prints the new VM's id, alone on its line, so
 * that scripts can take it: id=$(vmctl create demo --memory 16M).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

#define CREATE_HELP							\
	"Creates the VM NAME (1 to 31 characters of A-Z a-z 0-9 . _ -)\n" \
	"with SIZE bytes of RAM at guest-physical address 0, and prints\n" \
	"its id.  Guest RAM is allocated when first touched.\n\n"	\
	"options:\n"							\
	"  -m, --memory SIZE   RAM size: a multiple of 4K, with an optional\n" \
	"                      suffix K, M, G (powers of 1024); required\n" \
	"  -c, --vcpus N       how many vCPUs the VM may have (default 1;\n" \
	"                      at most the module's max_vcpus parameter)\n" \
	"  -l, --large-pages   map RAM with 2 MiB nested pages where a first\n" \
	"                      touch finds a whole untouched 2 MiB block\n" \
	"                      (it then allocates all 2 MiB at once)\n" \
	"  -h, --help          show this help\n"

#define PAGE_SIZE	4096ULL

static int create_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "large-pages", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct vmctl_cmd *cmd = &vmctl_cmd_create;
	struct ringvm_mem_region ram = { .gpa = 0 };
	__u64 vcpus = 0;
	__u32 flags = 0;
	struct ringvm_nl_vm vm;
	struct ringvm_nl *nl;
	const char *name;
	char what[64];
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:c:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!vmctl_parse_size(optarg, &ram.size) ||
			    !ram.size || ram.size % PAGE_SIZE)
				return vmctl_usage_error(cmd,
					"bad memory size '%s': a nonzero multiple of 4K, e.g. 16M",
					optarg);
			break;
		case 'c':
			if (!vmctl_parse_u64(optarg, 0xffffffff, &vcpus) ||
			    !vcpus)
				return vmctl_usage_error(cmd,
					"bad vCPU count '%s'", optarg);
			break;
		case 'l':
			flags |= RINGVM_VM_FLAGS_LARGE_PAGES;
			break;
		case 'h':
			vmctl_cmd_usage(cmd, stdout);
			return VMCTL_EXIT_OK;
		default:
			return vmctl_bad_option(cmd, argv, c);
		}
	}
	ret = vmctl_name_arg(cmd, argc, argv, &name);
	if (ret)
		return ret;
	if (!ram.size)
		return vmctl_usage_error(cmd, "--memory is required");

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	ret = __ringvm_nl_vm_new_flags(nl, name, &ram, 1, vcpus, flags, &vm);
	if (ret == -EEXIST)
		ret = vmctl_fail("create %s: a VM of that name exists already",
				 name);
	else if (ret == -EOPNOTSUPP)
		ret = vmctl_fail("create %s: --large-pages: the nested page tables here map no 2 MiB pages",
				 name);
	else if (ret < 0) {
		snprintf(what, sizeof(what), "create %.32s", name);
		ret = vmctl_nl_fail(nl, ret, what);
	} else {
		printf("%u\n", vm.id);
		ret = VMCTL_EXIT_OK;
	}
	ringvm_nl_close(nl);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_create = {
	.name = "create",
	.args = "NAME -m|--memory SIZE [-c|--vcpus N] [-l|--large-pages]",
	.summary = "create a named VM",
	.help = CREATE_HELP,
	.run = create_run,
};
