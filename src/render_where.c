/* --where and --stacks as text: where faults are, and the code paths. */
#include <stdlib.h>
#include <string.h>
#include "render_text.h"
#include "stacks.h"
#include "where.h"

static void render_mappings(FILE *out, const struct where_table *where, int top)
{
	size_t n, *order = where_rank(where, WHERE_MAPPINGS, &n);
	char range[48], time_cell[16];

	if (!order || !n) {
		free(order);
		return;
	}
	fprintf(out, "\n Mappings that fault most:\n  %8s %-16s %-6s %-36s %8s %8s %8s %10s\n",
		"PID", "COMM", "KIND", "MAPPING", "MINOR", "MAJOR", "INVALID", "IN FAULTS");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct where_mapping *m = &where->mappings[order[i]];

		snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)m->start,
			 (unsigned long long)m->end);
		fprintf(out, "  %8u %-16s %-6s %-36s %8llu %8llu %8llu %10s\n", m->tgid,
			m->comm, mapping_kind_name(m->kind), m->path[0] ? m->path : range,
			(unsigned long long)where_mapping_count(m, KIND_MINOR),
			(unsigned long long)where_mapping_count(m, KIND_MAJOR),
			(unsigned long long)where_mapping_count(m, KIND_INVALID),
			format_ns(time_cell, sizeof(time_cell), m->latency_ns));
	}
	free(order);
}

static void render_files(FILE *out, const struct where_table *where, int top)
{
	size_t n, *order = where_rank(where, WHERE_FILES, &n);
	char heat[WHERE_HEAT_RANGES + 1], bytes[16], first[16], last[16], seq[8];

	if (!order || !n) {
		free(order);
		return;
	}
	fprintf(out, "\n Files by major faults (offsets of the majors; SEQ: share within %u KiB after the previous):\n"
		"  %8s %8s %9s %-21s %5s  %-*s  %s\n", WHERE_SEQUENTIAL_WINDOW >> 10,
		"MAJORS", "CACHED", "READ", "OFFSETS", "SEQ", 16, "HEAT", "FILE");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct where_file *f = &where->files[order[i]];
		char offsets[40] = "-";
		__u64 judged = f->sequential + f->random;

		strcpy(seq, "-");
		heat[0] = '\0';
		if (f->majors) {
			snprintf(offsets, sizeof(offsets), "%s-%s",
				 format_bytes(first, sizeof(first), f->first_offset),
				 format_bytes(last, sizeof(last), f->last_offset + where->page_size));
			where_heat_text(heat, sizeof(heat), f);
		}
		if (judged)
			snprintf(seq, sizeof(seq), "%.0f%%", 100.0 * f->sequential / judged);
		fprintf(out, "  %8llu %8llu %9s %-21s %5s  |%-*s|  %s\n",
			(unsigned long long)f->majors, (unsigned long long)f->minors,
			format_bytes(bytes, sizeof(bytes), f->majors * where->page_size),
			offsets, seq, 14, heat, f->path);
	}
	free(order);
}

static void render_pages(FILE *out, const struct where_table *where, int top)
{
	size_t n, *order = where_rank(where, WHERE_PAGES, &n);
	char faulted[16];

	if (!order || !n) {
		free(order);
		return;
	}
	fprintf(out, "\n Hottest pages (%zu distinct pages faulted: %s):\n  %8s %-18s %8s %8s %8s\n",
		where->nr_pages, format_bytes(faulted, sizeof(faulted), where->nr_pages * where->page_size),
		"PID", "PAGE", "MINOR", "MAJOR", "INVALID");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct where_page *p = &where->pages[order[i]];

		fprintf(out, "  %8u 0x%-16llx %8u %8u %8u\n", p->tgid,
			(unsigned long long)(p->page * where->page_size),
			p->count[0], p->count[1], p->count[2]);
	}
	free(order);
}

static void render_code(FILE *out, const struct where_table *where, int top)
{
	size_t n, *order = where_rank(where, WHERE_CODE, &n);

	if (!order || !n) {
		free(order);
		return;
	}
	fprintf(out, "\n Code that faults (the faulting instruction's function):\n  %8s %8s %8s  %-28s %-20s %s\n",
		"MINOR", "MAJOR", "INVALID", "FUNCTION", "SOURCE", "BINARY");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct where_code *c = &where->code[order[i]];

		fprintf(out, "  %8llu %8llu %8llu  %-28s %-20s %s\n",
			(unsigned long long)c->count[0], (unsigned long long)c->count[1],
			(unsigned long long)c->count[2], c->symbol[0] ? c->symbol : "?",
			c->source[0] ? c->source : "-", c->binary);
	}
	free(order);
}

void render_where(FILE *out, const struct where_table *where, int top)
{
	render_mappings(out, where, top);
	render_files(out, where, top);
	render_pages(out, where, top);
	render_code(out, where, top);
	fprintf(out, "\n  %llu faults placed in their mapping",
		(unsigned long long)where->placed);
	if (where->unplaced)
		fprintf(out, "; %llu not (the process or mapping was gone before pfwatch read /proc/PID/maps)",
			(unsigned long long)where->unplaced);
	if (where->untracked)
		fprintf(out, "; %llu past the tables' bounds", (unsigned long long)where->untracked);
	fputs("\n\n", out);
	fflush(out);
}

void render_stacks(FILE *out, const struct stack_table *stacks, int top)
{
	size_t *order = stacks_rank(stacks);

	fprintf(out, "\n Stacks: %llu sampled, %llu distinct (all of them in -o FILE.folded); most frequent:\n",
		(unsigned long long)stacks->sampled,
		(unsigned long long)(stacks->distinct > stacks->nr_stacks ? stacks->distinct
								  : stacks->nr_stacks));
	for (size_t i = 0; order && i < stacks->nr_stacks && i < (size_t)top; i++)
		fprintf(out, "  %8llu  %s\n", (unsigned long long)stacks->stacks[order[i]].count,
			stacks->stacks[order[i]].frames);
	fputc('\n', out);
	free(order);
}
