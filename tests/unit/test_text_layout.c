/* Live screen layouts: what a person reads, checked without a terminal. */
#include <stdlib.h>
#include "check.h"
#include "hist.h"
#include "text_layout.h"
#include "where.h"

static struct view_row views[3];

static void make_rows(struct layout_row rows[3])
{
	static const char *const comms[] = { "zeta", "alpha", "mid" };
	static const double minor[] = { 10, 12345, 500 };

	for (int i = 0; i < 3; i++) {
		memset(&views[i], 0, sizeof(views[i]));
		views[i].tgid = 300 - (__u32)i * 100;
		snprintf(views[i].comm, COMM_LEN, "%s", comms[i]);
		views[i].rates.per_s[KIND_MINOR] = minor[i];
		views[i].fault_ms_per_s = minor[i] / 1000;
		views[i].hist[hist_bucket(1700)] = 1;
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].view = &views[i];
		snprintf(rows[i].user, sizeof(rows[i].user), "root");
		rows[i].p50_ns = 1700;
		rows[i].p99_ns = 45000;
		rows[i].rss_kib = 20480;
	}
}

static void lines_fit_80_columns(void)
{
	struct layout_row rows[3];
	char line[256];
	int start, width;

	make_rows(rows);

	layout_title_line(line, sizeof(line), true);
	CHECK(!strncmp(line, "    TID USER", 12), "thread title: %s", line);
	layout_title_line(line, sizeof(line), false);
	CHECK(strlen(line) <= 80, "title is %zu wide: %s", strlen(line), line);
	CHECK(strstr(line, "MINOR/s") && strstr(line, "PID") && strstr(line, "RSS"),
	      "title: %s", line);
	layout_column_span(COL_MINOR, &start, &width);
	CHECK(!strncmp(line + start, "MINOR/s", (size_t)width), "span %d+%d in %s",
	      start, width, line);
	layout_row_line(line, sizeof(line), &rows[1]);
	CHECK(strlen(line) <= 80, "row is %zu wide: %s", strlen(line), line);
	CHECK(strstr(line, "200") && strstr(line, "alpha") && strstr(line, "12.3k") &&
	      strstr(line, "1.7us") && strstr(line, "45us") && strstr(line, "20M"),
	      "row: %s", line);
}

/* The top cause ends the row; latencies and sizes keep to five columns. */
static void row_names_its_top_cause_in_80_columns(void)
{
	static const __u64 edges[] = { 999, 9949, 9950, 999499, 999500, 9949999,
				       9950000, 999499999, 999500000, 9949999999ULL,
				       9950000000ULL, 68000000000ULL };
	struct layout_row rows[3];
	char line[256];

	make_rows(rows);
	layout_row_line(line, sizeof(line), &rows[0]);
	CHECK(strlen(line) >= 5 && !strcmp(line + strlen(line) - 5, "-    "),
	      "no cause timed, yet: '%s'", line);
	views[0].cause_ns[CAUSE_CPU] = 100;
	views[0].cause_ns[CAUSE_MEMCG_RECLAIM] = 900;
	views[1].cause_ns[CAUSE_CPU] = 100;
	views[2].cause_ns[CAUSE_IO] = 60;
	views[2].cause_ns[CAUSE_CPU] = 40;
	layout_row_line(line, sizeof(line), &rows[0]);
	CHECK(strlen(line) <= 80 && !strcmp(line + strlen(line) - 5, "memcg"), "'%s'", line);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		rows[1].p50_ns = rows[1].p99_ns = edges[i];
		rows[1].rss_kib = edges[i];
		views[1].cause_ns[CAUSE_COMPACTION] = edges[i];
		layout_row_line(line, sizeof(line), &rows[1]);
		CHECK(strlen(line) <= 80, "%llu: %zu wide: %s", (unsigned long long)edges[i],
		      strlen(line), line);
	}
	/* W sorts by the share of time spent waiting: 90%, 60%, then 0. */
	views[1].cause_ns[CAUSE_COMPACTION] = 0;
	layout_sort(rows, 3, COL_CAUSE);
	CHECK(rows[0].view == &views[0] && rows[1].view == &views[2] &&
	      rows[2].view == &views[1], "order %u %u %u", rows[0].view->tgid,
	      rows[1].view->tgid, rows[2].view->tgid);
	CHECK(layout_column_for_key('W') == COL_CAUSE &&
	      !strcmp(layout_cause_short(CAUSE_DIRECT_RECLAIM), "recl") &&
	      !strcmp(layout_cause_short(-1), "-"), "keys and names");
}

static void causes_line_most_time_first(void)
{
	__u64 causes[NR_FAULT_CAUSES] = { [CAUSE_MEMCG_RECLAIM] = 2220000000ULL,
					  [CAUSE_CPU] = 93000000 };
	char line[256];

	layout_causes_line(line, sizeof(line), causes);
	CHECK(!strcmp(line, "causes   memcg_reclaim 2.2s 96%  cpu 93ms 4% "), "'%s'", line);
	memset(causes, 0, sizeof(causes));
	layout_causes_line(line, sizeof(line), causes);
	CHECK(!strcmp(line, "causes   (no timed fault)"), "'%s'", line);
}

