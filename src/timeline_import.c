/*
 * The timeline read back (jansson, like import_json.c) as strictly as the
 * rest of the file: every count checked, the intervals bounded in number,
 * each class's buckets adding up to its count.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json_read.h"
#include "timeline.h"

/* A count or sum, added to the sum; absent, 0 unless @required. */
static int read_summed_field(struct json_reader *r, const json_t *object, const char *key,
			     const char *where, bool required, __u64 *out)
{
	return json_read_count_field(r, object, key, where, required, out) ||
	       json_add_to_sum(r, where, *out) ? -1 : 0;
}

/* An object's members, each a known class. */
static const json_t *class_object(struct json_reader *r, const json_t *parent,
				  const char *key, const char *where)
{
	const json_t *object = json_object_get(parent, key), *value;
	const char *name;

	if (!json_is_object(object)) {
		json_fail(r, where, object ? "field \"%s\" is not an object" : "no field \"%s\"", key);
		return NULL;
	}
	json_object_foreach((json_t *)object, name, value)
		if (json_fault_class_named(name) < 0) {
			json_fail(r, where, "%s: \"%s\" is not a fault class", key, name);
			return NULL;
		}
	return object;
}

/* A class's latency object: its buckets must add up to its count. */
static int read_latency(struct json_reader *r, const json_t *summary, const char *where,
			struct fault_stats *stats, int c)
{
	__u64 count, timed = 0;

	if (!json_is_object(summary))
		return json_fail(r, where, "expected an object");
	if (read_summed_field(r, summary, "count", where, true, &count) ||
	    read_summed_field(r, summary, "sum", where, true, &stats->latency_sum_ns[c]) ||
	    json_read_buckets(r, json_object_get(summary, "buckets"), where, stats->hist[c]))
		return -1;
	for (__u32 b = 0; b < HIST_BUCKETS; b++)
		timed += stats->hist[c][b];
	if (timed != count)
		return json_fail(r, where, "buckets add up to %llu, count is %llu",
			    (unsigned long long)timed, (unsigned long long)count);
	if (count > stats->count[c])
		return json_fail(r, where, "%llu timed faults of %llu in the class",
			    (unsigned long long)count, (unsigned long long)stats->count[c]);
	return 0;
}

static int read_class_causes(struct json_reader *r, const json_t *causes, const char *where,
			     struct fault_stats *stats, int c)
{
	const char *name;
	const json_t *value;

	if (!json_is_object(causes))
		return json_fail(r, where, "expected an object");
	json_object_foreach((json_t *)causes, name, value) {
		int cause = json_fault_cause_named(name);

		if (cause < 0)
			return json_fail(r, where, "\"%s\" is not a cause", name);
		if (!json_is_object(value))
			return json_fail(r, where, "%s: expected an object", name);
		if (read_summed_field(r, value, "faults", where, true,
				     &stats->cause_faults[c][cause]) ||
		    read_summed_field(r, value, "ns", where, true, &stats->cause_ns[c][cause]))
			return -1;
	}
	return 0;
}

static int read_interval_stats(struct json_reader *r, const json_t *object, const char *where,
			       struct fault_stats *stats)
{
	const json_t *classes = class_object(r, object, "classes", where);
	const json_t *latency = classes ? class_object(r, object, "latency_ns", where) : NULL;
	const json_t *causes = latency ? class_object(r, object, "causes", where) : NULL;
	char path[200];

	if (!causes)
		return -1;
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		const char *name = fault_class_name(c);

		if (read_summed_field(r, classes, name, where, false, &stats->count[c]))
			return -1;
		snprintf(path, sizeof(path), "%s.latency_ns.%s", where, name);
		if (json_object_get(latency, name) &&
		    read_latency(r, json_object_get(latency, name), path, stats, c))
			return -1;
		snprintf(path, sizeof(path), "%s.causes.%s", where, name);
		if (json_object_get(causes, name) &&
		    read_class_causes(r, json_object_get(causes, name), path, stats, c))
			return -1;
	}
	return read_summed_field(r, object, "thp_fallbacks", where, false,
				&stats->thp_fallbacks) ||
	       read_summed_field(r, object, "uffd_major", where, false, &stats->uffd_major);
}

static int read_top(struct json_reader *r, const json_t *array, const char *where,
		    struct timeline_top *top, size_t *nr)
{
	const json_t *entry;
	size_t i;

