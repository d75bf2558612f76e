/* Plain-text tables for terminals, pipes and logs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hints.h"
#include "hist.h"
#include "render_cgroups.h"
#include "render_causes.h"
#include "render_text.h"
#include "text_layout.h"
#include "view.h"

const char *format_ns(char *buf, size_t size, __u64 ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%llu ns", (unsigned long long)ns);
	else if (ns < 10000)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else if (ns < 1000000)
		snprintf(buf, size, "%.0f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, size, "%.2f s", ns / 1e9);
	return buf;
}

const char *format_bytes(char *buf, size_t size, __u64 bytes)
{
	if (bytes < 10240)
		snprintf(buf, size, "%lluB", (unsigned long long)bytes);
	else if (bytes < 10ULL << 20)
		snprintf(buf, size, "%.1fKiB", bytes / 1024.0);
	else if (bytes < 10ULL << 30)
		snprintf(buf, size, "%.1fMiB", bytes / 1048576.0);
	else
		snprintf(buf, size, "%.1fGiB", bytes / 1073741824.0);
	return buf;
}

static void print_header_line(FILE *out, const struct view_row *rows,
			      size_t nr_rows)
{
	struct kind_rates rates;
	double fault_ms;
	char stamp[16];
	time_t now = time(NULL);
	struct tm local;

	view_totals(rows, nr_rows, &rates, &fault_ms);
	if (!localtime_r(&now, &local) ||
	    !strftime(stamp, sizeof(stamp), "%H:%M:%S", &local))
		strcpy(stamp, "--:--:--");
	fprintf(out, "%s  faults/s: minor %.0f  major %.0f  invalid %.0f  |  time in faults %.2f ms/s\n",
		stamp, rates.per_s[KIND_MINOR], rates.per_s[KIND_MAJOR],
		rates.per_s[KIND_INVALID], fault_ms);
}

static void print_process_rates(FILE *out, const struct view_row *rows,
				size_t nr_rows, int top)
{
	char p50[16], p99[16];

	fprintf(out, "%8s %-16s %10s %9s %9s %9s %9s %11s\n", "PID", "COMM",
		"MINOR/s", "MAJOR/s", "INVAL/s", "p50", "p99", "FAULT ms/s");
	for (size_t i = 0; i < nr_rows && (int)i < top; i++) {
		const struct view_row *row = &rows[i];

		fprintf(out, "%8u %-16s %10.0f %9.0f %9.0f %9s %9s %11.2f\n",
			row->tgid, row->comm,
			row->rates.per_s[KIND_MINOR], row->rates.per_s[KIND_MAJOR],
			row->rates.per_s[KIND_INVALID],
			format_ns(p50, sizeof(p50), hist_percentile(row->hist, 0.50)),
			format_ns(p99, sizeof(p99), hist_percentile(row->hist, 0.99)),
			row->fault_ms_per_s);
	}
}

void render_interval(FILE *out, const struct aggregate *agg,
		     const struct run_info *run, double interval_s, int top,
		     enum row_group group)
{
	size_t nr_rows;
	struct view_row *rows = view_rows(agg, interval_s, &nr_rows);

	if (!rows) {
		fputs("pfwatch: out of memory drawing the table\n", out);
		return;
	}
	print_header_line(out, rows, nr_rows);
	if (group == GROUP_CGROUP)
		render_cgroup_rates(out, rows, nr_rows, run->cgroup_names, top);
	else
		print_process_rates(out, rows, nr_rows, top);
	fputc('\n', out);
	fflush(out);
	free(rows);
}

static void print_class_table(FILE *out, const struct fault_stats *total)
{
	__u64 all = class_counts_total(total->count);
	char cells[5][16];

	fprintf(out, "  %-12s %12s %7s %9s %9s %9s %9s %9s\n", "class",
		"count", "share", "p50", "p90", "p99", "p99.9", "max");
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		struct latency_summary lat;

		hist_summarize(total->hist[c], total->latency_sum_ns[c], &lat);
		fprintf(out, "  %-12s %12llu %6.1f%% %9s %9s %9s %9s %9s\n",
			fault_class_name(c), (unsigned long long)total->count[c],
			all ? 100.0 * total->count[c] / all : 0.0,
			lat.count ? format_ns(cells[0], 16, lat.p50) : "-",
			lat.count ? format_ns(cells[1], 16, lat.p90) : "-",
			lat.count ? format_ns(cells[2], 16, lat.p99) : "-",
			lat.count ? format_ns(cells[3], 16, lat.p999) : "-",
			lat.count ? format_ns(cells[4], 16, lat.max) : "-");
	}
}

/* What rusage covers beyond the command and the children it waited for. */
static void print_orphans_note(FILE *out, const struct process_record *command)
{
	if (command->rusage_orphans)
		fprintf(out, "  %-12s %12s          (rusage includes %llu orphan%s pfwatch reaped)\n",
			"", "", (unsigned long long)command->rusage_orphans,
			command->rusage_orphans == 1 ? "" : "s");
	if (command->rusage_orphans_running)
		fprintf(out, "  %-12s %12s          (orphans still running are counted above, not in rusage)\n",
			"", "");
}

