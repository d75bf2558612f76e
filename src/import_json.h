/*
 * Reading back a JSON file pfwatch wrote (docs/json-schema.md), plain or
 * gzip-compressed, into the aggregate every output renders.
 */
#ifndef PFWATCH_IMPORT_JSON_H
#define PFWATCH_IMPORT_JSON_H

#include <stddef.h>
#include "aggregate.h"
#include "cgroup_names.h"
#include "stacks.h"
#include "timeline.h"
#include "where.h"

/* Larger files are refused rather than parsed: memory stays bounded. */
#define IMPORT_MAX_BYTES (256u << 20)
/* The kernel's own limit on CPUs (CONFIG_NR_CPUS) is at most this. */
#define IMPORT_MAX_CPUS 8192

struct imported_run {
	struct aggregate agg;
	struct run_info run;		/* its strings point into the fields below */
	char version[32];
	char backend[16];
	char entry_hook[16];
	char start_time[32];		/* as written: ISO 8601, UTC */
	char **command;			/* NULL-terminated, or NULL */
	struct where_table where;	/* run.where points here if present */
	struct stack_table stacks;	/* run.stacks points here if present */
	struct timeline timeline;	/* run.timeline points here if present */
	__u64 *lost_per_cpu;		/* run.lost_per_cpu points here if present */
	struct cgroup_names cgroup_names;	/* run.cgroup_names points here */
};

/*
 * Fills @in from @size bytes of JSON. 0, or -1 with @error saying where
 * the file is wrong: a byte offset for syntax, a field path for content.
 */
int import_json(struct imported_run *in, const char *data, size_t size,
		char *error, size_t error_size);
/* The same from a file, decompressed if it is gzip. */
int import_json_file(struct imported_run *in, const char *path,
		     char *error, size_t error_size);
void import_free(struct imported_run *in);

#endif
