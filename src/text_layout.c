/* Text layouts: the live screen's lines and the summary's histogram. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "render_cgroups.h"
#include "render_text.h"
#include "text_layout.h"
#include "where.h"

static const struct {
	const char *title;
	int width;
	char key;
} columns[NR_LAYOUT_COLUMNS] = {
	[COL_PID] = { "PID", 7, 'P' },
	[COL_USER] = { "USER", 5, 'U' },
	[COL_COMM] = { "COMM", 11, 'C' },
	[COL_MINOR] = { "MINOR/s", 7, 'N' },
	[COL_MAJOR] = { "MAJOR/s", 7, 'J' },
	[COL_INVALID] = { "INVAL/s", 7, 'I' },
	[COL_P50] = { "P50", 5, '5' },
	[COL_P99] = { "P99", 5, '9' },
	[COL_FAULT_MS] = { "FLTms/s", 7, 'T' },
	[COL_RSS] = { "RSS", 4, 'R' },
	[COL_CAUSE] = { "CAUSE", 5, 'W' },
};

int layout_top_cause(const struct view_row *view)
{
	int top = -1;

	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (view->cause_ns[cause] &&
		    (top < 0 || view->cause_ns[cause] > view->cause_ns[top]))
			top = cause;
	return top;
}

const char *layout_cause_short(int cause)
{
	static const char *const names[NR_FAULT_CAUSES] = {
		[CAUSE_IO] = "io", [CAUSE_DIRECT_RECLAIM] = "recl",
		[CAUSE_MEMCG_RECLAIM] = "memcg", [CAUSE_COMPACTION] = "cmpct",
		[CAUSE_MMAP_LOCK] = "mmap", [CAUSE_WRITEBACK] = "wback",
		[CAUSE_RUNQUEUE] = "runq", [CAUSE_SLEEP] = "sleep", [CAUSE_CPU] = "cpu",
	};

	return cause >= 0 && cause < NR_FAULT_CAUSES ? names[cause] : "-";
}

/* The share of a row's time in faults spent waiting: what W sorts by. */
static double waiting_share(const struct view_row *view)
{
	__u64 all = 0, waits = 0;

	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
		all += view->cause_ns[cause];
		if (cause != CAUSE_CPU)
			waits += view->cause_ns[cause];
	}
	return all ? (double)waits / (double)all : 0;
}

int layout_column_key(enum layout_column column)
{
	return column < NR_LAYOUT_COLUMNS ? columns[column].key : -1;
}

int layout_column_for_key(int key)
{
	for (int c = 0; c < NR_LAYOUT_COLUMNS; c++)
		if (columns[c].key == key)
			return c;
	return -1;
}

static double sort_value(const struct layout_row *row, enum layout_column by)
{
	const double *rate = row->view->rates.per_s;

	switch (by) {
	case COL_MINOR: return rate[KIND_MINOR];
	case COL_MAJOR: return rate[KIND_MAJOR];
	case COL_INVALID: return rate[KIND_INVALID];
	case COL_P50: return (double)row->p50_ns;
	case COL_P99: return (double)row->p99_ns;
	case COL_FAULT_MS: return row->view->fault_ms_per_s;
	case COL_RSS: return (double)row->rss_kib;
	case COL_CAUSE: return waiting_share(row->view);
	default: return 0;
	}
}

__u32 layout_row_id(const struct layout_row *row)
{
	return row->view->tid ? row->view->tid : row->view->tgid;
}

/* qsort has no context argument: one comparison per kind of column. */
static int by_pid(const void *a, const void *b)
{
	__u32 x = layout_row_id(a);
	__u32 y = layout_row_id(b);

	return x < y ? -1 : x > y;
}

static int by_user(const void *a, const void *b)
{
	int order = strcmp(((const struct layout_row *)a)->user,
			   ((const struct layout_row *)b)->user);

	return order ? order : by_pid(a, b);
}

