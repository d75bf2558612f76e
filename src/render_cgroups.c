/* Text tables with a row per cgroup. */
#include <stdlib.h>
#include <string.h>
#include "cgroup_groups.h"
#include "hist.h"
#include "render_cgroups.h"
#include "render_text.h"
#include "text_layout.h"

#define NAME_WIDTH 20

void cgroup_path_abbrev(const char *path, char *out, size_t width)
{
	size_t len = strlen(path);
	const char *second = strchr(path + 1, '/');
	size_t head = second ? (size_t)(second - path) : 0;
	const char *tail = second ? strchr(second + 1, '/') : NULL;

	if (len <= width) {
		memcpy(out, path, len + 1);
		return;
	}
	/* "/..." stands for the components left out. */
	while (tail && head + 4 + strlen(tail) > width)
		tail = strchr(tail + 1, '/');
	if (tail)
		snprintf(out, width + 1, "%.*s/...%s", (int)head, path, tail);
	else if (head + 4 <= width / 2)	/* the first component, the end of the last */
		snprintf(out, width + 1, "%.*s/...%s", (int)head, path,
			 path + len - (width - head - 4));
	else
		snprintf(out, width + 1, "...%s", path + len - (width - 3));
}

void render_cgroup_rates(FILE *out, const struct view_row *rows, size_t nr_rows,
			 const struct cgroup_names *names, int top)
{
	size_t n;
	struct cgroup_row *cgroups = view_cgroup_rows(rows, nr_rows, names, &n);
	char p50[16], p99[16], path[CGROUP_PATH_SHOWN + 1];

	if (!cgroups) {
		fputs("pfwatch: out of memory drawing the cgroup table\n", out);
		return;
	}
	fprintf(out, "%-*s %5s %10s %9s %9s %9s %9s %11s  %s\n", NAME_WIDTH, "CGROUP",
		"PROCS", "MINOR/s", "MAJOR/s", "INVAL/s", "p50", "p99", "FAULT ms/s", "PATH");
	for (size_t i = 0; i < n && (int)i < top; i++) {
		const struct cgroup_row *row = &cgroups[i];

		cgroup_path_abbrev(row->path, path, CGROUP_PATH_SHOWN);
		fprintf(out, "%-*.*s %5u %10.0f %9.0f %9.0f %9s %9s %11.2f  %s\n",
			NAME_WIDTH, NAME_WIDTH, row->name, row->processes,
			row->view.rates.per_s[KIND_MINOR], row->view.rates.per_s[KIND_MAJOR],
			row->view.rates.per_s[KIND_INVALID],
			format_ns(p50, sizeof(p50), hist_percentile(row->view.hist, 0.50)),
			format_ns(p99, sizeof(p99), hist_percentile(row->view.hist, 0.99)),
			row->view.fault_ms_per_s, path);
	}
	free(cgroups);
}

/* Minor and major faults' latency: the faults that have one. */
static void timed_latency(const struct fault_stats *stats, struct latency_summary *lat)
{
	__u64 hist[HIST_BUCKETS] = { 0 }, sum_ns = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		if (fault_class_kind(c) > KIND_MAJOR)
			continue;
		hist_add(hist, stats->hist[c]);
		sum_ns += stats->latency_sum_ns[c];
	}
	hist_summarize(hist, sum_ns, lat);
}

/* The cause with the most time in faults, all classes together; -1: none. */
static int top_cause(const struct fault_stats *stats)
{
	__u64 best_ns = 0;
	int best = -1;

	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
		__u64 ns = 0;

		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			ns += stats->cause_ns[c][cause];
		if (ns > best_ns) {
			best_ns = ns;
			best = cause;
		}
	}
	return best;
}

static void print_total_row(FILE *out, const struct cgroup_group *group)
{
	const struct fault_stats *stats = &group->stats;
	char cells[4][16], path[CGROUP_PATH_SHOWN + 1];
	struct latency_summary lat;

	timed_latency(stats, &lat);
	cgroup_path_abbrev(cgroup_group_path(group), path, CGROUP_PATH_SHOWN);
	fprintf(out, "  %-*.*s %5llu %10llu %8llu %8llu %8s %8s %8s %10s %-5s  %s\n",
		NAME_WIDTH, NAME_WIDTH, cgroup_group_name(group),
		(unsigned long long)group->processes,
		(unsigned long long)stats_kind_count(stats, KIND_MINOR),
		(unsigned long long)stats_kind_count(stats, KIND_MAJOR),
		(unsigned long long)stats_kind_count(stats, KIND_INVALID),
		lat.count ? format_ns(cells[0], 16, lat.p50) : "-",
		lat.count ? format_ns(cells[1], 16, lat.p99) : "-",
		lat.count ? format_ns(cells[2], 16, lat.max) : "-",
		format_ns(cells[3], 16, stats_latency_sum(stats)),
		layout_cause_short(top_cause(stats)), path);
}

void render_cgroup_totals(FILE *out, const struct aggregate *agg,
			  const struct cgroup_names *names, int top)
{
	struct cgroup_groups groups;

	if (cgroup_groups_build(agg, names, &groups)) {
		fputs("pfwatch: out of memory for the cgroup table\n", out);
		return;
	}
	fprintf(out, "\n  %-*s %5s %10s %8s %8s %8s %8s %8s %10s %-5s  %s\n", NAME_WIDTH,
		"cgroup", "procs", "minor", "major", "invalid", "p50", "p99", "max",
		"in faults", "cause", "path");
	for (size_t i = 0; i < groups.nr && i < (size_t)top; i++)
		print_total_row(out, &groups.groups[i]);
	if (groups.nr > (size_t)top)
		fprintf(out, "  (%zu more cgroups; -n shows more)\n", groups.nr - (size_t)top);
	cgroup_groups_free(&groups);
}
