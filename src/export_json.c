/* JSON export: the complete aggregate, one object per process. */
#include <stdlib.h>
#include <string.h>
#include "export_json.h"
#include "hist.h"
#include "json_writer.h"

static void write_time(struct json_writer *w, const char *key,
		       const struct timespec *when)
{
	struct tm utc;
	char text[40];
	time_t seconds = when->tv_sec;

	json_key(w, key);
	if (!gmtime_r(&seconds, &utc) ||
	    !strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc)) {
		json_null(w);
		return;
	}
	snprintf(text + strlen(text), sizeof(text) - strlen(text), ".%03ldZ",
		 when->tv_nsec / 1000000);
	json_string(w, text);
}

static void write_header(struct json_writer *w, const struct run_info *run)
{
	json_key(w, "pfwatch");
	json_begin_object(w);
	json_field_string(w, "version", PFWATCH_VERSION);
	json_field_u64(w, "schema_version", JSON_SCHEMA_VERSION);
	json_field_string(w, "backend", run->backend);
	json_field_string(w, "entry_hook", run->entry_hook);
	json_field_string(w, "kernel", run->kernel);
	write_time(w, "start_time", &run->start_time);
	write_time(w, "end_time", &run->end_time);
	json_key(w, "duration_s");
	json_double(w, run->elapsed_s);
	json_key(w, "command");
	if (run->command) {
		json_begin_array(w);
		for (char **arg = run->command; *arg; arg++)
			json_string(w, *arg);
		json_end_array(w);
		json_key(w, "exit_status");
		json_i64(w, run->exit_status);
	} else {
		json_null(w);
	}
	json_end_object(w);
}

static void write_diagnostics(struct json_writer *w, const struct run_info *run,
			      const struct aggregate *agg)
{
	json_key(w, "diagnostics");
	json_begin_object(w);
	json_field_u64(w, "lost_events", run->diag[DIAG_RINGBUF_DROPS]);
	json_field_u64(w, "slots_exhausted", run->diag[DIAG_SLOTS_EXHAUSTED]);
	json_field_u64(w, "unresolved_faults", run->diag[DIAG_UNRESOLVED]);
	json_field_u64(w, "faults_without_entry", run->diag[DIAG_NO_ENTRY]);
	json_field_u64(w, "streamed_faults", run->streamed_faults);
	json_field_u64(w, "invalid_faults_listed", agg->nr_invalid);
	json_field_u64(w, "invalid_faults_seen", agg->invalid_events);
	json_end_object(w);
}

static void write_latency(struct json_writer *w, const __u64 *hist, __u64 sum_ns)
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

/* Counts and latencies of one process, or of all of them. */
static void write_stats(struct json_writer *w, const struct fault_stats *stats)
{
	json_field_u64(w, "minor", stats_kind_count(stats, KIND_MINOR));
	json_field_u64(w, "major", stats_kind_count(stats, KIND_MAJOR));
	json_field_u64(w, "invalid", stats_invalid_count(stats));
	json_key(w, "classes");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		json_field_u64(w, fault_class_name(c), stats->count[c]);
	json_end_object(w);
	json_key(w, "latency_ns");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		json_key(w, fault_class_name(c));
		write_latency(w, stats->hist[c], stats->latency_sum_ns[c]);
	}
	json_end_object(w);
}

static void write_process(struct json_writer *w, const struct process_record *p)
{
	json_begin_object(w);
	json_field_u64(w, "pid", p->tgid);
	json_field_string(w, "comm", p->comm);
	json_field_u64(w, "cgroup_id", p->cgroup_id);
	json_key(w, "exited");
	json_bool(w, p->exited);
	if (p->folded)
		json_field_u64(w, "folded_processes", p->folded);
	write_stats(w, &p->stats);
	if (p->has_rusage) {
		json_key(w, "rusage");
		json_begin_object(w);
		json_field_u64(w, "minflt", p->rusage_minflt);
		json_field_u64(w, "majflt", p->rusage_majflt);
		json_end_object(w);
	}
	json_end_object(w);
}

static void write_mapping(struct json_writer *w, const struct invalid_fault *f)
{
	json_key(w, "mapping");
	if (!f->mapped) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_field_string(w, "kind", f->mapping_kind);
	json_field_string(w, "perms", f->perms);
	json_field_string(w, "path", f->path);
	json_end_object(w);
}

static void write_invalid(struct json_writer *w, const struct invalid_fault *f)
{
	const struct fault_event *e = &f->event;
	char hex[24];

	json_begin_object(w);
	json_field_u64(w, "pid", e->tgid);
	json_field_u64(w, "tid", e->tid);
	json_field_string(w, "comm", e->comm);
	json_field_string(w, "class", fault_class_name(e->fault_class));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)e->address);
	json_field_string(w, "address", hex);
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)e->ip);
	json_field_string(w, "ip", hex);
	json_field_u64(w, "latency_ns", e->latency_ns);
	json_key(w, "si_code");
	json_i64(w, (int)e->signal_code);
	json_field_u64(w, "error_code", e->error_code);
	write_mapping(w, f);
	json_end_object(w);
}

int export_json(FILE *out, const struct aggregate *agg,
		const struct run_info *run)
{
	struct json_writer w;
	struct fault_stats *total = malloc(sizeof(*total));

	if (!total)
		return -1;
	aggregate_totals(agg, total);
	json_init(&w, out, true);
	json_begin_object(&w);
	write_header(&w, run);
	write_diagnostics(&w, run, agg);
	json_key(&w, "totals");
	json_begin_object(&w);
	write_stats(&w, total);
	json_end_object(&w);
	json_key(&w, "processes");
	json_begin_array(&w);
	for (size_t i = 0; i < agg->nr_records; i++)
		write_process(&w, agg->records[i]);
	json_end_array(&w);
	json_key(&w, "invalid_faults");
	json_begin_array(&w);
	for (size_t i = 0; i < agg->nr_invalid; i++)
		write_invalid(&w, &agg->invalid[i]);
	json_end_array(&w);
	json_end_object(&w);
	free(total);
	if (fputc('\n', out) == EOF)
		return -1;
	return json_finish(&w);
}
