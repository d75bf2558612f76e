/* The live screen: header, process table, detail pane, keys. */
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "hist.h"
#include "proc_status.h"
#include "render_text.h"
#include "render_tui.h"
#include "text_layout.h"
#include "where.h"
#include "view.h"

#define HEADER_LINES 4		/* run, rates, sparkline, status */
#define MIN_TABLE_ROWS 3
#define MIN_LINES (HEADER_LINES + 1 + MIN_TABLE_ROWS + 4)
#define MIN_COLS 50
#define SPARK_SAMPLES 120	/* a minute at the shortest useful interval */
#define MAX_USERS 64
#define TREE_DEPTH 64		/* ancestors walked to find a tree's root */
#define ESC_KEY 27

enum color_pair { PAIR_WARN = 1, PAIR_MINOR, PAIR_MAJOR };

struct user_name {
	uid_t uid;
	char name[16];
};

/* One view's rows: processes, or threads (H). */
struct row_set {
	struct view_row *views;
	struct layout_row *rows;	/* point into views; sorted at each draw */
	pid_t *ppids;		/* by view: the parent of the row's process */
	size_t nr;
};

struct live_screen {
	SCREEN *terminal;
	const struct aggregate *agg;
	struct live_settings settings;
	char host[65];
	bool color;
	struct fault_stats *totals;	/* scratch for the system's pane */

	/* The last view, and the thread snapshot it was taken from. */
	struct row_set processes, threads, cgroups;
	struct cgroup_row *cgroup_views;	/* the cgroups set's views */
	struct thread_stats *thread_snapshot;	/* NULL: not available */
	size_t nr_thread_snapshot;
	struct kind_rates rates;	/* all processes, last view */
	double fault_ms_per_s;
	double spark[SPARK_SAMPLES];	/* faults/s per view, oldest first;
					 * none before the first view */
	size_t nr_spark;

	/* What the rows on screen were at the last draw, for the cursor. */
	struct layout_row **visible;
	size_t nr_visible;
	size_t cursor;
	__u32 cursor_id;	/* layout_row_id() of the row under the cursor */

	/* What the person asked for. */
	enum layout_column sort;
	char filter[COMM_LEN];
	pid_t picked;
	bool follow, paused, show_pane, help;
	bool where_pane;	/* w: mappings and files instead of latency */
	bool thread_rows;
	enum row_group group;	/* g: a row per process or per cgroup */
	bool prompting;
	char prompt[COMM_LEN];
	char message[96];

	struct user_name users[MAX_USERS];
	size_t nr_users;
};

static void free_rows(struct row_set *set)
{
	free(set->views);
	free(set->rows);
	free(set->ppids);
	memset(set, 0, sizeof(*set));
}

static void free_view(struct live_screen *screen)
{
	free_rows(&screen->processes);
	free_rows(&screen->threads);
	free_rows(&screen->cgroups);
	free(screen->cgroup_views);
	screen->cgroup_views = NULL;
	free(screen->visible);
	screen->visible = NULL;
	screen->nr_visible = 0;
}

static bool cgroup_rows(const struct live_screen *screen)
{
	return screen->group == GROUP_CGROUP;
}

/* The rows on screen: cgroups after g, threads after H, else processes. */
static struct row_set *shown_rows(struct live_screen *screen)
{
	if (cgroup_rows(screen))
		return &screen->cgroups;
	return screen->thread_rows ? &screen->threads : &screen->processes;
}

static void start_colors(struct live_screen *screen)
{
	if (!screen->settings.color || !has_colors() || start_color() == ERR)
		return;
	use_default_colors();	/* keep the person's background */
	screen->color = init_pair(PAIR_WARN, COLOR_RED, -1) == OK &&
			init_pair(PAIR_MINOR, COLOR_GREEN, -1) == OK &&
			init_pair(PAIR_MAJOR, COLOR_YELLOW, -1) == OK;
}

