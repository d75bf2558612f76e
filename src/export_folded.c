/*
 * Folded lines for flame graph tools: with --stacks, the sampled user
 * stacks ("comm;outer;...;inner;[class] count"); else "comm;kind;class
 * count", one per command name and class (in the order of the names), so
 * the graph's width is the share of faults.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "stacks.h"

/* Frames may not hold ';' or spaces: those would split them. */
static void frame_name(char *out, const char *comm)
{
	size_t i = 0;

	for (; comm[i] && i < COMM_LEN - 1; i++)
		out[i] = comm[i] == ';' || comm[i] == ' ' ? '_' : comm[i];
	out[i] = '\0';
}

struct named_record {
	char frame[COMM_LEN];
	const struct process_record *record;
};

static int by_frame(const void *a, const void *b)
{
	return strcmp(((const struct named_record *)a)->frame,
		      ((const struct named_record *)b)->frame);
}

/* The records of one frame name, from @named on: their counts summed. */
static size_t sum_frame(const struct named_record *named, size_t nr,
			__u64 count[NR_FAULT_CLASSES])
{
	size_t n = 0;

	memset(count, 0, NR_FAULT_CLASSES * sizeof(*count));
	for (; n < nr && !strcmp(named[n].frame, named[0].frame); n++)
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			count[c] += named[n].record->stats.count[c];
	return n;
}

/* One line per command name and class: the processes of a name merged. */
static int write_by_comm(FILE *out, const struct aggregate *agg)
{
	struct named_record *named = calloc(agg->nr_records + 1, sizeof(*named));
	__u64 count[NR_FAULT_CLASSES];
	int err = 0;

	if (!named)
		return -1;
	for (size_t i = 0; i < agg->nr_records; i++) {
		named[i].record = agg->records[i];
		frame_name(named[i].frame, agg->records[i]->comm[0]
			   ? agg->records[i]->comm : "?");
	}
	qsort(named, agg->nr_records, sizeof(*named), by_frame);
	for (size_t i = 0; i < agg->nr_records && !err;) {
		const char *frame = named[i].frame;

		i += sum_frame(named + i, agg->nr_records - i, count);
		for (int c = 0; c < NR_FAULT_CLASSES && !err; c++)
			if (count[c] && fprintf(out, "%s;%s;%s %llu\n", frame,
						class_kind_name(fault_class_kind(c)),
						fault_class_name(c),
						(unsigned long long)count[c]) < 0)
				err = -1;
	}
	free(named);
	return err;
}

int export_folded(FILE *out, const struct aggregate *agg, const struct run_info *run)
{
	if (run->stacks) {
		__u64 lost = run->diag[DIAG_LOST_STACK];

		/* A tower of its own, so a flame graph shows what is missing. */
		if (stacks_write_folded(out, run->stacks) ||
		    (lost && fprintf(out, "[lost stack samples] %llu\n",
				     (unsigned long long)lost) < 0))
			return -1;
		return fflush(out) ? -1 : 0;
	}
	if (write_by_comm(out, agg))
		return -1;
	return fflush(out) ? -1 : 0;
}
