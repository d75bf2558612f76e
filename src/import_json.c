/*
 * JSON import with jansson: it reports syntax errors with their byte
 * offset, keeps 64-bit integers exact (cJSON turns them into doubles) and
 * bounds its nesting depth, so a hostile file cannot exhaust the stack.
 * What the document says is then checked field by field.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "export_json.h"
#include "import_json.h"

struct reader {
	char *error;
	size_t error_size;
	__u64 summed;		/* every count and sum the totals add up */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct reader *r, const char *where, const char *fmt, ...)
{
	int used = snprintf(r->error, r->error_size, "%s: ", where);
	va_list args;

	if (used < 0 || (size_t)used >= r->error_size)
		return -1;
	va_start(args, fmt);
	vsnprintf(r->error + used, r->error_size - used, fmt, args);
	va_end(args);
	return -1;
}

/* @value as a count: an integer from 0 up. */
static int read_count(struct reader *r, const json_t *value, const char *where,
		      __u64 *out)
{
	if (!json_is_integer(value) || json_integer_value(value) < 0)
		return fail(r, where, "expected a non-negative integer");
	*out = (__u64)json_integer_value(value);
	return 0;
}

/*
 * Outputs add counts over processes; past 2^63 - 1 that sum could not be
 * written as a JSON integer again, and no real run gets near it.
 */
static int add_to_sum(struct reader *r, const char *where, __u64 value)
{
	if (value > (__u64)INT64_MAX - r->summed)
		return fail(r, where, "the file's counts add up past 2^63 - 1");
	r->summed += value;
	return 0;
}

/* A field holding a count; absent fields read as 0 unless @required. */
static int read_count_field(struct reader *r, const json_t *object, const char *key,
			    const char *where, bool required, __u64 *out)
{
	const json_t *value = json_object_get(object, key);
	char path[160];

	*out = 0;
	if (!value)
		return required ? fail(r, where, "no field \"%s\"", key) : 0;
	snprintf(path, sizeof(path), "%s.%s", where, key);
	return read_count(r, value, path, out);
}

/* A string field, cut to @size - 1 bytes; absent: "" unless @required. */
static int read_string_field(struct reader *r, const json_t *object, const char *key,
			     const char *where, bool required, char *out, size_t size)
{
	const json_t *value = json_object_get(object, key);

	out[0] = '\0';
	if (!value)
		return required ? fail(r, where, "no field \"%s\"", key) : 0;
	if (!json_is_string(value))
		return fail(r, where, "field \"%s\" is not a string", key);
	snprintf(out, size, "%s", json_string_value(value));
	return 0;
}

static const json_t *object_field(struct reader *r, const json_t *object,
				  const char *key, const char *where)
{
	const json_t *value = json_object_get(object, key);

	if (!json_is_object(value)) {
		fail(r, where, value ? "field \"%s\" is not an object" : "no field \"%s\"", key);
		return NULL;
	}
	return value;
}

static int class_named(const char *name)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (!strcmp(name, fault_class_name(c)))
			return c;
	return -1;
}

/* The bucket whose smallest value is @low, or -1 if none is. */
static int bucket_starting_at(__u64 low)
{
	__u32 b = hist_bucket(low);

	return hist_bucket_low(b) == low ? (int)b : -1;
}

/* "buckets": [[low, count], ...] into a histogram. */
static int read_buckets(struct reader *r, const json_t *buckets, const char *where,
			__u64 *hist)
{
	size_t i;
	const json_t *pair;

	if (!json_is_array(buckets))
		return fail(r, where, "expected an array of [low, count] pairs");
	json_array_foreach(buckets, i, pair) {
		char path[200];
		__u64 low = 0, count = 0;
		int b;

		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return fail(r, path, "expected a [low, count] pair");
		if (read_count(r, json_array_get(pair, 0), path, &low) ||
		    read_count(r, json_array_get(pair, 1), path, &count) ||
		    add_to_sum(r, path, count))
			return -1;
		b = bucket_starting_at(low);
		if (b < 0)
			return fail(r, path, "%llu ns is not where a histogram bucket starts",
				    (unsigned long long)low);
		hist[b] += count;
	}
	return 0;
}

