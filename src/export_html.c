/*
 * The HTML page: plain HTML tables and inline SVG drawn here, colours by
 * CSS (light or dark as the reader's system prefers), hover text from SVG
 * <title>s, and a few lines of script only for the flame graph's zoom.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "export_html.h"
#include "hist.h"
#include "render_text.h"

#define CHART_WIDTH 1200
#define CHART_HEIGHT 200
#define PLOT_LEFT 70
#define PLOT_RIGHT 10
#define PLOT_TOP 10
#define PLOT_BOTTOM 24
#define HEAT_ROW_MAX 24
#define HEAT_HEIGHT_MAX 360

/* One heatmap column: an interval, or several past HTML_MAX_COLUMNS. */
struct column {
	size_t first, end;
	double start_s, length_s;
	__u64 count[NR_FAULT_CLASSES];
	__u64 ns;
	__u64 hist[NR_SHOWN_KINDS][HIST_BUCKETS];
	const struct timeline_interval *busiest;	/* whose top it lists */
};

struct page {
	FILE *out;
	const struct timeline *tl;
	struct column *columns;
	size_t nr_columns;
	time_t start;		/* the run's start, wall clock; 0 unknown */
};

void html_escape_len(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len && text[i]; i++) {
		switch (text[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(text[i], out);
		}
	}
}

void html_escape(FILE *out, const char *text)
{
	html_escape_len(out, text, strlen(text));
}

static const char style[] =
	":root{color-scheme:light dark;--bg:#fafafa;--fg:#1d1f21;--dim:#6b6f76;"
	"--panel:#fff;--line:#d8dadd;--warn:#b3261e;--p99:#0b57d0}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#e3e3e3;"
	"--dim:#9a9ea6;--panel:#202124;--line:#3c4043;--warn:#f28b82;--p99:#8ab4f8}}\n"
	"body{margin:0 auto;max-width:1260px;padding:16px;background:var(--bg);"
	"color:var(--fg);font:14px/1.45 system-ui,sans-serif}\n"
	"h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px}\n"
	"section{background:var(--panel);border:1px solid var(--line);border-radius:6px;"
	"padding:8px 12px;margin:12px 0}\n"
	".facts{display:flex;flex-wrap:wrap;gap:4px 24px;color:var(--dim)}"
	".facts b{color:var(--fg);font-weight:600}.warn,.warn b{color:var(--warn)}\n"
	".note{color:var(--dim);margin:4px 0}\n"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
	"th,td{padding:2px 10px;text-align:right;border-bottom:1px solid var(--line)}"
	"th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}\n"
	"svg text{fill:var(--dim);font:11px system-ui,sans-serif}"
	"#time rect,.heatmap rect{shape-rendering:crispEdges}"
	"svg .axis{stroke:var(--line)}.p99{fill:none;stroke:var(--p99);stroke-width:1.5}\n"
	".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;"
	"width:10px;height:10px;margin-right:4px;vertical-align:-1px}\n"
	".flame text{fill:#000;font-size:11px;pointer-events:none}.flame g{cursor:pointer}\n";

/* Minor classes blue to green, major orange, invalid red to grey. */
static const char *const class_colour[NR_FAULT_CLASSES] = {
	"#4e79a7", "#76b7e0", "#59a14f", "#8cd17d", "#499894", "#86bcb6", "#b07aa1",
	"#f28e2b", "#ffbe7d", "#e15759", "#ff9d9a", "#9d7660", "#bab0ac",
};

/* The timeline's intervals, HTML_MAX_COLUMNS at most; NULL, no memory. */
static struct column *columns_of(const struct timeline *tl, size_t *nr)
{
	size_t per = (tl->nr_intervals + HTML_MAX_COLUMNS - 1) / HTML_MAX_COLUMNS;
	struct fault_stats *sum = malloc(sizeof(*sum));
	struct column *columns;

