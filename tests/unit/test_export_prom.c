/* The Prometheus export: its groups, histograms and label escaping. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "export.h"
#include "cgroup_names.h"
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

/* export_prom's text for @agg with @names as the run's cgroups (or
 * none), malloc'd; NULL on failure. */
static char *exported_with(const struct aggregate *agg, const struct cgroup_names *names)
{
	struct run_info named = run;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int err;

	if (!out)
		return NULL;
	named.cgroup_names = names;
	err = export_prom(out, agg, &named, false);
	if (fclose(out) || err) {
		free(text);
		return NULL;
	}
	return text;
}

static char *exported(const struct aggregate *agg)
{
	return exported_with(agg, NULL);
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

/*
 * The last record added: half its anon_zero time went to memcg reclaim,
 * in @waited of its faults, the rest to the kernel's own work; @fallbacks
 * huge pages were wanted and not had.
 */
static void add_causes(struct aggregate *agg, __u64 waited, __u64 fallbacks)
{
	struct fault_stats *stats = &agg->records[agg->nr_records - 1]->stats;
	__u64 sum = stats->latency_sum_ns[FAULT_ANON_ZERO];

	stats->cause_ns[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = sum / 2;
	stats->cause_faults[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = waited;
	stats->cause_ns[FAULT_ANON_ZERO][CAUSE_CPU] = sum - sum / 2;
	stats->cause_faults[FAULT_ANON_ZERO][CAUSE_CPU] = stats->count[FAULT_ANON_ZERO];
	stats->thp_fallbacks = fallbacks;
}

#define CAUSE "pfwatch_fault_cause_seconds_total{comm=\""
#define MEMCG "\",class=\"anon_zero\",cause=\"memcg_reclaim\"}"
#define CPU "\",class=\"anon_zero\",cause=\"cpu\"}"

/*
 * 25 names with two processes each and the overflow slot's record: the
 * 20 busiest names keep their cause series and fallbacks; the other 5
 * and the overflow slot add up in <other>. Faults of name i take
 * 1000 + i ns: half memcg reclaim, half cpu.
 */
static void causes_are_bounded_like_faults(void)
{
	static struct aggregate agg;
	char name[COMM_LEN], prefix[160], twice[256] = "";
	/* Halves of each record's time, as add_causes() splits it. */
	__u64 other_memcg_ns = 5000ULL * 100000 / 2, other_fallbacks = 3;
	char *text;
	int err;

	aggregate_init(&agg);
	err = add_process(&agg, 0, OVERFLOW_COMM, 5000, 100000);
	if (!err)
		add_causes(&agg, 10, 3);
	for (int i = 0; i < 25 && !err; i++) {
		snprintf(name, sizeof(name), "name%02d", i);
		for (int twin = 0; twin < 2 && !err; twin++) {
			err = add_process(&agg, 100 * (twin + 1) + i, name, 100 - i, 1000 + i);
			if (!err)
				add_causes(&agg, 1, (__u64)i);
		}
		if (i >= 20) {
			other_memcg_ns += 2 * ((100 - i) * (1000ULL + i) / 2);
			other_fallbacks += 2 * (__u64)i;
		}
	}
	text = err ? NULL : exported(&agg);
	CHECK(text, "export failed");
	if (!text)
		goto out;
	CHECK(series_unique(text, twice, sizeof(twice)), "written twice: %s", twice);
	CHECK(lines_starting(text, CAUSE) == 42, "%zu cause series, want 21 groups x 2",
	      lines_starting(text, CAUSE));
	CHECK(llround(sample(text, CAUSE "<other>" MEMCG) * 1e9) == (long long)other_memcg_ns,
	      "<other> memcg %.9f, want %llu ns", sample(text, CAUSE "<other>" MEMCG),
	      (unsigned long long)other_memcg_ns);
	CHECK(sample(text, "pfwatch_thp_fallbacks_total{comm=\"<other>\"}") ==
	      (double)other_fallbacks, "<other> fallbacks %.0f, want %llu",
	      sample(text, "pfwatch_thp_fallbacks_total{comm=\"<other>\"}"),
	      (unsigned long long)other_fallbacks);
	for (int i = 0; i < 25; i++) {
		__u64 each = (100 - i) * (1000ULL + i);
		long long memcg = 2 * (long long)(each / 2), cpu = 2 * (long long)(each - each / 2);

		snprintf(prefix, sizeof(prefix), CAUSE "name%02d" MEMCG, i);
		CHECK((llround(sample(text, prefix) * 1e9) == memcg) == (i < 20), "%s %.9f",
		      prefix, sample(text, prefix));
		snprintf(prefix, sizeof(prefix), CAUSE "name%02d" CPU, i);
		CHECK((llround(sample(text, prefix) * 1e9) == cpu) == (i < 20), "%s %.9f",
		      prefix, sample(text, prefix));
		snprintf(prefix, sizeof(prefix), "pfwatch_thp_fallbacks_total{comm=\"name%02d\"}", i);
		/* name00 had none: no series, as for a class without faults. */
		CHECK(sample(text, prefix) == (i && i < 20 ? 2.0 * i : -1), "%s %.0f", prefix,
		      sample(text, prefix));
	}
out:
	free(text);
	aggregate_free(&agg);
}

/* Per command and class, the causes add up to the latency histogram's sum. */
static void causes_add_up_to_latency_sum(void)
{
	static struct aggregate agg;
	char *text = NULL;
	double memcg, cpu, sum;

	aggregate_init(&agg);
	if (!add_process(&agg, 1, "x", 333, 1234567)) {
		add_causes(&agg, 7, 0);
		text = exported(&agg);
	}
	CHECK(text, "export failed");
	if (!text)
		return;
	memcg = sample(text, CAUSE "x" MEMCG);
	cpu = sample(text, CAUSE "x" CPU);
	sum = sample(text, "pfwatch_fault_latency_seconds_sum{comm=\"x\",class=\"anon_zero\","
		     "kind=\"minor\"}");
	/* Nine decimals: whole nanoseconds, which add up exactly. */
	CHECK(memcg > 0 && cpu > 0 && sum > 0 &&
	      llround(memcg * 1e9) + llround(cpu * 1e9) == llround(sum * 1e9) &&
	      llround(sum * 1e9) == 333LL * 1234567,
	      "memcg %.9f + cpu %.9f != sum %.9f", memcg, cpu, sum);
	free(text);
	aggregate_free(&agg);
}

/* OpenMetrics: the family without _total, and its unit. */
static void causes_in_openmetrics(void)
{
	static struct aggregate agg;
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	aggregate_init(&agg);
	out = open_memstream(&text, &size);
	if (out && !add_process(&agg, 1, "x", 3, 1000)) {
		add_causes(&agg, 1, 2);
		CHECK(!export_prom(out, &agg, &run, true), "export failed");
	}
	if (out)
		fclose(out);
	CHECK(text && strstr(text, "\n# TYPE pfwatch_fault_cause_seconds counter\n"
			     "# UNIT pfwatch_fault_cause_seconds seconds\n" CAUSE "x" MEMCG " "),
	      "cause family: %s", text ? text : "(none)");
	CHECK(text && strstr(text, "\n# TYPE pfwatch_thp_fallbacks counter\n"
			     "pfwatch_thp_fallbacks_total{comm=\"x\"} 2\n"),
	      "fallbacks family: %s", text ? text : "(none)");
	free(text);
	aggregate_free(&agg);
}

static int add_in_cgroup(struct aggregate *agg, __u32 tgid, const char *comm,
			 __u64 cgroup_id, __u64 faults, __u64 ns)
{
	if (add_process(agg, tgid, comm, faults, ns))
		return -1;
	agg->records[agg->nr_records - 1]->cgroup_id = cgroup_id;
	return 0;
}

#define CGROUP_OTHER "pfwatch_cgroup_faults_total{cgroup=\"<other>\",name=\"<other>\"," \
		     "class=\"anon_zero\",kind=\"minor\"}"

/*
 * 25 named cgroups of two processes each (named c00 the busiest), and an
 * id never named, the least busy: the 20 busiest keep their series, each
 * the sum of its processes; the 5 others and the unnamed are <other>.
 */
static void cgroups_summed_top_20_and_other(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	char path[32], prefix[160], twice[256] = "";
	__u64 other = 3;
	char *text = NULL;
	int err;

	aggregate_init(&agg);
	cgroup_names_init(&names);
	err = add_in_cgroup(&agg, 1, "lonely", 999, 3, 100);
	for (int i = 0; i < 25 && !err; i++) {
		snprintf(path, sizeof(path), "/system.slice/c%02d", i);
		err = cgroup_names_add(&names, 1000 + i, path) ||
		      add_in_cgroup(&agg, 100 + i, "a", 1000 + i, 100 - i, 1000) ||
		      add_in_cgroup(&agg, 200 + i, "b", 1000 + i, 50 - i, 1000);
		if (i >= 20)
			other += 150 - 2 * i;
	}
	if (!err)
		text = exported_with(&agg, &names);
	CHECK(text, "export failed");
	if (text) {
		CHECK(series_unique(text, twice, sizeof(twice)), "written twice: %s", twice);
		for (int i = 0; i < 25; i++) {
			snprintf(prefix, sizeof(prefix),
				 "pfwatch_cgroup_faults_total{cgroup=\"/system.slice/c%02d\","
				 "name=\"c%02d\",class=\"anon_zero\",kind=\"minor\"}", i, i);
			CHECK((sample(text, prefix) == 150.0 - 2 * i) == (i < 20),
			      "c%02d: %.0f", i, sample(text, prefix));
		}
		CHECK(sample(text, CGROUP_OTHER) == (double)other, "<other> %.0f, want %llu",
		      sample(text, CGROUP_OTHER), (unsigned long long)other);
		CHECK(lines_starting(text, "pfwatch_cgroup_faults_total{") == 21,
		      "%zu counters, want 21", lines_starting(text, "pfwatch_cgroup_faults_total{"));
		CHECK(sample(text, "pfwatch_cgroup_fault_latency_seconds_count{cgroup=\"<other>\","
			     "name=\"<other>\",class=\"anon_zero\",kind=\"minor\"}") == (double)other,
		      "<other>'s histogram count");
		CHECK(strstr(text, "\n# TYPE pfwatch_cgroup_fault_latency_seconds histogram\n"),
		      "no histogram family");
	}
	free(text);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

/* Two ids with one path (a cgroup removed and made again): one series. */
static void one_path_is_one_series(void)
{
	static struct aggregate agg;
	struct cgroup_names names;
	char *text = NULL;

	aggregate_init(&agg);
	cgroup_names_init(&names);
	if (!cgroup_names_add(&names, 7, "/job") && !cgroup_names_add(&names, 8, "/job") &&
	    !add_in_cgroup(&agg, 1, "x", 7, 4, 1000) && !add_in_cgroup(&agg, 2, "x", 8, 6, 1000))
		text = exported_with(&agg, &names);
	CHECK(text, "export failed");
	CHECK(text && sample(text, "pfwatch_cgroup_faults_total{cgroup=\"/job\",name=\"job\","
			     "class=\"anon_zero\",kind=\"minor\"}") == 10,
	      "%s", text ? text : "");
	CHECK(text && lines_starting(text, "pfwatch_cgroup_faults_total{") == 1, "not one series");
	free(text);
	cgroup_names_free(&names);
	aggregate_free(&agg);
}

/* A run that names no cgroup has no cgroup series. */
static void no_cgroup_series_unnamed(void)
{
	static struct aggregate agg;
	char *text;

	aggregate_init(&agg);
	text = add_in_cgroup(&agg, 1, "x", 7, 4, 1000) ? NULL : exported(&agg);
	CHECK(text, "export failed");
	CHECK(text && !strstr(text, "pfwatch_cgroup_"), "cgroup series without names");
	free(text);
	aggregate_free(&agg);
}

/* The run's skipped outcomes, in both exposition formats. */
static void outcomes_missed_is_a_counter(void)
{
	static struct aggregate agg;
	struct run_info missed = run;
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	aggregate_init(&agg);
	missed.diag[DIAG_OUTCOMES_MISSED] = 4764;
	for (int openmetrics = 0; openmetrics <= 1; openmetrics++) {
		const char *family = openmetrics ? "pfwatch_outcomes_missed"
						 : "pfwatch_outcomes_missed_total";
		char type[80];

		out = open_memstream(&text, &size);
		CHECK(out && !export_prom(out, &agg, &missed, openmetrics), "export failed");
		if (out)
			fclose(out);
		snprintf(type, sizeof(type), "\n# TYPE %s counter\n", family);
		CHECK(text && strstr(text, type), "no %s family: %s", family, text ? text : "(none)");
		CHECK(text && sample(text, "pfwatch_outcomes_missed_total") == 4764,
		      "openmetrics %d: %s", openmetrics, text ? text : "(none)");
		free(text);
		text = NULL;
	}
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
	RUN(causes_are_bounded_like_faults);
	RUN(causes_add_up_to_latency_sum);
	RUN(causes_in_openmetrics);
	RUN(cgroups_summed_top_20_and_other);
	RUN(one_path_is_one_series);
	RUN(no_cgroup_series_unnamed);
	RUN(outcomes_missed_is_a_counter);
	return check.failures ? 1 : 0;
}