/* A terminal ncurses can draw on: known, and able to move the cursor. */
static SCREEN *open_terminal(void)
{
	const char *term = getenv("TERM");
	SCREEN *terminal = newterm(NULL, stdout, stdin);
	char *cursor_move;

	if (!terminal) {
		fprintf(stderr, "pfwatch: TERM=%s is not a terminal ncurses knows; plain text follows (--batch asks for it)\n",
			term ? term : "(unset)");
		return NULL;
	}
	cursor_move = tigetstr("cup");
	if (!cursor_move || cursor_move == (char *)-1) {
		endwin();
		delscreen(terminal);
		fprintf(stderr, "pfwatch: TERM=%s cannot move the cursor; plain text follows (--batch asks for it)\n",
			term ? term : "(unset)");
		return NULL;
	}
	return terminal;
}

struct live_screen *live_open(const struct live_settings *settings,
			      const struct aggregate *agg)
{
	struct live_screen *screen = calloc(1, sizeof(*screen));
	struct utsname names;

	if (!screen || !(screen->totals = malloc(sizeof(*screen->totals)))) {
		fprintf(stderr, "pfwatch: out of memory for the live screen\n");
		free(screen);
		return NULL;
	}
	screen->terminal = open_terminal();
	if (!screen->terminal) {
		free(screen->totals);
		free(screen);
		return NULL;
	}
	screen->agg = agg;
	screen->settings = *settings;
	screen->sort = COL_FAULT_MS;
	screen->group = settings->group;
	screen->picked = settings->pick;
	screen->cursor_id = (__u32)settings->pick;
	screen->show_pane = settings->pick != 0;
	if (uname(&names))
		strcpy(screen->host, "?");
	else
		snprintf(screen->host, sizeof(screen->host), "%s", names.nodename);
	/* Every call below only tunes the screen: a failure leaves it usable. */
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	start_colors(screen);
	return screen;
}

void live_close(struct live_screen *screen)
{
	if (!screen)
		return;
	endwin();
	delscreen(screen->terminal);
	free_view(screen);
	free(screen->thread_snapshot);
	free(screen->totals);
	free(screen);
}

bool live_paused(const struct live_screen *screen)
{
	return screen->paused;
}

static const char *user_of(struct live_screen *screen, uid_t uid)
{
	struct passwd entry, *found = NULL;
	char buf[1024];
	struct user_name *user;

	for (size_t i = 0; i < screen->nr_users; i++)
		if (screen->users[i].uid == uid)
			return screen->users[i].name;
	/* A full cache starts over: names are cheap to look up again. */
	if (screen->nr_users == MAX_USERS)
		screen->nr_users = 0;
	user = &screen->users[screen->nr_users++];
	user->uid = uid;
	if (getpwuid_r(uid, &entry, buf, sizeof(buf), &found) || !found)
		snprintf(user->name, sizeof(user->name), "%u", (unsigned)uid);
	else
		snprintf(user->name, sizeof(user->name), "%s", found->pw_name);
	return user->name;
}

/* Rows for the set's views, with each row's owner and size from /proc. */
static int fill_rows(struct live_screen *screen, struct row_set *set, size_t n)
{
	const struct view_row *views = set->views;

	set->rows = calloc(n ? n : 1, sizeof(*set->rows));
	set->ppids = calloc(n ? n : 1, sizeof(*set->ppids));
	if (!views || !set->rows || !set->ppids)
		return -ENOMEM;
	set->nr = n;
	for (size_t i = 0; i < n; i++) {
		struct layout_row *row = &set->rows[i];
		struct proc_status status;

		row->view = &views[i];
		row->p50_ns = hist_percentile(views[i].hist, 0.50);
		row->p99_ns = hist_percentile(views[i].hist, 0.99);
		if (proc_status_read((pid_t)layout_row_id(row), &status)) {
			strcpy(row->user, "-");	/* exited during the interval */
			continue;
		}
		snprintf(row->user, sizeof(row->user), "%s",
			 user_of(screen, status.uid));
		row->rss_kib = status.rss_kib;
		set->ppids[i] = status.ppid;
	}
	return 0;
}

