/*
 * Prometheus text exposition (format 0.0.4, the one node_exporter's
 * textfile collector reads) or OpenMetrics 1.0 (what pfwatch serve gives a
 * scraper that asks for it): fault counters and latency histograms by
 * command name and class. The series are the same in both; OpenMetrics
 * names counter families without "_total", has info and unit metadata,
 * and ends with "# EOF".
 * Label cardinality is bounded: the PROM_TOP_COMMS command names with the
 * most time in faults get series of their own; the rest share one group
 * with the processes that found no slot, named OVERFLOW_COMM ("<other>").
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "hist.h"

#define PROM_TOP_COMMS 20
/* Bucket bounds: the powers of two from 256 ns to 1.07 s. */
#define FIRST_LE_POW2 8
#define LAST_LE_POW2 30

struct comm_group {
	char comm[COMM_LEN];
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
	const struct comm_group *x = a, *y = b;
	bool x_other = !strcmp(x->comm, OVERFLOW_COMM);
	bool y_other = !strcmp(y->comm, OVERFLOW_COMM);

	if (x_other != y_other)
		return x_other ? 1 : -1;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? 1 : -1;
	if (x->faults != y->faults)
		return x->faults < y->faults ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

/*
 * One group per command name, busiest first, then the overflow slot's
 * (if any); *nr_named counts the others. NULL when out of memory.
 */
static struct comm_group *group_by_comm(const struct aggregate *agg, size_t *nr,
					 size_t *nr_named)
{
	const struct process_record **order = calloc(agg->nr_records + 1, sizeof(*order));
	struct comm_group *groups = calloc(agg->nr_records + 1, sizeof(*groups));

	*nr = 0;
	if (!order || !groups) {
		free(order);
		free(groups);
		return NULL;
	}
	memcpy(order, agg->records, agg->nr_records * sizeof(*order));
	qsort(order, agg->nr_records, sizeof(*order), by_comm);
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

static int write_labels(FILE *out, const char *metric, const char *comm,
			int fault_class)
{
	if (fprintf(out, "%s{comm=\"", metric) < 0 || write_label(out, comm))
		return -1;
	return fprintf(out, "\",class=\"%s\",kind=\"%s\"", fault_class_name(fault_class),
		       class_kind_name(fault_class_kind(fault_class))) < 0 ? -1 : 0;
}

static int write_counters(FILE *out, const struct comm_group *groups, size_t nr,
			  bool openmetrics)
{
	const char *family = openmetrics ? "pfwatch_faults" : "pfwatch_faults_total";

	fprintf(out, "# HELP %s Page faults since pfwatch started.\n"
		"# TYPE %s counter\n", family, family);
	for (size_t g = 0; g < nr; g++)
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			if (groups[g].stats->count[c] &&
			    (write_labels(out, "pfwatch_faults_total", groups[g].comm, c) ||
			     fprintf(out, "} %llu\n",
				     (unsigned long long)groups[g].stats->count[c]) < 0))
				return -1;
	return 0;
}

static int write_histogram(FILE *out, const char *comm, int fault_class,
			   const __u64 *hist, __u64 sum_ns)
{
	__u64 below = 0, total = hist_count(hist);
	__u32 b = 0;

	for (int pow2 = FIRST_LE_POW2; pow2 <= LAST_LE_POW2; pow2++) {
		/* Buckets never straddle a power of two. */
		for (; b < HIST_BUCKETS && hist_bucket_low(b) < 1ULL << pow2; b++)
			below += hist[b];
		if (write_labels(out, "pfwatch_fault_latency_seconds_bucket", comm,
				 fault_class) ||
		    fprintf(out, ",le=\"%.9g\"} %llu\n", (double)(1ULL << pow2) / 1e9,
			    (unsigned long long)below) < 0)
			return -1;
	}
	if (write_labels(out, "pfwatch_fault_latency_seconds_bucket", comm, fault_class) ||
	    fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)total) < 0 ||
	    write_labels(out, "pfwatch_fault_latency_seconds_sum", comm, fault_class) ||
	    fprintf(out, "} %.9f\n", sum_ns / 1e9) < 0 ||
	    write_labels(out, "pfwatch_fault_latency_seconds_count", comm, fault_class) ||
	    fprintf(out, "} %llu\n", (unsigned long long)total) < 0)
		return -1;
	return 0;
}

static int write_histograms(FILE *out, const struct comm_group *groups, size_t nr,
			    bool openmetrics)
{
	fputs("# HELP pfwatch_fault_latency_seconds From the fault's trap to its outcome.\n"
	      "# TYPE pfwatch_fault_latency_seconds histogram\n", out);
	if (openmetrics)
		fputs("# UNIT pfwatch_fault_latency_seconds seconds\n", out);
	for (size_t g = 0; g < nr; g++)
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			if (hist_count(groups[g].stats->hist[c]) &&
			    write_histogram(out, groups[g].comm, c, groups[g].stats->hist[c],
					    groups[g].stats->latency_sum_ns[c]))
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

	return write_lost(out, run, openmetrics) || write_cmdlines(out, run, openmetrics) ||
	       fprintf(out,
		       "# HELP %s pfwatch's version and the backend in use.\n"
		       "# TYPE %s %s\n"
		       "pfwatch_build_info{version=\"%s\",backend=\"%s\"} 1\n%s",
		       build, build, openmetrics ? "info" : "gauge",
		       PFWATCH_VERSION, run->backend ? run->backend : "",
		       openmetrics ? "# EOF\n" : "") < 0 ? -1 : 0;
}

int export_prom(FILE *out, const struct aggregate *agg, const struct run_info *run,
		bool openmetrics)
{
	size_t nr, nr_named, kept;
	struct comm_group *groups = group_by_comm(agg, &nr, &nr_named);
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
	err = write_counters(out, groups, kept, openmetrics) ||
	      write_histograms(out, groups, kept, openmetrics) ||
	      write_diagnostics(out, run, openmetrics) || fflush(out) ? -1 : 0;
out:
	for (size_t g = 0; g < kept; g++)
		free(groups[g].stats);
	free(groups);
	return err;
}
