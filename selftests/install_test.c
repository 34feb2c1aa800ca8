// SPDX-License-Identifier: GPL-2.0
/*
 * install_test: what the Debian packages set up, checked in the test
 * machine.
 *
 *  1. The udev rule the vmctl package ships (userspace/udev/60-ringvm.rules,
 *     installed next to this binary by "make -C selftests install").  The
 *     test machine has no udev, so the test reads GROUP and MODE from the
 *     rule and applies them as udev would; a wrong rule fails here.  Then
 *     a user in that group, and only such a user, opens /dev/ringvm and
 *     runs an anonymous VM; named VMs over netlink still need
 *     CAP_NET_ADMIN (vm-new and vm-del: EPERM), which root has.
 *  2. The module dkms built from the ringvm-dkms package (make dkms-check;
 *     the runner ships it as /ringvm/dkms/ringvm.ko): of the same sources
 *     as /ringvm/ringvm.ko, for the same kernel, signed by dkms; it loads
 *     and runs a guest.
 *  3. Both packages installed (run.sh --dkms ships what they install):
 *     the DKMS-built module in lib/modules/RELEASE/updates/dkms with
 *     modules.dep made again, so that "modprobe ringvm" loads it; the
 *     rule from the vmctl package applied to the node it makes; the
 *     package's vmctl doctor, which said to modprobe it, then exits 0
 *     for root and for a member of the group, 1 for others; "modprobe -r
 *     ringvm" unloads it.
 *
 * The group has no name here (busybox, no /etc/group): RINGVM_GID stands
 * for the number addgroup --system gives "ringvm" on a real install.
 * Named VMs are called GUEST_TEST_VM_PREFIX-something.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "guest.h"

#define RULE_NAME	"60-ringvm.rules"
#define RINGVM_GID	990	/* the group "ringvm" */
#define USER_ID		1000	/* an ordinary user, group 1000 */
#define VM_ROOT		GUEST_TEST_VM_PREFIX "install-root"
#define VM_USER		GUEST_TEST_VM_PREFIX "install-user"
#define SYNC_MAGIC	0x7269

static const struct ringvm_mem_region one_region = { 0, 0x10000 };

/* 1. The udev rule */

/* What the rule for the ringvm node says. */
struct dev_rule {
	char group[64];
	mode_t mode;
};

/* $RINGVM_UDEV_RULE, else 60-ringvm.rules beside this binary. */
static const char *rule_path(char *buf, size_t len)
{
	const char *env = getenv("RINGVM_UDEV_RULE");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return RULE_NAME;
	exe[n] = 0;
	snprintf(buf, len, "%s/%s", dirname(exe), RULE_NAME);
	return buf;
}

/*
 * One udev key of @line at *@pos: KEY{attr}OP"value", then a comma or the
 * end.  0 with the parts filled in, -EINVAL if it is not a key.
 */
static int rule_key(const char *line, size_t *pos, char *key, size_t klen,
		    char *op, char *val, size_t vlen)
{
	const char *p = line + *pos, *q;
	size_t n;

	while (isspace((unsigned char)*p) || *p == ',')
		p++;
	for (q = p; isalnum((unsigned char)*q) || *q == '_' || *q == '{' ||
	     *q == '}'; q++)
		;
	n = q - p;
	if (!n || n >= klen)
		return -EINVAL;
	memcpy(key, p, n);
	key[n] = 0;
	n = strspn(q, "=!+-:");
	if (!n || n > 2)
		return -EINVAL;
	memcpy(op, q, n);
	op[n] = 0;
	q += n;
	if (*q++ != '"')
		return -EINVAL;
	p = strchr(q, '"');
	if (!p || (size_t)(p - q) >= vlen)
		return -EINVAL;
	memcpy(val, q, p - q);
	val[p - q] = 0;
	*pos = p + 1 - line;
	return 0;
}

/*
 * Parse the rule file: exactly one rule matches KERNEL=="ringvm" (with
 * SUBSYSTEM=="misc" if it names one) and assigns GROUP and MODE, and no
 * rule assigns OWNER.  0 with @out filled, -ENOENT if the file is missing,
 * -EINVAL with a line on stderr for anything else.
 */
