/*
 * The stack table: sampled stacks of this very process (its own functions,
 * named through its /proc/PID/maps and its binary's symbols), merged when
 * equal, kept apart when not, bounded at STACKS_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "aggregate.h"
#include "check.h"
#include "stacks.h"

/* Frames to name: distinct bodies, so no two share an address. */
static __attribute__((noipa)) int outer_frame(int x) { return x + 1; }
static __attribute__((noipa)) int middle_frame(int x) { return x * 3; }
static __attribute__((noipa)) int inner_frame(int x) { return x - 7; }

/* A frame of 161 characters: 32 of them are more than a line holds. */
#define PASTE(a, b) a##b
#define CAT(a, b) PASTE(a, b)
#define TEN abcdefghij
#define FIFTY CAT(CAT(CAT(CAT(TEN, TEN), TEN), TEN), TEN)
#define LONG_FRAME CAT(CAT(CAT(long_frame_, FIFTY), FIFTY), FIFTY)
static __attribute__((noipa)) int LONG_FRAME(int x) { return x / 5; }

static struct stack_table table;
static struct maps_cache maps;
static struct symbolizer symbols;

static int set_up(void)
{
	maps_cache_init(&maps);
	symbolizer_init(&symbols, NULL);
	return stacks_init(&table);
}

static void tear_down(void)
{
	stacks_free(&table);
	symbolizer_free(&symbols);
	maps_cache_free(&maps);
}

static __u64 code_address(int (*function)(int))
{
	return (__u64)(uintptr_t)function;
}

/*
 * A record as the kernel sends it: frames[0] the faulting ip, the others
 * return addresses, each just past its call (here: 1 byte into the caller).
 */
static struct fault_stack_record sample(enum fault_class fault_class, __u32 nr,
					const __u64 *frames)
{
	struct fault_stack_record record = {
		.fault = { .header.type = EVENT_FAULT_STACK, .fault_class = fault_class,
			   .tgid = (__u32)getpid(), .tid = (__u32)getpid() },
		.nr_frames = nr,
	};

	for (__u32 i = 0; i < nr && i < MAX_STACK_FRAMES; i++)
		record.frames[i] = frames[i] + (i ? 1 : 0);
	return record;
}

/* The table's entry whose line is @frames; NULL if none. */
static const struct folded_stack *stack_named(const char *frames)
{
	for (size_t i = 0; i < table.nr_stacks; i++)
		if (!strcmp(table.stacks[i].frames, frames))
			return &table.stacks[i];
	return NULL;
}

static void same_stack_merges(void)
{
	__u64 frames[] = { code_address(inner_frame), code_address(middle_frame),
			   code_address(outer_frame) };
	struct fault_stack_record record = sample(FAULT_ANON_ZERO, 3, frames);
	const struct folded_stack *stack;

	CHECK(!set_up(), "out of memory");
	stacks_add(&table, &maps, &symbols, &record, "tester");
	stacks_add(&table, &maps, &symbols, &record, "tester");
	stack = stack_named("tester;outer_frame;middle_frame;inner_frame;[anon_zero]");
	CHECK(table.nr_stacks == 1, "%zu stacks, want 1", table.nr_stacks);
	CHECK(stack && stack->count == 2, "line '%s' count %llu, want outermost first, 2",
	      table.nr_stacks ? table.stacks[0].frames : "",
	      table.nr_stacks ? (unsigned long long)table.stacks[0].count : 0ULL);
	CHECK(table.sampled == 2 && table.untracked == 0, "sampled %llu untracked %llu",
	      (unsigned long long)table.sampled, (unsigned long long)table.untracked);
	tear_down();
}

