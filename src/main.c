/*
 * pfwatch: the entry point. Sets the session up, hands it to the run loop
 * the options chose (monitor.c, serve_loop.c, command_loop.c) and
 * prints the summary when it ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "command_loop.h"
#include "monitor.h"
#include "preflight.h"
#include "privileges.h"
#include "render_text.h"
#include "report.h"
#include "serve_loop.h"
#include "session.h"

enum exit_code { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* At the end, debug files still on their way are waited for this long. */
#define DEBUG_SETTLE_MS 5000

/* --min-latency's sink: one line per fault on @out. */
static void print_fault(const struct streamed_fault *fault, void *out)
{
	render_fault_record(out, fault->record, fault->wait_ns, fault->comm,
			    fault->mapping, fault->function, fault->source);
}

static void flush_faults(void *out)
{
	fflush(out);
}

/* The run as the options chose it. */
static struct run_result run(struct session *s)
{
	if (s->opts.command)
		return run_command(s);
	if (s->opts.serve)
		return serve_metrics(s);
	if (drop_privileges(s))
		return run_refused;
	if (wants_live_view(&s->opts))
		return run_traced(monitor_terminal(s));
	return run_traced(monitor(s));
}

static int finish(struct session *s)
{
	int err = collector_sync_last(&s->collector);

	describe_progress(s);
	if (err)
		fprintf(stderr, "pfwatch: cannot read the final counters: %s\n",
			strerror(-err));
	if (s->run.where)
		where_settle(&s->where, &s->collector.symbols, DEBUG_SETTLE_MS);
	if (timeline_catch_up(s)) {
		fputs("pfwatch: out of memory for the timeline's last interval\n", stderr);
		s->run.timeline = NULL;	/* the file without it, rather than none */
	}
	render_summary(s->opts.command ? stderr : stdout, &s->agg, &s->run,
		       s->opts.top, s->opts.group);
	if (s->run.where)
		render_where(s->opts.command ? stderr : stdout, s->run.where, s->opts.top);
	if (s->run.stacks)
		render_stacks(s->opts.command ? stderr : stdout, s->run.stacks, s->opts.top);
	if (s->opts.output_path && export_file(&s->target, &s->agg, &s->run))
		return -1;
	return err ? -1 : 0;
}

/* PFWATCH_TIMELINE_MAX_INTERVALS: a lower bound, to see merges sooner. */
static int timeline_bound(struct session *s)
{
	const char *text = getenv("PFWATCH_TIMELINE_MAX_INTERVALS");
	char *end;
	long bound;

	s->timeline_max_intervals = TIMELINE_MAX_INTERVALS;
	if (!text || !*text)
		return 0;
	errno = 0;
	bound = strtol(text, &end, 10);
	if (errno || *end || bound < 2 || bound > TIMELINE_MAX_INTERVALS) {
		fprintf(stderr, "pfwatch: PFWATCH_TIMELINE_MAX_INTERVALS='%s' is not 2 to %d\n",
			text, TIMELINE_MAX_INTERVALS);
		return -1;
	}
	s->timeline_max_intervals = (size_t)bound;
	return 0;
}

/* Which hierarchy the kernel side's cgroup ids come from. */
static void find_cgroups(struct session *s, struct tracer_config *config)
{
	FILE *mountinfo = fopen("/proc/self/mountinfo", "re");

	s->cgroups_mounted = mountinfo && !cgroup_hierarchy_find(mountinfo, &s->cgroups);
	if (mountinfo)
		fclose(mountinfo);
	config->memcg_v1_ids = s->cgroups_mounted && !s->cgroups.v2;
	if (s->opts.verbose)
		fprintf(stderr, "pfwatch: cgroups named from %s (%s)\n",
			s->cgroups_mounted ? s->cgroups.mount : "nowhere: none is mounted",
			!s->cgroups_mounted ? "-" : s->cgroups.v2 ? "v2" : "v1 memory");
}

static int prepare(struct session *s, struct tracer_config *config)
{
	if (check_pids(&s->opts) || timeline_bound(s))
		return -1;
	if (s->opts.user &&
	    privileges_find_user(s->opts.user, &s->user_uid, &s->user_gid))
		return -1;
	if (s->opts.output_path &&
	    check_output_as(s->opts.output_path, s->opts.user, s->user_uid, s->user_gid))
		return -1;
	s->target = export_target_for(s->opts.output_path ? s->opts.output_path : "",
				      s->opts.output_format);
	if (s->opts.cgroup_path &&
	    cgroup_id_of(s->opts.cgroup_path, &config->cgroup_id))
		return -1;
	if (install_signal_handlers()) {
		fprintf(stderr, "pfwatch: cannot install signal handlers: %s\n",
			strerror(errno));
		return -1;
	}
	if (probe_kernel(&s->features))
		return -1;
	find_cgroups(s, config);
	config->backend = s->opts.backend;
	config->pids = s->opts.pids;
	config->nr_pids = s->opts.nr_pids;
	config->follow_launcher = s->opts.command != NULL;
	config->tid = s->opts.tid;
	config->comm = s->opts.comm;
	config->verbose = s->opts.verbose;
	/* --where needs every fault; --min-latency's filter is then ours. */
	config->stream_records = s->opts.min_latency_given || s->opts.where;
	config->thread_counts = wants_live_view(&s->opts);
	config->stream_min_latency_ns = s->opts.where ? 0 :
		(unsigned long long)(s->opts.min_latency_us * 1000);
	config->stack_every = s->opts.stack_every;
	config->stack_majors = s->opts.stack_majors;
	return 0;
}

