// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl destroy: vm-del of a VM by name.  A vmctl run still running it
 * leaves with RINGVM_EXIT_DESTROYED; the memory goes with the last
 * reference.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "vmctl.h"

#define DESTROY_HELP							\
	"Destroys the VM NAME.  A vCPU running in it stops (vmctl run\n" \
	"exits with status 10); its memory is freed once nothing uses it.\n\n" \
	"options:\n"							\
	"  -h, --help   show this help\n"

static int destroy_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct vmctl_cmd *cmd = &vmctl_cmd_destroy;
	struct ringvm_nl *nl;
	const char *name;
	char what[64];
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h')
			return vmctl_bad_option(cmd, argv, c);
		vmctl_cmd_usage(cmd, stdout);
		return VMCTL_EXIT_OK;
	}
	ret = vmctl_name_arg(cmd, argc, argv, &name);
	if (ret)
		return ret;

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	ret = __ringvm_nl_vm_del(nl, 0, name);
	if (ret == -ENOENT) {
		ret = vmctl_fail("destroy %s: no such VM", name);
	} else if (ret < 0) {
		snprintf(what, sizeof(what), "destroy %.32s", name);
		ret = vmctl_nl_fail(nl, ret, what);
	}
	ringvm_nl_close(nl);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_destroy = {
	.name = "destroy",
	.args = "NAME",
	.summary = "destroy a VM",
	.help = DESTROY_HELP,
	.run = destroy_run,
};
