/* The Prometheus export: its groups, histograms and label escaping. */
#include <stdlib.h>
#include "check.h"
#include "export.h"
#include "hist.h"

static const struct run_info run = { .backend = "perf" };

/* A record of @faults anon_zero faults, each taking @ns. */
static int add_process(struct aggregate *agg, __u32 tgid, const char *comm,
		       __u64 faults, __u64 ns)
{
	struct process_record *record = aggregate_add_record(agg);

	if (!record)
		return -1;
	record->tgid = tgid;
	snprintf(record->comm, COMM_LEN, "%s", comm);
	record->stats.count[FAULT_ANON_ZERO] = faults;
	record->stats.hist[FAULT_ANON_ZERO][hist_bucket(ns)] = faults;
	record->stats.latency_sum_ns[FAULT_ANON_ZERO] = faults * ns;
	return 0;
}

/* export_prom's text, malloc'd; NULL on failure. */
static char *exported(const struct aggregate *agg)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int err;

	if (!out)
		return NULL;
	err = export_prom(out, agg, &run, false);
	if (fclose(out) || err) {
		free(text);
		return NULL;
	}
	return text;
}

/* Lines that start with @prefix. */
static size_t lines_starting(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line)
		n += !strncmp(line, prefix, len);
	return n;
}

/* The value of the sample line that starts with @prefix, or -1. */
static double sample(const char *text, const char *prefix)
{
	size_t len = strlen(prefix);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line)
		if (!strncmp(line, prefix, len) && line[len] == ' ')
			return strtod(line + len + 1, NULL);
	return -1;
}

/* No sample line (name and labels) appears twice. */
static bool series_unique(const char *text, char *first_twice, size_t size)
{
	for (const char *a = text; *a; a = strchr(a, '\n') + 1) {
		const char *end = strchr(a, '\n'), *space = end;

		while (space > a && *space != ' ')
			space--;
		if (*a == '#' || space == a)
			continue;
		for (const char *b = end + 1; *b; b = strchr(b, '\n') + 1)
			if (!strncmp(a, b, (size_t)(space - a) + 1)) {
				snprintf(first_twice, size, "%.*s", (int)(space - a), a);
				return false;
			}
	}
	return true;
}

#define OTHER_ANON_ZERO "pfwatch_faults_total{comm=\"<other>\",class=\"anon_zero\""

/*
 * 25 names and the overflow slot's record, the busiest of all: the 20
 * busiest names keep their series; the 5 others and the overflow slot
 * are one <other> group.
 */
static void overflow_and_remainder_are_one_group(void)
{
	static struct aggregate agg;
	char name[COMM_LEN], prefix[128], twice[256] = "";
	__u64 other = 5000;
	char *text;
	int err;

	aggregate_init(&agg);
	err = add_process(&agg, 0, OVERFLOW_COMM, other, 100000);
	for (int i = 0; i < 25 && !err; i++) {
		snprintf(name, sizeof(name), "name%02d", i);
		/* name00 is the busiest; two processes share each name. */
		err = add_process(&agg, 100 + i, name, 100 - i, 1000) ||
		      add_process(&agg, 200 + i, name, 100 - i, 1000);
		if (i >= 20)
			other += 2 * (100 - i);
	}
	text = err ? NULL : exported(&agg);
	CHECK(text, "export failed");
	if (text) {
		CHECK(series_unique(text, twice, sizeof(twice)), "written twice: %s", twice);
		CHECK(lines_starting(text, OTHER_ANON_ZERO) == 1, "%zu <other> anon_zero counters",
		      lines_starting(text, OTHER_ANON_ZERO));
		CHECK(sample(text, OTHER_ANON_ZERO ",kind=\"minor\"}") == (double)other,
		      "<other> anon_zero %.0f, want %llu",
		      sample(text, OTHER_ANON_ZERO ",kind=\"minor\"}"), (unsigned long long)other);
		for (int i = 0; i < 25; i++) {
			snprintf(prefix, sizeof(prefix), "pfwatch_faults_total{comm=\"name%02d\","
				 "class=\"anon_zero\",kind=\"minor\"}", i);
			CHECK((sample(text, prefix) == 2.0 * (100 - i)) == (i < 20),
			      "name%02d: %.0f", i, sample(text, prefix));
		}
		CHECK(lines_starting(text, "pfwatch_faults_total{") == 21,
		      "%zu counters, want 21 groups", lines_starting(text, "pfwatch_faults_total{"));
	}
	free(text);
	aggregate_free(&agg);
}

/* Few names: the overflow slot's group is still one, and theirs alone. */
static void overflow_alone_is_one_group(void)
{
	static struct aggregate agg;
	char *text;

	aggregate_init(&agg);
	text = add_process(&agg, 0, OVERFLOW_COMM, 7, 1000000) ||
	       add_process(&agg, 10, "a", 3, 100) ? NULL : exported(&agg);
	CHECK(text, "export failed");
	if (text) {
		CHECK(lines_starting(text, OTHER_ANON_ZERO) == 1 &&
		      sample(text, OTHER_ANON_ZERO ",kind=\"minor\"}") == 7,
		      "<other>: %zu lines", lines_starting(text, OTHER_ANON_ZERO));
		CHECK(lines_starting(text, "pfwatch_faults_total{") == 2, "%zu counters",
		      lines_starting(text, "pfwatch_faults_total{"));
	}
	free(text);
	aggregate_free(&agg);
}

