/*
 * A tracing session: what pfwatch holds from loading to the summary, and
 * what every run loop (monitor, live view, serve, a command) shares.
 */
#ifndef PFWATCH_SESSION_H
#define PFWATCH_SESSION_H

#include <stdbool.h>
#include <sys/types.h>
#include "aggregate.h"
#include "collect.h"
#include "export.h"
#include "loader.h"
#include "options.h"
#include "probe.h"
#include "stacks.h"
#include "timeline.h"
#include "where.h"

struct session {
	struct options opts;
	struct kernel_features features;
	struct tracer tracer;
	struct aggregate agg;
	struct collector collector;
	struct run_info run;
	__u64 *lost_per_cpu;		/* run.lost_per_cpu's storage */
	struct process_cmdline cmdlines[CMDLINE_PROCESSES];	/* --expose-cmdline */
	uid_t user_uid;			/* --user's IDs */
	gid_t user_gid;
	double started;
	struct export_target target;	/* -o FILE, if given */
	struct where_table where;	/* --where */
	struct stack_table stacks;	/* --stacks */
	double next_export;		/* --export-interval */
	struct timeline timeline;	/* with -o FILE: run.timeline */
	double next_sample;		/* the timeline's next interval boundary */
	size_t timeline_max_intervals;	/* its bound before merging */
	double poll_period_s;		/* the longest wait for events */
	struct cgroup_hierarchy cgroups;	/* where records' cgroups are named */
	bool cgroups_mounted;		/* else they are not named */
};

/* How a run ended; an errno travels only with RUN_FAILED. */
enum run_outcome {
	RUN_TRACED,	/* traced to the end: summarize */
	RUN_FAILED,	/* tracing failed: summarize what was seen, exit 1 */
	RUN_REFUSED,	/* never traced, and said why: exit 2 */
};

struct run_result {
	enum run_outcome outcome;
	int err;	/* RUN_FAILED: -errno */
};

extern const struct run_result run_refused;
/* A loop's -errno, or 0 when it traced to the end. */
struct run_result run_traced(int err);

/* SIGINT, SIGTERM, SIGHUP and SIGPIPE ask the loops to stop; -1 on failure. */
int install_signal_handlers(void);
/* The stop signal received, or 0. */
int stop_requested(void);
/* pfwatch -- CMD: the signal was passed on to the command. */
void stop_passed_on(void);

double monotonic_s(void);
/* Once attached: only what reading and writing need from here on. */
int drop_privileges(const struct session *s);
/* -p given and every one of its processes gone. */
bool all_pids_gone(const struct options *opts);
void say_pids_gone(const struct options *opts);
/* What every output says about the run so far. */
void describe_progress(struct session *s);
/*
 * At each interval boundary, the timeline's sample; with --export-interval,
 * the file rewritten, whole, while tracing goes on.
 */
int export_if_due(struct session *s);
/* The timeline's last sample, at the run's elapsed time (before a write). */
int timeline_catch_up(struct session *s);
/*
 * How long a loop may wait: until its next output, the timeline's next
 * sample or the deadline, but at most one poll period, since events
 * arrive without wakeups.
 */
int wait_ms(const struct session *s, double next, double deadline);

#endif
