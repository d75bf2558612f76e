/* pfwatch report: saved JSON files read back, filtered, compared. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "export.h"
#include "hist.h"
#include "render_causes.h"
#include "render_timeline.h"
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
			memset(stats->cause_ns[c], 0, sizeof(stats->cause_ns[c]));
			memset(stats->cause_faults[c], 0, sizeof(stats->cause_faults[c]));
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
		int top, enum row_group group)
{
	struct fault_stats *total = malloc(sizeof(*total));

	fprintf(out, "%s: written by pfwatch %s, kernel %s, started %s\n", name,
		in->version[0] ? in->version : "?", in->run.kernel[0] ? in->run.kernel : "?",
		in->start_time[0] ? in->start_time : "?");
	render_summary(out, &in->agg, &in->run, top, group);
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

static bool class_has_causes(const struct fault_stats *a,
			     const struct fault_stats *b, int fault_class)
{
	return a->cause_faults[fault_class][CAUSE_CPU] ||
	       b->cause_faults[fault_class][CAUSE_CPU];
}

/* "12.5%", or "-" where the class took no time. */
static const char *share(char *buf, size_t size, __u64 part, __u64 whole)
{
	if (!whole)
		return "-";
	snprintf(buf, size, "%.1f%%", 100.0 * part / whole);
	return buf;
}

/* Each class's time in either file, then each cause's, with its share. */
static void diff_causes(FILE *out, const struct fault_stats *a,
			const struct fault_stats *b)
{
	char cells[5][16];

	fprintf(out, "\n  %-20s %10s %10s %9s %8s %8s\n", "where the time went",
		"A time", "B time", "change", "A share", "B share");
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		__u64 sum_a = a->latency_sum_ns[c], sum_b = b->latency_sum_ns[c];

		if (!class_has_causes(a, b, c))
			continue;
		fprintf(out, "  %-20s %10s %10s %9s\n", fault_class_name(c),
			format_ns(cells[0], 16, sum_a), format_ns(cells[1], 16, sum_b),
			change(cells[2], 16, (double)sum_a, (double)sum_b));
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
			__u64 ns_a = a->cause_ns[c][cause], ns_b = b->cause_ns[c][cause];

			if (!a->cause_faults[c][cause] && !b->cause_faults[c][cause])
				continue;
			fprintf(out, "    %-18s %10s %10s %9s %8s %8s\n",
				fault_cause_name(cause), format_ns(cells[0], 16, ns_a),
				format_ns(cells[1], 16, ns_b),
				change(cells[2], 16, (double)ns_a, (double)ns_b),
				share(cells[3], 16, ns_a, sum_a), share(cells[4], 16, ns_b, sum_b));
		}
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

/* A window's processes: the top of its intervals' tops (no histograms). */
static size_t window_commands(const struct imported_run *in, const struct report_window *win,
			      struct comm_diff *list, size_t nr, int side)
{
	struct timeline_top top[REPORT_WINDOW_TOP];
	size_t n = timeline_window_top(&in->timeline, win->first, win->end, top,
				       REPORT_WINDOW_TOP);

	for (size_t i = 0; i < n; i++) {
		struct comm_diff *entry = comm_entry(list, &nr, top[i].comm);

		entry->faults[side] += top[i].faults;
		entry->time_ns[side] += top[i].ns;
	}
	return nr;
}

