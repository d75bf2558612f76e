/*
 * JSON import with jansson: it reports syntax errors with their byte
 * offset, keeps 64-bit integers exact (cJSON turns them into doubles) and
 * bounds its nesting depth, so a hostile file cannot exhaust the stack.
 * What the document says is then checked field by field.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "cgroup_groups.h"
#include "export_json.h"
#include "hist.h"
#include "import_json.h"
#include "json_read.h"

/* A string field, cut to @size - 1 bytes; absent: "" unless @required. */
static int read_string_field(struct json_reader *r, const json_t *object, const char *key,
			     const char *where, bool required, char *out, size_t size)
{
	const json_t *value = json_object_get(object, key);

	out[0] = '\0';
	if (!value)
		return required ? json_fail(r, where, "no field \"%s\"", key) : 0;
	if (!json_is_string(value))
		return json_fail(r, where, "field \"%s\" is not a string", key);
	snprintf(out, size, "%s", json_string_value(value));
	return 0;
}

/* A count field that must fit in 32 bits. */
static int read_small_count(struct json_reader *r, const json_t *object, const char *key,
			    const char *where, __u32 *out)
{
	__u64 value;

	if (json_read_count_field(r, object, key, where, false, &value))
		return -1;
	if (value > UINT32_MAX)
		return json_fail(r, where, "field \"%s\" is out of range", key);
	*out = (__u32)value;
	return 0;
}

static const json_t *object_field(struct json_reader *r, const json_t *object,
				  const char *key, const char *where)
{
	const json_t *value = json_object_get(object, key);

	if (!json_is_object(value)) {
		json_fail(r, where, value ? "field \"%s\" is not an object" : "no field \"%s\"", key);
		return NULL;
	}
	return value;
}

/* One cause of a class: {"faults": N, "ns": N}, some fault having waited. */
static int read_cause(struct json_reader *r, const json_t *object, const char *where,
		      __u64 *faults, __u64 *ns)
{
	if (!json_is_object(object))
		return json_fail(r, where, "expected an object");
	if (json_read_count_field(r, object, "faults", where, true, faults) ||
	    json_read_count_field(r, object, "ns", where, true, ns) ||
	    json_add_to_sum(r, where, *faults) || json_add_to_sum(r, where, *ns))
		return -1;
	return *faults ? 0 : json_fail(r, where, "no fault waited on it, so it is never written");
}

/*
 * A class's causes, after its latency: they add up to its latency sum,
 * and "cpu" counts every timed fault of the class.
 */
static int read_class_causes(struct json_reader *r, json_t *causes, const char *where,
			     struct fault_stats *stats, int c)
{
	__u64 sum = 0, timed = hist_count(stats->hist[c]);
	const char *name;
	json_t *value;

	if (!json_is_object(causes))
		return json_fail(r, where, "expected an object");
	if (!timed)
		return json_fail(r, where, "causes of a class without a timed fault");
	json_object_foreach(causes, name, value) {
		int cause = json_fault_cause_named(name);
		char path[256];

		snprintf(path, sizeof(path), "%s.%s", where, name);
		if (cause < 0)
			return json_fail(r, path, "not a cause of fault time");
		if (read_cause(r, value, path, &stats->cause_faults[c][cause],
			       &stats->cause_ns[c][cause]))
			return -1;
		if (stats->cause_ns[c][cause] > stats->latency_sum_ns[c] - sum)
			return json_fail(r, where, "causes add up to more than the latency sum (%llu ns)",
				    (unsigned long long)stats->latency_sum_ns[c]);
		sum += stats->cause_ns[c][cause];
	}
	if (sum != stats->latency_sum_ns[c])
		return json_fail(r, where, "causes add up to %llu ns, but the latency sum is %llu ns",
			    (unsigned long long)sum,
			    (unsigned long long)stats->latency_sum_ns[c]);
	if (stats->cause_faults[c][CAUSE_CPU] != timed)
		return json_fail(r, where, "cpu counts %llu faults, but the class has %llu timed faults",
			    (unsigned long long)stats->cause_faults[c][CAUSE_CPU],
			    (unsigned long long)timed);
	return 0;
}

/* "causes" (absent from files of a pfwatch that did not split time). */
static int read_causes(struct json_reader *r, const json_t *object, const char *where,
		       struct fault_stats *stats)
{
	json_t *causes = json_object_get(object, "causes"), *value;
	const char *name;
	char path[160];

	if (!causes)
		return 0;
	snprintf(path, sizeof(path), "%s.causes", where);
	if (!json_is_object(causes))
		return json_fail(r, path, "expected an object");
	json_object_foreach(causes, name, value) {
		int c = json_fault_class_named(name);
		char class_path[200];

		snprintf(class_path, sizeof(class_path), "%s.%s", path, name);
		if (c < 0)
			return json_fail(r, class_path, "not a fault class");
		if (read_class_causes(r, value, class_path, stats, c))
			return -1;
	}
	return 0;
}

