/* Process records summed per cgroup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup_groups.h"

static struct cgroup_group *group_of(struct cgroup_groups *out, __u64 id)
{
	for (size_t i = 0; i < out->nr; i++)
		if (out->groups[i].id == id)
			return &out->groups[i];
	return NULL;
}

static int by_time_in_faults(const void *a, const void *b)
{
	__u64 x = stats_latency_sum(&((const struct cgroup_group *)a)->stats);
	__u64 y = stats_latency_sum(&((const struct cgroup_group *)b)->stats);

	return x < y ? 1 : x > y ? -1 : 0;
}

int cgroup_groups_build(const struct aggregate *agg,
			const struct cgroup_names *names,
			struct cgroup_groups *out)
{
	/* At most one group per record. */
	out->groups = calloc(agg->nr_records ? agg->nr_records : 1, sizeof(*out->groups));
	out->nr = 0;
	if (!out->groups)
		return -ENOMEM;
	for (size_t i = 0; i < agg->nr_records; i++) {
		const struct process_record *record = agg->records[i];
		struct cgroup_group *group = group_of(out, record->cgroup_id);

		if (!group) {
			group = &out->groups[out->nr++];
			group->id = record->cgroup_id;
			group->name = names ? cgroup_names_find(names, record->cgroup_id) : NULL;
		}
		stats_add(&group->stats, &record->stats);
		group->processes += record->folded ? record->folded : 1;
	}
	qsort(out->groups, out->nr, sizeof(*out->groups), by_time_in_faults);
	return 0;
}

void cgroup_groups_free(struct cgroup_groups *groups)
{
	free(groups->groups);
	groups->groups = NULL;
	groups->nr = 0;
}

const char *cgroup_group_path(const struct cgroup_group *group)
{
	return group->name ? group->name->path : CGROUP_UNKNOWN_PATH;
}

const char *cgroup_group_name(const struct cgroup_group *group)
{
	return group->name ? group->name->name : CGROUP_UNKNOWN_PATH;
}
