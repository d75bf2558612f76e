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

int main(void)
{
	check.binary = "test_text_layout";
	RUN(lines_fit_80_columns);
	RUN(sort_follows_the_column);
	RUN(histogram_lines_and_marks);
	RUN(histogram_text_lines);
	RUN(row_without_latency_shows_dashes);
	RUN(sparkline_scales_to_its_peak);
	RUN(where_lines_fit_80_columns);
	return check.failures ? 1 : 0;
}
