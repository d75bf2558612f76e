/*
 * Prometheus text exposition (format 0.0.4, the one node_exporter's
 * textfile collector reads) or OpenMetrics 1.0 (what pfwatch serve gives a
 * scraper that asks for it): fault counters, latency histograms and the
 * time by cause, by command name and class. The series are the same in both; OpenMetrics
 * names counter families without "_total", has info and unit metadata,
 * and ends with "# EOF".
 * Label cardinality is bounded: the PROM_TOP_COMMS command names with the
 * most time in faults get series of their own; the rest share one group
 * with the processes that found no slot, named OVERFLOW_COMM ("<other>").
 * The same for cgroups, when the run names them: the PROM_TOP_CGROUPS
 * paths with the most time in faults, the rest in cgroup="<other>".
 */
#include <stdlib.h>
#include <string.h>
#include "cgroup_groups.h"
#include "export.h"
#include "hist.h"

#define PROM_TOP_COMMS 20
#define PROM_TOP_CGROUPS 20
/* Bucket bounds: the powers of two from 256 ns to 1.07 s. */
#define FIRST_LE_POW2 8
#define LAST_LE_POW2 30

/* The processes a series is about: a command name, or a cgroup. */
struct series_group {
	char comm[COMM_LEN];
	const char *cgroup, *name;	/* a cgroup's path and short name, or NULL */
	__u64 time_ns, faults;
	struct fault_stats *stats;	/* only for the groups exported */
};

static int by_comm(const void *a, const void *b)
{
	return strcmp((*(const struct process_record *const *)a)->comm,
		      (*(const struct process_record *const *)b)->comm);
}

/* Busiest first; the overflow slot's group last, as it is never ranked. */
static int busiest_group(const void *a, const void *b)
{
	const struct series_group *x = a, *y = b;
	bool x_other = !strcmp(x->comm, OVERFLOW_COMM);
	bool y_other = !strcmp(y->comm, OVERFLOW_COMM);

	if (x_other != y_other)
		return x_other ? 1 : -1;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? 1 : -1;
	if (x->faults != y->faults)
		return x->faults < y->faults ? 1 : -1;
	return x->cgroup ? strcmp(x->cgroup, y->cgroup) : strcmp(x->comm, y->comm);
}

/*
 * One group per command name, busiest first, then the overflow slot's
 * (if any); *nr_named counts the others. NULL when out of memory.
 */
static struct series_group *group_by_comm(const struct aggregate *agg, size_t *nr,
					 size_t *nr_named)
{
	const struct process_record **order = calloc(agg->nr_records + 1, sizeof(*order));
	struct series_group *groups = calloc(agg->nr_records + 1, sizeof(*groups));

	*nr = 0;
	if (!order || !groups) {
		free(order);
		free(groups);
		return NULL;
	}
	/* No record yet (serve scraped at once): nothing to copy or sort. */
	if (agg->nr_records) {
		memcpy(order, agg->records, agg->nr_records * sizeof(*order));
		qsort(order, agg->nr_records, sizeof(*order), by_comm);
	}
	for (size_t i = 0; i < agg->nr_records; i++) {
		const struct fault_stats *stats = &order[i]->stats;

		if (!*nr || strcmp(groups[*nr - 1].comm, order[i]->comm))
			memcpy(groups[(*nr)++].comm, order[i]->comm, COMM_LEN);
		groups[*nr - 1].time_ns += stats_latency_sum(stats);
		groups[*nr - 1].faults += class_counts_total(stats->count);
	}
	free(order);
	qsort(groups, *nr, sizeof(*groups), busiest_group);
	*nr_named = *nr && !strcmp(groups[*nr - 1].comm, OVERFLOW_COMM) ? *nr - 1 : *nr;
	return groups;
}

/* Label values escape backslash, double quote and line feed. */
static int write_label(FILE *out, const char *value)
{
	for (const char *c = value; *c; c++) {
		int put = *c == '\\' ? fputs("\\\\", out)
			: *c == '"' ? fputs("\\\"", out)
			: *c == '\n' ? fputs("\\n", out)
			: fputc(*c, out);

		if (put == EOF)
			return -1;
	}
	return 0;
}

/* "metric{comm=\"c\"" or "metric{cgroup=\"/p\",name=\"n\"". */
static int write_owner(FILE *out, const char *metric, const struct series_group *group)
{
	if (!group->cgroup)
		return fprintf(out, "%s{comm=\"", metric) < 0 || write_label(out, group->comm) ||
		       fputc('"', out) == EOF ? -1 : 0;
	return fprintf(out, "%s{cgroup=\"", metric) < 0 || write_label(out, group->cgroup) ||
	       fputs("\",name=\"", out) == EOF || write_label(out, group->name) ||
	       fputc('"', out) == EOF ? -1 : 0;
}