/* Another class, another comm or another frame: another line each. */
static void different_stacks_stay_apart(void)
{
	__u64 two[] = { code_address(inner_frame), code_address(outer_frame) };
	__u64 other[] = { code_address(middle_frame), code_address(outer_frame) };
	struct fault_stack_record minor = sample(FAULT_ANON_ZERO, 2, two);
	struct fault_stack_record major = sample(FAULT_FILE_READ, 2, two);
	struct fault_stack_record elsewhere = sample(FAULT_ANON_ZERO, 2, other);
	const struct { const char *line; __u64 count; } want[] = {
		{ "tester;outer_frame;inner_frame;[anon_zero]", 3 },
		{ "tester;outer_frame;inner_frame;[file_read]", 1 },
		{ "tester;outer_frame;middle_frame;[anon_zero]", 2 },
		{ "other;outer_frame;inner_frame;[anon_zero]", 1 },
	};
	size_t *order;

	CHECK(!set_up(), "out of memory");
	for (int i = 0; i < 3; i++)
		stacks_add(&table, &maps, &symbols, &minor, "tester");
	stacks_add(&table, &maps, &symbols, &major, "tester");
	stacks_add(&table, &maps, &symbols, &elsewhere, "tester");
	stacks_add(&table, &maps, &symbols, &elsewhere, "tester");
	stacks_add(&table, &maps, &symbols, &minor, "other");
	CHECK(table.nr_stacks == 4, "%zu stacks, want 4", table.nr_stacks);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct folded_stack *stack = stack_named(want[i].line);

		CHECK(stack && stack->count == want[i].count, "%s: %llu, want %llu",
		      want[i].line, stack ? (unsigned long long)stack->count : 0ULL,
		      (unsigned long long)want[i].count);
	}
	/* Most frequent first; equal counts in the order of their text. */
	order = stacks_rank(&table);
	CHECK(order, "out of memory");
	if (order && table.nr_stacks == 4) {
		CHECK(!strcmp(table.stacks[order[0]].frames, want[0].line) &&
		      !strcmp(table.stacks[order[1]].frames, want[2].line) &&
		      !strcmp(table.stacks[order[2]].frames, want[3].line) &&
		      !strcmp(table.stacks[order[3]].frames, want[1].line),
		      "ranked: %s, %s, %s, %s", table.stacks[order[0]].frames,
		      table.stacks[order[1]].frames, table.stacks[order[2]].frames,
		      table.stacks[order[3]].frames);
	}
	free(order);
	tear_down();
}

/*
 * Frames no function covers: an address in no mapping, one in anonymous
 * memory; a comm with a space and a ';', and none at all.
 */
static void unnamed_frames_and_comms(void)
{
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u64 frames[3] = { 16, 0, code_address(outer_frame) };
	struct fault_stack_record record;

	CHECK(anon != MAP_FAILED, "mmap");
	if (anon == MAP_FAILED)
		return;
	frames[1] = (__u64)(uintptr_t)anon + 64;
	record = sample(FAULT_COW, 3, frames);
	CHECK(!set_up(), "out of memory");
	stacks_add(&table, &maps, &symbols, &record, "a b;c");
	stacks_add(&table, &maps, &symbols, &record, "");
	CHECK(stack_named("a_b_c;outer_frame;[anon];[unknown];[cow]"),
	      "line '%s'", table.nr_stacks ? table.stacks[0].frames : "");
	CHECK(stack_named("?;outer_frame;[anon];[unknown];[cow]"),
	      "line '%s'", table.nr_stacks > 1 ? table.stacks[1].frames : "");
	tear_down();
	munmap(anon, 4096);
}

/* A frame in a mapping the kernel names itself keeps that name once. */
static void kernel_named_mapping_frame(void)
{
	int on_stack = 0;
	__u64 frames[2] = { (__u64)(uintptr_t)&on_stack, code_address(outer_frame) };
	struct fault_stack_record record = sample(FAULT_COW, 2, frames);

	CHECK(!set_up(), "out of memory");
	stacks_add(&table, &maps, &symbols, &record, "t");
	CHECK(stack_named("t;outer_frame;[stack];[cow]"),
	      "line '%s'", table.nr_stacks ? table.stacks[0].frames : "");
	tear_down();
}

/* nr_frames past MAX_STACK_FRAMES (a corrupt record) reads only the array. */
static void frames_are_bounded(void)
{
	struct fault_stack_record *record = malloc(sizeof(*record));
	size_t semicolons = 0;

	CHECK(record && !set_up(), "out of memory");
	if (!record)
		return;
	memset(record, 0, sizeof(*record));
	record->fault.tgid = (__u32)getpid();
	record->fault.fault_class = FAULT_ANON_ZERO;
	record->nr_frames = 1000;
	for (int i = 0; i < MAX_STACK_FRAMES; i++)
		record->frames[i] = code_address(inner_frame) + (i ? 1 : 0);
	stacks_add(&table, &maps, &symbols, record, "deep");
	CHECK(table.nr_stacks == 1, "%zu stacks", table.nr_stacks);
	for (const char *c = table.nr_stacks ? table.stacks[0].frames : ""; *c; c++)
		semicolons += *c == ';';
	/* comm, 32 frames, the class: 34 fields. */
	CHECK(semicolons == MAX_STACK_FRAMES + 1, "%zu ';' in the line, want %d",
	      semicolons, MAX_STACK_FRAMES + 1);
	free(record);
	tear_down();
}

