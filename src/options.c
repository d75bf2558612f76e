/* Command-line parsing: every value range-checked, one error line each. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"
#include "export.h"
#include "options.h"
#include "timeline.h"

enum long_only {
	OPT_CGROUP = 256, OPT_BACKEND, OPT_MIN_LATENCY, OPT_NO_COLOR, OPT_FORMAT,
	OPT_EXPORT_INTERVAL, OPT_LISTEN, OPT_STACKS, OPT_USER, OPT_EXPOSE_CMDLINE,
	OPT_SOURCE_LINES, OPT_DEBUG_DIR, OPT_TIMELINE_INTERVAL, OPT_FROM, OPT_TO,
	OPT_GROUP,
};

/* Every option of pfwatch, in --help's order, with --help's lines. */
static const struct option_spec trace_specs[] = {
	{ .help = "What to trace (system-wide by default):" },
	{ "pid", required_argument, 'p', "PID[,PID...]",
	  "these processes and their children" },
	{ "tid", required_argument, 't', "TID", "one thread only" },
	{ "comm", required_argument, 'C', "NAME",
	  "processes whose command name is NAME" },
	{ "cgroup", required_argument, OPT_CGROUP, "PATH",
	  "processes in this cgroup v2 directory" },
	{ NULL, 0, 0, "-- COMMAND [ARGS]",
	  "run COMMAND, trace it and its descendants, print\n"
	  "a summary when it exits; exit with its status" },
	{ .help = "" },
	{ .help = "Output (on a terminal, a live full-screen view; press ? in it for keys):" },
	{ "interval", required_argument, 'i', "SEC",
	  "refresh the view every SEC (default 1); as plain\n"
	  "text, a table of the busiest processes every SEC\n"
	  "(0: only the final summary)" },
	{ "batch", no_argument, 'b', NULL,
	  "plain text even on a terminal (as when stdout is\n"
	  "a pipe or a file)" },
	{ "no-color", no_argument, OPT_NO_COLOR, NULL,
	  "no colours in the live view (also: NO_COLOR set)" },
	{ "duration", required_argument, 'd', "SEC",
	  "stop after SEC seconds (default: until Ctrl-C)" },
	{ "top", required_argument, 'n', "N",
	  "rows in the plain-text table (default 10)" },
	{ "group", required_argument, OPT_GROUP, "process|cgroup",
	  "rows of the tables and the summary: one per\n"
	  "process (default) or one per cgroup (container,\n"
	  "service), with its short name and path" },
	{ "output", required_argument, 'o', "FILE",
	  "write the aggregate to FILE when pfwatch stops, in\n"
	  "the format its extension names: .json (default),\n"
	  ".csv, .prom (Prometheus text), .folded, .pb.gz\n"
	  "(pprof, from --stacks or --where), .html (a page\n"
	  "with heatmaps); .gz appended compresses it" },
	{ "format", required_argument, OPT_FORMAT, "FMT",
	  "json, csv, prom, folded, pprof or html, whatever\n"
	  "the extension" },
	{ "export-interval", required_argument, OPT_EXPORT_INTERVAL, "SEC",
	  "also rewrite FILE every SEC seconds (atomically)" },
	{ "timeline-interval", required_argument, OPT_TIMELINE_INTERVAL, "SEC",
	  "FILE's timeline: counts, histograms and top\n"
	  "processes every SEC (default 1; 0.01 to 3600)" },
	{ "min-latency", required_argument, OPT_MIN_LATENCY, "USEC",
	  "print every fault that took USEC microseconds or\n"
	  "more as it happens (0: every fault); the\n"
	  "periodic table is then off unless -i is given" },
	{ "where", no_argument, 'w', NULL,
	  "also say where faults are: the mappings, files\n"
	  "(offsets, sequential or random), pages and code\n"
	  "(function, source line, binary) that fault most;\n"
	  "every fault then goes to pfwatch one by one\n"
	  "(costlier)" },
	{ "stacks", required_argument, OPT_STACKS, "N|major",
	  "take the user stack of 1 in N faults (per thread),\n"
	  "or of every major and invalid one, and count them\n"
	  "as folded stacks (-o FILE.folded for flame\n"
	  "graphs); needs frame pointers in the code" },
	{ "source-lines", no_argument, OPT_SOURCE_LINES, NULL,
	  "stack frames with their source line where DWARF\n"
	  "has one: function@file.c:123 (always in pprof)" },
	{ "debug-dir", required_argument, OPT_DEBUG_DIR, "DIR",
	  "separate debug files by build ID under\n"
	  "DIR/.build-id (default /usr/lib/debug); with\n"
	  "DEBUGINFOD_URLS set, servers are asked too" },
	{ "verbose", no_argument, 'v', NULL, "say which backend and hooks are in use" },
	{ .help = "" },
	{ .help = "pfwatch serve: no view; Prometheus metrics over HTTP at /metrics" },
	{ "listen", required_argument, OPT_LISTEN, "[ADDR:]PORT",
	  "where to listen (default 127.0.0.1:9479; an\n"
	  "IPv6 address goes in brackets: [::1]:9479)" },
	{ "expose-cmdline", no_argument, OPT_EXPOSE_CMDLINE, NULL,
	  "also serve the command lines of the 20 processes\n"
	  "with the most time in faults (off: comm only)" },
	{ .help = "" },
	{ .help = "Kernel side and privileges:" },
	{ "backend", required_argument, OPT_BACKEND, "NAME",
	  "auto (default), fexit, kprobe or perf: how a\n"
	  "fault's outcome is seen (see pfwatch(8))" },
	{ "user", required_argument, OPT_USER, "USER",
	  "once the programs are attached, go on as USER\n"
	  "(files are then written as USER); capabilities\n"
	  "other than those reading needs are always dropped" },
	{ .help = "" },
	{ "help", no_argument, 'h', NULL, "this text" },
	{ "version", no_argument, 'V', NULL, "version" },
};