static int by_comm(const void *a, const void *b)
{
	int order = strcmp(((const struct layout_row *)a)->view->comm,
			   ((const struct layout_row *)b)->view->comm);

	return order ? order : by_pid(a, b);
}

void layout_sort(struct layout_row *rows, size_t nr_rows, enum layout_column by)
{
	if (by == COL_PID) {
		qsort(rows, nr_rows, sizeof(*rows), by_pid);
	} else if (by == COL_USER) {
		qsort(rows, nr_rows, sizeof(*rows), by_user);
	} else if (by == COL_COMM) {
		qsort(rows, nr_rows, sizeof(*rows), by_comm);
	} else {
		/* Insertion sort, largest first: a screenful of rows, stable. */
		for (size_t i = 1; i < nr_rows; i++) {
			struct layout_row moving = rows[i];
			double value = sort_value(&moving, by);
			size_t j = i;

			for (; j > 0 && sort_value(&rows[j - 1], by) < value; j--)
				rows[j] = rows[j - 1];
			rows[j] = moving;
		}
	}
}

/* "812", "12.3k", "450k", "1.2M": a count or rate in at most 6 characters. */
void layout_format_count(char *buf, size_t size, double value)
{
	if (value < 10000)
		snprintf(buf, size, "%.0f", value);
	else if (value < 100000)
		snprintf(buf, size, "%.1fk", value / 1e3);
	else if (value < 1e6)
		snprintf(buf, size, "%.0fk", value / 1e3);
	else
		snprintf(buf, size, "%.1fM", value / 1e6);
}

/*
 * A latency in five characters: "812ns", "1.7us", "45us", "35ms", "1.3s";
 * each step starts where the one below would round to a sixth.
 */
static void format_latency(char *buf, size_t size, __u64 ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 9950)
		snprintf(buf, size, "%.1fus", ns / 1e3);
	else if (ns < 999500)
		snprintf(buf, size, "%.0fus", ns / 1e3);
	else if (ns < 9950000)
		snprintf(buf, size, "%.1fms", ns / 1e6);
	else if (ns < 999500000)
		snprintf(buf, size, "%.0fms", ns / 1e6);
	else if (ns < 9950000000ULL)
		snprintf(buf, size, "%.1fs", ns / 1e9);
	else
		snprintf(buf, size, "%.0fs", ns / 1e9);
}

/* "512K", "9.5M", "12M", "1.2G", "512G", "63T": four characters at most. */
static void format_kib(char *buf, size_t size, __u64 kib)
{
	static const char units[] = "KMGT";
	double value = (double)kib;
	int unit = 0;

	/* Past three digits, the next unit: 1000K is 0.98M, shown 1.0M. */
	while (value >= 999.5 && unit < 3) {
		value /= 1024;
		unit++;
	}
	if (value < 9.95 && unit)
		snprintf(buf, size, "%.1f%c", value, units[unit]);
	else
		snprintf(buf, size, "%.0f%c", value, units[unit]);
}

void layout_causes_line(char *buf, size_t size, const __u64 cause_ns[NR_FAULT_CAUSES])
{
	bool shown[NR_FAULT_CAUSES] = { false };
	__u64 all = 0;
	int at = snprintf(buf, size, "%-8s", "causes");

	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		all += cause_ns[cause];
	if (!all) {
		snprintf(buf + at, size - (size_t)at, " (no timed fault)");
		return;
	}
	for (int n = 0; n < NR_FAULT_CAUSES && at < (int)size; n++) {
		int top = -1;
		char time[16];

		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
			if (!shown[cause] && cause_ns[cause] &&
			    (top < 0 || cause_ns[cause] > cause_ns[top]))
				top = cause;
		if (top < 0)
			break;
		shown[top] = true;
		format_latency(time, sizeof(time), cause_ns[top]);
		at += snprintf(buf + at, size - (size_t)at, " %s %s %.0f%% ",
			       fault_cause_name(top), time, 100.0 * cause_ns[top] / all);
	}
}

