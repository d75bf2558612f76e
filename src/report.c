/* pfwatch report: saved JSON files read back, filtered, compared. */
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "render_text.h"
#include "report.h"
#include "stacks.h"
#include "where.h"

static bool wanted(const struct process_record *record, const void *context)
{
	const struct report_options *opts = context;

	return (!opts->has_pid || record->tgid == opts->pid) &&
	       class_counts_total(record->stats.count);
}

bool report_filter(struct imported_run *in, const struct report_options *opts)
{
	struct aggregate *agg = &in->agg;
	size_t kept = 0;

	for (size_t i = 0; opts->class_mask && i < agg->nr_records; i++) {
		struct fault_stats *stats = &agg->records[i]->stats;

		for (int c = 0; c < NR_FAULT_CLASSES; c++) {
			if (opts->class_mask & 1u << c)
				continue;
			stats->count[c] = 0;
			stats->latency_sum_ns[c] = 0;
			memset(stats->hist[c], 0, sizeof(stats->hist[c]));
		}
	}
	aggregate_retain(agg, wanted, opts);
	for (size_t i = 0; i < agg->nr_invalid; i++) {
		const struct fault_event *e = &agg->invalid[i].event;

		if ((!opts->has_pid || e->tgid == opts->pid) &&
		    (!opts->class_mask || opts->class_mask & 1u << e->fault_class))
			agg->invalid[kept++] = agg->invalid[i];
	}
	/* Filtered, the only count of invalid faults left is the records'. */
	if (opts->has_pid || opts->class_mask) {
		struct fault_stats *total = malloc(sizeof(*total));

		agg->invalid_events = kept;
		if (total) {
			aggregate_totals(agg, total);
			if (stats_kind_count(total, KIND_INVALID) > kept)
				agg->invalid_events = stats_kind_count(total, KIND_INVALID);
			free(total);
		}
	}
	agg->nr_invalid = kept;
	return agg->nr_records > 0;
}

void report_one(FILE *out, const struct imported_run *in, const char *name,
		int top)
{
	struct fault_stats *total = malloc(sizeof(*total));

	fprintf(out, "%s: written by pfwatch %s, kernel %s, started %s\n", name,
		in->version[0] ? in->version : "?", in->run.kernel[0] ? in->run.kernel : "?",
		in->start_time[0] ? in->start_time : "?");
	render_summary(out, &in->agg, &in->run, top);
	if (!total) {
		fputs("pfwatch report: out of memory for the histogram\n", out);
		return;
	}
	aggregate_totals(&in->agg, total);
	render_histogram(out, total);
	free(total);
	if (in->run.where)
		render_where(out, in->run.where, top);
	if (in->run.stacks)
		render_stacks(out, in->run.stacks, top);
}

/* "+12.5%", "-3.0%", "new", "gone" or "=". */
static const char *change(char *buf, size_t size, double a, double b)
{
	if (a == b)
		return "=";
	if (a == 0)
		return "new";
	if (b == 0)
		return "gone";
	snprintf(buf, size, "%+.1f%%", 100.0 * (b - a) / a);
	return buf;
}

static const char *latency_cell(char *buf, size_t size, const __u64 *hist, double q)
{
	return hist_count(hist) ? format_ns(buf, size, hist_percentile(hist, q)) : "-";
}

static void diff_classes(FILE *out, const struct fault_stats *a,
			 const struct fault_stats *b)
{
	char cells[5][16];

	fprintf(out, "  %-12s %12s %12s %9s %9s %9s %9s %9s\n", "class", "A count",
		"B count", "change", "A p50", "B p50", "A p99", "B p99");
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		fprintf(out, "  %-12s %12llu %12llu %9s %9s %9s %9s %9s\n",
			fault_class_name(c), (unsigned long long)a->count[c],
			(unsigned long long)b->count[c],
			change(cells[0], 16, (double)a->count[c], (double)b->count[c]),
			latency_cell(cells[1], 16, a->hist[c], 0.5),
			latency_cell(cells[2], 16, b->hist[c], 0.5),
			latency_cell(cells[3], 16, a->hist[c], 0.99),
			latency_cell(cells[4], 16, b->hist[c], 0.99));
	fputc('\n', out);
	for (enum class_kind kind = KIND_MINOR; kind < NR_SHOWN_KINDS; kind++) {
		__u64 x = stats_kind_count(a, kind), y = stats_kind_count(b, kind);

		fprintf(out, "  %-12s %12llu %12llu %9s\n", class_kind_name(kind),
			(unsigned long long)x, (unsigned long long)y,
			change(cells[0], 16, (double)x, (double)y));
	}
}

/* A command name's faults in each file: PIDs change across runs, names not. */
struct comm_diff {
	char comm[COMM_LEN];
	__u64 faults[2], time_ns[2];
	__u64 hist[2][HIST_BUCKETS];
};

static struct comm_diff *comm_entry(struct comm_diff *list, size_t *nr,
				    const char *comm)
{
	for (size_t i = 0; i < *nr; i++)
		if (!strcmp(list[i].comm, comm))
			return &list[i];
	memcpy(list[*nr].comm, comm, COMM_LEN);
	return &list[(*nr)++];
}

static int most_time(const void *x, const void *y)
{
	const struct comm_diff *a = x, *b = y;
	__u64 ta = a->time_ns[0] > a->time_ns[1] ? a->time_ns[0] : a->time_ns[1];
	__u64 tb = b->time_ns[0] > b->time_ns[1] ? b->time_ns[0] : b->time_ns[1];

	if (ta != tb)
		return ta < tb ? 1 : -1;
	return strcmp(a->comm, b->comm);
}