const struct option_table trace_options = {
	.specs = trace_specs,
	.nr_specs = sizeof(trace_specs) / sizeof(trace_specs[0]),
	.help_column = 27,
	.head =
"Usage: pfwatch [OPTIONS] [-- COMMAND [ARGS...]]\n"
"       pfwatch serve [--listen [ADDR:]PORT] [OPTIONS]\n"
"       pfwatch report [OPTIONS] FILE [FILE2]   (see pfwatch report --help)\n"
"See every user page fault: minor, major and invalid, per process, with\n"
"latency histograms. Needs root (or CAP_BPF and CAP_PERFMON).\n"
"\n",
	.tail =
"\n"
"Examples:\n"
"  pfwatch                        live view of the whole system\n"
"  pfwatch -- make -j2            faults of a build, summarized at exit\n"
"  pfwatch -p 1234               live view opened on one service\n"
"  pfwatch -b -p 1234 -d 30       30 s of it as text, a table every second\n"
"  pfwatch -C postgres -o pg.json all postgres processes, saved as JSON\n"
"  pfwatch -i 5                   the whole system, every 5 seconds\n"
"  pfwatch -b --group cgroup -d 10\n"
"                                 10 s as text, a row per container or service\n"
"  pfwatch serve                  metrics for Prometheus on 127.0.0.1:9479\n"
"  pfwatch report a.json b.json   compare two saved runs\n"
"  pfwatch --stacks 1 -o a.pb.gz -- ./app\n"
"                                 a pprof profile: go tool pprof -top a.pb.gz\n",
};

