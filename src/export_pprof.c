/*
 * pprof profiles (profile.proto, encoded by protobuf-c): two values per
 * sample, faults/count and fault_latency/nanoseconds, labels "class" and
 * (for stacks) "comm". Samples are the --stacks folded stacks, frames
 * "function@file.c:123" made locations with lines; without stacks, each
 * --where code entry alone, one sample per class.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "profile.pb-c.h"
#include "stacks.h"
#include "where.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__ValueType ValueType;

#define NO_ENTRY (-1)
/* Longer frame names are cut. */
#define FOLDED_FRAME_MAX 1024

/* Distinct texts, each with its index: strings, functions, locations. */
struct interner {
	char **texts;
	size_t nr, room;
	long *slots;			/* open addressing, a power of two */
	size_t nr_slots;
};

static __u64 hash_text(const char *text)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ULL;
	return h ^ (h >> 31);
}

static void interner_free(struct interner *in)
{
	for (size_t i = 0; i < in->nr; i++)
		free(in->texts[i]);
	free(in->texts);
	free(in->slots);
	memset(in, 0, sizeof(*in));
}

/* Twice the slots, every text placed again; -1 when out of memory. */
static int interner_grow(struct interner *in)
{
	size_t nr_slots = in->nr_slots ? 2 * in->nr_slots : 1024;
	long *slots = malloc(nr_slots * sizeof(*slots));
	char **texts = realloc(in->texts, nr_slots / 2 * sizeof(*texts));

	if (!slots || !texts) {
		free(slots);
		if (texts)
			in->texts = texts;
		return -1;
	}
	in->texts = texts;
	in->room = nr_slots / 2;
	for (size_t i = 0; i < nr_slots; i++)
		slots[i] = NO_ENTRY;
	for (size_t i = 0; i < in->nr; i++) {
		size_t at = hash_text(texts[i]) & (nr_slots - 1);

		while (slots[at] != NO_ENTRY)
			at = (at + 1) & (nr_slots - 1);
		slots[at] = (long)i;
	}
	free(in->slots);
	in->slots = slots;
	in->nr_slots = nr_slots;
	return 0;
}

/* @text's index, added if new; -1 when out of memory. */
static long intern(struct interner *in, const char *text)
{
	size_t at;

	if (in->nr == in->room && interner_grow(in))
		return -1;
	at = hash_text(text) & (in->nr_slots - 1);
	for (; in->slots[at] != NO_ENTRY; at = (at + 1) & (in->nr_slots - 1))
		if (!strcmp(in->texts[in->slots[at]], text))
			return in->slots[at];
	in->texts[in->nr] = strdup(text);
	if (!in->texts[in->nr])
		return -1;
	in->slots[at] = (long)in->nr;
	return (long)in->nr++;
}

struct pprof {
	struct interner strings, functions, locations;
	Sample **samples;
	size_t nr_samples;
	bool failed;			/* out of memory somewhere */
};

static long string_of(struct pprof *p, const char *text)
{
	long index = intern(&p->strings, text);

	if (index < 0)
		p->failed = true;
	return index < 0 ? 0 : index;
}

/*
 * A frame's location id (from 1): "function@file.c:123" or "function".
 * Functions are keyed by name and file, locations by function and line.
 */
static uint64_t location_of(struct pprof *p, const char *frame)
{
	char key[FOLDED_FRAME_MAX + 32], name[FOLDED_FRAME_MAX], file[FOLDED_FRAME_MAX] = "";
	const char *at = strrchr(frame, '@'), *colon = at ? strrchr(at, ':') : NULL;
	long line = colon ? strtol(colon + 1, NULL, 10) : 0, function, location;

	if (colon && line > 0) {
		snprintf(name, sizeof(name), "%.*s", (int)(at - frame), frame);
		snprintf(file, sizeof(file), "%.*s", (int)(colon - at - 1), at + 1);
	} else {
		snprintf(name, sizeof(name), "%s", frame);
		line = 0;
	}
	snprintf(key, sizeof(key), "%s@%s", name, file);
	function = intern(&p->functions, key);
	snprintf(key, sizeof(key), "%ld:%ld", function, line);
	location = function < 0 ? -1 : intern(&p->locations, key);
	if (location < 0)
		p->failed = true;
	return location < 0 ? 0 : (uint64_t)location + 1;
}

