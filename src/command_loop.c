/* pfwatch -- CMD's loop: trace until the command exits. */
#include <signal.h>
#include "command_loop.h"
#include "run_command.h"

/* pfwatch -- CMD: trace until CMD exits, then attach the kernel's rusage. */
struct run_result run_command(struct session *s)
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
		int stop = stop_requested();

		/* Ctrl-C reaches the command itself; SIGTERM is passed on. */
		if (stop == SIGTERM || stop == SIGHUP) {
			kill(pid, stop);
			stop_passed_on();
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
