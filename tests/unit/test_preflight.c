/*
 * Pre-flight checks against the kernel's own view: a process of ours, a
 * zombie child of ours, the cgroup v2 root's inode, directories we can
 * and cannot write. Their one-line refusals go to stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "preflight.h"

#define CGROUP2_MAGIC 0x63677270

/* The cgroup v2 root: /sys/fs/cgroup, or .../unified on a hybrid host. */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs fs;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!statfs(roots[i], &fs) && fs.f_type == CGROUP2_MAGIC)
			return roots[i];
	return NULL;
}

static void a_zombie_is_not_a_process(void)
{
	pid_t child = fork();
	siginfo_t info;

	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (child < 0)
		return;
	if (!child)
		_exit(0);
	/* Exited and not yet reaped: a zombie until waitpid(). */
	CHECK(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) == 0, "waitid");
	CHECK(process_exists(getpid()), "this process does not exist");
	CHECK(!process_exists(child), "zombie %d taken for a process", (int)child);
	waitpid(child, NULL, 0);
	CHECK(!process_exists(child), "reaped %d taken for a process", (int)child);
}

static void pids_are_checked_each(void)
{
	struct options opts = { .nr_pids = 2, .pids = { getpid(), getppid() } };

	CHECK(check_pids(&opts) == 0, "our own PID and our parent's refused");
	opts.pids[1] = 0x3fffffff;	/* past pid_max's highest value */
	CHECK(check_pids(&opts) == -1, "PID %d accepted", opts.pids[1]);
	opts.nr_pids = 1;
	opts.tid = gettid();
	CHECK(check_pids(&opts) == 0, "our own TID refused");
	opts.tid = 0x3fffffff;
	CHECK(check_pids(&opts) == -1, "TID %d accepted", opts.tid);
}

static void cgroup_id_is_the_directorys_inode(void)
{
	const char *root = cgroup2_root();
	unsigned long long id = 0;
	struct stat st;

	if (!root || stat(root, &st))
		SKIP_TEST("no cgroup v2 hierarchy mounted");
	CHECK(cgroup_id_of(root, &id) == 0 && id == st.st_ino,
	      "%s: id %llu, inode %llu", root, id, (unsigned long long)st.st_ino);
	id = 7;
	CHECK(cgroup_id_of("/", &id) == -1 && id == 7, "/ taken for a cgroup");
	CHECK(cgroup_id_of("/nonexistent-cgroup", &id) == -1, "a missing path accepted");
}

static void output_must_be_writable_and_no_directory(void)
{
	char dir[] = "/tmp/pfwatch-preflight-XXXXXX", file[64];

	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(file, sizeof(file), "%s/out.json", dir);
	CHECK(check_output_as(file, NULL, 0, 0) == 0, "%s refused", file);
	CHECK(check_output_as(dir, NULL, 0, 0) == -1, "directory %s accepted", dir);
	CHECK(check_output_as("/nonexistent-dir/out.json", NULL, 0, 0) == -1,
	      "a file in a missing directory accepted");
	/* As nobody, a directory only root may write is refused. */
	if (!geteuid()) {
		CHECK(chmod(dir, 0755) == 0, "chmod");
		CHECK(check_output_as(file, "nobody", 65534, 65534) == -1,
		      "%s accepted for nobody", file);
		CHECK(geteuid() == 0 && getegid() == 0, "identity not restored");
	}
	rmdir(dir);
}

int main(void)
{
	check.binary = "test_preflight";
	RUN(a_zombie_is_not_a_process);
	RUN(pids_are_checked_each);
	RUN(cgroup_id_is_the_directorys_inode);
	RUN(output_must_be_writable_and_no_directory);
	return check.failures ? 1 : 0;
}
