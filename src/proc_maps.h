/* /proc/PID/maps: parsed, searchable, cached per process. */
#ifndef PFWATCH_PROC_MAPS_H
#define PFWATCH_PROC_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "pfwatch.h"

enum mapping_kind {
	MAPPING_ANON,
	MAPPING_HEAP,
	MAPPING_STACK,
	MAPPING_FILE,	/* also shared anonymous memory: "/dev/zero (deleted)" */
	MAPPING_SPECIAL,	/* [vdso], [vvar], [vsyscall] and other [...] */
};

struct mapping {
	__u64 start, end, offset, inode;
	unsigned dev_major, dev_minor;
	bool readable, writable, executable, shared;
	bool deleted;		/* the file was unlinked: " (deleted)" */
	enum mapping_kind kind;
	char path[PATH_MAX];	/* "" for anonymous memory */
};

struct maps_table {
	struct mapping *mappings;	/* sorted by start, as the kernel lists them */
	size_t count;
};

const char *mapping_kind_name(enum mapping_kind kind);
/* 0, or -EINVAL for a line that is not a maps line. */
int maps_parse_line(const char *line, struct mapping *out);
/* 0, or -errno (-EINVAL: a bad line, or mappings out of order or
 * overlapping); on failure @table is left empty. */
int maps_table_load(struct maps_table *table, FILE *in);
int maps_table_read_pid(struct maps_table *table, pid_t pid);
const struct mapping *maps_table_find(const struct maps_table *table, __u64 addr);
void maps_table_free(struct maps_table *table);

#define MAPS_CACHE_PROCESSES 16

/* Recently asked-about processes; a miss re-reads the process's maps. */
struct maps_cache {
	struct maps_cache_entry {
		pid_t pid;
		struct maps_table table;
		unsigned long last_used;
		unsigned long generation;	/* the cache's, when read */
	} entries[MAPS_CACHE_PROCESSES];
	unsigned long clock;
	unsigned long generation;
};

void maps_cache_init(struct maps_cache *cache);
const struct mapping *maps_cache_find(struct maps_cache *cache, pid_t pid,
				      __u64 addr);
/*
 * Tables read before this call are read again on their next use: a hit
 * in an old table may be a range since unmapped and mapped to another
 * file. Misses always re-read.
 */
void maps_cache_new_generation(struct maps_cache *cache);
void maps_cache_forget(struct maps_cache *cache, pid_t pid);
void maps_cache_free(struct maps_cache *cache);

#endif