/* Rows for the cgroups of the process views: nothing to read from /proc. */
static int fill_cgroup_rows(struct live_screen *screen)
{
	struct row_set *set = &screen->cgroups;
	size_t n;

	screen->cgroup_views = view_cgroup_rows(screen->processes.views, screen->processes.nr,
						screen->settings.cgroup_names, &n);
	set->rows = calloc(n ? n : 1, sizeof(*set->rows));
	if (!screen->cgroup_views || !set->rows)
		return -ENOMEM;
	set->nr = n;
	for (size_t i = 0; i < n; i++) {
		struct layout_row *row = &set->rows[i];

		row->view = &screen->cgroup_views[i].view;
		row->p50_ns = hist_percentile(row->view->hist, 0.50);
		row->p99_ns = hist_percentile(row->view->hist, 0.99);
		strcpy(row->user, "-");
	}
	return 0;
}

int live_update(struct live_screen *screen, double interval_s,
		struct thread_stats *threads, size_t nr_threads)
{
	struct view_row *views, *thread_views = NULL;
	size_t n, nr_thread_views = 0, most;
	int err;

	free_view(screen);
	views = view_rows(screen->agg, interval_s, &n);
	if (threads)
		thread_views = view_thread_rows(threads, nr_threads,
						screen->thread_snapshot,
						screen->nr_thread_snapshot,
						interval_s, &nr_thread_views);
	free(screen->thread_snapshot);
	screen->thread_snapshot = threads;
	screen->nr_thread_snapshot = nr_threads;
	/* The sets own the views from here: free_view frees them. */
	screen->processes.views = views;
	screen->threads.views = thread_views;
	err = fill_rows(screen, &screen->processes, n);
	if (!err)
		err = fill_cgroup_rows(screen);
	if (!err && threads)
		err = fill_rows(screen, &screen->threads, nr_thread_views);
	most = n > nr_thread_views ? n : nr_thread_views;
	screen->visible = calloc(most ? most : 1, sizeof(*screen->visible));
	if (err || !screen->visible) {
		free_view(screen);
		return -ENOMEM;
	}
	view_totals(views, n, &screen->rates, &screen->fault_ms_per_s);
	if (screen->nr_spark == SPARK_SAMPLES) {
		memmove(screen->spark, screen->spark + 1,
			(SPARK_SAMPLES - 1) * sizeof(screen->spark[0]));
		screen->nr_spark--;
	}
	screen->spark[screen->nr_spark++] = kind_rates_total(&screen->rates);
	return 0;
}

/* The parent of @pid: from the view if it is there, else from /proc. */
static pid_t parent_of(const struct live_screen *screen, pid_t pid)
{
	struct proc_status status;

	const struct row_set *set = &screen->processes;

	for (size_t i = 0; i < set->nr; i++)
		if ((pid_t)set->views[i].tgid == pid)
			return set->ppids[i];
	return proc_status_read(pid, &status) ? 0 : status.ppid;
}

static bool in_picked_tree(const struct live_screen *screen,
			   const struct layout_row *row)
{
	pid_t pid = (pid_t)row->view->tgid;

	for (int depth = 0; pid > 1 && depth < TREE_DEPTH; depth++) {
		if (pid == screen->picked)
			return true;
		pid = parent_of(screen, pid);
	}
	return pid == screen->picked;
}

static bool row_wanted(const struct live_screen *screen,
		       const struct layout_row *row)
{
	if (screen->filter[0] && !strstr(row->view->comm, screen->filter))
		return false;
	/* A cgroup row is no process of the picked tree. */
	return !screen->follow || cgroup_rows(screen) || in_picked_tree(screen, row);
}

/* Text at (y, x), cut at the screen's edge. */
static void draw_clipped(int y, int x, const char *text, attr_t attrs)
{
	if (x >= COLS)
		return;
	attron(attrs);
	mvaddnstr(y, x, text, COLS - x);
	attroff(attrs);
}

static attr_t pair_attr(const struct live_screen *screen, enum color_pair pair)
{
	return screen->color ? COLOR_PAIR(pair) : A_NORMAL;
}

