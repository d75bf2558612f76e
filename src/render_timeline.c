/* The timeline as text: when it happened, at a glance. */
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "render_text.h"
#include "render_timeline.h"

#define BAR_WIDTH 24

struct timeline_line {
	size_t first, end;	/* its intervals */
	double start_s, length_s;
	__u64 kinds[NR_SHOWN_KINDS];
	__u64 p99, max, ns;
	int worst;		/* 1: the worst line, ...; 0: not marked */
};

int parse_utc_time(const char *text, struct timespec *when)
{
	struct tm utc = { 0 };
	const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &utc);
	unsigned ms = 0;
	int used = 0;

	if (!rest || (*rest == '.' && sscanf(rest, ".%3u%n", &ms, &used) != 1) ||
	    strcmp(rest + used, "Z"))
		return -1;
	when->tv_sec = timegm(&utc);
	when->tv_nsec = (long)ms * 1000000;
	return when->tv_sec == (time_t)-1 ? -1 : 0;
}

/* "HH:MM[:SS]" as the first such local time at or after @start. */
static int clock_offset(const char *text, time_t start, double *offset_s)
{
	unsigned hours, minutes, seconds = 0;
	int used = 0;
	struct tm local;
	time_t at;

	if ((sscanf(text, "%2u:%2u%n:%2u%n", &hours, &minutes, &used, &seconds, &used) < 2) ||
	    text[used] || hours > 23 || minutes > 59 || seconds > 60 || !start ||
	    !localtime_r(&start, &local))
		return -1;
	local.tm_hour = (int)hours;
	local.tm_min = (int)minutes;
	local.tm_sec = (int)seconds;
	local.tm_isdst = -1;
	at = mktime(&local);
	if (at == (time_t)-1)
		return -1;
	if (at < start)
		at += 24 * 3600;	/* the run went past midnight */
	*offset_s = difftime(at, start);
	return 0;
}

int timeline_offset_of(const char *text, time_t start, double *offset_s)
{
	char *end;

	if (strchr(text, ':'))
		return clock_offset(text, start, offset_s);
	*offset_s = strtod(text, &end);
	return end != text && !*end && *offset_s >= 0 && *offset_s < 1e12 ? 0 : -1;
}

static void measure_line(const struct timeline *tl, struct timeline_line *line,
			 struct fault_stats *sum, __u64 *hist)
{
	timeline_sum(tl, line->first, line->end, sum);
	memset(hist, 0, HIST_BUCKETS * sizeof(*hist));
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		hist_add(hist, sum->hist[c]);
	for (enum class_kind kind = KIND_MINOR; kind < NR_SHOWN_KINDS; kind++)
		line->kinds[kind] = stats_kind_count(sum, kind);
	line->p99 = hist_percentile(hist, 0.99);
	line->max = hist_max(hist);
	line->ns = stats_latency_sum(sum);
	line->start_s = timeline_start_s(tl, line->first);
	line->length_s = 0;
	for (size_t i = line->first; i < line->end; i++)
		line->length_s += timeline_length_s(tl, i);
}

/* The lines, each @per intervals; NULL when out of memory. */
static struct timeline_line *measure_lines(const struct timeline *tl, size_t per,
					   size_t nr)
{
	struct timeline_line *lines = calloc(nr ? nr : 1, sizeof(*lines));
	struct fault_stats *sum = malloc(sizeof(*sum));
	__u64 *hist = malloc(HIST_BUCKETS * sizeof(*hist));

	for (size_t l = 0; lines && sum && hist && l < nr; l++) {
		lines[l].first = l * per;
		lines[l].end = lines[l].first + per < tl->nr_intervals
			       ? lines[l].first + per : tl->nr_intervals;
		measure_line(tl, &lines[l], sum, hist);
	}
	free(sum);
	free(hist);
	if (!sum || !hist) {
		free(lines);
		return NULL;
	}
	return lines;
}