/* "classes", "latency_ns", "causes" and the counts beside them. */
static int read_stats(struct json_reader *r, const json_t *object, const char *where,
		      struct fault_stats *stats)
{
	const json_t *classes = object_field(r, object, "classes", where);
	const json_t *latency = classes ? object_field(r, object, "latency_ns", where) : NULL;
	char path[160];

	if (!latency)
		return -1;
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		const char *name = fault_class_name(c);
		const json_t *summary = json_object_get(latency, name);

		snprintf(path, sizeof(path), "%s.classes", where);
		if (json_read_count_field(r, classes, name, path, false, &stats->count[c]) ||
		    json_add_to_sum(r, path, stats->count[c]))
			return -1;
		if (!summary)
			continue;
		snprintf(path, sizeof(path), "%s.latency_ns.%s", where, name);
		if (!json_is_object(summary))
			return json_fail(r, path, "expected an object");
		if (json_read_count_field(r, summary, "sum", path, false,
				     &stats->latency_sum_ns[c]) ||
		    json_add_to_sum(r, path, stats->latency_sum_ns[c]))
			return -1;
		snprintf(path, sizeof(path), "%s.latency_ns.%s.buckets", where, name);
		if (json_object_get(summary, "buckets") &&
		    json_read_buckets(r, json_object_get(summary, "buckets"), path,
				 stats->hist[c]))
			return -1;
	}
	return read_causes(r, object, where, stats) ||
	       json_read_count_field(r, object, "thp_fallbacks", where, false,
				&stats->thp_fallbacks) ||
	       json_add_to_sum(r, where, stats->thp_fallbacks) ||
	       json_read_count_field(r, object, "uffd_major", where, false, &stats->uffd_major) ||
	       json_add_to_sum(r, where, stats->uffd_major) ? -1 : 0;
}

static int read_process(struct json_reader *r, struct aggregate *agg,
			const json_t *object, const char *where)
{
	struct process_record *record;
	const json_t *rusage = json_object_get(object, "rusage");
	__u64 pid;

	if (!json_is_object(object))
		return json_fail(r, where, "expected an object");
	if (json_read_count_field(r, object, "pid", where, true, &pid))
		return -1;
	if (pid > UINT32_MAX)
		return json_fail(r, where, "pid %llu is out of range", (unsigned long long)pid);
	record = aggregate_add_record(agg);
	if (!record)
		return json_fail(r, where, "out of memory");
	record->tgid = (__u32)pid;
	if (read_small_count(r, object, "ns_pid", where, &record->ns_pid))
		return -1;
	record->exited = json_is_true(json_object_get(object, "exited"));
	record->moved = json_is_true(json_object_get(object, "moved"));
	if (read_string_field(r, object, "comm", where, true, record->comm, COMM_LEN) ||
	    json_read_count_field(r, object, "cgroup_id", where, false, &record->cgroup_id) ||
	    json_read_count_field(r, object, "folded_processes", where, false, &record->folded) ||
	    read_stats(r, object, where, &record->stats))
		return -1;
	if (!rusage)
		return 0;
	record->has_rusage = true;
	if (!json_is_object(rusage))
		return json_fail(r, where, "field \"rusage\" is not an object");
	record->rusage_orphans_running = json_is_true(json_object_get(rusage, "orphans_running"));
	return json_read_count_field(r, rusage, "minflt", where, true, &record->rusage_minflt) ||
	       json_read_count_field(r, rusage, "majflt", where, true, &record->rusage_majflt) ||
	       json_read_count_field(r, rusage, "orphans", where, false,
				&record->rusage_orphans) ? -1 : 0;
}

/* "0x7f12..." as written for addresses. */
static int read_hex_field(struct json_reader *r, const json_t *object, const char *key,
			  const char *where, __u64 *out)
{
	char text[24], *end;

	if (read_string_field(r, object, key, where, true, text, sizeof(text)))
		return -1;
	errno = 0;
	*out = strtoull(text, &end, 16);
	if (strncmp(text, "0x", 2) || end == text + 2 || *end || errno)
		return json_fail(r, where, "field \"%s\" is not a hexadecimal address", key);
	return 0;
}

static int read_mapping(struct json_reader *r, const json_t *mapping, const char *where,
			struct invalid_fault *f)
{
	if (json_is_null(mapping))
		return 0;
	if (!json_is_object(mapping))
		return json_fail(r, where, "field \"mapping\" is not an object or null");
	f->mapped = true;
	return read_string_field(r, mapping, "kind", where, false, f->mapping_kind,
				 sizeof(f->mapping_kind)) ||
	       read_string_field(r, mapping, "perms", where, false, f->perms,
				 sizeof(f->perms)) ||
	       read_string_field(r, mapping, "path", where, false, f->path,
				 sizeof(f->path)) ? -1 : 0;
}