#define H_LABELS "{comm=\"h\",class=\"anon_zero\",kind=\"minor\""
#define BUCKET "pfwatch_fault_latency_seconds_bucket" H_LABELS ",le=\""

/* Faults at known latencies: cumulative buckets, +Inf and _count all. */
static void buckets_are_cumulative(void)
{
	static const __u64 latency_ns[] = { 300, 300, 5000, 70000, 2000000000ULL };
	static struct aggregate agg;
	struct process_record *record;
	char *text = NULL;

	aggregate_init(&agg);
	record = aggregate_add_record(&agg);
	if (record) {
		snprintf(record->comm, COMM_LEN, "h");
		for (size_t i = 0; i < sizeof(latency_ns) / sizeof(latency_ns[0]); i++) {
			record->stats.count[FAULT_ANON_ZERO]++;
			record->stats.hist[FAULT_ANON_ZERO][hist_bucket(latency_ns[i])]++;
			record->stats.latency_sum_ns[FAULT_ANON_ZERO] += latency_ns[i];
		}
		record->stats.count[FAULT_ANON_ZERO]++;	/* one untimed */
		text = exported(&agg);
	}
	CHECK(text, "export failed");
	if (text) {
		/* le: 256 ns, 512 ns, 8.192 us, 131.072 us, 1.07 s */
		CHECK(sample(text, BUCKET "2.56e-07\"}") == 0 &&
		      sample(text, BUCKET "5.12e-07\"}") == 2 &&
		      sample(text, BUCKET "8.192e-06\"}") == 3 &&
		      sample(text, BUCKET "0.000131072\"}") == 4 &&
		      sample(text, BUCKET "1.07374182\"}") == 4 &&
		      sample(text, BUCKET "+Inf\"}") == 5,
		      "buckets %.0f %.0f %.0f %.0f %.0f +Inf %.0f",
		      sample(text, BUCKET "2.56e-07\"}"), sample(text, BUCKET "5.12e-07\"}"),
		      sample(text, BUCKET "8.192e-06\"}"), sample(text, BUCKET "0.000131072\"}"),
		      sample(text, BUCKET "1.07374182\"}"), sample(text, BUCKET "+Inf\"}"));
		CHECK(lines_starting(text, BUCKET) == 24, "%zu buckets, want 23 and +Inf",
		      lines_starting(text, BUCKET));
		CHECK(sample(text, "pfwatch_fault_latency_seconds_count" H_LABELS "}") == 5,
		      "_count is not the +Inf bucket");
		CHECK(sample(text, "pfwatch_faults_total" H_LABELS "}") == 6,
		      "the counter counts the untimed fault too");
	}
	free(text);
	aggregate_free(&agg);
}

/* Every le bound at or above the one before it, in every histogram. */
static void every_le_is_monotone(void)
{
	static struct aggregate agg;
	char *text = NULL;
	double last_le = -1, last_count = -1;
	char last_series[128] = "";

	aggregate_init(&agg);
	if (!add_process(&agg, 1, "x", 9, 400) && !add_process(&agg, 2, "y", 4, 90000))
		text = exported(&agg);
	CHECK(text, "export failed");
	for (const char *line = text; line && *line; line = strchr(line, '\n') + 1) {
		const char *le = strstr(line, ",le=\"");
		char series[128];

		if (strncmp(line, "pfwatch_fault_latency_seconds_bucket{", 37) || !le)
			continue;
		snprintf(series, sizeof(series), "%.*s", (int)(le - line), line);
		if (strcmp(series, last_series)) {
			snprintf(last_series, sizeof(last_series), "%s", series);
			last_le = last_count = -1;
		}
		double bound = !strncmp(le + 5, "+Inf", 4) ? 1e300 : strtod(le + 5, NULL);
		double count = strtod(strrchr(line, ' ') + 1, NULL);

		CHECK(bound > last_le && count >= last_count, "%s: le %g after %g, count %g after %g",
		      series, bound, last_le, count, last_count);
		last_le = bound;
		last_count = count;
	}
	free(text);
	aggregate_free(&agg);
}

/* Backslash, double quote and line feed are escaped in label values. */
static void label_values_are_escaped(void)
{
	static struct aggregate agg;
	char *text = NULL;

	aggregate_init(&agg);
	if (!add_process(&agg, 1, "a\"b\\c\nd", 1, 1000))
		text = exported(&agg);
	CHECK(text, "export failed");
	if (text)
		CHECK(sample(text, "pfwatch_faults_total{comm=\"a\\\"b\\\\c\\nd\",class=\"anon_zero\","
			     "kind=\"minor\"}") == 1, "comm not escaped: %.300s", text);
	free(text);
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_export_prom";
	RUN(overflow_and_remainder_are_one_group);
	RUN(overflow_alone_is_one_group);
	RUN(buckets_are_cumulative);
	RUN(every_le_is_monotone);
	RUN(label_values_are_escaped);
	return check.failures ? 1 : 0;
}
