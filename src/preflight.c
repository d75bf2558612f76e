/* Pre-flight: the processes, the cgroup and the output, checked before loading. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "preflight.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool process_exists(pid_t pid)
{
	char path[32], stat[512], *paren;
	FILE *in;
	size_t got;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	in = fopen(path, "re");
	if (!in)
		return false;
	got = fread(stat, 1, sizeof(stat) - 1, in);
	fclose(in);
	stat[got] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

int check_pids(const struct options *opts)
{
	for (int i = 0; i < opts->nr_pids; i++) {
		if (!process_exists(opts->pids[i])) {
			fprintf(stderr, "pfwatch: no process with PID %d\n",
				opts->pids[i]);
			return -1;
		}
	}
	if (opts->tid && !process_exists(opts->tid)) {
		fprintf(stderr, "pfwatch: no thread with TID %d\n", opts->tid);
		return -1;
	}
	return 0;
}

int cgroup_id_of(const char *path, unsigned long long *id)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) || stat(path, &st)) {
		fprintf(stderr, "pfwatch: --cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pfwatch: --cgroup %s: not a cgroup v2 directory (look under /sys/fs/cgroup)\n",
			path);
		return -1;
	}
	*id = st.st_ino;
	return 0;
}

/* Fail before tracing, not after, when the output cannot be written. */
static int check_output(const char *path)
{
	char *copy = strdup(path);
	struct stat st;
	int err = 0;

	if (!copy)
		return -1;
	if (faccessat(AT_FDCWD, dirname(copy), W_OK, AT_EACCESS))
		err = errno;
	else if (!stat(path, &st) && S_ISDIR(st.st_mode))
		err = EISDIR;
	free(copy);
	if (err)
		fprintf(stderr, "pfwatch: cannot write %s: %s\n", path, strerror(err));
	return err ? -1 : 0;
}

/* --user: the output is checked as the user who will write it. */
int check_output_as(const char *path, const char *user, uid_t uid, gid_t gid)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	int err;

	if (!user)
		return check_output(path);
	if (setegid(gid) || seteuid(uid)) {
		fprintf(stderr, "pfwatch: --user %s: cannot switch to it: %s\n", user,
			strerror(errno));
		return -1;
	}
	err = check_output(path);
	if (seteuid(euid) || setegid(egid)) {
		fprintf(stderr, "pfwatch: --user %s: cannot switch back from it: %s\n",
			user, strerror(errno));
		return -1;
	}
	return err;
}
