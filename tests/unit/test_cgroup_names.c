/*
 * Short names of cgroups from the layouts container runtimes, Kubernetes
 * and systemd make, and the id table's find and rename.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "cgroup_names.h"

static int find_in(const char *text, struct cgroup_hierarchy *out)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int err;

	if (!in)
		return -1;
	err = cgroup_hierarchy_find(in, out);
	fclose(in);
	return err;
}

static void names_of_common_layouts(void)
{
	static const struct { const char *path, *name; } cases[] = {
		{ "/", "/" },
		{ "/system.slice/nginx.service", "nginx.service" },
		{ "/system.slice/docker-3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899000aabbccdd.scope",
		  "docker 3f2a9c1b7d4e" },
		{ "/docker/3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899000aabbccdd",
		  "docker 3f2a9c1b7d4e" },
		{ "/system.slice/cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		  "containerd 0123456789ab" },
		{ "/machine.slice/libpod-aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899.scope",
		  "podman aabbccddeeff" },
		/* Kubernetes, cgroupfs driver. */
		{ "/kubepods/burstable/pod6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b/"
		  "9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49",
		  "pod 6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b / 9c8b7a6f5e4d" },
		{ "/kubepods/pod6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b/"
		  "9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49",
		  "pod 6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b / 9c8b7a6f5e4d" },
		{ "/kubepods/burstable/pod6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b",
		  "pod 6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b" },
		/* Kubernetes, systemd driver: the UID's dashes are underscores. */
		{ "/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod6f1e0c3a_2b4d_4e5f_8a9b_0c1d2e3f4a5b.slice/"
		  "cri-containerd-9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49.scope",
		  "pod 6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b / 9c8b7a6f5e4d" },
		{ "/kubepods.slice/kubepods-pod6f1e0c3a_2b4d_4e5f_8a9b_0c1d2e3f4a5b.slice/"
		  "crio-9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49.scope",
		  "pod 6f1e0c3a-2b4d-4e5f-8a9b-0c1d2e3f4a5b / 9c8b7a6f5e4d" },
		{ "/kubepods.slice/kubepods-besteffort.slice", "kubepods-besteffort.slice" },
		/* Users' sessions and services. */
		{ "/user.slice/user-1000.slice/session-3.scope", "user 1000 session 3" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
		  "user 1000 foo.service" },
		{ "/user.slice/user-1000.slice", "user-1000.slice" },
		/* Not a layout pfwatch knows: the last component. */
		{ "/jobs/batch-7", "batch-7" },
		{ "/system.slice/docker-tooshort.scope", "docker-tooshort.scope" },
		{ "/podcast", "podcast" },
		{ CGROUP_UNKNOWN_PATH, CGROUP_UNKNOWN_PATH },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[CGROUP_NAME_LEN];

		cgroup_short_name(cases[i].path, name, sizeof(name));
		CHECK(!strcmp(name, cases[i].name), "%s: '%s', want '%s'", cases[i].path,
		      name, cases[i].name);
	}
}

static void names_cut_to_fit(void)
{
	char name[8];

	cgroup_short_name("/system.slice/nginx.service", name, sizeof(name));
	CHECK(!strcmp(name, "nginx.s"), "'%s'", name);
}

static void table_finds_and_renames(void)
{
	struct cgroup_names names;
	const struct cgroup_name *found;

	cgroup_names_init(&names);
	for (__u64 id = 1; id <= 40; id++)
		CHECK(!cgroup_names_add(&names, id, id == 7 ? "/system.slice/a.service" : "/x"),
		      "add %llu", (unsigned long long)id);
	CHECK(!cgroup_names_add(&names, 7, "/system.slice/b.service"), "rename");
	found = cgroup_names_find(&names, 7);
	CHECK(found && !strcmp(found->path, "/system.slice/b.service") &&
	      !strcmp(found->name, "b.service"), "7: %s", found ? found->path : "none");
	CHECK(names.nr == 40, "%zu entries", names.nr);
	CHECK(!cgroup_names_find(&names, 41), "41 found");
	cgroup_names_free(&names);
}

