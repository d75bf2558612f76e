/* Command-line options: what the user asked for, checked and typed. */
#ifndef PFWATCH_OPTIONS_H
#define PFWATCH_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "pfwatch.h"
#include "view.h"

#define MAX_PID_FILTERS 64

struct options {
	enum backend backend;
	pid_t pids[MAX_PID_FILTERS];
	int nr_pids;
	pid_t tid;
	char comm[COMM_LEN];
	const char *cgroup_path;
	double interval_s;
	bool interval_given;
	double duration_s;		/* 0: until Ctrl-C */
	const char *output_path;	/* -o FILE */
	int output_format;		/* enum export_format; 0: by extension */
	double export_interval_s;	/* 0: write only at the end */
	double timeline_interval_s;	/* the file's timeline */
	bool timeline_interval_given;
	int top;			/* rows in the periodic table */
	enum row_group group;		/* --group: rows per process or cgroup */
	bool min_latency_given;	/* --min-latency */
	bool where;			/* --where: mappings, files, pages, code */
	unsigned stack_every;		/* --stacks N: 1 in N faults */
	bool stack_majors;		/* --stacks major: majors and invalid */
	bool source_lines;		/* --source-lines: in stack frames */
	const char *debug_dir;		/* --debug-dir, else NULL */
	double min_latency_us;
	bool verbose;
	bool plain_text;		/* -b: plain text even on a terminal */
	bool no_color;
	char **command;			/* pfwatch -- CMD ARGS: NULL-terminated */
	bool serve;			/* pfwatch serve: /metrics over HTTP */
	const char *user;		/* --user: who to be after loading */
	bool expose_cmdline;		/* serve: the busiest processes' cmdlines */
	struct sockaddr_storage listen;	/* --listen, loopback by default */
};

#define DEFAULT_METRICS_PORT 9479

enum options_result {
	OPTIONS_RUN,		/* go on */
	OPTIONS_DONE,		/* --help or --version printed: exit 0 */
	OPTIONS_BAD,		/* usage error printed: exit 2 */
};

/* pfwatch report [OPTIONS] FILE [FILE2] */
struct report_options {
	const char *files[2];
	int nr_files;
	bool has_pid;
	__u32 pid;
	unsigned class_mask;		/* a bit per fault class; 0: all */
	int top;
	enum row_group group;		/* --group */
	bool timeline;			/* --timeline: a line per interval */
	bool all;			/* --all: every interval, unfolded */
	const char *from, *to;		/* --from/--to T, as given */
	const char *output_path;	/* -o FILE.html */
};

/* One option: getopt's view of it and its lines in --help. */
struct option_spec {
	const char *name;	/* long name; NULL: a --help line only */
	int has_arg;		/* no_argument or required_argument */
	int key;		/* its short letter, or a long-only value past 255 */
	const char *value;	/* its value in --help ("PID[,PID...]"), or NULL */
	const char *help;	/* --help's text for it, lines split at '\n' */
};

/* A command's options and its --help around them. */
struct option_table {
	const struct option_spec *specs;
	size_t nr_specs;
	int help_column;	/* where each option's help starts */
	const char *head;	/* usage, before the options */
	const char *tail;	/* examples, after them */
};

extern const struct option_table trace_options;		/* pfwatch [serve] */
extern const struct option_table report_options;	/* pfwatch report */

/* --help, written from @table. */
void options_usage(FILE *out, const struct option_table *table);
enum options_result options_parse(struct options *opts, int argc, char **argv);
/* @argv starts at "report". */
enum options_result report_options_parse(struct report_options *opts, int argc,
					 char **argv);
const char *backend_name(enum backend backend);

#endif
