/* pfwatch: entry point and the two run loops (monitor, run a command). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "aggregate.h"
#include "collect.h"
#include "export.h"
#include "loader.h"
#include "options.h"
#include "privileges.h"
#include "probe.h"
#include "proc_status.h"
#include "render_text.h"
#include "render_tui.h"
#include "report.h"
#include "run_command.h"
#include "serve.h"
#include "stacks.h"
#include "where.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum exit_code { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

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

static const struct run_result run_refused = { .outcome = RUN_REFUSED };

/* A loop's -errno, or 0 when it traced to the end. */
static struct run_result run_traced(int err)
{
	return (struct run_result){ .outcome = err ? RUN_FAILED : RUN_TRACED, .err = err };
}

/* The one piece of global state: which signal asked us to stop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int install_signal_handlers(void)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction action = { .sa_handler = on_stop_signal };

	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], &action, NULL))
			return -1;
	return 0;
}

static double monotonic_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

/* Alive: exists and is not a zombie waiting for its parent. */
static bool process_exists(pid_t pid)
{
	char path[32], stat[512], *paren;
	FILE *in;
	size_t got;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	in = fopen(path, "re");
	if (!in)
		return false;
	got = fread(stat, 1, sizeof(stat) - 1, in);
	fclose(in);
	stat[got] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static int check_pids(const struct options *opts)
{
	for (int i = 0; i < opts->nr_pids; i++) {
		if (!process_exists(opts->pids[i])) {
			fprintf(stderr, "pfwatch: no process with PID %d\n",
				opts->pids[i]);
			return -1;
		}
	}
	if (opts->tid && !process_exists(opts->tid)) {
		fprintf(stderr, "pfwatch: no thread with TID %d\n", opts->tid);
		return -1;
	}
	return 0;
}

/* A cgroup v2 directory's id is its inode number. */
static int cgroup_id_of(const char *path, unsigned long long *id)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) || stat(path, &st)) {
		fprintf(stderr, "pfwatch: --cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pfwatch: --cgroup %s: not a cgroup v2 directory (look under /sys/fs/cgroup)\n",
			path);
		return -1;
	}
	*id = st.st_ino;
	return 0;
}

/* Fail before tracing, not after, when the output cannot be written. */
static int check_output(const char *path)
{
	char *copy = strdup(path);
	struct stat st;
	int err = 0;

	if (!copy)
		return -1;
	if (faccessat(AT_FDCWD, dirname(copy), W_OK, AT_EACCESS))
		err = errno;
	else if (!stat(path, &st) && S_ISDIR(st.st_mode))
		err = EISDIR;
	free(copy);
	if (err)
		fprintf(stderr, "pfwatch: cannot write %s: %s\n", path, strerror(err));
	return err ? -1 : 0;
}

/* --user: the output is checked as the user who will write it. */
static int check_output_as(const char *path, const char *user, uid_t uid, gid_t gid)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	int err;

	if (!user)
		return check_output(path);
	if (setegid(gid) || seteuid(uid)) {
		fprintf(stderr, "pfwatch: --user %s: cannot switch to it: %s\n", user,
			strerror(errno));
		return -1;
	}
	err = check_output(path);
	if (seteuid(euid) || setegid(egid)) {
		fprintf(stderr, "pfwatch: --user %s: cannot switch back from it: %s\n",
			user, strerror(errno));
		return -1;
	}
	return err;
}

/* The live screen needs a person at a terminal and a periodic view. */
static bool wants_live_view(const struct options *opts)
{
	return !opts->plain_text && !opts->command && !opts->min_latency_given && !opts->serve &&
	       opts->interval_s > 0 && isatty(STDIN_FILENO) &&
	       isatty(STDOUT_FILENO);
}

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
	double poll_period_s;		/* the longest wait for events */
};

/* Once attached: only what reading and writing need from here on. */
static int drop_privileges(const struct session *s)
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

static bool all_pids_gone(const struct options *opts)
{
	if (!opts->nr_pids)
		return false;
	for (int i = 0; i < opts->nr_pids; i++)
		if (process_exists(opts->pids[i]))
			return false;
	return true;
}