static void diff_commands(FILE *out, const struct aggregate *aggs[2], int top)
{
	size_t nr = 0, room = aggs[0]->nr_records + aggs[1]->nr_records;
	struct comm_diff *list = calloc(room ? room : 1, sizeof(*list));
	char cells[7][16];

	if (!list) {
		fputs("pfwatch report: out of memory for the command table\n", out);
		return;
	}
	for (int side = 0; side < 2; side++) {
		for (size_t i = 0; i < aggs[side]->nr_records; i++) {
			const struct process_record *p = aggs[side]->records[i];
			struct comm_diff *entry = comm_entry(list, &nr, p->comm);

			entry->faults[side] += class_counts_total(p->stats.count);
			entry->time_ns[side] += stats_latency_sum(&p->stats);
			for (int c = 0; c < NR_FAULT_CLASSES; c++)
				hist_add(entry->hist[side], p->stats.hist[c]);
		}
	}
	qsort(list, nr, sizeof(*list), most_time);
	fprintf(out, "\n  %-16s %10s %10s %9s %10s %10s %9s %9s\n", "COMM", "A faults",
		"B faults", "change", "A in flt", "B in flt", "A p99", "B p99");
	for (size_t i = 0; i < nr && i < (size_t)top; i++)
		fprintf(out, "  %-16s %10llu %10llu %9s %10s %10s %9s %9s\n", list[i].comm,
			(unsigned long long)list[i].faults[0],
			(unsigned long long)list[i].faults[1],
			change(cells[0], 16, (double)list[i].faults[0], (double)list[i].faults[1]),
			format_ns(cells[1], 16, list[i].time_ns[0]),
			format_ns(cells[2], 16, list[i].time_ns[1]),
			latency_cell(cells[3], 16, list[i].hist[0], 0.99),
			latency_cell(cells[4], 16, list[i].hist[1], 0.99));
	free(list);
}

void report_diff(FILE *out, const struct imported_run *a, const char *name_a,
		 const struct imported_run *b, const char *name_b, int top)
{
	const struct aggregate *aggs[2] = { &a->agg, &b->agg };
	struct fault_stats *totals = calloc(2, sizeof(*totals));
	double rate[2], seconds[2] = { a->run.elapsed_s, b->run.elapsed_s };
	char cells[3][16];

	if (!totals) {
		fputs("pfwatch report: out of memory for the comparison\n", out);
		return;
	}
	fprintf(out, "\n A: %s (%.3f s from %s, backend %s)\n", name_a, seconds[0],
		a->start_time[0] ? a->start_time : "?", a->run.backend);
	fprintf(out, " B: %s (%.3f s from %s, backend %s)\n\n", name_b, seconds[1],
		b->start_time[0] ? b->start_time : "?", b->run.backend);
	for (int side = 0; side < 2; side++) {
		aggregate_totals(aggs[side], &totals[side]);
		rate[side] = seconds[side] > 0 ? class_counts_total(totals[side].count) / seconds[side] : 0;
	}
	diff_classes(out, &totals[0], &totals[1]);
	fprintf(out, "  %-12s %12.0f %12.0f %9s\n", "faults/s", rate[0], rate[1],
		change(cells[0], 16, rate[0], rate[1]));
	fprintf(out, "  %-12s %12s %12s %9s\n", "in faults",
		format_ns(cells[1], 16, stats_latency_sum(&totals[0])),
		format_ns(cells[2], 16, stats_latency_sum(&totals[1])),
		change(cells[0], 16, (double)stats_latency_sum(&totals[0]),
		       (double)stats_latency_sum(&totals[1])));
	render_lost_events(out, &a->run, "in A, ");
	render_lost_events(out, &b->run, "in B, ");
	diff_commands(out, aggs, top);
	fputc('\n', out);
	free(totals);
}

static int load(struct imported_run *in, const char *path,
		const struct report_options *opts)
{
	char error[512];

	if (import_json_file(in, path, error, sizeof(error))) {
		fprintf(stderr, "pfwatch report: %s: %s\n", path, error);
		return -1;
	}
	if (!report_filter(in, opts) && opts->has_pid) {
		fprintf(stderr, "pfwatch report: %s: no process with PID %u%s\n", path,
			opts->pid, opts->class_mask ? " has faults of that class" : "");
		import_free(in);
		return -1;
	}
	return 0;
}

int report_main(int argc, char **argv)
{
	struct report_options opts;
	struct imported_run *runs;
	int status = 1;

	switch (report_options_parse(&opts, argc, argv)) {
	case OPTIONS_DONE:
		return 0;
	case OPTIONS_BAD:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	runs = calloc(2, sizeof(*runs));
	if (!runs) {
		fputs("pfwatch report: out of memory\n", stderr);
		return 1;
	}
	if (load(&runs[0], opts.files[0], &opts))
		goto out;
	if (opts.nr_files == 1) {
		report_one(stdout, &runs[0], opts.files[0], opts.top);
		status = 0;
	} else if (!load(&runs[1], opts.files[1], &opts)) {
		report_diff(stdout, &runs[0], opts.files[0], &runs[1], opts.files[1],
			    opts.top);
		import_free(&runs[1]);
		status = 0;
	}
	import_free(&runs[0]);
out:
	free(runs);
	if (!status && fflush(stdout)) {
		perror("pfwatch report: stdout");
		status = 1;
	}
	return status;
}