void layout_title_line(char *buf, size_t size, bool threads)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int c = 0; c < NR_LAYOUT_COLUMNS && at < size; c++) {
		bool left = c == COL_USER || c == COL_COMM || c == COL_CAUSE;
		const char *title = threads && c == COL_PID ? "TID" : columns[c].title;

		at += (size_t)snprintf(buf + at, size - at, "%s%*s", c ? " " : "",
				       left ? -columns[c].width : columns[c].width,
				       title);
	}
}

void layout_column_span(enum layout_column column, int *start, int *width)
{
	*start = 0;
	for (int c = 0; c < (int)column && c < NR_LAYOUT_COLUMNS; c++)
		*start += columns[c].width + 1;
	*width = column < NR_LAYOUT_COLUMNS ? columns[column].width : 0;
}

/* The cells process and cgroup rows share: rates by kind and latency. */
struct rate_cells {
	char minor[16], major[16], invalid[16], p50[16], p99[16];
};

static void format_rate_cells(struct rate_cells *cells, const struct layout_row *row)
{
	const struct view_row *v = row->view;

	layout_format_count(cells->minor, sizeof(cells->minor), v->rates.per_s[KIND_MINOR]);
	layout_format_count(cells->major, sizeof(cells->major), v->rates.per_s[KIND_MAJOR]);
	layout_format_count(cells->invalid, sizeof(cells->invalid), v->rates.per_s[KIND_INVALID]);
	if (hist_count(v->hist)) {
		format_latency(cells->p50, sizeof(cells->p50), row->p50_ns);
		format_latency(cells->p99, sizeof(cells->p99), row->p99_ns);
	} else {	/* only invalid faults, which have no latency */
		snprintf(cells->p50, sizeof(cells->p50), "-");
		snprintf(cells->p99, sizeof(cells->p99), "-");
	}
}

void layout_row_line(char *buf, size_t size, const struct layout_row *row)
{
	const struct view_row *v = row->view;
	struct rate_cells cells;
	char rss[16];

	format_rate_cells(&cells, row);
	if (row->rss_kib)
		format_kib(rss, sizeof(rss), row->rss_kib);
	else
		snprintf(rss, sizeof(rss), "-");
	snprintf(buf, size, "%7u %-5.5s %-11.11s %7s %7s %7s %5s %5s %7.2f %4s %-5s",
		 layout_row_id(row), row->user, v->comm, cells.minor, cells.major,
		 cells.invalid, cells.p50, cells.p99, v->fault_ms_per_s, rss,
		 layout_cause_short(layout_top_cause(v)));
}

/*
 * PROCS and CGROUP span PID, USER and COMM, RSS stays blank: the other
 * columns stay put, and PATH starts past 80 columns.
 */
#define CGROUP_NAME_SHOWN (5 + 1 + 11)

void layout_cgroup_title_line(char *buf, size_t size)
{
	snprintf(buf, size, "%7s %-*s %7s %7s %7s %5s %5s %7s %4s %-5s %s", "PROCS",
		 CGROUP_NAME_SHOWN, "CGROUP", "MINOR/s", "MAJOR/s", "INVAL/s", "P50", "P99",
		 "FLTms/s", "", "CAUSE", "PATH");
}

void layout_cgroup_row_line(char *buf, size_t size, const struct layout_row *row)
{
	/* The view is the cgroup row's first member. */
	const struct cgroup_row *cgroup = (const struct cgroup_row *)row->view;
	const struct view_row *v = row->view;
	struct rate_cells cells;
	char path[CGROUP_PATH_SHOWN + 1];

	format_rate_cells(&cells, row);
	cgroup_path_abbrev(cgroup->path, path, CGROUP_PATH_SHOWN);
	snprintf(buf, size, "%7u %-*.*s %7s %7s %7s %5s %5s %7.2f %4s %-5s %s",
		 cgroup->processes, CGROUP_NAME_SHOWN, CGROUP_NAME_SHOWN, cgroup->name,
		 cells.minor, cells.major, cells.invalid, cells.p50, cells.p99,
		 v->fault_ms_per_s, "",
		 layout_cause_short(layout_top_cause(v)), path);
}

