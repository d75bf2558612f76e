/*
 * Hints from hand-built aggregates: each fires where its figure is past
 * its threshold, says its numbers, and stays silent just short of it.
 */
#include <stdlib.h>
#include "check.h"
#include "hints.h"
#include "proc_cgroup.h"

#define MS 1000000ULL

static struct aggregate agg;

static struct process_record *process(__u32 tgid, const char *comm)
{
	struct process_record *p = aggregate_add_record(&agg);

	if (!p)
		return NULL;
	p->tgid = tgid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

/* @n timed faults of @each_ns in @fault_class, with their cpu cause. */
static void faults(struct process_record *p, int fault_class, __u64 n, __u64 each_ns)
{
	struct fault_stats *s = &p->stats;

	s->count[fault_class] += n;
	s->hist[fault_class][hist_bucket(each_ns)] += n;
	s->latency_sum_ns[fault_class] += n * each_ns;
	s->cause_faults[fault_class][CAUSE_CPU] += n;
}

/* @n of the class's faults waited @ns in all on @cause. */
static void waited(struct process_record *p, int fault_class, int cause, __u64 n,
		   __u64 ns)
{
	p->stats.cause_ns[fault_class][cause] += ns;
	p->stats.cause_faults[fault_class][cause] += n;
}

static size_t find(const struct run_info *run, struct hint *hints)
{
	for (size_t i = 0; i < agg.nr_records; i++)
		stats_settle_cpu(&agg.records[i]->stats);
	return hints_find(&agg, run, hints);
}

static bool says(const struct hint *h, const char *text)
{
	return strstr(h->text, text) != NULL;
}

static void memcg_reclaim_names_the_cgroup_and_its_limit(void)
{
	static struct cgroup_table cgroups = {
		.nr = 1,
		.entries = { { .tgid = 42, .path = "/batch/job", .limited = "/batch",
			       .limit_bytes = 32 << 20 } },
	};
	struct run_info run = { .cgroups = &cgroups };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(42, "writer");
	faults(p, FAULT_ANON_ZERO, 2000, 425000);	/* 850 ms */
	waited(p, FAULT_ANON_ZERO, CAUSE_MEMCG_RECLAIM, 1303, 685 * MS);
	CHECK(find(&run, hints) == 1, "%zu hints, want 1", find(&run, hints));
	CHECK(hints[0].kind == HINT_KIND_MEMCG_RECLAIM && hints[0].pid == 42 &&
	      !strcmp(hints[0].comm, "writer"), "kind %d pid %u", hints[0].kind,
	      hints[0].pid);
	CHECK(says(&hints[0], "writer (PID 42): 81% of its time in faults (685.0 ms of 850.0 ms)") &&
	      says(&hints[0], "in 1303 faults") &&
	      says(&hints[0], "cgroup /batch/job, under /batch at its limit (memory.limit_in_bytes 32.0MiB)"),
	      "text: %s", hints[0].text);
	/* Exited before pfwatch read its cgroup: said so. */
	cgroups.entries[0].tgid = 43;
	find(&run, hints);
	CHECK(says(&hints[0], "not read: the process exited first"), "text: %s",
	      hints[0].text);
	/* pfwatch report has no table: nothing said about reading it. */
	run.cgroups = NULL;
	find(&run, hints);
	CHECK(!strcmp(hints[0].text + strlen(hints[0].text) - 19, ": its memory cgroup"),
	      "text: %s", hints[0].text);
	aggregate_free(&agg);
}

static void memcg_reclaim_at_half_is_not_mostly(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(7, "half");
	faults(p, FAULT_ANON_ZERO, 100, 200000);	/* 20 ms */
	waited(p, FAULT_ANON_ZERO, CAUSE_MEMCG_RECLAIM, 50, 10 * MS);
	CHECK(find(&run, hints) == 0, "a hint at exactly half: %s", hints[0].text);
	/* Mostly reclaim, but not even a millisecond of it. */
	p = process(8, "tiny");
	faults(p, FAULT_ANON_ZERO, 10, 90000);
	waited(p, FAULT_ANON_ZERO, CAUSE_MEMCG_RECLAIM, 10, 800000);
	CHECK(find(&run, hints) == 0, "a hint below a millisecond: %s", hints[0].text);
	aggregate_free(&agg);
}

static void huge_pages_dominating_say_count_p50_and_fallbacks(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(9, "thp");
	faults(p, FAULT_ANON_THP, 32, 492000);
	faults(p, FAULT_ANON_ZERO, 100, 2000);
	p->stats.thp_fallbacks = 3;
	CHECK(find(&run, hints) == 1 && hints[0].kind == HINT_KIND_HUGE_PAGES,
	      "%zu hints", find(&run, hints));
	CHECK(says(&hints[0], "32 huge-page faults took 99% of its time in faults") &&
	      says(&hints[0], "3 more fell back to small pages"), "text: %s", hints[0].text);
	/* As much time in zero-fills: no longer most of it. */
	faults(p, FAULT_ANON_ZERO, 1, 32 * 492000);
	CHECK(find(&run, hints) == 0, "a hint at half: %s", hints[0].text);
	aggregate_free(&agg);
}

static void thrashing_needs_io_to_dominate(void)
{
	static struct cgroup_table cgroups = {
		.nr = 1,
		.entries = { { .tgid = 10, .path = "/small", .limited = "/small",
			       .limit_bytes = 16 << 20, .v2 = true } },
	};
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(10, "swappy");
	faults(p, FAULT_SWAP_IN, 100, 1000000);		/* 100 ms */
	faults(p, FAULT_SWAP_CACHE, 3900, 10000);	/* 39 ms */
	waited(p, FAULT_SWAP_IN, CAUSE_IO, 100, 40 * MS);
	waited(p, FAULT_SWAP_CACHE, CAUSE_IO, 3000, 20 * MS);
	CHECK(find(&run, hints) == 0, "60 ms of io in 139 ms made a hint: %s",
	      hints[0].text);
	waited(p, FAULT_SWAP_IN, CAUSE_IO, 0, 30 * MS);
	CHECK(find(&run, hints) == 1 && hints[0].kind == HINT_KIND_THRASHING,
	      "no thrashing hint with 90 ms of io in 139 ms");
	CHECK(says(&hints[0], "4000 faults brought back pages it had swapped out (3900 still in the swap cache") &&
	      says(&hints[0], "90.0 ms of it waiting for I/O): it does not fit in memory"),
	      "text: %s", hints[0].text);
	/* Its faults reclaimed in its cgroup too: the limit it does not fit in. */
	run.cgroups = &cgroups;
	find(&run, hints);
	CHECK(says(&hints[0], "it does not fit in cgroup /small, at its limit (memory.max 16.0MiB)"),
	      "text: %s", hints[0].text);
	aggregate_free(&agg);
}

static void cow_needs_a_burst(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(11, "forker");
	faults(p, FAULT_COW, 255, 10000);
	CHECK(find(&run, hints) == 0, "255 cow faults made a hint: %s", hints[0].text);
	faults(p, FAULT_COW, 1, 10000);
	CHECK(find(&run, hints) == 1 && hints[0].kind == HINT_KIND_COW_AFTER_FORK &&
	      says(&hints[0], "256 copy-on-write faults took 100% of its time in faults (2.6 ms)"),
	      "text: %s", hints[0].text);
	aggregate_free(&agg);
}

static void slow_pager_by_its_p50(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	struct process_record *p;

	aggregate_init(&agg);
	p = process(12, "restore");
	faults(p, FAULT_UFFD, 500, 90000);	/* the bare round trip */
	waited(p, FAULT_UFFD, CAUSE_SLEEP, 500, 40 * MS);
	CHECK(find(&run, hints) == 0, "a 90 us pager made a hint: %s", hints[0].text);
	p = process(13, "restore");
	faults(p, FAULT_UFFD, 500, 295000);
	waited(p, FAULT_UFFD, CAUSE_SLEEP, 500, 140 * MS);
	CHECK(find(&run, hints) == 1 && hints[0].kind == HINT_KIND_SLOW_PAGER &&
	      hints[0].pid == 13, "no hint for a 295 us pager");
	CHECK(says(&hints[0], "500 userfaultfd faults waited p50 2") &&
	      says(&hints[0], "95% asleep"), "text: %s", hints[0].text);
	aggregate_free(&agg);
}

static void at_most_a_few_most_time_first(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];
	size_t n;

