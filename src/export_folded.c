/*
 * Folded lines for flame graph tools: with --stacks, the sampled user
 * stacks ("comm;outer;...;inner;[class] count"); else "comm;kind;class
 * count", one per command name and class, so the graph's width is the
 * share of faults.
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
	for (size_t i = 0; i < agg->nr_records; i++) {
		const struct process_record *p = agg->records[i];
		char frame[COMM_LEN];

		frame_name(frame, p->comm[0] ? p->comm : "?");
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			if (p->stats.count[c] &&
			    fprintf(out, "%s;%s;%s %llu\n", frame,
				    class_kind_name(fault_class_kind(c)),
				    fault_class_name(c),
				    (unsigned long long)p->stats.count[c]) < 0)
				return -1;
	}
	return fflush(out) ? -1 : 0;
}
