// SPDX-License-Identifier: GPL-2.0
/*
 * Host side: what RINGVM_GUEST_TEST_MAIN (guest.h) does around the tests,
 * and the module's parameters.  A test that fails between a netlink
 * vm-new and its vm-del leaves a named VM behind, which keeps ringvm from
 * unloading; the tests name such VMs GUEST_TEST_VM_PREFIX-something, and
 * the binary deletes what is left of them before and after its tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

struct leftovers {
	const char *prefix;
	unsigned int nr;
	__u32 ids[64];
};

static int collect(const struct ringvm_nl_vm *vm, void *arg)
{
	struct leftovers *l = arg;

	if (vm->flags & RINGVM_VM_FLAGS_ANONYMOUS)
		return 0;
	if (strncmp(vm->name, l->prefix, strlen(l->prefix)))
		return 0;
	if (l->nr < 64)
		l->ids[l->nr++] = vm->id;
	return 0;
}

int delete_test_vms(struct ringvm_nl *nl, const char *prefix, bool report)
{
	struct leftovers l = { .prefix = prefix };
	unsigned int i;
	int ret, first = 0;

	ret = __ringvm_nl_vm_dump(nl, collect, &l);
	for (i = 0; i < l.nr; i++) {
		int r = __ringvm_nl_vm_del(nl, l.ids[i], NULL);

		if (report)
			fprintf(stderr, "# deleted a VM a test left behind: id %u%s\n",
				l.ids[i], r ? " (failed)" : "");
		if (r && r != -ENOENT && !first)
			first = r;
	}
	return ret ? ret : first;
}

int guest_test_cleanup(void)
{
	struct ringvm_nl *nl;
	int ret;

	if (!ringvm_module_loaded(RINGVM_MODULE_NAME))
		return 0;
	ret = __ringvm_nl_open(&nl);
	if (ret)
		return ret;
	ret = delete_test_vms(nl, GUEST_TEST_VM_PREFIX, true);
	ringvm_nl_close(nl);
	return ret;
}

void guest_test_atexit(void)
{
	int ret = guest_test_cleanup();

	if (ret < 0)
		fprintf(stderr, "# cleanup: %s\n", strerror(-ret));
	ret = ringvm_ensure_unloaded();
	if (ret < 0)
		fprintf(stderr, "# unload ringvm: %s\n", strerror(-ret));
}

long ringvm_module_param(const char *name, long dflt)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 RINGVM_MODULE_NAME, name);
	return file_read_long(path, dflt);
}