static int write_labels(FILE *out, const char *metric, const struct series_group *group,
			int fault_class)
{
	if (write_owner(out, metric, group))
		return -1;
	return fprintf(out, ",class=\"%s\",kind=\"%s\"", fault_class_name(fault_class),
		       class_kind_name(fault_class_kind(fault_class))) < 0 ? -1 : 0;
}

/* @family: "pfwatch_faults" or "pfwatch_cgroup_faults". */
static int write_counters(FILE *out, const char *family,
			  const struct series_group *groups, size_t nr, bool openmetrics)
{
	char metric[64];

	snprintf(metric, sizeof(metric), "%s_total", family);
	fprintf(out, "# HELP %s Page faults since pfwatch started.\n"
		"# TYPE %s counter\n", openmetrics ? family : metric,
		openmetrics ? family : metric);
	for (size_t g = 0; g < nr; g++)
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			if (groups[g].stats->count[c] &&
			    (write_labels(out, metric, &groups[g], c) ||
			     fprintf(out, "} %llu\n",
				     (unsigned long long)groups[g].stats->count[c]) < 0))
				return -1;
	return 0;
}

static int write_histogram(FILE *out, const char *family, const struct series_group *group,
			   int fault_class, const __u64 *hist, __u64 sum_ns)
{
	__u64 below = 0, total = hist_count(hist);
	char bucket[64], sum[64], count[64];
	__u32 b = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", family);
	snprintf(sum, sizeof(sum), "%s_sum", family);
	snprintf(count, sizeof(count), "%s_count", family);

	for (int pow2 = FIRST_LE_POW2; pow2 <= LAST_LE_POW2; pow2++) {
		/* Buckets never straddle a power of two. */
		for (; b < HIST_BUCKETS && hist_bucket_low(b) < 1ULL << pow2; b++)
			below += hist[b];
		if (write_labels(out, bucket, group, fault_class) ||
		    fprintf(out, ",le=\"%.9g\"} %llu\n", (double)(1ULL << pow2) / 1e9,
			    (unsigned long long)below) < 0)
			return -1;
	}
	if (write_labels(out, bucket, group, fault_class) ||
	    fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)total) < 0 ||
	    write_labels(out, sum, group, fault_class) ||
	    fprintf(out, "} %.9f\n", sum_ns / 1e9) < 0 ||
	    write_labels(out, count, group, fault_class) ||
	    fprintf(out, "} %llu\n", (unsigned long long)total) < 0)
		return -1;
	return 0;
}

/* @family: "pfwatch_fault_latency_seconds" or the cgroups' one. */
static int write_histograms(FILE *out, const char *family,
			    const struct series_group *groups, size_t nr, bool openmetrics)
{
	fprintf(out, "# HELP %s From the fault's trap to its outcome.\n"
		"# TYPE %s histogram\n", family, family);
	if (openmetrics)
		fprintf(out, "# UNIT %s seconds\n", family);
	for (size_t g = 0; g < nr; g++)
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			if (hist_count(groups[g].stats->hist[c]) &&
			    write_histogram(out, family, &groups[g], c, groups[g].stats->hist[c],
					    groups[g].stats->latency_sum_ns[c]))
				return -1;
	return 0;
}

/* Each class's time in faults by what it waited for ("cpu": the rest). */
static int write_causes(FILE *out, const struct series_group *groups, size_t nr,
			bool openmetrics)
{
	const char *family = openmetrics ? "pfwatch_fault_cause_seconds"
					 : "pfwatch_fault_cause_seconds_total";

	if (fprintf(out, "# HELP %s Time in faults by what the faults waited for; "
		    "a class's causes add up to its latency sum.\n"
		    "# TYPE %s counter\n", family, family) < 0 ||
	    (openmetrics && fputs("# UNIT pfwatch_fault_cause_seconds seconds\n", out) == EOF))
		return -1;
	for (size_t g = 0; g < nr; g++) {
		const struct fault_stats *stats = groups[g].stats;

		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
				if (stats->cause_faults[c][cause] &&
				    (fprintf(out, "pfwatch_fault_cause_seconds_total{comm=\"") < 0 ||
				     write_label(out, groups[g].comm) ||
				     fprintf(out, "\",class=\"%s\",cause=\"%s\"} %.9f\n",
					     fault_class_name(c), fault_cause_name(cause),
					     stats->cause_ns[c][cause] / 1e9) < 0))
					return -1;
	}
	return 0;
}