static Label *new_label(struct pprof *p, const char *key, const char *value)
{
	Label *label = malloc(sizeof(*label));

	if (!label) {
		p->failed = true;
		return NULL;
	}
	perftools__profiles__label__init(label);
	label->key = string_of(p, key);
	label->str = string_of(p, value);
	return label;
}

/* A sample of @nr_frames frames, leaf first, and its labels. */
static void add_sample(struct pprof *p, const uint64_t *locations, size_t nr_frames,
		       __u64 count, __u64 latency_ns, const char *class, const char *comm)
{
	Sample *sample = calloc(1, sizeof(*sample));
	Sample **grown = realloc(p->samples, (p->nr_samples + 1) * sizeof(*grown));

	if (grown)
		p->samples = grown;
	if (!sample || !grown) {
		free(sample);
		p->failed = true;
		return;
	}
	perftools__profiles__sample__init(sample);
	p->samples[p->nr_samples++] = sample;
	sample->location_id = malloc((nr_frames + 1) * sizeof(*sample->location_id));
	sample->value = malloc(2 * sizeof(*sample->value));
	sample->label = calloc(2, sizeof(*sample->label));
	if (!sample->location_id || !sample->value || !sample->label) {
		p->failed = true;
		return;
	}
	memcpy(sample->location_id, locations, nr_frames * sizeof(*locations));
	sample->n_location_id = nr_frames;
	sample->value[0] = (int64_t)count;
	sample->value[1] = (int64_t)latency_ns;
	sample->n_value = 2;
	sample->label[sample->n_label] = new_label(p, "class", class);
	if (sample->label[sample->n_label])
		sample->n_label++;
	if (comm && (sample->label[sample->n_label] = new_label(p, "comm", comm)))
		sample->n_label++;
}

/* "comm;outer;...;inner;[class]": the frames reversed, leaf first. */
static void add_stack(struct pprof *p, const struct folded_stack *stack)
{
	uint64_t locations[MAX_STACK_FRAMES + 2];
	char *copy = strdup(stack->frames), *frames[MAX_STACK_FRAMES + 3], *save = NULL;
	size_t nr = 0;

	if (!copy) {
		p->failed = true;
		return;
	}
	for (char *frame = strtok_r(copy, ";", &save); frame && nr < MAX_STACK_FRAMES + 3;
	     frame = strtok_r(NULL, ";", &save))
		frames[nr++] = frame;
	if (nr >= 2) {
		char *class = frames[nr - 1];
		size_t depth = 0;

		/* The class frame is "[name]": the label holds the name. */
		if (class[0] == '[' && class[strlen(class) - 1] == ']') {
			class[strlen(class) - 1] = '\0';
			class++;
		}
		for (size_t i = nr - 1; i-- > 1;)
			locations[depth++] = location_of(p, frames[i]);
		add_sample(p, locations, depth, stack->count, stack->latency_ns, class,
			   frames[0]);
	}
	free(copy);
}

/* A --where code entry: its function alone, a sample per class. */
static void add_code(struct pprof *p, const struct where_code *c)
{
	char frame[FOLDED_FRAME_MAX];
	uint64_t location;

	if (c->symbol[0] && c->source[0])
		snprintf(frame, sizeof(frame), "%s@%s", c->symbol, c->source);
	else
		snprintf(frame, sizeof(frame), "%s", c->symbol[0] ? c->symbol : c->binary);
	location = location_of(p, frame);
	for (int class = 0; class < NR_FAULT_CLASSES; class++)
		if (c->class_count[class])
			add_sample(p, &location, 1, c->class_count[class],
				   c->class_latency_ns[class], fault_class_name(class), NULL);
}

static void free_samples(struct pprof *p)
{
	for (size_t i = 0; i < p->nr_samples; i++) {
		for (size_t l = 0; l < p->samples[i]->n_label; l++)
			free(p->samples[i]->label[l]);
		free(p->samples[i]->label);
		free(p->samples[i]->location_id);
		free(p->samples[i]->value);
		free(p->samples[i]);
	}
	free(p->samples);
}

/* The functions and locations the samples named, as messages. */
struct tables {
	Function *functions, **function_list;
	Location *locations, **location_list;
	Line *lines, **line_list;
};

