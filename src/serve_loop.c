/* pfwatch serve's loop: scrapes answered between event batches. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include "proc_cmdline.h"
#include "serve.h"
#include "serve_loop.h"

/* A scrape's figures: the kernel's counters as of now. */
static int refresh_for_scrape(void *context)
{
	struct session *s = context;
	int err = collector_sync(&s->collector);

	describe_progress(s);
	if (s->opts.expose_cmdline) {
		s->run.cmdlines = s->cmdlines;
		s->run.nr_cmdlines = read_cmdlines(&s->agg, s->cmdlines);
	}
	return err;
}

/* pfwatch serve: /metrics answered between event batches until stopped. */
struct run_result serve_metrics(struct session *s)
{
	struct serve_source source = {
		.refresh = refresh_for_scrape, .context = s,
		.agg = &s->agg, .run = &s->run,
	};
	double deadline = s->opts.duration_s ? s->started + s->opts.duration_s : 0;
	char error[256], where[64];
	struct metrics_server *server;
	int err = 0;

	serve_address_text(&s->opts.listen, where, sizeof(where));
	server = serve_start(&s->opts.listen, &source, error, sizeof(error));
	if (!server) {
		fprintf(stderr, "pfwatch: cannot listen on %s: %s\n", where, error);
		return run_refused;
	}
	fprintf(stderr, "pfwatch: serving http://%s/metrics\n", where);
	if (drop_privileges(s)) {
		serve_stop(server);
		return run_refused;
	}
	while (!stop_requested() && !err) {
		struct pollfd ready[] = {
			{ .fd = serve_fd(server), .events = POLLIN },
			{ .fd = collector_fd(&s->collector), .events = POLLIN },
		};
		double now = monotonic_s();

		if (poll(ready, 2, wait_ms(s, now + 1, deadline)) < 0 && errno != EINTR)
			err = -errno;
		if (!err)
			err = collector_poll(&s->collector, 0);
		serve_run(server);
		if (!err)
			err = export_if_due(s);
		if (deadline && monotonic_s() >= deadline)
			break;
		if (all_pids_gone(&s->opts)) {
			say_pids_gone(&s->opts);
			break;
		}
	}
	serve_stop(server);
	return run_traced(err);
}