static void describe_run(struct session *s)
{
	int nr_cpus = libbpf_num_possible_cpus();

	/* Without it the outputs give lost events as a total only. */
	if (nr_cpus > 0 && (s->lost_per_cpu = calloc((size_t)nr_cpus, sizeof(__u64))))
		s->run.nr_cpus = (unsigned)nr_cpus;
	s->run.backend = backend_name(s->tracer.backend);
	s->run.entry_hook = s->tracer.entry_hook;
	snprintf(s->run.kernel, sizeof(s->run.kernel), "%s", s->features.release);
	blind_spots(s->tracer.backend, &s->features, &s->run.unseparated_classes,
		    &s->run.unmeasured_causes);
	s->run.cgroups = &s->collector.cgroups;
	s->collector.cgroup_hierarchy = s->cgroups_mounted ? &s->cgroups : NULL;
	s->run.cgroup_names = &s->collector.cgroup_names;
	s->run.command = s->opts.command;
	clock_gettime(CLOCK_REALTIME, &s->run.start_time);
	s->started = monotonic_s();
	s->next_export = s->started + s->opts.export_interval_s;
	s->next_sample = s->started + s->opts.timeline_interval_s;
	/* Faults are placed through /proc/PID/maps: read them before the
	 * process unmaps or exits. */
	s->poll_period_s = s->opts.where || s->opts.stack_every || s->opts.stack_majors
			   ? 0.02 : 0.1;
	if (s->opts.verbose)
		fprintf(stderr, "pfwatch: backend %s, entry %s/page_fault_user, kernel %s\n",
			s->run.backend, s->run.entry_hook, s->run.kernel);
}

/* --where's and --stacks' tables, fed by the collector. */
static int open_tables(struct session *s)
{
	if (s->opts.where) {
		if (where_init(&s->where))
			return -1;
		s->collector.where = &s->where;
		s->run.where = &s->where;
	}
	if (s->opts.stack_every || s->opts.stack_majors) {
		if (stacks_init(&s->stacks))
			return -1;
		/* pprof's locations have lines: its frames need them. */
		s->stacks.source_lines = s->opts.source_lines || (s->opts.output_path &&
			export_target_for(s->opts.output_path, s->opts.output_format).format
			== FORMAT_PPROF);
		s->collector.stacks = &s->stacks;
		s->run.stacks = &s->stacks;
	}
	/* Every run that writes a file keeps its timeline. */
	if (s->opts.output_path) {
		if (timeline_init(&s->timeline, s->opts.timeline_interval_s,
				  s->timeline_max_intervals))
			return -1;
		s->run.timeline = &s->timeline;
	}
	return 0;
}

static void close_tables(struct session *s)
{
	if (s->run.where)
		where_free(&s->where);
	if (s->run.stacks)
		stacks_free(&s->stacks);
	timeline_free(&s->timeline);
}

int main(int argc, char **argv)
{
	static struct session s;	/* large: keep it off the stack */
	struct tracer_config config = { 0 };
	struct run_result result;
	int err, status;

	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	switch (options_parse(&s.opts, argc, argv)) {
	case OPTIONS_DONE:
		return EXIT_OK;
	case OPTIONS_BAD:
		return EXIT_USAGE;
	case OPTIONS_RUN:
		break;
	}
	if (prepare(&s, &config) || tracer_start(&s.tracer, &config, &s.features))
		return EXIT_USAGE;
	aggregate_init(&s.agg);
	err = collector_init(&s.collector, &s.tracer, &s.agg);
	if (err) {
		fprintf(stderr, "pfwatch: cannot open the event ring buffer: %s\n",
			strerror(-err));
		tracer_stop(&s.tracer);
		return EXIT_RUNTIME;
	}
	if (s.opts.debug_dir && symbolizer_set_debug_dir(&s.collector.symbols, s.opts.debug_dir))
		err = -ENOMEM;
	if (err || open_tables(&s)) {
		fputs("pfwatch: out of memory for --where's, --stacks' or the timeline's tables\n", stderr);
		close_tables(&s);
		collector_free(&s.collector);
		tracer_stop(&s.tracer);
		return EXIT_RUNTIME;
	}
	describe_run(&s);
	if (s.opts.min_latency_given) {
		s.collector.sink = (struct fault_sink){
			.on_fault = print_fault, .flush = flush_faults, .context = stdout,
			.min_latency_ns = (__u64)(s.opts.min_latency_us * 1000),
		};
		render_fault_header(stdout);
		fflush(stdout);	/* before the command's own output */
	}
	result = run(&s);
	if (result.outcome == RUN_REFUSED) {
		status = EXIT_USAGE;
	} else {
		if (result.outcome == RUN_FAILED)
			fprintf(stderr, "pfwatch: tracing failed: %s\n", strerror(-result.err));
		status = finish(&s) || result.outcome == RUN_FAILED ? EXIT_RUNTIME : EXIT_OK;
		if (s.opts.command && status == EXIT_OK)
			status = s.run.exit_status;
	}
	collector_free(&s.collector);
	tracer_stop(&s.tracer);
	aggregate_free(&s.agg);
	close_tables(&s);
	free(s.lost_per_cpu);
	return status;
}
