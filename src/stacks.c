/* Folded user stacks of sampled faults. */
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"
#include "stacks.h"

#define NO_STACK (-1)
#define FOLDED_MAX 4096

int stacks_init(struct stack_table *table)
{
	memset(table, 0, sizeof(*table));
	table->stacks = calloc(STACKS_MAX, sizeof(*table->stacks));
	table->index = malloc(2 * STACKS_MAX * sizeof(*table->index));
	if (!table->stacks || !table->index) {
		stacks_free(table);
		return -1;
	}
	for (size_t i = 0; i < 2 * STACKS_MAX; i++)
		table->index[i] = NO_STACK;
	return 0;
}

void stacks_free(struct stack_table *table)
{
	for (size_t i = 0; i < table->nr_stacks; i++)
		free(table->stacks[i].frames);
	free(table->stacks);
	free(table->index);
	memset(table, 0, sizeof(*table));
}

/*
 * Appends @name to @line as a frame, the line kept under @limit bytes:
 * ';' and spaces would split it.
 */
static size_t put_frame(char *line, size_t at, const char *name, size_t limit)
{
	if (at && at + 1 < limit)
		line[at++] = ';';
	for (; *name && at + 1 < limit; name++)
		line[at++] = *name == ';' || *name == ' ' ? '_' : *name;
	line[at] = '\0';
	return at;
}

/*
 * A frame's name: its function (and source line if asked), else its
 * binary's file name in brackets.
 */
static void name_frame(char *name, size_t size, struct maps_cache *maps,
		       struct symbolizer *symbols, __u32 tgid, __u64 addr,
		       bool source_lines)
{
	const struct mapping *found = maps_cache_find(maps, (pid_t)tgid, addr);
	struct code_place place;
	const char *symbol, *base;
	char source[128];

	if (!found) {
		snprintf(name, size, "[unknown]");
		return;
	}
	symbol = symbolize(symbols, found, addr, &place);
	if (symbol && source_lines && code_place_source(&place, source, sizeof(source))[0]) {
		snprintf(name, size, "%s@%s", symbol, source);
		return;
	}
	if (symbol) {
		snprintf(name, size, "%s", symbol);
		return;
	}
	base = strrchr(found->path, '/');
	if (found->path[0] == '[') {	/* [heap], [stack]: named already */
		snprintf(name, size, "%.*s", (int)size - 1, found->path);
		return;
	}
	/* Long names are cut: a frame is a label, not a path. */
	snprintf(name, size, "[%.*s]", (int)size - 3, base ? base + 1
		 : found->path[0] ? found->path : mapping_kind_name(found->kind));
}

static __u64 hash_line(const char *line)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *line; line++)
		h = (h ^ (unsigned char)*line) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

void stacks_add(struct stack_table *table, struct maps_cache *maps,
		struct symbolizer *symbols, const struct fault_stack_record *record,
		const char *comm)
{
	__u32 nr = record->nr_frames < MAX_STACK_FRAMES ? record->nr_frames
							 : MAX_STACK_FRAMES;
	char line[FOLDED_MAX], name[256], leaf[32];
	size_t room, at;
	__u64 hash;

	table->sampled++;
	/* A long stack is cut in its frames: the class always ends the line. */
	snprintf(leaf, sizeof(leaf), "[%s]", fault_class_name(record->fault.fault_class));
	room = FOLDED_MAX - strlen(leaf) - 1;
	at = put_frame(line, 0, comm[0] ? comm : "?", room);
	/* Outermost first; return addresses point past their call. */
	for (__u32 i = nr; i-- > 0;) {
		name_frame(name, sizeof(name), maps, symbols, record->fault.tgid,
			   i ? record->frames[i] - 1 : record->frames[i],
			   table->source_lines);
		at = put_frame(line, at, name, room);
	}
	put_frame(line, at, leaf, FOLDED_MAX);
	hash = hash_line(line);
	for (size_t probe = 0;; probe++) {
		int *slot = &table->index[(hash + probe) & (2 * STACKS_MAX - 1)];

		if (*slot != NO_STACK && !strcmp(table->stacks[*slot].frames, line)) {
			table->stacks[*slot].count++;
			table->stacks[*slot].latency_ns += record->fault.latency_ns;
			return;
		}
		if (*slot != NO_STACK)
			continue;
		if (table->nr_stacks == STACKS_MAX ||
		    !(table->stacks[table->nr_stacks].frames = strdup(line))) {
			table->untracked++;
			return;
		}
		table->stacks[table->nr_stacks].count = 1;
		table->stacks[table->nr_stacks].latency_ns = record->fault.latency_ns;
		*slot = (int)table->nr_stacks++;
		return;
	}
}

static int more_frequent(const void *a, const void *b, void *context)
{
	const struct stack_table *table = context;
	__u64 x = table->stacks[*(const size_t *)a].count;
	__u64 y = table->stacks[*(const size_t *)b].count;

	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(table->stacks[*(const size_t *)a].frames,
		      table->stacks[*(const size_t *)b].frames);
}

size_t *stacks_rank(const struct stack_table *table)
{
	size_t *order = malloc((table->nr_stacks + 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < table->nr_stacks; i++)
		order[i] = i;
	qsort_r(order, table->nr_stacks, sizeof(*order), more_frequent, (void *)table);
	return order;
}

int stacks_write_folded(FILE *out, const struct stack_table *table)
{
	for (size_t i = 0; i < table->nr_stacks; i++)
		if (fprintf(out, "%s %llu\n", table->stacks[i].frames,
			    (unsigned long long)table->stacks[i].count) < 0)
			return -1;
	return fflush(out) ? -1 : 0;
}
