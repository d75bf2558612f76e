/* JSON export of the final aggregate (schema: docs/json-schema.md). */
#ifndef PFWATCH_EXPORT_JSON_H
#define PFWATCH_EXPORT_JSON_H

#include <stdio.h>
#include "aggregate.h"

#define JSON_SCHEMA_VERSION 1

/* Writes the document to @out; 0, or -1 if a write failed. */
int export_json(FILE *out, const struct aggregate *agg,
		const struct run_info *run);
#endif