	per = per ? per : 1;
	*nr = (tl->nr_intervals + per - 1) / per;
	columns = calloc(*nr ? *nr : 1, sizeof(*columns));
	for (size_t c = 0; sum && columns && c < *nr; c++) {
		struct column *col = &columns[c];
		__u64 busiest_ns = 0;

		col->first = c * per;
		col->end = col->first + per < tl->nr_intervals ? col->first + per
							       : tl->nr_intervals;
		col->start_s = timeline_start_s(tl, col->first);
		memset(sum, 0, sizeof(*sum));
		for (size_t i = col->first; i < col->end; i++) {
			const struct timeline_interval *interval = &tl->intervals[i];

			timeline_add_interval(tl, i, sum);
			col->length_s += timeline_length_s(tl, i);
			if (!col->busiest || (interval->nr_top && interval->top[0].ns > busiest_ns)) {
				col->busiest = interval;
				busiest_ns = interval->nr_top ? interval->top[0].ns : 0;
			}
		}
		memcpy(col->count, sum->count, sizeof(col->count));
		col->ns = stats_latency_sum(sum);
		for (enum class_kind kind = KIND_MINOR; kind < NR_SHOWN_KINDS; kind++)
			stats_kind_hist(sum, kind, col->hist[kind]);
	}
	free(sum);
	if (!sum) {
		free(columns);
		return NULL;
	}
	return columns;
}

static void write_clock(FILE *out, time_t start, double offset_s)
{
	time_t at = start + (time_t)offset_s;
	struct tm local;
	char text[16];

	if (start && localtime_r(&at, &local) && strftime(text, sizeof(text), "%H:%M:%S", &local))
		fprintf(out, "%s, ", text);
	fprintf(out, "+%.1f s", offset_s);
}

static void write_fact(FILE *out, const char *name, const char *value, bool warn)
{
	fprintf(out, "<span%s>%s <b>", warn ? " class=\"warn\"" : "", name);
	html_escape(out, value);
	fputs("</b></span>\n", out);
}

static void write_facts(struct page *page, const struct run_info *run,
			const struct fault_stats *total)
{
	FILE *out = page->out;
	char text[64], stamp[40];
	struct tm local;
	__u64 lost = run_lost_events(run);

	fputs("<h1>pfwatch: page faults", out);
	if (run->command && run->command[0]) {
		fputs(" of ", out);
		html_escape(out, run->command[0]);
	}
	fputs("</h1>\n<div class=\"facts\">\n", out);
	if (page->start && localtime_r(&page->start, &local) &&
	    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %Z", &local))
		write_fact(out, "started", stamp, false);
	snprintf(text, sizeof(text), "%.1f s", run->elapsed_s);
	write_fact(out, "lasted", text, false);
	write_fact(out, "kernel", run->kernel[0] ? run->kernel : "?", false);
	write_fact(out, "backend", run->backend ? run->backend : "?", false);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)lost);
	write_fact(out, "lost events", text, lost > 0);
	for (enum class_kind kind = KIND_MINOR; kind < NR_SHOWN_KINDS; kind++) {
		snprintf(text, sizeof(text), "%llu", (unsigned long long)stats_kind_count(total, kind));
		write_fact(out, class_kind_name(kind), text, false);
	}
	write_fact(out, "time in faults", format_ns(text, sizeof(text), stats_latency_sum(total)),
		   false);
	fputs("</div>\n", out);
	if (lost)
		fputs("<p class=\"warn\">Events were lost: the counts are complete, but the "
		      "lists of invalid faults, --where and --stacks miss some.</p>\n", out);
}

static double column_x(const struct page *page, size_t c)
{
	return PLOT_LEFT + (double)c * (CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT) /
			   (double)page->nr_columns;
}

/* The plot's frame, @top and @bottom labels at the left, times below. */
static void write_axes(const struct page *page, int height, const char *top,
		       const char *bottom_label)
{
	FILE *out = page->out;
	int bottom = height - PLOT_BOTTOM;

	fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		PLOT_LEFT, PLOT_TOP, PLOT_LEFT, bottom, PLOT_LEFT, bottom,
		CHART_WIDTH - PLOT_RIGHT, bottom);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
		PLOT_LEFT - 4, PLOT_TOP + 9, top, PLOT_LEFT - 4, bottom, bottom_label);
	for (int tick = 0; tick <= 4; tick++) {
		size_t c = page->nr_columns * (size_t)tick / 4;
		double offset = c < page->nr_columns ? page->columns[c].start_s : page->tl->end_s;

		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">",
			c < page->nr_columns ? column_x(page, c) : CHART_WIDTH - PLOT_RIGHT,
			height - 6, tick == 0 ? "start" : tick == 4 ? "end" : "middle");
		write_clock(out, page->start, offset);
		fputs("</text>\n", out);
	}
}

