// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl stat: the counters of each vCPU of one VM, and their total, from
 * the vcpu-stats-get dump.
 *
 * Text: a line naming the VM, then one row per counter with a column
 * per vCPU ("vcpu0", "vcpu1", ...) and a "total" column; exit reasons
 * are indented under "exits", times are in nanoseconds.
 * JSON: one object
 *	{"vm": {"id": 3, "name": "demo"},
 *	 "vcpus": [{"id": 0, "exits": 10, "exit_reasons": {"other": 1,
 *	   "cpuid": 2, ...}, "user_exits": 4, "nested_page_faults": 3,
 *	   "injected_events": 0, "halt_ns": 0, "run_ns": 123456,
 *	   "vmcs_loads": 4, "vmcs_clears": 4, "host_state_saves": 0,
 *	   "msr_switches": 8, "l1d_flushes": 4}],
 *	 "total": {the same members but "id"}}
 * with every reason the spec names, zeros included.  The selftests parse
 * both; change them together.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

#define STAT_HELP							\
	"Prints the statistics of each vCPU of the VM NAME and their total:\n" \
	"hardware exits (and by reason), exits to user space, nested page\n" \
	"faults on RAM, injected events, and the time spent running\n"	\
	"(in RINGVM_RUN) and halted (from a HLT exit to the next run), in\n" \
	"nanoseconds; and the world-switch work around the entries: VMCS\n" \
	"loads and clears (VMX), saves of the host's state (SVM), and MSR\n" \
	"writes between the host's and the guest's values, and L1D flushes\n" \
	"before entries (VMX, L1TF).  Counters start\n" \
	"when a vCPU is created and go with it.\n\n" \
	"options:\n"							\
	"  -j, --json   print one JSON object instead of text\n"	\
	"  -h, --help   show this help\n"

