/*
 * libFuzzer target for the JSON reader: any bytes are either refused with
 * an error or rendered by every output that reads an imported file, and a
 * file pfwatch writes from what it read must read back. A timeline is
 * also rendered as report --timeline, --from/--to and the HTML page do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "export.h"
#include "export_html.h"
#include "export_json.h"
#include "import_json.h"
#include "render_timeline.h"
#include "report.h"

static void render_all(FILE *sink, struct imported_run *in)
{
	struct report_options only_major = { .class_mask = 1u << FAULT_FILE_READ, .top = 5 };

	report_one(sink, in, "fuzz", 10, GROUP_PROCESS);
	report_one(sink, in, "fuzz", 10, GROUP_CGROUP);
	report_diff(sink, in, "a", in, "b", 10);
	if (export_prom(sink, &in->agg, &in->run, false) ||
	    export_prom(sink, &in->agg, &in->run, true) || export_csv(sink, &in->agg, &in->run) ||
	    export_folded(sink, &in->agg, &in->run) ||
	    export_html(sink, &in->agg, &in->run, in->run.timeline))
		abort();
	if (in->run.timeline && in->timeline.nr_intervals) {
		struct report_window all = { .set = true, .end = in->timeline.nr_intervals };
		struct report_window wins[2] = { all, { .set = true, .first = all.end - 1, .end = all.end } };

		report_window(sink, in, "fuzz", &all, 10);
		report_diff_windows(sink, in, "a", in, "b", 10, wins);
		render_timeline(sink, in->run.timeline, 0, 10, false);
	}
	report_filter(in, &only_major);
	report_one(sink, in, "fuzz", 10, GROUP_PROCESS);
}

/* What the reader accepted, written and read again, must be accepted. */
static void round_trip(struct imported_run *in)
{
	struct imported_run *again = malloc(sizeof(*again));
	char *text = NULL, error[256];
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!again || !out || export_json(out, &in->agg, &in->run) || fclose(out))
		abort();
	if (import_json(again, text, size, error, sizeof(error))) {
		fprintf(stderr, "written file does not read back: %s\n", error);
		abort();
	}
	import_free(again);
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imported_run *in = malloc(sizeof(*in));
	FILE *sink = fopen("/dev/null", "w");
	char error[256];

	if (!in || !sink)
		abort();
	if (!import_json(in, (const char *)data, size, error, sizeof(error))) {
		round_trip(in);
		render_all(sink, in);
		import_free(in);
	}
	fclose(sink);
	free(in);
	return 0;
}
