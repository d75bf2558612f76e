/* JSON export: the complete aggregate, one object per process. */
#include <stdlib.h>
#include <string.h>
#include "cgroup_groups.h"
#include "export_json.h"
#include "hints.h"
#include "hist.h"
#include "json_writer.h"
#include "stacks.h"
#include "stats_json.h"
#include "timeline.h"
#include "where.h"

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
	json_field_u64(w, "lost_events", run_lost_events(run));
	json_key(w, "lost");
	json_begin_object(w);
	for (int kind = 0; kind < NR_LOST_KINDS; kind++)
		json_field_u64(w, lost_kind_name(kind), run->diag[kind]);
	json_end_object(w);
	if (run->lost_per_cpu) {
		json_key(w, "lost_per_cpu");
		json_begin_array(w);
		for (unsigned cpu = 0; cpu < run->nr_cpus; cpu++)
			json_u64(w, run->lost_per_cpu[cpu]);
		json_end_array(w);
	}
	json_field_u64(w, "slots_exhausted", run->diag[DIAG_SLOTS_EXHAUSTED]);
	json_field_u64(w, "unresolved_faults", run->diag[DIAG_UNRESOLVED]);
	json_field_u64(w, "faults_without_entry", run->diag[DIAG_NO_ENTRY]);
	json_field_u64(w, "untraced_children", run->diag[DIAG_UNTRACED_CHILDREN]);
	json_field_u64(w, "untracked_threads", run->diag[DIAG_THREADS_UNTRACKED]);
	json_field_u64(w, "outcomes_missed", run->diag[DIAG_OUTCOMES_MISSED]);
	json_field_u64(w, "streamed_faults", run->streamed_faults);
	json_field_u64(w, "invalid_faults_listed", agg->nr_invalid);
	json_field_u64(w, "invalid_faults_seen", agg->invalid_events);
	json_end_object(w);
}

/*
 * Where each class's time went: only classes with timed faults, only
 * causes that some fault of the class waited on ("cpu": all of them).
 */
static void write_causes(struct json_writer *w, const struct fault_stats *stats)
{
	json_key(w, "causes");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		if (!stats->cause_faults[c][CAUSE_CPU])
			continue;
		json_key(w, fault_class_name(c));
		json_begin_object(w);
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
			if (!stats->cause_faults[c][cause])
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

/* Counts and latencies of one process, or of all of them. */
static void write_stats(struct json_writer *w, const struct fault_stats *stats)
{
	json_field_u64(w, "minor", stats_kind_count(stats, KIND_MINOR));
	json_field_u64(w, "major", stats_kind_count(stats, KIND_MAJOR));
	json_field_u64(w, "invalid", stats_kind_count(stats, KIND_INVALID));
	json_key(w, "classes");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		json_field_u64(w, fault_class_name(c), stats->count[c]);
	json_end_object(w);
	json_key(w, "latency_ns");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		json_key(w, fault_class_name(c));
		json_write_latency(w, stats->hist[c], stats->latency_sum_ns[c]);
	}
	json_end_object(w);
	write_causes(w, stats);
	json_field_u64(w, "thp_fallbacks", stats->thp_fallbacks);
	json_field_u64(w, "uffd_major", stats->uffd_major);
}

static void write_process(struct json_writer *w, const struct process_record *p)
{
	json_begin_object(w);
	json_field_u64(w, "pid", p->tgid);
	/* A process in a container: the PID it knows itself by, too. */
	if (p->ns_pid && p->ns_pid != p->tgid)
		json_field_u64(w, "ns_pid", p->ns_pid);
	json_field_string(w, "comm", p->comm);
	json_field_u64(w, "cgroup_id", p->cgroup_id);
	json_key(w, "exited");
	json_bool(w, p->exited);
	if (p->moved) {
		json_key(w, "moved");
		json_bool(w, true);
	}
	if (p->folded)
		json_field_u64(w, "folded_processes", p->folded);
	write_stats(w, &p->stats);
	if (p->has_rusage) {
		json_key(w, "rusage");
		json_begin_object(w);
		json_field_u64(w, "minflt", p->rusage_minflt);
		json_field_u64(w, "majflt", p->rusage_majflt);
		if (p->rusage_orphans)
			json_field_u64(w, "orphans", p->rusage_orphans);
		if (p->rusage_orphans_running) {
			json_key(w, "orphans_running");
			json_bool(w, true);
		}
		json_end_object(w);
	}
	json_end_object(w);
}

