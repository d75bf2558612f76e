/*
 * pfwatch report's causes: the table after the summary, the comparison
 * of two runs, and the class filter, on hand-built runs; --from/--to's
 * window of a hand-built timeline.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "hist.h"
#include "report.h"

static struct imported_run runs[2];

/*
 * A run of one process: @faults anon_zero faults of 1 ms, @memcg_ns of
 * their time in memcg reclaim (in @waited of them), the rest cpu; and 4
 * file_read faults of 2 ms, 1.5 ms of each on I/O.
 */
static int build(struct imported_run *in, __u64 faults, __u64 memcg_ns, __u64 waited)
{
	struct process_record *p;
	struct fault_stats *s;

	memset(in, 0, sizeof(*in));
	aggregate_init(&in->agg);
	snprintf(in->backend, sizeof(in->backend), "perf");
	in->run.backend = in->backend;
	in->run.entry_hook = in->entry_hook;
	p = aggregate_add_record(&in->agg);
	if (!p)
		return -1;
	p->tgid = 10;
	snprintf(p->comm, COMM_LEN, "app");
	s = &p->stats;
	s->count[FAULT_ANON_ZERO] = faults;
	s->hist[FAULT_ANON_ZERO][hist_bucket(1000000)] = faults;
	s->latency_sum_ns[FAULT_ANON_ZERO] = faults * 1000000;
	s->cause_ns[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = memcg_ns;
	s->cause_faults[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = waited;
	s->count[FAULT_FILE_READ] = 4;
	s->hist[FAULT_FILE_READ][hist_bucket(2000000)] = 4;
	s->latency_sum_ns[FAULT_FILE_READ] = 8000000;
	s->cause_ns[FAULT_FILE_READ][CAUSE_IO] = 6000000;
	s->cause_faults[FAULT_FILE_READ][CAUSE_IO] = 4;
	stats_settle_cpu(s);
	return 0;
}

static char *report_text(bool diff)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (diff)
		report_diff(out, &runs[0], "a.json", &runs[1], "b.json", 10);
	else
		report_one(out, &runs[0], "a.json", 10, GROUP_PROCESS);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The line that starts with @start once its leading blanks are skipped. */
static const char *line_starting(const char *text, const char *start, char *line,
				 size_t size)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l += !!l) {
		const char *word = l + strspn(l, " ");

		if (!strncmp(word, start, strlen(start))) {
			snprintf(line, size, "%.*s", (int)strcspn(l, "\n"), l);
			return line;
		}
	}
	return NULL;
}

static void one_file_shows_where_the_time_went(void)
{
	char line[160], *text, *table;

	CHECK(!build(&runs[0], 100, 60000000, 30), "out of memory");
	text = report_text(false);
	CHECK(text && strstr(text, "where the time went, class by cause"), "no table:\n%s",
	      text ? text : "(none)");
	/* Once: the summary and the report share one renderer. */
	table = text ? strstr(text, "where the time went") : NULL;
	CHECK(table && !strstr(table + 1, "where the time went"), "the table twice:\n%s",
	      text ? text : "(none)");
	CHECK(text && line_starting(text, "anon_zero     100.0 ms  memcg_reclaim", line,
				    sizeof(line)) && strstr(line, "60.0 ms") &&
	      strstr(line, "60.0%") && strstr(line, " 30"), "anon_zero row:\n%s",
	      text ? text : "(none)");
	/* In the table, not in the class table above it. */
	CHECK(text && strstr(text, "where the time went") &&
	      line_starting(strstr(text, "where the time went"), "file_read", line,
			    sizeof(line)) &&
	      strstr(line, "io") && strstr(line, "75.0%"), "file_read row:\n%s",
	      text ? text : "(none)");
	free(text);
	import_free(&runs[0]);
}

/* A against B: each class's time, then each cause's time, change, shares. */
static void comparison_compares_causes(void)
{
	char line[160], *text;

	CHECK(!build(&runs[0], 100, 60000000, 30) && !build(&runs[1], 100, 0, 0),
	      "out of memory");
	text = report_text(true);
	CHECK(text, "no report");
	if (!text)
		goto out;
	CHECK(line_starting(text, "where the time went      A time", line, sizeof(line)),
	      "no comparison of causes:\n%s", text);
	CHECK(line_starting(text, "memcg_reclaim", line, sizeof(line)) &&
	      strstr(line, "60.0 ms") && strstr(line, "gone") && strstr(line, "60.0%"),
	      "memcg_reclaim row: %s", line);
	/* cpu: 40 ms in A, all 100 ms in B. */
	CHECK(line_starting(text, "cpu", line, sizeof(line)) && strstr(line, "40.0 ms") &&
	      strstr(line, "100.0 ms") && strstr(line, "+150.0%") && strstr(line, "40.0%") &&
	      strstr(line, "100.0%"), "anon_zero's cpu row: %s", line);
	CHECK(line_starting(text, "io", line, sizeof(line)) && strstr(line, "=") &&
	      strstr(line, "75.0%"), "io row: %s", line);
out:
	free(text);
	import_free(&runs[0]);
	import_free(&runs[1]);
}