static const struct option_spec report_specs[] = {
	{ "pid", required_argument, 'p', "PID",
	  "only this process (its records, its invalid faults)" },
	{ "class", required_argument, 'c', "NAME",
	  "only this class (anon_zero, cow, file_cached,\n"
	  "file_read, swap_in, segv_maperr, segv_accerr, sigbus,\n"
	  "other_error) or kind (minor, major, invalid)" },
	{ "top", required_argument, 'n', "N", "rows in the process tables (default 10)" },
	{ "group", required_argument, OPT_GROUP, "process|cgroup",
	  "the summary's table: one row per process\n"
	  "(default) or per cgroup" },
	{ "timeline", no_argument, 'T', NULL,
	  "one line per interval of the file's timeline\n"
	  "(folded to fit the screen unless --all)" },
	{ "all", no_argument, 'a', NULL, "--timeline: every interval on its own line" },
	{ "from", required_argument, OPT_FROM, "T",
	  "only the intervals from T (seconds since the\n"
	  "start, or a clock time HH:MM[:SS])" },
	{ "to", required_argument, OPT_TO, "T", "... up to T (same forms)" },
	{ "output", required_argument, 'o', "FILE.html",
	  "write the run as one self-contained HTML page" },
	{ "help", no_argument, 'h', NULL, "this text" },
};

const struct option_table report_options = {
	.specs = report_specs,
	.nr_specs = sizeof(report_specs) / sizeof(report_specs[0]),
	.help_column = 23,
	.head =
"Usage: pfwatch report [OPTIONS] FILE [FILE2]\n"
"Print the summary and latency histograms of a JSON file pfwatch wrote\n"
"(-o FILE.json, plain or .gz). With two files, compare them side by side:\n"
"before and after a deploy, say. No privileges needed.\n"
"\n",
	.tail = "",
};

/* "  -p, --pid PID", "      --cgroup PATH" or "  -- COMMAND [ARGS]". */
static int print_option_name(FILE *out, const struct option_spec *spec)
{
	int width;

	if (!spec->name)
		return fprintf(out, "  %s", spec->value);
	width = spec->key < 256 ? fprintf(out, "  -%c, ", spec->key) : fprintf(out, "      ");
	return width + fprintf(out, "--%s%s%s", spec->name, spec->value ? " " : "",
			       spec->value ? spec->value : "");
}

/* The help in a column; a name too wide for it keeps two spaces. */
static void print_option(FILE *out, const struct option_spec *spec, int column)
{
	int width = print_option_name(out, spec);
	const char *line = spec->help;

	fprintf(out, "%*s", width < column ? column - width : 2, "");
	for (;;) {
		size_t len = strcspn(line, "\n");

		fprintf(out, "%.*s\n", (int)len, line);
		if (!line[len])
			break;
		line += len + 1;
		fprintf(out, "%*s", column, "");
	}
}

void options_usage(FILE *out, const struct option_table *table)
{
	fputs(table->head, out);
	for (size_t i = 0; i < table->nr_specs; i++) {
		const struct option_spec *spec = &table->specs[i];

		if (spec->name || spec->value)
			print_option(out, spec, table->help_column);
		else
			fprintf(out, "%s\n", spec->help);
	}
	fputs(table->tail, out);
}

/* getopt's room for a table of @nr specs: longs, and "+" shorts with ':'s. */
#define LONGS_ROOM(nr) ((nr) + 1)
#define SHORTS_ROOM(nr) (2 * (nr) + 2)

/* getopt_long's view of @table, in arrays of the rooms above. */
static void getopt_tables(const struct option_table *table, struct option *longs,
			  char *shorts)
{
	size_t nr_longs = 0, used = 0;

	shorts[used++] = '+';	/* stop at the first non-option: CMD's own */
	for (size_t i = 0; i < table->nr_specs; i++) {
		const struct option_spec *spec = &table->specs[i];

		if (!spec->name)
			continue;
		longs[nr_longs++] = (struct option){ spec->name, spec->has_arg, NULL, spec->key };
		if (spec->key < 256) {
			shorts[used++] = (char)spec->key;
			if (spec->has_arg == required_argument)
				shorts[used++] = ':';
		}
	}
	longs[nr_longs] = (struct option){ 0 };
	shorts[used] = '\0';
}