static void print_kind_totals(FILE *out, const struct fault_stats *total,
			      const struct process_record *command)
{
	__u64 minor = stats_kind_count(total, KIND_MINOR);
	__u64 major = stats_kind_count(total, KIND_MAJOR);

	if (command && command->has_rusage) {
		fprintf(out, "  %-12s %12llu          (wait4 rusage minflt %llu)\n",
			"minor", (unsigned long long)minor,
			(unsigned long long)command->rusage_minflt);
		fprintf(out, "  %-12s %12llu          (wait4 rusage majflt %llu)\n",
			"major", (unsigned long long)major,
			(unsigned long long)command->rusage_majflt);
		print_orphans_note(out, command);
	} else {
		fprintf(out, "  %-12s %12llu\n", "minor", (unsigned long long)minor);
		fprintf(out, "  %-12s %12llu\n", "major", (unsigned long long)major);
	}
	fprintf(out, "  %-12s %12llu\n", "invalid",
		(unsigned long long)stats_kind_count(total, KIND_INVALID));
}

static void print_busiest(FILE *out, const struct aggregate *agg, int top)
{
	const struct process_record **order;
	size_t n = agg->nr_records;
	char time_cell[16];

	if (n < 2)
		return;
	order = calloc(n, sizeof(*order));
	if (!order)
		return;
	memcpy(order, agg->records, n * sizeof(*order));
	qsort(order, n, sizeof(*order), records_by_time_in_faults);
	fprintf(out, "\n  %8s %-16s %12s %9s %9s %12s\n", "PID", "COMM",
		"minor", "major", "invalid", "in faults");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct fault_stats *stats = &order[i]->stats;
		char pid_cell[24];

		/* Folded records stand for many exited processes. */
		if (order[i]->folded)
			snprintf(pid_cell, sizeof(pid_cell), "%llux",
				 (unsigned long long)order[i]->folded);
		else
			snprintf(pid_cell, sizeof(pid_cell), "%u", order[i]->tgid);
		fprintf(out, "  %8s %-16s %12llu %9llu %9llu %12s\n",
			pid_cell, order[i]->comm,
			(unsigned long long)stats_kind_count(stats, KIND_MINOR),
			(unsigned long long)stats_kind_count(stats, KIND_MAJOR),
			(unsigned long long)stats_kind_count(stats, KIND_INVALID),
			format_ns(time_cell, sizeof(time_cell),
				  stats_latency_sum(stats)));
	}
	free(order);
}

#define INVALID_SHOWN 5

