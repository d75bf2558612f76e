/*
 * libFuzzer target for the timeline's reader: any bytes are refused with
 * an error, or read, rendered (text and HTML) and written, and what was
 * written reads back the same.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export_html.h"
#include "render_timeline.h"
#include "timeline.h"

static void same_again(const struct timeline *tl)
{
	static struct fault_stats a, b;
	struct timeline again;
	char *text = NULL, error[256];
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	json_t *json;

	if (!out || timeline_write_document(out, tl) || fclose(out))
		abort();
	json = json_loadb(text, size, 0, NULL);
	if (!json || timeline_read_json(&again, json, error, sizeof(error))) {
		fprintf(stderr, "written timeline does not read back: %s\n", json ? error : text);
		abort();
	}
	if (again.nr_intervals != tl->nr_intervals)
		abort();
	for (size_t i = 0; i < tl->nr_intervals; i++) {
		timeline_sum(tl, i, i + 1, &a);
		timeline_sum(&again, i, i + 1, &b);
		if (memcmp(&a, &b, sizeof(a)))
			abort();
	}
	timeline_free(&again);
	json_decref(json);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *json = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct run_info run = { .backend = "fuzz" };
	struct aggregate agg;
	struct timeline tl;
	FILE *sink;
	char error[256];

	if (!json)
		return 0;
	if (!timeline_read_json(&tl, json, error, sizeof(error))) {
		sink = fopen("/dev/null", "w");
		aggregate_init(&agg);
		if (!sink || export_html(sink, &agg, &run, &tl))
			abort();
		render_timeline(sink, &tl, 1796173200, 40, false);
		same_again(&tl);
		fclose(sink);
		timeline_free(&tl);
	}
	json_decref(json);
	return 0;
}
