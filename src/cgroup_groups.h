/*
 * The aggregate's process records grouped by the cgroup they faulted in:
 * what --group cgroup, the live view's cgroup table, JSON's cgroups array
 * and the per-cgroup Prometheus series show.
 */
#ifndef PFWATCH_CGROUP_GROUPS_H
#define PFWATCH_CGROUP_GROUPS_H

#include "aggregate.h"
#include "cgroup_names.h"

struct cgroup_group {
	__u64 id;
	const struct cgroup_name *name;	/* NULL: the id was never named */
	struct fault_stats stats;
	__u64 processes;	/* that faulted in it (a folded record: its count) */
};

struct cgroup_groups {
	struct cgroup_group *groups;	/* most time in faults first */
	size_t nr;
};

/* 0, or -ENOMEM; @names may be NULL (no group is named). */
int cgroup_groups_build(const struct aggregate *agg,
			const struct cgroup_names *names,
			struct cgroup_groups *out);
void cgroup_groups_free(struct cgroup_groups *groups);
/* The group's path, or CGROUP_UNKNOWN_PATH. */
const char *cgroup_group_path(const struct cgroup_group *group);
/* The group's short name, or CGROUP_UNKNOWN_PATH. */
const char *cgroup_group_name(const struct cgroup_group *group);

#endif