void layout_mapping_title(char *buf, size_t size)
{
	snprintf(buf, size, "%-7s %-38s %7s %7s %7s %9s", "KIND", "MAPPING", "MINOR",
		 "MAJOR", "INVAL", "IN FLT");
}

void layout_mapping_line(char *buf, size_t size, const struct where_mapping *m)
{
	char minor[16], major[16], invalid[16], in_faults[16], name[48];

	layout_format_count(minor, sizeof(minor), (double)where_mapping_count(m, KIND_MINOR));
	layout_format_count(major, sizeof(major), (double)where_mapping_count(m, KIND_MAJOR));
	layout_format_count(invalid, sizeof(invalid),
			 (double)where_mapping_count(m, KIND_INVALID));
	format_ns(in_faults, sizeof(in_faults), m->latency_ns);
	/* A long path keeps its end: the file name says most. */
	if (strlen(m->path) > 38)
		snprintf(name, sizeof(name), "...%s", m->path + strlen(m->path) - 35);
	else if (m->path[0])
		snprintf(name, sizeof(name), "%s", m->path);
	else
		snprintf(name, sizeof(name), "%llx-%llx", (unsigned long long)m->start,
			 (unsigned long long)m->end);
	snprintf(buf, size, "%-7s %-38s %7s %7s %7s %9s", mapping_kind_name(m->kind),
		 name, minor, major, invalid, in_faults);
}

void layout_file_title(char *buf, size_t size)
{
	snprintf(buf, size, "%-36s %7s %9s %4s %-16s", "FILE (major faults, all processes)",
		 "MAJORS", "READ", "SEQ", "HEAT");
}

void layout_file_line(char *buf, size_t size, const struct where_file *f,
		   __u64 page_size)
{
	char majors[16], bytes[16], seq[8] = "-", heat[17], name[40];
	__u64 judged = f->sequential + f->random;

	layout_format_count(majors, sizeof(majors), (double)f->majors);
	format_bytes(bytes, sizeof(bytes), f->majors * page_size);
	if (judged)
		snprintf(seq, sizeof(seq), "%.0f%%", 100.0 * f->sequential / judged);
	where_heat_text(heat, sizeof(heat), f);
	if (strlen(f->path) > 36)
		snprintf(name, sizeof(name), "...%s", f->path + strlen(f->path) - 33);
	else
		snprintf(name, sizeof(name), "%s", f->path);
	snprintf(buf, size, "%-36s %7s %9s %4s %-16s", name, majors, bytes, seq, heat);
}

/* Histogram lines are powers of two: [2^line, 2^(line + 1)) ns. */
#define HIST_LINES (HIST_MAX_POW2 + 2)

static int line_of(__u64 ns)
{
	int line = 0;

	while (ns >> (line + 1) && line < HIST_LINES - 1)
		line++;
	return line;
}

static int log_bar(__u64 count, __u64 peak, int width)
{
	long bar;

	if (!count || !peak)
		return 0;
	bar = lround(width * log1p((double)count) / log1p((double)peak));
	return bar < 1 ? 1 : (int)bar;	/* a single slow fault still shows */
}

static const char *landmark_of(int line)
{
	if (line == line_of(1000))
		return "~ minor fault";
	if (line == line_of(100000))
		return "~ SSD read";
	if (line == line_of(8000000))
		return "~ disk read";
	return "";
}

size_t layout_hist_layout(const __u64 *minor, const __u64 *major, int bar_width,
		       struct layout_hist_line *out, size_t max_lines)
{
	static const char *const marks[] = {
		"", "p50", "p99", "p50 p99", "max", "p50 max", "p99 max",
		"p50 p99 max",
	};
	__u64 by_line[2][HIST_LINES] = { { 0 } }, all[HIST_BUCKETS], peak = 0;
	int first = -1, last = -1, p50, p99, max;
	size_t n = 0;