/* The first invalid faults, where they hit: what a crash hunt starts from. */
static void print_invalid(FILE *out, const struct aggregate *agg)
{
	if (!agg->nr_invalid)
		return;
	fprintf(out, "\n  first invalid faults (%llu in all; all kept ones are in the JSON):\n",
		(unsigned long long)agg->invalid_events);
	for (size_t i = 0; i < agg->nr_invalid && i < INVALID_SHOWN; i++) {
		const struct invalid_fault *f = &agg->invalid[i];

		const char *where = f->event.fault_class == FAULT_SEGV_MAPERR
				    ? "unmapped" : "mapping unknown (process gone)";

		fprintf(out, "  %8u %-16s %-12s addr 0x%llx ip 0x%llx %s %s %s\n",
			f->event.tgid, f->event.comm,
			fault_class_name(f->event.fault_class),
			(unsigned long long)f->event.address,
			(unsigned long long)f->event.ip,
			f->mapped ? f->mapping_kind : where,
			f->mapped ? f->perms : "", f->mapped ? f->path : "");
	}
}

/* Lost events: how many, on which CPUs, and which numbers fall short. */
void render_lost_events(FILE *out, const struct run_info *run, const char *whose)
{
	static const char *const shortfall[NR_LOST_KINDS] = {
		[DIAG_LOST_EXIT] = "process exits: noticed by polling instead, later",
		[DIAG_LOST_INVALID] = "invalid faults: missing from the list of invalid faults (their counts are complete)",
		[DIAG_LOST_FAULT] = "fault records: the where tables and --min-latency lines miss these faults",
		[DIAG_LOST_STACK] = "stack samples: the folded stacks and the where tables miss these faults",
	};
	__u64 lost = run_lost_events(run);
	unsigned shown = 0;

	if (!lost)
		return;
	fprintf(out, "  WARNING: %s%llu events lost, the ring buffer was full", whose,
		(unsigned long long)lost);
	for (unsigned cpu = 0; run->lost_per_cpu && cpu < run->nr_cpus; cpu++) {
		if (!run->lost_per_cpu[cpu])
			continue;
		if (shown++ == 8) {
			fputs(", ...", out);
			break;
		}
		fprintf(out, "%scpu%u %llu", shown == 1 ? " (" : ", ", cpu,
			(unsigned long long)run->lost_per_cpu[cpu]);
	}
	fprintf(out, "%s; fault counts and latency histograms are complete, but:\n",
		shown ? ")" : "");
	for (int kind = 0; kind < NR_LOST_KINDS; kind++)
		if (run->diag[kind])
			fprintf(out, "    %llu %s\n", (unsigned long long)run->diag[kind],
				shortfall[kind]);
}

/* What this backend and kernel file under other classes, or time as other causes. */
static void print_blind_spots(FILE *out, const struct run_info *run)
{
	static const char *const class_why[NR_FAULT_CLASSES] = {
		[FAULT_UFFD] = "perf needs bpf_find_vma, Linux 5.17+: in other classes",
		[FAULT_NUMA_HINT] = "kernel.numa_balancing was off at start",
	};
	static const char *const cause_why[NR_FAULT_CAUSES] = {
		[CAUSE_MMAP_LOCK] = "no lock:contention_begin before Linux 5.19: sleep or cpu",
		[CAUSE_COMPACTION] = "the kernel has no CONFIG_COMPACTION",
		[CAUSE_WRITEBACK] = "no writeback wait tracepoint: counted as io",
	};

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (run->unseparated_classes & (1u << c))
			fprintf(out, "  not separated here: %s (%s)\n", fault_class_name(c),
				class_why[c] ? class_why[c] : "not told apart");
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (run->unmeasured_causes & (1u << cause))
			fprintf(out, "  not measured here: %s (%s)\n", fault_cause_name(cause),
				cause_why[cause] ? cause_why[cause] : "not timed");
}

