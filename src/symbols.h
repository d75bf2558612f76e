/*
 * Code addresses to functions and source lines, with elfutils' libdwfl:
 * the binary's own symbol table and DWARF, else its separate debug file
 * (by build ID under the debug directory, or by .gnu_debuglink), else,
 * when DEBUGINFOD_URLS is set, the debug file a debuginfod server has,
 * fetched in the background (never on the caller's time). Cached per
 * binary (device, inode and path, so a binary replaced under the same
 * path is read again); fetches per build ID.
 */
#ifndef PFWATCH_SYMBOLS_H
#define PFWATCH_SYMBOLS_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include "proc_maps.h"

#define SYMBOLS_MAX_BINARIES 256
#define SYMBOLS_MAX_LOADS 16
#define SYMBOLS_DEBUG_DIR "/usr/lib/debug"
/* Recent answers, by address: a fault's instruction repeats. */
#define SYMBOLS_RECENT 1024

struct debug_fetcher;

struct binary_symbols {
	char *path;
	__u64 inode;
	unsigned dev_major, dev_minor;
	char build_id[41];		/* hex, "" if the binary has none */
	Dwfl *dwfl;			/* the binary alone, at its link addresses */
	Dwfl_Module *module;		/* NULL: not an ELF file pfwatch can read */
	bool fetching;			/* its debug file is on its way */
	struct symbolizer *owner;
	struct load_segment {
		__u64 offset, vaddr, size;
	} loads[SYMBOLS_MAX_LOADS];
	size_t nr_loads;
};

struct symbolizer {
	struct binary_symbols **binaries;
	size_t nr_binaries;
	char *debuginfo_path;		/* libdwfl's: "+:.debug:DIR" */
	const char *debug_dir;		/* DIR: where build-ID debug files are */
	Dwfl_Callbacks callbacks;
	struct debug_fetcher *fetcher;	/* NULL without DEBUGINFOD_URLS */
	struct recent_answer {
		const struct binary_symbols *binary;	/* NULL: empty */
		__u64 vaddr;
		const char *function, *file;
		int line;
	} recent[SYMBOLS_RECENT];	/* direct-mapped, cleared on a reread */
};

/* Where an address is: all NULL or 0 when not known. */
struct code_place {
	const struct binary_symbols *binary;
	const char *function;
	const char *file;		/* the source file, as DWARF names it */
	int line;
};

/* 0, or -1 when out of memory; @debug_dir NULL: SYMBOLS_DEBUG_DIR. */
int symbolizer_init(struct symbolizer *symbols, const char *debug_dir);
/* Before the first lookup: where build-ID debug files are; 0 or -1. */
int symbolizer_set_debug_dir(struct symbolizer *symbols, const char *debug_dir);
/* Stops a fetch under way (the server's answer is not waited for). */
void symbolizer_free(struct symbolizer *symbols);
/*
 * The function holding @addr, an address in @mapping of a process; NULL
 * if the file cannot be read or has no function there. @place (if not
 * NULL) also gets the binary and the source line. The strings stay valid
 * until the next call.
 */
const char *symbolize(struct symbolizer *symbols, const struct mapping *mapping,
		      __u64 addr, struct code_place *place);
/*
 * "file.c:123" (the file's last component) into @buf, or "" without a
 * line; @buf is returned.
 */
char *code_place_source(const struct code_place *place, char *buf, size_t size);
/*
 * Waits up to @timeout_ms for the debug files being fetched; true when
 * none is left on its way. For summaries written at the end of a run.
 */
bool symbolizer_settle(struct symbolizer *symbols, int timeout_ms);
/* How many fetches have ended: a change says some binary may read better. */
size_t symbolizer_fetches_ended(struct symbolizer *symbols);

#endif