/* One line: "@program: what is wrong (see @program --help)". */
static void usage_error(const char *program, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", program);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see %s --help)\n", program);
}

static void bad_option(const char *fmt, const char *arg)
{
	usage_error("pfwatch", fmt, arg);
}

/* A decimal integer in [min, max], nothing else in the string. */
static bool parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max)
		return false;
	*out = value;
	return true;
}

/* A non-negative decimal up to max, nothing else in the string. */
static bool parse_decimal(const char *text, double max, double *out)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(value) || value < 0 ||
	    value > max)
		return false;
	*out = value;
	return true;
}

static bool parse_pid_list(struct options *opts, char *list)
{
	char *save = NULL;
	long pid;

	for (char *item = strtok_r(list, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		if (!parse_long(item, 1, INT_MAX, &pid)) {
			bad_option("-p: '%s' is not a process ID", item);
			return false;
		}
		if (opts->nr_pids == MAX_PID_FILTERS) {
			bad_option("-p: more than %s process IDs", "64");
			return false;
		}
		opts->pids[opts->nr_pids++] = (pid_t)pid;
	}
	if (!opts->nr_pids) {
		bad_option("-p: '%s' names no process", list);
		return false;
	}
	return true;
}

/* "PORT", "ADDR:PORT" or "[IPV6]:PORT"; the address defaults to loopback. */
static bool parse_listen(const char *text, struct sockaddr_storage *out)
{
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
	const char *colon = strrchr(text, ':');
	long port;

	memset(out, 0, sizeof(*out));
	if (colon) {
		size_t len = (size_t)(colon - text);

		if (len >= sizeof(host))
			return false;
		memcpy(host, text, len);
		host[len] = '\0';
		text = colon + 1;
	}
	if (!parse_long(text, 1, 65535, &port))
		return false;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &in->sin_addr) == 1;
}

/* --group's value; false when it names no grouping. */
static bool parse_group(const char *name, enum row_group *out)
{
	if (!strcmp(name, "process"))
		*out = GROUP_PROCESS;
	else if (!strcmp(name, "cgroup"))
		*out = GROUP_CGROUP;
	else
		return false;
	return true;
}