static int read_invalid(struct json_reader *r, struct aggregate *agg,
			const json_t *object, const char *where)
{
	struct invalid_fault f = { 0 };
	struct fault_event *e = &f.event;
	const json_t *si_code = json_object_get(object, "si_code");
	char class_text[24];
	__u64 pid, tid, error_code;
	int fault_class;

	if (!json_is_object(object))
		return json_fail(r, where, "expected an object");
	if (json_read_count_field(r, object, "pid", where, true, &pid) ||
	    json_read_count_field(r, object, "tid", where, false, &tid) ||
	    json_read_count_field(r, object, "latency_ns", where, false, &e->latency_ns) ||
	    json_read_count_field(r, object, "error_code", where, false, &error_code) ||
	    read_string_field(r, object, "comm", where, false, e->comm, COMM_LEN) ||
	    read_string_field(r, object, "class", where, true, class_text,
			      sizeof(class_text)) ||
	    read_hex_field(r, object, "address", where, &e->address) ||
	    read_hex_field(r, object, "ip", where, &e->ip))
		return -1;
	fault_class = json_fault_class_named(class_text);
	if (fault_class < FAULT_FIRST_INVALID)
		return json_fail(r, where, "\"%s\" is not a class of invalid fault", class_text);
	if (pid > UINT32_MAX || tid > UINT32_MAX || error_code > UINT32_MAX)
		return json_fail(r, where, "pid, tid or error_code out of range");
	if (si_code && !json_is_integer(si_code))
		return json_fail(r, where, "field \"si_code\" is not an integer");
	e->tgid = (__u32)pid;
	e->tid = (__u32)tid;
	e->error_code = (__u32)error_code;
	e->fault_class = (__u32)fault_class;
	e->signal_code = (__u32)json_integer_value(si_code);
	if (read_mapping(r, json_object_get(object, "mapping"), where, &f))
		return -1;
	aggregate_add_invalid(agg, &f);
	return 0;
}

static int read_array(struct json_reader *r, struct aggregate *agg, const json_t *root,
		      const char *key,
		      int (*read_item)(struct json_reader *, struct aggregate *,
				       const json_t *, const char *))
{
	const json_t *array = json_object_get(root, key), *item;
	size_t i;

	if (!json_is_array(array))
		return json_fail(r, key, array ? "expected an array" : "missing");
	json_array_foreach(array, i, item) {
		char where[48];

		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		if (read_item(r, agg, item, where))
			return -1;
	}
	return 0;
}

/* A cgroup's counts are its processes' (by cgroup_id), summed. */
static int check_cgroup(struct json_reader *r, const struct cgroup_groups *groups,
			__u64 id, const struct fault_stats *stats, __u64 processes,
			const char *where)
{
	const struct cgroup_group *group = NULL;

	for (size_t i = 0; i < groups->nr && !group; i++)
		if (groups->groups[i].id == id)
			group = &groups->groups[i];
	if (!group)
		return json_fail(r, where, "no process has cgroup_id %llu", (unsigned long long)id);
	if (group->processes != processes)
		return json_fail(r, where, "%llu processes, but %llu have its cgroup_id",
			    (unsigned long long)processes, (unsigned long long)group->processes);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (group->stats.count[c] != stats->count[c] ||
		    group->stats.latency_sum_ns[c] != stats->latency_sum_ns[c])
			return json_fail(r, where, "%s: %llu faults in %llu ns, its processes' %llu in %llu",
				    fault_class_name(c), (unsigned long long)stats->count[c],
				    (unsigned long long)stats->latency_sum_ns[c],
				    (unsigned long long)group->stats.count[c],
				    (unsigned long long)group->stats.latency_sum_ns[c]);
	return 0;
}

static int read_cgroup(struct json_reader *r, struct imported_run *in,
		       const struct cgroup_groups *groups, const json_t *object,
		       const char *where)
{
	struct fault_stats *stats;
	char path[CGROUP_PATH_LEN];
	__u64 id, processes;
	int err;

	if (!json_is_object(object))
		return json_fail(r, where, "expected an object");
	if (json_read_count_field(r, object, "id", where, true, &id) ||
	    json_read_count_field(r, object, "processes", where, true, &processes) ||
	    read_string_field(r, object, "path", where, true, path, sizeof(path)))
		return -1;
	if (cgroup_names_find(&in->cgroup_names, id))
		return json_fail(r, where, "cgroup %llu is listed twice", (unsigned long long)id);
	stats = calloc(1, sizeof(*stats));
	if (!stats)
		return json_fail(r, where, "out of memory");
	/* Its counts are the processes' again: not added to the file's sum. */
	err = read_stats(&(struct json_reader){ .error = r->error, .error_size = r->error_size },
			 object, where, stats) ||
	      check_cgroup(r, groups, id, stats, processes, where);
	free(stats);
	if (err)
		return -1;
	/* The path of a cgroup gone before it was read is not a name. */
	if (strcmp(path, CGROUP_UNKNOWN_PATH) && cgroup_names_add(&in->cgroup_names, id, path))
		return json_fail(r, where, "out of memory");
	return 0;
}

