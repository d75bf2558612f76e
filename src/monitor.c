/* The monitor loops: plain-text tables, or the live full-screen view. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "monitor.h"
#include "render_text.h"
#include "render_tui.h"

/* The live screen needs a person at a terminal and a periodic view. */
bool wants_live_view(const struct options *opts)
{
	return !opts->plain_text && !opts->command && !opts->min_latency_given &&
	       !opts->serve && opts->interval_s > 0 && isatty(STDIN_FILENO) &&
	       isatty(STDOUT_FILENO);
}

static int print_table(struct session *s, double interval_s)
{
	int err = collector_sync(&s->collector);

	if (err)
		return err;
	render_interval(stdout, &s->agg, &s->run, interval_s, s->opts.top,
			s->opts.group);
	return aggregate_mark_shown(&s->agg);
}

/* System-wide or -p: tables every interval until stopped. */
int monitor(struct session *s)
{
	double interval = s->opts.interval_s;
	double deadline = s->opts.duration_s ? s->started + s->opts.duration_s : 0;
	double next_table = s->started + (interval ? interval : 1);
	int err = 0;

	while (!stop_requested() && !err) {
		double now;

		err = collector_poll(&s->collector,
				     wait_ms(s, next_table, deadline));
		now = monotonic_s();
		if (!err && now >= next_table) {
			err = interval ? print_table(s, interval)
				       : collector_sync(&s->collector);
			next_table += interval ? interval : 1;
			if (next_table < now)
				next_table = now + (interval ? interval : 1);
		}
		if (!err)
			err = export_if_due(s);
		if (deadline && now >= deadline)
			break;
		if (all_pids_gone(&s->opts)) {
			say_pids_gone(&s->opts);
			break;
		}
	}
	return err;
}

static struct live_status live_status_now(const struct session *s)
{
	struct run_info now = { 0 };

	/* An unreadable counter shows as 0 until the next refresh. */
	(void)tracer_read_diag(&s->tracer, now.diag, NULL);
	return (struct live_status){
		.uptime_s = monotonic_s() - s->started,
		.lost = run_lost_events(&now),
	};
}

/* Waits for a key or the timeout; false when the terminal is gone. */
static bool wait_for_key(int timeout_ms, int *err)
{
	struct pollfd keys = { .fd = STDIN_FILENO, .events = POLLIN };

	if (poll(&keys, 1, timeout_ms) < 0) {
		if (errno != EINTR)
			*err = -errno;
		return true;
	}
	return !(keys.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* One view: rates since the last, then the counts become the new base. */
static int live_view(struct session *s, struct live_screen *screen,
		     double since)
{
	struct thread_stats *threads = NULL;
	size_t nr_threads = 0;
	int err = collector_sync(&s->collector);

	if (err)
		return err;
	/* Per-thread rows are a bonus: without them the view goes on. */
	if (collector_read_threads(&s->collector, &threads, &nr_threads))
		threads = NULL;
	err = live_update(screen, since, threads, nr_threads);
	return err ? err : aggregate_mark_shown(&s->agg);
}

/* System-wide or -p on a terminal: the full-screen view until q. */
static int monitor_live(struct session *s, struct live_screen *screen)
{
	double interval = s->opts.interval_s;
	double deadline = s->opts.duration_s ? s->started + s->opts.duration_s : 0;
	double next_view = s->started + interval, last_view = s->started;
	struct live_status status = live_status_now(s);
	bool pids_gone = false;
	int err = 0;

	live_draw(screen, &status);
	while (!stop_requested() && !err) {
		double now;
		enum live_action action;

		if (!wait_for_key(wait_ms(s, next_view, deadline), &err))
			break;
		if (!err)
			err = collector_poll(&s->collector, 0);
		action = live_keys(screen);
		if (err || action == LIVE_QUIT)
			break;
		now = monotonic_s();
		if (now >= next_view) {
			if (!live_paused(screen)) {
				err = live_view(s, screen, now - last_view);
				last_view = now;
			}
			next_view += interval;
			if (next_view < now)
				next_view = now + interval;
			action = LIVE_REDRAW;
		}
		if (action == LIVE_REDRAW) {
			status = live_status_now(s);
			live_draw(screen, &status);
		}
		if (!err)
			err = export_if_due(s);
		if (deadline && now >= deadline)
			break;
		pids_gone = all_pids_gone(&s->opts);
		if (pids_gone)
			break;
	}
	live_close(screen);
	if (pids_gone)
		say_pids_gone(&s->opts);
	return err;
}

int monitor_terminal(struct session *s)
{
	const char *no_color = getenv("NO_COLOR");
	struct live_settings settings = {
		.color = !s->opts.no_color && !(no_color && *no_color),
		.pick = s->opts.nr_pids == 1 ? s->opts.pids[0] : 0,
		.interval_s = s->opts.interval_s,
		.backend = s->run.backend,
		.kernel = s->run.kernel,
		.where = s->run.where,
		.cgroup_names = s->run.cgroup_names,
		.group = s->opts.group,
	};
	struct live_screen *screen = live_open(&settings, &s->agg);

	/* A terminal ncurses does not know still gets the text tables. */
	return screen ? monitor_live(s, screen) : monitor(s);
}
