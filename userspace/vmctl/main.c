// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl: command line, dispatch to the subcommand table, help, and the
 * helpers every subcommand shares for reporting errors.
 *
 *   vmctl [-h|--help] COMMAND [ARGS]
 *   vmctl help [COMMAND]
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

static const struct vmctl_cmd *const vmctl_cmds[] = {
#define VMCTL_CMD(name) &vmctl_cmd_##name,
#include "commands.h"
#undef VMCTL_CMD
};

#define NR_CMDS	ARRAY_SIZE(vmctl_cmds)

static const struct vmctl_cmd *vmctl_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(vmctl_cmds[i]->name, name))
			return vmctl_cmds[i];
	return NULL;
}

static void vmctl_usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: vmctl [-h|--help] COMMAND [ARGS]\n"
		   "       vmctl help [COMMAND]\n\n"
		   "Control the ringvm hypervisor.\n\ncommands:\n");
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-10s %s\n", vmctl_cmds[i]->name,
			vmctl_cmds[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "show this, or a command's help");
	fprintf(f, "\nExit status: 0 done, 1 failed, 2 bad command line"
		   " ('vmctl help run' for run's).\n");
}

/* "vmctl: MESSAGE" and the general usage on stderr; VMCTL_EXIT_USAGE. */
static int __attribute__((format(printf, 1, 2)))
vmctl_usage_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n");
	vmctl_usage(stderr);
	return VMCTL_EXIT_USAGE;
}

void vmctl_cmd_usage(const struct vmctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: vmctl %s %s\n\n%s\n", cmd->name, cmd->args,
		cmd->summary);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
}

int vmctl_usage_error(const struct vmctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmctl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: vmctl %s %s\n(see 'vmctl help %s')\n",
		cmd->name, cmd->args, cmd->name);
	return VMCTL_EXIT_USAGE;
}

int vmctl_bad_option(const struct vmctl_cmd *cmd, char **argv, int ret)
{
	const char *what = ret == ':' ? "missing argument for" :
					"unknown option";
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *opt = optopt ? shortopt : argv[optind - 1];

	if (cmd)
		return vmctl_usage_error(cmd, "%s '%s'", what, opt);
	return vmctl_usage_fail("%s '%s'", what, opt);
}

int vmctl_name_arg(const struct vmctl_cmd *cmd, int argc, char **argv,
		   const char **name)
{
	if (optind >= argc)
		return vmctl_usage_error(cmd, "no VM name given");
	if (optind + 1 < argc)
		return vmctl_usage_error(cmd, "unexpected argument '%s'",
					 argv[optind + 1]);
	*name = argv[optind];
	return 0;
}

int vmctl_json_opts(const struct vmctl_cmd *cmd, int argc, char **argv,
		    bool *json, const char **name)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			vmctl_cmd_usage(cmd, stdout);
			return VMCTL_EXIT_OK;
		default:
			return vmctl_bad_option(cmd, argv, c);
		}
	}
	if (name)
		return vmctl_name_arg(cmd, argc, argv, name) ?: -1;
	if (optind < argc)
		return vmctl_usage_error(cmd, "unexpected argument '%s'",
					 argv[optind]);
	return -1;
}

int vmctl_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VMCTL_EXIT_FAIL;
}

int vmctl_nl_open(struct ringvm_nl **nlp)
{
	int ret = __ringvm_nl_open(nlp);

	if (ret == -ENOENT)
		return vmctl_fail("ringvm module not loaded (insmod ringvm.ko)");
	if (ret < 0)
		return vmctl_fail("generic netlink family %s: %s",
				  RINGVM_FAMILY_NAME, strerror(-ret));
	return VMCTL_EXIT_OK;
}

int vmctl_dev_open(void)
{
	int fd = __ringvm_open();

	if (fd == -ENOENT)
		vmctl_fail("ringvm module not loaded (insmod ringvm.ko)");
	else if (fd < 0)
		vmctl_fail("open %s: %s", RINGVM_DEV_PATH, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

int vmctl_nl_fail(struct ringvm_nl *nl, int err, const char *what)
{
	const char *extack = ringvm_nl_extack(nl);

	return vmctl_fail("%s: %s%s%s", what, strerror(-err),
			  extack[0] ? ": " : "", extack);
}

/* vmctl help [COMMAND] */
static int vmctl_help(int argc, char **argv)
{
	const struct vmctl_cmd *cmd;

	if (argc < 2) {
		vmctl_usage(stdout);
		return VMCTL_EXIT_OK;
	}
	if (argc > 2)
		return vmctl_usage_fail("help takes one command");
	cmd = vmctl_find(argv[1]);
	if (!cmd)
		return vmctl_usage_fail("unknown command '%s'", argv[1]);
	vmctl_cmd_usage(cmd, stdout);
	return VMCTL_EXIT_OK;
}

static int vmctl_global_opts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	opterr = 0;
	/* '+': options after COMMAND belong to COMMAND. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			vmctl_usage(stdout);
			return VMCTL_EXIT_OK;
		}
		return vmctl_bad_option(NULL, argv, c);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct vmctl_cmd *cmd;
	int ret;

	ret = vmctl_global_opts(argc, argv);
	if (ret >= 0)
		return ret;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return vmctl_usage_fail("no command given");
	if (!strcmp(argv[0], "help"))
		return vmctl_help(argc, argv);
	cmd = vmctl_find(argv[0]);
	if (!cmd)
		return vmctl_usage_fail("unknown command '%s'", argv[0]);
	/* Each command parses its own options from scratch. */
	optind = 0;
	return cmd->run(argc, argv);
}