static double column_rate(const struct column *col, int c)
{
	return col->length_s > 0 ? (double)col->count[c] / col->length_s : 0;
}

/* Faults per second, one area per class stacked on the ones below. */
static void write_rates(struct page *page)
{
	FILE *out = page->out;
	double most = 0, plot = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM, *below;
	char label[32];

	below = calloc(page->nr_columns + 1, sizeof(*below));
	if (!below)
		return;
	for (size_t i = 0; i < page->nr_columns; i++) {
		double sum = 0;

		for (int c = 0; c < NR_FAULT_CLASSES; c++)
			sum += column_rate(&page->columns[i], c);
		most = sum > most ? sum : most;
	}
	most = most > 0 ? most : 1;
	fputs("<h2>Faults per second, by class</h2>\n<div class=\"legend\">", out);
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		fprintf(out, "<span><i style=\"background:%s\"></i>%s</span>", class_colour[c],
			fault_class_name(c));
	fprintf(out, "</div>\n<svg id=\"rates\" viewBox=\"0 0 %d %d\" width=\"100%%\">\n",
		CHART_WIDTH, CHART_HEIGHT);
	snprintf(label, sizeof(label), "%.0f/s", most);
	write_axes(page, CHART_HEIGHT, label, "0");
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		bool any = false;

		for (size_t i = 0; i < page->nr_columns; i++)
			any |= page->columns[i].count[c] > 0;
		if (!any)
			continue;
		fprintf(out, "<path fill=\"%s\" d=\"M%d %.1f", class_colour[c], PLOT_LEFT,
			PLOT_TOP + plot);
		for (size_t i = 0; i < page->nr_columns; i++) {
			double y = PLOT_TOP + plot - (below[i] + column_rate(&page->columns[i], c)) /
						     most * plot;

			fprintf(out, "L%.1f %.1fL%.1f %.1f", column_x(page, i), y,
				column_x(page, i + 1), y);
		}
		for (size_t i = page->nr_columns; i-- > 0;) {
			double y = PLOT_TOP + plot - below[i] / most * plot;

			fprintf(out, "L%.1f %.1fL%.1f %.1f", column_x(page, i + 1), y,
				column_x(page, i), y);
			below[i] += column_rate(&page->columns[i], c);
		}
		fprintf(out, "Z\"><title>%s</title></path>\n", fault_class_name(c));
	}
	fputs("</svg>\n", out);
	free(below);
}

static void write_column_title(const struct page *page, const struct column *col)
{
	FILE *out = page->out;
	char ns[16];

	fputs("<title>", out);
	write_clock(out, page->start, col->start_s);
	fprintf(out, " (%.1f s): %s in faults", col->length_s, format_ns(ns, sizeof(ns), col->ns));
	for (__u32 i = 0; col->busiest && i < col->busiest->nr_top; i++) {
		const struct timeline_top *top = &col->busiest->top[i];

		fprintf(out, "\n%u ", top->pid);
		html_escape(out, top->comm);
		fprintf(out, ": %s, %llu faults", format_ns(ns, sizeof(ns), top->ns),
			(unsigned long long)top->faults);
	}
	fputs("</title>", out);
}

/* Time in faults per second of each column, its top processes on hover. */
static void write_time_in_faults(struct page *page)
{
	FILE *out = page->out;
	double most = 0, plot = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
	char label[32];

	for (size_t i = 0; i < page->nr_columns; i++) {
		const struct column *col = &page->columns[i];
		double per_s = col->length_s > 0 ? (double)col->ns / col->length_s : 0;

		most = per_s > most ? per_s : most;
	}
	most = most > 0 ? most : 1;
	fprintf(out, "<h2>Time in faults</h2>\n<p class=\"note\">Milliseconds spent in page "
		"faults per second, all threads together; hover for the top processes.</p>\n"
		"<svg id=\"time\" viewBox=\"0 0 %d %d\" width=\"100%%\">\n", CHART_WIDTH,
		CHART_HEIGHT);
	snprintf(label, sizeof(label), "%.1f ms/s", most / 1e6);
	write_axes(page, CHART_HEIGHT, label, "0");
	for (size_t i = 0; i < page->nr_columns; i++) {
		const struct column *col = &page->columns[i];
		double per_s = col->length_s > 0 ? (double)col->ns / col->length_s : 0;
		double height = per_s / most * plot;

		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"#e15759\">", column_x(page, i), PLOT_TOP + plot - height,
			column_x(page, i + 1) - column_x(page, i), height);
		write_column_title(page, col);
		fputs("</rect>\n", out);
	}
	fputs("</svg>\n", out);
}

