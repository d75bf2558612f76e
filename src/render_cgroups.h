/*
 * The text tables grouped by cgroup (--group cgroup): a row per cgroup
 * with its short name, processes, faults, latency and path, in the
 * periodic table and in the summary.
 */
#ifndef PFWATCH_RENDER_CGROUPS_H
#define PFWATCH_RENDER_CGROUPS_H

#include <stdio.h>
#include "aggregate.h"
#include "view.h"

/* The widest path the tables show; longer ones are abbreviated. */
#define CGROUP_PATH_SHOWN 48

/*
 * @path in @width characters at most (to @out, width + 1 bytes): whole if
 * it fits, else its first component and as many of its last as fit
 * ("/kubepods.slice/.../cri-containerd-3f2a.scope"), else the first
 * component and the end ("/kubepods.slice/...ntainerd-3f2a.scope"), else
 * "..." and the end.
 */
void cgroup_path_abbrev(const char *path, char *out, size_t width);
/* The periodic table's rows, per cgroup: rates since the last table. */
void render_cgroup_rates(FILE *out, const struct view_row *rows, size_t nr_rows,
			 const struct cgroup_names *names, int top);
/* The summary's table per cgroup: counts and latency since the start. */
void render_cgroup_totals(FILE *out, const struct aggregate *agg,
			  const struct cgroup_names *names, int top);

#endif
