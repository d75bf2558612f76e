/*
 * Debug files from debuginfod servers (DEBUGINFOD_URLS), fetched by one
 * background thread with libdebuginfod, one build ID after another, into
 * libdebuginfod's own cache: whoever asks is never kept waiting.
 */
#ifndef PFWATCH_DEBUG_FETCH_H
#define PFWATCH_DEBUG_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#define DEBUG_FETCH_MAX 256

enum fetch_state { FETCH_PENDING, FETCH_DONE, FETCH_FAILED };

struct debug_fetcher;

/* NULL when DEBUGINFOD_URLS is unset or empty (or out of memory). */
struct debug_fetcher *debug_fetcher_new(void);
/* Stops the fetch under way within a second or so, and the thread. */
void debug_fetcher_free(struct debug_fetcher *fetcher);
/*
 * Asks for the debug file of @build_id (hex) if not asked before: DONE
 * with its path in @path, PENDING while on its way, FAILED when no
 * server has it (or more than DEBUG_FETCH_MAX were asked for).
 */
enum fetch_state debug_fetch(struct debug_fetcher *fetcher, const char *build_id,
			     char *path, size_t size);
/* How many fetches have ended, found or not. */
size_t debug_fetches_ended(struct debug_fetcher *fetcher);
/* Waits up to @timeout_ms for every fetch asked for; true if none is left. */
bool debug_fetcher_wait(struct debug_fetcher *fetcher, int timeout_ms);

#endif