static bool parse_backend(const char *name, enum backend *out)
{
	static const enum backend all[] = {
		BACKEND_AUTO, BACKEND_FEXIT, BACKEND_KPROBE, BACKEND_PERF,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(name, backend_name(all[i]))) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

const char *backend_name(enum backend backend)
{
	switch (backend) {
	case BACKEND_FEXIT: return "fexit";
	case BACKEND_KPROBE: return "kprobe";
	case BACKEND_PERF: return "perf";
	default: return "auto";
	}
}

/* One option; false after printing why it is wrong. */
static bool apply_option(struct options *opts, int opt, char *arg)
{
	long number;

	switch (opt) {
	case 'p':
		return parse_pid_list(opts, arg);
	case 't':
		if (!parse_long(arg, 1, INT_MAX, &number)) {
			bad_option("-t: '%s' is not a thread ID", arg);
			return false;
		}
		opts->tid = (pid_t)number;
		return true;
	case 'C':
		if (!*arg || strlen(arg) >= COMM_LEN) {
			bad_option("-C: '%s' is not a command name (1 to 15 characters, as in /proc/PID/comm)", arg);
			return false;
		}
		strcpy(opts->comm, arg);
		return true;
	case OPT_CGROUP:
		opts->cgroup_path = arg;
		return true;
	case 'i':
		if (!parse_decimal(arg, 86400, &opts->interval_s) ||
		    (opts->interval_s > 0 && opts->interval_s < 0.01)) {
			bad_option("-i: '%s' is not an interval (0, or 0.01 to 86400 seconds)", arg);
			return false;
		}
		opts->interval_given = true;
		return true;
	case 'd':
		if (!parse_decimal(arg, 31536000, &opts->duration_s) ||
		    opts->duration_s == 0) {
			bad_option("-d: '%s' is not a duration (more than 0, at most a year, in seconds)", arg);
			return false;
		}
		return true;
	case 'n':
		if (!parse_long(arg, 1, 10000, &number)) {
			bad_option("-n: '%s' is not a row count (1 to 10000)", arg);
			return false;
		}
		opts->top = (int)number;
		return true;
	case 'o':
		if (!*arg) {
			bad_option("-o: %sthe file name is empty", "");
			return false;
		}
		opts->output_path = arg;
		return true;
	case OPT_GROUP:
		if (!parse_group(arg, &opts->group)) {
			bad_option("--group: '%s' is not process or cgroup", arg);
			return false;
		}
		return true;
	case OPT_BACKEND:
		if (!parse_backend(arg, &opts->backend)) {
			bad_option("--backend: '%s' is not one of auto, fexit, kprobe, perf", arg);
			return false;
		}
		return true;
	case OPT_MIN_LATENCY:
		if (!parse_decimal(arg, 10e6, &opts->min_latency_us)) {
			bad_option("--min-latency: '%s' is not a latency (0 to 10000000 microseconds)", arg);
			return false;
		}
		opts->min_latency_given = true;
		return true;
	case OPT_FORMAT:
		opts->output_format = export_format_named(arg);
		if (opts->output_format == FORMAT_AUTO) {
			bad_option("--format: '%s' is not one of json, csv, prom, folded, pprof, html", arg);
			return false;
		}
		return true;
	case OPT_EXPORT_INTERVAL:
		if (!parse_decimal(arg, 86400, &opts->export_interval_s) ||
		    opts->export_interval_s < 0.1) {
			bad_option("--export-interval: '%s' is not an interval (0.1 to 86400 seconds)", arg);
			return false;
		}
		return true;
	case OPT_TIMELINE_INTERVAL:
		if (!parse_decimal(arg, 3600, &opts->timeline_interval_s) ||
		    opts->timeline_interval_s < 0.01) {
			bad_option("--timeline-interval: '%s' is not an interval (0.01 to 3600 seconds)", arg);
			return false;
		}
		opts->timeline_interval_given = true;
		return true;
	case OPT_LISTEN:
		if (!opts->serve) {
			bad_option("--listen: %sonly pfwatch serve listens", "");
			return false;
		}
		if (!parse_listen(arg, &opts->listen)) {
			bad_option("--listen: '%s' is not [ADDR:]PORT (an IPv4 address, or IPv6 in brackets; port 1 to 65535)", arg);
			return false;
		}
		return true;
	case 'b':
		opts->plain_text = true;
		return true;
	case OPT_NO_COLOR:
		opts->no_color = true;
		return true;
	case 'w':
		opts->where = true;
		return true;
	case OPT_STACKS:
		if (!strcmp(arg, "major")) {
			opts->stack_majors = true;
			return true;
		}
		if (!parse_long(arg, 1, 1000000, &number)) {
			bad_option("--stacks: '%s' is not 1 to 1000000 (1 in N faults) or 'major'", arg);
			return false;
		}
		opts->stack_every = (unsigned)number;
		return true;
	case OPT_EXPOSE_CMDLINE:
		if (!opts->serve) {
			bad_option("--expose-cmdline: %sonly pfwatch serve exposes metrics", "");
			return false;
		}
		opts->expose_cmdline = true;
		return true;
	case OPT_USER:
		if (!arg[0]) {
			bad_option("--user: %sthe user name is empty", "");
			return false;
		}
		opts->user = arg;
		return true;
	case OPT_SOURCE_LINES:
		opts->source_lines = true;
		return true;
	case OPT_DEBUG_DIR:
		if (arg[0] != '/') {
			bad_option("--debug-dir: '%s' is not an absolute path", arg);
			return false;
		}
		opts->debug_dir = arg;
		return true;
	case 'v':
		opts->verbose = true;
		return true;
	default:
		return false;
	}
}

static bool check_combination(const struct options *opts)
{
	if (opts->command && opts->nr_pids) {
		bad_option("%s-p and -- COMMAND exclude each other", "");
		return false;
	}
	if ((opts->output_format || opts->export_interval_s || opts->timeline_interval_given) &&
	    !opts->output_path) {
		bad_option("%s--format, --export-interval and --timeline-interval need -o FILE", "");
		return false;
	}
	if (opts->serve && (opts->command || opts->min_latency_given)) {
		bad_option("%spfwatch serve traces running processes: no -- COMMAND, no --min-latency", "");
		return false;
	}
	if (opts->source_lines && !opts->stack_every && !opts->stack_majors) {
		bad_option("%s--source-lines puts lines in stack frames: it needs --stacks", "");
		return false;
	}
	if (opts->output_path && !opts->where && !opts->stack_every && !opts->stack_majors &&
	    export_target_for(opts->output_path, opts->output_format).format == FORMAT_PPROF) {
		bad_option("%sa pprof profile is made of --stacks samples or --where's code: give one", "");
		return false;
	}
	if (opts->command && !opts->command[0]) {
		bad_option("%s-- must be followed by a command", "");
		return false;
	}
	return true;
}

enum options_result options_parse(struct options *opts, int argc, char **argv)
{
	struct option longs[LONGS_ROOM(sizeof(trace_specs) / sizeof(trace_specs[0]))];
	char shorts[SHORTS_ROOM(sizeof(trace_specs) / sizeof(trace_specs[0]))];
	int opt;

	memset(opts, 0, sizeof(*opts));
	opts->interval_s = 1;
	opts->timeline_interval_s = TIMELINE_INTERVAL_S;
	opts->top = 10;
	opterr = 0;	/* our own messages, in our own format */
	optind = 0;	/* 0: glibc starts afresh, even after an earlier parse */
	if (argc > 1 && !strcmp(argv[1], "serve")) {
		struct sockaddr_in *loopback = (struct sockaddr_in *)&opts->listen;

		opts->serve = true;
		loopback->sin_family = AF_INET;
		loopback->sin_port = htons(DEFAULT_METRICS_PORT);
		loopback->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		argc--;
		argv++;		/* "serve" reads as the program name */
	}
	getopt_tables(&trace_options, longs, shorts);
	while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (opt == 'h') {
			options_usage(stdout, &trace_options);
			return OPTIONS_DONE;
		}
		if (opt == 'V') {
			printf("pfwatch %s\n", PFWATCH_VERSION);
			return OPTIONS_DONE;
		}
		if (opt == '?' || opt == ':') {
			bad_option(optopt ? "option -%s is unknown or lacks its value"
				   : "option %s is unknown or lacks its value",
				   optopt ? (char[2]){ (char)optopt, 0 } : argv[optind - 1]);
			return OPTIONS_BAD;
		}
		if (!apply_option(opts, opt, optarg))
			return OPTIONS_BAD;
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			bad_option("unexpected argument '%s'; put a command after --", argv[optind]);
			return OPTIONS_BAD;
		}
		opts->command = &argv[optind];
	} else if (optind > 1 && !strcmp(argv[optind - 1], "--")) {
		bad_option("%s-- must be followed by a command", "");
		return OPTIONS_BAD;
	}
	if (opts->min_latency_given && !opts->interval_given)
		opts->interval_s = 0;	/* stdout carries the stream */
	return check_combination(opts) ? OPTIONS_RUN : OPTIONS_BAD;
}