/* Huge pages wanted and not had: a sign of fragmentation. */
static int write_thp_fallbacks(FILE *out, const struct series_group *groups, size_t nr,
			       bool openmetrics)
{
	const char *family = openmetrics ? "pfwatch_thp_fallbacks" : "pfwatch_thp_fallbacks_total";

	if (fprintf(out, "# HELP %s Faults that wanted a huge page and mapped a small one.\n"
		    "# TYPE %s counter\n", family, family) < 0)
		return -1;
	for (size_t g = 0; g < nr; g++)
		if (groups[g].stats->thp_fallbacks &&
		    (fprintf(out, "pfwatch_thp_fallbacks_total{comm=\"") < 0 ||
		     write_label(out, groups[g].comm) ||
		     fprintf(out, "\"} %llu\n",
			     (unsigned long long)groups[g].stats->thp_fallbacks) < 0))
			return -1;
	return 0;
}

/* Lost events by what they carried, and by the CPU that lost them. */
static int write_lost(FILE *out, const struct run_info *run, bool openmetrics)
{
	const char *by_kind = openmetrics ? "pfwatch_lost_events" : "pfwatch_lost_events_total";
	const char *by_cpu = openmetrics ? "pfwatch_cpu_lost_events"
					 : "pfwatch_cpu_lost_events_total";

	if (fprintf(out, "# HELP %s Events the ring buffer had no room for, by what they carried.\n"
		    "# TYPE %s counter\n", by_kind, by_kind) < 0)
		return -1;
	for (int kind = 0; kind < NR_LOST_KINDS; kind++)
		if (fprintf(out, "pfwatch_lost_events_total{kind=\"%s\"} %llu\n",
			    lost_kind_name(kind), (unsigned long long)run->diag[kind]) < 0)
			return -1;
	if (!run->lost_per_cpu)
		return 0;
	if (fprintf(out, "# HELP %s Events the ring buffer had no room for, by CPU.\n"
		    "# TYPE %s counter\n", by_cpu, by_cpu) < 0)
		return -1;
	for (unsigned cpu = 0; cpu < run->nr_cpus; cpu++)
		if (fprintf(out, "pfwatch_cpu_lost_events_total{cpu=\"%u\"} %llu\n", cpu,
			    (unsigned long long)run->lost_per_cpu[cpu]) < 0)
			return -1;
	return 0;
}

/* Faults the counts lack because the kernel skipped their outcome. */
static int write_outcomes_missed(FILE *out, const struct run_info *run, bool openmetrics)
{
	const char *family = openmetrics ? "pfwatch_outcomes_missed"
					 : "pfwatch_outcomes_missed_total";

	return fprintf(out, "# HELP %s Faults left uncounted: the kernel skipped their outcome program.\n"
		       "# TYPE %s counter\n"
		       "pfwatch_outcomes_missed_total %llu\n", family, family,
		       (unsigned long long)run->diag[DIAG_OUTCOMES_MISSED]) < 0 ? -1 : 0;
}

/* --expose-cmdline: which command lines the busiest processes run. */
static int write_cmdlines(FILE *out, const struct run_info *run, bool openmetrics)
{
	const char *family = openmetrics ? "pfwatch_process" : "pfwatch_process_info";

	if (!run->nr_cmdlines)
		return 0;
	if (fprintf(out, "# HELP %s Command lines of the processes with the most time in faults.\n"
		    "# TYPE %s %s\n", family, family, openmetrics ? "info" : "gauge") < 0)
		return -1;
	for (size_t i = 0; i < run->nr_cmdlines; i++) {
		const struct process_cmdline *p = &run->cmdlines[i];

		if (fprintf(out, "pfwatch_process_info{pid=\"%u\",comm=\"", p->pid) < 0 ||
		    write_label(out, p->comm) || fputs("\",cmdline=\"", out) == EOF ||
		    write_label(out, p->cmdline) || fputs("\"} 1\n", out) == EOF)
			return -1;
	}
	return 0;
}

static int write_diagnostics(FILE *out, const struct run_info *run, bool openmetrics)
{
	const char *build = openmetrics ? "pfwatch_build" : "pfwatch_build_info";

	return write_lost(out, run, openmetrics) || write_outcomes_missed(out, run, openmetrics) ||
	       write_cmdlines(out, run, openmetrics) ||
	       fprintf(out,
		       "# HELP %s pfwatch's version and the backend in use.\n"
		       "# TYPE %s %s\n"
		       "pfwatch_build_info{version=\"%s\",backend=\"%s\"} 1\n%s",
		       build, build, openmetrics ? "info" : "gauge",
		       PFWATCH_VERSION, run->backend ? run->backend : "",
		       openmetrics ? "# EOF\n" : "") < 0 ? -1 : 0;
}