/* "cgroups": absent in files from before it. */
static int read_cgroups(struct json_reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *array = json_object_get(root, "cgroups"), *item;
	struct cgroup_groups groups;
	size_t i;
	int err = 0;

	in->run.cgroup_names = &in->cgroup_names;
	if (!array)
		return 0;
	if (!json_is_array(array))
		return json_fail(r, "cgroups", "expected an array");
	if (cgroup_groups_build(&in->agg, NULL, &groups))
		return json_fail(r, "cgroups", "out of memory");
	json_array_foreach(array, i, item) {
		char where[48];

		snprintf(where, sizeof(where), "cgroups[%zu]", i);
		err = read_cgroup(r, in, &groups, item, where);
		if (err)
			break;
	}
	if (!err && i != groups.nr)
		err = json_fail(r, "cgroups", "%zu listed, but the processes are in %zu", i, groups.nr);
	cgroup_groups_free(&groups);
	return err;
}

static int read_command(struct json_reader *r, struct imported_run *in,
			const json_t *header)
{
	const json_t *command = json_object_get(header, "command"), *arg;
	const json_t *status = json_object_get(header, "exit_status");
	size_t i;

	if (!command || json_is_null(command))
		return 0;
	if (!json_is_array(command) || !json_array_size(command))
		return json_fail(r, "pfwatch.command", "expected an array of strings or null");
	in->command = calloc(json_array_size(command) + 1, sizeof(*in->command));
	if (!in->command)
		return json_fail(r, "pfwatch.command", "out of memory");
	json_array_foreach(command, i, arg) {
		if (!json_is_string(arg))
			return json_fail(r, "pfwatch.command", "argument %zu is not a string", i);
		in->command[i] = strdup(json_string_value(arg));
		if (!in->command[i])
			return json_fail(r, "pfwatch.command", "out of memory");
	}
	if (!json_is_integer(status))
		return json_fail(r, "pfwatch", "a command without an integer \"exit_status\"");
	in->run.command = in->command;
	in->run.exit_status = (int)json_integer_value(status);
	return 0;
}

static int read_header(struct json_reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *header = json_object_get(root, "pfwatch");
	const json_t *duration = json_object_get(header, "duration_s");
	__u64 schema;

	if (!json_is_object(header) || !json_object_get(header, "schema_version"))
		return json_fail(r, "top level", "not a pfwatch JSON file (no pfwatch.schema_version)");
	if (json_read_count_field(r, header, "schema_version", "pfwatch", true, &schema))
		return -1;
	if (schema != JSON_SCHEMA_VERSION)
		return json_fail(r, "pfwatch.schema_version",
			    "%llu is not %d: written by another pfwatch version",
			    (unsigned long long)schema, JSON_SCHEMA_VERSION);
	if (!json_is_number(duration) || json_number_value(duration) < 0)
		return json_fail(r, "pfwatch.duration_s", "expected a non-negative number");
	in->run.elapsed_s = json_number_value(duration);
	if (read_string_field(r, header, "version", "pfwatch", false, in->version,
			      sizeof(in->version)) ||
	    read_string_field(r, header, "backend", "pfwatch", true, in->backend,
			      sizeof(in->backend)) ||
	    read_string_field(r, header, "entry_hook", "pfwatch", false, in->entry_hook,
			      sizeof(in->entry_hook)) ||
	    read_string_field(r, header, "kernel", "pfwatch", false, in->run.kernel,
			      sizeof(in->run.kernel)) ||
	    read_string_field(r, header, "start_time", "pfwatch", false, in->start_time,
			      sizeof(in->start_time)))
		return -1;
	in->run.backend = in->backend;
	in->run.entry_hook = in->entry_hook;
	return read_command(r, in, header);
}

/* The sum of @nr counts; -1 unless it is @total. */
static int check_sum(struct json_reader *r, const char *where, const __u64 *counts,
		     size_t nr, __u64 total)
{
	__u64 sum = 0;

	for (size_t i = 0; i < nr; i++) {
		if (counts[i] > total - sum)
			return json_fail(r, where, "adds up to more than lost_events (%llu)",
				    (unsigned long long)total);
		sum += counts[i];
	}
	if (sum != total)
		return json_fail(r, where, "adds up to %llu, but lost_events is %llu",
			    (unsigned long long)sum, (unsigned long long)total);
	return 0;
}