/* The counters after "exits" and its reasons, in the order shown. */
static const struct {
	const char *name;	/* text */
	const char *json;
	size_t offset;
} stat_rows[] = {
#define STAT_ROW(name, field) \
	{ name, #field, offsetof(struct ringvm_nl_vcpu_stats, field) }
	STAT_ROW("user-exits", user_exits),
	STAT_ROW("nested-page-faults", nested_page_faults),
	STAT_ROW("injected-events", injected_events),
	STAT_ROW("run-ns", run_ns),
	STAT_ROW("halt-ns", halt_ns),
	STAT_ROW("vmcs-loads", vmcs_loads),
	STAT_ROW("vmcs-clears", vmcs_clears),
	STAT_ROW("host-state-saves", host_state_saves),
	STAT_ROW("msr-switches", msr_switches),
	STAT_ROW("l1d-flushes", l1d_flushes),
#undef STAT_ROW
};

static __u64 stat_row(const struct ringvm_nl_vcpu_stats *st, unsigned int i)
{
	return *(const __u64 *)((const char *)st + stat_rows[i].offset);
}

void vmctl_stats_add(struct ringvm_nl_vcpu_stats *sum,
		     const struct ringvm_nl_vcpu_stats *st)
{
	unsigned int i;

	sum->exits += st->exits;
	for (i = 0; i <= RINGVM_A_EXIT_REASONS_MAX; i++)
		sum->exit_reasons[i] += st->exit_reasons[i];
	for (i = 0; i < ARRAY_SIZE(stat_rows); i++)
		*(__u64 *)((char *)sum + stat_rows[i].offset) +=
			stat_row(st, i);
}

struct stat_state {
	struct ringvm_nl_vcpu_stats *vcpus;
	unsigned int n, cap;
};

static int stat_one(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct stat_state *s = arg;
	struct ringvm_nl_vcpu_stats *v;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		v = realloc(s->vcpus, s->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->vcpus = v;
	}
	s->vcpus[s->n++] = *st;
	return 0;
}

static void stat_text_row(const struct stat_state *s,
			  const struct ringvm_nl_vcpu_stats *total,
			  const char *label, size_t offset)
{
	unsigned int i;

	printf("%-22s", label);
	for (i = 0; i < s->n; i++)
		printf(" %14llu", *(const unsigned long long *)
		       ((const char *)&s->vcpus[i] + offset));
	printf(" %14llu\n", *(const unsigned long long *)
	       ((const char *)total + offset));
}

static void stat_text(const struct stat_state *s,
		      const struct ringvm_nl_vcpu_stats *total)
{
	char label[32];
	unsigned int i;
	const char *name;

	printf("VM %u %s: %u vCPU%s\n%-22s", total->vm_id, total->vm_name,
	       s->n, s->n == 1 ? "" : "s", "");
	for (i = 0; i < s->n; i++) {
		snprintf(label, sizeof(label), "vcpu%u", s->vcpus[i].vcpu_id);
		printf(" %14s", label);
	}
	printf(" %14s\n", "total");
	stat_text_row(s, total, "exits",
		      offsetof(struct ringvm_nl_vcpu_stats, exits));
	for (i = 1; i <= RINGVM_A_EXIT_REASONS_MAX; i++) {
		name = ringvm_exit_stat_name(i);
		if (!name)
			continue;
		snprintf(label, sizeof(label), "  %s", name);
		stat_text_row(s, total, label,
			      offsetof(struct ringvm_nl_vcpu_stats,
				       exit_reasons[i]));
	}
	for (i = 0; i < ARRAY_SIZE(stat_rows); i++)
		stat_text_row(s, total, stat_rows[i].name, stat_rows[i].offset);
}

/* The members of one vCPU's (or the total's) object, after "id". */
static void stat_json_members(const struct ringvm_nl_vcpu_stats *st)
{
	const char *name, *sep = "";
	unsigned int i;

	printf("\"exits\": %llu, \"exit_reasons\": {",
	       (unsigned long long)st->exits);
	for (i = 1; i <= RINGVM_A_EXIT_REASONS_MAX; i++) {
		name = ringvm_exit_stat_name(i);
		if (!name)
			continue;
		printf("%s\"%s\": %llu", sep, name,
		       (unsigned long long)st->exit_reasons[i]);
		sep = ", ";
	}
	printf("}");
	for (i = 0; i < ARRAY_SIZE(stat_rows); i++)
		printf(", \"%s\": %llu", stat_rows[i].json,
		       (unsigned long long)stat_row(st, i));
}

static void stat_json(const struct stat_state *s,
		      const struct ringvm_nl_vcpu_stats *total)
{
	unsigned int i;

	printf("{\n\t\"vm\": {\"id\": %u, \"name\": ", total->vm_id);
	vmctl_json_str(stdout, total->vm_name);
	printf("},\n\t\"vcpus\": [");
	for (i = 0; i < s->n; i++) {
		printf("%s\n\t\t{\"id\": %u, ", i ? "," : "",
		       s->vcpus[i].vcpu_id);
		stat_json_members(&s->vcpus[i]);
		printf("}");
	}
	printf("%s],\n\t\"total\": {", s->n ? "\n\t" : "");
	stat_json_members(total);
	printf("}\n}\n");
}

static int stat_run(int argc, char **argv)
{
	const struct vmctl_cmd *cmd = &vmctl_cmd_stat;
	struct ringvm_nl_vcpu_stats total = { };
	struct stat_state s = { };
	struct ringvm_nl_vm vm;
	struct ringvm_nl *nl;
	const char *name;
	bool json = false;
	unsigned int i;
	char what[64];
	int ret;

	ret = vmctl_json_opts(cmd, argc, argv, &json, &name);
	if (ret >= 0)
		return ret;

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "stat %.32s", name);
	/* The VM itself first: its id and name, even without a vCPU. */
	ret = __ringvm_nl_vm_get(nl, 0, name, &vm);
	if (!ret)
		ret = __ringvm_nl_vcpu_stats_dump(nl, vm.id, NULL, stat_one,
						  &s);
	if (ret == -ENOENT)
		ret = vmctl_fail("%s: no such VM", what);
	else if (ret < 0)
		ret = vmctl_nl_fail(nl, ret, what);
	ringvm_nl_close(nl);
	if (ret) {
		free(s.vcpus);
		return ret;
	}

	total.vm_id = vm.id;
	memcpy(total.vm_name, vm.name, sizeof(total.vm_name));
	for (i = 0; i < s.n; i++)
		vmctl_stats_add(&total, &s.vcpus[i]);
	if (json)
		stat_json(&s, &total);
	else
		stat_text(&s, &total);
	free(s.vcpus);
	return VMCTL_EXIT_OK;
}

const struct vmctl_cmd vmctl_cmd_stat = {
	.name = "stat",
	.args = "NAME [-j|--json]",
	.summary = "show the statistics of a VM's vCPUs",
	.help = STAT_HELP,
	.run = stat_run,
};
