/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmctl: the ringvm command-line tool.  A table of subcommands, one file
 * each; commands.h lists them.  To add one, write NAME.c defining
 * "const struct vmctl_cmd vmctl_cmd_NAME" and add VMCTL_CMD(NAME) to
 * commands.h; the Makefile picks up every .c file.
 */
#ifndef _VMCTL_H
#define _VMCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "libringvm.h"

/* Exit codes: 0 done, 1 failed, 2 bad command line. */
#define VMCTL_EXIT_OK		0
#define VMCTL_EXIT_FAIL		1
#define VMCTL_EXIT_USAGE	2

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct vmctl_cmd {
	const char *name;
	const char *args;	/* synopsis after the name: "[--json]" */
	const char *summary;	/* one line for "vmctl help" */
	const char *help;	/* options and details, or NULL */
	/* argv[0] is the command's name; returns a VMCTL_EXIT_* code. */
	int (*run)(int argc, char **argv);
};

#define VMCTL_CMD(name) extern const struct vmctl_cmd vmctl_cmd_##name;
#include "commands.h"
#undef VMCTL_CMD

/* "usage: vmctl NAME ARGS", the summary and the help, to @f. */
void vmctl_cmd_usage(const struct vmctl_cmd *cmd, FILE *f);

/*
 * For a getopt_long() loop run with opterr = 0: report the option getopt
 * returned '?' or ':' for, with @cmd's usage (vmctl's own if @cmd is NULL),
 * on stderr, and return VMCTL_EXIT_USAGE.
 */
int vmctl_bad_option(const struct vmctl_cmd *cmd, char **argv, int ret);

/* "vmctl NAME: MESSAGE" and its usage line on stderr; VMCTL_EXIT_USAGE. */
int vmctl_usage_error(const struct vmctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * After the options: exactly one argument left, the VM's name, in *@name.
 * Returns 0, or VMCTL_EXIT_USAGE after saying what is wrong.
 */
int vmctl_name_arg(const struct vmctl_cmd *cmd, int argc, char **argv,
		   const char **name);

/*
 * The command line of a command whose only options are -j/--json and
 * -h/--help: sets *json for --json.  With @name NULL it takes no arguments
 * (info, list, doctor); otherwise one, the VM's name (stat).  Returns -1
 * to go on, or the exit code when it printed the help or reported a bad
 * command line.
 */
int vmctl_json_opts(const struct vmctl_cmd *cmd, int argc, char **argv,
		    bool *json, const char **name);

/* "vmctl: MESSAGE" on stderr; VMCTL_EXIT_FAIL. */
int vmctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Open the generic netlink family; if that fails, say why on stderr (the
 * module not being loaded gets its own message) and return
 * VMCTL_EXIT_FAIL.  VMCTL_EXIT_OK with *nlp set otherwise.
 */
int vmctl_nl_open(struct ringvm_nl **nlp);

/*
 * The same for /dev/ringvm: the fd, or -1 after saying why on stderr
 * (the module not being loaded gets its own message).
 */
int vmctl_dev_open(void);

/*
 * "vmctl: WHAT: strerror[: extack]" for a failed netlink request, with
 * the message of @nl's last answer; VMCTL_EXIT_FAIL.
 */
int vmctl_nl_fail(struct ringvm_nl *nl, int err, const char *what);

/*
 * Parse a byte count: digits (decimal, or 0x hex) with an optional
 * suffix K, M, G or T (powers of 1024; KiB, MiB, ... and lower case
 * accepted).  false if it is not one, or overflows.  (util.c)
 */
bool vmctl_parse_size(const char *s, __u64 *out);

/* Parse a whole unsigned number (decimal, 0x hex, 0 octal) up to @max. */
bool vmctl_parse_u64(const char *s, __u64 max, __u64 *out);

/*
 * @bytes as the largest unit that divides it exactly: "16M", "4K",
 * "1536M", "100" (bytes).  Returns @buf; 24 bytes always suffice.
 */
char *vmctl_size_str(__u64 bytes, char *buf, size_t len);

/* Add @st's counters (not its ids) to @sum's: vmctl stat and top (stat.c). */
void vmctl_stats_add(struct ringvm_nl_vcpu_stats *sum,
		     const struct ringvm_nl_vcpu_stats *st);

/* @s as a JSON string, quoted, with '"', '\\' and control bytes escaped. */
void vmctl_json_str(FILE *f, const char *s);

/*
 * The 12-byte signature of CPUID 0x40000000 ("TCGTCGTCGTCG" under QEMU's
 * TCG) where CPUID says a hypervisor is there and it is printable, else
 * "" (util.c).
 */
void vmctl_hypervisor_signature(char sig[13]);

#endif /* _VMCTL_H */
