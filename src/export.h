/*
 * Export files: which format, and the atomic write every format shares
 * (a temporary file beside the target, renamed over it when complete).
 */
#ifndef PFWATCH_EXPORT_H
#define PFWATCH_EXPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "aggregate.h"

enum export_format {
	FORMAT_AUTO, FORMAT_JSON, FORMAT_CSV, FORMAT_PROM, FORMAT_FOLDED, FORMAT_PPROF,
	FORMAT_HTML,
};

struct export_target {
	const char *path;
	enum export_format format;	/* never FORMAT_AUTO once resolved */
	bool gzip;			/* the path ends in .gz */
};

/* "json", "csv", "prom", "folded", "pprof", "html" to a format; FORMAT_AUTO if unknown. */
enum export_format export_format_named(const char *name);
const char *export_format_name(enum export_format format);
/*
 * The target for @path: @format, or else the one its extension names
 * (.json, .csv, .prom, .folded, .pb, .html, each optionally followed by
 * .gz); JSON for any other extension. pprof is always compressed, as
 * pprof's own profiles are.
 */
struct export_target export_target_for(const char *path, enum export_format format);

/* Writes the whole file, atomically; 0, or -1 after one line on stderr. */
int export_file(const struct export_target *target, const struct aggregate *agg,
		const struct run_info *run);

/* The writers, each to a stream; 0, or -1 if a write failed. */
int export_csv(FILE *out, const struct aggregate *agg, const struct run_info *run);
/* @openmetrics: OpenMetrics 1.0 instead of the text format 0.0.4. */
int export_prom(FILE *out, const struct aggregate *agg, const struct run_info *run,
		bool openmetrics);
int export_folded(FILE *out, const struct aggregate *agg, const struct run_info *run);
/* profile.proto: from the stacks, else from --where's code; -1 without. */
int export_pprof(FILE *out, const struct aggregate *agg, const struct run_info *run);

#endif
