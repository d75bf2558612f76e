/* The timeline in JSON (docs/json-schema.md, "timeline"), written. */
#include <stdlib.h>
#include <string.h>
#include "stats_json.h"
#include "timeline.h"

/* Only the classes that saw faults: most intervals see few of them. */
static void write_interval_stats(struct json_writer *w, const struct fault_stats *stats)
{
	json_field_u64(w, "minor", stats_kind_count(stats, KIND_MINOR));
	json_field_u64(w, "major", stats_kind_count(stats, KIND_MAJOR));
	json_field_u64(w, "invalid", stats_kind_count(stats, KIND_INVALID));
	json_key(w, "classes");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (stats->count[c])
			json_field_u64(w, fault_class_name(c), stats->count[c]);
	json_end_object(w);
	json_key(w, "latency_ns");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		if (!stats->count[c] && !stats->latency_sum_ns[c])
			continue;
		json_key(w, fault_class_name(c));
		json_write_latency(w, stats->hist[c], stats->latency_sum_ns[c]);
	}
	json_end_object(w);
	json_key(w, "causes");
	json_write_causes(w, stats);
	if (stats->thp_fallbacks)
		json_field_u64(w, "thp_fallbacks", stats->thp_fallbacks);
	if (stats->uffd_major)
		json_field_u64(w, "uffd_major", stats->uffd_major);
}

static void write_top(struct json_writer *w, const struct timeline_interval *interval)
{
	json_key(w, "top");
	json_begin_array(w);
	for (__u32 i = 0; i < interval->nr_top; i++) {
		const struct timeline_top *top = &interval->top[i];

		json_begin_object(w);
		json_field_u64(w, "pid", top->pid);
		json_field_string(w, "comm", top->comm);
		json_field_u64(w, "faults", top->faults);
		json_field_u64(w, "ns", top->ns);
		json_end_object(w);
	}
	json_end_array(w);
}

void timeline_write_json(struct json_writer *w, const struct timeline *tl)
{
	struct fault_stats *stats = malloc(sizeof(*stats));

	json_begin_object(w);
	json_key(w, "interval_s");
	json_double(w, tl->interval_s);
	json_key(w, "end_s");
	json_double(w, tl->end_s);
	json_key(w, "intervals");
	json_begin_array(w);
	/* Out of memory, the array stays empty and the file says so. */
	for (size_t i = 0; stats && i < tl->nr_intervals; i++) {
		json_begin_object(w);
		json_key(w, "start_s");
		json_double(w, timeline_start_s(tl, i));
		memset(stats, 0, sizeof(*stats));
		timeline_add_interval(tl, i, stats);
		write_interval_stats(w, stats);
		write_top(w, &tl->intervals[i]);
		json_end_object(w);
	}
	json_end_array(w);
	if (!stats)
		json_field_string(w, "error", "out of memory writing the intervals");
	json_end_object(w);
	free(stats);
}

int timeline_write_document(FILE *out, const struct timeline *tl)
{
	struct json_writer w;

	json_init(&w, out, false);
	timeline_write_json(&w, tl);
	return json_finish(&w) || fputc('\n', out) == EOF ? -1 : 0;
}
