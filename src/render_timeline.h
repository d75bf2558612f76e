/* pfwatch report --timeline: the run, one text line per interval. */
#ifndef PFWATCH_RENDER_TIMELINE_H
#define PFWATCH_RENDER_TIMELINE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include "timeline.h"

/* How many of the worst lines (most time in faults) may be marked. */
#define TIMELINE_WORST_MARKED 3

/*
 * One line per interval: clock time and offset, faults/s by kind, p99
 * and max latency, time in faults and a bar of it; the worst lines
 * marked. Past @max_lines intervals (and not @all), adjacent intervals
 * share a line. @start: the run's start (wall clock), 0 if unknown.
 */
void render_timeline(FILE *out, const struct timeline *tl, time_t start,
		     int max_lines, bool all);
/* "2026-12-02T01:02:03.456Z" as the files write it; -1 if it is not. */
int parse_utc_time(const char *text, struct timespec *when);
/*
 * report --from/--to: seconds since the run's start ("90", "90.5") or a
 * clock time ("01:02", "01:02:03", local, the first one at or after
 * @start, which must be known) into @offset_s; -1 if it is neither.
 */
int timeline_offset_of(const char *text, time_t start, double *offset_s);

#endif
