// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest helpers: paths, module state, running programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/wait.h>

#include "test_util.h"

const char *ringvm_ko_path(void)
{
	const char *p = getenv("RINGVM_KO");

	return p && p[0] ? p : "/ringvm/ringvm.ko";
}

const char *ringvm_vmctl_path(void)
{
	const char *p = getenv("RINGVM_VMCTL");

	return p && p[0] ? p : "/ringvm/vmctl";
}

bool ringvm_env_forces(const char *name)
{
	const char *p = getenv(name);

	return p && !strcmp(p, "1");
}

int ringvm_ensure_loaded(void)
{
	if (ringvm_module_loaded(RINGVM_MODULE_NAME))
		return 0;
	return __ringvm_load(ringvm_ko_path());
}

int ringvm_ensure_unloaded(void)
{
	if (!ringvm_module_loaded(RINGVM_MODULE_NAME))
		return 0;
	return __ringvm_unload();
}

/* No change of user: run_prog(). */
#define SAME_ID		((uid_t)-1)

/* The child's half of run_prog_as(): never returns. */
static void run_child(char *const argv[], uid_t uid, gid_t gid, int out,
		      int err)
{
	int in = open("/dev/null", O_RDONLY);

	/*
	 * Not the test's stdin (the test machine's console): vmctl run
	 * would read it and make it a raw terminal.
	 */
	if (in < 0 || dup2(in, STDIN_FILENO) < 0 ||
	    dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	if (uid != SAME_ID &&
	    (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	     setresuid(uid, uid, uid))) {
		dprintf(STDERR_FILENO, "become %u:%u: %s\n", (unsigned int)uid,
			(unsigned int)gid, strerror(errno));
		_exit(127);
	}
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Append what is readable on @fd to @buf; false at EOF or error. */
static bool drain(int fd, char *buf, size_t size, size_t *used)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	size_t room = size - 1 - *used;

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if ((size_t)n < room)
		room = n;
	memcpy(buf + *used, tmp, room);
	*used += room;
	buf[*used] = '\0';
	return true;
}

/* Read both pipes until both are closed, so neither can fill up. */
static void collect(int out, int err, struct run_result *res)
{
	struct pollfd pfd[2] = {
		{ .fd = out, .events = POLLIN },
		{ .fd = err, .events = POLLIN },
	};
	size_t used[2] = { 0, 0 };

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents &&
		    !drain(out, res->out, sizeof(res->out), &used[0]))
			pfd[0].fd = -1;
		if (pfd[1].revents &&
		    !drain(err, res->err, sizeof(res->err), &used[1]))
			pfd[1].fd = -1;
	}
}

int run_prog_as(char *const argv[], uid_t uid, gid_t gid,
		struct run_result *res)
{
	int out[2], err[2], status, ret = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		ret = -errno;
		goto close_out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto close_err;
	}
	if (pid == 0)
		run_child(argv, uid, gid, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	collect(out[0], err[0], res);
	if (waitpid(pid, &status, 0) < 0)
		ret = -errno;
	else if (WIFEXITED(status))
		res->status = WEXITSTATUS(status);
	else
		res->status = 128 + WTERMSIG(status);
close_err:
	close(err[0]);
	if (err[1] >= 0)
		close(err[1]);
close_out:
	close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	return ret;
}

int run_prog(char *const argv[], struct run_result *res)
{
	return run_prog_as(argv, SAME_ID, SAME_ID, res);
}

int run_vmctl(struct run_result *res, ...)
{
	char *argv[16] = { (char *)ringvm_vmctl_path() };
	unsigned int n = 1;
	va_list ap;

	va_start(ap, res);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_prog(argv, res);
}

int run_typing(const char *cmd, const char *prompt, const char *input,
	       struct run_result *res)
{
	char script[4096];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	int n;

	/*
	 * grep -s: the command's shell opens $d/out only after the FIFO,
	 * so the first look may come before the file exists.
	 */
	if (!input)
		n = snprintf(script, sizeof(script), "%s </dev/null", cmd);
	else
		n = snprintf(script, sizeof(script),
			     "d=$(mktemp -d) || exit 99; mkfifo $d/in; "
			     "%s <$d/in >$d/out 2>$d/err & pid=$!; "
			     "trap '' PIPE; exec 3>$d/in; "
			     "n=0; until grep -qs '%s' $d/out || [ $n -ge 1200 ] || "
			     "! kill -0 $pid 2>/dev/null; "
			     "do sleep 0.1; n=$((n + 1)); done; "
			     "printf '%s' >&3 || true; exec 3>&-; wait $pid; st=$?; "
			     "cat $d/out; cat $d/err >&2; rm -rf $d; exit $st",
			     cmd, prompt, input);
	if (n < 0 || (size_t)n >= sizeof(script))
		return -E2BIG;
	return run_prog(argv, res);
}

int modprobe(const char *name)
{
	char *argv[] = { "modprobe", (char *)name, NULL };
	struct run_result res;
	int ret;

	/* busybox installs modprobe in /sbin, which PATH may lack. */
	if (access("/sbin/modprobe", X_OK) == 0)
		argv[0] = "/sbin/modprobe";
	ret = run_prog(argv, &res);
	if (ret < 0)
		return ret;
	if (res.status)
		fprintf(stderr, "# modprobe %s: exit %d: %.*s\n", name,
			res.status, (int)strcspn(res.err, "\n"), res.err);
	return res.status;
}
