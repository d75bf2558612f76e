/* pfwatch -- CMD: the loop that traces a command to its end. */
#ifndef PFWATCH_COMMAND_LOOP_H
#define PFWATCH_COMMAND_LOOP_H

#include "session.h"

/*
 * Starts the command, drops privileges, traces until it exits, then
 * attaches the kernel's rusage to its record; refused when the command
 * cannot start or privileges cannot be dropped.
 */
struct run_result run_command(struct session *s);

#endif
