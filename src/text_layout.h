/*
 * Layouts as plain text lines: the live screen's table rows, histogram
 * bars and sparkline, and the histogram the text summary prints. No
 * curses here, so each layout has unit tests.
 */
#ifndef PFWATCH_TEXT_LAYOUT_H
#define PFWATCH_TEXT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include "view.h"

enum layout_column {
	COL_PID, COL_USER, COL_COMM, COL_MINOR, COL_MAJOR, COL_INVALID,
	COL_P50, COL_P99, COL_FAULT_MS, COL_RSS, COL_CAUSE, NR_LAYOUT_COLUMNS,
};

/* A process row: the view's rates and what the screen reads from /proc. */
struct layout_row {
	const struct view_row *view;
	char user[16];
	__u64 rss_kib;
	__u64 p50_ns, p99_ns;
};

/* The cause a row's faults spent most time on, or -1 when none was timed. */
int layout_top_cause(const struct view_row *view);
/* A cause in at most five characters, for the CAUSE column: "memcg". */
const char *layout_cause_short(int cause);

/*
 * The detail pane's line of causes: "causes   memcg_reclaim 2.2s 96%
 * cpu 93ms 4%", most time first; "(no timed fault)" when none.
 */
void layout_causes_line(char *buf, size_t size, const __u64 cause_ns[NR_FAULT_CAUSES]);

/* What the PID column shows: the TID on thread rows, else the PID. */
__u32 layout_row_id(const struct layout_row *row);
/* The key that sorts by a column (as in top), and back; -1: none. */
int layout_column_key(enum layout_column column);
int layout_column_for_key(int key);
/* Numbers sort largest first, names and PIDs in ascending order. */
void layout_sort(struct layout_row *rows, size_t nr_rows, enum layout_column by);
/* Column titles (TID first for thread rows), then one row: 80 at most. */
void layout_title_line(char *buf, size_t size, bool threads);
void layout_row_line(char *buf, size_t size, const struct layout_row *row);
/*
 * The cgroup table's titles and rows (g): PROCS and CGROUP (its short
 * name) where PID, USER and COMM stand, the same numbers (no RSS), its
 * path last, past 80 columns.
 * @row->view is a struct cgroup_row's view.
 */
void layout_cgroup_title_line(char *buf, size_t size);
void layout_cgroup_row_line(char *buf, size_t size, const struct layout_row *row);
/* Where a column stands in those lines, to highlight the sort column. */
void layout_column_span(enum layout_column column, int *start, int *width);

/*
 * The where pane (--where): a process's mappings and the files read by
 * major faults, 80 columns each.
 */
struct where_mapping;
struct where_file;
void layout_mapping_title(char *buf, size_t size);
void layout_mapping_line(char *buf, size_t size, const struct where_mapping *m);
void layout_file_title(char *buf, size_t size);
void layout_file_line(char *buf, size_t size, const struct where_file *f,
		   __u64 page_size);

/* One line of the histogram pane: a power of two of latency. */
struct layout_hist_line {
	__u64 low_ns;			/* the line covers [low_ns, 2 * low_ns) */
	__u64 minor, major;
	int minor_bar, major_bar;	/* log-scaled, of bar_width */
	const char *marks;		/* "p50", "p99 max", ... or "" */
	const char *landmark;		/* what this latency usually is, or "" */
};

/*
 * Lines from the lowest to the highest non-empty power of two, at most
 * max_lines (the slowest kept: they matter most); returns how many.
 */
size_t layout_hist_layout(const __u64 *minor, const __u64 *major, int bar_width,
		       struct layout_hist_line *out, size_t max_lines);

/*
 * A histogram line as text: its latency, the minor bar ('='), the major
 * bar ('#'), both counts, the marks and the landmark. Bars never exceed
 * the line's own bar width; layout_hist_bar_starts() says where they begin.
 */
void layout_hist_text(char *buf, size_t size, const struct layout_hist_line *line,
		   int bar_width);
void layout_hist_title(char *buf, size_t size, int bar_width);
void layout_hist_bar_starts(int bar_width, int *minor_at, int *major_at);

/* "812", "12.3k", "450k", "1.2M": at most 6 characters. */
void layout_format_count(char *buf, size_t size, double value);

/* The last samples as one character each, scaled to their maximum. */
void layout_sparkline(const double *samples, size_t nr_samples, char *out,
		   size_t size);

#endif
