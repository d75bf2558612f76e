/* The HTML page's --where tables: mappings, files and code, most faults first. */
#include <stdlib.h>
#include "export_html.h"
#include "render_text.h"
#include "where.h"

static __u64 mapping_faults(const struct where_mapping *m)
{
	return class_counts_total(m->count);
}

static void write_mappings(FILE *out, const struct where_table *where)
{
	size_t n, *order = where_rank(where, WHERE_MAPPINGS, &n);
	char time[16];

	fputs("<h3>Mappings</h3>\n<table id=\"where-mappings\"><tr><th>PID</th><th>command</th>"
	      "<th>kind</th><th>path</th><th>faults</th><th>in faults</th></tr>\n", out);
	for (size_t i = 0; order && i < n && i < HTML_WHERE_ROWS; i++) {
		const struct where_mapping *m = &where->mappings[order[i]];

		fprintf(out, "<tr><td>%u</td><td>", m->tgid);
		html_escape(out, m->comm);
		fprintf(out, "</td><td>%s</td><td>", mapping_kind_name(m->kind));
		html_escape(out, m->path);
		fprintf(out, "</td><td>%llu</td><td>%s</td></tr>\n",
			(unsigned long long)mapping_faults(m),
			format_ns(time, sizeof(time), m->latency_ns));
	}
	fputs("</table>\n", out);
	free(order);
}

static void write_files(FILE *out, const struct where_table *where)
{
	size_t n, *order = where_rank(where, WHERE_FILES, &n);
	char time[16];

	fputs("<h3>Files</h3>\n<table id=\"where-files\"><tr><th>path</th><th>major</th>"
	      "<th>cached</th><th>major time</th><th>sequential</th><th>random</th></tr>\n", out);
	for (size_t i = 0; order && i < n && i < HTML_WHERE_ROWS; i++) {
		const struct where_file *f = &where->files[order[i]];

		fputs("<tr><td>", out);
		html_escape(out, f->path);
		fprintf(out, "</td><td>%llu</td><td>%llu</td><td>%s</td><td>%llu</td><td>%llu</td></tr>\n",
			(unsigned long long)f->majors, (unsigned long long)f->minors,
			format_ns(time, sizeof(time), f->major_latency_ns),
			(unsigned long long)f->sequential, (unsigned long long)f->random);
	}
	fputs("</table>\n", out);
	free(order);
}

static void write_code(FILE *out, const struct where_table *where)
{
	size_t n, *order = where_rank(where, WHERE_CODE, &n);

	fputs("<h3>Code</h3>\n<table id=\"where-code\"><tr><th>function</th><th>source</th>"
	      "<th>binary</th><th>minor</th><th>major</th><th>invalid</th></tr>\n", out);
	for (size_t i = 0; order && i < n && i < HTML_WHERE_ROWS; i++) {
		const struct where_code *c = &where->code[order[i]];

		fputs("<tr><td>", out);
		html_escape(out, c->symbol && *c->symbol ? c->symbol : "?");
		fputs("</td><td>", out);
		html_escape(out, c->source ? c->source : "");
		fputs("</td><td>", out);
		html_escape(out, c->binary);
		fprintf(out, "</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
			(unsigned long long)c->count[KIND_MINOR], (unsigned long long)c->count[KIND_MAJOR],
			(unsigned long long)c->count[KIND_INVALID]);
	}
	fputs("</table>\n", out);
	free(order);
}

void html_where_tables(FILE *out, const struct where_table *where)
{
	fprintf(out, "<h2>Where the faults were (--where)</h2>\n<p class=\"note\">%llu faults "
		"placed, %llu unplaced (the process or mapping gone first), %llu past a "
		"table's bound; the first %d rows of each table.</p>\n",
		(unsigned long long)where->placed, (unsigned long long)where->unplaced,
		(unsigned long long)where->untracked, HTML_WHERE_ROWS);
	write_mappings(out, where);
	write_files(out, where);
	write_code(out, where);
}
