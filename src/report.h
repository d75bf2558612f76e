/*
 * pfwatch report: a saved JSON file's summary and histograms, with
 * filters, or two files compared side by side.
 */
#ifndef PFWATCH_REPORT_H
#define PFWATCH_REPORT_H

#include <stdio.h>
#include "import_json.h"
#include "options.h"

/* @argv starts at "report"; returns the exit status. */
int report_main(int argc, char **argv);

/* Keeps what the filters ask for; false when no process is left. */
bool report_filter(struct imported_run *in, const struct report_options *opts);
void report_one(FILE *out, const struct imported_run *in, const char *name,
		int top, enum row_group group);
void report_diff(FILE *out, const struct imported_run *a, const char *name_a,
		 const struct imported_run *b, const char *name_b, int top);

/* --from/--to: the intervals [first, end) of a file's timeline. */
struct report_window {
	bool set;
	size_t first, end;
};

#define REPORT_WINDOW_TOP 20

/* One file's window: what its intervals hold (where and stacks: the run). */
void report_window(FILE *out, const struct imported_run *in, const char *name,
		   const struct report_window *win, int top);
/* The same comparison, each file limited to its window where @wins[side].set. */
void report_diff_windows(FILE *out, const struct imported_run *a, const char *name_a,
			 const struct imported_run *b, const char *name_b, int top,
			 const struct report_window *wins);

#endif
