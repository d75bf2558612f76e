/*
 * Folded export: "comm;kind;class N", one line per command name and class
 * (processes of one name merged); with --stacks, the stack table's lines
 * and a last line for the samples lost.
 */
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "export.h"
#include "stacks.h"

#define MAX_LINES 32

static struct aggregate agg;	/* large: off the stack */

struct folded_lines {
	char *text;			/* cut into lines */
	char *whole;			/* as written, for messages */
	char *line[MAX_LINES];
	size_t nr_lines;
};

/* export_folded()'s output cut into lines; false if it failed. */
static bool folded_of(const struct run_info *run, struct folded_lines *lines)
{
	size_t size = 0;
	FILE *out;
	int err;

	memset(lines, 0, sizeof(*lines));
	out = open_memstream(&lines->text, &size);
	if (!out)
		return false;
	err = export_folded(out, &agg, run);
	if (fclose(out) || err || (size && lines->text[size - 1] != '\n') ||
	    !(lines->whole = strdup(lines->text)))
		return false;
	for (char *at = lines->text, *end; *at && lines->nr_lines < MAX_LINES; at = end + 1) {
		end = strchr(at, '\n');
		*end = '\0';
		lines->line[lines->nr_lines++] = at;
	}
	return true;
}

static bool has_line(const struct folded_lines *lines, const char *want)
{
	for (size_t i = 0; i < lines->nr_lines; i++)
		if (!strcmp(lines->line[i], want))
			return true;
	return false;
}

static struct process_record *process(__u32 tgid, const char *comm)
{
	struct process_record *p = aggregate_add_record(&agg);

	if (p) {
		p->tgid = tgid;
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
	}
	return p;
}

/*
 * Two postgres processes and a folded group of three: one line per class
 * with their sums; names with a space or a ';', and none.
 */
static void one_line_per_comm_and_class(void)
{
	struct run_info run = { .backend = "perf" };
	struct process_record *a, *b, *group, *odd, *nameless, *spaced;
	/* In the order of the names, then of the classes. */
	static const char *const want[] = {
		"?;minor;file_cached 9",
		"my_app_x;invalid;segv_maperr 3", "my_app_x;error;other_error 1",
		"postgres;minor;anon_zero 16", "postgres;minor;cow 2",
		"postgres;major;file_read 4",
	};
	struct folded_lines lines;

	aggregate_init(&agg);
	a = process(100, "postgres");
	odd = process(101, "my app;x");
	b = process(102, "postgres");
	nameless = process(103, "");
	group = process(0, "postgres");
	spaced = process(104, "my;app x");	/* the same frame once cleaned */
	CHECK(a && b && group && odd && nameless && spaced, "out of memory");
	if (!a || !b || !group || !odd || !nameless || !spaced)
		goto out;
	a->stats.count[FAULT_ANON_ZERO] = 10;
	a->stats.count[FAULT_FILE_READ] = 4;
	b->stats.count[FAULT_ANON_ZERO] = 5;
	group->folded = 3;
	group->stats.count[FAULT_ANON_ZERO] = 1;
	group->stats.count[FAULT_COW] = 2;
	odd->stats.count[FAULT_SEGV_MAPERR] = 2;
	spaced->stats.count[FAULT_SEGV_MAPERR] = 1;
	spaced->stats.count[FAULT_OTHER_ERROR] = 1;
	nameless->stats.count[FAULT_FILE_CACHED] = 9;
	CHECK(folded_of(&run, &lines), "export_folded failed");
	CHECK(lines.nr_lines == sizeof(want) / sizeof(want[0]), "%zu lines, want %zu:\n%s",
	      lines.nr_lines, sizeof(want) / sizeof(want[0]), lines.whole);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]) && i < lines.nr_lines; i++)
		CHECK(!strcmp(lines.line[i], want[i]), "line %zu is '%s', want '%s':\n%s",
		      i, lines.line[i], want[i], lines.whole);
	free(lines.text);
	free(lines.whole);
out:
	aggregate_free(&agg);
}

/* A stack table hands over its lines; the lost samples end the file. */
static void stacks_replace_the_comms(void)
{
	struct run_info run = { .backend = "perf" };
	static struct stack_table table;
	struct process_record *p;
	struct folded_lines lines;

	aggregate_init(&agg);
	p = process(100, "postgres");
	CHECK(p && !stacks_init(&table), "out of memory");
	if (!p)
		goto out;
	p->stats.count[FAULT_ANON_ZERO] = 10;
	table.stacks[0] = (struct folded_stack){ strdup("app;main;touch;[anon_zero]"), 7, 0 };
	table.stacks[1] = (struct folded_stack){ strdup("app;main;[file_read]"), 2, 0 };
	table.nr_stacks = 2;
	CHECK(table.stacks[0].frames && table.stacks[1].frames, "out of memory");
	run.stacks = &table;
	CHECK(folded_of(&run, &lines), "export_folded failed");
	CHECK(lines.nr_lines == 2 && has_line(&lines, "app;main;touch;[anon_zero] 7") &&
	      has_line(&lines, "app;main;[file_read] 2"), "without losses:\n%s", lines.whole);
	free(lines.text);
	free(lines.whole);
	run.diag[DIAG_LOST_STACK] = 4;
	run.diag[DIAG_LOST_FAULT] = 50;	/* not stacks: not in this file */
	CHECK(folded_of(&run, &lines), "export_folded failed");
	CHECK(lines.nr_lines == 3 && has_line(&lines, "app;main;touch;[anon_zero] 7") &&
	      has_line(&lines, "app;main;[file_read] 2") &&
	      !strcmp(lines.line[2], "[lost stack samples] 4"), "with losses:\n%s",
	      lines.whole);
	free(lines.text);
	free(lines.whole);
	stacks_free(&table);
out:
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_export_folded";
	RUN(one_line_per_comm_and_class);
	RUN(stacks_replace_the_comms);
	return check.failures ? 1 : 0;
}