static void bad_report_option(const char *fmt, const char *arg)
{
	usage_error("pfwatch report", fmt, arg);
}

/* A class name sets its bit; a kind name sets those of its classes. */
static unsigned class_mask_named(const char *name)
{
	unsigned mask = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		enum class_kind kind = fault_class_kind(c);

		if (!strcmp(name, fault_class_name(c)) ||
		    !strcmp(name, class_kind_name(kind)) ||
		    !strcmp(name, class_kind_name(class_shown_kind(c))))
			mask |= 1u << c;
	}
	return mask;
}

enum options_result report_options_parse(struct report_options *opts, int argc,
					 char **argv)
{
	struct option longs[LONGS_ROOM(sizeof(report_specs) / sizeof(report_specs[0]))];
	char shorts[SHORTS_ROOM(sizeof(report_specs) / sizeof(report_specs[0]))];
	long number;
	int opt;

	memset(opts, 0, sizeof(*opts));
	opts->top = 10;
	opterr = 0;
	optind = 0;	/* 0: glibc starts afresh, even after an earlier parse */
	getopt_tables(&report_options, longs, shorts);
	/* Not '+': the files may come before the options. */
	while ((opt = getopt_long(argc, argv, shorts + 1, longs, NULL)) != -1) {
		switch (opt) {
		case 'h':
			options_usage(stdout, &report_options);
			return OPTIONS_DONE;
		case 'p':
			if (!parse_long(optarg, 0, UINT32_MAX, &number)) {
				bad_report_option("-p: '%s' is not a process ID", optarg);
				return OPTIONS_BAD;
			}
			opts->pid = (__u32)number;
			opts->has_pid = true;
			break;
		case 'c':
			opts->class_mask = class_mask_named(optarg);
			if (!opts->class_mask) {
				bad_report_option("-c: '%s' is not a fault class or kind", optarg);
				return OPTIONS_BAD;
			}
			break;
		case 'n':
			if (!parse_long(optarg, 1, 10000, &number)) {
				bad_report_option("-n: '%s' is not a row count (1 to 10000)", optarg);
				return OPTIONS_BAD;
			}
			opts->top = (int)number;
			break;
		case OPT_GROUP:
			if (!parse_group(optarg, &opts->group)) {
				bad_report_option("--group: '%s' is not process or cgroup", optarg);
				return OPTIONS_BAD;
			}
			break;
		case 'T':
			opts->timeline = true;
			break;
		case 'a':
			opts->all = true;
			break;
		case OPT_FROM:
			opts->from = optarg;
			break;
		case OPT_TO:
			opts->to = optarg;
			break;
		case 'o':
			opts->output_path = optarg;
			break;
		default:
			bad_report_option(optopt ? "option -%s is unknown or lacks its value"
					  : "option %s is unknown or lacks its value",
				   optopt ? (char[2]){ (char)optopt, 0 } : argv[optind - 1]);
			return OPTIONS_BAD;
		}
	}
	opts->nr_files = argc - optind;
	if (opts->nr_files < 1 || opts->nr_files > 2) {
		bad_report_option("%sname one JSON file, or two to compare", "");
		return OPTIONS_BAD;
	}
	opts->files[0] = argv[optind];
	opts->files[1] = opts->nr_files == 2 ? argv[optind + 1] : NULL;
	if ((opts->timeline || opts->output_path) &&
	    (opts->nr_files == 2 || opts->from || opts->to)) {
		bad_report_option("%s--timeline and -o show one whole file: no FILE2, --from or --to", "");
		return OPTIONS_BAD;
	}
	/* Only the summary has cgroups: the timeline keeps processes. */
	if (opts->group == GROUP_CGROUP && (opts->timeline || opts->output_path ||
					    opts->nr_files == 2 || opts->from || opts->to)) {
		bad_report_option("%s--group cgroup groups the summary of one file: no --timeline, -o, FILE2, --from or --to", "");
		return OPTIONS_BAD;
	}
	/* The timeline is kept for the traced set, not per process or class. */
	if ((opts->timeline || opts->output_path || opts->from || opts->to) &&
	    (opts->has_pid || opts->class_mask)) {
		bad_report_option("%s-p and -c do not apply to --timeline, --from, --to or -o", "");
		return OPTIONS_BAD;
	}
	return OPTIONS_RUN;
}
