/* Rates since the last view: per process and per thread. */
#include <stdlib.h>
#include "check.h"
#include "hist.h"
#include "view.h"

static struct thread_stats thread(__u32 tid, __u32 tgid, const char *comm,
				  __u64 anon_zero, __u64 file_read, __u64 ns)
{
	struct thread_stats t = { .tid = tid, .tgid = tgid };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	t.count[FAULT_ANON_ZERO] = anon_zero;
	t.count[FAULT_FILE_READ] = file_read;
	t.latency_sum_ns = ns;
	return t;
}

static void thread_rates_are_deltas(void)
{
	/* Sorted by TID, as collector_read_threads() returns them. */
	struct thread_stats then[] = {
		thread(100, 100, "main", 1000, 0, 1000000),
		thread(101, 100, "worker", 50, 0, 50000),
		thread(300, 300, "old", 10, 0, 10000),
	};
	struct thread_stats now[] = {
		thread(100, 100, "main", 3000, 4, 3000000),	/* +2000, +4 */
		thread(101, 100, "worker", 50, 0, 50000),	/* idle */
		thread(200, 200, "newcomer", 500, 0, 900000),	/* new: all */
		thread(300, 301, "reused", 7, 0, 7000),	/* TID reused */
	};
	size_t n;
	struct view_row *rows = view_thread_rows(now, 4, then, 3, 2.0, &n);

	CHECK(rows, "out of memory");
	if (!rows)
		return;
	CHECK(n == 3, "%zu rows, want 3 (the idle worker left out)", n);
	CHECK(rows[0].tid == 100 && rows[0].tgid == 100 &&
	      rows[0].rates.per_s[KIND_MINOR] == 1000 && rows[0].rates.per_s[KIND_MAJOR] == 2 &&
	      rows[0].fault_ms_per_s == 1.0 && !strcmp(rows[0].comm, "main"),
	      "main: tid %u minor %.1f major %.1f ms %.3f", rows[0].tid,
	      rows[0].rates.per_s[KIND_MINOR], rows[0].rates.per_s[KIND_MAJOR],
	      rows[0].fault_ms_per_s);
	CHECK(rows[1].tid == 200 && rows[1].rates.per_s[KIND_MINOR] == 250,
	      "newcomer: tid %u minor %.1f", rows[1].tid, rows[1].rates.per_s[KIND_MINOR]);
	CHECK(rows[2].tid == 300 && rows[2].tgid == 301 &&
	      rows[2].rates.per_s[KIND_MINOR] == 3.5, "reused TID: minor %.1f",
	      rows[2].rates.per_s[KIND_MINOR]);
	for (size_t i = 0; i < n; i++)
		CHECK(!hist_count(rows[i].hist), "thread row %zu has a histogram", i);
	free(rows);
}

static void first_snapshot_counts_from_zero(void)
{
	struct thread_stats now[] = { thread(7, 7, "x", 100, 0, 0) };
	size_t n;
	struct view_row *rows = view_thread_rows(now, 1, NULL, 0, 1.0, &n);

	CHECK(rows && n == 1 && rows[0].rates.per_s[KIND_MINOR] == 100,
	      "first snapshot: %zu rows", n);
	free(rows);
}

/* @count faults of each class in @classes, @ns of latency each. */
static void set_counts(struct fault_stats *stats, const int *classes, size_t nr,
		       __u64 count, __u64 ns)
{
	for (size_t i = 0; i < nr; i++) {
		stats->count[classes[i]] = count;
		stats->latency_sum_ns[classes[i]] = count * ns;
	}
}

/*
 * Known counts over 4 s: rates by shown kind, an error among the invalid
 * ones; a process idle since the last view is left out.
 */
static void process_rates_by_kind(void)
{
	static const int minor[] = { FAULT_ANON_ZERO, FAULT_COW, FAULT_FILE_CACHED };
	static const int major[] = { FAULT_FILE_READ, FAULT_SWAP_IN };
	static const int invalid[] = { FAULT_SEGV_MAPERR, FAULT_SIGBUS, FAULT_OTHER_ERROR };
	static struct aggregate agg;
	struct process_record *busy, *idle;
	struct kind_rates totals;
	struct view_row *rows = NULL;
	double fault_ms;
	size_t n = 0;

	aggregate_init(&agg);
	busy = aggregate_add_record(&agg);
	idle = aggregate_add_record(&agg);
	if (busy && idle) {
		busy->tgid = 10;
		idle->tgid = 20;
		set_counts(&idle->stats, minor, 3, 40, 1000);
		set_counts(&busy->stats, minor, 3, 400, 1000);
		set_counts(&busy->stats, major, 2, 8, 1000000);
		set_counts(&busy->stats, invalid, 3, 4, 0);
	}
	if (busy && idle && !aggregate_mark_shown(&agg)) {
		/* Since then: 1200 minor, 16 major, 12 invalid (4 of them errors). */
		set_counts(&busy->stats, minor, 3, 800, 1000);
		set_counts(&busy->stats, major, 2, 16, 1000000);
		set_counts(&busy->stats, invalid, 3, 8, 0);
		rows = view_rows(&agg, 4.0, &n);
	}
	CHECK(rows, "out of memory");
	if (rows) {
		CHECK(n == 1 && rows[0].tgid == 10, "%zu rows, first pid %u", n, rows[0].tgid);
		CHECK(rows[0].rates.per_s[KIND_MINOR] == 300 &&
		      rows[0].rates.per_s[KIND_MAJOR] == 4 &&
		      rows[0].rates.per_s[KIND_INVALID] == 3,
		      "rates minor %.2f major %.2f invalid %.2f, want 300 4 3",
		      rows[0].rates.per_s[KIND_MINOR], rows[0].rates.per_s[KIND_MAJOR],
		      rows[0].rates.per_s[KIND_INVALID]);
		/* 1200 x 1 us + 16 x 1 ms = 17.2 ms over 4 s */
		CHECK(rows[0].fault_ms_per_s > 4.2999 && rows[0].fault_ms_per_s < 4.3001,
		      "%.4f ms/s in faults, want 4.3", rows[0].fault_ms_per_s);
		view_totals(rows, n, &totals, &fault_ms);
		CHECK(kind_rates_total(&totals) == 307 && fault_ms == rows[0].fault_ms_per_s,
		      "totals %.2f/s %.4f ms/s", kind_rates_total(&totals), fault_ms);
	}
	free(rows);
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_view";
	RUN(thread_rates_are_deltas);
	RUN(first_snapshot_counts_from_zero);
	RUN(process_rates_by_kind);
	return check.failures ? 1 : 0;
}