static void draw_header(struct live_screen *screen,
			const struct live_status *status)
{
	char line[256], a[16], b[16], c[16], spark[SPARK_SAMPLES + 1];
	long up = lround(status->uptime_s);
	size_t minute = (size_t)ceil(60 / screen->settings.interval_s);
	size_t width, from;
	double peak = 0;
	int x;

	snprintf(line, sizeof(line), "pfwatch %s  host %s  kernel %s  backend %s  up %ld:%02ld:%02ld",
		 PFWATCH_VERSION, screen->host, screen->settings.kernel,
		 screen->settings.backend, up / 3600, up / 60 % 60, up % 60);
	draw_clipped(0, 0, line, A_BOLD);
	if (screen->paused)
		draw_clipped(0, COLS - 8, " PAUSED ", A_REVERSE);

	layout_format_count(a, sizeof(a), screen->rates.per_s[KIND_MINOR]);
	layout_format_count(b, sizeof(b), screen->rates.per_s[KIND_MAJOR]);
	layout_format_count(c, sizeof(c), screen->rates.per_s[KIND_INVALID]);
	x = snprintf(line, sizeof(line), "faults/s  minor %s  major %s  invalid %s  |  in faults %.2f ms/s",
		     a, b, c, screen->fault_ms_per_s);
	draw_clipped(1, 0, line, A_NORMAL);
	if (status->lost) {
		snprintf(line, sizeof(line), "  LOST %llu events",
			 (unsigned long long)status->lost);
		draw_clipped(1, x, line, A_BOLD | pair_attr(screen, PAIR_WARN));
	}

	width = (size_t)(COLS > 20 ? COLS - 20 : 1);
	if (minute > SPARK_SAMPLES)
		minute = SPARK_SAMPLES;
	if (width > minute)
		width = minute;
	from = screen->nr_spark > width ? screen->nr_spark - width : 0;
	for (size_t i = from; i < screen->nr_spark; i++)
		if (screen->spark[i] > peak)
			peak = screen->spark[i];
	layout_sparkline(screen->spark + from, screen->nr_spark - from, spark,
		      sizeof(spark));
	layout_format_count(a, sizeof(a), peak);
	snprintf(line, sizeof(line), "%.0fs |%-*s| peak %s/s",
		 width * screen->settings.interval_s, (int)width, spark, a);
	draw_clipped(2, 0, line, A_NORMAL);
}

/* The keys hint at the status line's end, shorter where the status is
 * long: it never covers the status. */
static void draw_keys_hint(int status_width)
{
	static const char *const hints[] = {
		"  g cgroups  ? keys  q quit", "  ? keys  q quit",
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		int width = (int)strlen(hints[i]);

		if (status_width <= COLS - width) {
			draw_clipped(3, COLS - width, hints[i], A_NORMAL);
			return;
		}
	}
}

static void draw_status(struct live_screen *screen)
{
	char line[256], title[128];
	int start, width, at;

	if (screen->prompting) {
		snprintf(line, sizeof(line), "filter by command name (Enter applies, Esc cancels): %s",
			 screen->prompt);
		draw_clipped(3, 0, line, A_BOLD);
		curs_set(1);
		return;
	}
	curs_set(0);
	if (screen->message[0]) {
		draw_clipped(3, 0, screen->message, A_BOLD);
		return;
	}
	if (cgroup_rows(screen))
		layout_cgroup_title_line(title, sizeof(title));
	else
		layout_title_line(title, sizeof(title), screen->thread_rows);
	layout_column_span(screen->sort, &start, &width);
	while (title[start] == ' ' && width > 0) {
		start++;
		width--;
	}
	at = snprintf(line, sizeof(line), "sort %.*s%s", width, title + start,
		      cgroup_rows(screen) ? "  rows per cgroup" : "");
	if (screen->filter[0])
		at += snprintf(line + at, sizeof(line) - (size_t)at,
			       "  filter '%s'", screen->filter);
	if (screen->picked)
		at += snprintf(line + at, sizeof(line) - (size_t)at,
			       "  picked %d%s", (int)screen->picked,
			       screen->follow ? " and its children" : "");
	draw_clipped(3, 0, line, A_NORMAL);
	draw_keys_hint(at);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"Keys",
		"  N J I 5 9 T R W      sort by MINOR/s MAJOR/s INVAL/s P50 P99",
		"  P U C                FLTms/s RSS CAUSE (share waiting) PID USER COMM",
		"  < >                  sort by the column left or right",
		"  Up Down PgUp PgDn    move the cursor",
		"  p                    pick the process under the cursor (again: unpick)",
		"  H                    one row per thread (TID, thread name) or per process",
		"  g                    one row per cgroup (container, service) or per process",
		"  f                    only the picked process and its children",
		"  /                    filter by command name (empty: no filter)",
		"  h                    latency histogram pane (picked process or all)",
		"  w                    where pane: mappings and files that fault most",
		"                       (needs pfwatch --where); again: latency",
		"  space                pause the view (counting goes on)",
		"  q  Ctrl-C            quit (the summary and -o FILE are still written)",
		"",
		"CAUSE, most time: io recl(aim) memcg cmpct mmap(_lock) wback runq sleep cpu",
		"Histogram: one line per power of two of latency; = minor, # major,",
		"log-scaled bars; ~0.1-1 us minor fault, ~50-150 us SSD, ~5-10 ms disk.",
		"Any key closes this help.",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		draw_clipped(HEADER_LINES + (int)i, 0, lines[i], i ? A_NORMAL : A_BOLD);
}