static void diff_commands(FILE *out, const struct imported_run *runs[2],
			  const struct report_window *wins, int top)
{
	const struct aggregate *aggs[2] = { &runs[0]->agg, &runs[1]->agg };
	size_t nr = 0, room = aggs[0]->nr_records + aggs[1]->nr_records + 2 * REPORT_WINDOW_TOP;
	struct comm_diff *list = calloc(room, sizeof(*list));
	char cells[7][16];

	if (!list) {
		fputs("pfwatch report: out of memory for the command table\n", out);
		return;
	}
	for (int side = 0; side < 2; side++) {
		if (wins && wins[side].set) {
			nr = window_commands(runs[side], &wins[side], list, nr, side);
			continue;
		}
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

/* A run's totals and length: its window's if it has one. */
static double run_totals(const struct imported_run *in, const struct report_window *win,
			 struct fault_stats *total)
{
	double seconds = 0;

	if (!win || !win->set) {
		aggregate_totals(&in->agg, total);
		return in->run.elapsed_s;
	}
	timeline_sum(&in->timeline, win->first, win->end, total);
	for (size_t i = win->first; i < win->end; i++)
		seconds += timeline_length_s(&in->timeline, i);
	return seconds;
}

void report_window(FILE *out, const struct imported_run *in, const char *name,
		   const struct report_window *win, int top)
{
	struct fault_stats *total = malloc(sizeof(*total));
	struct timeline_top procs[REPORT_WINDOW_TOP];
	double from = timeline_start_s(&in->timeline, win->first), seconds;
	size_t n;
	char cell[16], pid[16];

	if (!total) {
		fputs("pfwatch report: out of memory for the window\n", out);
		return;
	}
	seconds = run_totals(in, win, total);
	fprintf(out, "%s: written by pfwatch %s, kernel %s, started %s\n", name,
		in->version[0] ? in->version : "?", in->run.kernel[0] ? in->run.kernel : "?",
		in->start_time[0] ? in->start_time : "?");
	fprintf(out, "\n From %.3f s to %.3f s of the run (%zu of its %zu intervals of %g s):\n\n",
		from, from + seconds, win->end - win->first, in->timeline.nr_intervals,
		in->timeline.interval_s);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (total->count[c])
			fprintf(out, "  %-12s %12llu\n", fault_class_name(c),
				(unsigned long long)total->count[c]);
	fprintf(out, "\n  %llu faults in %.3f s: %.0f faults/s; time in faults: %s\n\n",
		(unsigned long long)class_counts_total(total->count), seconds,
		seconds > 0 ? class_counts_total(total->count) / seconds : 0.0,
		format_ns(cell, sizeof(cell), stats_latency_sum(total)));
	render_causes(out, total);
	n = timeline_window_top(&in->timeline, win->first, win->end, procs,
				(size_t)top < REPORT_WINDOW_TOP ? (size_t)top : REPORT_WINDOW_TOP);
	fprintf(out, "\n  %7s %-16s %10s %10s   (the top %d of each interval, merged)\n",
		"PID", "COMM", "faults", "in faults", TIMELINE_TOP);
	for (size_t i = 0; i < n; i++) {
		/* pid 0: a record gathering several processes */
		if (procs[i].pid)
			snprintf(pid, sizeof(pid), "%u", procs[i].pid);
		else
			strcpy(pid, "-");
		fprintf(out, "  %7s %-16s %10llu %10s\n", pid, procs[i].comm,
			(unsigned long long)procs[i].faults,
			format_ns(cell, sizeof(cell), procs[i].ns));
	}
	fputc('\n', out);
	render_histogram(out, total);
	free(total);
	if (in->run.where || in->run.stacks)
		fputs("\n The tables below cover the whole run, not the window.\n", out);
	if (in->run.where)
		render_where(out, in->run.where, top);
	if (in->run.stacks)
		render_stacks(out, in->run.stacks, top);
}

void report_diff(FILE *out, const struct imported_run *a, const char *name_a,
		 const struct imported_run *b, const char *name_b, int top)
{
	report_diff_windows(out, a, name_a, b, name_b, top, NULL);
}

void report_diff_windows(FILE *out, const struct imported_run *a, const char *name_a,
			 const struct imported_run *b, const char *name_b, int top,
			 const struct report_window *wins)
{
	const struct imported_run *runs[2] = { a, b };
	struct fault_stats *totals = calloc(2, sizeof(*totals));
	double rate[2], seconds[2];
	char cells[3][16];

	if (!totals) {
		fputs("pfwatch report: out of memory for the comparison\n", out);
		return;
	}
	for (int side = 0; side < 2; side++)
		seconds[side] = run_totals(runs[side], wins ? &wins[side] : NULL, &totals[side]);
	fprintf(out, "\n A: %s (%.3f s from %s, backend %s)\n", name_a, seconds[0],
		a->start_time[0] ? a->start_time : "?", a->run.backend);
	fprintf(out, " B: %s (%.3f s from %s, backend %s)\n\n", name_b, seconds[1],
		b->start_time[0] ? b->start_time : "?", b->run.backend);
	for (int side = 0; side < 2 && wins; side++)
		if (wins[side].set)
			fprintf(out, " %c: from %.3f s to %.3f s of the run\n", "AB"[side],
				timeline_start_s(&runs[side]->timeline, wins[side].first),
				timeline_start_s(&runs[side]->timeline, wins[side].first) + seconds[side]);
	for (int side = 0; side < 2; side++) {
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
	diff_causes(out, &totals[0], &totals[1]);
	render_lost_events(out, &a->run, "in A, ");
	render_lost_events(out, &b->run, "in B, ");
	diff_commands(out, runs, wins, top);
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

/* --from/--to as intervals of @in's timeline; -1 after one line. */
static int find_window(const struct imported_run *in, const char *path,
		       const struct report_options *opts, struct report_window *win)
{
	struct timespec start = { 0 };
	double from = 0, to = 1e18;

	if (!opts->from && !opts->to)
		return 0;
	if (!in->run.timeline) {
		fprintf(stderr, "pfwatch report: %s: no timeline in the file (an older pfwatch wrote it): --from and --to need one\n", path);
		return -1;
	}
	(void)parse_utc_time(in->start_time, &start);	/* unknown: offsets only */
	for (int end = 0; end < 2; end++) {
		const char *text = end ? opts->to : opts->from;

		if (text && timeline_offset_of(text, start.tv_sec, end ? &to : &from)) {
			fprintf(stderr, "pfwatch report: '%s' is not a time (seconds since the start, or HH:MM[:SS] after it)\n",
				text);
			return -1;
		}
	}
	if (timeline_window(&in->timeline, from, to, &win->first, &win->end)) {
		char end[32];

		snprintf(end, sizeof(end), "%.3f", in->timeline.end_s);
		fprintf(stderr, "pfwatch report: %s: no interval from %s to %s (the timeline covers 0 to %s s)\n",
			path, opts->from ? opts->from : "the start", opts->to ? opts->to : "the end",
			end);
		return -1;
	}
	win->set = true;
	return 0;
}

/* --timeline, -o FILE.html, or the summary (of the window, if one). */
static int report_single(const struct imported_run *in, const struct report_options *opts,
			 const struct report_window *win)
{
	struct timespec start = { 0 };
	struct winsize size;
	int rows = 40;

	if (opts->output_path) {
		struct export_target target = export_target_for(opts->output_path, FORMAT_HTML);

		return export_file(&target, &in->agg, &in->run);
	}
	if (!opts->timeline) {
		if (win->set)
			report_window(stdout, in, opts->files[0], win, opts->top);
		else
			report_one(stdout, in, opts->files[0], opts->top, opts->group);
		return 0;
	}
	if (!in->run.timeline) {
		fprintf(stderr, "pfwatch report: %s: no timeline in the file (an older pfwatch wrote it)\n",
			opts->files[0]);
		return -1;
	}
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) && size.ws_row > 6)
		rows = size.ws_row - 3;
	(void)parse_utc_time(in->start_time, &start);
	render_timeline(stdout, &in->timeline, start.tv_sec, rows, opts->all);
	return 0;
}

int report_main(int argc, char **argv)
{
	struct report_options opts;
	struct imported_run *runs;
	struct report_window wins[2] = { 0 };
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
	if (find_window(&runs[0], opts.files[0], &opts, &wins[0])) {
		/* said why */
	} else if (opts.nr_files == 1) {
		status = report_single(&runs[0], &opts, &wins[0]) ? 1 : 0;
	} else if (!load(&runs[1], opts.files[1], &opts)) {
		if (!find_window(&runs[1], opts.files[1], &opts, &wins[1])) {
			report_diff_windows(stdout, &runs[0], opts.files[0], &runs[1],
					    opts.files[1], opts.top, wins);
			status = 0;
		}
		import_free(&runs[1]);
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