static int parse_rule(const char *path, struct dev_rule *out)
{
	char line[512], key[64], op[4], val[64];
	int found = 0, ln = 0, bad = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		bool ours = false, misc = true;
		struct dev_rule r = { "", 0 };
		size_t pos = 0;
		char *end;

		ln++;
		line[strcspn(line, "\n")] = 0;
		if (line[strspn(line, " \t")] == '#' ||
		    !line[strspn(line, " \t")])
			continue;
		while (line[pos + strspn(line + pos, " \t,")]) {
			if (rule_key(line, &pos, key, sizeof(key), op, val,
				     sizeof(val))) {
				fprintf(stderr, "%s:%d: not a udev key\n", path,
					ln);
				bad = 1;
				break;
			}
			if (!strcmp(key, "KERNEL") && !strcmp(op, "==")) {
				ours = !strcmp(val, RINGVM_DEV_NAME);
			} else if (!strcmp(key, "SUBSYSTEM") &&
				   !strcmp(op, "==")) {
				misc = !strcmp(val, "misc");
			} else if (!strcmp(key, "GROUP") && !strcmp(op, "=")) {
				snprintf(r.group, sizeof(r.group), "%s", val);
			} else if (!strcmp(key, "MODE") && !strcmp(op, "=")) {
				r.mode = strtoul(val, &end, 8);
				if (*end || !*val || r.mode > 07777)
					bad = 1;
			} else if (!strcmp(key, "OWNER")) {
				fprintf(stderr, "%s:%d: OWNER\n", path, ln);
				bad = 1;
			}
		}
		if (ours && misc) {
			*out = r;
			found++;
		}
	}
	fclose(f);
	if (bad || found != 1 || !out->group[0] || !out->mode) {
		if (!bad)
			fprintf(stderr, "%s: %d rules for %s with GROUP and MODE\n",
				path, found, RINGVM_DEV_NAME);
		return -EINVAL;
	}
	return 0;
}

FIXTURE(install) {
	struct ringvm_nl *nl;
	struct stat dev;	/* /dev/ringvm as the module made it */
	bool applied;
};

FIXTURE_SETUP(install)
{
	int ret = ringvm_ensure_loaded();

	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", ringvm_ko_path(),
				 strerror(-ret));
	ret = __ringvm_nl_open(&self->nl);
	ASSERT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &self->dev));
}

FIXTURE_TEARDOWN(install)
{
	struct ringvm_nl_vm v;

	if (self->applied &&
	    (chown(RINGVM_DEV_PATH, self->dev.st_uid, self->dev.st_gid) ||
	     chmod(RINGVM_DEV_PATH, self->dev.st_mode & 07777)))
		TH_LOG("restoring %s: %s", RINGVM_DEV_PATH, strerror(errno));
	if (self->nl) {
		if (!__ringvm_nl_vm_get(self->nl, 0, VM_ROOT, &v))
			__ringvm_nl_vm_del(self->nl, v.id, NULL);
		ringvm_nl_close(self->nl);
	}
}

/*
 * Read rule file @path (NULL: the shipped rule) and do to /dev/ringvm what
 * udev would.
 */
static void apply_rule(struct __test_metadata *_metadata,
		       FIXTURE_DATA(install) *self, const char *path)
{
	struct dev_rule r;
	struct stat st;
	char buf[PATH_MAX];
	int ret;

	if (!path)
		path = rule_path(buf, sizeof(buf));
	ret = parse_rule(path, &r);

	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	/* As /dev/kvm is root:kvm 0660. */
	ASSERT_STREQ("ringvm", r.group);
	ASSERT_EQ(0660, r.mode) TH_LOG("MODE=\"%04o\"", r.mode);
	self->applied = true;
	ASSERT_EQ(0, chown(RINGVM_DEV_PATH, 0, RINGVM_GID));
	ASSERT_EQ(0, chmod(RINGVM_DEV_PATH, r.mode));
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	ASSERT_EQ(0660, st.st_mode & 07777);
}

