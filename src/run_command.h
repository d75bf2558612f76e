/* pfwatch -- CMD: starting the command and collecting its exit. */
#ifndef PFWATCH_RUN_COMMAND_H
#define PFWATCH_RUN_COMMAND_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * The command's descendants orphaned by their parent's exit: pfwatch is
 * their subreaper, so they are its children, and their rusage, which no
 * wait4() of the command can see, is summed here as they are reaped.
 */
struct orphans {
	unsigned long long reaped;
	unsigned long long minflt, majflt;
	bool running;		/* some still ran when pfwatch stopped waiting */
};

/*
 * Forks and execs @argv, pfwatch becoming the subreaper of what it
 * starts. The kernel side follows pfwatch's children, so the command is
 * traced from its first instruction. Returns the pid, or -1 after
 * printing why the command could not be run.
 */
pid_t command_start(char **argv);
/*
 * Reaps the command if it has exited: true with its shell-style status
 * (code, or 128 + signal) and its rusage, false while it still runs.
 */
bool command_reap(pid_t pid, bool block, int *status, struct rusage *usage);
/*
 * Reaps the orphans that have exited, never the command @pid (while it
 * is unreaped). Sets @orphans->running while any child is left.
 */
void orphans_reap(pid_t pid, struct orphans *orphans);

#endif