/* What an empty table says instead of rows. */
static const char *empty_table_note(const struct live_screen *screen)
{
	if (!screen->nr_spark)
		return "(the first view comes after one interval)";
	if (screen->thread_rows && !screen->thread_snapshot)
		return "(per-thread counts are not available on this kernel)";
	if (screen->filter[0] || screen->follow)
		return "(nothing that matches faulted in the last interval)";
	return "(nothing faulted in the last interval)";
}

/* The table from @top, @height lines including its title. */
static void draw_table(struct live_screen *screen, int top, int height)
{
	struct row_set *set = shown_rows(screen);
	char line[256];
	int start, width;
	size_t first = 0, shown;

	if (cgroup_rows(screen))
		layout_cgroup_title_line(line, sizeof(line));
	else
		layout_title_line(line, sizeof(line), screen->thread_rows);
	mvhline(top, 0, ' ' | A_REVERSE, COLS);
	draw_clipped(top, 0, line, A_REVERSE);
	layout_column_span(screen->sort, &start, &width);
	mvchgat(top, start, width, A_BOLD | A_UNDERLINE, 0, NULL);

	layout_sort(set->rows, set->nr, screen->sort);
	screen->nr_visible = 0;
	for (size_t i = 0; i < set->nr; i++)
		if (row_wanted(screen, &set->rows[i]))
			screen->visible[screen->nr_visible++] = &set->rows[i];
	if (!screen->nr_visible) {
		draw_clipped(top + 1, 0, empty_table_note(screen), A_NORMAL);
		return;
	}
	/* The cursor stays on its row when the order changes (cgroup rows
	 * have no ID: there it keeps its place). */
	for (size_t i = 0; i < screen->nr_visible && !cgroup_rows(screen); i++)
		if (layout_row_id(screen->visible[i]) == screen->cursor_id)
			screen->cursor = i;
	if (screen->cursor >= screen->nr_visible)
		screen->cursor = screen->nr_visible - 1;
	screen->cursor_id = layout_row_id(screen->visible[screen->cursor]);

	shown = (size_t)(height - 1);
	if (screen->cursor >= shown)
		first = screen->cursor - shown + 1;
	for (size_t i = first; i < screen->nr_visible && i - first < shown; i++) {
		const struct layout_row *row = screen->visible[i];
		attr_t attrs = A_NORMAL;

		if (i == screen->cursor)
			attrs |= A_REVERSE;
		if (cgroup_rows(screen)) {
			layout_cgroup_row_line(line, sizeof(line), row);
		} else {
			if ((pid_t)row->view->tgid == screen->picked)
				attrs |= A_BOLD;
			layout_row_line(line, sizeof(line), row);
		}
		draw_clipped(top + 1 + (int)(i - first), 0, line, attrs);
	}
}

static void class_line(char *buf, size_t size, const struct fault_stats *stats,
		       enum class_kind kind, const char *label)
{
	int at = snprintf(buf, size, "%-8s", label);

	for (int c = 0; c < NR_FAULT_CLASSES && at < (int)size; c++) {
		char count[16];

		if (class_shown_kind(c) != kind)
			continue;
		layout_format_count(count, sizeof(count), (double)stats->count[c]);
		at += snprintf(buf + at, size - (size_t)at, " %s %s ",
			       fault_class_name(c), count);
	}
}

