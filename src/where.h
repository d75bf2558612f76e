/*
 * Where the faults are (--where): every streamed fault placed in its
 * process's mapping, its file and offset, its page, and the code that
 * touched it. Userspace work on the ring buffer's records, bounded in
 * memory; what cannot be placed is counted, not guessed.
 */
#ifndef PFWATCH_WHERE_H
#define PFWATCH_WHERE_H

#include <stdio.h>
#include <stddef.h>
#include "aggregate.h"
#include "proc_maps.h"
#include "symbols.h"

/* Bounds: past them, faults are still counted in the untracked totals. */
#define WHERE_MAX_MAPPINGS 16384
#define WHERE_MAX_FILES 4096
#define WHERE_MAX_PAGES (1u << 18)
#define WHERE_MAX_CODE 16384
/* A file's heat map: at most this many ranges, each a power of two long. */
#define WHERE_HEAT_RANGES 64
/* A major fault within this distance after the previous one is sequential. */
#define WHERE_SEQUENTIAL_WINDOW (256u << 10)

/* Faults per shown kind: minor, major, invalid (errors included). */
#define WHERE_KINDS NR_SHOWN_KINDS

struct where_mapping {
	__u32 tgid;
	char comm[COMM_LEN];
	__u64 start, end;
	__u64 inode;			/* 0 for anonymous memory */
	unsigned dev_major, dev_minor;
	enum mapping_kind kind;
	char *path;			/* "" for anonymous memory */
	__u64 count[NR_FAULT_CLASSES];
	__u64 latency_ns;
};

struct where_file {
	char *path;
	__u64 majors, minors;
	__u64 major_latency_ns;
	__u64 first_offset, last_offset;	/* lowest and highest faulted */
	__u64 sequential, random;		/* majors, by distance to the last */
	__u64 previous_offset;
	__u32 previous_tgid;
	unsigned heat_shift;			/* each range is 2^heat_shift bytes */
	__u64 heat[WHERE_HEAT_RANGES];		/* majors per range from offset 0 */
};

struct where_page {
	__u32 tgid;			/* 0: free entry */
	__u64 page;			/* address / page size */
	__u32 count[WHERE_KINDS];
};

struct where_code {
	char *binary;			/* "[anon]", "[vdso]", "[kernel]" or a path */
	char *symbol;			/* "" when the binary has no symbol there */
	char *source;			/* "file.c:123", "" without DWARF lines */
	char build_id[41];		/* the binary's GNU build ID, hex, or "" */
	__u64 count[WHERE_KINDS];
	/* Per class, for pprof (not in JSON: 0 when read from a file). */
	__u64 class_count[NR_FAULT_CLASSES];
	__u64 class_latency_ns[NR_FAULT_CLASSES];
};

struct where_indexes;

#define WHERE_MAX_DEFERRED 65536

/* A fault whose binary's debug file was being fetched when it came. */
struct deferred_code {
	const struct binary_symbols *binary;
	__u64 file_offset;		/* of the instruction in the binary */
	__u32 latency_ns;
	__u32 fault_class;
};

struct where_table {
	struct where_mapping *mappings;
	size_t nr_mappings;
	struct where_file *files;
	size_t nr_files;
	struct where_page *pages;	/* open addressing, WHERE_MAX_PAGES */
	size_t nr_pages;		/* distinct pages (a file may say more) */
	struct where_code *code;
	size_t nr_code;
	struct where_indexes *indexes;	/* where.c's lookup tables */
	struct deferred_code *deferred;	/* not in code[] yet */
	size_t nr_deferred, deferred_room;
	size_t fetches_seen;		/* debug fetches ended at the last replay */
	__u64 placed;			/* faults resolved to a mapping */
	__u64 unplaced;			/* process or mapping gone first */
	__u64 untracked;		/* a table was full */
	__u64 page_size;
};

int where_init(struct where_table *where);
void where_free(struct where_table *where);
/* One streamed fault, resolved through @maps while the process lives. */
void where_add(struct where_table *where, struct maps_cache *maps,
	       struct symbolizer *symbols, const struct fault_record *record,
	       const char *comm);

/*
 * Before the summary: waits up to @timeout_ms for the debug files on
 * their way, then counts the faults that waited for them in code[].
 */
void where_settle(struct where_table *where, struct symbolizer *symbols, int timeout_ms);

/*
 * One fault's place as text, for the --min-latency stream: its mapping
 * ("[heap]", "anon", "/lib/x.so+0x1000", "-" when gone), the function of
 * its instruction ("?" without a symbol there) and its source line
 * ("file.c:123", "" without one).
 */
void where_describe(struct maps_cache *maps, struct symbolizer *symbols,
		    const struct fault_record *record, char *mapping,
		    size_t mapping_size, char *function, size_t function_size,
		    char *source, size_t source_size);

/* Adds @count to a page's counts; -1 when the table is full. */
int where_put_page(struct where_table *where, __u32 tgid, __u64 page,
		   const __u32 *count);


__u64 where_mapping_total(const struct where_mapping *m);
/* A mapping's faults of one shown kind (KIND_INVALID includes errors). */
__u64 where_mapping_count(const struct where_mapping *m, enum class_kind kind);
/*
 * A file's heat map as text, " " (none) to "@" (the hottest), one
 * character per range, or per group of ranges if @size - 1 is fewer.
 */
void where_heat_text(char *buf, size_t size, const struct where_file *f);

enum where_list { WHERE_MAPPINGS, WHERE_FILES, WHERE_PAGES, WHERE_CODE };

/*
 * A list's entries, most faults first (files: most majors), as indexes
 * into its array: malloc'd, @n long; NULL when out of memory.
 */
size_t *where_rank(const struct where_table *where, enum where_list list, size_t *n);

/* The text sections of the summary: mappings, files, pages, code. */
void render_where(FILE *out, const struct where_table *where, int top);

#endif