/* What the unprivileged child found wrong: its exit status. */
enum {
	CHILD_OK, CHILD_SETUP, CHILD_CAPS, CHILD_OPEN, CHILD_OPEN_NOT_EACCES,
	CHILD_VM, CHILD_RUN, CHILD_GUEST, CHILD_NL, CHILD_NEW, CHILD_DEL,
	CHILD_OPEN_ROOTS, CHILD_MAX
};

static const char *const child_what[CHILD_MAX] = {
	[CHILD_OK] = "ok",
	[CHILD_SETUP] = "could not become the user",
	[CHILD_CAPS] = "still has capabilities as the user",
	[CHILD_OPEN] = "could not open /dev/ringvm",
	[CHILD_OPEN_NOT_EACCES] = "opening /dev/ringvm was not EACCES",
	[CHILD_VM] = "could not create an anonymous guest VM",
	[CHILD_RUN] = "RINGVM_RUN failed",
	[CHILD_GUEST] = "the guest did not reach its GUEST_SYNC",
	[CHILD_NL] = "could not open the netlink family",
	[CHILD_NEW] = "vm-new was not EPERM",
	[CHILD_DEL] = "vm-del of root's named VM was not EPERM",
	[CHILD_OPEN_ROOTS] = "RINGVM_OPEN_VM of root's VM was not ENOENT",
};

/* Whether the "@field:" line of /proc/self/status is all zeros. */
static bool status_zero(const char *field)
{
	size_t len = strlen(field);
	bool zero = false;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			zero = strspn(line + len + 1, "\t0") ==
			       strcspn(line + len + 1, "\n");
	fclose(f);
	return zero;
}

/* Become USER_ID, in group RINGVM_GID as well if @member; no caps. */
static int become_user(bool member)
{
	gid_t g = RINGVM_GID;

	if (setgroups(member ? 1 : 0, &g) ||
	    setresgid(USER_ID, USER_ID, USER_ID) ||
	    setresuid(USER_ID, USER_ID, USER_ID) || geteuid() != USER_ID)
		return CHILD_SETUP;
	if (!status_zero("CapEff") || !status_zero("CapPrm") ||
	    !status_zero("CapAmb"))
		return CHILD_CAPS;
	return CHILD_OK;
}

static void guest_code(void)
{
	GUEST_SYNC(SYNC_MAGIC);
	GUEST_DONE();
}

/* Child: a member of the group runs an anonymous VM to its GUEST_SYNC. */
static int member_runs_vm(void)
{
	struct test_vcpu *vcpu;
	struct test_vm *vm;
	struct ucall uc;
	int fd, ret = become_user(true);

	if (ret)
		return ret;
	fd = __ringvm_open();
	if (fd < 0)
		return CHILD_OPEN;
	close(fd);
	if (__vm_create_guest(&vm, &vcpu, guest_code))
		return CHILD_VM;
	if (__vcpu_run(vcpu))
		return CHILD_RUN;
	if (get_ucall(vcpu, &uc) != UCALL_SYNC || uc.nargs != 1 ||
	    uc.args[0] != SYNC_MAGIC)
		return CHILD_GUEST;
	vm_destroy(vm);
	return CHILD_OK;
}

/* Child: without the group, /dev/ringvm does not open. */
static int other_refused(void)
{
	int fd, ret = become_user(false);

	if (ret)
		return ret;
	fd = __ringvm_open();
	if (fd >= 0)
		return CHILD_OPEN;
	return fd == -EACCES ? CHILD_OK : CHILD_OPEN_NOT_EACCES;
}

/* Child: a member of the group still makes and deletes no named VM. */
static int member_no_named_vms(__u32 root_vm)
{
	struct ringvm_nl *nl;
	int fd, ret = become_user(true);

	if (ret)
		return ret;
	fd = __ringvm_open();
	if (fd < 0)
		return CHILD_OPEN;
	if (__ringvm_nl_open(&nl))
		return CHILD_NL;
	if (__ringvm_nl_vm_new(nl, VM_USER, &one_region, 1, 1, NULL) !=
	    -EPERM)
		return CHILD_NEW;
	if (__ringvm_nl_vm_del(nl, root_vm, NULL) != -EPERM ||
	    __ringvm_nl_vm_del(nl, 0, VM_ROOT) != -EPERM)
		return CHILD_DEL;
	if (__ringvm_open_vm(fd, root_vm, NULL) != -ENOENT)
		return CHILD_OPEN_ROOTS;
	ringvm_nl_close(nl);
	close(fd);
	return CHILD_OK;
}