/* What every output says about the run so far. */
static void describe_progress(struct session *s)
{
	clock_gettime(CLOCK_REALTIME, &s->run.end_time);
	s->run.elapsed_s = monotonic_s() - s->started;
	if (!tracer_read_diag(&s->tracer, s->run.diag, s->lost_per_cpu) &&
	    s->lost_per_cpu)
		s->run.lost_per_cpu = s->lost_per_cpu;
	s->run.streamed_faults = s->collector.streamed;
}

/* --export-interval: the file rewritten, whole, while tracing goes on. */
static int export_if_due(struct session *s)
{
	double now = monotonic_s();
	int err;

	if (!s->opts.export_interval_s || now < s->next_export)
		return 0;
	s->next_export = now + s->opts.export_interval_s;
	err = collector_sync(&s->collector);
	if (err)
		return err;
	describe_progress(s);
	return export_file(&s->target, &s->agg, &s->run) ? -EIO : 0;
}

/*
 * How long a loop may wait: until its next output or the deadline, but at
 * most one poll period, since events arrive without wakeups.
 */
static int wait_ms(const struct session *s, double next, double deadline)
{
	double now = monotonic_s(), wake = deadline && deadline < next ? deadline : next;

	if (wake > now + s->poll_period_s)
		wake = now + s->poll_period_s;
	return wake > now ? (int)((wake - now) * 1000) + 1 : 0;
}

static void say_pids_gone(const struct options *opts)
{
	fprintf(stderr, "pfwatch: the traced process%s exited\n",
		opts->nr_pids > 1 ? "es have" : " has");
}

static int print_table(struct session *s, double interval_s)
{
	int err = collector_sync(&s->collector);

	if (err)
		return err;
	render_interval(stdout, &s->agg, interval_s, s->opts.top);
	return aggregate_mark_shown(&s->agg);
}