static void print_diagnostics(FILE *out, const struct run_info *run)
{
	render_lost_events(out, run, "");
	if (run->diag[DIAG_SLOTS_EXHAUSTED])
		fprintf(out, "  WARNING: %llu processes found no free slot and are counted as <other>\n",
			(unsigned long long)run->diag[DIAG_SLOTS_EXHAUSTED]);
	if (run->diag[DIAG_UNTRACED_CHILDREN])
		fprintf(out, "  WARNING: %llu child processes were not traced: %d traced processes were alive at once; trace by --cgroup or -C, which have no such limit\n",
			(unsigned long long)run->diag[DIAG_UNTRACED_CHILDREN],
			MAX_TRACED_TGIDS);
	if (run->diag[DIAG_THREADS_UNTRACKED])
		fprintf(out, "  WARNING: %llu threads were not traced: this kernel (before 5.11) keeps %d threads' states at once; their faults are in no count\n",
			(unsigned long long)run->diag[DIAG_THREADS_UNTRACKED],
			MAX_HASHED_THREADS);
	if (run->diag[DIAG_OUTCOMES_MISSED])
		fprintf(out, "  WARNING: the kernel skipped the outcome program %llu times (a run of it was preempted on the same CPU): those faults are uncounted; on a fully preemptible kernel use --backend kprobe\n",
			(unsigned long long)run->diag[DIAG_OUTCOMES_MISSED]);
}

#define HINT_WIDTH 78

