/* Plain-text rendering: the periodic table and the final summary. */
#ifndef PFWATCH_RENDER_TEXT_H
#define PFWATCH_RENDER_TEXT_H

#include <stdio.h>
#include "aggregate.h"

/* The busiest processes since the last table, as rates. */
void render_interval(FILE *out, const struct aggregate *agg,
		     double interval_s, int top);
/* Totals, rates and latency percentiles per class for the whole run. */
void render_summary(FILE *out, const struct aggregate *agg,
		    const struct run_info *run, int top);
/* A warning when events were lost: how many, per CPU, and which of the
 * run's numbers fall short; @whose prefixes it ("in A, " in a diff). */
void render_lost_events(FILE *out, const struct run_info *run, const char *whose);
/* Minor and major latency, one text line per power of two. */
void render_histogram(FILE *out, const struct fault_stats *stats);
/* --min-latency: a header, then one line per streamed fault. */
void render_fault_header(FILE *out);
void render_fault_record(FILE *out, const struct fault_record *record,
			 const char *comm, const char *mapping, const char *function);
/* "512 ns", "4.1 us", "80 us", "5.2 ms", "1.30 s": to @buf, returned. */
const char *format_ns(char *buf, size_t size, __u64 ns);
/* "512B", "12.5KiB", "3.2MiB", "1.1GiB". */
const char *format_bytes(char *buf, size_t size, __u64 bytes);

#endif