/* Fork, run @fn(@arg) in the child, and expect CHILD_OK. */
#define EXPECT_CHILD_OK(fn, ...)					\
	do {								\
		int __st;						\
		pid_t __pid;						\
									\
		fflush(NULL);						\
		__pid = fork();						\
		ASSERT_LE(0, __pid);					\
		if (__pid == 0)						\
			_exit(fn(__VA_ARGS__));				\
		ASSERT_EQ(__pid, waitpid(__pid, &__st, 0));		\
		ASSERT_TRUE(WIFEXITED(__st));				\
		EXPECT_EQ(CHILD_OK, WEXITSTATUS(__st))			\
			TH_LOG("uid %d: %s", USER_ID,			\
			       WEXITSTATUS(__st) < CHILD_MAX ?		\
			       child_what[WEXITSTATUS(__st)] : "?");	\
	} while (0)

/*
 * Without the package's rule the module's node is root's alone; the rule
 * makes it root:ringvm 0660.
 */
TEST_F(install, udev_rule)
{
	struct stat st;

	EXPECT_EQ(0600, self->dev.st_mode & 07777);
	EXPECT_EQ(0, self->dev.st_uid);
	EXPECT_EQ(0, self->dev.st_gid);
	apply_rule(_metadata, self, NULL);
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(RINGVM_GID, st.st_gid);
}

TEST_F(install, group_member_runs_vm)
{
	apply_rule(_metadata, self, NULL);
	EXPECT_CHILD_OK(member_runs_vm);
}

TEST_F(install, others_refused)
{
	apply_rule(_metadata, self, NULL);
	EXPECT_CHILD_OK(other_refused);
}

TEST_F(install, named_vms_need_cap_net_admin)
{
	struct ringvm_nl_vm v, g;
	int ret;

	apply_rule(_metadata, self, NULL);
	ret = __ringvm_nl_vm_new(self->nl, VM_ROOT, &one_region, 1, 1, &v);
	ASSERT_EQ(0, ret) TH_LOG("root's vm-new: %s: %s", strerror(-ret),
				 ringvm_nl_extack(self->nl));
	EXPECT_CHILD_OK(member_no_named_vms, v.id);
	/* nothing changed, and root may delete */
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, 0, VM_USER, &g));
	ASSERT_EQ(0, __ringvm_nl_vm_get(self->nl, v.id, NULL, &g));
	EXPECT_STREQ(VM_ROOT, g.name);
	EXPECT_EQ(0, __ringvm_nl_vm_del(self->nl, v.id, NULL));
	EXPECT_EQ(-ENOENT, __ringvm_nl_vm_get(self->nl, v.id, NULL, &g));
}

/* 2. The DKMS-built module */

#define DKMS_KO		"/ringvm/dkms/ringvm.ko"
#define SIG_MARKER	"~Module signature appended~\n"

