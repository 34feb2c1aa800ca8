// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl list: every VM the module has (named and anonymous), from the
 * vm-get dump, in the kernel's order.
 *
 * Text: a header line, then one line per VM with the columns
 *	ID NAME MEMORY VCPUS FLAGS
 * MEMORY the sum of the regions ("16M"), VCPUS "created/max", FLAGS
 * "anonymous", "destroyed", "large-pages", comma-separated, or "-".
 * JSON: an array of objects, one per VM (an empty array when none):
 *	{"id": 1, "name": "demo", "memory": 16777216, "mem_allocated": 0,
 *	 "regions": [{"gpa": 0, "size": 16777216}], "max_vcpus": 1,
 *	 "nr_vcpus": 0, "flags": ["anonymous"]}
 * The selftests parse both; change them together.
 */
#include <stdbool.h>
#include <stdio.h>

#include "vmctl.h"

#define LIST_HELP							\
	"Lists the VMs: id, name, RAM size, vCPUs created / allowed, and\n" \
	"flags (anonymous: dies with its last file descriptor; destroyed:\n" \
	"waiting for its last user to go; large-pages: made with\n"	\
	"vmctl create --large-pages).\n\n"				\
	"options:\n"							\
	"  -j, --json   print one JSON array of objects instead of text\n" \
	"  -h, --help   show this help\n"

static const struct {
	__u32 flag;
	const char *name;
} vm_flags[] = {
	{ RINGVM_VM_FLAGS_ANONYMOUS, "anonymous" },
	{ RINGVM_VM_FLAGS_DESTROYED, "destroyed" },
	{ RINGVM_VM_FLAGS_LARGE_PAGES, "large-pages" },
};

struct list_state {
	bool json;
	unsigned int n;
};

static __u64 vm_memory(const struct ringvm_nl_vm *vm)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_regions; i++)
		sum += vm->regions[i].size;
	return sum;
}

static void list_text(const struct ringvm_nl_vm *vm)
{
	const char *sep = "";
	char vcpus[24], size[24];
	unsigned int i;

	snprintf(vcpus, sizeof(vcpus), "%u/%u", vm->nr_vcpus, vm->max_vcpus);
	printf("%-5u %-31s %-8s %-7s ", vm->id, vm->name,
	       vmctl_size_str(vm_memory(vm), size, sizeof(size)), vcpus);
	for (i = 0; i < ARRAY_SIZE(vm_flags); i++) {
		if (!(vm->flags & vm_flags[i].flag))
			continue;
		printf("%s%s", sep, vm_flags[i].name);
		sep = ",";
	}
	printf("%s\n", sep[0] ? "" : "-");
}

static void list_json(const struct ringvm_nl_vm *vm, bool first)
{
	const char *sep = "";
	unsigned int i;

	printf("%s\n\t{\"id\": %u, \"name\": ", first ? "" : ",", vm->id);
	vmctl_json_str(stdout, vm->name);
	printf(", \"memory\": %llu, \"mem_allocated\": %llu, \"regions\": [",
	       (unsigned long long)vm_memory(vm),
	       (unsigned long long)vm->mem_allocated);
	for (i = 0; i < vm->nr_regions; i++)
		printf("%s{\"gpa\": %llu, \"size\": %llu}", i ? ", " : "",
		       (unsigned long long)vm->regions[i].gpa,
		       (unsigned long long)vm->regions[i].size);
	printf("], \"max_vcpus\": %u, \"nr_vcpus\": %u, \"flags\": [",
	       vm->max_vcpus, vm->nr_vcpus);
	for (i = 0; i < ARRAY_SIZE(vm_flags); i++) {
		if (!(vm->flags & vm_flags[i].flag))
			continue;
		printf("%s\"%s\"", sep, vm_flags[i].name);
		sep = ", ";
	}
	printf("]}");
}

static int list_one(const struct ringvm_nl_vm *vm, void *arg)
{
	struct list_state *st = arg;

	if (st->json)
		list_json(vm, st->n == 0);
	else
		list_text(vm);
	st->n++;
	return 0;
}

static int list_run(int argc, char **argv)
{
	const struct vmctl_cmd *cmd = &vmctl_cmd_list;
	struct list_state st = { };
	struct ringvm_nl *nl;
	int ret;

	ret = vmctl_json_opts(cmd, argc, argv, &st.json, NULL);
	if (ret >= 0)
		return ret;

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	/*
	 * Print as the dump arrives: a VM list is short, and a failure
	 * midway still says so (and exits 1) after what was printed.
	 */
	if (st.json)
		printf("[");
	else
		printf("%-5s %-31s %-8s %-7s %s\n", "ID", "NAME", "MEMORY",
		       "VCPUS", "FLAGS");
	ret = __ringvm_nl_vm_dump(nl, list_one, &st);
	if (st.json)
		printf("%s]\n", st.n ? "\n" : "");
	fflush(stdout);
	if (ret < 0)
		ret = vmctl_nl_fail(nl, ret, "list (vm-get dump)");
	ringvm_nl_close(nl);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_list = {
	.name = "list",
	.args = "[-j|--json]",
	.summary = "list the VMs",
	.help = LIST_HELP,
	.run = list_run,
};
