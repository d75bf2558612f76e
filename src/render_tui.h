/*
 * The live screen: a full-screen top for page faults, drawn with ncurses.
 * The layouts come from text_layout; this room owns the terminal, the keys
 * and what the person asked to see.
 */
#ifndef PFWATCH_RENDER_TUI_H
#define PFWATCH_RENDER_TUI_H

#include <stdbool.h>
#include <sys/types.h>
#include "aggregate.h"
#include "view.h"

struct where_table;

struct live_settings {
	bool color;		/* off with NO_COLOR or --no-color */
	pid_t pick;		/* -p PID: open on this process, 0: the system */
	double interval_s;	/* between views, for the sparkline's minute */
	const char *backend;
	const char *kernel;
	const struct where_table *where;	/* --where: the w pane's data */
	const struct cgroup_names *cgroup_names;	/* the g table's, or NULL */
	enum row_group group;	/* --group: the table's rows at the start */
};

/* What changes between draws without a new view. */
struct live_status {
	double uptime_s;
	__u64 lost;		/* events the ring buffer had no room for */
};

enum live_action { LIVE_NOTHING, LIVE_REDRAW, LIVE_QUIT };

struct live_screen;

/* Takes over the terminal; NULL after one line on stderr saying why. */
struct live_screen *live_open(const struct live_settings *settings,
			      const struct aggregate *agg);
/* Gives the terminal back as it was. */
void live_close(struct live_screen *screen);

/* Space pauses the view: the caller then keeps counting, not viewing. */
bool live_paused(const struct live_screen *screen);
/*
 * A new view: rates since the last one. The screen keeps @threads (a
 * snapshot sorted by TID, NULL when not available) for the next view's
 * per-thread rates, and frees it. -ENOMEM on failure.
 */
int live_update(struct live_screen *screen, double interval_s,
		struct thread_stats *threads, size_t nr_threads);
void live_draw(struct live_screen *screen, const struct live_status *status);
/* Handles every key waiting on stdin. */
enum live_action live_keys(struct live_screen *screen);

#endif
