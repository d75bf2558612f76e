/* The "where the time went" table: class by cause, time and share. */
#include "hist.h"
#include "render_causes.h"
#include "render_text.h"

/* Indices 0..n-1 with the largest @ns first; ties keep their order. */
static void order_by_ns(int *order, int n, const __u64 *ns)
{
	for (int i = 0; i < n; i++) {
		int j = i;

		for (; j > 0 && ns[order[j - 1]] < ns[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

static __u64 timed_faults(const struct fault_stats *stats, int fault_class)
{
	return stats->cause_faults[fault_class][CAUSE_CPU];
}

static void print_class_causes(FILE *out, const struct fault_stats *stats,
			       int fault_class)
{
	const __u64 *ns = stats->cause_ns[fault_class];
	__u64 sum = stats->latency_sum_ns[fault_class];
	int order[NR_FAULT_CAUSES];
	char total[16], time_cell[16];
	bool first = true;

	order_by_ns(order, NR_FAULT_CAUSES, ns);
	format_ns(total, sizeof(total), sum);
	for (int i = 0; i < NR_FAULT_CAUSES; i++) {
		int cause = order[i];

		if (!stats->cause_faults[fault_class][cause])
			continue;
		fprintf(out, "  %-12s %9s  %-14s %9s %6.1f%% %12llu\n",
			first ? fault_class_name(fault_class) : "",
			first ? total : "", fault_cause_name(cause),
			format_ns(time_cell, sizeof(time_cell), ns[cause]),
			sum ? 100.0 * ns[cause] / sum : 0.0,
			(unsigned long long)stats->cause_faults[fault_class][cause]);
		first = false;
	}
}

void render_causes(FILE *out, const struct fault_stats *stats)
{
	int order[NR_FAULT_CLASSES];
	__u64 timed = 0, with_causes = 0, waited_ns = 0, cpu_ns = 0;
	char cell[16];

	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		timed += hist_count(stats->hist[c]);
		with_causes += timed_faults(stats, c);
		waited_ns += stats_wait_ns(stats, c);
		cpu_ns += stats->cause_ns[c][CAUSE_CPU];
	}
	if (!timed) {
		fputs("  where the time went: no timed fault\n", out);
		return;
	}
	/* Only files of a pfwatch that did not split the time have none. */
	if (!with_causes) {
		fprintf(out, "  where the time went: not recorded (written by a pfwatch without causes)\n");
		return;
	}
	if (!waited_ns) {
		fprintf(out, "  where the time went: no fault waited; all %s was the kernel's own work (cpu)\n",
			format_ns(cell, sizeof(cell), cpu_ns));
		return;
	}
	fputs("  where the time went, class by cause (share of the class's time in faults):\n",
	      out);
	fprintf(out, "  %-12s %9s  %-14s %9s %7s %12s\n", "class", "in faults",
		"cause", "time", "share", "faults");
	order_by_ns(order, NR_FAULT_CLASSES, stats->latency_sum_ns);
	for (int i = 0; i < NR_FAULT_CLASSES; i++)
		if (timed_faults(stats, order[i]))
			print_class_causes(out, stats, order[i]);
}