/* "classes" and "latency_ns" of a process. */
static int read_stats(struct reader *r, const json_t *object, const char *where,
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
		if (read_count_field(r, classes, name, path, false, &stats->count[c]) ||
		    add_to_sum(r, path, stats->count[c]))
			return -1;
		if (!summary)
			continue;
		snprintf(path, sizeof(path), "%s.latency_ns.%s", where, name);
		if (!json_is_object(summary))
			return fail(r, path, "expected an object");
		if (read_count_field(r, summary, "sum", path, false,
				     &stats->latency_sum_ns[c]) ||
		    add_to_sum(r, path, stats->latency_sum_ns[c]))
			return -1;
		snprintf(path, sizeof(path), "%s.latency_ns.%s.buckets", where, name);
		if (json_object_get(summary, "buckets") &&
		    read_buckets(r, json_object_get(summary, "buckets"), path,
				 stats->hist[c]))
			return -1;
	}
	return 0;
}

static int read_process(struct reader *r, struct aggregate *agg,
			const json_t *object, const char *where)
{
	struct process_record *record;
	const json_t *rusage = json_object_get(object, "rusage");
	__u64 pid;

	if (!json_is_object(object))
		return fail(r, where, "expected an object");
	if (read_count_field(r, object, "pid", where, true, &pid))
		return -1;
	if (pid > UINT32_MAX)
		return fail(r, where, "pid %llu is out of range", (unsigned long long)pid);
	record = aggregate_add_record(agg);
	if (!record)
		return fail(r, where, "out of memory");
	record->tgid = (__u32)pid;
	record->exited = json_is_true(json_object_get(object, "exited"));
	if (read_string_field(r, object, "comm", where, true, record->comm, COMM_LEN) ||
	    read_count_field(r, object, "cgroup_id", where, false, &record->cgroup_id) ||
	    read_count_field(r, object, "folded_processes", where, false, &record->folded) ||
	    read_stats(r, object, where, &record->stats))
		return -1;
	if (!rusage)
		return 0;
	record->has_rusage = true;
	if (!json_is_object(rusage))
		return fail(r, where, "field \"rusage\" is not an object");
	return read_count_field(r, rusage, "minflt", where, true, &record->rusage_minflt) ||
	       read_count_field(r, rusage, "majflt", where, true, &record->rusage_majflt) ? -1 : 0;
}

/* "0x7f12..." as written for addresses. */
static int read_hex_field(struct reader *r, const json_t *object, const char *key,
			  const char *where, __u64 *out)
{
	char text[24], *end;

	if (read_string_field(r, object, key, where, true, text, sizeof(text)))
		return -1;
	errno = 0;
	*out = strtoull(text, &end, 16);
	if (strncmp(text, "0x", 2) || end == text + 2 || *end || errno)
		return fail(r, where, "field \"%s\" is not a hexadecimal address", key);
	return 0;
}

static int read_mapping(struct reader *r, const json_t *mapping, const char *where,
			struct invalid_fault *f)
{
	if (json_is_null(mapping))
		return 0;
	if (!json_is_object(mapping))
		return fail(r, where, "field \"mapping\" is not an object or null");
	f->mapped = true;
	return read_string_field(r, mapping, "kind", where, false, f->mapping_kind,
				 sizeof(f->mapping_kind)) ||
	       read_string_field(r, mapping, "perms", where, false, f->perms,
				 sizeof(f->perms)) ||
	       read_string_field(r, mapping, "path", where, false, f->path,
				 sizeof(f->path)) ? -1 : 0;
}

