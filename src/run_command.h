/* pfwatch -- CMD: starting the command and collecting its exit. */
#ifndef PFWATCH_RUN_COMMAND_H
#define PFWATCH_RUN_COMMAND_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * Forks and execs @argv. The kernel side follows pfwatch's children, so
 * the command is traced from its first instruction. Returns the pid, or
 * -1 after printing why the command could not be run.
 */
pid_t command_start(char **argv);
/*
 * Reaps the command if it has exited: true with its shell-style status
 * (code, or 128 + signal) and its rusage, false while it still runs.
 */
bool command_reap(pid_t pid, bool block, int *status, struct rusage *usage);

#endif
