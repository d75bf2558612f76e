/*
 * The option tables against what documents them: --help is written from
 * the table, and the man page must give every long option an entry (a
 * .TP tag naming it) in the command's own section, so an option added to
 * the table without its page fails here. Run from the source tree's root
 * (tests/run.sh does): the man page is read as docs/pfwatch.8.
 */
#include <stdlib.h>
#include "check.h"
#include "options.h"

#define MAN_PAGE "docs/pfwatch.8"

/* --help as written, in a malloc'd string. */
static char *help_of(const struct option_table *table)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	options_usage(out, table);
	fclose(out);
	return text;
}

/* "--name" as a word of @text: not the start of a longer option. */
static bool names_option(const char *text, const char *dashes, const char *name)
{
	size_t dash_len = strlen(dashes), name_len = strlen(name);

	for (const char *at = strstr(text, dashes); at; at = strstr(at + 1, dashes)) {
		const char *end = at + dash_len + name_len;

		if (!strncmp(at + dash_len, name, name_len) &&
		    (*end == ' ' || *end == '\n' || *end == '"' || *end == '\0'))
			return true;
	}
	return false;
}

static void check_help_names_each_option(const struct option_table *table)
{
	char *help = help_of(table);

	CHECK(help, "cannot capture --help");
	if (!help)
		return;
	for (size_t i = 0; i < table->nr_specs; i++)
		if (table->specs[i].name)
			CHECK(names_option(help, "--", table->specs[i].name),
			      "--%s is not in --help", table->specs[i].name);
	/* A terminal's width, and no two options on one key. */
	for (const char *line = help; *line; line += strcspn(line, "\n") + 1) {
		CHECK(strcspn(line, "\n") <= 80, "a --help line is %zu wide: %.40s...",
		      strcspn(line, "\n"), line);
		if (!line[strcspn(line, "\n")])
			break;
	}
	for (size_t i = 0; i < table->nr_specs; i++)
		for (size_t j = i + 1; j < table->nr_specs; j++)
			CHECK(!table->specs[i].name || !table->specs[j].name ||
			      table->specs[i].key != table->specs[j].key,
			      "--%s and --%s share a key", table->specs[i].name,
			      table->specs[j].name);
	free(help);
}

static void help_names_every_option(void)
{
	check_help_names_each_option(&trace_options);
	check_help_names_each_option(&report_options);
}

/* The man page's section @title (".SH TITLE" to the next .SH), malloc'd. */
static char *man_section(const char *title)
{
	FILE *in = fopen(MAN_PAGE, "re");
	char line[1024], *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	bool inside = false;

	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		free(text);
		return NULL;
	}
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, ".SH ", 4)) {
			line[strcspn(line, "\n")] = '\0';
			inside = !strcmp(line + 4, title);
			continue;
		}
		if (inside)
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	return text;
}

/* groff's spelling of @name: every '-' escaped. */
static void groff_name(const char *name, char *out, size_t size)
{
	size_t used = 0;

	for (; *name && used + 3 < size; name++) {
		if (*name == '-')
			out[used++] = '\\';
		out[used++] = *name;
	}
	out[used] = '\0';
}

/* An entry: a .TP whose tag line names the option. */
static bool has_entry(const char *section, const char *name)
{
	char escaped[128];

	groff_name(name, escaped, sizeof(escaped));
	for (const char *tp = strstr(section, ".TP\n"); tp; tp = strstr(tp + 1, ".TP\n")) {
		const char *tag = tp + 4;
		size_t len = strcspn(tag, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, tag);
		if (names_option(line, "\\-\\-", escaped))
			return true;
	}
	return false;
}

static void check_man_section(const struct option_table *table, const char *title)
{
	char *section = man_section(title), missing[512] = "";
	size_t used = 0;

	CHECK(section && *section, "no section %s in %s", title, MAN_PAGE);
	if (!section)
		return;
	for (size_t i = 0; i < table->nr_specs; i++)
		if (table->specs[i].name && !has_entry(section, table->specs[i].name) &&
		    used < sizeof(missing))
			used += (size_t)snprintf(missing + used, sizeof(missing) - used,
						 " --%s", table->specs[i].name);
	CHECK(!missing[0], "no entry in %s's %s for%s", MAN_PAGE, title, missing);
	free(section);
}

static void man_page_has_every_option(void)
{
	FILE *page = fopen(MAN_PAGE, "re");

	if (!page)
		SKIP_TEST("no %s here: run from the source tree's root", MAN_PAGE);
	fclose(page);
	check_man_section(&trace_options, "OPTIONS");
	check_man_section(&report_options, "REPORT");
}

/* --group's values, and report's refusal where it has no cgroups. */
static void group_takes_process_or_cgroup(void)
{
	static struct options opts;
	struct report_options report;
	char *cgroup[] = { "pfwatch", "--group", "cgroup", NULL };
	char *process[] = { "pfwatch", "--group", "process", NULL };
	char *bad[] = { "pfwatch", "--group", "pod", NULL };
	char *grouped[] = { "report", "--group", "cgroup", "a.json", NULL };
	char *timeline[] = { "report", "--group", "cgroup", "-T", "a.json", NULL };

	CHECK(options_parse(&opts, 3, cgroup) == OPTIONS_RUN && opts.group == GROUP_CGROUP,
	      "--group cgroup");
	CHECK(options_parse(&opts, 3, process) == OPTIONS_RUN && opts.group == GROUP_PROCESS,
	      "--group process");
	CHECK(options_parse(&opts, 1, process) == OPTIONS_RUN && opts.group == GROUP_PROCESS,
	      "the default");
	CHECK(options_parse(&opts, 3, bad) == OPTIONS_BAD, "--group pod taken");
	CHECK(report_options_parse(&report, 4, grouped) == OPTIONS_RUN &&
	      report.group == GROUP_CGROUP, "report --group cgroup");
	CHECK(report_options_parse(&report, 5, timeline) == OPTIONS_BAD,
	      "report --group cgroup -T taken");
}

int main(void)
{
	check.binary = "test_options";
	RUN(help_names_every_option);
	RUN(man_page_has_every_option);
	RUN(group_takes_process_or_cgroup);
	return check.failures ? 1 : 0;
}