/* System-wide or -p: tables every interval until stopped. */
static int monitor(struct session *s)
{
	double interval = s->opts.interval_s;
	double deadline = s->opts.duration_s ? s->started + s->opts.duration_s : 0;
	double next_table = s->started + (interval ? interval : 1);
	int err = 0;

	while (!stop_signal && !err) {
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
	while (!stop_signal && !err) {
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

static int monitor_terminal(struct session *s)
{
	const char *no_color = getenv("NO_COLOR");
	struct live_settings settings = {
		.color = !s->opts.no_color && !(no_color && *no_color),
		.pick = s->opts.nr_pids == 1 ? s->opts.pids[0] : 0,
		.interval_s = s->opts.interval_s,
		.backend = s->run.backend,
		.kernel = s->run.kernel,
		.where = s->run.where,
	};
	struct live_screen *screen = live_open(&settings, &s->agg);

	/* A terminal ncurses does not know still gets the text tables. */
	return screen ? monitor_live(s, screen) : monitor(s);
}

static int by_time_in_faults(const void *a, const void *b)
{
	__u64 x = stats_latency_sum(&(*(struct process_record *const *)a)->stats);
	__u64 y = stats_latency_sum(&(*(struct process_record *const *)b)->stats);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* --expose-cmdline: the live processes with the most time in faults. */
static void read_cmdlines(struct session *s)
{
	size_t nr_live = 0;
	struct process_record **live = calloc(s->agg.nr_records + 1, sizeof(*live));

	s->run.nr_cmdlines = 0;
	s->run.cmdlines = s->cmdlines;
	if (!live)
		return;	/* the scrape goes on without them */
	for (size_t i = 0; i < s->agg.nr_records; i++)
		if (!s->agg.records[i]->exited && s->agg.records[i]->tgid)
			live[nr_live++] = s->agg.records[i];
	qsort(live, nr_live, sizeof(*live), by_time_in_faults);
	for (size_t i = 0; i < nr_live && s->run.nr_cmdlines < CMDLINE_PROCESSES; i++) {
		struct process_cmdline *out = &s->cmdlines[s->run.nr_cmdlines];

		/* Gone, or a kernel thread (no command line): left out. */
		if (proc_cmdline_read((pid_t)live[i]->tgid, out->cmdline,
				      sizeof(out->cmdline)) || !out->cmdline[0])
			continue;
		out->pid = live[i]->tgid;
		memcpy(out->comm, live[i]->comm, COMM_LEN);
		s->run.nr_cmdlines++;
	}
	free(live);
}

/* A scrape's figures: the kernel's counters as of now. */
static int refresh_for_scrape(void *context)
{
	struct session *s = context;
	int err = collector_sync(&s->collector);

	describe_progress(s);
	if (s->opts.expose_cmdline)
		read_cmdlines(s);
	return err;
}

/* pfwatch serve: /metrics answered between event batches until stopped. */
static struct run_result serve_metrics(struct session *s)
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
	while (!stop_signal && !err) {
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

/* pfwatch -- CMD: trace until CMD exits, then attach the kernel's rusage. */
static struct run_result run_command(struct session *s)
{
	struct process_record *record;
	struct rusage usage;
	pid_t pid = command_start(s->opts.command);
	int err = 0;

	if (pid < 0)
		return run_refused;
	/* The command was forked with pfwatch's own privileges. */
	if (drop_privileges(s)) {
		kill(pid, SIGTERM);
		command_reap(pid, true, &s->run.exit_status, &usage);
		return run_refused;
	}
	while (!command_reap(pid, false, &s->run.exit_status, &usage)) {
		/* Ctrl-C reaches the command itself; SIGTERM is passed on. */
		if (stop_signal == SIGTERM || stop_signal == SIGHUP) {
			kill(pid, stop_signal);
			stop_signal = 0;
		}
		err = collector_poll(&s->collector, wait_ms(s, monotonic_s() + 1, 0));
		if (!err)
			err = export_if_due(s);
		if (err) {
			kill(pid, SIGTERM);
			command_reap(pid, true, &s->run.exit_status, &usage);
			return run_traced(err);
		}
	}
	err = collector_sync(&s->collector);
	record = aggregate_find(&s->agg, (__u32)pid);
	if (record) {
		record->has_rusage = true;
		record->rusage_minflt = (__u64)usage.ru_minflt;
		record->rusage_majflt = (__u64)usage.ru_majflt;
	}
	return run_traced(err);
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
	int err = collector_sync(&s->collector);

	describe_progress(s);
	if (err)
		fprintf(stderr, "pfwatch: cannot read the final counters: %s\n",
			strerror(-err));
	render_summary(s->opts.command ? stderr : stdout, &s->agg, &s->run,
		       s->opts.top);
	if (s->run.where)
		render_where(s->opts.command ? stderr : stdout, s->run.where, s->opts.top);
	if (s->run.stacks)
		render_stacks(s->opts.command ? stderr : stdout, s->run.stacks, s->opts.top);
	if (s->opts.output_path && export_file(&s->target, &s->agg, &s->run))
		return -1;
	return err ? -1 : 0;
}

static int prepare(struct session *s, struct tracer_config *config)
{
	if (check_pids(&s->opts))
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
	s->run.command = s->opts.command;
	clock_gettime(CLOCK_REALTIME, &s->run.start_time);
	s->started = monotonic_s();
	s->next_export = s->started + s->opts.export_interval_s;
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
		s->collector.stacks = &s->stacks;
		s->run.stacks = &s->stacks;
	}
	return 0;
}

static void close_tables(struct session *s)
{
	if (s->run.where)
		where_free(&s->where);
	if (s->run.stacks)
		stacks_free(&s->stacks);
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
	if (open_tables(&s)) {
		fputs("pfwatch: out of memory for --where's or --stacks' tables\n", stderr);
		close_tables(&s);
		collector_free(&s.collector);
		tracer_stop(&s.tracer);
		return EXIT_RUNTIME;
	}
	describe_run(&s);
	if (s.opts.min_latency_given) {
		s.collector.stream_out = stdout;
		s.collector.stream_min_ns = (__u64)(s.opts.min_latency_us * 1000);
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