static void hierarchy_v2_first_else_v1_memory(void)
{
	static const char hybrid[] =
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	static const char v1[] =
		"32 31 0:29 / /sys/fs/cgroup/cpu,memoryx rw - cgroup cgroup rw,cpu,memoryx\n"
		"35 31 0:32 /docker/ab /sys/fs/cgroup/my\\040memory rw shared:5 - cgroup cgroup rw,cpuset,memory\n";
	struct cgroup_hierarchy h;

	CHECK(!find_in(hybrid, &h) && h.v2 && !strcmp(h.mount, "/sys/fs/cgroup/unified") &&
	      !strcmp(h.root, "/"), "hybrid: %s v2 %d", h.mount, h.v2);
	CHECK(!find_in(v1, &h) && !h.v2 && !strcmp(h.mount, "/sys/fs/cgroup/my memory") &&
	      !strcmp(h.root, "/docker/ab"), "v1: '%s' root '%s' v2 %d", h.mount, h.root, h.v2);
	CHECK(find_in("1 0 0:1 / / rw - ext4 /dev/sda rw\n", &h) == -ENOENT, "found %s", h.mount);
	CHECK(find_in("garbage\n - \n", &h) == -ENOENT, "found %s", h.mount);
}

static __u64 inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* Any directory tree stands in for cgroupfs: ids are inode numbers. */
static void learn_finds_directories_by_inode(void)
{
	char top[] = "/tmp/pfwatch-cgroups-XXXXXX", path[PATH_MAX];
	struct cgroup_hierarchy h = { .root = "/", .v2 = true };
	struct cgroup_names names;
	const struct cgroup_name *found;
	__u64 id;

	CHECK(mkdtemp(top), "mkdtemp");
	snprintf(h.mount, sizeof(h.mount), "%s", top);
	snprintf(path, sizeof(path), "%s/system.slice", top);
	CHECK(!mkdir(path, 0755), "mkdir %s", path);
	snprintf(path, sizeof(path), "%s/system.slice/nginx.service", top);
	CHECK(!mkdir(path, 0755), "mkdir %s", path);
	id = inode_of(path);
	cgroup_names_init(&names);
	CHECK(!cgroup_names_learn(&names, &h, id), "learn");
	found = cgroup_names_find(&names, id);
	CHECK(found && !strcmp(found->path, "/system.slice/nginx.service") &&
	      !strcmp(found->name, "nginx.service"), "'%s'", found ? found->path : "none");
	CHECK(!cgroup_names_learn(&names, &h, inode_of(top)) &&
	      !strcmp(cgroup_names_find(&names, inode_of(top))->path, "/"), "the root");
	/* A miss is remembered: it is not looked for again. */
	CHECK(!cgroup_names_learn(&names, &h, 1) && names.nr == 3 &&
	      !strcmp(cgroup_names_find(&names, 1)->path, CGROUP_UNKNOWN_PATH), "miss");
	CHECK(!cgroup_names_learn(&names, NULL, 2) &&
	      !strcmp(cgroup_names_find(&names, 2)->path, CGROUP_UNKNOWN_PATH), "no hierarchy");
	/* Inside a cgroup namespace, paths begin at the mount's root. */
	snprintf(h.root, sizeof(h.root), "/docker/ab");
	snprintf(path, sizeof(path), "%s/system.slice/job", top);
	CHECK(!mkdir(path, 0755), "mkdir %s", path);
	id = inode_of(path);
	CHECK(!cgroup_names_learn(&names, &h, id) &&
	      !strcmp(cgroup_names_find(&names, id)->path, "/docker/ab/system.slice/job"),
	      "'%s'", cgroup_names_find(&names, id)->path);
	cgroup_names_free(&names);
	CHECK(!rmdir(path), "rmdir");
	snprintf(path, sizeof(path), "%s/system.slice/nginx.service", top);
	CHECK(!rmdir(path), "rmdir");
	snprintf(path, sizeof(path), "%s/system.slice", top);
	CHECK(!rmdir(path) && !rmdir(top), "rmdir");
}

int main(void)
{
	check.binary = "test_cgroup_names";
	RUN(names_of_common_layouts);
	RUN(names_cut_to_fit);
	RUN(table_finds_and_renames);
	RUN(hierarchy_v2_first_else_v1_memory);
	RUN(learn_finds_directories_by_inode);
	return check.failures ? 1 : 0;
}
