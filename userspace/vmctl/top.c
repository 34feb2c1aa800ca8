// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl top: a live table of every VM's exits, like kvm_stat: the
 * vcpu-stats-get dump of all VMs every interval, summed per VM, with
 * each counter's total and its rate over the last interval.
 *
 * On a terminal, without --iterations, it redraws the screen until
 * interrupted.  Otherwise (output not a terminal, or --iterations N) it
 * prints N snapshots (1 when not given), one after each interval, one
 * after the other, and exits.  A snapshot:
 *
 *	vmctl top: 2 VMs, interval 1.00 s
 *
 *	VM 3 demo: 1 vCPU, run 99.8%, halt 0.0%
 *	  EVENT                        TOTAL        RATE/s
 *	  exits                        12345          1234
 *	  exit cpuid                    2000           200
 *	  ...
 *
 * run and halt are the vCPUs' run and halt time over the interval, as a
 * share of it (over 100% with several vCPUs, as top(1) shows threads).
 * "exits", "user-exits", "nested-page-faults" and "injected-events"
 * always have a row; a reason only once it has counted.  The rate of a
 * VM that was not in the previous sample is "-".  The selftests parse
 * this; change them together.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmctl.h"

#define TOP_HELP							\
	"Shows every VM's exits, by reason, and its other counters, with\n" \
	"their rates over each interval, refreshed like kvm_stat; VMs\n" \
	"without a vCPU are left out.  On a terminal it runs until\n"	\
	"interrupted; with --iterations, or when the output is not a\n" \
	"terminal, it prints that many snapshots (default 1) and exits.\n\n" \
	"options:\n"							\
	"  -d, --interval S     seconds between samples (default 1;\n"	\
	"                       0.1 to 3600, fractions allowed)\n"	\
	"  -n, --iterations N   print N snapshots and exit (1 to 1000000)\n" \
	"  -h, --help           show this help\n"

/* One VM in a sample: its vCPUs' counters summed. */
struct top_vm {
	struct ringvm_nl_vcpu_stats sum;	/* vm_id, vm_name set */
	unsigned int nr_vcpus;
};

struct top_sample {
	struct top_vm *vms;
	unsigned int n, cap;
	double t;			/* CLOCK_MONOTONIC, seconds */
};

static volatile sig_atomic_t top_stop;

static void top_sigint(int sig)
{
	(void)sig;
	top_stop = 1;
}

static double top_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The dump comes in VM id order: a vCPU of the last VM or a new one. */
static int top_one(const struct ringvm_nl_vcpu_stats *st, void *arg)
{
	struct top_sample *s = arg;
	struct top_vm *vm = s->n ? &s->vms[s->n - 1] : NULL;

	if (!vm || vm->sum.vm_id != st->vm_id) {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 8;
			vm = realloc(s->vms, s->cap * sizeof(*vm));
			if (!vm)
				return -ENOMEM;
			s->vms = vm;
		}
		vm = &s->vms[s->n++];
		memset(vm, 0, sizeof(*vm));
		vm->sum.vm_id = st->vm_id;
		memcpy(vm->sum.vm_name, st->vm_name, sizeof(vm->sum.vm_name));
	}
	vmctl_stats_add(&vm->sum, st);
	vm->nr_vcpus++;
	return 0;
}

static int top_sample(struct ringvm_nl *nl, struct top_sample *s)
{
	s->n = 0;
	s->t = top_now();
	return __ringvm_nl_vcpu_stats_dump(nl, 0, NULL, top_one, s);
}

static const struct top_vm *top_find(const struct top_sample *s, __u32 id)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->vms[i].sum.vm_id == id)
			return &s->vms[i];
	return NULL;
}

/* Counters only grow, but a closed vCPU takes its share away. */
static __u64 top_delta(__u64 now, __u64 before)
{
	return now > before ? now - before : 0;
}

static void top_row(const char *label, __u64 now, const __u64 *before,
		    double dt)
{
	printf("  %-24s %12llu ", label, (unsigned long long)now);
	if (before)
		printf("%13.0f\n", top_delta(now, *before) / dt);
	else
		printf("%13s\n", "-");
}

/* A u64 member of @vm's sum, or NULL when @vm is. */
#define TOP_PREV(vm, member)	((vm) ? &(vm)->sum.member : NULL)

