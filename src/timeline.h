/*
 * The run's timeline: per interval, what the traced set did (counts,
 * latency sums, histograms and causes per class, as a struct fault_stats)
 * and the processes that spent the most time in faults then. Fed by
 * snapshots of the aggregate; the intervals add up to its totals exactly.
 */
#ifndef PFWATCH_TIMELINE_H
#define PFWATCH_TIMELINE_H

#include <stddef.h>
#include <stdio.h>
#include "aggregate.h"

#define TIMELINE_INTERVAL_S 1.0
#define TIMELINE_TOP 5
/*
 * Memory stays bounded: past this many intervals, or this many bytes of
 * them, adjacent intervals merge pairwise and the interval doubles.
 */
#define TIMELINE_MAX_INTERVALS 3600
#define TIMELINE_MAX_BYTES (8u << 20)

/* A process (pid 0: a record gathering several) in one interval. */
struct timeline_top {
	__u32 pid;
	char comm[COMM_LEN];
	__u64 faults;
	__u64 ns;		/* time in faults */
};

/* A merged interval's top is the top of its halves' tops. */
struct timeline_interval {
	/* Its fault_stats, sparse: the words that are not 0, varint-coded. */
	unsigned char *cells;
	__u32 cells_size;
	__u32 nr_top;
	struct timeline_top top[TIMELINE_TOP];	/* most time first */
};

struct record_mark;
union stats_words;

struct timeline {
	double interval_s;	/* interval i starts at i * interval_s */
	size_t max_intervals;
	size_t max_bytes;
	struct timeline_interval *intervals;
	size_t nr_intervals;
	size_t capacity;
	size_t bytes;		/* what the intervals hold, all told */
	double end_s;		/* the latest sample, since the run's start */
	union stats_words *base;	/* the totals as of that sample */
	struct record_mark *marks;	/* each record's, as of that sample */
	size_t nr_marks;
};

/* 0, or -EINVAL for a bad interval or bound, -ENOMEM. */
int timeline_init(struct timeline *tl, double interval_s, size_t max_intervals);
void timeline_free(struct timeline *tl);
/*
 * What @agg gained since the last sample goes to the interval that holds
 * the middle of the time between them (@t_s: seconds since the run's
 * start; samples come in order). 0, or -ENOMEM (nothing lost: the next
 * sample takes what this one could not).
 */
int timeline_sample(struct timeline *tl, double t_s, const struct aggregate *agg);
/*
 * Appends one interval as read from a file: its stats (their words must
 * be sums, as in any fault_stats) and its top. 0, or -ENOMEM.
 */
int timeline_append(struct timeline *tl, const struct fault_stats *stats,
		    const struct timeline_top *top, size_t nr_top);

double timeline_start_s(const struct timeline *tl, size_t i);
/* The last interval may be shorter: the run ended in it. */
double timeline_length_s(const struct timeline *tl, size_t i);
/* Interval @i's stats added into @sum. */
void timeline_add_interval(const struct timeline *tl, size_t i, struct fault_stats *sum);
/* Intervals [@first, @end) added into @sum (zeroed first). */
void timeline_sum(const struct timeline *tl, size_t first, size_t end,
		  struct fault_stats *sum);
/*
 * The top processes of intervals [@first, @end), merged (pid and comm
 * alike add up), most time first: up to @max into @top; how many.
 * Each interval keeps only its TIMELINE_TOP, so this is the top of tops.
 */
size_t timeline_window_top(const struct timeline *tl, size_t first, size_t end,
			   struct timeline_top *top, size_t max);
/*
 * The intervals that overlap [@from_s, @to_s), as [*first, *end);
 * -ENOENT if none does.
 */
int timeline_window(const struct timeline *tl, double from_s, double to_s,
		    size_t *first, size_t *end);

/* JSON (docs/json-schema.md, "timeline"): the object, after its key. */
struct json_writer;
void timeline_write_json(struct json_writer *w, const struct timeline *tl);
/* The object alone, as one JSON document: 0, or -1 if a write failed. */
int timeline_write_document(FILE *out, const struct timeline *tl);
/*
 * The "timeline" object back into @tl (initialized here). 0, or -1 with
 * @error saying which field is wrong.
 */
struct json_t;
int timeline_read_json(struct timeline *tl, const struct json_t *object,
		       char *error, size_t error_size);

#endif
