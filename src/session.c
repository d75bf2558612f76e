/* What every run loop shares: the stop signal, the clock, the exports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include "preflight.h"
#include "privileges.h"
#include "session.h"

/* The one piece of global state: which signal asked us to stop. */
static volatile sig_atomic_t stop_signal;

const struct run_result run_refused = { .outcome = RUN_REFUSED };

struct run_result run_traced(int err)
{
	return (struct run_result){ .outcome = err ? RUN_FAILED : RUN_TRACED, .err = err };
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

int install_signal_handlers(void)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction action = { .sa_handler = on_stop_signal };

	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], &action, NULL))
			return -1;
	return 0;
}

int stop_requested(void)
{
	return stop_signal;
}

void stop_passed_on(void)
{
	stop_signal = 0;
}

double monotonic_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

int drop_privileges(const struct session *s)
{
	const struct options *o = &s->opts;
	struct privilege_plan plan = {
		.user = o->user,
		.uid = s->user_uid,
		.gid = s->user_gid,
		.read_maps = o->where || o->stack_every || o->stack_majors ||
			     o->min_latency_given,
		.write_anywhere = o->output_path != NULL,
		.signal_command = o->command != NULL,
	};

	return privileges_drop(&plan, o->verbose);
}

bool all_pids_gone(const struct options *opts)
{
	if (!opts->nr_pids)
		return false;
	for (int i = 0; i < opts->nr_pids; i++)
		if (process_exists(opts->pids[i]))
			return false;
	return true;
}

void say_pids_gone(const struct options *opts)
{
	fprintf(stderr, "pfwatch: the traced process%s exited\n",
		opts->nr_pids > 1 ? "es have" : " has");
}

void describe_progress(struct session *s)
{
	clock_gettime(CLOCK_REALTIME, &s->run.end_time);
	s->run.elapsed_s = monotonic_s() - s->started;
	if (!tracer_read_diag(&s->tracer, s->run.diag, s->lost_per_cpu) &&
	    s->lost_per_cpu)
		s->run.lost_per_cpu = s->lost_per_cpu;
	s->run.streamed_faults = s->collector.streamed;
}

/* A sample at every boundary of the base interval (merged ones are a subset). */
static int timeline_if_due(struct session *s, double now)
{
	int err;

	if (!s->run.timeline || now < s->next_sample)
		return 0;
	while (s->next_sample <= now)
		s->next_sample += s->opts.timeline_interval_s;
	err = collector_sync(&s->collector);
	if (err)
		return err;
	/* -ENOMEM loses nothing: the next sample takes it. */
	(void)timeline_sample(&s->timeline, now - s->started, &s->agg);
	return 0;
}

int timeline_catch_up(struct session *s)
{
	if (!s->run.timeline)
		return 0;
	return timeline_sample(&s->timeline, s->run.elapsed_s, &s->agg);
}

int export_if_due(struct session *s)
{
	double now = monotonic_s();
	int err = timeline_if_due(s, now);

	if (err || !s->opts.export_interval_s || now < s->next_export)
		return err;
	s->next_export = now + s->opts.export_interval_s;
	err = collector_sync(&s->collector);
	if (err)
		return err;
	describe_progress(s);
	/* The file's totals and its timeline from the same counters. */
	if (timeline_catch_up(s))
		return -ENOMEM;
	return export_file(&s->target, &s->agg, &s->run) ? -EIO : 0;
}

int wait_ms(const struct session *s, double next, double deadline)
{
	double now = monotonic_s(), wake = deadline && deadline < next ? deadline : next;

	if (s->run.timeline && s->next_sample < wake)
		wake = s->next_sample;
	if (wake > now + s->poll_period_s)
		wake = now + s->poll_period_s;
	return wake > now ? (int)((wake - now) * 1000) + 1 : 0;
}