/* "lost_events", its breakdown by kind and, if written, by CPU. */
static int read_lost(struct json_reader *r, struct imported_run *in, const json_t *diag)
{
	const json_t *by_cpu = json_object_get(diag, "lost_per_cpu");
	const json_t *by_kind, *value;
	__u64 total;
	size_t cpu;

	if (json_read_count_field(r, diag, "lost_events", "diagnostics", false, &total))
		return -1;
	if (!total && !json_object_get(diag, "lost"))
		return 0;
	by_kind = object_field(r, diag, "lost", "diagnostics");
	if (!by_kind)
		return -1;
	for (int kind = 0; kind < NR_LOST_KINDS; kind++)
		if (json_read_count_field(r, by_kind, lost_kind_name(kind), "diagnostics.lost",
				     false, &in->run.diag[kind]))
			return -1;
	if (check_sum(r, "diagnostics.lost", in->run.diag, NR_LOST_KINDS, total))
		return -1;
	if (!by_cpu)
		return 0;
	if (!json_is_array(by_cpu) || json_array_size(by_cpu) > IMPORT_MAX_CPUS)
		return json_fail(r, "diagnostics.lost_per_cpu",
			    "expected an array of at most %d counts", IMPORT_MAX_CPUS);
	in->lost_per_cpu = calloc(json_array_size(by_cpu) + 1, sizeof(__u64));
	if (!in->lost_per_cpu)
		return json_fail(r, "diagnostics.lost_per_cpu", "out of memory");
	json_array_foreach(by_cpu, cpu, value) {
		char where[64];

		snprintf(where, sizeof(where), "diagnostics.lost_per_cpu[%zu]", cpu);
		if (json_read_count(r, value, where, &in->lost_per_cpu[cpu]))
			return -1;
	}
	in->run.lost_per_cpu = in->lost_per_cpu;
	in->run.nr_cpus = (unsigned)json_array_size(by_cpu);
	return check_sum(r, "diagnostics.lost_per_cpu", in->lost_per_cpu,
			 json_array_size(by_cpu), total);
}

/* @invalid_seen: how many invalid faults there were, listed or not. */
static int read_diagnostics(struct json_reader *r, struct imported_run *in,
			    const json_t *root, __u64 *invalid_seen)
{
	const json_t *diag = object_field(r, root, "diagnostics", "top level");
	__u64 *d = in->run.diag;

	if (!diag)
		return -1;
	return read_lost(r, in, diag) ||
	       json_read_count_field(r, diag, "slots_exhausted", "diagnostics", false,
				&d[DIAG_SLOTS_EXHAUSTED]) ||
	       json_read_count_field(r, diag, "unresolved_faults", "diagnostics", false,
				&d[DIAG_UNRESOLVED]) ||
	       json_read_count_field(r, diag, "faults_without_entry", "diagnostics", false,
				&d[DIAG_NO_ENTRY]) ||
	       json_read_count_field(r, diag, "untraced_children", "diagnostics", false,
				&d[DIAG_UNTRACED_CHILDREN]) ||
	       json_read_count_field(r, diag, "untracked_threads", "diagnostics", false,
				&d[DIAG_THREADS_UNTRACKED]) ||
	       json_read_count_field(r, diag, "outcomes_missed", "diagnostics", false,
				&d[DIAG_OUTCOMES_MISSED]) ||
	       json_read_count_field(r, diag, "streamed_faults", "diagnostics", false,
				&in->run.streamed_faults) ||
	       json_read_count_field(r, diag, "invalid_faults_seen", "diagnostics", false,
				invalid_seen) ? -1 : 0;
}

/* An owned copy of a string field ("" if absent); -1 when out of memory. */
static int read_owned_string(struct json_reader *r, const json_t *object, const char *key,
			     const char *where, char **out)
{
	const json_t *value = json_object_get(object, key);

	if (value && !json_is_string(value))
		return json_fail(r, where, "field \"%s\" is not a string", key);
	*out = strdup(value ? json_string_value(value) : "");
	return *out ? 0 : json_fail(r, where, "out of memory");
}

