/*
 * libFuzzer target for the /proc/PID/maps parser: any line is parsed or
 * refused, and a table of any lines is searchable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct maps_table table;
	struct mapping one;
	FILE *in;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	/* The first line alone, as the parser sees one. */
	if (!maps_parse_line(text, &one) && one.start > one.end)
		abort();
	in = fmemopen(text, size ? size : 1, "r");
	if (in && !maps_table_load(&table, in)) {
		for (size_t i = 0; i < table.count; i++) {
			const struct mapping *m = &table.mappings[i];

			if (maps_table_find(&table, m->start) == NULL && m->start < m->end)
				abort();
		}
		maps_table_find(&table, 0);
		maps_table_find(&table, ~0ULL);
		maps_table_free(&table);
	}
	if (in)
		fclose(in);
	free(text);
	return 0;
}