/* A stack longer than a line is cut in its frames, never in its class. */
static void long_stacks_keep_their_class(void)
{
	struct fault_stack_record *record = malloc(sizeof(*record));
	const char *line, *leaf;

	CHECK(record && !set_up(), "out of memory");
	if (!record)
		return;
	memset(record, 0, sizeof(*record));
	record->fault.tgid = (__u32)getpid();
	record->fault.fault_class = FAULT_FILE_READ;
	record->nr_frames = MAX_STACK_FRAMES;
	for (int i = 0; i < MAX_STACK_FRAMES; i++)
		record->frames[i] = code_address(LONG_FRAME) + (i ? 1 : 0);
	stacks_add(&table, &maps, &symbols, record, "deep");
	line = table.nr_stacks ? table.stacks[0].frames : "";
	leaf = strrchr(line, ';');
	CHECK(!strncmp(line, "deep;long_frame_abcdefghij", 26) &&
	      strlen(line) > 20 * 162, "line '%.80s...'", line);
	CHECK(leaf && !strcmp(leaf, ";[file_read]"), "the line ends in '%s'",
	      leaf ? leaf : line);
	free(record);
	tear_down();
}

/* Past STACKS_MAX distinct stacks, new ones are counted, known ones merge. */
static void full_table_counts_the_rest(void)
{
	struct fault_stack_record record = sample(FAULT_ANON_ZERO, 0, NULL);
	char comm[COMM_LEN];

	CHECK(!set_up(), "out of memory");
	for (unsigned i = 0; i < STACKS_MAX + 10; i++) {
		snprintf(comm, sizeof(comm), "c%u", i);
		stacks_add(&table, &maps, &symbols, &record, comm);
	}
	stacks_add(&table, &maps, &symbols, &record, "c0");
	stacks_add(&table, &maps, &symbols, &record, "c16383");
	stacks_add(&table, &maps, &symbols, &record, "c16384");
	CHECK(table.nr_stacks == STACKS_MAX, "%zu stacks", table.nr_stacks);
	CHECK(table.untracked == 11, "%llu untracked, want 11",
	      (unsigned long long)table.untracked);
	CHECK(table.sampled == STACKS_MAX + 13, "%llu sampled",
	      (unsigned long long)table.sampled);
	CHECK(stack_named("c0;[anon_zero]") && stack_named("c0;[anon_zero]")->count == 2 &&
	      stack_named("c16383;[anon_zero]") &&
	      stack_named("c16383;[anon_zero]")->count == 2 &&
	      !stack_named("c16384;[anon_zero]"), "the first and last kept, the next not");
	tear_down();
}

/* The folded lines are the table's lines and counts, one each. */
static void folded_lines_are_the_table(void)
{
	struct fault_stack_record record = sample(FAULT_SWAP_IN, 0, NULL);
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	CHECK(out && !set_up(), "out of memory");
	if (!out)
		return;
	for (int i = 0; i < 5; i++)
		stacks_add(&table, &maps, &symbols, &record, i < 3 ? "x" : "y");
	CHECK(!stacks_write_folded(out, &table), "write failed");
	CHECK(!fclose(out), "fclose");
	CHECK(text && size == strlen("x;[swap_in] 3\ny;[swap_in] 2\n") &&
	      strstr(text, "x;[swap_in] 3\n") && strstr(text, "y;[swap_in] 2\n"),
	      "folded: '%s'", text ? text : "");
	free(text);
	tear_down();
}

int main(void)
{
	check.binary = "test_stacks";
	RUN(same_stack_merges);
	RUN(different_stacks_stay_apart);
	RUN(unnamed_frames_and_comms);
	RUN(kernel_named_mapping_frame);
	RUN(frames_are_bounded);
	RUN(long_stacks_keep_their_class);
	RUN(full_table_counts_the_rest);
	RUN(folded_lines_are_the_table);
	return check.failures ? 1 : 0;
}
