/*
 * The cgroup views: records summed per cgroup, the rates per cgroup, the
 * paths as the tables abbreviate them, and the --group cgroup tables.
 */
#include <math.h>
#include <stdlib.h>
#include "cgroup_groups.h"
#include "check.h"
#include "hist.h"
#include "render_cgroups.h"
#include "render_text.h"
#include "view.h"

#define NGINX 10
#define BATCH 20	/* never named: <unknown> */

/* A record of @tgid in @cgroup_id: @faults of @fault_class taking @ns each. */
static struct process_record *add(struct aggregate *agg, __u32 tgid, __u64 cgroup_id,
				  int fault_class, __u64 faults, __u64 ns)
{
	struct process_record *record = aggregate_add_record(agg);

	if (!record)
		return NULL;
	record->tgid = tgid;
	record->cgroup_id = cgroup_id;
	snprintf(record->comm, COMM_LEN, "p%u", tgid);
	record->stats.count[fault_class] = faults;
	record->stats.hist[fault_class][hist_bucket(ns)] = faults;
	record->stats.latency_sum_ns[fault_class] = faults * ns;
	return record;
}

/*
 * nginx: two processes, 150 minor faults of 1 us and 5 major of 1 ms (io);
 * batch: one process with 7 minor faults of 100 ms, and 4 exited processes
 * folded into one record with 3 more.
 */
static int build(struct aggregate *agg, struct cgroup_names *names, bool folded)
{
	struct process_record *a, *d;

	aggregate_init(agg);
	cgroup_names_init(names);
	if (cgroup_names_add(names, NGINX, "/system.slice/nginx.service"))
		return -1;
	a = add(agg, 1, NGINX, FAULT_ANON_ZERO, 100, 1000);
	if (!a || !add(agg, 2, NGINX, FAULT_ANON_ZERO, 50, 1000) ||
	    !add(agg, 3, BATCH, FAULT_COW, 7, 100000000))
		return -1;
	a->stats.count[FAULT_FILE_READ] = 5;
	a->stats.hist[FAULT_FILE_READ][hist_bucket(1000000)] = 5;
	a->stats.latency_sum_ns[FAULT_FILE_READ] = 5000000;
	a->stats.cause_ns[FAULT_FILE_READ][CAUSE_IO] = 5000000;
	if (!folded)
		return 0;
	d = add(agg, 0, BATCH, FAULT_ANON_ZERO, 3, 1000);
	if (!d)
		return -1;
	d->folded = 4;
	d->exited = true;
	return 0;
}

static void records_summed_per_cgroup(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	struct cgroup_groups groups = { 0 };

	CHECK(!build(&agg, &names, true), "out of memory");
	CHECK(!cgroup_groups_build(&agg, &names, &groups), "build failed");
	CHECK(groups.nr == 2, "%zu groups", groups.nr);
	if (groups.nr == 2) {
		const struct cgroup_group *batch = &groups.groups[0], *nginx = &groups.groups[1];

		CHECK(batch->id == BATCH && nginx->id == NGINX, "most time first: %llu, %llu",
		      (unsigned long long)batch->id, (unsigned long long)nginx->id);
		CHECK(batch->processes == 5 && nginx->processes == 2, "processes %llu, %llu",
		      (unsigned long long)batch->processes, (unsigned long long)nginx->processes);
		CHECK(stats_kind_count(&batch->stats, KIND_MINOR) == 10 &&
		      stats_kind_count(&nginx->stats, KIND_MINOR) == 150 &&
		      stats_kind_count(&nginx->stats, KIND_MAJOR) == 5, "counts");
		CHECK(!strcmp(cgroup_group_path(batch), CGROUP_UNKNOWN_PATH) &&
		      !strcmp(cgroup_group_name(nginx), "nginx.service"), "names");
	}
	cgroup_groups_free(&groups);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

static void rates_summed_per_cgroup(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	struct view_row *rows = NULL;
	struct cgroup_row *cgroups = NULL;
	size_t nr_rows = 0, n = 0;

	CHECK(!build(&agg, &names, false), "out of memory");
	rows = view_rows(&agg, 2.0, &nr_rows);
	cgroups = rows ? view_cgroup_rows(rows, nr_rows, &names, &n) : NULL;
	CHECK(cgroups && n == 2, "%zu cgroup rows", n);
	if (cgroups && n == 2) {
		const struct cgroup_row *nginx = &cgroups[1];

		CHECK(cgroups[0].view.cgroup_id == BATCH, "busiest first");
		CHECK(nginx->processes == 2 && nginx->view.rates.per_s[KIND_MINOR] == 75 &&
		      nginx->view.rates.per_s[KIND_MAJOR] == 2.5, "nginx: %u, %.1f, %.1f",
		      nginx->processes, nginx->view.rates.per_s[KIND_MINOR],
		      nginx->view.rates.per_s[KIND_MAJOR]);
		CHECK(hist_count(nginx->view.hist) == 155, "nginx's histogram: %llu",
		      (unsigned long long)hist_count(nginx->view.hist));
		CHECK(fabs(nginx->view.fault_ms_per_s - (0.15 + 5.0) / 2) < 1e-9, "%.3f ms/s",
		      nginx->view.fault_ms_per_s);
		CHECK(!strcmp(nginx->path, "/system.slice/nginx.service") &&
		      !strcmp(cgroups[0].name, CGROUP_UNKNOWN_PATH), "names");
	}
	free(cgroups);
	free(rows);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

static void paths_abbreviated_to_fit(void)
{
	static const char *const kube = "/kubepods.slice/kubepods-burstable.slice/"
		"kubepods-burstable-pod1234.slice/cri-containerd-3f2a9c1b.scope";
	char out[CGROUP_PATH_SHOWN + 1], wide[86], one[80];

	cgroup_path_abbrev("/system.slice/nginx.service", out, CGROUP_PATH_SHOWN);
	CHECK(!strcmp(out, "/system.slice/nginx.service"), "'%s'", out);
	cgroup_path_abbrev(kube, out, CGROUP_PATH_SHOWN);
	CHECK(!strcmp(out, "/kubepods.slice/...cri-containerd-3f2a9c1b.scope"), "'%s'", out);
	cgroup_path_abbrev(kube, wide, 70);
	CHECK(!strcmp(wide, "/kubepods.slice/.../cri-containerd-3f2a9c1b.scope"), "'%s'", wide);
	cgroup_path_abbrev(kube, wide, 85);
	CHECK(!strcmp(wide, "/kubepods.slice/.../kubepods-burstable-pod1234.slice/"
		      "cri-containerd-3f2a9c1b.scope"), "'%s'", wide);
	memset(one, 'x', sizeof(one) - 1);
	one[0] = '/';
	one[3] = '/';	/* a first component too long to keep */
	one[sizeof(one) - 2] = 'z';
	one[sizeof(one) - 1] = '\0';
	cgroup_path_abbrev(one, out, CGROUP_PATH_SHOWN);
	CHECK(strlen(out) == CGROUP_PATH_SHOWN && !strncmp(out, "/xx/...x", 8) &&
	      out[CGROUP_PATH_SHOWN - 1] == 'z', "'%s'", out);
}

/* The text of @render, malloc'd. */
static char *rendered(const struct aggregate *agg, const struct run_info *run, bool summary)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (summary)
		render_summary(out, agg, run, 10, GROUP_CGROUP);
	else
		render_interval(out, agg, run, 1.0, 10, GROUP_CGROUP);
	fclose(out);
	return text;
}

/* The line that starts with @start (after spaces), or NULL. */
static const char *line_of(const char *text, const char *start)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *at = line + strspn(line, " ");

		if (!strncmp(at, start, strlen(start)))
			return at;
	}
	return NULL;
}