static void top_print_vm(const struct top_vm *vm, const struct top_vm *prev,
			 double dt)
{
	const struct ringvm_nl_vcpu_stats *st = &vm->sum;
	const char *name;
	char label[40];
	unsigned int i;

	printf("VM %u %s: %u vCPU%s", st->vm_id, st->vm_name, vm->nr_vcpus,
	       vm->nr_vcpus == 1 ? "" : "s");
	if (prev)
		printf(", run %.1f%%, halt %.1f%%",
		       top_delta(st->run_ns, prev->sum.run_ns) / dt / 1e7,
		       top_delta(st->halt_ns, prev->sum.halt_ns) / dt / 1e7);
	printf("\n  %-24s %12s %13s\n", "EVENT", "TOTAL", "RATE/s");
	top_row("exits", st->exits, TOP_PREV(prev, exits), dt);
	for (i = 1; i <= RINGVM_A_EXIT_REASONS_MAX; i++) {
		name = ringvm_exit_stat_name(i);
		if (!name || !st->exit_reasons[i])
			continue;
		snprintf(label, sizeof(label), "exit %s", name);
		top_row(label, st->exit_reasons[i],
			TOP_PREV(prev, exit_reasons[i]), dt);
	}
	top_row("user-exits", st->user_exits, TOP_PREV(prev, user_exits), dt);
	top_row("nested-page-faults", st->nested_page_faults,
		TOP_PREV(prev, nested_page_faults), dt);
	top_row("injected-events", st->injected_events,
		TOP_PREV(prev, injected_events), dt);
}

static void top_print(const struct top_sample *cur,
		      const struct top_sample *prev, bool redraw)
{
	double dt = cur->t - prev->t;
	unsigned int i;

	if (dt <= 0)
		dt = 1e-9;
	if (redraw)
		printf("\033[H\033[2J");
	printf("vmctl top: %u VM%s, interval %.2f s\n", cur->n,
	       cur->n == 1 ? "" : "s", dt);
	for (i = 0; i < cur->n; i++) {
		putchar('\n');
		top_print_vm(&cur->vms[i],
			     top_find(prev, cur->vms[i].sum.vm_id), dt);
	}
	fflush(stdout);
}

/* Sleep @secs unless SIGINT comes first. */
static void top_sleep(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (time_t)secs) * 1e9),
	};

	while (!top_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int top_opts(int argc, char **argv, double *interval,
		    unsigned long *iterations)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct vmctl_cmd *cmd = &vmctl_cmd_top;
	char *end;
	__u64 n;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			*interval = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(*interval >= 0.1 && *interval <= 3600))
				return vmctl_usage_error(cmd,
					"bad interval '%s' (0.1 to 3600 s)",
					optarg);
			break;
		case 'n':
			if (!vmctl_parse_u64(optarg, 1000000, &n) || !n)
				return vmctl_usage_error(cmd,
					"bad iteration count '%s' (1 to 1000000)",
					optarg);
			*iterations = n;
			break;
		case 'h':
			vmctl_cmd_usage(cmd, stdout);
			return VMCTL_EXIT_OK;
		default:
			return vmctl_bad_option(cmd, argv, c);
		}
	}
	if (optind < argc)
		return vmctl_usage_error(cmd, "unexpected argument '%s'",
					 argv[optind]);
	return -1;
}

static int top_run(int argc, char **argv)
{
	struct top_sample a = { }, b = { }, *prev = &a, *cur = &b, *t;
	struct sigaction sa = { .sa_handler = top_sigint };
	unsigned long iterations = 0, i;
	struct ringvm_nl *nl;
	double interval = 1;
	bool live;
	int ret;

	ret = top_opts(argc, argv, &interval, &iterations);
	if (ret >= 0)
		return ret;
	live = !iterations && isatty(STDOUT_FILENO);
	if (!iterations)
		iterations = 1;

	ret = vmctl_nl_open(&nl);
	if (ret)
		return ret;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = top_sample(nl, prev);
	for (i = 0; !ret && !top_stop && (live || i < iterations); i++) {
		top_sleep(interval);
		if (top_stop)
			break;
		ret = top_sample(nl, cur);
		if (ret)
			break;
		if (i && !live)
			putchar('\n');
		top_print(cur, prev, live);
		t = prev;
		prev = cur;
		cur = t;
	}
	if (ret < 0)
		ret = vmctl_nl_fail(nl, ret, "top (vcpu-stats-get dump)");
	ringvm_nl_close(nl);
	free(a.vms);
	free(b.vms);
	return ret;
}

const struct vmctl_cmd vmctl_cmd_top = {
	.name = "top",
	.args = "[-d|--interval S] [-n|--iterations N]",
	.summary = "show every VM's exits and their rates, live",
	.help = TOP_HELP,
	.run = top_run,
};