static int read_where_mapping(struct json_reader *r, void *table, const json_t *object,
			const char *at)
{
	struct where_table *where = table;
	struct where_mapping *m;
	char kind[16];
	const json_t *classes;

	if (!json_is_object(object))
		return json_fail(r, at, "expected an object");
	if (where->nr_mappings == WHERE_MAX_MAPPINGS)
		return json_fail(r, at, "more than %d mappings", WHERE_MAX_MAPPINGS);
	m = &where->mappings[where->nr_mappings];
	if (read_owned_string(r, object, "path", at, &m->path))
		return -1;
	where->nr_mappings++;
	classes = object_field(r, object, "classes", at);
	if (!classes || read_small_count(r, object, "pid", at, &m->tgid) ||
	    read_string_field(r, object, "comm", at, false, m->comm, COMM_LEN) ||
	    read_hex_field(r, object, "start", at, &m->start) ||
	    read_hex_field(r, object, "end", at, &m->end) ||
	    read_string_field(r, object, "kind", at, true, kind, sizeof(kind)) ||
	    json_read_count_field(r, object, "latency_sum_ns", at, false, &m->latency_ns))
		return -1;
	for (m->kind = MAPPING_ANON; m->kind <= MAPPING_SPECIAL; m->kind++)
		if (!strcmp(kind, mapping_kind_name(m->kind)))
			break;
	if (m->kind > MAPPING_SPECIAL)
		return json_fail(r, at, "\"%s\" is not a kind of mapping", kind);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (json_read_count_field(r, classes, fault_class_name(c), at, false, &m->count[c]))
			return -1;
	return 0;
}

static int read_where_file(struct json_reader *r, void *table, const json_t *object,
			const char *at)
{
	struct where_table *where = table;
	const json_t *heat, *ranges, *range;
	struct where_file *f;
	__u64 range_bytes;
	size_t i;

	if (!json_is_object(object))
		return json_fail(r, at, "expected an object");
	if (where->nr_files == WHERE_MAX_FILES)
		return json_fail(r, at, "more than %d files", WHERE_MAX_FILES);
	f = &where->files[where->nr_files];
	if (read_owned_string(r, object, "path", at, &f->path))
		return -1;
	where->nr_files++;
	heat = object_field(r, object, "heat", at);
	if (!heat || json_read_count_field(r, object, "major", at, true, &f->majors) ||
	    json_read_count_field(r, object, "file_cached", at, false, &f->minors) ||
	    json_read_count_field(r, object, "major_latency_sum_ns", at, false,
			     &f->major_latency_ns) ||
	    json_read_count_field(r, object, "first_offset", at, false, &f->first_offset) ||
	    json_read_count_field(r, object, "last_offset", at, false, &f->last_offset) ||
	    json_read_count_field(r, object, "sequential", at, false, &f->sequential) ||
	    json_read_count_field(r, object, "random", at, false, &f->random) ||
	    json_read_count_field(r, heat, "range_bytes", at, true, &range_bytes))
		return -1;
	if (range_bytes < 4096 || range_bytes & (range_bytes - 1) || range_bytes >> 62)
		return json_fail(r, at, "heat.range_bytes is not a power of two from 4096");
	f->heat_shift = (unsigned)__builtin_ctzll(range_bytes);
	if (f->first_offset > f->last_offset ||
	    (f->last_offset >> f->heat_shift) >= WHERE_HEAT_RANGES)
		return json_fail(r, at, "offsets outside the heat map's %d ranges", WHERE_HEAT_RANGES);
	ranges = json_object_get(heat, "majors");
	if (!json_is_array(ranges) || json_array_size(ranges) > WHERE_HEAT_RANGES)
		return json_fail(r, at, "heat.majors is not an array of at most %d counts",
			    WHERE_HEAT_RANGES);
	json_array_foreach(ranges, i, range)
		if (json_read_count(r, range, at, &f->heat[i]))
			return -1;
	return 0;
}

static int read_where_page(struct json_reader *r, void *table, const json_t *object,
			const char *at)
{
	struct where_table *where = table;
	__u32 tgid = 0, count[WHERE_KINDS] = { 0 };
	__u64 address = 0;

	if (!json_is_object(object))
		return json_fail(r, at, "expected an object");
	if (read_small_count(r, object, "pid", at, &tgid) ||
	    read_hex_field(r, object, "address", at, &address) ||
	    read_small_count(r, object, "minor", at, &count[0]) ||
	    read_small_count(r, object, "major", at, &count[1]) ||
	    read_small_count(r, object, "invalid", at, &count[2]))
		return -1;
	if (!tgid)
		return json_fail(r, at, "pid 0 is no process");
	if (where_put_page(where, tgid, address / where->page_size, count))
		return json_fail(r, at, "more pages than pfwatch keeps");
	return 0;
}