static void sort_follows_the_column(void)
{
	struct layout_row rows[3];

	make_rows(rows);
	layout_sort(rows, 3, COL_MINOR);
	CHECK(rows[0].view->rates.per_s[KIND_MINOR] == 12345 &&
	      rows[2].view->rates.per_s[KIND_MINOR] == 10, "minor not largest first");
	layout_sort(rows, 3, COL_COMM);
	CHECK(!strcmp(rows[0].view->comm, "alpha") &&
	      !strcmp(rows[2].view->comm, "zeta"), "comm not in order");
	layout_sort(rows, 3, COL_PID);
	CHECK(rows[0].view->tgid == 100 && rows[2].view->tgid == 300,
	      "pid not in order");
	for (int c = 0; c < NR_LAYOUT_COLUMNS; c++)
		CHECK(layout_column_for_key(layout_column_key(c)) == c, "key of column %d", c);
	CHECK(layout_column_for_key('q') < 0, "q sorts");
}

static void histogram_lines_and_marks(void)
{
	static __u64 minor[HIST_BUCKETS], major[HIST_BUCKETS];
	struct layout_hist_line lines[HIST_MAX_POW2 + 2];
	size_t n;

	minor[hist_bucket(1500)] = 1000;	/* line [1024, 2048) ns */
	major[hist_bucket(100000)] = 10;	/* line [65536, 131072) ns */
	n = layout_hist_layout(minor, major, 20, lines, 40);
	CHECK(n == 7, "%zu lines, want 1024 ns to 65536 ns: 7", n);
	CHECK(lines[0].low_ns == 1024 && lines[0].minor == 1000 &&
	      lines[0].minor_bar == 20 && !lines[0].major, "first line wrong");
	CHECK(!strcmp(lines[0].marks, "p50 p99"), "marks %s", lines[0].marks);
	CHECK(lines[6].low_ns == 65536 && lines[6].major == 10 &&
	      lines[6].major_bar > 0 && lines[6].major_bar < 20 &&
	      !strcmp(lines[6].marks, "max"), "last line wrong");
	CHECK(!strcmp(lines[6].landmark, "~ SSD read"), "landmark %s", lines[6].landmark);
	for (size_t i = 1; i < 6; i++)
		CHECK(!lines[i].minor && !lines[i].major && !lines[i].minor_bar,
		      "line %zu not empty", i);
	n = layout_hist_layout(minor, major, 20, lines, 3);
	CHECK(n == 3 && lines[2].low_ns == 65536, "clipping dropped the slowest");
	memset(minor, 0, sizeof(minor));
	memset(major, 0, sizeof(major));
	CHECK(layout_hist_layout(minor, major, 20, lines, 40) == 0, "empty histogram drew");
}

static void histogram_text_lines(void)
{
	static __u64 minor[HIST_BUCKETS], major[HIST_BUCKETS];
	struct layout_hist_line lines[HIST_MAX_POW2 + 2];
	char text[256], title[256];
	int minor_at, major_at;
	size_t n;

	minor[hist_bucket(700)] = 12345;	/* line [512, 1024) ns */
	major[hist_bucket(6000000)] = 3;	/* line [4.2, 8.4) ms */
	n = layout_hist_layout(minor, major, 15, lines, 40);
	CHECK(n == 14, "%zu lines", n);
	layout_hist_bar_starts(15, &minor_at, &major_at);
	layout_hist_title(title, sizeof(title), 15);
	CHECK(strlen(title) <= 80 && !strncmp(title + minor_at, "minor", 5) &&
	      !strncmp(title + major_at, "major", 5), "title: %s", title);
	layout_hist_text(text, sizeof(text), &lines[0], 15);
	CHECK(strlen(text) <= 80, "line is %zu wide: %s", strlen(text), text);
	CHECK(!strncmp(text, "  512ns ", 8) &&
	      !strncmp(text + minor_at, "===============", 15) &&
	      text[major_at] == ' ' && strstr(text, "12.3k") &&
	      strstr(text, "p50 p99 ~ minor fault"), "fast line: %s", text);
	layout_hist_text(text, sizeof(text), &lines[n - 1], 15);
	CHECK(text[minor_at] == ' ' && text[major_at] == '#' &&
	      strstr(text, "4.2ms") && strstr(text, "max ~ disk read"),
	      "slow line: %s", text);
	layout_hist_text(text, sizeof(text), &lines[0], 4);
	CHECK(!strncmp(text + minor_at, "==== ", 5), "bar not clipped: %s", text);
}

static void row_without_latency_shows_dashes(void)
{
	struct layout_row rows[3];
	char line[256];

	make_rows(rows);
	views[0].rates.per_s[KIND_MINOR] = 0;
	views[0].rates.per_s[KIND_INVALID] = 2;
	memset(views[0].hist, 0, sizeof(views[0].hist));
	rows[0].p50_ns = rows[0].p99_ns = 0;
	layout_row_line(line, sizeof(line), &rows[0]);
	CHECK(strstr(line, " - ") && !strstr(line, "0ns"), "row: %s", line);
}