/* @text as lines of HINT_WIDTH at most, cut at spaces, after "  - ". */
static void print_wrapped(FILE *out, const char *text)
{
	const int room = HINT_WIDTH - 4;
	const char *lead = "  - ";

	while (*text) {
		int len = (int)strlen(text), cut = len;

		if (len > room) {
			for (cut = room; cut > 0 && text[cut] != ' '; cut--)
				;
			if (!cut)	/* one word longer than the line */
				cut = room;
		}
		fprintf(out, "%s%.*s\n", lead, cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		lead = "    ";
	}
}

/* What the figures point at, after them. */
static void print_hints(FILE *out, const struct aggregate *agg,
			const struct run_info *run)
{
	struct hint hints[MAX_HINTS];
	size_t n = hints_find(agg, run, hints);

	if (!n)
		return;
	fputs("\n Hints:\n", out);
	for (size_t i = 0; i < n; i++)
		print_wrapped(out, hints[i].text);
}

void render_summary(FILE *out, const struct aggregate *agg,
		    const struct run_info *run, int top, enum row_group group)
{
	struct fault_stats *total = malloc(sizeof(*total));
	const struct process_record *command = NULL;
	__u64 all, time_ns;
	char time_cell[16];

	if (!total) {
		fputs("pfwatch: out of memory for the summary\n", out);
		return;
	}
	aggregate_totals(agg, total);
	all = class_counts_total(total->count);
	time_ns = stats_latency_sum(total);
	fputc('\n', out);
	if (run->command) {
		fputs(" Page faults of '", out);
		for (char **arg = run->command; *arg; arg++)
			fprintf(out, "%s%s", arg == run->command ? "" : " ", *arg);
		fputs("'", out);
		for (size_t i = 0; i < agg->nr_records && !command; i++)
			if (agg->records[i]->has_rusage)
				command = agg->records[i];
	} else {
		fprintf(out, " Page faults of %zu process%s", agg->nr_records,
			agg->nr_records == 1 ? "" : "es");
	}
	fprintf(out, " (pfwatch %s, backend %s):\n\n", PFWATCH_VERSION, run->backend);
	print_class_table(out, total);
	fputc('\n', out);
	print_kind_totals(out, total, command);
	fputc('\n', out);
	render_causes(out, total);
	print_blind_spots(out, run);
	fputc('\n', out);
	fprintf(out, "  %llu faults in %.3f s: %.0f faults/s\n",
		(unsigned long long)all, run->elapsed_s,
		run->elapsed_s > 0 ? all / run->elapsed_s : 0.0);
	fprintf(out, "  time in faults: %s (%.2f%% of wall time)\n",
		format_ns(time_cell, sizeof(time_cell), time_ns),
		run->elapsed_s > 0 ? 100.0 * time_ns / 1e9 / run->elapsed_s : 0.0);
	print_diagnostics(out, run);
	print_invalid(out, agg);
	if (group == GROUP_CGROUP)
		render_cgroup_totals(out, agg, run->cgroup_names, top);
	else if (!run->command)
		print_busiest(out, agg, top);
	print_hints(out, agg, run);
	fputc('\n', out);
	fflush(out);
	free(total);
}

#define HIST_TEXT_BAR 24

void render_histogram(FILE *out, const struct fault_stats *stats)
{
	__u64 minor[HIST_BUCKETS], major[HIST_BUCKETS];
	struct layout_hist_line lines[HIST_MAX_POW2 + 2];
	char text[256];
	size_t n;

	stats_kind_hist(stats, KIND_MINOR, minor);
	stats_kind_hist(stats, KIND_MAJOR, major);
	n = layout_hist_layout(minor, major, HIST_TEXT_BAR, lines,
			    sizeof(lines) / sizeof(lines[0]));
	if (!n)
		return;
	fputs(" Latency of minor (=) and major (#) faults, one line per power of two:\n\n", out);
	layout_hist_title(text, sizeof(text), HIST_TEXT_BAR);
	fprintf(out, "  %s\n", text);
	for (size_t i = 0; i < n; i++) {
		layout_hist_text(text, sizeof(text), &lines[i], HIST_TEXT_BAR);
		fprintf(out, "  %s\n", text);
	}
	fputc('\n', out);
}

void render_fault_header(FILE *out)
{
	fprintf(out, "%-7s %-7s %-15s %-12s %10s %-18s %-24s %-20s %s\n", "PID", "TID",
		"COMM", "CLASS", "LAT(us)", "ADDRESS", "FUNCTION", "SOURCE",
		"MAPPING[: CAUSES]");
}

const char *format_fault_causes(char *buf, size_t size, __u32 latency_ns,
				const __u32 wait_ns[NR_WAIT_CAUSES])
{
	__u64 ns[NR_FAULT_CAUSES], waits = 0;
	bool shown[NR_FAULT_CAUSES] = { false };
	size_t at = 0;

	for (int cause = 0; cause < NR_WAIT_CAUSES; cause++)
		waits += ns[cause] = wait_ns[cause];
	ns[CAUSE_CPU] = latency_ns > waits ? latency_ns - waits : 0;
	buf[0] = '\0';
	for (int n = 0; n < NR_FAULT_CAUSES && at < size; n++) {
		int longest = -1;
		char time[16];

		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
			if (!shown[cause] && ns[cause] &&
			    (longest < 0 || ns[cause] > ns[longest]))
				longest = cause;
		if (longest < 0)
			break;
		shown[longest] = true;
		at += (size_t)snprintf(buf + at, size - at, "%s%s %s", n ? ", " : ": ",
				       fault_cause_name(longest),
				       format_ns(time, sizeof(time), ns[longest]));
	}
	return buf;
}

void render_fault_record(FILE *out, const struct fault_record *record,
			 const __u32 *wait_ns, const char *comm, const char *mapping,
			 const char *function, const char *source)
{
	char causes[256] = "";

	if (wait_ns)
		format_fault_causes(causes, sizeof(causes), record->latency_ns, wait_ns);
	fprintf(out, "%-7u %-7u %-15.15s %-12s %10.1f 0x%016llx %-24s %-20s %s%s\n",
		record->tgid, record->tid, comm,
		fault_class_name(record->fault_class), record->latency_ns / 1e3,
		(unsigned long long)record->address, function, source, mapping, causes);
}
