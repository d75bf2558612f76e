/* pfwatch -- CMD's loop: trace until the command exits. */
#include <signal.h>
#include "command_loop.h"
#include "run_command.h"

/* How long orphans that are still running may finish after the command:
 * a command that kills its helpers as it exits leaves them dying. */
#define ORPHANS_WAIT_S 0.5

/* After the command: its orphans' last faults, and their rusage. */
static int wait_for_orphans(struct session *s, pid_t pid, struct orphans *orphans)
{
	double until = monotonic_s() + ORPHANS_WAIT_S;
	int err = 0;

	orphans_reap(pid, orphans);
	while (!err && orphans->running && monotonic_s() < until && !stop_requested()) {
		err = collector_poll(&s->collector, wait_ms(s, monotonic_s() + 0.05, until));
		orphans_reap(pid, orphans);
	}
	return err;
}

/* pfwatch -- CMD: trace until CMD exits, then attach the kernel's rusage. */
struct run_result run_command(struct session *s)
{
	struct process_record *record;
	struct orphans orphans = { 0 };
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
		int stop = stop_requested();

		/* Ctrl-C reaches the command itself; SIGTERM is passed on. */
		if (stop == SIGTERM || stop == SIGHUP) {
			kill(pid, stop);
			stop_passed_on();
		}
		orphans_reap(pid, &orphans);
		err = collector_poll(&s->collector, wait_ms(s, monotonic_s() + 1, 0));
		if (!err)
			err = export_if_due(s);
		if (err) {
			kill(pid, SIGTERM);
			command_reap(pid, true, &s->run.exit_status, &usage);
			return run_traced(err);
		}
	}
	err = wait_for_orphans(s, pid, &orphans);
	if (!err)
		err = collector_sync(&s->collector);
	record = aggregate_find(&s->agg, (__u32)pid);
	if (record) {
		record->has_rusage = true;
		record->rusage_minflt = (__u64)usage.ru_minflt + orphans.minflt;
		record->rusage_majflt = (__u64)usage.ru_majflt + orphans.majflt;
		record->rusage_orphans = orphans.reaped;
		record->rusage_orphans_running = orphans.running;
	}
	return run_traced(err);
}
