/* The latency and causes objects, written the same wherever they appear. */
#include "hist.h"
#include "stats_json.h"

void json_write_latency(struct json_writer *w, const __u64 *hist, __u64 sum_ns)
{
	struct latency_summary lat;

	hist_summarize(hist, sum_ns, &lat);
	json_begin_object(w);
	json_field_u64(w, "count", lat.count);
	json_field_u64(w, "sum", lat.sum_ns);
	json_field_u64(w, "p50", lat.p50);
	json_field_u64(w, "p90", lat.p90);
	json_field_u64(w, "p99", lat.p99);
	json_field_u64(w, "p999", lat.p999);
	json_field_u64(w, "max", lat.max);
	/* Sparse: [smallest value of the bucket, count] for non-empty ones. */
	json_key(w, "buckets");
	json_begin_array(w);
	for (__u32 b = 0; b < HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		json_begin_array(w);
		json_u64(w, hist_bucket_low(b));
		json_u64(w, hist[b]);
		json_end_array(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static bool cause_used(const struct fault_stats *stats, int c, int cause)
{
	return stats->cause_faults[c][cause] || stats->cause_ns[c][cause];
}

static bool class_has_causes(const struct fault_stats *stats, int c)
{
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (cause_used(stats, c, cause))
			return true;
	return false;
}

void json_write_causes(struct json_writer *w, const struct fault_stats *stats)
{
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		if (!class_has_causes(stats, c))
			continue;
		json_key(w, fault_class_name(c));
		json_begin_object(w);
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
			if (!cause_used(stats, c, cause))
				continue;
			json_key(w, fault_cause_name(cause));
			json_begin_object(w);
			json_field_u64(w, "faults", stats->cause_faults[c][cause]);
			json_field_u64(w, "ns", stats->cause_ns[c][cause]);
			json_end_object(w);
		}
		json_end_object(w);
	}
	json_end_object(w);
}