/* One group per cgroup path (ids of one path share it), busiest first. */
static size_t group_cgroups(const struct cgroup_groups *cgroups, struct series_group *groups)
{
	size_t nr = 0;

	for (size_t i = 0; i < cgroups->nr; i++) {
		const struct cgroup_group *c = &cgroups->groups[i];
		size_t g = 0;

		while (g < nr && strcmp(groups[g].cgroup, cgroup_group_path(c)))
			g++;
		if (g == nr) {
			groups[nr].cgroup = cgroup_group_path(c);
			groups[nr++].name = cgroup_group_name(c);
		}
		groups[g].time_ns += stats_latency_sum(&c->stats);
		groups[g].faults += class_counts_total(c->stats.count);
		stats_add(groups[g].stats, &c->stats);
	}
	qsort(groups, nr, sizeof(*groups), busiest_group);
	return nr;
}

/* Past the top ones, every cgroup's counts go to one "<other>" group. */
static size_t fold_cgroups(struct series_group *groups, size_t nr)
{
	if (nr <= PROM_TOP_CGROUPS)
		return nr;
	for (size_t g = PROM_TOP_CGROUPS + 1; g < nr; g++)
		stats_add(groups[PROM_TOP_CGROUPS].stats, groups[g].stats);
	groups[PROM_TOP_CGROUPS].cgroup = OVERFLOW_COMM;
	groups[PROM_TOP_CGROUPS].name = OVERFLOW_COMM;
	return PROM_TOP_CGROUPS + 1;
}

/* The per-cgroup series: only when the run names its cgroups. */
static int write_cgroups(FILE *out, const struct aggregate *agg,
			 const struct cgroup_names *names, bool openmetrics)
{
	struct cgroup_groups cgroups;
	struct series_group *groups;
	size_t nr = 0;
	int err = -1;

	if (!names)
		return 0;
	if (cgroup_groups_build(agg, names, &cgroups))
		return -1;
	groups = calloc(cgroups.nr ? cgroups.nr : 1, sizeof(*groups));
	for (size_t g = 0; groups && g < cgroups.nr; g++)
		if (!(groups[g].stats = calloc(1, sizeof(*groups[g].stats))))
			goto out;
	if (groups) {
		nr = fold_cgroups(groups, group_cgroups(&cgroups, groups));
		err = write_counters(out, "pfwatch_cgroup_faults", groups, nr, openmetrics) ||
		      write_histograms(out, "pfwatch_cgroup_fault_latency_seconds", groups, nr,
				       openmetrics) ? -1 : 0;
	}
out:
	for (size_t g = 0; groups && g < cgroups.nr; g++)
		free(groups[g].stats);
	free(groups);
	cgroup_groups_free(&cgroups);
	return err;
}

int export_prom(FILE *out, const struct aggregate *agg, const struct run_info *run,
		bool openmetrics)
{
	size_t nr, nr_named, kept;
	struct series_group *groups = group_by_comm(agg, &nr, &nr_named);
	int err = -1;

	if (!groups)
		return -1;
	/*
	 * The busiest keep their name; the rest fold into the last group,
	 * the overflow slot's, which the first name past the top becomes.
	 */
	kept = nr_named > PROM_TOP_COMMS ? PROM_TOP_COMMS + 1 : nr;
	if (nr_named > PROM_TOP_COMMS)
		snprintf(groups[PROM_TOP_COMMS].comm, COMM_LEN, "%s", OVERFLOW_COMM);
	for (size_t g = 0; g < kept; g++)
		if (!(groups[g].stats = calloc(1, sizeof(*groups[g].stats))))
			goto out;
	for (size_t i = 0; i < agg->nr_records; i++) {
		const struct process_record *p = agg->records[i];
		size_t g = 0;

		/* Every name has a group, or falls through to OVERFLOW_COMM. */
		while (g < kept - 1 && strcmp(groups[g].comm, p->comm))
			g++;
		stats_add(groups[g].stats, &p->stats);
	}
	err = write_counters(out, "pfwatch_faults", groups, kept, openmetrics) ||
	      write_histograms(out, "pfwatch_fault_latency_seconds", groups, kept,
			       openmetrics) ||
	      write_causes(out, groups, kept, openmetrics) ||
	      write_thp_fallbacks(out, groups, kept, openmetrics) ||
	      write_cgroups(out, agg, run->cgroup_names, openmetrics) ||
	      write_diagnostics(out, run, openmetrics) || fflush(out) ? -1 : 0;
out:
	for (size_t g = 0; g < kept; g++)
		free(groups[g].stats);
	free(groups);
	return err;
}
