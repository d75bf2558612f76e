/*
 * export_pprof: the profile is decoded again with protobuf-c's own
 * unpacker, and its samples, locations, functions and labels must say
 * what the stacks (or --where's code) the test made say.
 */
#include <stdlib.h>
#include "check.h"
#include "export.h"
#include "profile.pb-c.h"
#include "stacks.h"
#include "where.h"

typedef Perftools__Profiles__Profile Profile;

static Profile *profile_of(const struct run_info *run)
{
	char *bytes = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&bytes, &size);
	Profile *profile = NULL;
	int err;

	if (!out)
		return NULL;
	err = export_pprof(out, NULL, run);
	if (!fclose(out) && !err)
		profile = perftools__profiles__profile__unpack(NULL, size, (uint8_t *)bytes);
	free(bytes);
	return profile;
}

static const char *text(const Profile *p, int64_t index)
{
	return index >= 0 && (size_t)index < p->n_string_table ? p->string_table[index] : "?";
}

static const char *label(const Profile *p, const Perftools__Profiles__Sample *s,
			 const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (!strcmp(text(p, s->label[i]->key), key))
			return text(p, s->label[i]->str);
	return NULL;
}

/* "function file:line" of a location id, into @buf. */
static const char *frame(const Profile *p, uint64_t id, char *buf, size_t size)
{
	const Perftools__Profiles__Location *location = NULL;
	const Perftools__Profiles__Function *function = NULL;

	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			location = p->location[i];
	if (!location || location->n_line != 1)
		return "(no location)";
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == location->line[0]->function_id)
			function = p->function[i];
	if (!function)
		return "(no function)";
	snprintf(buf, size, "%s %s:%lld", text(p, function->name), text(p, function->filename),
		 (long long)location->line[0]->line);
	return buf;
}

static bool sample_types_are_faults_and_latency(const Profile *p)
{
	return p->n_string_table && !strcmp(p->string_table[0], "") &&
	       p->n_sample_type == 2 &&
	       !strcmp(text(p, p->sample_type[0]->type), "faults") &&
	       !strcmp(text(p, p->sample_type[0]->unit), "count") &&
	       !strcmp(text(p, p->sample_type[1]->type), "fault_latency") &&
	       !strcmp(text(p, p->sample_type[1]->unit), "nanoseconds");
}

/* Folded stacks: the leaf first, lines parsed, class and comm labels. */
static void stacks_become_samples(void)
{
	static struct stack_table table;
	struct run_info run = { .backend = "perf" };
	const Perftools__Profiles__Sample *s;
	char a[256], b[256], c[256];
	Profile *p;

	CHECK(!stacks_init(&table), "out of memory");
	if (check.failed)
		return;
	table.stacks[0] = (struct folded_stack){
		strdup("app;main@app.c:40;touch@app.c:12;[anon_zero]"), 7, 7000 };
	table.stacks[1] = (struct folded_stack){ strdup("app;[libc.so.6];main;[file_read]"), 2, 900 };
	table.nr_stacks = 2;
	run.stacks = &table;
	p = profile_of(&run);
	CHECK(p, "export_pprof or unpacking failed");
	if (check.failed)
		goto out;
	CHECK(sample_types_are_faults_and_latency(p), "sample types");
	CHECK(p->n_sample == 2, "%zu samples, want 2", p->n_sample);
	if (check.failed)
		goto out;
	s = p->sample[0];
	CHECK(s->n_value == 2 && s->value[0] == 7 && s->value[1] == 7000, "sample 0 values");
	CHECK(s->n_location_id == 2 &&
	      !strcmp(frame(p, s->location_id[0], a, sizeof(a)), "touch app.c:12") &&
	      !strcmp(frame(p, s->location_id[1], b, sizeof(b)), "main app.c:40"),
	      "sample 0 frames %zu: %s, %s", s->n_location_id, a, b);
	CHECK(label(p, s, "class") && !strcmp(label(p, s, "class"), "anon_zero") &&
	      label(p, s, "comm") && !strcmp(label(p, s, "comm"), "app"), "sample 0 labels");
	s = p->sample[1];
	CHECK(s->n_value == 2 && s->value[0] == 2 && s->value[1] == 900, "sample 1 values");
	CHECK(s->n_location_id == 2 &&
	      !strcmp(frame(p, s->location_id[0], a, sizeof(a)), "main :0") &&
	      !strcmp(frame(p, s->location_id[1], c, sizeof(c)), "[libc.so.6] :0"),
	      "sample 1 frames: %s, %s", a, c);
	/* "main" without a line is another function than main in app.c. */
	CHECK(p->n_function == 4 && p->n_location == 4, "%zu functions, %zu locations",
	      p->n_function, p->n_location);
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	stacks_free(&table);
}

/* Without stacks, each code entry alone, one sample per class. */
static void where_code_becomes_samples(void)
{
	static struct where_table where;
	struct run_info run = { .backend = "perf" };
	struct where_code *code;
	char a[256];
	Profile *p;

	CHECK(!where_init(&where), "out of memory");
	if (check.failed)
		return;
	code = &where.code[where.nr_code++];
	code->binary = strdup("/usr/bin/app");
	code->symbol = strdup("touch");
	code->source = strdup("app.c:12");
	code->class_count[FAULT_ANON_ZERO] = 5;
	code->class_latency_ns[FAULT_ANON_ZERO] = 500;
	code->class_count[FAULT_FILE_READ] = 1;
	code->class_latency_ns[FAULT_FILE_READ] = 80000;
	run.where = &where;
	p = profile_of(&run);
	CHECK(p, "export_pprof or unpacking failed");
	if (check.failed)
		goto out;
	CHECK(sample_types_are_faults_and_latency(p), "sample types");
	CHECK(p->n_sample == 2 && p->n_location == 1, "%zu samples, %zu locations",
	      p->n_sample, p->n_location);
	for (size_t i = 0; i < p->n_sample && !check.failed; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		bool anon = i == 0;

		CHECK(s->n_location_id == 1 &&
		      !strcmp(frame(p, s->location_id[0], a, sizeof(a)), "touch app.c:12"),
		      "sample %zu at %s", i, a);
		CHECK(s->value[0] == (anon ? 5 : 1) && s->value[1] == (anon ? 500 : 80000) &&
		      !strcmp(label(p, s, "class") ? label(p, s, "class") : "",
			      anon ? "anon_zero" : "file_read") && !label(p, s, "comm"),
		      "sample %zu values or labels", i);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	where_free(&where);
}

int main(void)
{
	check.binary = "test_export_pprof";
	RUN(stacks_become_samples);
	RUN(where_code_becomes_samples);
	return check.failures ? 1 : 0;
}