/* Light yellow for one fault to dark crimson for the most: log scale. */
static void heat_colour(char *out, size_t size, __u64 count, __u64 most)
{
	double t = most > 1 ? log((double)count) / log((double)most) : 1;

	snprintf(out, size, "hsl(%.0f,85%%,%.0f%%)", fmod(55 - 65 * t + 360, 360), 88 - 62 * t);
}

static void bucket_range(char *out, size_t size, __u32 b)
{
	char low[16], high[16];

	if (b == HIST_BUCKETS - 1)
		snprintf(out, size, "%s and more", format_ns(low, sizeof(low), hist_bucket_low(b)));
	else
		snprintf(out, size, "%s to %s", format_ns(low, sizeof(low), hist_bucket_low(b)),
			 format_ns(high, sizeof(high), hist_bucket_low(b + 1)));
}

/* The lowest and highest buckets any column of @kind has; false: none. */
static bool heat_rows(const struct page *page, enum class_kind kind, __u32 *low,
		      __u32 *high, __u64 *most)
{
	*low = HIST_BUCKETS;
	*high = 0;
	*most = 0;
	for (size_t i = 0; i < page->nr_columns; i++)
		for (__u32 b = 0; b < HIST_BUCKETS; b++) {
			__u64 n = page->columns[i].hist[kind][b];

			if (!n)
				continue;
			*low = b < *low ? b : *low;
			*high = b > *high ? b : *high;
			*most = n > *most ? n : *most;
		}
	return *most > 0;
}

static void write_heat_column(const struct page *page, size_t i, enum class_kind kind,
			      __u32 low, __u32 high, double row, __u64 most)
{
	const struct column *col = &page->columns[i];
	double x = column_x(page, i), width = column_x(page, i + 1) - x;
	char colour[32], range[48];
	FILE *out = page->out;

	fprintf(page->out, "<g class=\"col\" data-col=\"%zu\">", i);
	for (__u32 b = low; b <= high; b++) {
		if (!col->hist[kind][b])
			continue;
		heat_colour(colour, sizeof(colour), col->hist[kind][b], most);
		bucket_range(range, sizeof(range), b);
		fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"fill=\"%s\" data-count=\"%llu\"><title>", x,
			PLOT_TOP + (double)(high - b) * row, width, row, colour,
			(unsigned long long)col->hist[kind][b]);
		write_clock(out, page->start, col->start_s);
		fprintf(out, ": %s: %llu faults</title></rect>", range,
			(unsigned long long)col->hist[kind][b]);
	}
	fputs("</g>\n", out);
}

/* The p99 line: through each column's p99 row, broken where none. */
static void write_p99(const struct page *page, enum class_kind kind, __u32 high, double row)
{
	bool drawing = false;

	fputs("<path class=\"p99\" d=\"", page->out);
	for (size_t i = 0; i < page->nr_columns; i++) {
		const __u64 *hist = page->columns[i].hist[kind];
		double y;

		if (!hist_count(hist)) {
			drawing = false;
			continue;
		}
		y = PLOT_TOP + ((double)high - hist_bucket(hist_percentile(hist, 0.99)) + 0.5) * row;
		fprintf(page->out, "%c%.1f %.1fL%.1f %.1f", drawing ? 'L' : 'M',
			column_x(page, i), y, column_x(page, i + 1), y);
		drawing = true;
	}
	fputs("\"><title>p99</title></path>\n", page->out);
}