static void sparkline_scales_to_its_peak(void)
{
	const double samples[] = { 0, 5, 10 };
	char out[8];

	layout_sparkline(samples, 3, out, sizeof(out));
	CHECK(!strcmp(out, " =#"), "sparkline '%s'", out);
	layout_sparkline(samples, 3, out, 3);
	CHECK(!strcmp(out, "=#"), "narrow sparkline '%s' (keeps the newest)", out);
}

static void where_lines_fit_80_columns(void)
{
	static char long_path[] = "/very/long/directory/name/that/goes/on/and/on/libexample.so.1";
	struct where_mapping m = { .kind = MAPPING_FILE, .path = long_path,
				   .latency_ns = 1500000 };
	struct where_file f = { .path = long_path, .majors = 3, .sequential = 1,
				.random = 1, .heat_shift = 20, .last_offset = 5ULL << 20 };
	char line[256];

	m.count[FAULT_FILE_READ] = 12345;
	m.count[FAULT_FILE_CACHED] = 7;
	f.heat[0] = 2;
	f.heat[5] = 1;
	layout_mapping_title(line, sizeof(line));
	CHECK(strlen(line) <= 80, "mapping title %zu columns", strlen(line));
	layout_mapping_line(line, sizeof(line), &m);
	CHECK(strlen(line) <= 80, "mapping line %zu columns: %s", strlen(line), line);
	CHECK(strstr(line, "...") && strstr(line, "libexample.so.1"), "path end kept: %s", line);
	CHECK(strstr(line, " 12.3k ") && strstr(line, " 7 ") && strstr(line, "1.5 ms"),
	      "counts: %s", line);
	m.path = (char[]){ "" };
	m.kind = MAPPING_ANON;
	m.start = 0x7f0000000000;
	m.end = 0x7f0000001000;
	layout_mapping_line(line, sizeof(line), &m);
	CHECK(!strncmp(line, "anon    7f0000000000-7f0000001000", 33), "anon: %s", line);
	layout_file_title(line, sizeof(line));
	CHECK(strlen(line) <= 80, "file title %zu columns", strlen(line));
	layout_file_line(line, sizeof(line), &f, 4096);
	CHECK(strlen(line) <= 80, "file line %zu columns: %s", strlen(line), line);
	CHECK(strstr(line, " 3 ") && strstr(line, "12.0KiB") && strstr(line, " 50% ") &&
	      strstr(line, "@    +"), "file line: %s", line);
}

/* A cgroup row: its numbers in the process table's columns, its path last. */
static void cgroup_rows_keep_the_columns(void)
{
	struct cgroup_row cgroup = { .processes = 3 };
	struct layout_row row = { .view = &cgroup.view };
	char title[256], process_title[256], line[256];
	int start, width;
	unsigned procs;
	char minor[16], major[16], fault_ms[16], cause[16], path[64];

	snprintf(cgroup.name, sizeof(cgroup.name), "nginx.service");
	snprintf(cgroup.path, sizeof(cgroup.path), "/system.slice/nginx.service");
	cgroup.view.rates.per_s[KIND_MINOR] = 12300;
	cgroup.view.rates.per_s[KIND_MAJOR] = 4;
	cgroup.view.fault_ms_per_s = 1.5;
	cgroup.view.cause_ns[CAUSE_IO] = 100;
	layout_cgroup_title_line(title, sizeof(title));
	layout_title_line(process_title, sizeof(process_title), false);
	layout_cgroup_row_line(line, sizeof(line), &row);
	for (int c = COL_MINOR; c <= COL_FAULT_MS; c++) {
		layout_column_span(c, &start, &width);
		CHECK(!strncmp(title + start, process_title + start, (size_t)width),
		      "column %d moved:\n%s\n%s", c, title, process_title);
	}
	CHECK(sscanf(line, "%u nginx.service %15s %15s 0 - - %15s %15s %63s", &procs, minor,
		     major, fault_ms, cause, path) == 6 && procs == 3 &&
	      !strcmp(minor, "12.3k") && !strcmp(major, "4") && !strcmp(fault_ms, "1.50") &&
	      !strcmp(cause, "io") && !strcmp(path, "/system.slice/nginx.service"),
	      "'%s'", line);
	CHECK(strstr(title, "PROCS") && strstr(title, "CGROUP") && strstr(title, "PATH"),
	      "'%s'", title);
}

int main(void)
{
	check.binary = "test_text_layout";
	RUN(lines_fit_80_columns);
	RUN(cgroup_rows_keep_the_columns);
	RUN(row_names_its_top_cause_in_80_columns);
	RUN(causes_line_most_time_first);
	RUN(sort_follows_the_column);
	RUN(histogram_lines_and_marks);
	RUN(histogram_text_lines);
	RUN(row_without_latency_shows_dashes);
	RUN(sparkline_scales_to_its_peak);
	RUN(where_lines_fit_80_columns);
	return check.failures ? 1 : 0;
}
