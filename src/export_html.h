/*
 * pfwatch report -o FILE.html: one self-contained page (inline SVG, CSS
 * and a little script, nothing fetched) for a person to read the run:
 * its facts, faults per second by class and time in faults over time,
 * a latency heatmap per kind, the top processes, the causes, with
 * --where its tables and, with --stacks, a flame graph.
 */
#ifndef PFWATCH_EXPORT_HTML_H
#define PFWATCH_EXPORT_HTML_H

#include <stdio.h>
#include "aggregate.h"
#include "stacks.h"
#include "timeline.h"

/* Past this many intervals, adjacent ones share a heatmap column. */
#define HTML_MAX_COLUMNS 1200
#define HTML_TOP_PROCESSES 20
#define HTML_WHERE_ROWS 20

/* The page; @tl may be NULL (a file without a timeline). 0, or -1. */
int export_html(FILE *out, const struct aggregate *agg, const struct run_info *run,
		const struct timeline *tl);
struct where_table;
/* --where's mappings, files and code tables (export_html_where.c). */
void html_where_tables(FILE *out, const struct where_table *where);
/* The flame graph's SVG (export_flame.c); -1 if it had to be left out. */
int html_flame_graph(FILE *out, const struct stack_table *stacks);
/* @len bytes of @text, with &, <, >, " and ' as entities. */
void html_escape_len(FILE *out, const char *text, size_t len);
void html_escape(FILE *out, const char *text);

#endif