/* The processes' counts summed per cgroup they faulted in. */
static int write_cgroups(struct json_writer *w, const struct aggregate *agg,
			 const struct run_info *run)
{
	struct cgroup_groups groups;

	if (cgroup_groups_build(agg, run->cgroup_names, &groups))
		return -1;
	json_key(w, "cgroups");
	json_begin_array(w);
	for (size_t i = 0; i < groups.nr; i++) {
		const struct cgroup_group *group = &groups.groups[i];

		json_begin_object(w);
		json_field_u64(w, "id", group->id);
		json_field_string(w, "path", cgroup_group_path(group));
		json_field_string(w, "name", cgroup_group_name(group));
		json_field_u64(w, "processes", group->processes);
		write_stats(w, &group->stats);
		json_end_object(w);
	}
	json_end_array(w);
	cgroup_groups_free(&groups);
	return 0;
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

static void write_hex(struct json_writer *w, const char *key, __u64 value)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)value);
	json_field_string(w, key, hex);
}

static void write_kinds(struct json_writer *w, __u64 minor, __u64 major, __u64 invalid)
{
	json_field_u64(w, "minor", minor);
	json_field_u64(w, "major", major);
	json_field_u64(w, "invalid", invalid);
}

static void write_where_mapping(struct json_writer *w, const struct where_mapping *m)
{
	json_begin_object(w);
	json_field_u64(w, "pid", m->tgid);
	json_field_string(w, "comm", m->comm);
	write_hex(w, "start", m->start);
	write_hex(w, "end", m->end);
	json_field_string(w, "kind", mapping_kind_name(m->kind));
	json_field_string(w, "path", m->path);
	json_key(w, "classes");
	json_begin_object(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (m->count[c])
			json_field_u64(w, fault_class_name(c), m->count[c]);
	json_end_object(w);
	json_field_u64(w, "latency_sum_ns", m->latency_ns);
	json_end_object(w);
}

static void write_where_file(struct json_writer *w, const struct where_file *f,
			     __u64 page_size)
{
	size_t ranges = f->majors ? (size_t)(f->last_offset >> f->heat_shift) + 1 : 0;

	json_begin_object(w);
	json_field_string(w, "path", f->path);
	json_field_u64(w, "major", f->majors);
	json_field_u64(w, "file_cached", f->minors);
	json_field_u64(w, "bytes_read", f->majors * page_size);
	json_field_u64(w, "major_latency_sum_ns", f->major_latency_ns);
	if (f->majors) {
		json_field_u64(w, "first_offset", f->first_offset);
		json_field_u64(w, "last_offset", f->last_offset);
	}
	json_field_u64(w, "sequential", f->sequential);
	json_field_u64(w, "random", f->random);
	json_key(w, "heat");
	json_begin_object(w);
	json_field_u64(w, "range_bytes", 1ULL << f->heat_shift);
	json_key(w, "majors");
	json_begin_array(w);
	for (size_t i = 0; i < ranges; i++)
		json_u64(w, f->heat[i]);
	json_end_array(w);
	json_end_object(w);
	json_end_object(w);
}

#define JSON_HOT_PAGES 256

/* "where" (--where): every mapping, file and code location; top pages. */
static void write_where(struct json_writer *w, const struct where_table *where)
{
	size_t n, *order;

	json_key(w, "where");
	json_begin_object(w);
	json_field_u64(w, "page_size", where->page_size);
	json_field_u64(w, "placed", where->placed);
	json_field_u64(w, "unplaced", where->unplaced);
	json_field_u64(w, "untracked", where->untracked);
	json_field_u64(w, "pages_faulted", where->nr_pages);
	json_key(w, "mappings");
	json_begin_array(w);
	order = where_rank(where, WHERE_MAPPINGS, &n);
	for (size_t i = 0; order && i < n; i++)
		write_where_mapping(w, &where->mappings[order[i]]);
	free(order);
	json_end_array(w);
	json_key(w, "files");
	json_begin_array(w);
	order = where_rank(where, WHERE_FILES, &n);
	for (size_t i = 0; order && i < n; i++)
		write_where_file(w, &where->files[order[i]], where->page_size);
	free(order);
	json_end_array(w);
	json_key(w, "hot_pages");
	json_begin_array(w);
	order = where_rank(where, WHERE_PAGES, &n);
	for (size_t i = 0; order && i < n && i < JSON_HOT_PAGES; i++) {
		const struct where_page *p = &where->pages[order[i]];

		json_begin_object(w);
		json_field_u64(w, "pid", p->tgid);
		write_hex(w, "address", p->page * where->page_size);
		write_kinds(w, p->count[0], p->count[1], p->count[2]);
		json_end_object(w);
	}
	free(order);
	json_end_array(w);
	json_key(w, "code");
	json_begin_array(w);
	order = where_rank(where, WHERE_CODE, &n);
	for (size_t i = 0; order && i < n; i++) {
		const struct where_code *c = &where->code[order[i]];

		json_begin_object(w);
		json_field_string(w, "binary", c->binary);
		json_field_string(w, "function", c->symbol);
		json_field_string(w, "source", c->source);
		json_field_string(w, "build_id", c->build_id);
		write_kinds(w, c->count[0], c->count[1], c->count[2]);
		json_end_object(w);
	}
	free(order);
	json_end_array(w);
	json_end_object(w);
}

#define JSON_STACKS 1000

/* "stacks" (--stacks): the most frequent folded stacks. */
static void write_stacks(struct json_writer *w, const struct stack_table *stacks)
{
	size_t *order = stacks_rank(stacks);

	json_key(w, "stacks");
	json_begin_object(w);
	json_field_u64(w, "sampled", stacks->sampled);
	json_field_u64(w, "distinct", stacks->distinct > stacks->nr_stacks
				       ? stacks->distinct : stacks->nr_stacks);
	json_field_u64(w, "untracked", stacks->untracked);
	json_key(w, "folded");
	json_begin_array(w);
	for (size_t i = 0; order && i < stacks->nr_stacks && i < JSON_STACKS; i++) {
		json_begin_object(w);
		json_field_string(w, "stack", stacks->stacks[order[i]].frames);
		json_field_u64(w, "count", stacks->stacks[order[i]].count);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
	free(order);
}

/* What the figures point at, and what this backend and kernel cannot see. */
static void write_hints_and_blind_spots(struct json_writer *w,
					const struct aggregate *agg,
					const struct run_info *run)
{
	struct hint hints[MAX_HINTS];
	size_t n = hints_find(agg, run, hints);

	json_key(w, "hints");
	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(w);
		json_field_string(w, "kind", hint_kind_name(hints[i].kind));
		json_field_u64(w, "pid", hints[i].pid);
		json_field_string(w, "comm", hints[i].comm);
		json_field_string(w, "text", hints[i].text);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "run");
	json_begin_object(w);
	json_key(w, "unseparated_classes");
	json_begin_array(w);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (run->unseparated_classes & (1u << c))
			json_string(w, fault_class_name(c));
	json_end_array(w);
	json_key(w, "unmeasured_causes");
	json_begin_array(w);
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (run->unmeasured_causes & (1u << cause))
			json_string(w, fault_cause_name(cause));
	json_end_array(w);
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
	if (write_cgroups(&w, agg, run)) {
		free(total);
		return -1;
	}
	json_key(&w, "invalid_faults");
	json_begin_array(&w);
	for (size_t i = 0; i < agg->nr_invalid; i++)
		write_invalid(&w, &agg->invalid[i]);
	json_end_array(&w);
	if (run->where)
		write_where(&w, run->where);
	if (run->stacks)
		write_stacks(&w, run->stacks);
	if (run->timeline) {
		json_key(&w, "timeline");
		timeline_write_json(&w, run->timeline);
	}
	write_hints_and_blind_spots(&w, agg, run);
	json_end_object(&w);
	free(total);
	if (fputc('\n', out) == EOF)
		return -1;
	return json_finish(&w);
}
