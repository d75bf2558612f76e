/* pfwatch serve: the loop that traces and answers /metrics. */
#ifndef PFWATCH_SERVE_LOOP_H
#define PFWATCH_SERVE_LOOP_H

#include "session.h"

/*
 * Listens, drops privileges, then traces and answers scrapes until
 * stopped; refused when it cannot listen or drop privileges.
 */
struct run_result serve_metrics(struct session *s);

#endif