static void write_heatmap(struct page *page, enum class_kind kind)
{
	FILE *out = page->out;
	__u32 low, high;
	__u64 most;
	double row;
	int height;
	char label[16], low_label[16];
	size_t per;

	fprintf(out, "<h2>%s fault latency</h2>\n", class_kind_name(kind));
	if (!heat_rows(page, kind, &low, &high, &most)) {
		fprintf(out, "<p class=\"note\">No %s fault was timed.</p>\n", class_kind_name(kind));
		return;
	}
	row = (double)HEAT_HEIGHT_MAX / (high - low + 1);
	row = row > HEAT_ROW_MAX ? HEAT_ROW_MAX : row;
	height = (int)ceil(row * (high - low + 1)) + PLOT_TOP + PLOT_BOTTOM;
	per = page->columns[0].end - page->columns[0].first;
	fprintf(out, "<p class=\"note\">One column per ");
	if (per > 1)
		fprintf(out, "%zu intervals of %g s", per, page->tl->interval_s);
	else
		fprintf(out, "interval (%g s)", page->tl->interval_s);
	fprintf(out, ", one row per histogram bucket; darker: more faults (most: %llu in a "
		"cell). The line: p99.</p>\n<svg class=\"heatmap\" id=\"heat-%s\" "
		"data-columns=\"%zu\" viewBox=\"0 0 %d %d\" width=\"100%%\">\n",
		(unsigned long long)most, class_kind_name(kind), page->nr_columns, CHART_WIDTH,
		height);
	write_axes(page, height, format_ns(label, sizeof(label), hist_bucket_low(high + 1)),
		   format_ns(low_label, sizeof(low_label), hist_bucket_low(low)));
	for (size_t i = 0; i < page->nr_columns; i++)
		write_heat_column(page, i, kind, low, high, row, most);
	write_p99(page, kind, high, row);
	fputs("</svg>\n", out);
}

static void write_process_row(FILE *out, const struct process_record *p)
{
	__u64 hist[HIST_BUCKETS] = { 0 };
	char cells[3][16];

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		hist_add(hist, p->stats.hist[c]);
	fprintf(out, "<tr><td>%u</td><td>", p->tgid);
	html_escape(out, p->comm);
	if (p->folded)
		fprintf(out, " (%llu exited)", (unsigned long long)p->folded);
	fprintf(out, "</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%s</td><td>%s</td>"
		"<td>%s</td></tr>\n",
		(unsigned long long)stats_kind_count(&p->stats, KIND_MINOR),
		(unsigned long long)stats_kind_count(&p->stats, KIND_MAJOR),
		(unsigned long long)stats_kind_count(&p->stats, KIND_INVALID),
		format_ns(cells[0], 16, stats_latency_sum(&p->stats)),
		hist_count(hist) ? format_ns(cells[1], 16, hist_percentile(hist, 0.99)) : "-",
		hist_count(hist) ? format_ns(cells[2], 16, hist_max(hist)) : "-");
}

static void write_top_processes(FILE *out, const struct aggregate *agg)
{
	struct process_record **order = malloc((agg->nr_records + 1) * sizeof(*order));

	fputs("<h2>Top processes</h2>\n", out);
	if (!order) {
		fputs("<p class=\"note\">Out of memory for the table.</p>\n", out);
		return;
	}
	if (agg->nr_records) {
		memcpy(order, agg->records, agg->nr_records * sizeof(*order));
		qsort(order, agg->nr_records, sizeof(*order), records_by_time_in_faults);
	}
	fputs("<table id=\"top\"><tr><th>PID</th><th>command</th><th>minor</th><th>major</th>"
	      "<th>invalid</th><th>in faults</th><th>p99</th><th>max</th></tr>\n", out);
	for (size_t i = 0; i < agg->nr_records && i < HTML_TOP_PROCESSES; i++)
		write_process_row(out, order[i]);
	fputs("</table>\n", out);
	free(order);
}

