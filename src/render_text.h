/* Plain-text rendering: the periodic table and the final summary. */
#ifndef PFWATCH_RENDER_TEXT_H
#define PFWATCH_RENDER_TEXT_H

#include <stdio.h>
#include "aggregate.h"
#include "view.h"

/* The busiest processes (or cgroups) since the last table, as rates. */
void render_interval(FILE *out, const struct aggregate *agg,
		     const struct run_info *run, double interval_s, int top,
		     enum row_group group);
/*
 * Totals, rates and latency percentiles per class for the whole run, then
 * the busiest processes (not for pfwatch -- CMD) or every cgroup's row.
 */
void render_summary(FILE *out, const struct aggregate *agg,
		    const struct run_info *run, int top, enum row_group group);
/* A warning when events were lost: how many, per CPU, and which of the
 * run's numbers fall short; @whose prefixes it ("in A, " in a diff). */
void render_lost_events(FILE *out, const struct run_info *run, const char *whose);
/* Minor and major latency, one text line per power of two. */
void render_histogram(FILE *out, const struct fault_stats *stats);
/* --min-latency: a header, then one line per streamed fault. */
void render_fault_header(FILE *out);
/* @wait_ns: [NR_WAIT_CAUSES] for a fault that waited, else NULL. */
void render_fault_record(FILE *out, const struct fault_record *record,
			 const __u32 *wait_ns, const char *comm, const char *mapping,
			 const char *function, const char *source);
/*
 * A fault's time by cause, longest first, cpu being what the waits leave
 * of @latency_ns: ": memcg_reclaim 29.8 ms, cpu 1.7 ms". To @buf, returned.
 */
const char *format_fault_causes(char *buf, size_t size, __u32 latency_ns,
				const __u32 wait_ns[NR_WAIT_CAUSES]);
/* "512 ns", "4.1 us", "80 us", "5.2 ms", "1.30 s": to @buf, returned. */
const char *format_ns(char *buf, size_t size, __u64 ns);
/* "512B", "12.5KiB", "3.2MiB", "1.1GiB". */
const char *format_bytes(char *buf, size_t size, __u64 bytes);

#endif