/* The latest kept invalid fault of @tgid (0: of anyone), or NULL. */
static const struct invalid_fault *last_invalid(const struct aggregate *agg,
						__u32 tgid)
{
	for (size_t i = agg->nr_invalid; i-- > 0;)
		if (!tgid || agg->invalid[i].event.tgid == tgid)
			return &agg->invalid[i];
	return NULL;
}

/* Up to @rows of @tgid's mappings (0: everyone's), most faults first. */
static int draw_mappings(const struct where_table *where, __u32 tgid, int y, int rows)
{
	size_t n, *order = where_rank(where, WHERE_MAPPINGS, &n);
	char line[256];
	int shown = 0;

	if (!order)
		return y;
	layout_mapping_title(line, sizeof(line));
	draw_clipped(y++, 0, line, A_UNDERLINE);
	for (size_t i = 0; i < n && shown < rows; i++) {
		const struct where_mapping *m = &where->mappings[order[i]];

		if (tgid && m->tgid != tgid)
			continue;
		layout_mapping_line(line, sizeof(line), m);
		draw_clipped(y++, 0, line, A_NORMAL);
		shown++;
	}
	free(order);
	return y;
}

static void draw_files(const struct where_table *where, int y, int rows)
{
	size_t n, *order = where_rank(where, WHERE_FILES, &n);
	char line[256];

	if (!order)
		return;
	layout_file_title(line, sizeof(line));
	draw_clipped(y++, 0, line, A_UNDERLINE);
	for (size_t i = 0; i < n && (int)i < rows && where->files[order[i]].majors; i++) {
		layout_file_line(line, sizeof(line), &where->files[order[i]], where->page_size);
		draw_clipped(y++, 0, line, A_NORMAL);
	}
	free(order);
}

/* The where pane (w): mappings of the picked process, files read by majors. */
static void draw_where_pane(struct live_screen *screen, int top, int height)
{
	const struct where_table *where = screen->settings.where;
	char line[160];
	int y = top, rows;

	if (screen->picked)
		snprintf(line, sizeof(line), " process %d: mappings that fault most (w: latency) ",
			 (int)screen->picked);
	else
		snprintf(line, sizeof(line), " all processes: mappings that fault most (w: latency) ");
	mvhline(y, 0, '-', COLS);
	draw_clipped(y++, 2, line, A_BOLD);
	if (!where) {
		draw_clipped(y, 0, "(start pfwatch with --where to see mappings, files and code)",
			     A_NORMAL);
		return;
	}
	/* Half the pane each, title lines included. */
	rows = (height - 3) / 2;
	y = draw_mappings(where, (__u32)screen->picked, y, rows);
	draw_files(where, y, top + height - y - 1);
}