	if (!json_is_array(array) || json_array_size(array) > TIMELINE_TOP)
		return json_fail(r, where, "top: expected an array of at most %d entries",
			    TIMELINE_TOP);
	json_array_foreach(array, i, entry) {
		const json_t *comm = json_object_get(entry, "comm");
		__u64 pid = 0;

		if (!json_is_object(entry) || !json_is_string(comm))
			return json_fail(r, where, "top[%zu]: expected an object with a comm", i);
		if (json_read_count(r, json_object_get(entry, "pid"), where, &pid) ||
		    read_summed_field(r, entry, "faults", where, true, &top[i].faults) ||
		    read_summed_field(r, entry, "ns", where, true, &top[i].ns))
			return -1;
		if (pid > UINT32_MAX)
			return json_fail(r, where, "top[%zu]: pid out of range", i);
		top[i].pid = (__u32)pid;
		snprintf(top[i].comm, COMM_LEN, "%s", json_string_value(comm));
	}
	*nr = i;
	return 0;
}

static int read_interval(struct json_reader *r, struct timeline *tl, const json_t *object,
			 struct fault_stats *stats)
{
	const json_t *start = json_object_get(object, "start_s");
	struct timeline_top top[TIMELINE_TOP] = { 0 };
	size_t nr_top = 0, i = tl->nr_intervals;
	char where[48];

	snprintf(where, sizeof(where), "timeline.intervals[%zu]", i);
	if (!json_is_object(object))
		return json_fail(r, where, "expected an object");
	/* Intervals are contiguous: each starts where its index says. */
	if (!json_is_number(start) ||
	    fabs(json_number_value(start) - timeline_start_s(tl, i)) > 1e-6 * (1 + (double)i))
		return json_fail(r, where, "start_s is not %g", timeline_start_s(tl, i));
	memset(stats, 0, sizeof(*stats));
	if (read_interval_stats(r, object, where, stats) ||
	    read_top(r, json_object_get(object, "top"), where, top, &nr_top))
		return -1;
	if (timeline_append(tl, stats, top, nr_top))
		return json_fail(r, where, "out of memory");
	return 0;
}

static int read_intervals(struct json_reader *r, struct timeline *tl, const json_t *object)
{
	const json_t *intervals = json_object_get(object, "intervals"), *item;
	struct fault_stats *stats;
	size_t i;

	if (!json_is_array(intervals) || json_array_size(intervals) > TIMELINE_MAX_INTERVALS)
		return json_fail(r, "timeline.intervals", "expected an array of at most %d intervals",
			    TIMELINE_MAX_INTERVALS);
	stats = malloc(sizeof(*stats));
	if (!stats)
		return json_fail(r, "timeline", "out of memory");
	json_array_foreach(intervals, i, item)
		if (read_interval(r, tl, item, stats)) {
			free(stats);
			return -1;
		}
	free(stats);
	return 0;
}

int timeline_read_json(struct timeline *tl, const json_t *object,
		       char *error, size_t error_size)
{
	struct json_reader r = { .error = error, .error_size = error_size };
	const json_t *interval = json_object_get(object, "interval_s");
	const json_t *end = json_object_get(object, "end_s");

	memset(tl, 0, sizeof(*tl));
	if (!json_is_object(object))
		return json_fail(&r, "timeline", "expected an object");
	if (!json_is_number(interval) || !(json_number_value(interval) > 0) ||
	    json_number_value(interval) > 1e9)
		return json_fail(&r, "timeline.interval_s", "expected a positive number of seconds");
	if (end && (!json_is_number(end) || !(json_number_value(end) >= 0)))
		return json_fail(&r, "timeline.end_s", "expected a non-negative number");
	if (timeline_init(tl, json_number_value(interval), TIMELINE_MAX_INTERVALS))
		return json_fail(&r, "timeline", "out of memory");
	tl->end_s = end ? json_number_value(end) : 0;
	if (read_intervals(&r, tl, object) ||
	    /* The last sample may come late, in the interval after the last. */
	    (tl->end_s > timeline_start_s(tl, tl->nr_intervals + 1) &&
	     json_fail(&r, "timeline.end_s", "an interval past the last one"))) {
		timeline_free(tl);
		return -1;
	}
	return 0;
}