/* The file @path into a malloc'd buffer: its size, or -errno. */
static ssize_t read_file(const char *path, char **bufp)
{
	struct stat st;
	ssize_t n = 0, r;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !st.st_size) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size + 1);
	while (buf && n < st.st_size) {
		r = read(fd, buf + n, st.st_size - n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (!buf || n != st.st_size) {
		free(buf);
		return -EIO;
	}
	buf[n] = 0;
	*bufp = buf;
	return n;
}

/* The value of "@tag=" in the module's .modinfo strings, or NULL. */
static const char *modinfo(const char *ko, size_t len, const char *tag)
{
	size_t tlen = strlen(tag);
	const char *p;

	for (p = ko; p + tlen + 1 < ko + len; p++) {
		p = memchr(p, tag[0], ko + len - p - tlen - 1);
		if (!p)
			return NULL;
		/* a string of its own: NUL before, "tag=" */
		if (p > ko && !p[-1] && !memcmp(p, tag, tlen) && p[tlen] == '=')
			return p + tlen + 1;
	}
	return NULL;
}

TEST_F(install, dkms_module_loads)
{
	static const char *const tags[] = {
		"vermagic", "srcversion", "version"
	};
	char *dkms = NULL, *tree = NULL, line[64];
	struct test_vcpu *vcpu;
	struct test_vm *vm;
	ssize_t dlen, tlen;
	struct ucall uc;
	unsigned int i;
	int ret;

	if (access(DKMS_KO, F_OK))
		SKIP(return, "no %s in this machine (run.sh --dkms)", DKMS_KO);
	dlen = read_file(DKMS_KO, &dkms);
	ASSERT_LT(0, dlen) TH_LOG("%s: %s", DKMS_KO, strerror(-dlen));
	tlen = read_file(ringvm_ko_path(), &tree);
	ASSERT_LT(0, tlen) TH_LOG("%s: %s", ringvm_ko_path(),
				  strerror(-tlen));

	/* the same sources, for the same kernel */
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		const char *d = modinfo(dkms, dlen, tags[i]);
		const char *t = modinfo(tree, tlen, tags[i]);

		ASSERT_NE(NULL, d) TH_LOG("%s: no %s", DKMS_KO, tags[i]);
		ASSERT_NE(NULL, t) TH_LOG("%s: no %s", ringvm_ko_path(),
					  tags[i]);
		EXPECT_STREQ(t, d) TH_LOG("%s", tags[i]);
	}
	/* dkms signs what it builds (its MOK key, /var/lib/dkms) */
	ASSERT_LT(sizeof(SIG_MARKER), (size_t)dlen);
	EXPECT_EQ(0, memcmp(dkms + dlen - strlen(SIG_MARKER), SIG_MARKER,
			    strlen(SIG_MARKER)));

	/* it loads in place of the tree's build, and runs a guest */
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	ret = __ringvm_load(DKMS_KO);
	ASSERT_EQ(0, ret) TH_LOG("load %s: %s", DKMS_KO, strerror(-ret));
	EXPECT_STREQ(modinfo(dkms, dlen, "srcversion"),
		     sysfs_read_line("/sys/module/ringvm/srcversion", line,
				     sizeof(line)));
	EXPECT_STREQ(modinfo(dkms, dlen, "version"),
		     sysfs_read_line("/sys/module/ringvm/version", line,
				     sizeof(line)));
	vm = vm_create_guest(&vcpu, guest_code);
	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_SYNC, get_ucall(vcpu, &uc));
	EXPECT_EQ(SYNC_MAGIC, uc.args[0]);
	vm_destroy(vm);

	/* the nl socket holds no reference; the next test loads the tree's */
	ringvm_nl_close(self->nl);
	self->nl = NULL;
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	free(dkms);
	free(tree);
}

/* 3. The installed packages: modprobe, the packaged rule and vmctl */

#define DKMS_REL	"updates/dkms/" RINGVM_MODULE_NAME ".ko"
#define PKG_DIR		"/ringvm/dkms/vmctl"
#define PKG_VMCTL	PKG_DIR "/usr/bin/vmctl"
#define PKG_RULE	PKG_DIR "/lib/udev/rules.d/" RULE_NAME
#define MODPROBE	"/sbin/modprobe"
#define CMD_OUT		"/tmp/install_test.out"
#define SYS_MODULE	"/sys/module/" RINGVM_MODULE_NAME

enum run_as { AS_ROOT, AS_MEMBER, AS_OTHER };

/*
 * Run @argv as root or as USER_ID (in the group or not), its output into
 * CMD_OUT: its exit status, or -1 if it did not exit.
 */
static int run_cmd(enum run_as as, const char *const argv[])
{
	int st, fd;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(CMD_OUT, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (as != AS_ROOT && become_user(as == AS_MEMBER))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* What the last command printed, as "#" lines. */
static void show_cmd_out(void)
{
	char line[512];
	FILE *f = fopen(CMD_OUT, "r");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n++ < 40)
		fprintf(stderr, "#   %s", line);
	fclose(f);
}

/* Whether the last command printed a line with @s. */
static bool cmd_out_has(const char *s)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(CMD_OUT, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s);
	fclose(f);
	if (!found)
		show_cmd_out();
	return found;
}