/* The detail pane: classes and latency histogram since pfwatch started. */
static void draw_pane(struct live_screen *screen, int top, int height)
{
	__u64 minor[HIST_BUCKETS], major[HIST_BUCKETS], causes[NR_FAULT_CAUSES];
	struct layout_hist_line hist[HIST_MAX_POW2 + 2];
	const struct process_record *record = NULL;
	const struct fault_stats *stats = screen->totals;
	const struct invalid_fault *invalid;
	char line[512], total[16], in_faults[16];
	int bar_width = (COLS - 49) / 2, y = top, minor_at, major_at;
	size_t n;

	if (screen->picked) {
		record = aggregate_find(screen->agg, (__u32)screen->picked);
		stats = record ? &record->stats : NULL;
	} else {
		aggregate_totals(screen->agg, screen->totals);
	}
	if (!stats) {
		snprintf(line, sizeof(line), " process %d: no fault seen yet ",
			 (int)screen->picked);
		mvhline(y, 0, '-', COLS);
		draw_clipped(y, 2, line, A_BOLD);
		return;
	}
	layout_format_count(total, sizeof(total), (double)class_counts_total(stats->count));
	format_ns(in_faults, sizeof(in_faults), stats_latency_sum(stats));
	if (record)
		snprintf(line, sizeof(line), " %s %u%s: %s faults, %s in faults, since pfwatch started ",
			 record->comm, record->tgid, record->exited ? " (exited)" : "",
			 total, in_faults);
	else
		snprintf(line, sizeof(line), " all processes: %s faults, %s in faults, since pfwatch started ",
			 total, in_faults);
	mvhline(y, 0, '-', COLS);
	draw_clipped(y++, 2, line, A_BOLD);
	class_line(line, sizeof(line), stats, KIND_MINOR, "minor");
	draw_clipped(y++, 0, line, A_NORMAL);
	class_line(line, sizeof(line), stats, KIND_MAJOR, "major");
	draw_clipped(y++, 0, line, A_NORMAL);
	class_line(line, sizeof(line), stats, KIND_INVALID, "invalid");
	draw_clipped(y++, 0, line, A_NORMAL);
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
		causes[cause] = 0;
		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			causes[cause] += stats->cause_ns[c][cause];
	}
	layout_causes_line(line, sizeof(line), causes);
	draw_clipped(y++, 0, line, A_NORMAL);
	invalid = last_invalid(screen->agg, record ? record->tgid : 0);
	if (invalid && y < top + height) {
		/* The path last: it is the part a narrow screen may cut. */
		snprintf(line, sizeof(line), "invalid fault: %u %s %s addr 0x%llx ip 0x%llx %s",
			 invalid->event.tgid, fault_class_name(invalid->event.fault_class),
			 invalid->mapped ? invalid->mapping_kind : "unmapped",
			 (unsigned long long)invalid->event.address,
			 (unsigned long long)invalid->event.ip,
			 invalid->mapped ? invalid->path : "");
		draw_clipped(y++, 0, line, pair_attr(screen, PAIR_WARN));
	}
	if (bar_width < 4 || y + 1 >= top + height)
		return;
	stats_kind_hist(stats, KIND_MINOR, minor);
	stats_kind_hist(stats, KIND_MAJOR, major);
	n = layout_hist_layout(minor, major, bar_width, hist,
			    (size_t)(top + height - y - 1));
	if (!n) {
		draw_clipped(y, 0, "(no timed fault yet)", A_NORMAL);
		return;
	}
	layout_hist_title(line, sizeof(line), bar_width);
	draw_clipped(y++, 0, line, A_UNDERLINE);
	layout_hist_bar_starts(bar_width, &minor_at, &major_at);
	for (size_t i = 0; i < n; i++, y++) {
		layout_hist_text(line, sizeof(line), &hist[i], bar_width);
		draw_clipped(y, 0, line, A_NORMAL);
		if (screen->color) {
			mvchgat(y, minor_at, hist[i].minor_bar, A_NORMAL, PAIR_MINOR, NULL);
			mvchgat(y, major_at, hist[i].major_bar, A_BOLD, PAIR_MAJOR, NULL);
		}
	}
}

/*
 * Lines the pane wants: title, three class lines, causes, an invalid
 * fault, hist.
 */
static int pane_height(void)
{
	int room = LINES - HEADER_LINES - 1 - MIN_TABLE_ROWS;
	int want = 6 + 1 + 16;

	if (want > LINES / 2 + 4)
		want = LINES / 2 + 4;
	return want < room ? want : room;
}

void live_draw(struct live_screen *screen, const struct live_status *status)
{
	int pane;

	erase();
	if (LINES < MIN_LINES || COLS < MIN_COLS) {
		draw_clipped(0, 0, "pfwatch: the terminal is too small (50x12 at least)", A_BOLD);
		refresh();
		return;
	}
	draw_header(screen, status);
	draw_status(screen);
	if (screen->help) {
		draw_help();
	} else {
		pane = screen->show_pane ? pane_height() : 0;
		draw_table(screen, HEADER_LINES, LINES - HEADER_LINES - pane);
		if (pane && screen->where_pane)
			draw_where_pane(screen, LINES - pane, pane);
		else if (pane)
			draw_pane(screen, LINES - pane, pane);
	}
	if (screen->prompting)
		move(3, (int)strlen("filter by command name (Enter applies, Esc cancels): ") +
			(int)strlen(screen->prompt));
	refresh();
}

