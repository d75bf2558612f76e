/*
 * Hints: what the figures of a run point at, each in one line with its
 * numbers, found only where a figure shows it clearly. The summary prints
 * them; the JSON export lists them.
 */
#ifndef PFWATCH_HINTS_H
#define PFWATCH_HINTS_H

#include <stddef.h>
#include "aggregate.h"

enum hint_kind {
	HINT_KIND_MEMCG_RECLAIM,	/* its faults mostly reclaim in its cgroup */
	HINT_KIND_HUGE_PAGES,		/* huge-page faults take most of its time */
	HINT_KIND_THRASHING,		/* it faults back pages it had swapped out */
	HINT_KIND_COW_AFTER_FORK,	/* copy-on-write faults take most of it */
	HINT_KIND_SLOW_PAGER,		/* its userfaultfd handler answers slowly */
	NR_HINT_KINDS,
};

/* A few lines after a summary, not a report of everything. */
#define MAX_HINTS 4
#define HINT_TEXT_LEN 320

struct hint {
	enum hint_kind kind;
	__u32 pid;		/* 0: folded records of exited processes */
	char comm[COMM_LEN];
	__u64 ns;		/* the fault time it explains: orders hints */
	char text[HINT_TEXT_LEN];
};

/* "memcg_reclaim", "huge_pages", ...: the JSON's kinds. */
const char *hint_kind_name(enum hint_kind kind);
/*
 * The hints the run's figures show, the most time explained first, at
 * most MAX_HINTS; returns how many were written to @hints.
 */
size_t hints_find(const struct aggregate *agg, const struct run_info *run,
		  struct hint hints[MAX_HINTS]);

#endif