static int read_invalid(struct reader *r, struct aggregate *agg,
			const json_t *object, const char *where)
{
	struct invalid_fault f = { 0 };
	struct fault_event *e = &f.event;
	const json_t *si_code = json_object_get(object, "si_code");
	char class_text[24];
	__u64 pid, tid, error_code;
	int fault_class;

	if (!json_is_object(object))
		return fail(r, where, "expected an object");
	if (read_count_field(r, object, "pid", where, true, &pid) ||
	    read_count_field(r, object, "tid", where, false, &tid) ||
	    read_count_field(r, object, "latency_ns", where, false, &e->latency_ns) ||
	    read_count_field(r, object, "error_code", where, false, &error_code) ||
	    read_string_field(r, object, "comm", where, false, e->comm, COMM_LEN) ||
	    read_string_field(r, object, "class", where, true, class_text,
			      sizeof(class_text)) ||
	    read_hex_field(r, object, "address", where, &e->address) ||
	    read_hex_field(r, object, "ip", where, &e->ip))
		return -1;
	fault_class = class_named(class_text);
	if (fault_class < FAULT_FIRST_INVALID)
		return fail(r, where, "\"%s\" is not a class of invalid fault", class_text);
	if (pid > UINT32_MAX || tid > UINT32_MAX || error_code > UINT32_MAX)
		return fail(r, where, "pid, tid or error_code out of range");
	if (si_code && !json_is_integer(si_code))
		return fail(r, where, "field \"si_code\" is not an integer");
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

static int read_array(struct reader *r, struct aggregate *agg, const json_t *root,
		      const char *key,
		      int (*read_item)(struct reader *, struct aggregate *,
				       const json_t *, const char *))
{
	const json_t *array = json_object_get(root, key), *item;
	size_t i;

	if (!json_is_array(array))
		return fail(r, key, array ? "expected an array" : "missing");
	json_array_foreach(array, i, item) {
		char where[48];

		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		if (read_item(r, agg, item, where))
			return -1;
	}
	return 0;
}

static int read_command(struct reader *r, struct imported_run *in,
			const json_t *header)
{
	const json_t *command = json_object_get(header, "command"), *arg;
	const json_t *status = json_object_get(header, "exit_status");
	size_t i;

	if (!command || json_is_null(command))
		return 0;
	if (!json_is_array(command) || !json_array_size(command))
		return fail(r, "pfwatch.command", "expected an array of strings or null");
	in->command = calloc(json_array_size(command) + 1, sizeof(*in->command));
	if (!in->command)
		return fail(r, "pfwatch.command", "out of memory");
	json_array_foreach(command, i, arg) {
		if (!json_is_string(arg))
			return fail(r, "pfwatch.command", "argument %zu is not a string", i);
		in->command[i] = strdup(json_string_value(arg));
		if (!in->command[i])
			return fail(r, "pfwatch.command", "out of memory");
	}
	if (!json_is_integer(status))
		return fail(r, "pfwatch", "a command without an integer \"exit_status\"");
	in->run.command = in->command;
	in->run.exit_status = (int)json_integer_value(status);
	return 0;
}

static int read_header(struct reader *r, struct imported_run *in, const json_t *root)
{
	const json_t *header = json_object_get(root, "pfwatch");
	const json_t *duration = json_object_get(header, "duration_s");
	__u64 schema;

	if (!json_is_object(header) || !json_object_get(header, "schema_version"))
		return fail(r, "top level", "not a pfwatch JSON file (no pfwatch.schema_version)");
	if (read_count_field(r, header, "schema_version", "pfwatch", true, &schema))
		return -1;
	if (schema != JSON_SCHEMA_VERSION)
		return fail(r, "pfwatch.schema_version",
			    "%llu is not %d: written by another pfwatch version",
			    (unsigned long long)schema, JSON_SCHEMA_VERSION);
	if (!json_is_number(duration) || json_number_value(duration) < 0)
		return fail(r, "pfwatch.duration_s", "expected a non-negative number");
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

/* @invalid_seen: how many invalid faults there were, listed or not. */
static int read_diagnostics(struct reader *r, struct imported_run *in,
			    const json_t *root, __u64 *invalid_seen)
{
	const json_t *diag = object_field(r, root, "diagnostics", "top level");
	__u64 *d = in->run.diag;

	if (!diag)
		return -1;
	return read_count_field(r, diag, "lost_events", "diagnostics", false,
				&d[DIAG_RINGBUF_DROPS]) ||
	       read_count_field(r, diag, "slots_exhausted", "diagnostics", false,
				&d[DIAG_SLOTS_EXHAUSTED]) ||
	       read_count_field(r, diag, "unresolved_faults", "diagnostics", false,
				&d[DIAG_UNRESOLVED]) ||
	       read_count_field(r, diag, "faults_without_entry", "diagnostics", false,
				&d[DIAG_NO_ENTRY]) ||
	       read_count_field(r, diag, "streamed_faults", "diagnostics", false,
				&in->run.streamed_faults) ||
	       read_count_field(r, diag, "invalid_faults_seen", "diagnostics", false,
				invalid_seen) ? -1 : 0;
}

int import_json(struct imported_run *in, const char *data, size_t size,
		char *error, size_t error_size)
{
	struct reader r = { .error = error, .error_size = error_size };
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
	err = !json_is_object(root) ? fail(&r, "top level", "not a JSON object")
	      : read_header(&r, in, root) || read_diagnostics(&r, in, root, &seen) ||
		read_array(&r, &in->agg, root, "processes", read_process) ||
		read_array(&r, &in->agg, root, "invalid_faults", read_invalid) ? -1 : 0;
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
	aggregate_free(&in->agg);
}
