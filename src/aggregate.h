/*
 * The aggregate every output reads: one record per traced process, kept
 * after the process exits, plus the invalid faults seen one by one.
 */
#ifndef PFWATCH_AGGREGATE_H
#define PFWATCH_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "pfwatch.h"

#define MAX_INVALID_KEPT 256
/*
 * Memory stays bounded however many processes come and go: past this many
 * exited processes (and records closed by a move to another cgroup), the
 * one that closed first is folded into a record per command name and
 * cgroup (at most MAX_FOLDED_COMMS of them, then one for the rest).
 */
#define MAX_EXITED_KEPT 512
#define MAX_FOLDED_COMMS 256
/*
 * The names of records that gather processes. OVERFLOW_COMM: those that
 * found no slot, which the kernel counts as one (OVERFLOW_SLOT); the
 * Prometheus export adds the names past its top ones to it. FOLDED_REST_COMM:
 * exited processes folded when MAX_FOLDED_COMMS names are taken. They stay
 * apart: the first is what the kernel could not tell apart, the second what
 * pfwatch let go of to bound its memory.
 */
#define OVERFLOW_COMM "<other>"
#define FOLDED_REST_COMM "<rest>"

/* An invalid fault, with the mapping its address fell in (if any). */
struct invalid_fault {
	struct fault_event event;
	bool mapped;
	char mapping_kind[8];
	char perms[5];
	char path[256];
};

struct fault_stats {
	__u64 count[NR_FAULT_CLASSES];
	__u64 latency_sum_ns[NR_FAULT_CLASSES];
	__u64 hist[NR_FAULT_CLASSES][HIST_BUCKETS];
	/*
	 * Where each class's latency went: a class's causes add up to its
	 * latency sum, CAUSE_CPU taking what the waits leave. faults: how
	 * many of the class's timed faults spent time on the cause (for
	 * CAUSE_CPU, all of them).
	 */
	__u64 cause_ns[NR_FAULT_CLASSES][NR_FAULT_CAUSES];
	__u64 cause_faults[NR_FAULT_CLASSES][NR_FAULT_CAUSES];
	__u64 thp_fallbacks;
	__u64 uffd_major;	/* uffd faults in rusage's majflt, not minflt */
};

struct process_record {
	__u32 tgid;			/* 0: processes that found no slot */
	__u32 ns_pid;			/* in its PID namespace; tgid if the host's */
	__u64 start_ns;
	__u64 cgroup_id;
	char comm[COMM_LEN];
	bool exited;
	/* The process moved to another cgroup: these are its counts from
	 * before, final; a newer record (same tgid) has those after. */
	bool moved;
	__u64 exit_seq;			/* order of exit or move, for folding */
	__u64 folded;			/* >0: this many exited processes */
	struct fault_stats stats;	/* since pfwatch started */
	struct fault_stats *shown;	/* as of the last table, for rates */
	bool shown_final;		/* exited, and shown since */
	bool has_rusage;		/* pfwatch -- CMD: the kernel's view */
	__u64 rusage_minflt;		/* the command's and its orphans' */
	__u64 rusage_majflt;
	__u64 rusage_orphans;		/* orphans reaped by pfwatch, in it */
	bool rusage_orphans_running;	/* some were still running: not in it */
};

struct aggregate {
	struct process_record **records;
	size_t nr_records;
	size_t capacity;
	struct process_record *by_slot[MAX_PROC_SLOTS];
	struct invalid_fault invalid[MAX_INVALID_KEPT];	/* first ones seen */
	size_t nr_invalid;
	__u64 invalid_events;		/* all received, kept or not */
	__u64 exits;			/* exited records ever released */
	size_t nr_exited_kept;		/* exited, not folded */
	size_t nr_folded;		/* records of folded processes */
};

enum class_kind { KIND_MINOR, KIND_MAJOR, KIND_INVALID, KIND_ERROR };
/*
 * The kinds every output shows: an error (other_error) is an invalid
 * fault, beside the signals. Shown kinds are KIND_MINOR to KIND_INVALID.
 */
#define NR_SHOWN_KINDS (KIND_INVALID + 1)

struct where_table;
struct stack_table;
struct cgroup_table;
struct cgroup_names;

/* serve --expose-cmdline: a process's command line, for its info series. */
#define CMDLINE_PROCESSES 20
#define CMDLINE_MAX 256
struct process_cmdline {
	__u32 pid;
	char comm[COMM_LEN];
	char cmdline[CMDLINE_MAX];	/* arguments joined by spaces, cut */
};

