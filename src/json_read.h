/*
 * The strict reading of pfwatch's own JSON (jansson), shared by the file's
 * reader (import_json.c) and its timeline's (timeline_import.c): a failure
 * names the field's path, and the counts that outputs add up are summed,
 * since the sums must be written as JSON integers again.
 */
#ifndef PFWATCH_JSON_READ_H
#define PFWATCH_JSON_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct json_reader {
	char *error;
	size_t error_size;
	__u64 summed;		/* every count and sum the outputs add up */
};

/* Writes "@where: message" as the error; returns -1. */
__attribute__((format(printf, 3, 4)))
int json_fail(struct json_reader *r, const char *where, const char *fmt, ...);
/* @value as a count: an integer from 0 up. 0 or -1. */
int json_read_count(struct json_reader *r, const json_t *value, const char *where,
		    __u64 *out);
/* Adds @value to the sum, failing past 2^63 - 1 (no real run gets near). */
int json_add_to_sum(struct json_reader *r, const char *where, __u64 value);
/* A field holding a count (not summed); absent: 0 unless @required. */
int json_read_count_field(struct json_reader *r, const json_t *object, const char *key,
			  const char *where, bool required, __u64 *out);
/* "buckets": [[low, count], ...] added into a latency histogram; summed. */
int json_read_buckets(struct json_reader *r, const json_t *buckets, const char *where,
		      __u64 *hist);
/* The class or cause of that name, or -1. */
int json_fault_class_named(const char *name);
int json_fault_cause_named(const char *name);

#endif