/* --class file_read: no anon_zero causes left to show or add up. */
static void class_filter_drops_other_causes(void)
{
	struct report_options opts = { .class_mask = 1u << FAULT_FILE_READ, .top = 10 };
	const struct fault_stats *s;

	CHECK(!build(&runs[0], 100, 60000000, 30), "out of memory");
	CHECK(report_filter(&runs[0], &opts), "nothing kept");
	s = &runs[0].agg.records[0]->stats;
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		CHECK(!s->cause_ns[FAULT_ANON_ZERO][cause] &&
		      !s->cause_faults[FAULT_ANON_ZERO][cause], "anon_zero's %s kept",
		      fault_cause_name(cause));
	CHECK(s->cause_ns[FAULT_FILE_READ][CAUSE_IO] == 6000000, "file_read's io dropped");
	import_free(&runs[0]);
}

/* A timeline of 3 intervals of 1 s: 10, 500 and 20 anon_zero faults of 1 ms. */
static int add_timeline(struct imported_run *in)
{
	static const __u64 faults[3] = { 10, 500, 20 };
	struct timeline_top top = { .pid = 10, .comm = "app" };
	struct fault_stats *stats = calloc(1, sizeof(*stats));

	if (!stats || timeline_init(&in->timeline, 1, TIMELINE_MAX_INTERVALS)) {
		free(stats);
		return -1;
	}
	in->run.timeline = &in->timeline;
	for (int i = 0; i < 3; i++) {
		memset(stats, 0, sizeof(*stats));
		stats->count[FAULT_ANON_ZERO] = faults[i];
		stats->hist[FAULT_ANON_ZERO][hist_bucket(1000000)] = faults[i];
		stats->latency_sum_ns[FAULT_ANON_ZERO] = faults[i] * 1000000;
		top.faults = faults[i];
		top.ns = faults[i] * 1000000;
		if (timeline_append(&in->timeline, stats, &top, 1)) {
			free(stats);
			return -1;
		}
	}
	in->timeline.end_s = 2.5;
	free(stats);
	return 0;
}

static char *window_text(const struct report_window *wins, bool diff)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (diff)
		report_diff_windows(out, &runs[0], "a.json", &runs[1], "b.json", 10, wins);
	else
		report_window(out, &runs[0], "a.json", &wins[0], 10);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The window's counts, rate and top are its intervals', not the run's. */
static void window_holds_its_intervals_only(void)
{
	struct report_window wins[2] = { { true, 1, 2 }, { true, 2, 3 } };
	char line[160], *text;

	CHECK(!build(&runs[0], 100, 0, 0) && !add_timeline(&runs[0]) &&
	      !build(&runs[1], 100, 0, 0) && !add_timeline(&runs[1]), "out of memory");
	text = window_text(wins, false);
	CHECK(text && strstr(text, "From 1.000 s to 2.000 s of the run (1 of its 3 intervals"),
	      "no window line:\n%s", text ? text : "(none)");
	CHECK(text && line_starting(text, "anon_zero", line, sizeof(line)) &&
	      strstr(line, " 500"), "anon_zero: %s", text ? line : "(none)");
	CHECK(text && strstr(text, "500 faults in 1.000 s: 500 faults/s; time in faults: 500.0 ms"),
	      "totals:\n%s", text ? text : "(none)");
	CHECK(text && line_starting(text, "10 app", line, sizeof(line)) && strstr(line, "500"),
	      "top:\n%s", text ? text : "(none)");
	free(text);
	/* A: interval 1 (500), B: the last one, 0.5 s long (20). */
	text = window_text(wins, true);
	CHECK(text && line_starting(text, "anon_zero", line, sizeof(line)) &&
	      strstr(line, " 500 ") && strstr(line, " 20 ") && strstr(line, "-96.0%"),
	      "anon_zero A against B: %s", text ? line : "(none)");
	CHECK(text && line_starting(text, "faults/s", line, sizeof(line)) &&
	      strstr(line, " 500 ") && strstr(line, " 40 "), "faults/s: %s", text ? line : "(none)");
	CHECK(text && line_starting(text, "app", line, sizeof(line)) && strstr(line, "500") &&
	      strstr(line, "20"), "commands: %s", text ? line : "(none)");
	free(text);
	import_free(&runs[0]);
	import_free(&runs[1]);
}

int main(void)
{
	check.binary = "test_report";
	RUN(one_file_shows_where_the_time_went);
	RUN(comparison_compares_causes);
	RUN(class_filter_drops_other_causes);
	RUN(window_holds_its_intervals_only);
	return check.failures ? 1 : 0;
}