static void summary_has_a_row_per_cgroup(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	struct run_info run = { .backend = "perf", .elapsed_s = 1, .cgroup_names = &names };
	unsigned long long procs, minor, major, invalid;
	char name[32], p50[16], p50_unit[8], p99[16], p99_unit[8], max[16], max_unit[8];
	char time[16], time_unit[8], cause[8], path[64], want_p50[16], want_max[16];
	__u64 hist[HIST_BUCKETS] = { 0 };
	char *text = NULL;
	const char *nginx;

	CHECK(!build(&agg, &names, true), "out of memory");
	text = rendered(&agg, &run, true);
	nginx = text ? line_of(text, "nginx.service") : NULL;
	CHECK(nginx, "no nginx row:\n%s", text ? text : "");
	CHECK(text && !line_of(text, "PID"), "a process table too:\n%s", text);
	if (nginx) {
		int n = sscanf(nginx, "%31s %llu %llu %llu %llu %15s %7s %15s %7s %15s %7s %15s %7s %7s %63s",
			       name, &procs, &minor, &major, &invalid, p50, p50_unit, p99, p99_unit,
			       max, max_unit, time, time_unit, cause, path);

		CHECK(n == 15, "%d fields: %s", n, nginx);
		CHECK(procs == 2 && minor == 150 && major == 5 && invalid == 0,
		      "counts: %s", nginx);
		/* 150 faults in the 1 us bucket, 5 in the 1 ms one. */
		hist[hist_bucket(1000)] = 150;
		hist[hist_bucket(1000000)] = 5;
		format_ns(want_p50, sizeof(want_p50), hist_percentile(hist, 0.5));
		format_ns(want_max, sizeof(want_max), hist_max(hist));
		strcat(strcat(p50, " "), p50_unit);
		strcat(strcat(max, " "), max_unit);
		CHECK(!strcmp(p50, want_p50) && !strcmp(max, want_max) &&
		      !strcmp(time, "5.2") && !strcmp(time_unit, "ms") && !strcmp(cause, "io") &&
		      !strcmp(path, "/system.slice/nginx.service"), "cells: %s", nginx);
	}
	CHECK(text && line_of(text, "<unknown>") &&
	      sscanf(line_of(text, "<unknown>"), "%31s %llu %llu", name, &procs, &minor) == 3 &&
	      procs == 5 && minor == 10, "batch row:\n%s", text ? text : "");
	free(text);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

static void interval_table_has_a_row_per_cgroup(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	struct run_info run = { .backend = "perf", .cgroup_names = &names };
	double minor, major, invalid;
	unsigned procs;
	char *text = NULL;
	const char *nginx;

	CHECK(!build(&agg, &names, false), "out of memory");
	text = rendered(&agg, &run, false);
	CHECK(text && line_of(text, "CGROUP") && strstr(line_of(text, "CGROUP"), "PATH"),
	      "title:\n%s", text ? text : "");
	nginx = text ? line_of(text, "nginx.service") : NULL;
	CHECK(nginx && sscanf(nginx, "nginx.service %u %lf %lf %lf", &procs, &minor, &major,
			      &invalid) == 4 && procs == 2 && minor == 150 && major == 5 &&
	      invalid == 0 && strstr(nginx, "/system.slice/nginx.service"),
	      "nginx row:\n%s", text ? text : "");
	free(text);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_cgroup_groups";
	RUN(records_summed_per_cgroup);
	RUN(rates_summed_per_cgroup);
	RUN(paths_abbreviated_to_fit);
	RUN(summary_has_a_row_per_cgroup);
	RUN(interval_table_has_a_row_per_cgroup);
	return check.failures ? 1 : 0;
}