/* Where each class's time went; only classes that were timed. */
static void write_causes(FILE *out, const struct fault_stats *total)
{
	char time[16];
	bool any = false;

	fputs("<h2>Where the time went</h2>\n<table id=\"causes\"><tr><th>class</th>"
	      "<th>cause</th><th>time</th><th>share of the class</th><th>faults</th></tr>\n", out);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
			__u64 ns = total->cause_ns[c][cause];

			if (!ns && !total->cause_faults[c][cause])
				continue;
			any = true;
			fprintf(out, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%.1f%%</td>"
				"<td>%llu</td></tr>\n", fault_class_name(c), fault_cause_name(cause),
				format_ns(time, sizeof(time), ns), total->latency_sum_ns[c]
				? 100.0 * (double)ns / (double)total->latency_sum_ns[c] : 0,
				(unsigned long long)total->cause_faults[c][cause]);
		}
	}
	fputs("</table>\n", out);
	if (!any)
		fputs("<p class=\"note\">No fault was timed.</p>\n", out);
}

/* Zoom: the frame clicked fills the width, its ancestors span it. */
static const char flame_script[] =
	"(function(){var svg=document.getElementById('flame');if(!svg)return;\n"
	"var W=+svg.dataset.width,frames=svg.querySelectorAll('g.frame');\n"
	"function zoom(x0,w0,d0){frames.forEach(function(g){var x=+g.dataset.x,w=+g.dataset.w,"
	"d=+g.dataset.d,r=g.querySelector('rect'),t=g.querySelector('text');\n"
	"var inside=x>=x0&&x+w<=x0+w0&&d>=d0,above=d<d0&&x<=x0&&x+w>=x0+w0;\n"
	"g.style.display=inside||above?'':'none';if(!inside&&!above)return;\n"
	"var px=above?0:(x-x0)/w0*W,pw=above?W:w/w0*W;r.setAttribute('x',px);"
	"r.setAttribute('width',pw);t.setAttribute('x',px+3);\n"
	"var name=g.querySelector('title').textContent.replace(/: \\d+ faults.*$/,''),"
	"fit=Math.max(0,Math.floor((pw-6)/7));t.textContent=name.length>fit?name.slice(0,fit):name;"
	"});}\n"
	"frames.forEach(function(g){g.addEventListener('click',function(){"
	"zoom(+g.dataset.x,+g.dataset.w,+g.dataset.d);});});})();\n";

static void write_timeline(struct page *page)
{
	if (!page->tl || !page->tl->nr_intervals) {
		fputs("<section><p class=\"note\">This run has no timeline.</p></section>\n", page->out);
		return;
	}
	page->columns = columns_of(page->tl, &page->nr_columns);
	if (!page->columns) {
		fputs("<section><p class=\"note\">Out of memory for the timeline.</p></section>\n",
		      page->out);
		return;
	}
	fputs("<section>\n", page->out);
	write_rates(page);
	write_time_in_faults(page);
	fputs("</section>\n<section>\n", page->out);
	for (enum class_kind kind = KIND_MINOR; kind < NR_SHOWN_KINDS; kind++)
		write_heatmap(page, kind);
	fputs("</section>\n", page->out);
	free(page->columns);
	page->columns = NULL;
}

int export_html(FILE *out, const struct aggregate *agg, const struct run_info *run,
		const struct timeline *tl)
{
	struct page page = { .out = out, .tl = tl, .start = run->start_time.tv_sec };
	struct fault_stats *total = malloc(sizeof(*total));

	if (!total)
		return -1;
	aggregate_totals(agg, total);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>pfwatch: ", out);
	html_escape(out, run->kernel[0] ? run->kernel : "run");
	fprintf(out, "</title>\n<style>\n%s</style></head>\n<body>\n<section>\n", style);
	write_facts(&page, run, total);
	fputs("</section>\n", out);
	write_timeline(&page);
	fputs("<section>\n", out);
	write_top_processes(out, agg);
	write_causes(out, total);
	fputs("</section>\n", out);
	if (run->where) {
		fputs("<section>\n", out);
		html_where_tables(out, run->where);
		fputs("</section>\n", out);
	}
	if (run->stacks) {
		fputs("<section>\n<h2>Where faults came from (--stacks)</h2>\n", out);
		html_flame_graph(out, run->stacks);
		fputs("</section>\n", out);
	}
	fprintf(out, "<script>\n%s</script>\n</body></html>\n", flame_script);
	free(total);
	return ferror(out) ? -1 : 0;
}
