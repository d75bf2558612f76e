/*
 * The JSON shapes of a struct fault_stats that the run's file and its
 * timeline share (docs/json-schema.md): a class's latency object and the
 * causes object.
 */
#ifndef PFWATCH_STATS_JSON_H
#define PFWATCH_STATS_JSON_H

#include "aggregate.h"
#include "json_writer.h"

/* {count, sum, p50, p90, p99, p999, max, buckets: [[low, count], ...]} */
void json_write_latency(struct json_writer *w, const __u64 *hist, __u64 sum_ns);
/*
 * {CLASS: {CAUSE: {faults, ns}}}: the classes and causes that are not
 * all 0 ("cpu" included).
 */
void json_write_causes(struct json_writer *w, const struct fault_stats *stats);

#endif