static void prompt_key(struct live_screen *screen, int key)
{
	size_t len = strlen(screen->prompt);

	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		memcpy(screen->filter, screen->prompt, sizeof(screen->filter));
		screen->prompting = false;
	} else if (key == ESC_KEY) {
		screen->prompting = false;
	} else if (key == KEY_BACKSPACE || key == 127 || key == '\b') {
		if (len)
			screen->prompt[len - 1] = '\0';
	} else if (key >= ' ' && key < 127 && len + 1 < sizeof(screen->prompt)) {
		screen->prompt[len] = (char)key;
		screen->prompt[len + 1] = '\0';
	}
}

static void move_cursor(struct live_screen *screen, long by)
{
	long to = (long)screen->cursor + by;

	if (!screen->nr_visible)
		return;
	if (to < 0)
		to = 0;
	if (to >= (long)screen->nr_visible)
		to = (long)screen->nr_visible - 1;
	screen->cursor = (size_t)to;
	screen->cursor_id = layout_row_id(screen->visible[to]);
}

static void pick_under_cursor(struct live_screen *screen)
{
	pid_t pid;

	if (cgroup_rows(screen)) {
		snprintf(screen->message, sizeof(screen->message),
			 "a cgroup row is no process to pick (g: a row per process)");
		return;
	}
	if (!screen->nr_visible) {
		snprintf(screen->message, sizeof(screen->message),
			 "no process under the cursor to pick");
		return;
	}
	/* On a thread row: its process. */
	pid = (pid_t)screen->visible[screen->cursor]->view->tgid;
	if (pid == screen->picked) {
		screen->picked = 0;
		screen->follow = false;
	} else {
		screen->picked = pid;
		screen->show_pane = true;
	}
}

/* One key outside the prompt and the help; false for quit. */
static bool command_key(struct live_screen *screen, int key)
{
	int column = layout_column_for_key(key);
	long page = LINES / 2;

	if (column >= 0) {
		screen->sort = (enum layout_column)column;
		return true;
	}
	switch (key) {
	case 'q':
		return false;
	case '?':
		screen->help = true;
		break;
	case '/':
		screen->prompting = true;
		memcpy(screen->prompt, screen->filter, sizeof(screen->prompt));
		break;
	case ' ':
		screen->paused = !screen->paused;
		break;
	case 'h':
		screen->show_pane = !screen->show_pane;
		break;
	case 'w':
		screen->where_pane = !screen->where_pane;
		screen->show_pane = true;
		break;
	case 'p':
	case '\n':
	case '\r':
	case KEY_ENTER:
		pick_under_cursor(screen);
		break;
	case 'f':
		if (screen->picked)
			screen->follow = !screen->follow;
		else
			snprintf(screen->message, sizeof(screen->message),
				 "pick a process first (arrows, then p)");
		break;
	case 'H':
		screen->thread_rows = !screen->thread_rows;
		screen->group = GROUP_PROCESS;
		screen->nr_visible = 0;	/* the cursor's rows were the other set */
		break;
	case 'g':
		screen->group = cgroup_rows(screen) ? GROUP_PROCESS : GROUP_CGROUP;
		screen->thread_rows = false;
		screen->nr_visible = 0;
		break;
	case '<':
		screen->sort = (screen->sort + NR_LAYOUT_COLUMNS - 1) % NR_LAYOUT_COLUMNS;
		break;
	case '>':
		screen->sort = (screen->sort + 1) % NR_LAYOUT_COLUMNS;
		break;
	case KEY_UP: case 'k': move_cursor(screen, -1); break;
	case KEY_DOWN: case 'j': move_cursor(screen, 1); break;
	case KEY_PPAGE: move_cursor(screen, -page); break;
	case KEY_NPAGE: move_cursor(screen, page); break;
	case KEY_HOME: move_cursor(screen, -(long)screen->nr_visible); break;
	case KEY_END: move_cursor(screen, (long)screen->nr_visible); break;
	default:
		break;
	}
	return true;
}

enum live_action live_keys(struct live_screen *screen)
{
	enum live_action action = LIVE_NOTHING;
	int key;

	while ((key = getch()) != ERR) {
		action = LIVE_REDRAW;
		if (key == KEY_RESIZE)
			continue;
		screen->message[0] = '\0';
		if (screen->prompting)
			prompt_key(screen, key);
		else if (screen->help)
			screen->help = false;
		else if (!command_key(screen, key))
			return LIVE_QUIT;
	}
	return action;
}
