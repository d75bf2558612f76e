/* System-wide or -p: the periodic text tables, or the live view. */
#ifndef PFWATCH_MONITOR_H
#define PFWATCH_MONITOR_H

#include <stdbool.h>
#include "session.h"

/* The live screen needs a person at a terminal and a periodic view. */
bool wants_live_view(const struct options *opts);
/* Tables every interval (none with -i 0) until stopped; 0, or -errno. */
int monitor(struct session *s);
/* The live view until q, or monitor()'s tables where ncurses cannot draw. */
int monitor_terminal(struct session *s);

#endif
