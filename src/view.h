/*
 * What a periodic view shows: each process's activity since the last
 * view, as rates. Shared by the text table and the live screen.
 */
#ifndef PFWATCH_VIEW_H
#define PFWATCH_VIEW_H

#include <stddef.h>
#include "aggregate.h"
#include "cgroup_names.h"

/* What a table's row stands for: --group, the live view's g. */
enum row_group { GROUP_PROCESS, GROUP_CGROUP };

/* Faults per second by the kinds outputs show, indexed by KIND_MINOR... */
struct kind_rates {
	double per_s[NR_SHOWN_KINDS];
};

double kind_rates_total(const struct kind_rates *rates);

/* Copies, not pointers: a live screen keeps rows across syncs that may
 * free the records they came from. */
struct view_row {
	__u32 tgid;
	__u32 tid;			/* thread rows only; 0 on process rows */
	__u64 cgroup_id;		/* process rows only */
	char comm[COMM_LEN];		/* a thread row's: the thread's name */
	struct kind_rates rates;
	double fault_ms_per_s;		/* time in faults */
	__u64 hist[HIST_BUCKETS];	/* minor and major faults only */
	__u64 cause_ns[NR_FAULT_CAUSES];	/* time in faults by cause, all
						 * classes; none on thread rows */
};

/*
 * The processes that faulted since the last aggregate_mark_shown(), busiest
 * first (time in faults, then fault rate). Returns a calloc'd array the
 * caller frees (NULL when out of memory) and its length in *nr_rows.
 */
struct view_row *view_rows(const struct aggregate *agg, double interval_s,
			   size_t *nr_rows);
/*
 * Per-thread rows from two snapshots sorted by TID (then: the previous
 * one, or NULL): the threads that faulted in between, busiest first.
 * Threads count no latency histogram: their hist stays empty.
 */
struct view_row *view_thread_rows(const struct thread_stats *now, size_t nr_now,
				  const struct thread_stats *then, size_t nr_then,
				  double interval_s, size_t *nr_rows);
/* A cgroup's process rows summed: a row of the cgroup tables. */
struct cgroup_row {
	struct view_row view;		/* first: tgid 0, comm its name cut */
	char path[CGROUP_PATH_LEN];	/* or CGROUP_UNKNOWN_PATH */
	char name[CGROUP_NAME_LEN];
	__u32 processes;		/* that faulted in the interval */
};

/*
 * The process rows (from view_rows()) summed per cgroup, named from
 * @names (NULL: none named), busiest first as view_rows() orders. A
 * calloc'd array the caller frees (NULL when out of memory), its length
 * in *nr_cgroups.
 */
struct cgroup_row *view_cgroup_rows(const struct view_row *rows, size_t nr_rows,
				    const struct cgroup_names *names,
				    size_t *nr_cgroups);
/* Sums over rows, for a header line. */
void view_totals(const struct view_row *rows, size_t nr_rows,
		 struct kind_rates *rates, double *fault_ms_per_s);

#endif
