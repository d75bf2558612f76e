/*
 * The text renderer's cells: a --min-latency line's causes, longest
 * first, cpu being what the waits leave of the latency.
 */
#include <stdlib.h>
#include "check.h"
#include "hist.h"
#include "render_text.h"

static void causes_longest_first_with_cpu_the_rest(void)
{
	__u32 waits[NR_WAIT_CAUSES] = { [CAUSE_MEMCG_RECLAIM] = 29800000 };
	char buf[256];

	format_fault_causes(buf, sizeof(buf), 31500000, waits);
	CHECK(!strcmp(buf, ": memcg_reclaim 29.8 ms, cpu 1.7 ms"), "'%s'", buf);
	waits[CAUSE_IO] = 500;
	waits[CAUSE_RUNQUEUE] = 40000;
	format_fault_causes(buf, sizeof(buf), 31500000, waits);
	CHECK(!strcmp(buf, ": memcg_reclaim 29.8 ms, cpu 1.7 ms, runqueue 40 us, io 500 ns"),
	      "'%s'", buf);
}

static void cpu_left_out_when_the_waits_take_it_all(void)
{
	__u32 waits[NR_WAIT_CAUSES] = { [CAUSE_SLEEP] = 200000, [CAUSE_IO] = 100000 };
	char buf[256];

	/* Waits and latency saturate apart: never a negative cpu. */
	format_fault_causes(buf, sizeof(buf), 250000, waits);
	CHECK(!strcmp(buf, ": sleep 200 us, io 100 us"), "'%s'", buf);
}

static void cut_to_the_buffer(void)
{
	__u32 waits[NR_WAIT_CAUSES];
	char buf[24];

	for (int cause = 0; cause < NR_WAIT_CAUSES; cause++)
		waits[cause] = 1000000 + (__u32)cause;
	format_fault_causes(buf, sizeof(buf), 0xffffffffU, waits);
	CHECK(strlen(buf) == sizeof(buf) - 1 && !strncmp(buf, ": cpu ", 6), "'%s'", buf);
}

/* The summary of a slow pager: its causes, a blind spot, a wrapped hint. */
static void summary_explains_and_hints(void)
{
	static struct aggregate agg;
	struct run_info run = { .backend = "perf", .elapsed_s = 1,
				.unseparated_classes = 1u << FAULT_UFFD,
				.unmeasured_causes = 1u << CAUSE_MMAP_LOCK };
	struct process_record *p;
	char *text = NULL, *line;
	size_t size = 0;
	FILE *out;
	bool fits = true;

	aggregate_init(&agg);
	p = aggregate_add_record(&agg);
	CHECK(p != NULL, "no record");
	if (!p)
		return;
	p->tgid = 77;
	snprintf(p->comm, sizeof(p->comm), "restore");
	p->stats.count[FAULT_UFFD] = 500;
	p->stats.hist[FAULT_UFFD][hist_bucket(295000)] = 500;
	p->stats.latency_sum_ns[FAULT_UFFD] = 500 * 295000ULL;
	p->stats.cause_ns[FAULT_UFFD][CAUSE_SLEEP] = 140000000;
	p->stats.cause_faults[FAULT_UFFD][CAUSE_SLEEP] = 500;
	stats_settle_cpu(&p->stats);
	out = open_memstream(&text, &size);
	CHECK(out != NULL, "open_memstream");
	if (!out)
		return;
	render_summary(out, &agg, &run, 10, GROUP_PROCESS);
	fclose(out);
	CHECK(strstr(text, "where the time went") && strstr(text, "sleep") &&
	      strstr(text, "not separated here: uffd (perf needs bpf_find_vma") &&
	      strstr(text, "not measured here: mmap_lock") &&
	      strstr(text, "Hints:\n  - restore (PID 77): 500 userfaultfd faults waited"),
	      "summary:\n%s", text);
	for (line = strstr(text, "Hints:"); line && *line; line = strchr(line, '\n')) {
		size_t len = strcspn(++line, "\n");

		fits = fits && len <= 78;
	}
	CHECK(fits, "a hint line past 78 columns:\n%s", strstr(text, "Hints:"));
	free(text);
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_render_text";
	RUN(causes_longest_first_with_cpu_the_rest);
	RUN(cpu_left_out_when_the_waits_take_it_all);
	RUN(cut_to_the_buffer);
	RUN(summary_explains_and_hints);
	return check.failures ? 1 : 0;
}
