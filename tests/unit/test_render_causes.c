/*
 * The "where the time went" table: rows read back from its text, with
 * times and shares worked out here from hand-built stats.
 */
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "render_causes.h"

/* The text render_causes() prints, NUL-terminated; NULL if it failed. */
static char *causes_text(const struct fault_stats *stats)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	render_causes(out, stats);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The first line holding @needle, copied to @line; false if none. */
static bool line_with(const char *text, const char *needle, char *line, size_t size)
{
	const char *at = strstr(text, needle), *start, *end;

	if (!at)
		return false;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	snprintf(line, size, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
	return true;
}

/*
 * anon_zero: 20 faults, 100 ms: 4 waited 93 ms on memcg reclaim, 2 waited
 * 2 ms on the run queue, 5 ms the kernel's own. uffd: 10 faults, 200 ms,
 * all asleep 198 ms. cow: 5 untimed faults, no causes.
 */
static void build(struct fault_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->count[FAULT_ANON_ZERO] = 20;
	stats->hist[FAULT_ANON_ZERO][40] = 20;
	stats->latency_sum_ns[FAULT_ANON_ZERO] = 100000000;
	stats->cause_ns[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 93000000;
	stats->cause_faults[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 4;
	stats->cause_ns[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 2000000;
	stats->cause_faults[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 2;
	stats->count[FAULT_UFFD] = 10;
	stats->hist[FAULT_UFFD][60] = 10;
	stats->latency_sum_ns[FAULT_UFFD] = 200000000;
	stats->cause_ns[FAULT_UFFD][CAUSE_SLEEP] = 198000000;
	stats->cause_faults[FAULT_UFFD][CAUSE_SLEEP] = 10;
	stats->count[FAULT_COW] = 5;
	stats_settle_cpu(stats);
}

static void rows_by_time_with_shares(void)
{
	static struct fault_stats stats;
	char line[128], *text, *uffd, *anon, *memcg, *runq, *cpu;

	build(&stats);
	text = causes_text(&stats);
	CHECK(text, "render_causes failed");
	if (!text)
		return;
	CHECK(line_with(text, "uffd ", line, sizeof(line)) && strstr(line, "200.0 ms") &&
	      strstr(line, "sleep") && strstr(line, "198.0 ms") && strstr(line, "99.0%") &&
	      strstr(line, " 10"), "uffd row: %s\n%s", line, text);
	CHECK(line_with(text, "memcg_reclaim", line, sizeof(line)) &&
	      strstr(line, "anon_zero") && strstr(line, "100.0 ms") &&
	      strstr(line, "93.0 ms") && strstr(line, "93.0%") && strstr(line, " 4"),
	      "memcg row: %s\n%s", line, text);
	uffd = strstr(text, "uffd ");
	anon = strstr(text, "anon_zero");
	memcg = strstr(text, "memcg_reclaim");
	runq = strstr(text, "runqueue");
	cpu = anon ? strstr(anon, "cpu") : NULL;
	/* The class with the most time first; in a class, the largest cause. */
	CHECK(uffd && anon && uffd < anon, "uffd (200 ms) not before anon_zero:\n%s", text);
	CHECK(memcg && cpu && runq && memcg < cpu && cpu < runq,
	      "anon_zero's causes not by time:\n%s", text);
	CHECK(line_with(text, "runqueue", line, sizeof(line)) && strstr(line, "2.0%") &&
	      strstr(line, "2.0 ms") && !strstr(line, "anon_zero"),
	      "runqueue row: %s\n%s", line, text);
	CHECK(anon && strstr(anon, "cpu") && line_with(anon, "cpu", line, sizeof(line)) &&
	      strstr(line, "5.0 ms") && strstr(line, "5.0%") && strstr(line, " 20"),
	      "anon_zero's cpu row: %s\n%s", line, text);
	CHECK(!strstr(text, "cow"), "an untimed class has a row:\n%s", text);
	for (const char *l = text, *end; (end = strchr(l, '\n')); l = end + 1)
		CHECK(end - l <= 80, "line over 80 columns:\n%s", text);
	free(text);
}

static void one_line_when_nothing_waited(void)
{
	static struct fault_stats stats;
	char *text;

	memset(&stats, 0, sizeof(stats));
	text = causes_text(&stats);
	CHECK(text && !strcmp(text, "  where the time went: no timed fault\n"),
	      "no faults: %s", text ? text : "(failed)");
	free(text);
	stats.count[FAULT_FILE_CACHED] = 3;
	stats.hist[FAULT_FILE_CACHED][20] = 3;
	stats.latency_sum_ns[FAULT_FILE_CACHED] = 4500;
	stats_settle_cpu(&stats);
	text = causes_text(&stats);
	CHECK(text && !strcmp(text, "  where the time went: no fault waited; "
			      "all 4.5 us was the kernel's own work (cpu)\n"),
	      "no waits: %s", text ? text : "(failed)");
	free(text);
}

int main(void)
{
	check.binary = "test_render_causes";
	RUN(rows_by_time_with_shares);
	RUN(one_line_when_nothing_waited);
	return check.failures ? 1 : 0;
}
