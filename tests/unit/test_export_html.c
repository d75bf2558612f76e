/*
 * HTML page: self-contained, balanced, one heatmap column per interval,
 * and the burst's column the darkest. With --write FILE it writes the
 * same page for tests/html_check.py to load in a real browser.
 */
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "export_html.h"
#include "timeline.h"

#define INTERVALS 5
#define BURST 2

static struct proc_stats slot;
static struct aggregate agg;
static struct timeline tl;
static struct stack_table stacks;

/* 2 s of 100 quick faults a second, a burst of 30000 slow ones, 2 s more. */
static int burst_run(void)
{
	aggregate_init(&agg);
	if (timeline_init(&tl, 1.0, TIMELINE_MAX_INTERVALS))
		return -1;
	slot.tgid = 4242;
	slot.start_ns = 1;
	snprintf(slot.comm, COMM_LEN, "<burst>");
	for (int i = 0; i < INTERVALS; i++) {
		for (int f = 0; f < 100; f++) {
			slot.hist[FAULT_ANON_ZERO][hist_bucket(1000 + 30 * f)]++;
			slot.latency_sum_ns[FAULT_ANON_ZERO] += 1000 + 30 * f;
		}
		slot.hist[FAULT_FILE_READ][hist_bucket(200000)] += 3;
		slot.latency_sum_ns[FAULT_FILE_READ] += 600000;
		slot.cause_ns[FAULT_FILE_READ][CAUSE_IO] += 500000;
		slot.cause_faults[FAULT_FILE_READ][CAUSE_IO] += 3;
		for (int f = 0; i == BURST && f < 30000; f++) {
			slot.hist[FAULT_ANON_ZERO][hist_bucket(2000000 + 1000 * f)]++;
			slot.latency_sum_ns[FAULT_ANON_ZERO] += 2000000 + 1000 * f;
		}
		if (aggregate_update_slot(&agg, 1, &slot) || timeline_sample(&tl, i + 1.0, &agg))
			return -1;
	}
	return 0;
}

static int fill_stacks(void)
{
	static const char *const folded[] = {
		"<burst>;_start;main;touch_pages;[anon_zero]",
		"<burst>;_start;main;read_file;[file_read]",
		"<burst>;_start;main;std::vector<int>::push_back;[anon_zero]",
	};

	if (stacks_init(&stacks))
		return -1;
	for (size_t i = 0; i < 3; i++) {
		stacks.stacks[i].frames = strdup(folded[i]);
		stacks.stacks[i].count = 1000 * (i + 1);
		if (!stacks.stacks[i].frames)
			return -1;
		stacks.nr_stacks++;
	}
	return 0;
}

static int write_page(FILE *out)
{
	struct run_info run = {
		.backend = "perf", .kernel = "6.18.0-test <k>", .elapsed_s = INTERVALS,
		.start_time = { .tv_sec = 1796173200 }, .stacks = &stacks,
	};

	return export_html(out, &agg, &run, &tl);
}

static char *page_text(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (write_page(out)) {
		fclose(out);
		free(text);
		return NULL;
	}
	fclose(out);
	return text;
}

static int count(const char *text, const char *what)
{
	int n = 0;

	for (const char *at = strstr(text, what); at; at = strstr(at + 1, what))
		n++;
	return n;
}

/* The minor heatmap's SVG, cut out of @page (a copy). */
static char *heatmap(const char *page, const char *kind)
{
	char id[32];
	const char *start, *end;

	snprintf(id, sizeof(id), "id=\"heat-%s\"", kind);
	start = strstr(page, id);
	end = start ? strstr(start, "</svg>") : NULL;
	return end ? strndup(start, (size_t)(end - start)) : NULL;
}

