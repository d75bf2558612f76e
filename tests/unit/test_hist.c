/* Histogram: bucketing, merging, percentiles against a sorted-array oracle. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "hist.h"

static void bucket_bounds_round_trip(void)
{
	for (__u32 b = 0; b < HIST_BUCKETS; b++) {
		__u64 low = hist_bucket_low(b);

		CHECK(hist_bucket(low) == b, "bucket %u: low %llu maps to %u", b,
		      (unsigned long long)low, hist_bucket(low));
		if (b + 1 < HIST_BUCKETS) {
			__u64 next = hist_bucket_low(b + 1);

			CHECK(next > low, "bucket %u not increasing", b);
			CHECK(hist_bucket(next - 1) == b, "bucket %u: top %llu maps to %u",
			      b, (unsigned long long)(next - 1), hist_bucket(next - 1));
			/* at most a quarter of the lower bound wide */
			CHECK(low < HIST_SUB_BUCKETS || (next - low) * 4 <= low,
			      "bucket %u is %llu..%llu: wider than 25%%", b,
			      (unsigned long long)low, (unsigned long long)next);
		}
	}
}

static void bucketing_is_monotonic(void)
{
	static const __u64 values[] = {
		0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 1023, 1024, 1025,
		(1ull << 35) - 1, 1ull << 35, 1ull << 36, UINT64_MAX,
	};
	__u32 last = 0;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		__u32 b = hist_bucket(values[i]);

		CHECK(b < HIST_BUCKETS, "%llu maps past the end",
		      (unsigned long long)values[i]);
		CHECK(b >= last, "%llu maps below its predecessor",
		      (unsigned long long)values[i]);
		last = b;
	}
	CHECK(hist_bucket(3) == 3 && hist_bucket(0) == 0, "small values not exact");
	CHECK(hist_bucket(UINT64_MAX) == HIST_BUCKETS - 1, "huge values do not clamp");
}

static __u64 xorshift(__u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static double uniform01(__u64 *state)
{
	return (xorshift(state) >> 11) * (1.0 / 9007199254740992.0);
}

static int compare_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static __u64 oracle_percentile(const __u64 *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	return sorted[(rank ? rank : 1) - 1];
}

enum distribution { UNIFORM, LOG_UNIFORM, BIMODAL };

static __u64 draw(enum distribution d, __u64 *state)
{
	switch (d) {
	case UNIFORM:
		return 100 + (__u64)(uniform01(state) * 100000);
	case LOG_UNIFORM:	/* 100 ns .. 10 ms */
		return (__u64)exp(log(100) + uniform01(state) * (log(1e7) - log(100)));
	default:		/* minor faults ~500 ns, a few majors ~80 us */
		if (uniform01(state) < 0.95)
			return 300 + (__u64)(uniform01(state) * 400);
		return 60000 + (__u64)(uniform01(state) * 40000);
	}
}

static void percentiles_match_oracle(void)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	enum { N = 20000 };
	__u64 *values = malloc(N * sizeof(*values));
	__u64 hist[HIST_BUCKETS];
	double worst = 0;

	CHECK(values != NULL, "out of memory");
	if (!values)
		return;
	for (int d = UNIFORM; d <= BIMODAL; d++) {
		__u64 state = 0x9e3779b97f4a7c15ull + (__u64)d;

		memset(hist, 0, sizeof(hist));
		for (size_t i = 0; i < N; i++) {
			values[i] = draw(d, &state);
			hist[hist_bucket(values[i])]++;
		}
		qsort(values, N, sizeof(*values), compare_u64);
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			double want = (double)oracle_percentile(values, N, qs[i]);
			double got = (double)(qs[i] == 1.0 ? hist_max(hist)
							    : hist_percentile(hist, qs[i]));
			double error = fabs(got - want) / want;

			if (error > worst)
				worst = error;
			CHECK(error <= 0.20, "distribution %d q=%.3f: %.0f vs oracle %.0f",
			      d, qs[i], got, want);
		}
	}
	CHECK(worst <= 0.125, "worst relative error %.3f exceeds the geometry's 12.5%%",
	      worst);
	free(values);
}

static void merge_adds_counts(void)
{
	__u64 a[HIST_BUCKETS] = { 0 }, b[HIST_BUCKETS] = { 0 };

	a[hist_bucket(500)] = 3;
	b[hist_bucket(500)] = 2;
	b[hist_bucket(80000)] = 1;
	hist_add(a, b);
	CHECK(hist_count(a) == 6, "merged count %llu", (unsigned long long)hist_count(a));
	CHECK(a[hist_bucket(500)] == 5, "bucket not summed");
	CHECK(hist_max(a) >= 70000 && hist_max(a) <= 90000, "max %llu",
	      (unsigned long long)hist_max(a));
}

static void empty_histogram_reports_zero(void)
{
	__u64 hist[HIST_BUCKETS] = { 0 };
	struct latency_summary summary;

	hist_summarize(hist, 0, &summary);
	CHECK(!summary.count && !summary.p50 && !summary.p999 && !summary.max,
	      "empty histogram gave non-zero figures");
}

int main(void)
{
	check.binary = "test_hist";
	RUN(bucket_bounds_round_trip);
	RUN(bucketing_is_monotonic);
	RUN(percentiles_match_oracle);
	RUN(merge_adds_counts);
	RUN(empty_histogram_reports_zero);
	return check.failures ? 1 : 0;
}
