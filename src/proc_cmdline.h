/* --expose-cmdline: which processes' command lines a scrape shows. */
#ifndef PFWATCH_PROC_CMDLINE_H
#define PFWATCH_PROC_CMDLINE_H

#include <stddef.h>
#include "aggregate.h"

/*
 * The live processes with the most time in faults, up to
 * CMDLINE_PROCESSES, each with its command line read now; kernel threads
 * and processes gone meanwhile are left out. Returns how many.
 */
size_t read_cmdlines(const struct aggregate *agg,
		     struct process_cmdline cmdlines[CMDLINE_PROCESSES]);

#endif
