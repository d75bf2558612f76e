/* Userspace side of the latency histogram whose geometry is in pfwatch.h. */
#ifndef PFWATCH_HIST_H
#define PFWATCH_HIST_H

#include "pfwatch.h"

struct latency_summary {
	__u64 count;
	__u64 sum_ns;
	__u64 p50, p90, p99, p999, max;
};

void hist_add(__u64 *hist, const __u64 *other);
__u64 hist_count(const __u64 *hist);
/* Nearest-rank percentile, q in [0, 1], as the value its bucket stands for. */
__u64 hist_percentile(const __u64 *hist, double q);
__u64 hist_max(const __u64 *hist);
void hist_summarize(const __u64 *hist, __u64 sum_ns, struct latency_summary *out);

#endif
