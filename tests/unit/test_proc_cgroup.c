/*
 * A process's memory cgroup: the path from /proc/PID/cgroup's lines (v1
 * and v2), and the lowest limit on the way up, read under a made-up
 * cgroup root that mirrors this process's own cgroup path.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "proc_cgroup.h"

static int parse(const char *text, char *path, size_t size, bool *v2)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int err;

	if (!in)
		return -errno;
	err = cgroup_memory_path(in, path, size, v2);
	fclose(in);
	return err;
}

static void path_from_v1_memory_line_before_v2(void)
{
	char path[CGROUP_PATH_LEN];
	bool v2 = true;

	CHECK(!parse("9:name=systemd:/\n5:cpu,memory:/jobs/a\n0::/user.slice\n", path,
		     sizeof(path), &v2) && !strcmp(path, "/jobs/a") && !v2,
	      "'%s' v2 %d", path, v2);
	/* "memoryx" is not "memory". */
	CHECK(!parse("4:memoryx:/no\n0::/system.slice/x.service\n", path, sizeof(path), &v2) &&
	      !strcmp(path, "/system.slice/x.service") && v2, "'%s' v2 %d", path, v2);
	CHECK(parse("4:cpu:/a\n", path, sizeof(path), &v2) == -ENOENT, "found a path in '%s'",
	      path);
	CHECK(parse("garbage\n", path, sizeof(path), &v2) == -ENOENT, "found '%s'", path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char file[1024];
	FILE *out;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	out = fopen(file, "w");
	CHECK(out && fputs(text, out) >= 0, "cannot write %s", file);
	if (out)
		fclose(out);
}

/* mkdir -p @dir. */
static void make_dirs(char *dir)
{
	for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	mkdir(dir, 0700);
}

static void lowest_limit_on_the_way_up(void)
{
	char root[] = "/tmp/pfwatch-cgroup-XXXXXX", dir[1024], parent[1024];
	struct cgroup_memory cg;
	char own[CGROUP_PATH_LEN];
	bool v2;
	FILE *in = fopen("/proc/self/cgroup", "re");

	if (!in || cgroup_memory_path(in, own, sizeof(own), &v2) || !strcmp(own, "/")) {
		if (in)
			fclose(in);
		SKIP_TEST("this process is in no memory cgroup below the root");
	}
	fclose(in);
	CHECK(mkdtemp(root), "mkdtemp");
	snprintf(dir, sizeof(dir), "%s%s%s", root, v2 ? "" : "/memory", own);
	make_dirs(dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	write_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes",
		   v2 ? "max\n" : "9223372036854771712\n");
	write_file(parent, v2 ? "memory.max" : "memory.limit_in_bytes", "33554432\n");
	CHECK(!cgroup_memory_read(root, getpid(), &cg), "cgroup_memory_read");
	CHECK(!strcmp(cg.path, own) && cg.v2 == v2 && cg.limit_bytes == 33554432 &&
	      !strncmp(own, cg.limited, strlen(cg.limited)) &&
	      strlen(cg.limited) < strlen(own),
	      "path %s limited %s at %llu", cg.path, cg.limited,
	      (unsigned long long)cg.limit_bytes);
	/* A lower limit in the cgroup itself wins. */
	write_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes", "1048576\n");
	CHECK(!cgroup_memory_read(root, getpid(), &cg) && cg.limit_bytes == 1048576 &&
	      !strcmp(cg.limited, own), "limited %s at %llu", cg.limited,
	      (unsigned long long)cg.limit_bytes);
	CHECK(cgroup_memory_read(root, 0x3fffffff, &cg) == -ENOENT, "a gone process read");
	snprintf(dir, sizeof(dir), "rm -rf '%s'", root);
	CHECK(system(dir) == 0, "cleanup");
}

int main(void)
{
	check.binary = "test_proc_cgroup";
	RUN(path_from_v1_memory_line_before_v2);
	RUN(lowest_limit_on_the_way_up);
	return check.failures ? 1 : 0;
}