static void page_is_whole_and_self_contained(void)
{
	char *page = page_text();

	CHECK(page, "no page");
	if (!page)
		return;
	CHECK(!strncmp(page, "<!DOCTYPE html>", 15), "no doctype");
	CHECK(strstr(page, "</html>\n"), "no end");
	CHECK(count(page, "<svg") == count(page, "</svg>"), "svg unbalanced");
	CHECK(count(page, "<g ") == count(page, "</g>"), "g unbalanced");
	CHECK(count(page, "<section>") == count(page, "</section>"), "sections unbalanced");
	CHECK(count(page, "<table") == count(page, "</table>"), "tables unbalanced");
	CHECK(count(page, "<title>") == count(page, "</title>"), "titles unbalanced");
	CHECK(!strstr(page, "http:") && !strstr(page, "https:") && !strstr(page, "src="),
	      "something is fetched");
	CHECK(!strstr(page, "<burst>") && strstr(page, "&lt;burst&gt;"), "comm not escaped");
	CHECK(strstr(page, "6.18.0-test &lt;k&gt;"), "kernel not escaped");
	CHECK(strstr(page, "std::vector&lt;int&gt;::push_back"), "frame not escaped");
	CHECK(strstr(page, "<td>file_read</td><td>io</td>"), "no causes row");
	free(page);
}

/* The lightness of a cell's fill, hsl(H,S%,L%); 101 if none. */
static double lightness(const char *rect)
{
	const char *fill = strstr(rect, "fill=\"hsl(");
	double h, s, l;

	if (!fill || sscanf(fill, "fill=\"hsl(%lf,%lf%%,%lf%%)", &h, &s, &l) != 3)
		return 101;
	return l;
}

static void heatmap_has_a_column_per_interval(void)
{
	char *page = page_text(), *minor = page ? heatmap(page, "minor") : NULL;
	double darkest = 101;
	int darkest_col = -1, col = -1;

	CHECK(minor, "no minor heatmap");
	if (!minor) {
		free(page);
		return;
	}
	CHECK(count(minor, "<g class=\"col\"") == INTERVALS, "%d columns for %d intervals",
	      count(minor, "<g class=\"col\""), INTERVALS);
	for (const char *at = minor; (at = strstr(at, "<")); at++) {
		if (!strncmp(at, "<g class=\"col\" data-col=\"", 25))
			col = atoi(at + 25);
		if (!strncmp(at, "<rect", 5) && strstr(at, "data-count") &&
		    lightness(at) < darkest) {
			darkest = lightness(at);
			darkest_col = col;
		}
	}
	CHECK(darkest_col == BURST, "the darkest cell is in column %d", darkest_col);
	CHECK(count(minor, "class=\"p99\"") == 1, "no p99 line");
	free(minor);
	minor = heatmap(page, "invalid");
	CHECK(!minor && strstr(page, "No invalid fault was timed."), "an invalid heatmap");
	free(minor);
	free(page);
}

static void flame_graph_has_the_frames(void)
{
	char *page = page_text();
	const char *flame = page ? strstr(page, "<svg id=\"flame\"") : NULL;

	CHECK(flame, "no flame graph");
	/* all, <burst>, _start, main, 3 leaves' functions and their classes */
	CHECK(flame && count(flame, "<g class=\"frame\"") == 10, "%d frames",
	      flame ? count(flame, "<g class=\"frame\"") : 0);
	CHECK(flame && strstr(flame, "all: 6000 faults, 100.00%"), "no root of 6000");
	free(page);
}

int main(int argc, char **argv)
{
	check.binary = "test_export_html";
	if (burst_run() || fill_stacks()) {
		fputs("test_export_html: out of memory\n", stderr);
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--write")) {
		FILE *out = fopen(argv[2], "w");
		int err = !out || write_page(out);

		if (out && fclose(out))
			err = 1;
		if (err)
			perror(argv[2]);
		return err;
	}
	RUN(page_is_whole_and_self_contained);
	RUN(heatmap_has_a_column_per_interval);
	RUN(flame_graph_has_the_frames);
	stacks_free(&stacks);
	timeline_free(&tl);
	aggregate_free(&agg);
	return check.failures ? 1 : 0;
}
