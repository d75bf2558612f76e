/* Percentiles from log-linear histograms. */
#include <math.h>
#include "hist.h"

void hist_add(__u64 *hist, const __u64 *other)
{
	for (__u32 b = 0; b < HIST_BUCKETS; b++)
		hist[b] += other[b];
}

__u64 hist_count(const __u64 *hist)
{
	__u64 count = 0;

	for (__u32 b = 0; b < HIST_BUCKETS; b++)
		count += hist[b];
	return count;
}

/* The middle of a bucket: within 12.5% of anything that landed in it. */
static __u64 bucket_value(__u32 b)
{
	__u64 low = hist_bucket_low(b);

	if (b < HIST_SUB_BUCKETS || b == HIST_BUCKETS - 1)
		return low;
	return low + (hist_bucket_low(b + 1) - low) / 2;
}

__u64 hist_percentile(const __u64 *hist, double q)
{
	__u64 count = hist_count(hist), rank, seen = 0;

	if (!count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (__u64)ceil(q * (double)count);
	if (rank < 1)
		rank = 1;
	for (__u32 b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank)
			return bucket_value(b);
	}
	return bucket_value(HIST_BUCKETS - 1);
}

__u64 hist_max(const __u64 *hist)
{
	for (__u32 b = HIST_BUCKETS; b-- > 0;)
		if (hist[b])
			return bucket_value(b);
	return 0;
}

void hist_summarize(const __u64 *hist, __u64 sum_ns, struct latency_summary *out)
{
	out->count = hist_count(hist);
	out->sum_ns = sum_ns;
	out->p50 = hist_percentile(hist, 0.50);
	out->p90 = hist_percentile(hist, 0.90);
	out->p99 = hist_percentile(hist, 0.99);
	out->p999 = hist_percentile(hist, 0.999);
	out->max = hist_max(hist);
}