/* What every output says about the run itself. */
struct run_info {
	const char *backend;
	const char *entry_hook;
	char kernel[65];
	struct timespec start_time;	/* wall clock */
	struct timespec end_time;
	double elapsed_s;		/* monotonic */
	char **command;			/* pfwatch -- CMD, else NULL */
	int exit_status;		/* of CMD, as a shell reports it */
	__u64 diag[NR_DIAG_COUNTERS];
	const __u64 *lost_per_cpu;	/* events lost on each CPU, or NULL */
	unsigned nr_cpus;
	__u64 streamed_faults;		/* fault records received, any latency */
	const struct where_table *where;	/* --where, else NULL */
	const struct stack_table *stacks;	/* --stacks, else NULL */
	const struct timeline *timeline;	/* runs that write a file, else NULL */
	const struct process_cmdline *cmdlines;	/* --expose-cmdline, else NULL */
	size_t nr_cmdlines;
	/* Blind spots of this backend and kernel (loader.c's blind_spots()):
	 * bits 1u << fault_class and 1u << fault_cause. */
	unsigned unseparated_classes;
	unsigned unmeasured_causes;
	const struct cgroup_table *cgroups;	/* for the hints, or NULL */
	/* The paths of the cgroup ids records carry, or NULL. */
	const struct cgroup_names *cgroup_names;
};

const char *fault_class_name(enum fault_class fault_class);
/* "io", "direct_reclaim", ... "cpu"; "unknown" past NR_FAULT_CAUSES. */
const char *fault_cause_name(enum fault_cause cause);
/* A class's time on its waits, CAUSE_CPU left out. */
__u64 stats_wait_ns(const struct fault_stats *stats, int fault_class);
/* Give CAUSE_CPU what the waits leave of each class's latency. */
void stats_settle_cpu(struct fault_stats *stats);
/* Events the ring buffer had no room for, all kinds together. */
__u64 run_lost_events(const struct run_info *run);
/* A DIAG_LOST_* counter's name in the files: "exits", "fault_records"... */
const char *lost_kind_name(enum diag_counter kind);
enum class_kind fault_class_kind(enum fault_class fault_class);
enum class_kind class_shown_kind(enum fault_class fault_class);
const char *class_kind_name(enum class_kind kind);
/* Sums of per-class counts: all of them, or those of one shown kind. */
__u64 class_counts_total(const __u64 count[NR_FAULT_CLASSES]);
__u64 class_counts_of_kind(const __u64 count[NR_FAULT_CLASSES],
			   enum class_kind shown);

void aggregate_init(struct aggregate *agg);
void aggregate_free(struct aggregate *agg);

/*
 * The kernel keeps no count of timed faults: a class's count is its
 * untimed faults plus its histogram's total.
 */
__u64 slot_class_count(__u64 untimed, const __u64 hist[HIST_BUCKETS]);

/* Copy a live slot into its process's record; -ENOMEM on failure. */
int aggregate_update_slot(struct aggregate *agg, __u32 slot,
			  const struct proc_stats *stats);
/*
 * The slot is about to be recycled: its record keeps the final copy, and
 * may fold the oldest exited record away; -ENOMEM on failure.
 */
int aggregate_release_slot(struct aggregate *agg, __u32 slot, bool exited);
/* The same for a slot closed by its process's move to another cgroup. */
int aggregate_release_moved(struct aggregate *agg, __u32 slot);
/* A new, zeroed record that no slot points to; NULL when out of memory. */
struct process_record *aggregate_add_record(struct aggregate *agg);
/* Drops (and frees) every record @keep says no to. */
void aggregate_retain(struct aggregate *agg,
		      bool (*keep)(const struct process_record *, const void *),
		      const void *context);
void aggregate_add_invalid(struct aggregate *agg, const struct invalid_fault *fault);
struct process_record *aggregate_find(const struct aggregate *agg, __u32 tgid);

/* Sums over the classes of one shown kind, and over all processes. */
__u64 stats_kind_count(const struct fault_stats *stats, enum class_kind shown);
/* The histograms of one shown kind's classes, summed into @hist. */
void stats_kind_hist(const struct fault_stats *stats, enum class_kind shown,
		     __u64 *hist);
__u64 stats_latency_sum(const struct fault_stats *stats);
/* qsort order of process_record pointers: most time in faults first. */
int records_by_time_in_faults(const void *a, const void *b);
void stats_add(struct fault_stats *total, const struct fault_stats *stats);
void aggregate_totals(const struct aggregate *agg, struct fault_stats *total);

/* Remember the current counts as the base of the next interval's rates. */
int aggregate_mark_shown(struct aggregate *agg);

#endif
