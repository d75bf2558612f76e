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

int main(void)
{
	check.binary = "test_view";
	RUN(thread_rates_are_deltas);
	RUN(first_snapshot_counts_from_zero);
	return check.failures ? 1 : 0;
}