	aggregate_init(&agg);
	for (__u32 i = 1; i <= MAX_HINTS + 2; i++)
		faults(process(i, "forker"), FAULT_COW, 1000, 10000 * i);
	n = find(&run, hints);
	CHECK(n == MAX_HINTS, "%zu hints, want %d", n, MAX_HINTS);
	for (size_t i = 0; i < n; i++)
		CHECK(hints[i].pid == MAX_HINTS + 2 - i, "hint %zu is PID %u", i,
		      hints[i].pid);
	aggregate_free(&agg);
}

static void no_figure_no_hint(void)
{
	struct run_info run = { 0 };
	struct hint hints[MAX_HINTS];

	aggregate_init(&agg);
	faults(process(1, "plain"), FAULT_ANON_ZERO, 100000, 1500);
	faults(process(2, "reader"), FAULT_FILE_READ, 1000, 100000);
	CHECK(find(&run, hints) == 0, "a hint from nothing: %s", hints[0].text);
	CHECK(!strcmp(hint_kind_name(HINT_KIND_SLOW_PAGER), "slow_pager") &&
	      !strcmp(hint_kind_name(NR_HINT_KINDS), "unknown"), "kind names");
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_hints";
	RUN(memcg_reclaim_names_the_cgroup_and_its_limit);
	RUN(memcg_reclaim_at_half_is_not_mostly);
	RUN(huge_pages_dominating_say_count_p50_and_fallbacks);
	RUN(thrashing_needs_io_to_dominate);
	RUN(cow_needs_a_burst);
	RUN(slow_pager_by_its_p50);
	RUN(at_most_a_few_most_time_first);
	RUN(no_figure_no_hint);
	return check.failures ? 1 : 0;
}
