/*
 * The cgroups faults are grouped by: each id the kernel reported (the
 * cgroup v2 id, or the v1 memory controller's where v2 is not in use),
 * with its path under the hierarchy's root and a short name for the
 * container or service it holds.
 */
#ifndef PFWATCH_CGROUP_NAMES_H
#define PFWATCH_CGROUP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "pfwatch.h"
#include "proc_cgroup.h"

/* "docker 3f2a9c1b7d4e", "nginx.service", "pod 1234-... / 3f2a9c1b7d4e" */
#define CGROUP_NAME_LEN 96
/* What a cgroup is called when its path could not be read: removed before
 * pfwatch looked, or a v1 hierarchy that is not mounted. */
#define CGROUP_UNKNOWN_PATH "<unknown>"

struct cgroup_name {
	__u64 id;
	char path[CGROUP_PATH_LEN];	/* "/system.slice/nginx.service", "/" */
	char name[CGROUP_NAME_LEN];	/* cgroup_short_name() of path */
};

struct cgroup_names {
	struct cgroup_name *entries;
	size_t nr;
	size_t capacity;
};

void cgroup_names_init(struct cgroup_names *names);
void cgroup_names_free(struct cgroup_names *names);
/* NULL when @id was never named. */
const struct cgroup_name *cgroup_names_find(const struct cgroup_names *names,
					    __u64 id);
/* Name @id @path (a saved run's, or a test's); 0 or -ENOMEM. */
int cgroup_names_add(struct cgroup_names *names, __u64 id, const char *path);
/* The hierarchy the ids are read from, as mounted here. */
struct cgroup_hierarchy {
	char mount[CGROUP_PATH_LEN];	/* "/sys/fs/cgroup", "/sys/fs/cgroup/unified" */
	char root[CGROUP_PATH_LEN];	/* the mount's root in it: "/" outside a
					 * cgroup namespace */
	bool v2;			/* else v1's memory controller */
};

/*
 * From /proc/self/mountinfo's text: cgroup v2's mount where there is one,
 * else the v1 memory controller's. 0, or -ENOENT when neither is mounted.
 */
int cgroup_hierarchy_find(FILE *mountinfo, struct cgroup_hierarchy *out);
/*
 * Name @id, if it has no name yet, by looking for the directory whose
 * inode it is (a cgroup's id) under @hierarchy's mount; a cgroup gone
 * since, or a NULL @hierarchy, names it CGROUP_UNKNOWN_PATH, once.
 * 0 or -ENOMEM.
 */
int cgroup_names_learn(struct cgroup_names *names,
		       const struct cgroup_hierarchy *hierarchy, __u64 id);
/*
 * The short name a container or service is known by, from the common
 * layouts: docker-ID.scope, cri-containerd-ID.scope, kubepods/.../podUID/ID,
 * system.slice/NAME.service; else the path's last component.
 */
void cgroup_short_name(const char *path, char *out, size_t size);

#endif
