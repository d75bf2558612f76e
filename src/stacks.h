/*
 * --stacks: sampled faults' user stacks, named through /proc/PID/maps and
 * the binaries' symbols while the process lives, counted as folded lines
 * ("comm;outer;...;inner;[class]") for flame graph tools; with source
 * lines, a frame whose DWARF has one is "function@file.c:123".
 */
#ifndef PFWATCH_STACKS_H
#define PFWATCH_STACKS_H

#include <stdio.h>
#include "proc_maps.h"
#include "symbols.h"

#define STACKS_MAX 16384

struct folded_stack {
	char *frames;
	__u64 count;
	__u64 latency_ns;		/* the sampled faults' time, summed */
};

struct stack_table {
	struct folded_stack *stacks;
	size_t nr_stacks;
	int *index;			/* open addressing, 2 * STACKS_MAX */
	__u64 sampled;			/* stacks received */
	__u64 untracked;		/* past STACKS_MAX distinct stacks */
	__u64 distinct;			/* read from a file: how many it had */
	bool source_lines;		/* frames "function@file.c:123" */
};

int stacks_init(struct stack_table *table);
void stacks_free(struct stack_table *table);
void stacks_add(struct stack_table *table, struct maps_cache *maps,
		struct symbolizer *symbols, const struct fault_stack_record *record,
		const char *comm);
/* Indexes of the stacks, most frequent first; malloc'd, NULL if no memory. */
size_t *stacks_rank(const struct stack_table *table);
/* The most frequent stacks, one text line each. */
void render_stacks(FILE *out, const struct stack_table *stacks, int top);
/* Every stack as a folded line; 0, or -1 if a write failed. */
int stacks_write_folded(FILE *out, const struct stack_table *table);

#endif