static int build_tables(struct pprof *p, struct tables *t)
{
	size_t nf = p->functions.nr, nl = p->locations.nr;

	t->functions = calloc(nf + 1, sizeof(*t->functions));
	t->function_list = calloc(nf + 1, sizeof(*t->function_list));
	t->locations = calloc(nl + 1, sizeof(*t->locations));
	t->location_list = calloc(nl + 1, sizeof(*t->location_list));
	t->lines = calloc(nl + 1, sizeof(*t->lines));
	t->line_list = calloc(nl + 1, sizeof(*t->line_list));
	if (!t->functions || !t->function_list || !t->locations || !t->location_list ||
	    !t->lines || !t->line_list)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		char *key = p->functions.texts[i], *at = strrchr(key, '@');
		Function *f = &t->functions[i];

		perftools__profiles__function__init(f);
		f->id = i + 1;
		f->filename = string_of(p, at + 1);
		*at = '\0';	/* the key is not looked up again */
		f->name = f->system_name = string_of(p, key);
		t->function_list[i] = f;
	}
	for (size_t i = 0; i < nl; i++) {
		long function = 0, line = 0;

		sscanf(p->locations.texts[i], "%ld:%ld", &function, &line);
		perftools__profiles__line__init(&t->lines[i]);
		t->lines[i].function_id = (uint64_t)function + 1;
		t->lines[i].line = line;
		t->line_list[i] = &t->lines[i];
		perftools__profiles__location__init(&t->locations[i]);
		t->locations[i].id = i + 1;
		t->locations[i].n_line = 1;
		t->locations[i].line = &t->line_list[i];
		t->location_list[i] = &t->locations[i];
	}
	return p->failed ? -1 : 0;
}

static void free_tables(struct tables *t)
{
	free(t->functions);
	free(t->function_list);
	free(t->locations);
	free(t->location_list);
	free(t->lines);
	free(t->line_list);
}

/* The whole profile, encoded, to @out; 0 or -1. */
static int write_profile(FILE *out, struct pprof *p, const struct run_info *run)
{
	ValueType types[2], *type_list[2] = { &types[0], &types[1] };
	struct tables t = { 0 };
	Profile profile;
	uint8_t *bytes = NULL;
	size_t size;
	int err = -1;

	perftools__profiles__profile__init(&profile);
	for (int i = 0; i < 2; i++)
		perftools__profiles__value_type__init(&types[i]);
	types[0].type = string_of(p, "faults");
	types[0].unit = string_of(p, "count");
	types[1].type = string_of(p, "fault_latency");
	types[1].unit = string_of(p, "nanoseconds");
	profile.sample_type = type_list;
	profile.n_sample_type = 2;
	profile.default_sample_type = types[0].type;
	profile.time_nanos = (int64_t)run->start_time.tv_sec * 1000000000 +
			     run->start_time.tv_nsec;
	profile.duration_nanos = (int64_t)(run->elapsed_s * 1e9);
	profile.sample = p->samples;
	profile.n_sample = p->nr_samples;
	if (build_tables(p, &t) == 0) {
		profile.function = t.function_list;
		profile.n_function = p->functions.nr;
		profile.location = t.location_list;
		profile.n_location = p->locations.nr;
		profile.string_table = p->strings.texts;
		profile.n_string_table = p->strings.nr;
		size = perftools__profiles__profile__get_packed_size(&profile);
		bytes = malloc(size ? size : 1);
		if (bytes && perftools__profiles__profile__pack(&profile, bytes) == size &&
		    fwrite(bytes, 1, size, out) == size)
			err = 0;
	}
	free(bytes);
	free_tables(&t);
	return err;
}

int export_pprof(FILE *out, const struct aggregate *agg, const struct run_info *run)
{
	struct pprof p = { 0 };
	int err;

	(void)agg;
	if (!run->stacks && !run->where)
		return -1;
	string_of(&p, "");	/* string_table[0] is always "" */
	if (run->stacks)
		for (size_t i = 0; i < run->stacks->nr_stacks; i++)
			add_stack(&p, &run->stacks->stacks[i]);
	else
		for (size_t i = 0; i < run->where->nr_code; i++)
			add_code(&p, &run->where->code[i]);
	err = p.failed ? -1 : write_profile(out, &p, run);
	free_samples(&p);
	interner_free(&p.strings);
	interner_free(&p.functions);
	interner_free(&p.locations);
	return err || fflush(out) ? -1 : 0;
}
