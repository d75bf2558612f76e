/* The checks every reader of pfwatch's JSON makes (json_read.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "aggregate.h"
#include "hist.h"
#include "json_read.h"

int json_fail(struct json_reader *r, const char *where, const char *fmt, ...)
{
	int used = snprintf(r->error, r->error_size, "%s: ", where);
	va_list args;

	if (used < 0 || (size_t)used >= r->error_size)
		return -1;
	va_start(args, fmt);
	vsnprintf(r->error + used, r->error_size - used, fmt, args);
	va_end(args);
	return -1;
}

int json_read_count(struct json_reader *r, const json_t *value, const char *where,
		    __u64 *out)
{
	if (!json_is_integer(value) || json_integer_value(value) < 0)
		return json_fail(r, where, "expected a non-negative integer");
	*out = (__u64)json_integer_value(value);
	return 0;
}

int json_add_to_sum(struct json_reader *r, const char *where, __u64 value)
{
	if (value > (__u64)INT64_MAX - r->summed)
		return json_fail(r, where, "the file's counts add up past 2^63 - 1");
	r->summed += value;
	return 0;
}

int json_read_count_field(struct json_reader *r, const json_t *object, const char *key,
			  const char *where, bool required, __u64 *out)
{
	const json_t *value = json_object_get(object, key);
	char path[200];

	*out = 0;
	if (!value)
		return required ? json_fail(r, where, "no field \"%s\"", key) : 0;
	snprintf(path, sizeof(path), "%s.%s", where, key);
	return json_read_count(r, value, path, out);
}

/* The bucket whose smallest value is @low, or -1 if none is. */
static int bucket_starting_at(__u64 low)
{
	__u32 b = hist_bucket(low);

	return hist_bucket_low(b) == low ? (int)b : -1;
}

int json_read_buckets(struct json_reader *r, const json_t *buckets, const char *where,
		      __u64 *hist)
{
	size_t i;
	const json_t *pair;

	if (!json_is_array(buckets))
		return json_fail(r, where, "expected an array of [low, count] pairs");
	json_array_foreach(buckets, i, pair) {
		char path[200];
		__u64 low = 0, count = 0;
		int b;

		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return json_fail(r, path, "expected a [low, count] pair");
		if (json_read_count(r, json_array_get(pair, 0), path, &low) ||
		    json_read_count(r, json_array_get(pair, 1), path, &count) ||
		    json_add_to_sum(r, path, count))
			return -1;
		b = bucket_starting_at(low);
		if (b < 0)
			return json_fail(r, path, "%llu ns is not where a histogram bucket starts",
					 (unsigned long long)low);
		hist[b] += count;
	}
	return 0;
}

int json_fault_class_named(const char *name)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (!strcmp(name, fault_class_name(c)))
			return c;
	return -1;
}

int json_fault_cause_named(const char *name)
{
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (!strcmp(name, fault_cause_name(cause)))
			return cause;
	return -1;
}
