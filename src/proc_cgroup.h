/*
 * A process's memory cgroup and the limit it reclaims at, read from
 * /proc/PID/cgroup and the cgroup files while the process lives: the
 * memcg_reclaim hint names them.
 */
#ifndef PFWATCH_PROC_CGROUP_H
#define PFWATCH_PROC_CGROUP_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "pfwatch.h"

#define CGROUP_PATH_LEN 256
#define CGROUP_ROOT "/sys/fs/cgroup"

struct cgroup_memory {
	__u32 tgid;
	char path[CGROUP_PATH_LEN];	/* the process's own memory cgroup */
	char limited[CGROUP_PATH_LEN];	/* it or the ancestor with the lowest
					 * limit; "" when none has one */
	__u64 limit_bytes;
	bool v2;		/* memory.max, else v1's memory.limit_in_bytes */
};

/* The processes whose faults reclaimed in their cgroup, read once each. */
#define MAX_CGROUPS_KEPT 64
struct cgroup_table {
	struct cgroup_memory entries[MAX_CGROUPS_KEPT];
	size_t nr;
};

/*
 * The memory cgroup's path from /proc/PID/cgroup's text: the v1 line
 * whose controllers include "memory", else the v2 line ("0::/path").
 * 0, or -ENOENT when neither is there.
 */
int cgroup_memory_path(FILE *in, char *path, size_t size, bool *v2);
/*
 * @pid's memory cgroup and the lowest limit on its way up to the root,
 * under @root (CGROUP_ROOT; v1's controller is at @root/memory).
 * 0, or -errno (-ENOENT: the process or its cgroup is gone).
 */
int cgroup_memory_read(const char *root, pid_t pid, struct cgroup_memory *out);
const struct cgroup_memory *cgroup_table_find(const struct cgroup_table *table,
					      __u32 tgid);

#endif