static int read_where_code(struct json_reader *r, void *table, const json_t *object,
			const char *at)
{
	struct where_table *where = table;
	struct where_code *c;

	if (!json_is_object(object))
		return json_fail(r, at, "expected an object");
	if (where->nr_code == WHERE_MAX_CODE)
		return json_fail(r, at, "more than %d code locations", WHERE_MAX_CODE);
	c = &where->code[where->nr_code];
	if (read_owned_string(r, object, "binary", at, &c->binary))
		return -1;
	where->nr_code++;
	return read_owned_string(r, object, "function", at, &c->symbol) ||
	       read_owned_string(r, object, "source", at, &c->source) ||
	       read_string_field(r, object, "build_id", at, false, c->build_id,
				 sizeof(c->build_id)) ||
	       json_read_count_field(r, object, "minor", at, false, &c->count[0]) ||
	       json_read_count_field(r, object, "major", at, false, &c->count[1]) ||
	       json_read_count_field(r, object, "invalid", at, false, &c->count[2]) ? -1 : 0;
}

/* Each item of @key's array in @object, read by @item. */
static int read_list(struct json_reader *r, const json_t *object, const char *key,
		     int (*item)(struct json_reader *r, void *table, const json_t *object,
				 const char *at),
		     void *table)
{
	const json_t *array = json_object_get(object, key), *value;
	size_t i;

	if (!json_is_array(array))
		return json_fail(r, key, array ? "expected an array" : "missing");
	json_array_foreach(array, i, value) {
		char at[64];

		snprintf(at, sizeof(at), "%s[%zu]", key, i);
		if (item(r, table, value, at))
			return -1;
	}
	return 0;
}

static int read_where(struct json_reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *object = json_object_get(root, "where");
	struct where_table *where = &in->where;
	__u64 pages;

	if (!object)
		return 0;
	if (!json_is_object(object))
		return json_fail(r, "where", "expected an object");
	if (where_init(where))
		return json_fail(r, "where", "out of memory");
	in->run.where = where;
	if (json_read_count_field(r, object, "page_size", "where", true, &where->page_size) ||
	    json_read_count_field(r, object, "placed", "where", false, &where->placed) ||
	    json_read_count_field(r, object, "unplaced", "where", false, &where->unplaced) ||
	    json_read_count_field(r, object, "untracked", "where", false, &where->untracked) ||
	    json_read_count_field(r, object, "pages_faulted", "where", false, &pages))
		return -1;
	if (where->page_size < 4096 || where->page_size & (where->page_size - 1) ||
	    where->page_size > (1u << 30))
		return json_fail(r, "where.page_size", "not a page size");
	if (read_list(r, object, "mappings", read_where_mapping, where) ||
	    read_list(r, object, "files", read_where_file, where) ||
	    read_list(r, object, "hot_pages", read_where_page, where) ||
	    read_list(r, object, "code", read_where_code, where))
		return -1;
	/* The file lists the hottest pages and counts all of them. */
	if (pages > where->nr_pages)
		where->nr_pages = pages;
	return 0;
}

static int read_stack(struct json_reader *r, void *table, const json_t *object,
		const char *at)
{
	struct stack_table *stacks = table;
	struct folded_stack *stack;

	if (!json_is_object(object))
		return json_fail(r, at, "expected an object");
	if (stacks->nr_stacks == STACKS_MAX)
		return json_fail(r, at, "more than %d stacks", STACKS_MAX);
	stack = &stacks->stacks[stacks->nr_stacks];
	if (read_owned_string(r, object, "stack", at, &stack->frames))
		return -1;
	stacks->nr_stacks++;
	return json_read_count_field(r, object, "count", at, true, &stack->count);
}

static int read_stacks(struct json_reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *object = json_object_get(root, "stacks");
	struct stack_table *stacks = &in->stacks;

	if (!object)
		return 0;
	if (!json_is_object(object))
		return json_fail(r, "stacks", "expected an object");
	if (stacks_init(stacks))
		return json_fail(r, "stacks", "out of memory");
	in->run.stacks = stacks;
	return json_read_count_field(r, object, "sampled", "stacks", false, &stacks->sampled) ||
	       json_read_count_field(r, object, "distinct", "stacks", false, &stacks->distinct) ||
	       json_read_count_field(r, object, "untracked", "stacks", false, &stacks->untracked) ||
	       read_list(r, object, "folded", read_stack, stacks) ? -1 : 0;
}

/* Its intervals add up to the processes' counts and histograms exactly. */
static int check_timeline(struct json_reader *r, struct imported_run *in)
{
	struct fault_stats *sums = calloc(2, sizeof(*sums));
	int err = 0;

	if (!sums)
		return json_fail(r, "timeline", "out of memory");
	timeline_sum(&in->timeline, 0, in->timeline.nr_intervals, &sums[0]);
	aggregate_totals(&in->agg, &sums[1]);
	for (int c = 0; c < NR_FAULT_CLASSES && !err; c++) {
		if (sums[0].count[c] != sums[1].count[c] ||
		    memcmp(sums[0].hist[c], sums[1].hist[c], sizeof(sums[0].hist[c])))
			err = json_fail(r, "timeline.intervals",
				   "%s: the intervals hold %llu faults, the processes %llu",
				   fault_class_name(c), (unsigned long long)sums[0].count[c],
				   (unsigned long long)sums[1].count[c]);
	}
	free(sums);
	return err;
}