	for (__u32 b = 0; b < HIST_BUCKETS; b++) {
		int line = line_of(hist_bucket_low(b));

		by_line[0][line] += minor[b];
		by_line[1][line] += major[b];
		all[b] = minor[b] + major[b];
	}
	for (int line = 0; line < HIST_LINES; line++) {
		__u64 count = by_line[0][line] + by_line[1][line];

		if (!count)
			continue;
		if (first < 0)
			first = line;
		last = line;
		if (by_line[0][line] > peak)
			peak = by_line[0][line];
		if (by_line[1][line] > peak)
			peak = by_line[1][line];
	}
	if (first < 0 || !max_lines)
		return 0;
	if ((size_t)(last - first + 1) > max_lines)
		first = last - (int)max_lines + 1;
	p50 = line_of(hist_percentile(all, 0.50));
	p99 = line_of(hist_percentile(all, 0.99));
	max = line_of(hist_max(all));
	for (int line = first; line <= last; line++, n++) {
		struct layout_hist_line *l = &out[n];

		l->low_ns = line ? 1ULL << line : 0;
		l->minor = by_line[0][line];
		l->major = by_line[1][line];
		l->minor_bar = log_bar(l->minor, peak, bar_width);
		l->major_bar = log_bar(l->major, peak, bar_width);
		l->marks = marks[(line == p50) | (line == p99) << 1 | (line == max) << 2];
		l->landmark = landmark_of(line);
	}
	return n;
}

void layout_sparkline(const double *samples, size_t nr_samples, char *out,
		   size_t size)
{
	static const char levels[] = " .:-=+*#";
	double top = 0;
	size_t n = nr_samples < size - 1 ? nr_samples : size - 1;
	const double *from = samples + (nr_samples - n);

	for (size_t i = 0; i < n; i++)
		if (from[i] > top)
			top = from[i];
	for (size_t i = 0; i < n; i++) {
		int level = top > 0 ? (int)ceil(from[i] / top * 7) : 0;

		out[i] = levels[level < 0 ? 0 : level > 7 ? 7 : level];
	}
	out[n] = '\0';
}

void layout_hist_title(char *buf, size_t size, int bar_width)
{
	snprintf(buf, size, "%7s %-*s %-*s %6s %6s", "LATENCY", bar_width,
		 "minor (=)", bar_width, "major (#)", "MINOR", "MAJOR");
}

void layout_hist_text(char *buf, size_t size, const struct layout_hist_line *line,
		   int bar_width)
{
	char low[16], minor[16], major[16], minor_bar[256], major_bar[256];
	int minor_len, major_len;

	if (bar_width > (int)sizeof(minor_bar) - 1)
		bar_width = (int)sizeof(minor_bar) - 1;
	minor_len = line->minor_bar < bar_width ? line->minor_bar : bar_width;
	major_len = line->major_bar < bar_width ? line->major_bar : bar_width;
	format_latency(low, sizeof(low), line->low_ns);
	layout_format_count(minor, sizeof(minor), (double)line->minor);
	layout_format_count(major, sizeof(major), (double)line->major);
	memset(minor_bar, '=', (size_t)minor_len);
	minor_bar[minor_len] = '\0';
	memset(major_bar, '#', (size_t)major_len);
	major_bar[major_len] = '\0';
	snprintf(buf, size, "%7s %-*s %-*s %6s %6s %s%s%s", low, bar_width,
		 minor_bar, bar_width, major_bar, line->minor ? minor : "",
		 line->major ? major : "", line->marks,
		 *line->marks && *line->landmark ? " " : "", line->landmark);
}

void layout_hist_bar_starts(int bar_width, int *minor_at, int *major_at)
{
	*minor_at = 8;
	*major_at = 8 + bar_width + 1;
}