static int ns_order(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The TIMELINE_WORST_MARKED lines with the most time in faults, if they
 * stand out: over twice the median line's and at least a tenth of the
 * worst one's. A steady run has none.
 */
static void mark_worst(struct timeline_line *lines, size_t nr)
{
	__u64 *ns = malloc((nr ? nr : 1) * sizeof(*ns)), median, most;

	if (!ns)
		return;	/* unmarked, the lines still say it all */
	for (size_t l = 0; l < nr; l++)
		ns[l] = lines[l].ns;
	qsort(ns, nr, sizeof(*ns), ns_order);
	median = nr ? ns[nr / 2] : 0;
	most = nr ? ns[nr - 1] : 0;
	free(ns);
	for (int rank = 1; rank <= TIMELINE_WORST_MARKED; rank++) {
		struct timeline_line *worst = NULL;

		for (size_t l = 0; l < nr; l++)
			if (!lines[l].worst && lines[l].ns > 2 * median &&
			    lines[l].ns >= most / 10 && (!worst || lines[l].ns > worst->ns))
				worst = &lines[l];
		if (worst)
			worst->worst = rank;
	}
}

/* Offsets as fine as a line's length: 0.05 s lines need two decimals. */
static int offset_decimals(double line_s)
{
	return line_s < 0.01 ? 3 : line_s < 0.1 ? 2 : 1;
}

static void print_line(FILE *out, const struct timeline_line *line, time_t start,
		       __u64 most_ns, int decimals)
{
	char clock[16] = "", p99[16], max[16], ns[16], bar[BAR_WIDTH + 1];
	time_t at = start + (time_t)line->start_s;
	struct tm local;
	double per_s = line->length_s > 0 ? 1 / line->length_s : 0;
	int width = most_ns ? (int)((double)line->ns * BAR_WIDTH / (double)most_ns + 0.5) : 0;

	if (!start || !localtime_r(&at, &local) ||
	    !strftime(clock, sizeof(clock), "%H:%M:%S", &local))
		strcpy(clock, "-");
	memset(bar, '#', (size_t)width);
	bar[width] = '\0';
	if (!width && line->ns)
		strcpy(bar, ".");
	fprintf(out, "%8s %9.*f %9.0f %8.0f %8.0f %9s %9s %10s", clock, decimals, line->start_s,
		(double)line->kinds[KIND_MINOR] * per_s, (double)line->kinds[KIND_MAJOR] * per_s,
		(double)line->kinds[KIND_INVALID] * per_s,
		line->max ? format_ns(p99, sizeof(p99), line->p99) : "-",
		line->max ? format_ns(max, sizeof(max), line->max) : "-",
		format_ns(ns, sizeof(ns), line->ns));
	if (*bar || line->worst)
		fprintf(out, "  %-*s", line->worst ? BAR_WIDTH : 0, bar);
	if (line->worst)
		fprintf(out, "  <- worst%s", line->worst == 1 ? "" : line->worst == 2 ? " 2nd" : " 3rd");
	fputc('\n', out);
}

void render_timeline(FILE *out, const struct timeline *tl, time_t start,
		     int max_lines, bool all)
{
	size_t per = 1, nr;
	struct timeline_line *lines;
	__u64 most_ns = 0;
	char zone[16] = "";
	struct tm local;

	if (!all && max_lines > 0 && tl->nr_intervals > (size_t)max_lines)
		per = (tl->nr_intervals + (size_t)max_lines - 1) / (size_t)max_lines;
	nr = (tl->nr_intervals + per - 1) / per;
	lines = measure_lines(tl, per, nr);
	if (!lines) {
		fputs("pfwatch report: out of memory for the timeline\n", out);
		return;
	}
	mark_worst(lines, nr);
	for (size_t l = 0; l < nr; l++)
		if (lines[l].ns > most_ns)
			most_ns = lines[l].ns;
	if (start && localtime_r(&start, &local))
		strftime(zone, sizeof(zone), ", clock in %Z", &local);
	fprintf(out, "timeline: %zu intervals of %g s%s", tl->nr_intervals, tl->interval_s,
		zone);
	if (per > 1)
		fprintf(out, ", %zu to a line (--all: one each)", per);
	fprintf(out, "\n%8s %9s %9s %8s %8s %9s %9s %10s\n", "clock", "offset s",
		"minor/s", "major/s", "inval/s", "p99", "max", "in faults");
	for (size_t l = 0; l < nr; l++)
		print_line(out, &lines[l], start, most_ns,
			   offset_decimals(tl->interval_s * (double)per));
	free(lines);
}