/* "timeline", if the file has one (files from before it load without). */
static int read_timeline(struct json_reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *object = json_object_get(root, "timeline");

	if (!object)
		return 0;
	if (timeline_read_json(&in->timeline, object, r->error, r->error_size))
		return -1;
	in->run.timeline = &in->timeline;
	return check_timeline(r, in);
}

int import_json(struct imported_run *in, const char *data, size_t size,
		char *error, size_t error_size)
{
	struct json_reader r = { .error = error, .error_size = error_size };
	json_error_t parse_error;
	json_t *root;
	__u64 seen;
	int err;

	memset(in, 0, sizeof(*in));
	aggregate_init(&in->agg);
	root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &parse_error);
	if (!root) {
		snprintf(error, error_size, "byte %d (line %d, column %d): %s",
			 parse_error.position, parse_error.line, parse_error.column,
			 parse_error.text);
		return -1;
	}
	err = !json_is_object(root) ? json_fail(&r, "top level", "not a JSON object")
	      : read_header(&r, in, root) || read_diagnostics(&r, in, root, &seen) ||
		read_array(&r, &in->agg, root, "processes", read_process) ||
		read_cgroups(&r, in, root) ||
		read_array(&r, &in->agg, root, "invalid_faults", read_invalid) ||
		read_where(&r, in, root) || read_stacks(&r, in, root) ||
		read_timeline(&r, in, root) ? -1 : 0;
	/* The file lists the first invalid faults and counts all of them. */
	if (!err && seen > in->agg.invalid_events)
		in->agg.invalid_events = seen;
	json_decref(root);
	if (err)
		import_free(in);
	return err;
}

/* The whole file, inflated if it is gzip; NULL after writing @error. */
static char *read_file(const char *path, size_t *size, char *error, size_t error_size)
{
	gzFile in = gzopen(path, "rb");
	size_t capacity = 1 << 16;
	char *data = NULL;
	int got = 0, gz_errno;
	const char *why;

	*size = 0;
	if (!in) {
		snprintf(error, error_size, "%s", strerror(errno ? errno : ENOMEM));
		return NULL;
	}
	do {
		char *grown;

		*size += (size_t)got;
		if (*size > IMPORT_MAX_BYTES) {
			snprintf(error, error_size, "larger than %u MiB: not read",
				 IMPORT_MAX_BYTES >> 20);
			goto fail;
		}
		if (*size == capacity || !data) {
			capacity = data ? capacity * 2 : capacity;
			grown = realloc(data, capacity);
			if (!grown) {
				snprintf(error, error_size, "out of memory");
				goto fail;
			}
			data = grown;
		}
		got = gzread(in, data + *size, (unsigned)(capacity - *size));
	} while (got > 0);
	/* A truncated gzip stream ends in 0 bytes read and an error state. */
	why = gzerror(in, &gz_errno);
	if (got < 0 || gz_errno != Z_OK) {

		/* zlib puts the path in front; the caller names the file. */
		if (!strncmp(why, path, strlen(path)) && !strncmp(why + strlen(path), ": ", 2))
			why += strlen(path) + 2;

		if (gz_errno == Z_ERRNO)
			snprintf(error, error_size, "%s", strerror(errno));
		else
			snprintf(error, error_size, "byte %zu of the uncompressed data: %s",
				 *size, why);
		goto fail;
	}
	gzclose(in);
	return data;
fail:
	gzclose(in);
	free(data);
	return NULL;
}

int import_json_file(struct imported_run *in, const char *path,
		     char *error, size_t error_size)
{
	size_t size;
	char *data = read_file(path, &size, error, error_size);
	int err;

	if (!data) {
		memset(in, 0, sizeof(*in));
		return -1;
	}
	err = import_json(in, data, size, error, error_size);
	free(data);
	return err;
}

void import_free(struct imported_run *in)
{
	if (in->command)
		for (char **arg = in->command; *arg; arg++)
			free(*arg);
	free(in->command);
	in->command = NULL;
	in->run.command = NULL;
	if (in->run.where)
		where_free(&in->where);
	if (in->run.stacks)
		stacks_free(&in->stacks);
	if (in->run.timeline)
		timeline_free(&in->timeline);
	in->run.where = NULL;
	in->run.stacks = NULL;
	in->run.timeline = NULL;
	free(in->lost_per_cpu);
	in->lost_per_cpu = NULL;
	in->run.lost_per_cpu = NULL;
	cgroup_names_free(&in->cgroup_names);
	in->run.cgroup_names = NULL;
	aggregate_free(&in->agg);
}