#define EXPECT_CMD(want, as, argv)					\
	do {								\
		int __r = run_cmd(as, argv);				\
									\
		if (__r != (want))					\
			show_cmd_out();					\
		EXPECT_EQ(want, __r) TH_LOG("%s %s", (argv)[0], (argv)[1]); \
	} while (0)

/* Whether modules.dep of kernel @release lists @rel. */
static bool moddep_has(const char *release, const char *rel)
{
	char path[256], line[1024];
	size_t len = strlen(rel);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, rel, len) && line[len] == ':';
	fclose(f);
	return found;
}

/*
 * A machine with both packages installed: dkms put the module in
 * updates/dkms and ran depmod (the runner did the same into this
 * machine's tree), so the machine's modprobe (busybox's: the machines
 * have no kmod) loads it by name; the packaged rule makes the node
 * root:ringvm 0660 and the packaged vmctl's doctor says a VM can run, for
 * root and for the group, not for others.  modprobe -r unloads it.
 */
TEST_F(install, modprobe_installed)
{
	static const char *const modprobe[] = {
		MODPROBE, RINGVM_MODULE_NAME, NULL
	};
	static const char *const unload[] = {
		MODPROBE, "-r", RINGVM_MODULE_NAME, NULL
	};
	static const char *const doctor[] = { PKG_VMCTL, "doctor", NULL };
	char ko[256], line[64], *dkms = NULL;
	struct utsname u;
	struct stat st;
	ssize_t len;

	ASSERT_EQ(0, uname(&u));
	snprintf(ko, sizeof(ko), "/lib/modules/%s/" DKMS_REL, u.release);
	if (access(ko, F_OK))
		SKIP(return, "no %s in this machine (run.sh --dkms)", ko);
	ASSERT_EQ(0, access(PKG_VMCTL, X_OK)) TH_LOG("%s", PKG_VMCTL);
	ASSERT_TRUE(moddep_has(u.release, DKMS_REL))
		TH_LOG("modules.dep of %s lists no %s", u.release, DKMS_REL);
	len = read_file(ko, &dkms);
	ASSERT_LT(0, len) TH_LOG("%s: %s", ko, strerror(-len));

	/* not loaded, no node */
	ringvm_nl_close(self->nl);
	self->nl = NULL;
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	ASSERT_NE(0, stat(RINGVM_DEV_PATH, &st));

	/* the packaged doctor says what to do: modprobe, not build it */
	EXPECT_CMD(1, AS_ROOT, doctor);
	EXPECT_TRUE(cmd_out_has("As root: modprobe ringvm."));

	EXPECT_CMD(0, AS_ROOT, modprobe);
	ASSERT_EQ(0, access(SYS_MODULE, F_OK)) TH_LOG("modprobe loaded nothing");
	EXPECT_STREQ(modinfo(dkms, len, "srcversion"),
		     sysfs_read_line(SYS_MODULE "/srcversion", line,
				     sizeof(line)));

	/* the node as the module makes it, then as the package's rule does */
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &self->dev));
	EXPECT_EQ(0600, self->dev.st_mode & 07777);
	EXPECT_EQ(0, self->dev.st_gid);
	apply_rule(_metadata, self, PKG_RULE);
	ASSERT_EQ(0, stat(RINGVM_DEV_PATH, &st));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(RINGVM_GID, st.st_gid);

	/* doctor exits 0 only when the caps ioctl answered */
	EXPECT_CMD(0, AS_ROOT, doctor);
	EXPECT_CMD(0, AS_MEMBER, doctor);
	EXPECT_CMD(1, AS_OTHER, doctor);

	EXPECT_CMD(0, AS_ROOT, unload);
	EXPECT_NE(0, access(SYS_MODULE, F_OK)) TH_LOG("still loaded");
	/* the node went with the module: nothing to restore */
	self->applied = false;
	unlink(CMD_OUT);
	free(dkms);
}

RINGVM_GUEST_TEST_MAIN
